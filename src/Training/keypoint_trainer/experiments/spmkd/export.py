"""ONNX export, manifest and golden samples of an SPMKD model (docs/spmkd.md, docs/model-manifest.md).

Two ONNX files (opset 17, dynamic batch), both taking ``pressure`` [N, 1, 256, 256] (the
pre-processed map):

* ``model.onnx``          encoder + soft-argmax: ``heatmaps`` [N, K, 64, 64] (per-keypoint
                          spatial softmax, each map sums to 1) and ``keypoints`` [N, K, 2]
                          (normalised x, y in [0, 1]; cell u centred at (u + 0.5) / 64);
* ``reconstruction.onnx`` the full Encoder-Fuser-Decoder: ``reconstruction`` [N, 1, 256, 256]
                          in normalised units (0..1 of the map's max, sigmoid output).

The manifest's ``joints`` block is the linear head (2J x 2K weight, 2J bias, x/y
interleaved, normalised coordinates) to the 14 SLP joints.
"""
from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any, Optional

import numpy as np
import torch

from ...core.keypoints import get_skeleton
from ...core.manifest import build_manifest, sha256_file, validate_manifest, write_json
from ...core.preprocessing import keypoints_to_input_pixels, preprocess
from ...data.pressure.splits import SPMKD_INPUT
from .evaluate import apply_linear_head
from ...models.efd import EFD, EncoderExport, ReconstructionExport
from ...models.posture import posture_of

OPSET = 17


def b64f32(a: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(a, dtype="<f4").tobytes()).decode("ascii")


