#!/usr/bin/env bash
# Bed-monitoring load: many beds at 1 frame/s each (spmkd, one 84 x 192 frame, through the typed client)
# against one service on 127.0.0.1 with a fresh SQLite bed store; prints one line per level.
#   bench/beds.sh [--beds 50,100,200,400] [--seconds 20] [--port 8093]
set -euo pipefail
cd "$(dirname "$0")/.."
levels=50,100,200,400; seconds=20; port=8093
while [ $# -gt 0 ]; do
  case "$1" in
    --beds) levels=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    *) echo "bench/beds.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
./scripts/setup.sh --no-python
data=$(mktemp -d); out=artifacts/bench; mkdir -p "$out"
ASPNETCORE_ENVIRONMENT=Development dotnet src/Api/bin/Release/net10.0/KeypointService.Api.dll --contentRoot "$PWD/src/Api" --urls "http://127.0.0.1:$port" --Grpc:Url= \
  --ModelStore:Watch=false --Serilog:ConsoleFormat=none --Beds:DataPath="$data" >"$out/beds-service.log" 2>&1 &
service=$!
trap 'kill $service 2>/dev/null || true; wait $service 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 1 150); do curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null && break; sleep 0.2; done
dotnet bench/bin/Release/net10.0/KeypointService.Bench.dll beds --store models --url "http://127.0.0.1:$port/" --beds "$levels" --seconds "$seconds"
