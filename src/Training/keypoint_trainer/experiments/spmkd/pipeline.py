"""The whole SPMKD experiment: data -> main CRWT run -> ablations -> baseline -> evaluation
-> export -> results.json (rendered by :mod:`.report`).

Profiles (``quick`` for tests and smoke runs, ``full`` for the reported run) fix the data
sizes and step counts; every training stage is resumable, so re-running the same command
continues where it stopped and skips finished stages. Runs, in order of importance (so a
cut-short run still has the most important numbers):

1. ``main``      K=16 (full) CRWT: stage 1 (BCE) -> stage 2 (alpha L2 + beta (1-SSIM))
2. ``scratch``   the same stage 2 without the weight transfer (CRWT ablation)
3. ``baseline``  supervised HeatmapNet trained with the joint labels
4. ``hard``      stage 2 with hard argmax in the fuser, from main's stage 1 (fuser ablation)
5. ``k<K>``      CRWT with other K (same schedule as ``main``)
"""
from __future__ import annotations

import json
import platform
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np

from ...core.config import load_config
from ...core.provenance import git_commit, machine_info, versions
from ...data.pressure import load_dataset, load_pressure_only
from ...data.pressure.splits import DataSpec, build_datasets, data_spec
from .evaluate import evaluation_data
from ...core.errors import ConfigError


@dataclass
class Profile:
    """The ``[train]`` and ``[export]`` tables of an spmkd config (configs/spmkd/*.toml), typed."""
    name: str
    data: str
    batch_size: int
    stage1_steps: int
    stage2_steps: int
    eval_every: int
    k_main: int
    k_ablation: list
    hard_steps: int
    baseline_steps: int
    feature_dim: int = 4
    alpha: float = 10.0
    beta: float = 1.0
    golden: int = 3
    lr1: float = 2e-3
    lr2: float = 1e-3
    plateau_patience: int = 0     # > 0: stages and baseline train to their validation plateau
    plateau_drops: int = 2
    # the posture classifier the export serves: "slp" (fitted on the SLP-like mat's labelled maps only) or
    # "both" (those plus the unfamiliar mat's labelled maps; its manifest metrics are that classifier's)
    posture_mats: str = "slp"

    def to_dict(self):
        return asdict(self)

    @classmethod
    def from_config(cls, cfg: dict[str, Any]) -> "Profile":
        name = cfg["run"]["name"]
        export = cfg.get("export", {})
        mats = str(export.get("posture_mats", "slp"))
        if mats not in ("slp", "both"):
            raise ConfigError(f"export.posture_mats must be 'slp' or 'both', got {mats!r}")
        return cls(name=name, data=name, golden=int(export.get("golden", 3)), posture_mats=mats, **cfg["train"])


def get_profile(name: str, overrides: Optional[dict] = None, settings: Sequence[str] = ()) -> Profile:
    """Profile ``name`` (or a .toml path) with ``--set`` ``settings``; ``overrides`` replace fields."""
    return replace(Profile.from_config(load_config(name, settings, family="spmkd")), **(overrides or {}))


def _train_cfg(p: Profile, k: int, init: str = "crwt", fuser: str = "soft", stage2_steps: Optional[int] = None):
    from ...models.efd import ModelConfig
    from .train import TrainConfig

    return TrainConfig(model=ModelConfig(num_keypoints=k, feature_dim=p.feature_dim, fuser=fuser),
                       stage1_steps=p.stage1_steps, stage2_steps=stage2_steps or p.stage2_steps,
                       batch_size=p.batch_size, eval_every=p.eval_every, alpha=p.alpha, beta=p.beta, init=init,
                       lr1=p.lr1, lr2=p.lr2, plateau_patience=p.plateau_patience, plateau_drops=p.plateau_drops)


def _baseline_cfg(p: Profile):
    from .baseline import BaselineConfig

    return BaselineConfig(steps=p.baseline_steps, batch_size=p.batch_size, eval_every=p.eval_every,
                          plateau_patience=p.plateau_patience, plateau_drops=p.plateau_drops)


def _labelled(path: Path):
    """A split's maps and joints as the baseline's validation data."""
    from ...data.pressure.splits import mat_pitch_cm, mat_shape
    from .baseline import LabelledMaps

    data, info = load_dataset(path)
    rows, cols = mat_shape(info)
    return LabelledMaps(data["pressure"], data["joints"], rows, cols, mat_pitch_cm(info))


def run_names(p: Profile) -> list[str]:
    return ["main", "scratch", "baseline", "hard"] + [f"k{k}" for k in p.k_ablation]


