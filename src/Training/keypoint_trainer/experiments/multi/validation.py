"""Validation during multi-figure training: every ``train.val_every`` steps the model's outputs on the
validation split are grouped (config thresholds, not the calibrated ones) and scored, so a run shows
where it plateaus. The curve lives in the fit state (resumes with the run) and in training_log.json.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ...engine.fit import Fit, Hook
from ...metrics.grouping import evaluate_outputs
from .evaluate import export_outputs, grouping_spec


class GroupingValidation(Hook):
    def __init__(self, cfg: dict[str, Any], val: dict[str, np.ndarray], every: int):
        self.cfg, self.val, self.every = cfg, val, int(every)
        self.alpha = float(cfg.get("eval", {}).get("alpha", 0.1))

    def init(self, state: dict[str, Any]) -> None:
        state["validation"] = []

    def after_step(self, fit: Fit, loss: float, parts: dict[str, float]) -> None:
        if self.every and (fit.step % self.every == 0 or fit.step == fit.steps):
            fit.state.setdefault("validation", []).append(self.measure(fit))

    def measure(self, fit: Fit) -> dict[str, Any]:
        model = fit.model
        outs = export_outputs(model, self.val["images"])
        model.train()  # export_outputs switched it to inference mode
        a = evaluate_outputs(outs, self.val, grouping_spec(self.cfg, model), (self.alpha,), self.alpha)["all"]
        key = f"{self.alpha:g}"
        row = {"step": fit.step, "pck_pred_id": a["pck_pred_id"][key], "pck_oracle_id": a["pck_oracle_id"][key],
               "figure_accuracy": a["figure_accuracy"], "link_f1": a["link_f1"],
               "detection_type_accuracy": a["detection_type_accuracy"]}
        fit.log(f"{fit.label} step {fit.step} validation: PCK@{key} pred-id {row['pck_pred_id']:.3f} oracle-id "
                f"{row['pck_oracle_id']:.3f} figure acc {row['figure_accuracy']:.3f} link F1 {row['link_f1']:.3f} "
                f"type acc {row['detection_type_accuracy']:.3f}")
        return row
