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


def test_variant_labels_and_what_they_share_with_the_seed():
    from keypoint_trainer.evaluation.report import _label, _same_as_seed, heatmap_variants

    cfg = {"models": {"run": ["heatmap", "regression", "heatmap_fresh", "heatmap_fresh_90", "heatmap_fresh_context"]}}
    assert heatmap_variants(cfg) == ["heatmap_fresh", "heatmap_fresh_90", "heatmap_fresh_context"]
    assert _label("heatmap+argmax") == "HeatmapNet + argmax"
    assert _label("heatmap_fresh_90+flip") == "HeatmapNet + fresh images, 90 epochs, DARK + flip test"
    assert _label("unknown+flip") == "unknown+flip"
    log30 = {"epochs": 30, "steps_per_epoch": 125}
    log90 = {"epochs": 90, "steps_per_epoch": 125}
    assert _same_as_seed(cfg, "heatmap_fresh", log30, log30) == "same network, loss and number of steps"
    assert _same_as_seed(cfg, "heatmap_fresh_90", log90, log30) == "same network and loss"
    assert _same_as_seed(cfg, "heatmap_fresh_context", log30, log30) == "same loss and number of steps"
