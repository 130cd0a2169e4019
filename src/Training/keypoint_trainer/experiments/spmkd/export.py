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

import json
import shutil
import time
from pathlib import Path
from typing import Any, Optional

import numpy as np
import torch

from ...core.keypoints import get_skeleton
from ...core.manifest import build_manifest, sha256_file, write_json
from ...core.preprocessing import keypoints_to_input_pixels, preprocess
from ...core.provenance import git_commit, machine_info, versions
from ...data.pressure import load_dataset
from ...data.pressure.splits import SPMKD_INPUT
from ...engine.export import export_onnx as export_onnx_graph, golden_sample, write_manifest
from ...engine.publish import publish as publish_dir
from ...models.efd import EFD, EncoderExport, ReconstructionExport
from ...models.joint_head import apply_linear_head
from ...models.posture import posture_block, posture_of
from ...core.errors import ConfigError



def export_onnx(model: EFD, out_dir: Path) -> dict[str, Path]:
    """Both graphs through the one exporter (engine/export.py), batch dimension ``N``."""
    out_dir = Path(out_dir)
    model.eval()
    return {"encoder": export_onnx_graph(EncoderExport(model), out_dir / "model.onnx", SPMKD_INPUT,
                                         ["heatmaps", "keypoints"], batch_dim="N"),
            "reconstruction": export_onnx_graph(ReconstructionExport(model), out_dir / "reconstruction.onnx",
                                                SPMKD_INPUT, ["reconstruction"], batch_dim="N")}


@torch.no_grad()
def reference_outputs(model: EFD, raw: np.ndarray) -> dict[str, np.ndarray]:
    """The PyTorch reference for one raw map (through the shared pre-processing)."""
    model.eval()
    x = preprocess(raw, SPMKD_INPUT)
    xt = torch.from_numpy(x)
    hm, kp = EncoderExport(model)(xt)
    rec = ReconstructionExport(model)(xt)
    return {"model_input": x, "heatmaps": hm.numpy(), "keypoints": kp.numpy(), "reconstruction": rec.numpy()}


# Heatmaps are K x 64 x 64 floats (2.8 MB of base64 per sample at K = 128): the first sample carries them,
# the others check keypoints, reconstruction, joints and posture, so the committed golden file stays small.
HEATMAP_SAMPLES = 1


