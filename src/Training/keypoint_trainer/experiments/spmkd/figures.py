"""The SPMKD report's figures (PNG, matplotlib Agg): examples, heatmaps, training curves."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ...core.keypoints import get_skeleton  # noqa: E402
from ...models.joint_head import apply_linear_head  # noqa: E402


def draw_figures(res: dict, objects: dict, examples: dict, fig_dir: Path) -> dict[str, str]:
    """-> {figure: file name} of the figures drawn into ``fig_dir`` (examples and heatmaps need the main run)."""
    fig_dir.mkdir(parents=True, exist_ok=True)
    out = {}
    main = objects.get("main")
    if main is not None:
        out["examples"] = plot_examples(res, main, examples, fig_dir).name
        out["heatmaps"] = plot_heatmaps(main, fig_dir).name
    out["curves"] = plot_curves(res["runs"], fig_dir).name
    return out


def plot_examples(res: dict, main: dict, examples: dict, fig_dir: Path) -> Path:
    """Inputs with discovered keypoints, mapped joints, reconstructions."""
    sk = get_skeleton("slp14")
    fig, axes = plt.subplots(3, 8, figsize=(16, 10.5))
    col = 0
    for split in ("test", "unf_test"):
        kept = main["outs"][split]["kept"]
        kps = main["outs"][split]["keypoints"]
        for j, idx in enumerate(kept["index"][:4]):
            raw = examples[split][idx]
            h, w = raw.shape
            kp = kps[idx]
            joints = apply_linear_head(main["head"], kp[None])[0]
            ax = axes[0, col]
            ax.imshow(raw, cmap="magma", extent=(0, w, h, 0), aspect="auto")
            ax.scatter(kp[:, 0] * w, kp[:, 1] * h, c=np.arange(len(kp)), cmap="tab20", s=18, edgecolors="w",
                       linewidths=0.5)
            ax.set_title(f"{'SLP' if split == 'test' else 'unfamiliar'} #{idx}: input + K keypoints", fontsize=7)
            ax = axes[1, col]
            ax.imshow(raw, cmap="gray", extent=(0, w, h, 0), aspect="auto")
            gt = np.asarray(res["gt_examples"][split][idx])
            for a, b in sk.links:
                ax.plot([gt[a, 0], gt[b, 0]], [gt[a, 1], gt[b, 1]], "-", c="lime", lw=1)
                ax.plot([joints[a, 0] * w, joints[b, 0] * w], [joints[a, 1] * h, joints[b, 1] * h], "-",
                        c="orangered", lw=1)
            ax.set_title("joints: GT (green), linear head (red)", fontsize=7)
            ax = axes[2, col]
            ax.imshow(kept["recon"][j], cmap="magma", vmin=0, vmax=1)
            ax.set_title("reconstruction 256x256", fontsize=7)
            col += 1
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    plt.tight_layout()
    p = fig_dir / "examples.png"
    plt.savefig(p, dpi=70)
    plt.close(fig)
    return p


def plot_heatmaps(main: dict, fig_dir: Path) -> Path:
    """The heatmaps of one sample."""
    kept = main["outs"]["test"]["kept"]
    hm = kept["heatmaps"][0]
    k = hm.shape[0]
    ncol = 8
    fig, axes = plt.subplots(int(np.ceil(k / ncol)), ncol, figsize=(12, 1.6 * int(np.ceil(k / ncol)) * 1.0))
    for i, ax in enumerate(np.atleast_1d(axes).flat):
        ax.set_xticks([])
        ax.set_yticks([])
        if i < k:
            ax.imshow(hm[i], cmap="viridis")
            ax.set_title(f"kp{i:02d}", fontsize=7)
    plt.tight_layout()
    p = fig_dir / "heatmaps.png"
    plt.savefig(p, dpi=70)
    plt.close(fig)
    return p


def plot_curves(runs: dict[str, Any], fig_dir: Path) -> Path:
    """Curves: CRWT vs scratch (stage 2), stage 1, K and hard."""
    fig, axes = plt.subplots(1, 4, figsize=(19, 4))
    for name, style in (("main", "-"), ("scratch", "--"), ("hard", ":")) + tuple(
            (n, "-.") for n in runs if n.startswith("k")):
        r = runs.get(name)
        if not r or "curves" not in r or "stage2" not in r["curves"]:
            continue
        v = r["curves"]["stage2"]["val"]
        st = [e["step"] for e in v]
        lab = {"main": "CRWT (main)", "scratch": "from scratch", "hard": "hard argmax (from main stage 1)"}.get(name, name)
        axes[0].plot(st, [e["l2"] for e in v], style, label=lab)
        axes[1].plot(st, [e["ssim"] for e in v], style, label=lab)
        if "heatmap_sd" in v[0]:
            axes[3].plot(st, [e["heatmap_sd"] for e in v], style, label=lab)
    axes[0].set_title("stage 2: validation L2 (normalised map)")
    axes[0].set_xlabel("stage-2 step")
    axes[0].set_yscale("log")
    axes[1].set_title("stage 2: validation SSIM")
    axes[1].set_xlabel("stage-2 step")
    for name in ["main"] + [n for n in runs if n.startswith("k")]:
        r = runs.get(name)
        if r and "stage1" in r.get("curves", {}):
            v = r["curves"]["stage1"]["val"]
            axes[2].plot([e["step"] for e in v], [e["bce"] for e in v], label=f"{name} BCE")
    axes[3].set_title("stage 2: heatmap spread (rms sd, normalised; uniform = 0.29)")
    axes[3].set_xlabel("stage-2 step")
    axes[2].set_title("stage 1: validation BCE (presence)")
    axes[2].set_xlabel("stage-1 step")
    for ax in axes:
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    plt.tight_layout()
    p = fig_dir / "curves.png"
    plt.savefig(p, dpi=70)
    plt.close(fig)
    return p
