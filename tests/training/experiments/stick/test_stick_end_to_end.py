"""Quick-profile runs: loss decreases, resume equivalence, export validity."""
import base64
import json

import numpy as np
import pytest
import torch

from keypoint_trainer.codecs.heatmap import decode_heatmaps
from keypoint_trainer.core.preprocessing import preprocess
from keypoint_trainer.experiments.stick.train import train_experiment
from keypoint_trainer.core.provenance import REPO_ROOT


def f32(b64):
    return np.frombuffer(base64.b64decode(b64), dtype="<f4")


def test_quick_run_loss_decreases(trained_quick):
    cfg, logs = trained_quick
    for name, lg in logs.items():
        h = lg["history"]
        assert lg["completed"] and len(h) == cfg["train"]["epochs"] == 2
        assert h[-1]["train_loss"] < h[0]["train_loss"], (name, h)
        assert lg["best_epoch"] in (1, 2)
    out = cfg["run"]["out_dir"]
    import pathlib
    d = pathlib.Path(out) / "heatmap"
    assert (d / "heatmap_model.pth").is_file() and (d / "last.pth").is_file()
    assert (d / "snapshots" / "epoch_000.npy").is_file() and (d / "snapshots" / "epoch_002.npy").is_file()
    assert json.loads((d / "training_log.json").read_text())["history"] == logs["heatmap"]["history"]


def test_resume_mid_epoch_gives_identical_results(trained_quick, tmp_path):
    """RegressionNet (dropout: the RNG state matters) killed mid-epoch 2, resumed from last.pth."""
    cfg, logs = trained_quick
    out = tmp_path / "resumed"
    assert train_experiment(cfg, "regression", out_dir=out, stop_after_steps=3, log=lambda *a: None) is None
    ck = torch.load(out / "last.pth")
    assert ck["state"]["epoch"] == 1 and ck["state"]["step_in_epoch"] == 1  # a mid-epoch checkpoint
    lg = train_experiment(cfg, "regression", out_dir=out, resume=True, log=lambda *a: None)
    ref = logs["regression"]
    assert [(h["train_loss"], h["val_loss"]) for h in lg["history"]] == \
           [(h["train_loss"], h["val_loss"]) for h in ref["history"]]
    a = torch.load(out / "regression_model.pth")["model"]
    import pathlib
    b = torch.load(pathlib.Path(cfg["run"]["out_dir"]) / "regression" / "regression_model.pth")["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_export_is_valid_and_golden_is_consistent(trained_quick, tmp_path):
    import onnx

    from keypoint_trainer.experiments.stick.export import export_experiment
    from keypoint_trainer.core.manifest import validate_manifest

    cfg, _ = trained_quick
    out = tmp_path / "export"
    man = export_experiment(cfg, "heatmap", out, log=lambda *a: None)
    validate_manifest(man, out)
    assert not str(man["training"]["config"]).startswith(str(REPO_ROOT))  # no machine paths in manifests
    assert man["input"]["name"] == "image" and man["outputs"]["heatmaps"]["name"] == "heatmaps"
    assert man["outputs"]["heatmaps"]["stride"] == 2.0 and man["decoding"]["method"] == "dark"
    model = onnx.load(str(out / "model.onnx"))
    onnx.checker.check_model(model)
    assert model.opset_import[0].version == 17
    assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_param  # dynamic batch
    golden = json.loads((out / "golden.json").read_text())
    assert len(golden["samples"]) == cfg["export"]["golden_samples"]
    for s in golden["samples"]:
        h, w = s["input"]["height"], s["input"]["width"]
        raw = f32(s["input"]["data_b64"]).reshape(h, w)
        x = f32(s["model_input_b64"]).reshape(1, 1, 128, 128)
        assert np.array_equal(preprocess(raw), x)
        o = s["outputs"]["heatmaps"]
        hm = f32(o["data_b64"]).reshape(o["shape"])
        norm, conf = decode_heatmaps(hm[0], "dark")
        kp = norm * [w, h]
        assert np.allclose(kp, s["keypoints"], atol=1e-9)
        assert np.allclose(conf, s["confidence"])
    # regression export
    man_r = export_experiment(cfg, "regression", tmp_path / "export_r", log=lambda *a: None)
    assert man_r["task"] == "regression" and man_r["outputs"]["coordinates"]["name"] == "coords"
    assert man_r["decoding"]["method"] == "direct"


def test_a_recorded_evaluation_is_read_back_where_the_weights_are_gone(trained_quick, tmp_path):
    import shutil

    from keypoint_trainer.experiments.stick.evaluate import evaluate_run
    from keypoint_trainer.experiments.stick.train import recorded_without_weights, run_dir

    cfg, _ = trained_quick
    for name in ("heatmap", "regression"):
        shutil.copytree(run_dir(cfg, name), tmp_path / "runs" / name)
    here = {**cfg, "run": {**cfg["run"], "out_dir": str(tmp_path / "runs"), "record": str(tmp_path / "record")}}
    measured = evaluate_run(here, models=["heatmap", "regression"], figures=False, log=lambda *a: None)
    assert (tmp_path / "record" / "heatmap" / "predictions_test.npz").is_file()
    assert recorded_without_weights(here, "heatmap") is None  # the weights are here: train resumes as usual

    fresh = {**here, "run": {**here["run"], "out_dir": str(tmp_path / "fresh")}}  # a fresh checkout: record only
    assert recorded_without_weights(fresh, "heatmap") == tmp_path / "record" / "heatmap"
    recalled = evaluate_run(fresh, models=["heatmap", "regression"], figures=False, log=lambda *a: None)
    assert recalled["metrics"] == measured["metrics"]  # metrics as measured, breakdowns from the predictions
    assert recalled["breakdown"] == measured["breakdown"] and recalled["failure_cases"] == measured["failure_cases"]
    assert not (tmp_path / "fresh" / "heatmap" / "heatmap_model.pth").exists()
