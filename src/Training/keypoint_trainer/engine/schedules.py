"""Learning-rate schedules: pure functions of the optimisation step (0-based), so resume-safe.

* ``constant``: the stick-figure seed's rate;
* ``cosine``: from ``base`` to 0 over ``total`` steps;
* ``step_decay``: x0.1 at each milestone step (MultiStepLR, MMPose's heatmap recipes; the
  multi-figure and HSJP ``lr_drops`` are milestones at fractions of the run);
* ``warmup_cosine``: linear warm-up over ``warmup`` steps, then cosine decay to 5 % of ``base``
  (the SPMKD stages and its supervised baseline);
* ``warmup_constant``: the same warm-up, then constant, where the validation plateau decides the
  drops (engine/plateau.py).
"""
from __future__ import annotations

import math
from typing import Callable, Sequence
from ..core.errors import ConfigError

Schedule = Callable[[int], float]
STEP_DECAY = 0.1  # factor of the step schedule at each milestone


def constant(base: float) -> Schedule:
    return lambda step: base


def cosine(base: float, total: int) -> Schedule:
    return lambda step: base * 0.5 * (1.0 + math.cos(math.pi * min(step, total) / max(total, 1)))


def step_decay(base: float, milestones: Sequence[int]) -> Schedule:
    ms = [int(m) for m in milestones]
    return lambda step: base * STEP_DECAY ** sum(step >= m for m in ms)


def warmup_cosine(base: float, total: int, warmup: int) -> Schedule:
    def lr(step: int) -> float:
        if step < warmup:
            return base * (step + 1) / warmup
        t = (step - warmup) / max(1, total - warmup)
        return base * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, t))))

    return lr


def warmup_constant(base: float, warmup: int) -> Schedule:
    """Linear warm-up over ``warmup`` steps, then ``base``: for runs whose decay a plateau hook decides
    (engine/plateau.py)."""
    return lambda step: base * (step + 1) / warmup if step < warmup else base


def fraction_milestones(total: int, fractions: Sequence[float]) -> list[int]:
    """Milestone steps at fractions of a run (``lr_drops = [0.8]``: x0.1 after 80 % of the steps)."""
    return sorted(int(round(f * total)) for f in fractions)


def named(name: str, base: float, total: int, milestones: Sequence[int] = ()) -> Schedule:
    """The stick-figure experiments' ``lr_schedule`` names: constant, cosine or step."""
    if name == "constant":
        return constant(base)
    if name == "cosine":
        return cosine(base, total)
    if name == "step":
        if not milestones:
            raise ConfigError("lr_schedule 'step' needs lr_milestones (epochs after which the rate drops x0.1)")
        return step_decay(base, milestones)
    raise ConfigError(f"unknown lr_schedule {name!r} (constant, cosine or step)")
