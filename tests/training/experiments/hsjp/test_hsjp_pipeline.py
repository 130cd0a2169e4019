"""HSJP experiment plan, a tiny pretext + fine-tune run, and the report's refusal without results."""
import json

import numpy as np
import pytest
import torch

from keypoint_trainer.core.config import load_config
from keypoint_trainer.experiments.hsjp.plan import plan


def load_profile(profile, overrides=()):
    return load_config(profile, overrides, family="hsjp")


def test_full_plan_covers_the_paper_rows():
    cfg = load_profile("full")
    jobs = {j["name"]: j for j in plan(cfg)}
    assert {f"p{n}" for n in range(2, 7)} <= set(jobs) and {"p6c", "p6sp"} <= set(jobs)
    for f in (10, 25, 50, 100):
        assert jobs[f"scratch_f{f}"]["init"] is None and jobs[f"hsjp6_f{f}"]["init"] == "p6"
    long = jobs["scratch_long_f100"]
    assert long["steps"] == cfg["finetune"]["steps"] + cfg["pretext"]["steps"]
    names = [j["name"] for j in plan(cfg)]
    assert max(i for i, n in enumerate(names) if n.startswith("p")) < min(i for i, n in enumerate(names) if not n.startswith("p"))


def test_tiny_pretext_and_finetune(tmp_path):
    from keypoint_trainer.codecs.jigsaw import PretextSpec
    from keypoint_trainer.experiments.hsjp.train import evaluate_pretext, finetune, load_pretext, train_pretext

    cfg = load_profile("quick", [f'run.out_dir="{tmp_path}"', "pretext.steps=1", "finetune.steps=1",
                                             "pretext.batch_size=2", "finetune.batch_size=2"])
    rng = np.random.default_rng(0)
    pool = rng.uniform(0, 1, (4, 128, 128)).astype(np.float32)
    log = train_pretext(cfg, "p2", PretextSpec(n=2), pool, log=lambda *a: None)
    assert log["completed"] and (tmp_path / "p2" / "pretext.pth").is_file()
    model, spec = load_pretext(cfg, "p2")
    ev = evaluate_pretext(model, spec, pool[:2], 1)
    assert 0 <= ev["puzzle_precision"] <= 1 and ev["eps_px"] == 32
    inked = np.array([[True, False, False, False], [False, False, False, False]])
    ev = evaluate_pretext(model, spec, pool[:2], 1, inked=inked)
    # an image without inked patches is solved on the inked measure whatever the model does
    assert ev["inked_precision"] >= 0.5 and ev["inked_patch_accuracy"] in (0.0, 1.0)
    data = {"train_x": torch.rand(4, 1, 128, 128), "train_y": torch.rand(4, 5, 64, 64),
            "test_x": torch.rand(2, 1, 128, 128), "test_kp": rng.uniform(10, 100, (2, 5, 2))}
    r = finetune(cfg, "hsjp2_f50", data, fraction=0.5, steps=1, init="p2", log=lambda *a: None)
    assert r["labelled"] == 2 and r["copied_tensors"] > 0 and "pck_bbox" in r["test"]
    assert json.loads((tmp_path / "hsjp2_f50" / "result.json").read_text())["init"] == "p2"


def test_pretext_loss_option_defaults_to_mse_and_softmax_ce_trains(tmp_path):
    from keypoint_trainer.codecs.jigsaw import PretextSpec
    from keypoint_trainer.experiments.hsjp.train import train_pretext

    assert "loss" not in load_profile("full")["pretext"] and "loss" not in load_profile("learn")["pretext"]
    assert load_profile("learn-ce")["pretext"]["loss"] == "softmax_ce"
    pool = np.random.default_rng(2).uniform(0, 1, (4, 128, 128)).astype(np.float32)
    logs = {}
    for loss in ("mse", "softmax_ce"):
        cfg = load_profile("quick", [f'run.out_dir="{tmp_path / loss}"', "pretext.steps=1", "pretext.batch_size=2",
                                     f'pretext.loss="{loss}"'])
        logs[loss] = train_pretext(cfg, "p2", PretextSpec(n=2), pool, log=lambda *a: None)
    assert logs["mse"]["loss"] == "mse" and logs["softmax_ce"]["loss"] == "softmax_ce"
    h = logs["softmax_ce"]["history"][-1]
    assert h["zero_output"] == pytest.approx(np.log(64 * 64), rel=1e-4) and 0 < h["floor"] < h["zero_output"]
    assert "floor" not in logs["mse"]["history"][-1]


