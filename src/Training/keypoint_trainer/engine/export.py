"""ONNX export (opset 17, dynamic batch), manifest.json and golden.json (docs/model-manifest.md).

Tensor names: input ``image`` [N, 1, 128, 128] float32 (raw/255); output ``heatmaps``
[N, 5, h, w] (heatmap models, raw network output, no activation) or ``coords`` [N, 10]
(x0, y0, ..., normalised to [0, 1]; regression and soft-argmax models).
"""
from __future__ import annotations

import base64
import json
import platform
import shutil
import sys
import time
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np
import torch

from ..codecs.heatmap import HeatmapCodec, decode_heatmaps
from ..core.keypoints import STICK_FIGURE, Skeleton
from ..core.manifest import build_manifest, validate_manifest, write_json
from ..models.flip import FlipTest
from ..core.preprocessing import STICK_FIGURE_INPUT, InputSpec, preprocess

OPSET = 17
INPUT_NAME = "image"
MODEL_FILE = "model.onnx"
GOLDEN_FILE = "golden.json"
#: decoded keypoints of a golden sample must move less than this (px) when the outputs are
#: perturbed by +-PERTURBATION, so ONNX Runtime's float differences cannot flip a decision
STABILITY_PX = 0.002
PERTURBATION = 2e-5


def output_name(spec: dict[str, Any]) -> str:
    return "heatmaps" if spec["kind"] == "heatmap" else "coords"


def task_of(spec: dict[str, Any]) -> str:
    return "heatmap" if spec["kind"] == "heatmap" else "regression"


def export_onnx(model: torch.nn.Module, spec: dict[str, Any], path: Path, input_spec: InputSpec = STICK_FIGURE_INPUT,
                opset: int = OPSET) -> Path:
    import onnx

    model.eval()
    out_name = output_name(spec)
    dummy = torch.zeros(1, 1, input_spec.height, input_spec.width)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(model, dummy, str(path), opset_version=opset, input_names=[input_spec.name],
                      output_names=[out_name], dynamic_axes={input_spec.name: {0: "batch"}, out_name: {0: "batch"}},
                      do_constant_folding=True)
    check_onnx(path, spec, input_spec)
    return path


def check_onnx(path: Path, spec: dict[str, Any], input_spec: InputSpec = STICK_FIGURE_INPUT) -> None:
    """onnx.checker + the interface the service relies on (names, dynamic batch, dims)."""
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
    if outs != [output_name(spec)]:
        raise ValueError(f"unexpected outputs {outs}")
    if not m.graph.output[0].type.tensor_type.shape.dim[0].dim_param:
        raise ValueError("output batch dimension is not dynamic")
    if m.opset_import[0].version < 13:
        raise ValueError("opset < 13")


def b64_f32(a: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(a, dtype="<f4").tobytes()).decode("ascii")


def decode_outputs(spec: dict[str, Any], out: np.ndarray) -> tuple[np.ndarray, Optional[np.ndarray]]:
    """Model output of one sample (batch 1) -> (normalised keypoints [K, 2], confidence or None)."""
    if spec["kind"] == "heatmap":
        norm, conf = decode_heatmaps(out[0], spec.get("decode", "dark"))
        return norm, conf
    return out[0].reshape(-1, 2).astype(np.float64), None


def decode_stability(spec: dict[str, Any], out: np.ndarray, trials: int = 16, seed: int = 0) -> float:
    """Largest keypoint shift (normalised units) when outputs move by +-PERTURBATION."""
    base, _ = decode_outputs(spec, out)
    rng = np.random.default_rng(seed)
    worst = 0.0
    for _ in range(trials):
        noisy = out + rng.uniform(-PERTURBATION, PERTURBATION, size=out.shape).astype(np.float32)
        k, _ = decode_outputs(spec, noisy)
        worst = max(worst, float(np.abs(k - base).max()))
    return worst


