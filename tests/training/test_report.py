"""evaluate -> report on the quick profile: the report is built from the run's files only."""
import json
import pathlib


def test_report_from_quick_run(trained_quick, tmp_path):
    from keypoint_trainer.evaluation.report import write_report
    from keypoint_trainer.evaluation.run import eval_dir, evaluate_run

    cfg, _ = trained_quick
    result = evaluate_run(cfg, models=["heatmap", "regression"], figures=False, log=lambda *a: None)
    assert {"heatmap", "heatmap+argmax", "heatmap+flip", "regression", "mean_pose_baseline"} <= set(result["metrics"])
    es = result["error_sources"]["heatmap"]
    assert es["keypoints"] == es["correct"] + es["near_miss"] + es["gross_on_distractor"] \
        + es["gross_on_figure"] + es["gross_elsewhere"]
    assert "regression" not in result["error_sources"]  # direct coordinates: same attribution not run
    assert json.loads((eval_dir(cfg) / "metrics.json").read_text())["count"] == result["count"]

    out = write_report(cfg, out=tmp_path / "report.md", log=lambda *a: None)
    text = pathlib.Path(out).read_text()
    pck = result["metrics"]["heatmap"]["pck_bbox"]["0.05"] * 100
    assert f"measured {pck:.2f} %" in text and "NOT met" in text
    assert "| heatmap | 2/2 |" in text and "heatmap_fresh | not trained" in text
    assert "gross on distractor" in text and "HeatmapNet + DARK + flip test" in text
    assert "`heatmap`: not exported yet." in text
