"""CLI: ``python3 -m keypoint_trainer night <simulate|evaluate>`` (docs/beds-night.md). The replay into a
running service is .NET, through the typed client: ``KeypointService.Bench night-replay``."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..core.registry import register_command


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=("simulate", "evaluate"))
    p.add_argument("--out", type=Path, action="append", default=None,
                   help="the night's directory (default data/nights/night-0); evaluate: repeat to pool several nights")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--hours", type=float, default=8.0)
    p.add_argument("--interval", type=float, default=10.0, help="seconds between frames")
    p.add_argument("--limit-minutes", type=float, default=120.0, help="evaluate: the repositioning limit the service used")


def _run(args: argparse.Namespace) -> int:
    outs = args.out or [Path("data/nights/night-0")]
    args.out = outs[0]
    if args.action == "simulate":
        from .simulate import NightSpec, simulate_night, write_night

        night = simulate_night(NightSpec(seed=args.seed, hours=args.hours, interval_s=args.interval))
        print(f"{write_night(night, args.out)}: {len(night['timestamp_ms'])} frames, {len(night['truth']['holds'])} holds, "
              f"{len(night['truth']['dropouts'])} dropouts")
        return 0
    from .metrics import night_metrics, pooled

    per_night = []
    for out in outs:
        r = json.loads((out / "replay.json").read_text())
        per_night.append(night_metrics(json.loads((out / "night.json").read_text()), r["events"], r["frames"], args.limit_minutes))
    result = per_night[0] if len(per_night) == 1 else pooled(per_night)
    print(json.dumps({k: v for k, v in result.items() if k not in ("delays", "alert_errors")}, indent=1))
    return 0


register_command("night", _run, _add_arguments, help="a simulated night in bed: simulate, replay to /v1/beds, evaluate")
