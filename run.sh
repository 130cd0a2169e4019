#!/usr/bin/env bash
# Sets up what is missing, then starts the service on http://127.0.0.1:8080 with the
# default models in models/. Extra arguments pass through, e.g. ./run.sh --urls http://127.0.0.1:9000
# KPS_ORT=gpu builds and runs with ONNX Runtime's CUDA package (bin/gpu); add --OnnxRuntime:ExecutionProvider=cuda.
set -euo pipefail
cd "$(dirname "$0")"
./scripts/setup.sh --no-python
urls=(--urls http://127.0.0.1:8080)
for arg in "$@"; do [ "$arg" = "--urls" ] && urls=(); done
# The development profile: no API keys needed (an unset environment is Production, which needs keys: docs/security.md).
export ASPNETCORE_ENVIRONMENT="${ASPNETCORE_ENVIRONMENT:-Development}"
bin=src/Api/bin/Release/net10.0
[ "${KPS_ORT:-cpu}" = gpu ] && bin=src/Api/bin/gpu/Release/net10.0
exec dotnet "$bin/KeypointService.Api.dll" --contentRoot "$PWD/src/Api" "${urls[@]}" "$@"