def test_report_refuses_without_results(tmp_path):
    from keypoint_trainer.experiments.hsjp.report import write_report

    cfg = load_profile("quick", [f'run.out_dir="{tmp_path}"'])
    with pytest.raises(SystemExit):
        write_report(cfg, tmp_path / "r.md")
    assert not (tmp_path / "r.md").exists()


def test_cli_registers_hsjp_and_multi():
    from keypoint_trainer.cli import build_parser, registered_commands
    from keypoint_trainer.plugins import registered_fixtures

    build_parser()
    assert {"hsjp", "multi"} <= set(registered_commands())
    assert "multi" in registered_fixtures()


def test_pretext_validation_curve_is_recorded_and_training_mode_restored(tmp_path):
    from keypoint_trainer.codecs.jigsaw import PretextSpec
    from keypoint_trainer.experiments.hsjp.train import PretextValidation, train_pretext

    cfg = load_profile("quick", [f'run.out_dir="{tmp_path}"', "pretext.steps=3", "pretext.batch_size=2"])
    pool = np.random.default_rng(1).uniform(0, 1, (4, 128, 128)).astype(np.float32)
    hook = PretextValidation(PretextSpec(n=2), pool[:2], 1, every=2, inked=np.ones((2, 4), bool))
    modes = []
    original = hook.after_step
    hook.after_step = lambda fit, loss, parts: (original(fit, loss, parts), modes.append(fit.model.training))
    log = train_pretext(cfg, "p2", PretextSpec(n=2), pool, log=lambda *a: None, hooks=[hook])
    assert [r["step"] for r in log["validation"]] == [2, 3] and all(modes)
    assert all(r["inked_precision"] == r["puzzle_precision"] for r in log["validation"])  # every patch inked


def test_report_of_a_pretext_run_alone_shows_its_curve(tmp_path):
    from keypoint_trainer.core.manifest import write_json
    from keypoint_trainer.experiments.hsjp.report import write_report

    cfg = load_profile("quick", [f'run.out_dir="{tmp_path}"'])
    (tmp_path / "p3").mkdir()
    ev = {"puzzle_precision": 0.0, "patch_accuracy": 0.3, "inked_patch_accuracy": 0.6, "inked_precision": 0.25,
          "eps_px": 21.5, "images": 8, "n": 3, "concat": False}
    write_json(tmp_path / "p3" / "pretext_eval.json", ev)
    write_json(tmp_path / "p3" / "training_log.json", {
        "wall_time_s": 12.0, "seconds_per_step": 0.5, "threads": 1, "machine": {"cpu": "test", "cores": 2},
        "versions": {"torch": "x"}, "validation": [{"step": 2, **ev}]})
    text = write_report(cfg, tmp_path / "r.md").read_text()
    assert "## Pretext learning curve (`p3`" in text and "| 2 | 0.000 | 0.300 | 0.600 | 0.250 |" in text
    assert "no fine-tune finished" in text


def test_loss_check_places_a_model_between_trivial_and_perfect():
    from keypoint_trainer.codecs.jigsaw import PretextSpec
    from keypoint_trainer.experiments.hsjp.losscheck import loss_check
    from keypoint_trainer.experiments.hsjp.train import pretext_model

    class Zero(torch.nn.Module):  # the trivial solution: gap closed exactly 0 for both losses
        def forward(self, x):
            return torch.zeros(x.shape[0], 4, 64, 64)

    imgs = np.random.default_rng(3).uniform(0, 1, (3, 128, 128)).astype(np.float32)
    r = loss_check(Zero(), PretextSpec(n=2), imgs, seed=1, batch=2)
    assert r["samples"] == 3 and r["mse"]["closed"] == pytest.approx(0) and r["softmax_ce"]["closed"] == pytest.approx(0)
    assert r["softmax_ce"]["zero_output"] == pytest.approx(np.log(64 * 64), rel=0.2)  # masked channels count 0
    assert 0 < r["softmax_ce"]["perfect"] < r["softmax_ce"]["zero_output"] and r["mse"]["perfect"] == 0
    torch.manual_seed(0)
    m = pretext_model(PretextSpec(n=2))
    assert m.training
    r = loss_check(m, PretextSpec(n=2), imgs, seed=1)
    assert not m.training and r["mse"]["model"] > 0


