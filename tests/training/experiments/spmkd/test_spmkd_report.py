"""The whole SPMKD chain on the quick profile: train, evaluate, export and the report, as the long runs
end (a report that fails after hours of training is found here in a minute)."""
import json

from keypoint_trainer.cli import main


def test_quick_run_trains_evaluates_exports_and_reports(tmp_path):
    run_root, report = tmp_path / "runs", tmp_path / "report" / "spmkd.md"
    common = ["--profile", "quick", "--data-root", str(tmp_path / "data"), "--run-root", str(run_root), "--threads", "1"]
    assert main(["spmkd", "train", *common, "--only", "main", "--only", "baseline"]) == 0
    # called again on finished runs it trains nothing, and the report does not list it as training
    assert main(["spmkd", "train", *common, "--only", "main", "--only", "baseline"]) == 0
    assert len((run_root / "train_commands.txt").read_text().splitlines()) == 1
    assert main(["spmkd", "probe", *common]) == 0
    # the export serves the classifier that has also seen the unfamiliar mat
    assert main(["spmkd", "report", *common, "--set", 'export.posture_mats="both"', "--report", str(report)]) == 0
    res = json.loads((run_root / "results.json").read_text())
    main_run = res["runs"]["main"]
    assert set(res["runs"]) == {"main", "baseline"}
    assert [p["stage2_step"] for p in main_run["probes"]] == [3]
    probe = main_run["probes"][0]  # the non-linear read-out beside the linear head
    assert {"joints_mean_error_cm_mlp_labelled", "joints_mean_error_cm_mlp_all_labels",
            "joints_fit_error_cm_mlp_all_labels"} <= set(probe) and len(probe["per_joint_error_cm_mlp_all_labels"]) == 14
    cap = main_run["head_capacity"]
    assert cap["all_labels"] == 48 and len(cap["per_joint_error_cm_all_labels"]) == 14
    refit = main_run["splits"]["unf_test_refit"]
    assert 0 <= refit["posture"]["accuracy"] <= 1 and 0 <= refit["posture_slp"]["accuracy"] <= 1
    manifest = json.loads((run_root / "export" / "manifest.json").read_text())
    assert manifest["metrics"]["posture_classifier_mats"] == "both"
    assert manifest["metrics"]["posture_accuracy_unfamiliar"] == refit["posture"]["accuracy"]
    assert "and 12 of the unfamiliar mat" in manifest["training"]["labels_used"]
    text = report.read_text()
    assert text.count("- training (resumable") == 1
    for part in ("## 2b. Where the joint error comes from", "| 3 |", "supervised HeatmapNet (all labels)",
                 "classifier also given the 12 labelled maps of the unfamiliar mat"):
        assert part in text, part
    # re-rendering from results.json alone gives the same report
    again = tmp_path / "again.md"
    assert main(["spmkd", "report", *common, "--render-only", "--report", str(again)]) == 0
    assert "## 2b. Where the joint error comes from" in again.read_text()
