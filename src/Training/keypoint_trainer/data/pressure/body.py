"""Kinematic body model of a person lying on a mat, projected onto the mat plane.

Everything here is in metres in the *body frame*: origin at the pelvis centre (mid-point of
the hip joints), +y towards the feet, +x towards the image right. The simulator
(:mod:`keypoint_trainer.data.pressure.simulate`) rotates and translates the result onto a mat.

Anthropometry (segment lengths as fractions of stature H, segment masses as fractions of
body mass M) follows Winter, *Biomechanics and Motor Control of Human Movement* (Dempster's
data): head+neck 8.1 %, trunk 49.7 % (thorax 21.6, abdomen 13.9, pelvis 14.2), upper arm
2.8 %, forearm 1.6 %, hand 0.6 %, thigh 10.0 %, shank 4.65 %, foot 1.45 % (sum = 100 %).

Each body part rests on the mat through one or more *contact patches*: ellipses with a
pressure profile ``(1 - r^2)^gamma`` (gamma 0.5 is Hertz-like, > 1 a bony prominence, < 0.5
a flat soft-tissue patch). A patch carries a fixed fraction of the body weight; the patch
fractions sum to exactly 1, so the total force on the mat is M*g (before sensor effects).

Postures (SLP's three classes plus prone): ``supine`` (facing up; the person's right is at
image left), ``left`` (lying on the left side, facing image right), ``right`` (on the right
side, facing image left), ``prone`` (facing down; the person's right is at image right).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

POSTURES = ("supine", "left", "right", "prone")

#: SLP / LSP joint order (14 joints)
JOINTS = ("right_ankle", "right_knee", "right_hip", "left_hip", "left_knee", "left_ankle",
          "right_wrist", "right_elbow", "right_shoulder", "left_shoulder", "left_elbow",
          "left_wrist", "thorax", "head_top")
J = {n: i for i, n in enumerate(JOINTS)}

#: Winter / Dempster segment mass fractions
MASS = {"head": 0.081, "trunk": 0.497, "upper_arm": 0.028, "forearm": 0.016, "hand": 0.006,
        "thigh": 0.100, "shank": 0.0465, "foot": 0.0145}


@dataclass
class Body:
    height: float  # m
    mass: float  # kg
    width: float  # width factor sqrt(BMI/22)
    shoulder: float  # half distance between shoulder joints, m
    hip: float  # half distance between hip joints, m

    @property
    def bmi(self) -> float:
        return self.mass / self.height ** 2


def sample_body(rng: np.random.Generator, height_range=(1.50, 1.86), bmi_range=(18.0, 33.0)) -> Body:
    h = float(rng.uniform(*height_range))
    bmi = float(rng.uniform(*bmi_range))
    m = bmi * h * h
    wf = float(np.sqrt(bmi / 22.0))
    sh = 0.105 * h * float(rng.uniform(0.92, 1.08)) * wf ** 0.5
    hp = 0.052 * h * float(rng.uniform(0.92, 1.08)) * wf ** 0.5
    return Body(h, m, wf, sh, hp)


@dataclass
class Patch:
    """An elliptical contact patch: centre (m), semi-axes a (along ``angle``) and b (m),
    orientation (rad, of the a axis from +x), weight fraction, profile exponent."""
    cx: float
    cy: float
    a: float
    b: float
    angle: float
    fraction: float
    gamma: float
    part: str


def d(phi_deg: float) -> np.ndarray:
    """Unit vector at ``phi`` degrees from +y (towards the feet), rotating towards +x."""
    p = np.deg2rad(phi_deg)
    return np.array([np.sin(p), np.cos(p)])


def _seg_patch(p0, p1, width, fraction, gamma, part, along=0.55):
    c = (np.asarray(p0) + np.asarray(p1)) / 2
    v = np.asarray(p1) - np.asarray(p0)
    length = float(np.hypot(*v))
    ang = float(np.arctan2(v[1], v[0])) if length > 1e-9 else 0.0
    return Patch(float(c[0]), float(c[1]), max(along * length, width * 0.8), width, ang, fraction, gamma, part)


def _blob(c, a, b, angle_rad, fraction, gamma, part):
    return Patch(float(c[0]), float(c[1]), float(a), float(b), float(angle_rad), fraction, gamma, part)


@dataclass
class Pose:
    joints: np.ndarray  # [14, 2] body frame, m
    patches: list
    posture: str


def sample_pose(rng: np.random.Generator, body: Body, posture: str, allow_raised: bool = True) -> Pose:
    """Sample limb angles for ``posture`` and build joints and contact patches.
    ``allow_raised=False`` keeps the arms down (used when a tall body does not fit)."""
    if posture in ("supine", "prone"):
        return _lying_flat(rng, body, posture, allow_raised)
    if posture in ("left", "right"):
        return _side(rng, body, posture)
    raise ValueError(f"unknown posture {posture!r}")


def _limb_lengths(h):
    return {"upper_arm": 0.186 * h, "forearm": 0.146 * h, "hand": 0.09 * h, "thigh": 0.245 * h,
            "shank": 0.246 * h, "shoulder_y": -0.285 * h, "thorax_y": -0.30 * h, "head": 0.17 * h}


def _flat_side(rng, body: Body, L: dict, jt: np.ndarray, patches: list, side: str, s: float, prone: bool,
               raised_p: float) -> None:
    """One side (arm and leg) of a supine or prone body: its joints and contact patches."""
    h, wf = body.height, body.width
    sh = np.array([s * body.shoulder, L["shoulder_y"]])
    hp = np.array([s * body.hip, 0.0])
    jt[J[f"{side}_shoulder"]], jt[J[f"{side}_hip"]] = sh, hp
    # arm: abduction from the body axis, elbow flexion bends the forearm medially
    raised = rng.random() < raised_p
    if raised:  # arm up beside the head, forearm towards the head
        a = rng.uniform(75, 120)
        e = rng.uniform(20, 100)
    else:
        a = rng.uniform(4, 50)
        e = rng.uniform(0, 110) if not prone else rng.uniform(0, 50)
    el = sh + L["upper_arm"] * d(s * a)
    fdir = d(s * (a + e)) if raised else d(s * (a - e))
    wr = el + L["forearm"] * fdir
    jt[J[f"{side}_elbow"]], jt[J[f"{side}_wrist"]] = el, wr
    # leg: abduction, optional raised knee (foreshortened in projection)
    b = rng.uniform(0, 16)
    k = rng.uniform(-6, 8)
    fs = rng.uniform(0.65, 0.95) if rng.random() < 0.15 and not prone else 1.0
    kn = hp + L["thigh"] * fs * d(s * b)
    an = kn + L["shank"] * fs * d(s * (b + k))
    jt[J[f"{side}_knee"]], jt[J[f"{side}_ankle"]] = kn, an
    # contact patches of the limbs
    patches.append(_seg_patch(sh, el, 0.022 * h * wf, MASS["upper_arm"] - 0.006, 0.6, "upper_arm"))
    patches.append(_blob(el, 0.015 * h, 0.012 * h, 0, 0.006, 2.0, "elbow"))
    patches.append(_seg_patch(el, wr, 0.017 * h * wf, MASS["forearm"], 0.6, "forearm"))
    hc = wr + 0.04 * h * fdir
    patches.append(_blob(hc, 0.04 * h, 0.02 * h, np.arctan2(fdir[1], fdir[0]), MASS["hand"], 0.6, "hand"))
    thigh_w = 0.042 * h * wf
    patches.append(_seg_patch(hp + 0.25 * (kn - hp), kn, thigh_w, MASS["thigh"] * (0.7 if fs == 1 else 0.5),
                              0.6, "thigh"))
    patches.append(_seg_patch(kn, an, 0.026 * h * wf, MASS["shank"] + MASS["thigh"] * (0.3 if fs == 1 else 0.5),
                              0.7, "shank"))
    sdir = d(s * (b + k))
    if prone:  # dorsum of the foot and toes, beyond the ankle
        fc = an + 0.045 * h * sdir
        patches.append(_blob(fc, 0.04 * h, 0.02 * h, np.arctan2(sdir[1], sdir[0]), MASS["foot"], 0.8, "foot"))
    else:  # heel
        fc = an + 0.012 * h * sdir
        patches.append(_blob(fc, 0.018 * h, 0.014 * h, np.arctan2(sdir[1], sdir[0]), MASS["foot"], 2.0, "heel"))


def _flat_trunk(body: Body, L: dict, prone: bool) -> list[Patch]:
    """Trunk patches of a supine or prone body (fractions sum to MASS['trunk'] = 0.497)."""
    h, wf = body.height, body.width
    patches: list[Patch] = []
    sy = L["shoulder_y"]
    up = np.pi / 2
    if prone:
        patches += [
            _blob((0, 0.70 * sy), 0.09 * h, 0.085 * h * wf, up, 0.20, 0.6, "chest"),
            _blob((-0.5 * body.shoulder, 0.78 * sy), 0.04 * h, 0.035 * h * wf, up, 0.04, 0.9, "pectoral"),
            _blob((0.5 * body.shoulder, 0.78 * sy), 0.04 * h, 0.035 * h * wf, up, 0.04, 0.9, "pectoral"),
            _blob((0, 0.35 * sy), 0.07 * h, 0.08 * h * wf, up, 0.09, 0.3, "abdomen"),
            _blob((0, -0.02 * h), 0.06 * h, 0.10 * h * wf, up, 0.127, 0.6, "pelvis"),
        ]
    else:
        patches += [
            _blob((0, 0.68 * sy), 0.10 * h, 0.085 * h * wf, up, 0.18, 0.5, "upper_back"),
            _blob((-0.55 * body.shoulder, 0.82 * sy), 0.04 * h, 0.03 * h, up, 0.05, 1.5, "scapula"),
            _blob((0.55 * body.shoulder, 0.82 * sy), 0.04 * h, 0.03 * h, up, 0.05, 1.5, "scapula"),
            _blob((0, 0.40 * sy), 0.07 * h, 0.07 * h * wf, up, 0.05, 0.3, "lumbar"),
            _blob((0, 0.02 * h), 0.07 * h, 0.10 * h * wf, up, 0.117, 0.6, "buttocks"),
            _blob((0, -0.015 * h), 0.022 * h, 0.018 * h, up, 0.05, 2.0, "sacrum"),
        ]
    return patches


def _lying_flat(rng, body: Body, posture: str, allow_raised: bool = True) -> Pose:
    h, wf = body.height, body.width
    L = _limb_lengths(h)
    prone = posture == "prone"
    s_r = 1.0 if prone else -1.0  # lateral sign of the person's right side
    jt = np.zeros((14, 2))
    patches: list[Patch] = []
    jt[J["thorax"]] = (rng.normal(0, 0.004 * h), L["thorax_y"])
    tilt = rng.uniform(-15, 15)
    jt[J["head_top"]] = jt[J["thorax"]] + L["head"] * d(180 + tilt)
    raised_p = (0.5 if prone else 0.2) if allow_raised else 0.0
    for side, s in (("right", s_r), ("left", -s_r)):
        _flat_side(rng, body, L, jt, patches, side, s, prone, raised_p)
    # head: occiput (supine) or a cheek / forehead (prone, head turned)
    hc = jt[J["thorax"]] + 0.09 * h * d(180 + tilt)
    if prone:
        hc = hc + np.array([rng.choice([-1, 1]) * 0.015 * h, 0.0])
        patches.append(_blob(hc, 0.055 * h, 0.04 * h, np.pi / 2, MASS["head"], 0.7, "head"))
    else:
        patches.append(_blob(hc, 0.032 * h, 0.028 * h, np.pi / 2, MASS["head"], 1.6, "head"))
    patches += _flat_trunk(body, L, prone)
    return Pose(jt, patches, posture)


def _side_arms(rng, body: Body, L: dict, jt: np.ndarray, patches: list, down: str, upper: str, f: float) -> None:
    """Arms in front of a side-lying body: joints and contact patches."""
    h, wf = body.height, body.width
    for side in (down, upper):
        sh = jt[J[f"{side}_shoulder"]]
        if side == down:
            alpha = rng.uniform(40, 150)
            e = rng.uniform(0, 120)
        else:
            alpha = rng.uniform(10, 120)
            e = rng.uniform(0, 100)
        el = sh + L["upper_arm"] * d(f * alpha)
        fa = min(alpha + e, 178.0)
        fdir = d(f * fa)
        wr = el + L["forearm"] * fdir
        jt[J[f"{side}_elbow"]], jt[J[f"{side}_wrist"]] = el, wr
        patches.append(_seg_patch(sh, el, 0.02 * h * wf, MASS["upper_arm"], 0.6, "upper_arm"))
        patches.append(_seg_patch(el, wr, 0.017 * h * wf, MASS["forearm"], 0.6, "forearm"))
        hc = wr + 0.04 * h * fdir
        patches.append(_blob(hc, 0.04 * h, 0.018 * h, np.arctan2(fdir[1], fdir[0]), MASS["hand"], 0.6, "hand"))


def _side_trunk(body: Body, jt: np.ndarray, down: str, f: float) -> list[Patch]:
    """Trunk patches along the down-side shoulder-hip line (fractions sum to 0.497)."""
    h, wf = body.height, body.width
    patches: list[Patch] = []
    sd, hd = jt[J[f"{down}_shoulder"]], jt[J[f"{down}_hip"]]
    ang = np.arctan2(*(hd - sd)[::-1])
    patches += [
        _blob(sd + np.array([0, 0.01 * h]), 0.035 * h, 0.025 * h, ang, 0.12, 1.6, "shoulder"),
        _blob(sd + 0.35 * (hd - sd), 0.09 * h, 0.035 * h * wf, ang, 0.16, 0.6, "ribs"),
        _blob(sd + 0.72 * (hd - sd), 0.05 * h, 0.03 * h * wf, ang, 0.04, 0.3, "waist"),
        _blob(hd + np.array([-f * 0.005 * h, 0.015 * h]), 0.045 * h, 0.03 * h * wf, ang, 0.177, 1.5, "trochanter"),
    ]
    return patches


def _side(rng, body: Body, posture: str) -> Pose:
    """Side-lying. ``left``: on the left side, facing +x (image right); ``right``: mirror."""
    h, wf = body.height, body.width
    L = _limb_lengths(h)
    f = 1.0 if posture == "left" else -1.0  # facing direction
    down, upper = ("left", "right") if posture == "left" else ("right", "left")
    roll = np.deg2rad(rng.uniform(60, 90))  # 90 = fully on the side
    jt = np.zeros((14, 2))
    patches: list[Patch] = []
    c = np.cos(roll)
    # projected lateral positions: the down side keeps its supine-side sign
    jt[J[f"{down}_shoulder"]] = (f * body.shoulder * c, L["shoulder_y"])
    jt[J[f"{upper}_shoulder"]] = (-f * body.shoulder * c + f * 0.01 * h, L["shoulder_y"] + 0.005 * h)
    jt[J[f"{down}_hip"]] = (f * body.hip * c, 0.0)
    jt[J[f"{upper}_hip"]] = (-f * body.hip * c + f * 0.01 * h, 0.005 * h)
    jt[J["thorax"]] = (f * 0.01 * h, L["thorax_y"])
    tilt = rng.uniform(-10, 25)  # neck flexion (head top tilts back, chin forward)
    jt[J["head_top"]] = jt[J["thorax"]] + L["head"] * d(180 - f * tilt)
    # legs: hip flexion towards the front (+f), knee flexion brings the shank back
    phi_d = rng.uniform(5, 80)
    kap_d = rng.uniform(5, 100)
    if rng.random() < 0.5:  # stacked
        phi_u, kap_u = phi_d + rng.normal(0, 6), kap_d + rng.normal(0, 8)
    else:  # top leg further forward (recovery-like)
        phi_u, kap_u = phi_d + rng.uniform(10, 40), rng.uniform(20, 110)
    for side, phi, kap in ((down, phi_d, kap_d), (upper, phi_u, kap_u)):
        hp = jt[J[f"{side}_hip"]]
        kn = hp + L["thigh"] * d(f * phi)
        an = kn + L["shank"] * d(f * (phi - kap))
        jt[J[f"{side}_knee"]], jt[J[f"{side}_ankle"]] = kn, an
        is_down = side == down
        patches.append(_seg_patch(hp + 0.2 * (kn - hp), kn, (0.034 if is_down else 0.04) * h * wf, MASS["thigh"] * 0.75,
                                  0.6 if is_down else 0.5, "thigh"))
        patches.append(_blob(kn, 0.018 * h, 0.015 * h, 0, MASS["thigh"] * 0.1, 1.8 if is_down else 0.8, "knee"))
        patches.append(_seg_patch(kn, an, 0.022 * h * wf, MASS["shank"] + MASS["thigh"] * 0.15, 0.7, "shank"))
        fdir = d(f * (phi - kap + 90))  # the foot points forward of the shank
        fc = an + 0.035 * h * fdir
        patches.append(_blob(fc, 0.045 * h, 0.018 * h, np.arctan2(fdir[1], fdir[0]), MASS["foot"], 1.0, "foot"))
    _side_arms(rng, body, L, jt, patches, down, upper, f)
    # head on its side
    hc = jt[J["thorax"]] + 0.09 * h * d(180 - f * tilt)
    patches.append(_blob(hc, 0.05 * h, 0.03 * h, np.pi / 2, MASS["head"], 1.0, "head"))
    patches += _side_trunk(body, jt, down, f)
    return Pose(jt, patches, posture)


def check_fractions(pose: Pose) -> float:
    return float(sum(p.fraction for p in pose.patches))
