"""``evaluate``: test-split metrics of the trained models, DARK vs argmax, figures.

Writes ``{run.out_dir}/eval/metrics.json``, ``predictions.npz`` and ``figures/*.png``.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

import numpy as np

from ...core.keypoints import STICK_FIGURE
from ...core.manifest import write_json
from ...data.stick.dataset import load_split
from ...data.stick.splits import CLEAR_TEST, configured_splits, split_paths
from ...engine.predict import predict
from ...engine.run_record import RunRecord
from ...metrics.pck import THRESHOLDS, normalized_errors, summarize
from ...models.flip import FlipTest
from .plan import get_experiment
from .train import load_trained, run_dir


def eval_dir(cfg: dict[str, Any]) -> Path:
    return Path(cfg["run"]["out_dir"]) / "eval"


def evaluate_experiment(cfg: dict[str, Any], name: str, x, gt, *, out_dir: Optional[Path] = None,
                        thresholds: Sequence[float] = THRESHOLDS, trained: Optional[tuple[Any, dict]] = None
                        ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """-> ({method label: metrics}, {method label: keypoints}) for one trained experiment.

    Heatmap models give three methods: ``name`` (the spec's decoder), ``name+argmax`` (the
    other decoder on the same heatmaps) and ``name+flip`` (the spec's decoder on flip-test
    heatmaps, models/flip.py: what an export with ``[export] flip_test`` serves). ``trained``:
    (model, spec) in place of the run's weights (a published graph, published.py)."""
    model, spec = trained or load_trained(cfg, name, out_dir)
    metrics, preds = {}, {}
    if spec["kind"] == "heatmap":
        t0 = time.monotonic()
        raw = predict(model, x, 64, keep_outputs=True)["outputs"]  # one forward, two decoders
        t_fwd = time.monotonic() - t0
        for method in ("dark", "argmax"):
            t0 = time.monotonic()
            p, _ = model.codec.decode(raw, method)
            label = name if method == spec.get("decode", "dark") else f"{name}+{method}"
            metrics[label] = summarize(p, gt, thresholds)
            metrics[label]["decode"] = method
            metrics[label]["inference_s"] = round(t_fwd + time.monotonic() - t0, 2)
            preds[label] = p
        t0 = time.monotonic()
        flipped = FlipTest(model, STICK_FIGURE.num_keypoints, STICK_FIGURE.flip_pairs)
        p = predict(flipped, x, 64)["keypoints"]
        metrics[f"{name}+flip"] = summarize(p, gt, thresholds)
        metrics[f"{name}+flip"]["decode"] = spec.get("decode", "dark") + "+flip"
        metrics[f"{name}+flip"]["inference_s"] = round(time.monotonic() - t0, 2)
        preds[f"{name}+flip"] = p
    else:
        t0 = time.monotonic()
        p = predict(model, x, 64)["keypoints"]
        metrics[name] = summarize(p, gt, thresholds)
        metrics[name]["decode"] = "direct"
        metrics[name]["inference_s"] = round(time.monotonic() - t0, 2)
        preds[name] = p
    return metrics, preds


def failure_categories(hm_pred: np.ndarray, reg_pred: np.ndarray, gt: np.ndarray, threshold: float = 0.05
                       ) -> dict[str, list[int]]:
    """Seed Part E: per image, success = every keypoint within ``threshold`` x bbox diagonal."""
    hm_ok = (normalized_errors(hm_pred, gt) <= threshold).all(axis=1)
    reg_ok = (normalized_errors(reg_pred, gt) <= threshold).all(axis=1)
    return {"heatmap right, regression wrong": np.nonzero(hm_ok & ~reg_ok)[0].tolist(),
            "regression right, heatmap wrong": np.nonzero(~hm_ok & reg_ok)[0].tolist(),
            "both wrong": np.nonzero(~hm_ok & ~reg_ok)[0].tolist()}


