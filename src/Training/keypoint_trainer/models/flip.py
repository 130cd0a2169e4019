"""Test-time horizontal flip for heatmap models (MMPose's ``flip_test``), as a module.

The output is the mean of the heatmaps of the image and of its mirror image, the latter
mirrored back with the left/right channels swapped (``Skeleton.flip_pairs``). Because the
module is exported as the ONNX graph, the service needs no code of its own for it: it runs
the graph and decodes as usual, and the golden samples check the whole thing.

Mirroring is exact on our grids: with pixel centres at i + 0.5, input column i maps to
W - 1 - i and heatmap cell j (input pixels s*j .. s*j + s - 1 for stride s) maps to cell
Wh - 1 - j, so mirroring the heatmap back needs no shift.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn


def flip_permutation(num_keypoints: int, flip_pairs: Sequence[tuple[int, int]]) -> list[int]:
    """Channel order that swaps every (left, right) pair and keeps the others."""
    perm = list(range(num_keypoints))
    for a, b in flip_pairs:
        perm[a], perm[b] = b, a
    return perm


class FlipTest(nn.Module):
    def __init__(self, model: nn.Module, num_keypoints: int, flip_pairs: Sequence[tuple[int, int]]):
        super().__init__()
        if not flip_pairs:
            raise ValueError("flip test needs the skeleton's left/right flip pairs")
        self.model = model
        self.codec = getattr(model, "codec", None)  # the same outputs, decoded the same way
        self.register_buffer("perm", torch.tensor(flip_permutation(num_keypoints, flip_pairs)), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[0]
        both = self.model(torch.cat([x, torch.flip(x, dims=[-1])], dim=0))  # one batch of 2N
        plain, mirrored = both[:n], both[n:]
        return 0.5 * (plain + torch.flip(mirrored, dims=[-1]).index_select(1, self.perm))
