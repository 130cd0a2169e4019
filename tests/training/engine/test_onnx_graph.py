"""engine/onnx_graph.py: the exported graph run in PyTorch gives the module's outputs, op by op and for the
served stick-figure models (their golden samples were computed by PyTorch at export time)."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from keypoint_trainer.core.preprocessing import InputSpec
from keypoint_trainer.engine.export import export_onnx
from keypoint_trainer.engine.onnx_graph import OnnxGraph

ROOT = Path(__file__).resolve().parents[3]


class EveryOp(nn.Module):
    """One path through the ops the stick-figure exports emit (ConvTranspose, BatchNormalization, MaxPool,
    Gemm, MatMul, Flatten, Sigmoid, Sub, Slice, ArgMax, Cast, Reshape)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.up = nn.ConvTranspose2d(4, 3, 4, stride=2, padding=1)
        self.fc = nn.Linear(3 * 8 * 8, 6)
        self.proj = nn.Parameter(torch.randn(6, 10))

    def forward(self, x):
        y = self.bn(torch.nn.functional.max_pool2d(self.conv(x), 2))  # not fused into the Conv
        y = self.up(y)[:, :, 2:10, 1:9]
        flat = self.fc(torch.flatten(y, 1))
        logits = torch.sigmoid(flat @ self.proj) - 0.5
        index = logits.argmax(dim=1).float()
        return logits.reshape(x.shape[0], 2, 5).sum(dim=2) + index[:, None]


def test_every_op_of_the_stick_exports_matches_pytorch(tmp_path):
    torch.manual_seed(0)
    module = EveryOp().eval()
    with torch.no_grad():
        module.bn.running_mean.uniform_(-1, 1)
        module.bn.running_var.uniform_(0.5, 2)
    path = export_onnx(module, tmp_path / "m.onnx", InputSpec(name="x", height=16, width=16), ["y"], batch_dim="N")
    x = torch.randn(3, 1, 16, 16)
    with torch.no_grad():
        expected = module(x).numpy()
    graph = OnnxGraph(path)
    assert graph.inputs == ["x"] and graph.outputs == ["y"]
    got = graph.run({"x": x.numpy()})["y"]
    assert got.shape == expected.shape and np.abs(got - expected).max() < 1e-5


def test_an_op_it_does_not_know_is_refused(tmp_path):
    class Tanh(nn.Module):
        def forward(self, x):
            return torch.tanh(x)

    path = export_onnx(Tanh(), tmp_path / "t.onnx", InputSpec(name="x", height=4, width=4), ["y"])
    with pytest.raises(NotImplementedError, match="op Tanh is not supported"):
        OnnxGraph(path)


@pytest.mark.parametrize("model_dir", ["models/heatmap/6", "models/regression/2", "models/regression-simcc/2"])
def test_a_served_stick_model_reproduces_its_golden_samples(model_dir):
    from keypoint_trainer.experiments.stick.published import GraphModel, golden_difference

    d = ROOT / model_dir
    manifest = json.loads((d / "manifest.json").read_text())
    golden = json.loads((d / manifest["golden_file"]).read_text())
    model = GraphModel(OnnxGraph(d / manifest["model_file"]), codec=None)
    assert golden_difference(model, golden) < 1e-4
