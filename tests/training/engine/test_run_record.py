"""Finished runs kept in a tracked folder and brought back into an empty run directory."""
import json


def test_a_kept_run_comes_back_into_an_empty_run_directory_and_never_overwrites(tmp_path):
    from keypoint_trainer.engine.run_record import RunRecord

    run = tmp_path / "runs" / "p3"
    run.mkdir(parents=True)
    (run / "training_log.json").write_text(json.dumps({"completed": True}))
    (run / "result.json").write_text(json.dumps({"pck": 0.9}))
    (run / "last.pth").write_bytes(b"weights")  # weights are not recorded
    record = RunRecord(tmp_path / "record")
    assert record and not record.has("p3")
    record.keep("p3", run)
    assert sorted(p.name for p in (tmp_path / "record" / "p3").iterdir()) == ["result.json", "training_log.json"]

    fresh = tmp_path / "fresh" / "p3"
    assert record.restore("p3", fresh) and json.loads((fresh / "result.json").read_text()) == {"pck": 0.9}
    (fresh / "result.json").write_text(json.dumps({"pck": 0.5}))
    assert not record.restore("p3", fresh)  # nothing missing: the run directory's own files stay
    assert json.loads((fresh / "result.json").read_text()) == {"pck": 0.5}
    assert not record.restore("p4", tmp_path / "fresh" / "p4") and not (tmp_path / "fresh" / "p4").exists()


def test_a_profile_without_a_record_folder_records_nothing(tmp_path):
    from keypoint_trainer.engine.run_record import RunRecord

    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "result.json").write_text("{}")
    for folder in (None, ""):
        record = RunRecord(folder)
        assert not record and record.keep("r", tmp_path / "r") is None and not record.restore("r", tmp_path / "x")


def test_a_restored_file_appears_whole_so_two_runners_restoring_at_once_read_no_half_copy(tmp_path, monkeypatch):
    """The queue starts two processes of one profile; both restore its records at start. A file is written
    under another name and renamed, so the other process finds it absent or complete (a half-copied
    training_log.json once ended a run with a JSONDecodeError)."""
    import shutil

    from keypoint_trainer.engine import run_record

    run = tmp_path / "runs" / "a"
    run.mkdir(parents=True)
    (run / "training_log.json").write_text(json.dumps({"completed": True}))
    record = run_record.RunRecord(tmp_path / "record")
    record.keep("a", run)
    written_to = []
    real_copy = shutil.copy2

    def copy_and_note(source, target):
        written_to.append(target)
        return real_copy(source, target)

    monkeypatch.setattr(run_record.shutil, "copy2", copy_and_note)
    fresh = tmp_path / "fresh" / "a"
    assert record.restore("a", fresh)
    assert written_to and all(t != fresh / "training_log.json" for t in written_to)
    assert sorted(p.name for p in fresh.iterdir()) == ["training_log.json"]  # no partial file left
    assert json.loads((fresh / "training_log.json").read_text()) == {"completed": True}
