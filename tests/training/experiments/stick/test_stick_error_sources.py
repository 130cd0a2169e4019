"""Error attribution (experiments/stick/evaluate.py: error_sources) on the quick profile's test split."""
import json

import numpy as np

from keypoint_trainer.data.stick.splits import split_paths
from keypoint_trainer.data.stick.generator import GeneratorConfig, render_layers
from keypoint_trainer.experiments.stick.evaluate import error_sources


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
        ys, xs = np.nonzero((layers.distractors >= 0.99) & (layers.figure == 0))
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


def _layers(hand, head_filled=False, distractor_at=None):
    from keypoint_trainer.data.stick.generator import InkLayers

    pose = {"head": np.array([64.0, 20.0]), "neck": np.array([64.0, 28.0]), "shoulder": np.array([64.0, 31.0]),
            "hip": np.array([64.0, 60.0]), "left_elbow": np.array([80.0, 40.0]), "left_hand": np.asarray(hand, float),
            "right_elbow": np.array([48.0, 40.0]), "right_hand": np.array([36.0, 48.0]),
            "left_knee": np.array([72.0, 80.0]), "left_foot": np.array([76.0, 100.0]),
            "right_knee": np.array([56.0, 80.0]), "right_foot": np.array([52.0, 100.0])}
    dis = np.zeros((128, 128))
    if distractor_at is not None:
        dis[distractor_at[1], distractor_at[0]] = 1.0
    return InkLayers(np.zeros((128, 128)), dis, pose, head_radius=6.0, head_filled=head_filled, width=2.0)


def _kpts(layers):
    return np.stack([layers.pose[k] for k in ("head", "left_hand", "right_hand", "left_foot", "right_foot")])


def test_a_hand_folded_onto_the_torso_is_hidden_and_a_free_one_is_not():
    from keypoint_trainer.experiments.stick.evaluate import hidden_keypoints

    free = _layers(hand=(92.0, 48.0))
    on_torso = _layers(hand=(65.5, 45.0))       # 1.5 px from the neck-hip stroke
    folded_back = _layers(hand=(72.0, 35.5))     # forearm folded back onto its own upper arm
    for layers, hidden in ((free, False), (on_torso, True), (folded_back, True)):
        h = hidden_keypoints(layers, _kpts(layers))
        assert h["in_figure"].tolist() == [False, hidden, False, False, False]
        assert not h["distractor_at_truth"].any()


def test_the_head_hides_a_hand_on_its_outline_or_inside_when_filled():
    from keypoint_trainer.experiments.stick.evaluate import hidden_keypoints

    inside = (64.0, 19.0)  # 1 px from the head centre: inside the circle, away from its outline
    assert not hidden_keypoints(_layers(inside), _kpts(_layers(inside)))["in_figure"][1]
    assert hidden_keypoints(_layers(inside, head_filled=True), _kpts(_layers(inside)))["in_figure"][1]
    on_outline = (70.5, 20.0)
    assert hidden_keypoints(_layers(on_outline), _kpts(_layers(on_outline)))["in_figure"][1]


def test_distractor_ink_at_a_keypoint_marks_it():
    from keypoint_trainer.experiments.stick.evaluate import hidden_keypoints

    layers = _layers(hand=(92.0, 48.0), distractor_at=(53, 101))  # beside the right foot
    h = hidden_keypoints(layers, _kpts(layers))
    assert h["distractor_at_truth"].tolist() == [False, False, False, False, True]


def test_a_distractor_continuing_the_forearm_marks_the_hand_and_one_across_the_torso_does_not():
    from keypoint_trainer.experiments.stick.evaluate import hidden_keypoints

    free = _layers(hand=(92.0, 48.0))
    h = hidden_keypoints(free, _kpts(free))
    assert not any(v.any() for v in h.values())
    continuing = _layers(hand=(92.0, 48.0), distractor_at=(87, 44))  # on the forearm, 5 px before the hand
    h = hidden_keypoints(continuing, _kpts(continuing))
    assert h["distractor_on_limb"].tolist() == [False, True, False, False, False]
    assert not h["distractor_at_truth"].any()
    across_torso = _layers(hand=(92.0, 48.0), distractor_at=(64, 50))  # on the torso: no keypoint's end
    assert not any(v.any() for v in hidden_keypoints(across_torso, _kpts(across_torso)).values())


def test_visibility_breakdown_on_the_quick_split(quick_cfg):
    from keypoint_trainer.experiments.stick.evaluate import visibility_breakdown

    _, gt = _test_split(quick_cfg)
    wrong = gt + 30.0
    r = visibility_breakdown(quick_cfg, {"perfect": gt.copy(), "wrong": wrong}, gt)
    n = r["keypoints"]
    hidden = ("in_figure", "distractor_at_truth", "distractor_on_limb")
    assert n["clear"] + sum(n[k] for k in hidden) >= gt.size // 2 >= n["clear"] > 0
    assert [sum(v) for v in r["per_keypoint"].values()] == list(n.values())
    assert r["methods"]["perfect"]["clear"] == 1.0 and r["methods"]["wrong"]["clear"] == 0.0


def test_every_keypoint_of_the_clear_test_split_is_clear(quick_cfg):
    from keypoint_trainer.data.stick.splits import CLEAR_TEST
    from keypoint_trainer.experiments.stick.evaluate import visibility_breakdown

    _, ann = split_paths(quick_cfg, CLEAR_TEST)
    d = json.loads(ann.read_text())
    assert d["info"]["generator"]["clear_keypoints"] is True and len(d["images"]) == quick_cfg["data"][CLEAR_TEST]
    gt = np.array([r["keypoints"] for r in d["images"]], dtype=np.float64)
    r = visibility_breakdown(quick_cfg, {"perfect": gt}, gt, split=CLEAR_TEST)
    assert r["keypoints"]["clear"] == gt.size // 2
    assert sum(m["distractors"] for m in (x["meta"] for x in d["images"])) > 0  # distractors still drawn
