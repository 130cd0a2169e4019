"""The paper's posture protocol beside ours: a graph network and the MLP, each fitted on the keypoints
a published SPMKD model gives for the labelled training maps, judged on the held-out people of both
mats. Several seeds per classifier, so the spread is visible.

``python3 -m keypoint_trainer spmkd posture-protocol --profile full --from models/spmkd/2 --report docs/results/spmkd-posture.md``

The keypoints are the served model's (model.onnx through :mod:`.onnx_eval`, checked against its golden
samples first), on the same labelled maps as the served posture head (:mod:`.attach_posture`).
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
from .onnx_eval import OnnxGraph

CLASSIFIERS = {"MLP (served head)": PostureClassifier, "graph network (GCN, k-NN graph)": GraphPostureClassifier}
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
    kp_train = onnx_keypoints(graph, train["pressure"][idx])
    held_out = {s: load_dataset(paths[s])[0] for s in SPLITS}
    kps = {s: onnx_keypoints(graph, d["pressure"]) for s, d in held_out.items()}
    rows = []
    for name, cls in CLASSIFIERS.items():
        for seed in seeds:
            clf = cls(seed=seed).fit(kp_train, train["posture"][idx])
            row = {"classifier": name, "seed": seed}
            for s, d in held_out.items():
                row[s] = posture_metrics(clf.predict(kps[s]), d["posture"])
            rows.append(row)
            log(f"{name} seed {seed}: " + ", ".join(f"{s} {row[s]['accuracy']:.4f}" for s in SPLITS))
    return {"model": f"{manifest['name']}/{manifest['version']}", "keypoints": int(kp_train.shape[1]),
            "labelled_maps": int(len(idx)), "held_out_maps": {s: int(len(d["posture"])) for s, d in held_out.items()},
            "rows": rows, "wall_s": round(time.monotonic() - t0, 1), "machine": machine_info()}


def write_report(res: dict[str, Any], path: Path, command: str) -> Path:
    L = ["# SPMKD posture protocol: graph network vs MLP", "",
         f"Generated {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} by `{command}` "
         f"({res['wall_s']} s on {res['machine'].get('cpu')}). Keypoints: the {res['keypoints']} keypoints of the "
         f"published `{res['model']}` (its model.onnx); classifiers fitted on {res['labelled_maps']} labelled training "
         f"maps, judged on held-out people ({', '.join(f'{n} {SPLITS[s]}' for s, n in res['held_out_maps'].items())} "
         "maps). Method: models/posture_graph.py (graph network), models/posture.py (MLP).", "",
         "| classifier | " + " | ".join(f"{v}: accuracy (mean, min–max over seeds)" for v in SPLITS.values()) + " |",
         "|---|" + "---|" * len(SPLITS)]
    for name in CLASSIFIERS:
        rs = [r for r in res["rows"] if r["classifier"] == name]
        cells = []
        for s in SPLITS:
            acc = np.array([r[s]["accuracy"] for r in rs]) * 100
            cells.append(f"{acc.mean():.1f} % ({acc.min():.1f}–{acc.max():.1f}, {len(acc)} seeds)")
        L.append(f"| {name} | " + " | ".join(cells) + " |")
    L += ["", "Confusion on the unfamiliar mat (rows: truth, columns: predicted; seed 0), in the order "
          f"{', '.join(POSTURE_CLASSES)}:", ""]
    for name in CLASSIFIERS:
        r0 = next(r for r in res["rows"] if r["classifier"] == name)
        L.append(f"* {name}: {r0['unf_test']['confusion']}")
    L.append("")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(L), encoding="utf-8")
    write_json(path.with_suffix(".json"), res)
    return path