def export_onnx(model: EFD, out_dir: Path) -> dict[str, Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.eval()
    x = torch.zeros(1, 1, SPMKD_INPUT.height, SPMKD_INPUT.width)
    enc_path, rec_path = out_dir / "model.onnx", out_dir / "reconstruction.onnx"
    torch.onnx.export(EncoderExport(model).eval(), x, str(enc_path), input_names=[SPMKD_INPUT.name],
                      output_names=["heatmaps", "keypoints"], opset_version=OPSET, do_constant_folding=True,
                      dynamic_axes={SPMKD_INPUT.name: {0: "N"}, "heatmaps": {0: "N"}, "keypoints": {0: "N"}})
    torch.onnx.export(ReconstructionExport(model).eval(), x, str(rec_path), input_names=[SPMKD_INPUT.name],
                      output_names=["reconstruction"], opset_version=OPSET, do_constant_folding=True,
                      dynamic_axes={SPMKD_INPUT.name: {0: "N"}, "reconstruction": {0: "N"}})
    import onnx

    for p in (enc_path, rec_path):
        m = onnx.load(str(p))
        onnx.checker.check_model(m)
    return {"encoder": enc_path, "reconstruction": rec_path}


@torch.no_grad()
def reference_outputs(model: EFD, raw: np.ndarray) -> dict[str, np.ndarray]:
    """The PyTorch reference for one raw map (through the shared pre-processing)."""
    model.eval()
    x = preprocess(raw, SPMKD_INPUT)
    xt = torch.from_numpy(x)
    hm, kp = EncoderExport(model)(xt)
    rec = ReconstructionExport(model)(xt)
    return {"model_input": x, "heatmaps": hm.numpy(), "keypoints": kp.numpy(), "reconstruction": rec.numpy()}


def golden_samples(model: EFD, maps: list[tuple[str, np.ndarray]], head: Optional[dict],
                   posture: Optional[dict] = None) -> dict[str, Any]:
    samples = []
    for sid, raw in maps:
        raw = np.asarray(raw, dtype=np.float32)
        ref = reference_outputs(model, raw)
        h, w = raw.shape
        kp_norm = ref["keypoints"][0].astype(np.float64)
        s: dict[str, Any] = {
            "id": sid,
            "input": {"height": int(h), "width": int(w), "data_b64": b64f32(raw)},
            "model_input_b64": b64f32(ref["model_input"]),
            "outputs": {k: {"shape": list(ref[k].shape), "data_b64": b64f32(ref[k])}
                        for k in ("heatmaps", "keypoints", "reconstruction")},
            "keypoints": keypoints_to_input_pixels(kp_norm, h, w).round(6).tolist(),
        }
        if head is not None:
            j = apply_linear_head(head, kp_norm[None])[0]
            s["joints"] = keypoints_to_input_pixels(j, h, w).round(6).tolist()
        if posture is not None:
            s["posture"] = posture_of(posture, kp_norm[None])[0]
        samples.append(s)
    return {"samples": samples,
            "notes": "input: raw pressure values (float32 LE, row-major, height x width); model_input: after "
                     "bilinear resize to 256x256 and max normalisation; outputs: ONNX outputs of model.onnx "
                     "(heatmaps, keypoints) and reconstruction.onnx (reconstruction); keypoints/joints: in the "
                     "input's pixel (sensor-cell) coordinates, x = x_norm * width, y = y_norm * height; "
                     "posture: the manifest's posture head on the ONNX keypoints."}


def joints_block(head: dict) -> dict[str, Any]:
    sk = get_skeleton("slp14")
    return {"names": list(sk.keypoints), "skeleton": sk.links_as_lists(),
            "weight": np.asarray(head["weight"], dtype=np.float64).round(8).tolist(),
            "bias": np.asarray(head["bias"], dtype=np.float64).round(8).tolist()}


def write_model_dir(model: EFD, out_dir: Path, *, name: str = "spmkd", version: str = "1",
                    head: Optional[dict] = None, golden_maps: Optional[list] = None,
                    metrics: Optional[dict] = None, training: Optional[dict] = None,
                    description: Optional[str] = None, posture: Optional[dict] = None) -> dict[str, Any]:
    """Export both ONNX graphs, golden samples and a schema-valid manifest into ``out_dir``."""
    out_dir = Path(out_dir)
    paths = export_onnx(model, out_dir)
    k = model.cfg.num_keypoints
    hm_size = SPMKD_INPUT.height // 4
    golden_file = None
    if golden_maps:
        write_json(out_dir / "golden.json", golden_samples(model, golden_maps, head, posture))
        golden_file = "golden.json"
    rec = {"model_file": paths["reconstruction"].name, "sha256": sha256_file(paths["reconstruction"]),
           "name": "reconstruction", "height": SPMKD_INPUT.height, "width": SPMKD_INPUT.width}
    manifest = build_manifest(
        name=name, version=version, task="spmkd", model_file=paths["encoder"].name, model_path=paths["encoder"],
        input_spec=SPMKD_INPUT, skeleton=get_skeleton("slp14"),
        heatmaps={"name": "heatmaps", "height": hm_size, "width": hm_size, "stride": 4.0},
        coordinates={"name": "keypoints", "normalized": True}, reconstruction=rec,
        decoding={"method": "direct"}, keypoint_names=[f"kp{i:02d}" for i in range(k)], links=[],
        joints=joints_block(head) if head is not None else None, metrics=metrics, training=training,
        golden_file=golden_file, posture=posture,
        description=description or (
            f"SPMKD (arXiv 2402.14241): self-supervised pressure-map keypoints, K={k}. model.onnx: pressure "
            "[N,1,256,256] -> heatmaps [N,K,64,64] (spatial softmax per keypoint) and keypoints [N,K,2] "
            "(soft-argmax, normalised); reconstruction.onnx: -> reconstruction [N,1,256,256] (0..1 of the "
            "map's max). joints: linear head to the 14 SLP joints." + (
                " posture: small MLP head on the keypoints (supine / left side / right side / prone)."
                if posture is not None else "")))
    validate_manifest(manifest, out_dir)
    write_json(out_dir / "manifest.json", manifest)
    return manifest


def load_model_dir(model_dir: Path) -> dict[str, Any]:
    return json.loads((Path(model_dir) / "manifest.json").read_text())
