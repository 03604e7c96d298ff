"""Per-cycle joint results, the critical joint and fatigue life, with its basis, from a cycling record.

Besides the FE damage measures (dW, inelastic strain per cycle and pad
interface) every joint gets the inputs of the Engelmaier closed form
(:func:`effective_ctes`), and the critical joint's lives carry their basis:
joint, interface, cycle used, stabilisation over the last two cycles, the
method (section, kinematics, averaging layer, joint element size, solder
model) and the constants used (a calibration's, or the literature's).
"""

from __future__ import annotations

import math

import numpy as np

from .calibration import NO_CALIBRATION, method_differences
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


# --- Engelmaier closed-form inputs ----------------------------------------------------------------

COLUMNS = 200  # vertical sample lines between the neutral point and the outermost joint


def column_thickness(corners: np.ndarray, x: float) -> np.ndarray:
    """(E,) length of the vertical line x = const inside each straight-sided triangle, corners (E, 3, 2)."""
    xa, ya = corners[:, :, 0], corners[:, :, 1]
    xb, yb = np.roll(xa, -1, axis=1), np.roll(ya, -1, axis=1)
    dx = xb - xa
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (x - xa) / dx
    hit = (dx != 0) & (t >= 0) & (t <= 1)
    y = ya + np.where(hit, t, 0.0) * (yb - ya)
    top = np.where(hit, y, -np.inf).max(axis=1)
    bot = np.where(hit, y, np.inf).min(axis=1)
    return np.where(np.isfinite(top) & np.isfinite(bot), np.maximum(top - bot, 0.0), 0.0)


def column_ctes(model, elements: np.ndarray, E: np.ndarray, alpha: np.ndarray, stations: np.ndarray) -> np.ndarray:
    """E t-weighted CTE sum(E alpha t) / sum(E t) of the given elements along vertical lines at ``stations``
    (nan where the line crosses none of them); a loop over the stations, vectorized over the elements."""
    corners = model.nodes[model.elements[elements, :3]]
    xmin, xmax = corners[:, :, 0].min(axis=1), corners[:, :, 0].max(axis=1)
    out = np.full(len(stations), np.nan)
    for i, x in enumerate(stations):
        near = np.flatnonzero((xmin <= x) & (xmax >= x))
        if near.size == 0:
            continue
        Et = column_thickness(corners[near], float(x)) * E[near]
        if Et.sum() > 0:
            out[i] = float((Et * alpha[near]).sum() / Et.sum())
    return out


