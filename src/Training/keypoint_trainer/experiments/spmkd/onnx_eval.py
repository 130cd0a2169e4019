"""A minimal evaluator of an exported SPMKD encoder graph (model.onnx) in PyTorch.

There is no onnxruntime for Python on these machines and the training checkpoints are not in
the repository, but the published ONNX file holds every weight. This evaluator runs that exact
graph -- the ops ``torch.onnx`` emitted for :class:`.model.EncoderExport` (opset 17), nothing
more -- so a head can be fitted on the keypoints the *served* model produces. It is checked
against the golden samples' ONNX outputs (tests/training/spmkd/test_posture_head.py); an
unsupported op raises instead of guessing.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F


def _attrs(node) -> dict:
    import onnx

    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _conv(x, w, b=None, *, strides=(1, 1), pads=(0, 0, 0, 0), group=1, dilations=(1, 1), **_):
    if pads[0] != pads[2] or pads[1] != pads[3]:
        raise NotImplementedError("asymmetric Conv padding")
    return F.conv2d(x, w, b, stride=tuple(strides), padding=(pads[0], pads[1]), dilation=tuple(dilations), groups=group)


def _resize(x, roi, scales, sizes=None, *, mode=b"nearest", coordinate_transformation_mode=b"asymmetric",
            nearest_mode=b"floor", **_):
    if (mode, coordinate_transformation_mode, nearest_mode) != (b"nearest", b"asymmetric", b"floor"):
        raise NotImplementedError(f"Resize {mode}/{coordinate_transformation_mode}/{nearest_mode}")
    s = [float(v) for v in scales]
    return F.interpolate(x, scale_factor=(s[2], s[3]), mode="nearest")


def _reduce_sum(x, axes, *, keepdims=1, **_):
    return x.sum(dim=tuple(int(a) for a in axes), keepdim=bool(keepdims))


def _unsqueeze(x, axes, **_):
    for a in sorted(int(v) for v in axes):
        x = x.unsqueeze(a)
    return x


_OPS: dict[str, Callable] = {
    "Conv": _conv,
    "Relu": lambda x, **_: F.relu(x),
    "HardSwish": lambda x, **_: x * torch.clamp(x / 6.0 + 0.5, 0.0, 1.0),
    "HardSigmoid": lambda x, *, alpha=0.2, beta=0.5, **_: torch.clamp(alpha * x + beta, 0.0, 1.0),
    "Mul": lambda a, b, **_: a * b,
    "Add": lambda a, b, **_: a + b,
    "Div": lambda a, b, **_: a / b,
    "GlobalAveragePool": lambda x, **_: x.mean(dim=(2, 3), keepdim=True),
    "Resize": _resize,
    "Softmax": lambda x, *, axis=-1, **_: torch.softmax(x, dim=axis),
    "Reshape": lambda x, shape, **_: x.reshape([int(v) for v in shape]),
    "Shape": lambda x, **_: torch.tensor(list(x.shape), dtype=torch.int64),
    "Gather": lambda x, i, *, axis=0, **_: torch.index_select(x, axis, i.reshape(-1).long()).reshape(
        list(x.shape[:axis]) + list(i.shape) + list(x.shape[axis + 1:])),
    "Concat": lambda *xs, axis=0, **_: torch.cat(list(xs), dim=axis),
    "Cast": lambda x, *, to=1, **_: x.float() if to == 1 else x.long(),
    "ReduceSum": _reduce_sum,
    "Range": lambda start, limit, delta, **_: torch.arange(start.item(), limit.item(), delta.item(),
                                                            dtype=start.dtype),
    "Unsqueeze": _unsqueeze,
}


class OnnxGraph:
    """Loads an ONNX file once; ``run({input: array})`` returns {output name: array}."""

    def __init__(self, path: Path):
        import onnx
        from onnx import numpy_helper

        model = onnx.load(str(path))
        self.graph = model.graph
        self.init = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in model.graph.initializer}
        self.outputs = [o.name for o in model.graph.output]
        self.nodes = []
        for n in model.graph.node:
            if n.op_type == "Constant":
                self.init[n.output[0]] = torch.from_numpy(numpy_helper.to_array(_attrs(n)["value"]).copy())
                continue
            if n.op_type not in _OPS:
                raise NotImplementedError(f"{path}: op {n.op_type} is not supported by this evaluator")
            self.nodes.append((n.op_type, list(n.input), list(n.output), _attrs(n)))

    @torch.no_grad()
    def run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        env = dict(self.init)
        env.update({k: torch.from_numpy(np.array(v, dtype=np.float32)) for k, v in feeds.items()})
        for op, ins, outs, attrs in self.nodes:
            args = [env[i] if i else None for i in ins]
            while args and args[-1] is None:
                args.pop()
            env[outs[0]] = _OPS[op](*args, **attrs)
        return {o: env[o].numpy() for o in self.outputs}
