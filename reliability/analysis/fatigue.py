"""Solder-joint fatigue life from the stabilised cycle (physics.md 3, docs/fatigue.md).

FE-based models (their damage measure is read from the analysis, per joint and
pad interface, in the last cycle run):

* Darveaux (energy, crack initiation + growth): N0 = K1 dW^K2,
  da/dN = K3 dW^K4, characteristic life N63.2 = N0 + a / (da/dN) with the
  crack length a = the pad diameter at the crack plane; dW in MPa, a in mm
  (R. Darveaux, ECTC 2000; form C: COMSOL Fatigue Module User's Guide).
* Syed (accumulated creep energy): N63.2 = 1 / (W' dW), W' in 1/MPa
  (A. Syed, ECTC 2004).
* Morrow (energy, inelastic work): dW = W_f' N^m, i.e. N63.2 = (dW / W_f')^(1/m),
  m < 0, W_f' in MPa (J. Morrow, ASTM STP 378, 1965; form C: COMSOL Fatigue
  Module User's Guide, "Morrow" energy-based model).
* Coffin-Manson (inelastic strain): dgamma_p / 2 = eps_f' (2 N50)^c, i.e.
  N50 = 1/2 (dgamma_p / (2 eps_f'))^(1/c) (L. F. Coffin, Trans. ASME 76, 1954;
  S. S. Manson, NACA TN 2933, 1953).  dgamma_p is the cyclic inelastic shear
  strain range: sqrt(3) times half the equivalent inelastic strain
  accumulated over the cycle (a closed loop is traversed twice).  This is
  what the project called "Engelmaier" before issue 18.

Hand check (no FE quantity in it):

* Engelmaier (IPC-D-279, IPC-SM-785, IPC-9701): the global cyclic shear
  strain of a joint from the closed form
  dgamma = F L_D |alpha_board - alpha_package| dT / h
  (L_D the joint's distance from the neutral point, h the joint height, dT the
  cyclic temperature range, F the non-ideal / calibration factor, 0.5-1.5,
  1 by default), then N50 = 1/2 (dgamma / (2 eps_f'))^(1/c) with
  c = c0 + c1 T_sj + c2 ln(1 + 360 / t_D), T_sj the mean cyclic temperature
  (C), t_D the half-cycle dwell (min).  The effective CTEs of package and board
  come from :func:`effective_ctes` (reliability/analysis/cycling_results.py).

Weibull percentiles from the shape beta: F(N) = 1 - exp[-(N/eta)^beta],
N(x %) = eta (-ln(1 - x/100))^(1/beta); eta = N63.2 (Darveaux, Syed, Morrow)
or N50 / (ln 2)^(1/beta) (Engelmaier, Coffin-Manson).

The constants belong to the solder material (``[fatigue.*]`` in its file,
with sources) unless a calibration (reliability/analysis/calibration.py)
replaces them; a model without constants for that solder is reported as not
available, with the reason.
"""

from __future__ import annotations

import math

MODELS = ("darveaux", "syed", "engelmaier", "morrow", "coffin_manson")
# models whose life is the median (N50) by construction; the others give the characteristic life N63.2
MEDIAN_MODELS = ("engelmaier", "coffin_manson")


def weibull(eta: float, beta: float) -> dict:
    def pct(x):
        return eta * (-math.log(1 - x / 100.0)) ** (1.0 / beta)

    return {"N1_cycles": pct(1.0), "N50_cycles": pct(50.0), "N63_2_cycles": eta, "weibull_shape": beta}


def n50_to_n63(N50: float, beta: float) -> float:
    """Characteristic life eta of a two-parameter Weibull whose median is N50: eta = N50 / (ln 2)^(1/beta)."""
    return N50 / math.log(2.0) ** (1.0 / beta) if math.isfinite(N50) else math.inf


def darveaux(dW: float, crack_length_mm: float, K1: float, K2: float, K3: float, K4: float) -> dict:
    if dW <= 0:
        return {"N0_cycles": math.inf, "crack_growth_mm_per_cycle": 0.0, "N63_2_cycles": math.inf}
    N0 = K1 * dW**K2
    rate = K3 * dW**K4
    return {"N0_cycles": N0, "crack_growth_mm_per_cycle": rate, "N63_2_cycles": N0 + crack_length_mm / rate}


def syed(dW: float, W_prime: float) -> dict:
    return {"N63_2_cycles": math.inf if dW <= 0 else 1.0 / (W_prime * dW)}


def morrow(dW: float, W_f_MPa: float, m: float) -> dict:
    """Morrow energy model: dW = W_f' N^m -> N63.2 = (dW / W_f')^(1/m) (m < 0)."""
    return {"N63_2_cycles": math.inf if dW <= 0 else (dW / W_f_MPa) ** (1.0 / m)}