def unfinished_runs(p: Profile, run_root: Path, only: Optional[list[str]] = None) -> list[str]:
    """The runs a ``train`` call would still train: no final marker yet (a CRWT run's ``summary.json``,
    the baseline's ``done.json``)."""
    marker = {"baseline": "done.json"}
    return [n for n in run_names(p)
            if (not only or n in only) and not (Path(run_root) / n / marker.get(n, "summary.json")).is_file()]


def train_all(p: Profile, run_root: Path, data_paths: dict[str, Path], only: Optional[list[str]] = None,
              log=print) -> dict[str, Any]:
    """Train every run of the profile (resumable). SPMKD runs read pressure arrays only. In a
    data-parallel group (engine/distributed.py) rank 0 trains into ``run_root`` and every other rank
    into its own copy ``run_root/ranks/<rank>`` (the runs share stage 1 and read it back)."""
    from ...engine.distributed import from_environment
    from .baseline import train_baseline
    from .train import train_crwt

    run_root = from_environment().own(run_root)

    train_maps = load_pressure_only(data_paths["train"])
    val_maps = load_pressure_only(data_paths["val"])
    out: dict[str, Any] = {}
    walls: dict[str, float] = {}
    for name in run_names(p):
        if only and name not in only:
            continue
        t0 = time.monotonic()
        log(f"=== run {name} ===")
        if name == "main":
            out[name] = train_crwt(run_root / name, _train_cfg(p, p.k_main), train_maps, val_maps, log=log)
        elif name == "scratch":
            out[name] = train_crwt(run_root / name, _train_cfg(p, p.k_main, init="scratch"), train_maps, val_maps,
                                   log=log)
        elif name == "hard":
            out[name] = train_crwt(run_root / name, _train_cfg(p, p.k_main, fuser="hard", stage2_steps=p.hard_steps),
                                   train_maps, val_maps, stage1_dir=run_root / "main" / "stage1", log=log)
        elif name == "baseline":
            data, info = load_dataset(data_paths["train"])  # the supervised baseline reads labels
            m = info["mat"]
            out[name] = train_baseline(run_root / name, _baseline_cfg(p), data["pressure"], data["joints"], m["rows"],
                                       m["cols"], log=log, val=_labelled(data_paths["val"]))
        elif name.startswith("k"):
            out[name] = train_crwt(run_root / name, _train_cfg(p, int(name[1:])), train_maps, val_maps, log=log)
        walls[name] = time.monotonic() - t0
    return {"summaries": out, "session_wall_s": walls}


def loss_trend(train_curve: list, window: int = 100) -> Optional[dict]:
    """Mean training loss of the last ``window`` steps vs the ``window`` before them."""
    losses = [float(e[1]) for e in train_curve]
    if len(losses) < 2 * window:
        return None
    last, prev = float(np.mean(losses[-window:])), float(np.mean(losses[-2 * window:-window]))
    return {"window": window, "previous": prev, "last": last, "falling": last < prev}


def add_loss_trends(res: dict, run_root: Path) -> dict:
    for name, r in res.get("runs", {}).items():
        f = run_root / name / ("curves.json" if name == "baseline" else "stage2/curves.json")
        if f.is_file():
            r["loss_trend"] = loss_trend(json.loads(f.read_text()).get("train", []))
    return res


def _curves(run_dir: Path) -> dict[str, Any]:
    c = {}
    for st in ("stage1", "stage2"):
        f = run_dir / st / "curves.json"
        if f.is_file():
            c[st] = json.loads(f.read_text())
    return c


def _evaluate_baseline(p: Profile, rdir: Path, e: dict[str, Any]) -> dict[str, Any]:
    """The supervised baseline: its 14 joints directly, posture from them, cost and robustness."""
    from ...metrics.flops import describe
    from .baseline import load_baseline, predict_baseline
    from .evaluate import evaluate_joint_predictions

    bcfg = _baseline_cfg(p)
    model = load_baseline(rdir, bcfg)
    t0 = time.monotonic()
    pred = {s: predict_baseline(model, e["dsub"][s]["pressure"], bcfg) for s in ("train", "test", "unf_test")}
    ev = evaluate_joint_predictions(pred, e["dsub"], e["info"], e["pos_local"])
    ev["infer_s"] = time.monotonic() - t0
    ev["summary"] = json.loads((rdir / "done.json").read_text())
    ev["pred_test"] = pred["test"][:4].tolist()
    ev["pred_unf_test"] = pred["unf_test"][:4].tolist()
    ev["complexity"] = {"128": describe(model, (1, 1, 128, 128)), "256": describe(model, (1, 1, 256, 256))}
    ev["robustness"] = _robustness(lambda m: predict_baseline(model, m, bcfg), e["data"], e["info"], None)
    return ev


