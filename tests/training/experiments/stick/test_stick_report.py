"""evaluate -> report on the quick profile: the report is built from the run's files only."""
import json
import pathlib


def test_report_from_quick_run(trained_quick, tmp_path):
    from keypoint_trainer.experiments.stick.report import write_report
    from keypoint_trainer.experiments.stick.evaluate import eval_dir, evaluate_run

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
    from keypoint_trainer.experiments.stick.report_analysis import same_as_seed
    from keypoint_trainer.experiments.stick.report_labels import heatmap_variants, method_label

    cfg = {"models": {"run": ["heatmap", "regression", "heatmap_fresh", "heatmap_fresh_90", "heatmap_fresh_context"]}}
    assert heatmap_variants(cfg) == ["heatmap_fresh", "heatmap_fresh_90", "heatmap_fresh_context"]
    assert method_label("heatmap+argmax") == "HeatmapNet + argmax"
    assert method_label("heatmap_fresh_90+flip") == "HeatmapNet + fresh images, 90 epochs, DARK + flip test"
    assert method_label("unknown+flip") == "unknown+flip"
    log30 = {"epochs": 30, "steps_per_epoch": 125}
    log90 = {"epochs": 90, "steps_per_epoch": 125}
    assert same_as_seed(cfg, "heatmap_fresh", log30, log30) == "same network, loss and number of steps"
    assert same_as_seed(cfg, "heatmap_fresh_90", log90, log30) == "same network and loss"
    assert same_as_seed(cfg, "heatmap_fresh_context", log30, log30) == "same loss and number of steps"


def test_step_schedule_is_compared_with_the_constant_rate_run():
    from keypoint_trainer.experiments.stick.report_analysis import variant_lines

    cfg = {"models": {"run": ["heatmap", "heatmap_fresh_90", "heatmap_fresh_90_step"]}}

    def metrics(pck):
        return {"pck_bbox": {"0.05": pck}, "mean_pixel_error": 1.0}

    def log(val_pck, best, epochs=90):
        hist = [{"epoch": e, "val_pck_bbox_0.05": val_pck(e), "train_loss": 1.0, "val_loss": 1.0}
                for e in range(1, epochs + 1)]
        return {"epochs": epochs, "steps_per_epoch": 125, "history": hist, "best_epoch": best, "best_val_loss": 1e-4}

    ms = {"heatmap": metrics(0.9), "heatmap_fresh_90": metrics(0.97), "heatmap_fresh_90_step": metrics(0.98)}
    logs = {"heatmap": log(lambda e: 0.9, 30, epochs=30), "heatmap_fresh_90": log(lambda e: 0.96, 88),
            "heatmap_fresh_90_step": log(lambda e: 0.96 if e <= 75 else 0.98, 90)}
    es = {n: {"near_miss": near, "gross_on_distractor": 3, "gross_on_figure": 2, "gross_elsewhere": 1}
          for n, near in (("heatmap_fresh_90", 10), ("heatmap_fresh_90_step", 7))}
    lines = [ln for ln in variant_lines(cfg, ms, logs, es) if ln.startswith("* **`heatmap_fresh_90_step` vs `heatmap_fresh_90`**")]
    assert len(lines) == 1
    assert "test PCK@0.05 98.0 % vs 97.0 %" in lines[0]
    assert "(90 of 90 epochs) at epochs 60/75/80/85/90: 96.0/96.0/98.0/98.0/98.0 %" in lines[0]
    assert lines[0].endswith("failing test keypoints: 7 near misses + 6 gross vs 10 near misses + 6 gross.")


