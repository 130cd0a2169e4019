"""docs/results/hsjp.md (+ docs/results/hsjp/label_fractions.png) from the run outputs, as a list of
sections (engine/report.py).

Reads ``{run.out_dir}/{run}/result.json`` (fine-tunes) and ``pretext_eval.json`` /
``training_log.json`` (pretext runs). Missing runs are listed as missing; no number is
written that a run did not produce. Quick-profile reports are labelled as smoke runs.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from ...engine.report import num as _f
from ...engine.report import read_json as _load
from ...engine.report import write_report as write_sections
from .plan import pct, plan


def _row(r: Optional[dict]) -> str:
    if r is None:
        return "not run | | | "
    t = r["test"]
    return f"{_f(t['pck_bbox']['0.05'])} | {_f(t['pck_bbox']['0.1'])} | {_f(t['auc_bbox'])} | {t['mean_pixel_error']:.2f}"


@dataclass
class Ctx:
    cfg: dict[str, Any]
    path: Path
    command: str
    res: dict[str, Optional[dict]]                               # fine-tune -> result.json
    pre: dict[str, tuple[Optional[dict], Optional[dict]]]        # pretext -> (pretext_eval.json, training_log.json)

    @property
    def out(self) -> Path:
        return Path(self.cfg["run"]["out_dir"])

    @property
    def smoke(self) -> bool:
        return self.cfg["run"]["name"] == "quick"

    @property
    def af(self) -> float:
        return float(self.cfg["experiments"].get("ablate_fraction", 1.0))

    @property
    def long_name(self) -> str:
        return f"scratch_long_f{pct(self.af)}"


def _s_title(c: Ctx) -> list[str]:
    """Title, the smoke-run warning of a non-full profile, the set-up of both stages."""
    cfg, pc, fc = c.cfg, c.cfg["pretext"], c.cfg["finetune"]
    L = ["# Heatmap-Style Jigsaw Puzzles (HSJP) pretraining — results", ""]
    if c.smoke:
        L += [f"> **Smoke run of the `{cfg['run']['name']}` profile** ({pc['steps']} pretext and {fc['steps']} fine-tuning "
              "steps on a handful of images): the numbers only show that the pipeline runs end to end; they say "
              "nothing about the method. The full-profile command is in docs/hsjp.md.", ""]
    any_r = next((r for r in c.res.values() if r), None)
    count = f"{any_r['test']['count']} images" if any_r else "no fine-tune finished"
    return L + [f"Generated {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} by `{c.command or 'hsjp report'}` from "
                f"`{c.out}`. Downstream: HeatmapNet (seed 001) on the stick-figure `{cfg['stick']['profile']}` splits, "
                f"{fc['steps']} steps of {fc['batch_size']} images (Adam {fc['lr']}), evaluated on the test split "
                f"({count}): PCK@0.05/0.1 normalised by the keypoint-box diagonal, AUC over "
                f"0–0.2, mean pixel error (128×128). Pretext: {pc['steps']} steps of {pc['batch_size']} on the unlabelled "
                f"pool, σ = {pc.get('sigma_fraction', 0.75)} × S/(6N), loss `{pc.get('loss', 'mse')}` "
                f"({_LOSS_TEXT.get(pc.get('loss', 'mse'), 'codecs/jigsaw.py')}). Method: [docs/hsjp.md](../hsjp.md).", ""]


_LOSS_TEXT = {"mse": "the paper's Eq. 2, masked MSE against one Gaussian per patch",
              "softmax_ce": "not the paper's: a spatial softmax over the 64×64 cells per patch channel, cross-entropy "
                            "against the normalised target Gaussian, same mask"}


def _s_fractions(c: Ctx) -> list[str]:
    """HSJP vs scratch at every label fraction (and the same-total-steps scratch run), with the plot."""
    e, pc, fc, res = c.cfg["experiments"], c.cfg["pretext"], c.cfg["finetune"], c.res
    n0 = int(e["main_n"])
    L = [f"## Fine-tuned from HSJP (N = {n0}) vs from scratch, by label fraction", "",
         "| labels | init | PCK@0.05 | PCK@0.1 | AUC | mean px error |", "|---|---|---|---|---|---|"]
    curve = []
    for f in e["fractions"]:
        s, h = res.get(f"scratch_f{pct(f)}"), res.get(f"hsjp{n0}_f{pct(f)}")
        L.append(f"| {pct(f)} % ({s['labelled'] if s else '?'} images) | scratch | {_row(s)} |")
        L.append(f"| {pct(f)} % | HSJP N={n0} | {_row(h)} |")
        if s and h:
            curve.append((f, s["test"]["pck_bbox"]["0.1"], h["test"]["pck_bbox"]["0.1"]))
    if c.long_name in res:
        L.append(f"| {pct(c.af)} % | scratch, same total steps ({fc['steps']} + {pc['steps']}) | {_row(res[c.long_name])} |")
    L += ["", "The same-total-steps row is the analogue of the paper's \"From Scratch (450)\": it spends the pretext "
          "steps on supervised training instead.", ""]
    if len(curve) >= 2 and not c.smoke:  # a curve needs two fractions; only full writes the shared file name
        stem = "label_fractions" if c.cfg["run"]["name"] == "full" else f"label_fractions_{c.cfg['run']['name']}"
        fig = _plot(curve, c.path.parent / "hsjp" / f"{stem}.png", n0)
        L += [f"![PCK@0.1 by label fraction](hsjp/{fig.name})", ""]
    return L


def _s_ablation_n(c: Ctx) -> list[str]:
    """Puzzle precision and fine-tuning results over N (shuffled, and with the unshuffled image)."""
    e, fc, res, pre, af = c.cfg["experiments"], c.cfg["finetune"], c.res, c.pre, c.af
    L = [f"## Ablation over N (fine-tuned on {pct(af)} % of the labels)", "",
         "| N | input | puzzle precision | patches located | inked patches located | inked precision | chance (1/N²) "
         "| pretext s/step | PCK@0.05 | PCK@0.1 | AUC | mean px error |",
         "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for concat, ns in ((False, e.get("ablate_n", [])), (True, e.get("concat_n", []))):
        for n in ns:
            ev, lg = pre.get(f"p{n}{'c' if concat else ''}", (None, None))
            r = res.get(f"hsjp{n}{'c' if concat else ''}_f{pct(af)}")
            L.append(f"| {n} | {'shuffled + unshuffled' if concat else 'shuffled'} | "
                     f"{_f(ev['puzzle_precision']) if ev else '–'} | {_f(ev['patch_accuracy']) if ev else '–'} | "
                     f"{_f((ev or {}).get('inked_patch_accuracy'))} | {_f((ev or {}).get('inked_precision'))} | "
                     f"{_f(1 / n ** 2)} | {lg['seconds_per_step'] if lg else '–'} | {_row(r)} |")
    L.append(f"| – | scratch ({fc['steps']} steps) | | | | | | | {_row(res.get(f'scratch_f{pct(af)}'))} |")
    if c.long_name in res:
        L.append(f"| – | scratch (same total steps) | | | | | | | {_row(res[c.long_name])} |")
    ev0 = next((v[0] for v in pre.values() if v[0]), None)
    if ev0:
        L += ["", f"Puzzle precision (paper Eq. 3–5): share of {ev0['images']} test images (labels unused, no "
              "augmentation) whose N² patch peaks all lie within ε = half a patch side of their targets; "
              "\"patches located\" is the per-patch rate. \"Inked\" counts only the patches that show figure or "
              "distractor ink (the generator's own masks): blank patches are interchangeable, so no solver can "
              "place them (experiments/hsjp/ambiguity.py); inked precision is the share of images whose inked "
              "patches are all located.", ""]
    return L


def _curve_table(rows: list[dict]) -> list[str]:
    return (["| step | puzzle precision | patches located | inked patches located | inked precision |",
             "|---|---|---|---|---|"] +
            [f"| {r['step']} | {_f(r['puzzle_precision'])} | {_f(r['patch_accuracy'])} | "
             f"{_f(r.get('inked_patch_accuracy'))} | {_f(r.get('inked_precision'))} |" for r in rows] + [""])


def _loss_table(lc: dict, label: str) -> list[str]:
    """A ``loss_check.json`` (experiments/hsjp/losscheck.py): the trained loss against its trivial and perfect values."""
    name = lc.get("trained_with", "mse")
    r = lc[name]
    closed = "–" if r.get("closed") is None else f"{r['closed']:.3f}"
    return [f"| {label} | `{name}` | {r['model']:.5g} | {r['zero_output']:.5g} | {r['perfect']:.5g} | {closed} |"]


def _s_curve(c: Ctx) -> list[str]:
    """The pretext runs' held-out curves (``pretext.eval_every``), the loss against its trivial value
    (``loss_check.json``), and the same for the run of ``report.baseline_out_dir`` when given."""
    base = c.cfg.get("report", {}).get("baseline_out_dir")
    L = []
    for name, (_, lg) in c.pre.items():
        rows = (lg or {}).get("validation") or []
        if not rows:
            continue
        L += [f"## Pretext learning curve (`{name}`, held-out images, no augmentation)", ""] + _curve_table(rows)
        blg = _load(Path(base) / name / "training_log.json") if base else None
        if blg and blg.get("validation"):
            L += [f"The same pretext trained with `{blg.get('loss', 'mse')}` (`{base}/{name}`, "
                  f"{blg['steps']} steps):", ""] + _curve_table(blg["validation"])
        checks = [(f"`{c.out}/{name}`", _load(c.out / name / "loss_check.json"))]
        if base:
            checks.append((f"`{base}/{name}`", _load(Path(base) / name / "loss_check.json")))
        checks = [(label, lc) for label, lc in checks if lc]
        if checks:
            L += [f"Loss of the final pretext model on {checks[0][1]['samples']} held-out augmented samples against "
                  "the all-zero output (the trivial solution) and the perfect output; \"gap closed\" is the share "
                  "of the distance from trivial to perfect the model covers "
                  "(`python3 -m keypoint_trainer.experiments.hsjp.losscheck`):", "",
                  "| run | trained loss | model | all-zero output | perfect output | gap closed |",
                  "|---|---|---|---|---|---|"]
            for label, lc in checks:
                L += _loss_table(lc, label)
            L.append("")
    return L


def _s_pressure(c: Ctx) -> list[str]:
    """Pretraining on stick figures and simulated pressure maps."""
    e, res = c.cfg["experiments"], c.res
    if not e.get("pressure"):
        return []
    n0, pf = int(e["main_n"]), float(e.get("pressure_fraction", 0.1))
    ev, _ = c.pre.get(f"p{n0}sp", (None, None))
    L = [f"## Pretraining on stick figures + simulated pressure maps ({pct(pf)} % labels)", "",
         "| init | PCK@0.05 | PCK@0.1 | AUC | mean px error |", "|---|---|---|---|---|",
         f"| scratch | {_row(res.get(f'scratch_f{pct(pf)}'))} |",
         f"| HSJP N={n0}, stick figures | {_row(res.get(f'hsjp{n0}_f{pct(pf)}'))} |",
         f"| HSJP N={n0}, stick figures + pressure maps | {_row(res.get(f'hsjp{n0}sp_f{pct(pf)}'))} |", ""]
    if ev:
        L += [f"Puzzle precision of the stick + pressure pretext model on stick-figure test images: "
              f"{_f(ev['puzzle_precision'])}.", ""]
    return L


def _s_reading(c: Ctx) -> list[str]:
    """What the tables say (full profile only)."""
    return [] if c.smoke else _reading(c.cfg, c.res, c.pre, c.res.get(c.long_name))


def _s_provenance(c: Ctx) -> list[str]:
    """Runs, training wall time, threads, machine."""
    walls = [r["wall_time_s"] for r in c.res.values() if r] + [lg["wall_time_s"] for _, lg in c.pre.values() if lg]
    any_r = next((r for r in c.res.values() if r), None) or next(lg for _, lg in c.pre.values() if lg)
    runs = [(n, r) for n, r in c.res.items() if r] + [(n, lg) for n, (_, lg) in c.pre.items() if lg]
    per_run = "; ".join(f"`{n}` {r['wall_time_s'] / 60:.1f} min ({r.get('steps', '?')} steps, {r['threads']} thread(s), "
                        f"{r['seconds_per_step']} s/step)" for n, r in runs)
    return ["## Provenance", "", f"{len(walls)} runs, {sum(walls) / 60:.1f} minutes of training wall time in total "
            f"({per_run}), on {any_r['machine'].get('cpu')} "
            f"({any_r['machine'].get('cores')} cores); torch {any_r['versions'].get('torch')}. Per-run logs: "
            f"`{c.out}/<run>/training_log.json`, `result.json`, `pretext_eval.json`.", ""]


SECTIONS = [_s_title, _s_fractions, _s_ablation_n, _s_curve, _s_pressure, _s_reading, _s_provenance]


def write_report(cfg: dict[str, Any], path: Path, command: str = "") -> Path:
    out = Path(cfg["run"]["out_dir"])
    jobs = plan(cfg)
    res = {j["name"]: _load(out / j["name"] / "result.json") for j in jobs if j["kind"] == "finetune"}
    pre = {j["name"]: (_load(out / j["name"] / "pretext_eval.json"), _load(out / j["name"] / "training_log.json"))
           for j in jobs if j["kind"] == "pretext"}
    if not any(res.values()) and not any(lg for _, lg in pre.values()):
        raise SystemExit(f"no pretext or fine-tuning results under {out}: run `hsjp run` first")
    path = write_sections(path, SECTIONS, Ctx(cfg, Path(path), command, res, pre))
    print(f"[hsjp] report -> {path}")
    return path


def _pck(r: Optional[dict], t: str = "0.05") -> Optional[float]:
    return r["test"]["pck_bbox"][t] if r else None


def _reading(cfg: dict[str, Any], res: dict, pre: dict, long: Optional[dict]) -> list[str]:
    """What the tables say, computed from them (single seed, so differences are indicative)."""
    e, pc, fc = cfg["experiments"], cfg["pretext"], cfg["finetune"]
    n0 = int(e["main_n"])
    pairs = [(f, _pck(res.get(f"scratch_f{pct(f)}")), _pck(res.get(f"hsjp{n0}_f{pct(f)}"))) for f in e["fractions"]]
    pairs = [p for p in pairs if p[1] is not None and p[2] is not None]
    pre_runs = [(name, ev) for name, (ev, _) in pre.items() if ev]
    L = ["## Reading the numbers", ""]
    if pairs:
        wins = sum(h > s for _, s, h in pairs)
        gains = [100 * (h - s) for _, s, h in pairs]
        L.append(f"* At the same {fc['steps']} fine-tuning steps, the HSJP N={n0} initialisation beat training from "
                 f"scratch in {wins} of {len(pairs)} label fractions (PCK@0.05 difference "
                 + (f"{gains[0]:+.1f}" if len(gains) == 1 else f"{min(gains):+.1f} to {max(gains):+.1f}") + " points).")
    af = pct(float(e.get("ablate_fraction", 1.0)))
    tuned = [(n, _pck(r)) for n, r in res.items() if r and n.startswith("hsjp") and n.endswith(f"_f{af}")]
    if long and tuned:
        best_name, best = max(tuned, key=lambda t: t[1])
        verdict = "beat" if _pck(long) > best else "did not beat"
        L.append(f"* The from-scratch run given the pretext steps as extra supervised steps ({fc['steps']} + "
                 f"{pc['steps']}) reached PCK@0.05 {_pck(long):.3f} on {af} % of the labels; it {verdict} the best "
                 f"pretrained run at that fraction (`{best_name}`, {best:.3f}). At this budget the pretext's head start is "
                 f"{'worth less than' if _pck(long) > best else 'worth at least'} spending the same steps on labels.")
    if pre_runs:
        L += _reading_pretext(pre_runs, pc)
        L += _puzzle_goal_lines(cfg, pre_runs)
    L += ["* One seed per run: differences of a few points are within what a second seed could reverse. The "
          "full-budget comparison the paper makes needs a GPU (`--set pretext.steps=... --set finetune.steps=...`).",
          ""]
    return L


def _reading_pretext(pre_runs: list, pc: dict[str, Any]) -> list[str]:
    """Did any pretext run learn its puzzle? Judged by the inked patches where they were measured."""
    solved = max(ev["puzzle_precision"] for _, ev in pre_runs)
    inked = [(name, ev) for name, ev in pre_runs if ev.get("inked_precision") is not None]
    if inked:
        name, ev = max(inked, key=lambda t: t[1]["inked_patch_accuracy"] or 0.0)
        chance = 1 / ev["n"] ** 2
        acc = ev["inked_patch_accuracy"] or 0.0
        if acc <= 1.5 * chance:
            verdict = ("even the inked patches are placed at chance level: the pretext has not been learnt "
                       "(docs/results/convergence.md measures why)")
        elif ev["inked_precision"] >= 0.5:
            verdict = "the inked patches are placed well above chance, so the blank patches are what keeps puzzle precision down"
        else:
            verdict = (f"the inked patches are placed above chance ({acc / chance:.1f}× chance) but far from all of them, "
                       "so the pretext is only partly learnt: unplaced inked patches, not only the blank ones, keep "
                       "puzzle precision down")
        return [f"* Pretext learning (`{name}`, N = {ev['n']}, {pc['steps']} steps): inked patches located "
                f"{ev['inked_patch_accuracy']:.3f}, images with every inked patch located {ev['inked_precision']:.3f}, "
                f"against puzzle precision {ev['puzzle_precision']:.3f} over all patches (chance per patch "
                f"{chance:.3f}); {verdict}."]
    above = [name for name, ev in pre_runs if ev["patch_accuracy"] > 1.5 / ev["n"] ** 2]
    return [f"* No pretext run learned to solve puzzles: the best puzzle precision is {solved:.3f}, and "
            f"{len(above)} of {len(pre_runs)} runs located patches clearly above chance (more than 1.5 × 1/N²). "
            f"{pc['steps']} steps of {pc['batch_size']} images stay in the \"predict zeros\" phase of heatmap MSE "
            "(docs/hsjp.md), so whatever the pretrained weights contribute here is a generic initialisation, not a "
            "learned part-layout model."]


PUZZLE_GOAL = 0.9   # issue 18: puzzle precision on held-out images at N = 3


def _puzzle_goal_lines(cfg: dict[str, Any], pre_runs: list) -> list[str]:
    """Each stick pretext's puzzle precision against the goal and against the best any solver can do on the
    same held-out images (ambiguity.py: blank patches are interchangeable)."""
    from ...core.config import load_config
    from .ambiguity import measure

    seed = int(load_config(cfg["stick"]["profile"])["data"]["seeds"]["test"])
    out = []
    for name, ev in pre_runs:
        if ev.get("inked_precision") is None:  # not a stick-figure pretext: no ink masks, no ceiling
            continue
        ceiling = measure(int(ev["images"]), ns=(int(ev["n"]),), seed=seed)[0]["precision_ceiling"]
        reachable = ceiling >= PUZZLE_GOAL
        out.append(f"* **Goal: puzzle precision ≥ {PUZZLE_GOAL:g}** (`{name}`, N = {ev['n']}): measured "
                   f"{ev['puzzle_precision']:.3f} — {'met' if ev['puzzle_precision'] >= PUZZLE_GOAL else 'not met'}. "
                   f"A solver that places every inked patch exactly still has to guess the blank ones, so on these "
                   f"{ev['images']} held-out images it reaches at most {ceiling:.3f} "
                   f"(`experiments/hsjp/ambiguity.py`): " + ("the goal is within reach of a perfect solver."
                                                            if reachable else
                                                            "the goal cannot be met on stick figures; the inked "
                                                            "measures are what the pretext can learn."))
    return out


def _plot(curve, path: Path, n0: int) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    f = [100 * c[0] for c in curve]
    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.plot(f, [c[1] for c in curve], "o-", label="from scratch")
    ax.plot(f, [c[2] for c in curve], "s-", label=f"HSJP N={n0}")
    ax.set_xlabel("labelled training images (%)")
    ax.set_ylabel("test PCK@0.1 (bbox)")
    ax.set_xscale("log")
    ax.set_xticks(f, [f"{x:g}" for x in f])
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
