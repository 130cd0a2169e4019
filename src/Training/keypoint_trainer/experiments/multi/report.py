"""docs/results/klpnet.md from the run outputs (``{run.out_dir}/{model}/metrics.json``), as a list of
sections (engine/report.py).

Every number in the report is read from those files; a model that was not evaluated is
listed as missing, never filled in. Quick-profile reports are labelled as smoke runs.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...core.manifest import repo_root
from ...data.multi.generator import LEVELS
from ...engine.report import num as _f
from ...engine.report import read_json, write_report as write_sections
from .plan import model_names


@dataclass
class Ctx:
    cfg: dict[str, Any]
    res: dict[str, dict]          # model name -> its metrics.json
    command: str

    @property
    def out_dir(self) -> Path:
        return Path(self.cfg["run"]["out_dir"])


def _s_title(c: Ctx) -> list[str]:
    """Title, the smoke-run warning of the quick profile, where the numbers come from."""
    cfg, d = c.cfg, c.cfg["data"]
    L = ["# Multi-figure keypoints with link prediction (KLPNet ideas) — results", ""]
    if cfg["run"]["name"] not in ("full", "quick"):
        src = os.path.relpath(cfg.get("_source", "configs/multi"), repo_root())
        L += [f"Profile `{cfg['run']['name']}` (`{src}`)." + (f" {cfg['report']['note']}" if cfg.get("report", {}).get("note") else ""), ""]
    if cfg["run"]["name"] == "quick":
        L += [f"> **Smoke run of the `{cfg['run']['name']}` profile** ({d['train']} training images, "
              f"{cfg['train']['steps']} steps): the numbers only show that the pipeline runs end to end; they say "
              "nothing about the method. The full-profile command is in docs/klpnet.md.", ""]
    return L + [f"Generated {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} by `{c.command or 'multi report'}` from "
                f"`{c.out_dir}/*/metrics.json`. Data: {d['train']} training / {d['test']} test images of 1–4 stick "
                f"figures (seeds {d['seeds']}), 128×128; method and metric definitions in "
                "[docs/klpnet.md](../klpnet.md). PCK threshold α = fraction of each figure's keypoint-box diagonal.", ""]


def _s_main(c: Ctx) -> list[str]:
    """The main model: PCK with predicted and oracle identities, links, figures, grouping thresholds."""
    main = c.res.get("main")
    if not main:
        return []
    a, al, g = main["all"], main["alphas"], main["grouping"]
    return [f"## Main model ({main['stages']} stages)", "", "| metric | " + " | ".join(f"α = {x:g}" for x in al) + " |",
            "|---|" + "---|" * len(al),
            "| PCK, predicted identities (grouped instances) | " + " | ".join(_f(a["pck_pred_id"][f"{x:g}"]) for x in al) + " |",
            "| PCK, oracle identities (any detection) | " + " | ".join(_f(a["pck_oracle_id"][f"{x:g}"]) for x in al) + " |",
            "", f"At α = {main['alpha']:g}: link precision {_f(a['link_precision'])}, recall {_f(a['link_recall'])}, "
            f"F1 {_f(a['link_f1'])}; figure accuracy (all 5 keypoints of a figure correct) {_f(a['figure_accuracy'])} "
            f"(figures with all 5 keypoints visible: {_f(a.get('figures_all_visible'))}, of which "
            f"{_f(a.get('figure_accuracy_all_visible'))} are right); with oracle identities (every keypoint of the "
            f"figure has some detection within α: the most any grouping of these detections can reach) "
            f"{_f(a.get('figure_accuracy_oracle_id'))}; detections with the right "
            f"keypoint type {_f(a.get('detection_type_accuracy'))}; "
            f"images with the right number of instances {_f(a['count_accuracy'])}; per image {a['mean_detections']:.1f} "
            f"detections, {a['mean_instances']:.2f} instances, {a['mean_outliers']:.2f} outliers.", "",
            f"Grouping thresholds chosen on the {main['calibration']['images']} validation images "
            f"({main['calibration']['criterion']}): peak {g['peak_threshold']:g}, link "
            f"{g['link_threshold']:g}; learnt link decoder A = σ({g['link_scale']:.3f}·z·z "
            f"{g['link_bias']:+.3f}). Links tried: {_candidates(g)}.{_vote(g)}{_retype(g)}", ""]


def _retype(g: dict) -> str:
    r = g.get("retype")
    return "" if r is None else (" Types decided per figure (`grouping.retype`): every pair of detections is a "
                                 "candidate, and a merge gives the joined figure's detections distinct types of "
                                 f"probability ≥ {r['min_probability']:g} with the largest Σ ln p, so the "
                                 "'detections with the right keypoint type' above (the peak's most probable type) "
                                 "no longer caps the grouping.")


def _vote(g: dict) -> str:
    v = g.get("head_vote")
    return "" if v is None else (f" Head votes (`grouping.head_vote`): link score S = A^(1−w)·exp(−w·d²/(2σ²)) with "
                                 f"σ = {v['sigma']:g}, w = {v['weight']:g} (chosen on the validation images).")


def _candidates(g: dict) -> str:
    pairs = g.get("candidate_links")
    return ("the skeleton's (head to each limb)" if pairs is None
            else f"{len(pairs)} keypoint-type pairs (`grouping.candidate_links`: any two types)")


def _s_levels(c: Ctx) -> list[str]:
    """The main model by occlusion level."""
    main = c.res.get("main")
    if not main:
        return []
    L = ["## By occlusion level (main model, α = %g)" % main["alpha"], "",
         "| level | images | figures | PCK pred-id | PCK oracle-id | pred / oracle | PCK pred-id visible / occluded kp | "
         "type acc | link P | link R | link F1 | figure acc | figure acc oracle-id | all visible (their figure acc) | "
         "count acc |", "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    ak = f"{main['alpha']:g}"
    for lv in LEVELS:
        b = main["by_level"].get(lv)
        if not b:
            continue
        ratio = b["pck_pred_id"][ak] / b["pck_oracle_id"][ak] if b["pck_oracle_id"][ak] else None
        L.append(f"| {lv} | {b['images']} | {b['figures']} | {_f(b['pck_pred_id'][ak])} | "
                 f"{_f(b['pck_oracle_id'][ak])} | {_f(ratio)} | {_f(b['pck_pred_id_visible'])} / "
                 f"{_f(b['pck_pred_id_occluded'])} ({b['occluded_keypoints']}) | "
                 f"{_f(b.get('detection_type_accuracy'))} | {_f(b['link_precision'])} | "
                 f"{_f(b['link_recall'])} | {_f(b['link_f1'])} | {_f(b['figure_accuracy'])} | "
                 f"{_f(b.get('figure_accuracy_oracle_id'))} | "
                 f"{_f(b.get('figures_all_visible'))} ({_f(b.get('figure_accuracy_all_visible'))}) | "
                 f"{_f(b['count_accuracy'])} |")
    return L + ["", "Levels: largest pairwise IoU of the figures' boxes — none (0), slight (≤ 0.15), heavy (> 0.15). "
                "Occluded keypoints (hidden by a later figure) get no training target but are counted here.", ""]


def _s_stages(c: Ctx) -> list[str]:
    """The stage ablation with the models' cost."""
    cfg, res = c.cfg, c.res
    L = ["## Stage ablation", "", "| model | stages | PCK pred-id | PCK oracle-id | link F1 | figure acc | MACs (M) | "
         "FLOPs (M, 2×MACs) | params | s/step | training wall |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, stages in sorted(model_names(cfg).items(), key=lambda x: x[1]):
        r = res.get(name)
        if r is None:
            L.append(f"| {name} | {stages} | not evaluated | | | | | | | | |")
            continue
        a, m, t = r["all"], r["complexity"], r["training"]
        al = f"{r['alpha']:g}"
        L.append(f"| {name} | {stages} | {_f(a['pck_pred_id'][al])} | {_f(a['pck_oracle_id'][al])} | {_f(a['link_f1'])} | "
                 f"{_f(a['figure_accuracy'])} | {m['macs'] / 1e6:.1f} | {m['flops'] / 1e6:.1f} | {m['params']:,} | "
                 f"{t.get('seconds_per_step')} | {t.get('wall_time_s')} s |")
    t0 = next(iter(res.values()))["training"]
    return L + ["", "MACs counted with `metrics/flops.py` (conv, transposed conv, linear; one 128×128 image). "
                f"Training: {_schedule(cfg, t0)} of {cfg['train']['batch_size']} images, Adam lr "
                f"{cfg['train']['lr']}, {t0.get('threads')} thread(s) on {t0['machine'].get('cpu')}. Evaluation "
                "(the grouping grid calibrated on the validation split, then the test split): "
                + ", ".join(f"{n} {r['eval_seconds']} s" for n, r in res.items() if "eval_seconds" in r) + ".", ""]


def _schedule(cfg: dict[str, Any], training: dict[str, Any]) -> str:
    """The step budget, or for a run to the plateau where it stopped and why."""
    if not training.get("plateau"):
        return f"{cfg['train']['steps']} steps"
    p = training["plateau"]
    drops = ", ".join(str(s) for s in p.get("drops", [])) or "none"
    return (f"{training['steps']} steps (at most {cfg['train']['steps']}; learning rate x0.1 at step(s) {drops}; "
            f"{training.get('stop_reason') or 'step budget reached before the plateau'})")


def _s_curve(c: Ctx) -> list[str]:
    """The main model's validation curve during training (``train.val_every``)."""
    rows = (c.res.get("main") or {}).get("training", {}).get("validation") or []
    if not rows:
        return []
    L = ["## Training curve (main model, validation split, config thresholds)", "",
         "| step | PCK pred-id | PCK oracle-id | figure acc | link F1 | type acc |", "|---|---|---|---|---|---|"]
    L += [f"| {r['step']} | {_f(r['pck_pred_id'])} | {_f(r['pck_oracle_id'])} | {_f(r['figure_accuracy'])} | "
          f"{_f(r['link_f1'])} | {_f(r['detection_type_accuracy'])} |" for r in rows]
    return L + [""]


SECTIONS = [_s_title, _s_main, _s_levels, _s_curve, _s_stages]


def write_report(cfg: dict[str, Any], path: Path, command: str = "") -> Path:
    out_dir = Path(cfg["run"]["out_dir"])
    res = {n: m for n in model_names(cfg) if (m := read_json(out_dir / n / "metrics.json")) is not None}
    if not res:
        raise SystemExit(f"no metrics under {out_dir}: run `multi train` and `multi evaluate` first")
    path = write_sections(path, SECTIONS, Ctx(cfg, res, command))
    print(f"[multi] report -> {path}")
    return path
