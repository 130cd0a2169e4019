#!/usr/bin/env bash
# Sets up what is missing, then starts the service on http://127.0.0.1:8080 with the
# default models in models/. Extra arguments pass through, e.g. ./run.sh --urls http://127.0.0.1:9000
set -euo pipefail
cd "$(dirname "$0")"
./scripts/setup.sh --no-python
urls=(--urls http://127.0.0.1:8080)
for arg in "$@"; do [ "$arg" = "--urls" ] && urls=(); done
exec dotnet src/Api/bin/Release/net10.0/KeypointService.Api.dll --contentRoot "$PWD/src/Api" "${urls[@]}" "$@"