def golden_samples(model: torch.nn.Module, spec: dict[str, Any], candidates: Sequence[tuple[str, np.ndarray]],
                   count: int, input_spec: InputSpec = STICK_FIGURE_INPUT,
                   ground_truth: Optional[dict[str, np.ndarray]] = None) -> dict[str, Any]:
    """Golden file dict from candidate raw inputs (id, float32 HxW raw values).

    Candidates whose decoded keypoints are not stable under tiny output perturbations are
    skipped (reported in ``skipped_unstable``), so the C# parity test cannot flake on ties.
    """
    model.eval()
    samples, skipped = [], []
    for sid, raw in candidates:
        if len(samples) >= count:
            break
        raw = np.asarray(raw, dtype=np.float32)
        x = preprocess(raw, input_spec)
        with torch.no_grad():
            out = model(torch.from_numpy(x)).numpy().astype(np.float32)
        shift = decode_stability(spec, out)
        h, w = raw.shape
        if spec["kind"] == "heatmap" and shift * max(h, w) > STABILITY_PX:
            skipped.append(sid)
            continue
        norm, conf = decode_outputs(spec, out)
        kp = norm.copy()
        kp[:, 0] *= w
        kp[:, 1] *= h
        s: dict[str, Any] = {
            "id": sid,
            "input": {"height": int(h), "width": int(w), "data_b64": b64_f32(raw)},
            "model_input_b64": b64_f32(x),
            "outputs": {output_name(spec): {"shape": list(out.shape), "data_b64": b64_f32(out)}},
            "keypoints": [[float(a), float(b)] for a, b in kp],
        }
        if conf is not None:
            s["confidence"] = [float(c) for c in conf]
        if ground_truth and sid in ground_truth:
            s["ground_truth"] = [[float(a), float(b)] for a, b in ground_truth[sid]]
        samples.append(s)
    if len(samples) < min(count, 1):
        raise RuntimeError("no golden sample is decode-stable")
    return {
        "description": "PyTorch reference: raw input (float32 LE, row-major, H x W raw values), pre-processed "
                       "model input (1x1xHxW), raw outputs, and keypoints decoded into the raw input's pixels "
                       "(docs/model-manifest.md). Tolerances: outputs < 1e-4 max abs, keypoints < 0.01 px.",
        "decoding": spec.get("decode", "dark") if spec["kind"] == "heatmap" else "direct",
        "tolerances": {"outputs_max_abs": 1e-4, "keypoints_px": 0.01},
        "skipped_unstable": skipped,
        "samples": samples,
    }


def resized_variant(img_u8: np.ndarray, height: int = 150, width: int = 200) -> np.ndarray:
    """A non-model-sized raw input (bilinear-upscaled copy) so the C# resize path is exercised."""
    from PIL import Image

    im = Image.fromarray(img_u8, mode="L").resize((width, height), Image.BILINEAR)
    return np.asarray(im).astype(np.float32)


