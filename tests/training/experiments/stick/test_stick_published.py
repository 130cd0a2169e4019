"""``evaluate --published``: a run evaluated from its exported graph gives the trained weights' numbers, is
recorded like a trained run, and a graph that is not the profile's run is refused."""
import json
import shutil

import pytest

from keypoint_trainer import cli
from keypoint_trainer.core.errors import ConfigError
from keypoint_trainer.core.manifest import ManifestError

QUIET = dict(log=lambda *a: None)


@pytest.fixture(scope="module")
def exported(trained_quick, tmp_path_factory):
    from keypoint_trainer.experiments.stick.export import export_experiment

    cfg, _ = trained_quick
    out = tmp_path_factory.mktemp("published") / "heatmap" / "1"
    export_experiment(cfg, "heatmap", out, version="1", **QUIET)
    return cfg, out


def _fresh(cfg, tmp_path):
    """The profile in a checkout without the run's weights, recording into ``tmp_path / "record"``."""
    return {**cfg, "run": {**cfg["run"], "out_dir": str(tmp_path / "runs"), "record": str(tmp_path / "record")}}


def test_the_published_graph_scores_what_the_weights_score_and_is_recorded(exported, tmp_path):
    from keypoint_trainer.data.stick.dataset import load_split
    from keypoint_trainer.experiments.stick.evaluate import evaluate_experiment, evaluate_run
    from keypoint_trainer.experiments.stick.published import evaluate_published

    cfg, model_dir = exported
    here = _fresh(cfg, tmp_path)
    origin = evaluate_published(here, "heatmap", str(model_dir), command="cmd", **QUIET)
    assert origin["golden_max_abs_difference"] < 1e-4 and origin["version"] == "1" and origin["command"] == "cmd"

    x, _, gt = load_split(cfg, "test")
    from_weights, _ = evaluate_experiment(cfg, "heatmap", x, gt)
    from_graph = json.loads((tmp_path / "runs" / "heatmap" / "eval_test.json").read_text())
    for method in ("heatmap", "heatmap+argmax", "heatmap+flip"):
        assert from_graph[method]["pck_bbox"] == pytest.approx(from_weights[method]["pck_bbox"], abs=2e-3)
        assert from_graph[method]["mean_pixel_error"] == pytest.approx(from_weights[method]["mean_pixel_error"],
                                                                       abs=1e-3)
    recorded = sorted(p.name for p in (tmp_path / "record" / "heatmap").iterdir())
    assert {"published.json", "training_log.json", "eval_test.json", "predictions_test.npz"} <= set(recorded)

    elsewhere = {**here, "run": {**here["run"], "out_dir": str(tmp_path / "elsewhere")}}  # a fresh checkout
    reported = evaluate_run(elsewhere, models=["heatmap"], figures=False, **QUIET)
    assert reported["metrics"]["heatmap"] == from_graph["heatmap"]


def _tampered(model_dir, tmp_path, change):
    copy = tmp_path / "tampered"
    shutil.copytree(model_dir, copy)
    change(copy)
    return copy


def _edit_manifest(edit):
    def change(d):
        m = json.loads((d / "manifest.json").read_text())
        edit(m)
        (d / "manifest.json").write_text(json.dumps(m))
    return change


def _shift_golden_output(d, by):
    from keypoint_trainer.engine.export import tensor_b64
    from keypoint_trainer.experiments.stick.published import _float32

    golden = json.loads((d / "golden.json").read_text())
    (output,) = golden["samples"][0]["outputs"].values()
    output["data_b64"] = tensor_b64(_float32(output) + by)["data_b64"]
    (d / "golden.json").write_text(json.dumps(golden))


@pytest.mark.parametrize("change, message", [
    (lambda d: (d / "model.onnx").write_bytes((d / "model.onnx").read_bytes() + b"\0"), "sha256"),
    (_edit_manifest(lambda m: m["training"]["spec"].update(sigma=3.0)), "another spec.*sigma 3.0"),
    (_edit_manifest(lambda m: m["training"].update(flip_test=True)), "flip-test"),
    (lambda d: _shift_golden_output(d, 0.01), "differs from its golden outputs by 0.01"),
])
def test_a_graph_that_is_not_the_profiles_run_is_refused(exported, tmp_path, change, message):
    from keypoint_trainer.experiments.stick.published import evaluate_published

    cfg, model_dir = exported
    with pytest.raises((ConfigError, ManifestError), match=message):
        evaluate_published(_fresh(cfg, tmp_path), "heatmap", str(_tampered(model_dir, tmp_path, change)), **QUIET)
    assert not (tmp_path / "record").exists()


def test_a_run_with_its_weights_is_evaluated_from_them_not_from_a_graph(exported):
    from keypoint_trainer.experiments.stick.published import evaluate_published

    cfg, model_dir = exported
    with pytest.raises(ConfigError, match="trained weights"):
        evaluate_published(cfg, "heatmap", str(model_dir), **QUIET)


@pytest.mark.parametrize("argv, message", [
    (["--published", "models/heatmap/6"], "name it with one --model"),
    (["--model", "heatmap", "--model", "regression", "--published", "models/heatmap/6"], "name it with one --model"),
    (["--model", "heatmap", "--published", "no/such/dir"], "no manifest.json there"),
    (["--model", "heatmap", "--published", "git:HEAD"], "expected git:REV:PATH"),
    (["--model", "heatmap", "--published", "git:HEAD:models/nothing/9"], "--published git:HEAD:models/nothing/9"),
])
def test_a_bad_published_source_is_one_line(argv, message, tmp_path, capsys):
    sets = ["--set", f'run.out_dir="{tmp_path / "runs"}"', "--set", 'run.record=""']
    assert cli.main(["evaluate", "--config", "quick", *sets, *argv]) == 2
    assert message in capsys.readouterr().err
