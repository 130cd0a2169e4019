"""Stick-figure subcommands (generate, train, evaluate, ablate, ablate-report, export, report, pipeline) and fixtures."""
from __future__ import annotations

import argparse
from pathlib import Path

from ...core.config import check_selection
from ...core.errors import ConfigError
from ...core.registry import register_command, register_fixture
from .plan import known_experiments


def _config_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", default="quick",
                   help="profile name in keypoint_trainer/configs (quick, full) or a .toml path")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config key, e.g. --set train.epochs=10 (repeatable)")


def _load(args):
    from ...core.config import load_config
    from ...engine.threads import configure_threads

    cfg = load_config(args.config, args.overrides)
    configure_threads(cfg.get("run", {}).get("threads") or None)
    return cfg


# --- generate -------------------------------------------------------------------------
def _generate_args(p):
    _config_args(p)
    p.add_argument("--force", action="store_true", help="regenerate even if the split exists")


def _generate(args):
    from ...data.stick.splits import generate_splits

    cfg = _load(args)
    generate_splits(cfg, force=args.force)


register_command("generate", _generate, _generate_args,
                 help="generate the synthetic stick-figure splits (PNG images + one JSON per split)")


# --- train ----------------------------------------------------------------------------
def _train_args(p):
    _config_args(p)
    p.add_argument("--model", action="append", default=None,
                   help="experiment to train (heatmap, regression, or a variant); repeatable; "
                        "default: the config's models.run")
    p.add_argument("--resume", action="store_true", help="continue from the run's last checkpoint")
    p.add_argument("--stop-after-steps", type=int, default=None,
                   help="testing aid: stop (as if killed) after this many optimisation steps")


def _train(args):
    from ...data.stick.splits import generate_splits
    from ...engine.distributed import rank_zero_first
    from .train import recorded_without_weights, train_experiment

    cfg = _load(args)
    check_selection(args.model, known_experiments(cfg), "experiment")
    with rank_zero_first():  # in a group rank 0 generates missing splits, the others then read them
        generate_splits(cfg)
    for name in args.model or cfg["models"]["run"]:
        recorded = recorded_without_weights(cfg, name)
        if recorded:
            print(f"[{name}] finished and recorded in {recorded} (no weights here): skipped; delete the record to "
                  "train it again")
            continue
        train_experiment(cfg, name, resume=args.resume, stop_after_steps=args.stop_after_steps)


register_command("train", _train, _train_args, help="train HeatmapNet / RegressionNet (or variants)")


# --- evaluate -------------------------------------------------------------------------
def _evaluate_args(p):
    _config_args(p)
    p.add_argument("--model", action="append", default=None, help="experiments to evaluate")
    p.add_argument("--no-figures", action="store_true")
    p.add_argument("--published", default=None, metavar="MODEL_DIR",
                   help="evaluate this published model directory (model.onnx, golden samples, training log), or "
                        "git:REV:PATH for one in the repository's history, as the run of the one --model, in place "
                        "of its weights; recorded like a trained run (experiments/stick/published.py)")


def _evaluate(args):
    from .evaluate import evaluate_run
    from .published import evaluate_published

    cfg = _load(args)
    if args.published is None:
        evaluate_run(cfg, models=args.model, figures=not args.no_figures)
        return
    if not args.model or len(args.model) != 1:
        raise ConfigError("--published evaluates one run: name it with one --model")
    command = (f"PYTHONPATH=src/Training python3 -m keypoint_trainer evaluate --config {args.config} "
               f"--model {args.model[0]} --published {args.published}")
    evaluate_published(cfg, args.model[0], args.published, command=command)


register_command("evaluate", _evaluate, _evaluate_args,
                 help="PCK (bbox/torso), per-keypoint PCK, pixel error, AUC and figures on the test split")


# --- ablate ---------------------------------------------------------------------------
def _ablate_args(p):
    _config_args(p)
    p.add_argument("--only", action="append", default=None, help="run only these ablation experiments")


def _ablate(args):
    from .ablate import run_ablations

    cfg = _load(args)
    check_selection(args.only, known_experiments(cfg), "experiment")
    run_ablations(cfg, only=args.only)


register_command("ablate", _ablate, _ablate_args,
                 help="ablations: heatmap resolution, sigma, skips, decoders, soft-argmax, stronger regression")


def _ablate_report_args(p):
    _config_args(p)
    p.add_argument("--report", type=Path, default=Path("docs/results/stick-ablations.md"), help="markdown file to write")


def _ablate_report(args):
    from ...core.config import load_config
    from .ablation_report import write_ablation_report

    write_ablation_report(load_config(args.config, args.overrides), args.report)


register_command("ablate-report", _ablate_report, _ablate_report_args,
                 help="the ablation report (docs/results/stick-ablations.md) from an `ablate` run's results")


# --- export ---------------------------------------------------------------------------
def _export_args(p):
    _config_args(p)
    p.add_argument("--model", required=True, help="experiment to export (heatmap or regression)")
    p.add_argument("--out", required=True, type=Path, help="export directory")
    p.add_argument("--name", default=None, help="manifest name (default: the experiment's task)")
    p.add_argument("--version", default="0", help="manifest version (publish rewrites it)")


def _export(args):
    from .export import export_experiment

    cfg = _load(args)
    check_selection([args.model], known_experiments(cfg), "experiment")
    export_experiment(cfg, args.model, args.out, name=args.name, version=args.version)


register_command("export", _export, _export_args,
                 help="export a trained model to ONNX (opset 17) with manifest.json and golden.json")


# --- report ---------------------------------------------------------------------------
def _report_args(p):
    _config_args(p)
    p.add_argument("--out", type=Path, default=None, help="markdown file (default: the profile's [report] path)")


def _report(args):
    from .report import write_report

    cfg = _load(args)
    path = write_report(cfg, args.out)
    print(f"wrote {path}")


register_command("report", _report, _report_args, help="write docs/results/stick-figures.md from a run")


# --- pipeline -------------------------------------------------------------------------
def _pipeline_args(p):
    _config_args(p)
    p.add_argument("--resume", action="store_true")
    p.add_argument("--skip", action="append", default=[],
                   help="stages to skip: generate, train, evaluate, ablate, export, report")
    p.add_argument("--store", type=Path, default=None, help="publish the exports into this store")


def _pipeline(args):
    from .pipeline import run_pipeline

    cfg = _load(args)
    run_pipeline(cfg, resume=args.resume, skip=set(args.skip), store=args.store)


register_command("pipeline", _pipeline, _pipeline_args,
                 help="generate, train both models, evaluate, ablate, export (and publish), report")


# --- fixtures (built lazily: fixtures.py imports torch) ------------------------------
def _heatmap_fixture(out_dir, *, name, version, seed):
    from .fixtures import build_heatmap_fixture

    build_heatmap_fixture(out_dir, name=name, version=version, seed=seed)


def _regression_fixture(out_dir, *, name, version, seed):
    from .fixtures import build_regression_fixture

    build_regression_fixture(out_dir, name=name, version=version, seed=seed)


register_fixture("heatmap", _heatmap_fixture, "untrained HeatmapNet (64x64 heatmaps, DARK decoding)")
register_fixture("regression", _regression_fixture, "untrained RegressionNet (direct coordinates)")
