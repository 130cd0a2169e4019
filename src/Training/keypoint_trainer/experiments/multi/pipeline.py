"""``multi`` actions: generate -> train (main + stage ablation) -> evaluate -> export -> report."""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from ...core.config import check_selection, load_config, report_path
from ...core.manifest import write_json
from ...core.provenance import invocation, record_invocation
from ...engine.distributed import environment_rank, rank_zero_first
from .plan import model_names


def evaluate_all(cfg: dict[str, Any], only=None, log=print) -> dict[str, Any]:
    from ...metrics.flops import count_macs
    from .evaluate import calibrate, evaluate_model
    from .train import load_model, load_splits

    splits = load_splits(cfg, ("val", "test"), log=log)
    val, test = splits["val"], splits["test"]
    out_dir = Path(cfg["run"]["out_dir"])
    results = {}
    for name, stages in model_names(cfg).items():
        if only and name not in only:
            continue
        if not (out_dir / name / "model.pth").is_file():
            log(f"[multi] {name}: not trained, skipped")
            continue
        model = load_model(cfg, name)
        t0 = time.monotonic()
        cal = calibrate(model, val, cfg, log=log, progress_interval=float(cfg["run"].get("progress_interval", 30.0)))
        write_json(out_dir / name / "grouping_calibration.json", cal)
        r = evaluate_model(model, test, cfg, cal["chosen"])
        r["calibration"] = cal
        r["eval_seconds"] = round(time.monotonic() - t0, 1)
        r["stages"] = stages
        r["complexity"] = count_macs(model, (1, 1, 128, 128))
        r["training"] = json.loads((out_dir / name / "training_log.json").read_text())
        r["training"].pop("history", None)
        write_json(out_dir / name / "metrics.json", r)
        results[name] = r
        a = r["all"]
        log(f"[multi] {name}: PCK pred-id {a['pck_pred_id']['0.1']:.3f} oracle-id {a['pck_oracle_id']['0.1']:.3f} "
            f"link F1 {a['link_f1']:.3f} figure acc {a['figure_accuracy']:.3f} ({r['eval_seconds']}s)")
    return results


def run_action(args: argparse.Namespace) -> int:
    from ...engine.threads import configure_threads

    cfg = load_config(args.profile, args.overrides, family="multi", default_extends="full")
    check_selection(args.only, model_names(cfg), "model")
    configure_threads(args.threads or cfg["run"].get("threads") or None)
    command = invocation()
    acts = ["generate", "train", "evaluate", "export", "report"] if args.action == "run" else [args.action]
    report = report_path(cfg, args.report) if "report" in acts else None  # refused before training, not after
    out_dir = Path(cfg["run"]["out_dir"])
    if "generate" in acts:
        from .train import load_splits
        with rank_zero_first():  # rank 0 generates, the others then read its files
            load_splits(cfg)
    if "train" in acts:
        from .train import load_splits, train_model
        record_invocation(out_dir / "commands.txt", command)
        from .validation import GroupingValidation
        with rank_zero_first():
            splits = load_splits(cfg, ("train", "val"))
        every = int(cfg["train"].get("val_every", 0))
        for name, stages in model_names(cfg).items():
            if args.only and name not in args.only:
                continue
            if (out_dir / name / "model.pth").is_file() and not args.resume:
                print(f"[multi] {name}: already trained ({out_dir / name}); --resume to continue an unfinished one")
                continue
            hooks = [GroupingValidation(cfg, splits["val"], every)] if every else []
            train_model(cfg, name, stages, splits["train"], resume=args.resume, hooks=hooks)
    if environment_rank():  # in a group, evaluation, export and report are rank 0's
        return 0
    if "evaluate" in acts:
        evaluate_all(cfg, args.only)
    if "export" in acts:
        export_main(cfg, args.out or out_dir / "export", command)
    if "report" in acts:
        from .report import write_report
        write_report(cfg, report, command)
    return 0


def export_main(cfg: dict[str, Any], out: Path, command: str = "") -> dict[str, Any]:
    import numpy as np

    from ...core.provenance import git_commit, versions
    from .evaluate import grouping_spec
    from .export import write_model_dir
    from .train import load_model, load_splits

    model = load_model(cfg, "main")
    test = load_splits(cfg, ("test",))["test"]
    n = int(cfg.get("export", {}).get("golden_samples", 3))
    raws = [(f"test-{i:04d}", test["images"][i].astype(np.float32)) for i in range(n)]
    mfile = Path(cfg["run"]["out_dir"]) / "main" / "metrics.json"
    metrics = None
    if mfile.is_file():
        m = json.loads(mfile.read_text())
        al = f"{m['alpha']:g}"
        metrics = {"split": "test", "images": m["all"]["images"], "alpha": m["alpha"],
                   f"pck_pred_id@{al}": m["all"]["pck_pred_id"][al], f"pck_oracle_id@{al}": m["all"]["pck_oracle_id"][al],
                   **{k: m["all"][k] for k in ("pck_pred_id", "pck_oracle_id", "link_precision", "link_recall",
                                               "link_f1", "figure_accuracy", "figure_accuracy_oracle_id",
                                               "count_accuracy") if k in m["all"]}}
    cal_file = Path(cfg["run"]["out_dir"]) / "main" / "grouping_calibration.json"
    cal = json.loads(cal_file.read_text())["chosen"] if cal_file.is_file() else None
    man = write_model_dir(model, out, grouping_spec(cfg, model, cal), raws, name="multi", version="0", metrics=metrics,
                          training={"command": command, "profile": cfg["run"]["name"], "seed": cfg["run"]["seed"],
                                    "data": cfg["data"], "train": cfg["train"], "model": cfg["model"],
                                    "versions": versions(), "git_commit": git_commit()})
    print(f"[multi] exported main -> {out}")
    return man
