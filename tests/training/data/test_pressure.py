"""Physical sanity of the pressure-map simulator (keypoint_trainer.data.pressure)."""
import numpy as np
import pytest

from keypoint_trainer.core.keypoints import get_skeleton
from keypoint_trainer.data.pressure import (JOINTS, POSTURES, SLP_MAT, UNFAMILIAR_MAT, generate_dataset, load_dataset,
                                       load_pressure_only, save_dataset, simulate_sample)
from keypoint_trainer.data.pressure.body import Body, sample_body, sample_pose
from keypoint_trainer.data.pressure.simulate import G, area_matrix, gaussian_matrix


def _body(mass, height=1.70):
    bmi = mass / height ** 2
    wf = float(np.sqrt(bmi / 22.0))
    return Body(height=height, mass=mass, width=wf, shoulder=0.105 * height * wf ** 0.5, hip=0.052 * height * wf ** 0.5)


def test_joint_names_match_the_slp14_skeleton():
    assert tuple(JOINTS) == get_skeleton("slp14").keypoints
    assert len(JOINTS) == 14


@pytest.mark.parametrize("posture", POSTURES)
def test_contact_fractions_sum_to_one(posture):
    rng = np.random.default_rng(0)
    for _ in range(5):
        pose = sample_pose(rng, sample_body(rng), posture)
        assert sum(p.fraction for p in pose.patches) == pytest.approx(1.0, abs=1e-9)


def test_total_pressure_is_proportional_to_body_mass():
    """Noise-free maps: sum(kPa) * cell area = M g (force conservation), so total/mass is constant."""
    ratios = []
    area = SLP_MAT.pitch_x * SLP_MAT.pitch_y
    for i, mass in enumerate((50.0, 65.0, 80.0, 95.0, 110.0)):
        s = simulate_sample(np.random.default_rng([1, i]), SLP_MAT, posture="supine", body=_body(mass),
                            noise=False, blanket=False, keep_clean=True)
        total_force = float(s.clean_kpa.sum()) * 1000.0 * area  # N
        ratios.append(total_force / mass)
    ratios = np.array(ratios)
    # ~g per kg; a few per cent may leave the mat with fingers/toes past the edge or blur at the border
    assert np.all(np.abs(ratios / G - 1.0) < 0.04), ratios / G
    assert ratios.std() / ratios.mean() < 0.02
    # and a straight line through the origin fits total force vs mass
    masses = np.array([50.0, 65.0, 80.0, 95.0, 110.0])
    forces = ratios * masses
    slope = (masses @ forces) / (masses @ masses)
    assert np.max(np.abs(forces - slope * masses) / forces) < 0.03


def test_noisy_maps_respect_sensor_limits():
    for mat in (SLP_MAT, UNFAMILIAR_MAT):
        for i in range(6):
            s = simulate_sample(np.random.default_rng([2, i]), mat)
            assert s.pressure.shape == (mat.rows, mat.cols)
            assert s.pressure.dtype == np.float32
            assert s.pressure.min() >= 0.0
            assert s.pressure.max() <= mat.saturation
            assert s.pressure.max() > 5 * mat.threshold
    s = simulate_sample(np.random.default_rng(3), UNFAMILIAR_MAT)
    assert np.all(s.pressure == np.round(s.pressure))  # integer ADC steps


def test_unfamiliar_mat_saturates_sometimes():
    hits = sum(float(simulate_sample(np.random.default_rng([4, i]), UNFAMILIAR_MAT).pressure.max())
               >= UNFAMILIAR_MAT.saturation for i in range(20))
    assert hits >= 1


@pytest.mark.parametrize("posture", POSTURES)
def test_joints_lie_inside_the_body_footprint(posture):
    """Every joint is on (or within 3 cm of) loaded cells; the head top within 12 cm (the
    contact is the back / side of the head, the joint is the top of it)."""
    for i in range(4):
        s = simulate_sample(np.random.default_rng([5, i]), SLP_MAT, posture=posture, noise=False, blanket=False,
                            keep_clean=True)
        ys, xs = np.nonzero(s.clean_kpa > 0.3)
        cells = np.stack([xs + 0.5, ys + 0.5], 1)
        for j, (x, y) in enumerate(s.joints):
            assert 0 <= x <= SLP_MAT.cols and 0 <= y <= SLP_MAT.rows
            dmin = np.min(np.hypot(cells[:, 0] - x, cells[:, 1] - y))
            limit = 12.0 if JOINTS[j] == "head_top" else 3.0
            assert dmin <= limit, (posture, JOINTS[j], dmin)


def _torso_width(s):
    """Median number of loaded cells per row between shoulder and hip rows."""
    j = s.joints
    top = int(np.ceil(min(j[8, 1], j[9, 1])))
    bottom = int(np.floor(max(j[2, 1], j[3, 1])))
    loaded = s.clean_kpa[top:bottom] > 0.3
    return float(np.median(loaded.sum(1)))


def test_side_lying_maps_are_narrower_than_supine():
    for i in range(4):
        body = _body(75.0, 1.75)
        sup = simulate_sample(np.random.default_rng([6, i]), SLP_MAT, posture="supine", body=body, noise=False,
                              blanket=False, keep_clean=True)
        for side in ("left", "right"):
            lat = simulate_sample(np.random.default_rng([6, i]), SLP_MAT, posture=side, body=body, noise=False,
                                  blanket=False, keep_clean=True)
            assert _torso_width(lat) < 0.75 * _torso_width(sup), (side, _torso_width(lat), _torso_width(sup))


def test_side_lying_faces_the_expected_way():
    """On the left side the person faces image right: knees and wrists lie right of the hips."""
    for i in range(5):
        for side, sign in (("left", 1), ("right", -1)):
            s = simulate_sample(np.random.default_rng([7, i]), SLP_MAT, posture=side, noise=False)
            j = s.joints
            hip_x = (j[2, 0] + j[3, 0]) / 2
            knee_x = (j[1, 0] + j[4, 0]) / 2
            assert sign * (knee_x - hip_x) > 0


def test_simulation_is_deterministic():
    a = simulate_sample(np.random.default_rng(11), SLP_MAT)
    b = simulate_sample(np.random.default_rng(11), SLP_MAT)
    assert np.array_equal(a.pressure, b.pressure) and np.array_equal(a.joints, b.joints)


def test_smoothing_and_area_matrices_conserve_force():
    g = gaussian_matrix(50, 2.0)
    assert np.allclose(g[:, 10:40].sum(0), 1.0)  # away from the border nothing is lost
    a = area_matrix(64, 380)
    assert np.allclose(a.sum(0), 1.0)
    assert np.allclose(a.sum(1), 380 / 64)


def test_dataset_roundtrip_balanced_postures_and_pressure_only_loader(tmp_path):
    data = generate_dataset(SLP_MAT, n_subjects=2, per_subject=8, seed=3)
    assert data["pressure"].shape == (16, 192, 84)
    assert data["joints"].shape == (16, 14, 2)
    assert np.bincount(data["posture"], minlength=4).tolist() == [4, 4, 4, 4]
    path = tmp_path / "d.npz"
    save_dataset(path, data, SLP_MAT, {"split": "t"})
    p = load_pressure_only(path)
    assert isinstance(p, np.ndarray) and np.array_equal(p, data["pressure"])
    d2, info = load_dataset(path)
    assert info["mat"]["rows"] == 192 and info["split"] == "t"
    other = generate_dataset(SLP_MAT, n_subjects=2, per_subject=8, seed=4)
    assert not np.isin(other["mass"], data["mass"]).any()  # different seeds -> different people
