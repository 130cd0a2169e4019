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
    for sub in ("generate", "train", "evaluate", "ablate", "export", "publish", "report", "pipeline", "fixtures",
                "spmkd", "multi", "hsjp", "night"):
        assert sub in out.stdout


def test_register_command_is_a_one_liner():
    seen = []
    cli.register_command("hello-test", lambda args: seen.append(args.name),
                         lambda p: p.add_argument("--name", default="x"), help="test", replace=True)
    assert cli.main(["hello-test", "--name", "y"]) == 0
    assert seen == ["y"]
