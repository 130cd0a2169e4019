#!/usr/bin/env bash
# Benchmark, all in one run (docs/benchmarks.md):
#   1. raw ONNX Runtime inference per model, intra-op thread count (1, 2) and batch size (1, 2, 4, 8);
#   2. the threading options of the service (intra-op threads x batch workers), heatmap, c=1 and c=16;
#   3. the service with its defaults: heatmap over /v1 JSON, /v1 binary (raw float32), OIP REST JSON and
#      OIP gRPC at concurrency 1, 4, 16, 64; the other models over /v1 binary at c=1 and 16;
#   2 and 3 repeated --runs times; the report gives every run and the spread, and checks the goals.
#   bench/run.sh [--store models] [--seconds 5] [--runs 3] [--port 8091] [--no-write]
set -euo pipefail
cd "$(dirname "$0")/.."
store=models; seconds=5; runs=3; port=8091; write=1
while [ $# -gt 0 ]; do
  case "$1" in
    --store) store=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    --no-write) write=0; shift ;;
    *) echo "bench/run.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
store=$(realpath "$store")
./scripts/setup.sh --no-python
command -v wrk >/dev/null || { sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo; $sudo apt-get install -y -qq wrk >/dev/null; }

out=artifacts/bench; rm -rf "$out"; mkdir -p "$out"
bench="dotnet bench/bin/Release/net10.0/KeypointService.Bench.dll"
grpc_port=$((port + 1))
$bench inputs --store "$store" --out "$out" >/dev/null
echo "[bench] raw inference" >&2
$bench raw --store "$store" | tee "$out/raw.tsv" >&2
$bench decode > "$out/decode.tsv"

service=""
start_service() { # extra service arguments
  ASPNETCORE_ENVIRONMENT=Development dotnet src/Api/bin/Release/net10.0/KeypointService.Api.dll --contentRoot "$PWD/src/Api" --urls "http://127.0.0.1:$port" \
    --Grpc:Url="http://127.0.0.1:$grpc_port" --ModelStore:Path="$store" --ModelStore:Watch=false --Serilog:ConsoleFormat=none "$@" \
    >"$out/service.log" 2>&1 &
  service=$!
  for _ in $(seq 1 150); do curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null && return; sleep 0.2; done
  echo "[bench] the service did not become ready; see $out/service.log" >&2; exit 1
}
stop_service() { kill "$service" 2>/dev/null || true; wait "$service" 2>/dev/null || true; service=""; }
trap stop_service EXIT

# One level: prints p50, p99, req/s (wrk's units) for model, kind, concurrency.
level() {
  local model=$1 kind=$2 c=$3 w h url type body
  read -r w h <"$out/$model.size"
  if [ "$kind" = grpc ]; then
    $bench grpc --store "$store" --model "$model" --url "http://127.0.0.1:$grpc_port" --concurrency "$c" --seconds 1 >/dev/null
    $bench grpc --store "$store" --model "$model" --url "http://127.0.0.1:$grpc_port" --concurrency "$c" --seconds "$seconds"
    return
  fi
  case "$kind" in
    json) url="/v1/models/$model/predict"; type=application/json; body="$out/$model.json" ;;
    binary) url="/v1/models/$model/predict?width=$w&height=$h"; type=application/octet-stream; body="$out/$model.f32" ;;
    oip) url="/v2/models/$model/infer"; type=application/json; body="$out/$model.oip.json" ;;
  esac
  curl -sf -X POST -H "Content-Type: $type" --data-binary @"$body" "http://127.0.0.1:$port$url" >/dev/null \
    || { echo "[bench] $model $kind: the service refused the benchmark input" >&2; exit 1; }
  BODY_FILE="$body" CONTENT_TYPE="$type" wrk -t1 -c"$c" -d1s -s bench/post.lua "http://127.0.0.1:$port$url" >/dev/null # warm-up
  BODY_FILE="$body" CONTENT_TYPE="$type" wrk -t1 -c"$c" -d"${seconds}s" --latency -s bench/post.lua "http://127.0.0.1:$port$url" >"$out/wrk.txt"
  if grep -q "Non-2xx\|Socket errors" "$out/wrk.txt"; then echo "[bench] $model $kind c=$c: errors:" >&2; cat "$out/wrk.txt" >&2; exit 1; fi
  awk '/^ +50%/{p50=$2} /^ +99%/{p99=$2} /^Requests\/sec/{rps=$2} END{print p50 "\t" p99 "\t" rps}' "$out/wrk.txt"
}

for run in $(seq 1 "$runs"); do
  for option in "2 1" "1 2" "2 2" "1 1"; do # intra-op threads, batch workers
    read -r threads workers <<<"$option"
    start_service --OnnxRuntime:IntraOpThreads="$threads" --Inference:Batching:Workers="$workers"
    for c in 1 16; do
      echo -e "$run\t$threads\t$workers\t$c\t$(level heatmap binary "$c")" | tee -a "$out/options.tsv" >&2
    done
    stop_service
  done
  start_service
  for kind in json binary oip grpc; do
    for c in 1 4 16 64; do
      echo -e "$run\theatmap\t$kind\t$c\t$(level heatmap "$kind" "$c")" | tee -a "$out/http.tsv" >&2
    done
  done
  for f in "$out"/*.size; do
    model=$(basename "$f" .size); [ "$model" = heatmap ] && continue
    for c in 1 16; do
      echo -e "$run\t$model\tbinary\t$c\t$(level "$model" binary "$c")" | tee -a "$out/http.tsv" >&2
    done
  done
  stop_service
done

report_args=("$out" "$seconds")
[ "$write" = 1 ] && report_args+=(--write docs/benchmarks.md)
/usr/bin/python3 bench/report.py "${report_args[@]}"
