"""``report``: docs/results/stick-figures.md (+ figures) from a run's outputs, as a list of sections
(engine/report.py).

Everything in the report is read from the run directory (training logs, eval/metrics.json,
ablate/results.json, export manifests); nothing is typed in by hand. Missing parts are
reported as missing. Each ``_s_*`` function below is one section; :data:`SECTIONS` is their order.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np

from ...core.config import report_path
from ...core.manifest import repo_root
from ...core.provenance import git_commit, machine_info, versions
from ...engine.publish import published_models
from ...engine.report import figure, format_duration, heading, read_json, render
from ...engine.report import row as _row
from .ablate import ablate_dir
from .evaluate import eval_dir
from .plan import get_experiment
from .train import run_dir

SEED_REPORTED = {"HeatmapNet": [98.9, 100.0, 100.0, 100.0], "RegressionNet": [3.9, 14.6, 29.1, 43.4]}
# short table labels; "+argmax" and "+flip" rows derive theirs (see _label)
LABELS = {"heatmap": "HeatmapNet + DARK",
          "heatmap_fresh": "HeatmapNet + fresh images, DARK",
          "heatmap_fresh_cosine": "HeatmapNet + fresh images + cosine lr, DARK",
          "heatmap_fresh_90": "HeatmapNet + fresh images, 90 epochs, DARK",
          "heatmap_fresh_90_step": "HeatmapNet + fresh images, 90 epochs, step lr decay, DARK",
          "heatmap_fresh_context": "HeatmapNet + context blocks (not seed) + fresh images, DARK",
          "heatmap_fresh_context_45_step": "HeatmapNet + context blocks (not seed) + fresh images, 45 epochs, "
                                           "step lr decay, DARK",
          "heatmap_fresh_context_60_step": "HeatmapNet + context blocks (not seed) + fresh images, 60 epochs, "
                                           "step lr decay, DARK",
          "regression": "RegressionNet (seed: dropout 0.5, MSE)",
          "simcc_fresh_32_step": "SimCC head on the seed encoder + fresh images, 32 epochs, step lr decay",
          "mean_pose_baseline": "reference: mean training pose (ignores the image)"}


def heatmap_variants(cfg: dict[str, Any]) -> list[str]:
    """The heatmap experiments of ``models.run`` beyond the seed's ``heatmap``, in config order."""
    return [n for n in cfg["models"]["run"] if n != "heatmap" and get_experiment(cfg, n)["kind"] == "heatmap"]


def coordinate_variants(cfg: dict[str, Any]) -> list[str]:
    """The modern coordinate heads of ``models.run`` (SimCC), in config order."""
    return [n for n in cfg["models"]["run"] if get_experiment(cfg, n)["kind"] == "simcc"]


def _is_seed_network(cfg: dict[str, Any], name: str) -> bool:
    """False for architecture variants (context blocks); training-recipe variants keep the seed network."""
    return not get_experiment(cfg, name).get("context")


def _label(key: str) -> str:
    """Table label of a metrics key: ``NAME+argmax`` swaps NAME's decoder, ``NAME+flip`` adds the flip test."""
    base, _, suffix = key.partition("+")
    if base not in LABELS or not suffix:
        return LABELS.get(key, key)
    if suffix == "argmax":
        return LABELS[base].replace("DARK", "argmax")
    return LABELS[base] + (" + flip test" if suffix == "flip" else f" + {suffix}")


def _pct(v: Optional[float]) -> str:
    return "–" if v is None else f"{v * 100:.1f}"


def _metrics_table(rows: list[tuple[str, dict[str, Any]]], thresholds, extra_cols=()) -> list[str]:
    head = (["method"] + [f"PCK@{t:g} bbox" for t in thresholds] + [f"PCK@{t:g} torso" for t in thresholds]
            + ["AUC bbox", "AUC torso", "mean err (px)", "median err (px)"] + [c for c, _ in extra_cols])
    out = [_row(head), _row(["---"] * len(head))]
    for label, m in rows:
        cells = [label] + [_pct(m["pck_bbox"].get(f"{t:g}")) for t in thresholds] \
            + [_pct(m["pck_torso"].get(f"{t:g}")) for t in thresholds] \
            + [f"{m['auc_bbox']:.3f}", f"{m['auc_torso']:.3f}", f"{m['mean_pixel_error']:.2f}",
               f"{m['median_pixel_error']:.2f}"] + [fn(label, m) for _, fn in extra_cols]
        out.append(_row(cells))
    return out


def _visibility_table(vb: dict[str, Any], methods: Sequence[str]) -> list[str]:
    """PCK by whether the image shows the keypoint unambiguously (experiments/stick/evaluate.py: hidden_keypoints)."""
    vis = vb["methods"]
    labels = [k for k in methods if k in vis]
    out = [f"PCK@{vb['threshold']:g} (bbox, %) by whether the image shows the keypoint unambiguously "
           "(`experiments/stick/evaluate.py: hidden_keypoints`, from the re-rendered generator geometry): *in figure* is a "
           f"hand or foot whose end lies on another of the figure's strokes (within the stroke width + "
           f"{vb['end_margin_px']:g} px: an arm folded over the torso or back onto itself, a hand on the head), so "
           f"the end of the limb cannot be seen; *distractor at truth* has distractor ink within "
           f"{vb['ink_radius_px']} px of the keypoint; *distractor on limb* has distractor ink on the keypoint's own "
           f"end stroke (forearm, shin; the head: its circle; widened by {vb['zone_margin_px']:g} px) or within "
           f"{vb['zone_radius_px']:g} px of it, a stroke in the figure's ink that continues or crosses the limb at its "
           "end; *clear* is none of them (a keypoint may be of several kinds). All come from the generator's arm "
           "and elbow ranges and its distractor strokes (docs/training.md); the seed does not describe its own "
           "data, so whether its figures had them is unknown.", ""]
    out.append(_row(["keypoints", "count"] + [_label(k) for k in labels]))
    out.append(_row(["---"] * (len(labels) + 2)))
    for sname, count in vb["keypoints"].items():
        out.append(_row([sname.replace("_", " "), count] + [_pct(vis[k][sname]) for k in labels]))
    out.append("")
    return out


