"""A non-linear read-out of the joints from discovered keypoints: a small MLP, for analysis only.

The served joint head is linear (models/joint_head.py, applied in C#). This MLP answers whether the
keypoints carry the joints at all when the read-out may bend: fitted on the same normalised
keypoints ``[N, K, 2]`` -> joints ``[N, J, 2]``, inputs standardised, full-batch Adam with weight
decay on the engine's fit loop, a fixed number of iterations (no early stopping: the held-out people
judge it).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..engine.fit import Sampler, fit
from ..engine.schedules import constant


class MLPJointReadout:
    def __init__(self, hidden: int = 256, iters: int = 3000, lr: float = 3e-3, weight_decay: float = 1e-4, seed: int = 0):
        self.hidden, self.iters, self.lr, self.weight_decay, self.seed = hidden, iters, lr, weight_decay, seed

    def fit(self, kp_norm: np.ndarray, joints_norm: np.ndarray) -> "MLPJointReadout":
        x = np.asarray(kp_norm, np.float32).reshape(len(kp_norm), -1)
        y = torch.from_numpy(np.asarray(joints_norm, np.float32).reshape(len(joints_norm), -1))
        self.mean, self.std = x.mean(0), x.std(0) + 1e-6
        torch.manual_seed(self.seed)
        self.net = nn.Sequential(nn.Linear(x.shape[1], self.hidden), nn.ReLU(),
                                 nn.Linear(self.hidden, self.hidden), nn.ReLU(), nn.Linear(self.hidden, y.shape[1]))
        opt = torch.optim.Adam(self.net.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        xt = torch.from_numpy((x - self.mean) / self.std)
        # full batch in a fixed order: the sampler's indices are not used
        fit(self.net, lambda idx, step: (((self.net(xt) - y) ** 2).mean(), {}), optimizer=opt,
            sampler=Sampler(len(xt), len(xt), self.seed), steps=self.iters, lr=constant(self.lr), out_dir=None,
            label="[joint read-out]", progress_interval=None, log=lambda *a: None)
        return self

    def predict(self, kp_norm: np.ndarray) -> np.ndarray:
        x = (np.asarray(kp_norm, np.float32).reshape(len(kp_norm), -1) - self.mean) / self.std
        with torch.no_grad():
            out = self.net(torch.from_numpy(x.astype(np.float32))).numpy()
        return out.reshape(len(x), -1, 2).astype(np.float64)