def coffin_manson(dgamma_p: float, eps_f: float, c: float) -> dict:
    """Coffin-Manson on the inelastic shear strain range: N50 = 1/2 (dgamma_p / (2 eps_f'))^(1/c) (c < 0)."""
    N50 = math.inf if dgamma_p <= 0 else 0.5 * (dgamma_p / (2.0 * eps_f)) ** (1.0 / c)
    return {"inelastic_shear_strain_range": dgamma_p, "N50_cycles": N50}


def engelmaier_exponent(T_sj: float, dwell_min: float, c0: float, c1: float, c2: float) -> float:
    return c0 + c1 * T_sj + c2 * math.log(1.0 + 360.0 / dwell_min)


def engelmaier_shear_strain(F: float, dnp_mm: float, delta_alpha_per_K: float, delta_T_K: float,
                            height_mm: float) -> float:
    """IPC-D-279 global cyclic shear strain: dgamma = F L_D |dalpha| dT / h (dimensionless)."""
    return F * dnp_mm * abs(delta_alpha_per_K) * delta_T_K / height_mm


def engelmaier(dgamma: float, T_sj: float, dwell_min: float, eps_f: float, c0: float, c1: float, c2: float) -> dict:
    """N50 = 1/2 (dgamma / (2 eps_f'))^(1/c) for a given cyclic shear strain range dgamma."""
    c = engelmaier_exponent(T_sj, dwell_min, c0, c1, c2)
    N50 = math.inf if dgamma <= 0 else 0.5 * (dgamma / (2.0 * eps_f)) ** (1.0 / c)
    return {"c": c, "shear_strain_range": dgamma, "N50_cycles": N50}


def _constants(spec, name: str, calibration, material_name: str):
    """(constants object or dict, where they come from, calibration note or None) of one model."""
    if calibration is not None:
        fitted = calibration.constants_for(name, material_name)
        if fitted is not None:
            return fitted, f"calibration '{calibration.name}' ({calibration.path})", calibration.model_note(name)
    constants = getattr(spec, name, None) if spec else None
    if constants is None:
        return None, None, None
    return constants.model_dump(), f"literature: [fatigue.{name}] of material '{material_name}'", None


def joint_life(material, models: list[str], dW: float, dp_cycle: float, crack_length_mm: float,
               T_sj: float, dwell_min: float, engelmaier_inputs: dict | None = None, calibration=None) -> dict:
    """Life of one joint by each requested model, with Weibull percentiles.

    ``engelmaier_inputs``: ``{dnp_mm, height_mm, delta_alpha_per_K, delta_T_K}`` of the joint (the
    closed form's inputs, or ``{"reason": ...}`` when they could not be formed); ``calibration``: a
    :class:`~reliability.analysis.calibration.Calibration` whose fitted constants replace the
    material's for the models it holds."""
    spec = material.spec.fatigue
    beta = spec.weibull.shape if spec else 4.0
    out = {}
    for name in models:
        k, origin, note = _constants(spec, name, calibration, material.name)
        if k is None:
            out[name] = {"available": False, "reason": f"no [fatigue.{name}] constants for material "
                         f"'{material.name}'" + ("" if name not in ("morrow", "coffin_manson") else
                                                 " (no cited SAC/SnPb values shipped; calibrate them with "
                                                 "`reliability calibrate`, or give the block)")}
            continue
        if name == "darveaux":
            r = darveaux(dW, crack_length_mm, k["K1_cycles"], k["K2"], k["K3_mm_per_cycle"], k["K4"])
            r["dW_MPa"] = dW
            r.update(weibull(r["N63_2_cycles"], beta))
        elif name == "syed":
            r = syed(dW, k["W_prime_per_MPa"])
            r["dW_MPa"] = dW
            r.update(weibull(r["N63_2_cycles"], beta))
        elif name == "morrow":
            r = morrow(dW, k["W_f_MPa"], k["m"])
            r["dW_MPa"] = dW
            r.update(weibull(r["N63_2_cycles"], beta))
        elif name == "coffin_manson":
            r = coffin_manson(math.sqrt(3.0) * 0.5 * dp_cycle, k["eps_f"], k["c"])
            r.update(weibull(n50_to_n63(r["N50_cycles"], beta), beta))
        else:  # engelmaier: the closed-form hand check
            inp = engelmaier_inputs or {"reason": "no joint geometry (DNP, height) for the closed form"}
            if "reason" in inp:
                out[name] = {"available": False, "reason": inp["reason"]}
                continue
            F = k.get("F", 1.0)
            dgamma = engelmaier_shear_strain(F, inp["dnp_mm"], inp["delta_alpha_per_K"], inp["delta_T_K"],
                                             inp["height_mm"])
            r = engelmaier(dgamma, T_sj, dwell_min, k["eps_f"], k["c0"], k["c1_per_C"], k["c2"])
            r.update({"F": F, "closed_form": "dgamma = F L_D |alpha_board - alpha_package| dT / h", **inp,
                      "basis": "hand check: global DNP shear strain, no FE quantity"})
            r.update(weibull(n50_to_n63(r["N50_cycles"], beta), beta))
        r["available"] = True
        r["constants"] = origin
        if note:
            r["calibration"] = note
        out[name] = r
    return out
