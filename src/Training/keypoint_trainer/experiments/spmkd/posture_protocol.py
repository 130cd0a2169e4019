"""The paper's posture protocol beside ours: a graph network and the MLP, each fitted on the keypoints
a published SPMKD model gives for the labelled training maps, judged on the held-out people of both
mats. Several seeds per classifier, so the spread is visible.

``python3 -m keypoint_trainer spmkd posture-protocol --profile full --from models/spmkd/2 --report docs/results/spmkd-posture.md``

The keypoints are the served model's (model.onnx through :mod:`...engine.onnx_graph`, checked against its golden
samples first), on the same labelled maps as the served posture head (:mod:`.attach_posture`). A model
whose served head also saw the unfamiliar mat's labelled maps (manifest metric
``posture_classifier_mats = "both"``) is judged with both label sets: the SLP-like mat's alone, and
with the unfamiliar mat's beside them, as served.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ...core.config import load_config
from ...core.manifest import write_json
from ...core.provenance import machine_info
from ...data.pressure import load_dataset
from ...data.pressure.splits import build_datasets, data_spec
from ...metrics.joints import posture_metrics
from ...models.posture import POSTURE_CLASSES, PostureClassifier
from ...models.posture_graph import GraphPostureClassifier
from .attach_posture import check_against_golden, onnx_keypoints
from ...engine.onnx_graph import OnnxGraph

CLASSIFIERS = {"MLP (the served head's kind)": PostureClassifier, "graph network (GCN, k-NN graph)": GraphPostureClassifier}
SPLITS = {"test": "SLP-like mat", "unf_test": "unfamiliar mat"}


def compare(src: Path, *, profile: str, data_root: Path, seeds=(0, 1, 2), log: Callable = print) -> dict[str, Any]:
    t0 = time.monotonic()
    manifest = json.loads((src / "manifest.json").read_text())
    graph = OnnxGraph(src / manifest["model_file"])
    if manifest.get("golden_file"):
        log(f"ONNX evaluator vs golden outputs: max difference "
            f"{check_against_golden(graph, json.loads((src / manifest['golden_file']).read_text())):.2g}")
    spec = data_spec(load_config(profile, family="spmkd"))
    paths = build_datasets(data_root, spec, log=log)
    train, _ = load_dataset(paths["train"])
    idx = np.sort(np.random.default_rng(7).permutation(len(train["pressure"]))[:spec.posture_labelled])
    label_sets = {"SLP-like mat": (onnx_keypoints(graph, train["pressure"][idx]), train["posture"][idx])}
    if manifest.get("metrics", {}).get("posture_classifier_mats") == "both":
        unf, _ = load_dataset(paths["unf_labelled"])
        kp, y = label_sets["SLP-like mat"]
        label_sets["both mats"] = (np.concatenate([kp, onnx_keypoints(graph, unf["pressure"])]),
                                   np.concatenate([y, unf["posture"]]))
    held_out = {s: load_dataset(paths[s])[0] for s in SPLITS}
    kps = {s: onnx_keypoints(graph, d["pressure"]) for s, d in held_out.items()}
    rows = []
    for labels, (kp_train, y_train) in label_sets.items():
        for name, cls in CLASSIFIERS.items():
            for seed in seeds:
                clf = cls(seed=seed).fit(kp_train, y_train)
                row = {"classifier": name, "labels": labels, "seed": seed}
                for s, d in held_out.items():
                    row[s] = posture_metrics(clf.predict(kps[s]), d["posture"])
                rows.append(row)
                log(f"{name}, {labels} labels, seed {seed}: " + ", ".join(f"{s} {row[s]['accuracy']:.4f}" for s in SPLITS))
    return {"model": f"{manifest['name']}/{manifest['version']}", "keypoints": int(kps["test"].shape[1]),
            "labelled_maps": {k: int(len(y)) for k, (_, y) in label_sets.items()},
            "served_labels": "both mats" if "both mats" in label_sets else "SLP-like mat",
            "held_out_maps": {s: int(len(d["posture"])) for s, d in held_out.items()},
            "rows": rows, "wall_s": round(time.monotonic() - t0, 1), "machine": machine_info()}


def write_report(res: dict[str, Any], path: Path, command: str) -> Path:
    labelled = res["labelled_maps"] if isinstance(res["labelled_maps"], dict) else {"SLP-like mat": res["labelled_maps"]}
    L = ["# SPMKD posture protocol: graph network vs MLP", "",
         f"Generated {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} by `{command}` "
         f"({res['wall_s']} s on {res['machine'].get('cpu')}). Keypoints: the {res['keypoints']} keypoints of the "
         f"published `{res['model']}` (its model.onnx); classifiers fitted on the keypoints of labelled training maps ("
         + "; ".join(f"{k}: {n} maps" for k, n in labelled.items())
         + f"; the served head was fitted on the {res.get('served_labels', 'SLP-like mat')} set), judged on held-out people ("
         f"{', '.join(f'{n} {SPLITS[s]}' for s, n in res['held_out_maps'].items())} "
         "maps). Method: models/posture_graph.py (graph network), models/posture.py (MLP).", "",
         "| classifier | labelled maps of | " + " | ".join(f"{v}: accuracy (mean, min–max over seeds)" for v in SPLITS.values()) + " |",
         "|---|---|" + "---|" * len(SPLITS)]
    for labels in labelled:
        for name in CLASSIFIERS:
            rs = _rows(res, name, labels)
            cells = []
            for s in SPLITS:
                acc = np.array([r[s]["accuracy"] for r in rs]) * 100
                cells.append(f"{acc.mean():.1f} % ({acc.min():.1f}–{acc.max():.1f}, {len(acc)} seeds)")
            L.append(f"| {name} | {labels} | " + " | ".join(cells) + " |")
    L += ["", "Confusion on the unfamiliar mat (rows: truth, columns: predicted; seed 0), in the order "
          f"{', '.join(POSTURE_CLASSES)}:", ""]
    for labels in labelled:
        for name in CLASSIFIERS:
            r0 = _rows(res, name, labels)[0]
            L.append(f"* {name}, {labels} labels: {r0['unf_test']['confusion']}")
    L.append("")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(L), encoding="utf-8")
    write_json(path.with_suffix(".json"), res)
    return path


def _rows(res: dict[str, Any], classifier: str, labels: str) -> list[dict[str, Any]]:
    """One classifier's rows (its seeds) under one label set; rows of older results have no label set: the SLP one."""
    return [r for r in res["rows"] if r["classifier"] == classifier and r.get("labels", "SLP-like mat") == labels]
