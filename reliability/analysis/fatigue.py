"""Solder-joint fatigue life from the stabilised cycle (physics.md 3).

* Darveaux (energy, crack initiation + growth): N0 = K1 dW^K2,
  da/dN = K3 dW^K4, characteristic life N63.2 = N0 + a / (da/dN) with the
  crack length a = the pad diameter at the crack plane; dW in MPa, a in mm.
* Syed (accumulated creep energy): N63.2 = 1 / (W' dW), W' in 1/MPa.
* Engelmaier / Coffin-Manson (IPC-D-279): N50 = 1/2 [dgamma / (2 eps_f')]^(1/c),
  c = c0 + c1 T_sj + c2 ln(1 + 360 / t_D), T_sj the mean cyclic temperature
  (C), t_D the half-cycle dwell (min).  dgamma is the cyclic inelastic shear
  strain range from the analysis: sqrt(3) times half the equivalent inelastic
  strain accumulated over the cycle (a closed loop is traversed twice).
* Weibull percentiles from the shape beta: F(N) = 1 - exp[-(N/eta)^beta],
  N(x %) = eta (-ln(1 - x/100))^(1/beta); eta = N63.2 (Darveaux, Syed) or
  N50 / (ln 2)^(1/beta) (Engelmaier).

The constants belong to the solder material (``[fatigue.*]`` in its file,
with sources); a model without constants for that solder is reported as not
available, with the reason.
"""

from __future__ import annotations

import math

MODELS = ("darveaux", "syed", "engelmaier")


def weibull(eta: float, beta: float) -> dict:
    def pct(x):
        return eta * (-math.log(1 - x / 100.0)) ** (1.0 / beta)

    return {"N1_cycles": pct(1.0), "N50_cycles": pct(50.0), "N63_2_cycles": eta, "weibull_shape": beta}


def darveaux(dW: float, crack_length_mm: float, K1: float, K2: float, K3: float, K4: float) -> dict:
    if dW <= 0:
        return {"N0_cycles": math.inf, "crack_growth_mm_per_cycle": 0.0, "N63_2_cycles": math.inf}
    N0 = K1 * dW**K2
    rate = K3 * dW**K4
    return {"N0_cycles": N0, "crack_growth_mm_per_cycle": rate, "N63_2_cycles": N0 + crack_length_mm / rate}


def syed(dW: float, W_prime: float) -> dict:
    return {"N63_2_cycles": math.inf if dW <= 0 else 1.0 / (W_prime * dW)}


def engelmaier_exponent(T_sj: float, dwell_min: float, c0: float, c1: float, c2: float) -> float:
    return c0 + c1 * T_sj + c2 * math.log(1.0 + 360.0 / dwell_min)


def engelmaier(dgamma: float, T_sj: float, dwell_min: float, eps_f: float, c0: float, c1: float, c2: float) -> dict:
    c = engelmaier_exponent(T_sj, dwell_min, c0, c1, c2)
    N50 = math.inf if dgamma <= 0 else 0.5 * (dgamma / (2.0 * eps_f)) ** (1.0 / c)
    return {"c": c, "shear_strain_range": dgamma, "N50_cycles": N50}


def joint_life(material, models: list[str], dW: float, dp_cycle: float, crack_length_mm: float,
               T_sj: float, dwell_min: float) -> dict:
    """Life of one joint by each requested model, with Weibull percentiles."""
    spec = material.spec.fatigue
    beta = spec.weibull.shape if spec else 4.0
    out = {}
    for name in models:
        constants = getattr(spec, name, None) if spec else None
        if constants is None:
            out[name] = {"available": False, "reason": f"no [fatigue.{name}] constants for material '{material.name}'"}
            continue
        if name == "darveaux":
            r = darveaux(dW, crack_length_mm, constants.K1_cycles, constants.K2, constants.K3_mm_per_cycle,
                         constants.K4)
            r.update(weibull(r["N63_2_cycles"], beta))
        elif name == "syed":
            r = syed(dW, constants.W_prime_per_MPa)
            r.update(weibull(r["N63_2_cycles"], beta))
        else:
            dgamma = math.sqrt(3.0) * 0.5 * dp_cycle
            r = engelmaier(dgamma, T_sj, dwell_min, constants.eps_f, constants.c0, constants.c1_per_C, constants.c2)
            eta = r["N50_cycles"] / math.log(2.0) ** (1.0 / beta) if math.isfinite(r["N50_cycles"]) else math.inf
            r.update(weibull(eta, beta))
        r["available"] = True
        out[name] = r
    return out
