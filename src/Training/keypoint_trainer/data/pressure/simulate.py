"""Pressure-map simulator: a body (:mod:`.body`) lying on a pressure-sensing mat.

Pipeline of one sample (all physical quantities in SI units until the sensor stage):

1. body: stature, mass and width from :func:`.body.sample_body`; a posture and limb angles
   from :func:`.body.sample_pose` (joints + elliptical contact patches whose weight fractions
   sum to 1);
2. placement: rotation of +-``max_rotation_deg`` and a translation drawn uniformly among the
   positions that keep every joint and patch ``margin_m`` inside the mat;
3. force field: each patch's share of M*g spread over its ellipse with the profile
   (1 - r^2)^gamma on a fine 0.5 cm grid (``fine_m``), optionally plus a blanket's weight over
   the body footprint;
4. mattress: Gaussian smoothing of the force field (sigma = mattress softness, cm; plus an
   extra blur under a blanket) -- it conserves force;
5. sensor: each cell integrates the force over its area -> pressure in kPa; raw reading
   = gain * kPa * (1 + multiplicative noise) + additive noise, below ``threshold`` -> 0,
   saturation at ``saturation``, quantisation, dead cells -> 0.

Ground truth (14 SLP joints in sensor-cell coordinates -- continuous, the centre of cell
(i, j) at (i + 0.5, j + 0.5), x = column, y = row -- and the posture class) is returned for
evaluation only; SPMKD training reads only the ``pressure`` array (see
:func:`load_pressure_only`).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np

from .body import JOINTS, POSTURES, Body, Pose, sample_body, sample_pose

G = 9.81


@dataclass(frozen=True)
class MatConfig:
    name: str
    rows: int  # sensor rows (along the body, y)
    cols: int  # sensor columns (across, x)
    length_m: float
    width_m: float
    gain: float = 1.0  # raw units per kPa
    gain_jitter: float = 0.05  # relative per-session calibration spread
    saturation: float = 94.0  # raw units
    noise_add: float = 0.15  # raw units (sigma)
    noise_mult: float = 0.03  # relative (sigma)
    threshold: float = 0.3  # raw units; readings below -> 0
    quantize: float = 0.0  # raw step (0 = none)
    dead_fraction: float = 0.002
    dead_line_prob: float = 0.05  # probability of one dead row or column
    mattress_sigma_cm: tuple = (0.6, 1.2)
    blanket_prob: float = 0.3
    blanket_sigma_cm: tuple = (1.0, 2.5)
    blanket_kg: tuple = (0.8, 2.0)
    max_rotation_deg: float = 10.0
    margin_m: float = 0.01
    unit: str = "kPa"

    @property
    def pitch_x(self) -> float:
        return self.width_m / self.cols

    @property
    def pitch_y(self) -> float:
        return self.length_m / self.rows

    def to_dict(self) -> dict:
        d = asdict(self)
        d["mattress_sigma_cm"] = list(self.mattress_sigma_cm)
        d["blanket_sigma_cm"] = list(self.blanket_sigma_cm)
        d["blanket_kg"] = list(self.blanket_kg)
        return d


#: SLP-like mat: 84 x 192 cells of 1 cm (0.84 m x 1.92 m), readings in kPa, saturating at 94.
SLP_MAT = MatConfig(name="slp", rows=192, cols=84, length_m=1.92, width_m=0.84)

#: The "unfamiliar" mat (in the spirit of SMaL): coarser 32 x 64 cells over 0.80 m x 1.90 m,
#: raw ADC-like integer units (4 per kPa +-15 %), saturating early at 60 (= 15 kPa, so
#: bony prominences clip on roughly one map in five), noisier, more dead cells, and a
#: softer mattress.
UNFAMILIAR_MAT = MatConfig(name="unfamiliar", rows=64, cols=32, length_m=1.90, width_m=0.80,
                           gain=4.0, gain_jitter=0.15, saturation=60.0, noise_add=1.5, noise_mult=0.06,
                           threshold=3.0, quantize=1.0, dead_fraction=0.01, dead_line_prob=0.15,
                           mattress_sigma_cm=(2.0, 3.5), unit="adc")

MATS = {m.name: m for m in (SLP_MAT, UNFAMILIAR_MAT)}


@dataclass
class Sample:
    pressure: np.ndarray  # [rows, cols] float32 raw readings
    joints: np.ndarray  # [14, 2] float32, sensor-cell coordinates (x = col, y = row)
    posture: int
    body: Body
    blanket: bool
    force_n: float  # total force on the mat before the sensor (N)
    clean_kpa: Optional[np.ndarray] = None  # [rows, cols] noiseless pressure (kPa), if asked
    patches_world: list = field(default_factory=list)


# --- geometry ------------------------------------------------------------------------

def _rot(theta):
    c, s = np.cos(theta), np.sin(theta)
    return np.array([[c, -s], [s, c]])


def _place(rng, pose: Pose, mat: MatConfig, pad: float):
    """Random rotation + translation keeping every joint ``pad`` m and every contact patch
    but hands and feet ``mat.margin_m`` inside the mat (toes and fingers may reach past the
    edge, as on a real bed; their force is then lost). Returns (R, t, theta) or None when the pose cannot fit."""
    theta = np.deg2rad(rng.uniform(-mat.max_rotation_deg, mat.max_rotation_deg))
    R = _rot(theta)
    pts = pose.joints @ R.T
    lo = pts.min(0) - (pad - mat.margin_m)
    hi = pts.max(0) + (pad - mat.margin_m)
    for p in pose.patches:
        if p.part in ("foot", "hand"):  # toes / fingers may reach past the mat's edge
            continue
        c = R @ np.array([p.cx, p.cy])
        # bounding box of the rotated ellipse
        ang = p.angle + theta
        ex = np.sqrt((p.a * np.cos(ang)) ** 2 + (p.b * np.sin(ang)) ** 2)
        ey = np.sqrt((p.a * np.sin(ang)) ** 2 + (p.b * np.cos(ang)) ** 2)
        lo = np.minimum(lo, c - (ex, ey))
        hi = np.maximum(hi, c + (ex, ey))
    m = mat.margin_m
    tx_lo, tx_hi = m - lo[0], mat.width_m - m - hi[0]
    ty_lo, ty_hi = m - lo[1], mat.length_m - m - hi[1]
    if tx_lo > tx_hi or ty_lo > ty_hi:
        return None
    # positions: mostly near the centre line across, anywhere along
    cx = (tx_lo + tx_hi) / 2
    half = (tx_hi - tx_lo) / 2
    tx = float(np.clip(cx + rng.normal(0, 0.5) * half, tx_lo, tx_hi))
    ty = float(rng.uniform(ty_lo, ty_hi))
    return R, np.array([tx, ty]), theta


def _render_patches(pose: Pose, R, t, theta, mass, nx, ny, fine):
    """Force field [ny, nx] (N per fine cell) of the placed patches."""
    F = np.zeros((ny, nx), dtype=np.float64)
    world = []
    for p in pose.patches:
        c = R @ np.array([p.cx, p.cy]) + t
        ang = p.angle + theta
        r = max(p.a, p.b)
        x0 = max(int(np.floor((c[0] - r) / fine)), 0)
        x1 = min(int(np.ceil((c[0] + r) / fine)) + 1, nx)
        y0 = max(int(np.floor((c[1] - r) / fine)), 0)
        y1 = min(int(np.ceil((c[1] + r) / fine)) + 1, ny)
        if x1 <= x0 or y1 <= y0:
            continue
        xs = (np.arange(x0, x1) + 0.5) * fine - c[0]
        ys = (np.arange(y0, y1) + 0.5) * fine - c[1]
        X, Y = np.meshgrid(xs, ys)
        ca, sa = np.cos(ang), np.sin(ang)
        u = (X * ca + Y * sa) / p.a
        v = (-X * sa + Y * ca) / p.b
        r2 = u * u + v * v
        w = np.where(r2 < 1.0, np.clip(1.0 - r2, 0, None) ** p.gamma, 0.0)
        s = w.sum()
        if s <= 0:  # smaller than a fine cell: put it in the centre cell
            w = np.zeros_like(w)
            w[min(max(int(c[1] / fine) - y0, 0), w.shape[0] - 1), min(max(int(c[0] / fine) - x0, 0), w.shape[1] - 1)] = 1
            s = 1.0
        F[y0:y1, x0:x1] += w * (p.fraction * mass * G / s)
        world.append((float(c[0]), float(c[1]), p.a, p.b, float(ang), p.fraction, p.part))
    return F, world


def gaussian_matrix(n: int, sigma_cells: float) -> np.ndarray:
    """[n, n] 1-D Gaussian smoothing with zero padding (rows: output, cols: input).
    Columns sum to <= 1 (force leaving the grid is lost)."""
    if sigma_cells <= 1e-6:
        return np.eye(n)
    idx = np.arange(n)
    dd = idx[:, None] - idx[None, :]
    r = int(np.ceil(4 * sigma_cells))
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma_cells) ** 2)
    k /= k.sum()
    M = np.zeros((n, n))
    mask = np.abs(dd) <= r
    M[mask] = k[dd[mask] + r]
    return M


def area_matrix(n_out: int, n_in: int) -> np.ndarray:
    """[n_out, n_in]: fraction of input cell j (of n_in equal cells) inside output cell i
    (of n_out equal cells spanning the same length). Columns sum to 1."""
    edges_out = np.linspace(0.0, 1.0, n_out + 1)
    edges_in = np.linspace(0.0, 1.0, n_in + 1)
    lo = np.maximum(edges_out[:-1, None], edges_in[None, :-1])
    hi = np.minimum(edges_out[1:, None], edges_in[None, 1:])
    return np.clip(hi - lo, 0, None) * n_in


def simulate_sample(rng: np.random.Generator, mat: MatConfig = SLP_MAT, *, posture: Optional[str] = None,
                    body: Optional[Body] = None, blanket: Optional[bool] = None, noise: bool = True,
                    keep_clean: bool = False, fine_m: float = 0.005, max_tries: int = 50) -> Sample:
    """Simulate one pressure map. ``noise=False`` skips every sensor effect (noise,
    threshold, saturation, quantisation, dead cells, gain jitter) -- used by physical tests."""
    body = body or sample_body(rng)
    posture = posture or POSTURES[int(rng.integers(len(POSTURES)))]
    sig_m = float(rng.uniform(*mat.mattress_sigma_cm)) / 100.0
    use_blanket = bool(rng.random() < mat.blanket_prob) if blanket is None else bool(blanket)
    sig_b = float(rng.uniform(*mat.blanket_sigma_cm)) / 100.0 if use_blanket else 0.0
    sig = float(np.hypot(sig_m, sig_b))
    pad = mat.margin_m + 0.01
    for attempt in range(max_tries):
        pose = sample_pose(rng, body, posture, allow_raised=attempt < max_tries // 2)
        placed = _place(rng, pose, mat, pad)
        if placed is not None:
            break
    else:
        raise RuntimeError(f"could not place a {posture} body of height {body.height:.2f} m on {mat.name}")
    R, t, theta = placed
    nx = int(round(mat.width_m / fine_m))
    ny = int(round(mat.length_m / fine_m))
    fx, fy = mat.width_m / nx, mat.length_m / ny
    F, world = _render_patches(pose, R, t, theta, body.mass, nx, ny, fx)
    if use_blanket:  # the blanket's weight rests on the body: spread over its footprint
        foot = (F > 1e-6).astype(np.float64)
        if foot.sum() > 0:
            F += foot / foot.sum() * float(rng.uniform(*mat.blanket_kg)) * G
    My = area_matrix(mat.rows, ny) @ gaussian_matrix(ny, sig / fy)
    Mx = area_matrix(mat.cols, nx) @ gaussian_matrix(nx, sig / fx)
    force_cells = My @ F @ Mx.T  # N per sensor cell
    kpa = force_cells / (mat.pitch_x * mat.pitch_y) / 1000.0
    if noise:
        gain = mat.gain * (1.0 + mat.gain_jitter * float(rng.uniform(-1, 1)))
        raw = gain * kpa * (1.0 + mat.noise_mult * rng.standard_normal(kpa.shape))
        raw = raw + mat.noise_add * rng.standard_normal(kpa.shape)
        raw[raw < mat.threshold] = 0.0
        raw = np.minimum(raw, mat.saturation)
        if mat.quantize > 0:
            raw = np.round(raw / mat.quantize) * mat.quantize
        dead = rng.random(kpa.shape) < mat.dead_fraction
        if rng.random() < mat.dead_line_prob:
            if rng.random() < 0.5:
                dead[int(rng.integers(mat.rows)), :] = True
            else:
                dead[:, int(rng.integers(mat.cols))] = True
        raw[dead] = 0.0
    else:
        raw = mat.gain * kpa
    joints_m = pose.joints @ R.T + t
    joints = np.stack([joints_m[:, 0] / mat.pitch_x, joints_m[:, 1] / mat.pitch_y], axis=1)
    return Sample(pressure=raw.astype(np.float32), joints=joints.astype(np.float32),
                  posture=POSTURES.index(posture), body=body, blanket=use_blanket,
                  force_n=float(force_cells.sum()), clean_kpa=kpa.astype(np.float32) if keep_clean else None,
                  patches_world=world)


# --- datasets -------------------------------------------------------------------------

def generate_dataset(mat: MatConfig, n_subjects: int, per_subject: int, seed: int,
                     postures=POSTURES, progress=None) -> dict[str, np.ndarray]:
    """``n_subjects`` distinct simulated people x ``per_subject`` maps each, postures
    balanced within each subject. Subject ``s`` uses the RNG stream (seed, s), so datasets
    made with different seeds never share a subject."""
    P, Jt, Po, Su, Ma, He, Bl = [], [], [], [], [], [], []
    for s in range(n_subjects):
        rng = np.random.default_rng([int(seed), int(s)])
        body = sample_body(rng)
        order = [postures[i % len(postures)] for i in range(per_subject)]
        rng.shuffle(order)
        for post in order:
            smp = simulate_sample(rng, mat, posture=post, body=body)
            P.append(smp.pressure)
            Jt.append(smp.joints)
            Po.append(smp.posture)
            Su.append(s)
            Ma.append(body.mass)
            He.append(body.height)
            Bl.append(smp.blanket)
        if progress is not None:
            progress(s + 1, n_subjects)
    return {"pressure": np.stack(P).astype(np.float32), "joints": np.stack(Jt).astype(np.float32),
            "posture": np.array(Po, dtype=np.int64), "subject": np.array(Su, dtype=np.int64),
            "mass": np.array(Ma, dtype=np.float32), "height": np.array(He, dtype=np.float32),
            "blanket": np.array(Bl, dtype=bool)}


def save_dataset(path: Path, data: dict[str, np.ndarray], mat: MatConfig, meta: Optional[dict] = None) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    info = {"mat": mat.to_dict(), "joints": list(JOINTS), "postures": list(POSTURES), **(meta or {})}
    tmp = path.with_name(f".{path.stem}.tmp.npz")
    np.savez_compressed(tmp, info=np.array(json.dumps(info)), **data)
    tmp.replace(path)


def load_dataset(path: Path) -> tuple[dict[str, np.ndarray], dict]:
    """Everything, labels included: for evaluation only."""
    with np.load(Path(path)) as z:
        data = {k: z[k] for k in z.files if k != "info"}
        info = json.loads(str(z["info"])) if "info" in z.files else {}
    return data, info


def load_pressure_only(path: Path) -> np.ndarray:
    """The one loader SPMKD training uses: the raw maps and nothing else."""
    with np.load(Path(path)) as z:
        return z["pressure"]


def mat_by_name(name: str) -> MatConfig:
    try:
        return MATS[name]
    except KeyError:
        raise KeyError(f"unknown mat {name!r}; known: {sorted(MATS)}") from None
