"""Synthetic stick-figure generator (128x128 grayscale, 5 keypoints).

Rendering is an anti-aliased distance field evaluated at pixel centres (i + 0.5, j + 0.5),
so annotations follow the service's coordinate convention exactly (docs/model-manifest.md).

A figure: head circle (outline or filled) centred on the ``head`` keypoint; a neck below
it and a torso line to the hip (tilted); two arms from the shoulder (on the torso, just
below the neck) with an elbow each, ending at ``left_hand``/``right_hand``; two legs from
the hip with a knee each, ending at ``left_foot``/``right_foot``. "left" is the figure's
own left, i.e. drawn on the image's right (the figure faces the camera); arm and leg angle
ranges keep the left limbs on the figure's left side so the labels are well defined.

Nuisances: random scale, position, torso tilt, limb lengths and thickness, figure and
background intensity (sometimes dark-on-light), a background gradient, Gaussian noise,
Gaussian blur, distractor strokes (lines, polylines, circles) and partial occlusions
(background-coloured patches over the middle of limbs; keypoints themselves stay visible).
Hands can still end on the figure's own strokes and distractors can touch keypoints, so some
keypoints are ambiguous by construction; ``clear_keypoints`` draws those again
(:func:`ends_on_other_strokes`, :func:`keypoint_zones`; the error analysis uses the same geometry).
All parameters are in :class:`GeneratorConfig`; every image is a pure function of
(split seed, index), so splits are reproducible and independent of generation order.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Optional

import numpy as np

from ..draw import Canvas, gaussian_blur, rotate, segment_distance, uniform

IMAGE_SIZE = 128


@dataclass
class GeneratorConfig:
    image_size: int = IMAGE_SIZE
    scale: tuple[float, float] = (0.75, 1.25)          # global figure scale
    head_radius: tuple[float, float] = (5.0, 8.0)      # px at scale 1
    torso_length: tuple[float, float] = (22.0, 32.0)   # neck -> hip
    upper_arm: tuple[float, float] = (11.0, 18.0)
    forearm: tuple[float, float] = (10.0, 17.0)
    thigh: tuple[float, float] = (13.0, 20.0)
    shin: tuple[float, float] = (12.0, 19.0)
    tilt_deg: tuple[float, float] = (-20.0, 20.0)      # torso tilt from vertical
    arm_angle_deg: tuple[float, float] = (-80.0, 80.0)  # upper arm from horizontal-outwards (+ = up)
    elbow_bend_deg: tuple[float, float] = (-70.0, 70.0)
    leg_angle_deg: tuple[float, float] = (5.0, 55.0)    # thigh from vertical-down, outwards
    knee_bend_deg: tuple[float, float] = (-35.0, 35.0)
    thickness: tuple[float, float] = (1.2, 3.2)        # stroke width in px
    filled_head_prob: float = 0.35
    margin: float = 3.0                                # keypoints at least this far inside
    background: tuple[float, float] = (0.0, 90.0)
    contrast: tuple[float, float] = (70.0, 200.0)      # |figure - background|
    invert_prob: float = 0.2                           # dark figure on a light background
    gradient: tuple[float, float] = (0.0, 40.0)        # background gradient amplitude
    noise_std: tuple[float, float] = (0.0, 18.0)
    blur_sigma: tuple[float, float] = (0.0, 1.2)
    distractors: tuple[int, int] = (0, 4)              # count range (inclusive)
    distractor_thickness: tuple[float, float] = (1.0, 3.0)
    occlusion_prob: float = 0.4                        # probability of 1-2 occluding patches
    occlusion_size: tuple[float, float] = (4.0, 10.0)
    # every keypoint determinable from the image: no hand/foot end on another of the figure's strokes
    # (the pose is drawn again) and no distractor ink in a keypoint's zone (the stroke is drawn again);
    # off for the training and main test splits, on for the clear-keypoint test split
    clear_keypoints: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "GeneratorConfig":
        fields = cls.__dataclass_fields__
        kw = {}
        for k, v in (d or {}).items():
            if k not in fields:
                raise KeyError(f"unknown generator parameter {k!r}")
            kw[k] = tuple(v) if isinstance(v, list) else v
        return cls(**kw)


def sample_pose(rng: np.random.Generator, g: GeneratorConfig) -> dict[str, np.ndarray | float]:
    s = uniform(rng, g.scale)
    tilt = uniform(rng, g.tilt_deg)
    down = rotate(np.array([0.0, 1.0]), tilt)
    right = rotate(np.array([1.0, 0.0]), tilt)  # image right == figure's left
    head_r = uniform(rng, g.head_radius) * s
    head = np.zeros(2)
    neck = head + down * (head_r + 1.0 * s)
    hip = neck + down * uniform(rng, g.torso_length) * s
    shoulder = neck + down * 3.0 * s
    out = {"head": head, "neck": neck, "hip": hip, "shoulder": shoulder, "head_r": head_r}
    for side, sign in (("left", 1.0), ("right", -1.0)):
        ang = uniform(rng, g.arm_angle_deg)
        upper = rotate(np.array([sign, 0.0]), -sign * ang)  # + = raise the arm
        upper = rotate(upper, tilt)
        elbow = shoulder + upper * uniform(rng, g.upper_arm) * s
        fore = rotate(upper, uniform(rng, g.elbow_bend_deg))
        hand = elbow + fore * uniform(rng, g.forearm) * s
        lang = uniform(rng, g.leg_angle_deg)
        thigh_dir = rotate(down, -sign * lang)
        knee = hip + thigh_dir * uniform(rng, g.thigh) * s
        shin_dir = rotate(thigh_dir, uniform(rng, g.knee_bend_deg))
        foot = knee + shin_dir * uniform(rng, g.shin) * s
        out[f"{side}_elbow"], out[f"{side}_hand"] = elbow, hand
        out[f"{side}_knee"], out[f"{side}_foot"] = knee, foot
    out["scale"] = s
    return out


KEYPOINT_ORDER = ("head", "left_hand", "right_hand", "left_foot", "right_foot")
# the figure's straight strokes between pose points (the head is a circle round ``head``)
FIGURE_SEGMENTS = (("neck", "hip"),
                   *((a, f"{side}_{b}") for side in ("left", "right")
                     for a, b in (("shoulder", "elbow"), ("hip", "knee"))),
                   *((f"{side}_{a}", f"{side}_{b}") for side in ("left", "right")
                     for a, b in (("elbow", "hand"), ("knee", "foot"))))


END_MARGIN_PX = 1.0     # a hand/foot end this close to another stroke's ink does not show as an end
ZONE_MARGIN_PX = 1.5    # a keypoint's zone: its own end stroke's ink widened by this much ...
ZONE_RADIUS_PX = 4.0    # ... and this disc round the keypoint (covers the error analysis's 5x5-pixel
                        # square round the keypoint's pixel, whose far centres lie up to 3.54 px away)
CLEAR_TRIES = 100       # clear_keypoints: draws of a pose or a distractor before giving up


def _end_stroke(name: str) -> tuple[str, str]:
    return next(seg for seg in FIGURE_SEGMENTS if seg[1] == name)


def ends_on_other_strokes(pose: dict[str, Any], head_radius: float, head_filled: bool, width: float,
                          margin: float = END_MARGIN_PX) -> np.ndarray:
    """bool [K]: a hand or foot whose end lies on another of the figure's strokes (an arm folded
    over the torso or back onto itself, a hand on the head), so the image cannot show where the
    limb ends. The head keypoint is the centre of its own circle and never counts."""
    reach = width + margin  # centre-line distance at which two strokes' inks touch, plus the margin
    out = np.zeros(len(KEYPOINT_ORDER), dtype=bool)
    for j, name in enumerate(KEYPOINT_ORDER):
        if name == "head":
            continue
        k, own = np.asarray(pose[name], float), _end_stroke(name)
        d_head = float(np.linalg.norm(k - pose["head"])) - head_radius
        others = [float(segment_distance(k[0], k[1], pose[a], pose[b])) for a, b in FIGURE_SEGMENTS if (a, b) != own]
        others.append(max(d_head, 0.0) if head_filled else abs(d_head))
        out[j] = min(others) < reach
    return out


def keypoint_zones(pose: dict[str, Any], head_radius: float, head_filled: bool, width: float,
                   px: np.ndarray, py: np.ndarray) -> np.ndarray:
    """bool [K, H, W] at the pixel centres (px, py): where foreign ink would make a keypoint
    ambiguous: its own end stroke (the head: its circle) widened by ZONE_MARGIN_PX, and a disc of
    ZONE_RADIUS_PX round it. A distractor there continues or crosses the limb at its end, so the
    image no longer says which end is the hand."""
    reach = width / 2 + ZONE_MARGIN_PX
    zones = []
    for name in KEYPOINT_ORDER:
        k = np.asarray(pose[name], float)
        if name == "head":
            d = np.hypot(px - k[0], py - k[1]) - head_radius
            d = np.maximum(d, 0.0) if head_filled else np.abs(d)
        else:
            a, b = _end_stroke(name)
            d = segment_distance(px, py, np.asarray(pose[a], float), k)
        zones.append((d <= reach) | (np.hypot(px - k[0], py - k[1]) <= ZONE_RADIUS_PX))
    return np.stack(zones)


@dataclass
class InkLayers:
    """What :func:`render_layers` drew, for error analysis: coverage masks (0..1, before
    occlusion) of the figure's and the distractors' ink, and the figure's geometry in pixels."""
    figure: np.ndarray
    distractors: np.ndarray
    pose: dict[str, np.ndarray]   # every pose point (keypoints, neck, shoulder, hip, elbows, knees)
    head_radius: float
    head_filled: bool
    width: float                  # the figure's stroke width


