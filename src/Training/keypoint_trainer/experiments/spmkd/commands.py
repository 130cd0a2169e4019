"""CLI and fixture registration of the SPMKD plug-in.

``python3 -m keypoint_trainer spmkd <action> [options]`` with actions

* ``simulate``  build the simulated splits of a profile (and optionally a preview PNG)
* ``train``     train the profile's runs (resumable; ``--only main`` etc.)
* ``report``    evaluate the finished runs, export the main model, write results + report
* ``run``       all of the above in one command
* ``posture-head``  attach the posture classifier to a published model without retraining it
                (``--from models/spmkd/1 --publish models/spmkd/2``; experiments/spmkd/attach_posture.py)
* ``posture-protocol``  graph network vs MLP posture classification on a published model's keypoints
                (``--from models/spmkd/2 --report docs/results/spmkd-posture.md``; posture_protocol.py)
* ``probe``     joints and posture of a run's current stage-2 checkpoint while it trains, appended to
                ``<run>/probe.jsonl`` (``--only main``; probe.py)

and the ``spmkd`` fixture (a seeded, untrained K=4 model with golden samples) for the C#
tests: ``python3 -m keypoint_trainer fixtures --out DIR --only spmkd``.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional

from ...core.provenance import invocation, record_invocation
from ...core.registry import register_command
from ...core.registry import register_fixture

DEFAULT_DATA = Path("data/spmkd")
DEFAULT_RUNS = Path("runs/spmkd")


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=("simulate", "train", "report", "run", "posture-head",
                                           "posture-protocol", "probe"))
    p.add_argument("--profile", default="quick", help="quick, full or a .toml path (configs/spmkd)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config key, e.g. --set train.stage2_steps=10 (repeatable)")
    p.add_argument("--data-root", type=Path, default=None, help="default data/spmkd/<profile>")
    p.add_argument("--run-root", type=Path, default=None, help="default runs/spmkd/<profile>")
    p.add_argument("--only", action="append", default=None,
                   help="train only these runs (main, scratch, baseline, hard, k8, k32, ...); repeatable")
    p.add_argument("--publish", type=Path, default=None,
                   help="export the main model into this model-store version directory (e.g. models/spmkd/1)")
    p.add_argument("--from", dest="source", type=Path, default=None,
                   help="posture-head: the published model version directory to start from")
    p.add_argument("--report", type=Path, default=None,
                   help="write the markdown report here (+ figures); default: the profile's [report] path")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: KEYPOINT_THREADS or cores)")
    p.add_argument("--preview", type=Path, default=None, help="simulate: also write a preview PNG")
    p.add_argument("--force", action="store_true", help="simulate: regenerate existing splits")
    p.add_argument("--render-only", action="store_true",
                   help="report: re-render the markdown from <run-root>/results.json (no evaluation, no export)")


def _run(args: argparse.Namespace) -> int:
    from ...engine.threads import configure_threads
    from ...core.config import check_selection, load_config, report_path
    from ...data.pressure.splits import build_datasets, data_spec
    from .pipeline import Profile, run_names, run_pipeline

    cfg = load_config(args.profile, args.overrides, family="spmkd")
    configure_threads(args.threads or cfg["run"].get("threads") or None)  # run.threads: train-distributed.sh
    prof = Profile.from_config(cfg)
    check_selection(args.only, run_names(prof))
    data_root = args.data_root or DEFAULT_DATA / cfg["run"]["name"]
    run_root = args.run_root or DEFAULT_RUNS / cfg["run"]["name"]
    command = invocation()
    if args.action == "simulate":
        paths = build_datasets(data_root, data_spec(cfg), force=args.force)
        if args.preview:
            write_preview(args.preview)
        for k, v in paths.items():
            print(f"{k}: {v}")
        return 0
    if args.action == "train":
        return _train(cfg, prof, data_root, run_root, args.only, command)
    if args.action == "posture-head":
        from .attach_posture import attach_and_publish

        if not args.source or not args.publish:
            print("posture-head needs --from DIR and --publish STORE/NAME/VERSION", file=sys.stderr)
            return 2
        print(attach_and_publish(args.source, args.publish, profile=args.profile, data_root=data_root,
                                 command=command))
        return 0
    if args.action == "posture-protocol":
        from .posture_protocol import compare, write_report

        if not args.source:
            print("posture-protocol needs --from DIR (a published spmkd version)", file=sys.stderr)
            return 2
        res = compare(args.source, profile=args.profile, data_root=data_root)
        print(write_report(res, args.report or Path("docs/results/spmkd-posture.md"), command))
        return 0
    if args.action == "probe":
        return _probe(cfg, prof, data_root, run_root, args.only or ["main"])
    if args.action == "report" and args.render_only:
        from .report import render_from_results

        print(render_from_results(run_root / "results.json", report_path(cfg, args.report)))
        return 0
    report = report_path(cfg, args.report) if args.report or cfg.get("report", {}).get("path") else None  # quick: none
    run_pipeline(args.profile, data_root=data_root, run_root=run_root, publish=args.publish, report=report,
                 only=args.only, skip_train=args.action == "report", command=command, settings=args.overrides)
    return 0


def _train(cfg, prof, data_root: Path, run_root: Path, only: Optional[list[str]], command: str) -> int:
    """Train the profile's runs (resumable); a call that finds them all finished is not recorded, so the
    report lists the calls that trained, not the queue's no-op restarts."""
    from ...data.pressure.splits import build_datasets, data_spec
    from ...engine.distributed import rank_zero_first
    from .pipeline import train_all, unfinished_runs

    if unfinished_runs(prof, run_root, only):
        record_invocation(run_root / "train_commands.txt", command)
    else:
        print(f"every selected run in {run_root} is finished; nothing to train")
    with rank_zero_first():  # rank 0 simulates missing splits, the others then read them
        paths = build_datasets(data_root, data_spec(cfg))
    train_all(prof, run_root, paths, only=only)
    return 0


