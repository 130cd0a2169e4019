"""The graph-network posture classifier (models/posture_graph.py) and the protocol's report."""
import numpy as np

from keypoint_trainer.models.posture_graph import GraphPostureClassifier, knn_adjacency


LAYOUTS = np.random.default_rng(42).uniform(-1, 1, (4, 6, 2))


def _poses(n, rng, base=LAYOUTS):
    """Four classes of 6-keypoint layouts that differ by shape, not position: a class's layout plus noise,
    shifted anywhere."""
    y = rng.integers(0, 4, n)
    kp = base[y] + rng.normal(0, 0.15, (n, 6, 2)) + rng.uniform(-3, 3, (n, 1, 2))
    return kp, y


def test_adjacency_is_symmetric_normalised_with_self_loops():
    mean = np.array([[0, 0], [1, 0], [5, 0], [6, 0.0]])
    a = knn_adjacency(mean, 1)
    assert np.allclose(a, a.T) and (np.diag(a) > 0).all()
    assert a[0, 1] > 0 and a[2, 3] > 0 and a[0, 3] == 0  # nearest neighbours joined, far ones not


def test_graph_classifier_learns_shape_and_ignores_translation():
    rng = np.random.default_rng(0)
    kp, y = _poses(400, rng)
    clf = GraphPostureClassifier(iters=300, seed=0).fit(kp, y)
    test_kp, test_y = _poses(200, rng)
    assert (clf.predict(test_kp) == test_y).mean() > 0.95
    assert np.array_equal(clf.predict(test_kp), clf.predict(test_kp + 10.0))


def test_protocol_report_gives_the_spread_over_seeds_for_each_label_set(tmp_path):
    from keypoint_trainer.experiments.spmkd.posture_protocol import CLASSIFIERS, write_report

    cm = [[1, 0, 0, 0]] * 4
    rows = [{"classifier": name, "labels": labels, "seed": s, "test": {"accuracy": 0.9 + 0.01 * s, "confusion": cm},
             "unf_test": {"accuracy": unf, "confusion": cm}}
            for labels, unf in (("SLP-like mat", 0.8), ("both mats", 0.95)) for name in CLASSIFIERS for s in (0, 1)]
    res = {"model": "spmkd/3", "keypoints": 128, "labelled_maps": {"SLP-like mat": 400, "both mats": 500},
           "served_labels": "both mats", "held_out_maps": {"test": 480, "unf_test": 480},
           "rows": rows, "wall_s": 1.0, "machine": {"cpu": "test"}}
    text = write_report(res, tmp_path / "p.md", "cmd").read_text()
    assert "90.5 % (90.0–91.0, 2 seeds) | 80.0 % (80.0–80.0, 2 seeds)" in text
    assert "| both mats | 90.5 % (90.0–91.0, 2 seeds) | 95.0 % (95.0–95.0, 2 seeds) |" in text
    assert "both mats: 500 maps" in text and "served head was fitted on the both mats set" in text
    assert (tmp_path / "p.json").is_file()
