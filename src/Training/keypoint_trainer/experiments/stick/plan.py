"""Named experiments: model kind + options + target codec + loss + decoder.

``heatmap`` and ``regression`` are the seed's two models; the others are the documented
variants and ablations. A config may add or override experiments in ``[experiments.NAME]``
tables (keys as below); unknown keys are an error.
"""
from __future__ import annotations

import copy
from typing import Any

from ...core.errors import ConfigError

BASE: dict[str, dict[str, Any]] = {
    # seed models
    "heatmap": {"kind": "heatmap", "heatmap_size": 64, "sigma": 2.0, "skip": True, "loss": "mse",
                "decode": "dark", "description": "HeatmapNet (seed spec), 64x64, sigma 2, MSE, DARK decoding"},
    "regression": {"kind": "regression", "dropout": 0.5, "loss": "mse", "decode": "direct",
                   "description": "RegressionNet (seed spec), dropout 0.5, sigmoid, MSE"},
    # heatmap ablations
    "hm_res32": {"kind": "heatmap", "heatmap_size": 32, "sigma": 1.0, "skip": True, "loss": "mse", "decode": "dark",
                 "description": "HeatmapNet, 32x32 heatmaps (sigma 1 cell = 4 px, same as 2 cells at 64)"},
    "hm_res128": {"kind": "heatmap", "heatmap_size": 128, "sigma": 4.0, "skip": True, "loss": "mse",
                  "decode": "dark", "description": "HeatmapNet, 128x128 heatmaps (sigma 4 cells = 4 px)"},
    "hm_sigma1": {"kind": "heatmap", "heatmap_size": 64, "sigma": 1.0, "skip": True, "loss": "mse", "decode": "dark",
                  "description": "HeatmapNet, sigma 1"},
    "hm_sigma3": {"kind": "heatmap", "heatmap_size": 64, "sigma": 3.0, "skip": True, "loss": "mse", "decode": "dark",
                  "description": "HeatmapNet, sigma 3"},
    "hm_sigma4": {"kind": "heatmap", "heatmap_size": 64, "sigma": 4.0, "skip": True, "loss": "mse", "decode": "dark",
                  "description": "HeatmapNet, sigma 4"},
    "hm_noskip": {"kind": "heatmap", "heatmap_size": 64, "sigma": 2.0, "skip": False, "loss": "mse",
                  "decode": "dark", "description": "HeatmapNet without the two skip connections"},
    # variants
    "soft_argmax": {"kind": "soft_argmax", "heatmap_size": 64, "beta": 1.0, "skip": True, "loss": "l1",
                    "decode": "direct", "description": "HeatmapNet + spatial soft-argmax (integral regression), L1"},
    "regression_nodrop": {"kind": "regression", "dropout": 0.0, "loss": "mse", "decode": "direct",
                          "description": "RegressionNet without dropout, MSE"},
    "heatmap_fresh": {"kind": "heatmap", "heatmap_size": 64, "sigma": 2.0, "skip": True, "loss": "mse",
                      "decode": "dark", "train_data": "fresh",
                      "description": "HeatmapNet (seed recipe), fresh synthetic training images every epoch"},
    "heatmap_fresh_cosine": {"kind": "heatmap", "heatmap_size": 64, "sigma": 2.0, "skip": True, "loss": "mse",
                             "decode": "dark", "train_data": "fresh", "lr_schedule": "cosine",
                             "description": "HeatmapNet (seed architecture and loss), fresh synthetic training "
                                            "images every epoch, cosine learning-rate decay"},
    "regression_l1": {"kind": "regression", "dropout": 0.0, "loss": "l1", "decode": "direct",
                      "description": "RegressionNet without dropout, L1 loss (stronger baseline)"},
}

# longer training and the context-block architecture: heatmap_fresh with one or two keys changed
BASE["heatmap_fresh_90"] = {**BASE["heatmap_fresh"], "epochs": 90, "description":
                            "HeatmapNet (seed recipe), fresh synthetic training images every epoch, 90 epochs instead of 30"}
BASE["heatmap_fresh_90_step"] = {**BASE["heatmap_fresh_90"], "lr_schedule": "step", "lr_milestones": [75, 85],
                                 "description": "HeatmapNet (seed architecture and loss), fresh synthetic training "
                                                "images every epoch, 90 epochs, learning rate x0.1 after epochs 75 and 85"}
BASE["heatmap_fresh_context"] = {**BASE["heatmap_fresh"], "context": 2, "description":
                                 "HeatmapNet + 2 dilated residual context blocks at the bottleneck "
                                 "(not the seed architecture), fresh synthetic training images"}
