"""Registries of subcommands and fixtures: a leaf module, so anything may register without an import circle.

A family adds its command line and its test fixture with one line each::

    from keypoint_trainer.core.registry import register_command, register_fixture
    register_command("spmkd", run, add_arguments, help="...")
    register_fixture("spmkd", build_fixture)   # builder(out_dir, *, name, version, seed)

``run`` receives the parsed ``argparse.Namespace`` and returns an exit code (or None);
``add_arguments`` receives the sub-parser. Heavy imports (torch) belong inside ``run`` and the
builders so that ``--help`` stays fast. ``keypoint_trainer.plugins`` imports every module that
registers (the families' ``commands`` modules and any ``keypoint_trainer.<sub>.plugin``).
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Callable, Optional

Runner = Callable[[argparse.Namespace], Optional[int]]
ArgAdder = Callable[[argparse.ArgumentParser], None]
Builder = Callable[..., None]


@dataclass
class Command:
    name: str
    run: Runner
    add_arguments: Optional[ArgAdder]
    help: str


@dataclass
class Fixture:
    name: str
    builder: Builder
    help: str = ""


_COMMANDS: dict[str, Command] = {}
_FIXTURES: dict[str, Fixture] = {}


def register_command(name: str, run: Runner, add_arguments: Optional[ArgAdder] = None,
                     help: str = "", *, replace: bool = False) -> Command:
    """Register subcommand ``name``. Raises if it exists unless ``replace`` is true."""
    if name in _COMMANDS and not replace:
        raise ValueError(f"subcommand {name!r} is already registered")
    cmd = Command(name, run, add_arguments, help)
    _COMMANDS[name] = cmd
    return cmd


def register_fixture(name: str, builder: Builder, help: str = "", *, replace: bool = False) -> Fixture:
    """Register fixture ``name``: ``builder(out_dir, *, name, version, seed)`` writes a model directory."""
    if name in _FIXTURES and not replace:
        raise ValueError(f"fixture {name!r} is already registered")
    fx = Fixture(name, builder, help)
    _FIXTURES[name] = fx
    return fx


def commands() -> dict[str, Command]:
    """What is registered so far (``plugins.registered_commands`` loads every family first)."""
    return dict(_COMMANDS)


def fixtures() -> dict[str, Fixture]:
    return dict(_FIXTURES)
