"""The one exporter: ONNX export + interface check, golden samples of a codec head."""
import numpy as np
import pytest
import torch

from keypoint_trainer.core.preprocessing import STICK_FIGURE_INPUT, InputSpec
from keypoint_trainer.engine.export import check_onnx, codec_golden, export_onnx, golden_sample, tensor_b64
from keypoint_trainer.models.factory import build_model


class Two(torch.nn.Module):
    def forward(self, x):
        return x.mean(dim=(2, 3)), x * 2


def test_export_checks_the_interface(tmp_path):
    spec = InputSpec(name="pressure", height=8, width=8)
    path = export_onnx(Two(), tmp_path / "m.onnx", spec, ["a", "b"], batch_dim="N")
    check_onnx(path, spec, ["a", "b"])
    with pytest.raises(ValueError, match="outputs"):
        check_onnx(path, spec, ["a"])
    with pytest.raises(ValueError, match="input shape"):
        check_onnx(path, InputSpec(name="pressure", height=16, width=8), ["a", "b"])


def test_golden_of_a_codec_head_decodes_with_its_codec():
    torch.manual_seed(0)
    model = build_model({"kind": "heatmap"}).eval()
    raw = np.random.default_rng(0).uniform(0, 255, (128, 128)).astype(np.float32)
    g = codec_golden(model, [("a", raw), ("b", raw[::-1].copy())], 1, STICK_FIGURE_INPUT)
    assert g["decoding"] == "dark" and len(g["samples"]) == 1
    s = g["samples"][0]
    assert set(s) >= {"id", "input", "model_input_b64", "outputs", "keypoints", "confidence"}
    assert s["outputs"]["heatmaps"]["shape"] == [1, 5, 64, 64]
    base = golden_sample("x", raw, raw[None, None], {"y": np.zeros((1, 2), np.float32)})
    assert base["input"] == {"height": 128, "width": 128, "data_b64": tensor_b64(raw)["data_b64"]}
