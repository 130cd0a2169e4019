"""Errors the trainer's CLI reports as one plain line instead of a traceback (cli.main)."""
from __future__ import annotations


class ConfigError(ValueError):
    """A run configuration (a profile's value or a ``--set`` override) that cannot be used; the message names
    the key and what it accepts."""
