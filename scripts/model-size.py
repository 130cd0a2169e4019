#!/usr/bin/env python3
"""Parameters and multiply-accumulates of the trained architectures (docs/results/convergence.md):
the stick-figure networks and the SPMKD Encoder-Fuser-Decoder at K = 16 (served) and K = 128 (the
paper's K), counted by keypoint_trainer/metrics/flops.py. --steps N also times N training steps of
a batch of 8 pressure maps per K (one thread; the figure depends on the machine's load).

    PYTHONPATH=src/Training /usr/bin/python3 scripts/model-size.py [--steps 3]
"""
import argparse
import time

import torch

from keypoint_trainer.metrics.flops import count_params, describe
from keypoint_trainer.models.efd import EFD, ModelConfig
from keypoint_trainer.models.heatmap_net import HeatmapNet
from keypoint_trainer.models.regression_net import RegressionNet
from keypoint_trainer.models.simcc_net import SimCCNet


def step_seconds(model: torch.nn.Module, steps: int) -> list[float]:
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    x, times = torch.rand(8, 1, 256, 256), []
    for _ in range(steps):
        t = time.monotonic()
        opt.zero_grad()
        (model(x)["logits"] ** 2).mean().backward()
        opt.step()
        times.append(round(time.monotonic() - t, 2))
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=0, help="time this many SPMKD training steps per K")
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    print("| stick-figure network | parameters |\n|---|---|")
    for name, net in (("RegressionNet", RegressionNet(5)), ("SimCCNet", SimCCNet(5)),
                      ("HeatmapNet", HeatmapNet(5)), ("HeatmapNet + 2 context blocks", HeatmapNet(5, context=2))):
        print(f"| {name} | {count_params(net):,} |")
    print("\n| SPMKD K | encoder parameters | encoder MACs | encoder FLOPs (profiler) | model parameters | s/step |")
    print("|---|---|---|---|---|---|")
    for k in (16, 128):
        model = EFD(ModelConfig(num_keypoints=k))
        d = describe(model.encoder, (1, 1, 256, 256))
        steps = step_seconds(model, args.steps) if args.steps else "-"
        print(f"| {k} | {count_params(model.encoder):,} | {d['macs'] / 1e6:.1f} M | "
              f"{(d['profiler_flops'] or 0) / 1e6:.1f} M | {count_params(model):,} | {steps} |")


if __name__ == "__main__":
    main()
