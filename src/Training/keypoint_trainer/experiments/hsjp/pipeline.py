"""The HSJP runner (``hsjp plan|pretrain|finetune|report|run``) over the plan of plan.py.

Finished runs (``pretext.pth`` + ``pretext_eval.json``, or ``result.json``) are skipped, so an
interrupted ``run`` continues where it stopped (``--resume`` also continues a half-finished run).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ...codecs.heatmap import HeatmapCodec
from ...core.config import check_selection, load_config, report_path
from ...core.manifest import write_json
from ...core.provenance import invocation, record_invocation
from ...engine.distributed import environment_rank
from ...data.stick.dataset import load_split
from ...data.stick.splits import generate_splits
from .plan import plan


def load_data(cfg: dict[str, Any], log=print) -> dict[str, Any]:
    """The labelled stick-figure splits of ``[stick] profile`` with the seed HeatmapNet's targets
    (the stick profile's ``[codec]``)."""
    st = cfg["stick"]
    scfg = load_config(st["profile"], st.get("overrides", []))
    generate_splits(scfg, log=log)
    hs = int(scfg["codec"]["heatmap_size"])
    codec = HeatmapCodec((128, 128), (hs, hs), float(scfg["codec"]["sigma"]))
    tx, ty, _ = load_split(scfg, "train", codec)
    ex, _, ek = load_split(scfg, "test", codec)
    return {"train_x": tx, "train_y": ty, "test_x": ex, "test_kp": ek, "stick_config": scfg}


def finished(log_file: Path, steps: int) -> bool:
    """A run's log says it completed at least ``steps`` steps: ``--resume`` continues unfinished or
    lengthened runs and leaves finished ones (and their results) alone."""
    if not log_file.is_file():
        return False
    r = json.loads(log_file.read_text())
    return bool(r.get("completed")) and int(r.get("steps", -1)) >= steps


def run_jobs(cfg: dict[str, Any], only=None, resume: bool = False, kinds=("pretext", "finetune"), log=print) -> None:
    import numpy as np

    from .sources import unlabelled_pool
    from .ambiguity import inked_patches
    from ...engine.distributed import from_environment, rank_zero_first
    from .train import PretextValidation, evaluate_pretext, finetune, load_pretext, train_pretext

    # in a data-parallel group rank 0 writes the runs, every other rank its own copy under ranks/<rank>
    # (fine-tunes read their pretext run back, so the whole output directory moves)
    ranks = from_environment()
    if ranks.rank:
        cfg = dict(cfg, run=dict(cfg["run"], out_dir=str(ranks.own(cfg["run"]["out_dir"]))))
    out = Path(cfg["run"]["out_dir"])
    with rank_zero_first():  # rank 0 generates missing splits, the others then read them
        data = load_data(cfg, log)
    pools: dict[bool, Any] = {}
    seed = int(cfg["run"]["seed"])
    for job in plan(cfg):
        name = job["name"]
        if job["kind"] not in kinds or (only and name not in only):
            continue
        d = out / name
        if job["kind"] == "pretext":
            if (d / "pretext_eval.json").is_file() and (
                    not resume or finished(d / "training_log.json", int(cfg["pretext"]["steps"]))):
                log(f"[hsjp] {name}: done")
                continue
            if job["pressure"] not in pools:
                c = dict(cfg, pretext=dict(cfg["pretext"], sources=["stick", "pressure"] if job["pressure"] else ["stick"]))
                pools[job["pressure"]] = unlabelled_pool(c, data["train_x"], log)
            imgs = data["test_x"][: int(cfg["pretext"].get("eval_images", 200)), 0].numpy()
            inked = inked_patches(len(imgs), job["spec"].n, int(data["stick_config"]["data"]["seeds"]["test"]))
            if not (d / "pretext.pth").is_file() or resume:
                every = int(cfg["pretext"].get("eval_every", 0))
                hooks = [PretextValidation(job["spec"], imgs, seed + 1, every, inked)] if every else []
                train_pretext(cfg, name, job["spec"], pools[job["pressure"]], resume=resume, log=log, hooks=hooks)
            model, spec = load_pretext(cfg, name)
            ev = evaluate_pretext(model, spec, imgs, seed + 1, inked=inked)
            write_json(d / "pretext_eval.json", ev)
            log(f"[hsjp] {name}: puzzle precision {ev['puzzle_precision']:.3f}, patches {ev['patch_accuracy']:.3f}, "
                f"inked patches {ev['inked_patch_accuracy'] or 0:.3f}, inked precision {ev['inked_precision']:.3f}")
        else:
            if (d / "result.json").is_file() and (not resume or finished(d / "result.json", job["steps"])):
                log(f"[hsjp] {name}: done")
                continue
            if job["init"] and not (out / job["init"] / "pretext.pth").is_file():
                log(f"[hsjp] {name}: pretext {job['init']} missing, skipped")
                continue
            finetune(cfg, name, data, fraction=job["fraction"], steps=job["steps"], init=job["init"], resume=resume,
                     log=log)


def run_action(args: argparse.Namespace) -> int:
    from ...engine.threads import configure_threads

    cfg = load_config(args.profile, args.overrides, family="hsjp", default_extends="full")
    check_selection(args.only, [j["name"] for j in plan(cfg)])
    configure_threads(args.threads or cfg["run"].get("threads") or None)
    command = invocation()
    out = Path(cfg["run"]["out_dir"])
    if args.action == "plan":
        for j in plan(cfg):
            extra = f"N={j['n']} concat={j['concat']} pressure={j['pressure']}" if j["kind"] == "pretext" else \
                f"fraction={j['fraction']} init={j['init']} steps={j['steps']} ({j['group']})"
            print(f"{j['kind']:8s} {j['name']:20s} {extra}")
        return 0
    report = report_path(cfg, args.report) if args.action in ("report", "run") else None  # refused before training
    if args.action in ("pretrain", "finetune", "run"):
        record_invocation(out / "commands.txt", command)
        kinds = {"pretrain": ("pretext",), "finetune": ("finetune",), "run": ("pretext", "finetune")}[args.action]
        run_jobs(cfg, args.only, args.resume, kinds)
    if args.action in ("report", "run") and not environment_rank():  # a group's report is rank 0's
        from .report import write_report
        write_report(cfg, report, command)
    return 0
