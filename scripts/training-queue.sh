#!/usr/bin/env bash
# The long trainings still owed to issues 17 and 18, one after another (the machine has 2 cores: one
# training at a time). Every step resumes where it stopped and a finished step is skipped, so after any
# interruption (a session's end, a reboot) run it again:
#   setsid nohup scripts/training-queue.sh > /dev/null 2>&1 &
# (--wait: if another training is running, start when it has ended instead of refusing.)
# Progress: runs/queue.log (one line per step) and the step's own log named below.
#   1. SPMKD at the paper's design (K = 128) and the supervised baseline, each to its plateau
#      (configs/spmkd/paper.toml; runs/spmkd_paper.log), then its evaluation and report; done and
#      published as spmkd/3 (docs/results/convergence.md), so a queue run skips it
#   2. multi with head votes (configs/multi/geo.toml; runs/multi_geo.log; report docs/results/klpnet-geo.md)
#   3. multi with head votes trained to its validation plateau (configs/multi/converge.toml;
#      runs/multi_converge.log; report docs/results/klpnet-converge.md), then its network grouped with
#      retype as multi/5 is (configs/multi/converge-retype.toml; report docs/results/klpnet.md); done and
#      published as multi/6, so a queue run skips it
#   4. the converged stick-figure ablations (configs/stick/ablate.toml; two 1-thread processes,
#      runs/ablate_a.log and runs/ablate_b.log), then their report
#   5. HSJP fine-tuned vs scratch at 10/25/50/100 % of the labels (configs/hsjp/learn-ce-fractions.toml;
#      runs/hsjp_fractions.log; report docs/results/hsjp-fractions.md)
#   6. the runs behind the served stick-figure models (configs/stick/served.toml: the seed HeatmapNet and
#      RegressionNet on one core, heatmap/6's recipe on the other; runs/stick_served*.log), then
#      docs/results/stick-figures.md regenerated from them with the converged ablations of step 4; its
#      exports (runs/full/export) are compared with models/ by hand before anything is published
# The whole body is one function, read before it runs: editing this file while a queue runs does not
# change (or break) the running queue.
set -u
main() {
  cd "$(dirname "$0")/.."
  mkdir -p runs
  export PYTHONPATH=src/Training PYTHONUNBUFFERED=1
  trainer() { /usr/bin/python3 -m keypoint_trainer "$@"; }
  say() { echo "$(date -u +%FT%TZ) $*" >> runs/queue.log; }
  while pgrep -f "keypoint_trainer (spmkd|multi|ablate|train|hsjp)" > /dev/null; do
    [ "${1:-}" = --wait ] || {
      echo "a training is already running (pgrep -af keypoint_trainer); one at a time (--wait: start after it)" >&2; exit 1; }
    sleep 60
  done

  say "spmkd paper: training"
  trainer spmkd train --profile paper --data-root data/spmkd/full --only main --only baseline --threads 2 \
    >> runs/spmkd_paper.log 2>&1 || { say "spmkd paper training failed"; exit 1; }
  if [ ! -f runs/spmkd/paper/results.json ]; then
    trainer spmkd report --profile paper --data-root data/spmkd/full --threads 2 --report docs/results/spmkd.md \
      >> runs/spmkd_paper.log 2>&1 || { say "spmkd paper report failed"; exit 1; }
  fi
  say "spmkd paper: done"

  if [ ! -f runs/multi/geo/export/manifest.json ]; then
    trainer multi run --profile geo --only main --resume --threads 2 >> runs/multi_geo.log 2>&1 \
      || { say "multi geo failed"; exit 1; }
  fi
  say "multi geo: done"

  if [ ! -f runs/multi/converge/export/manifest.json ]; then
    say "multi converge: training"
    trainer multi run --profile converge --only main --resume --threads 2 >> runs/multi_converge.log 2>&1 \
      || { say "multi converge failed"; exit 1; }
  fi
  if [ ! -f runs/multi/converge-retype/export/manifest.json ]; then
    local regroup=runs/multi/converge-retype/main
    mkdir -p "$regroup" && cp runs/multi/converge/main/{model.pth,training_log.json} "$regroup"/ \
      && trainer multi evaluate --profile converge-retype --only main --threads 2 >> runs/multi_converge.log 2>&1 \
      && trainer multi export --profile converge-retype --threads 2 >> runs/multi_converge.log 2>&1 \
      && trainer multi report --profile converge-retype >> runs/multi_converge.log 2>&1 \
      || { say "multi converge-retype failed"; exit 1; }
  fi
  say "multi converge: done"

  if [ ! -f runs/ablate/ablate.done ]; then
    # two 1-thread processes with disjoint lists: measured 3.8 s per step each side by side against 3.0 s for
    # one 2-thread process (scripts/step-threads.py), so 1.6x the throughput; baseline and second seed first
    say "ablate: training"
    trainer ablate --config ablate --set run.threads=1 --only heatmap --only hm_sigma1 --only hm_sigma3 \
      --only hm_res128 >> runs/ablate_a.log 2>&1 &
    local first=$!
    trainer ablate --config ablate --set run.threads=1 --only heatmap_seed2 --only hm_sigma4 --only hm_res32 \
      --only hm_noskip >> runs/ablate_b.log 2>&1
    local second=$?
    wait "$first" && [ "$second" = 0 ] || { say "ablate failed"; exit 1; }
    trainer ablate-report --config ablate --report docs/results/stick-ablations.md >> runs/ablate.log 2>&1 \
      && touch runs/ablate/ablate.done || { say "ablate report failed"; exit 1; }
  fi
  say "ablate: done"

  trainer hsjp run --profile learn-ce-fractions --resume --threads 2 --report docs/results/hsjp-fractions.md \
    >> runs/hsjp_fractions.log 2>&1 || { say "hsjp fractions failed"; exit 1; }
  say "hsjp fractions: done"

  if [ ! -f runs/full/served.done ]; then
    say "stick served runs: training"
    mkdir -p runs/full
    # written out and run as a launcher, so the report's "how this run was executed" names these commands
    cat > runs/full/run_served.sh <<'LAUNCHER'
#!/usr/bin/env bash
# scripts/training-queue.sh step 6: the served profile's runs, two processes on one core each, then evaluation, exports and the report
export PYTHONPATH=src/Training
/usr/bin/python3 -m keypoint_trainer train --config served --model heatmap --model regression --resume >> runs/stick_served_seed.log 2>&1 &
/usr/bin/python3 -m keypoint_trainer train --config served --model heatmap_fresh_context_60_step --resume >> runs/stick_served_60.log 2>&1 || exit 1
wait $! || exit 1
/usr/bin/python3 -m keypoint_trainer evaluate --config served || exit 1
/usr/bin/python3 -m keypoint_trainer export --config served --model heatmap --out runs/full/export/heatmap || exit 1
/usr/bin/python3 -m keypoint_trainer export --config served --model regression --out runs/full/export/regression || exit 1
/usr/bin/python3 -m keypoint_trainer export --config served --model heatmap_fresh_context_60_step --out runs/full/export/heatmap_fresh_context_60_step || exit 1
/usr/bin/python3 -m keypoint_trainer export --config served --model simcc_fresh_32_step --out runs/full/export/simcc_fresh_32_step || exit 1
/usr/bin/python3 -m keypoint_trainer report --config served || exit 1
LAUNCHER
    bash runs/full/run_served.sh >> runs/stick_served.log 2>&1 && touch runs/full/served.done \
      || { say "stick served runs failed"; exit 1; }
  fi
  say "stick served runs: done"
}
main "$@"; exit
