"""Provenance: machine description, versions, git commit, repository-relative paths."""
from __future__ import annotations

import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Optional


def cpu_count() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover
        return max(1, os.cpu_count() or 1)


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_info() -> dict[str, Any]:
    import torch

    mem = None
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("MemTotal"):
                    mem = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return {"cpu": _cpu_model(), "cores": cpu_count(), "torch_threads": torch.get_num_threads(),
            "memory_gib": mem, "os": platform.platform(), "gpu": None}


def versions() -> dict[str, str]:
    import numpy
    import torch

    v = {"python": platform.python_version(), "torch": torch.__version__, "numpy": numpy.__version__}
    try:
        import onnx
        v["onnx"] = onnx.__version__
    except ImportError:  # pragma: no cover
        pass
    return v


def git_commit(cwd: Optional[Path] = None) -> Optional[str]:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd or Path(__file__).parent,
                             capture_output=True, text=True, timeout=10)
        return out.stdout.strip() or None if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


REPO_ROOT = Path(__file__).resolve().parents[4]  # src/Training/keypoint_trainer/core


def repo_relative(path: Optional[str | Path]) -> Optional[str]:
    """``path`` relative to the repository root when it lies inside it (manifests and provenance must
    not carry one machine's absolute paths), else unchanged."""
    if path is None:
        return None
    p = Path(path).resolve()
    try:
        return p.relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return str(path)


def invocation() -> str:
    """The command line that reproduces this trainer call (as the reports quote it)."""
    return "PYTHONPATH=src/Training /usr/bin/python3 -m keypoint_trainer " + " ".join(shlex.quote(a) for a in sys.argv[1:])


def record_invocation(path: Path, command: str) -> None:
    """Append ``<time> <command>`` to a run's command log. In a data-parallel group (torchrun or
    scripts/train-distributed.sh) only rank 0 writes, so a group's run is one line."""
    from ..engine.distributed import environment_rank

    if environment_rank():
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {command}\n")
