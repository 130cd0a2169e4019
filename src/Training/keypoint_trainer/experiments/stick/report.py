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

from ...core.config import report_path
from ...core.manifest import repo_root
from ...core.provenance import git_commit, machine_info, versions
from ...engine.publish import published_models
from ...engine.report import figure, format_duration, heading, read_json, render
from ...engine.report import row as _row
from .ablate import ablate_dir
from .evaluate import eval_dir
from .plan import get_experiment
from .published import SOURCE_FILE
from .report_analysis import analysis_lines
from .report_labels import (SEED_REPORTED, converged_ablations, coordinate_variants, heatmap_variants,
                            is_seed_network, method_label, pct)
from .train import run_dir


def _metrics_table(rows: list[tuple[str, dict[str, Any]]], thresholds, extra_cols=()) -> list[str]:
    head = (["method"] + [f"PCK@{t:g} bbox" for t in thresholds] + [f"PCK@{t:g} torso" for t in thresholds]
            + ["AUC bbox", "AUC torso", "mean err (px)", "median err (px)"] + [c for c, _ in extra_cols])
    out = [_row(head), _row(["---"] * len(head))]
    for label, m in rows:
        cells = [label] + [pct(m["pck_bbox"].get(f"{t:g}")) for t in thresholds] \
            + [pct(m["pck_torso"].get(f"{t:g}")) for t in thresholds] \
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
    out.append(_row(["keypoints", "count"] + [method_label(k) for k in labels]))
    out.append(_row(["---"] * (len(labels) + 2)))
    for sname, count in vb["keypoints"].items():
        out.append(_row([sname.replace("_", " "), count] + [pct(vis[k][sname]) for k in labels]))
    out.append("")
    return out


def _clear_split_section(ct: dict[str, Any], main: dict[str, Any], heatmap_methods: Sequence[str],
                         thresholds, coordinate_methods: Sequence[str] = ()) -> list[str]:
    """The models on the clear-keypoint test split (data/generate.py: CLEAR_TEST)."""
    ms = ct["metrics"]
    order = [f"{v}{d}" for v in heatmap_methods for d in ("", "+flip")] + ["regression", *coordinate_methods]
    rows = [(method_label(k), ms[k]) for k in order if k in ms]
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
        out.append(_row([f"`{name}`", setting, pct(m["pck_bbox"]["0.05"]), pct(m["pck_bbox"]["0.1"]),
                         pct(m["pck_bbox"]["0.2"]), f"{m['auc_bbox']:.3f}", f"{m['mean_pixel_error']:.2f}",
                         pct(am["pck_bbox"]["0.05"]) if am else "–",
                         f"{am['mean_pixel_error']:.2f}" if am else "–", e["best_epoch"],
                         format_duration(e["wall_time_s"])]))
    return out


