"""Multi-figure data, KLPNet model/targets/loss, evaluation on ideal outputs, export + fixture."""
import base64
import json

import numpy as np
import pytest
import torch

from keypoint_trainer.core.keypoints import STICK_FIGURE
from keypoint_trainer.data.multi.generator import LEVELS, MultiConfig, box_iou, generate_split, render_multi
from keypoint_trainer.codecs.grouping import GroupingSpec, group, synthetic_outputs
from keypoint_trainer.codecs.klp import STAGE_KERNELS, adjacency, build_targets, kernel_sigma, link_targets
from keypoint_trainer.experiments.multi.train import compute_loss, to_input
from keypoint_trainer.models.klp import KLPConfig, KLPNet


@pytest.fixture(scope="module")
def split():
    return generate_split(12, 5, MultiConfig())


def test_render_is_deterministic_and_within_the_image(split):
    a, b = render_multi(5, 3, MultiConfig()), render_multi(5, 3, MultiConfig())
    assert np.array_equal(a["image"], b["image"]) and np.array_equal(a["keypoints"], b["keypoints"])
    assert ((split["count"] >= 1) & (split["count"] <= 4)).all()
    kp = split["keypoints"]
    for n, c in enumerate(split["count"]):
        assert np.isfinite(kp[n, :c]).all() and np.isnan(kp[n, c:]).all()
        assert (kp[n, :c] >= 3 - 1e-9).all() and (kp[n, :c] <= 125 + 1e-9).all()
        assert not split["occluded"][n, c - 1].any()  # the front figure is never occluded
    assert set(split["level"]) <= {0, 1, 2}
    assert box_iou(np.array([0, 0, 2, 2.0]), np.array([1, 1, 3, 3.0])) == pytest.approx(1 / 7)


def test_model_outputs_and_coarse_to_fine_kernels():
    assert [round(kernel_sigma(k), 2) for k in STAGE_KERNELS] == [1.4, 1.1, 0.8]
    for s in (1, 2, 3):
        o = KLPNet(KLPConfig(stages=s, width=8, embed_dim=4))(torch.zeros(2, 1, 128, 128))
        assert len(o["heat_logits"]) == s and o["heat_logits"][-1].shape == (2, 1, 64, 64)
        assert o["offsets"][0].shape == (2, 2, 64, 64) and o["type_logits"].shape == (2, 5, 64, 64)
        assert o["embeddings"].shape == (2, 4, 64, 64)
    with pytest.raises(ValueError):
        KLPNet(KLPConfig(stages=4))


def test_targets_peak_at_visible_keypoints_with_exact_offsets(split):
    n = int(np.argmax(split["count"]))
    tg = build_targets(split["keypoints"][n:n + 1], split["count"][n:n + 1], split["occluded"][n:n + 1], 3)
    kp = split["keypoints"][n, 0, 0]  # head of the first figure
    u, v = kp / 2 - 0.5
    cx, cy = int(round(u)), int(round(v))
    if not split["occluded"][n, 0, 0]:
        assert tg["heats"][2, 0, 0, cy, cx] > 0.5
        assert np.allclose(tg["offsets"][0, :, cy, cx], [u - cx, v - cy], atol=1e-5)
    # coarse-to-fine: the stage-1 (kernel 7) target is wider than the stage-3 (kernel 3) one
    assert tg["heats"][0].sum() > tg["heats"][2].sum()
    cells, figs, tys = tg["pairs"][0]
    A = link_targets(figs, tys, adjacency())
    assert np.allclose(A, A.T) and np.all(np.diag(A) == 1)
    for i in range(len(figs)):
        for j in range(len(figs)):
            linked = (min(tys[i], tys[j]), max(tys[i], tys[j])) in STICK_FIGURE.links or i == j
            assert A[i, j] == float(figs[i] == figs[j] and linked)