def nuisance_breakdown(cfg: dict[str, Any], preds: dict[str, np.ndarray], gt: np.ndarray,
                       threshold: float = 0.05) -> dict[str, Any]:
    """PCK@threshold (bbox) of each method on test subsets by the generator's nuisances (from the
    annotations' per-image ``meta``): where the remaining errors come from."""
    _, ann = split_paths(cfg, "test")
    meta = [r.get("meta", {}) for r in json.loads(ann.read_text())["images"]]
    if len(meta) != len(gt) or not all("distractors" in m and "occlusions" in m for m in meta):
        return {}
    dis = np.array([m["distractors"] for m in meta])
    occ = np.array([m["occlusions"] for m in meta])
    subsets = {f"distractors={d}": dis == d for d in sorted(set(dis.tolist()))}
    subsets |= {f"occlusions={o}": occ == o for o in sorted(set(occ.tolist()))}
    subsets["clean (no distractors, no occlusions)"] = (dis == 0) & (occ == 0)
    out: dict[str, Any] = {}
    for label, p in preds.items():
        ok = normalized_errors(p, gt) <= threshold
        out[label] = {name: {"images": int(mask.sum()),
                             "pck": round(float(ok[mask].mean()), 4) if mask.any() else None}
                      for name, mask in subsets.items()}
    return {"threshold": threshold, "methods": out}


GROSS_FACTOR = 3.0     # an error beyond 3x the PCK threshold is "gross": the peak is on another structure
INK_RADIUS = 2         # px around a point searched for ink
INK_LEVEL = 0.3        # coverage that counts as ink


def _ink_near(mask: np.ndarray, xy: np.ndarray, r: int = INK_RADIUS) -> float:
    h, w = mask.shape
    x, y = int(np.clip(xy[0], 0, w - 1)), int(np.clip(xy[1], 0, h - 1))
    return float(mask[max(y - r, 0):y + r + 1, max(x - r, 0):x + r + 1].max())


def _ink_layers(cfg: dict[str, Any], split: str, gt: np.ndarray) -> Optional[Callable[[int], tuple[np.ndarray, Any]]]:
    """For a generated split: index -> (keypoints, InkLayers) re-rendered from the generator (each
    image is a pure function of (seed, index)), checked against the split's ground truth. None for
    a split that was not generated here (no ink layers to analyse)."""
    from ...data.stick.generator import GeneratorConfig, render_layers

    _, ann = split_paths(cfg, split)
    info = json.loads(ann.read_text()).get("info", {})
    if "generator" not in info or "seed" not in info:
        return None
    seed, g = int(info["seed"]), GeneratorConfig.from_dict(info["generator"])

    def layers(i: int) -> tuple[np.ndarray, Any]:
        _, kpts, _, ink = render_layers(seed, int(i), g)
        if not np.allclose(kpts, gt[i], atol=1e-3):
            raise ValueError(f"{split} image {i} does not match its generator seed; cannot analyse its ink")
        return kpts, ink

    return layers


def error_sources(cfg: dict[str, Any], pred: np.ndarray, gt: np.ndarray, threshold: float = 0.05,
                  split: str = "test") -> dict[str, Any]:
    """Where the failing keypoints of one method go: near misses (<= 3x the threshold) and gross
    errors whose prediction lies on distractor ink, on the figure's own ink (another limb), or on
    neither. Re-renders the test images' ink layers from the generator (each image is a pure
    function of (seed, index)); also counts gross errors whose true keypoint has distractor ink
    within INK_RADIUS px, where a distractor touches the keypoint itself."""
    rendered = _ink_layers(cfg, split, gt)
    if rendered is None:
        return {}  # not a generated split: no ink layers to attribute errors to
    err = normalized_errors(pred, gt)  # bbox-normalised, as PCK
    fail = err > threshold
    gross = err > GROSS_FACTOR * threshold
    names = list(STICK_FIGURE.keypoints)
    counts = {"keypoints": int(err.size), "correct": int((~fail).sum()), "near_miss": int((fail & ~gross).sum()),
              "gross_on_distractor": 0, "gross_on_figure": 0, "gross_elsewhere": 0,
              "gross_with_distractor_at_truth": 0}
    per_kp = {n: {"gross_on_distractor": 0, "gross_on_figure": 0, "gross_elsewhere": 0} for n in names}
    for i in np.nonzero(gross.any(axis=1))[0]:
        _, layers = rendered(i)
        for j in np.nonzero(gross[i])[0]:
            d, f = _ink_near(layers.distractors, pred[i, j]), _ink_near(layers.figure, pred[i, j])
            where = ("gross_on_distractor" if d >= INK_LEVEL and d >= f else
                     "gross_on_figure" if f >= INK_LEVEL else "gross_elsewhere")
            counts[where] += 1
            per_kp[names[j]][where] += 1
            if _ink_near(layers.distractors, gt[i, j]) >= INK_LEVEL:
                counts["gross_with_distractor_at_truth"] += 1
    return {"threshold": threshold, "gross_factor": GROSS_FACTOR, "ink_radius_px": INK_RADIUS, **counts,
            "gross_per_keypoint": per_kp}


