"""The catalogue: imports every module that registers commands or fixtures (core/registry.py).

The four families register from their ``experiments/<family>/commands.py``; any other
sub-package of ``keypoint_trainer`` with a ``plugin`` module (``night/plugin.py``) is found and
imported too, so a new component plugs in without editing this file.
"""
from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from pathlib import Path
from typing import Iterable, Optional

from .core import registry
from .core.registry import Command, Fixture

_LOADED = False


def load_plugins() -> None:
    global _LOADED
    if _LOADED:
        return
    _LOADED = True
    from .experiments.hsjp import commands as _hsjp  # noqa: F401  (registration on import)
    from .experiments.multi import commands as _multi  # noqa: F401
    from .experiments.spmkd import commands as _spmkd  # noqa: F401
    from .experiments.stick import commands as _stick  # noqa: F401

    package = Path(__file__).parent
    for mod in pkgutil.iter_modules([str(package)]):
        name = f"{__package__}.{mod.name}.plugin"
        if mod.ispkg and importlib.util.find_spec(name) is not None:
            importlib.import_module(name)


def registered_commands() -> dict[str, Command]:
    load_plugins()
    return registry.commands()


def registered_fixtures() -> dict[str, Fixture]:
    load_plugins()
    return registry.fixtures()


def build_fixtures(out: Path, names: Optional[Iterable[str]] = None, *, seed: int = 0, version: str = "1",
                   replace: bool = True, log=print) -> list[Path]:
    """Every registered fixture (or ``names``) into the model store ``out`` (engine/fixtures.py)."""
    from .engine.fixtures import build_fixtures as build

    return build(registered_fixtures(), out, names, seed=seed, version=version, replace=replace, log=log)
