"""Progress lines for long work: ``epoch 3/30 step 40/63 loss 0.00123 elapsed 1m02s eta 12m30s``."""
from __future__ import annotations

import sys
import time
from typing import Optional, TextIO


def format_duration(seconds: float) -> str:
    seconds = max(0.0, float(seconds))
    if seconds < 60:
        return f"{seconds:.0f}s"
    m, s = divmod(int(round(seconds)), 60)
    if m < 60:
        return f"{m}m{s:02d}s"
    h, m = divmod(m, 60)
    return f"{h}h{m:02d}m{s:02d}s"


class Progress:
    """Prints at most every ``interval`` seconds (and always on the last step).

    ``total_steps`` is the number of steps of the whole job (all epochs), so the ETA covers
    the remaining job, not only the epoch. ``done_steps`` lets a resumed job start mid-way.
    """

    def __init__(self, total_steps: int, *, label: str = "", interval: float = 10.0,
                 stream: Optional[TextIO] = None, done_steps: int = 0):
        self.total = int(total_steps)
        self.label = label
        self.interval = interval
        self.stream = stream or sys.stdout
        self.start_done = int(done_steps)
        self.done = int(done_steps)
        self.t0 = time.monotonic()
        self.last = -1e9

    def eta(self) -> float:
        elapsed = time.monotonic() - self.t0
        new = self.done - self.start_done
        if new <= 0:
            return float("nan")
        return elapsed / new * (self.total - self.done)

    def update(self, n: int = 1, *, epoch: Optional[int] = None, epochs: Optional[int] = None,
               step: Optional[int] = None, steps: Optional[int] = None, force: bool = False,
               **values: float) -> None:
        self.done += n
        now = time.monotonic()
        if not force and now - self.last < self.interval and self.done < self.total:
            return
        self.last = now
        parts = [self.label] if self.label else []
        if epoch is not None:
            parts.append(f"epoch {epoch}/{epochs}" if epochs else f"epoch {epoch}")
        if step is not None:
            parts.append(f"step {step}/{steps}" if steps else f"step {step}")
        for k, v in values.items():
            parts.append(f"{k} {v:.5g}" if isinstance(v, float) else f"{k} {v}")
        eta = self.eta()
        parts.append(f"elapsed {format_duration(now - self.t0)}")
        parts.append(f"eta {format_duration(eta) if eta == eta else '?'}")
        print(" ".join(parts), file=self.stream, flush=True)

    def log(self, message: str) -> None:
        print(f"{self.label} {message}" if self.label else message, file=self.stream, flush=True)
