"""Why HSJP puzzle precision stays at zero on stick figures: most puzzle patches carry no ink.

A patch with no figure or distractor ink shows only background (a level, a gradient, noise), so
two such patches can trade places without changing what the network sees. A solver that places
every inked patch perfectly must still guess the blank ones: with k blank patches it solves
the image with probability 1/k!. This measures, on the held-out test images (the generator's
own ink masks; no model involved), the blank patches per image and that ceiling for N = 2..6:

    PYTHONPATH=src/Training /usr/bin/python3 -m keypoint_trainer.experiments.hsjp.ambiguity [--images 300]

(The background gradient could in principle order blank patches along its direction, never
across it, so the ceiling stays far below 1 wherever several blank patches share a row across
the gradient; the measured precision of every run is below even this bound.)
"""
from __future__ import annotations

import argparse
import math

import numpy as np

from ...data.stick.generator import GeneratorConfig, render_layers
from ...codecs.jigsaw import patch_size

INK = 0.05          # coverage below this everywhere in a patch = no visible stroke
TEST_SEED = 3003    # the stick-figure test split (configs/stick/full.toml)


def patch_ink(ink: np.ndarray, n: int) -> np.ndarray:
    """bool [N^2] (row-major patch index, as the puzzle's original patches): the patch shows ink."""
    size = ink.shape[-1]
    p = patch_size(size, n)
    padded = np.pad(ink, ((0, n * p - size), (0, n * p - size)))
    return np.array([padded[r * p:(r + 1) * p, c * p:(c + 1) * p].max() >= INK for r in range(n) for c in range(n)])


def blank_patches(ink: np.ndarray, n: int) -> int:
    """Patches of an N x N puzzle (padded as ``shuffle_patches`` pads) without ink."""
    return int((~patch_ink(ink, n)).sum())


def ink_masks(images: int, seed: int = TEST_SEED, g: GeneratorConfig = GeneratorConfig()) -> list[np.ndarray]:
    """Figure and distractor ink of the first ``images`` images of a split (the generator's own layers)."""
    inks = []
    for i in range(images):
        layers = render_layers(seed, i, g)[-1]
        inks.append(np.maximum(layers.figure, layers.distractors))
    return inks


def inked_patches(images: int, n: int, seed: int = TEST_SEED) -> np.ndarray:
    """bool [images, N^2]: which original patches of each image carry ink (puzzle evaluation)."""
    return np.stack([patch_ink(m, n) for m in ink_masks(images, seed)])


def measure(images: int, ns=(2, 3, 4, 5, 6), seed: int = TEST_SEED) -> list[dict[str, float]]:
    inks = ink_masks(images, seed)
    rows = []
    for n in ns:
        k = np.array([blank_patches(m, n) for m in inks])
        rows.append({"n": n, "patches": n * n, "mean_blank": float(k.mean()), "share_at_most_one_blank": float(np.mean(k <= 1)),
                     "precision_ceiling": float(np.mean([1.0 / math.factorial(b) for b in k]))})
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=300, help="test images to measure (default 300)")
    args = ap.parse_args(argv)
    print("| N | patches | blank patches per image (mean) | images with at most one blank patch | puzzle-precision ceiling |")
    print("|---|---|---|---|---|")
    for r in measure(args.images):
        print(f"| {r['n']} | {r['patches']} | {r['mean_blank']:.2f} | {r['share_at_most_one_blank']:.3f} | {r['precision_ceiling']:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
