"""``KeypointDataset`` exactly as the seed specifies (plus in-memory caching)."""
from __future__ import annotations

import json
import os
from typing import Any, Optional

import numpy as np
import torch
from torch.utils.data import Dataset

from ...codecs.heatmap import HeatmapCodec, encode_heatmaps
from ...codecs.regression import RegressionCodec
from ...core.preprocessing import STICK_FIGURE_INPUT, InputSpec, preprocess, to_raw
from .splits import split_paths
from ...core.errors import ConfigError


def codec_for(output_type: str, heatmap_size: int = 64, sigma: float = 2.0,
              input_spec: InputSpec = STICK_FIGURE_INPUT) -> HeatmapCodec | RegressionCodec:
    """The seed's two target types as codecs: Gaussian heatmaps ``[K, hs, hs]`` (``'heatmap'``)
    or normalised (x, y) in [0, 1] ``[2K]`` (``'regression'``)."""
    size = (input_spec.height, input_spec.width)
    if output_type == "heatmap":
        return HeatmapCodec(size, (heatmap_size, heatmap_size), sigma)
    if output_type == "regression":
        return RegressionCodec(size)
    raise ConfigError(f"output_type must be 'heatmap' or 'regression', not {output_type!r}")


class KeypointDataset(Dataset):
    """Images + keypoints from one annotation file.

    ``__getitem__`` returns ``(image, targets)``: image ``[1, 128, 128]`` float32 (the
    model input of docs/model-manifest.md: raw / 255), and targets ``[5, hs, hs]`` Gaussian
    heatmaps (``output_type='heatmap'``) or ``[10]`` normalised (x, y) in [0, 1]
    (``'regression'``).
    """

    def __init__(self, image_dir, annotation_file, output_type='heatmap', heatmap_size=64, sigma=2.0,
                 input_spec: InputSpec = STICK_FIGURE_INPUT, indices: Optional[list[int]] = None,
                 cache: bool = True, codec=None):
        """``codec`` (codecs/) encodes the targets; by default the one of ``output_type``."""
        self.codec = codec or codec_for(output_type, heatmap_size, sigma, input_spec)
        self.image_dir = image_dir
        self.output_type = output_type
        self.heatmap_size = heatmap_size
        self.sigma = sigma
        self.input_spec = input_spec
        with open(annotation_file, encoding="utf-8") as f:
            ann = json.load(f)
        records = ann["images"]
        if indices is not None:
            records = [records[i] for i in indices]
        self.records = records
        self.keypoint_names = ann.get("keypoint_names")
        self.info = ann.get("info", {})
        self.keypoints = np.array([r["keypoints"] for r in records], dtype=np.float64)  # [N, K, 2] px
        self.visible = np.array([r.get("visible", [1] * len(r["keypoints"])) for r in records])
        self.sizes = np.array([(r["height"], r["width"]) for r in records])
        self._cache: dict[int, torch.Tensor] = {} if cache else None

    def __len__(self) -> int:
        return len(self.records)

    def load_raw(self, idx: int) -> np.ndarray:
        from PIL import Image

        with Image.open(os.path.join(self.image_dir, self.records[idx]["file"])) as im:
            return to_raw(im, self.input_spec.value_domain)

    def load_image(self, idx: int) -> torch.Tensor:
        if self._cache is not None and idx in self._cache:
            return self._cache[idx]
        t = torch.from_numpy(preprocess(self.load_raw(idx), self.input_spec)[0])
        if self._cache is not None:
            self._cache[idx] = t
        return t

    def model_keypoints(self, idx: int) -> np.ndarray:
        """Keypoints in model-input pixels (rescaled if an image is not input-sized)."""
        h, w = self.sizes[idx]
        k = self.keypoints[idx].copy()
        k[:, 0] *= self.input_spec.width / w
        k[:, 1] *= self.input_spec.height / h
        return k

    def generate_heatmap(self, keypoints, height, width):
        """Gaussian heatmaps ``[K, height, width]`` for keypoints ``[K, 2]`` in model-input pixels.

        Border handling (codecs/heatmap.py): Gaussians are cut by the grid, keypoints up to
        3 sigma outside keep their tail, farther ones give an all-zero map.
        """
        hm, _ = encode_heatmaps(keypoints, (self.input_spec.height, self.input_spec.width),
                                (height, width), self.sigma)
        return torch.from_numpy(hm)

    def __getitem__(self, idx):
        return self.load_image(idx), torch.from_numpy(self.codec.target(self.model_keypoints(idx)))


def load_split(cfg: dict[str, Any], split: str, codec=None, subset: Optional[int] = None):
    """A generated split fully in memory -> (images [N,1,128,128], targets of ``codec`` (None
    without one), keypoints [N,K,2] in model-input pixels); ``subset``: its first images."""
    image_dir, ann = split_paths(cfg, split)
    ds = KeypointDataset(str(image_dir), str(ann), indices=list(range(subset)) if subset else None,
                         codec=codec or codec_for("regression"))
    x = torch.stack([ds.load_image(i) for i in range(len(ds))])
    y = torch.stack([torch.from_numpy(codec.target(ds.model_keypoints(i))) for i in range(len(ds))]) if codec else None
    return x, y, np.stack([ds.model_keypoints(i) for i in range(len(ds))])
