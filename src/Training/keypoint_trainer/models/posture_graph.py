"""A graph network posture classifier over keypoints: the evaluation protocol of the SPMKD paper
(posture classification with graph networks over the detected keypoints), beside the MLP of
models/posture.py. It is an evaluation protocol, not a served head.

The graph: one node per keypoint; edges join each keypoint to its ``neighbours`` nearest keypoints
by their mean position on the training maps (the detector's keypoints have no given skeleton, so
the graph is estimated from data), symmetrised, with self-loops, normalised D^-1/2 A D^-1/2
(Kipf and Welling's GCN). Node features: the keypoint's translation-removed (x, y) and a one-hot
of its index (keypoint k is always output channel k). Two GCN layers, mean and max pooling over
the nodes, a linear layer to the classes. Full-batch Adam on the engine's fit loop.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..engine.fit import Sampler, fit
from ..engine.schedules import constant


def knn_adjacency(mean_kp: np.ndarray, neighbours: int) -> np.ndarray:
    """[K, 2] mean keypoints -> normalised adjacency [K, K] of the symmetrised k-NN graph + self-loops."""
    k = len(mean_kp)
    d = np.linalg.norm(mean_kp[:, None] - mean_kp[None], axis=-1)
    a = np.eye(k)
    for i in range(k):
        for j in np.argsort(d[i], kind="stable")[1:neighbours + 1]:
            a[i, j] = a[j, i] = 1.0
    s = 1.0 / np.sqrt(a.sum(1))
    return a * s[:, None] * s[None, :]


class GraphNet(nn.Module):
    def __init__(self, adjacency: np.ndarray, hidden: int, num_classes: int):
        super().__init__()
        k = adjacency.shape[0]
        self.register_buffer("adj", torch.tensor(adjacency, dtype=torch.float32))
        self.register_buffer("ids", torch.eye(k))
        self.gc1, self.gc2 = nn.Linear(2 + k, hidden), nn.Linear(hidden, hidden)
        self.out = nn.Linear(2 * hidden, num_classes)

    def forward(self, xy: torch.Tensor) -> torch.Tensor:
        """[B, K, 2] standardised centred keypoints -> class logits [B, C]."""
        h = torch.cat([xy, self.ids.expand(len(xy), -1, -1)], dim=-1)
        h = torch.relu(self.adj @ self.gc1(h))
        h = torch.relu(self.adj @ self.gc2(h))
        return self.out(torch.cat([h.mean(1), h.amax(1)], dim=-1))


class GraphPostureClassifier:
    """Same interface as :class:`models.posture.PostureClassifier` (fit on keypoints [N, K, 2], predict)."""

    def __init__(self, hidden: int = 32, neighbours: int = 3, iters: int = 500, lr: float = 1e-2,
                 weight_decay: float = 1e-3, seed: int = 0, num_classes: int = 4):
        self.hidden, self.neighbours, self.iters, self.lr = hidden, neighbours, iters, lr
        self.wd, self.seed, self.c = weight_decay, seed, num_classes

    def _features(self, kp: np.ndarray) -> torch.Tensor:
        kp = np.asarray(kp, np.float64)
        centred = kp - kp.mean(axis=1, keepdims=True)
        return torch.tensor((centred - self.mu) / self.sd, dtype=torch.float32)

    def fit(self, kp: np.ndarray, labels: np.ndarray) -> "GraphPostureClassifier":
        kp = np.asarray(kp, np.float64)
        centred = kp - kp.mean(axis=1, keepdims=True)
        self.mu, self.sd = centred.mean(0), centred.std(0) + 1e-8
        torch.manual_seed(self.seed)
        self.net = GraphNet(knn_adjacency(kp.mean(0), self.neighbours), self.hidden, self.c)
        opt = torch.optim.Adam(self.net.parameters(), lr=self.lr, weight_decay=self.wd)
        x, y = self._features(kp), torch.tensor(np.asarray(labels), dtype=torch.long)
        fit(self.net, lambda idx, step: (nn.functional.cross_entropy(self.net(x), y), {}), optimizer=opt,
            sampler=Sampler(len(x), len(x), self.seed), steps=self.iters, lr=constant(self.lr), out_dir=None,
            label="[posture-graph]", progress_interval=None, log=lambda *a: None)
        return self

    @torch.no_grad()
    def predict(self, kp: np.ndarray) -> np.ndarray:
        return self.net(self._features(kp)).argmax(-1).numpy()
