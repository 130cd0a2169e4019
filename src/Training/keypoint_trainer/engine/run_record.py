"""Finished runs kept in the repository, so that a fresh checkout does not train them again.

``runs/`` is not committed and does not survive a fresh checkout, while one converged run costs an hour or
more of a core. A profile may therefore name a record folder (tracked in git): each finished run's small
results (its training log with the validation curve, machine and threads, its test result and, for the
stick-figure models, its test predictions) are copied to ``{record}/{run}/``, and copied back into a run directory that lacks them, where the runner's own "finished"
checks then skip the run and its report reads them. Weights are not recorded: a run that another needs
(a pretext before its fine-tunes) is trained again. Delete a run's record folder to train it again.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Optional, Union

# published.json: where a run evaluated from its published model came from (experiments/stick/published.py)
RECORDED_FILES = ("training_log.json", "result.json", "pretext_eval.json", "eval_*.json", "predictions_*.npz",
                  "published.json")


def _recorded(folder: Path) -> list[Path]:
    return sorted({p for pattern in RECORDED_FILES for p in folder.glob(pattern) if p.is_file()})


def _copy_atomically(source: Path, target: Path) -> None:
    """Copies beside the target, then renames: two runners restoring the same record at once (the queue
    starts two processes of one profile) never read a half-written file."""
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    shutil.copy2(source, partial)
    os.replace(partial, target)


class RunRecord:
    """The record folder of one profile; a profile without one (``folder`` empty) records nothing."""

    def __init__(self, folder: Optional[Union[str, Path]]):
        self.folder = Path(folder) if folder else None

    def __bool__(self) -> bool:
        return self.folder is not None

    def has(self, name: str) -> bool:
        return bool(self.folder) and (self.folder / name).is_dir()

    def keep(self, name: str, run_dir: Path) -> Optional[Path]:
        """Copies the finished run's result files into the record (replacing an older record of it)."""
        if self.folder is None:
            return None
        target = self.folder / name
        target.mkdir(parents=True, exist_ok=True)
        for file in _recorded(Path(run_dir)):
            _copy_atomically(file, target / file.name)
        return target

    def restore(self, name: str, run_dir: Path) -> bool:
        """Copies the recorded files the run directory lacks back into it; True when anything came back."""
        if not self.has(name):
            return False
        run_dir = Path(run_dir)
        restored = False
        for source in _recorded(self.folder / name):
            if not (run_dir / source.name).is_file():
                run_dir.mkdir(parents=True, exist_ok=True)
                _copy_atomically(source, run_dir / source.name)
                restored = True
        return restored
