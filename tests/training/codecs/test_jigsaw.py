"""HSJP pretext: shuffling, targets, affine-moved targets, Eq. 2 masking, puzzle precision, transfer."""
import math
from collections import Counter

import numpy as np
import pytest
import torch

from keypoint_trainer.codecs.jigsaw import (PretextSpec, affine_matrix, default_eps, fisher_yates, gaussian_targets,
                                           inside, located, make_sample, masked_mse, patch_size, pretext_loss,
                                           puzzle_precision, shuffle_patches, sigma_bound, slot_centres, softmax_ce,
                                           softmax_ce_floor, target_centres, transform_points, warp)

S = 128


def patch_image(n, size=S):
    """Patch i (row-major) filled with the value (i + 1) / (n^2 + 1)."""
    p = patch_size(size, n)
    yy, xx = np.mgrid[0:size, 0:size]
    return (((yy // p) * n + xx // p) + 1) / (n * n + 1.0)


def test_fisher_yates_is_a_uniform_seeded_permutation():
    rng = np.random.default_rng(0)
    for n in (4, 9, 36):
        p = fisher_yates(n, rng)
        assert sorted(p.tolist()) == list(range(n))
    assert np.array_equal(fisher_yates(36, np.random.default_rng(5)), fisher_yates(36, np.random.default_rng(5)))
    counts = Counter(tuple(fisher_yates(3, rng)) for _ in range(6000))
    assert len(counts) == 6 and all(850 < c < 1150 for c in counts.values())


@pytest.mark.parametrize("n", [2, 3, 4, 5, 6])
def test_shuffled_slots_show_the_permuted_patches_and_targets_point_at_them(n):
    img = patch_image(n)
    perm = fisher_yates(n * n, np.random.default_rng(n))
    out = shuffle_patches(img, n, perm)
    centres = target_centres(perm, S, n)
    assert centres.max() < S  # rounded-up patches: the last slot centre is still inside
    for i in range(n * n):
        x, y = centres[i].astype(int)
        assert out[y, x] == pytest.approx((i + 1) / (n * n + 1.0))
    # identity permutation leaves the image unchanged; slot centres are (c + 0.5) p
    assert np.array_equal(shuffle_patches(img, n, np.arange(n * n)), img)
    p = patch_size(S, n)
    assert np.allclose(slot_centres(S, n)[n + 1], [1.5 * p, 1.5 * p])


@pytest.mark.parametrize("n", [2, 3, 4, 5, 6])
def test_sigma_is_below_the_three_sigma_bound_and_targets_peak_at_the_centres(n):
    spec = PretextSpec(n=n)
    assert spec.sigma_px(S) < sigma_bound(S, n) == pytest.approx(S / (6 * n))
    s = make_sample(patch_image(n), spec, np.random.default_rng(1), augment=False)
    assert s["target"].shape == (n * n, 64, 64) and s["mask"].all()
    assert s["target"].max() <= 1.0
    assert located(s["target"], s["centres"], S, 1.5).all()  # argmax cell within 1 cell (2 px)


def test_affine_moves_image_content_and_targets_together():
    A = affine_matrix(S, 1.2, math.radians(30), (7.0, -5.0))
    img = np.zeros((S, S))
    img[40, 70] = 1.0  # pixel centre (70.5, 40.5)
    w = warp(img, A)
    y, x = np.unravel_index(np.argmax(w), w.shape)
    assert np.linalg.norm(np.array([x + 0.5, y + 0.5]) - transform_points(A, [[70.5, 40.5]])[0]) <= 1.0
    # with augmentation, the shuffled+warped input at channel i's target shows original patch i
    n = 4
    spec = PretextSpec(n=n, colour=False)
    for seed in range(5):
        s = make_sample(patch_image(n), spec, np.random.default_rng(seed))
        for i in np.nonzero(s["mask"])[0]:
            x, y = s["centres"][i]
            v = s["input"][0, int(y), int(x)]
            assert v == pytest.approx((i + 1) / (n * n + 1.0), abs=1e-6), (seed, i)


def test_channels_whose_centre_leaves_the_image_are_masked_and_ignored_by_the_loss():
    n = 3
    centres = transform_points(affine_matrix(S, 1.0, 0.0, (60.0, 0.0)), slot_centres(S, n))
    m = inside(centres, S)
    assert m.tolist() == [True, True, False] * 3
    spec = PretextSpec(n=n, scale=0.0, rotate=0.0, translate=0.5, colour=False)
    rng = np.random.default_rng(3)
    for _ in range(20):
        s = make_sample(patch_image(n), spec, rng)
        assert np.array_equal(s["mask"] > 0, inside(s["centres"], S))
        assert (s["target"][s["mask"] == 0] == 0).all()
        if (s["mask"] == 0).any():
            break
    else:
        pytest.fail("no sample had a centre outside the image")
    t = torch.from_numpy(s["target"])[None]
    mk = torch.from_numpy(s["mask"])[None]
    pred = torch.rand_like(t)
    loss = masked_mse(pred, t, mk)
    manual = sum(float(((pred[0, i] - t[0, i]) ** 2).sum()) for i in range(n * n) if mk[0, i]) / (n * n * 64 * 64)
    assert float(loss) == pytest.approx(manual, rel=1e-5)
    pred2 = pred.clone()
    pred2[0, mk[0] == 0] += 5.0  # masked channels do not count
    assert float(masked_mse(pred2, t, mk)) == pytest.approx(float(loss), rel=1e-6)


def _batch(n=3, seeds=(0, 1)):
    ss = [make_sample(patch_image(n), PretextSpec(n=n), np.random.default_rng(k), augment=False) for k in seeds]
    return torch.from_numpy(np.stack([s["target"] for s in ss])).float(), torch.from_numpy(np.stack([s["mask"] for s in ss]))


def test_softmax_ce_prefers_the_correct_placement_and_has_a_gradient_at_the_all_zero_output():
    n = 3
    t, m = _batch(n)
    good = 8.0 * t                                   # logits peaked at every channel's own target
    shuffled = good[:, torch.roll(torch.arange(n * n), 1)]  # every channel peaked at another patch's slot
    assert float(softmax_ce(good, t, m)) < float(softmax_ce(torch.zeros_like(t), t, m)) < float(softmax_ce(shuffled, t, m))
    # the all-zero output is the uniform distribution over the h x w cells: log(h w), not a minimum
    zero = torch.zeros_like(t, requires_grad=True)
    loss = softmax_ce(zero, t, m)
    assert float(loss) == pytest.approx(math.log(64 * 64), rel=1e-5)
    loss.backward()
    g = zero.grad
    assert g.abs().sum() > 0
    # descending the gradient raises every channel's logit at its own target peak
    peak = t.reshape(*t.shape[:2], -1).argmax(-1)
    gp = g.reshape(*g.shape[:2], -1).gather(-1, peak[..., None])[..., 0]
    assert (gp < 0).all()
    # the perfect logits (log of the normalised target) reach the entropy floor, below the peaked guess
    best = torch.log(t.clamp_min(1e-30))
    assert float(softmax_ce(best, t, m)) == pytest.approx(softmax_ce_floor(t, m), rel=1e-4)
    assert softmax_ce_floor(t, m) < float(softmax_ce(good, t, m))
    # whereas the paper's MSE barely separates the all-zero output from the perfect one
    assert float(masked_mse(torch.zeros_like(t), t, m)) < 0.01


def test_softmax_ce_ignores_masked_channels_like_masked_mse():
    n = 3
    t, m = _batch(n, seeds=(4,))
    m[0, [2, 5]] = 0.0
    t[0, [2, 5]] = 0.0                               # make_sample zeroes the target of a masked channel
    pred = torch.randn_like(t, requires_grad=True)
    loss = softmax_ce(pred, t, m)
    ce = [-(torch.log_softmax(pred[0, i].reshape(-1), 0) * (t[0, i] / t[0, i].sum()).reshape(-1)).sum()
          for i in range(n * n) if m[0, i]]
    assert float(loss) == pytest.approx(float(sum(ce)) / (n * n), rel=1e-5)
    assert torch.isfinite(loss)
    loss.backward()
    assert pred.grad[0, [2, 5]].abs().sum() == 0 and pred.grad[0, 0].abs().sum() > 0
    pred2 = pred.detach().clone()
    pred2[0, [2, 5]] += 5.0 * torch.randn(2, 64, 64)
    assert float(softmax_ce(pred2, t, m)) == pytest.approx(float(loss), rel=1e-6)


def test_pretext_loss_names():
    assert pretext_loss("mse") is masked_mse and pretext_loss("softmax_ce") is softmax_ce
    with pytest.raises(ValueError):
        pretext_loss("l1")


def test_puzzle_precision_needs_every_patch_within_eps():
    n = 3
    s = make_sample(patch_image(n), PretextSpec(n=n), np.random.default_rng(0), augment=False)
    eps = default_eps(S, n)
    assert eps == patch_size(S, n) / 2
    assert located(s["target"], s["centres"], S, eps).all()
    moved = s["target"].copy()
    moved[4] = gaussian_targets(s["centres"][4:5] + [eps + 2, 0], S, 64, 2.0)[0]
    ok = located(moved, s["centres"], S, eps)
    assert ok.sum() == n * n - 1 and not ok[4]
    assert puzzle_precision(np.array([True, False, True, True])) == 0.75


def test_transfer_copies_all_but_the_final_conv_and_collapses_a_two_channel_conv1():
    from keypoint_trainer.experiments.hsjp.train import pretext_model, transfer
    from keypoint_trainer.models.heatmap_net import HeatmapNet

    torch.manual_seed(0)
    pre = pretext_model(PretextSpec(n=3, concat=True))
    down = HeatmapNet(5)
    copied = transfer(pre.state_dict(), down)
    sd = down.state_dict()
    assert not any(k.startswith("final.") for k in copied)
    assert torch.equal(sd["encoder.conv1.0.weight"], pre.state_dict()["encoder.conv1.0.weight"].sum(1, keepdim=True))
    assert torch.equal(sd["deconv2.0.weight"], pre.state_dict()["deconv2.0.weight"])
    assert len(copied) == len(sd) - 2  # final.weight, final.bias