def test_loss_backpropagates_to_every_head(split):
    torch.manual_seed(0)
    m = KLPNet(KLPConfig(stages=2, width=8, embed_dim=4))
    tg = build_targets(split["keypoints"][:4], split["count"][:4], split["occluded"][:4], 2)
    loss, parts = compute_loss(m, m(to_input(split["images"][:4])), tg, {}, adjacency())
    loss.backward()
    assert set(parts) == {"heat", "off", "type", "link"} and all(np.isfinite(list(parts.values())))
    for p in (m.types.weight, m.embed.weight, m.stages[1].heat.weight, m.link_bias):
        assert p.grad is not None and float(p.grad.abs().sum()) > 0


def test_evaluation_is_perfect_on_ideal_outputs(split):
    from keypoint_trainer.metrics.grouping import evaluate_outputs

    outs = {k: [] for k in ("heatmap", "offsets", "types", "embeddings")}
    for n in range(len(split["images"])):
        o = synthetic_outputs([split["keypoints"][n, f] / 128 for f in range(split["count"][n])])
        for k in outs:
            outs[k].append(o[k])
    res = evaluate_outputs({k: np.stack(v) for k, v in outs.items()}, split, GroupingSpec(link_bias=-4.0))
    a = res["all"]
    assert a["pck_oracle_id"]["0.1"] == 1.0 and a["figure_accuracy_oracle_id"] == 1.0
    # below 1 only where keypoints of overlapping figures fall into neighbouring cells (merged peaks)
    assert a["pck_pred_id"]["0.1"] > 0.9 and a["link_f1"] > 0.9
    assert set(res["by_level"]) <= set(LEVELS)


def test_fixture_export_manifest_and_golden_grouping(tmp_path):
    import onnx

    from keypoint_trainer.core.manifest import validate_manifest
    from keypoint_trainer.experiments.multi.export import build_multi_fixture

    build_multi_fixture(tmp_path, name="multi", version="1", seed=0)
    m = json.loads((tmp_path / "manifest.json").read_text())
    validate_manifest(m, tmp_path)
    assert m["task"] == "multi" and m["grouping"]["method"] == "link_prediction" and m["golden_file"] == "golden.json"
    g = onnx.load(str(tmp_path / "model.onnx")).graph
    assert [o.name for o in g.output] == ["heatmap", "offsets", "types", "embeddings", "head_offsets"]
    assert m["grouping"]["head_vote"]["output"] == "head_offsets"
    golden = json.loads((tmp_path / "golden.json").read_text())
    spec = GroupingSpec.from_manifest(m["grouping"])
    for s in golden["samples"] + golden["grouping_cases"]:
        outs = {k: np.frombuffer(base64.b64decode(v["data_b64"]), "<f4").reshape(v["shape"])
                for k, v in s["outputs"].items()}
        if s in golden["samples"]:
            outs = {k: v[0] for k, v in outs.items()}
        sp = GroupingSpec.from_manifest(s["spec"]) if "spec" in s else spec
        again = group(outs, sp, m["skeleton"], 5).to_json(m["keypoints"])
        assert again == s["grouping"]
    assert any(len(c["grouping"]["instances"]) >= 2 for c in golden["grouping_cases"])
    assert any(c["grouping"]["outliers"] for c in golden["grouping_cases"])
    # the vote vetoes links of the untrained fixture that the embeddings alone would make
    for s in golden["samples"]:
        outs = {k: np.frombuffer(base64.b64decode(v["data_b64"]), "<f4").reshape(v["shape"])[0]
                for k, v in s["outputs"].items()}
        plain = group(outs, GroupingSpec(**{**spec.__dict__, "head_vote": None}), m["skeleton"], 5)
        assert sum(len(i.links) for i in plain.instances) > sum(len(i["links"]) for i in s["grouping"]["instances"]) > 0


