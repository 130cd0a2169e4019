"""The exporter of every family (docs/model-manifest.md): ONNX, the onnx checker, golden samples,
a manifest validated against the shared JSON Schema. Publishing into a model store, atomically,
is engine/publish.py.

* :func:`export_onnx` is the one place that calls ``torch.onnx.export`` (opset 17, dynamic
  batch), followed by ``onnx.checker`` (full check) and the interface the service relies on
  (input name and size, output names, dynamic batch of every tensor);
* golden samples: :func:`golden_sample` is the common part of a sample (raw input,
  pre-processed model input, raw outputs, base64 float32 LE); :func:`codec_golden` builds the
  whole file for a single-output model whose head owns a codec (decoded keypoints, skipping
  decode-unstable candidates);
* :func:`write_manifest` validates a manifest (schema, files, sha256) and writes it atomically;
  :func:`write_codec_export` is model.onnx + golden.json + manifest.json of such a model.
"""
from __future__ import annotations

import base64
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np
import torch

from ..core.keypoints import STICK_FIGURE, Skeleton
from ..core.manifest import build_manifest, validate_manifest, write_json
from ..core.preprocessing import STICK_FIGURE_INPUT, InputSpec, preprocess

OPSET = 17
MODEL_FILE = "model.onnx"
GOLDEN_FILE = "golden.json"
MANIFEST_FILE = "manifest.json"
#: decoded keypoints of a golden sample must move less than this (px) when the outputs are
#: perturbed by +-PERTURBATION, so ONNX Runtime's float differences cannot flip a decision
STABILITY_PX = 0.002
PERTURBATION = 2e-5


def export_onnx(module: torch.nn.Module, path: Path, input_spec: InputSpec, output_names: Sequence[str], *,
                opset: int = OPSET, batch_dim: str = "batch") -> Path:
    """``module`` (eval mode) -> ``path``: input ``input_spec.name`` [N, 1, H, W], the given outputs, all
    with a dynamic batch dimension named ``batch_dim``; then :func:`check_onnx`."""
    module.eval()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    dummy = torch.zeros(1, 1, input_spec.height, input_spec.width)
    names = [input_spec.name, *output_names]
    torch.onnx.export(module, dummy, str(path), opset_version=opset, input_names=[input_spec.name],
                      output_names=list(output_names), dynamic_axes={n: {0: batch_dim} for n in names},
                      do_constant_folding=True)
    check_onnx(path, input_spec, output_names)
    return path


def check_onnx(path: Path, input_spec: InputSpec, output_names: Sequence[str]) -> None:
    """onnx.checker (full check) + the interface the service relies on (names, dynamic batch, dims)."""
    import onnx

    m = onnx.load(str(path))
    onnx.checker.check_model(m, full_check=True)
    ins = [i for i in m.graph.input if i.name not in {x.name for x in m.graph.initializer}]
    if [i.name for i in ins] != [input_spec.name]:
        raise ValueError(f"unexpected inputs {[i.name for i in ins]}")
    dims = ins[0].type.tensor_type.shape.dim
    if not dims[0].dim_param or [d.dim_value for d in dims[1:]] != [1, input_spec.height, input_spec.width]:
        raise ValueError(f"unexpected input shape {dims}")
    outs = [o.name for o in m.graph.output]
    if outs != list(output_names):
        raise ValueError(f"unexpected outputs {outs}")
    if not all(o.type.tensor_type.shape.dim[0].dim_param for o in m.graph.output):
        raise ValueError("an output's batch dimension is not dynamic")
    if m.opset_import[0].version < 13:
        raise ValueError("opset < 13")


def b64_f32(a: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(a, dtype="<f4").tobytes()).decode("ascii")


def tensor_b64(a: np.ndarray) -> dict[str, Any]:
    return {"shape": list(a.shape), "data_b64": b64_f32(a)}


def golden_sample(sid: str, raw: np.ndarray, model_input: np.ndarray, outputs: dict[str, np.ndarray]) -> dict[str, Any]:
    """What every golden sample holds: the raw input (H x W values), the pre-processed model input
    and the raw outputs, as float32 little-endian base64. Families add their decoded results."""
    h, w = raw.shape
    return {"id": sid, "input": {"height": int(h), "width": int(w), "data_b64": b64_f32(raw)},
            "model_input_b64": b64_f32(model_input), "outputs": {k: tensor_b64(v) for k, v in outputs.items()}}


