"""SSIM (Wang, Bovik, Sheikh, Simoncelli 2004) in torch, differentiable.

Gaussian window (default 11 x 11, sigma 1.5), ``valid`` filtering (no padding, as in the
authors' reference implementation), C1 = (K1 L)^2, C2 = (K2 L)^2 with K1 = 0.01, K2 = 0.03
and L = ``data_range``; population (biased) local variances. The SSIM of a map is the mean
of its SSIM map. Checked in tests/training/spmkd/test_ssim.py against closed-form values and
an independent loop implementation.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def gaussian_window(size: int = 11, sigma: float = 1.5, dtype=torch.float32) -> torch.Tensor:
    x = torch.arange(size, dtype=torch.float64) - (size - 1) / 2.0
    g = torch.exp(-(x ** 2) / (2 * sigma ** 2))
    return (g / g.sum()).to(dtype)


def _band(n: int, g: torch.Tensor) -> torch.Tensor:
    """[n, n - k + 1] matrix whose column j holds the window at rows j .. j + k - 1."""
    k = g.numel()
    m = torch.zeros(n, n - k + 1, dtype=g.dtype, device=g.device)
    for i in range(k):
        m.diagonal(-i).copy_(g[i].expand(n - k + 1))
    return m


def _filter(x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """Separable ``valid`` Gaussian filter as two matrix products with banded matrices
    (several times faster on CPU than 1-channel ``conv2d``, forward and backward)."""
    bw = _band(x.shape[-1], g)
    bh = _band(x.shape[-2], g)
    return torch.matmul(bh.t(), torch.matmul(x, bw))


def _filter_conv(x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """Reference: the same filter with ``conv2d`` (used by the tests)."""
    c = x.shape[1]
    kx = g.reshape(1, 1, 1, -1).repeat(c, 1, 1, 1)
    ky = g.reshape(1, 1, -1, 1).repeat(c, 1, 1, 1)
    return F.conv2d(F.conv2d(x, kx, groups=c), ky, groups=c)


def ssim_map(x: torch.Tensor, y: torch.Tensor, data_range: float = 1.0, window_size: int = 11,
             sigma: float = 1.5, k1: float = 0.01, k2: float = 0.03) -> torch.Tensor:
    """``[N, C, H, W]`` pair -> SSIM map ``[N, C, H - w + 1, W - w + 1]``."""
    if x.shape != y.shape or x.dim() != 4:
        raise ValueError(f"expected two equal [N, C, H, W] tensors, got {tuple(x.shape)} and {tuple(y.shape)}")
    g = gaussian_window(window_size, sigma, x.dtype).to(x.device)
    c1 = (k1 * data_range) ** 2
    c2 = (k2 * data_range) ** 2
    c = x.shape[1]
    f = _filter(torch.cat([x, y, x * x, y * y, x * y], dim=1), g)  # one pass over the 5 maps
    mx, my, exx, eyy, exy = f.split(c, dim=1)
    sxx = exx - mx * mx
    syy = eyy - my * my
    sxy = exy - mx * my
    return ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))


def ssim(x: torch.Tensor, y: torch.Tensor, data_range: float = 1.0, window_size: int = 11, sigma: float = 1.5,
         reduction: str = "mean") -> torch.Tensor:
    """Mean SSIM per sample (``reduction='none'`` -> [N]) or over the batch (``'mean'``)."""
    per = ssim_map(x, y, data_range, window_size, sigma).flatten(1).mean(1)
    if reduction == "none":
        return per
    if reduction == "mean":
        return per.mean()
    raise ValueError(reduction)