def effective_ctes(model, assignment, t_min_C: float, t_max_C: float, joints: list[dict]) -> dict[str, dict]:
    """The Engelmaier inputs of every joint: {name: {dnp_mm, height_mm, alpha_*_per_K, delta_alpha_per_K,
    delta_T_K}} or {name: {reason}}.

    Choice (docs/fatigue.md): each body (package above the joints, board below them) expands freely
    in the plane of the section; at a station x its layers act in parallel, so the column CTE is the
    E t-weighted mean alpha(x) = sum_i E_i alpha_i t_i / sum_i E_i t_i over the layers the vertical
    line at x crosses (Turner's rule of mixtures); the free displacement at the joint is the integral
    of alpha(x) dT from the neutral point to the joint, so the effective CTE is the mean of alpha(x)
    over [neutral point, joint].  alpha_i is the secant CTE over the cycle,
    (eps_th(T_max) - eps_th(T_min)) / dT, in-plane (alpha1 of an orthotropic layer); E_i is taken at
    the mean cyclic temperature (a viscoelastic layer: its glassy modulus).  Limits: no bending
    (warpage lowers the real mismatch of a thin package on a thick board), no coupling through the
    joints' stiffness, one plane (a section through the centre row, not the diagonal, unless the
    section is the diagonal one).  Regions: package = element centroids above the package's bottom
    surface, board = centroids below the board's top (bottom minus stand-off); the joints belong to
    neither.
    """
    info = model.info
    y_bottom = info.get("package_bottom_y_mm")
    standoff = info.get("standoff_mm")
    if model.nodes.shape[1] != 2:
        reason = "the Engelmaier closed form's CTEs are formed on 2D sections only (this model is not 2D)"
        return {j["name"]: {"reason": reason} for j in joints}
    if y_bottom is None or standoff is None or not joints:
        reason = "the model gives no package bottom and stand-off (a mesh-file model): no Engelmaier closed form"
        return {j["name"]: {"reason": reason} for j in joints}
    joint_regions = {j["name"] for j in joints}
    regions = [r for r in model.region_names if r not in joint_regions and r in assignment]
    dT = float(t_max_C - t_min_C)
    Tm = 0.5 * (t_min_C + t_max_C)
    n_reg = len(model.region_names)
    E_r, a_r = np.zeros(n_reg), np.zeros(n_reg)
    for r in regions:
        m = assignment[r]
        i = model.region_index(r)
        E_r[i] = m.elastic.youngs_modulus(Tm)
        a_r[i] = m.elastic.thermal_strain(t_max_C, t_min_C)[0] / dT
    ycen = model.nodes[model.elements[:, :3], 1].mean(axis=1)
    reg = model.element_region
    active = np.isin(reg, [model.region_index(r) for r in regions])
    pkg = active & (ycen > y_bottom)
    brd = active & (ycen < y_bottom - standoff)
    E_e, a_e = E_r[reg], a_r[reg]
    # the neutral point: x = 0 for a half section (the symmetry line), else the package's middle
    half = bool(info.get("half", True))
    xs = [float(j["x_mm"]) for j in joints]
    if half:
        x0 = 0.0
    else:
        xe = model.nodes[model.elements[pkg][:, :3], 0]
        x0 = 0.5 * (float(xe.min()) + float(xe.max())) if xe.size else 0.0
    reach = max(abs(x - x0) for x in xs)
    out = {}
    for side in (1.0, -1.0):
        these = [j for j, x in zip(joints, xs) if (x - x0) * side >= 0 and j["name"] not in out]
        if not these:
            continue
        # midpoints of COLUMNS equal strips from the neutral point to the farthest joint on this side
        s = (np.arange(COLUMNS) + 0.5) / COLUMNS * reach
        cols = {}
        for name, mask in (("package", pkg), ("board", brd)):
            idx = np.flatnonzero(mask)
            cols[name] = column_ctes(model, idx, E_e[idx], a_e[idx], x0 + side * s)
        edges = np.arange(COLUMNS + 1) / COLUMNS * reach
        for j in these:
            L = float(j.get("dnp_mm", abs(float(j["x_mm"]) - x0)))
            h = float(j.get("standoff_mm", standoff))
            r = min(abs(float(j["x_mm"]) - x0), reach)
            used = s - 0.5 * reach / COLUMNS < r - 1e-12
            if not np.all(np.isfinite(cols["package"][used])) or not np.all(np.isfinite(cols["board"][used])):
                out[j["name"]] = {"reason": "a station between the neutral point and the joint has no package or "
                                  "board layer: no Engelmaier closed form"}
                continue
            mean = {}
            for name in ("package", "board"):
                # the mean of alpha(x) over [0, r]: midpoint rule on the strips, the last one partial
                cum = np.concatenate([[0.0], np.cumsum(np.nan_to_num(cols[name]) * reach / COLUMNS)])
                mean[name] = float(np.interp(r, edges, cum) / r) if r > 0 else float(cols[name][0])
            alpha_p, alpha_b = mean["package"], mean["board"]
            out[j["name"]] = {"dnp_mm": L, "height_mm": h, "alpha_package_per_K": alpha_p,
                              "alpha_board_per_K": alpha_b, "delta_alpha_per_K": abs(alpha_b - alpha_p),
                              "delta_T_K": dT, "cte_basis": "E t-weighted in-plane secant CTE of the layers over "
                              "the joint, averaged from the neutral point to the joint (docs/fatigue.md)"}
    return out


