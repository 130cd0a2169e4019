"""Export: schema-valid manifest with both ONNX files, joints head and golden samples."""
import base64
import json

import numpy as np
import onnx
import pytest
import torch

from keypoint_trainer.core.manifest import validate_manifest
from keypoint_trainer.data.pressure import SLP_MAT, UNFAMILIAR_MAT, simulate_sample
from keypoint_trainer.experiments.spmkd.export import write_model_dir
from keypoint_trainer.models.efd import EFD, ModelConfig


def _f32(s, shape):
    return np.frombuffer(base64.b64decode(s), dtype="<f4").reshape(shape)


def test_export_manifest_onnx_and_golden(tmp_path):
    torch.manual_seed(0)
    k = 3
    model = EFD(ModelConfig(num_keypoints=k, feature_dim=2, fc_hidden=16, dec_channels=(4, 4, 4, 4))).eval()
    head = {"weight": np.random.default_rng(0).normal(0, 0.1, (28, 2 * k)), "bias": np.full(28, 0.5)}
    maps = [("slp", simulate_sample(np.random.default_rng(1), SLP_MAT).pressure),
            ("unf", simulate_sample(np.random.default_rng(2), UNFAMILIAR_MAT).pressure)]
    man = write_model_dir(model, tmp_path, head=head, golden_maps=maps, metrics={"x": 1})
    validate_manifest(json.loads((tmp_path / "manifest.json").read_text()), tmp_path)
    assert man["task"] == "spmkd" and man["decoding"] == {"method": "direct"}
    assert man["input"]["normalization"]["kind"] == "max" and man["input"]["value_domain"] == "pressure"
    assert man["input"]["height"] == man["input"]["width"] == 256
    assert man["outputs"]["heatmaps"] == {"name": "heatmaps", "height": 64, "width": 64, "stride": 4.0}
    assert man["outputs"]["reconstruction"]["model_file"] == "reconstruction.onnx"
    assert len(man["keypoints"]) == k and man["skeleton"] == []
    assert np.array(man["joints"]["weight"]).shape == (28, 2 * k) and len(man["joints"]["names"]) == 14
    for f, outs in (("model.onnx", ["heatmaps", "keypoints"]), ("reconstruction.onnx", ["reconstruction"])):
        g = onnx.load(str(tmp_path / f)).graph
        assert [i.name for i in g.input] == ["pressure"] and [o.name for o in g.output] == outs
    golden = json.loads((tmp_path / "golden.json").read_text())
    # the first sample carries the heatmaps (K x 64 x 64), the others only the smaller outputs
    assert [sorted(g["outputs"]) for g in golden["samples"]] == [["heatmaps", "keypoints", "reconstruction"],
                                                                ["keypoints", "reconstruction"]]
    s = golden["samples"][1]
    assert (s["input"]["height"], s["input"]["width"]) == (64, 32)
    raw = _f32(s["input"]["data_b64"], (64, 32))
    assert np.array_equal(raw, maps[1][1])
    x = _f32(s["model_input_b64"], (1, 1, 256, 256))
    assert x.max() == 1.0 and x.min() >= 0.0
    kp = _f32(s["outputs"]["keypoints"]["data_b64"], s["outputs"]["keypoints"]["shape"])[0]
    # decoded keypoints are the normalised ones scaled to the caller's input size
    assert np.allclose(np.array(s["keypoints"]), kp * [32, 64], atol=1e-4)
    joints_norm = (kp.reshape(-1) @ np.array(man["joints"]["weight"]).T + man["joints"]["bias"]).reshape(14, 2)
    assert np.allclose(np.array(s["joints"]), joints_norm * [32, 64], atol=1e-3)
    with torch.no_grad():
        rec = torch.sigmoid(model(torch.from_numpy(x.copy()))["logits"]).numpy()
    assert np.allclose(_f32(s["outputs"]["reconstruction"]["data_b64"], (1, 1, 256, 256)), rec, atol=1e-5)


def test_cli_and_fixture_are_registered():
    from keypoint_trainer.cli import build_parser, registered_commands
    from keypoint_trainer.plugins import registered_fixtures

    build_parser()
    assert "spmkd" in registered_commands()
    assert "spmkd" in registered_fixtures()
    args = build_parser().parse_args(["spmkd", "train", "--profile", "full", "--only", "main"])
    assert args.action == "train" and args.only == ["main"]


def test_manifest_metrics_carry_the_named_figures():
    """The metrics issue 17 names for a published SPMKD model, taken from the main run's results."""
    from keypoint_trainer.experiments.spmkd.export import manifest_metrics

    split = lambda err, pck, post: {"joints": {"pck_torso@0.2": pck, "pck_bbox@0.2": 0.9, "mean_err_cells": err / 2.5,
                                               "mean_err_cm": err}, "posture": {"accuracy": post}}
    res = {"labelled": 100, "runs": {"main": {
        "recon": {"test": {"l2": 0.003, "ssim": 0.8}, "unf_test": {"l2": 0.005, "ssim": 0.7}},
        "splits": {"test": split(7.5, 0.6, 0.97), "unf_test": split(9.0, 0.5, 0.9)},
        "complexity": {"encoder": {"params": 70000, "macs": 300_000_000}}}}}
    m = manifest_metrics(res, 128)
    assert (m["joints_mean_error_cm"], m["joints_pck_torso@0.2"], m["posture_accuracy"]) == (7.5, 0.6, 0.97)
    assert (m["posture_accuracy_unfamiliar"], m["encoder_params"], m["keypoints"]) == (0.9, 70000, 128)
    assert m["posture_classifier_mats"] == "slp"
    # serving the classifier that has also seen the unfamiliar mat: the manifest carries its accuracies
    res["runs"]["main"]["splits"]["unf_test_refit"] = {"head_n": 100, "posture": {"accuracy": 0.96},
                                                       "posture_slp": {"accuracy": 0.99}}
    both = manifest_metrics(res, 128, posture_mats="both")
    assert (both["posture_accuracy"], both["posture_accuracy_unfamiliar"], both["posture_classifier_mats"]) == (0.99, 0.96, "both")
    assert both["joints_mean_error_cm"] == 7.5  # the joint head is the same


def test_posture_mats_is_slp_or_both():
    from keypoint_trainer.core.config import load_config
    from keypoint_trainer.experiments.spmkd.pipeline import Profile

    cfg = load_config("quick", [], family="spmkd")
    assert Profile.from_config(cfg).posture_mats == "slp"
    cfg["export"]["posture_mats"] = "both"
    assert Profile.from_config(cfg).posture_mats == "both"
    cfg["export"]["posture_mats"] = "all"
    with pytest.raises(ValueError, match="posture_mats"):
        Profile.from_config(cfg)
