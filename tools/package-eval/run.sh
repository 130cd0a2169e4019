#!/usr/bin/env bash
# What Sep 0.17.1 and NumSharp 0.70.0 make of the inputs the service's own CSV and .npy parsers accept
# (README, "Why these dependencies"; output recorded in docs/notes.md). Needs the NuGet registry and numpy.
set -euo pipefail
cd "$(dirname "$0")"
cases=$(mktemp -d)
trap 'rm -rf "$cases"' EXIT
/usr/bin/python3 make_npy_cases.py "$cases"
dotnet run -c Release -- "$cases"