def _probe(cfg, prof, data_root: Path, run_root: Path, names: list[str]) -> int:
    """``probe``: the named runs' current checkpoints against the goals (experiments/spmkd/probe.py)."""
    from ...data.pressure.splits import build_datasets, data_spec
    from .pipeline import _baseline_cfg
    from .probe import probe, probe_baseline

    paths, spec = build_datasets(data_root, data_spec(cfg)), data_spec(cfg)
    for name in names:
        if name == "baseline":
            probe_baseline(run_root / name, paths, spec, _baseline_cfg(prof))
        else:
            probe(run_root / name, paths, spec, readout_iters=int(cfg.get("probe", {}).get("readout_iters", 3000)))
    return 0


def write_preview(path: Path, seed: int = 0) -> Path:
    """A grid of simulated maps (both mats, all postures) with their ground-truth joints."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from ...core.keypoints import get_skeleton
    from ...data.pressure import POSTURES, SLP_MAT, UNFAMILIAR_MAT, simulate_sample

    sk = get_skeleton("slp14")
    fig, axes = plt.subplots(2, 8, figsize=(16, 9))
    for i, ax in enumerate(axes.flat):
        mat = SLP_MAT if i < 8 else UNFAMILIAR_MAT
        s = simulate_sample(np.random.default_rng([seed, i]), mat, posture=POSTURES[i % 4], blanket=(i % 8) >= 4)
        ax.imshow(s.pressure, cmap="magma", extent=(0, mat.cols, mat.rows, 0), aspect="auto")
        j = s.joints
        for a, b in sk.links:
            ax.plot(j[[a, b], 0], j[[a, b], 1], "-", c="lime", lw=0.8)
        ax.set_title(f"{mat.name} {POSTURES[s.posture]}{' blanket' if s.blanket else ''}\n"
                     f"{s.body.mass:.0f} kg, max {s.pressure.max():.0f} {mat.unit}", fontsize=7)
        ax.set_xticks([])
        ax.set_yticks([])
    plt.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    plt.savefig(path, dpi=70)
    plt.close(fig)
    return Path(path)


def build_spmkd_fixture(out_dir: Path, *, name: str, version: str, seed: int) -> None:
    """Seeded *untrained* K=4 SPMKD model: both ONNX files, a joints head, a random posture head, golden samples
    (one SLP 84 x 192 map, one unfamiliar 32 x 64 map)."""
    import numpy as np
    import torch

    from ...data.pressure import SLP_MAT, UNFAMILIAR_MAT, simulate_sample
    from .export import write_model_dir
    from ...models.efd import EFD, ModelConfig

    torch.manual_seed(seed)
    model = EFD(ModelConfig(num_keypoints=4, feature_dim=2, fc_hidden=32, dec_channels=(4, 4, 4, 4))).eval()
    rng = np.random.default_rng(seed)
    k, j = 4, 14
    head = {"weight": rng.normal(0, 0.2, (2 * j, 2 * k)), "bias": rng.uniform(0.2, 0.8, 2 * j)}
    maps = [("fixture-slp-0000", simulate_sample(np.random.default_rng([seed, 1]), SLP_MAT).pressure),
            ("fixture-unfamiliar-0000", simulate_sample(np.random.default_rng([seed, 2]), UNFAMILIAR_MAT).pressure)]
    from ...models.posture import POSTURE_CLASSES

    posture = {"classes": list(POSTURE_CLASSES), "features": "centered_keypoints",
               "layers": [{"weight": rng.normal(0, 3.0, (6, 2 * k)).tolist(), "bias": rng.normal(0, 0.1, 6).tolist(),
                           "activation": "relu"},
                          {"weight": rng.normal(0, 1.0, (4, 6)).tolist(), "bias": rng.normal(0, 0.1, 4).tolist(),
                           "activation": "none"}]}
    write_model_dir(model, out_dir, name=name, version=version, head=head, golden_maps=maps, posture=posture,
                    metrics={"note": "untrained fixture"}, training={"fixture": True, "seed": seed},
                    description="SPMKD test fixture: seeded, untrained, K=4 (outputs are meaningless but "
                                "deterministic; for parity and contract tests only).")


register_command("spmkd", _run, _add_arguments,
                 help="SPMKD: self-supervised pressure-map keypoints (simulate, train, report, run)")
register_fixture("spmkd", build_spmkd_fixture, help="seeded untrained SPMKD model (K=4) with golden samples")
