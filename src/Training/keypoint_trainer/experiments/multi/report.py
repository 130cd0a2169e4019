"""docs/results/klpnet.md from the run outputs (``{run.out_dir}/{model}/metrics.json``).

Every number in the report is read from those files; a model that was not evaluated is
listed as missing, never filled in. Quick-profile reports are labelled as smoke runs.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from ...data.multi.generator import LEVELS
from .pipeline import model_names


def _f(v, nd=3) -> str:
    return "–" if v is None else f"{v:.{nd}f}"


def write_report(cfg: dict[str, Any], path: Path, command: str = "") -> Path:
    out_dir = Path(cfg["run"]["out_dir"])
    res = {}
    for name in model_names(cfg):
        p = out_dir / name / "metrics.json"
        if p.is_file():
            res[name] = json.loads(p.read_text())
    if not res:
        raise SystemExit(f"no metrics under {out_dir}: run `multi train` and `multi evaluate` first")
    smoke = cfg["run"]["name"] != "full"
    L = ["# Multi-figure keypoints with link prediction (KLPNet ideas) — results", ""]
    if smoke:
        L += [f"> **Smoke run of the `{cfg['run']['name']}` profile** ({cfg['data']['train']} training images, "
              f"{cfg['train']['steps']} steps): the numbers only show that the pipeline runs end to end; they say "
              "nothing about the method. The full-profile command is in docs/klpnet.md.", ""]
    d = cfg["data"]
    main = res.get("main")
    L += [f"Generated {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} by `{command or 'multi report'}` from "
          f"`{out_dir}/*/metrics.json`. Data: {d['train']} training / {d['test']} test images of 1–4 stick figures "
          f"(seeds {d['seeds']}), 128×128; method and metric definitions in [docs/klpnet.md](../klpnet.md). "
          f"PCK threshold α = fraction of each figure's keypoint-box diagonal.", ""]
    if main:
        a = main["all"]
        al = main["alphas"]
        L += [f"## Main model ({main['stages']} stages)", "", "| metric | " + " | ".join(f"α = {x:g}" for x in al) + " |",
              "|---|" + "---|" * len(al),
              "| PCK, predicted identities (grouped instances) | " + " | ".join(_f(a["pck_pred_id"][f"{x:g}"]) for x in al) + " |",
              "| PCK, oracle identities (any detection) | " + " | ".join(_f(a["pck_oracle_id"][f"{x:g}"]) for x in al) + " |",
              "", f"At α = {main['alpha']:g}: link precision {_f(a['link_precision'])}, recall {_f(a['link_recall'])}, "
              f"F1 {_f(a['link_f1'])}; figure accuracy (all 5 keypoints of a figure correct) {_f(a['figure_accuracy'])}; "
              f"images with the right number of instances {_f(a['count_accuracy'])}; per image {a['mean_detections']:.1f} "
              f"detections, {a['mean_instances']:.2f} instances, {a['mean_outliers']:.2f} outliers.", "",
              f"Grouping thresholds chosen on the {main['calibration']['images']} validation images "
              f"({main['calibration']['criterion']}): peak {main['grouping']['peak_threshold']:g}, link "
              f"{main['grouping']['link_threshold']:g}; learnt link decoder A = σ({main['grouping']['link_scale']:.3f}·z·z "
              f"{main['grouping']['link_bias']:+.3f}).", "",
              "## By occlusion level (main model, α = %g)" % main["alpha"], "",
              "| level | images | figures | PCK pred-id | PCK oracle-id | PCK pred-id visible / occluded kp | link P | link R | link F1 | figure acc | count acc |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
        ak = f"{main['alpha']:g}"
        for lv in LEVELS:
            b = main["by_level"].get(lv)
            if not b:
                continue
            L.append(f"| {lv} | {b['images']} | {b['figures']} | {_f(b['pck_pred_id'][ak])} | "
                     f"{_f(b['pck_oracle_id'][ak])} | {_f(b['pck_pred_id_visible'])} / "
                     f"{_f(b['pck_pred_id_occluded'])} ({b['occluded_keypoints']}) | {_f(b['link_precision'])} | "
                     f"{_f(b['link_recall'])} | {_f(b['link_f1'])} | {_f(b['figure_accuracy'])} | {_f(b['count_accuracy'])} |")
        L += ["", "Levels: largest pairwise IoU of the figures' boxes — none (0), slight (≤ 0.15), heavy (> 0.15). "
              "Occluded keypoints (hidden by a later figure) get no training target but are counted here.", ""]
    L += ["## Stage ablation", "", "| model | stages | PCK pred-id | PCK oracle-id | link F1 | figure acc | MACs (M) | "
          "FLOPs (M, 2×MACs) | params | s/step | training wall |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, stages in sorted(model_names(cfg).items(), key=lambda x: x[1]):
        r = res.get(name)
        if r is None:
            L.append(f"| {name} | {stages} | not evaluated | | | | | | | | |")
            continue
        a, c, t = r["all"], r["complexity"], r["training"]
        al = f"{r['alpha']:g}"
        L.append(f"| {name} | {stages} | {_f(a['pck_pred_id'][al])} | {_f(a['pck_oracle_id'][al])} | {_f(a['link_f1'])} | "
                 f"{_f(a['figure_accuracy'])} | {c['macs'] / 1e6:.1f} | {c['flops'] / 1e6:.1f} | {c['params']:,} | "
                 f"{t.get('seconds_per_step')} | {t.get('wall_time_s')} s |")
    L += ["", "MACs counted with `spmkd/flops.py` (conv, transposed conv, linear; one 128×128 image). "
          f"Training: {cfg['train']['steps']} steps of {cfg['train']['batch_size']} images, Adam lr {cfg['train']['lr']}, "
          f"{next(iter(res.values()))['training'].get('threads')} thread(s) on "
          f"{next(iter(res.values()))['training']['machine'].get('cpu')}.", ""]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(L) + "\n", encoding="utf-8")
    print(f"[multi] report -> {path}")
    return path
