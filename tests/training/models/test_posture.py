"""Posture head: the exported block reproduces the classifier, the ONNX evaluator reproduces the
published model's outputs, and the default model's golden samples carry the head's answer."""
import base64
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from keypoint_trainer.core.manifest import validate_manifest
from keypoint_trainer.data.pressure import SLP_MAT, simulate_sample
from keypoint_trainer.experiments.spmkd.attach_posture import check_against_golden
from keypoint_trainer.experiments.spmkd.export import write_model_dir
from keypoint_trainer.models.efd import EFD, ModelConfig
from keypoint_trainer.engine.onnx_graph import OnnxGraph
from keypoint_trainer.models.posture import PostureClassifier, POSTURE_CLASSES, apply_posture_head, posture_block, posture_of

ROOT = Path(__file__).resolve().parents[3]
DEFAULT = ROOT / "models" / "spmkd" / "2"


def _separable(n=200, k=5, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 4, n)
    centres = rng.uniform(0.2, 0.8, (4, k, 2))
    kp = centres[labels] + rng.normal(0, 0.02, (n, k, 2)) + rng.uniform(-0.1, 0.1, (n, 1, 2))
    return kp, labels


def test_block_reproduces_classifier_with_standardisation_folded_in():
    kp, labels = _separable()
    clf = PostureClassifier(iters=200).fit(kp, labels)
    block = posture_block(clf)
    assert block["classes"] == list(POSTURE_CLASSES) and block["features"] == "centered_keypoints"
    probs = apply_posture_head(block, kp)
    assert probs.shape == (len(kp), 4) and np.allclose(probs.sum(1), 1.0)
    assert np.array_equal(probs.argmax(1), clf.predict(kp))
    assert (probs.argmax(1) == labels).mean() > 0.95


def test_head_ignores_translation():
    kp, labels = _separable(n=40)
    block = posture_block(PostureClassifier(iters=50).fit(kp, labels))
    assert np.allclose(apply_posture_head(block, kp), apply_posture_head(block, kp + [0.05, -0.03]), atol=1e-9)


def test_posture_of_names_the_most_probable_class():
    kp, labels = _separable(n=20)
    block = posture_block(PostureClassifier(iters=50).fit(kp, labels))
    out = posture_of(block, kp[:3])
    for o, p in zip(out, apply_posture_head(block, kp[:3])):
        assert o["label"] == POSTURE_CLASSES[int(p.argmax())]
        assert list(o["probabilities"]) == list(POSTURE_CLASSES)


def test_export_writes_schema_valid_posture_block_and_golden_posture(tmp_path):
    torch.manual_seed(0)
    k = 3
    model = EFD(ModelConfig(num_keypoints=k, feature_dim=2, fc_hidden=16, dec_channels=(4, 4, 4, 4))).eval()
    kp, labels = _separable(n=40, k=k)
    block = posture_block(PostureClassifier(iters=20).fit(kp, labels))
    maps = [("slp", simulate_sample(np.random.default_rng(1), SLP_MAT).pressure)]
    man = write_model_dir(model, tmp_path, golden_maps=maps, posture=block)
    validate_manifest(json.loads((tmp_path / "manifest.json").read_text()), tmp_path)
    assert man["posture"] == block
    s = json.loads((tmp_path / "golden.json").read_text())["samples"][0]
    kp_out = np.frombuffer(base64.b64decode(s["outputs"]["keypoints"]["data_b64"]), "<f4").reshape(1, k, 2)
    assert s["posture"] == posture_of(block, kp_out.astype(np.float64))[0]


def test_schema_rejects_a_malformed_posture_block(tmp_path):
    torch.manual_seed(0)
    model = EFD(ModelConfig(num_keypoints=2, feature_dim=2, fc_hidden=8, dec_channels=(4, 4, 4, 4))).eval()
    man = write_model_dir(model, tmp_path)
    man["posture"] = {"classes": ["a", "b"], "features": "raw_pixels", "layers": []}
    with pytest.raises(Exception):
        validate_manifest(man, tmp_path)


def test_onnx_evaluator_reproduces_the_published_model():
    golden = json.loads((DEFAULT / "golden.json").read_text())
    assert check_against_golden(OnnxGraph(DEFAULT / "model.onnx"), golden) < 1e-5


def test_default_model_carries_the_posture_head_and_its_golden_answers():
    man = json.loads((DEFAULT / "manifest.json").read_text())
    validate_manifest(man, DEFAULT)
    assert man["posture"]["classes"] == list(POSTURE_CLASSES)
    assert man["metrics"]["posture_accuracy"] > 0.95
    for s in json.loads((DEFAULT / "golden.json").read_text())["samples"]:
        kp = np.frombuffer(base64.b64decode(s["outputs"]["keypoints"]["data_b64"]), "<f4")
        expected = posture_of(man["posture"], kp.reshape(1, -1, 2).astype(np.float64))[0]
        assert s["posture"]["label"] == expected["label"]
        assert np.allclose(list(s["posture"]["probabilities"].values()), list(expected["probabilities"].values()),
                           atol=1e-7)
