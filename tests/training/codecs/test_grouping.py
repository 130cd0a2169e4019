"""Reference grouping: peaks, link scoring, assembly, outliers (keypoint_trainer/codecs/grouping.py)."""
import math

import numpy as np
import pytest

from keypoint_trainer.core.keypoints import STICK_FIGURE
from keypoint_trainer.codecs.grouping import (Detection, GroupingSpec, HeadVote, Retype, all_type_pairs, assign_types,
                                            find_peaks, group, synthetic_outputs)

LINKS = STICK_FIGURE.links
IDEAL = GroupingSpec(link_scale=1.0, link_bias=-4.0)


def figure(cx, cy, s=0.1):
    """Normalised keypoints head, left_hand, right_hand, left_foot, right_foot around (cx, cy)."""
    return np.array([[cx, cy - s], [cx + s, cy - 0.2 * s], [cx - s, cy - 0.2 * s], [cx + 0.5 * s, cy + s],
                     [cx - 0.5 * s, cy + s]])


def test_peaks_threshold_plateau_and_order():
    h = np.zeros((3, 5))
    h[1, 1] = h[1, 2] = 1.0  # plateau: only the first in row-major order
    h[2, 4] = 0.5
    h[0, 4] = 0.2
    assert find_peaks(h, 0.3, 10) == [(1.0, 6), (0.5, 14)]
    assert find_peaks(h, 0.1, 10)[-1] == (0.2, 4)
    assert find_peaks(h, 0.3, 1) == [(1.0, 6)]


def _peaks_loop(h, threshold):
    H, W = h.shape
    out = []
    for y in range(H):
        for x in range(W):
            v = h[y, x]
            if v < threshold:
                continue
            good = True
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    yy, xx = y + dy, x + dx
                    if (dx or dy) and 0 <= yy < H and 0 <= xx < W:
                        earlier = dy < 0 or (dy == 0 and dx < 0)
                        good &= bool(v > h[yy, xx]) if earlier else bool(v >= h[yy, xx])
            if good:
                out.append((float(v), y * W + x))
    return sorted(out, key=lambda p: (-p[0], p[1]))


def test_vectorised_peaks_equal_the_loop_definition():
    rng = np.random.default_rng(0)
    for _ in range(5):
        h = np.round(rng.uniform(0, 1, (16, 20)), 1)  # many ties and plateaus
        assert find_peaks(h, 0.3, 1000) == _peaks_loop(h, 0.3)


