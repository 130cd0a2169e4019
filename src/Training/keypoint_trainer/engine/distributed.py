"""Data-parallel training with PyTorch's own engine (DistributedDataParallel).

Processes find each other through the variables ``torchrun`` sets: ``RANK``, ``WORLD_SIZE``,
``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT``. Debian's torchrun 1.13 fails under Python
3.11 (docs/training.md), so ``scripts/train-distributed.sh`` starts the processes with the same
variables; on a current PyTorch ``torchrun --nproc-per-node N -m keypoint_trainer train ...``
works unchanged. Backend: NCCL when CUDA is present, gloo on CPU.

How a step is split: every rank draws the same global batch (the epoch permutation is a pure
function of seed and epoch) and trains on its strided share ``batch[rank::world_size]``. DDP
averages the gradients, so with equal shares a step follows the gradient of the whole global
batch, as a one-process run does (only BatchNorm statistics are per share). Rank 0 alone writes
checkpoints, logs and exports; every rank resumes from the same checkpoint.

Every family wires its training step the same way (:func:`data_parallel`)::

    net, ranks = data_parallel(model)     # one process: net is model itself, nothing changes
    def step_fn(idx, step): ... net(x) ...  # the forward goes through the wrapper
    fit(model, step_fn, ..., distributed=ranks)

and writes a run into ``ranks.own(directory)``: the directory itself on rank 0, its own resumable
copy ``directory/ranks/<rank>`` on every other rank.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

import torch
import torch.distributed as dist
from torch import nn

ENV = ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


@dataclass(frozen=True)
class Distributed:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    def shard(self, batch):
        """This rank's share of a global batch (a tensor or index array)."""
        return batch[self.rank::self.world_size] if self.enabled else batch

    def wrap(self, model: nn.Module) -> nn.Module:
        if not self.enabled:
            return model
        device_ids = [self.local_rank] if torch.cuda.is_available() else None
        return nn.parallel.DistributedDataParallel(model, device_ids=device_ids)

    def own(self, directory) -> Path:
        """Where this rank writes a run kept in ``directory``: rank 0 the directory itself (the run
        that export, report and publish read), every other rank its own copy ``directory/ranks/<rank>``
        (same checkpoints, so ``--resume`` works for the whole group)."""
        return Path(directory) / "ranks" / str(self.rank) if self.rank else Path(directory)

    def mean(self, value: float, weight: float = 1.0) -> float:
        """Weighted mean of a scalar over ranks (the training loss of a step)."""
        if not self.enabled:
            return value
        t = torch.tensor([value * weight, weight], dtype=torch.float64)
        dist.all_reduce(t)
        return float(t[0] / t[1])


def from_environment(environ: Optional[dict] = None) -> Distributed:
    """Join the process group described by the environment; one process when it describes none."""
    env = os.environ if environ is None else environ
    world = int(env.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Distributed()
    missing = [k for k in ENV if not env.get(k)]
    if missing:
        raise SystemExit(f"distributed training needs {', '.join(ENV)}; missing: {', '.join(missing)}")
    rank, local = int(env["RANK"]), int(env.get("LOCAL_RANK", env["RANK"]))
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    if not dist.is_initialized():
        dist.init_process_group(backend, rank=rank, world_size=world)
    if torch.cuda.is_available():
        torch.cuda.set_device(local)
    return Distributed(rank, world, local)


def environment_world_size(environ: Optional[dict] = None) -> int:
    """The size of the group the environment describes, without joining it (1: one process)."""
    env = os.environ if environ is None else environ
    return max(1, int(env.get("WORLD_SIZE", "1") or 1))


def environment_rank(environ: Optional[dict] = None) -> int:
    """This process's rank in the group the environment describes, without joining it (0 alone).
    Ranks other than 0 train their share and leave generated data, evaluation, export, reports and
    the command log to rank 0."""
    env = os.environ if environ is None else environ
    return int(env.get("RANK", "0") or 0) if environment_world_size(env) > 1 else 0


@contextmanager
def rank_zero_first(environ: Optional[dict] = None) -> Iterator[Distributed]:
    """Run a block that fills a shared cache (the generated data) on rank 0 while the other ranks
    wait, then on them, so they read what rank 0 wrote instead of writing the same files at the
    same time. One process: the block just runs. Should rank 0 fail inside the block, the others
    wait out the group's timeout (30 minutes for gloo and NCCL) and fail too."""
    ranks = from_environment(environ)
    if ranks.rank:
        dist.barrier()
    yield ranks
    if ranks.enabled and not ranks.rank:
        dist.barrier()


def data_parallel(model: nn.Module, environ: Optional[dict] = None) -> tuple[nn.Module, Distributed]:
    """The training-step wiring of every family -> ``(net, ranks)``: ``ranks`` is the group the
    environment describes (joined once per process; one process when it describes none) and
    ``net`` the module a step function must run its forward through: ``model`` itself in one
    process (so a one-process run is unchanged), its DistributedDataParallel wrapper in a group
    (whose backward averages the gradients over the ranks). Give ``model`` and ``ranks`` to
    ``engine.fit.fit(..., distributed=ranks)``, which shards the batches and averages the logged loss."""
    ranks = from_environment(environ)
    return ranks.wrap(model), ranks
