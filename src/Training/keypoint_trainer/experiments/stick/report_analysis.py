"""The stick-figure report's Analysis section: statements computed from the measured numbers (report.py)."""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from ...models.factory import build_codec
from .plan import get_experiment
from .report_labels import (converged_ablations, coordinate_variants, heatmap_variants, is_seed_network,
                            pct)


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


def same_as_seed(cfg: dict[str, Any], name: str, lg: Optional[dict], blog: Optional[dict]) -> str:
    """What a variant shares with the seed recipe (the loss always; network and step count when true)."""
    same = ["loss"]
    if is_seed_network(cfg, name):
        same.insert(0, "network")
    if lg and blog and lg["epochs"] * lg["steps_per_epoch"] == blog["epochs"] * blog["steps_per_epoch"]:
        same.append("number of steps")
    return "same " + ", ".join(same[:-1]) + " and " + same[-1] if len(same) > 1 else "same " + same[0]


def variant_lines(cfg: dict[str, Any], ms: dict[str, Any], logs: dict[str, Any],
                   sources: Optional[dict[str, Any]] = None) -> list[str]:
    """Seed recipe vs the beyond-seed HeatmapNet recipes, from metrics, training logs and (when
    given) the error sources of each method."""
    sources = sources or {}
    out = []
    base, blog = ms.get("heatmap"), logs.get("heatmap")
    for n in (v for v in heatmap_variants(cfg) if v in ms and base):
        m, lg = ms[n], logs.get(n)
        line = (f"* **`{n}` vs the seed recipe** ({same_as_seed(cfg, n, lg, blog)}): PCK@0.05 "
                f"{pct(m['pck_bbox']['0.05'])} % vs {pct(base['pck_bbox']['0.05'])} % "
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
                   f"{pct(ms[a]['pck_bbox']['0.05'])} % vs {pct(ms[b]['pck_bbox']['0.05'])} %; validation loss at "
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
                              + ": " + "/".join(pct(h[e]["val_pck_bbox_0.05"]) for e in marks) + " %")
            out.append(f"* **`{a}` vs `{b}`** ({what}): test PCK@0.05 {pct(ms[a]['pck_bbox']['0.05'])} % vs "
                       f"{pct(ms[b]['pck_bbox']['0.05'])} %, mean error {ms[a]['mean_pixel_error']:.2f} vs "
                       f"{ms[b]['mean_pixel_error']:.2f} px; validation PCK@0.05 of " + "; ".join(series)
                       + (f"; best validation loss {logs[a]['best_val_loss']:.3g} (epoch {logs[a]['best_epoch']}) vs "
                          f"{logs[b]['best_val_loss']:.3g} (epoch {logs[b]['best_epoch']})" if logs[a]["best_epoch"]
                          and logs[b]["best_epoch"] else "")
                       + (f"; failing test keypoints: {_failures(sources[a])} vs {_failures(sources[b])}."
                          if sources.get(a) and sources.get(b) else "."))
    return out


def _gross(es: dict[str, Any]) -> int:
    return es["gross_on_distractor"] + es["gross_on_figure"] + es["gross_elsewhere"]


def _failures(es: dict[str, Any]) -> str:
    return f"{es['near_miss']} near misses + {_gross(es)} gross"


def _ablation_lines(abl: dict[str, Any]) -> list[str]:
    """The best setting of each ablation group, within its own budget."""
    out: list[str] = []
    out.append(f"* **Ablations** ({abl['epochs']} epochs, {abl['train_subset']} training images): read them as "
               "differences in how fast each setting learns within that budget, not as converged accuracy.")
    groups = [("resolution", ["hm_res32", "heatmap", "hm_res128"]),
              ("sigma", ["hm_sigma1", "heatmap", "hm_sigma3", "hm_sigma4"]),
              ("skip connections", ["heatmap", "hm_noskip"]),
              ("direct-coordinate variants", ["soft_argmax", "regression", "regression_nodrop", "regression_l1"])]
    for group, names in groups:
        b = _best(abl, names)
        ran = [n for n in names if _get(abl, n) is not None]
        if not b:
            continue
        missing = [n for n in names if n not in ran]
        out.append(f"  * {group}: best PCK@0.05 `{b[0]}` ({pct(b[1])} %, {b[2]:.2f} px) among "
                   + ", ".join(f"`{n}` {pct(_get(abl, n))} %" for n in ran)
                   + (f"; not run: {', '.join(missing)}" if missing else "") + ".")
    return out