def hidden_keypoints(layers: Any, kpts: np.ndarray) -> dict[str, np.ndarray]:
    """Which of one image's keypoints the image does not show unambiguously (bool [K] each):
    ``in_figure``: a hand or foot whose end lies on another of the figure's strokes
    (data/stick/generator.py: ends_on_other_strokes); ``distractor_at_truth``: distractor ink within
    INK_RADIUS px of the keypoint (as in error_sources); ``distractor_on_limb``: distractor ink in
    the keypoint's zone (generator.keypoint_zones: its own end stroke or head circle, widened), a
    stroke that continues or crosses the limb at its end. ``layers`` is the image's InkLayers."""
    from ...data.stick.generator import ends_on_other_strokes, keypoint_zones

    size = layers.distractors.shape[0]
    c = np.arange(size, dtype=np.float64) + 0.5
    py, px = np.meshgrid(c, c, indexing="ij")
    zones = keypoint_zones(layers.pose, layers.head_radius, layers.head_filled, layers.width, px, py)
    foreign = layers.distractors >= INK_LEVEL
    return {"in_figure": ends_on_other_strokes(layers.pose, layers.head_radius, layers.head_filled, layers.width),
            "distractor_at_truth": np.array([_ink_near(layers.distractors, k) >= INK_LEVEL for k in kpts]),
            "distractor_on_limb": np.array([bool(foreign[z].any()) for z in zones])}


def visibility_breakdown(cfg: dict[str, Any], preds: dict[str, np.ndarray], gt: np.ndarray,
                         threshold: float = 0.05, split: str = "test") -> dict[str, Any]:
    """PCK@threshold (bbox) of each method on the keypoints the image shows unambiguously
    (``clear``) and on each kind of :func:`hidden_keypoints` (a keypoint may be of several kinds),
    from the re-rendered generator geometry."""
    from ...data.stick.generator import END_MARGIN_PX, ZONE_MARGIN_PX, ZONE_RADIUS_PX

    rendered = _ink_layers(cfg, split, gt)
    if rendered is None:
        return {}
    masks: dict[str, np.ndarray] = {}
    for i in range(len(gt)):
        kpts, layers = rendered(i)
        for k, v in hidden_keypoints(layers, kpts).items():
            masks.setdefault(k, np.zeros(gt.shape[:2], dtype=bool))[i] = v
    subsets = {"clear": ~np.any(list(masks.values()), axis=0), **masks}
    methods = {}
    for label, pred in preds.items():
        ok = normalized_errors(pred, gt) <= threshold
        methods[label] = {k: round(float(ok[m].mean()), 4) if m.any() else None for k, m in subsets.items()}
    return {"split": split, "threshold": threshold, "end_margin_px": END_MARGIN_PX, "ink_radius_px": INK_RADIUS,
            "zone_margin_px": ZONE_MARGIN_PX, "zone_radius_px": ZONE_RADIUS_PX,
            "keypoints": {k: int(m.sum()) for k, m in subsets.items()},
            "per_keypoint": {k: m.sum(axis=0).tolist() for k, m in subsets.items()}, "methods": methods}