def _clear_split_section(ct: dict[str, Any], main: dict[str, Any], heatmap_methods: Sequence[str],
                         thresholds) -> list[str]:
    """The models on the clear-keypoint test split (data/generate.py: CLEAR_TEST)."""
    ms = ct["metrics"]
    order = [f"{v}{d}" for v in heatmap_methods for d in ("", "+flip")] + ["regression"]
    rows = [(_label(k), ms[k]) for k in order if k in ms]
    kp = ct.get("visibility", {}).get("keypoints", {})
    n_kp = ct["count"] * len(next(iter(ms.values()))["keypoints"])
    out = ["### Clear-keypoint test split", "",
           f"The same models (trained on the main generator, nothing retrained) on a second test split of "
           f"{ct['count']} images from the same generator with `clear_keypoints` on (`[data] test_clear`, its own "
           "seed): every pose is drawn again until no hand or foot end lies on another stroke (checked at the "
           "widest stroke and a filled head), and a distractor stroke that would put ink in a keypoint's zone is "
           "drawn again; all other nuisances (distractor count, occlusions, noise, blur, contrast) are unchanged. "
           + (f"Re-checked by the evaluation: {kp.get('clear', 0)} of {n_kp} keypoints clear." if kp else ""), ""]
    out.extend(_metrics_table(rows, thresholds))
    out.append("")
    pairs = [(k, main[k]["pck_bbox"]["0.05"] * 100, ms[k]["pck_bbox"]["0.05"] * 100)
             for k in order if k in ms and k in main]
    out.append("PCK@0.05 (bbox) on the main test split → on the clear-keypoint split: "
               + "; ".join(f"`{k}` {on_main:.2f} → {on_clear:.2f} % ({'≥' if on_clear >= 99.0 else '<'} 99 %)"
                           for k, on_main, on_clear in pairs) + ".")
    out.append("")
    es = {k: v for k, v in ct.get("error_sources", {}).items() if v}
    if es:
        out.append("Failing keypoints on the clear split (near misses, gross errors on distractor ink / on the "
                   "figure / elsewhere): " + "; ".join(
                       f"`{k}` {v['near_miss']} near, {v['gross_on_distractor']} / {v['gross_on_figure']} / "
                       f"{v['gross_elsewhere']} gross" for k, v in es.items()) + ".")
        out.append("")
    return out


def _ablation_table(res: dict[str, Any], names: list[tuple[str, str]]) -> list[str]:
    head = ["experiment", "setting", "PCK@0.05 bbox", "PCK@0.1 bbox", "PCK@0.2 bbox", "AUC bbox",
            "mean err (px)", "argmax PCK@0.05", "argmax mean err (px)", "best epoch", "train time"]
    out = [_row(head), _row(["---"] * len(head))]
    for name, setting in names:
        e = res["experiments"].get(name)
        if not e:
            out.append(_row([f"`{name}`", setting] + ["not run"] + [""] * (len(head) - 3)))
            continue
        m = e["metrics"][name]
        am = e["metrics"].get(f"{name}+argmax")
        out.append(_row([f"`{name}`", setting, _pct(m["pck_bbox"]["0.05"]), _pct(m["pck_bbox"]["0.1"]),
                         _pct(m["pck_bbox"]["0.2"]), f"{m['auc_bbox']:.3f}", f"{m['mean_pixel_error']:.2f}",
                         _pct(am["pck_bbox"]["0.05"]) if am else "–",
                         f"{am['mean_pixel_error']:.2f}" if am else "–", e["best_epoch"],
                         format_duration(e["wall_time_s"])]))
    return out


FIGURES = [("pck_curves.png", "PCK curves (bbox and torso normalisation)"),
           ("training_curves.png", "Training and validation loss"),
           ("heatmap_stages.png", "Predicted heatmaps of one validation image at several training stages"),
           ("sample_predictions.png", "Sample test predictions"),
           ("failure_cases.png", "Failure cases in the seed's three categories")]


@dataclass
class Ctx:
    """What the sections read: the config and the run directory's files."""
    cfg: dict[str, Any]
    out: Path

    @property
    def run(self) -> Path:
        return Path(self.cfg["run"]["out_dir"])

    @property
    def fig_out(self) -> Path:
        return self.out.parent / self.out.stem

    @cached_property
    def thresholds(self) -> list[float]:
        return [float(t) for t in self.cfg.get("eval", {}).get("thresholds", [0.05, 0.1, 0.15, 0.2])]

    @cached_property
    def ev(self) -> Optional[dict[str, Any]]:
        return read_json(eval_dir(self.cfg) / "metrics.json")

    @cached_property
    def logs(self) -> dict[str, Optional[dict[str, Any]]]:
        return {n: read_json(run_dir(self.cfg, n) / "training_log.json") for n in self.cfg["models"]["run"]}

    @cached_property
    def abl(self) -> Optional[dict[str, Any]]:
        return read_json(ablate_dir(self.cfg) / "results.json")

    @cached_property
    def variants(self) -> list[str]:
        return heatmap_variants(self.cfg)

    @cached_property
    def rows(self) -> list[tuple[str, dict[str, Any]]]:
        """The test table's rows: every heatmap recipe with its decoders and flip test, then the rest."""
        ms = self.ev["metrics"]
        order = [f"{v}{d}" for v in ("heatmap", *self.variants) for d in ("", "+argmax", "+flip")] \
            + ["regression", *coordinate_variants(self.cfg), "mean_pose_baseline"]
        return [(_label(k), ms[k]) for k in order if k in ms]


def _s_title(c: Ctx) -> list[str]:
    """Title and where the report comes from."""
    cfg, run = c.cfg, c.run
    L: list[str] = []
    a = L.append
    a("# Stick-figure keypoints: HeatmapNet vs RegressionNet")
    a("")
    a(f"_Generated by `python3 -m keypoint_trainer report --config {cfg['run']['name']}` on "
      f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} from `{run}`; do not edit by hand._")
    a("")
    return L


