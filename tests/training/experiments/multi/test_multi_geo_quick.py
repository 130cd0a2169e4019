"""The quick-profile chain with head offsets and retype (configs/multi/geo-retype.toml's switches on the quick
profile): generate -> train -> evaluate (head vote calibrated on validation) -> export -> report. The export is
schema-valid, its graph has the ``head_offsets`` output, its grouping retypes and its golden samples regroup
exactly."""
import argparse
import base64
import json

import numpy as np

from keypoint_trainer.codecs.grouping import GroupingSpec, group
from keypoint_trainer.core.manifest import validate_manifest
from keypoint_trainer.core.preprocessing import STICK_FIGURE_INPUT
from keypoint_trainer.engine.export import check_onnx
from keypoint_trainer.experiments.multi.pipeline import run_action

GEO = ["model.head_offsets=true", "grouping.head_vote={sigma = 0.05, weight = 0.5}",
       "grouping.calibrate_vote_sigma=[0.05, 0.1]", "grouping.calibrate_vote_weight=[0.0, 0.5]",
       "grouping.calibrate_peak=[0.4, 0.5]", "grouping.calibrate_link=[0.2, 0.5]",
       "grouping.retype={min_probability = 0.05}"]


def decode(t):
    return np.frombuffer(base64.b64decode(t["data_b64"]), "<f4").reshape(t["shape"])


def test_quick_profile_with_head_offsets_trains_calibrates_and_exports(tmp_path, capsys):
    run, export, report = tmp_path / "run", tmp_path / "run" / "export", tmp_path / "klpnet-geo.md"
    args = argparse.Namespace(action="run", profile="quick", only=None, resume=False, out=None, report=report,
                              threads=1, overrides=[f'data.root="{tmp_path / "data"}"', f'run.out_dir="{run}"', *GEO,
                                                              "run.progress_interval=0"])
    assert run_action(args) == 0
    assert "[multi] calibrating the grouping on" in capsys.readouterr().out  # progress through the grid

    metrics = json.loads((run / "main" / "metrics.json").read_text())
    cal = metrics["calibration"]
    assert len(cal["grid"]) == 2 * 2 * 2 * 2 and set(cal["chosen"]["head_vote"]) == {"sigma", "weight"}
    assert metrics["grouping"]["head_vote"] == {"output": "head_offsets", "head_type": 0, **cal["chosen"]["head_vote"]}
    assert "Head votes" in report.read_text() and "grouping.retype" in report.read_text()

    m = json.loads((export / "manifest.json").read_text())
    validate_manifest(m, export)
    check_onnx(export / "model.onnx", STICK_FIGURE_INPUT, ["heatmap", "offsets", "types", "embeddings", "head_offsets"])
    spec = GroupingSpec.from_manifest(m["grouping"])
    assert spec.head_vote is not None and m["grouping"]["peak_threshold"] == cal["chosen"]["peak_threshold"]
    assert spec.retype is not None and spec.retype.min_probability == 0.05
    golden = json.loads((export / "golden.json").read_text())
    for s in golden["samples"]:
        outs = {k: decode(v)[0] for k, v in s["outputs"].items()}
        assert outs["head_offsets"].shape == (2, 64, 64) and np.isfinite(outs["head_offsets"]).all()
        assert group(outs, spec, m["skeleton"], 5).to_json(m["keypoints"]) == s["grouping"]
        assert all("vote" in d for d in s["grouping"]["detections"])
    for c in golden["grouping_cases"]:
        outs = {k: decode(v) for k, v in c["outputs"].items()}
        assert group(outs, GroupingSpec.from_manifest(c["spec"]), m["skeleton"], 5).to_json(m["keypoints"]) == c["grouping"]
