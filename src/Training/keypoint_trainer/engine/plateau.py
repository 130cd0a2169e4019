"""Training to the validation plateau (ReduceLROnPlateau, then stop): the fit loop's way of
running "until the validation curve flattens" without guessing a step budget.

:class:`Plateau` watches one entry of a validation curve that another hook appends to
``fit.state["curves"][curve]`` (SPMKD's reconstruction L2, the baseline's validation PCK) or to the
list ``entries(fit.state)`` returns (multi's ``state["validation"]``: predicted-identity PCK). When
``patience`` evaluations in a row fail to beat the best by ``min_delta`` (relative), it multiplies
the learning rate by ``factor`` (``fit.state["lr_scale"]``, which the loop applies on top of the
schedule) and starts counting again; after ``drops`` such drops the next plateau stops the run
(``fit.state["stop_reason"]``). Everything it decides lives in ``fit.state``, so a resumed run
decides exactly as the uninterrupted one. The step budget stays an upper bound.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

from .fit import Fit, Hook
from ..core.errors import ConfigError


class Plateau(Hook):
    """Drop the rate at a plateau of ``curves[curve][-1][key]``; stop at the plateau after ``drops`` drops."""

    def __init__(self, key: str, *, curve: str = "val", mode: str = "min", patience: int = 4,
                 min_delta: float = 0.01, drops: int = 2, factor: float = 0.1,
                 entries: Optional[Callable[[dict[str, Any]], list]] = None):
        if mode not in ("min", "max"):
            raise ConfigError(f"plateau mode must be 'min' or 'max', not {mode!r}")
        if patience < 1:
            raise ConfigError("plateau patience must be at least 1 evaluation")
        self.key, self.curve, self.mode = key, curve, mode
        self.patience, self.min_delta, self.drops, self.factor = int(patience), float(min_delta), int(drops), float(factor)
        # where the evaluations live: curves[curve] by default; a family with its own list names it
        self.entries = entries or (lambda state: state.get("curves", {}).get(curve, []))

    def init(self, state: dict[str, Any]) -> None:
        state["plateau"] = {"key": self.key, "mode": self.mode, "seen": 0, "best": None, "best_step": None,
                            "bad": 0, "drops": [], "stopped_at": None}
        state["lr_scale"] = 1.0

    def improved(self, value: float, best: float | None) -> bool:
        if best is None:
            return True
        margin = self.min_delta * abs(best)
        return value < best - margin if self.mode == "min" else value > best + margin

    def after_step(self, fit: Fit, loss: float, parts: dict[str, float]) -> None:
        p, entries = fit.state["plateau"], self.entries(fit.state)
        for entry in entries[p["seen"]:]:
            self._observe(fit, p, float(entry[self.key]), int(entry["step"]))
        p["seen"] = len(entries)

    def _observe(self, fit: Fit, p: dict[str, Any], value: float, step: int) -> None:
        if self.improved(value, p["best"]):
            p.update(best=value, best_step=step, bad=0)
            return
        p["bad"] += 1
        if p["bad"] < self.patience or step == 0 or fit.state.get("stop_reason"):
            return
        p["bad"] = 0
        if len(p["drops"]) < self.drops:
            fit.state["lr_scale"] *= self.factor
            p["drops"].append(step)
            fit.log(f"{fit.label} step {step}: {self.key} {value:.5g} has not beaten {p['best']:.5g} (step "
                    f"{p['best_step']}) for {self.patience} evaluations: learning rate x{self.factor:g}")
        else:
            p["stopped_at"] = step
            fit.state["stop_reason"] = (f"validation {self.key} at its plateau (best {p['best']:.5g} at step "
                                        f"{p['best_step']}, {len(p['drops'])} rate drops)")
