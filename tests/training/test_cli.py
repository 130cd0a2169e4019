import os
import subprocess
import sys
from pathlib import Path

import pytest

from keypoint_trainer import cli
from keypoint_trainer.core.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def test_help_lists_the_subcommands():
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src" / "Training"))
    out = subprocess.run([sys.executable, "-m", "keypoint_trainer", "--help"], capture_output=True, text=True,
                         env=env, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    for sub in ("generate", "train", "evaluate", "ablate", "export", "publish", "report", "pipeline", "fixtures",
                "spmkd", "multi", "hsjp", "night"):
        assert sub in out.stdout


def test_register_command_is_a_one_liner():
    seen = []
    cli.register_command("hello-test", lambda args: seen.append(args.name),
                         lambda p: p.add_argument("--name", default="x"), help="test", replace=True)
    assert cli.main(["hello-test", "--name", "y"]) == 0
    assert seen == ["y"]


def test_a_bad_configuration_is_one_line_not_a_traceback(tmp_path, capsys):
    """A --set override that is not key=value, and a value the code refuses (an unknown lr schedule, reached
    only when the run is built): exit 2 and one line naming the command and the key."""
    assert cli.main(["multi", "generate", "--profile", "quick", "--set", "nonsense"]) == 2
    err = capsys.readouterr().err
    assert err == "keypoint_trainer multi: override 'nonsense' is not key=value\n"

    from keypoint_trainer.engine.schedules import named
    with pytest.raises(ConfigError, match="unknown lr_schedule 'cosin'"):  # a value refused where it is used
        named("cosin", 0.1, 100)


@pytest.mark.parametrize("argv, message", [
    (["multi", "evaluate", "--profile", "quick", "--only", "bogus"], "unknown model 'bogus'; this profile has: main"),
    (["hsjp", "pretrain", "--profile", "quick", "--only", "bogus"], "unknown run 'bogus'; this profile has: p3"),
    (["spmkd", "train", "--profile", "quick", "--only", "bogus"], "unknown run 'bogus'; this profile has: main"),
    (["ablate", "--config", "quick", "--only", "bogus"], "unknown experiment 'bogus'; this profile has: heatmap"),
    (["train", "--config", "quick", "--model", "bogus"], "unknown experiment 'bogus'"),
    (["export", "--config", "quick", "--model", "bogus", "--out", "x"], "unknown experiment 'bogus'"),
])
def test_an_unknown_run_name_is_refused_before_any_work(argv, message, capsys):
    assert cli.main(argv) == 2
    assert message in capsys.readouterr().err


def test_a_quick_run_without_report_is_refused_before_it_trains(tmp_path, capsys):
    out = tmp_path / "runs"
    assert cli.main(["multi", "run", "--profile", "quick", "--set", f'run.out_dir="{out}"']) == 2
    assert "give --report" in capsys.readouterr().err and not out.exists()
