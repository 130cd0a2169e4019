"""Fault injection: the model store's disk fills up while the trainer publishes (docs/reliability.md).

The store is a real 4 MiB tmpfs (root mounts it; the test fails, never skips, where it cannot), so the
ENOSPC comes from the kernel in the middle of copying model.onnx, not from a patched ``write``. The
publish must fail with the disk's error, leave no hidden staging directory and no version directory
behind, give back the space, and leave the version already in the store intact.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from keypoint_trainer.plugins import build_fixtures
from keypoint_trainer.core.manifest import check_store_layout, validate_manifest

ROOT = Path(__file__).resolve().parents[3]
STORE_BYTES = 4 * 1024 * 1024  # one regression export (~2.3 MB) fits, a second does not


@pytest.fixture
def tiny_store():
    mount_point = Path(tempfile.mkdtemp(prefix="kps-disk-full-"))
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={STORE_BYTES}", "tmpfs", str(mount_point)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        mount_point.rmdir()
        pytest.fail(f"cannot mount a {STORE_BYTES}-byte tmpfs for the disk-full test (needs root): {result.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=True)
        mount_point.rmdir()


def _used(path: Path) -> int:
    s = os.statvfs(path)
    return (s.f_blocks - s.f_bfree) * s.f_frsize


def test_publish_into_a_full_store_fails_cleanly_and_keeps_the_served_version(tiny_store, tmp_path):
    [export] = build_fixtures(tmp_path / "exports", ["regression"], seed=0, log=lambda *a: None)
    export_bytes = sum(p.stat().st_size for p in export.iterdir())
    assert STORE_BYTES // 2 < export_bytes < STORE_BYTES, export_bytes  # the second copy must run out of space
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src" / "Training"))

    def publish():
        return subprocess.run([sys.executable, "-m", "keypoint_trainer", "publish", "--export", str(export),
                               "--store", str(tiny_store)], capture_output=True, text=True, env=env, timeout=120)

    first = publish()
    assert first.returncode == 0, first.stderr
    used_after_first = _used(tiny_store)

    second = publish()
    assert second.returncode != 0, "the publish into a full store claimed success"
    # one plain line, no Python traceback (the CLI's OSError message, cli.py)
    assert second.stderr.strip().splitlines() == [second.stderr.strip()], second.stderr
    assert second.stderr.startswith("keypoint_trainer publish: No space left on device"), second.stderr
    # Nothing half-written: no version 2, no hidden staging directory, and the space is given back.
    assert sorted(p.name for p in (tiny_store / "regression").iterdir()) == ["1"]
    assert _used(tiny_store) == used_after_first
    # Version 1 is untouched: its manifest still validates against its files (sha256 included).
    served = tiny_store / "regression" / "1"
    manifest = json.loads((served / "manifest.json").read_text())
    validate_manifest(manifest, served)
    check_store_layout(manifest, served)
    assert manifest["version"] == "1"

    # Once space is freed (here: the old version removed), the same publish succeeds: nothing was leaked.
    shutil.rmtree(served)
    third = publish()
    assert third.returncode == 0, third.stderr
    assert sorted(p.name for p in (tiny_store / "regression").iterdir()) == ["1"]
    validate_manifest(json.loads((served / "manifest.json").read_text()), served)
