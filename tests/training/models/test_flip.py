"""Test-time flip averaging (models/flip.py): exact mirroring, evaluation and export."""
import base64
import json

import numpy as np
import pytest
import torch

from keypoint_trainer.codecs.heatmap import encode_heatmaps
from keypoint_trainer.core.keypoints import STICK_FIGURE
from keypoint_trainer.models.flip import FlipTest, flip_permutation
from keypoint_trainer.models.heatmap_net import HeatmapNet


def test_flip_permutation_swaps_pairs_only():
    assert flip_permutation(5, STICK_FIGURE.flip_pairs) == [0, 2, 1, 4, 3]
    assert flip_permutation(3, [(0, 2)]) == [2, 1, 0]


def test_flip_test_needs_flip_pairs():
    with pytest.raises(ValueError, match="flip pairs"):
        FlipTest(HeatmapNet(), 5, ())


def test_flip_test_is_mirror_equivariant():
    """Mirroring the input mirrors the output and swaps left/right, for any network."""
    torch.manual_seed(0)
    m = FlipTest(HeatmapNet(), 5, STICK_FIGURE.flip_pairs).eval()
    x = torch.rand(2, 1, 128, 128)
    with torch.no_grad():
        a = m(x)
        b = m(torch.flip(x, dims=[-1]))
    assert a.shape == (2, 5, 64, 64)
    assert torch.allclose(torch.flip(b, dims=[-1])[:, [0, 2, 1, 4, 3]], a, atol=1e-6)


class _Oracle(torch.nn.Module):
    """Stands in for a network: Gaussian heatmaps of fixed keypoints, mirrored with the image
    (the keypoints are read off the image's asymmetric marker)."""

    def __init__(self, kpts):
        super().__init__()
        self.kpts = np.asarray(kpts, dtype=np.float64)

    def forward(self, x):
        out = []
        for img in x:
            mirrored = bool(img[0, 0, -1] > img[0, 0, 0])  # the marker pixel moved to the right
            k = self.kpts.copy()
            if mirrored:
                k[:, 0] = 128 - k[:, 0]
                k = k[[0, 2, 1, 4, 3]]  # the image's right-hand limb is "left_hand" by convention
            out.append(torch.from_numpy(encode_heatmaps(k, (128, 128), (64, 64), 2.0)[0]))
        return torch.stack(out)


def test_flip_test_of_a_consistent_network_keeps_its_heatmaps():
    """If the mirrored prediction agrees with the plain one, averaging changes nothing: the
    mirroring and channel swap are aligned with the grid (no half-cell shift)."""
    kpts = [[60.3, 20.7], [90.1, 50.2], [30.6, 55.5], [75.2, 110.9], [45.8, 108.4]]
    x = torch.zeros(1, 1, 128, 128)
    x[0, 0, 0, 0] = 1.0
    oracle = _Oracle(kpts)
    with torch.no_grad():
        plain = oracle(x)
        flipped = FlipTest(oracle, 5, STICK_FIGURE.flip_pairs)(x)
    assert torch.allclose(plain, flipped, atol=1e-6)


def test_evaluation_reports_flip_method(trained_quick):
    from keypoint_trainer.experiments.stick.evaluate import evaluate_experiment
    from keypoint_trainer.data.stick.dataset import load_split

    cfg, _ = trained_quick
    x, _, gt = load_split(cfg, "test")
    metrics, preds = evaluate_experiment(cfg, "heatmap", x, gt)
    assert set(metrics) == {"heatmap", "heatmap+argmax", "heatmap+flip"}
    assert metrics["heatmap+flip"]["decode"] == "dark+flip"
    assert preds["heatmap+flip"].shape == gt.shape
    assert not np.array_equal(preds["heatmap+flip"], preds["heatmap"])


def test_export_with_flip_test_serves_the_averaged_heatmaps(trained_quick, tmp_path):
    import copy

    import onnx

    from keypoint_trainer.experiments.stick.export import export_experiment
    from keypoint_trainer.core.manifest import validate_manifest
    from keypoint_trainer.experiments.stick.train import load_trained

    cfg, _ = trained_quick
    cfg = copy.deepcopy(cfg)
    cfg["export"]["flip_test"] = ["heatmap"]
    out = tmp_path / "export"
    man = export_experiment(cfg, "heatmap", out, log=lambda *a: None)
    validate_manifest(man, out)
    assert man["training"]["flip_test"] is True and "flip" in man["description"]
    tr = man["training"]
    assert tr["completed"] is True and tr["epochs_completed"] == tr["epochs"] == cfg["train"]["epochs"]
    onnx.checker.check_model(onnx.load(str(out / "model.onnx")))
    model, _ = load_trained(cfg, "heatmap")
    ref = FlipTest(model, 5, STICK_FIGURE.flip_pairs).eval()
    for s in json.loads((out / "golden.json").read_text())["samples"]:
        x = np.frombuffer(base64.b64decode(s["model_input_b64"]), dtype="<f4").reshape(1, 1, 128, 128)
        o = s["outputs"]["heatmaps"]
        hm = np.frombuffer(base64.b64decode(o["data_b64"]), dtype="<f4").reshape(o["shape"])
        with torch.no_grad():
            expected = ref(torch.from_numpy(x.copy())).numpy()
            plain = model(torch.from_numpy(x.copy())).numpy()
        assert np.allclose(hm, expected, atol=1e-6)
        assert not np.allclose(hm, plain, atol=1e-4)