def decode_stability(codec, out: np.ndarray, trials: int = 16, seed: int = 0) -> float:
    """Largest keypoint shift (normalised units) when the outputs move by +-PERTURBATION."""
    base, _ = codec.decode_normalized(out)
    rng = np.random.default_rng(seed)
    worst = 0.0
    for _ in range(trials):
        noisy = out + rng.uniform(-PERTURBATION, PERTURBATION, size=out.shape).astype(np.float32)
        k, _ = codec.decode_normalized(noisy)
        worst = max(worst, float(np.abs(k - base).max()))
    return worst


def codec_golden(model: torch.nn.Module, candidates: Sequence[tuple[str, np.ndarray]], count: int,
                 input_spec: InputSpec = STICK_FIGURE_INPUT,
                 ground_truth: Optional[dict[str, np.ndarray]] = None) -> dict[str, Any]:
    """Golden file of a single-output model with a codec head, from candidate raw inputs (id, HxW values).

    Heatmap candidates whose decoded keypoints are not stable under tiny output perturbations are
    skipped (``skipped_unstable``), so the C# parity test cannot flake on ties."""
    codec = model.codec
    model.eval()
    samples, skipped = [], []
    for sid, raw in candidates:
        if len(samples) >= count:
            break
        raw = np.asarray(raw, dtype=np.float32)
        x = preprocess(raw, input_spec)
        with torch.no_grad():
            out = model(torch.from_numpy(x)).numpy().astype(np.float32)
        h, w = raw.shape
        if codec.task == "heatmap" and decode_stability(codec, out) * max(h, w) > STABILITY_PX:
            skipped.append(sid)
            continue
        norm, conf = codec.decode_normalized(out)
        s = golden_sample(sid, raw, x, {codec.output_name: out})
        s["keypoints"] = [[float(a) * w, float(b) * h] for a, b in norm[0]]
        if conf is not None:
            s["confidence"] = [float(c) for c in conf[0]]
        if ground_truth and sid in ground_truth:
            s["ground_truth"] = [[float(a), float(b)] for a, b in ground_truth[sid]]
        samples.append(s)
    if len(samples) < min(count, 1):
        raise RuntimeError("no golden sample is decode-stable")
    return {"description": "PyTorch reference: raw input (float32 LE, row-major, H x W raw values), pre-processed "
                           "model input (1x1xHxW), raw outputs, and keypoints decoded into the raw input's pixels "
                           "(docs/model-manifest.md). Tolerances: outputs < 1e-4 max abs, keypoints < 0.01 px.",
            "decoding": codec.decode_method, "tolerances": {"outputs_max_abs": 1e-4, "keypoints_px": 0.01},
            "skipped_unstable": skipped, "samples": samples}


def resized_variant(img_u8: np.ndarray, height: int = 150, width: int = 200) -> np.ndarray:
    """A non-model-sized raw input (bilinear-upscaled copy) so the C# resize path is exercised."""
    from PIL import Image

    im = Image.fromarray(img_u8, mode="L").resize((width, height), Image.BILINEAR)
    return np.asarray(im).astype(np.float32)


def write_manifest(out_dir: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """Validate against the JSON Schema with the files it names (sha256), then write manifest.json."""
    validate_manifest(manifest, out_dir)
    write_json(Path(out_dir) / MANIFEST_FILE, manifest)
    return manifest


def write_codec_export(model: torch.nn.Module, out_dir: Path, *, name: str, version: str,
                       candidates: Sequence[tuple[str, np.ndarray]], golden_count: int,
                       metrics: Optional[dict[str, Any]] = None, training: Optional[dict[str, Any]] = None,
                       description: Optional[str] = None, skeleton: Skeleton = STICK_FIGURE,
                       input_spec: InputSpec = STICK_FIGURE_INPUT, ground_truth=None,
                       extra_files: Optional[dict[str, Any]] = None) -> dict[str, Any]:
    """model.onnx, golden.json, manifest.json (+ extra JSON files) of a model whose head owns a codec."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    codec = model.codec
    onnx_path = export_onnx(model, out_dir / MODEL_FILE, input_spec, [codec.output_name])
    write_json(out_dir / GOLDEN_FILE, codec_golden(model, candidates, golden_count, input_spec, ground_truth))
    manifest = build_manifest(name=name, version=version, task=codec.task, model_file=MODEL_FILE,
                              model_path=onnx_path, input_spec=input_spec, skeleton=skeleton, **codec.manifest(),
                              metrics=metrics, training=training, golden_file=GOLDEN_FILE, description=description)
    write_manifest(out_dir, manifest)
    for fname, obj in (extra_files or {}).items():
        write_json(out_dir / fname, obj)
    return manifest
