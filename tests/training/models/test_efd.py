"""Encoder-Fuser-Decoder shapes, soft-argmax convention and gradient flow, FLOP counting."""
import pytest
import torch
import torch.nn as nn

from keypoint_trainer.metrics.flops import count_macs, count_params
from keypoint_trainer.models.efd import EFD, EncoderExport, Fuser, ModelConfig, ReconstructionExport

TINY = dict(fc_hidden=16, dec_channels=(4, 4, 4, 4))


def test_shapes_and_ranges():
    torch.manual_seed(0)
    m = EFD(ModelConfig(num_keypoints=5, feature_dim=3, **TINY)).eval()
    x = torch.rand(2, 1, 256, 256)
    out = m(x)
    assert out["logits"].shape == (2, 1, 256, 256)
    assert out["keypoints"].shape == (2, 5, 2)
    assert out["features"].shape == (2, 5, 3)
    assert out["heatmaps"].shape == (2, 5, 64, 64)
    assert torch.allclose(out["heatmaps"].sum((-1, -2)), torch.ones(2, 5), atol=1e-5)
    assert ((out["keypoints"] > 0) & (out["keypoints"] < 1)).all()
    hm, kp = EncoderExport(m)(x)
    assert torch.allclose(kp, out["keypoints"]) and torch.allclose(hm, out["heatmaps"])
    rec = ReconstructionExport(m)(x)
    assert torch.allclose(rec, torch.sigmoid(out["logits"]))


def test_soft_argmax_uses_cell_centres():
    """A peaked heatmap at cell (u, v) decodes to ((u + 0.5) / W, (v + 0.5) / H)."""
    logits = torch.full((1, 2, 8, 16), -1e4)
    logits[0, 0, 3, 5] = 0.0
    logits[0, 1, 7, 15] = 0.0
    kp, f, p = Fuser("soft")(logits, torch.ones(1, 3, 8, 16))
    assert torch.allclose(kp[0, 0], torch.tensor([5.5 / 16, 3.5 / 8]))
    assert torch.allclose(kp[0, 1], torch.tensor([15.5 / 16, 7.5 / 8]))
    assert torch.allclose(f, torch.ones(1, 2, 3))
    kh, _, _ = Fuser("hard")(logits, torch.ones(1, 3, 8, 16))
    assert torch.allclose(kh, kp)


def test_soft_fuser_passes_gradients_to_the_heatmaps_and_hard_does_not():
    for mode, expect in (("soft", True), ("hard", False)):
        torch.manual_seed(0)
        m = EFD(ModelConfig(num_keypoints=3, fuser=mode, **TINY))
        out = m(torch.rand(2, 1, 256, 256))
        torch.sigmoid(out["logits"]).mean().backward()
        g = m.encoder.heat.weight.grad
        has = g is not None and float(g.abs().sum()) > 0
        assert has == expect, mode
        assert float(m.encoder.feat.weight.grad.abs().sum()) > 0  # features get gradients either way


def test_encoder_is_lightweight():
    m = EFD(ModelConfig(num_keypoints=16))
    c = count_macs(EncoderExport(m), (1, 1, 256, 256))
    assert count_params(m.encoder) < 100_000
    assert c["macs"] < 100e6
    assert c["per_type_macs"]["conv_transpose"] == 0


def test_mac_counter_matches_the_formula():
    net = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), nn.Conv2d(8, 8, 3, 1, 1, groups=8),
                        nn.ConvTranspose2d(8, 4, 4, 2, 1), nn.Flatten(), nn.Linear(4 * 16 * 16, 10))
    c = count_macs(net, (1, 3, 16, 16))
    conv1 = 8 * 8 * 8 * 3 * 9  # 8x8 output, 8 out channels, 3 in, 3x3
    dw = 8 * 8 * 8 * 1 * 9
    convt = 8 * 8 * 8 * 4 * 16  # input pixels x in channels x out channels x k^2
    lin = 4 * 16 * 16 * 10
    assert c["per_type_macs"] == {"conv": conv1 + dw, "conv_transpose": convt, "linear": lin}
    assert c["flops"] == 2 * c["macs"]


def test_rbf_coordinate_encoding_is_smooth_and_peaks_at_the_keypoint():
    m = EFD(ModelConfig(num_keypoints=2, coord_encoding=8, **TINY))
    kp = torch.tensor([[[0.5625, 0.0625], [0.3, 0.9]]], requires_grad=True)
    enc = m.decoder.encode(kp)  # [1, 2, 2 * 8]
    assert enc.shape == (1, 2, 16)
    assert int(enc[0, 0, :8].argmax()) == 4 and float(enc[0, 0, 4]) == 1.0  # centre (4 + 0.5) / 8
    assert int(enc[0, 0, 8:].argmax()) == 0
    enc.sum().backward()
    assert kp.grad.abs().sum() > 0  # differentiable w.r.t. the keypoint location
