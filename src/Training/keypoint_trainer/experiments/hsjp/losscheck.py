"""Where a trained pretext model's loss sits between the trivial and the perfect output.

On held-out augmented pretext samples (the first test images, the training augmentation, a seed
stream no training step reaches), for each pretext loss of codecs/jigsaw.py: the model's loss,
the loss of the all-zero output (MSE: predict nothing; softmax_ce: the uniform distribution)
and the loss of the perfect output (MSE: 0; softmax_ce: the targets' entropy). ``closed`` is
the share of the gap between trivial and perfect that the model has closed (0 = the trivial
solution). Only the loss the run was trained with is meaningful on its output (MSE values of
logits mean nothing), so both are printed but the trained one is the row to read.

    PYTHONPATH=src/Training /usr/bin/python3 -m keypoint_trainer.experiments.hsjp.losscheck \\
        --profile learn-ce --run p3 [--samples 200]

Writes ``{run.out_dir}/{run}/loss_check.json``.
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ...codecs.jigsaw import PRETEXT_LOSSES, softmax_ce_floor
from ...core.config import load_config
from ...core.manifest import write_json


@torch.no_grad()
def loss_check(model: torch.nn.Module, spec, images: np.ndarray, seed: int, batch: int = 32) -> dict[str, Any]:
    from .train import pretext_batch

    model.eval()
    sums = {k: {"model": 0.0, "zero_output": 0.0, "perfect": 0.0} for k in PRETEXT_LOSSES}
    count = 0
    for b in range(0, len(images), batch):
        idx = np.arange(b, min(b + batch, len(images)))
        x, t, m, _ = pretext_batch(images, idx, spec, seed, (1 << 30) + 1, augment=True)
        out = model(x)
        for name, fn in PRETEXT_LOSSES.items():
            sums[name]["model"] += float(fn(out, t, m)) * len(idx)
            sums[name]["zero_output"] += float(fn(torch.zeros_like(t), t, m)) * len(idx)
            sums[name]["perfect"] += (softmax_ce_floor(t, m) if name == "softmax_ce" else 0.0) * len(idx)
        count += len(idx)
    res: dict[str, Any] = {"samples": count, "augment": True}
    for name, s in sums.items():
        r = {k: v / count for k, v in s.items()}
        gap = r["zero_output"] - r["perfect"]
        r["closed"] = (r["zero_output"] - r["model"]) / gap if gap > 0 else None
        res[name] = r
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="learn-ce")
    ap.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--run", default="p3", help="pretext run name (see `hsjp plan`)")
    ap.add_argument("--samples", type=int, default=200)
    args = ap.parse_args(argv)
    from ...data.stick.dataset import load_split
    from .train import load_pretext

    cfg = load_config(args.profile, args.overrides, family="hsjp", default_extends="full")
    model, spec = load_pretext(cfg, args.run)
    # the held-out images of the pretext evaluation: the first test images (labels unused)
    imgs = load_split(load_config(cfg["stick"]["profile"]), "test", subset=args.samples)[0][:, 0].numpy()
    res = loss_check(model, spec, imgs, int(cfg["run"]["seed"]) + 1)
    res.update({"profile": args.profile, "run": args.run, "trained_with": str(cfg["pretext"].get("loss", "mse"))})
    write_json(Path(cfg["run"]["out_dir"]) / args.run / "loss_check.json", res)
    print(f"{args.profile}/{args.run} (trained with {res['trained_with']}), {res['samples']} held-out augmented samples")
    print("| loss | model | all-zero output | perfect output | gap closed |")
    print("|---|---|---|---|---|")
    for name in PRETEXT_LOSSES:
        r = res[name]
        closed = "–" if r["closed"] is None else f"{r['closed']:.3f}"
        print(f"| {name} | {r['model']:.5g} | {r['zero_output']:.5g} | {r['perfect']:.5g} | {closed} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
