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
    assert a["pck_oracle_id"]["0.1"] == 1.0
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
    assert [o.name for o in g.output] == ["heatmap", "offsets", "types", "embeddings"]
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
