"""Per-cycle joint results, the critical joint and fatigue life from a cycling record."""

from __future__ import annotations

import math

import numpy as np

from .fatigue import joint_life


def per_cycle(run, rec) -> dict[str, list[dict]]:
    """{joint: [{cycle, dW_package_MPa, dW_board_MPa, inelastic_strain_*}, ...]} for cycles 1..N."""
    W = np.array(rec.cycle_W)  # (cycles + 1, bands)
    P = np.array(rec.cycle_p)
    out: dict[str, list[dict]] = {}
    for c in range(1, W.shape[0]):
        for j in {b.joint for b in run.bands}:
            row = {"cycle": c}
            for bi, b in enumerate(run.bands):
                if b.joint != j:
                    continue
                row[f"dW_{b.side}_MPa"] = float(W[c, bi] - W[c - 1, bi])
                row[f"inelastic_strain_{b.side}"] = float(P[c, bi] - P[c - 1, bi])
            row["inelastic_strain_max"] = float(rec.cycle_pmax[c].get(j, 0.0))
            out.setdefault(j, []).append(row)
    return out


STABILISED_PERCENT = 5.0  # U: our rule; dW is read as stabilised when it moved less over the last two cycles


def stabilisation_note(change_percent: float | None) -> str:
    """Whether the critical joint's dW per cycle has stabilised, in words (a life needs a stabilised dW)."""
    if change_percent is None:
        return "not stabilised: one cycle gives no change to judge; run at least 2 cycles (3 or more usual)"
    if change_percent > STABILISED_PERCENT:
        return (f"not stabilised: dW changed {change_percent:.1f} % over the last two cycles (more than "
                f"{STABILISED_PERCENT:g} %); run more cycles before trusting the life")
    return f"stabilised: dW changed {change_percent:.1f} % over the last two cycles (below {STABILISED_PERCENT:g} %)"


def summarize(run, rec, assignment, fatigue_models: list[str], T_sj: float, dwell_min: float) -> dict:
    """The ``cycling`` block of summary.json (units in every key)."""
    model = run.problem.model
    joints_info = {j["name"]: j for j in model.info.get("joints", [])}
    cycles = per_cycle(run, rec)
    joints = []
    critical = None
    for name in sorted(cycles, key=lambda n: joints_info.get(n, {}).get("dnp_mm", 0.0)):
        info = joints_info.get(name, {})
        rows = cycles[name]
        last = rows[-1]
        sides = [s for s in ("package", "board") if f"dW_{s}_MPa" in last]
        worst = max(sides, key=lambda s: last[f"dW_{s}_MPa"])
        dW = last[f"dW_{worst}_MPa"]
        entry = {
            "name": name,
            # to the mesh's precision: 1.7999999999999998 is 1.8 (coordinates carry 12 digits)
            "dnp_mm": None if info.get("dnp_mm") is None else round(float(info["dnp_mm"]), 9),
            "material": assignment[name].name,
            "cycles": rows,
            "dW_last_cycle_MPa": dW,
            "critical_interface": worst,
        }
        if len(rows) >= 2:
            prev = rows[-2][f"dW_{worst}_MPa"]
            entry["dW_change_last_two_cycles_percent"] = 100.0 * abs(dW - prev) / dW if dW > 0 else 0.0
        pad = info.get(f"pad_{worst}_mm") or info.get("pad_package_mm") or 0.0
        entry["crack_length_mm"] = pad
        entry["life"] = joint_life(assignment[name], fatigue_models, dW, last[f"inelastic_strain_{worst}"], pad,
                                   T_sj, dwell_min)
        joints.append(entry)
        if critical is None or dW > critical["dW_last_cycle_MPa"]:
            critical = entry
    out = {"joints": joints}
    if critical is not None:
        out["critical_joint"] = {
            "name": critical["name"],
            "interface": critical["critical_interface"],
            "dnp_mm": critical["dnp_mm"],
            "dW_MPa": critical["dW_last_cycle_MPa"],
            "stabilisation_percent": critical.get("dW_change_last_two_cycles_percent"),
            "stabilisation_note": stabilisation_note(critical.get("dW_change_last_two_cycles_percent")),
            "life": critical["life"],
        }
    return out