def analysis_lines(cfg: dict[str, Any], ev: Optional[dict], abl: Optional[dict], epochs: int = 30,
                   logs: Optional[dict[str, Any]] = None) -> list[str]:
    """Statements computed from the numbers above (no hand-written results)."""
    out: list[str] = []
    logs = logs or {}
    if ev:
        ms = ev["metrics"]
        out.extend(variant_lines(cfg, ms, logs, ev.get("error_sources")))
        out.extend(regression_lines(ms, logs, epochs))
        baseline = ((abl or {}).get("experiments", {}).get("heatmap", {}).get("metrics", {}).get("heatmap")
                    if converged_ablations(cfg) else None)
        out.extend(coordinate_head_lines(cfg, ms, logs, ev.get("breakdown", {}).get("methods", {}),
                                         ev.get("error_sources", {}), (abl, baseline)))
        out.extend(_heatmap_detail_lines(ms))
    if abl and not converged_ablations(cfg):
        out.extend(_ablation_lines(abl))
    out.append("")
    return out


def regression_lines(ms: dict[str, Any], logs: dict[str, Any], epochs: int) -> list[str]:
    """The seed HeatmapNet against the seed RegressionNet, and whether the regression run had levelled off."""
    if "heatmap" not in ms or "regression" not in ms:
        return []
    h, r, mp = ms["heatmap"], ms["regression"], ms.get("mean_pose_baseline")
    better = "better" if h["auc_bbox"] > r["auc_bbox"] else "worse"
    line = (f"* **Heatmaps vs the seed's direct regression.** After the same {epochs} epochs, HeatmapNet is {better} "
            f"than RegressionNet: PCK@0.05 {pct(h['pck_bbox']['0.05'])} % vs {pct(r['pck_bbox']['0.05'])} %, "
            f"PCK@0.2 {pct(h['pck_bbox']['0.2'])} % vs {pct(r['pck_bbox']['0.2'])} %, mean error "
            f"{h['mean_pixel_error']:.2f} px vs {r['mean_pixel_error']:.2f} px."
            + (f" Predicting the mean training pose for every image gives PCK@0.05 {pct(mp['pck_bbox']['0.05'])} %, "
               f"PCK@0.2 {pct(mp['pck_bbox']['0.2'])} % and {mp['mean_pixel_error']:.2f} px." if mp else ""))
    hist = (logs.get("regression") or {}).get("history") or []
    if len(hist) >= 4:
        mid, last = hist[len(hist) // 2 - 1], hist[-1]
        change = last["val_loss"] / mid["val_loss"] - 1
        line += (f" Its validation loss was {mid['val_loss']:.3g} at epoch {mid['epoch']} and {last['val_loss']:.3g} "
                 f"at epoch {last['epoch']} ({change * 100:+.1f} %), validation PCK@0.05 {pct(mid['val_pck_bbox_0.05'])}"
                 f" → {pct(last['val_pck_bbox_0.05'])} %: "
                 + ("the run had levelled off, so more epochs of this recipe would not close the gap."
                    if abs(change) < 0.05 else "it was still changing when the run ended."))
    return [line]


def _steps(lg: Optional[dict[str, Any]]) -> str:
    return f"{len(lg['history']) * lg['steps_per_epoch']:,} steps" if lg and lg.get("history") else "steps unknown"


def _within(c: dict[str, Any], h: dict[str, Any]) -> bool:
    return (h["pck_bbox"]["0.05"] - c["pck_bbox"]["0.05"]) * 100 <= 1


def _versus(c: dict[str, Any], h: dict[str, Any]) -> str:
    """How far PCK@0.05 ``c`` is from ``h``, against the 1-point goal of issue 18."""
    gap = (h["pck_bbox"]["0.05"] - c["pck_bbox"]["0.05"]) * 100
    where = f"{abs(gap):.1f} points {'behind' if gap > 0 else 'ahead'}"
    return where + (" — within 1 point" if _within(c, h) else " — not within 1 point")


def coordinate_head_lines(cfg: dict[str, Any], ms: dict[str, Any], logs: Optional[dict[str, Any]] = None,
                          breakdown: Optional[dict[str, Any]] = None, sources: Optional[dict[str, Any]] = None,
                          converged: tuple[Optional[dict], Optional[dict]] = (None, None)) -> list[str]:
    """Each modern coordinate head (SimCC) against the heatmap models: issue 18's goal, where each wins,
    what the distractors do, and what the head changes against the seed RegressionNet. ``converged``: the
    converged ablations' results and their baseline's metrics (the seed HeatmapNet on SimCC's recipe)."""
    logs, breakdown, sources = logs or {}, breakdown or {}, sources or {}
    out: list[str] = []
    for n in (v for v in coordinate_variants(cfg) if v in ms and "heatmap" in ms):
        out.append(_goal_line(cfg, n, ms, logs, converged))
        out.append(_precision_line(cfg, n, ms[n], ms["heatmap"], sources))
        out.extend(_distractor_lines(n, breakdown))
        if "regression" in ms:
            out.append(_head_line(n, ms))
    return out


def _goal_line(cfg: dict[str, Any], n: str, ms: dict[str, Any], logs: dict[str, Any],
               converged: tuple[Optional[dict], Optional[dict]]) -> str:
    c = ms[n]
    best = max((h for h in ("heatmap", *heatmap_variants(cfg)) if h in ms), key=lambda h: ms[h]["pck_bbox"]["0.05"])
    line = (f"* **A modern coordinate head against HeatmapNet** (issue 18's goal: within 1 point of HeatmapNet's "
            f"PCK@0.05). `{n}` ({get_experiment(cfg, n)['description']}; {_steps(logs.get(n))}): PCK@0.05 "
            f"{pct(c['pck_bbox']['0.05'])} %, mean error {c['mean_pixel_error']:.2f} px. Against the seed HeatmapNet "
            f"`heatmap` ({_steps(logs.get('heatmap'))}; {pct(ms['heatmap']['pck_bbox']['0.05'])} %): "
            f"{_versus(c, ms['heatmap'])}.")
    if best != "heatmap":
        h = ms[best]
        line += (f" Against the best heatmap model `{best}` ({'the seed network' if is_seed_network(cfg, best) else 'not the seed network'}"
                 f", {_steps(logs.get(best))}; {pct(h['pck_bbox']['0.05'])} % / {h['mean_pixel_error']:.2f} px): "
                 f"{_versus(c, h)}.")
        if _within(c, ms["heatmap"]) and not _within(c, h):
            line += (f" The goal is therefore met against the seed HeatmapNet at a comparable step count and not "
                     f"against `{best}`, which differs in network and steps; no SimCC head was trained on that "
                     "network at that budget, so these runs cannot say whether the remaining gap is the head's or "
                     "the budget's.")
    abl, base = converged
    if base:
        line += (f" Against the seed HeatmapNet trained on SimCC's recipe (fresh images, step decay; the converged "
                 f"ablations' baseline, {abl['epochs']} epochs, the same test images; {pct(base['pck_bbox']['0.05'])} %): {_versus(c, base)}.")
    return line


def _precision_line(cfg: dict[str, Any], n: str, c: dict[str, Any], h: dict[str, Any],
                    sources: dict[str, Any]) -> str:
    """Tight vs loose thresholds: where the heatmap and the coordinate head each come out ahead."""
    ts = sorted(c["pck_bbox"], key=float)
    heat_ahead = [t for t in ts if h["pck_bbox"][t] > c["pck_bbox"][t]]
    head_ahead = [t for t in ts if c["pck_bbox"][t] > h["pck_bbox"][t]]
    line = (f"* **Where each is ahead** (`{n}` vs `heatmap`, PCK bbox at {'/'.join(ts)}: "
            + "/".join(pct(c["pck_bbox"][t]) for t in ts) + " vs " + "/".join(pct(h["pck_bbox"][t]) for t in ts)
            + f" %; median error {c['median_pixel_error']:.2f} vs {h['median_pixel_error']:.2f} px, mean "
            f"{c['mean_pixel_error']:.2f} vs {h['mean_pixel_error']:.2f} px). The heatmap is ahead at PCK@"
            + (", ".join(heat_ahead) or "none") + f", `{n}` at PCK@" + (", ".join(head_ahead) or "none")
            + f"; {100 - c['pck_bbox'][ts[-1]] * 100:.1f} % of `{n}`'s keypoints are farther than {ts[-1]} × the "
            f"bbox diagonal, {100 - h['pck_bbox'][ts[-1]] * 100:.1f} % of the heatmap's.")
    codec = build_codec(get_experiment(cfg, n))
    ratio = getattr(codec, "split_ratio", None)
    if ratio and c["median_pixel_error"] > h["median_pixel_error"]:
        line += (f" `{n}`'s bins are {1 / ratio:g} px wide, so rounding to a bin explains at most "
                 f"{0.5 / ratio * 2 ** 0.5:.2f} px of its {c['median_pixel_error']:.2f} px median: the coarser "
                 "placement comes from the classifier's spread (trained on Gaussians of "
                 f"{codec.sigma / ratio:g} px), where DARK refines a 2-pixel-grid heatmap peak to sub-pixel.")
    if n in sources and "heatmap" in sources:
        sc, sh = sources[n], sources["heatmap"]
        line += f" Failing keypoints at 0.05: `{n}` {_failures(sc)}, `heatmap` {_failures(sh)}."
        if sc["near_miss"] > sh["near_miss"] and _gross(sc) < _gross(sh):
            line += (f" So the coordinate head fails by imprecision, the heatmap by choosing the wrong stroke "
                     f"({sh['gross_on_distractor']} of its gross errors on distractor ink, against "
                     f"{sc['gross_on_distractor']}). A reading consistent with this (the counts show the pattern, not "
                     "the mechanism): the heatmap scores every cell and its highest peak wins, so a distractor's end "
                     "that looks like a hand can take the keypoint, while SimCC's fully connected layer reads the "
                     "whole 8×8 bottleneck before it places a keypoint, and averages between candidates instead.")
    return line


def _distractor_lines(n: str, breakdown: dict[str, Any]) -> list[str]:
    """PCK@0.05 with no and with the most distractor strokes, the coordinate head against HeatmapNet."""
    if n not in breakdown or "heatmap" not in breakdown:
        return []
    keys = sorted((k for k in breakdown[n] if k.startswith("distractors=")), key=lambda k: int(k.split("=")[1]))
    if len(keys) < 2:
        return []
    lo, hi = keys[0], keys[-1]

    def drop(m: str) -> float:
        return (breakdown[m][lo]["pck"] - breakdown[m][hi]["pck"]) * 100

    return [f"* **Distractor strokes**: from {lo.split('=')[1]} to {hi.split('=')[1]} distractors PCK@0.05 falls "
            f"{drop(n):.1f} points for `{n}` ({pct(breakdown[n][lo]['pck'])} → {pct(breakdown[n][hi]['pck'])} %) "
            f"and {drop('heatmap'):.1f} for `heatmap` ({pct(breakdown['heatmap'][lo]['pck'])} → "
            f"{pct(breakdown['heatmap'][hi]['pck'])} %)"
            + (": the strokes drawn in the figure's own ink cost the coordinate head more at the tight threshold."
               if drop(n) > drop("heatmap") else ".")]


def _head_line(n: str, ms: dict[str, Any]) -> str:
    """The coordinate head and the seed RegressionNet share the encoder (models/encoder.py); only the head differs."""
    c, r, h = ms[n], ms["regression"], ms["heatmap"]
    seed_gap = (h["pck_bbox"]["0.05"] - r["pck_bbox"]["0.05"]) * 100
    closed = (c["pck_bbox"]["0.05"] - r["pck_bbox"]["0.05"]) * 100
    return (f"* **Why the seed regression fails and `{n}` does not.** Both put a head on the same encoder "
            f"(`models/encoder.py`): PCK@0.05 {pct(r['pck_bbox']['0.05'])} % → {pct(c['pck_bbox']['0.05'])} %"
            + (f", {closed / seed_gap * 100:.0f} % of the seed regression's gap to the seed HeatmapNet"
               if seed_gap > 0 else "") + ". The encoder's features therefore hold the positions; the seed head "
            "loses them. It pools the 8×8 bottleneck to one vector per channel (global average pooling) and must "
            "re-encode absolute positions through three fully connected layers with dropout 0.5 and a sigmoid; an "
            "MSE-trained head that cannot localise is pulled towards the mean pose (its errors are of the order of "
            "the mean-pose row's). "
            "The SimCC head keeps the layout (a 1×1 convolution, then a flatten of the 8×8 maps per keypoint) and "
            "classifies x and y over sub-pixel bins, as HeatmapNet classifies cells — so the seed report's "
            "\"heatmaps are fundamentally superior\" holds against its pooled regression head, not against "
            "coordinate prediction as such.")


def _heatmap_detail_lines(ms: dict[str, Any]) -> list[str]:
    """Per-keypoint difficulty and the decoder, for the seed HeatmapNet."""
    h = ms.get("heatmap")
    if not h:
        return []
    out: list[str] = []
    kn = h.get("keypoints", [])
    per = h["pck_bbox_per_keypoint"]["0.05"]
    if kn:
        lo, hi = int(np.argmin(per)), int(np.argmax(per))
        out.append(f"* **Per keypoint** (HeatmapNet, PCK@0.05): easiest `{kn[hi]}` {pct(per[hi])} %, hardest "
                   f"`{kn[lo]}` {pct(per[lo])} % (all: " + ", ".join(f"{k} {pct(x)}" for k, x in zip(kn, per))
                   + "). The hands sit at the end of thin two-segment arms with the widest pose range and "
                   "compete with distractor strokes; the head is a large, unique circle.")
    ha = ms.get("heatmap+argmax")
    if ha:
        out.append(
            f"* **Decoding** the same heatmaps: argmax {pct(ha['pck_bbox']['0.05'])} % PCK@0.05 / "
            f"{ha['mean_pixel_error']:.2f} px, DARK {pct(h['pck_bbox']['0.05'])} % / "
            f"{h['mean_pixel_error']:.2f} px. Argmax is quantised to 2-pixel cells (up to 1.41 px error for a "
            "perfect heatmap); DARK refines the peak with one Newton step on the log-heatmap, which is exact for "
            "a Gaussian-shaped peak and matters most when the network is already close (small errors).")
    return out
