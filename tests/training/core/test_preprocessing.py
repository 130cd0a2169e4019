import numpy as np
import pytest
import torch
import torch.nn.functional as F

from keypoint_trainer.core.preprocessing import (InputSpec, Normalization, normalize, preprocess,
                                            preprocess_batch_tensor, resize_bilinear, to_raw)


def test_resize_is_torch_bilinear_half_pixel():
    raw = np.random.default_rng(0).uniform(0, 255, (150, 200)).astype(np.float32)
    ref = F.interpolate(torch.from_numpy(raw)[None, None], size=(128, 128), mode="bilinear",
                        align_corners=False)[0, 0].numpy()
    assert np.array_equal(resize_bilinear(raw, 128, 128), ref)
    assert resize_bilinear(raw, 150, 200) is not None
    assert np.array_equal(resize_bilinear(raw, 150, 200), raw)  # no-op when sizes match


def test_normalisations():
    x = np.array([[0, 127.5, 255]], dtype=np.float32)
    assert np.allclose(normalize(x, Normalization()), [[0, 0.5, 1]])
    assert np.allclose(normalize(x, Normalization("affine", 2.0, -1.0, -0.5, 0.5)), [[-0.5, 0.5, 0.5]])
    assert np.allclose(normalize(x * 3, Normalization("max", 1.0, 0.0)), [[0, 0.5, 1]])
    assert np.allclose(normalize(np.zeros((2, 2), np.float32), Normalization("max", 1.0, 0.0, eps=1e-3)), 0)


def test_raw_conversion_luma_and_16_bit():
    rgb = np.zeros((2, 2, 3), np.uint8)
    rgb[..., 0] = 100
    rgb[..., 1] = 200
    assert np.allclose(to_raw(rgb), 0.299 * 100 + 0.587 * 200, atol=1e-3)
    u16 = np.full((2, 2), 65535, np.uint16)
    assert np.allclose(to_raw(u16), 255.0)


def test_preprocess_numpy_and_torch_twins_agree():
    raw = np.random.default_rng(1).integers(0, 256, (97, 131)).astype(np.uint8)
    a = preprocess(raw)
    b = preprocess_batch_tensor(torch.from_numpy(raw.astype(np.float32))[None, None]).numpy()
    assert a.shape == (1, 1, 128, 128) and a.dtype == np.float32
    assert np.allclose(a, b, atol=1e-6)
    spec = InputSpec()
    assert spec.to_manifest()["normalization"]["scale"] == pytest.approx(1 / 255)
