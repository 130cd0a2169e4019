#!/usr/bin/env bash
# The docker-compose topology with plain processes on loopback (no Docker engine needed): N API replicas
# (default 3) on 127.0.0.1:8101.. behind Debian's nginx on 127.0.0.1:8100 (deploy/nginx.conf), one shared
# model store, one throw-away PostgreSQL bed store (scripts/with-postgres.sh). Under load through nginx
# (KeypointService.Bench topology: predicts, and beds posting frames with frame ids), the trainer publishes
# a new heatmap version and every replica must hot-reload it; then the last replica is killed with SIGKILL
# and the load goes on for --seconds.
# Prints the figures and fails unless no request failed at the balancer and every bed reads back in order.
#   deploy/local-topology.sh [--store models] [--replicas 3] [--seconds 10] [--beds 6]   (--seconds: load after the kill)
set -euo pipefail
cd "$(dirname "$0")/.."
source_store=models; replicas=3; seconds=10; beds=6
while [ $# -gt 0 ]; do
  case "$1" in
    --store) source_store=$2; shift 2 ;;
    --replicas) replicas=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --beds) beds=$2; shift 2 ;;
    *) echo "local-topology.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
# The bed store: a PostgreSQL server of our own for the run.
[ -n "${KPS_TEST_POSTGRES:-}" ] || exec scripts/with-postgres.sh "$PWD/deploy/local-topology.sh" --store "$source_store" --replicas "$replicas" --seconds "$seconds" --beds "$beds"
say() { printf '[topology] %s\n' "$*"; }
./scripts/setup.sh >/dev/null
command -v nginx >/dev/null || { sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo; DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq nginx-light >/dev/null; }

work=$(mktemp -d); pids=()
cleanup() {
  [ -n "${KEEP_LOGS:-}" ] && cp -r "$work" "${KEEP_LOGS}" 2>/dev/null
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  nginx -p "$work/nginx" -c nginx.conf -s stop 2>/dev/null || true
  wait 2>/dev/null || true; rm -rf "$work"
}
trap cleanup EXIT
store="$work/store"; mkdir -p "$store/heatmap" "$store/spmkd"
for model in heatmap spmkd; do
  latest=$(ls "$source_store/$model" | sort -n | tail -1); cp -r "$source_store/$model/$latest" "$store/$model/"
done
since() { /usr/bin/python3 -c "import time; print(f'{time.time() - $1:.1f}')"; }
version_of() { curl -sf "http://127.0.0.1:$1/v1/models/$2" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])'; }

ports=(); servers=""
for i in $(seq 1 "$replicas"); do
  port=$((8100 + i)); ports+=("$port"); servers="$servers server 127.0.0.1:$port max_fails=3 fail_timeout=5s;"
  ASPNETCORE_ENVIRONMENT=Development dotnet src/Api/bin/Release/net10.0/KeypointService.Api.dll --contentRoot "$PWD/src/Api" --urls "http://127.0.0.1:$port" \
    --ModelStore:Path="$store" --ModelStore:Expected:0=heatmap --ModelStore:Expected:1=spmkd --ModelStore:Expected:2= --ModelStore:Expected:3= \
    --ModelStore:PollSeconds=0.5 --Grpc:Url="http://127.0.0.1:$((port + 100))" --ForwardedHeaders:KnownProxies:0=127.0.0.1 \
    --Beds:Store=postgres --Beds:PostgresConnectionString="$KPS_TEST_POSTGRES" >"$work/api-$port.log" 2>&1 &
  pids+=($!)
done

mkdir -p "$work/nginx/logs"
sed -e "s/server api:8080 max_fails=3 fail_timeout=5s;/$servers/" -e 's/listen 8080;/listen 127.0.0.1:8100;/' deploy/nginx.conf >"$work/nginx/site.conf"
# nginx workers run as the current user so they can use the temporary directories; one log line per
# request with every upstream tried ("a, b" = retried on b) and the status each gave.
cat >"$work/nginx/nginx.conf" <<NGINX
user $(id -un);
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log;
events {}
http {
  log_format topology '\$status \$request_method \$uri "\$upstream_addr" "\$upstream_status"';
  access_log $work/nginx/logs/access.log topology;
  client_body_temp_path $work/nginx; proxy_temp_path $work/nginx;
  include $work/nginx/site.conf;
}
NGINX
nginx -p "$work/nginx" -c nginx.conf