def test_report_shows_the_baseline_run_and_the_loss_checks(tmp_path):
    from keypoint_trainer.core.manifest import write_json
    from keypoint_trainer.experiments.hsjp.report import write_report

    base = tmp_path / "base"
    cfg = load_profile("quick", [f'run.out_dir="{tmp_path / "ce"}"', f'report.baseline_out_dir="{base}"',
                                 'pretext.loss="softmax_ce"'])
    ev = {"puzzle_precision": 0.0, "patch_accuracy": 0.3, "inked_patch_accuracy": 0.6, "inked_precision": 0.25,
          "eps_px": 21.5, "images": 8, "n": 3, "concat": False}
    lg = {"wall_time_s": 12.0, "seconds_per_step": 0.5, "threads": 1, "steps": 2, "machine": {"cpu": "test", "cores": 2},
          "versions": {"torch": "x"}}
    for d, acc, loss in ((tmp_path / "ce", 0.6, "softmax_ce"), (base, 0.1, "mse")):
        (d / "p3").mkdir(parents=True)
        write_json(d / "p3" / "pretext_eval.json", ev)
        write_json(d / "p3" / "training_log.json", {**lg, "loss": loss, "validation": [{"step": 2, **ev, "inked_patch_accuracy": acc}]})
        write_json(d / "p3" / "loss_check.json", {"samples": 5, "trained_with": loss,
                                                  loss: {"model": 1.0, "zero_output": 2.0, "perfect": 0.0, "closed": 0.5}})
    text = write_report(cfg, tmp_path / "r.md").read_text()
    assert "loss `softmax_ce`" in text and "| 2 | 0.000 | 0.300 | 0.600 | 0.250 |" in text
    assert f"trained with `mse` (`{base}/p3`, 2 steps)" in text and "| 2 | 0.000 | 0.300 | 0.100 | 0.250 |" in text
    assert f"| `{base}/p3` | `mse` | 1 | 2 | 0 | 0.500 |" in text and "| `softmax_ce` | 1 | 2 | 0 | 0.500 |" in text
    assert "`p3` 0.2 min (2 steps, 1 thread(s), 0.5 s/step)" in text


def test_resume_leaves_finished_runs_alone_and_continues_lengthened_ones(tmp_path):
    from keypoint_trainer.experiments.hsjp.pipeline import finished

    log = tmp_path / "result.json"
    assert not finished(log, 300)
    log.write_text(json.dumps({"completed": True, "steps": 300}))
    assert finished(log, 300) and not finished(log, 1300)   # a lengthened plan continues the run
    log.write_text(json.dumps({"completed": False, "steps": 120}))
    assert not finished(log, 100)                            # stopped early: resume it


def test_a_report_goes_where_the_profile_says_or_where_told(tmp_path, capsys):
    from keypoint_trainer.cli import main

    paths = {p: load_profile(p)["report"]["path"] for p in ("full", "learn-ce", "learn-ce-fractions")}
    assert paths == {"full": "docs/results/hsjp-full.md", "learn-ce": "docs/results/hsjp-learn.md",
                     "learn-ce-fractions": "docs/results/hsjp.md"}
    # the quick profile names none, so a smoke run cannot overwrite a committed report
    assert main(["hsjp", "report", "--profile", "quick", "--set", f'run.out_dir="{tmp_path}"']) == 2
    assert "give --report" in capsys.readouterr().err


