#!/usr/bin/env bash
# End-to-end checks of the ONNX Runtime builds, as a user on a machine without CUDA sees them:
#   1. the GPU build (-p:OnnxRuntimePackage=gpu, Microsoft.ML.OnnxRuntime.Gpu.Linux) asked for cuda serves on
#      CPU after ONE warning naming the missing CUDA library, and GET /v1/models/{name} says so;
#   2. the same build with OnnxRuntime:ProviderRequired=true refuses to start: exit 1, one plain line;
#   3. a CPU build whose libonnxruntime.so is missing refuses to start: exit 1, one plain line.
# Run by test.sh after the CPU build; builds the GPU variant into bin/gpu and obj/gpu (the first time
# restores the 245 MB package). Exits non-zero on the first failed check.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
export ASPNETCORE_ENVIRONMENT=Development # the development profile: no API keys (docs/security.md)
work=$(mktemp -d); service=""
cleanup() { [ -n "$service" ] && kill "$service" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "[onnxruntime builds] FAIL: $*" >&2; exit 1; }
say() { echo "[onnxruntime builds] $*" >&2; }
port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

if ldconfig -p 2>/dev/null | grep -q 'libcublasLt.so.13 '; then
  say "SKIP: this machine has CUDA 13 (libcublasLt.so.13): the no-CUDA fallback cannot be observed here"
  exit 0
fi

say "building the API with -p:OnnxRuntimePackage=gpu"
dotnet build src/Api/KeypointService.Api.csproj -c Release -p:OnnxRuntimePackage=gpu --nologo -v quiet -clp:ErrorsOnly >/dev/null
gpu_bin=src/Api/bin/gpu/Release/net10.0
[ -f "$gpu_bin/libonnxruntime_providers_cuda.so" ] || fail "$gpu_bin has no libonnxruntime_providers_cuda.so: the GPU package was not used"
[ ! -e src/Api/bin/Release/net10.0/libonnxruntime_providers_cuda.so ] || fail "the CPU build's output holds the CUDA provider: the GPU build wrote into it"
[ -e "$gpu_bin/onnxruntime.dll" ] && fail "$gpu_bin holds Windows natives"

# --- 1. fallback -------------------------------------------------------------------------------
p=$(port)
dotnet "$gpu_bin/KeypointService.Api.dll" --contentRoot "$root/src/Api" --urls "http://127.0.0.1:$p" \
  --ModelStore:Path="$root/models" --ModelStore:Watch=false --OnnxRuntime:ExecutionProvider=cuda >"$work/fallback.log" 2>&1 &
service=$!
for _ in $(seq 1 150); do curl -sf "http://127.0.0.1:$p/health/ready" >/dev/null && break; kill -0 $service 2>/dev/null || break; sleep 0.2; done
curl -sf "http://127.0.0.1:$p/health/ready" >/dev/null || { cat "$work/fallback.log" >&2; fail "the GPU build with cuda did not become ready (it should serve on CPU)"; }
warnings=$(grep -c ' WRN\]' "$work/fallback.log" || true)
[ "$warnings" = 1 ] || { cat "$work/fallback.log" >&2; fail "expected exactly one warning, got $warnings"; }
grep ' WRN\]' "$work/fallback.log" | grep -q 'libcublasLt.so.13' || { cat "$work/fallback.log" >&2; fail "the warning does not name libcublasLt.so.13"; }
curl -sf "http://127.0.0.1:$p/v1/models/heatmap" >"$work/heatmap.json" || fail "GET /v1/models/heatmap failed"
/usr/bin/python3 - "$work/heatmap.json" <<'PY' || fail "GET /v1/models/heatmap does not report the CPU fallback: $(cat "$work/heatmap.json")"
import json, sys
m = json.load(open(sys.argv[1]))
assert m["execution_provider"] == "CPUExecutionProvider", m["execution_provider"]
assert "libcublasLt.so.13" in m["provider_fallback_reason"], m.get("provider_fallback_reason")
PY
code=$(curl -s -o "$work/predict.json" -w '%{http_code}' "http://127.0.0.1:$p/v1/models/heatmap/predict" \
  -H 'Content-Type: application/json' -d '{"data": [[0, 1, 0], [1, 1, 1], [0, 1, 0]]}')
[ "$code" = 200 ] || fail "a prediction on the CPU fallback answered $code: $(cat "$work/predict.json")"
grep -q '"keypoints"' "$work/predict.json" || fail "the prediction has no keypoints"
kill $service; wait $service 2>/dev/null || true; service=""
say "fallback: one warning naming libcublasLt.so.13, models on CPUExecutionProvider, predictions served"

# --- 2. refusal ----------------------------------------------------------------------------------
set +e
timeout 60 dotnet "$gpu_bin/KeypointService.Api.dll" --contentRoot "$root/src/Api" --urls "http://127.0.0.1:$(port)" \
  --ModelStore:Path="$root/models" --OnnxRuntime:ExecutionProvider=cuda --OnnxRuntime:ProviderRequired=true >"$work/required.out" 2>"$work/required.err"
rc=$?
set -e
[ "$rc" = 1 ] || { cat "$work/required.out" "$work/required.err" >&2; fail "ProviderRequired=true without CUDA exited $rc, expected 1"; }
[ "$(wc -l <"$work/required.err")" = 1 ] || { cat "$work/required.err" >&2; fail "the refusal is not one line"; }
grep -q '^KeypointService cannot start: .*ProviderRequired=true.*libcublasLt.so.13' "$work/required.err" || { cat "$work/required.err" >&2; fail "the refusal does not name ProviderRequired and libcublasLt.so.13"; }
say "refusal: exit 1, $(cut -c1-140 "$work/required.err")..."

# --- 3. missing native library (CPU build) -------------------------------------------------------
cp -r src/Api/bin/Release/net10.0 "$work/cpu"
rm "$work/cpu/libonnxruntime.so"
set +e
timeout 60 dotnet "$work/cpu/KeypointService.Api.dll" --contentRoot "$root/src/Api" --urls "http://127.0.0.1:$(port)" \
  --ModelStore:Path="$root/models" >"$work/missing.out" 2>"$work/missing.err"
rc=$?
set -e
[ "$rc" = 1 ] || { cat "$work/missing.out" "$work/missing.err" >&2; fail "a missing libonnxruntime.so exited $rc, expected 1"; }
[ "$(wc -l <"$work/missing.err")" = 1 ] || { cat "$work/missing.err" >&2; fail "the missing-library message is not one line"; }
grep -q '^KeypointService cannot start: the ONNX Runtime native library (libonnxruntime.so) cannot be loaded' "$work/missing.err" \
  || { cat "$work/missing.err" >&2; fail "the missing-library message does not say what is missing"; }
say "missing libonnxruntime.so: exit 1, one line"
say "passed"
