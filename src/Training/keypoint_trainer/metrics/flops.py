"""Parameter and FLOP counting (one documented method, plus a cross-check).

Method (``count_macs``): forward hooks on every ``Conv2d``, ``ConvTranspose2d`` and
``Linear`` module, one forward pass of one sample at the model's input size, counting
multiply-accumulates analytically:

* Conv2d: ``H_out * W_out * C_out * (C_in / groups) * k_h * k_w``
* ConvTranspose2d: ``H_in * W_in * C_in * (C_out / groups) * k_h * k_w``
* Linear: ``in_features * out_features`` (per row)

Bias additions, batch norm, activations, pooling, squeeze-excitation gating, softmax and
the soft-argmax are *not* counted (together they are a few per cent). FLOPs are reported as
``2 x MACs``; note that pose papers (e.g. HRNet's "GFLOPs" table, which the SPMKD paper's
reference numbers follow) usually report MACs under the name FLOPs, so both are given.

Cross-check (``profiler_flops``): ``torch.profiler`` with ``with_flops=True`` counts
``aten::conv2d`` / ``addmm`` / ``mm`` FLOPs (2 x MACs) for the same forward pass.
"""
from __future__ import annotations

from typing import Any

import torch
import torch.nn as nn


def count_params(module: nn.Module) -> int:
    return int(sum(p.numel() for p in module.parameters()))


@torch.no_grad()
def count_macs(model: nn.Module, input_shape=(1, 1, 256, 256)) -> dict[str, Any]:
    per_type = {"conv": 0, "conv_transpose": 0, "linear": 0}
    hooks = []

    def conv_hook(m, inp, out):
        n = out.shape[0]
        per_type["conv"] += int(out.numel() // n * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1])

    def convt_hook(m, inp, out):
        x = inp[0]
        n = x.shape[0]
        per_type["conv_transpose"] += int(x.numel() // n * (m.out_channels // m.groups)
                                          * m.kernel_size[0] * m.kernel_size[1])

    def lin_hook(m, inp, out):
        n = inp[0].shape[0]
        per_type["linear"] += int(out.numel() // n * m.in_features)

    for mod in model.modules():
        if isinstance(mod, nn.Conv2d):
            hooks.append(mod.register_forward_hook(conv_hook))
        elif isinstance(mod, nn.ConvTranspose2d):
            hooks.append(mod.register_forward_hook(convt_hook))
        elif isinstance(mod, nn.Linear):
            hooks.append(mod.register_forward_hook(lin_hook))
    was = model.training
    model.eval()
    try:
        model(torch.zeros(input_shape))
    finally:
        for h in hooks:
            h.remove()
        model.train(was)
    macs = sum(per_type.values())
    return {"macs": macs, "flops": 2 * macs, "per_type_macs": per_type, "params": count_params(model),
            "input_shape": list(input_shape)}


@torch.no_grad()
def profiler_flops(model: nn.Module, input_shape=(1, 1, 256, 256)) -> int:
    from torch.profiler import ProfilerActivity, profile

    was = model.training
    model.eval()
    try:
        with profile(activities=[ProfilerActivity.CPU], with_flops=True) as prof:
            model(torch.zeros(input_shape))
    finally:
        model.train(was)
    return int(sum(e.flops for e in prof.key_averages() if e.flops))


def describe(model: nn.Module, input_shape) -> dict[str, Any]:
    d = count_macs(model, input_shape)
    try:
        d["profiler_flops"] = profiler_flops(model, input_shape)
    except Exception as e:  # pragma: no cover - profiler availability
        d["profiler_flops"] = None
        d["profiler_error"] = str(e)
    return d
