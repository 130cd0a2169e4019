#!/usr/bin/env bash
# Data-parallel training on one machine: starts N trainer processes with the variables torchrun
# sets (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT), because Debian's torchrun 1.13
# fails under Python 3.11. On a current PyTorch the same run is
#   torchrun --nproc-per-node N -m keypoint_trainer train ...
# Usage: scripts/train-distributed.sh [--nproc 2] [--port 29511] [--threads 1] -- train --config quick --model heatmap
# Several machines: run this on each with MASTER_ADDR set to the first one's address and
# NODE_RANK=0..M-1, NNODES=M (ranks are NODE_RANK * nproc + local rank).
set -euo pipefail
cd "$(dirname "$0")/.."
nproc=2; port=29511; threads=1
while [ $# -gt 0 ]; do
  case "$1" in
    --nproc) nproc=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "train-distributed.sh: unknown option '$1' (known: --nproc N, --port P, --threads T, then -- and the trainer's arguments)" >&2; exit 2 ;;
  esac
done
[ $# -gt 0 ] || { echo "train-distributed.sh: give the trainer's arguments after --, e.g. -- train --config quick --model heatmap" >&2; exit 2; }
nnodes=${NNODES:-1}; node=${NODE_RANK:-0}
export MASTER_ADDR=${MASTER_ADDR:-127.0.0.1} MASTER_PORT=$port WORLD_SIZE=$((nproc * nnodes))
export PYTHONPATH=src/Training OMP_NUM_THREADS=$threads
pids=()
stop() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap stop INT TERM
for ((i = 0; i < nproc; i++)); do
  rank=$((node * nproc + i))
  if [ "$rank" = 0 ]; then
    RANK=$rank LOCAL_RANK=$i /usr/bin/python3 -m keypoint_trainer "$@" --set run.threads="$threads" &
  else # other ranks print only their errors: rank 0 reports progress for the group
    RANK=$rank LOCAL_RANK=$i /usr/bin/python3 -m keypoint_trainer "$@" --set run.threads="$threads" > /dev/null &
  fi
  pids+=($!)
done
status=0
for p in "${pids[@]}"; do
  if ! wait "$p"; then status=1; stop; fi
done
[ "$status" = 0 ] || echo "train-distributed.sh: a rank failed; the others were stopped (rerun with the same arguments and --resume to continue)" >&2
exit $status
