"""The analysis MLP read-out: it learns a non-linear keypoint -> joint map a linear head cannot."""
import numpy as np


def test_mlp_readout_fits_a_bent_map_that_a_linear_head_cannot():
    from keypoint_trainer.models.joint_head import apply_linear_head, fit_linear_head
    from keypoint_trainer.models.joint_readout import MLPJointReadout

    rng = np.random.default_rng(0)
    kp = rng.uniform(0.2, 0.8, (600, 3, 2))
    joints = np.stack([kp[:, 0] ** 2 + kp[:, 1] * kp[:, 2], np.sin(3 * kp[:, 2])], axis=1)  # [N, 2 joints, 2]
    train, test = slice(0, 500), slice(500, 600)
    mlp = MLPJointReadout(hidden=64, iters=1500, seed=0).fit(kp[train], joints[train])
    linear = fit_linear_head(kp[train], joints[train])
    err = lambda pred: np.abs(pred - joints[test]).mean()  # noqa: E731
    assert err(mlp.predict(kp[test])) < 0.5 * err(apply_linear_head(linear, kp[test]))
    assert mlp.predict(kp[test]).shape == (100, 2, 2)
