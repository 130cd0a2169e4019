"""The HSJP experiment plan: every pretext run and every fine-tune of a config, in run order.

Runs (names are directories under ``run.out_dir``):

* pretext ``p{N}`` for N in ``ablate_n`` (and ``main_n``), ``p{N}c`` (unshuffled image
  concatenated) for N in ``concat_n``, ``p{N}sp`` (stick figures + pressure maps);
* fine-tunes ``scratch_f{pct}`` and ``hsjp{main_n}_f{pct}`` for every label fraction,
  ``hsjp{N}_f{pct}`` / ``hsjp{N}c_f{pct}`` at ``ablate_fraction`` for the ablations,
  ``scratch_long_f{pct}`` with pretext + fine-tune steps (same total), ``hsjp{N}sp_f{pct}``.
"""
from __future__ import annotations

from typing import Any

from ...codecs.jigsaw import PretextSpec


def pct(f: float) -> str:
    return f"{int(round(f * 100))}"


def plan(cfg: dict[str, Any]) -> list[dict[str, Any]]:
    e = cfg["experiments"]
    main_n = int(e["main_n"])
    sf = float(cfg["pretext"].get("sigma_fraction", 0.75))
    jobs: list[dict[str, Any]] = []
    pre_names = set()

    def pre(n: int, concat: bool = False, pressure: bool = False) -> str:
        name = f"p{n}{'c' if concat else ''}{'sp' if pressure else ''}"
        if name not in pre_names:
            pre_names.add(name)
            jobs.append({"kind": "pretext", "name": name, "n": n, "concat": concat, "pressure": pressure,
                         "spec": PretextSpec(n=n, concat=concat, sigma_fraction=sf)})
        return name

    def ft(name: str, fraction: float, init=None, steps=None, group="main"):
        if all(j["name"] != name for j in jobs):
            jobs.append({"kind": "finetune", "name": name, "fraction": fraction, "init": init, "group": group,
                         "steps": int(steps or cfg["finetune"]["steps"])})

    p_main = pre(main_n)
    for f in e["fractions"]:
        ft(f"scratch_f{pct(f)}", f)
        ft(f"hsjp{main_n}_f{pct(f)}", f, p_main)
    af = float(e.get("ablate_fraction", 1.0))
    if e.get("same_total", True):
        ft(f"scratch_long_f{pct(af)}", af, steps=int(cfg["finetune"]["steps"]) + int(cfg["pretext"]["steps"]),
           group="same_total")
    ft(f"scratch_f{pct(af)}", af)
    for n in e.get("ablate_n", []):
        ft(f"hsjp{n}_f{pct(af)}", af, pre(int(n)), group="ablate_n")
    for n in e.get("concat_n", []):
        ft(f"hsjp{n}c_f{pct(af)}", af, pre(int(n), concat=True), group="concat")
    if e.get("pressure"):
        pf = float(e.get("pressure_fraction", 0.1))
        ft(f"scratch_f{pct(pf)}", pf)
        ft(f"hsjp{main_n}_f{pct(pf)}", pf, p_main)
        ft(f"hsjp{main_n}sp_f{pct(pf)}", pf, pre(main_n, pressure=True), group="pressure")
    # pretext runs first (fine-tunes depend on them)
    return [j for j in jobs if j["kind"] == "pretext"] + [j for j in jobs if j["kind"] == "finetune"]
