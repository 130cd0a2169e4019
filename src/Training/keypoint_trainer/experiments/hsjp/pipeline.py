"""The HSJP experiment list and its runner (``hsjp plan|pretrain|finetune|report|run``).

Runs (names are directories under ``run.out_dir``):

* pretext ``p{N}`` for N in ``ablate_n`` (and ``main_n``), ``p{N}c`` (unshuffled image
  concatenated) for N in ``concat_n``, ``p{N}sp`` (stick figures + pressure maps);
* fine-tunes ``scratch_f{pct}`` and ``hsjp{main_n}_f{pct}`` for every label fraction,
  ``hsjp{N}_f{pct}`` / ``hsjp{N}c_f{pct}`` at ``ablate_fraction`` for the ablations,
  ``scratch_long_f{pct}`` with pretext + fine-tune steps (same total), ``hsjp{N}sp_f{pct}``.

Finished runs (``pretext.pth`` + ``pretext_eval.json``, or ``result.json``) are skipped, so an
interrupted ``run`` continues where it stopped (``--resume`` also continues a half-finished run).
"""
from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path
from typing import Any

from ...core.manifest import write_json
from ...core.config import load_config
from ...codecs.jigsaw import PretextSpec


def pct(f: float) -> str:
    return f"{int(round(f * 100))}"


def plan(cfg: dict[str, Any]) -> list[dict[str, Any]]:
    e = cfg["experiments"]
    main_n = int(e["main_n"])
    sf = float(cfg["pretext"].get("sigma_fraction", 0.75))
    jobs: list[dict[str, Any]] = []
    pre_names = set()

    def pre(n: int, concat: bool = False, pressure: bool = False) -> str:
        name = f"p{n}{'c' if concat else ''}{'sp' if pressure else ''}"
        if name not in pre_names:
            pre_names.add(name)
            jobs.append({"kind": "pretext", "name": name, "n": n, "concat": concat, "pressure": pressure,
                         "spec": PretextSpec(n=n, concat=concat, sigma_fraction=sf)})
        return name

    def ft(name: str, fraction: float, init=None, steps=None, group="main"):
        if all(j["name"] != name for j in jobs):
            jobs.append({"kind": "finetune", "name": name, "fraction": fraction, "init": init, "group": group,
                         "steps": int(steps or cfg["finetune"]["steps"])})

    p_main = pre(main_n)
    for f in e["fractions"]:
        ft(f"scratch_f{pct(f)}", f)
        ft(f"hsjp{main_n}_f{pct(f)}", f, p_main)
    af = float(e.get("ablate_fraction", 1.0))
    if e.get("same_total", True):
        ft(f"scratch_long_f{pct(af)}", af, steps=int(cfg["finetune"]["steps"]) + int(cfg["pretext"]["steps"]),
           group="same_total")
    ft(f"scratch_f{pct(af)}", af)
    for n in e.get("ablate_n", []):
        ft(f"hsjp{n}_f{pct(af)}", af, pre(int(n)), group="ablate_n")
    for n in e.get("concat_n", []):
        ft(f"hsjp{n}c_f{pct(af)}", af, pre(int(n), concat=True), group="concat")
    if e.get("pressure"):
        pf = float(e.get("pressure_fraction", 0.1))
        ft(f"scratch_f{pct(pf)}", pf)
        ft(f"hsjp{main_n}_f{pct(pf)}", pf, p_main)
        ft(f"hsjp{main_n}sp_f{pct(pf)}", pf, pre(main_n, pressure=True), group="pressure")
    # pretext runs first (fine-tunes depend on them)
    return [j for j in jobs if j["kind"] == "pretext"] + [j for j in jobs if j["kind"] == "finetune"]


def load_data(cfg: dict[str, Any], log=print) -> dict[str, Any]:
    from ...data.stick.splits import generate_splits
    from ..stick.plan import get_experiment
    from ..stick.train import load_split

    st = cfg["stick"]
    scfg = load_config(st["profile"], st.get("overrides", []))
    generate_splits(scfg, log=log)
    spec = get_experiment(scfg, "heatmap")
    tx, ty, _ = load_split(scfg, "train", spec)
    ex, _, ek = load_split(scfg, "test", spec)
    return {"train_x": tx, "train_y": ty, "test_x": ex, "test_kp": ek, "stick_config": scfg}


def run_jobs(cfg: dict[str, Any], only=None, resume: bool = False, kinds=("pretext", "finetune"), log=print) -> None:
    import numpy as np

    from .sources import unlabelled_pool
    from .train import evaluate_pretext, finetune, load_pretext, train_pretext

    out = Path(cfg["run"]["out_dir"])
    data = load_data(cfg, log)
    pools: dict[bool, Any] = {}
    seed = int(cfg["run"]["seed"])
    for job in plan(cfg):
        name = job["name"]
        if job["kind"] not in kinds or (only and name not in only):
            continue
        d = out / name
        if job["kind"] == "pretext":
            if (d / "pretext_eval.json").is_file() and not resume:
                log(f"[hsjp] {name}: done")
                continue
            if job["pressure"] not in pools:
                c = dict(cfg, pretext=dict(cfg["pretext"], sources=["stick", "pressure"] if job["pressure"] else ["stick"]))
                pools[job["pressure"]] = unlabelled_pool(c, data["train_x"], log)
            if not (d / "pretext.pth").is_file() or resume:
                train_pretext(cfg, name, job["spec"], pools[job["pressure"]], resume=resume, log=log)
            model, spec = load_pretext(cfg, name)
            imgs = data["test_x"][: int(cfg["pretext"].get("eval_images", 200)), 0].numpy()
            ev = evaluate_pretext(model, spec, imgs, seed + 1)
            write_json(d / "pretext_eval.json", ev)
            log(f"[hsjp] {name}: puzzle precision {ev['puzzle_precision']:.3f}, patches {ev['patch_accuracy']:.3f}")
        else:
            if (d / "result.json").is_file() and not resume:
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
    configure_threads(args.threads or cfg["run"].get("threads") or None)
    command = "PYTHONPATH=src/Training /usr/bin/python3 -m keypoint_trainer " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    out = Path(cfg["run"]["out_dir"])
    if args.action == "plan":
        for j in plan(cfg):
            extra = f"N={j['n']} concat={j['concat']} pressure={j['pressure']}" if j["kind"] == "pretext" else \
                f"fraction={j['fraction']} init={j['init']} steps={j['steps']} ({j['group']})"
            print(f"{j['kind']:8s} {j['name']:20s} {extra}")
        return 0
    if args.action in ("pretrain", "finetune", "run"):
        out.mkdir(parents=True, exist_ok=True)
        with open(out / "commands.txt", "a", encoding="utf-8") as f:
            f.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {command}\n")
        kinds = {"pretrain": ("pretext",), "finetune": ("finetune",), "run": ("pretext", "finetune")}[args.action]
        run_jobs(cfg, args.only, args.resume, kinds)
    if args.action in ("report", "run"):
        from .report import write_report
        write_report(cfg, args.report or Path("docs/results/hsjp.md"), command)
    return 0
