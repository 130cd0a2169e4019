"""Write the splits: ``{root}/{split}/images/NNNNNN.png`` + ``{root}/{split}/annotations.json``.

annotations.json::

    {"info": {"generator": {...}, "seed": 101, "split": "train", "count": 2000,
              "convention": "pixel centres at i + 0.5; x right, y down"},
     "keypoint_names": [...], "skeleton": [[0, 1], ...],
     "images": [{"id": 0, "file": "000000.png", "width": 128, "height": 128,
                 "keypoints": [[x, y], ...], "visible": [1, 1, 1, 1, 1], "meta": {...}}]}
"""
from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from ...core.keypoints import STICK_FIGURE
from ...core.manifest import write_json
from ...engine.progress import Progress
from .generator import GeneratorConfig, render_sample

SPLITS = ("train", "val", "test")
# a second test split whose generator keeps every keypoint determinable (GeneratorConfig.clear_keypoints);
# written when [data] test_clear > 0, evaluated beside the main test split
CLEAR_TEST = "test_clear"


def split_generator(cfg: dict[str, Any], split: str) -> GeneratorConfig:
    """The generator of one split: the config's, plus clear_keypoints for the clear test split."""
    g = dict(cfg.get("generator") or {})
    if split == CLEAR_TEST:
        g["clear_keypoints"] = True
    return GeneratorConfig.from_dict(g)


def configured_splits(cfg: dict[str, Any]) -> tuple[str, ...]:
    return SPLITS + ((CLEAR_TEST,) if int(cfg["data"].get(CLEAR_TEST, 0)) > 0 else ())


def split_dir(cfg: dict[str, Any], split: str) -> Path:
    return Path(cfg["data"]["root"]) / split


def split_paths(cfg: dict[str, Any], split: str) -> tuple[Path, Path]:
    d = split_dir(cfg, split)
    return d / "images", d / "annotations.json"


def write_split(root: Path, split: str, count: int, seed: int, g: GeneratorConfig,
                progress_interval: float = 10.0) -> Path:
    from PIL import Image

    out = Path(root) / split
    tmp = Path(root) / f".tmp-{split}-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    (tmp / "images").mkdir(parents=True)
    images = []
    prog = Progress(count, label=f"generate {split}", interval=progress_interval)
    for i in range(count):
        img, kpts, meta = render_sample(seed, i, g)
        name = f"{i:06d}.png"
        Image.fromarray(img, mode="L").save(tmp / "images" / name, compress_level=1)
        images.append({"id": i, "file": name, "width": g.image_size, "height": g.image_size,
                       "keypoints": [[round(float(x), 4), round(float(y), 4)] for x, y in kpts],
                       "visible": [1] * len(kpts), "meta": meta})
        prog.update(step=i + 1, steps=count)
    ann = {"info": {"generator": g.to_dict(), "seed": int(seed), "split": split, "count": int(count),
                    "convention": "continuous pixel coordinates, x right, y down, pixel (i, j) centred "
                                  "at (i + 0.5, j + 0.5); the image spans [0, W] x [0, H]"},
           "keypoint_names": list(STICK_FIGURE.keypoints), "skeleton": STICK_FIGURE.links_as_lists(),
           "images": images}
    write_json(tmp / "annotations.json", ann)
    if out.exists():
        shutil.rmtree(out)
    os.rename(tmp, out)
    return out


def _matches(ann_file: Path, count: int, seed: int, g: GeneratorConfig) -> bool:
    try:
        with open(ann_file, encoding="utf-8") as f:
            info = json.load(f)["info"]
        # defaults filled in: a split written before a parameter existed still matches its default
        stored = GeneratorConfig.from_dict(info["generator"]).to_dict()
    except (OSError, ValueError, KeyError, TypeError):
        return False
    normal = lambda d: json.loads(json.dumps(d))  # noqa: E731 (tuples -> lists)
    return info.get("count") == count and info.get("seed") == seed and normal(stored) == normal(g.to_dict())


def generate_splits(cfg: dict[str, Any], force: bool = False, log=print) -> dict[str, Path]:
    d = cfg["data"]
    root = Path(d["root"])
    root.mkdir(parents=True, exist_ok=True)
    out = {}
    for split in configured_splits(cfg):
        count, seed, g = int(d[split]), int(d["seeds"][split]), split_generator(cfg, split)
        ann = root / split / "annotations.json"
        if not force and _matches(ann, count, seed, g):
            out[split] = root / split
            continue
        t0 = time.monotonic()
        out[split] = write_split(root, split, count, seed, g, cfg.get("train", {}).get("progress_interval", 10.0))
        log(f"generated {split}: {count} images (seed {seed}) in {time.monotonic() - t0:.1f}s -> {out[split]}")
    return out
