"""CLI and fixture registration: ``python3 -m keypoint_trainer multi <action> [--profile quick|full]``.

Actions: ``generate`` (cached splits), ``train`` (main 3-stage model and the stage ablation;
resumable), ``evaluate`` (metrics JSON per model + FLOPs), ``export`` (ONNX + manifest +
golden into ``--out``), ``report`` (docs/results/klpnet.md from the run outputs), ``run``
(all in order). The ``multi`` fixture is a seeded untrained model for the C# tests.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from ...core.registry import register_command
from ...core.registry import register_fixture


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=("generate", "train", "evaluate", "export", "report", "run"))
    p.add_argument("--profile", default="quick", help="quick, full or a .toml path (merged over full)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--only", action="append", default=None, help="models to train/evaluate (main, stages1, stages2)")
    p.add_argument("--resume", action="store_true", help="train: continue from last.pth")
    p.add_argument("--out", type=Path, default=None, help="export: directory (default {run.out_dir}/export)")
    p.add_argument("--report", type=Path, default=None,
                   help="report: markdown file (default the profile's report.path, else docs/results/klpnet.md)")
    p.add_argument("--threads", type=int, default=None)


def _run(args: argparse.Namespace) -> int:
    from .pipeline import run_action

    return run_action(args)


def _fixture(out_dir: Path, *, name: str, version: str, seed: int) -> None:
    from .export import build_multi_fixture

    build_multi_fixture(out_dir, name=name, version=version, seed=seed)


register_command("multi", _run, _add_arguments,
                 help="multi-figure keypoints with link prediction (KLPNet ideas): generate, train, evaluate, "
                      "export, report, run")
register_fixture("multi", _fixture, help="seeded untrained multi-figure model (task multi) with golden grouping")