def test_report_has_the_visibility_table_and_the_clear_split(trained_quick, tmp_path):
    from keypoint_trainer.experiments.stick.report import write_report
    from keypoint_trainer.experiments.stick.evaluate import evaluate_run

    cfg, _ = trained_quick
    result = evaluate_run(cfg, models=["heatmap", "regression"], figures=False, log=lambda *a: None)
    vb = result["visibility"]
    text = pathlib.Path(write_report(cfg, out=tmp_path / "r.md", log=lambda *a: None)).read_text()
    row = next(ln for ln in text.splitlines() if ln.startswith("| clear |"))
    assert row.startswith(f"| clear | {vb['keypoints']['clear']} | {vb['methods']['heatmap']['clear'] * 100:.1f} |")
    assert "| in figure |" in text and "| distractor at truth |" in text and "| distractor on limb |" in text
    # the clear-keypoint split: every keypoint clear, and its PCK in the report next to the main split's
    ct = result["clear_test"]
    assert ct["count"] == cfg["data"]["test_clear"] and ct["visibility"]["keypoints"]["clear"] == ct["count"] * 5
    on_main = result["metrics"]["heatmap"]["pck_bbox"]["0.05"] * 100
    on_clear = ct["metrics"]["heatmap"]["pck_bbox"]["0.05"] * 100
    assert "### Clear-keypoint test split" in text
    assert f"`heatmap` {on_main:.2f} → {on_clear:.2f} %" in text


def _metrics(pck, err):
    return {"pck_bbox": {"0.05": pck, "0.1": pck, "0.2": pck}, "auc_bbox": pck, "mean_pixel_error": err}


def test_the_served_profile_reports_the_served_runs_with_the_converged_ablations():
    from keypoint_trainer.core.config import load_config, report_path
    from keypoint_trainer.experiments.stick.ablate import ablate_dir
    from keypoint_trainer.experiments.stick.plan import get_experiment

    served, ablate = load_config("served"), load_config("ablate")
    assert served["models"]["run"] == ["heatmap", "regression", "heatmap_fresh_context_60_step", "simcc_fresh_32_step"]
    assert served["run"]["out_dir"] == "runs/full" and str(report_path(served)) == "docs/results/stick-figures.md"
    # the ablations it embeds are the ablate profile's runs, with the same recipe
    assert ablate_dir(served) == ablate_dir(ablate) and served["ablate"] == ablate["ablate"]
    assert served["report"]["converged_ablations"] and all(get_experiment(served, n) for n in served["models"]["run"])


def _thresholds(p05, p2, median):
    return {"pck_bbox": {"0.05": p05, "0.1": p2, "0.2": p2}, "auc_bbox": p05, "mean_pixel_error": 2 * median,
            "median_pixel_error": median}


def _sources(near, on_distractor):
    return {"near_miss": near, "gross_on_distractor": on_distractor, "gross_on_figure": 5, "gross_elsewhere": 1}


def test_a_coordinate_head_is_judged_against_each_heatmap_model_with_the_one_point_goal():
    from keypoint_trainer.experiments.stick.report_analysis import coordinate_head_lines

    cfg = {"models": {"run": ["heatmap", "regression", "heatmap_fresh_context_60_step", "simcc_fresh_32_step"]}}
    ms = {"heatmap": _thresholds(0.936, 0.969, 0.68), "heatmap_fresh_context_60_step": _thresholds(0.979, 0.995, 0.38),
          "regression": _thresholds(0.027, 0.357, 20.7), "simcc_fresh_32_step": _thresholds(0.931, 0.990, 1.09)}
    logs = {n: {"history": [{}] * e, "steps_per_epoch": 125}
            for n, e in (("heatmap", 30), ("heatmap_fresh_context_60_step", 60), ("simcc_fresh_32_step", 32))}
    abl = {"epochs": 18}
    goal, where, why = coordinate_head_lines(cfg, ms, logs, converged=(abl, _thresholds(0.929, 0.95, 0.7)))
    assert "; 4,000 steps): PCK@0.05 93.1 %" in goal
    assert "`heatmap` (3,750 steps; 93.6 %): 0.5 points behind — within 1 point." in goal
    assert "(not the seed network, 7,500 steps; 97.9 % / 0.76 px): 4.8 points behind — not within 1 point." in goal
    assert "18 epochs, the same test images; 92.9 %): 0.2 points ahead — within 1 point." in goal
    assert "met against the seed HeatmapNet at a comparable step count and not against `heatmap_fresh_context_60_step`" in goal
    assert "The heatmap is ahead at PCK@0.05, `simcc_fresh_32_step` at PCK@0.1, 0.2;" in where
    assert "1.0 % of `simcc_fresh_32_step`'s keypoints are farther than 0.2" in where and "3.1 % of the heatmap's" in where
    assert "rounding to a bin explains at most 0.35 px of its 1.09 px median" in where  # 2 bins per pixel
    assert "2.7 % → 93.1 %, 99 % of the seed regression's gap" in why

    # the failing keypoints' kinds, and the distractor subsets, where the evaluation attributed them
    sources = {"simcc_fresh_32_step": _sources(275, 31), "heatmap": _sources(138, 126)}
    breakdown = {n: {"distractors=0": {"pck": a}, "distractors=4": {"pck": b}, "occlusions=0": {"pck": 0.5}}
                 for n, a, b in (("simcc_fresh_32_step", 0.976, 0.878), ("heatmap", 0.970, 0.911))}
    lines = coordinate_head_lines(cfg, ms, logs, breakdown, sources)
    assert "275 near misses + 37 gross, `heatmap` 138 near misses + 132 gross" in lines[1]
    assert "fails by imprecision, the heatmap by choosing the wrong stroke (126 of its gross errors" in lines[1]
    assert lines[2].startswith("* **Distractor strokes**: from 0 to 4 distractors PCK@0.05 falls 9.8 points for "
                               "`simcc_fresh_32_step` (97.6 → 87.8 %) and 5.9 for `heatmap`")


