"""Torch thread set-up (one thread per process on the shared machine; docs/training.md)."""
from __future__ import annotations

import os
from typing import Optional

from ..core.provenance import cpu_count


def configure_threads(n: Optional[int] = None) -> int:
    """``torch.set_num_threads`` from the core count (or ``KEYPOINT_THREADS``)."""
    import torch

    n = int(n or os.environ.get("KEYPOINT_THREADS") or cpu_count())
    torch.set_num_threads(n)
    return n
