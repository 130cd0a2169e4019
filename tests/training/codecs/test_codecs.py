import numpy as np
import pytest
import torch

from keypoint_trainer.codecs import (HeatmapCodec, RegressionCodec, decode_heatmaps, encode_heatmaps,
                                     soft_argmax_2d, soft_argmax_2d_np)
from keypoint_trainer.codecs.dark import argmax_2d, dark_refine


def test_peak_at_cell_centre():
    # pixel x = 21 is the centre of cell 10 at stride 2: (10 + 0.5) * 2 = 21
    hm, w = encode_heatmaps(np.array([[21.0, 41.0]]), (128, 128), (64, 64), 2.0)
    assert hm.shape == (1, 64, 64) and w[0] == 1
    iy, ix = np.unravel_index(hm[0].argmax(), hm[0].shape)
    assert (ix, iy) == (10, 20)
    assert hm[0, 20, 10] == pytest.approx(1.0)
    # symmetric neighbours
    assert hm[0, 20, 9] == pytest.approx(hm[0, 20, 11])
    assert hm[0, 20, 11] == pytest.approx(np.exp(-1 / 8))


def test_subpixel_peak_between_cells():
    hm, _ = encode_heatmaps(np.array([[64.0, 64.0]]), (128, 128), (64, 64), 2.0)
    # u = 64/2 - 0.5 = 31.5 -> cells 31 and 32 equal
    assert hm[0, 31, 31] == pytest.approx(hm[0, 32, 32])
    assert hm[0, 31, 31] == pytest.approx(np.exp(-0.25 / 8 * 2))


def test_border_keypoint_is_cut_not_shifted():
    hm, w = encode_heatmaps(np.array([[0.5, 127.5]]), (128, 128), (64, 64), 2.0)
    assert w[0] == 1
    # u = -0.25, v = 63.25: the peak cell is the corner, the map is a cut Gaussian
    iy, ix = np.unravel_index(hm[0].argmax(), hm[0].shape)
    assert (ix, iy) == (0, 63)
    assert hm[0].max() < 1.0
    assert hm[0, 63, 0] == pytest.approx(np.exp(-(0.25 ** 2 + 0.25 ** 2) / 8))


def test_out_of_image_near_keeps_tail_far_is_zero():
    hm, w = encode_heatmaps(np.array([[-4.0, 64.0], [-40.0, 64.0], [64.0, 200.0]]), (128, 128), (64, 64), 2.0)
    assert w.tolist() == [1.0, 0.0, 0.0]
    assert hm[0].max() > 0.1 and hm[0][:, 0].max() == hm[0].max()  # tail at the left edge
    assert hm[1].max() == 0 and hm[2].max() == 0
    hm2, w2 = encode_heatmaps(np.array([[10.0, 10.0]]), (128, 128), (64, 64), 2.0, visible=np.array([0]))
    assert w2[0] == 0 and hm2.max() == 0


@pytest.mark.parametrize("sigma", [1.0, 2.0, 3.0])
def test_dark_decoding_under_0_1_px_on_noiseless_gaussians(sigma):
    rng = np.random.default_rng(0)
    kp = rng.uniform(8, 120, size=(200, 2))
    codec = HeatmapCodec(sigma=sigma)
    hms = np.stack([codec.encode(k[None])[0][0] for k in kp])
    dec, conf = codec.decode(hms[:, None], "dark")
    err = np.abs(dec[:, 0] - kp).max()
    assert err < 0.1, err
    arg, _ = codec.decode(hms[:, None], "argmax")
    # argmax is quantised to cell centres: error <= half a cell (1 px at stride 2) per axis
    assert np.abs(arg[:, 0] - kp).max() <= 1.0 + 1e-9
    assert np.abs(arg[:, 0] - kp).mean() > 10 * np.abs(dec[:, 0] - kp).mean()


def test_dark_matches_documented_steps_and_edge_cases():
    h = np.zeros((1, 8, 8))
    h[0, 0, 0] = 1.0  # border peak: no refinement
    ox, oy = dark_refine(h, *argmax_2d(h)[:2])
    assert ox[0] == 0 and oy[0] == 0
    # ties: first maximum in row-major order
    t = np.zeros((4, 4))
    t[1, 2] = t[2, 1] = 1.0
    px, py, c = argmax_2d(t)
    assert (int(px), int(py), float(c)) == (2, 1, 1.0)
    # non-maximum curvature (flat neighbourhood) -> no offset
    f = np.ones((1, 5, 5))
    ox, oy = dark_refine(f, np.array([2]), np.array([2]))
    assert ox[0] == 0 and oy[0] == 0
    # offsets are clamped to half a cell
    s = np.full((1, 5, 5), 1e-12)
    s[0, 2, 2], s[0, 2, 3] = 1.0, 0.999
    ox, _ = dark_refine(s, np.array([2]), np.array([2]))
    assert 0 < ox[0] <= 0.5


def test_decode_normalised_convention():
    hm, _ = encode_heatmaps(np.array([[33.0, 77.0]]), (128, 128), (64, 64), 2.0)
    norm, _ = decode_heatmaps(hm, "dark")
    assert norm[0] == pytest.approx([33 / 128, 77 / 128], abs=1e-3)


def test_soft_argmax_torch_numpy_agree_and_locate_peaks():
    codec = HeatmapCodec(sigma=1.0)
    hm, _ = codec.encode(np.array([[40.0, 90.0], [100.5, 12.25]]))
    with np.errstate(divide="ignore"):
        logits = np.log(hm[None].astype(np.float64))  # softmax(log-Gaussian) = normalised Gaussian
    t = soft_argmax_2d(torch.from_numpy(logits).double()).numpy()
    n = soft_argmax_2d_np(logits)
    assert np.allclose(t, n, atol=1e-9)
    assert np.allclose(n[0] * 128, [[40.0, 90.0], [100.5, 12.25]], atol=1e-3)


def test_regression_codec_round_trip():
    c = RegressionCodec()
    kp = np.array([[0.0, 128.0], [64.0, 32.0], [12.5, 100.25], [1, 2], [3, 4]])
    t = c.encode(kp)
    assert t.shape == (10,) and t.min() >= 0 and t.max() <= 1
    assert np.allclose(c.decode(t)[0], kp, atol=1e-4)
    assert np.allclose(c.encode(np.array([[-5.0, 200.0]])), [0.0, 1.0])