def test_figure_link_targets_are_membership_and_unknown_kinds_are_refused():
    figs, tys = np.array([0, 0, 0, 1, 1]), np.array([0, 1, 2, 0, 3])
    A = link_targets(figs, tys, adjacency(), "figure")
    assert A[1, 2] == 1 and A[0, 3] == 0 and np.all(np.diag(A) == 1)
    assert link_targets(figs, tys, adjacency())[1, 2] == 0  # two hands: no skeleton link
    with pytest.raises(ValueError, match="link_target"):
        link_targets(figs, tys, adjacency(), "nearest")


def test_training_records_a_validation_curve_and_keeps_training_mode(split, tmp_path):
    from keypoint_trainer.core.config import load_config
    from keypoint_trainer.experiments.multi.train import train_model
    from keypoint_trainer.experiments.multi.validation import GroupingValidation

    cfg = load_config("quick", [], family="multi", default_extends="full")
    cfg["run"]["out_dir"] = str(tmp_path)
    cfg["model"].update(width=8, embed_dim=4)
    cfg["train"].update(steps=3, batch_size=2, checkpoint_every=0, link_target="figure")
    hook = GroupingValidation(cfg, split, every=2)
    modes = []
    original = hook.measure
    hook.measure = lambda fit: (row := original(fit), modes.append(fit.model.training))[0]
    log = train_model(cfg, "main", 1, split, hooks=[hook], log=lambda *a: None)
    assert [r["step"] for r in log["validation"]] == [2, 3] and modes == [True, True]
    for r in log["validation"]:
        assert 0 <= r["pck_pred_id"] <= r["pck_oracle_id"] <= 1 and 0 <= r["detection_type_accuracy"] <= 1


def test_training_to_the_plateau_of_predicted_identity_pck_stops_early(split, tmp_path):
    from keypoint_trainer.core.config import load_config
    from keypoint_trainer.experiments.multi.report import _schedule
    from keypoint_trainer.experiments.multi.train import train_model
    from keypoint_trainer.experiments.multi.validation import GroupingValidation

    cfg = load_config("quick", [], family="multi", default_extends="full")
    cfg["run"]["out_dir"] = str(tmp_path)
    cfg["model"].update(width=8, embed_dim=4)
    # a plateau of one evaluation and no rate drop: the first evaluation that does not beat the
    # best by 1 % ends the run, long before the 40-step budget
    cfg["train"].update(steps=40, batch_size=2, checkpoint_every=0, val_every=1, lr_drops=[], plateau_patience=1,
                        plateau_drops=0)
    log = train_model(cfg, "main", 1, split, hooks=[GroupingValidation(cfg, split, every=1)], log=lambda *a: None)
    pck = [r["pck_pred_id"] for r in log["validation"]]
    assert log["steps"] == len(pck) < 40 and "plateau" in log["stop_reason"]
    assert pck[-1] <= max(pck[:-1]) * 1.01 and (tmp_path / "main" / "model.pth").is_file()
    assert f"{log['steps']} steps (at most 40" in _schedule(cfg, log)
    cfg["train"]["val_every"] = 0
    with pytest.raises(ValueError, match="needs a validation curve"):
        train_model(cfg, "other", 1, split, log=lambda *a: None)


def test_error_breakdown_names_the_cause_of_each_miss():
    from keypoint_trainer.experiments.multi.errors import CAUSES, breakdown

    figs = [np.array([[0.2, 0.2], [0.1, 0.35], [0.3, 0.35], [0.15, 0.5], [0.25, 0.5]]),
            np.array([[0.7, 0.2], [0.6, 0.35], [0.8, 0.35], [0.65, 0.5], [0.75, 0.5]])]
    outs = {k: v[None] for k, v in synthetic_outputs(figs).items()}  # a batch of one image
    data = {"images": np.zeros((1, 128, 128), np.uint8), "keypoints": np.full((1, 4, 5, 2), np.nan),
            "count": np.array([2]), "occluded": np.zeros((1, 4, 5), bool)}
    data["keypoints"][0, :2] = np.stack(figs) * 128
    spec = GroupingSpec(link_scale=1.0, link_bias=-2.0)
    perfect = breakdown(outs, data, spec)
    assert perfect["visible_keypoints_found"] == 10 and perfect["correct"] == 1.0
    # the second figure's right foot typed as a left foot: that keypoint is lost to its type
    outs["types"][0, :, 31:34, 47:50] = 0.0
    outs["types"][0, 3, 31:34, 47:50] = 1.0
    r = breakdown(outs, data, spec)
    assert r["wrong_type"] == 0.1 and r["correct"] == 0.9 and sum(r[c] for c in CAUSES) == pytest.approx(0.1)


