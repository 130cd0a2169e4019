"""SSIM against closed-form values and an independent loop implementation."""
import numpy as np
import pytest
import torch

from keypoint_trainer.metrics.ssim import _filter, _filter_conv, gaussian_window, ssim, ssim_map

C1, C2 = (0.01 * 1.0) ** 2, (0.03 * 1.0) ** 2


def _ref_ssim_map(x, y, size=11, sigma=1.5, L=1.0):
    """Slow float64 reference: Gaussian-weighted statistics window by window."""
    ax = np.arange(size) - (size - 1) / 2
    g = np.exp(-ax ** 2 / (2 * sigma ** 2))
    w = np.outer(g, g)
    w /= w.sum()
    c1, c2 = (0.01 * L) ** 2, (0.03 * L) ** 2
    H, W = x.shape
    out = np.zeros((H - size + 1, W - size + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            a = x[i:i + size, j:j + size]
            b = y[i:i + size, j:j + size]
            ma, mb = (w * a).sum(), (w * b).sum()
            va = (w * (a - ma) ** 2).sum()
            vb = (w * (b - mb) ** 2).sum()
            cov = (w * (a - ma) * (b - mb)).sum()
            out[i, j] = ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma ** 2 + mb ** 2 + c1) * (va + vb + c2))
    return out


def test_identical_maps_have_ssim_one():
    x = torch.rand(2, 1, 32, 40)
    assert torch.allclose(ssim(x, x), torch.tensor(1.0), atol=1e-5)


@pytest.mark.parametrize("a,b", [(0.2, 0.6), (0.5, 0.5), (0.0, 1.0), (0.9, 0.1)])
def test_constant_maps_reduce_to_the_luminance_term(a, b):
    expected = (2 * a * b + C1) / (a * a + b * b + C1)  # variances 0 -> contrast/structure term = C2/C2
    x = torch.full((1, 1, 20, 20), a, dtype=torch.float64)
    y = torch.full((1, 1, 20, 20), b, dtype=torch.float64)
    assert float(ssim(x, y)) == pytest.approx(expected, abs=1e-9)
    # float32 (training precision): E[x^2] - E[x]^2 cancellation leaves ~1e-4
    assert float(ssim(x.float(), y.float())) == pytest.approx(expected, abs=5e-4)


def test_zero_mean_negation_matches_closed_form():
    """x = m + s*e, y = m - s*e with e = +-1 constant inside a window region: covariance -var."""
    m, s = 0.5, 0.2
    e = np.ones((11, 11))
    e[:, :5] = -1.0  # fixed pattern; compute its weighted stats directly
    x = m + s * e
    y = m - s * e
    g = gaussian_window().double().numpy()
    w = np.outer(g, g)
    me = (w * e).sum()
    ve = (w * (e - me) ** 2).sum()
    mx, my = m + s * me, m - s * me
    vx = vy = s * s * ve
    cov = -s * s * ve
    expected = ((2 * mx * my + C1) * (2 * cov + C2)) / ((mx ** 2 + my ** 2 + C1) * (vx + vy + C2))
    got = ssim(torch.tensor(x)[None, None].float(), torch.tensor(y)[None, None].float())
    assert float(got) == pytest.approx(expected, abs=1e-4)
    assert expected < 0  # anti-correlated structure


def test_matches_an_independent_loop_implementation():
    rng = np.random.default_rng(0)
    x = rng.random((24, 30))
    y = np.clip(x + 0.2 * rng.standard_normal(x.shape), 0, 1)
    ref = _ref_ssim_map(x, y)
    got = ssim_map(torch.tensor(x)[None, None], torch.tensor(y)[None, None])[0, 0].numpy()
    assert got.shape == ref.shape
    assert np.max(np.abs(got - ref)) < 1e-9


def test_banded_filter_equals_conv_filter():
    g = gaussian_window()
    x = torch.rand(2, 3, 40, 33)
    assert torch.allclose(_filter(x, g), _filter_conv(x, g), atol=1e-6)


def test_ssim_is_symmetric_bounded_and_differentiable():
    x = torch.rand(2, 1, 32, 32, requires_grad=True)
    y = torch.rand(2, 1, 32, 32)
    s = ssim(x, y)
    assert float(s) == pytest.approx(float(ssim(y, x.detach())), abs=1e-6)
    assert -1.0 <= float(s) <= 1.0
    (1 - s).backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    assert ssim(x.detach(), y, reduction="none").shape == (2,)