def _evaluate_spmkd(name: str, rdir: Path, e: dict[str, Any], objects: dict[str, Any]) -> dict[str, Any]:
    """One SPMKD run: linear joint head and posture on its keypoints (soft and hard decoding),
    reconstruction, cost; the main run also robustness and latency (and its objects for the export)."""
    from ...metrics.flops import count_params, describe
    from ...models.efd import EncoderExport
    from ...models.joint_head import apply_linear_head
    from .evaluate import evaluate_keypoints, infer
    from .probe import head_capacity, read_probes
    from .train import load_trained

    keep = {"test": [0, 1, 2, 3], "unf_test": [0, 1, 2, 3]}
    dsub, info = e["dsub"], e["info"]
    model = load_trained(rdir)
    t0 = time.monotonic()
    outs = {s: infer(model, dsub[s]["pressure"], keep=keep.get(s)) for s in ("train", "test", "unf_labelled", "unf_test")}
    ev = evaluate_keypoints({s: o["keypoints"] for s, o in outs.items()}, dsub, info, e["lab_local"], e["pos_local"],
                            refit_split="unf_labelled")
    # hard argmax at inference on the same model (its own linear head)
    evh = evaluate_keypoints({s: o["keypoints_hard"] for s, o in outs.items()}, dsub, info, e["lab_local"],
                             e["pos_local"])
    ev["hard_decode"] = {s: v for s, v in evh["splits"].items()}
    ev["recon"] = {s: {"l2": float(outs[s]["l2"].mean()), "ssim": float(outs[s]["ssim"].mean())}
                   for s in ("test", "unf_test")}
    ev["infer_s"] = time.monotonic() - t0
    ev["summary"] = json.loads((rdir / "summary.json").read_text())
    ev["curves"] = _curves(rdir)
    ev["complexity"] = {"encoder": describe(EncoderExport(model), (1, 1, 256, 256)),
                        "decoder_params": count_params(model.decoder), "efd_params": count_params(model)}
    head, clf, clf_both = ev.pop("_head"), ev.pop("_classifier"), ev.pop("_classifier_both", None)
    ev["probes"] = read_probes(rdir)  # the joint error along stage 2 (spmkd probe), if any were taken
    if name == "main":
        # the linear head given every training label: a label shortage vs a representation limit
        kp_all = {"train": infer(model, e["data"]["train"]["pressure"])["keypoints"], "test": outs["test"]["keypoints"]}
        ev["head_capacity"] = head_capacity(kp_all, e["data"], info)
        objects["main"] = {"model": model, "head": head, "classifier": clf, "classifier_both": clf_both, "outs": outs}
        ev["robustness"] = _robustness(lambda m: apply_linear_head(head, infer(model, m)["keypoints"]), e["data"],
                                       info, None)
        ev["latency_ms"] = _latency(model)
        ev["head_weight_shape"] = list(np.asarray(head["weight"]).shape)
    return ev


def evaluate_all(p: Profile, run_root: Path, data_paths: dict[str, Path], spec: DataSpec, log=print) -> dict[str, Any]:
    """Evaluate every finished run. Returns the results dict (JSON-able, except ``_objects``)."""
    e = evaluation_data(data_paths, spec)
    res: dict[str, Any] = {"runs": {}, "labelled": int(len(e["labelled"])), "posture_labelled": int(len(e["posture"]))}
    objects: dict[str, Any] = {}
    for name in run_names(p):
        rdir = run_root / name
        if name == "baseline":
            if (rdir / "final.pth").is_file():
                res["runs"][name] = _evaluate_baseline(p, rdir, e)
            continue
        if not (rdir / "stage2" / "final.pth").is_file():
            log(f"[evaluate] {name}: not trained, skipped")
            continue
        ev = res["runs"][name] = _evaluate_spmkd(name, rdir, e, objects)
        log(f"[evaluate] {name}: " + json.dumps({s: {k: round(v, 4) for k, v in r['joints'].items()
                                                     if k.startswith('pck') or k == 'mean_err_cm'}
                                                 for s, r in ev['splits'].items()}))
    add_loss_trends(res, run_root)
    res["_objects"] = objects
    res["gt_examples"] = {s: e["data"][s]["joints"][:4].tolist() for s in ("test", "unf_test")}
    res["examples"] = {s: e["data"][s]["pressure"][:4] for s in ("test", "unf_test")}
    return res


