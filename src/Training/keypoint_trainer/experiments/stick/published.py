"""``evaluate --published DIR``: a profile's run evaluated from its published model instead of its weights.

The served models' training checkpoints are not in the repository (``runs/`` does not survive a fresh
checkout), but each published model directory holds the exact graph users are served (``model.onnx``), the
training log of the run that produced it and that run's test metrics. Training the recipe again would give
another model (and hours of CPU); evaluating the published graph gives the served model's own numbers. The
graph runs in PyTorch (engine/onnx_graph.py) and is trusted only when:

* ``model.onnx`` has the manifest's sha256 and the manifest's training spec is the profile's experiment;
* it reproduces the golden samples' outputs (computed by PyTorch at export time);
* its test metrics are written beside the run's training log, and the difference from the metrics the
  model was published with is recorded (``published.json``).

The run directory then looks like an evaluated run without weights, and the profile's record
(``[run] record``, engine/run_record.py) keeps it, so ``evaluate`` and ``report`` read it back.
"""
from __future__ import annotations

import base64
import contextlib
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import torch
from torch import nn

from ...codecs.regression import RegressionCodec
from ...core.errors import ConfigError
from ...core.manifest import read_manifest, write_json
from ...core.provenance import repo_relative
from ...data.stick.dataset import load_split
from ...data.stick.splits import configured_splits
from ...engine.onnx_graph import OnnxGraph
from ...engine.run_record import RunRecord
from ...metrics.pck import THRESHOLDS
from ...models.factory import INPUT_SIZE, build_codec
from .plan import get_experiment
from .train import run_dir

GOLDEN_TOLERANCE = 1e-4     # largest |difference| from a golden output (float32 graphs, another op order)
SOURCE_FILE = "published.json"
IGNORED_SPEC_KEYS = ("description",)   # prose, edited since some models were published


GIT_PREFIX = "git:"
PUBLISHED_FILES = ("manifest.json", "model.onnx", "golden.json", "training_log.json", "metrics.json")


@contextlib.contextmanager
def published_dir(source: str) -> Iterator[Path]:
    """A model directory, or ``git:REV:PATH`` for one that a later version replaced in the store (the files are
    read from the repository's history into a temporary directory)."""
    if not source.startswith(GIT_PREFIX):
        if not (Path(source) / "manifest.json").is_file():
            raise ConfigError(f"--published {source}: no manifest.json there")
        yield Path(source)
        return
    rev, _, path = source[len(GIT_PREFIX):].partition(":")
    if not rev or not path:
        raise ConfigError(f"--published {source}: expected git:REV:PATH, e.g. git:7c32046:models/heatmap/2")
    with tempfile.TemporaryDirectory(prefix="published-") as tmp:
        for name in PUBLISHED_FILES:
            shown = subprocess.run(["git", "show", f"{rev}:{path.rstrip('/')}/{name}"], capture_output=True)
            if shown.returncode == 0:
                (Path(tmp) / name).write_bytes(shown.stdout)
            elif name == "manifest.json":
                raise ConfigError(f"--published {source}: {shown.stderr.decode().strip()}")
        yield Path(tmp)


class GraphModel(nn.Module):
    """A published graph as a module: ``forward(images)`` is its one output; ``codec`` decodes it like the
    service does (heatmaps: the spec's codec; ``coords``: normalised coordinates, also SimCC's in-graph
    decoding)."""

    def __init__(self, graph: OnnxGraph, codec: Any):
        super().__init__()
        if len(graph.inputs) != 1 or len(graph.outputs) != 1:
            raise ValueError(f"expected one input and one output, found {graph.inputs} -> {graph.outputs}")
        self.graph, self.codec = graph, codec

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        out = self.graph.run({self.graph.inputs[0]: images.numpy()})[self.graph.outputs[0]]
        return torch.from_numpy(np.ascontiguousarray(out))


def _float32(blob: dict[str, Any]) -> np.ndarray:
    return np.frombuffer(base64.b64decode(blob["data_b64"]), "<f4").reshape(blob["shape"])


def golden_difference(model: GraphModel, golden: dict[str, Any], size: tuple[int, int] = INPUT_SIZE) -> float:
    """Largest |difference| between the graph's output and each golden sample's."""
    worst = 0.0
    for sample in golden["samples"]:
        x = np.frombuffer(base64.b64decode(sample["model_input_b64"]), "<f4").reshape(1, 1, *size)
        (expected,) = sample["outputs"].values()
        got = model(torch.from_numpy(x.copy())).numpy()
        worst = max(worst, float(np.abs(got - _float32(expected)).max()))
    return worst


