"""Render one person's night on the SLP-like mat as a timestamped frame sequence.

* postures held for a uniformly drawn 20 min .. 3 h, each turn to a different posture;
* one simulated pose per hold (``pressure.simulate_sample`` without sensor effects), then per frame:
  breathing (the torso rows' pressure modulated by a few per cent at ~0.25 Hz), small movements (the
  body shifts by a cell now and then), the mat's sensor noise, threshold and saturation;
* sensor dropouts: a few windows with no frames at all.

Everything comes from one seed. Output (``write_night``): ``frames.npz`` (compressed ``pressure``
[N, rows, cols] float32, ``timestamp_ms`` [N], ``posture`` [N] class index) and ``night.json`` (the
truth: holds, dropouts, frame interval, start time, the mat).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..data.pressure import SLP_MAT, MatConfig, sample_body, simulate_sample
from ..data.pressure.body import J, POSTURES

#: wire names of the postures (the service's posture classes), in pressure.body.POSTURES order
POSTURE_NAMES = ("supine", "left_side", "right_side", "prone")


@dataclass
class NightSpec:
    seed: int = 0
    hours: float = 8.0
    interval_s: float = 10.0  # one frame every interval_s seconds
    start_ms: int = 1_796_162_400_000  # 2026-12-01T22:00:00Z
    hold_min_s: float = 20 * 60
    hold_max_s: float = 3 * 3600
    dropouts: int = 2
    dropout_min_s: float = 120
    dropout_max_s: float = 600
    breathing_amplitude: float = 0.03
    breathing_hz: float = 0.25
    move_every_s: float = 600  # mean time between small movements


def simulate_night(spec: NightSpec, mat: MatConfig = SLP_MAT) -> dict[str, Any]:
    rng = np.random.default_rng([spec.seed, 4711])
    body = sample_body(rng)
    total_ms = int(spec.hours * 3600 * 1000)
    holds, t, prev = [], 0, None
    while t < total_ms:
        posture = str(rng.choice([p for p in POSTURES if p != prev]))
        length = int(rng.uniform(spec.hold_min_s, spec.hold_max_s) * 1000)
        holds.append({"start_ms": spec.start_ms + t, "end_ms": spec.start_ms + min(t + length, total_ms),
                      "posture": POSTURE_NAMES[POSTURES.index(posture)]})
        t += length
        prev = posture
    dropouts = []
    for _ in range(spec.dropouts):
        a = int(rng.uniform(0.05, 0.95) * total_ms)
        dropouts.append({"from_ms": spec.start_ms + a,
                         "to_ms": spec.start_ms + a + int(rng.uniform(spec.dropout_min_s, spec.dropout_max_s) * 1000)})
    step = int(spec.interval_s * 1000)
    times = [spec.start_ms + k * step for k in range(total_ms // step)]
    times = [ts for ts in times if not any(d["from_ms"] <= ts < d["to_ms"] for d in dropouts)]
    frames, labels = [], []
    for hold in holds:
        posture = POSTURES[POSTURE_NAMES.index(hold["posture"])]
        base = simulate_sample(rng, mat, posture=posture, body=body, blanket=False, noise=False)
        clean = base.pressure.astype(np.float64)
        rows = np.arange(mat.rows)[:, None]
        lo, hi = sorted((float(base.joints[J["thorax"], 1]), float(base.joints[J["right_hip"], 1])))
        torso = ((rows >= lo) & (rows <= hi)).astype(np.float64)
        shift = np.zeros(2, dtype=int)
        for ts in (ts for ts in times if hold["start_ms"] <= ts < hold["end_ms"]):
            if rng.random() < spec.interval_s / spec.move_every_s:
                shift = np.clip(shift + rng.integers(-1, 2, size=2), -2, 2)
            phase = 2 * np.pi * spec.breathing_hz * (ts - spec.start_ms) / 1000.0
            m = clean * (1 + spec.breathing_amplitude * np.sin(phase) * torso)
            m = np.roll(m, (int(shift[0]), int(shift[1])), axis=(0, 1))
            raw = m * (1 + mat.noise_mult * rng.standard_normal(m.shape)) + mat.noise_add * rng.standard_normal(m.shape)
            raw[raw < mat.threshold] = 0.0
            frames.append(np.minimum(raw, mat.saturation).astype(np.float32))
            labels.append(POSTURE_NAMES.index(hold["posture"]))
    return {"pressure": np.stack(frames), "timestamp_ms": np.array(times, dtype=np.int64),
            "posture": np.array(labels, dtype=np.int64),
            "truth": {"spec": asdict(spec), "mat": mat.to_dict(), "holds": holds, "dropouts": dropouts,
                      "classes": list(POSTURE_NAMES), "frames": len(times)}}


def write_night(night: dict[str, Any], out: Path) -> Path:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out / "frames.npz", pressure=night["pressure"], timestamp_ms=night["timestamp_ms"],
                        posture=night["posture"])
    (out / "night.json").write_text(json.dumps(night["truth"], indent=1))
    # For the .NET replay (KeypointService.Bench night-replay, through the typed client): the frames as
    # raw little-endian float32, row-major, one after another, and their size and times.
    night["pressure"].astype("<f4").tofile(out / "frames.f32")
    rows, cols = night["pressure"].shape[1:]
    (out / "frames.json").write_text(json.dumps({"width": int(cols), "height": int(rows),
                                                 "timestamp_ms": [int(t) for t in night["timestamp_ms"]]}))
    return out


def read_night(path: Path) -> dict[str, Any]:
    path = Path(path)
    with np.load(path / "frames.npz") as z:
        night = {k: z[k] for k in z.files}
    night["truth"] = json.loads((path / "night.json").read_text())
    return night
