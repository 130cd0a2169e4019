import os
import subprocess
import sys
from pathlib import Path

from keypoint_trainer import cli

ROOT = Path(__file__).resolve().parents[2]


def test_help_lists_the_subcommands():
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src" / "Training"))
    out = subprocess.run([sys.executable, "-m", "keypoint_trainer", "--help"], capture_output=True, text=True,
                         env=env, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    for sub in ("generate", "train", "evaluate", "ablate", "export", "publish", "report", "fixtures"):
        assert sub in out.stdout


def test_register_command_is_a_one_liner():
    seen = []
    cli.register_command("hello-test", lambda args: seen.append(args.name),
                         lambda p: p.add_argument("--name", default="x"), help="test", replace=True)
    assert cli.main(["hello-test", "--name", "y"]) == 0
    assert seen == ["y"]


def test_config_profiles_and_overrides():
    from keypoint_trainer.core.config import load_config

    full = load_config("full")
    quick = load_config("quick", ["train.epochs=1", 'run.name="q2"'])
    assert full["train"]["epochs"] == 30 and full["train"]["batch_size"] == 32 and full["train"]["lr"] == 0.001
    assert quick["train"]["epochs"] == 1 and quick["run"]["name"] == "q2"
    assert quick["data"]["train"] < full["data"]["train"]
    assert quick["data"]["seeds"] == full["data"]["seeds"]


def test_quick_profile_stays_quick_and_publishes_what_it_trains():
    from keypoint_trainer.core.config import load_config
    from keypoint_trainer.experiments.stick.plan import get_experiment

    quick, full = load_config("quick"), load_config("full")
    for name in quick["models"]["run"]:
        assert get_experiment(quick, name).get("epochs", quick["train"]["epochs"]) <= 2, name
    for cfg in (quick, full):
        assert set(cfg["export"]["publish"]) <= set(cfg["models"]["run"])
