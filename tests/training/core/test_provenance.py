"""The command log every family keeps beside its runs (the reports quote it)."""
import sys

from keypoint_trainer.core.provenance import invocation, record_invocation


def test_the_invocation_is_the_command_line_that_reproduces_the_call(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["keypoint_trainer", "multi", "run", "--set", "train.lr=1e-3 x"])
    assert invocation() == ("PYTHONPATH=src/Training /usr/bin/python3 -m keypoint_trainer "
                            "multi run --set 'train.lr=1e-3 x'")


def test_a_data_parallel_group_logs_its_command_once(tmp_path, monkeypatch):
    log = tmp_path / "run" / "commands.txt"
    monkeypatch.setenv("WORLD_SIZE", "3")
    for rank in ("0", "1", "2"):  # the three processes of one group
        monkeypatch.setenv("RANK", rank)
        record_invocation(log, "train it")
    monkeypatch.delenv("RANK")
    monkeypatch.delenv("WORLD_SIZE")
    record_invocation(log, "again")  # one process
    lines = log.read_text().splitlines()
    assert [line.split(" ", 1)[1] for line in lines] == ["train it", "again"]