def _s_setup(c: Ctx) -> list[str]:
    """Machine, software, data, training recipe and the variants beyond the seed."""
    cfg, logs, d, variants = c.cfg, c.logs, c.cfg["data"], c.variants
    L: list[str] = []
    a = L.append
    mi = next((lg["machine"] for lg in logs.values() if lg), machine_info())
    ve = next((lg["versions"] for lg in logs.values() if lg), versions())
    a("## Set-up")
    a("")
    a(f"* Machine: {mi.get('cpu')}, {mi.get('cores')} cores, {mi.get('memory_gib')} GiB, no GPU; "
      f"torch threads {mi.get('torch_threads')}. The cores were shared with other builds and "
      "trainings during the run (see the commands section), so wall times are upper bounds of what an idle machine needs "
      "(idle: ~1.1 s per HeatmapNet step, ~0.36 s per RegressionNet step of 32 images).")
    a(f"* Software: Python {ve.get('python')}, PyTorch {ve.get('torch')} (CPU), NumPy {ve.get('numpy')}, "
      f"ONNX {ve.get('onnx')}. Code: git `{(git_commit() or 'unknown')[:12]}` (at report time).")
    a(f"* Data: synthetic stick figures (`keypoint_trainer/data/generator.py`, parameters in docs/training.md), "
      f"128×128 grayscale, 5 keypoints. Splits: train {d['train']} (seed {d['seeds']['train']}), "
      f"val {d['val']} (seed {d['seeds']['val']}), test {d['test']} (seed {d['seeds']['test']}).")
    a(f"* Training: seed {cfg['run']['seed']}, Adam lr {cfg['train']['lr']}, batch {cfg['train']['batch_size']}, "
      f"{cfg['train']['epochs']} epochs, best checkpoint by validation loss; HeatmapNet: MSE on 64×64 Gaussian "
      f"heatmaps (sigma {cfg.get('codec', {}).get('sigma', 2.0)} cells); RegressionNet: MSE on normalised coordinates.")
    if variants:
        a("* Beyond the seed recipe (`experiments/stick/plan.py`, docs/training.md; validation and test splits are the "
          "same files as for the seed models; `fresh images` = every epoch after the first trains on newly rendered "
          "images from the training seed's generator stream, epoch e on images e·N … (e+1)·N − 1, "
          "`data/stick/fresh.py`):")
        for n in variants:
            spec = get_experiment(cfg, n)
            planned, lg = spec.get("epochs", cfg["train"]["epochs"]), logs.get(n)
            done = len(lg["history"]) if lg else 0
            stopped = f" (stopped after {done}, resumable)" if lg and not lg.get("completed") else ""
            a(f"  * `{n}`: {spec['description']}; {planned} epochs planned{stopped}.")
    a("* Metrics on the **test** split: PCK normalised by the diagonal of the ground-truth keypoints' bounding "
      "box (`bbox`) and by the torso length (`torso` = distance from the head to the midpoint of the two feet); "
      "AUC = area under the PCK curve over thresholds 0–0.2 divided by 0.2; errors in pixels of the 128×128 input.")
    a("")
    return L


def _s_commands(c: Ctx) -> list[str]:
    """The commands that reproduce the run."""
    cfg, run = c.cfg, c.run
    L: list[str] = []
    a = L.append
    a("Commands (from the repository root):")
    a("")
    a("```")
    a("export PYTHONPATH=src/Training")
    a(f"/usr/bin/python3 -m keypoint_trainer generate --config {cfg['run']['name']}")
    a(f"/usr/bin/python3 -m keypoint_trainer train    --config {cfg['run']['name']}   # "
      + ", ".join(cfg["models"]["run"]))
    a(f"/usr/bin/python3 -m keypoint_trainer evaluate --config {cfg['run']['name']}")
    a(f"/usr/bin/python3 -m keypoint_trainer ablate   --config {cfg['run']['name']}")
    for n in cfg["models"]["run"]:
        a(f"/usr/bin/python3 -m keypoint_trainer export   --config {cfg['run']['name']} --model {n} --out {run}/export/{n}")
    for n in published_models(cfg):
        a(f"/usr/bin/python3 -m keypoint_trainer publish  --export {run}/export/{n} --store models")
    a(f"/usr/bin/python3 -m keypoint_trainer report   --config {cfg['run']['name']}")
    a("```")
    a("")
    return L


def _s_launchers(c: Ctx) -> list[str]:
    """How the run was actually executed (launcher scripts in the run directory)."""
    run = c.run
    L: list[str] = []
    a = L.append
    scripts = sorted(run.glob("*.sh"))
    if scripts:
        a("How this run was actually executed (the launcher scripts in the run directory, each started with "
          "`nohup`; the `ablate --only` processes ran side by side with disjoint experiment lists):")
        a("")
        a("```")
        for sc in scripts:
            cmds = [ln.strip() for ln in sc.read_text().splitlines()
                    if ln.strip() and not ln.startswith(("#", "cd ", "export ", "date ", "rc=", "set ", "done_", "for ",
                                                         "done", "while "))]
            comment = next((ln[1:].strip() for ln in sc.read_text().splitlines()[1:] if ln.startswith("#")), "")
            a(f"# {sc.name}: {comment}")
            for c in cmds:
                a(f"  {c}")
        for lg in sorted(run.glob("ablate_p*.log")):
            first = lg.read_text().splitlines()[:1]
            if first:
                a(f"# {lg.stem}: run_ablate2.sh {first[0].split(' ', 2)[-1]}")
        a("```")
        a("")
    return L


