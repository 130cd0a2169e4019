"""Keypoint definitions: the single Python home of keypoint names and skeleton links.

A :class:`Skeleton` names its keypoints (in model output order), its links (index pairs),
its left/right flip pairs, and the keypoints that define the *torso* used to normalise PCK.
New skeletons are added with :func:`register_skeleton` beside the stick figure, e.g. a
14-joint pressure-map body in ``keypoint_trainer/pressure``::

    register_skeleton(Skeleton(name="pressure14", keypoints=(...), links=(...),
                               torso=(("left_shoulder", "right_hip"), ...)))
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Skeleton:
    name: str
    keypoints: tuple[str, ...]
    links: tuple[tuple[int, int], ...]
    #: torso length = mean distance of these keypoint pairs, or of ``torso_points`` (below)
    torso_pairs: tuple[tuple[str, str], ...] = ()
    #: alternative torso definition: distance from keypoint ``a`` to the midpoint of group ``b``
    torso_points: tuple[tuple[str, ...], tuple[str, ...]] | None = None
    flip_pairs: tuple[tuple[int, int], ...] = ()
    description: str = ""
    colors: tuple[str, ...] = field(default=())

    @property
    def num_keypoints(self) -> int:
        return len(self.keypoints)

    def index(self, name: str) -> int:
        return self.keypoints.index(name)

    def links_as_lists(self) -> list[list[int]]:
        return [[int(a), int(b)] for a, b in self.links]

    def torso_length(self, kpts: np.ndarray) -> np.ndarray:
        """Torso length of keypoints ``[..., K, 2]`` -> ``[...]`` (pixels)."""
        kpts = np.asarray(kpts, dtype=np.float64)
        if self.torso_points is not None:
            a_names, b_names = self.torso_points
            a = kpts[..., [self.index(n) for n in a_names], :].mean(axis=-2)
            b = kpts[..., [self.index(n) for n in b_names], :].mean(axis=-2)
            return np.linalg.norm(a - b, axis=-1)
        if self.torso_pairs:
            d = [np.linalg.norm(kpts[..., self.index(a), :] - kpts[..., self.index(b), :], axis=-1)
                 for a, b in self.torso_pairs]
            return np.mean(d, axis=0)
        raise ValueError(f"skeleton {self.name!r} has no torso definition")


def normalize_keypoints(keypoints: np.ndarray, height: int, width: int) -> np.ndarray:
    """Keypoints ``[..., 2]`` in pixels (or sensor cells) of an H x W input -> (x / W, y / H), float64."""
    k = np.asarray(keypoints, dtype=np.float64).copy()
    k[..., 0] /= width
    k[..., 1] /= height
    return k


def denormalize_keypoints(norm: np.ndarray, height: int, width: int) -> np.ndarray:
    """Normalised keypoints ``[..., 2]`` (x / W, y / H) -> pixels of an H x W input, float64."""
    k = np.asarray(norm, dtype=np.float64).copy()
    k[..., 0] *= width
    k[..., 1] *= height
    return k


_SKELETONS: dict[str, Skeleton] = {}


def register_skeleton(skeleton: Skeleton, *, replace: bool = False) -> Skeleton:
    if skeleton.name in _SKELETONS and not replace:
        raise ValueError(f"skeleton {skeleton.name!r} already registered")
    for a, b in skeleton.links:
        if not (0 <= a < skeleton.num_keypoints and 0 <= b < skeleton.num_keypoints):
            raise ValueError(f"link {(a, b)} out of range for {skeleton.name}")
    _SKELETONS[skeleton.name] = skeleton
    return skeleton


def get_skeleton(name: str) -> Skeleton:
    try:
        return _SKELETONS[name]
    except KeyError:
        raise KeyError(f"unknown skeleton {name!r}; known: {sorted(_SKELETONS)}") from None


def skeletons() -> dict[str, Skeleton]:
    return dict(_SKELETONS)


# --- the 5-keypoint stick figure of the seed assignment --------------------------------
#
# Keypoints: head, left_hand, right_hand, left_foot, right_foot ("left" = the figure's own
# left, drawn on the image's right like a person facing the camera).
# The stick figure has no neck/hip keypoints, so its links join the head to each hand and
# each foot (the limbs drawn from head->neck->hand and head->hip->foot collapse to these).
#
# Torso length (for PCK@torso): distance from the head to the midpoint of the two feet.
# With only 5 keypoints this is the closest stable proxy of "torso + legs" height; it is
# independent of arm pose and never zero for an upright figure. (Documented in
# docs/training.md.)
STICK_FIGURE = register_skeleton(Skeleton(
    name="stick_figure",
    keypoints=("head", "left_hand", "right_hand", "left_foot", "right_foot"),
    links=((0, 1), (0, 2), (0, 3), (0, 4)),
    torso_points=(("head",), ("left_foot", "right_foot")),
    flip_pairs=((1, 2), (3, 4)),
    description="Synthetic stick figure, 5 keypoints (seed assignment 001).",
    colors=("#e41a1c", "#377eb8", "#4daf4a", "#984ea3", "#ff7f00"),
))

STICK_FIGURE_KEYPOINTS = STICK_FIGURE.keypoints
STICK_FIGURE_LINKS = STICK_FIGURE.links
NUM_KEYPOINTS = STICK_FIGURE.num_keypoints


# --- the 14 SLP joints of a body lying on a pressure mat (spmkd; LSP/SLP order) --------
#
# "left" = the person's own left. Torso length (PCK@torso): thorax to the midpoint of the
# hips -- unlike shoulder-to-hip pairs it does not shrink in side-lying postures.
SLP14 = register_skeleton(Skeleton(
    name="slp14",
    keypoints=("right_ankle", "right_knee", "right_hip", "left_hip", "left_knee", "left_ankle",
               "right_wrist", "right_elbow", "right_shoulder", "left_shoulder", "left_elbow",
               "left_wrist", "thorax", "head_top"),
    links=((0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (6, 7), (7, 8), (8, 12), (9, 12), (9, 10),
           (10, 11), (12, 13), (2, 8), (3, 9)),
    torso_points=(("thorax",), ("right_hip", "left_hip")),
    flip_pairs=((0, 5), (1, 4), (2, 3), (6, 11), (7, 10), (8, 9)),
    description="SLP / LSP 14 joints of a person lying on a pressure mat (spmkd).",
))
