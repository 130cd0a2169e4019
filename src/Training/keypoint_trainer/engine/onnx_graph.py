"""A minimal evaluator of our exported graphs (model.onnx) in PyTorch.

There is no onnxruntime for Python on these machines and the training checkpoints are not in
the repository, but a published ONNX file holds every weight. This evaluator runs that exact
graph -- the ops ``torch.onnx`` emitted for our exports (opset 17: the SPMKD encoder, HeatmapNet,
RegressionNet and SimCCNet with its in-graph decoding), nothing more -- so the *served* model can
be evaluated or given a head (SPMKD posture, experiments/spmkd/attach_posture.py; stick-figure
models, experiments/stick/published.py). Callers check it against the model's golden samples;
an unsupported op or attribute raises instead of guessing.
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


def _conv_transpose(x, w, b=None, *, strides=(1, 1), pads=(0, 0, 0, 0), group=1, dilations=(1, 1),
                    output_padding=(0, 0), **_):
    if pads[0] != pads[2] or pads[1] != pads[3]:
        raise NotImplementedError("asymmetric ConvTranspose padding")
    return F.conv_transpose2d(x, w, b, stride=tuple(strides), padding=(pads[0], pads[1]),
                              output_padding=tuple(output_padding), groups=group, dilation=tuple(dilations))


def _batch_norm(x, scale, bias, mean, var, *, epsilon=1e-5, training_mode=0, **_):
    if training_mode:
        raise NotImplementedError("BatchNormalization in training mode")
    return F.batch_norm(x, mean, var, scale, bias, training=False, eps=epsilon)


def _max_pool(x, *, kernel_shape, strides=(1, 1), pads=(0, 0, 0, 0), ceil_mode=0, dilations=(1, 1), **_):
    if pads[0] != pads[2] or pads[1] != pads[3]:
        raise NotImplementedError("asymmetric MaxPool padding")
    return F.max_pool2d(x, tuple(kernel_shape), tuple(strides), (pads[0], pads[1]), tuple(dilations),
                        ceil_mode=bool(ceil_mode))


def _gemm(a, b, c=None, *, alpha=1.0, beta=1.0, transA=0, transB=0, **_):
    y = alpha * ((a.T if transA else a) @ (b.T if transB else b))
    return y if c is None else y + beta * c


def _slice(x, starts, ends, axes=None, steps=None, **_):
    axes = list(range(len(starts))) if axes is None else [int(a) % x.dim() for a in axes]
    steps = [1] * len(axes) if steps is None else [int(s) for s in steps]
    index = [slice(None)] * x.dim()
    for a, s, e, st in zip(axes, starts, ends, steps):
        if st <= 0:
            raise NotImplementedError("Slice with a non-positive step")
        index[a] = slice(int(s), min(int(e), x.shape[a]), st)
    return x[tuple(index)]


def _argmax(x, *, axis=0, keepdims=1, select_last_index=0, **_):
    if select_last_index:
        raise NotImplementedError("ArgMax select_last_index")
    return torch.argmax(x, dim=axis, keepdim=bool(keepdims))


def _cast(x, *, to=1, **_):
    kinds = {1: torch.float32, 6: torch.int32, 7: torch.int64, 11: torch.float64}
    if to not in kinds:
        raise NotImplementedError(f"Cast to ONNX type {to}")
    return x.to(kinds[to])


def _reshape(x, shape, *, allowzero=0, **_):
    dims = [int(v) for v in shape]
    if not allowzero:  # 0 copies the input's dimension
        dims = [x.shape[i] if d == 0 else d for i, d in enumerate(dims)]
    return x.reshape(dims)


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
    "ConvTranspose": _conv_transpose,
    "BatchNormalization": _batch_norm,
    "MaxPool": _max_pool,
    "Gemm": _gemm,
    "MatMul": lambda a, b, **_: a @ b,
    "Flatten": lambda x, *, axis=1, **_: x.reshape(int(np.prod(x.shape[:axis])), -1),
    "Sigmoid": lambda x, **_: torch.sigmoid(x),
    "Sub": lambda a, b, **_: a - b,
    "Identity": lambda x, **_: x,  # torch.onnx shares equal initialisers (an untrained BatchNorm's weight and var)
    "Slice": _slice,
    "ArgMax": _argmax,
    "Relu": lambda x, **_: F.relu(x),
    "HardSwish": lambda x, **_: x * torch.clamp(x / 6.0 + 0.5, 0.0, 1.0),
    "HardSigmoid": lambda x, *, alpha=0.2, beta=0.5, **_: torch.clamp(alpha * x + beta, 0.0, 1.0),
    "Mul": lambda a, b, **_: a * b,
    "Add": lambda a, b, **_: a + b,
    "Div": lambda a, b, **_: a / b,
    "GlobalAveragePool": lambda x, **_: x.mean(dim=(2, 3), keepdim=True),
    "Resize": _resize,
    "Softmax": lambda x, *, axis=-1, **_: torch.softmax(x, dim=axis),
    "Reshape": _reshape,
    "Shape": lambda x, **_: torch.tensor(list(x.shape), dtype=torch.int64),
    "Gather": lambda x, i, *, axis=0, **_: torch.index_select(x, axis, i.reshape(-1).long()).reshape(
        list(x.shape[:axis]) + list(i.shape) + list(x.shape[axis + 1:])),
    "Concat": lambda *xs, axis=0, **_: torch.cat(list(xs), dim=axis),
    "Cast": _cast,
    "ReduceSum": _reduce_sum,
    "Range": lambda start, limit, delta, **_: torch.arange(start.item(), limit.item(), delta.item(),
                                                            dtype=start.dtype),
    "Unsqueeze": _unsqueeze,
}


class OnnxGraph:
    """Loads an ONNX file once; ``run({input: array})`` returns {output name: array}; ``inputs`` names the
    graph's inputs."""

    def __init__(self, path: Path):
        import onnx
        from onnx import numpy_helper

        model = onnx.load(str(path))
        self.graph = model.graph
        self.init = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in model.graph.initializer}
        self.outputs = [o.name for o in model.graph.output]
        self.inputs = [i.name for i in model.graph.input if i.name not in self.init]
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
