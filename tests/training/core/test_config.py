"""One config loader for every family: TOML profiles, ``extends``, ``--set`` overrides."""
import pytest

from keypoint_trainer.core.config import FAMILIES, load_config, report_path
from keypoint_trainer.core.errors import ConfigError


def test_config_profiles_and_overrides():
    full = load_config("full")
    quick = load_config("quick", ["train.epochs=1", 'run.name="q2"'])
    assert full["train"]["epochs"] == 30 and full["train"]["batch_size"] == 32 and full["train"]["lr"] == 0.001
    assert quick["train"]["epochs"] == 1 and quick["run"]["name"] == "q2"
    assert quick["data"]["train"] < full["data"]["train"]
    assert quick["data"]["seeds"] == full["data"]["seeds"]


def test_quick_profile_stays_quick_and_publishes_what_it_trains():
    from keypoint_trainer.experiments.stick.plan import get_experiment

    quick, full = load_config("quick"), load_config("full")
    for name in quick["models"]["run"]:
        assert get_experiment(quick, name).get("epochs", quick["train"]["epochs"]) <= 2, name
    for cfg in (quick, full):
        assert set(cfg["export"]["publish"]) <= set(cfg["models"]["run"])


@pytest.mark.parametrize("family", FAMILIES)
def test_every_family_has_quick_and_full_and_quick_extends_full(family):
    full = load_config("full", family=family)
    quick = load_config("quick", family=family)
    assert full["run"]["name"] == "full" and quick["run"]["name"] == "quick"
    assert quick["_source"].endswith(f"configs/{family}/quick.toml")
    # every table of full is in quick (quick only overrides)
    assert set(full) - {"_source"} <= set(quick)


def test_spmkd_profiles_are_the_former_dataclass_values():
    from keypoint_trainer.data.pressure.splits import data_spec
    from keypoint_trainer.experiments.spmkd.pipeline import Profile, get_profile

    q = get_profile("quick")
    assert (q.batch_size, q.stage1_steps, q.stage2_steps, q.eval_every, q.k_main, q.k_ablation, q.hard_steps,
            q.baseline_steps, q.lr1, q.lr2, q.golden) == (8, 2, 3, 2, 8, [4], 2, 3, 2e-3, 1e-3, 3)
    f = Profile.from_config(load_config("full", family="spmkd"))
    assert (f.stage2_steps, f.k_main, f.k_ablation, f.lr1, f.lr2) == (1200, 16, [8, 32], 5e-3, 3e-3)
    spec = data_spec(load_config("quick", ["data.labelled=12"], family="spmkd"))
    assert spec.labelled == 12 and spec.train.count == 48 and spec.unf_test.mat == "unfamiliar"
    assert get_profile("quick", settings=["train.stage2_steps=7"]).stage2_steps == 7


def test_a_path_without_extends_can_default_to_full(tmp_path):
    p = tmp_path / "mine.toml"
    p.write_text("[train]\nsteps = 3\n")
    cfg = load_config(str(p), family="multi", default_extends="full")
    assert cfg["train"]["steps"] == 3 and cfg["model"]["stages"] == 3 and cfg["run"]["name"] == "mine"
    alone = load_config(str(p), family="multi")
    assert "model" not in alone


def test_unknown_profiles_and_families_are_errors():
    with pytest.raises(FileNotFoundError, match="profiles of spmkd"):
        load_config("huge", family="spmkd")
    with pytest.raises(KeyError):
        load_config("quick", family="pose")


@pytest.mark.parametrize("family", ["stick", "spmkd", "multi", "hsjp"])
def test_a_quick_run_writes_a_report_only_where_told(family, tmp_path):
    # the long profiles name their committed report; the quick one names none, so a smoke run without
    # --report cannot overwrite it
    assert str(report_path(load_config("full", family=family))).startswith("docs/results/")
    quick = load_config("quick", family=family)
    with pytest.raises(ConfigError, match="give --report"):
        report_path(quick)
    assert report_path(quick, tmp_path / "r.md") == tmp_path / "r.md"


@pytest.mark.parametrize("item, message", [
    ("pretext.steps=abc", "pretext.steps is an integer in the profile (400), not a string"),
    ("run.out_dir=1", "run.out_dir is a string in the profile"),
    ("pretext.steps=2.5", "not a number"),
    ("run.out_dir.x=1", "'out_dir' is not a table"),
])
def test_an_override_of_another_type_is_refused_in_one_line(item, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_config("full", [item], family="hsjp")


def test_an_override_may_give_an_integer_for_a_number_and_add_keys():
    cfg = load_config("full", ["pretext.lr=1", "pretext.steps=5", "grouping.new_key=true"], family="hsjp")
    assert cfg["pretext"]["lr"] == 1 and cfg["pretext"]["steps"] == 5 and cfg["grouping"]["new_key"] is True