def _s_training(c: Ctx) -> list[str]:
    """Training runs: epochs, best epoch, losses, times; validation during training."""
    logs = c.logs
    L = heading("Training runs")
    a = L.append
    a(_row(["model", "epochs", "train images", "best epoch", "best val loss", "final train loss",
            "wall time", "s / step"]))
    a(_row(["---"] * 8))
    for n, lg in logs.items():
        if not lg:
            a(_row([n, "not trained"] + [""] * 6))
            continue
        h = lg["history"]
        images = lg["train_size"]
        if lg["spec"].get("train_data") == "fresh":  # a new set of train_size images every epoch
            images = f"{images} per epoch, {images * len(h):,} distinct"
        a(_row([n, f"{len(h)}/{lg['epochs']}", images, lg["best_epoch"], f"{lg['best_val_loss']:.3g}",
                f"{h[-1]['train_loss']:.3g}", format_duration(lg["wall_time_s"]), lg["seconds_per_step"]]))
    present_logs = [lg for lg in logs.values() if lg]
    total = sum(lg["wall_time_s"] for lg in present_logs)
    a("")
    a(f"Total wall time of the {len(present_logs)} full runs: {format_duration(total)} (runs that overlapped in time "
      "shared the two cores). Steps per run = epochs × ceil(train images / 32).")
    a("")
    a("Validation PCK@0.05 (bbox, %) and loss during training:")
    a("")
    present = {n: lg for n, lg in logs.items() if lg}
    if present:
        n_ep = max(len(lg["history"]) for lg in present.values())
        marks = sorted(({1, 2, 5, 10, 15, 20, 25, 30, n_ep} | set(range(45, n_ep, 15))) & set(range(1, n_ep + 1)))
        a(_row(["epoch"] + [str(e) for e in marks]))
        a(_row(["---"] * (len(marks) + 1)))
        for n, lg in present.items():
            h = {x["epoch"]: x for x in lg["history"]}
            a(_row([f"{n} PCK"] + [_pct(h[e]["val_pck_bbox_0.05"]) if e in h else "" for e in marks]))
            a(_row([f"{n} val loss"] + [f"{h[e]['val_loss']:.3g}" if e in h else "" for e in marks]))
        a("")
    return L


def _s_test_table(c: Ctx) -> list[str]:
    """Test results: the main metrics table."""
    ev = c.ev
    L = heading("Test results")
    a = L.append
    if not ev:
        a("_No evaluation found (run `evaluate`)._")
    else:
        L.extend(_metrics_table(c.rows, c.thresholds))
        a("")
        a(f"PCK values in %, {ev['count']} test images × 5 keypoints.")
        a("")
    return L


def _s_target(c: Ctx) -> list[str]:
    """The seed model against the 99 % target, and why it misses it when it does."""
    if not c.ev or "heatmap" not in c.ev["metrics"]:
        return []
    ev, ms, logs = c.ev, c.ev["metrics"], c.logs
    L: list[str] = []
    a = L.append
    if "heatmap" in ms:
        v = ms["heatmap"]["pck_bbox"]["0.05"] * 100
        line = (f"**Target** HeatmapNet PCK@0.05 (bbox) ≥ 99 %: measured {v:.2f} % — "
                f"{'met' if v >= 99.0 else 'NOT met'}.")
        lg = logs.get("heatmap")
        if (v < 99.0 and lg and len(lg["history"]) >= 6
                and lg["history"][-1]["val_pck_bbox_0.05"] > lg["history"][-6]["val_pck_bbox_0.05"]
                and lg["history"][-1]["val_loss"] < 0.97 * lg["history"][-6]["val_loss"]):
            h = lg["history"]
            steps = lg["steps_per_epoch"] * len(h)
            line += (f" The run had {steps} optimisation steps ({len(h)} epochs × {lg['steps_per_epoch']}); "
                     f"validation PCK@0.05 was still rising when it ended ({_pct(h[-6]['val_pck_bbox_0.05'])} % "
                     f"at epoch {h[-6]['epoch']}, {_pct(h[-1]['val_pck_bbox_0.05'])} % at epoch {h[-1]['epoch']}) "
                     f"and the validation loss was still falling ({h[-6]['val_loss']:.3g} → {h[-1]['val_loss']:.3g})"
                     ", so the network is under-trained at this budget; the per-keypoint table shows where the "
                     "error is.")
        clean = ev.get("breakdown", {}).get("methods", {}).get("heatmap", {})
        c = clean.get("clean (no distractors, no occlusions)")
        if v < 99.0 and c and c["pck"] is not None:
            worst = min((k for k in clean if k.startswith("distractors=") and clean[k]["pck"] is not None),
                        key=lambda k: clean[k]["pck"], default=None)
            line += (f" On the {c['images']} clean test images (no distractor strokes, no occlusions) it is "
                     f"{_pct(c['pck'])} %" + (f"; on the images with {worst.split('=')[1]} distractors "
                                              f"{_pct(clean[worst]['pck'])} %" if worst else "")
                     + " (breakdown below)"
                     + (": the distractor strokes, drawn in the figure's own ink, account for much of the "
                        "remaining error." if c["pck"] * 100 - v >= 2.0 else "."))
        on_clear = ev.get("clear_test", {}).get("metrics", {}).get("heatmap")
        if on_clear:
            line += f" On the clear-keypoint test split (below): {on_clear['pck_bbox']['0.05'] * 100:.2f} %."
        a(line)
        a("")
    return L


def _s_variant_targets(c: Ctx) -> list[str]:
    """The beyond-seed recipes and the flip test against the target; the seed's numbers."""
    if not c.ev:
        return []
    cfg, ev, ms, variants = c.cfg, c.ev, c.ev["metrics"], c.variants
    L: list[str] = []
    a = L.append
    for vname in (n for n in variants if n in ms):
        v2 = ms[vname]["pck_bbox"]["0.05"] * 100
        same = "same network" if _is_seed_network(cfg, vname) else "NOT the seed network"
        seen = ev.get("visibility", {}).get("methods", {}).get(vname, {}).get("clear")
        on_clear = ev.get("clear_test", {}).get("metrics", {}).get(vname)
        a(f"**Target** with a beyond-seed recipe (`{vname}`, {same}): measured "
          f"{v2:.2f} % — {'met' if v2 >= 99.0 else 'NOT met'}"
          + (f" (on the {ev['visibility']['keypoints']['clear']} test keypoints the image shows "
             f"unambiguously, {seen * 100:.2f} %)" if seen is not None else "")
          + (f"; on the clear-keypoint test split (below) {on_clear['pck_bbox']['0.05'] * 100:.2f} %"
             if on_clear else "") + ".")
        a("")
    flips = [(k, ms[f"{k}+flip"]["pck_bbox"]["0.05"] * 100) for k in ("heatmap", *variants)
             if f"{k}+flip" in ms]
    if flips:
        a("With test-time flip averaging (the mean of the heatmaps of the image and of its mirror image with "
          "left/right channels swapped, `models/flip.py`; twice the inference cost): "
          + "; ".join(f"`{k}` {v:.2f} % — {'met' if v >= 99.0 else 'NOT met'}" for k, v in flips) + ".")
        a("")
    a("The seed report's numbers (its own data, bbox PCK at 0.05/0.1/0.15/0.2): HeatmapNet "
      f"{' / '.join(map(str, SEED_REPORTED['HeatmapNet']))} %, RegressionNet "
      f"{' / '.join(map(str, SEED_REPORTED['RegressionNet']))} %.")
    a("")
    return L


