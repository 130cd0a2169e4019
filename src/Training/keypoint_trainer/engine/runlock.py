"""One process per run directory.

Two trainings writing the same ``last.pth`` corrupt each other's resume state without an error
(it happened: a ``run --resume`` nearly continued a fine-tune that a separate ``finetune`` process
was still training). :func:`run_lock` holds an exclusive ``flock`` on ``<run>/.lock`` for as long as
the fit loop runs; a second process asking for the same directory fails at once with
:class:`RunDirectoryBusy` (an ``OSError``, so the CLI prints one line). The kernel drops the lock
when its holder dies, so a killed run never leaves a stale lock behind; the pid written into the
file only names the holder in the message.
"""
from __future__ import annotations

import errno
import fcntl
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

LOCK = ".lock"


class RunDirectoryBusy(OSError):
    """Another process holds the run directory."""


@contextmanager
def run_lock(directory: Path) -> Iterator[Path]:
    """Hold ``directory`` for this process; raises :class:`RunDirectoryBusy` if another holds it."""
    path = Path(directory) / LOCK
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            raise RunDirectoryBusy(errno.EBUSY, f"another process (pid {holder}) is training in this run "
                                                f"directory; wait for it or stop it", str(directory)) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield path
    finally:
        os.close(fd)  # closing the descriptor releases the flock