def render_sample(seed: int, index: int, g: GeneratorConfig) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """-> (uint8 image [S, S], keypoints [5, 2] in pixels, metadata)."""
    img, kpts, meta, _ = render_layers(seed, index, g)
    return img, kpts, meta


def _placed_pose(rng: np.random.Generator, g: GeneratorConfig) -> tuple[dict[str, Any], float]:
    """A random pose moved (and, when too large, shrunk around its head) to a random place fully
    inside the margins -> (pose points in pixels, head radius)."""
    S = g.image_size
    p = sample_pose(rng, g)
    pts = np.stack([p[k] for k in KEYPOINT_ORDER])
    head_r = float(p["head_r"])
    # extent including the head circle, then a random placement fully inside the margins
    lo = np.minimum(pts.min(0), p["head"] - head_r)
    hi = np.maximum(pts.max(0), p["head"] + head_r)
    span = hi - lo
    room = S - 2 * g.margin - span
    if (room < 0).any():  # too large for the canvas: shrink around the head
        f = float(np.min((S - 2 * g.margin) / np.maximum(span, 1e-6))) * 0.98
        for k, v in list(p.items()):
            if isinstance(v, np.ndarray):
                p[k] = v * f
        head_r *= f
        pts = np.stack([p[k] for k in KEYPOINT_ORDER])
        lo = np.minimum(pts.min(0), p["head"] - head_r)
        hi = np.maximum(pts.max(0), p["head"] + head_r)
        span = hi - lo
        room = np.maximum(S - 2 * g.margin - span, 0.0)
    offset = g.margin - lo + rng.uniform(0, 1, size=2) * room
    for k, v in list(p.items()):
        if isinstance(v, np.ndarray):
            p[k] = v + offset
    return p, head_r


