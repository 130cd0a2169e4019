"""``spmkd probe``: a run's current stage-2 checkpoint scored against the joint and posture goals."""
import json

from keypoint_trainer.cli import main
from keypoint_trainer.experiments.spmkd.probe import read_probes


def test_probe_appends_the_goals_of_the_current_checkpoint(tmp_path, capsys):
    common = ["--profile", "quick", "--data-root", str(tmp_path / "data"), "--run-root", str(tmp_path / "runs"),
              "--threads", "1"]
    assert main(["spmkd", "probe", *common]) == 1  # nothing trained yet: one line, no traceback
    assert "no stage-2 checkpoint yet" in capsys.readouterr().err
    assert main(["spmkd", "train", *common, "--only", "main"]) == 0
    assert main(["spmkd", "probe", *common]) == 0
    assert main(["spmkd", "probe", *common]) == 0  # a second probe of the same step replaces the first
    run = tmp_path / "runs" / "main"
    rows = [json.loads(line) for line in (run / "probe.jsonl").read_text().splitlines()]
    probes = read_probes(run)
    assert len(rows) == 2 and probes == rows[-1:] and probes[0]["stage2_step"] == 3
    row = probes[0]
    for key in ("joints_mean_error_cm", "joints_mean_error_cm_unfamiliar", "joints_mean_error_cm_all_labels",
                "joints_fit_error_cm_all_labels"):
        assert 0 < row[key] < 200, key
    for key in ("joints_pck_torso@0.2", "posture_accuracy", "posture_accuracy_unfamiliar", "posture_accuracy_unfamiliar_refit"):
        assert 0 <= row[key] <= 1, key
    assert row["labelled"] == 24 and row["all_labels"] == 48
    assert len(row["per_joint_error_cm"]) == len(row["per_joint_error_cm_all_labels"]) == 14
    assert "[probe] stage-2 step 3" in capsys.readouterr().out
    # the supervised baseline, probed the same way: what a model given every label reads from the maps
    assert main(["spmkd", "train", *common, "--only", "baseline"]) == 0
    assert main(["spmkd", "probe", *common, "--only", "baseline"]) == 0
    base = read_probes_of(tmp_path / "runs" / "baseline")
    assert base["final"] and base["step"] == 3 and len(base["per_joint_error_cm"]) == 14
    assert 0 < base["joints_mean_error_cm"] < 200 and 0 <= base["posture_accuracy_unfamiliar"] <= 1


def read_probes_of(run):
    return json.loads((run / "probe.jsonl").read_text().splitlines()[-1])
