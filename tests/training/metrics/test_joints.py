"""Evaluation protocol pieces: linear joint head, metrics, posture classifier."""
import numpy as np
import pytest

from keypoint_trainer.metrics.joints import joint_metrics, posture_metrics
from keypoint_trainer.models.joint_head import apply_linear_head, fit_linear_head
from keypoint_trainer.models.posture import PostureClassifier


def test_linear_head_recovers_a_linear_map():
    rng = np.random.default_rng(0)
    kp = rng.random((100, 6, 2))
    W = rng.normal(0, 0.3, (28, 12))
    b = rng.random(28)
    joints = (kp.reshape(100, -1) @ W.T + b).reshape(100, 14, 2)
    head = fit_linear_head(kp, joints)
    assert head["weight"].shape == (28, 12) and head["bias"].shape == (28,)
    pred = apply_linear_head(head, kp)
    assert np.max(np.abs(pred - joints)) < 1e-3
    assert head["lambda"] == min(head["cv_mse"], key=head["cv_mse"].get)


def test_manifest_layout_of_the_head_is_x_y_interleaved():
    head = {"weight": np.zeros((28, 4)), "bias": np.zeros(28)}
    head["weight"][0, 0] = 1.0  # joint 0 x <- keypoint 0 x
    head["weight"][1, 3] = 1.0  # joint 0 y <- keypoint 1 y
    kp = np.array([[[0.1, 0.2], [0.3, 0.4]]])
    assert np.allclose(apply_linear_head(head, kp)[0, 0], [0.1, 0.4])


def test_joint_metrics_perfect_and_offset():
    rng = np.random.default_rng(1)
    gt = rng.random((10, 14, 2)) * [84, 192]
    m = joint_metrics(gt, gt, (1.0, 1.0))
    assert m["pck_torso@0.1"] == 1.0 and m["pck_bbox@0.2"] == 1.0 and m["mean_err_cells"] == 0.0
    m2 = joint_metrics(gt + [3.0, 4.0], gt, (2.0, 1.0))
    assert m2["mean_err_cells"] == pytest.approx(5.0)
    assert m2["mean_err_cm"] == pytest.approx(np.hypot(6.0, 4.0))


def test_posture_classifier_learns_a_separable_toy_problem():
    rng = np.random.default_rng(2)
    labels = np.repeat(np.arange(4), 30)
    kp = rng.normal(0, 0.01, (120, 5, 2))
    kp[:, 0, 0] += labels * 0.1  # one keypoint moves with the class
    clf = PostureClassifier(iters=200).fit(kp, labels)
    m = posture_metrics(clf.predict(kp), labels)
    assert m["accuracy"] > 0.95
    assert np.array(m["confusion"]).sum() == 120
