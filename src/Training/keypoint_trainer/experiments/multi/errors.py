"""Where the multi-figure model's predicted-identity PCK is lost: every visible ground-truth keypoint that
some detection finds (oracle-identity hit at alpha) but the grouped instances miss, by cause.

    PYTHONPATH=src/Training /usr/bin/python3 -m keypoint_trainer.experiments.multi.errors --profile full [--split test] [--by-level]

Causes, checked in this order for the nearest detection d of GT keypoint (f, t):

* ``wrong_type``: d has another keypoint type (grouping cannot put it in slot t): its slot in its instance,
  else (an outlier) its most probable type - with ``grouping.retype`` the two can differ;
* ``outlier``: d is in no instance (no confident, plausible link to a figure with a free slot);
* ``other_instance``: d is in an instance that is not the one matched to figure f (a grouping error);
* ``unmatched_figure``: figure f was matched to no instance;
* ``slot_taken``: f's instance holds another detection of type t (a duplicate won the slot).
"""
from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from ...codecs.grouping import GroupingSpec
from ...core.keypoints import STICK_FIGURE
from ...metrics.grouping import group_and_match

CAUSES = ("wrong_type", "outlier", "other_instance", "unmatched_figure", "slot_taken")


def _cause(det_i: int, dets, owner: dict[int, int], slot: dict[int, int], m, t: int) -> str:
    if slot.get(det_i, dets[det_i].type) != t:
        return "wrong_type"
    if det_i not in owner:
        return "outlier"
    if m is None:
        return "unmatched_figure"
    return "other_instance" if owner[det_i] != m else "slot_taken"


def breakdown(outputs: dict[str, np.ndarray], data: dict[str, np.ndarray], spec: GroupingSpec,
              alpha: float = 0.1) -> dict[str, Any]:
    K = STICK_FIGURE.num_keypoints
    counts: Counter = Counter()
    confusions: Counter = Counter()  # (true type, type given) of the wrong_type cases
    for n in range(len(data["images"])):
        g = group_and_match(outputs, data, n, spec)
        res, kp, present, gt, diag, pairs = g.res, g.kp, g.present, g.gt, g.diag, g.pairs
        owner = {i: m for m, inst in enumerate(res.instances) for i in inst.keypoints.values()}
        slot = {i: t for inst in res.instances for t, i in inst.keypoints.items()}
        det = g.detections
        for f in range(len(gt)):
            m = pairs.get(f)
            for t in range(K):
                if data["occluded"][n, f, t] or not len(det):
                    continue
                dist = np.linalg.norm(det - gt[f, t], axis=1) / diag[f]
                if dist.min() > alpha:
                    continue
                counts["found"] += 1
                if m is not None and present[m, t] and np.linalg.norm(kp[m, t] - gt[f, t]) / diag[f] <= alpha:
                    counts["correct"] += 1
                    continue
                nearest = int(np.argmin(dist))
                cause = _cause(nearest, res.detections, owner, slot, m, t)
                counts[cause] += 1
                if cause == "wrong_type":
                    confusions[(t, slot.get(nearest, res.detections[nearest].type))] += 1
    found = max(counts["found"], 1)
    names = STICK_FIGURE.keypoints
    return {"visible_keypoints_found": counts["found"], "correct": counts["correct"] / found,
            **{c: counts[c] / found for c in CAUSES},
            "wrong_type_pairs": [{"true": names[a], "given": names[b], "count": n}
                                 for (a, b), n in sorted(confusions.items(), key=lambda x: (-x[1], x[0]))]}


def main(argv=None) -> int:
    from ...core.config import load_config
    from .evaluate import export_outputs, grouping_spec
    from .train import load_model, load_splits

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="full")
    ap.add_argument("--split", default="test", choices=("val", "test"))
    ap.add_argument("--model", default="main")
    ap.add_argument("--by-level", action="store_true", help="also one table per occlusion level")
    args = ap.parse_args(argv)
    cfg = load_config(args.profile, [], family="multi", default_extends="full")
    data = load_splits(cfg, (args.split,), log=lambda *a: None)[args.split]
    model = load_model(cfg, args.model)
    cal = Path(cfg["run"]["out_dir"]) / args.model / "grouping_calibration.json"
    chosen = json.loads(cal.read_text())["chosen"] if cal.is_file() else None
    outputs, spec = export_outputs(model, data["images"]), grouping_spec(cfg, model, chosen)
    alpha = float(cfg.get("eval", {}).get("alpha", 0.1))
    _print("all images", breakdown(outputs, data, spec, alpha))
    for level, idx in (_by_level(data) if args.by_level else []):
        _print(f"{level} overlap ({len(idx)} images)", breakdown({k: v[idx] for k, v in outputs.items()},
                                                                {k: v[idx] for k, v in data.items()}, spec, alpha))
    return 0


def _by_level(data: dict[str, np.ndarray]) -> list[tuple[str, np.ndarray]]:
    from ...data.multi.generator import LEVELS

    return [(lv, np.flatnonzero(data["level"] == i)) for i, lv in enumerate(LEVELS) if (data["level"] == i).any()]


def _print(title: str, r: dict[str, Any]) -> None:
    print(f"{title}: visible keypoints some detection finds: {r['visible_keypoints_found']}")
    print("| correct with predicted identity | " + " | ".join(CAUSES) + " |")
    print("|---|" + "---|" * len(CAUSES))
    print(f"| {100 * r['correct']:.1f} % | " + " | ".join(f"{100 * r[c]:.1f} %" for c in CAUSES) + " |")
    pairs = r["wrong_type_pairs"]
    print(f"wrong types ({sum(p['count'] for p in pairs)}), true -> given: "
          + ", ".join(f"{p['true']} -> {p['given']} {p['count']}" for p in pairs))


if __name__ == "__main__":
    raise SystemExit(main())