def _robustness(predict_norm, data, info, _unused) -> dict[str, Any]:
    """Open question 3 of the paper (missing data): SLP test maps (a) with vs without a
    blanket, (b) with 10 % extra dead cells, (c) with a dead 20-row band across the torso."""
    from ...data.pressure.splits import mat_pitch_cm, mat_shape, norm_to_cells
    from ...metrics.joints import joint_metrics

    d, inf = data["test"], info["test"]
    rows, cols = mat_shape(inf)
    pitch = mat_pitch_cm(inf)
    maps = d["pressure"]
    base = norm_to_cells(predict_norm(maps), rows, cols)
    out = {}
    bl = d["blanket"].astype(bool)
    for nm, mask in (("blanket", bl), ("no_blanket", ~bl)):
        if mask.sum():
            out[nm] = joint_metrics(base[mask], d["joints"][mask], pitch)
            out[nm]["n"] = int(mask.sum())
    rng = np.random.default_rng(123)
    dead = maps * (rng.random(maps.shape) >= 0.10)
    out["dead_cells_10pct"] = joint_metrics(norm_to_cells(predict_norm(dead.astype(np.float32)), rows, cols),
                                            d["joints"], pitch)
    band = maps.copy()
    hip_rows = np.clip(((d["joints"][:, 2, 1] + d["joints"][:, 3, 1]) / 2).astype(int), 10, rows - 10)
    for i, r in enumerate(hip_rows):
        band[i, r - 10:r + 10, :] = 0.0
    out["dead_band_hips_20rows"] = joint_metrics(norm_to_cells(predict_norm(band), rows, cols), d["joints"], pitch)
    for v in out.values():
        v.pop("per_joint_err_cm", None)
    return out


def _latency(model, reps: int = 20) -> dict[str, float]:
    """Encoder-only and full-EFD CPU latency (PyTorch, batch 1, current thread count)."""
    import torch

    from ...models.efd import EncoderExport

    enc = EncoderExport(model).eval()
    x = torch.rand(1, 1, 256, 256)
    res = {"threads": torch.get_num_threads()}
    with torch.no_grad():
        for nm, f in (("encoder_ms", enc), ("efd_ms", model)):
            for _ in range(3):
                f(x)
            ts = []
            for _ in range(reps):
                t0 = time.perf_counter()
                f(x)
                ts.append((time.perf_counter() - t0) * 1000)
            res[nm] = float(np.median(ts))
    return res


def run_pipeline(profile: str, *, data_root: Path, run_root: Path, publish: Optional[Path] = None,
                 report: Optional[Path] = None, only: Optional[list[str]] = None, skip_train: bool = False,
                 command: str = "", log=print, overrides: Optional[dict] = None,
                 settings: Sequence[str] = ()) -> dict[str, Any]:
    from .export import export_main, json_default
    from .report import write_report

    cfg = load_config(profile, settings, family="spmkd")
    p = replace(Profile.from_config(cfg), **(overrides or {}))
    spec = data_spec(cfg)
    t_all = time.monotonic()
    run_root = Path(run_root)
    run_root.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    paths = build_datasets(Path(data_root), spec, log=log)
    data_wall = time.monotonic() - t0
    trained = {} if skip_train else train_all(p, run_root, paths, only=only, log=log)
    t0 = time.monotonic()
    res = evaluate_all(p, run_root, paths, spec, log=log)
    eval_wall = time.monotonic() - t0
    objects = res.pop("_objects")
    examples = res.pop("examples")
    res.update({"profile": p.to_dict(), "data": spec.to_dict(),
                "data_files": {k: str(v) for k, v in paths.items()},
                "machine": machine_info(), "versions": versions(), "git_commit": git_commit(),
                "command": command, "python": sys.executable, "platform": platform.platform(),
                "wall_s": {"data": data_wall, "evaluate": eval_wall,
                           "train_session": trained.get("session_wall_s", {}) if trained else {}}})
    # per-run training wall time from the runs' own summaries (sums over resumed sessions)
    res["wall_s"]["train_runs"] = {n: r.get("summary", {}).get("wall_s") for n, r in res["runs"].items()}
    tc = run_root / "train_commands.txt"
    res["train_commands"] = tc.read_text().splitlines() if tc.is_file() else []
    if "main" in objects:
        res["export"] = export_main(res, objects["main"], paths, p, spec, run_root / "export", publish, command)
    res["wall_s"]["total_this_invocation"] = time.monotonic() - t_all
    (run_root / "results.json").write_text(json.dumps(res, indent=1, default=json_default))
    if report:
        write_report(res, objects, examples, Path(report))
    return res