def _s_per_keypoint(c: Ctx) -> list[str]:
    """Per-keypoint PCK and pixel error."""
    if not c.ev:
        return []
    ms, rows = c.ev["metrics"], c.rows
    L: list[str] = []
    a = L.append
    a("Per-keypoint PCK@0.05 (bbox), %:")
    a("")
    kn = ms[next(iter(ms))]["keypoints"]
    a(_row(["method"] + kn))
    a(_row(["---"] * (len(kn) + 1)))
    for label, m in rows:
        a(_row([label] + [_pct(v) for v in m["pck_bbox_per_keypoint"]["0.05"]]))
    a("")
    a("Mean pixel error per keypoint:")
    a("")
    a(_row(["method"] + kn))
    a(_row(["---"] * (len(kn) + 1)))
    for label, m in rows:
        a(_row([label] + [f"{v:.2f}" for v in m["mean_pixel_error_per_keypoint"]]))
    a("")
    return L


def _s_subsets(c: Ctx) -> list[str]:
    """PCK by the generator's nuisances, by keypoint visibility, and on the clear-keypoint split."""
    if not c.ev:
        return []
    cfg, ev, ms, variants, thresholds = c.cfg, c.ev, c.ev["metrics"], c.variants, c.thresholds
    L: list[str] = []
    a = L.append
    # the subset tables' columns: the seed models, the variants and any flip test that is served
    served_flip = [f"{n}+flip" for n in cfg.get("export", {}).get("flip_test", [])]
    table_methods = ("heatmap", *variants, *served_flip, "regression", *coordinate_variants(cfg))
    bd = ev.get("breakdown", {}).get("methods") or {}
    labels = [k for k in table_methods if k in bd]
    if labels:
        subsets = list(bd[labels[0]].keys())
        a(f"PCK@{ev['breakdown']['threshold']:g} (bbox, %) by the generator's nuisances (test images grouped by "
          "the per-image metadata in annotations.json):")
        a("")
        a(_row(["test subset", "images"] + [_label(k) for k in labels]))
        a(_row(["---"] * (len(labels) + 2)))
        for sname in subsets:
            a(_row([sname, bd[labels[0]][sname]["images"]] + [_pct(bd[k][sname]["pck"]) for k in labels]))
        a("")
    if ev.get("visibility", {}).get("methods"):
        L.extend(_visibility_table(ev["visibility"], table_methods))
    if ev.get("clear_test"):
        L.extend(_clear_split_section(ev["clear_test"], ms, ("heatmap", *variants), thresholds))
    return L


def _s_errors(c: Ctx) -> list[str]:
    """Where the failing keypoints go, and the seed's failure categories."""
    if not c.ev:
        return []
    ev = c.ev
    L: list[str] = []
    a = L.append
    es = {k: v for k, v in ev.get("error_sources", {}).items() if v}
    if es:
        a(f"Where the keypoints farther than 0.05 × bbox diagonal go (`experiments/stick/evaluate.py: error_sources`): a "
          f"*near miss* is within {next(iter(es.values()))['gross_factor']:g}× that threshold; a *gross* error's "
          f"prediction lies on distractor ink, on the figure's own ink (another limb) or on neither (ink within "
          f"{next(iter(es.values()))['ink_radius_px']} px, re-rendered from the generator). The last column counts "
          "gross errors where a distractor stroke touches the true keypoint itself.")
        a("")
        cols = ["correct", "near_miss", "gross_on_distractor", "gross_on_figure", "gross_elsewhere",
                "gross_with_distractor_at_truth"]
        a(_row(["method", "keypoints"] + [c.replace("_", " ") for c in cols]))
        a(_row(["---"] * (len(cols) + 2)))
        for k, v in es.items():
            a(_row([_label(k), v["keypoints"]] + [v[c] for c in cols]))
        a("")
    if "failure_cases" in ev:
        a("Failure cases (an image fails when any of its keypoints is farther than 0.05 × bbox diagonal):")
        a("")
        a(_row(["category", "images", "examples (test index)"]))
        a(_row(["---"] * 3))
        for k, v in ev["failure_cases"].items():
            a(_row([k, v["count"], ", ".join(map(str, v["examples"])) or "–"]))
        a("")
    return L


def _s_figures(c: Ctx) -> list[str]:
    """The evaluation's figures, copied next to the report."""
    L = heading("Figures")
    src = eval_dir(c.cfg) / "figures"
    for f, cap in FIGURES:
        L.extend(figure(src / f, c.fig_out, cap))
    return L


