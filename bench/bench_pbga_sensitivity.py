"""Sensitivity of the PBGA test vehicle's predicted life to its unverified dimensions.

    python bench/bench_pbga_sensitivity.py                          # diagonal case, the two default dimensions
    python bench/bench_pbga_sensitivity.py --dims ball_diameter solder_mask_opening substrate_thickness
    python bench/bench_pbga_sensitivity.py --case cases/pbga_motalab.toml --change 0.2
    python bench/bench_pbga_sensitivity.py --dims pcb_thickness solder_mask_opening+ball_pad_diameter \
        --base-summary results/pbga_motalab/summary.json     # a pad with its opening; reuse a base run

Runs ``cases/pbga_motalab_diagonal.toml`` (the corner joint in the model) as it
is and with each named ``[geometry.dimensions_mm]`` value times (1 - change)
and (1 + change) (default +-20 %), each a full run from scratch in a temporary
folder (the case's process, 3 cycles), and prints a Markdown table: the
dimension, its value, the critical joint, its dW (MPa/cycle), the uncalibrated
Darveaux and Syed N63.2, the ratio of the Darveaux life to the base run's and to
the measured 4,719 cycles (Motalab, physics_reference.md B1), and the wall time.
``a+b`` changes two dimensions together (a mask opening with its pad, which
alone at +20 % would be wider than the pad).  A change that makes the geometry
impossible is reported as such, not run.  The overrides go through
``reliability.sweep.case_variant``, so each run is what a user gets with that
value in the case file.  Results: docs/pbga.md.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tomllib
from pathlib import Path

from reliability.errors import ReliabilityError
from reliability.run import run_case
from reliability.sweep import case_variant

REPO = Path(__file__).resolve().parent.parent
MEASURED_N63 = 4719.0
DEFAULT_DIMS = ("pcb_thickness", "solder_mask_opening+ball_pad_diameter")


def run_one(base: Path, overrides: dict, tmp: Path, tag: str) -> dict:
    text = case_variant(base, overrides, name=f"sens_{tag}")
    path = tmp / f"sens_{tag}.toml"
    path.write_text(text)
    t0 = time.perf_counter()
    try:
        s = run_case(path, tmp / "results" / tag, progress=False, mesh_dir=tmp / "meshes")
    except ReliabilityError as exc:
        return {"error": str(exc).split(": ", 1)[-1]}
    crit = s["cycling"]["critical_joint"]
    return {"joint": crit["name"], "dnp": crit["dnp_mm"], "dW": crit["dW_MPa"],
            "darveaux": crit["life"]["darveaux"]["N63_2_cycles"], "syed": crit["life"]["syed"]["N63_2_cycles"],
            "wall": time.perf_counter() - t0}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--case", default=str(REPO / "cases" / "pbga_motalab_diagonal.toml"))
    ap.add_argument("--dims", nargs="+", default=list(DEFAULT_DIMS))
    ap.add_argument("--change", type=float, default=0.2)
    ap.add_argument("--base-summary", help="summary.json of the unchanged case, instead of running it again")
    args = ap.parse_args()
    base = Path(args.case).resolve()
    dims = tomllib.loads(base.read_text())["geometry"].get("dimensions_mm", {})
    print(f"case {base.name}, each run: its claimed process and 3 cycles; measured N63.2 = {MEASURED_N63:,.0f}\n")
    print("| dimension | value (mm) | critical joint (DNP mm) | dW (MPa) | Darveaux N63.2 | / base | / measured "
          "| Syed N63.2 | wall (s) |")
    print("|---|---|---|---|---|---|---|---|---|", flush=True)
    ref = None

    def row(name, value, r):  # printed as each run ends, so a long sweep shows its rows as it goes
        if "error" in r:
            print(f"| {name} | {value} | refused: {r['error']} | | | | | | |", flush=True)
            return
        print(f"| {name} | {value} | {r['joint']} ({r['dnp']:.2f}) | {r['dW']:.4f} | {r['darveaux']:,.0f} | "
              f"{r['darveaux'] / ref['darveaux']:.2f} | {r['darveaux'] / MEASURED_N63:.2f} | {r['syed']:,.0f} | "
              f"{r['wall']:.0f} |", flush=True)

    with tempfile.TemporaryDirectory(prefix="pbga_sens_") as tmp:
        tmp = Path(tmp)
        if args.base_summary:
            import json

            crit = json.loads(Path(args.base_summary).read_text())["cycling"]["critical_joint"]
            ref = {"joint": crit["name"], "dnp": crit["dnp_mm"], "dW": crit["dW_MPa"],
                   "darveaux": crit["life"]["darveaux"]["N63_2_cycles"],
                   "syed": crit["life"]["syed"]["N63_2_cycles"], "wall": float("nan")}
        else:
            ref = run_one(base, {}, tmp, "base")
        row("(base)", "", ref)
        for group in args.dims:
            names = group.split("+")
            for name in names:
                if name not in dims:
                    raise SystemExit(f"{name}: not in [geometry.dimensions_mm] of {base}")
            for sign in (-1, 1):
                values = {n: dims[n] * (1 + sign * args.change) for n in names}
                tag = f"{names[0]}_{'m' if sign < 0 else 'p'}"
                r = run_one(base, {f"geometry.dimensions_mm.{n}": v for n, v in values.items()}, tmp, tag)
                shown = ", ".join(f"{v:.4g}" for v in values.values())
                row(" + ".join(names), f"{shown} ({'-' if sign < 0 else '+'}{args.change:.0%})", r)


if __name__ == "__main__":
    main()
