#!/usr/bin/env python3
"""Seconds per HeatmapNet training step (32 images of 128 x 128, 64 x 64 heatmaps, MSE, Adam) with a given
number of torch threads: how to spend two cores on the stick-figure runs (scripts/training-queue.sh).
Run it on a quiet machine; to compare two 1-thread processes with one 2-thread process:

    PYTHONPATH=src/Training /usr/bin/python3 scripts/step-threads.py 2
    PYTHONPATH=src/Training /usr/bin/python3 scripts/step-threads.py 1 & PYTHONPATH=src/Training /usr/bin/python3 scripts/step-threads.py 1; wait
"""
import sys
import time

import torch

from keypoint_trainer.models.heatmap_net import HeatmapNet


def main(threads: int, steps: int = 12, warm_up: int = 2) -> None:
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = HeatmapNet()
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    x, y = torch.rand(32, 1, 128, 128), torch.rand(32, 5, 64, 64)
    times = []
    for _ in range(steps):
        t = time.monotonic()
        opt.zero_grad()
        ((model(x) - y) ** 2).mean().backward()
        opt.step()
        times.append(time.monotonic() - t)
    times = sorted(times[warm_up:])
    print(f"{threads} thread(s): median {times[len(times) // 2]:.2f} s per step, range {times[0]:.2f}-{times[-1]:.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
