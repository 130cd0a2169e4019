"""SPMKD data: simulated datasets on disk and the model input pipeline.

Datasets live under ``data/spmkd/<profile>/`` (git-ignored) as ``.npz`` files written by
:func:`keypoint_trainer.data.pressure.save_dataset`. Splits use disjoint RNG seeds, so no
simulated person appears in two splits:

* ``train``            SLP mat, the maps SPMKD trains on (pressure only is read for that);
                       the first ``labelled`` maps of a fixed permutation also serve as the
                       small labelled subset of the evaluation protocol;
* ``val``              SLP mat, a few held-out people for validation curves (unlabelled use);
* ``test``             SLP mat, held-out people (within-configuration test);
* ``unf_labelled``     unfamiliar mat, a small labelled set (for the "refit" variant only);
* ``unf_test``         unfamiliar mat, held-out people (cross-configuration test).

Model input (docs/model-manifest.md): the raw map is resized to 256 x 256 (bilinear,
half-pixel centres, no antialias -- the 84 x 192 map is stretched, not padded, so
normalised coordinates x / W, y / H are the mat's own) and normalised with ``max``:
v = raw / max(raw) (eps 1e-6), clipped to [0, 1]. The same spec goes into the manifest.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from ...core.keypoints import denormalize_keypoints, normalize_keypoints
from ...core.preprocessing import InputSpec, Normalization
from . import MATS, generate_dataset, save_dataset

#: the SPMKD model input, as written into the manifest
SPMKD_INPUT = InputSpec(name="pressure", height=256, width=256, value_domain="pressure",
                        normalization=Normalization(kind="max", scale=1.0, offset=0.0, clip_min=0.0,
                                                    clip_max=1.0, eps=1e-6))


def baseline_input(size: int = 128) -> InputSpec:
    """Input of the supervised baseline (the service's HeatmapNet takes 128 x 128)."""
    return InputSpec(name="pressure", height=size, width=size, value_domain="pressure",
                     normalization=Normalization(kind="max", scale=1.0, offset=0.0, clip_min=0.0,
                                                 clip_max=1.0, eps=1e-6))


@dataclass
class SplitSpec:
    mat: str
    subjects: int
    per_subject: int
    seed: int

    @property
    def count(self) -> int:
        return self.subjects * self.per_subject


@dataclass
class DataSpec:
    train: SplitSpec
    val: SplitSpec
    test: SplitSpec
    unf_labelled: SplitSpec
    unf_test: SplitSpec
    labelled: int = 100  # size of the labelled subset of ``train`` (joint head)
    posture_labelled: int = 400  # labelled maps of ``train`` for the posture classifier

    def splits(self) -> dict[str, SplitSpec]:
        return {k: getattr(self, k) for k in ("train", "val", "test", "unf_labelled", "unf_test")}

    def to_dict(self) -> dict:
        return asdict(self)


def data_spec(cfg: dict) -> DataSpec:
    """The ``[data]`` table of an spmkd config (configs/spmkd/*.toml) as a :class:`DataSpec`."""
    d = cfg["data"]
    splits = {k: SplitSpec(**d[k]) for k in ("train", "val", "test", "unf_labelled", "unf_test")}
    return DataSpec(**splits, labelled=int(d["labelled"]), posture_labelled=int(d["posture_labelled"]))


def build_datasets(root: Path, spec: DataSpec, force: bool = False, log=print) -> dict[str, Path]:
    """Simulate every split that is not on disk yet; returns {split: path}."""
    root = Path(root)
    paths = {}
    for name, sp in spec.splits().items():
        path = root / f"{name}_{sp.mat}_s{sp.seed}_{sp.subjects}x{sp.per_subject}.npz"
        paths[name] = path
        if path.is_file() and not force:
            with np.load(path) as z:
                stored = json.loads(str(z["info"])).get("mat")
            if stored == MATS[sp.mat].to_dict():
                continue
            log(f"{path}: simulator mat configuration changed, re-simulating")
        import time
        t0 = time.monotonic()
        data = generate_dataset(MATS[sp.mat], sp.subjects, sp.per_subject, sp.seed)
        save_dataset(path, data, MATS[sp.mat], {"split": name, "seed": sp.seed, "subjects": sp.subjects,
                                                 "per_subject": sp.per_subject})
        log(f"simulated {name}: {len(data['pressure'])} maps on {sp.mat} in {time.monotonic() - t0:.1f}s -> {path}")
    return paths


def labelled_indices(n: int, count: int, seed: int = 7) -> np.ndarray:
    """The fixed labelled subset of the training split (first ``count`` of a permutation)."""
    return np.sort(np.random.default_rng(seed).permutation(n)[:count])


def to_model_input(raw: np.ndarray, spec: InputSpec = SPMKD_INPUT):
    """Raw maps ``[N, h, w]`` (NumPy) -> model input tensor ``[N, 1, H, W]``."""
    import torch

    from ...core.preprocessing import preprocess_batch_tensor

    t = torch.from_numpy(np.ascontiguousarray(raw, dtype=np.float32))[:, None]
    return preprocess_batch_tensor(t, spec)


def joints_to_norm(joints_cells: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Joints in sensor cells of a rows x cols mat -> normalised (x / cols, y / rows)."""
    return normalize_keypoints(joints_cells, rows, cols)


def norm_to_cells(norm: np.ndarray, rows: int, cols: int) -> np.ndarray:
    return denormalize_keypoints(norm, rows, cols)


def mat_shape(info: dict) -> tuple[int, int]:
    m = info["mat"]
    return int(m["rows"]), int(m["cols"])


def mat_pitch_cm(info: dict) -> tuple[float, float]:
    m = info["mat"]
    return 100.0 * m["width_m"] / m["cols"], 100.0 * m["length_m"] / m["rows"]


def optional(path: Optional[Path]) -> Optional[Path]:
    return Path(path) if path else None
