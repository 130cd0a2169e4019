"""Error attribution (evaluation/run.py: error_sources) on the quick profile's test split."""
import json

import numpy as np

from keypoint_trainer.data.generate import split_paths
from keypoint_trainer.data.generator import GeneratorConfig, render_layers
from keypoint_trainer.evaluation.run import error_sources


def _test_split(cfg):
    _, ann = split_paths(cfg, "test")
    d = json.loads(ann.read_text())
    return d, np.array([r["keypoints"] for r in d["images"]], dtype=np.float64)


def test_perfect_predictions_have_no_errors(quick_cfg):
    _, gt = _test_split(quick_cfg)
    r = error_sources(quick_cfg, gt.copy(), gt)
    assert r["correct"] == r["keypoints"] == gt.size // 2
    assert r["near_miss"] == r["gross_on_distractor"] == r["gross_on_figure"] == r["gross_elsewhere"] == 0


def test_a_prediction_on_a_distractor_stroke_is_attributed_to_it(quick_cfg):
    d, gt = _test_split(quick_cfg)
    g = GeneratorConfig.from_dict(d["info"]["generator"])
    pred = gt.copy()
    for i in range(len(gt)):
        _, _, _, layers = render_layers(d["info"]["seed"], i, g)
        ys, xs = np.nonzero((layers["distractors"] >= 0.99) & (layers["figure"] == 0))
        far = np.hypot(xs + 0.5 - gt[i, 1, 0], ys + 0.5 - gt[i, 1, 1]) > 40
        if far.any():
            k = int(np.argmax(far))
            pred[i, 1] = (xs[k] + 0.5, ys[k] + 0.5)  # left_hand placed on a distractor, far away
            break
    else:
        raise AssertionError("no quick test image with a distractor stroke")
    pred[(i + 1) % len(gt), 0] += (2.0, 0.0)  # a small shift: correct or a near miss, never gross
    r = error_sources(quick_cfg, pred, gt)
    assert r["gross_on_distractor"] == 1 and r["gross_per_keypoint"]["left_hand"]["gross_on_distractor"] == 1
    assert r["gross_on_figure"] == r["gross_elsewhere"] == 0
    assert r["correct"] + r["near_miss"] == r["keypoints"] - 1
