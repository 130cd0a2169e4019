#!/usr/bin/env bash
# Sets up what is missing, then runs every test: the trainer's pytest suite and the C# suites
# (which use fixture models exported by the trainer at test time and the committed defaults).
set -euo pipefail
cd "$(dirname "$0")"
KPS_ORT=cpu ./scripts/setup.sh --with-browser # the C# suites run on the CPU build; the GPU build is checked below
export KPS_FIXTURE_MODELS="$PWD/artifacts/fixture-models"
rm -rf "$KPS_FIXTURE_MODELS"
echo "[test] exporting fixture models"
PYTHONPATH=src/Training /usr/bin/python3 -m keypoint_trainer fixtures --out "$KPS_FIXTURE_MODELS"
echo "[test] Python tests"
PYTHONPATH=src/Training /usr/bin/python3 -m pytest tests/training tests/deploy -q -p no:cacheprovider
echo "[test] C# tests (with a throw-away PostgreSQL server on loopback for the bed store tests)"
./scripts/with-postgres.sh dotnet test KeypointService.sln -c Release --no-build --nologo -v quiet
echo "[test] ONNX Runtime builds: the GPU package without CUDA (fallback, refusal), a missing native library"
tests/onnxruntime/test_builds.sh