def test_the_seed_regression_is_reported_as_levelled_off_only_when_its_validation_loss_was():
    from keypoint_trainer.experiments.stick.report_analysis import regression_lines

    ms = {"heatmap": _thresholds(0.936, 0.969, 0.68), "regression": _thresholds(0.027, 0.357, 20.7)}

    def log(losses):
        return {"regression": {"history": [{"epoch": e + 1, "val_loss": v, "val_pck_bbox_0.05": 0.02}
                                           for e, v in enumerate(losses)]}}

    (flat,) = regression_lines(ms, log([0.03, 0.0194, 0.0193, 0.0191]), 4)
    assert "0.0194 at epoch 2 and 0.0191 at epoch 4 (-1.5 %)" in flat and "had levelled off" in flat
    (falling,) = regression_lines(ms, log([0.03, 0.02, 0.015, 0.01]), 4)
    assert "still changing" in falling
    assert regression_lines({"heatmap": ms["heatmap"]}, {}, 30) == []


def test_a_run_evaluated_from_published_graphs_reports_their_provenance_and_commands(tmp_path):
    from keypoint_trainer.core.config import load_config
    from keypoint_trainer.experiments.stick.report import Ctx, _s_commands, _s_exports

    cfg = load_config("served", ['report.converged_ablations=true'])
    ctx = Ctx(cfg, tmp_path / "r.md")
    ctx.__dict__["published"] = {
        n: {"name": n, "version": "2", "model_dir": f"models/{n}/2", "sha256": "ab" * 32, "golden_samples": 4,
            "golden_max_abs_difference": 4.8e-07, "published_metrics_max_abs_difference": None,
            "training_command": f"python3 -m keypoint_trainer train --config full --model {n}",
            "command": f"PYTHONPATH=src/Training python3 -m keypoint_trainer evaluate --config served --model {n} "
                       f"--published models/{n}/2"} for n in cfg["models"]["run"]}
    commands = "\n".join(_s_commands(ctx))
    assert "python3 -m keypoint_trainer train --config full --model simcc_fresh_32_step" in commands
    assert ("/usr/bin/python3 -m keypoint_trainer evaluate --config served --model heatmap --published "
            "models/heatmap/2") in commands
    assert "ablate   --config ablate" in commands and commands.rstrip().endswith("```")
    table = "\n".join(_s_exports(ctx))
    assert "| `regression` | `regression/2` (`models/regression/2`) | `abababababababab…` | 4: 4.8e-07 | – |" in table
    # a run with only some models from published graphs keeps the train/export/publish commands
    del ctx.__dict__["published"]["heatmap"]
    assert "export   --config served --model heatmap" in "\n".join(_s_commands(ctx))


