"""experiments/multi/errors.py: where predicted-identity PCK is lost, by cause, with the wrong-type pairs."""
import numpy as np

from keypoint_trainer.codecs.grouping import GroupingSpec, all_type_pairs, synthetic_outputs
from keypoint_trainer.experiments.multi.errors import breakdown


def figure(cx, cy, s=0.1):
    return np.array([[cx, cy - s], [cx + s, cy - 0.2 * s], [cx - s, cy - 0.2 * s], [cx + 0.5 * s, cy + s],
                     [cx - 0.5 * s, cy + s]])


def test_a_mistyped_hand_is_counted_as_a_wrong_type_with_its_pair():
    figs = [figure(0.3, 0.3), figure(0.7, 0.7)]
    outs = synthetic_outputs(figs, mistyped=[(0, 1, 3, 0.6)])  # figure 0's left hand reads as a left foot
    data = {"images": np.zeros((1, 128, 128), np.uint8), "keypoints": (np.stack(figs) * 128)[None],
            "count": np.array([2]), "occluded": np.zeros((1, 2, 5), bool)}
    spec = GroupingSpec(link_scale=1.0, link_bias=-4.0, candidate_links=all_type_pairs(5))
    r = breakdown({k: v[None] for k, v in outs.items()}, data, spec)
    assert r["visible_keypoints_found"] == 10 and r["correct"] == 0.9 and r["wrong_type"] == 0.1
    assert r["wrong_type_pairs"] == [{"true": "left_hand", "given": "left_foot", "count": 1}]
