"""Figures (PNG, matplotlib Agg): PCK curves, heatmaps over training, predictions, failures."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..core.keypoints import STICK_FIGURE, Skeleton  # noqa: E402
from ..metrics.pck import pck_curve  # noqa: E402


def _save(fig, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path


def plot_pck_curves(curves: dict[str, tuple[np.ndarray, np.ndarray]] | Any, save_path: Path,
                    pck_regression: Any = None, title: str = "") -> Path:
    """Seed signature ``plot_pck_curves(pck_heatmap, pck_regression, save_path)`` is also accepted
    (dicts {threshold: value}); otherwise ``curves`` maps a label to (thresholds, values) or to a
    dict {"bbox": (t, v), "torso": (t, v)}."""
    if pck_regression is not None or (isinstance(save_path, dict)):
        # seed signature: (pck_heatmap, pck_regression, save_path)
        pck_heatmap, pck_reg, save_path = curves, save_path, pck_regression
        curves = {"HeatmapNet": (np.array(list(pck_heatmap)), np.array(list(pck_heatmap.values()))),
                  "RegressionNet": (np.array(list(pck_reg)), np.array(list(pck_reg.values())))}
    by_norm: dict[str, dict[str, tuple]] = {}
    for label, c in curves.items():
        if isinstance(c, dict):
            for norm, tv in c.items():
                by_norm.setdefault(norm, {})[label] = tv
        else:
            by_norm.setdefault("bbox", {})[label] = c
    fig, axes = plt.subplots(1, len(by_norm), figsize=(5.5 * len(by_norm), 4.2), squeeze=False)
    for ax, (norm, group) in zip(axes[0], by_norm.items()):
        for label, (t, v) in group.items():
            ax.plot(t, np.asarray(v) * 100, label=label, marker="." if len(t) < 10 else None)
        for thr in (0.05, 0.1, 0.15, 0.2):
            ax.axvline(thr, color="0.85", lw=0.8, zorder=0)
        ax.set_xlabel(f"threshold (fraction of {'bbox diagonal' if norm == 'bbox' else 'torso length'})")
        ax.set_ylabel("PCK (%)")
        ax.set_ylim(0, 101)
        ax.set_xlim(0, 0.2)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
        ax.set_title(title or f"PCK normalised by {norm}")
    return _save(fig, save_path)


def draw_skeleton(ax, kpts: np.ndarray, skeleton: Skeleton = STICK_FIGURE, style: str = "pred",
                  color: Optional[str] = None) -> None:
    for a, b in skeleton.links:
        ax.plot([kpts[a, 0], kpts[b, 0]], [kpts[a, 1], kpts[b, 1]],
                color=color or ("lime" if style == "gt" else "red"), lw=0.8,
                ls="-" if style == "gt" else "--", alpha=0.8)
    cols = skeleton.colors or ("red",) * skeleton.num_keypoints
    marker = "o" if style == "gt" else "x"
    ax.scatter(kpts[:, 0], kpts[:, 1], c=[color] * len(kpts) if color else list(cols), s=18 if style == "gt" else 30,
               marker=marker, linewidths=1.2, edgecolors="white" if style == "gt" else None, zorder=3)


def show_image(ax, image: np.ndarray) -> None:
    ax.imshow(np.asarray(image).squeeze(), cmap="gray", vmin=0, vmax=1, extent=(0, 128, 128, 0))
    ax.set_xticks([])
    ax.set_yticks([])


def visualize_predictions(image, pred_keypoints, gt_keypoints, save_path, title: str = "") -> Path:
    """Seed signature: one image with predicted (x, dashed) and ground-truth (o, solid) keypoints."""
    fig, ax = plt.subplots(figsize=(3.2, 3.2))
    show_image(ax, image)
    draw_skeleton(ax, np.asarray(gt_keypoints), style="gt")
    draw_skeleton(ax, np.asarray(pred_keypoints), style="pred")
    ax.set_title(title, fontsize=8)
    return _save(fig, save_path)


def plot_sample_predictions(images: np.ndarray, gt: np.ndarray, preds: dict[str, np.ndarray], save_path: Path,
                            indices: Sequence[int]) -> Path:
    rows = len(preds)
    fig, axes = plt.subplots(rows, len(indices), figsize=(2.2 * len(indices), 2.35 * rows), squeeze=False)
    for r, (label, p) in enumerate(preds.items()):
        for c, i in enumerate(indices):
            ax = axes[r, c]
            show_image(ax, images[i])
            draw_skeleton(ax, gt[i], style="gt")
            draw_skeleton(ax, p[i], style="pred")
            err = np.hypot(*(p[i] - gt[i]).T).mean()
            ax.set_title(f"{label} #{i}\nmean err {err:.1f}px", fontsize=7)
    fig.suptitle("test predictions (o/solid: ground truth, x/dashed: prediction)", fontsize=9)
    return _save(fig, save_path)


def plot_heatmap_stages(image: np.ndarray, stages: dict[int, np.ndarray], save_path: Path,
                        skeleton: Skeleton = STICK_FIGURE, sample: int = 0) -> Path:
    """Rows: training stages (epochs); columns: input + one heatmap per keypoint."""
    epochs = sorted(stages)
    k = skeleton.num_keypoints
    fig, axes = plt.subplots(len(epochs), k + 1, figsize=(1.8 * (k + 1), 1.9 * len(epochs)), squeeze=False)
    for r, e in enumerate(epochs):
        hm = stages[e][sample]
        show_image(axes[r, 0], image)
        axes[r, 0].set_ylabel(f"epoch {e}", fontsize=8)
        for j in range(k):
            ax = axes[r, j + 1]
            ax.imshow(hm[j], cmap="magma")
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(skeleton.keypoints[j], fontsize=8)
            ax.text(1, hm.shape[-1] * 0.12, f"max {hm[j].max():.2f}", color="w", fontsize=6)
    fig.suptitle("predicted heatmaps of a validation image during training (epoch 0 = initialisation)", fontsize=9)
    return _save(fig, save_path)


def plot_failure_cases(images: np.ndarray, gt: np.ndarray, hm_pred: np.ndarray, reg_pred: np.ndarray,
                       categories: dict[str, list[int]], save_path: Path, per_row: int = 4) -> Path:
    cats = list(categories)
    fig, axes = plt.subplots(len(cats), per_row * 2, figsize=(1.9 * per_row * 2, 2.3 * len(cats)), squeeze=False)
    for r, cat in enumerate(cats):
        idx = categories[cat][:per_row]
        for c in range(per_row):
            for m, (label, p) in enumerate((("heatmap", hm_pred), ("regression", reg_pred))):
                ax = axes[r, 2 * c + m]
                if c >= len(idx):
                    ax.axis("off")
                    if c == 0 and m == 0:
                        ax.text(0.0, 0.5, f"{cat}:\nno images", transform=ax.transAxes, fontsize=8)
                    continue
                i = idx[c]
                show_image(ax, images[i])
                draw_skeleton(ax, gt[i], style="gt")
                draw_skeleton(ax, p[i], style="pred")
                ax.set_title(f"#{i} {label}", fontsize=7)
        axes[r, 0].set_ylabel(f"{cat}\n({len(categories[cat])} images)", fontsize=7)
    fig.suptitle("failure cases (an image fails when any keypoint error > 0.05 x bbox diagonal)", fontsize=9)
    return _save(fig, save_path)


def plot_training_curves(logs: dict[str, dict[str, Any]], save_path: Path) -> Path:
    fig, axes = plt.subplots(1, len(logs), figsize=(5 * len(logs), 3.6), squeeze=False)
    for ax, (name, lg) in zip(axes[0], logs.items()):
        h = lg["history"]
        e = [x["epoch"] for x in h]
        ax.semilogy(e, [x["train_loss"] for x in h], label="train")
        ax.semilogy(e, [x["val_loss"] for x in h], label="val")
        if lg.get("best_epoch"):
            ax.axvline(lg["best_epoch"], color="0.7", ls=":", label=f"best (epoch {lg['best_epoch']})")
        ax.set_title(f"{name}: {lg['spec'].get('loss', 'mse').upper()} loss")
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return _save(fig, save_path)


def curves_for(pred: np.ndarray, gt: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    return {"bbox": pck_curve(pred, gt, "bbox"), "torso": pck_curve(pred, gt, "torso")}