def _evaluate_or_recall(cfg: dict[str, Any], name: str, split: str, x, gt: np.ndarray, thresholds: Sequence[float],
                        log=print) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """evaluate_experiment where the weights are here; its results are then written beside its training log
    (``eval_{split}.json``, ``predictions_{split}.npz``) and kept in the profile's record (``[run] record``,
    engine/run_record.py). Without weights, a run's recorded results are read back instead: its metrics as
    measured, its predictions for the breakdowns and figures."""
    d, record = run_dir(cfg, name), RunRecord(cfg["run"].get("record"))
    if not (d / f"{name}_model.pth").is_file() and record.restore(name, d):
        log(f"{name}: no weights here; its results restored from {record.folder / name}")
    if not (d / f"{name}_model.pth").is_file() and (d / f"eval_{split}.json").is_file():
        with np.load(d / f"predictions_{split}.npz") as saved:
            preds = {label: saved[label] for label in saved.files}
        return json.loads((d / f"eval_{split}.json").read_text()), preds
    metrics, preds = evaluate_experiment(cfg, name, x, gt, thresholds=thresholds)
    write_json(d / f"eval_{split}.json", metrics)
    np.savez_compressed(d / f"predictions_{split}.npz", **preds)
    record.keep(name, d)
    return metrics, preds


def _evaluate_models(cfg: dict[str, Any], names: Sequence[str], x, gt: np.ndarray, thresholds: Sequence[float],
                     log=print, split: str = "test") -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """_evaluate_or_recall for each name on one split -> ({label: metrics}, {label: keypoints})."""
    metrics: dict[str, Any] = {}
    preds: dict[str, np.ndarray] = {}
    prefix = "" if split == "test" else f"{split} "
    for name in names:
        m, p = _evaluate_or_recall(cfg, name, split, x, gt, thresholds, log)
        metrics.update(m)
        preds.update(p)
        for label, mm in m.items():
            log(f"{prefix}{label}: PCK@bbox " + " ".join(f"{k}:{v * 100:.1f}%" for k, v in mm["pck_bbox"].items())
                + f" | AUC {mm['auc_bbox']:.3f} | mean err {mm['mean_pixel_error']:.2f}px")
    return metrics, preds


def attributable(cfg: dict[str, Any], names: Sequence[str], preds: dict[str, np.ndarray]) -> list[str]:
    """The models whose failing keypoints error_sources attributes: the heatmap models and the modern
    coordinate heads, not the seed RegressionNet, whose ~97 % failures sit near the mean pose rather than on
    any stroke (the mean-pose row of the report)."""
    return [k for k in names if k in preds and get_experiment(cfg, k)["kind"] != "regression"]


def evaluate_run(cfg: dict[str, Any], models: Optional[Sequence[str]] = None, figures: bool = True,
                 log=print) -> dict[str, Any]:
    names = list(models or cfg["models"]["run"])
    thresholds = cfg.get("eval", {}).get("thresholds", THRESHOLDS)
    out = eval_dir(cfg)
    out.mkdir(parents=True, exist_ok=True)
    x, _, gt = load_split(cfg, "test")
    all_metrics, preds = _evaluate_models(cfg, names, x, gt, thresholds, log)
    # reference: predict the mean training pose for every image (what a model that ignores the
    # image would score)
    _, train_ann = split_paths(cfg, "train")
    train_kp = np.array([r["keypoints"] for r in json.loads(train_ann.read_text())["images"]], dtype=np.float64)
    mean_pose = np.broadcast_to(train_kp.mean(axis=0), gt.shape)
    all_metrics["mean_pose_baseline"] = summarize(mean_pose, gt, thresholds)
    all_metrics["mean_pose_baseline"]["decode"] = "none"
    result: dict[str, Any] = {"split": "test", "count": int(len(gt)), "metrics": all_metrics,
                              "breakdown": nuisance_breakdown(cfg, preds, gt),
                              "visibility": visibility_breakdown(cfg, preds, gt),
                              "error_sources": {k: error_sources(cfg, preds[k], gt)
                                                for k in attributable(cfg, names, preds)}}
    if CLEAR_TEST in configured_splits(cfg):
        result["clear_test"] = evaluate_clear_split(cfg, names, thresholds, log=log)
    if "heatmap" in preds and "regression" in preds:
        cats = failure_categories(preds["heatmap"], preds["regression"], gt)
        result["failure_cases"] = {k: {"count": len(v), "examples": v[:8]} for k, v in cats.items()}
    write_json(out / "metrics.json", result)
    np.savez_compressed(out / "predictions.npz", gt=gt, **{k.replace("+", "_"): v for k, v in preds.items()})
    if figures:
        make_figures(cfg, x.numpy(), gt, preds, result, log=log)
    return result