def write_export(model: torch.nn.Module, spec: dict[str, Any], out_dir: Path, *, name: str, version: str,
                 candidates: Sequence[tuple[str, np.ndarray]], golden_count: int,
                 metrics: Optional[dict[str, Any]] = None, training: Optional[dict[str, Any]] = None,
                 description: Optional[str] = None, skeleton: Skeleton = STICK_FIGURE,
                 input_spec: InputSpec = STICK_FIGURE_INPUT, ground_truth=None,
                 extra_files: Optional[dict[str, Any]] = None) -> dict[str, Any]:
    """Write model.onnx, golden.json, manifest.json (+ extra JSON files) into ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    onnx_path = export_onnx(model, spec, out_dir / MODEL_FILE, input_spec)
    golden = golden_samples(model, spec, candidates, golden_count, input_spec, ground_truth)
    write_json(out_dir / GOLDEN_FILE, golden)
    heatmaps = coordinates = None
    if spec["kind"] == "heatmap":
        hs = int(spec.get("heatmap_size", 64))
        codec = HeatmapCodec((input_spec.height, input_spec.width), (hs, hs), float(spec.get("sigma", 2.0)))
        heatmaps = codec.manifest_outputs(output_name(spec))
        decoding = {"method": spec.get("decode", "dark")}
    else:
        coordinates = {"name": output_name(spec), "normalized": True}
        decoding = {"method": "direct"}
    manifest = build_manifest(name=name, version=version, task=task_of(spec), model_file=MODEL_FILE,
                              model_path=onnx_path, input_spec=input_spec, skeleton=skeleton, heatmaps=heatmaps,
                              coordinates=coordinates, decoding=decoding, metrics=metrics, training=training,
                              golden_file=GOLDEN_FILE, description=description or spec.get("description"))
    validate_manifest(manifest, out_dir)
    write_json(out_dir / "manifest.json", manifest)
    for fname, obj in (extra_files or {}).items():
        write_json(out_dir / fname, obj)
    return manifest


def _manifest_metrics(m: dict[str, Any], argmax: Optional[dict[str, Any]], split_size: int) -> dict[str, Any]:
    keep = {k: m[k] for k in ("pck_bbox", "pck_torso", "auc_bbox", "auc_torso", "mean_pixel_error",
                              "median_pixel_error", "pck_bbox_per_keypoint") if k in m}
    keep = {"split": "test", "count": split_size, "decode": m.get("decode"), **keep}
    if argmax:
        keep["argmax_decoding"] = {k: argmax[k] for k in ("pck_bbox", "auc_bbox", "mean_pixel_error")}
    return keep


def export_experiment(cfg: dict[str, Any], exp: str, out: Path, *, name: Optional[str] = None,
                      version: str = "0", log=print) -> dict[str, Any]:
    from ..data.stick.dataset import KeypointDataset
    from ..data.stick.splits import split_paths
    from ..experiments.stick.evaluate import eval_dir
    from ..experiments.stick.train import load_trained, run_dir
    from ..core.provenance import git_commit, machine_info, repo_relative, versions

    model, spec = load_trained(cfg, exp)
    name = name or task_of(spec)
    # test-time flip averaging exported inside the graph ([export] flip_test lists experiments)
    flip = spec["kind"] == "heatmap" and exp in cfg.get("export", {}).get("flip_test", [])
    if flip:
        model = FlipTest(model, STICK_FIGURE.num_keypoints, STICK_FIGURE.flip_pairs).eval()
    metric_key = f"{exp}+flip" if flip else exp
    image_dir, ann = split_paths(cfg, "test")
    ds = KeypointDataset(str(image_dir), str(ann), output_type="regression", cache=False)
    count = int(cfg.get("export", {}).get("golden_samples", 4))
    cands, gts = [], {}
    for i in range(min(len(ds), 4 * count + 8)):
        sid = f"test-{i:04d}"
        cands.append((sid, ds.load_raw(i)))
        gts[sid] = ds.keypoints[i]
    # one resized input (200x150) built from the first test image
    first = ds.load_raw(0).astype(np.uint8)
    rid = "test-0000-resized-200x150"
    gts[rid] = ds.keypoints[0] * np.array([200 / 128, 150 / 128])
    cands.insert(min(count - 1, len(cands)), (rid, resized_variant(first)))
    metrics = None
    mfile = eval_dir(cfg) / "metrics.json"
    if mfile.is_file():
        allm = json.loads(mfile.read_text())
        if metric_key in allm["metrics"]:
            metrics = _manifest_metrics(allm["metrics"][metric_key],
                                        None if flip else allm["metrics"].get(f"{exp}+argmax"), allm["count"])
    tlog_path = run_dir(cfg, exp) / "training_log.json"
    tlog = json.loads(tlog_path.read_text()) if tlog_path.is_file() else {}
    d = cfg["data"]
    training = {
        "command": f"PYTHONPATH=src/Training python3 -m keypoint_trainer train --config {cfg['run']['name']} --model {exp}",
        "config": repo_relative(cfg.get("_source")), "profile": cfg["run"]["name"], "experiment": exp, "spec": spec,
        "seed": cfg["run"]["seed"], "flip_test": flip,
        "data": {"generator": "keypoint_trainer.data.generator (defaults + [generator] overrides)",
                 "generator_overrides": cfg.get("generator", {}), "train": d["train"], "val": d["val"],
                 "test": d["test"], "seeds": d["seeds"]},
        # planned vs completed epochs: a run stopped early (resumable) is exported from its best epoch so far
        "epochs": tlog.get("epochs"), "epochs_completed": len(tlog.get("history", [])),
        "completed": tlog.get("completed"), "best_epoch": tlog.get("best_epoch"), "batch_size": tlog.get("batch_size"),
        "lr": tlog.get("lr"), "optimizer": "Adam", "loss": spec.get("loss", "mse"),
        "wall_time_s": tlog.get("wall_time_s"), "seconds_per_step": tlog.get("seconds_per_step"),
        "versions": versions(), "machine": machine_info(), "git_commit": git_commit(),
        "exported_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "opset": OPSET,
    }
    extra = {}
    if metrics:
        extra["metrics.json"] = json.loads(mfile.read_text())["metrics"][metric_key] | {"split": "test"}
    if tlog:
        extra["training_log.json"] = tlog
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    description = spec.get("description", "") + (
        "; test-time flip averaging inside the graph (models/flip_test.py)" if flip else "")
    manifest = write_export(model, spec, out, name=name, version=version, candidates=cands, golden_count=count,
                            metrics=metrics, training=training, ground_truth=gts, extra_files=extra,
                            description=description)
    log(f"exported {exp} -> {out} (sha256 {manifest['sha256'][:12]}..., golden "
        f"{len(json.loads((out / GOLDEN_FILE).read_text())['samples'])} samples)")
    return manifest