def _s_ablations(c: Ctx) -> list[str]:
    """The ablation tables (their own budget and baselines)."""
    cfg, abl = c.cfg, c.abl
    if _converged_ablations(cfg):
        return _converged_ablation_section(cfg, abl)
    L = heading("Ablations and variants")
    a = L.append
    if not abl:
        a("_No ablation results found (run `ablate`)._")
    else:
        a(f"All ablations were **actually run**, on the same splits, but with a reduced budget so that they fit the "
          f"machine: **{abl['epochs']} epochs on the first {abl['train_subset']} training images** (val {abl['val']}, "
          f"test {abl['test']} — the full splits), seed {abl['seed']}. Each table includes the seed model retrained "
          f"at that same budget (`heatmap`, `regression`) as its baseline; the numbers are therefore lower than the "
          f"30-epoch results above and must be compared within the tables only. Command: "
          f"`python3 -m keypoint_trainer ablate --config {cfg['run']['name']}`"
          + ". Train time per experiment is in the tables (its wall time while sharing the machine).")
        a("")
        a("### Heatmap resolution (sigma scaled to keep 4 input pixels)")
        a("")
        L.extend(_ablation_table(abl, [("hm_res32", "32×32, sigma 1"), ("heatmap", "64×64, sigma 2"),
                                       ("hm_res128", "128×128, sigma 4")]))
        a("")
        a("### Gaussian sigma (64×64)")
        a("")
        L.extend(_ablation_table(abl, [("hm_sigma1", "sigma 1"), ("heatmap", "sigma 2"), ("hm_sigma3", "sigma 3"),
                                       ("hm_sigma4", "sigma 4")]))
        a("")
        a("### Skip connections")
        a("")
        L.extend(_ablation_table(abl, [("heatmap", "with skips (seed)"), ("hm_noskip", "without skips")]))
        a("")
        a("### Soft-argmax and stronger regression baselines")
        a("")
        L.extend(_ablation_table(abl, [("heatmap", "HeatmapNet, MSE heatmaps + DARK"),
                                       ("soft_argmax", "HeatmapNet + soft-argmax, L1 on coordinates"),
                                       ("regression", "RegressionNet (seed): dropout 0.5, MSE"),
                                       ("regression_nodrop", "RegressionNet, no dropout, MSE"),
                                       ("regression_l1", "RegressionNet, no dropout, L1")]))
        a("")
        a("The `argmax` columns decode the same heatmaps without DARK refinement (integer cell centres), "
          "which isolates the decoder from the network.")
        a("")
    return L


def _converged_ablations(cfg: dict[str, Any]) -> bool:
    """True where the profile's ablations ran at a converged budget (the ``served`` profile reads the
    ``ablate`` profile's runs): their tables then replace the 5-epoch learning-speed ones."""
    return bool(cfg.get("report", {}).get("converged_ablations"))


def _converged_ablation_section(cfg: dict[str, Any], abl: Optional[dict[str, Any]]) -> list[str]:
    from .ablation_report import converged_summary

    L = heading("Ablations at a converged baseline")
    if not abl:
        return L + ["_No ablation results found (run `ablate --config ablate`)._", ""]
    L.append(f"Every row trained with one recipe at a budget where the baseline passes 90 % PCK@0.05: "
             f"{abl['epochs']} epochs on {abl['train_subset']} training images per epoch (`[ablate.spec]` of the "
             f"profile), seed {abl['seed']}, from `{ablate_dir(cfg)}`; validation curves and wall times in "
             f"[stick-ablations.md](stick-ablations.md) (`ablate-report --config ablate`).")
    return L + [""] + [ln.replace("## ", "### ", 1) if ln.startswith("## ") else ln for ln in converged_summary(cfg)]


def _s_analysis(c: Ctx) -> list[str]:
    """Statements computed from the numbers above."""
    L = heading("Analysis")
    L.extend(_analysis(c.cfg, c.ev, c.abl, int(c.cfg['train']['epochs']), c.logs))
    return L


def _s_exports(c: Ctx) -> list[str]:
    """The exported models and which of them are published."""
    cfg, run, logs = c.cfg, c.run, c.logs
    L = heading("Exported models")
    a = L.append
    for n in cfg["models"]["run"]:
        man = read_json(run / "export" / n / "manifest.json")
        if man:
            where = (f"published to `models/{man['name']}/<version>/` with `golden.json`" if n in published_models(cfg)
                     else "not published (a better export of the same task is)")
            if man.get("training", {}).get("flip_test"):
                where += "; the graph includes the test-time flip averaging"
            lg = logs.get(n)
            val = f", best validation loss {lg['best_val_loss']:.3g}" if lg and lg.get("best_val_loss") else ""
            a(f"* `{n}`: ONNX opset 17, input `{man['input']['name']}` [N, 1, 128, 128] (raw/255), output "
              f"`{next(iter(man['outputs'].values()))['name']}`, decoding `{man['decoding']['method']}`, "
              f"sha256 `{man['sha256']}`{val}; {where}.")
        else:
            a(f"* `{n}`: not exported yet.")
    a("")
    a("Which export is published is set in the config (`[export] publish`, `[export] flip_test`); of several "
      "experiments of one task, the one with the lowest validation loss is published (validation, not test, "
      "numbers decide).")
    a("")
    return L


SECTIONS = [_s_title, _s_setup, _s_commands, _s_launchers, _s_training, _s_test_table, _s_target,
            _s_variant_targets, _s_per_keypoint, _s_subsets, _s_errors, _s_figures, _s_ablations, _s_analysis,
            _s_exports]


def write_report(cfg: dict[str, Any], out: Optional[Path] = None, log=print) -> Path:
    """The report at ``out``, else at the profile's ``[report] path`` (core.config.report_path)."""
    out = Path(out) if out else repo_root() / report_path(cfg)
    ctx = Ctx(cfg, out)
    ctx.fig_out.mkdir(parents=True, exist_ok=True)
    out.write_text(render(SECTIONS, ctx), encoding="utf-8")
    log(f"report: {out}")
    return out


def _get(abl, name, label=None, key="pck_bbox", t="0.05"):
    try:
        m = abl["experiments"][name]["metrics"][label or name]
        return m[key][t] if t is not None else m[key]
    except (KeyError, TypeError):
        return None


def _best(abl, names):
    vals = [(n, _get(abl, n), _get(abl, n, key="mean_pixel_error", t=None)) for n in names]
    vals = [v for v in vals if v[1] is not None]
    if not vals:
        return None
    return max(vals, key=lambda v: (v[1], -v[2]))


def _same_as_seed(cfg: dict[str, Any], name: str, lg: Optional[dict], blog: Optional[dict]) -> str:
    """What a variant shares with the seed recipe (the loss always; network and step count when true)."""
    same = ["loss"]
    if _is_seed_network(cfg, name):
        same.insert(0, "network")
    if lg and blog and lg["epochs"] * lg["steps_per_epoch"] == blog["epochs"] * blog["steps_per_epoch"]:
        same.append("number of steps")
    return "same " + ", ".join(same[:-1]) + " and " + same[-1] if len(same) > 1 else "same " + same[0]


