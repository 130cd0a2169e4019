"""Fresh synthetic training images every epoch (the ``train_data = "fresh"`` option).

Epoch 0 trains on the stored training split; epoch e > 0 on images ``e*N .. (e+1)*N - 1`` of
the same generator stream (training seed and generator config of the run), so a 30-epoch run
sees 30x as many distinct figures for the same number of steps. Every image is a pure
function of (seed, index), so a resumed run re-renders the interrupted epoch identically.
Validation and test splits are untouched. Rendering runs in one worker process, one epoch
ahead, so on a 2-core machine it overlaps the (single-threaded) training steps.
"""
from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
import os
import threading
import time
from typing import Any, Optional

import numpy as np
import torch

from ...core.preprocessing import preprocess
from .generator import GeneratorConfig, render_sample


def render_epoch(seed: int, start: int, count: int, generator: dict[str, Any], codec) -> tuple[np.ndarray, np.ndarray]:
    """Images ``start .. start+count-1`` of the stream -> (x [N,1,H,W], targets of ``codec``) as the dataset makes them."""
    g = GeneratorConfig.from_dict(generator)
    xs, ys = [], []
    for i in range(start, start + count):
        img, kpts, _ = render_sample(seed, i, g)
        xs.append(preprocess(img)[0])
        ys.append(codec.target(np.round(kpts, 4)))  # rounded as in annotations.json
    return np.stack(xs).astype(np.float32), np.stack(ys).astype(np.float32)


def _exit_with_parent(parent_pid: int, poll_s: float = 1.0) -> None:
    """Worker initializer: end the worker when the trainer is gone.

    A trainer killed by a signal (SIGTERM/SIGKILL, e.g. to move a run elsewhere) never shuts its
    pool down, and the orphaned worker would go on rendering an epoch on a shared core.
    """
    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(poll_s)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


class FreshEpochs:
    """Training tensors per epoch: the stored split for epoch 0, rendered ones after it."""

    def __init__(self, cfg: dict[str, Any], codec, count: int, stored: tuple[torch.Tensor, torch.Tensor],
                 prefetch: bool = True):
        self.seed = int(cfg["data"]["seeds"]["train"])
        self.generator = dict(cfg.get("generator") or {})
        self.codec = codec  # the model's codec (a picklable dataclass): the worker encodes with it
        self.count = count
        self.stored = stored
        self._pool: Optional[cf.ProcessPoolExecutor] = None
        if prefetch:
            self._pool = cf.ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("spawn"),
                                                initializer=_exit_with_parent, initargs=(os.getpid(),))
        self._pending: dict[int, cf.Future] = {}

    def _args(self, epoch: int) -> tuple:
        return (self.seed, epoch * self.count, self.count, self.generator, self.codec)

    def _request(self, epoch: int) -> None:
        if self._pool is not None and epoch > 0 and epoch not in self._pending:
            self._pending[epoch] = self._pool.submit(render_epoch, *self._args(epoch))

    def get(self, epoch: int, epochs: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Tensors for ``epoch``; starts rendering ``epoch + 1`` in the background."""
        if epoch + 1 < epochs:
            self._request(epoch + 1)
        if epoch == 0:
            return self.stored
        fut = self._pending.pop(epoch, None)
        x, y = fut.result() if fut is not None else render_epoch(*self._args(epoch))
        return torch.from_numpy(x), torch.from_numpy(y)

    def close(self) -> None:
        for fut in self._pending.values():
            fut.cancel()
        self._pending.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
