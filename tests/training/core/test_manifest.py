import json

import numpy as np
import pytest

from keypoint_trainer.engine.publish import next_version, publish
from keypoint_trainer.core.registry import register_fixture
from keypoint_trainer.plugins import build_fixtures, registered_fixtures
from keypoint_trainer.core.keypoints import STICK_FIGURE
from keypoint_trainer.core.manifest import (ManifestError, build_manifest, check_store_layout, sha256_file,
                                       validate_manifest, write_json)
from keypoint_trainer.core.preprocessing import STICK_FIGURE_INPUT


def _manifest(tmp_path, **kw):
    f = tmp_path / "model.onnx"
    f.write_bytes(b"not really onnx")
    m = build_manifest(name="heatmap", version="1", task="heatmap", model_file="model.onnx", model_path=f,
                       input_spec=STICK_FIGURE_INPUT, skeleton=STICK_FIGURE,
                       heatmaps={"name": "heatmaps", "height": 64, "width": 64, "stride": 2.0, "sigma": 2.0},
                       decoding={"method": "dark"}, **kw)
    return m


def test_built_manifest_is_schema_valid(tmp_path):
    m = _manifest(tmp_path, metrics={"pck": 1}, training={"seed": 1})
    validate_manifest(m, tmp_path)
    assert m["sha256"] == sha256_file(tmp_path / "model.onnx")
    assert m["keypoints"] == ["head", "left_hand", "right_hand", "left_foot", "right_foot"]


def test_invalid_manifests_are_rejected(tmp_path):
    m = _manifest(tmp_path)
    bad = dict(m, task="segmentation")
    with pytest.raises(ManifestError):
        validate_manifest(bad)
    bad = dict(m, decoding={"method": "dark", "blur_kernel": 3})  # not in the schema
    with pytest.raises(ManifestError):
        validate_manifest(bad)
    bad = dict(m, sha256="0" * 64)
    with pytest.raises(ManifestError, match="sha256"):
        validate_manifest(bad, tmp_path)


def test_grouping_head_vote_is_checked_beyond_the_schema(tmp_path):
    from keypoint_trainer.codecs.grouping import GroupingSpec, HeadVote

    m = _manifest(tmp_path)
    m["grouping"] = GroupingSpec(head_vote=HeadVote(sigma=0.05, weight=0.5)).to_manifest()
    validate_manifest(m)
    for vote, match in (({"head_type": 5}, "head_vote.head_type 5 is beyond the 5 keypoints"),
                        ({"output": "offsets"}, "head_vote.output 'offsets' is already another grouping output"),
                        ({"sigma": 0}, "head_vote/sigma"), ({"weight": 1.5}, "head_vote/weight"),
                        ({"scale": 2}, "head_vote: Additional properties")):
        bad = json.loads(json.dumps(m))
        bad["grouping"]["head_vote"].update(vote)
        with pytest.raises(ManifestError, match=match):
            validate_manifest(bad)
    bad = json.loads(json.dumps(m))
    bad["grouping"]["candidate_links"] = [[0, 1], [3, 9]]
    with pytest.raises(ManifestError, match=r"candidate_links \[3, 9\] refers to a keypoint beyond the 5"):
        validate_manifest(bad)


def test_grouping_retype_is_checked(tmp_path):
    from keypoint_trainer.codecs.grouping import GroupingSpec, Retype

    m = _manifest(tmp_path)
    m["grouping"] = GroupingSpec(retype=Retype(0.05)).to_manifest()
    validate_manifest(m)
    for retype, match in (({"min_probability": 0}, "retype/min_probability"), ({}, "retype: 'min_probability'")):
        bad = json.loads(json.dumps(m))
        bad["grouping"]["retype"] = retype
        with pytest.raises(ManifestError, match=match):
            validate_manifest(bad)
    many = json.loads(json.dumps(m))
    many["keypoints"] = [f"k{i}" for i in range(9)]
    with pytest.raises(ManifestError, match="allows at most 8 keypoint types, not 9"):
        validate_manifest(many)


def test_publish_is_atomic_and_versions_increase(tmp_path):
    export = tmp_path / "export"
    export.mkdir()
    m = _manifest(export)
    write_json(export / "manifest.json", m)
    store = tmp_path / "store"
    assert next_version(store, "heatmap") == "1"
    p1 = publish(export, store)
    p2 = publish(export, store)
    assert (p1.name, p2.name) == ("1", "2")
    (store / "heatmap" / "10-rc1").mkdir()
    assert next_version(store, "heatmap") == "11"
    for p in (p1, p2):
        man = json.loads((p / "manifest.json").read_text())
        validate_manifest(man, p)
        check_store_layout(man, p)
    # no temporary directories left behind
    assert not [d for d in (store / "heatmap").iterdir() if d.name.startswith(".")]
    with pytest.raises(FileExistsError):
        publish(export, store, version="1")


def test_fixture_registry_accepts_plugins(tmp_path):
    calls = []

    def build_dummy(out_dir, *, name, version, seed):
        calls.append((name, version, seed))
        m = _manifest(out_dir)
        m.update(name=name, version=version)
        write_json(out_dir / "manifest.json", m)

    register_fixture("dummy-test", build_dummy, replace=True)
    assert "heatmap" in registered_fixtures() and "regression" in registered_fixtures()
    [p] = build_fixtures(tmp_path, ["dummy-test"], seed=3, log=lambda *a: None)
    assert calls == [("dummy-test", "1", 3)]
    assert p == tmp_path / "dummy-test" / "1" and (p / "manifest.json").is_file()


def test_builtin_fixtures_layout_and_golden(tmp_path):
    build_fixtures(tmp_path, ["heatmap", "regression"], log=lambda *a: None)
    for name, out in (("heatmap", "heatmaps"), ("regression", "coords")):
        d = tmp_path / name / "1"
        assert {p.name for p in d.iterdir()} == {"model.onnx", "manifest.json", "golden.json"}
        man = json.loads((d / "manifest.json").read_text())
        validate_manifest(man, d)
        check_store_layout(man, d)
        golden = json.loads((d / "golden.json").read_text())
        assert len(golden["samples"]) == 3
        assert any(s["input"]["width"] == 200 for s in golden["samples"])  # the resize path is covered
        for s in golden["samples"]:
            assert set(s["outputs"]) == {out}
            assert len(s["keypoints"]) == 5


def test_repo_relative_paths():
    from keypoint_trainer.core.provenance import REPO_ROOT, repo_relative
    assert repo_relative(REPO_ROOT / "src/Training/keypoint_trainer/configs/full.toml") == \
        "src/Training/keypoint_trainer/configs/full.toml"
    assert repo_relative("/elsewhere/quick.toml") == "/elsewhere/quick.toml"
    assert repo_relative(None) is None


def test_committed_manifests_carry_no_machine_paths():
    from keypoint_trainer.core.provenance import REPO_ROOT
    manifests = sorted((REPO_ROOT / "models").glob("*/*/manifest.json"))
    assert manifests
    for m in manifests:
        text = m.read_text()
        for prefix in ("/work/", "/home/", "/root/", "/tmp/"):
            assert prefix not in text, f"{m} contains an absolute path starting {prefix}"
