#!/usr/bin/env bash
# The docker-compose topology with plain processes on loopback (no Docker engine needed):
# two API replicas on 127.0.0.1:8101/8102 behind Debian's nginx on 127.0.0.1:8100, one shared model
# store, and the trainer publishing a new version into it while requests flow through nginx.
# Checks that every request succeeds and that both replicas hot-reload the new version.
#   deploy/local-topology.sh [--store models] [--model heatmap] [--seconds 6]
set -euo pipefail
cd "$(dirname "$0")/.."
source_store=models; model=heatmap; seconds=6
while [ $# -gt 0 ]; do
  case "$1" in
    --store) source_store=$2; shift 2 ;;
    --model) model=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    *) echo "local-topology.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
./scripts/setup.sh
command -v nginx >/dev/null || { sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo; $sudo apt-get install -y -qq nginx-light >/dev/null; }

work=$(mktemp -d); pids=()
cleanup() { [ -n "${KEEP_LOGS:-}" ] && cp "$work"/api-*.log /tmp/ 2>/dev/null; for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; nginx -p "$work/nginx" -c nginx.conf -s stop 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
store="$work/store"; mkdir -p "$store"
cp -r "$source_store/$model" "$store/"
latest=$(ls "$store/$model" | sort -n | tail -1)

for port in 8101 8102; do
  ASPNETCORE_ENVIRONMENT=Development dotnet src/Api/bin/Release/net10.0/KeypointService.Api.dll --contentRoot "$PWD/src/Api" --urls "http://127.0.0.1:$port" \
    --ModelStore:Path="$store" --ModelStore:Expected:0="$model" --ModelStore:Expected:1= --ModelStore:Expected:2= --ModelStore:Expected:3= \
    --ModelStore:PollSeconds=0.5 --Grpc:Url="http://127.0.0.1:$((port + 100))" >"$work/api-$port.log" 2>&1 &
  pids+=($!)
done

mkdir -p "$work/nginx/logs"
sed -e 's/server api:8080 max_fails=3 fail_timeout=5s;/server 127.0.0.1:8101; server 127.0.0.1:8102;/' -e 's/listen 8080;/listen 127.0.0.1:8100;/' \
  deploy/nginx.conf >"$work/nginx/site.conf"
# nginx workers run as the current user so they can use the temporary directories below.
cat >"$work/nginx/nginx.conf" <<NGINX
user $(id -un);
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log;
events {}
http { access_log off; client_body_temp_path $work/nginx; proxy_temp_path $work/nginx; include $work/nginx/site.conf; }
NGINX
nginx -p "$work/nginx" -c nginx.conf

for port in 8101 8102 8100; do
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null && break; sleep 0.2; done
  curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null || { echo "replica on $port is not ready" >&2; cat "$work"/api-*.log >&2; exit 1; }
done
echo "[topology] 2 replicas ready behind nginx, serving $model version $latest"

# Requests through nginx while the trainer publishes a new version.
body=$(mktemp -p "$work"); head -c $((128 * 128 * 4)) /dev/zero >"$body"
( end=$((SECONDS + seconds)); ok=0; bad=0
  while [ $SECONDS -lt $end ]; do
    code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/octet-stream' --data-binary @"$body" \
      "http://127.0.0.1:8100/v1/models/$model/predict?width=128&height=128")
    if [ "$code" = 200 ]; then ok=$((ok + 1)); else bad=$((bad + 1)); echo "[topology] HTTP $code" >&2; fi
  done
  echo "$ok $bad" >"$work/load.result" ) &
load=$!
sleep 1
PYTHONPATH=src/Training /usr/bin/python3 -m keypoint_trainer publish --export "$store/$model/$latest" --store "$store" --name "$model"
wait $load
read -r ok bad <"$work/load.result"
echo "[topology] requests through nginx during the publish: $ok succeeded, $bad failed"

new=$(ls "$store/$model" | sort -n | tail -1)
for port in 8101 8102; do
  served=$(curl -sf "http://127.0.0.1:$port/v1/models/$model" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')
  echo "[topology] replica $port serves $model version $served"
  [ "$served" = "$new" ] || { echo "replica $port did not reload version $new" >&2; exit 1; }
done
[ "$bad" = 0 ] && [ "$ok" -gt 0 ] || exit 1
echo "[topology] OK"