def test_link_scores_are_the_inner_product_decoder():
    outs = synthetic_outputs([figure(0.3, 0.3), figure(0.7, 0.7)], embed_dim=4)
    rng = np.random.default_rng(0)
    outs["embeddings"] = rng.normal(0, 0.5, outs["embeddings"].shape).astype(np.float32)
    spec = GroupingSpec(link_scale=2.0, link_bias=-1.0, link_threshold=0.0)
    r = group(outs, spec, LINKS)
    W = outs["heatmap"].shape[-1]
    z = np.stack([outs["embeddings"][:, d.cell // W, d.cell % W] for d in r.detections]).astype(np.float64)
    assert np.allclose(r.link_scores, 1 / (1 + np.exp(-(2.0 * z @ z.T - 1.0))), atol=1e-12)
    assert np.allclose(r.link_scores, r.link_scores.T)


def test_ideal_outputs_group_into_figures_with_exact_positions():
    figs = [figure(0.25, 0.3), figure(0.7, 0.35, 0.12), figure(0.45, 0.75, 0.08)]
    r = group(synthetic_outputs(figs), IDEAL, LINKS)
    assert len(r.detections) == 15 and r.outliers == []
    assert len(r.instances) == 3
    for inst in r.instances:
        assert sorted(inst.keypoints) == [0, 1, 2, 3, 4] and len(inst.links) == 4
        head = np.array([r.detections[inst.keypoints[0]].x, r.detections[inst.keypoints[0]].y])
        f = min(figs, key=lambda g: np.linalg.norm(g[0] - head))
        for t, i in inst.keypoints.items():
            assert r.detections[i].x == pytest.approx(f[t, 0], abs=1e-6)
            assert r.detections[i].y == pytest.approx(f[t, 1], abs=1e-6)
        assert inst.score == pytest.approx((sum(r.detections[i].score for i in inst.keypoints.values())
                                           + sum(l[3] for l in inst.links)) / 9, abs=1e-12)
    kp, present, scores = r.instance_arrays(5)
    assert present.all() and list(scores) == sorted(scores, reverse=True)


def test_strays_and_type_conflicts_become_outliers():
    figs = [figure(0.3, 0.3)]
    # a stray left hand with no embedding, and a second left hand with the figure's embedding
    outs = synthetic_outputs(figs, extra=[(0.8, 0.8, 1)])
    r = group(outs, IDEAL, LINKS)
    assert len(r.instances) == 1 and len(r.outliers) == 1
    assert r.detections[r.outliers[0]].x == pytest.approx(0.8, abs=1e-6)
    twin = synthetic_outputs([figs[0], np.vstack([figs[0][:1] + 9, [[0.36, 0.24]], figs[0][2:] + 9])])
    # only the second figure's left hand is inside the image; it shares embedding 1, not the first figure's
    r2 = group(twin, IDEAL, LINKS)
    assert len(r2.instances) == 1 and len(r2.outliers) == 1


def test_geometry_threshold_and_min_keypoints():
    f = figure(0.3, 0.3)
    far = f.copy()
    far[4] = [0.95, 0.95]  # right foot far from the head
    outs = synthetic_outputs([far])
    r = group(outs, GroupingSpec(**{**IDEAL.__dict__, "max_link_length": 0.3}), LINKS)
    assert len(r.instances) == 1 and len(r.instances[0].keypoints) == 4 and len(r.outliers) == 1
    r = group(outs, GroupingSpec(**{**IDEAL.__dict__, "link_threshold": 0.9999999}), LINKS)
    assert r.instances == [] and len(r.outliers) == 5
    r = group(outs, GroupingSpec(**{**IDEAL.__dict__, "min_keypoints": 6}), LINKS)
    assert r.instances == []


def test_json_form_names_keypoints_and_links():
    r = group(synthetic_outputs([figure(0.4, 0.4)]), IDEAL, LINKS)
    j = r.to_json(STICK_FIGURE.keypoints)
    inst = j["instances"][0]
    assert [k["name"] for k in inst["keypoints"]] == list(STICK_FIGURE.keypoints)
    assert sorted(tuple(l["pair"]) for l in inst["links"]) == sorted(LINKS)
    assert math.isclose(inst["score"], r.instances[0].score)


def test_all_type_pairs_join_a_figure_whose_head_is_missed():
    f = figure(0.4, 0.4)
    f[0] = np.nan  # head not detected
    outs = synthetic_outputs([f])
    star = group(outs, IDEAL, LINKS)
    assert star.instances == [] and len(star.outliers) == 4
    spec = GroupingSpec(**{**IDEAL.__dict__, "candidate_links": all_type_pairs(5)})
    r = group(outs, spec, LINKS)
    assert len(r.instances) == 1 and sorted(r.instances[0].keypoints) == [1, 2, 3, 4] and r.outliers == []
    assert len(r.instances[0].links) == 3 and r.links == [tuple(p) for p in all_type_pairs(5)]
    pairs = {tuple(l["pair"]) for l in r.to_json(STICK_FIGURE.keypoints)["instances"][0]["links"]}
    assert pairs and all(0 not in p for p in pairs)
    assert spec.to_manifest()["candidate_links"] == all_type_pairs(5) and "candidate_links" not in IDEAL.to_manifest()
    assert GroupingSpec.from_manifest(spec.to_manifest()) == spec


VOTES = GroupingSpec(**{**IDEAL.__dict__, "candidate_links": all_type_pairs(5), "head_vote": HeadVote(sigma=0.05, weight=0.5)})


def overlapping_pair():
    """Two overlapping figures (heads 0.15 apart) with one embedding: only their head votes differ."""
    figs = [figure(0.42, 0.45, 0.15), figure(0.55, 0.52, 0.15)]
    return figs, synthetic_outputs(figs, heads=[f[0] for f in figs], embedding_ids=[0, 0])


def as_figures(r):
    return sorted(tuple(tuple(np.round([r.detections[i].x, r.detections[i].y], 6)) for _, i in sorted(inst.keypoints.items()))
                  for inst in r.instances)


def test_head_votes_separate_overlapping_figures_the_embeddings_cannot():
    figs, outs = overlapping_pair()
    truth = sorted(tuple(tuple(np.round(p, 6)) for p in f) for f in figs)
    plain = group(outs, GroupingSpec(**{**VOTES.__dict__, "head_vote": None}), LINKS)
    assert as_figures(plain) != truth  # every cross-figure pair scores as high as a true one
    r = group(outs, VOTES, LINKS)
    assert as_figures(r) == truth and r.outliers == []
    for inst in r.instances:  # a figure's detections all vote for its head
        head = r.detections[inst.keypoints[0]]
        assert all(np.allclose(r.votes[i], (head.x, head.y), atol=1e-6) for i in inst.keypoints.values())


def test_vote_score_formula_head_votes_for_itself_and_weight_zero_is_the_embeddings():
    figs, outs = overlapping_pair()
    rng = np.random.default_rng(1)
    outs["head_offsets"] = (outs["head_offsets"] + rng.normal(0, 2, outs["head_offsets"].shape)).astype(np.float32)
    plain = group(outs, GroupingSpec(**{**VOTES.__dict__, "head_vote": None}), LINKS)
    r = group(outs, VOTES, LINKS)
    W = outs["heatmap"].shape[-1]
    for d, v in zip(r.detections, r.votes):
        y, x = divmod(d.cell, W)
        expect = (d.x, d.y) if d.type == 0 else ((x + 0.5 + outs["head_offsets"][0, y, x]) / W,
                                                  (y + 0.5 + outs["head_offsets"][1, y, x]) / W)
        assert v == pytest.approx(expect, abs=1e-12)
    v = np.array(r.votes)
    d2 = ((v[:, None] - v[None]) ** 2).sum(-1)
    assert np.allclose(r.link_scores, plain.link_scores ** 0.5 * np.exp(-0.5 * d2 / (2 * 0.05 ** 2)), rtol=1e-12)
    off = GroupingSpec(**{**VOTES.__dict__, "head_vote": HeadVote(sigma=0.05, weight=0.0)})
    zero = group(outs, off, LINKS)
    assert np.array_equal(zero.link_scores, plain.link_scores)  # bit for bit
    assert zero.to_json(STICK_FIGURE.keypoints)["instances"] == plain.to_json(STICK_FIGURE.keypoints)["instances"]


def test_head_vote_in_the_manifest_and_its_output():
    m = VOTES.to_manifest()
    assert m["head_vote"] == {"output": "head_offsets", "head_type": 0, "sigma": 0.05, "weight": 0.5}
    assert GroupingSpec.from_manifest(m) == VOTES and "head_vote" not in IDEAL.to_manifest()
    assert VOTES.output_names[-1] == "head_offsets" and len(IDEAL.output_names) == 4
    _, outs = overlapping_pair()
    del outs["head_offsets"]
    with pytest.raises(KeyError, match="head_offsets"):
        group(outs, VOTES, LINKS)
    j = group(overlapping_pair()[1], VOTES, LINKS).to_json(STICK_FIGURE.keypoints)
    assert all(len(d["vote"]) == 2 for d in j["detections"])
    assert "vote" not in group(overlapping_pair()[1], IDEAL, LINKS).to_json(STICK_FIGURE.keypoints)["detections"][0]


def test_published_multi_groups_bit_for_bit_as_when_it_was_exported():
    """The published model (head votes, retype) regroups its golden samples exactly as when it was exported."""
    import base64
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parents[3] / "models" / "multi" / "6"
    manifest = json.loads((root / "manifest.json").read_text())
    golden = json.loads((root / "golden.json").read_text())
    spec = GroupingSpec.from_manifest(manifest["grouping"])
    assert spec.head_vote is not None and spec.head_vote.output == "head_offsets" and spec.retype is not None
    for s in golden["samples"] + golden["grouping_cases"]:
        outs = {k: np.frombuffer(base64.b64decode(v["data_b64"]), "<f4").reshape(v["shape"])
                for k, v in s["outputs"].items()}
        if "spec" not in s:
            outs = {k: v[0] for k, v in outs.items()}
        sp = GroupingSpec.from_manifest(s["spec"]) if "spec" in s else spec
        assert group(outs, sp, manifest["skeleton"], 5).to_json(manifest["keypoints"]) == s["grouping"], s["id"]


RETYPE = GroupingSpec(link_scale=1.0, link_bias=-4.0, candidate_links=all_type_pairs(5), retype=Retype(0.05))


def test_retype_puts_a_mistyped_hand_in_its_own_figure():
    figs = [figure(0.3, 0.3), figure(0.7, 0.7)]
    outs = synthetic_outputs(figs, mistyped=[(0, 1, 3, 0.6)])  # figure 0's left hand reads as a left foot
    plain = group(outs, GroupingSpec(**{**RETYPE.__dict__, "retype": None}), LINKS)
    assert sorted(len(i.keypoints) for i in plain.instances) == [4, 5]
    res = group(outs, RETYPE, LINKS)
    assert [len(i.keypoints) for i in res.instances] == [5, 5]
    for inst in res.instances:
        pts = np.array([[res.detections[d].x, res.detections[d].y] for _, d in sorted(inst.keypoints.items())])
        assert min(np.abs(pts - f).max() for f in figs) < 1e-6  # every keypoint in its own slot
        for link, i, j, _ in inst.links:  # reported under the candidate link of the final types, oriented as it
            assert RETYPE.candidate_links[link] == [next(t for t, d in inst.keypoints.items() if d == e) for e in (i, j)]


def test_retype_changes_nothing_when_every_type_is_right():
    outs = synthetic_outputs([figure(0.3, 0.3), figure(0.7, 0.7)], extra=[(0.5, 0.5, 1)])
    plain = group(outs, GroupingSpec(**{**RETYPE.__dict__, "retype": None}), LINKS)
    res = group(outs, RETYPE, LINKS)
    assert [i.keypoints for i in res.instances] == [i.keypoints for i in plain.instances]
    assert res.outliers == plain.outliers


def test_assign_types_maximises_the_log_probability_within_the_floor():
    def det(*p):
        return Detection(0, 0, 0.0, 0.0, 1.0, int(np.argmax(p)), max(p), tuple(p))
    dets = [det(0.1, 0.6, 0.3), det(0.1, 0.7, 0.2)]
    # both most likely type 1: the surer one keeps it, the other takes type 2 (0.7 * 0.3 > 0.6 * 0.2)
    assert assign_types([0, 1], dets, 0.05) == {1: 1, 2: 0}
    assert assign_types([0, 1], dets, 0.35) is None           # the second choice is below the floor
    assert assign_types([0], dets, 0.05) == {1: 0}
    tie = [det(0.5, 0.5), det(0.5, 0.5)]
    assert assign_types([0, 1], tie, 0.05) == {0: 0, 1: 1}    # ties: the first assignment found
    assert assign_types([0, 1, 2], tie + tie[:1], 0.05) is None  # three detections, two types


def test_retype_round_trips_through_the_manifest():
    d = RETYPE.to_manifest()
    assert d["retype"] == {"min_probability": 0.05}
    assert GroupingSpec.from_manifest(d) == RETYPE
    assert "retype" not in GroupingSpec().to_manifest()