def evaluate_clear_split(cfg: dict[str, Any], names: Sequence[str], thresholds: Sequence[float],
                         log=print) -> dict[str, Any]:
    """The same models on the clear-keypoint test split (data/generate.py: CLEAR_TEST): every
    keypoint determinable from the image. Its visibility breakdown checks that the generator kept
    its promise (every keypoint ``clear``)."""
    x, _, gt = load_split(cfg, CLEAR_TEST)
    metrics, preds = _evaluate_models(cfg, names, x, gt, thresholds, log, split=CLEAR_TEST)
    np.savez_compressed(eval_dir(cfg) / f"predictions_{CLEAR_TEST}.npz", gt=gt,
                        **{k.replace("+", "_"): v for k, v in preds.items()})
    return {"split": CLEAR_TEST, "count": int(len(gt)), "metrics": metrics,
            "visibility": visibility_breakdown(cfg, preds, gt, split=CLEAR_TEST),
            "error_sources": {k: error_sources(cfg, preds[k], gt, split=CLEAR_TEST)
                              for k in attributable(cfg, names, preds)}}


def make_figures(cfg: dict[str, Any], images: np.ndarray, gt: np.ndarray, preds: dict[str, np.ndarray],
                 result: dict[str, Any], log=print) -> None:
    from ...engine import figures as F

    fig_dir = eval_dir(cfg) / "figures"
    labels = {"heatmap": "HeatmapNet (DARK)", "heatmap+argmax": "HeatmapNet (argmax)",
              "regression": "RegressionNet"}
    curves = {labels.get(k, k): F.curves_for(v, gt) for k, v in preds.items()}
    F.plot_pck_curves(curves, fig_dir / "pck_curves.png")
    n = int(cfg.get("eval", {}).get("samples", 8))
    idx = list(range(min(n, len(gt))))
    main = {labels.get(k, k): v for k, v in preds.items() if "+" not in k}
    F.plot_sample_predictions(images, gt, main, fig_dir / "sample_predictions.png", idx)
    if "failure_cases" in result:
        cats = {k: v["examples"] for k, v in result["failure_cases"].items()}
        for k in cats:
            cats[k] = cats[k]
        # the full lists (not only 8 examples) for the counts in the row labels
        full = failure_categories(preds["heatmap"], preds["regression"], gt)
        F.plot_failure_cases(images, gt, preds["heatmap"], preds["regression"], full,
                             fig_dir / "failure_cases.png")
    logs = {}
    for name in cfg["models"]["run"]:
        p = run_dir(cfg, name) / "training_log.json"
        if p.is_file():
            logs[name] = json.loads(p.read_text())
    if logs:
        F.plot_training_curves(logs, fig_dir / "training_curves.png")
    snap_dir = run_dir(cfg, "heatmap") / "snapshots"
    if snap_dir.is_dir():
        stages = {int(p.stem.split("_")[1]): np.load(p) for p in sorted(snap_dir.glob("epoch_*.npy"))}
        if stages:
            xv, _, _ = load_split(cfg, "val")
            F.plot_heatmap_stages(xv[0].numpy(), stages, fig_dir / "heatmap_stages.png")
    log(f"figures in {fig_dir}")