def effective_ctes_layers(model, assignment, t_min_C: float, t_max_C: float, joints: list[dict]) -> dict[str, dict]:
    """The Engelmaier inputs of every joint of a 3D assembly built of plan-view layers, as
    :func:`effective_ctes` forms them on a section: the E t-weighted in-plane secant CTE of the columns
    the package and the board are made of, averaged along the straight line from the neutral point
    (the centre, x = y = 0) to the joint (docs/fatigue.md).

    ``model.info['layers']``: the package's layers (z0, z1, ``inside``: the region within the die's
    square, ``outside``: beyond it); the board's column is its mask (``board_mask_thickness``) on the
    laminate (``pcb_thickness``); pads and traces are left out (a few um of copper).  Limits as in 2D:
    no bending, no coupling through the joints."""
    info = model.info
    dims = info.get("dimensions_mm") or {}
    layers = info.get("layers")
    if not layers or "pcb_thickness" not in dims:
        reason = "the 3D model gives no plan-view layers and board thickness: no Engelmaier closed form"
        return {j["name"]: {"reason": reason} for j in joints}
    dT = float(t_max_C - t_min_C)
    Tm = 0.5 * (t_min_C + t_max_C)

    def props(region):
        m = assignment[region]
        return m.elastic.youngs_modulus(Tm), m.elastic.thermal_strain(t_max_C, t_min_C)[0] / dT

    def column(parts):  # [(thickness, region)] -> E t-weighted CTE
        Et = np.array([t * props(r)[0] for t, r in parts])
        a = np.array([props(r)[1] for t, r in parts])
        return float((Et * a).sum() / Et.sum())

    half_die = 0.5 * float(dims["die_width"])
    inside = column([(L["z1"] - L["z0"], L["inside"]) for L in layers])
    outside = column([(L["z1"] - L["z0"], L["outside"]) for L in layers])
    board_parts = [(float(dims["pcb_thickness"]), "board")]
    if "board_mask" in assignment and float(dims.get("board_mask_thickness", 0.0)) > 0:
        board_parts.append((float(dims["board_mask_thickness"]), "board_mask"))
    alpha_b = column(board_parts)
    out = {}
    for j in joints:
        x, y = float(j["x_mm"]), float(j["y_mm"])
        L = math.hypot(x, y)
        # the fraction of the line 0 -> (x, y) inside the die's square (max(|x|, |y|) s <= half die)
        frac = 1.0 if max(abs(x), abs(y)) <= half_die else half_die / max(abs(x), abs(y))
        alpha_p = frac * inside + (1.0 - frac) * outside
        out[j["name"]] = {"dnp_mm": float(j.get("dnp_mm", L)), "height_mm": float(j["standoff_mm"]),
                          "alpha_package_per_K": alpha_p, "alpha_board_per_K": alpha_b,
                          "delta_alpha_per_K": abs(alpha_b - alpha_p), "delta_T_K": dT,
                          "cte_basis": "E t-weighted in-plane secant CTE of the plan-view layers over the joint "
                                       "(inside and beyond the die), averaged along the line from the centre to "
                                       "the joint (docs/fatigue.md)"}
    return out


# --- the method of a run ----------------------------------------------------------------------------