def test_recorded_runs_are_skipped_in_a_fresh_checkout_and_a_needed_pretext_is_trained_again(tmp_path, monkeypatch):
    from keypoint_trainer.experiments.hsjp import pipeline

    trained = []

    def pretext(self, job):  # the training itself is tested above; here: which runs a fresh checkout repeats
        trained.append(job["name"])
        d = self.out / job["name"]
        d.mkdir(parents=True, exist_ok=True)
        (d / "pretext.pth").write_bytes(b"weights")
        (d / "training_log.json").write_text(json.dumps({"completed": True, "steps": 2}))
        (d / "pretext_eval.json").write_text("{}")

    def finetune(self, job):
        trained.append(job["name"])
        (self.out / job["name"]).mkdir(parents=True, exist_ok=True)
        (self.out / job["name"] / "result.json").write_text(json.dumps({"completed": True, "steps": job["steps"]}))
        return True

    monkeypatch.setattr(pipeline, "load_data", lambda cfg, log: {})
    monkeypatch.setattr(pipeline._Jobs, "pretext", pretext)
    monkeypatch.setattr(pipeline._Jobs, "finetune", finetune)
    record = tmp_path / "record"
    cfg = load_profile("quick", [f'run.out_dir="{tmp_path / "runs"}"', f'run.record="{record}"'])
    everything = [j["name"] for j in plan(cfg)]
    pipeline.run_jobs(cfg, resume=True, log=lambda *a: None)
    assert trained == everything and sorted(p.name for p in record.iterdir()) == sorted(everything)
    assert not (record / "p3" / "pretext.pth").exists()  # results only, no weights

    fresh = load_profile("quick", [f'run.out_dir="{tmp_path / "fresh"}"', f'run.record="{record}"'])
    trained.clear()
    pipeline.run_jobs(fresh, resume=True, log=lambda *a: None)
    assert trained == []  # every run recorded: nothing trained again
    assert json.loads((tmp_path / "fresh" / "hsjp3_f25" / "result.json").read_text())["completed"]

    import shutil
    shutil.rmtree(record / "hsjp3_f25")
    shutil.rmtree(tmp_path / "fresh")
    pipeline.run_jobs(fresh, only=["p3"], resume=True, kinds=("pretext",), log=lambda *a: None)
    assert trained == ["p3"]  # a fine-tune still needs its pretext's weights, which no record holds
    pipeline.run_jobs(fresh, resume=True, log=lambda *a: None)
    assert trained == ["p3", "hsjp3_f25"]


def test_the_puzzle_goal_is_judged_against_what_a_perfect_solver_reaches_on_the_same_images():
    from keypoint_trainer.experiments.hsjp.ambiguity import measure
    from keypoint_trainer.experiments.hsjp.report import _puzzle_goal_lines

    cfg = load_profile("learn-ce")
    ev = {"puzzle_precision": 0.0, "inked_precision": 0.015, "images": 12, "n": 3}
    (line,) = _puzzle_goal_lines(cfg, [("p3", ev), ("p3_pressure", {**ev, "inked_precision": None})])
    ceiling = measure(12, ns=(3,), seed=load_config("full")["data"]["seeds"]["test"])[0]["precision_ceiling"]
    assert ceiling < 0.9
    assert f"(`p3`, N = 3): measured 0.000 — not met." in line and f"reaches at most {ceiling:.3f}" in line
    assert "cannot be met on stick figures" in line


def test_report_restores_the_recorded_runs_a_fresh_checkout_lacks(tmp_path):
    from keypoint_trainer.core.manifest import write_json
    from keypoint_trainer.experiments.hsjp.pipeline import restore_records

    cfg = load_profile("quick", [f'run.out_dir="{tmp_path / "runs"}"', f'run.record="{tmp_path / "record"}"'])
    (tmp_path / "record" / "p3").mkdir(parents=True)
    write_json(tmp_path / "record" / "p3" / "pretext_eval.json", {"n": 3})
    restore_records(cfg, log=lambda *a: None)
    assert json.loads((tmp_path / "runs" / "p3" / "pretext_eval.json").read_text()) == {"n": 3}