def check_spec(cfg: dict[str, Any], name: str, manifest: dict[str, Any]) -> dict[str, Any]:
    """The profile's spec of ``name``; refuses a published model trained to another spec."""
    spec = get_experiment(cfg, name)
    published = manifest.get("training", {}).get("spec", {})
    differ = sorted(k for k in set(spec) | set(published)
                    if k not in IGNORED_SPEC_KEYS and spec.get(k) != published.get(k))
    if differ:
        raise ConfigError(f"the published model was trained to another spec than {cfg['run']['name']}'s {name}: "
                          + ", ".join(f"{k} {published.get(k)!r} vs {spec.get(k)!r}" for k in differ))
    return spec


def load_published(cfg: dict[str, Any], name: str, model_dir: Path) -> tuple[GraphModel, dict[str, Any], dict]:
    """-> (the graph as a module, the spec, the manifest), after the manifest's checks (ManifestError) and the
    spec's (ConfigError)."""
    manifest = read_manifest(model_dir / "manifest.json")  # the schema, and model.onnx's sha256
    model_file = model_dir / manifest["model_file"]
    spec = check_spec(cfg, name, manifest)
    if manifest.get("training", {}).get("flip_test"):  # its output is already flip-averaged: +flip would flip twice
        raise ConfigError(f"{model_dir}: a graph with flip-test averaging inside cannot stand for the run {name}")
    codec = build_codec(spec) if "heatmaps" in manifest["outputs"] else RegressionCodec(INPUT_SIZE)
    return GraphModel(OnnxGraph(model_file), codec), spec, manifest


def _largest_metric_difference(measured: dict[str, Any], published: dict[str, Any]) -> float:
    keys = [k for k in ("pck_bbox", "pck_torso") if k in measured and k in published]
    diffs = [abs(measured[k][t] - published[k][t]) for k in keys for t in published[k] if t in measured[k]]
    for k in ("mean_pixel_error", "auc_bbox"):
        if k in measured and k in published:
            diffs.append(abs(measured[k] - published[k]))
    return max(diffs) if diffs else float("nan")


def evaluate_published(cfg: dict[str, Any], name: str, source: str, command: str = "",
                       log: Callable = print) -> dict[str, Any]:
    """Evaluates the graph of ``source`` (a model directory or ``git:REV:PATH``, :func:`published_dir`) as the
    run ``name`` on every configured test split, writes the run directory's training log,
    ``eval_<split>.json``, ``predictions_<split>.npz`` and ``published.json``, and keeps them in the
    profile's record. Returns ``published.json``'s content."""
    with published_dir(str(source)) as model_dir:
        return _evaluate_published(cfg, name, model_dir, str(source), command, log)


def _evaluate_published(cfg: dict[str, Any], name: str, model_dir: Path, source: str, command: str,
                        log: Callable) -> dict[str, Any]:
    from .evaluate import evaluate_experiment

    d = run_dir(cfg, name)
    if (d / f"{name}_model.pth").is_file():
        raise ConfigError(f"{d} holds {name}'s trained weights: evaluate them (without --published)")
    model, spec, manifest = load_published(cfg, name, model_dir)
    golden = json.loads((model_dir / manifest["golden_file"]).read_text())
    worst = golden_difference(model, golden)
    log(f"{name}: {source} reproduces its {len(golden['samples'])} golden samples to {worst:.2g}")
    if worst > GOLDEN_TOLERANCE:
        raise ConfigError(f"{source}: the graph differs from its golden outputs by {worst:g} (> {GOLDEN_TOLERANCE:g})")
    if not (model_dir / "training_log.json").is_file():
        raise ConfigError(f"{source} has no training_log.json: its run cannot be reported")
    d.mkdir(parents=True, exist_ok=True)
    shutil.copy2(model_dir / "training_log.json", d / "training_log.json")
    thresholds = cfg.get("eval", {}).get("thresholds", THRESHOLDS)
    differences = {}
    for split in ("test", *[s for s in configured_splits(cfg) if s.startswith("test_")]):
        x, _, gt = load_split(cfg, split)
        metrics, preds = evaluate_experiment(cfg, name, x, gt, thresholds=thresholds, trained=(model, spec))
        write_json(d / f"eval_{split}.json", metrics)
        np.savez_compressed(d / f"predictions_{split}.npz", **preds)
        if split == "test" and manifest.get("metrics"):
            differences[name] = _largest_metric_difference(metrics[name], manifest["metrics"])
        log(f"{name} on {split}: PCK@0.05 {metrics[name]['pck_bbox']['0.05'] * 100:.2f} %")
    origin = {"model_dir": repo_relative(Path(source)) if Path(source).is_absolute() else source,
              "name": manifest["name"], "version": manifest["version"], "sha256": manifest["sha256"],
              "golden_samples": len(golden["samples"]), "golden_max_abs_difference": worst,
              "published_metrics_max_abs_difference": differences.get(name),
              "training_command": manifest.get("training", {}).get("command"),
              "evaluated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "command": command}
    write_json(d / SOURCE_FILE, origin)
    kept = RunRecord(cfg["run"].get("record")).keep(name, d)
    log(f"{name}: evaluated from {source}" + (f"; recorded in {kept}" if kept else ""))
    return origin