def golden_samples(model: EFD, maps: list[tuple[str, np.ndarray]], head: Optional[dict],
                   posture: Optional[dict] = None) -> dict[str, Any]:
    samples = []
    for i, (sid, raw) in enumerate(maps):
        raw = np.asarray(raw, dtype=np.float32)
        ref = reference_outputs(model, raw)
        h, w = raw.shape
        kp_norm = ref["keypoints"][0].astype(np.float64)
        outputs = ("heatmaps", "keypoints", "reconstruction") if i < HEATMAP_SAMPLES else ("keypoints", "reconstruction")
        s = golden_sample(sid, raw, ref["model_input"], {k: ref[k] for k in outputs})
        s["keypoints"] = keypoints_to_input_pixels(kp_norm, h, w).round(6).tolist()
        if head is not None:
            j = apply_linear_head(head, kp_norm[None])[0]
            s["joints"] = keypoints_to_input_pixels(j, h, w).round(6).tolist()
        if posture is not None:
            s["posture"] = posture_of(posture, kp_norm[None])[0]
        samples.append(s)
    return {"samples": samples,
            "notes": "input: raw pressure values (float32 LE, row-major, height x width); model_input: after "
                     "bilinear resize to 256x256 and max normalisation; outputs: ONNX outputs of model.onnx "
                     "(heatmaps in the first sample only, keypoints) and reconstruction.onnx (reconstruction); keypoints/joints: in the "
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
    return write_manifest(out_dir, manifest)


def load_model_dir(model_dir: Path) -> dict[str, Any]:
    return json.loads((Path(model_dir) / "manifest.json").read_text())


def posture_labels(res: dict, both: bool) -> str:
    slp = f"{res['posture_labelled']} labelled maps of the SLP-like mat"
    if not both:
        return slp
    return f"{slp} and {res['runs']['main']['splits']['unf_test_refit']['head_n']} of the unfamiliar mat"


def manifest_metrics(res: dict, num_keypoints: int, posture_mats: str = "slp") -> dict[str, Any]:
    """The manifest's ``metrics`` of the main run: reconstruction, joints (linear head), posture (of the
    classifier the export serves: ``posture_mats``), cost."""
    main = res["runs"]["main"]
    posture = main["splits"]["test"]["posture"], main["splits"]["unf_test"]["posture"]
    if posture_mats == "both":
        refit = main["splits"]["unf_test_refit"]
        posture = refit["posture_slp"], refit["posture"]
    return {
        "test_split": "simulated SLP-like mat, held-out people",
        "recon_l2": main["recon"]["test"]["l2"], "recon_ssim": main["recon"]["test"]["ssim"],
        "recon_l2_unfamiliar": main["recon"]["unf_test"]["l2"],
        "recon_ssim_unfamiliar": main["recon"]["unf_test"]["ssim"],
        "joints_head_labelled_maps": res["labelled"],
        "joints_pck_torso@0.2": main["splits"]["test"]["joints"]["pck_torso@0.2"],
        "joints_pck_bbox@0.2": main["splits"]["test"]["joints"]["pck_bbox@0.2"],
        "joints_mean_err_cells": main["splits"]["test"]["joints"]["mean_err_cells"],
        "joints_mean_error_cm": main["splits"]["test"]["joints"]["mean_err_cm"],
        "joints_pck_torso@0.2_unfamiliar": main["splits"]["unf_test"]["joints"]["pck_torso@0.2"],
        "posture_accuracy": posture[0]["accuracy"],
        "posture_accuracy_unfamiliar": posture[1]["accuracy"],
        "posture_classifier_mats": posture_mats,
        "encoder_params": main["complexity"]["encoder"]["params"],
        "encoder_macs": main["complexity"]["encoder"]["macs"],
        "keypoints": num_keypoints,
    }


def export_main(res: dict, mo: dict, paths: dict[str, Path], p, spec, export_dir: Path,
                publish: Optional[Path] = None, command: str = "") -> dict[str, Any]:
    """The main run's model (``mo``: model, linear head, posture classifier) with golden samples, its
    metrics and training provenance, into ``export_dir`` (and published atomically to ``publish``)."""
    if export_dir.exists():
        shutil.rmtree(export_dir)
    export_dir.mkdir(parents=True)
    t0 = time.monotonic()
    tst, _ = load_dataset(paths["test"])
    unf, _ = load_dataset(paths["unf_test"])
    golden = [("slp-test-0000", tst["pressure"][0]), ("slp-test-0001", tst["pressure"][1]),
              ("unfamiliar-test-0000", unf["pressure"][0])][:p.golden]
    main = res["runs"]["main"]
    both = p.posture_mats == "both"
    if both and mo.get("classifier_both") is None:
        raise ConfigError("export.posture_mats = 'both' needs the unfamiliar mat's labelled split (unf_labelled)")
    metrics = manifest_metrics(res, mo["model"].cfg.num_keypoints, posture_mats=p.posture_mats)
    s2 = main["summary"]["stage2"]
    training = {"command": command, "profile": p.to_dict(), "seed": 0, "data": spec.to_dict(),
                "stage1_steps": p.stage1_steps, "stage2_steps": p.stage2_steps, "batch_size": p.batch_size,
                "epochs_stage1": (main["summary"]["stage1"] or {}).get("epochs"), "epochs_stage2": s2["epochs"],
                "wall_time_s": main["summary"]["wall_s"], "versions": versions(), "machine": machine_info(),
                "git_commit": git_commit(), "labels_used": "none for the network; joints only for the linear "
                f"head ({res['labelled']} labelled maps); postures for the classifier ({posture_labels(res, both)})"}
    manifest = write_model_dir(mo["model"], export_dir, head=mo["head"], golden_maps=golden, metrics=metrics,
                               training=training, posture=posture_block(mo["classifier_both"] if both else mo["classifier"]))
    (export_dir / "metrics.json").write_text(json.dumps(compact_results(res), indent=1, default=json_default))
    final_dir = export_dir
    if publish:  # atomic publish into {store}/{name}/{version} (engine/publish.py)
        pub = Path(publish)
        final_dir = publish_dir(export_dir, pub.parent.parent, pub.parent.name, pub.name, replace=True)
    return {"dir": str(final_dir), "wall_s": time.monotonic() - t0,
            "files": sorted(f.name for f in Path(final_dir).iterdir())}


def compact_results(res: dict) -> dict:
    """results without per-step training losses and example predictions (for metrics.json)."""
    out = {k: v for k, v in res.items() if k not in ("gt_examples",)}
    runs = {}
    for n, r in res.get("runs", {}).items():
        r = {k: v for k, v in r.items() if k not in ("pred_test", "pred_unf_test")}
        if "curves" in r:
            r["curves"] = {st: {"val": c.get("val", [])} for st, c in r["curves"].items()}
        runs[n] = r
    out["runs"] = runs
    return out


def json_default(o):
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)
