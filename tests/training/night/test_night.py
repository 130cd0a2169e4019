"""The simulated night: deterministic frames that follow the true holds and skip the dropouts, and
the alert-timing / detection-delay metrics on hand-made events."""
import numpy as np
import pytest

from keypoint_trainer.night.metrics import night_metrics, pooled
from keypoint_trainer.night.simulate import POSTURE_NAMES, NightSpec, read_night, simulate_night, write_night

SPEC = NightSpec(seed=3, hours=1.0, interval_s=60, hold_min_s=600, hold_max_s=1200, dropouts=1,
                 dropout_min_s=180, dropout_max_s=240)


@pytest.fixture(scope="module")
def night():
    return simulate_night(SPEC)


def test_frames_follow_the_holds_and_skip_the_dropouts(night):
    truth, ts = night["truth"], night["timestamp_ms"]
    holds = truth["holds"]
    assert holds[0]["start_ms"] == SPEC.start_ms and holds[-1]["end_ms"] == SPEC.start_ms + 3_600_000
    assert all(a["end_ms"] == b["start_ms"] and a["posture"] != b["posture"] for a, b in zip(holds, holds[1:]))
    assert all(SPEC.hold_min_s * 1000 <= h["end_ms"] - h["start_ms"] <= SPEC.hold_max_s * 1000 for h in holds[:-1])
    assert np.all(np.diff(ts) > 0) and np.all((ts - SPEC.start_ms) % 60_000 == 0)
    d = truth["dropouts"][0]
    assert not np.any((ts >= d["from_ms"]) & (ts < d["to_ms"]))
    assert len(ts) < 60
    for t, label in zip(ts, night["posture"]):
        hold = next(h for h in holds if h["start_ms"] <= t < h["end_ms"])
        assert POSTURE_NAMES[label] == hold["posture"]
    p = night["pressure"]
    assert p.shape == (len(ts), 192, 84) and p.dtype == np.float32 and p.min() >= 0 and p.max() > 1


def test_the_same_seed_gives_the_same_night(night, tmp_path):
    again = simulate_night(SPEC)
    assert np.array_equal(again["pressure"], night["pressure"]) and again["truth"] == night["truth"]
    back = read_night(write_night(night, tmp_path / "n"))
    assert np.array_equal(back["pressure"], night["pressure"]) and back["truth"] == night["truth"]


def test_the_raw_frames_for_the_dotnet_replay_match_the_night(night, tmp_path):
    import json

    out = write_night(night, tmp_path / "n")
    index = json.loads((out / "frames.json").read_text())
    n = len(index["timestamp_ms"])
    raw = np.fromfile(out / "frames.f32", dtype="<f4").reshape(n, index["height"], index["width"])
    assert np.array_equal(raw, night["pressure"])
    assert index["timestamp_ms"] == [int(t) for t in night["timestamp_ms"]]


def _event(kind, at_s, **data):
    from datetime import datetime, timezone

    at = datetime.fromtimestamp(1_800_000_000 + at_s, timezone.utc).isoformat().replace("+00:00", "Z")
    return {"type": kind, "at": at, "data": data}


def test_metrics_measure_delays_and_alert_errors():
    t0 = 1_800_000_000_000
    truth = {"holds": [{"start_ms": t0, "end_ms": t0 + 9_000_000, "posture": "supine"},
                       {"start_ms": t0 + 9_000_000, "end_ms": t0 + 10_000_000, "posture": "prone"},
                       {"start_ms": t0 + 10_000_000, "end_ms": t0 + 20_000_000, "posture": "left_side"}],
             "dropouts": []}
    events = [_event("posture_changed", 30, to="supine"), _event("alert_raised", 7210, posture="supine"),
              _event("posture_changed", 9040, to="prone"), _event("alert_cleared", 9040),
              _event("posture_changed", 10000 + 35, to="left_side"), _event("alert_raised", 17000, posture="left_side"),
              _event("alert_raised", 19000, posture="left_side")]
    frames = [{"timestamp_ms": t0 + 1000, "posture": "supine"}, {"timestamp_ms": t0 + 9_500_000, "posture": "supine"}]
    m = night_metrics(truth, events, frames, limit_minutes=120)
    assert m["delays"] == [40.0, 35.0] and m["missed_turns"] == 0 and m["false_changes"] == 0
    assert m["alert_errors"] == [10.0, -200.0] and m["missed_alerts"] == 0 and m["false_alerts"] == 1
    assert m["frame_posture_accuracy"] == 0.5
    both = pooled([m, m])
    assert both["detection_delay_s"]["n"] == 4 and both["turns"] == 4 and both["nights"] == 2
