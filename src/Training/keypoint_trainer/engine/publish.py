"""Atomic publishing into a model store ``{store}/{name}/{version}/``.

Files are copied into a hidden sibling ``{store}/{name}/.tmp-{version}-{pid}`` and renamed
to the final version directory with ``os.rename`` (atomic on one file system), so the
service, which ignores directories starting with ``.``, never sees a half-written version.
"""
from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Optional

_VERSION_RE = re.compile(r"^(\d+)")


def existing_versions(store: Path, name: str) -> list[str]:
    d = Path(store) / name
    if not d.is_dir():
        return []
    return [p.name for p in d.iterdir() if p.is_dir() and not p.name.startswith(".")]


def next_version(store: Path, name: str) -> str:
    """Next integer version: 1 + the largest leading integer among existing versions."""
    nums = [int(m.group(1)) for v in existing_versions(store, name) if (m := _VERSION_RE.match(v))]
    return str(max(nums, default=0) + 1)


def staging_dir(store: Path, name: str, version: str) -> Path:
    d = Path(store) / name / f".tmp-{version}-{os.getpid()}"
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    return d


def publish_staged(stage: Path, store: Path, name: str, version: str, *, replace: bool = False) -> Path:
    """Rename a fully written staging directory to ``{store}/{name}/{version}``."""
    final = Path(store) / name / version
    if final.exists():
        if not replace:
            shutil.rmtree(stage, ignore_errors=True)
            raise FileExistsError(f"{final} already exists")
        old = final.with_name(f".old-{version}-{os.getpid()}")
        os.rename(final, old)
        os.rename(stage, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(stage, final)
    return final


def publish(export_dir: Path, store: Path, name: Optional[str] = None, version: Optional[str] = None,
            *, replace: bool = False) -> Path:
    """Copy an export directory (model.onnx, manifest.json, golden.json, ...) into the store.

    The manifest's ``name``/``version`` are rewritten to the target directory names and the
    manifest is re-validated (including the sha256 of the model file) before the rename.
    """
    from ..core.manifest import validate_manifest, write_json

    export_dir = Path(export_dir)
    with open(export_dir / "manifest.json", encoding="utf-8") as f:
        manifest = json.load(f)
    name = name or manifest["name"]
    version = str(version) if version else next_version(store, name)
    (Path(store) / name).mkdir(parents=True, exist_ok=True)
    stage = staging_dir(store, name, version)
    try:
        for p in sorted(export_dir.iterdir()):
            if p.name.startswith("."):
                continue
            if p.is_dir():
                shutil.copytree(p, stage / p.name)
            else:
                shutil.copy2(p, stage / p.name)
        manifest["name"] = name
        manifest["version"] = version
        write_json(stage / "manifest.json", manifest)
        validate_manifest(manifest, stage)
        for p in stage.rglob("*"):  # flush file contents before the rename
            if p.is_file():
                with open(p, "rb") as f:
                    os.fsync(f.fileno())
        return publish_staged(stage, store, name, version, replace=replace)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


def published_models(cfg: dict) -> list[str]:
    """Experiments whose exports go into the model store: ``[export] publish`` (default: all of
    ``[models] run``). Lists one experiment per task when several train the same task."""
    return list(cfg.get("export", {}).get("publish") or cfg["models"]["run"])
