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