for port in "${ports[@]}" 8100; do
  for _ in $(seq 1 150); do curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null && break; sleep 0.2; done
  curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null || { echo "replica on $port is not ready" >&2; tail -20 "$work"/api-*.log >&2; exit 1; }
done
old=$(version_of 8100 heatmap)
say "$replicas replicas ready behind nginx on 127.0.0.1:8100 (PostgreSQL bed store), serving heatmap version $old"
: >"$work/nginx/logs/access.log"   # count only the run's requests

# Load through nginx from here until the stop file appears: publish, reloads, kill, then --seconds more.
dotnet bench/bin/Release/net10.0/KeypointService.Bench.dll topology --url http://127.0.0.1:8100/ --store "$source_store" \
  --seconds 600 --stop-file "$work/stop" --beds "$beds" >"$work/load.txt" 2>&1 &
load=$!
sleep 3
clock=$(date +%s.%N)
PYTHONPATH=src/Training /usr/bin/python3 -m keypoint_trainer publish --export "$store/heatmap/$old" --store "$store" --name heatmap >/dev/null
published=$(date +%s.%N)
new=$(ls "$store/heatmap" | sort -n | tail -1)
say "published heatmap version $new under load (the trainer's publish took $(since "$clock") s)"
reloaded=0
for port in "${ports[@]}"; do
  for _ in $(seq 1 300); do [ "$(version_of "$port" heatmap)" = "$new" ] && break; sleep 0.1; done
  served=$(version_of "$port" heatmap)
  say "replica $port serves heatmap version $served ($(since "$published") s after the publish completed)"
  [ "$served" = "$new" ] && reloaded=$((reloaded + 1))
done
sleep 2
victim=${ports[$((replicas - 1))]}
kill -9 "${pids[$((replicas - 1))]}"; wait "${pids[$((replicas - 1))]}" 2>/dev/null || true
say "killed replica $victim (SIGKILL) under load; load goes on for $seconds s"
sleep "$seconds"
touch "$work/stop"
rc=0; wait $load || rc=$?
sed 's/^/[topology]   /' "$work/load.txt"

log="$work/nginx/logs/access.log"
total=$(wc -l <"$log")
failed=$(awk '$1 >= 500' "$log" | wc -l)
retried=$(grep -c ", " "$log" || true)
say "through nginx: $total requests, $failed answered 5xx, $retried retried on another replica"
awk '{print $1, $2}' "$log" | sort | uniq -c | sed 's/^/[topology]   status,method: /'
grep ", " "$log" | head -5 | sed "s/^/[topology]   retried: /" || true
# Live pushes through nginx: a bed's stored events over SSE (unbuffered), and the WebSocket upgrade.
bed=$(grep -m1 -o 'topology-[0-9]*-0' "$log")
sse=$(curl -s -N --max-time 3 -H 'Accept: text/event-stream' "http://127.0.0.1:8100/v1/beds/$bed/events/stream" | grep -c '^event: event' || true)
ws=$(curl -s -i -N --max-time 2 -H 'Connection: Upgrade' -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' \
  -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' "http://127.0.0.1:8100/v1/beds/$bed/ws" | head -1 | tr -d '\r' || true)
say "live through nginx: $sse stored events of $bed over SSE within 3 s; WebSocket upgrade answered '$ws'"
for port in "${ports[@]}"; do
  if [ "$port" = "$victim" ]; then say "replica $port: killed"; continue; fi
  say "replica $port: heatmap $(version_of "$port" heatmap), spmkd $(version_of "$port" spmkd)"
done
[ "$rc" = 0 ] && [ "$failed" = 0 ] && [ "$reloaded" = "$replicas" ] && [ "$sse" -gt 0 ] && [[ "$ws" == *" 101 "* ]] || { say "FAILED (load rc $rc, $failed 5xx, $reloaded/$replicas replicas reloaded, SSE $sse events, WebSocket '$ws')"; exit 1; }
say "OK"
