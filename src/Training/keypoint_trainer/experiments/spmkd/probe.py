"""``spmkd probe``: where a stage-2 run (or the supervised baseline) stands against the joint and
posture goals while it trains.

The plateau rule watches reconstruction; the goals are about joints and posture. A probe loads the
run's current checkpoint (``stage2/last.pth``), fits the linear joint head on the labelled training
maps and the posture MLP exactly as the report does (pipeline.py), scores the held-out people of
both mats and appends one row to ``<run>/probe.jsonl``; beside it the same head given every
training label (:func:`head_capacity`) and a non-linear (MLP) read-out given the 100 labels and all of
them (:func:`readout_capacity`). Probes taken along a run are the curve of joint error
against stage-2 steps; each costs one inference over ~3,400 maps (a few minutes on a core).
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ...data.pressure.splits import DataSpec, joints_to_norm, mat_pitch_cm, mat_shape, norm_to_cells
from ...metrics.joints import joint_metrics
from ...models.joint_head import apply_linear_head, fit_linear_head
from ...models.joint_readout import MLPJointReadout


def probe(run_dir: Path, data_paths: dict[str, Path], spec: DataSpec, log=print, readout_iters: int = 3000) -> dict[str, Any]:
    from .evaluate import evaluate_keypoints, evaluation_data, infer
    from .train import load_trained

    checkpoint = Path(run_dir) / "stage2" / "last.pth"
    if not checkpoint.is_file():
        raise FileNotFoundError(2, "no stage-2 checkpoint yet (the run has not reached stage 2)", str(checkpoint))
    step = int(torch.load(checkpoint, map_location="cpu")["state"]["step"])
    t0 = time.monotonic()
    e = evaluation_data(data_paths, spec)
    model = load_trained(run_dir, checkpoint)
    outs = {s: infer(model, e["data"][s]["pressure"]) for s in ("train", "test", "unf_labelled", "unf_test")}
    kp = {s: o["keypoints"] for s, o in outs.items()}
    sub = np.union1d(e["labelled"], e["posture"])  # the report's labelled subsets, as pipeline.py reduces them
    ev = evaluate_keypoints({**kp, "train": kp["train"][sub]}, e["dsub"], e["info"], e["lab_local"], e["pos_local"],
                            refit_split="unf_labelled")
    row = {"stage2_step": step, "test_l2": float(outs["test"]["l2"].mean()),
           "test_ssim": float(outs["test"]["ssim"].mean()), "labelled": int(len(e["labelled"]))}
    row.update(goal_columns(ev))
    refit = ev["splits"]["unf_test_refit"]  # the unfamiliar mat's labelled maps given to the head and classifier
    row.update({"joints_mean_error_cm_unfamiliar_refit": refit["joints"]["mean_err_cm"],
                "posture_accuracy_unfamiliar_refit": refit["posture"]["accuracy"]})
    row.update(head_capacity(kp, e["data"], e["info"]))
    row.update(readout_capacity(kp, e["data"], e["info"], e["labelled"], readout_iters))
    append_row(run_dir, row, t0)
    log(f"[probe] stage-2 step {step}: joints {row['joints_mean_error_cm']:.1f} cm (unfamiliar "
        f"{row['joints_mean_error_cm_unfamiliar']:.1f}; head on all {row['all_labels']} labels "
        f"{row['joints_mean_error_cm_all_labels']:.1f}, its fit {row['joints_fit_error_cm_all_labels']:.1f}; MLP read-out "
        f"{row['joints_mean_error_cm_mlp_labelled']:.1f} with {row['labelled']} labels, {row['joints_mean_error_cm_mlp_all_labels']:.1f} "
        f"with all, its fit {row['joints_fit_error_cm_mlp_all_labels']:.1f}), PCK@0.2 torso {row['joints_pck_torso@0.2']:.3f}, posture "
        f"{row['posture_accuracy']:.3f} / {row['posture_accuracy_unfamiliar']:.3f} (with the unfamiliar mat's labels "
        f"{row['posture_accuracy_unfamiliar_refit']:.3f}), L2 {row['test_l2']:.5f} "
        f"({row['probe_s']} s)")
    return row


def probe_baseline(run_dir: Path, data_paths: dict[str, Path], spec: DataSpec, baseline_cfg, log=print) -> dict[str, Any]:
    """The supervised baseline's joints and posture at its last checkpoint (or final model), per joint:
    what a model trained with every label reads from the same maps. One row in ``<run>/probe.jsonl``."""
    from .baseline import load_baseline, predict_baseline
    from .evaluate import evaluate_joint_predictions, evaluation_data

    run_dir = Path(run_dir)
    final, checkpoint = run_dir / "final.pth", run_dir / "last.pth"
    if not final.is_file() and not checkpoint.is_file():
        raise FileNotFoundError(2, "no baseline checkpoint yet", str(checkpoint))
    step = int(torch.load(checkpoint, map_location="cpu")["state"]["step"])
    t0 = time.monotonic()
    e = evaluation_data(data_paths, spec)
    model = load_baseline(run_dir, baseline_cfg, None if final.is_file() else checkpoint)
    pred = {s: predict_baseline(model, e["dsub"][s]["pressure"], baseline_cfg) for s in ("train", "test", "unf_test")}
    ev = evaluate_joint_predictions(pred, e["dsub"], e["info"], e["pos_local"])
    row: dict[str, Any] = {"step": step, "final": final.is_file()}
    row.update(goal_columns(ev))
    append_row(run_dir, row, t0)
    log(f"[probe] baseline step {step}: joints {row['joints_mean_error_cm']:.1f} cm (unfamiliar "
        f"{row['joints_mean_error_cm_unfamiliar']:.1f}), PCK@0.2 torso {row['joints_pck_torso@0.2']:.3f}, posture "
        f"{row['posture_accuracy']:.3f} / {row['posture_accuracy_unfamiliar']:.3f} ({row['probe_s']} s)")
    return row


def goal_columns(ev: dict[str, Any]) -> dict[str, Any]:
    """The goal's figures of an evaluation (joints, PCK, posture on both mats; per-joint errors on the SLP mat)."""
    row: dict[str, Any] = {}
    for split, suffix in (("test", ""), ("unf_test", "_unfamiliar")):
        j, p = ev["splits"][split]["joints"], ev["splits"][split]["posture"]
        row.update({f"joints_mean_error_cm{suffix}": j["mean_err_cm"], f"joints_pck_torso@0.2{suffix}": j["pck_torso@0.2"],
                    f"posture_accuracy{suffix}": p["accuracy"]})
    row["per_joint_error_cm"] = [round(v, 2) for v in ev["splits"]["test"]["joints"]["per_joint_err_cm"]]
    return row


