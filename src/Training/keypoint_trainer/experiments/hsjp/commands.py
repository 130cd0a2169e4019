"""CLI registration: ``python3 -m keypoint_trainer hsjp <plan|pretrain|finetune|report|run> [--profile quick|full]``."""
from __future__ import annotations

import argparse
from pathlib import Path

from ...core.registry import register_command


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=("plan", "pretrain", "finetune", "report", "run"))
    p.add_argument("--profile", default="quick", help="quick, full or a .toml path (merged over full)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--only", action="append", default=None, help="run only these runs (see `hsjp plan`); repeatable")
    p.add_argument("--resume", action="store_true", help="continue half-finished runs from last.pth")
    p.add_argument("--report", type=Path, default=None, help="markdown file (default: the profile's [report] path)")
    p.add_argument("--threads", type=int, default=None)


def _run(args: argparse.Namespace) -> int:
    from .pipeline import run_action

    return run_action(args)


register_command("hsjp", _run, _add_arguments,
                 help="Heatmap-Style Jigsaw Puzzles: pretext pretraining and HeatmapNet fine-tuning experiments")
