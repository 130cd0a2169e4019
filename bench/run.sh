#!/usr/bin/env bash
# Benchmark: raw ONNX Runtime inference through the service's wrapper of the official package, then end-to-end HTTP latency and
# throughput at concurrency 1, 4 and 16 against the service on 127.0.0.1, in one run.
# Writes the results into docs/benchmarks.md (between the bench markers) and prints them.
#   bench/run.sh [--store models] [--seconds 10] [--port 8091] [--no-write]
set -euo pipefail
cd "$(dirname "$0")/.."
store=models; seconds=10; port=8091; write=1
while [ $# -gt 0 ]; do
  case "$1" in
    --store) store=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    --no-write) write=0; shift ;;
    *) echo "bench/run.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
store=$(realpath "$store")
./scripts/setup.sh --no-python
command -v wrk >/dev/null || { sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo; $sudo apt-get install -y -qq wrk >/dev/null; }

out=artifacts/bench; mkdir -p "$out"
bench="dotnet bench/bin/Release/net10.0/KeypointService.Bench.dll"
$bench inputs --store "$store" --out "$out" >/dev/null
echo "[bench] raw inference" >&2
$bench raw --store "$store" --seconds "$seconds" | tee "$out/raw.tsv" >&2

echo "[bench] starting the service on 127.0.0.1:$port" >&2
dotnet src/Api/bin/Release/net10.0/KeypointService.Api.dll --contentRoot "$PWD/src/Api" --urls "http://127.0.0.1:$port" \
  --ModelStore:Path="$store" --ModelStore:Watch=false >"$out/service.log" 2>&1 &
service=$!
trap 'kill $service 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/health/live" >/dev/null && break; sleep 0.2; done

: >"$out/http.tsv"
for f in "$out"/*.f32; do
  model=$(basename "$f" .f32); read -r w h <"$out/$model.size"
  url="http://127.0.0.1:$port/v1/models/$model/predict?width=$w&height=$h"
  curl -sf -X POST -H 'Content-Type: application/octet-stream' --data-binary @"$f" "$url" >/dev/null \
    || { echo "[bench] $model: the service refused the benchmark input" >&2; exit 1; }
  for c in 1 4 16; do
    BODY_FILE="$f" wrk -t1 -c"$c" -d2s -s bench/post.lua "$url" >/dev/null # warm-up
    BODY_FILE="$f" wrk -t1 -c"$c" -d"${seconds}s" --latency -s bench/post.lua "$url" >"$out/wrk-$model-$c.txt"
    if grep -q "Non-2xx" "$out/wrk-$model-$c.txt"; then echo "[bench] $model c=$c: errors, see $out/wrk-$model-$c.txt" >&2; exit 1; fi
    echo -e "$model\t$c\t$(awk '/^ +50%/{print $2} /^ +99%/{print $2} /^Requests\/sec/{print $2}' "$out/wrk-$model-$c.txt" | paste -sd '\t')" >>"$out/http.tsv"
    echo "[bench] $model c=$c: $(tail -1 "$out/http.tsv")" >&2
  done
done
kill $service; wait $service 2>/dev/null || true

report_args=("$out/raw.tsv" "$out/http.tsv" "$seconds")
[ "$write" = 1 ] && report_args+=(--write docs/benchmarks.md)
/usr/bin/python3 bench/report.py "${report_args[@]}"
