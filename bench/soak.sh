#!/usr/bin/env bash
# Soak: one service on 127.0.0.1 (a fresh copy of the model store, a fresh SQLite bed store) under a steady
# mixed load (KeypointService.Bench soak: every model and body type, bed frames, a few bad inputs a minute)
# for a set time, while the trainer publishes a new version every few minutes (hot reload, alternating
# heatmap and spmkd). Writes soak.csv, soak.md (table and verdict) and soak.png to --out.
#   bench/soak.sh [--minutes 30] [--rate 80] [--reload-minutes 5] [--warmup-minutes 3] [--out artifacts/soak] [--port 8095]
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=30; rate=80; reload=5; warmup=3; out=artifacts/soak; port=8095
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) minutes=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --reload-minutes) reload=$2; shift 2 ;;
    --warmup-minutes) warmup=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    *) echo "bench/soak.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
./scripts/setup.sh >/dev/null
mkdir -p "$out"
work=$(mktemp -d); pids=()
trap 'for p in "${pids[@]}"; do pkill -P "$p" 2>/dev/null || true; kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"' EXIT
cp -r models "$work/store"
ASPNETCORE_ENVIRONMENT=Development dotnet src/Api/bin/Release/net10.0/KeypointService.Api.dll --contentRoot "$PWD/src/Api" --urls "http://127.0.0.1:$port" --Grpc:Url= \
  --ModelStore:Path="$work/store" --Beds:DataPath="$work/beds" >"$out/service.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 150); do curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null && break; sleep 0.2; done
curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null || { tail -20 "$out/service.log" >&2; exit 1; }

# Hot reloads: the newest version of heatmap, then spmkd, ... published again as the next version.
( i=0
  while sleep "$(/usr/bin/python3 -c "print($reload * 60)")"; do
    model=$([ $((i % 2)) = 0 ] && echo heatmap || echo spmkd); i=$((i + 1))
    latest=$(ls "$work/store/$model" | sort -n | tail -1)
    PYTHONPATH=src/Training /usr/bin/python3 -m keypoint_trainer publish --export "$work/store/$model/$latest" --store "$work/store" --name "$model" \
      | sed "s/^/[soak] $(date -u +%H:%M:%S) /"
  done ) &
pids+=($!)

rc=0
dotnet bench/bin/Release/net10.0/KeypointService.Bench.dll soak --url "http://127.0.0.1:$port/" --minutes "$minutes" --rate "$rate" \
  --warmup-minutes "$warmup" --out "$out" || rc=$?
/usr/bin/python3 bench/soak_plot.py "$out/soak.csv" "$out/soak.png"
echo "[soak] $out/soak.md, $out/soak.csv, $out/soak.png"
exit $rc
