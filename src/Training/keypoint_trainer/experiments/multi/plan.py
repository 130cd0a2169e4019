"""The multi-figure experiment plan: the main model and the stage ablation of a config."""
from __future__ import annotations

from typing import Any


def model_names(cfg: dict[str, Any]) -> dict[str, int]:
    """Experiment name -> stage count: ``main`` (model.stages) and ``stagesN`` of the ablation."""
    names = {"main": int(cfg["model"]["stages"])}
    for s in cfg.get("ablate", {}).get("stages", []):
        names[f"stages{int(s)}"] = int(s)
    return names
