"""The HSJP runner (``hsjp plan|pretrain|finetune|report|run``) over the plan of plan.py.

Finished runs (``pretext.pth`` + ``pretext_eval.json``, or ``result.json``) are skipped, so an
interrupted ``run`` continues where it stopped (``--resume`` also continues a half-finished run). A profile
with ``[run] record`` (a tracked folder) keeps every finished run's results there, and a fresh checkout
skips what is recorded (engine/run_record.py); a recorded pretext is trained again only when a fine-tune
that starts from it has yet to run.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ...codecs.heatmap import HeatmapCodec
from ...core.config import check_selection, load_config, report_path
from ...core.manifest import write_json
from ...core.provenance import invocation, record_invocation
from ...engine.distributed import environment_rank
from ...engine.run_record import RunRecord
from ...data.stick.dataset import load_split
from ...data.stick.splits import generate_splits
from .plan import plan


def load_data(cfg: dict[str, Any], log=print) -> dict[str, Any]:
    """The labelled stick-figure splits of ``[stick] profile`` with the seed HeatmapNet's targets
    (the stick profile's ``[codec]``)."""
    st = cfg["stick"]
    scfg = load_config(st["profile"], st.get("overrides", []))
    generate_splits(scfg, log=log)
    hs = int(scfg["codec"]["heatmap_size"])
    codec = HeatmapCodec((128, 128), (hs, hs), float(scfg["codec"]["sigma"]))
    tx, ty, _ = load_split(scfg, "train", codec)
    ex, _, ek = load_split(scfg, "test", codec)
    return {"train_x": tx, "train_y": ty, "test_x": ex, "test_kp": ek, "stick_config": scfg}


def finished(log_file: Path, steps: int) -> bool:
    """A run's log says it completed at least ``steps`` steps: ``--resume`` continues unfinished or
    lengthened runs and leaves finished ones (and their results) alone."""
    if not log_file.is_file():
        return False
    r = json.loads(log_file.read_text())
    return bool(r.get("completed")) and int(r.get("steps", -1)) >= steps


def _finetune_done(d: Path, job: dict[str, Any], resume: bool) -> bool:
    return (d / "result.json").is_file() and (not resume or finished(d / "result.json", job["steps"]))


def _pretext_done(d: Path, steps: int, resume: bool, weights_needed: bool) -> bool:
    # a recorded pretext has no weights: trained again when an unfinished fine-tune starts from it
    return (d / "pretext_eval.json").is_file() and (not resume or finished(d / "training_log.json", steps)) and (
        not weights_needed or (d / "pretext.pth").is_file())


class _Jobs:
    """What the runs of one invocation share: the profile, the data, the unlabelled pools, the record."""

    def __init__(self, cfg: dict[str, Any], resume: bool, log):
        from ...engine.distributed import rank_zero_first

        self.cfg, self.resume, self.log = cfg, resume, log
        self.out, self.seed = Path(cfg["run"]["out_dir"]), int(cfg["run"]["seed"])
        self.record = RunRecord(cfg["run"].get("record"))
        with rank_zero_first():  # rank 0 generates missing splits, the others then read them
            self.data = load_data(cfg, log)
        self.pools: dict[bool, Any] = {}

    def pretext(self, job: dict[str, Any]) -> None:
        from .ambiguity import inked_patches
        from .sources import unlabelled_pool
        from .train import PretextValidation, evaluate_pretext, load_pretext, train_pretext

        cfg, name, d = self.cfg, job["name"], self.out / job["name"]
        if job["pressure"] not in self.pools:
            c = dict(cfg, pretext=dict(cfg["pretext"], sources=["stick", "pressure"] if job["pressure"] else ["stick"]))
            self.pools[job["pressure"]] = unlabelled_pool(c, self.data["train_x"], self.log)
        imgs = self.data["test_x"][: int(cfg["pretext"].get("eval_images", 200)), 0].numpy()
        inked = inked_patches(len(imgs), job["spec"].n, int(self.data["stick_config"]["data"]["seeds"]["test"]))
        if not (d / "pretext.pth").is_file() or self.resume:
            every = int(cfg["pretext"].get("eval_every", 0))
            hooks = [PretextValidation(job["spec"], imgs, self.seed + 1, every, inked)] if every else []
            train_pretext(cfg, name, job["spec"], self.pools[job["pressure"]], resume=self.resume, log=self.log,
                          hooks=hooks)
        model, spec = load_pretext(cfg, name)
        ev = evaluate_pretext(model, spec, imgs, self.seed + 1, inked=inked)
        write_json(d / "pretext_eval.json", ev)
        self.log(f"[hsjp] {name}: puzzle precision {ev['puzzle_precision']:.3f}, patches {ev['patch_accuracy']:.3f}, "
                 f"inked patches {ev['inked_patch_accuracy'] or 0:.3f}, inked precision {ev['inked_precision']:.3f}")

    def finetune(self, job: dict[str, Any]) -> bool:
        from .train import finetune

        if job["init"] and not (self.out / job["init"] / "pretext.pth").is_file():
            self.log(f"[hsjp] {job['name']}: pretext {job['init']} missing, skipped")
            return False
        finetune(self.cfg, job["name"], self.data, fraction=job["fraction"], steps=job["steps"], init=job["init"],
                 resume=self.resume, log=self.log)
        return True


def restore_records(cfg: dict[str, Any], log=print) -> None:
    """Copies the recorded runs (``[run] record``) back into a run directory that lacks them: a fresh
    checkout reports them, and ``run`` skips them."""
    record, out = RunRecord(cfg["run"].get("record")), Path(cfg["run"]["out_dir"])
    for job in plan(cfg):
        if record.restore(job["name"], out / job["name"]):
            log(f"[hsjp] {job['name']}: restored from its record in {record.folder}")


def run_jobs(cfg: dict[str, Any], only=None, resume: bool = False, kinds=("pretext", "finetune"), log=print) -> None:
    """Runs the plan's jobs in order, skipping finished (or recorded, ``[run] record``) ones."""
    from ...engine.distributed import from_environment

    # in a data-parallel group rank 0 writes the runs, every other rank its own copy under ranks/<rank>
    # (fine-tunes read their pretext run back, so the whole output directory moves)
    ranks = from_environment()
    if ranks.rank:
        cfg = dict(cfg, run=dict(cfg["run"], out_dir=str(ranks.own(cfg["run"]["out_dir"]))))
    runner = _Jobs(cfg, resume, log)
    everything = plan(cfg)
    restore_records(cfg, log)
    # pretexts whose weights a fine-tune of the profile (selected now or not) still needs
    waiting = {j["init"] for j in everything if j["kind"] == "finetune" and j["init"]
               and not _finetune_done(runner.out / j["name"], j, resume)}
    for job in [j for j in everything if j["kind"] in kinds and (not only or j["name"] in only)]:
        name, d = job["name"], runner.out / job["name"]
        if job["kind"] == "pretext":
            if _pretext_done(d, int(cfg["pretext"]["steps"]), resume, name in waiting):
                log(f"[hsjp] {name}: done")
                continue
            runner.pretext(job)
        else:
            if _finetune_done(d, job, resume):
                log(f"[hsjp] {name}: done")
                continue
            if not runner.finetune(job):
                continue
        if not ranks.rank:
            runner.record.keep(name, d)


def run_action(args: argparse.Namespace) -> int:
    from ...engine.threads import configure_threads

    cfg = load_config(args.profile, args.overrides, family="hsjp", default_extends="full")
    check_selection(args.only, [j["name"] for j in plan(cfg)])
    configure_threads(args.threads or cfg["run"].get("threads") or None)
    command = invocation()
    out = Path(cfg["run"]["out_dir"])
    if args.action == "plan":
        for j in plan(cfg):
            extra = f"N={j['n']} concat={j['concat']} pressure={j['pressure']}" if j["kind"] == "pretext" else \
                f"fraction={j['fraction']} init={j['init']} steps={j['steps']} ({j['group']})"
            print(f"{j['kind']:8s} {j['name']:20s} {extra}")
        return 0
    report = report_path(cfg, args.report) if args.action in ("report", "run") else None  # refused before training
    if args.action in ("pretrain", "finetune", "run"):
        record_invocation(out / "commands.txt", command)
        kinds = {"pretrain": ("pretext",), "finetune": ("finetune",), "run": ("pretext", "finetune")}[args.action]
        run_jobs(cfg, args.only, args.resume, kinds)
    if args.action in ("report", "run") and not environment_rank():  # a group's report is rank 0's
        from .report import write_report
        if args.action == "report":
            restore_records(cfg)
        write_report(cfg, report, command)
    return 0
