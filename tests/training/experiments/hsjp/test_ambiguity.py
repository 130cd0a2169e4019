"""The blank-patch count behind the HSJP precision ceiling (hsjp/ambiguity.py)."""
import math

import numpy as np

from keypoint_trainer.experiments.hsjp.ambiguity import blank_patches, measure


def test_blank_patches_counts_patches_without_ink():
    ink = np.zeros((128, 128))
    ink[10, 10] = 1.0            # top-left patch of a 2 x 2 puzzle
    ink[100, 20] = 0.5           # bottom-left
    assert blank_patches(ink, 2) == 2
    assert blank_patches(np.zeros((128, 128)), 3) == 9


def test_ceiling_is_the_mean_chance_of_guessing_the_blank_patches():
    rows = {r["n"]: r for r in measure(5, ns=(2, 3))}
    assert rows[3]["mean_blank"] >= rows[2]["mean_blank"]
    assert 0.0 < rows[3]["precision_ceiling"] <= rows[2]["precision_ceiling"] <= 1.0
    assert rows[2]["precision_ceiling"] >= 1.0 / math.factorial(4)


def test_patch_ink_is_row_major_and_the_masks_belong_to_the_split_images():
    from keypoint_trainer.data.stick.generator import GeneratorConfig, render_sample
    from keypoint_trainer.experiments.hsjp.ambiguity import ink_masks, inked_patches, patch_ink

    ink = np.zeros((128, 128))
    ink[100, 20] = 0.5           # bottom-left of a 2 x 2 puzzle: original patch 2
    assert patch_ink(ink, 2).tolist() == [False, False, True, False]
    img = render_sample(3003, 1, GeneratorConfig())[0].astype(np.float64)
    mask = ink_masks(2)[1]
    # ink shows as contrast against the background: inked pixels differ from the blank ones
    assert abs(img[mask > 0.5].mean() - img[mask < 0.01].mean()) > 20
    assert inked_patches(2, 3).shape == (2, 9)