def test_error_breakdown_by_level_selects_each_levels_images():
    from keypoint_trainer.experiments.multi.errors import _by_level

    levels = _by_level({"level": np.array([2, 0, 2, 1, 2])})
    assert [(lv, idx.tolist()) for lv, idx in levels] == [("none", [1]), ("slight", [3]), ("heavy", [0, 2, 4])]
    assert [lv for lv, _ in _by_level({"level": np.array([0, 0])})] == ["none"]  # absent levels are left out


def test_head_offset_targets_point_from_each_cell_to_the_figures_head():
    # two figures far apart (px); the second one's head is hidden, its limbs still point at it
    figs = np.array([[[30, 20], [20, 35], [40, 35], [25, 55], [35, 55]],
                     [[90, 70], [80, 85], [100, 85], [85, 105], [95, 105]]], np.float64)
    kp = np.full((1, 4, 5, 2), np.nan)
    kp[0, :2] = figs
    occ = np.zeros((1, 4, 5), bool)
    occ[0, 1, 0] = True
    tg = build_targets(kp, np.array([2]), occ, 1)
    mask = tg["offset_mask"][0, 0] > 0
    assert mask.sum() == 9 * 9 and not tg["head_offsets"][0][:, ~mask].any()
    ys, xs = np.nonzero(mask)
    votes = np.stack([xs + tg["head_offsets"][0, 0, ys, xs], ys + tg["head_offsets"][0, 1, ys, xs]], 1)  # cells
    heads = figs[:, 0] / 2 - 0.5
    owner = (xs > 32).astype(int)  # figure 1 lies right of cell 32
    assert np.allclose(votes, heads[owner], atol=1e-4)
    assert (owner == 1).sum() == 4 * 9  # the hidden head has no cells of its own


def test_head_offsets_are_optional_in_the_model_and_its_export():
    from keypoint_trainer.models.klp import KLPNetExport, export_output_names

    torch.manual_seed(0)
    plain = KLPNet(KLPConfig(stages=1, width=8, embed_dim=4))
    torch.manual_seed(0)
    geo = KLPNet(KLPConfig(stages=1, width=8, embed_dim=4, head_offsets=True))
    assert not any(k.startswith("head_offsets") for k in plain.state_dict())  # old checkpoints load unchanged
    extra = set(geo.state_dict()) - set(plain.state_dict())
    assert extra == {"head_offsets.weight", "head_offsets.bias"}
    assert all(torch.equal(v, geo.state_dict()[k]) for k, v in plain.state_dict().items())  # same init otherwise
    x = torch.zeros(2, 1, 128, 128)
    assert "head_offsets" not in plain(x) and geo(x)["head_offsets"].shape == (2, 2, 64, 64)
    assert export_output_names(plain.cfg) == ("heatmap", "offsets", "types", "embeddings")
    assert export_output_names(geo.cfg)[-1] == "head_offsets" and len(KLPNetExport(geo.eval())(x)) == 5
    assert KLPConfig(**{k: v for k, v in plain.cfg.to_dict().items() if k != "head_offsets"}) == plain.cfg