def run_method(run, layer_mm: float) -> dict:
    """What the FE damage measure depends on (a calibration's constants belong to this)."""
    model = run.problem.model
    sizes = []
    for b in (run.bands if model.nodes.shape[1] == 2 else []):  # triangles; a 3D model: no size recorded
        g = run.problem.groups[b.group]
        Q = run.problem.Q
        elems = np.unique(g.elements[b.points // Q])
        P = model.nodes[model.elements[elems, :3]]
        area = 0.5 * np.abs((P[:, 1, 0] - P[:, 0, 0]) * (P[:, 2, 1] - P[:, 0, 1])
                            - (P[:, 2, 0] - P[:, 0, 0]) * (P[:, 1, 1] - P[:, 0, 1]))
        sizes.append(np.sqrt(2.0 * area))  # the leg of a right isosceles triangle of that area
    size = float(np.median(np.concatenate(sizes))) if sizes else None
    kinds = sorted({g.model.kind for g in run.problem.groups if g.material.name in
                    {m for m in _joint_materials(run)}})
    return {
        "section": str(model.info.get("section", "centre_line")),
        "kinematics": run.problem.kin.name,
        "interface_layer_mm": float(layer_mm),
        "joint_element_size_mm": None if size is None else round(size, 6),
        "solder_model": ",".join(kinds) if kinds else None,
    }


def _joint_materials(run):
    model = run.problem.model
    names = {j["name"] for j in model.info.get("joints", [])}
    out = set()
    for g in run.problem.groups:
        regs = {model.region_names[i] for i in np.unique(model.element_region[g.elements])}
        if regs & names:
            out.add(g.material.name)
    return out


def summarize(run, rec, assignment, fatigue_models: list[str], T_sj: float, dwell_min: float,
              calibration=None) -> dict:
    """The ``cycling`` block of summary.json (units in every key).

    ``fatigue_models`` is the case's ``[fatigue] models`` list; ``calibration`` the calibration it cites
    (:class:`reliability.analysis.calibration.Calibration`, or None: the literature constants)."""
    model = run.problem.model
    layer = float(getattr(run.settings, "interface_layer_mm", 0.025))
    method = run_method(run, layer)
    joints_list = [j for j in model.info.get("joints", []) if j["name"] in model.region_names]
    joints_info = {j["name"]: j for j in joints_list}
    prof = run.settings.profile
    try:
        engel = effective_ctes(model, assignment, prof.t_min_C, prof.t_max_C, joints_list)
    except Exception as exc:  # a hand check must never stop a finished run; say why it is missing
        engel = {j["name"]: {"reason": f"Engelmaier inputs could not be formed ({type(exc).__name__}: {exc})"}
                 for j in joints_list}
    cycles = per_cycle(run, rec)
    return joints_block(cycles, joints_info, assignment, fatigue_models, T_sj, dwell_min, engel, method, calibration)


def joints_block(cycles: dict[str, list[dict]], joints_info: dict[str, dict], assignment, fatigue_models: list[str],
                 T_sj: float, dwell_min: float, engel: dict[str, dict], method: dict, calibration=None) -> dict:
    """``joints`` (each with its per-cycle rows and lives, from the centre out), ``fatigue_method`` and the
    ``critical_joint`` block, from per-cycle rows ``{joint: [{cycle, dW_<side>_MPa,
    inelastic_strain_<side>}, ...]}``; shared by the 2D sections and the 3D quarter assembly.

    The critical joint is the one with the largest last-cycle dW over its two pad interfaces; each
    joint's life uses its worse interface, its pad radius as Darveaux's crack length."""
    warnings_method = method_differences(method, calibration.method) if calibration is not None else []
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
        for key in ("row", "col"):  # a 3D array's joint: its place in the quarter's grid
            if key in info:
                entry[key] = int(info[key])
        if len(rows) >= 2:
            prev = rows[-2][f"dW_{worst}_MPa"]
            entry["dW_change_last_two_cycles_percent"] = 100.0 * abs(dW - prev) / dW if dW > 0 else 0.0
        pad = info.get(f"pad_{worst}_mm") or info.get("pad_package_mm") or 0.0
        entry["crack_length_mm"] = pad
        entry["life"] = joint_life(assignment[name], fatigue_models, dW, last[f"inelastic_strain_{worst}"], pad,
                                   T_sj, dwell_min, engelmaier_inputs=engel.get(name), calibration=calibration)
        joints.append(entry)
        if critical is None or dW > critical["dW_last_cycle_MPa"]:
            critical = entry
    out = {"joints": joints, "fatigue_method": method}
    if critical is not None:
        out["critical_joint"] = critical_block(critical, method, calibration, warnings_method, T_sj, dwell_min)
        for key in ("row", "col"):
            if key in critical:
                out["critical_joint"][key] = critical[key]
        # the hand check's own worst joint (largest DNP strain), which need not be the FE-critical one
        hand = [(j["life"]["engelmaier"]["N63_2_cycles"], j) for j in joints
                if j["life"].get("engelmaier", {}).get("available")]
        if hand:
            N, j = min(hand, key=lambda t: t[0])
            out["critical_joint"]["engelmaier_worst_joint"] = {"name": j["name"], "dnp_mm": j["dnp_mm"],
                                                               "N63_2_cycles": N}
    return out


def critical_block(critical: dict, method: dict, calibration, method_warnings: list[str], T_sj: float,
                   dwell_min: float) -> dict:
    """The critical joint with its lives and their basis (and the warnings a reader must see)."""
    change = critical.get("dW_change_last_two_cycles_percent")
    note = stabilisation_note(change)
    rows = critical["cycles"]
    side = critical["critical_interface"]
    warnings = []
    if not note.startswith("stabilised"):
        warnings.append(f"dW has not stabilised ({note}); the lives are not a stabilised-cycle result")
    material = critical["material"]
    if calibration is not None:
        if calibration.solder.lower() != material.lower():
            warnings.append(f"calibration '{calibration.name}' was fitted for solder {calibration.solder}, this "
                            f"joint is {material}: its constants are not used (literature constants instead)")
        if method_warnings:
            warnings.append(f"calibration '{calibration.name}' was fitted with another method: "
                            + "; ".join(method_warnings) + " - its constants may not transfer; recalibrate for "
                            "this method")
    used = [v.get("constants", "") for v in critical["life"].values() if v.get("available")]
    if calibration is not None and any(u.startswith("calibration") for u in used):
        constants = f"calibration '{calibration.name}' ({calibration.path})"
    else:
        constants = NO_CALIBRATION
    basis = {
        "joint": critical["name"],
        "interface": side,
        "dnp_mm": critical["dnp_mm"],
        "material": material,
        "cycle_used": rows[-1]["cycle"],
        "cycles_run": len(rows),
        "dW_last_two_cycles_MPa": [r[f"dW_{side}_MPa"] for r in rows[-2:]],
        "stabilisation_percent": change,
        "stabilised": note.startswith("stabilised"),
        "crack_length_mm": critical.get("crack_length_mm"),
        "inelastic_strain_last_cycle": rows[-1][f"inelastic_strain_{side}"],
        "mean_cyclic_temperature_C": T_sj,
        "dwell_min": dwell_min,
        "constants": constants,
        "method": method,
    }
    if calibration is not None:
        basis["calibration_method"] = calibration.method
    return {
        "name": critical["name"],
        "interface": side,
        "dnp_mm": critical["dnp_mm"],
        "dW_MPa": critical["dW_last_cycle_MPa"],
        "stabilisation_percent": change,
        "stabilisation_note": note,
        "life": critical["life"],
        "basis": basis,
        "warnings": warnings,
    }


def life_lines(crit: dict) -> list[str]:
    """Plain-text lines of the critical joint's lives with their basis (CLI and report)."""
    b = crit.get("basis") or {}
    lines = []
    if b:
        stab = b.get("stabilisation_percent")
        stab_txt = "n/a (1 cycle)" if stab is None or (isinstance(stab, float) and math.isnan(stab)) \
            else f"{stab:.1f} %"
        lines.append(f"basis: joint {b['joint']}, {b['interface']} interface, cycle {b['cycle_used']} of "
                     f"{b['cycles_run']}, dW change over the last two cycles {stab_txt}; constants: {b['constants']}")
        m = b.get("method") or {}
        lines.append("method: " + ", ".join(f"{k} {v}" for k, v in m.items() if v is not None))
    for model, life in crit["life"].items():
        if not life.get("available"):
            lines.append(f"  {model:<13} not available: {life['reason']}")
            continue
        text = f"  {model:<13} N63.2 = {life['N63_2_cycles']:,.0f} cycles, N1% = {life['N1_cycles']:,.0f}"
        if model == "engelmaier":
            text += (f"  (hand check: dgamma = {life['shear_strain_range']:.4g} from DNP {life['dnp_mm']:.3g} mm, "
                     f"h {life['height_mm']:.3g} mm, |dalpha| {1e6 * life['delta_alpha_per_K']:.2f} ppm/K (package "
                     f"{1e6 * life.get('alpha_package_per_K', float('nan')):.2f}, board "
                     f"{1e6 * life.get('alpha_board_per_K', float('nan')):.2f}), "
                     f"F {life['F']:.3g})")
        cal = life.get("calibration")
        if cal:
            band = cal.get("scatter_band_factor")
            text += (f"  [calibration {cal['name']}, {cal['vehicles']} vehicle(s), in-sample scatter band "
                     + (f"x{band:.3g}" if band is not None else "n/a")
                     + (" (one vehicle: exact fit, no scatter estimate)" if cal.get("vehicles") == 1 else "") + "]")
        lines.append(text)
    hw = crit.get("engelmaier_worst_joint")
    if hw and hw["name"] != crit["name"]:
        lines.append(f"  (the Engelmaier hand check's own worst joint is {hw['name']}, DNP {hw['dnp_mm']:.3g} mm: "
                     f"N63.2 = {hw['N63_2_cycles']:,.0f} cycles)")
    for w in crit.get("warnings", []):
        lines.append(f"WARNING: {w}")
    return lines
