"""``ablate``: train each ablation/variant experiment on the same splits, evaluate on test.

Budget: ``[ablate] epochs`` epochs on the first ``[ablate] train_subset`` training images
(the validation and test splits are the full ones). The seed models are re-trained at the
same reduced budget (experiments ``heatmap`` and ``regression`` inside the ablation
directory), so every row of the ablation tables is comparable with its own baseline.
Results accumulate in ``{ablate.out_dir}/results.json`` (and each experiment's ``result.json``), and each
finished experiment is kept in the repository (``[ablate] record``, engine/run_record.py); finished or
recorded experiments are skipped when the command is run again (delete the experiment's directory and
record to redo it). In a data-parallel group every rank trains its share and rank 0 alone evaluates and
writes ``results.json``.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Optional, Sequence

from ...core.manifest import write_json
from ...data.stick.dataset import load_split
from ...engine.distributed import environment_rank
from ...engine.report import read_json
from ...engine.run_record import RunRecord
from .evaluate import evaluate_experiment
from .train import train_experiment


def ablate_dir(cfg: dict[str, Any]) -> Path:
    a = cfg.get("ablate", {})
    return Path(a.get("out_dir") or Path(cfg["run"]["out_dir"]) / "ablate")


def with_common_spec(cfg: dict[str, Any], names: Sequence[str]) -> dict[str, Any]:
    """``[ablate.spec]`` (keys of an experiment, e.g. fresh images and a step schedule) applied to every
    ablation experiment under its own ``[experiments.NAME]`` keys, so all rows share one recipe."""
    common = cfg["ablate"].get("spec") or {}
    if not common:
        return cfg
    experiments = {**cfg.get("experiments", {})}
    for name in names:
        experiments[name] = {**common, **experiments.get(name, {})}
    return {**cfg, "experiments": experiments}


def run_header(cfg: dict[str, Any]) -> dict[str, Any]:
    """What every row of a run shares (results.json's header)."""
    a = cfg["ablate"]
    return {"epochs": int(a["epochs"]), "train_subset": int(a["train_subset"]),
            "val": int(cfg["data"]["val"]), "test": int(cfg["data"]["test"]), "seed": cfg["run"]["seed"]}


def _completed(exp_dir: Path) -> bool:
    return bool((read_json(exp_dir / "training_log.json") or {}).get("completed"))


def sync_with_record(cfg: dict[str, Any], results: dict[str, Any], log=print) -> None:
    """Brings recorded experiments back into the run directory and ``results``, and records finished ones
    the record lacks (trained before it existed)."""
    record, out = RunRecord(cfg["ablate"].get("record")), ablate_dir(cfg)
    for name in cfg["ablate"]["experiments"]:
        exp_dir, entry = out / name, results["experiments"].get(name)
        if record and entry and _completed(exp_dir) and not record.has(name):
            write_json(exp_dir / "result.json", entry)
            log(f"ablate {name}: recorded in {record.keep(name, exp_dir)}")
        if record.restore(name, exp_dir):
            log(f"ablate {name}: restored from {record.folder / name}")
        if name not in results["experiments"] and _completed(exp_dir) and (exp_dir / "result.json").is_file():
            results["experiments"][name] = read_json(exp_dir / "result.json")


def run_ablations(cfg: dict[str, Any], only: Optional[Sequence[str]] = None, log=print) -> dict[str, Any]:
    a = cfg["ablate"]
    names = list(only or a["experiments"])
    cfg = with_common_spec(cfg, names)
    out = ablate_dir(cfg)
    out.mkdir(parents=True, exist_ok=True)
    res_path = out / "results.json"
    results = json.loads(res_path.read_text()) if res_path.is_file() else {"experiments": {}}
    results.update(run_header(cfg))
    sync_with_record(cfg, results, log)
    record = RunRecord(a.get("record"))
    x, _, gt = load_split(cfg, "test")
    rank_zero = environment_rank() == 0  # evaluation and results belong to rank 0
    t_all = time.monotonic()
    for i, name in enumerate(names):
        exp_dir = out / name
        if _completed(exp_dir) and name in results["experiments"]:
            log(f"ablate {i + 1}/{len(names)} {name}: already done, skipped")
            continue
        log(f"ablate {i + 1}/{len(names)} {name} (elapsed {time.monotonic() - t_all:.0f}s)")
        tlog = train_experiment(cfg, name, out_dir=exp_dir, train_subset=int(a["train_subset"]),
                                epochs=int(a["epochs"]), resume=True, log=log)
        if not rank_zero:
            continue
        metrics, _ = evaluate_experiment(cfg, name, x, gt, out_dir=exp_dir)
        entry = {"spec": tlog["spec"], "metrics": metrics,
                 "best_epoch": tlog["best_epoch"], "best_val_loss": tlog["best_val_loss"],
                 "wall_time_s": tlog["wall_time_s"],
                 "seconds_per_step": tlog["seconds_per_step"],
                 "final_train_loss": tlog["history"][-1]["train_loss"]}
        # re-read before writing: several `ablate --only ...` processes may share results.json
        if res_path.is_file():
            results["experiments"] = {**json.loads(res_path.read_text()).get("experiments", {}),
                                      **{k: v for k, v in results["experiments"].items()}}
        results["experiments"][name] = entry
        write_json(res_path, results)
        exp_dir.mkdir(parents=True, exist_ok=True)
        write_json(exp_dir / "result.json", entry)
        record.keep(name, exp_dir)
        for label, m in metrics.items():
            log(f"  {label}: PCK@0.05 bbox {m['pck_bbox']['0.05'] * 100:.1f}% AUC {m['auc_bbox']:.3f} "
                f"mean err {m['mean_pixel_error']:.2f}px")
    if not rank_zero:
        return results
    if res_path.is_file():
        results["experiments"] = {**json.loads(res_path.read_text()).get("experiments", {}),
                                  **results["experiments"]}
    results.setdefault("wall_time_s_per_process", []).append(round(time.monotonic() - t_all, 1))
    write_json(res_path, results)
    return results