def test_head_offset_loss_is_smooth_l1_in_the_offset_cells_and_weighted(split):
    torch.manual_seed(0)
    m = KLPNet(KLPConfig(stages=1, width=8, embed_dim=4, head_offsets=True))
    tg = build_targets(split["keypoints"][:4], split["count"][:4], split["occluded"][:4], 1)
    out = m(to_input(split["images"][:4]))
    loss, parts = compute_loss(m, out, tg, {"head_offset_weight": 0.0}, adjacency())
    mask = torch.from_numpy(tg["offset_mask"])
    expected = (torch.nn.functional.smooth_l1_loss(out["head_offsets"], torch.from_numpy(tg["head_offsets"]),
                                                   reduction="none") * mask).sum() / mask.sum() / 2
    assert parts["head"] == pytest.approx(float(expected), rel=1e-6)
    weighted, _ = compute_loss(m, out, tg, {"head_offset_weight": 2.0}, adjacency())
    assert float(weighted - loss) == pytest.approx(2.0 * parts["head"], rel=1e-5)
    weighted.backward()
    assert float(m.head_offsets.weight.grad.abs().sum()) > 0


def test_votes_regroup_a_split_whose_embeddings_cannot_tell_figures_apart(split):
    from keypoint_trainer.codecs.grouping import HeadVote, all_type_pairs
    from keypoint_trainer.metrics.grouping import evaluate_outputs

    outs = {k: [] for k in ("heatmap", "offsets", "types", "embeddings", "head_offsets")}
    for n in range(len(split["images"])):
        figs = [split["keypoints"][n, f] / 128 for f in range(split["count"][n])]
        o = synthetic_outputs(figs, heads=[f[0] for f in figs], embedding_ids=[0] * len(figs))
        for k in outs:
            outs[k].append(o[k])
    outs = {k: np.stack(v) for k, v in outs.items()}
    plain = GroupingSpec(link_bias=-4.0, candidate_links=all_type_pairs(5))
    votes = GroupingSpec(**{**plain.__dict__, "head_vote": HeadVote(sigma=0.05, weight=0.5)})
    a, b = (evaluate_outputs(outs, split, s)["all"] for s in (plain, votes))
    assert b["figure_accuracy"] > a["figure_accuracy"] and b["pck_pred_id"]["0.1"] > 0.9 > a["pck_pred_id"]["0.1"]
    # the oracle-identity figure accuracy reads the detections only: the ceiling of every grouping
    assert a["figure_accuracy_oracle_id"] == b["figure_accuracy_oracle_id"] == 1.0 > a["figure_accuracy"]


def test_head_vote_spec_needs_a_head_offset_model_and_calibrates_sigma_and_weight():
    from keypoint_trainer.core.config import load_config
    from keypoint_trainer.experiments.multi.evaluate import grouping_spec, vote_grid
    from keypoint_trainer.experiments.multi.train import build_model

    geo = load_config("geo", [], family="multi", default_extends="full")
    full = load_config("full", [], family="multi")
    assert geo["model"]["head_offsets"] and geo["train"]["steps"] == full["train"]["steps"]
    assert not full["model"].get("head_offsets") and "head_vote" not in full["grouping"]
    for c in (geo, full):
        c["model"].update(width=8, stages=1)
    model, plain = build_model(geo), build_model(full)
    assert grouping_spec(full, plain).head_vote is None and vote_grid(full, plain) == [{}]
    assert grouping_spec(full, model).head_vote is None  # head offsets without the table: not used
    spec = grouping_spec(geo, model, {"link_threshold": 0.2, "head_vote": {"sigma": 0.08, "weight": 0.25}})
    assert (spec.link_threshold, spec.head_vote.sigma, spec.head_vote.weight, spec.head_vote.output) == (
        0.2, 0.08, 0.25, "head_offsets")
    assert grouping_spec(geo, model).head_vote.sigma == geo["grouping"]["head_vote"]["sigma"]
    grid = vote_grid(geo, model)
    assert len(grid) == len(geo["grouping"]["calibrate_vote_sigma"]) * len(geo["grouping"]["calibrate_vote_weight"])
    assert {"sigma": 0.04, "weight": 0.0} in grid
    with pytest.raises(ValueError, match="head_offsets = true"):
        grouping_spec(geo, plain)
