"""``export``: a trained stick-figure experiment -> model.onnx + manifest.json + golden.json (+ its
test metrics and training log), through the one exporter (engine/export.py).

Tensor names: input ``image`` [N, 1, 128, 128] float32 (raw/255); output ``heatmaps``
[N, 5, h, w] (heatmap models, raw network output, no activation) or ``coords`` [N, 10]
(x0, y0, ..., normalised to [0, 1]; regression and soft-argmax models): the head's codec.
"""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any, Optional

import numpy as np

from ...core.keypoints import STICK_FIGURE
from ...core.provenance import git_commit, machine_info, repo_relative, versions
from ...data.stick.dataset import KeypointDataset
from ...data.stick.splits import split_paths
from ...engine.export import GOLDEN_FILE, OPSET, resized_variant, write_codec_export
from ...models.flip import FlipTest
from .evaluate import eval_dir
from .train import load_trained, run_dir


def golden_candidates(cfg: dict[str, Any], count: int) -> tuple[list, dict]:
    """Raw test images (and one resized to 200x150) for the golden samples -> (candidates, ground truth)."""
    image_dir, ann = split_paths(cfg, "test")
    ds = KeypointDataset(str(image_dir), str(ann), output_type="regression", cache=False)
    cands, gts = [], {}
    for i in range(min(len(ds), 4 * count + 8)):
        sid = f"test-{i:04d}"
        cands.append((sid, ds.load_raw(i)))
        gts[sid] = ds.keypoints[i]
    rid = "test-0000-resized-200x150"
    gts[rid] = ds.keypoints[0] * np.array([200 / 128, 150 / 128])
    cands.insert(min(count - 1, len(cands)), (rid, resized_variant(ds.load_raw(0).astype(np.uint8))))
    return cands, gts


def manifest_metrics(m: dict[str, Any], argmax: Optional[dict[str, Any]], split_size: int) -> dict[str, Any]:
    keep = {k: m[k] for k in ("pck_bbox", "pck_torso", "auc_bbox", "auc_torso", "mean_pixel_error",
                              "median_pixel_error", "pck_bbox_per_keypoint") if k in m}
    keep = {"split": "test", "count": split_size, "decode": m.get("decode"), **keep}
    if argmax:
        keep["argmax_decoding"] = {k: argmax[k] for k in ("pck_bbox", "auc_bbox", "mean_pixel_error")}
    return keep


def test_metrics(cfg: dict[str, Any], exp: str, flip: bool) -> tuple[Optional[dict], Optional[dict]]:
    """-> (the manifest's metrics block, the full metrics of the method) from ``evaluate``'s output."""
    mfile = eval_dir(cfg) / "metrics.json"
    key = f"{exp}+flip" if flip else exp
    if not mfile.is_file():
        return None, None
    allm = json.loads(mfile.read_text())
    if key not in allm["metrics"]:
        return None, None
    return (manifest_metrics(allm["metrics"][key], None if flip else allm["metrics"].get(f"{exp}+argmax"),
                             allm["count"]), allm["metrics"][key] | {"split": "test"})


def training_block(cfg: dict[str, Any], exp: str, spec: dict[str, Any], flip: bool, tlog: dict) -> dict[str, Any]:
    d = cfg["data"]
    return {
        "command": f"PYTHONPATH=src/Training python3 -m keypoint_trainer train --config {cfg['run']['name']} --model {exp}",
        "config": repo_relative(cfg.get("_source")), "profile": cfg["run"]["name"], "experiment": exp, "spec": spec,
        "seed": cfg["run"]["seed"], "flip_test": flip,
        "data": {"generator": "keypoint_trainer.data.stick.generator (defaults + [generator] overrides)",
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


def export_experiment(cfg: dict[str, Any], exp: str, out: Path, *, name: Optional[str] = None,
                      version: str = "0", log=print) -> dict[str, Any]:
    model, spec = load_trained(cfg, exp)
    if hasattr(model, "export_module"):  # heads whose served output is decoded inside the graph (SimCC)
        model = model.export_module().eval()
    name = name or model.codec.task
    # test-time flip averaging exported inside the graph ([export] flip_test lists experiments)
    flip = spec["kind"] == "heatmap" and exp in cfg.get("export", {}).get("flip_test", [])
    if flip:
        model = FlipTest(model, STICK_FIGURE.num_keypoints, STICK_FIGURE.flip_pairs).eval()
    count = int(cfg.get("export", {}).get("golden_samples", 4))
    cands, gts = golden_candidates(cfg, count)
    metrics, full_metrics = test_metrics(cfg, exp, flip)
    tlog_path = run_dir(cfg, exp) / "training_log.json"
    tlog = json.loads(tlog_path.read_text()) if tlog_path.is_file() else {}
    extra = ({"metrics.json": full_metrics} if metrics else {}) | ({"training_log.json": tlog} if tlog else {})
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    description = spec.get("description", "") + (
        "; test-time flip averaging inside the graph (models/flip.py)" if flip else "")
    if tlog and not tlog.get("completed", True):  # a run stopped early says so where users read it
        description += (f"; exported from the best of {len(tlog.get('history', []))} of {tlog.get('epochs')} "
                        f"planned epochs (the run was stopped; resumable)")
    manifest = write_codec_export(model, out, name=name, version=version, candidates=cands, golden_count=count,
                                  metrics=metrics, training=training_block(cfg, exp, spec, flip, tlog),
                                  ground_truth=gts, extra_files=extra, description=description)
    log(f"exported {exp} -> {out} (sha256 {manifest['sha256'][:12]}..., golden "
        f"{len(json.loads((out / GOLDEN_FILE).read_text())['samples'])} samples)")
    return manifest
