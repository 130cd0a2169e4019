"""ONNX export, manifest (task ``multi``) and golden samples of the multi-figure model.

``model.onnx`` (opset 17, dynamic batch) takes ``image`` [N, 1, 128, 128] (raw / 255) and
returns ``heatmap`` [N, 1, 64, 64] (sigmoid), ``offsets`` [N, 2, 64, 64] (cells),
``types`` [N, 5, 64, 64] (softmax), ``embeddings`` [N, D, 64, 64] and, for a model with head offsets,
``head_offsets`` [N, 2, 64, 64] (cells). The manifest's
``grouping`` object names these outputs and carries the grouping parameters (including the
learnt link scale and bias); ``golden.json`` holds, per sample, the raw outputs and the
Python grouping result (``grouping.to_json``), plus ``grouping_cases``: ideal outputs built
from ground truth (``synthetic_outputs``, several figures and stray detections that must
become outliers) with their grouping result, so the C# twin is checked on non-trivial
assemblies even with an untrained fixture.

The manifest references ``golden.json`` through ``golden_file`` (``reference_golden``), so the
service's golden-parity test runs the whole served path (pre-processing, ONNX Runtime,
grouping) against these samples.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np
import torch

from ...codecs.grouping import GroupingSpec, HeadVote, Retype, all_type_pairs, group, synthetic_outputs
from ...codecs.klp import STAGE_KERNELS, kernel_sigma
from ...core.keypoints import STICK_FIGURE
from ...core.manifest import build_manifest, write_json
from ...core.preprocessing import STICK_FIGURE_INPUT, preprocess
from ...engine.export import export_onnx as export_onnx_graph, golden_sample, resized_variant, tensor_b64, write_manifest
from ...models.klp import KLPNet, KLPNetExport, export_output_names



def export_onnx(model: KLPNet, path: Path) -> Path:
    return export_onnx_graph(KLPNetExport(model).eval(), path, STICK_FIGURE_INPUT, export_output_names(model.cfg))


def _case(name: str, outputs: dict[str, np.ndarray], spec: GroupingSpec) -> dict[str, Any]:
    res = group(outputs, spec, STICK_FIGURE.links, STICK_FIGURE.num_keypoints)
    return {"id": name, "outputs": {k: tensor_b64(v) for k, v in outputs.items()},
            "grouping": res.to_json(STICK_FIGURE.keypoints)}


def grouping_cases(spec: GroupingSpec, embed_dim: int) -> list[dict[str, Any]]:
    """Ideal outputs from ground truth with the exported spec's thresholds but a link decoder
    whose scale/bias separate the synthetic embeddings (same figure sigma(16 s + b) high).
    The headless cases drop figure 0's head: with skeleton links its limbs become outliers,
    with all type pairs as candidates they still form one figure. The vote cases add exact head
    offsets (``head_vote``); in the ``shared-embedding`` ones two heavily overlapping figures
    (image 6, box IoU 0.33) have the same embedding, so only the votes can separate them. In the
    ``mistyped`` ones figure 0's left hand reads as a left foot (p 0.6): without ``retype`` it cannot
    join its figure (whose foot slot is taken), with it the figure takes it as its hand."""
    from ...data.multi.generator import MultiConfig, render_multi

    cases = []
    ideal = GroupingSpec(**{**spec.__dict__, "link_scale": 1.0, "link_bias": -4.0, "candidate_links": None,
                            "head_vote": None, "retype": None})
    all_pairs = GroupingSpec(**{**ideal.__dict__, "candidate_links": all_type_pairs(STICK_FIGURE.num_keypoints)})
    votes = GroupingSpec(**{**all_pairs.__dict__, "head_vote": HeadVote(sigma=0.05, weight=0.5)})
    retype = GroupingSpec(**{**all_pairs.__dict__, "retype": Retype(min_probability=0.05)})
    hand_as_foot = ((0, 1, 3, 0.6),)
    # (image, stray detections, spec, figures whose head is not detected, embedding per figure or None, confusions)
    plan = ((0, (), ideal, (), None, ()), (1, ((0.5, 0.5, 1), (0.1, 0.9, 3)), ideal, (), None, ()),
            (5, ((0.3, 0.3, 0),), ideal, (), None, ()), (1, ((0.5, 0.5, 1),), all_pairs, (0,), None, ()),
            (1, (), ideal, (0,), None, ()), (1, ((0.5, 0.5, 1),), votes, (0,), None, ()),
            (6, (), all_pairs, (), (0, 0), ()), (6, (), votes, (), (0, 0), ()),
            (1, (), all_pairs, (), None, hand_as_foot), (1, ((0.5, 0.5, 1),), retype, (), None, hand_as_foot))
    for i, extra, case_spec, headless, embedding_ids, confusions in plan:
        r = render_multi(4242, i, MultiConfig())
        figs = [k / 128.0 for k in r["keypoints"]]
        shown = [np.where(np.arange(len(f))[:, None] == 0, np.nan, f) if n in headless else f for n, f in enumerate(figs)]
        voting = case_spec.head_vote is not None or embedding_ids is not None
        outs = synthetic_outputs(shown, embed_dim=embed_dim, extra=extra, heads=[f[0] for f in figs] if voting else None,
                                 embedding_ids=embedding_ids, mistyped=confusions)
        name = (f"ideal-{i}" + ("-shared-embedding" if embedding_ids else "") + ("-headless" if headless else "")
                + ("-mistyped" if confusions else "") + ("-all-pairs" if case_spec.candidate_links else "")
                + ("-votes" if case_spec.head_vote else "") + ("-retype" if case_spec.retype else ""))
        names = dict(zip(("heatmap", "offsets", "types", "embeddings", "head_offsets"), case_spec.output_names))
        c = _case(name, {names.get(k, k): v for k, v in outs.items()}, case_spec)
        c["spec"] = case_spec.to_manifest()
        c["ground_truth"] = [[[float(a), float(b)] for a, b in f] for f in figs]
        cases.append(c)
    return cases


@torch.no_grad()
def golden(model: KLPNet, spec: GroupingSpec, raws: Sequence[tuple[str, np.ndarray]]) -> dict[str, Any]:
    ex = KLPNetExport(model).eval()
    samples = []
    for sid, raw in raws:
        raw = np.asarray(raw, np.float32)
        x = preprocess(raw, STICK_FIGURE_INPUT)
        outs = [o.numpy().astype(np.float32) for o in ex(torch.from_numpy(x))]
        named = dict(zip(export_output_names(model.cfg), outs))
        res = group({k: v[0] for k, v in named.items()}, spec, STICK_FIGURE.links, STICK_FIGURE.num_keypoints)
        sample = golden_sample(sid, raw, x, named)
        sample["grouping"] = res.to_json(STICK_FIGURE.keypoints)
        samples.append(sample)
    return {"description": "multi: raw input, pre-processed input, raw outputs (batch 1) and the Python reference "
                           "grouping (keypoint_trainer/codecs/grouping.py) in normalised coordinates; "
                           "grouping_cases: ideal outputs from ground truth with their grouping. Tolerances: "
                           "outputs < 1e-4 max abs; grouping coordinates/scores < 1e-9 on the same outputs.",
            "tolerances": {"outputs_max_abs": 1e-4, "grouping_abs": 1e-9},
            "samples": samples, "grouping_cases": grouping_cases(spec, model.cfg.embed_dim)}


def write_model_dir(model: KLPNet, out_dir: Path, spec: GroupingSpec, raws: Sequence[tuple[str, np.ndarray]], *,
                    name: str = "multi", version: str = "0", metrics: Optional[dict] = None,
                    training: Optional[dict] = None, description: Optional[str] = None,
                    reference_golden: bool = True) -> dict[str, Any]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.eval()
    onnx_path = export_onnx(model, out_dir / "model.onnx")
    write_json(out_dir / "golden.json", golden(model, spec, raws))
    heat = {"name": spec.heatmap, "height": 64, "width": 64, "stride": 2.0,
            "sigma": float(kernel_sigma(STAGE_KERNELS[model.cfg.stages - 1]))}
    m = build_manifest(name=name, version=version, task="multi", model_file="model.onnx", model_path=onnx_path,
                       input_spec=STICK_FIGURE_INPUT, skeleton=STICK_FIGURE, heatmaps=heat,
                       decoding={"method": "argmax"}, metrics=metrics, training=training,
                       golden_file="golden.json" if reference_golden else None,
                       description=description or "Multi-figure stick figures: category-implicit heatmap, offsets, "
                       "keypoint types, embeddings" + (", head offsets" if model.cfg.head_offsets else "")
                       + "; link-prediction grouping")
    m["grouping"] = spec.to_manifest()
    return write_manifest(out_dir, m)


def build_multi_fixture(out_dir: Path, *, name: str = "multi", version: str = "1", seed: int = 0) -> None:
    """Seeded *untrained* 2-stage model with head offsets, a head vote and retype in its grouping (the
    service is tested on the newest path, as the published multi/6 is; golden cases without a vote or
    retype cover the paths without); golden samples are three multi-figure images."""
    from ...core.provenance import versions
    from ...data.multi.generator import MultiConfig, render_multi
    from ...models.klp import KLPConfig

    torch.manual_seed(seed)
    model = KLPNet(KLPConfig(stages=2, embed_dim=4, width=16, head_offsets=True)).eval()
    with torch.no_grad():  # larger random heads so types, embeddings and votes vary across the image
        model.types.weight.normal_(0.0, 3.0)
        model.embed.weight.normal_(0.0, 1.0)
        model.head_offsets.weight.normal_(0.0, 3.0)
    # untrained outputs are nearly flat (heat ~0.47-0.48, |z| ~0.2): the thresholds, the link scale
    # and the vote are chosen so that the golden samples still have detections, links and outliers,
    # and the vote vetoes links the embeddings alone would make
    spec = GroupingSpec(peak_threshold=0.479, max_detections=24, link_scale=20.0, link_bias=-2.0,
                        link_threshold=0.5, max_link_length=0.6, min_keypoints=2,
                        head_vote=HeadVote(sigma=0.1, weight=0.5), retype=Retype(min_probability=0.05))
    raws = [(f"fixture-multi-{i:04d}", render_multi(4242, i, MultiConfig())["image"].astype(np.float32))
            for i in range(2)]

    raws.append(("fixture-multi-0000-resized-200x150", resized_variant(raws[0][1].astype(np.uint8))))
    write_model_dir(model, out_dir, spec, raws, name=name, version=version,
                    training={"fixture": True, "trained": False, "seed": seed, "versions": versions(),
                              "command": f"python3 -m keypoint_trainer fixtures --only multi --seed {seed}"},
                    description="FIXTURE: untrained multi-figure model (seeded) for service tests")
