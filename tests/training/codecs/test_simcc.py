"""SimCC codec and head: labels decode back to the coordinates, the loss prefers the truth, shapes."""
import torch

from keypoint_trainer.codecs.simcc import SimCCCodec, SimCCLoss
from keypoint_trainer.models.simcc_net import SimCCNet


def test_labels_are_distributions_that_decode_to_the_coordinates():
    codec = SimCCCodec(input_size=(128, 128), split_ratio=2.0, sigma=6.0)
    coords = torch.tensor([[0.1, 0.9, 0.5, 0.5, 0.3141, 0.2718]])
    tx, ty = codec.labels(coords)
    assert tx.shape == (1, 3, 256) and ty.shape == (1, 3, 256)
    assert torch.allclose(tx.sum(-1), torch.ones(1, 3)) and torch.allclose(ty.sum(-1), torch.ones(1, 3))
    # argmax decoding is exact to half a bin (a quarter pixel at 2 bins per pixel)
    assert (codec.coordinates(torch.cat([tx, ty], dim=-1)) - coords).abs().max() <= 0.5 / codec.bins + 1e-6


def test_loss_is_lower_for_logits_peaked_at_the_truth():
    codec = SimCCCodec()
    loss = SimCCLoss(codec)
    coords = torch.tensor([[0.25, 0.75]])
    tx, ty = codec.labels(coords)
    right = torch.cat([tx.clamp_min(1e-30).log(), ty.clamp_min(1e-30).log()], dim=-1) / loss.beta
    wrong = torch.cat([ty.clamp_min(1e-30).log(), tx.clamp_min(1e-30).log()], dim=-1) / loss.beta
    assert float(loss(right, coords)) < 1e-4 < float(loss(wrong, coords))


def test_net_returns_logits_for_both_axes_and_decodes_to_normalised_coordinates():
    torch.manual_seed(0)
    net = SimCCNet(num_keypoints=5).eval()
    x = torch.rand(2, 1, 128, 128)
    assert net(x).shape == (2, 5, 512)
    served = net.export_module().eval()
    xy = served(x)
    assert xy.shape == (2, 10) and bool(((xy > 0) & (xy < 1)).all())
    # the served graph and the training-side decoder agree (pixels = normalised x 128)
    pixels, _ = net.codec.decode(net(x).detach().numpy())
    assert abs(pixels.reshape(2, 10) - xy.detach().numpy() * 128).max() < 1e-4