BASE["heatmap_fresh_context_90"] = {**BASE["heatmap_fresh_context"], "epochs": 90, "description":
                                    "HeatmapNet + 2 dilated residual context blocks (not the seed architecture), "
                                    "fresh synthetic training images, 90 epochs"}
BASE["heatmap_fresh_context_45_step"] = {
    **BASE["heatmap_fresh_context"], "epochs": 45, "lr_schedule": "step", "lr_milestones": [38, 43],
    "description": "HeatmapNet + 2 dilated residual context blocks (not the seed architecture), fresh synthetic "
                   "training images, 45 epochs, learning rate x0.1 after epochs 38 and 43"}

BASE["heatmap_fresh_context_60_step"] = {
    **BASE["heatmap_fresh_context"], "epochs": 60, "lr_schedule": "step", "lr_milestones": [50, 55],
    "description": "HeatmapNet + 2 dilated residual context blocks (not the seed architecture), fresh synthetic "
                   "training images, 60 epochs, learning rate x0.1 after epochs 50 and 55"}

# a modern coordinate head (issue 18): SimCC on the seed encoder, same data and schedule as the published heatmap
BASE["simcc_fresh_60_step"] = {
    "kind": "simcc", "loss": "simcc", "decode": "direct", "train_data": "fresh", "epochs": 60,
    "lr_schedule": "step", "lr_milestones": [50, 55],
    "description": "SimCCNet (seed encoder + SimCC head, 2 bins per pixel, KL loss), fresh synthetic training "
                   "images, 60 epochs, learning rate x0.1 after epochs 50 and 55"}

# the same run stopped at its plateau: validation PCK flattened at ~87 % over epochs 18-21 at the constant
# rate, so the rate drops after epochs 25 and 29 instead of 50 and 55. Identical to simcc_fresh_60_step
# step for step up to epoch 25 (fresh images are a function of (seed, index), the schedule of the step).
BASE["simcc_fresh_32_step"] = {
    **BASE["simcc_fresh_60_step"], "epochs": 32, "lr_milestones": [25, 29],
    "description": "SimCCNet (seed encoder + SimCC head, 2 bins per pixel, KL loss), fresh synthetic training "
                   "images, 32 epochs, learning rate x0.1 after epochs 25 and 29 (stopped at the constant-rate plateau)"}

KEYS = {"kind", "heatmap_size", "sigma", "skip", "loss", "decode", "dropout", "beta", "description",
        "train_data",    # "split" (the stored training split every epoch) or "fresh" (data/stick/fresh.py)
        "lr_schedule",   # "constant" (seed), "cosine" or "step" (engine/schedules.py)
        "lr_milestones",  # epochs after which the "step" schedule multiplies the rate by 0.1
        "context",       # dilated context blocks at the HeatmapNet bottleneck (models/heatmap_net.py)
        "epochs",        # overrides train.epochs for this experiment (not for ablate, which sets its own)
        "seed",          # overrides run.seed for model initialisation and batch order (not the images)
        "base"}          # config-defined experiments: start from this experiment's spec


def known_experiments(cfg: dict[str, Any]) -> list[str]:
    """The built-in experiments and the profile's own ``[experiments.NAME]``, sorted."""
    return sorted({*BASE, *cfg.get("experiments", {})})


def get_experiment(cfg: dict[str, Any], name: str, _chain: tuple[str, ...] = ()) -> dict[str, Any]:
    over = dict(cfg.get("experiments", {}).get(name, {}))
    unknown = set(over) - KEYS
    if unknown:
        raise ConfigError(f"unknown keys {sorted(unknown)} in experiments.{name}")
    base = over.pop("base", None)
    if base in (*_chain, name):
        raise ConfigError(f"experiments.{name}: base chain {' -> '.join((*_chain, name, base))} is a cycle")
    spec = get_experiment(cfg, base, (*_chain, name)) if base else copy.deepcopy(BASE.get(name, {}))
    spec.update(over)
    if not spec:
        raise ConfigError(f"unknown experiment {name!r}; known: {', '.join(known_experiments(cfg))}")
    # the seed models follow the config's codec section
    if name == "heatmap":
        spec["heatmap_size"] = cfg.get("codec", {}).get("heatmap_size", spec["heatmap_size"])
        spec["sigma"] = cfg.get("codec", {}).get("sigma", spec["sigma"])
    spec["name"] = name
    return spec
