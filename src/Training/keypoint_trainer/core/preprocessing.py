"""Pre-processing of docs/model-manifest.md — the single Python implementation.

1. raw values: 8-bit images as 0..255, 16-bit scaled by 255/65535, colour -> luma
   (0.299 R + 0.587 G + 0.114 B); pressure maps as they are.
2. resize to the model input size with bilinear interpolation, half-pixel centres, no
   antialiasing (``F.interpolate(mode='bilinear', align_corners=False)``); skipped when
   the size already matches.
3. normalise: ``affine`` v = raw*scale + offset; ``max`` v = raw/max(max(raw), eps)*scale
   + offset; then clamp to [clip_min, clip_max] where those are not None.

All arithmetic is float32, as in the C# twin (src/Models/Processing/Preprocessor.cs).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Optional

import numpy as np

from .keypoints import denormalize_keypoints


@dataclass
class Normalization:
    kind: str = "affine"  # "affine" | "max"
    scale: float = 1.0 / 255.0
    offset: float = 0.0
    clip_min: Optional[float] = None
    clip_max: Optional[float] = None
    eps: float = 1e-6

    def to_manifest(self) -> dict[str, Any]:
        d = asdict(self)
        if self.kind != "max":
            d.pop("eps")
        return d

    @classmethod
    def from_manifest(cls, d: dict[str, Any]) -> "Normalization":
        return cls(**{k: d[k] for k in ("kind", "scale", "offset", "clip_min", "clip_max", "eps") if k in d})


@dataclass
class InputSpec:
    name: str = "image"
    height: int = 128
    width: int = 128
    value_domain: str = "image_u8"  # "image_u8" | "pressure"
    normalization: Normalization = field(default_factory=Normalization)
    dynamic_batch: bool = True
    resize: str = "bilinear"

    def to_manifest(self) -> dict[str, Any]:
        return {
            "name": self.name, "layout": "NCHW", "channels": 1,
            "height": int(self.height), "width": int(self.width),
            "dynamic_batch": bool(self.dynamic_batch), "resize": self.resize,
            "value_domain": self.value_domain, "normalization": self.normalization.to_manifest(),
        }

    @classmethod
    def from_manifest(cls, d: dict[str, Any]) -> "InputSpec":
        return cls(name=d["name"], height=d["height"], width=d["width"], value_domain=d["value_domain"],
                   normalization=Normalization.from_manifest(d["normalization"]),
                   dynamic_batch=d["dynamic_batch"], resize=d["resize"])


#: the stick-figure models' input: 128x128 grayscale, v = raw/255
STICK_FIGURE_INPUT = InputSpec()


def to_raw(image: Any, value_domain: str = "image_u8") -> np.ndarray:
    """Convert an image (PIL image or array HxW / HxWx3 / HxWx4) to raw float32 HxW values."""
    try:  # PIL image
        from PIL import Image
        if isinstance(image, Image.Image):
            if image.mode in ("I;16", "I;16B", "I;16L"):
                image = np.asarray(image, dtype=np.uint16)
            elif image.mode in ("RGB", "RGBA"):
                image = np.asarray(image.convert("RGB"))
            elif image.mode == "L":
                image = np.asarray(image)
            else:
                image = np.asarray(image.convert("L"))
    except ImportError:  # pragma: no cover
        pass
    arr = np.asarray(image)
    if value_domain == "pressure":
        if arr.ndim != 2:
            raise ValueError("pressure maps must be 2-D")
        return arr.astype(np.float32)
    if arr.ndim == 3:
        if arr.shape[2] == 1:
            arr = arr[:, :, 0]
        else:
            scale16 = arr.dtype == np.uint16
            rgb = arr[:, :, :3].astype(np.float32)
            if scale16:
                rgb = rgb * np.float32(255.0 / 65535.0)
            return (np.float32(0.299) * rgb[:, :, 0] + np.float32(0.587) * rgb[:, :, 1]
                    + np.float32(0.114) * rgb[:, :, 2]).astype(np.float32)
    if arr.ndim != 2:
        raise ValueError(f"expected a 2-D image, got shape {arr.shape}")
    if arr.dtype == np.uint16:
        return (arr.astype(np.float32) * np.float32(255.0 / 65535.0)).astype(np.float32)
    return arr.astype(np.float32)


def resize_bilinear(raw: np.ndarray, height: int, width: int) -> np.ndarray:
    """Bilinear resize (half-pixel centres, no antialias) of a 2-D float32 map."""
    raw = np.asarray(raw, dtype=np.float32)
    if raw.shape == (height, width):
        return raw
    import torch
    import torch.nn.functional as F

    t = torch.from_numpy(np.ascontiguousarray(raw))[None, None]
    out = F.interpolate(t, size=(height, width), mode="bilinear", align_corners=False)
    return out[0, 0].numpy().astype(np.float32)


def normalize(x: np.ndarray, norm: Normalization) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    if norm.kind == "affine":
        v = x * np.float32(norm.scale) + np.float32(norm.offset)
    elif norm.kind == "max":
        m = max(float(x.max()) if x.size else 0.0, float(norm.eps))
        v = x / np.float32(m) * np.float32(norm.scale) + np.float32(norm.offset)
    else:
        raise ValueError(f"unknown normalisation kind {norm.kind!r}")
    if norm.clip_min is not None or norm.clip_max is not None:
        v = np.clip(v, norm.clip_min if norm.clip_min is not None else -np.inf,
                    norm.clip_max if norm.clip_max is not None else np.inf)
    return v.astype(np.float32)


def preprocess(image: Any, spec: InputSpec = STICK_FIGURE_INPUT) -> np.ndarray:
    """Raw image/map -> model input ``[1, 1, H, W]`` float32 (NumPy)."""
    raw = to_raw(image, spec.value_domain)
    resized = resize_bilinear(raw, spec.height, spec.width)
    return normalize(resized, spec.normalization)[None, None]


def preprocess_batch_tensor(raw_batch, spec: InputSpec = STICK_FIGURE_INPUT):
    """Torch twin for training: raw ``[N, 1, h, w]`` (float32 tensor) -> model input."""
    import torch
    import torch.nn.functional as F

    x = raw_batch.to(torch.float32)
    if tuple(x.shape[-2:]) != (spec.height, spec.width):
        x = F.interpolate(x, size=(spec.height, spec.width), mode="bilinear", align_corners=False)
    n = spec.normalization
    if n.kind == "affine":
        x = x * float(np.float32(n.scale)) + float(np.float32(n.offset))
    else:
        m = x.amax(dim=(-2, -1), keepdim=True).clamp_min(n.eps)
        x = x / m * n.scale + n.offset
    if n.clip_min is not None or n.clip_max is not None:
        x = x.clamp(min=n.clip_min, max=n.clip_max)
    return x


def keypoints_to_input_pixels(kpts_norm: np.ndarray, input_height: int, input_width: int) -> np.ndarray:
    """Normalised keypoints [..., 2] (x/W, y/H) -> pixels of a caller's input of size (H, W)."""
    return denormalize_keypoints(kpts_norm, input_height, input_width)
