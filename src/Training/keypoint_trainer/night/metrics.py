"""Alert timing error and posture-change detection delay of a replayed night (pure; no service).

* **Detection delay** of a turn: from the true start of a hold to the ``posture_changed`` event that
  reports the new posture (the first one at or after the start, before the hold ends); a turn with no
  such event is missed. Expected: about the dwell time plus up to one frame interval.
* **Alert timing error**: for each hold longer than the limit, the ``alert_raised`` event for it (first
  one within the hold) minus the true due time (hold start + limit); a long hold without one is a missed
  alert, an alert that matches no long hold is a false alert.
"""
from __future__ import annotations

from typing import Any

import numpy as np


def _iso_ms(s: str) -> int:
    from datetime import datetime

    return int(datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp() * 1000)


def night_metrics(truth: dict[str, Any], events: list[dict], frames: list[dict], limit_minutes: float) -> dict[str, Any]:
    holds = truth["holds"]
    changes = [(_iso_ms(e["at"]), e["data"]["to"]) for e in events if e["type"] == "posture_changed"]
    alerts = [_iso_ms(e["at"]) for e in events if e["type"] == "alert_raised"]
    delays, missed_turns = [], 0
    for h in holds[1:]:
        hit = [at for at, to in changes if to == h["posture"] and h["start_ms"] <= at < h["end_ms"]]
        if hit:
            delays.append((hit[0] - h["start_ms"]) / 1000.0)
        else:
            missed_turns += 1
    limit_ms = limit_minutes * 60_000
    errors, missed_alerts, matched = [], 0, set()
    for h in holds:
        if h["end_ms"] - h["start_ms"] <= limit_ms:
            continue
        hit = [at for at in alerts if h["start_ms"] <= at < h["end_ms"]]
        if hit:
            errors.append((hit[0] - (h["start_ms"] + limit_ms)) / 1000.0)
            matched.add(hit[0])
        else:
            missed_alerts += 1
    correct = sum(1 for f in frames if any(h["start_ms"] <= f["timestamp_ms"] < h["end_ms"] and h["posture"] == f["posture"]
                                           for h in holds))
    return {"turns": len(holds) - 1, "detection_delay_s": _stats(delays), "missed_turns": missed_turns,
            "false_changes": len(changes) - len(delays) - 1,
            "long_holds": len(errors) + missed_alerts, "alert_timing_error_s": _stats(errors), "missed_alerts": missed_alerts,
            "false_alerts": len(alerts) - len(matched), "frames": len(frames),
            "frame_posture_accuracy": correct / max(len(frames), 1),
            "sensor_gaps": sum(1 for e in events if e["type"] == "sensor_gap"), "dropouts": len(truth["dropouts"]),
            "delays": delays, "alert_errors": errors}


def pooled(per_night: list[dict[str, Any]]) -> dict[str, Any]:
    """Several nights' metrics together: counts summed, delays and errors pooled."""
    delays = [d for m in per_night for d in m["delays"]]
    errors = [e for m in per_night for e in m["alert_errors"]]
    frames = sum(m["frames"] for m in per_night)
    out = {k: sum(m[k] for m in per_night) for k in ("turns", "missed_turns", "false_changes", "long_holds", "missed_alerts",
                                                      "false_alerts", "frames", "sensor_gaps", "dropouts")}
    out.update({"nights": len(per_night), "detection_delay_s": _stats(delays), "alert_timing_error_s": _stats(errors),
                "frame_posture_accuracy": sum(m["frame_posture_accuracy"] * m["frames"] for m in per_night) / max(frames, 1)})
    return out


def _stats(v: list[float]) -> dict[str, Any]:
    return {"n": len(v), "mean": float(np.mean(v)), "median": float(np.median(v)), "max": float(np.max(v)),
            "min": float(np.min(v))} if v else {"n": 0}
