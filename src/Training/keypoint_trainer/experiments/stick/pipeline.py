"""``pipeline``: the whole run in one command (what produced the committed results).

generate -> train (models.run) -> evaluate -> ablate -> export -> [publish] -> report.
Stages can be skipped (``--skip ablate``); each stage's outputs live under run.out_dir.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Optional

from ...core.config import report_path


def run_pipeline(cfg: dict[str, Any], *, resume: bool = False, skip: set[str] = frozenset(),
                 store: Optional[Path] = None, log=print) -> None:
    from ...data.stick.splits import generate_splits
    from .ablate import run_ablations
    from .report import write_report
    from .evaluate import evaluate_run
    from .export import export_experiment
    from ...engine.distributed import environment_world_size
    from ...engine.publish import publish, published_models
    from .train import train_experiment

    if environment_world_size() > 1:  # its ablations train and evaluate in turn, each rank writing one results file
        raise SystemExit("pipeline runs in one process; in a data-parallel group run `train` under "
                         "scripts/train-distributed.sh, then the other stages in one process (docs/training.md)")
    if "report" not in skip:
        report_path(cfg)  # a profile without a report path is refused before hours of training, not after
    t0 = time.monotonic()
    out = Path(cfg["run"]["out_dir"])

    def stage(name: str) -> bool:
        if name in skip:
            log(f"== {name}: skipped")
            return False
        log(f"== {name} (elapsed {time.monotonic() - t0:.0f}s)")
        return True

    if stage("generate"):
        generate_splits(cfg)
    if stage("train"):
        for name in cfg["models"]["run"]:
            train_experiment(cfg, name, resume=resume)
    if stage("evaluate"):
        evaluate_run(cfg)
    if stage("ablate"):
        run_ablations(cfg)
    if stage("export"):
        for name in cfg["models"]["run"]:
            export_experiment(cfg, name, out / "export" / name)
            if store is not None and name in published_models(cfg):
                log(f"published {publish(out / 'export' / name, store)}")
    if stage("report"):
        write_report(cfg)
    log(f"pipeline done in {time.monotonic() - t0:.0f}s")