def _distractor(rng: np.random.Generator, g: GeneratorConfig) -> np.ndarray:
    """One distractor stroke (line, polyline or circle outline) -> its coverage mask."""
    S = g.image_size
    c = Canvas(S)
    kind = rng.uniform()
    w = uniform(rng, g.distractor_thickness)
    if kind < 0.5:
        a = rng.uniform(0, S, 2)
        b = a + rotate(np.array([1.0, 0.0]), rng.uniform(0, 360)) * rng.uniform(8, 40)
        c.line(a, b, w)
    elif kind < 0.8:
        a = rng.uniform(0, S, 2)
        d = rotate(np.array([1.0, 0.0]), rng.uniform(0, 360))
        for _ in range(int(rng.integers(2, 4))):
            b = a + d * rng.uniform(6, 18)
            c.line(a, b, w)
            a, d = b, rotate(d, rng.uniform(-60, 60))
    else:
        c.circle(rng.uniform(0, S, 2), rng.uniform(3, 9), w, filled=False)
    return c.mask


def _clear_pose(rng: np.random.Generator, g: GeneratorConfig) -> tuple[dict[str, Any], float]:
    """A placed pose; with clear_keypoints, drawn again until no hand or foot ends on another stroke."""
    p, head_r = _placed_pose(rng, g)
    if g.clear_keypoints:
        # the widest stroke and a filled head: whatever is drawn below keeps every end in the open
        tries = 1
        while ends_on_other_strokes(p, head_r, True, g.thickness[1]).any():
            if tries == CLEAR_TRIES:
                raise ValueError(f"clear_keypoints: no pose with every hand and foot clear of the other strokes "
                                 f"in {CLEAR_TRIES} tries; widen the arm/leg angle ranges")
            p, head_r = _placed_pose(rng, g)
            tries += 1
    return p, head_r