def _variant_lines(cfg: dict[str, Any], ms: dict[str, Any], logs: dict[str, Any],
                   sources: Optional[dict[str, Any]] = None) -> list[str]:
    """Seed recipe vs the beyond-seed HeatmapNet recipes, from metrics, training logs and (when
    given) the error sources of each method."""
    sources = sources or {}
    out = []
    base, blog = ms.get("heatmap"), logs.get("heatmap")
    for n in (v for v in heatmap_variants(cfg) if v in ms and base):
        m, lg = ms[n], logs.get(n)
        line = (f"* **`{n}` vs the seed recipe** ({_same_as_seed(cfg, n, lg, blog)}): PCK@0.05 "
                f"{_pct(m['pck_bbox']['0.05'])} % vs {_pct(base['pck_bbox']['0.05'])} % "
                f"({(m['pck_bbox']['0.05'] - base['pck_bbox']['0.05']) * 100:+.1f} points), mean error "
                f"{m['mean_pixel_error']:.2f} px vs {base['mean_pixel_error']:.2f} px.")
        if lg and blog and lg["history"] and blog["history"]:
            h, b = lg["history"][-1], blog["history"][-1]
            line += (f" At the last epoch: train loss (average over the epoch) {h['train_loss']:.3g} vs "
                     f"{b['train_loss']:.3g}, validation loss {h['val_loss']:.3g} vs {b['val_loss']:.3g} (the seed run's train/val ratio "
                     f"{b['train_loss'] / b['val_loss']:.2f}, this run's {h['train_loss'] / h['val_loss']:.2f}: "
                     "below 1 means the training images are fitted better than unseen ones).")
        out.append(line)
    a, b = "heatmap_fresh_cosine", "heatmap_fresh"  # differ only in the learning-rate schedule
    if a in ms and b in ms and logs.get(a) and logs.get(b):
        ha = {h["epoch"]: h["val_loss"] for h in logs[a]["history"]}
        hb = {h["epoch"]: h["val_loss"] for h in logs[b]["history"]}
        marks = [e for e in (10, 20, 30) if e in ha and e in hb]
        worse = ms[a]["pck_bbox"]["0.05"] < ms[b]["pck_bbox"]["0.05"]
        out.append(f"* **Cosine vs constant learning rate** (both on fresh images): PCK@0.05 "
                   f"{_pct(ms[a]['pck_bbox']['0.05'])} % vs {_pct(ms[b]['pck_bbox']['0.05'])} %; validation loss at "
                   "epochs " + "/".join(map(str, marks)) + ": " + "/".join(f"{ha[e]:.3g}" for e in marks) + " vs "
                   + "/".join(f"{hb[e]:.3g}" for e in marks) + "."
                   + (" The cosine schedule halves the rate by mid-run, while the constant-rate run was still "
                      "improving at its end: at this step budget the decay slows learning more than it refines "
                      "the peaks." if worse else ""))
    # pairs that differ in one thing: (variant, reference, what differs, validation epochs to show)
    drops = get_experiment(cfg, "heatmap_fresh_90_step")["lr_milestones"]
    for a, b, what, shown in (
            ("heatmap_fresh_90", "heatmap_fresh", "longer training, otherwise identical; epochs 1-30 are the "
             "same steps", (10, 20, 30, 45, 60)),
            ("heatmap_fresh_context", "heatmap_fresh", "context blocks vs the seed network, otherwise identical",
             (10, 20, 30, 45, 60)),
            ("heatmap_fresh_90_step", "heatmap_fresh_90", f"learning rate x0.1 after epochs "
             f"{' and '.join(map(str, drops))} vs constant, otherwise identical; epochs 1-{drops[0]} are the same "
             "steps", (60, *drops, 80))):
        if a in ms and b in ms and logs.get(a) and logs.get(b):
            series = []
            for n in (a, b):
                h = {x["epoch"]: x for x in logs[n]["history"]}
                marks = sorted((set(shown) | {len(h)}) & set(h))
                series.append(f"`{n}` ({len(h)} of {logs[n]['epochs']} epochs) at epochs " + "/".join(map(str, marks))
                              + ": " + "/".join(_pct(h[e]["val_pck_bbox_0.05"]) for e in marks) + " %")
            out.append(f"* **`{a}` vs `{b}`** ({what}): test PCK@0.05 {_pct(ms[a]['pck_bbox']['0.05'])} % vs "
                       f"{_pct(ms[b]['pck_bbox']['0.05'])} %, mean error {ms[a]['mean_pixel_error']:.2f} vs "
                       f"{ms[b]['mean_pixel_error']:.2f} px; validation PCK@0.05 of " + "; ".join(series)
                       + (f"; best validation loss {logs[a]['best_val_loss']:.3g} (epoch {logs[a]['best_epoch']}) vs "
                          f"{logs[b]['best_val_loss']:.3g} (epoch {logs[b]['best_epoch']})" if logs[a]["best_epoch"]
                          and logs[b]["best_epoch"] else "")
                       + (f"; failing test keypoints: {_failures(sources[a])} vs {_failures(sources[b])}."
                          if sources.get(a) and sources.get(b) else "."))
    return out


def _failures(es: dict[str, Any]) -> str:
    gross = es["gross_on_distractor"] + es["gross_on_figure"] + es["gross_elsewhere"]
    return f"{es['near_miss']} near misses + {gross} gross"


