import numpy as np
import pytest

from keypoint_trainer.metrics.pck import (auc, bbox_diagonal, compute_pck, normalizer, pck_curve,
                                                 per_keypoint_pck, summarize)
from keypoint_trainer.core.keypoints import STICK_FIGURE


def gt_one():
    # head (50, 10); hands (20, 40), (80, 40); feet (40, 90), (60, 90)
    return np.array([[[50, 10], [20, 40], [80, 40], [40, 90], [60, 90]]], dtype=float)


def test_bbox_and_torso_normalisers():
    g = gt_one()
    assert bbox_diagonal(g)[0] == pytest.approx(100.0)  # 60 x 80 box
    assert normalizer(g, "torso")[0] == pytest.approx(80.0)  # head -> midpoint of feet (50, 90)


def test_pck_hand_computed():
    g = gt_one()
    p = g.copy()
    p[0, 0] += [3, 4]     # 5 px   -> 0.05 of the diagonal (inclusive)
    p[0, 1] += [6, 8]     # 10 px  -> 0.10
    p[0, 2] += [0, 15]    # 15 px  -> 0.15
    p[0, 3] += [20, 0]    # 20 px  -> 0.20
    p[0, 4] += [30, 40]   # 50 px  -> 0.50
    pck = compute_pck(p, g, [0.05, 0.1, 0.15, 0.2], "bbox")
    assert pck == {0.05: 0.2, 0.1: 0.4, 0.15: 0.6, 0.2: 0.8}
    # torso 80 px: thresholds 4, 8, 12, 16 px
    assert compute_pck(p, g, [0.05, 0.1, 0.15, 0.2], "torso") == {0.05: 0.0, 0.1: 0.2, 0.15: 0.4, 0.2: 0.6}
    per = per_keypoint_pck(p, g, [0.1])
    assert per[0.1] == [1.0, 1.0, 0.0, 0.0, 0.0]


def test_pck_accepts_tensors_and_perfect_auc():
    import torch

    g = gt_one()
    assert compute_pck(torch.tensor(g), torch.tensor(g), [0.05])[0.05] == 1.0
    assert auc(g, g) == pytest.approx(1.0)
    t, v = pck_curve(g + 1000, g)
    assert v.max() == 0 and auc(g + 1000, g) == 0


def test_auc_hand_computed():
    g = gt_one()
    p = g.copy()
    p[:, :, 0] += 10.0  # every keypoint 10 px = 0.1 of the diagonal: PCK 0 below 0.1, 1 from 0.1
    # trapezoid on 41 thresholds: area = (0.2 - 0.1) + half a step (0.005 / 2) ... divided by 0.2
    assert auc(p, g) == pytest.approx((0.1 + 0.0025) / 0.2, abs=1e-9)


def test_summarize_keys():
    g = gt_one()
    s = summarize(g + 1.0, g)
    assert s["mean_pixel_error"] == pytest.approx(np.sqrt(2))
    assert set(s["pck_bbox"]) == {"0.05", "0.1", "0.15", "0.2"}
    assert s["keypoints"] == list(STICK_FIGURE.keypoints)


def test_nuisance_breakdown_groups_test_images_by_generator_metadata(tmp_path):
    import json

    from keypoint_trainer.experiments.stick.evaluate import nuisance_breakdown

    g = np.concatenate([gt_one()] * 3)
    p = g.copy()
    p[1, 1] += [30, 40]  # image 1 (two distractors): one keypoint off by 50 px
    (tmp_path / "test").mkdir()
    metas = [{"distractors": 0, "occlusions": 0}, {"distractors": 2, "occlusions": 0},
             {"distractors": 2, "occlusions": 1}]
    (tmp_path / "test" / "annotations.json").write_text(json.dumps({"images": [{"meta": m} for m in metas]}))
    out = nuisance_breakdown({"data": {"root": str(tmp_path)}}, {"heatmap": p}, g)
    m = out["methods"]["heatmap"]
    assert m["distractors=0"] == {"images": 1, "pck": 1.0}
    assert m["distractors=2"] == {"images": 2, "pck": 0.9}
    assert m["occlusions=1"] == {"images": 1, "pck": 1.0}
    assert m["clean (no distractors, no occlusions)"] == {"images": 1, "pck": 1.0}
