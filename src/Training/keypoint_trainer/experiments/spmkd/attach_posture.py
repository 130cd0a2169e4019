"""Attach a posture head to an already published SPMKD model without retraining it.

``python3 -m keypoint_trainer spmkd posture-head --from models/spmkd/1 --publish models/spmkd/2``

The training checkpoints are not in the repository, but the published ``model.onnx`` is the
network. Its keypoints on the profile's simulated splits (regenerated deterministically from
their seeds, :func:`.data.build_datasets`) are computed by :mod:`...engine.onnx_graph` (checked against
the model's golden samples first), the posture classifier of :mod:`.evaluate` is fitted on the
same labelled training maps the pipeline uses (``posture_labelled`` of a fixed permutation,
seed 7) and the exported head is measured on the held-out splits. The ONNX files are copied
unchanged; the manifest gains the ``posture`` block and the measured accuracies, the golden
samples their expected posture.
"""
from __future__ import annotations

import base64
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ...core.config import load_config
from ...core.manifest import validate_manifest, write_json
from ...data.pressure import load_dataset
from ...data.pressure.splits import build_datasets, data_spec, to_model_input
from ...metrics.joints import posture_metrics
from ...models.posture import PostureClassifier
from ...models.posture import apply_posture_head, posture_block, posture_of
from ...engine.onnx_graph import OnnxGraph


def _f32(b64: str, shape) -> np.ndarray:
    return np.frombuffer(base64.b64decode(b64), "<f4").reshape(shape)


def check_against_golden(graph: OnnxGraph, golden: dict, tol: float = 1e-5) -> float:
    """Largest keypoint difference between the evaluator and the golden ONNX outputs."""
    worst = 0.0
    for s in golden["samples"]:
        x = _f32(s["model_input_b64"], (1, 1, 256, 256))
        ref = s["outputs"]["keypoints"]
        got = graph.run({"pressure": x})["keypoints"]
        worst = max(worst, float(np.abs(got - _f32(ref["data_b64"], ref["shape"])).max()))
    if worst > tol:
        raise RuntimeError(f"ONNX evaluator differs from the golden outputs by {worst:g} (> {tol:g})")
    return worst


def onnx_keypoints(graph: OnnxGraph, maps: np.ndarray, batch: int = 32) -> np.ndarray:
    out = [graph.run({"pressure": to_model_input(maps[i:i + batch]).numpy()})["keypoints"]
           for i in range(0, len(maps), batch)]
    return np.concatenate(out).astype(np.float64)


def attach_posture(src: Path, out_dir: Path, *, profile: str = "full", data_root: Path,
                   command: str = "", log: Callable = print) -> dict[str, Any]:
    """Write ``src`` + posture head into ``out_dir`` (an export directory); returns the manifest."""
    t0 = time.monotonic()
    src, out_dir = Path(src), Path(out_dir)
    manifest = json.loads((src / "manifest.json").read_text())
    golden = json.loads((src / manifest["golden_file"]).read_text()) if manifest.get("golden_file") else None
    graph = OnnxGraph(src / manifest["model_file"])
    if golden is not None:
        log(f"ONNX evaluator vs golden outputs: max keypoint difference {check_against_golden(graph, golden):.2g}")
    spec = data_spec(load_config(profile, family="spmkd"))
    paths = build_datasets(data_root, spec, log=log)
    train, _ = load_dataset(paths["train"])
    n_train = len(train["pressure"])
    idx = np.sort(np.random.default_rng(7).permutation(n_train)[:spec.posture_labelled])
    clf = PostureClassifier(seed=0).fit(onnx_keypoints(graph, train["pressure"][idx]), train["posture"][idx])
    block = posture_block(clf)
    measured: dict[str, Any] = {}
    for split in ("test", "unf_test"):
        data, _ = load_dataset(paths[split])
        probs = apply_posture_head(block, onnx_keypoints(graph, data["pressure"]))
        measured[split] = posture_metrics(probs.argmax(1), data["posture"])
        log(f"posture head on {split}: accuracy {measured[split]['accuracy']:.4f} ({len(probs)} maps)")

    out_dir.mkdir(parents=True, exist_ok=True)
    for name in {manifest["model_file"], (manifest["outputs"].get("reconstruction") or {}).get("model_file")} - {None}:
        shutil.copy2(src / name, out_dir / name)
    if golden is not None:
        for s in golden["samples"]:
            s["posture"] = posture_of(block, _f32(s["outputs"]["keypoints"]["data_b64"],
                                                  s["outputs"]["keypoints"]["shape"]).astype(np.float64))[0]
        golden["notes"] += " posture: the manifest's posture head on the ONNX keypoints."
        write_json(out_dir / manifest["golden_file"], golden)
    metrics_file = src / "metrics.json"
    run_metrics = json.loads(metrics_file.read_text()) if metrics_file.is_file() else {}
    head_info = {"command": command, "source": str(src), "method": "posture MLP of experiments/spmkd/evaluate.py fitted on the "
                 "keypoints of the unchanged model.onnx (engine/onnx_graph.py) for the pipeline's labelled training "
                 "maps; measured as exported (posture_head.apply_posture_head)",
                 "labelled_maps": int(len(idx)), "data": spec.to_dict(),
                 "test": measured["test"], "unf_test": measured["unf_test"], "wall_s": time.monotonic() - t0}
    run_metrics["posture_head"] = head_info
    (out_dir / "metrics.json").write_text(json.dumps(run_metrics, indent=1))
    manifest["posture"] = block
    manifest["metrics"] = dict(manifest.get("metrics") or {})
    manifest["metrics"]["posture_accuracy"] = measured["test"]["accuracy"]
    manifest["metrics"]["posture_accuracy_unfamiliar"] = measured["unf_test"]["accuracy"]
    manifest["metrics"]["posture_head_labelled_maps"] = int(len(idx))
    manifest["training"] = dict(manifest.get("training") or {})
    manifest["training"]["posture_head"] = {k: v for k, v in head_info.items() if k not in ("test", "unf_test")}
    manifest["description"] = manifest.get("description", "") + (
        " posture: small MLP head on the keypoints (supine / left side / right side / prone), attached to the "
        f"unchanged network of version {manifest['version']}.")
    validate_manifest(manifest, out_dir)
    write_json(out_dir / "manifest.json", manifest)
    return manifest


def attach_and_publish(src: Path, target: Path, **kw) -> Path:
    """``target`` = ``{store}/{name}/{version}``; atomic publish (export/publish.py)."""
    from ...engine.publish import publish

    target = Path(target)
    with tempfile.TemporaryDirectory() as tmp:
        attach_posture(src, Path(tmp) / "export", **kw)
        return publish(Path(tmp) / "export", target.parent.parent, target.parent.name, target.name, replace=True)
