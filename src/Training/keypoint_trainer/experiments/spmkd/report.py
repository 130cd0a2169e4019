"""docs/results/spmkd.md from a results.json of :func:`.pipeline.run_pipeline` (+ figures).

Every number in the report is read from the results of a real run; missing runs are
marked "not run" instead of being filled in.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import numpy as np

POSTURES = ("supine", "left", "right", "prone")


def _f(v, nd=3, pct=False):
    if v is None:
        return "n/a"
    if pct:
        return f"{100 * v:.1f} %"
    return f"{v:.{nd}f}"


def _dur(s):
    if s is None:
        return "n/a"
    s = float(s)
    return f"{s / 60:.1f} min" if s >= 90 else f"{s:.0f} s"


def _figures(res: dict, objects: dict, examples: dict, fig_dir: Path) -> dict[str, str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ...core.keypoints import get_skeleton

    fig_dir.mkdir(parents=True, exist_ok=True)
    out = {}
    sk = get_skeleton("slp14")
    runs = res["runs"]
    main = objects.get("main")
    # 1. inputs with discovered keypoints, mapped joints, reconstructions
    if main is not None:
        from .evaluate import apply_linear_head

        fig, axes = plt.subplots(3, 8, figsize=(16, 10.5))
        col = 0
        for split in ("test", "unf_test"):
            kept = main["outs"][split]["kept"]
            kps = main["outs"][split]["keypoints"]
            for j, idx in enumerate(kept["index"][:4]):
                raw = examples[split][idx]
                h, w = raw.shape
                kp = kps[idx]
                joints = apply_linear_head(main["head"], kp[None])[0]
                ax = axes[0, col]
                ax.imshow(raw, cmap="magma", extent=(0, w, h, 0), aspect="auto")
                ax.scatter(kp[:, 0] * w, kp[:, 1] * h, c=np.arange(len(kp)), cmap="tab20", s=18, edgecolors="w",
                           linewidths=0.5)
                ax.set_title(f"{'SLP' if split == 'test' else 'unfamiliar'} #{idx}: input + K keypoints", fontsize=7)
                ax = axes[1, col]
                ax.imshow(raw, cmap="gray", extent=(0, w, h, 0), aspect="auto")
                gt = np.asarray(res["gt_examples"][split][idx])
                for a, b in sk.links:
                    ax.plot([gt[a, 0], gt[b, 0]], [gt[a, 1], gt[b, 1]], "-", c="lime", lw=1)
                    ax.plot([joints[a, 0] * w, joints[b, 0] * w], [joints[a, 1] * h, joints[b, 1] * h], "-",
                            c="orangered", lw=1)
                ax.set_title("joints: GT (green), linear head (red)", fontsize=7)
                ax = axes[2, col]
                ax.imshow(kept["recon"][j], cmap="magma", vmin=0, vmax=1)
                ax.set_title("reconstruction 256x256", fontsize=7)
                col += 1
        for ax in axes.flat:
            ax.set_xticks([])
            ax.set_yticks([])
        plt.tight_layout()
        p = fig_dir / "examples.png"
        plt.savefig(p, dpi=70)
        plt.close(fig)
        out["examples"] = p.name
        # heatmaps of one sample
        kept = main["outs"]["test"]["kept"]
        hm = kept["heatmaps"][0]
        k = hm.shape[0]
        ncol = 8
        fig, axes = plt.subplots(int(np.ceil(k / ncol)), ncol, figsize=(12, 1.6 * int(np.ceil(k / ncol)) * 1.0))
        for i, ax in enumerate(np.atleast_1d(axes).flat):
            ax.set_xticks([])
            ax.set_yticks([])
            if i < k:
                ax.imshow(hm[i], cmap="viridis")
                ax.set_title(f"kp{i:02d}", fontsize=7)
        plt.tight_layout()
        p = fig_dir / "heatmaps.png"
        plt.savefig(p, dpi=70)
        plt.close(fig)
        out["heatmaps"] = p.name
    # 2. curves: CRWT vs scratch (stage 2), stage 1, K and hard
    fig, axes = plt.subplots(1, 4, figsize=(19, 4))
    for name, style in (("main", "-"), ("scratch", "--"), ("hard", ":")) + tuple(
            (n, "-.") for n in runs if n.startswith("k")):
        r = runs.get(name)
        if not r or "curves" not in r or "stage2" not in r["curves"]:
            continue
        v = r["curves"]["stage2"]["val"]
        st = [e["step"] for e in v]
        lab = {"main": "CRWT (main)", "scratch": "from scratch", "hard": "hard argmax (from main stage 1)"}.get(name, name)
        axes[0].plot(st, [e["l2"] for e in v], style, label=lab)
        axes[1].plot(st, [e["ssim"] for e in v], style, label=lab)
        if "heatmap_sd" in v[0]:
            axes[3].plot(st, [e["heatmap_sd"] for e in v], style, label=lab)
    axes[0].set_title("stage 2: validation L2 (normalised map)")
    axes[0].set_xlabel("stage-2 step")
    axes[0].set_yscale("log")
    axes[1].set_title("stage 2: validation SSIM")
    axes[1].set_xlabel("stage-2 step")
    for name in ["main"] + [n for n in runs if n.startswith("k")]:
        r = runs.get(name)
        if r and "stage1" in r.get("curves", {}):
            v = r["curves"]["stage1"]["val"]
            axes[2].plot([e["step"] for e in v], [e["bce"] for e in v], label=f"{name} BCE")
    axes[3].set_title("stage 2: heatmap spread (rms sd, normalised; uniform = 0.29)")
    axes[3].set_xlabel("stage-2 step")
    axes[2].set_title("stage 1: validation BCE (presence)")
    axes[2].set_xlabel("stage-1 step")
    for ax in axes:
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    plt.tight_layout()
    p = fig_dir / "curves.png"
    plt.savefig(p, dpi=70)
    plt.close(fig)
    out["curves"] = p.name
    return out


def _joint_row(name, r, split):
    if not r or split not in r.get("splits", {}):
        return f"| {name} | not run | | | | | |"
    j = r["splits"][split]["joints"]
    return (f"| {name} | {_f(j['pck_torso@0.1'], pct=True)} | {_f(j['pck_torso@0.2'], pct=True)} | "
            f"{_f(j['pck_bbox@0.1'], pct=True)} | {_f(j['pck_bbox@0.2'], pct=True)} | {_f(j['mean_err_cells'], 2)} | "
            f"{_f(j['mean_err_cm'], 1)} |")


def render(res: dict, figs: dict[str, str], fig_rel: str, fig_rel_dir: Optional[Path] = None) -> str:
    runs = res["runs"]
    p = res["profile"]
    d = res["data"]
    m = res["machine"]
    L: list[str] = []
    a = L.append
    main = runs.get("main")
    a("# SPMKD results: self-supervised pressure-map keypoints (simulated SLP-like data)")
    a("")
    a("Generated by `python3 -m keypoint_trainer spmkd report` (or `run`) from the evaluation of the "
      f"`{p['name']}` profile's trained runs; every number below was measured in that run (commands below). "
      "Method and simulator: [docs/spmkd.md](../spmkd.md). Issue 4.")
    a("")
    a("**All data are simulated** (no real pressure dataset is reachable here). Absolute numbers describe "
      "this simulator, not SLP; the comparisons (SPMKD vs the supervised baseline, CRWT vs scratch, soft vs "
      "hard, K) are the point.")
    a("")
    b = runs.get("baseline")
    if main:
        a("## Key numbers")
        a("")
        a("| | SPMKD (K=%d, %d labelled maps for the joint head) | supervised HeatmapNet (all %d training labels) |"
          % (p["k_main"], res["labelled"], d["train"]["subjects"] * d["train"]["per_subject"]))
        a("|---|---|---|")
        for split, lab in (("test", "SLP mat"), ("unf_test", "unfamiliar mat")):
            for key, nm in (("pck_torso@0.2", "PCK@0.2 torso"), ("pck_bbox@0.2", "PCK@0.2 bbox")):
                bv = b["splits"][split]["joints"][key] if b else None
                a(f"| {lab}: {nm} | {_f(main['splits'][split]['joints'][key], pct=True)} | {_f(bv, pct=True)} |")
            bv = b["splits"][split]["joints"]["mean_err_cm"] if b else None
            a(f"| {lab}: mean joint error (cm) | {_f(main['splits'][split]['joints']['mean_err_cm'], 1)} | {_f(bv, 1)} |")
            bv = b["splits"][split]["posture"]["accuracy"] if b else None
            a(f"| {lab}: posture accuracy | {_f(main['splits'][split]['posture']['accuracy'], pct=True)} | {_f(bv, pct=True)} |")
        a(f"| SLP mat: reconstruction L2 / SSIM | {_f(main['recon']['test']['l2'], 4)} / {_f(main['recon']['test']['ssim'])} | - |")
        if b:
            ce, cb = main["complexity"]["encoder"], b["complexity"]["128"]
            a(f"| encoder parameters / MACs | {ce['params']:,} / {ce['macs'] / 1e6:.1f} M | {cb['params']:,} / "
              f"{cb['macs'] / 1e6:.1f} M (128 x 128) |")
        a("")
    a(_findings(res))
    a("## Run")
    a("")
    for c in res.get("train_commands", []):
        a(f"- training (resumable; timestamp, command): `{c}`")
    a(f"- evaluation, export and this report: `{res.get('command', '')}`")
    a(f"- machine: {m.get('cpu')}, {m.get('cores')} cores shared with other jobs, torch threads "
      f"{m.get('torch_threads')}, {m.get('memory_gib')} GiB, no GPU; {res['versions']}")
    a(f"- git commit at run time: `{res.get('git_commit')}`")
    w = res["wall_s"]
    tr = w.get("train_runs", {})
    tot = sum(v for v in tr.values() if v)
    a(f"- total training time of all runs: {_dur(tot)} (one after another in one process)")
    a(f"- wall times: data simulation {_dur(w.get('data'))}"
      + (" (cached: simulated by the training command)" if (w.get('data') or 0) < 1 else "") + "; training " +
      ", ".join(f"{n} {_dur(v)}" for n, v in tr.items()) +
      f"; evaluation {_dur(w.get('evaluate'))}; export {_dur(res.get('export', {}).get('wall_s'))}; "
      f"this invocation {_dur(w.get('total_this_invocation'))} (training times are summed over resumed sessions)")
    a("")
    a("### Data and schedule (small on purpose: 2 shared CPU cores)")
    a("")
    sp = d
    a("| split | mat | people x maps | maps | use |")
    a("|---|---|---|---|---|")
    uses = {"train": "SPMKD training (pressure only); labelled subsets for the heads", "val": "validation curves (unlabelled)",
            "test": "within-configuration test", "unf_labelled": "refit variant of the joint head only",
            "unf_test": "cross-configuration test"}
    for s in ("train", "val", "test", "unf_labelled", "unf_test"):
        x = sp[s]
        a(f"| {s} | {x['mat']} | {x['subjects']} x {x['per_subject']} | {x['subjects'] * x['per_subject']} | {uses[s]} |")
    a("")
    n_train = sp["train"]["subjects"] * sp["train"]["per_subject"]
    a(f"Labelled subsets of `train`: **{res['labelled']} maps** for the linear joint head, "
      f"**{res['posture_labelled']} maps** (a superset) for the posture classifiers. The supervised baseline "
      f"is trained on all {n_train} training maps with their joints.")
    a("")
    a(f"Schedule: batch {p['batch_size']}; CRWT stage 1 {p['stage1_steps']} steps "
      f"({p['stage1_steps'] * p['batch_size'] / n_train:.2f} epochs), stage 2 {p['stage2_steps']} steps "
      f"({p['stage2_steps'] * p['batch_size'] / n_train:.2f} epochs); from-scratch ablation: stage 2 only, "
      f"{p['stage2_steps']} steps; hard-argmax ablation: {p['hard_steps']} stage-2 steps from the main run's stage 1; "
      f"K ablation: same schedule as main; baseline: {p['baseline_steps']} steps. Loss weights alpha = {p['alpha']} "
      f"(L2), beta = {p['beta']} (1 - SSIM). Adam (stage 1 lr {p.get('lr1')}, stage 2 lr {p.get('lr2')}), "
      "warm-up + cosine decay, seed 0.")
    a("")
    # --- 1. reconstruction
    a("## 1. Reconstruction (normalised 256 x 256 maps, mean over the split)")
    a("")
    a("| run | K | SLP test L2 | SLP test SSIM | unfamiliar L2 | unfamiliar SSIM |")
    a("|---|---|---|---|---|---|")
    for n, r in runs.items():
        if "recon" not in r:
            continue
        k = r["summary"]["stage2"]["config"]["model"]["num_keypoints"]
        a(f"| {n} | {k} | {_f(r['recon']['test']['l2'], 4)} | {_f(r['recon']['test']['ssim'])} | "
          f"{_f(r['recon']['unf_test']['l2'], 4)} | {_f(r['recon']['unf_test']['ssim'])} |")
    a("")
    # --- 2. keypoints
    a("## 2. Keypoints -> 14 joints (linear head fitted on the labelled subset)")
    a("")
    a("PCK in physical cm; torso = thorax to mid-hip; bbox = diagonal of the ground-truth joints' box "
      "(not MMPose's max(w, h)); error in sensor cells of the mat in question (SLP cell 1 x 1 cm, unfamiliar "
      "cell 2.5 x 2.97 cm).")
    a("")
    hdr = "| model | PCK@0.1 torso | PCK@0.2 torso | PCK@0.1 bbox | PCK@0.2 bbox | mean err (cells) | mean err (cm) |"
    for split, title in (("test", "SLP mat, held-out people (within configuration)"),
                         ("unf_test", "unfamiliar 32 x 64 mat (across configurations, no re-training)")):
        a(f"**{title}**")
        a("")
        a(hdr)
        a("|---|---|---|---|---|---|---|")
        for n in runs:
            if n == "baseline":
                a(_joint_row("supervised HeatmapNet (all labels)", runs[n], split))
            else:
                a(_joint_row(f"SPMKD {n} + linear head ({res['labelled']} labels)", runs[n], split))
        if split == "unf_test" and main and "unf_test_refit" in main["splits"]:
            r = {"splits": {"x": main["splits"]["unf_test_refit"]}}
            a(_joint_row(f"SPMKD main, head refitted on {main['splits']['unf_test_refit']['head_n']} unfamiliar maps",
                         r, "x"))
        a("")
    if main:
        from ...core.keypoints import get_skeleton

        names = get_skeleton("slp14").keypoints
        a("Per-joint mean error (cm), SLP test:")
        a("")
        a("| joint | " + " | ".join(names) + " |")
        a("|---|" + "---|" * len(names))
        for n in ("main", "baseline"):
            if n in runs:
                a(f"| {n} | " + " | ".join(f"{v:.1f}" for v in runs[n]["splits"]["test"]["joints"]["per_joint_err_cm"]) + " |")
        a("")
    # --- 3. posture
    a("## 3. Posture classification from keypoints (small MLP, 4 classes)")
    a("")
    a(f"MLP (64 hidden) on translation-removed, standardised keypoint coordinates, trained on the "
      f"{res['posture_labelled']} labelled training maps; chance = 25 %.")
    a("")
    a("| keypoints from | SLP test accuracy | unfamiliar accuracy |")
    a("|---|---|---|")
    for n, r in runs.items():
        lab = "supervised HeatmapNet (14 joints)" if n == "baseline" else f"SPMKD {n} (K discovered keypoints)"
        a(f"| {lab} | {_f(r['splits']['test']['posture']['accuracy'], pct=True)} | "
          f"{_f(r['splits']['unf_test']['posture']['accuracy'], pct=True)} |")
    a("")
    for n in ("main", "baseline"):
        if n in runs:
            for split in ("test", "unf_test"):
                cm = runs[n]["splits"][split]["posture"]["confusion"]
                a(f"Confusion ({n}, {split}; rows = truth, columns = prediction, {', '.join(POSTURES)}): "
                  + "; ".join(" ".join(str(v) for v in row) for row in cm))
                a("")
    # --- 4. ablations
    a("## 4. Ablations")
    a("")
    a("**CRWT vs from scratch** (stage 2 of both has the same steps and schedule; CRWT additionally "
      f"ran {p['stage1_steps']} stage-1 steps):")
    a("")
    a("| stage-2 step | " + " | ".join(n for n in ("main", "scratch", "hard") if n in runs and "curves" in runs[n])
      + " |  (validation L2 / SSIM)")
    cols = [n for n in ("main", "scratch", "hard") if n in runs and "curves" in runs[n]]
    a("|---|" + "---|" * len(cols))
    if cols:
        steps = sorted({e["step"] for n in cols for e in runs[n]["curves"]["stage2"]["val"]})
        for st in steps:
            cells = []
            for n in cols:
                v = [e for e in runs[n]["curves"]["stage2"]["val"] if e["step"] == st]
                cells.append(f"{v[0]['l2']:.4f} / {v[0]['ssim']:.3f}" if v else "")
            a(f"| {st} | " + " | ".join(cells) + " |")
    a("")
    if figs.get("curves"):
        a(f"![curves]({fig_rel}/{figs['curves']})")
        a("")
    a("**Soft vs hard argmax.** `hard` trains stage 2 with an integer argmax in the fuser (no gradient "
      "reaches the heatmaps); \"hard decode\" evaluates the soft-trained main model with argmax keypoints "
      "(its own linear head refitted on the same labelled subset).")
    a("")
    a("| variant | SLP PCK@0.2 torso | SLP mean err (cm) | unfamiliar PCK@0.2 torso | SLP recon SSIM |")
    a("|---|---|---|---|---|")
    if main:
        a(f"| soft (main) | {_f(main['splits']['test']['joints']['pck_torso@0.2'], pct=True)} | "
          f"{_f(main['splits']['test']['joints']['mean_err_cm'], 1)} | "
          f"{_f(main['splits']['unf_test']['joints']['pck_torso@0.2'], pct=True)} | {_f(main['recon']['test']['ssim'])} |")
        hd = main["hard_decode"]
        a(f"| main, hard decode at inference | {_f(hd['test']['joints']['pck_torso@0.2'], pct=True)} | "
          f"{_f(hd['test']['joints']['mean_err_cm'], 1)} | {_f(hd['unf_test']['joints']['pck_torso@0.2'], pct=True)} | "
          f"(same) |")
    if "hard" in runs:
        h = runs["hard"]
        a(f"| hard argmax in training ({p['hard_steps']} stage-2 steps) | "
          f"{_f(h['splits']['test']['joints']['pck_torso@0.2'], pct=True)} | {_f(h['splits']['test']['joints']['mean_err_cm'], 1)} | "
          f"{_f(h['splits']['unf_test']['joints']['pck_torso@0.2'], pct=True)} | {_f(h['recon']['test']['ssim'])} |")
    a("")
    a("**Number of keypoints K** (same schedule):")
    a("")
    a("| K | run | SLP PCK@0.2 torso | SLP mean err (cm) | unfamiliar PCK@0.2 torso | posture acc (SLP) | SLP SSIM |")
    a("|---|---|---|---|---|---|---|")
    for n, r in sorted(((n, r) for n, r in runs.items() if n == "main" or n.startswith("k")),
                       key=lambda t: t[1]["summary"]["stage2"]["config"]["model"]["num_keypoints"]):
        k = r["summary"]["stage2"]["config"]["model"]["num_keypoints"]
        a(f"| {k} | {n} | {_f(r['splits']['test']['joints']['pck_torso@0.2'], pct=True)} | "
          f"{_f(r['splits']['test']['joints']['mean_err_cm'], 1)} | "
          f"{_f(r['splits']['unf_test']['joints']['pck_torso@0.2'], pct=True)} | "
          f"{_f(r['splits']['test']['posture']['accuracy'], pct=True)} | {_f(r['recon']['test']['ssim'])} |")
    a("")
    # --- 5. complexity
    a("## 5. Parameters and FLOPs")
    a("")
    a("Counting method (`spmkd/flops.py`): forward hooks on Conv2d / ConvTranspose2d / Linear, one sample, "
      "MACs = output pixels x C_out x C_in/groups x k_h x k_w (transposed conv: input pixels x ...); FLOPs = 2 x MACs; "
      "BN, activations, SE gating, softmax and soft-argmax not counted. Cross-check: torch.profiler "
      "`with_flops` (counts conv2d/addmm only -- it does not count transposed convolutions in torch 1.13).")
    a("")
    a("| network | input | params | MACs | FLOPs (2 x MACs) | profiler FLOPs |")
    a("|---|---|---|---|---|---|")
    if main:
        c = main["complexity"]["encoder"]
        a(f"| SPMKD encoder + soft-argmax (K={p['k_main']}) | 256 x 256 | {c['params']:,} | {c['macs'] / 1e6:.1f} M | "
          f"{c['flops'] / 1e9:.3f} G | {(c.get('profiler_flops') or 0) / 1e9:.3f} G |")
        a(f"| (SPMKD decoder, training only) | K x (2 + F) | {main['complexity']['decoder_params']:,} | | | |")
    b = runs.get("baseline")
    if b:
        for size in ("128", "256"):
            c = b["complexity"][size]
            a(f"| supervised HeatmapNet (14 joints) | {size} x {size} | {c['params']:,} | {c['macs'] / 1e6:.1f} M | "
              f"{c['flops'] / 1e9:.3f} G | {(c.get('profiler_flops') or 0) / 1e9:.3f} G |")
    a("")
    if main and b:
        ce = main["complexity"]["encoder"]
        for size in ("128", "256"):
            cb = b["complexity"][size]
            a(f"- SPMKD encoder / HeatmapNet at {size} x {size}: parameters {100 * ce['params'] / cb['params']:.2f} %, "
              f"FLOPs {100 * ce['macs'] / cb['macs']:.2f} %.")
        a("- The paper's reference point: ~0.07 M parameters and 0.6 GFLOPs, i.e. 1.11 % of the parameters and "
          "5.96 % of the FLOPs of supervised SLP pose networks (whose exact FLOP convention is not stated).")
    if main and "latency_ms" in main:
        lt = main["latency_ms"]
        a(f"- CPU latency (PyTorch eager, batch 1, {lt['threads']} thread(s), on the shared machine, median of 20): "
          f"encoder {lt['encoder_ms']:.1f} ms, full EFD {lt['efd_ms']:.1f} ms.")
    a("")
    # --- open questions
    a("## Open questions of the paper, as far as this simulation can answer them")
    a("")
    if main:
        t, u = main["splits"]["test"]["joints"], main["splits"]["unf_test"]["joints"]
        a(f"1. *Other resolutions / sensor densities*: the model trained on the 84 x 192 mat was applied unchanged "
          f"to the 32 x 64 unfamiliar mat (different gain, noise, saturation, softness): PCK@0.2 torso "
          f"{_f(t['pck_torso@0.2'], pct=True)} -> {_f(u['pck_torso@0.2'], pct=True)} (head from the SLP labels)"
          + (f", {_f(main['splits']['unf_test_refit']['joints']['pck_torso@0.2'], pct=True)} with the head refitted "
             "on unfamiliar labels" if "unf_test_refit" in main["splits"] else "") + "; the supervised baseline: "
          + (f"{_f(b['splits']['test']['joints']['pck_torso@0.2'], pct=True)} -> "
             f"{_f(b['splits']['unf_test']['joints']['pck_torso@0.2'], pct=True)}." if b else "not run."))
        if "latency_ms" in main:
            a(f"2. *Real time / embedded*: encoder {main['complexity']['encoder']['macs'] / 1e6:.0f} M MACs, "
              f"{main['latency_ms']['encoder_ms']:.1f} ms per map on this shared CPU (PyTorch eager).")
        rb = main.get("robustness", {})
        bb = (b or {}).get("robustness", {})
        a("3. *Occlusion / missing data* (SLP test, PCK@0.2 torso, SPMKD main vs baseline):")
        a("")
        a("| condition | SPMKD | baseline |")
        a("|---|---|---|")
        for key, lab in (("no_blanket", "no blanket"), ("blanket", "blanket (extra blur + weight)"),
                         ("dead_cells_10pct", "+10 % random dead cells"), ("dead_band_hips_20rows", "dead 20-row band at the hips")):
            if key in rb:
                a(f"| {lab} (n={rb[key].get('n', rb[key]['count'])}) | {_f(rb[key]['pck_torso@0.2'], pct=True)} | "
                  f"{_f(bb.get(key, {}).get('pck_torso@0.2'), pct=True) if bb else 'n/a'} |")
        a("")
    # --- figures
    a("## Figures")
    a("")
    if (Path(fig_rel_dir) / "simulator.png").is_file() if fig_rel_dir else False:
        a("Simulated maps with ground-truth joints (top: SLP-like mat, bottom: unfamiliar mat; right half with a "
          "blanket):")
        a("")
        a(f"![simulator]({fig_rel}/simulator.png)")
        a("")
    if figs.get("examples"):
        a("Test maps (SLP left, unfamiliar right): input with the discovered keypoints (top), ground-truth vs "
          "linear-head joints (middle), reconstruction from the keypoints alone (bottom).")
        a("")
        a(f"![examples]({fig_rel}/{figs['examples']})")
        a("")
    if figs.get("heatmaps"):
        a(f"Heatmaps (spatial softmax) of the main model for the first SLP test map: ![heatmaps]({fig_rel}/{figs['heatmaps']})")
        a("")
    a("## Export")
    a("")
    if res.get("export"):
        a(f"`{res['export']['dir']}`: " + ", ".join(f"`{f}`" for f in res["export"]["files"]) +
          ". Contract for the service: docs/spmkd.md.")
    else:
        a("not exported (main run missing).")
    a("")
    return "\n".join(L) + "\n"


def _cmp(x, y, tol=0.005):
    return "higher than" if x > y + tol else "lower than" if x < y - tol else "about equal to"


def _top_confusion(cm) -> str:
    cm = np.asarray(cm)
    off = cm.copy()
    np.fill_diagonal(off, -1)
    t, p_ = np.unravel_index(int(off.argmax()), off.shape)
    return f"{POSTURES[t]} taken for {POSTURES[p_]} ({int(cm[t, p_])} of {int(cm[t].sum())})"


def _findings(res: dict) -> str:
    """Short analysis whose every number and direction is computed from the results."""
    runs = res["runs"]
    m, b, sc, hd = runs.get("main"), runs.get("baseline"), runs.get("scratch"), runs.get("hard")
    if not m:
        return ""
    L = ["## Findings (computed from the tables below)", ""]
    J = lambda r, s, k: r["splits"][s]["joints"][k]  # noqa: E731
    P = lambda r, s: r["splits"][s]["posture"]["accuracy"]  # noqa: E731
    pct = lambda v: f"{100 * v:.1f} %"  # noqa: E731
    if b:
        L.append(f"- **SPMKD vs the supervised baseline (SLP mat).** With {res['labelled']} labelled maps for the linear "
                 f"head, SPMKD's PCK@0.2 torso is {pct(J(m, 'test', 'pck_torso@0.2'))}, "
                 f"{_cmp(J(m, 'test', 'pck_torso@0.2'), J(b, 'test', 'pck_torso@0.2'))} the baseline's "
                 f"{pct(J(b, 'test', 'pck_torso@0.2'))}; at the stricter PCK@0.1 torso it is "
                 f"{pct(J(m, 'test', 'pck_torso@0.1'))} vs {pct(J(b, 'test', 'pck_torso@0.1'))}. Mean error: "
                 f"{J(m, 'test', 'mean_err_cm'):.1f} vs {J(b, 'test', 'mean_err_cm'):.1f} cm."
                 + (" The baseline is the more precise one where it is right (higher PCK@0.1) but makes gross limb "
                    "errors (higher mean error; see the per-joint table)."
                    if J(b, 'test', 'pck_torso@0.1') > J(m, 'test', 'pck_torso@0.1')
                    and J(b, 'test', 'mean_err_cm') > J(m, 'test', 'mean_err_cm') else "")
                 + f" Both were trained for a short schedule ({res['profile']['baseline_steps']} steps of batch "
                 f"{res['profile']['batch_size']} for the baseline, the same for SPMKD's stage 2)"
                 + (f"; mean training loss over the last 100 steps vs the 100 before: baseline "
                    f"{b['loss_trend']['previous']:.3f} -> {b['loss_trend']['last']:.3f}, SPMKD "
                    f"{m['loss_trend']['previous']:.4f} -> {m['loss_trend']['last']:.4f}"
                    if b.get("loss_trend") and m.get("loss_trend") else "")
                 + ", so this comparison describes a short CPU schedule, not converged models.")
        dm = J(m, "test", "pck_torso@0.2") - J(m, "unf_test", "pck_torso@0.2")
        db = J(b, "test", "pck_torso@0.2") - J(b, "unf_test", "pck_torso@0.2")
        L.append(f"- **Across mats** (no re-training): PCK@0.2 torso drops by {100 * dm:.1f} points for SPMKD and "
                 f"{100 * db:.1f} points for the baseline; posture accuracy goes {pct(P(m, 'test'))} -> "
                 f"{pct(P(m, 'unf_test'))} (SPMKD) and {pct(P(b, 'test'))} -> {pct(P(b, 'unf_test'))} (baseline). Largest confusion on the unfamiliar mat: "
                 + "; ".join(f"{nm}: {_top_confusion(r['splits']['unf_test']['posture']['confusion'])}"
                             for nm, r in (("SPMKD", m), ("baseline", b))) + ".")
    if sc:
        L.append(f"- **CRWT vs scratch.** CRWT's validation L2 is {_cmp(m['curves']['stage2']['val'][-1]['l2'], sc['curves']['stage2']['val'][-1]['l2'], 1e-5)} "
                 f"scratch's at the end of stage 2 ({m['curves']['stage2']['val'][-1]['l2']:.4f} vs "
                 f"{sc['curves']['stage2']['val'][-1]['l2']:.4f}; test SSIM {m['recon']['test']['ssim']:.3f} vs "
                 f"{sc['recon']['test']['ssim']:.3f}), i.e. the transfer helps reconstruction (CRWT also had "
                 f"{res['profile']['stage1_steps']} extra stage-1 steps). The keypoints tell a mixed story: PCK@0.2 torso "
                 f"{pct(J(m, 'test', 'pck_torso@0.2'))} (CRWT) vs {pct(J(sc, 'test', 'pck_torso@0.2'))} (scratch) on the SLP "
                 f"mat, {pct(J(m, 'unf_test', 'pck_torso@0.2'))} vs {pct(J(sc, 'unf_test', 'pck_torso@0.2'))} on the "
                 "unfamiliar mat.")
    if hd:
        L.append(f"- **Soft vs hard argmax.** Soft-argmax keypoints reach {pct(J(m, 'test', 'pck_torso@0.2'))}; hard argmax "
                 f"in training {pct(J(hd, 'test', 'pck_torso@0.2'))}; hard decoding of the soft model "
                 f"{pct(m['hard_decode']['test']['joints']['pck_torso@0.2'])} (its heatmaps are broad, so their "
                 "argmax is a poor summary of them).")
    ks = sorted(((r["summary"]["stage2"]["config"]["model"]["num_keypoints"], r) for n, r in runs.items()
                 if n == "main" or n.startswith("k")), key=lambda t: t[0])
    if len(ks) > 1:
        L.append("- **K.** PCK@0.2 torso on the SLP mat for K = " + ", ".join(str(k) for k, _ in ks) + ": "
                 + ", ".join(pct(J(r, 'test', 'pck_torso@0.2')) for _, r in ks) + "; on the unfamiliar mat: "
                 + ", ".join(pct(J(r, 'unf_test', 'pck_torso@0.2')) for _, r in ks) + ".")
    sd = m.get("curves", {}).get("stage2", {}).get("val", [{}])[-1].get("heatmap_sd")
    if sd is not None:
        L.append(f"- **What the keypoints are.** After {res['profile']['stage2_steps']} stage-2 steps the heatmaps are "
                 f"still broad (rms spread {sd:.2f} of the map per axis; a uniform map has 0.29) and most keypoints sit "
                 "on the trunk (figure below): they encode the body's position, orientation and posture well enough for "
                 "a linear head and the posture classifier, but they are not yet sharp part detectors. The paper trains "
                 "far longer; this run is ~4 epochs on CPU.")
    if b:
        ce, cb = m["complexity"]["encoder"], b["complexity"]["128"]
        L.append(f"- **Cost.** The encoder has {100 * ce['params'] / cb['params']:.2f} % of the baseline's parameters and "
                 f"{100 * ce['macs'] / cb['macs']:.2f} % of its MACs (at the baseline's 128 x 128 input).")
    L.append("")
    return "\n".join(L) + "\n"


def render_from_results(results_path: Path, report_path: Path) -> Path:
    """Re-render the markdown from a saved results.json, reusing the figures on disk."""
    res = json.loads(Path(results_path).read_text())
    report_path = Path(report_path)
    fig_dir = report_path.parent / report_path.stem
    figs = {n: f"{n}.png" for n in ("examples", "heatmaps", "curves") if (fig_dir / f"{n}.png").is_file()}
    report_path.write_text(render(res, figs, fig_dir.name, fig_dir))
    return report_path


def write_report(res: dict, objects: dict, examples: dict, report_path: Path) -> Path:
    report_path = Path(report_path)
    fig_dir = report_path.parent / report_path.stem
    figs = _figures(res, objects, examples, fig_dir)
    report_path.parent.mkdir(parents=True, exist_ok=True)
    report_path.write_text(render(res, figs, fig_dir.name, fig_dir))
    return report_path
