"""The multi-figure (KLPNet-style) codec: training targets of a category-implicit model; its outputs
are decoded into figures by the grouping step (codecs/grouping.py).

Targets per image (64 x 64 cells, stride 2; a keypoint at pixel x is at cell u = x / 2 - 0.5):

* heatmap of stage s: the max over the image's *visible* keypoints of unit Gaussians with
  sigma = kernel_sigma(k_s), k = 7, 5, 3 (coarse to fine);
* offsets (u - x_cell, v - y_cell) in the 3 x 3 cells around each visible keypoint;
* head offsets (u_head - x_cell, v_head - y_cell) in the same cells: from the cell centre to the
  head (keypoint type 0) of the keypoint's figure, in cells, so a cell votes for its figure's head
  at (x_cell + 0.5 + dx) / W like the sub-cell offsets; the head's position is known even where it
  is occluded, so limbs of a figure with a hidden head still vote for one point. Trained only by
  models with ``model.head_offsets`` (experiments/multi/train.py);
* keypoint type in the same cells;
* links: the visible keypoints' cells, figure ids and types; :func:`link_targets` is either the
  true adjacency (``skeleton``: 1 for the same figure and a skeleton link, and on the diagonal;
  the paper's target) or figure membership (``figure``: 1 for any two keypoints of one figure).
  An inner-product decoder A = sigmoid(s z_i . z_j + b) cannot score a hand high with its head
  and low with the other hand of the same figure without giving up the figure's identity in z,
  so ``figure`` is the target that matches the decoder, and grouping may then link any two types
  (``grouping.candidate_links``, codecs/grouping.py).

Occluded keypoints (hidden by a later figure) get no target.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..core.keypoints import STICK_FIGURE
from ..core.errors import ConfigError

HM = 64
STRIDE = 2.0
HEAD = STICK_FIGURE.index("head")


#: OpenCV's sigma for a Gaussian kernel of size k (cv2.getGaussianKernel with sigma <= 0),
#: the convention of MSPN's coarse-to-fine kernels 7, 5, 3
def kernel_sigma(k: int) -> float:
    return 0.3 * ((k - 1) * 0.5 - 1) + 0.8


STAGE_KERNELS = (7, 5, 3)


def adjacency(num_types: int = 5, links=STICK_FIGURE.links) -> np.ndarray:
    a = np.eye(num_types)
    for i, j in links:
        a[i, j] = a[j, i] = 1
    return a


def build_targets(keypoints: np.ndarray, count: np.ndarray, occluded: np.ndarray, stages: int) -> dict[str, Any]:
    """Batch targets from keypoints [B, 4, K, 2] (px), count [B], occluded [B, 4, K]."""
    B = len(count)
    K = keypoints.shape[2]
    jj, ii = np.meshgrid(np.arange(HM), np.arange(HM))
    heats = np.zeros((stages, B, 1, HM, HM), np.float32)
    off = np.zeros((B, 2, HM, HM), np.float32)
    head = np.zeros((B, 2, HM, HM), np.float32)
    omask = np.zeros((B, 1, HM, HM), np.float32)
    types = np.full((B, HM, HM), -1, np.int64)
    pairs = []  # per image: (cells [P], figure ids [P], types [P])
    sig = [kernel_sigma(STAGE_KERNELS[s]) for s in range(stages)]
    for b in range(B):
        cells, figs, tys = [], [], []
        for f in range(int(count[b])):
            hu, hv = keypoints[b, f, HEAD] / STRIDE - 0.5
            for t in range(K):
                if occluded[b, f, t]:
                    continue
                u, v = keypoints[b, f, t] / STRIDE - 0.5
                d2 = (jj - u) ** 2 + (ii - v) ** 2
                for s in range(stages):
                    np.maximum(heats[s, b, 0], np.exp(-d2 / (2 * sig[s] ** 2)), out=heats[s, b, 0])
                cx, cy = int(round(u)), int(round(v))
                cx, cy = min(max(cx, 0), HM - 1), min(max(cy, 0), HM - 1)
                for dy in (-1, 0, 1):
                    for dx in (-1, 0, 1):
                        y, x = cy + dy, cx + dx
                        if 0 <= y < HM and 0 <= x < HM:
                            off[b, :, y, x] = (u - x, v - y)
                            head[b, :, y, x] = (hu - x, hv - y)
                            omask[b, 0, y, x] = 1
                            types[b, y, x] = t
                cells.append(cy * HM + cx)
                figs.append(f)
                tys.append(t)
        pairs.append((np.array(cells, np.int64), np.array(figs), np.array(tys)))
    return {"heats": heats, "offsets": off, "offset_mask": omask, "head_offsets": head, "types": types,
            "pairs": pairs}


LINK_TARGETS = ("skeleton", "figure")


def link_targets(figs: np.ndarray, tys: np.ndarray, adj: np.ndarray, kind: str = "skeleton") -> np.ndarray:
    """Pairwise link targets of one image's visible keypoints (``kind`` in :data:`LINK_TARGETS`)."""
    same = figs[:, None] == figs[None, :]
    if kind == "figure":
        return same.astype(np.float32)
    if kind != "skeleton":
        raise ConfigError(f"unknown link_target {kind!r}; one of {LINK_TARGETS}")
    return (same & (adj[tys[:, None], tys[None, :]] > 0)).astype(np.float32)