def test_converged_ablations_replace_the_learning_speed_tables(tmp_path):
    from keypoint_trainer.core.config import load_config
    from keypoint_trainer.experiments.stick.report import _converged_ablation_section

    # no record folder: the repository's recorded ablations must not leak into this table
    cfg = load_config("served", [f'ablate.out_dir="{tmp_path}"', 'ablate.record=""'])
    entry = lambda n, p: {"metrics": {n: _metrics(p, 1.0)}, "best_epoch": 18, "wall_time_s": 60.0,  # noqa: E731
                          "seconds_per_step": 1.2}
    abl = {"epochs": 18, "train_subset": 4000, "seed": 20251121,
           "experiments": {"heatmap": entry("heatmap", 0.95), "heatmap_seed2": entry("heatmap_seed2", 0.948),
                           "hm_sigma1": entry("hm_sigma1", 0.90)}}
    (tmp_path / "results.json").write_text(json.dumps(abl))
    text = "\n".join(_converged_ablation_section(cfg, abl))
    assert "## Ablations at a converged baseline" in text and "stick-ablations.md" in text
    assert "— met." in text and "0.20 points of PCK@0.05" in text
    assert "`hm_sigma1` (sigma 1): -5.00 points of PCK@0.05 against the baseline, beyond the seed-to-seed noise." in text
    assert "| `hm_res32` | 32×32, sigma 1 | not run |" in text and "\n## " not in text.split("\n", 1)[1]


def test_subset_tables_of_a_run_with_only_a_coordinate_head(tmp_path):
    from keypoint_trainer.core.config import load_config
    from keypoint_trainer.experiments.stick.report import Ctx, _s_subsets

    ctx = Ctx(load_config("served"), tmp_path / "r.md")
    sub = {"distractors=0": {"images": 3, "pck": 0.9}}
    ctx.__dict__["ev"] = {"metrics": {"simcc_fresh_32_step": _metrics(0.9, 1.0)},
                          "breakdown": {"threshold": 0.05, "methods": {"simcc_fresh_32_step": sub}}}
    text = "\n".join(_s_subsets(ctx))
    assert "| distractors=0 | 3 | 90.0 |" in text and "SimCC head" in text
    ctx.__dict__["ev"] = {"metrics": {}, "breakdown": {"threshold": 0.05, "methods": {}}}
    assert _s_subsets(ctx) == []  # nothing evaluated yet: no table, no error


def test_failing_keypoints_are_attributed_for_heatmaps_and_coordinate_heads_not_the_seed_regression():
    from keypoint_trainer.core.config import load_config
    from keypoint_trainer.experiments.stick.evaluate import attributable

    cfg = load_config("served")
    preds = {n: None for n in ("heatmap", "heatmap+flip", "regression", "simcc_fresh_32_step")}
    assert attributable(cfg, ["heatmap", "regression", "simcc_fresh_32_step", "soft_argmax"], preds) == \
        ["heatmap", "simcc_fresh_32_step"]


def test_the_heatmap_stages_figure_beside_the_report_is_kept_when_the_run_has_no_snapshots(tmp_path):
    from keypoint_trainer.core.config import load_config
    from keypoint_trainer.experiments.stick.report import STAGES_FIGURE, Ctx, _s_figures

    cfg = load_config("served", [f'run.out_dir="{tmp_path / "run"}"'])
    ctx = Ctx(cfg, tmp_path / "r.md")
    assert "_Predicted heatmaps of one validation image at several training stages: missing._" in _s_figures(ctx)
    ctx.fig_out.mkdir()
    (ctx.fig_out / STAGES_FIGURE).write_bytes(b"png")
    text = "\n".join(_s_figures(ctx))
    assert f"](r/{STAGES_FIGURE})" in text and "its snapshots are not published" in text
    assert "PCK curves (bbox and torso normalisation): missing." in text  # only that figure is kept