def _ablation_lines(abl: dict[str, Any]) -> list[str]:
    """The best setting of each ablation group, within its own budget."""
    out: list[str] = []
    out.append(f"* **Ablations** ({abl['epochs']} epochs, {abl['train_subset']} training images): read them as "
               "differences in how fast each setting learns within that budget, not as converged accuracy.")
    groups = [("resolution", ["hm_res32", "heatmap", "hm_res128"]),
              ("sigma", ["hm_sigma1", "heatmap", "hm_sigma3", "hm_sigma4"]),
              ("skip connections", ["heatmap", "hm_noskip"]),
              ("direct-coordinate variants", ["soft_argmax", "regression", "regression_nodrop", "regression_l1"])]
    for label, names in groups:
        b = _best(abl, names)
        ran = [n for n in names if _get(abl, n) is not None]
        if not b:
            continue
        missing = [n for n in names if n not in ran]
        out.append(f"  * {label}: best PCK@0.05 `{b[0]}` ({_pct(b[1])} %, {b[2]:.2f} px) among "
                   + ", ".join(f"`{n}` {_pct(_get(abl, n))} %" for n in ran)
                   + (f"; not run: {', '.join(missing)}" if missing else "") + ".")
    return out


def _analysis(cfg: dict[str, Any], ev: Optional[dict], abl: Optional[dict], epochs: int = 30,
              logs: Optional[dict[str, Any]] = None) -> list[str]:
    """Statements computed from the numbers above (no hand-written results)."""
    out: list[str] = []
    if ev:
        out.extend(_variant_lines(cfg, ev["metrics"], logs or {}, ev.get("error_sources")))
    if ev and "heatmap" in ev["metrics"] and "regression" in ev["metrics"]:
        ms = ev["metrics"]
        h, r = ms["heatmap"], ms["regression"]
        mp = ms.get("mean_pose_baseline")
        better = "better" if h["auc_bbox"] > r["auc_bbox"] else "worse"
        out.append(
            f"* **Heatmaps vs direct regression.** After the same {epochs} epochs, HeatmapNet is {better} than "
            f"RegressionNet: PCK@0.05 {_pct(h['pck_bbox']['0.05'])} % vs {_pct(r['pck_bbox']['0.05'])} %, "
            f"PCK@0.2 {_pct(h['pck_bbox']['0.2'])} % vs {_pct(r['pck_bbox']['0.2'])} %, mean error "
            f"{h['mean_pixel_error']:.2f} px vs {r['mean_pixel_error']:.2f} px."
            + (f" Predicting the mean training pose for every image gives PCK@0.05 {_pct(mp['pck_bbox']['0.05'])} %, "
               f"PCK@0.2 {_pct(mp['pck_bbox']['0.2'])} % and {mp['mean_pixel_error']:.2f} px." if mp else ""))
        if better == "better":
            out.append(
            "  Why: the heatmap network stays fully convolutional — each output cell is computed from a local "
            "receptive field by translation-equivariant filters (plus the skip connections' fine features), so "
            "localisation is a local detection problem and every training image teaches every position. The "
            "regression head discards the layout with global average pooling and must re-encode absolute "
            "positions through 256 pooled channels and three FC layers; with dropout 0.5 in a 128/64-unit head "
            "and a sigmoid output, an MSE-trained head is pulled towards the mean pose (compare it with the "
            "mean-pose row).")
        kn = h.get("keypoints", [])
        per = h["pck_bbox_per_keypoint"]["0.05"]
        if kn:
            lo, hi = int(np.argmin(per)), int(np.argmax(per))
            out.append(f"* **Per keypoint** (HeatmapNet, PCK@0.05): easiest `{kn[hi]}` {_pct(per[hi])} %, hardest "
                       f"`{kn[lo]}` {_pct(per[lo])} % (all: " + ", ".join(f"{k} {_pct(x)}" for k, x in zip(kn, per))
                       + "). The hands sit at the end of thin two-segment arms with the widest pose range and "
                       "compete with distractor strokes; the head is a large, unique circle.")
        ha = ms.get("heatmap+argmax")
        if ha:
            out.append(
                f"* **Decoding** the same heatmaps: argmax {_pct(ha['pck_bbox']['0.05'])} % PCK@0.05 / "
                f"{ha['mean_pixel_error']:.2f} px, DARK {_pct(h['pck_bbox']['0.05'])} % / "
                f"{h['mean_pixel_error']:.2f} px. Argmax is quantised to 2-pixel cells (up to 1.41 px error for a "
                "perfect heatmap); DARK refines the peak with one Newton step on the log-heatmap, which is exact for "
                "a Gaussian-shaped peak and matters most when the network is already close (small errors).")
    if ev:
        out.extend(_coordinate_head_lines(cfg, ev["metrics"]))
    if abl and not _converged_ablations(cfg):
        out.extend(_ablation_lines(abl))
    out.append("")
    return out


def _coordinate_head_lines(cfg: dict[str, Any], ms: dict[str, Any]) -> list[str]:
    """A modern coordinate head against the best heatmap model and the seed regression, all at their budgets."""
    heat = [n for n in ("heatmap", *heatmap_variants(cfg)) if n in ms]
    out: list[str] = []
    for n in (v for v in coordinate_variants(cfg) if v in ms and heat):
        best = max(heat, key=lambda h: ms[h]["pck_bbox"]["0.05"])
        c, h = ms[n], ms[best]
        gap = (h["pck_bbox"]["0.05"] - c["pck_bbox"]["0.05"]) * 100
        verdict = ("within 1 point of the heatmaps" if abs(gap) <= 1 else
                   f"{gap:.1f} points behind the heatmaps" if gap > 0 else f"{-gap:.1f} points ahead of the heatmaps")
        line = (f"* **Heatmaps vs a modern coordinate head.** `{n}` ({get_experiment(cfg, n)['description']}): "
                f"PCK@0.05 {_pct(c['pck_bbox']['0.05'])} %, mean error {c['mean_pixel_error']:.2f} px, against "
                f"`{best}` {_pct(h['pck_bbox']['0.05'])} % / {h['mean_pixel_error']:.2f} px: {verdict}.")
        seed_gap = (h["pck_bbox"]["0.05"] - ms["regression"]["pck_bbox"]["0.05"]) * 100 if "regression" in ms else 0
        if seed_gap > 0:
            line += (f" The seed RegressionNet is {seed_gap:.1f} points behind; SimCC closes "
                     f"{(1 - gap / seed_gap) * 100:.0f} % of that gap. Unlike the seed head, which pools the layout "
                     "away, it keeps it along each axis (a classification over sub-pixel bins of x and of y from the "
                     "encoder's features).")
        out.append(line)
    return out
