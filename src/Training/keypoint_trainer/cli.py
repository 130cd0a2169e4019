"""Command line: ``python3 -m keypoint_trainer <subcommand> [options]``.

Subcommands are registered in a small registry so that other sub-packages can add their
own with one line, without editing this file::

    # keypoint_trainer/spmkd/plugin.py
    from keypoint_trainer.cli import register_command
    register_command("spmkd", run_spmkd, add_arguments=add_spmkd_arguments, help="...")

``run`` receives the parsed ``argparse.Namespace`` and returns an exit code (or None).
``add_arguments`` receives the sub-parser. Every sub-package of ``keypoint_trainer`` that
has a ``plugin`` module is imported before the parser is built (see ``load_plugins``).
Heavy imports (torch) belong inside ``run`` so that ``--help`` stays fast.
"""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from dataclasses import dataclass
from typing import Callable, Optional

Runner = Callable[[argparse.Namespace], Optional[int]]
ArgAdder = Callable[[argparse.ArgumentParser], None]


@dataclass
class Command:
    name: str
    run: Runner
    add_arguments: Optional[ArgAdder]
    help: str


_COMMANDS: dict[str, Command] = {}


def register_command(name: str, run: Runner, add_arguments: Optional[ArgAdder] = None,
                     help: str = "", *, replace: bool = False) -> Command:
    """Register subcommand ``name``. Raises if it exists unless ``replace`` is true."""
    if name in _COMMANDS and not replace:
        raise ValueError(f"subcommand {name!r} is already registered")
    cmd = Command(name, run, add_arguments, help)
    _COMMANDS[name] = cmd
    return cmd


def registered_commands() -> dict[str, Command]:
    return dict(_COMMANDS)


_PLUGINS_LOADED = False


def load_plugins() -> None:
    """Import the built-in commands and ``keypoint_trainer.<sub>.plugin`` modules."""
    global _PLUGINS_LOADED
    if _PLUGINS_LOADED:
        return
    _PLUGINS_LOADED = True
    importlib.import_module("keypoint_trainer.commands")  # built-in subcommands
    import keypoint_trainer

    for mod in pkgutil.iter_modules(keypoint_trainer.__path__):
        if not mod.ispkg:
            continue
        name = f"keypoint_trainer.{mod.name}.plugin"
        try:
            spec = importlib.util.find_spec(name)
        except ModuleNotFoundError:
            spec = None
        if spec is not None:
            importlib.import_module(name)


def build_parser() -> argparse.ArgumentParser:
    load_plugins()
    parser = argparse.ArgumentParser(
        prog="python3 -m keypoint_trainer",
        description="KeypointService training worker (stick-figure keypoints and plug-ins).")
    sub = parser.add_subparsers(dest="command", metavar="<subcommand>")
    sub.required = True
    for name in sorted(_COMMANDS):
        cmd = _COMMANDS[name]
        p = sub.add_parser(name, help=cmd.help, description=cmd.help)
        if cmd.add_arguments is not None:
            cmd.add_arguments(p)
        p.set_defaults(_runner=cmd.run)
    return parser


def main(argv: Optional[list[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    rc = args._runner(args)
    return int(rc or 0)


if __name__ == "__main__":
    sys.exit(main())