STAGES_FIGURE = "heatmap_stages.png"
FIGURES = [("pck_curves.png", "PCK curves (bbox and torso normalisation)"),
           ("training_curves.png", "Training and validation loss"),
           (STAGES_FIGURE, "Predicted heatmaps of one validation image at several training stages"),
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
    def published(self) -> dict[str, dict[str, Any]]:
        """published.json of each run evaluated from its published graph (published.py)."""
        found = {n: read_json(run_dir(self.cfg, n) / SOURCE_FILE) for n in self.cfg["models"]["run"]}
        return {n: p for n, p in found.items() if p}

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
        return [(method_label(k), ms[k]) for k in order if k in ms]


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
    a(f"* Machine: {mi.get('cpu')}, {mi.get('cores')} cores, {mi.get('memory_gib')} GiB, no GPU (from the training "
      "logs; each run's torch threads, wall time and seconds per step are in the training table). The cores were "
      "shared with other builds and trainings during the runs, so wall times are upper bounds of what an idle "
      "machine needs.")
    a(f"* Software: Python {ve.get('python')}, PyTorch {ve.get('torch')} (CPU), NumPy {ve.get('numpy')}, "
      f"ONNX {ve.get('onnx')}. Code: git `{(git_commit() or 'unknown')[:12]}` (at report time).")
    a(f"* Data: synthetic stick figures (`keypoint_trainer/data/generator.py`, parameters in docs/training.md), "
      f"128×128 grayscale, 5 keypoints. Splits: train {d['train']} (seed {d['seeds']['train']}), "
      f"val {d['val']} (seed {d['seeds']['val']}), test {d['test']} (seed {d['seeds']['test']}).")
    a(f"* Training: seed {cfg['run']['seed']}, Adam lr {cfg['train']['lr']}, batch {cfg['train']['batch_size']}, "
      f"{cfg['train']['epochs']} epochs, best checkpoint by validation loss; HeatmapNet: MSE on 64×64 Gaussian "
      f"heatmaps (sigma {cfg.get('codec', {}).get('sigma', 2.0)} cells); RegressionNet: MSE on normalised coordinates.")
    if variants or coordinate_variants(cfg):
        a("* Beyond the seed recipe (`experiments/stick/plan.py`, docs/training.md; validation and test splits are the "
          "same files as for the seed models; `fresh images` = every epoch after the first trains on newly rendered "
          "images from the training seed's generator stream, epoch e on images e·N … (e+1)·N − 1, "
          "`data/stick/fresh.py`):")
        for n in (*variants, *coordinate_variants(cfg)):
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
    if c.published and set(c.published) == set(c.cfg["models"]["run"]):
        return _published_commands(c)
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


def _published_commands(c: Ctx) -> list[str]:
    """A run whose every model was evaluated from its published graph: the commands that trained each one
    (from its manifest), the ones that evaluated the graphs, and the ones that wrote this report."""
    name = c.cfg["run"]["name"]
    L = ["Commands (from the repository root). The models were trained (and exported, published) by:", "", "```"]
    L += [c.published[n].get("training_command") or f"# {n}: no training command in its manifest"
          for n in c.cfg["models"]["run"]]
    L += ["```", "", "and their published graphs evaluated, the converged ablations run and this report written by:",
          "", "```", "export PYTHONPATH=src/Training",
          f"/usr/bin/python3 -m keypoint_trainer generate --config {name}"]
    L += [c.published[n]["command"].replace("PYTHONPATH=src/Training ", "").replace("python3 ", "/usr/bin/python3 ", 1)
          for n in c.cfg["models"]["run"] if c.published[n].get("command")]
    if converged_ablations(c.cfg):
        L.append("/usr/bin/python3 -m keypoint_trainer ablate   --config ablate")
    L += [f"/usr/bin/python3 -m keypoint_trainer evaluate --config {name}",
          f"/usr/bin/python3 -m keypoint_trainer report   --config {name}", "```", ""]
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
            "wall time", "s / step", "torch threads"]))
    a(_row(["---"] * 9))
    for n, lg in logs.items():
        if not lg:
            a(_row([n, "not trained"] + [""] * 7))
            continue
        h = lg["history"]
        images = lg["train_size"]
        if lg["spec"].get("train_data") == "fresh":  # a new set of train_size images every epoch
            images = f"{images} per epoch, {images * len(h):,} distinct"
        a(_row([n, f"{len(h)}/{lg['epochs']}", images, lg["best_epoch"], f"{lg['best_val_loss']:.3g}",
                f"{h[-1]['train_loss']:.3g}", format_duration(lg["wall_time_s"]), lg["seconds_per_step"],
                lg.get("threads", lg.get("machine", {}).get("torch_threads", "–"))]))
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
            a(_row([f"{n} PCK"] + [pct(h[e]["val_pck_bbox_0.05"]) if e in h else "" for e in marks]))
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
                     f"validation PCK@0.05 was still rising when it ended ({pct(h[-6]['val_pck_bbox_0.05'])} % "
                     f"at epoch {h[-6]['epoch']}, {pct(h[-1]['val_pck_bbox_0.05'])} % at epoch {h[-1]['epoch']}) "
                     f"and the validation loss was still falling ({h[-6]['val_loss']:.3g} → {h[-1]['val_loss']:.3g})"
                     ", so the network is under-trained at this budget; the per-keypoint table shows where the "
                     "error is.")
        clean = ev.get("breakdown", {}).get("methods", {}).get("heatmap", {})
        c = clean.get("clean (no distractors, no occlusions)")
        if v < 99.0 and c and c["pck"] is not None:
            worst = min((k for k in clean if k.startswith("distractors=") and clean[k]["pck"] is not None),
                        key=lambda k: clean[k]["pck"], default=None)
            line += (f" On the {c['images']} clean test images (no distractor strokes, no occlusions) it is "
                     f"{pct(c['pck'])} %" + (f"; on the images with {worst.split('=')[1]} distractors "
                                              f"{pct(clean[worst]['pck'])} %" if worst else "")
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
        same = "same network" if is_seed_network(cfg, vname) else "NOT the seed network"
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
        a(_row([label] + [pct(v) for v in m["pck_bbox_per_keypoint"]["0.05"]]))
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
        a(_row(["test subset", "images"] + [method_label(k) for k in labels]))
        a(_row(["---"] * (len(labels) + 2)))
        for sname in subsets:
            a(_row([sname, bd[labels[0]][sname]["images"]] + [pct(bd[k][sname]["pck"]) for k in labels]))
        a("")
    if ev.get("visibility", {}).get("methods"):
        L.extend(_visibility_table(ev["visibility"], table_methods))
    if ev.get("clear_test"):
        L.extend(_clear_split_section(ev["clear_test"], ms, ("heatmap", *variants), thresholds,
                                      coordinate_variants(cfg)))
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
            a(_row([method_label(k), v["keypoints"]] + [v[c] for c in cols]))
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
        if f == STAGES_FIGURE and not (src / f).is_file() and (c.fig_out / f).is_file():
            # drawn from the training run's heatmap snapshots, which a published model does not carry: the
            # copy beside the report stays (`git log` on it names the run)
            L.extend([f"**{cap}** (drawn when the `heatmap` run was trained; its snapshots are not published, so "
                      "this evaluation kept the earlier copy)", "", f"![{cap}]({c.fig_out.name}/{f})", ""])
            continue
        L.extend(figure(src / f, c.fig_out, cap))
    return L


def _s_ablations(c: Ctx) -> list[str]:
    """The ablation tables (their own budget and baselines)."""
    cfg, abl = c.cfg, c.abl
    if converged_ablations(cfg):
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
    L.extend(analysis_lines(c.cfg, c.ev, c.abl, int(c.cfg['train']['epochs']), c.logs))
    return L


def _s_exports(c: Ctx) -> list[str]:
    """The exported models and which of them are published."""
    if c.published:
        return _published_models_section(c)
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


def _published_models_section(c: Ctx) -> list[str]:
    """Where each run's numbers come from: the published graph, checked against its manifest and golden samples."""
    L = heading("Published models: where the numbers come from")
    a = L.append
    a("Every number above comes from the graph that is (or was) served, run in PyTorch by "
      "`evaluate --published` (`experiments/stick/published.py`), after checking its sha256 against its manifest, its "
      "training spec against this profile's and its outputs against the golden samples computed at export time; "
      "the training curves come from the training log published with it.")
    a("")
    a(_row(["run", "published model", "sha256", "golden samples: max abs. difference",
            "test metrics vs manifest: max abs. difference", "evaluated"]))
    a(_row(["---"] * 6))
    for n, p in c.published.items():
        diff = p.get("published_metrics_max_abs_difference")
        a(_row([f"`{n}`", f"`{p['name']}/{p['version']}` (`{p['model_dir']}`)", f"`{p['sha256'][:16]}…`",
                f"{p['golden_samples']}: {p['golden_max_abs_difference']:.2g}",
                "–" if diff is None else f"{diff:.2g}", p.get("evaluated_at", "–")]))
    a("")
    a("A `git:REV:PATH` model is one a later version replaced in the store; its files are read from that commit. "
      "The training commands name the `full` profile, where these experiments were defined when they ran; the "
      "spec check above makes sure this profile's experiment of the same name is the same recipe. A graph that "
      "decodes in the graph with an argmax (SimCC's) can reproduce its golden outputs exactly.")
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