def append_row(run_dir: Path, row: dict[str, Any], t0: float) -> None:
    row["probe_s"] = round(time.monotonic() - t0, 1)
    with open(Path(run_dir) / "probe.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps(row) + "\n")


def head_capacity(kp: dict[str, np.ndarray], data: dict[str, dict], info: dict[str, dict]) -> dict[str, float]:
    """The linear head given every training label instead of the 100: its error on the training maps
    themselves (how well the keypoints encode the joints linearly at all) and on the held-out people
    (what more labels alone would buy). Separates a label shortage from a representation limit."""
    rows, cols = mat_shape(info["train"])
    head = fit_linear_head(kp["train"], joints_to_norm(data["train"]["joints"], rows, cols), seed=0)
    err = {s: _joint_error(lambda k: apply_linear_head(head, k), s, kp, data, info) for s in ("train", "test")}
    return {"all_labels": int(len(kp["train"])), "joints_mean_error_cm_all_labels": err["test"]["mean_err_cm"],
            "joints_fit_error_cm_all_labels": err["train"]["mean_err_cm"],
            "per_joint_error_cm_all_labels": [round(v, 2) for v in err["test"]["per_joint_err_cm"]]}


def readout_capacity(kp: dict[str, np.ndarray], data: dict[str, dict], info: dict[str, dict],
                     labelled: np.ndarray, iters: int = 3000) -> dict[str, Any]:
    """A non-linear read-out (models/joint_readout.py) instead of the linear head, given the labelled
    subset and every training label: whether the keypoints carry the joints when the map may bend,
    i.e. whether the linear head's floor is the head's or the keypoints'."""
    rows, cols = mat_shape(info["train"])
    target = joints_to_norm(data["train"]["joints"], rows, cols)
    out: dict[str, Any] = {}
    for name, idx in (("labelled", np.asarray(labelled)), ("all_labels", np.arange(len(kp["train"])))):
        mlp = MLPJointReadout(iters=iters, seed=0).fit(kp["train"][idx], target[idx])
        test = _joint_error(mlp.predict, "test", kp, data, info)
        out[f"joints_mean_error_cm_mlp_{name}"] = test["mean_err_cm"]
        out[f"per_joint_error_cm_mlp_{name}"] = [round(v, 2) for v in test["per_joint_err_cm"]]
    # the loop's last read-out is the one given every label: its error on its own training maps
    out["joints_fit_error_cm_mlp_all_labels"] = _joint_error(mlp.predict, "train", kp, data, info)["mean_err_cm"]
    return out


def _joint_error(predict_norm, split: str, kp: dict[str, np.ndarray], data: dict[str, dict],
                 info: dict[str, dict]) -> dict[str, Any]:
    """Joint metrics of a read-out (normalised keypoints -> normalised joints) on one split, in cm."""
    r, c = mat_shape(info[split])
    pred = norm_to_cells(predict_norm(kp[split]), r, c)
    return joint_metrics(pred, data[split]["joints"], mat_pitch_cm(info[split]))


def read_probes(run_dir: Path) -> list[dict[str, Any]]:
    """The probes taken along a run, by step (the last probe of a step wins)."""
    path = Path(run_dir) / "probe.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.is_file() else []
    return sorted({r["stage2_step"]: r for r in rows}.values(), key=lambda r: r["stage2_step"])
