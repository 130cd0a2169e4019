"""Model manifests (docs/model-manifest.md): build, write, read, validate, sha256.

Validation uses the one shared JSON Schema, ``schemas/model-manifest.schema.json`` at the
repository root (found by walking up from this file; override with the environment
variable ``KEYPOINT_MANIFEST_SCHEMA``).
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Optional, Sequence

from .keypoints import Skeleton
from .preprocessing import InputSpec

SCHEMA_RELATIVE = Path("schemas") / "model-manifest.schema.json"
#: grouping.retype tries up to K! type assignments per merge (C#: FigureGrouping.MaxRetypeKeypoints)
MAX_RETYPE_KEYPOINTS = 8


def repo_root(start: Optional[Path] = None) -> Path:
    """The repository root: the first parent holding ``schemas/model-manifest.schema.json``."""
    p = Path(start or __file__).resolve()
    for parent in [p] + list(p.parents):
        if (parent / SCHEMA_RELATIVE).is_file():
            return parent
    raise FileNotFoundError(f"could not find {SCHEMA_RELATIVE} above {p}")


def schema_path() -> Path:
    env = os.environ.get("KEYPOINT_MANIFEST_SCHEMA")
    return Path(env) if env else repo_root() / SCHEMA_RELATIVE


_SCHEMA_CACHE: dict[str, Any] = {}


def load_schema() -> dict[str, Any]:
    path = str(schema_path())
    if path not in _SCHEMA_CACHE:
        with open(path, encoding="utf-8") as f:
            _SCHEMA_CACHE[path] = json.load(f)
    return _SCHEMA_CACHE[path]


class ManifestError(ValueError):
    pass


def validate_manifest(manifest: dict[str, Any], model_dir: Optional[Path] = None) -> None:
    """Validate against the JSON Schema; with ``model_dir`` also check files and sha256."""
    import jsonschema

    schema = load_schema()
    validator_cls = jsonschema.validators.validator_for(schema)
    validator = validator_cls(schema)
    errors = sorted(validator.iter_errors(manifest), key=lambda e: list(e.path))
    if errors:
        msg = "; ".join(f"{'/'.join(map(str, e.path)) or '<root>'}: {e.message}" for e in errors[:10])
        raise ManifestError(f"manifest does not match the schema: {msg}")
    check_grouping(manifest)
    if model_dir is not None:
        model_dir = Path(model_dir)
        files = [(manifest["model_file"], manifest["sha256"])]
        rec = manifest.get("outputs", {}).get("reconstruction")
        if rec:
            files.append((rec["model_file"], rec["sha256"]))
        for name, digest in files:
            f = model_dir / name
            if not f.is_file():
                raise ManifestError(f"{f} is missing")
            actual = sha256_file(f)
            if actual != digest:
                raise ManifestError(f"sha256 mismatch for {f}: manifest {digest}, file {actual}")
        if manifest.get("golden_file") and not (model_dir / manifest["golden_file"]).is_file():
            raise ManifestError(f"golden file {manifest['golden_file']} is missing")


def check_grouping(manifest: dict[str, Any]) -> None:
    """Cross-field rules of ``grouping`` the schema cannot express (the C# ManifestReader checks the same)."""
    g = manifest.get("grouping")
    if g is None:
        return
    k = len(manifest["keypoints"])
    for link in g.get("candidate_links", []):
        if any(i >= k for i in link):
            raise ManifestError(f"grouping.candidate_links {link} refers to a keypoint beyond the {k} named")
    vote = g.get("head_vote")
    if vote is not None:
        if vote["head_type"] >= k:
            raise ManifestError(f"grouping.head_vote.head_type {vote['head_type']} is beyond the {k} keypoints named")
        others = [g[n] for n in ("heatmap", "offsets", "types", "embeddings")]
        if vote["output"] in others:
            raise ManifestError(f"grouping.head_vote.output {vote['output']!r} is already another grouping output")
    if g.get("retype") is not None and k > MAX_RETYPE_KEYPOINTS:
        raise ManifestError(f"grouping.retype searches type assignments and allows at most {MAX_RETYPE_KEYPOINTS} "
                            f"keypoint types, not {k}")


def check_store_layout(manifest: dict[str, Any], version_dir: Path) -> None:
    """A published manifest's name/version equal its directory names."""
    version_dir = Path(version_dir)
    if version_dir.name != manifest["version"] or version_dir.parent.name != manifest["name"]:
        raise ManifestError(f"{version_dir} does not match name={manifest['name']!r} "
                            f"version={manifest['version']!r}")


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(chunk)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def build_manifest(*, name: str, version: str, task: str, model_file: str, model_path: Path,
                   input_spec: InputSpec, skeleton: Skeleton,
                   heatmaps: Optional[dict[str, Any]] = None,
                   coordinates: Optional[dict[str, Any]] = None,
                   reconstruction: Optional[dict[str, Any]] = None,
                   decoding: Optional[dict[str, Any]] = None,
                   keypoint_names: Optional[Sequence[str]] = None,
                   links: Optional[Sequence[Sequence[int]]] = None,
                   joints: Optional[dict[str, Any]] = None,
                   metrics: Optional[dict[str, Any]] = None,
                   training: Optional[dict[str, Any]] = None,
                   golden_file: Optional[str] = None, posture: Optional[dict[str, Any]] = None,
                   description: Optional[str] = None) -> dict[str, Any]:
    """Assemble a manifest dict (sha256 computed from ``model_path``)."""
    outputs: dict[str, Any] = {}
    if heatmaps is not None:
        outputs["heatmaps"] = heatmaps
    if coordinates is not None:
        outputs["coordinates"] = coordinates
    if reconstruction is not None:
        outputs["reconstruction"] = reconstruction
    m: dict[str, Any] = {
        "schema_version": 1,
        "name": name,
        "version": str(version),
        "task": task,
    }
    if description:
        m["description"] = description
    m.update({
        "model_file": model_file,
        "sha256": sha256_file(Path(model_path)),
        "input": input_spec.to_manifest(),
        "outputs": outputs,
        "decoding": decoding or {"method": "direct"},
        "keypoints": list(keypoint_names if keypoint_names is not None else skeleton.keypoints),
        "skeleton": [list(map(int, l)) for l in (links if links is not None else skeleton.links)],
    })
    if joints is not None:
        m["joints"] = joints
    if metrics is not None:
        m["metrics"] = metrics
    if training is not None:
        m["training"] = training
    if posture is not None:
        m["posture"] = posture
    if golden_file is not None:
        m["golden_file"] = golden_file
    return m


def write_json(path: Path, obj: Any) -> None:
    """Write JSON atomically (temp file + os.replace)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, sort_keys=False)
        f.write("\n")
    os.replace(tmp, path)


def write_manifest(path: Path, manifest: dict[str, Any], *, validate: bool = True) -> None:
    if validate:
        validate_manifest(manifest)
    write_json(path, manifest)


def read_manifest(path: Path, *, validate: bool = True) -> dict[str, Any]:
    with open(path, encoding="utf-8") as f:
        m = json.load(f)
    if validate:
        validate_manifest(m, Path(path).parent)
    return m
