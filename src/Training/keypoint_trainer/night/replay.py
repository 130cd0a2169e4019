"""Post a simulated night to a running service's ``/v1/beds/{bed}/frames`` (raw float32 bodies,
timestamp and frame_id as query parameters), at real speed (``speed=1``), accelerated (``speed=60``:
an hour a minute) or as fast as the service answers (``speed=0``). Records every answer's posture and
events in ``replay.json`` beside the night."""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Callable

from .simulate import read_night


def replay(night_dir: Path, url: str, bed: str, speed: float = 0.0, log: Callable = print) -> dict[str, Any]:
    night = read_night(night_dir)
    pressure, times = night["pressure"], night["timestamp_ms"]
    rows, cols = pressure.shape[1:]
    base = url.rstrip("/")
    frames, events = [], []
    t_wall0, t_sim0 = time.monotonic(), int(times[0])
    for i, (ts, frame) in enumerate(zip(times, pressure)):
        if speed > 0:
            wait = (int(ts) - t_sim0) / 1000.0 / speed - (time.monotonic() - t_wall0)
            if wait > 0:
                time.sleep(wait)
        query = f"width={cols}&height={rows}&timestamp={int(ts)}&frame_id=night-{i:06d}"
        request = urllib.request.Request(f"{base}/v1/beds/{bed}/frames?{query}", data=frame.astype("<f4").tobytes(),
                                         headers={"Content-Type": "application/octet-stream"}, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                answer = json.loads(response.read())
        except urllib.error.HTTPError as e:
            raise RuntimeError(f"frame {i}: HTTP {e.code}: {e.read().decode(errors='replace')}") from e
        frames.append({"timestamp_ms": int(ts), "posture": answer["posture"]["label"]})
        events.extend(answer["events"])
        if (i + 1) % 500 == 0:
            log(f"replayed {i + 1}/{len(times)} frames")
    result = {"bed": bed, "url": url, "speed": speed, "frames": frames, "events": events,
              "state": answer["state"], "wall_s": time.monotonic() - t_wall0}
    (Path(night_dir) / "replay.json").write_text(json.dumps(result, indent=1))
    return result
