"""Command line: ``python3 -m keypoint_trainer <subcommand> [options]``.

Subcommands come from the registry (core/registry.py): each family registers its own from
``experiments/<family>/commands.py`` and any sub-package with a ``plugin`` module adds more
(``plugins.py`` imports them all before the parser is built). The two commands that belong to
no family, ``publish`` and ``fixtures``, are registered here.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional

from .core.errors import ConfigError
from .core.manifest import ManifestError
from .core.registry import register_command
from .plugins import registered_commands

__all__ = ["build_parser", "main", "register_command", "registered_commands"]


def _publish_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--export", required=True, type=Path, help="export directory to publish")
    p.add_argument("--store", required=True, type=Path, help="model store root")
    p.add_argument("--name", default=None)
    p.add_argument("--version", default=None, help="default: next integer version")
    p.add_argument("--replace", action="store_true", help="replace an existing version")


def _publish(args: argparse.Namespace) -> None:
    from .engine.publish import publish

    final = publish(args.export, args.store, args.name, args.version, replace=args.replace)
    print(f"published {final}")


def _fixtures_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, type=Path, help="model store to write")
    p.add_argument("--only", action="append", default=None, help="fixture names (default: all registered)")
    p.add_argument("--seed", type=int, default=0)


def _fixtures(args: argparse.Namespace) -> None:
    from .engine.threads import configure_threads
    from .plugins import build_fixtures

    configure_threads()
    build_fixtures(args.out, args.only, seed=args.seed)


register_command("publish", _publish, _publish_args,
                 help="copy an export into a model store atomically as a new version")
register_command("fixtures", _fixtures, _fixtures_args,
                 help="write seeded untrained models in the published store layout (for C# tests)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python3 -m keypoint_trainer",
        description="KeypointService training worker (stick figures, SPMKD, multi-figure, HSJP and plug-ins).")
    sub = parser.add_subparsers(dest="command", metavar="<subcommand>")
    sub.required = True
    commands = registered_commands()
    for name in sorted(commands):
        cmd = commands[name]
        p = sub.add_parser(name, help=cmd.help, description=cmd.help)
        if cmd.add_arguments is not None:
            cmd.add_arguments(p)
        p.set_defaults(_runner=cmd.run)
    return parser


def main(argv: Optional[list[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args._runner(args) or 0)
    except OSError as e:  # the machine's fault (disk full, permissions, a missing file): one line, no traceback
        where = f": {e.filename}" if e.filename else ""
        print(f"keypoint_trainer {args.command}: {e.strerror or e}{where}", file=sys.stderr)
        return 1
    except (ConfigError, ManifestError) as e:  # the user's: a profile value, a --set override, a manifest
        print(f"keypoint_trainer {args.command}: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
