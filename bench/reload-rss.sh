#!/usr/bin/env bash
# Memory across hot reloads: one service on 127.0.0.1 (a fresh copy of the model store, a fresh SQLite bed
# store) under a light steady load (KeypointService.Bench soak at --rate, no bad inputs), and K hot reloads of
# one model (the trainer publishes its newest version again as the next version, as bench/soak.sh does).
# After the warm-up and after each reload (once the service serves the new version and --settle seconds of
# load have passed) one row: the service's resident set from /proc/PID/status (VmRSS, and its anonymous and
# file-backed parts), the .NET GC heap (live objects, and what the GC has committed) and the ONNX Runtime sessions
# not yet released (kps_onnx_sessions_open) from /metrics. Writes reload-rss.csv and reload-rss.md (table and verdict) to --out.
#   bench/reload-rss.sh [--reloads 12] [--model heatmap] [--rate 10] [--warmup 30] [--settle 15] [--warmup-reloads 2]
#                       [--out artifacts/reload-rss] [--port 8096] [--env NAME=VALUE ...] [-- service options ...]
# --env sets a variable for the service process only (e.g. --env MALLOC_ARENA_MAX=2); options after -- go to
# the service (e.g. -- --OnnxRuntime:CpuMemArena=false). Verdict: every row after --warmup-reloads reloads is
# within 10 % of the RSS at that point (exit code 0 only then).
set -euo pipefail
cd "$(dirname "$0")/.."
reloads=12; model=heatmap; rate=10; warmup=30; settle=15; warmup_reloads=2; out=artifacts/reload-rss; port=8096
envs=(); service_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --reloads) reloads=$2; shift 2 ;;
    --model) model=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --settle) settle=$2; shift 2 ;;
    --warmup-reloads) warmup_reloads=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    --env) envs+=("$2"); shift 2 ;;
    --) shift; service_args=("$@"); break ;;
    *) echo "bench/reload-rss.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ -n "${KPS_SKIP_SETUP:-}" ] || ./scripts/setup.sh >/dev/null # KPS_SKIP_SETUP=1: already built (runs side by side)
mkdir -p "$out"
work=$(mktemp -d); pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"' EXIT
cp -r models "$work/store"
url="http://127.0.0.1:$port"
env "${envs[@]}" ASPNETCORE_ENVIRONMENT=Development dotnet src/Api/bin/Release/net10.0/KeypointService.Api.dll --contentRoot "$PWD/src/Api" \
  --urls "$url" --Grpc:Url= --ModelStore:Path="$work/store" --Beds:DataPath="$work/beds" "${service_args[@]}" >"$out/service.log" 2>&1 &
service=$!; pids+=("$service")
for _ in $(seq 1 300); do curl -sf "$url/health/ready" >/dev/null && break; sleep 0.2; done
curl -sf "$url/health/ready" >/dev/null || { tail -20 "$out/service.log" >&2; exit 1; }

dotnet bench/bin/Release/net10.0/KeypointService.Bench.dll soak --url "$url/" --minutes 600 --rate "$rate" --bad-per-minute 0 \
  --warmup-minutes 0 --window-seconds 60 --out "$work/load" >"$out/load.log" 2>&1 &
pids+=($!)

metrics() { curl -sf "$url/metrics" -o "$work/metrics.txt" && cat "$work/metrics.txt"; } # whole, so no reader closes the pipe early
metric() { metrics | awk -v m="$1" '$1 == m && !seen { print $2; seen = 1 }'; }
kib() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$service/status"; }
row() { # reload version
  local rss anon file heap committed sessions
  rss=$(kib VmRSS); anon=$(kib RssAnon); file=$(kib RssFile)
  heap=$(metric dotnet_total_memory_bytes); committed=$(metric kps_gc_committed_bytes); sessions=$(metric kps_onnx_sessions_open)
  /usr/bin/python3 -c "import sys; r, v, a, b, c, h, g, s = sys.argv[1:]; print(f'{r},{v},{int(a)/1024:.1f},{int(b)/1024:.1f},{int(c)/1024:.1f},{float(h)/1048576:.1f},{float(g or -1048576)/1048576:.1f},{int(float(s or -1))}')" \
    "$1" "$2" "$rss" "$anon" "$file" "${heap:-0}" "${committed:-}" "${sessions:-}" | tee -a "$out/reload-rss.csv"
}
echo "reload,version,rss_mib,rss_anon_mib,rss_file_mib,gc_heap_mib,gc_committed_mib,onnx_sessions_open" >"$out/reload-rss.csv"
echo "[reload-rss] service pid $service, env: ${envs[*]:-(none)}, options: ${service_args[*]:-(none)}; warm-up ${warmup} s at $rate requests/s" >&2
sleep "$warmup"
row 0 "$(ls "$work/store/$model" | sort -n | tail -1)"
for i in $(seq 1 "$reloads"); do
  latest=$(ls "$work/store/$model" | sort -n | tail -1)
  PYTHONPATH=src/Training /usr/bin/python3 -m keypoint_trainer publish --export "$work/store/$model/$latest" --store "$work/store" --name "$model" >/dev/null
  next=$((latest + 1))
  for _ in $(seq 1 300); do
    metrics | grep -c "^kps_model_loaded{model=\"$model\",version=\"$next\"}" >/dev/null && break; sleep 0.2
  done
  sleep "$settle"
  row "$i" "$next"
done

/usr/bin/python3 - "$out/reload-rss.csv" "$warmup_reloads" "${envs[*]:-} ${service_args[*]:-}" "$out/reload-rss.md" <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
w, variant, md = int(sys.argv[2]), sys.argv[3].strip() or "defaults", sys.argv[4]
rss = [float(r["rss_mib"]) for r in rows]
base = rss[w]; after = rss[w:]
worst = max(after, key=lambda x: abs(x - base))
ok = all(abs(x - base) <= 0.10 * base for x in after)
lines = [f"Variant: {variant}", "",
         "| reload | version | RSS MiB | anon MiB | file MiB | GC heap MiB | GC committed MiB | ONNX sessions open |", "|---|---|---|---|---|---|---|---|"]
lines += [f"| {r['reload']} | {r['version']} | {r['rss_mib']} | {r['rss_anon_mib']} | {r['rss_file_mib']} | {r['gc_heap_mib']} | {r['gc_committed_mib']} | {r['onnx_sessions_open']} |" for r in rows]
lines += ["", f"RSS {rss[0]:.0f} MiB after the warm-up, {base:.0f} MiB after reload {w}, {rss[-1]:.0f} MiB after reload {len(rows) - 1} "
          f"({100 * (rss[-1] - base) / base:+.1f} % from reload {w}, {100 * (rss[-1] - rss[0]) / rss[0]:+.1f} % from the warm-up; "
          f"largest difference from reload {w}: {100 * (worst - base) / base:+.1f} %). "
          f"Verdict: {'flat' if ok else 'not flat'} within 10 % after reload {w}."]
open(md, "w").write("\n".join(lines) + "\n")
print("\n".join(lines[-1:]))
sys.exit(0 if ok else 1)
EOF
