"""The stick-figure report's names for its runs and how it formats numbers (report.py, report_analysis.py)."""
from __future__ import annotations

from typing import Any, Optional

from .plan import get_experiment

SEED_REPORTED = {"HeatmapNet": [98.9, 100.0, 100.0, 100.0], "RegressionNet": [3.9, 14.6, 29.1, 43.4]}
# short table labels; "+argmax" and "+flip" rows derive theirs (see method_label)
LABELS = {"heatmap": "HeatmapNet + DARK",
          "heatmap_fresh": "HeatmapNet + fresh images, DARK",
          "heatmap_fresh_cosine": "HeatmapNet + fresh images + cosine lr, DARK",
          "heatmap_fresh_90": "HeatmapNet + fresh images, 90 epochs, DARK",
          "heatmap_fresh_90_step": "HeatmapNet + fresh images, 90 epochs, step lr decay, DARK",
          "heatmap_fresh_context": "HeatmapNet + context blocks (not seed) + fresh images, DARK",
          "heatmap_fresh_context_45_step": "HeatmapNet + context blocks (not seed) + fresh images, 45 epochs, "
                                           "step lr decay, DARK",
          "heatmap_fresh_context_60_step": "HeatmapNet + context blocks (not seed) + fresh images, 60 epochs, "
                                           "step lr decay, DARK",
          "regression": "RegressionNet (seed: dropout 0.5, MSE)",
          "simcc_fresh_32_step": "SimCC head on the seed encoder + fresh images, 32 epochs, step lr decay",
          "mean_pose_baseline": "reference: mean training pose (ignores the image)"}


def heatmap_variants(cfg: dict[str, Any]) -> list[str]:
    """The heatmap experiments of ``models.run`` beyond the seed's ``heatmap``, in config order."""
    return [n for n in cfg["models"]["run"] if n != "heatmap" and get_experiment(cfg, n)["kind"] == "heatmap"]


def coordinate_variants(cfg: dict[str, Any]) -> list[str]:
    """The modern coordinate heads of ``models.run`` (SimCC), in config order."""
    return [n for n in cfg["models"]["run"] if get_experiment(cfg, n)["kind"] == "simcc"]


def is_seed_network(cfg: dict[str, Any], name: str) -> bool:
    """False for architecture variants (context blocks); training-recipe variants keep the seed network."""
    return not get_experiment(cfg, name).get("context")


def method_label(key: str) -> str:
    """Table label of a metrics key: ``NAME+argmax`` swaps NAME's decoder, ``NAME+flip`` adds the flip test."""
    base, _, suffix = key.partition("+")
    if base not in LABELS or not suffix:
        return LABELS.get(key, key)
    if suffix == "argmax":
        return LABELS[base].replace("DARK", "argmax")
    return LABELS[base] + (" + flip test" if suffix == "flip" else f" + {suffix}")


def pct(v: Optional[float]) -> str:
    return "–" if v is None else f"{v * 100:.1f}"


def converged_ablations(cfg: dict[str, Any]) -> bool:
    """True where the profile's ablations ran at a converged budget (the ``served`` profile reads the
    ``ablate`` profile's runs): their tables then replace the 5-epoch learning-speed ones."""
    return bool(cfg.get("report", {}).get("converged_ablations"))