def _draw_distractors(rng: np.random.Generator, g: GeneratorConfig, zones: Optional[np.ndarray]) -> tuple[Canvas, int]:
    """Distractor strokes (same ink as the figure); with ``zones`` (clear_keypoints), a stroke that would
    touch a keypoint's zone is drawn again (and left out after CLEAR_TRIES) -> (their canvas, count)."""
    n_dis = int(rng.integers(g.distractors[0], g.distractors[1] + 1))
    dis = Canvas(g.image_size)
    drawn = 0
    for _ in range(n_dis):
        for _ in range(CLEAR_TRIES if g.clear_keypoints else 1):
            mask = _distractor(rng, g)
            if zones is None or not (mask[zones] > 0).any():
                dis.mask = np.maximum(dis.mask, mask)
                drawn += 1
                break
    return dis, drawn


def _occlusions(rng: np.random.Generator, g: GeneratorConfig, p: dict[str, Any], kpts: np.ndarray,
                canvas: Canvas) -> tuple[np.ndarray, int]:
    """Partial occlusions: background patches over the middle of a limb (keypoints stay visible)."""
    S = g.image_size
    occ = np.zeros((S, S), dtype=bool)
    n_occ = 0
    if rng.uniform() < g.occlusion_prob:
        limbs = [("shoulder", "left_elbow"), ("shoulder", "right_elbow"), ("hip", "left_knee"),
                 ("hip", "right_knee"), ("neck", "hip"), ("left_elbow", "left_hand"),
                 ("right_elbow", "right_hand"), ("left_knee", "left_foot"), ("right_knee", "right_foot")]
        for _ in range(int(rng.integers(1, 3))):
            a, b = limbs[int(rng.integers(len(limbs)))]
            t = rng.uniform(0.3, 0.7)
            c = p[a] * (1 - t) + p[b] * t
            half = uniform(rng, g.occlusion_size) / 2
            if np.min(np.max(np.abs(kpts - c), axis=1)) <= half + 2.0:
                continue  # would hide a keypoint
            occ |= (np.abs(canvas.px - c[0]) <= half) & (np.abs(canvas.py - c[1]) <= half)
            n_occ += 1
    return occ, n_occ


def _paint(rng: np.random.Generator, g: GeneratorConfig, ink: np.ndarray, canvas: Canvas) -> tuple[np.ndarray, dict]:
    """Background, contrast (sometimes inverted), gradient, blur and noise -> (uint8 image, their draws)."""
    S = g.image_size
    bg = uniform(rng, g.background)
    contrast = uniform(rng, g.contrast)
    fg = min(bg + contrast, 255.0)
    if rng.uniform() < g.invert_prob:
        bg, fg = 255.0 - bg, 255.0 - fg
    amp = uniform(rng, g.gradient)
    gdir = rotate(np.array([1.0, 0.0]), rng.uniform(0, 360))
    grad = amp * (((canvas.px - S / 2) * gdir[0] + (canvas.py - S / 2) * gdir[1]) / S)
    img = bg + grad + (fg - bg) * ink
    sigma = uniform(rng, g.blur_sigma)
    img = gaussian_blur(img, sigma)
    noise = uniform(rng, g.noise_std)
    img = img + rng.normal(0.0, noise, size=img.shape)
    img = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    return img, {"noise_std": round(noise, 3), "blur_sigma": round(sigma, 3), "inverted": bool(bg > fg)}


def render_layers(seed: int, index: int, g: GeneratorConfig
                  ) -> tuple[np.ndarray, np.ndarray, dict[str, Any], InkLayers]:
    """:func:`render_sample` plus what was drawn where (:class:`InkLayers`, error analysis)."""
    rng = np.random.default_rng([int(seed), int(index)])
    p, head_r = _clear_pose(rng, g)
    kpts = np.stack([p[k] for k in KEYPOINT_ORDER])

    width = uniform(rng, g.thickness)
    fig = Canvas(g.image_size)
    head_filled = bool(rng.uniform() < g.filled_head_prob)
    fig.circle(p["head"], head_r, width, filled=head_filled)
    for a, b in FIGURE_SEGMENTS:  # order-free: the mask keeps the maximum coverage
        fig.line(p[a], p[b], width)

    zones = keypoint_zones(p, head_r, head_filled, width, fig.px, fig.py).any(axis=0) if g.clear_keypoints else None
    dis, n_dis = _draw_distractors(rng, g, zones)
    occ, n_occ = _occlusions(rng, g, p, kpts, fig)
    ink = np.where(occ, 0.0, np.maximum(fig.mask, dis.mask))
    img, drawn = _paint(rng, g, ink, fig)
    meta = {"scale": round(float(p["scale"]), 4), "thickness": round(width, 3), "distractors": n_dis,
            "occlusions": n_occ, **drawn}
    pose = {k: v for k, v in p.items() if isinstance(v, np.ndarray)}
    return img, kpts, meta, InkLayers(fig.mask, dis.mask, pose, head_r, head_filled, width)
