"""Fatigue constants calibrated to test vehicles, for this tool's own method (docs/fatigue.md).

The constants of an energy- or strain-based life model belong to the way the
damage measure was computed: the averaging layer (Darveaux's 1 mil), the
mesh at the pad, the constitutive model, 2D section, diagonal or 3D (physics.md
3.1; R. Darveaux, "Effect of simulation methodology on solder joint crack
growth correlation", ECTC 2000).  Industry therefore fits them to its own
board-level thermal-cycling tests.  This module holds the fit (pure
numbers: one row per test vehicle) and the calibration file a case cites with
``[fatigue] calibration = "calibrations/NAME.toml"``.

Fits (measured characteristic life N63.2_i of vehicle i, its FE damage
measure; literature exponents held unless noted):

* Darveaux N = K1 dW^K2 + a / (K3 dW^K4): with K2, K4 held it is linear in
  K1 and 1/K3.  One vehicle: one common scale factor s on the life
  (K1 -> s K1, K3 -> K3 / s).  Two or more: K1 and 1/K3 by least squares on
  the relative residuals (pred_i / N_i - 1), falling back to the common scale
  if that gives a non-positive constant.  K2, K4 stay held: a life alone does
  not separate initiation from growth.
* Syed N = 1 / (W' dW): W' = exp(mean(-ln(N_i dW_i))) (least squares in ln N).
* Morrow dW = W_f' N^m: W_f' by least squares in ln N with m held; m as well
  when there are 3 or more vehicles whose dW spans more than 20 %.
* Coffin-Manson dgamma_p / 2 = eps_f' (2 N50)^c: eps_f' with c held; both
  with 3 or more vehicles as for Morrow.
* Engelmaier (hand check) 2 N50 = (F dgamma_1 / (2 eps_f'))^(1/c): the factor
  F (eps_f' held), ln F = mean(c_i ln(2 N50_i) - ln(dgamma_1,i / (2 eps_f'))),
  dgamma_1 the closed-form strain at F = 1.

N50-based models (Engelmaier, Coffin-Manson) are fitted to N50_i = N63.2_i
(ln 2)^(1/beta_i), beta_i the vehicle's measured Weibull shape or else the
solder's ``[fatigue.weibull]`` shape.  The scatter band of a fit is the
in-sample factor x with every vehicle inside [N / x, N x] (1 for one vehicle:
an exact fit, no estimate of the scatter).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np

from ..errors import CaseError

CALIBRATED_MODELS = ("darveaux", "syed", "engelmaier", "morrow", "coffin_manson")
EXPONENT_MIN_VEHICLES = 3  # fit a power-law exponent only from this many vehicles ...
EXPONENT_MIN_SPREAD = 1.2  # ... whose damage measure spans at least this ratio
JOINT_SIZE_TOLERANCE = 0.25  # method check: joint element sizes within 25 % count as the same mesh
NO_CALIBRATION = "literature constants, uncalibrated for this method"


# --- the method a calibration belongs to ---------------------------------------------------------

def method_differences(case_method: dict, calibration_method: dict) -> list[str]:
    """What differs between the method of a run and the one the constants were fitted with."""
    out = []
    for key in ("section", "kinematics", "solder_model"):
        a, b = case_method.get(key), calibration_method.get(key)
        if a is not None and b is not None and a != b:
            out.append(f"{key} {a!r} (calibrated with {b!r})")
    a, b = case_method.get("interface_layer_mm"), calibration_method.get("interface_layer_mm")
    if a is not None and b is not None and not math.isclose(a, b, rel_tol=1e-6):
        out.append(f"interface_layer_mm {a:g} (calibrated with {b:g})")
    a, b = case_method.get("joint_element_size_mm"), calibration_method.get("joint_element_size_mm")
    if a and b and abs(a / b - 1.0) > JOINT_SIZE_TOLERANCE:
        out.append(f"joint_element_size_mm {a:.3g} (calibrated with {b:.3g}; more than "
                   f"{100 * JOINT_SIZE_TOLERANCE:g} % apart)")
    return out


# --- the calibration file --------------------------------------------------------------------------

@dataclass
class Calibration:
    """A calibration file: fitted constants per model, for one solder and one method."""

    name: str
    path: str
    solder: str
    method: dict
    constants: dict  # model -> {key: value}
    fits: dict  # model -> {scatter_band_factor, vehicles, fitted, held, how, ...}
    vehicles: list = field(default_factory=list)
    description: str = ""
    sha256: str = ""  # of the file's text: which calibration a life used, exactly

    def constants_for(self, model: str, material_name: str) -> Optional[dict]:
        if model not in self.constants or material_name.lower() != self.solder.lower():
            return None
        return dict(self.constants[model])

    def model_note(self, model: str) -> dict:
        fit = self.fits.get(model, {})
        return {"name": self.name, "file": self.path, "sha256": self.sha256[:16],
                "vehicles": fit.get("vehicles", len(self.vehicles)),
                "scatter_band_factor": fit.get("scatter_band_factor"), "in_sample": True,
                "fitted": fit.get("fitted", []), "held": fit.get("held", [])}

    def to_dict(self) -> dict:
        return {"calibration": {"name": self.name, "solder": self.solder, "description": self.description},
                "method": self.method, "constants": self.constants, "fit": self.fits, "vehicle": self.vehicles}


def _need(data: dict, key: str, where: str, path: Path):
    if key not in data:
        raise CaseError(f"{path}: missing required key '{where}{key}'")
    return data[key]


def load_calibration(path: str | Path) -> Calibration:
    """Read a calibration file written by ``reliability calibrate``; one-line :class:`CaseError` on a problem."""
    import tomllib

    path = Path(path)
    if not path.is_file():
        raise CaseError(f"{path}: calibration file does not exist (write one with `reliability calibrate "
                        "CALIBRATION.toml`)")
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CaseError(f"{path}: not valid TOML ({' '.join(str(exc).split())})") from None
    head = _need(data, "calibration", "", path)
    constants = _need(data, "constants", "", path)
    if not isinstance(constants, dict) or not constants:
        raise CaseError(f"{path}: constants: no fitted model in this calibration file")
    unknown = sorted(set(constants) - set(CALIBRATED_MODELS))
    if unknown:
        raise CaseError(f"{path}: constants.{unknown[0]}: unknown model; allowed: {', '.join(CALIBRATED_MODELS)}")
    import pydantic

    from ..material import FatigueSpec
    from ..validation import format_error

    try:  # the fitted constants obey the material schema's [fatigue.*] blocks (keys, signs)
        checked = FatigueSpec.model_validate(constants)
    except pydantic.ValidationError as err:
        raise CaseError(format_error(err, path, FatigueSpec, "constants")) from None
    constants = {m: getattr(checked, m).model_dump() for m in constants}
    return Calibration(name=str(_need(head, "name", "calibration.", path)), path=str(path),
                       solder=str(_need(head, "solder", "calibration.", path)),
                       method=dict(data.get("method", {})), constants=constants, fits=dict(data.get("fit", {})),
                       vehicles=list(data.get("vehicle", [])), description=str(head.get("description", "")),
                       sha256=hashlib.sha256(text.encode()).hexdigest())


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        if isinstance(v, float) and not math.isfinite(v):
            return "inf" if v > 0 else ("-inf" if v < 0 else "nan")
        return repr(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if v is None:
        return '"none"'
    return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_toml(data: dict, header: str = "") -> str:
    """A small TOML writer for the calibration file (tables of scalars, lists, arrays of tables)."""
    lines = [f"# {h}" for h in header.splitlines()] if header else []

    def table(name: str, d: dict, array: bool = False):
        scalars = {k: v for k, v in d.items() if not isinstance(v, dict)}
        lines.append("")
        lines.append(f"[[{name}]]" if array else f"[{name}]")
        for k, v in scalars.items():
            lines.append(f"{k if k.isidentifier() else _toml_value(k)} = {_toml_value(v)}")
        for k, v in d.items():
            if isinstance(v, dict):
                table(f"{name}.{k}", v)

    for name, d in data.items():
        if isinstance(d, list):
            for item in d:
                table(name, item, array=True)
        elif all(isinstance(v, dict) for v in d.values()) and d:
            for k, v in d.items():
                table(f"{name}.{k}", v)
        else:
            table(name, d)
    return "\n".join(lines).lstrip("\n") + "\n"


# --- the fits (pure numbers) ----------------------------------------------------------------------

def _scatter(pred: np.ndarray, meas: np.ndarray) -> dict:
    r = np.log(pred / meas)
    return {"scatter_band_factor": float(np.exp(np.max(np.abs(r)))), "rms_log_residual": float(np.sqrt(np.mean(r**2))),
            "residual_percent": [float(x) for x in 100.0 * (pred / meas - 1.0)]}


def fit_darveaux(dW, a_mm, N63, K1: float, K2: float, K3: float, K4: float) -> dict:
    """K1, K3 for measured N63.2 with K2, K4 held (see the module docstring)."""
    dW, a, N = (np.asarray(x, float) for x in (dW, a_mm, N63))
    A, B = dW**K2, a * dW**-K4
    how = "common scale factor on K1 and 1/K3 (one vehicle)"
    if N.size >= 2:
        x, *_ = np.linalg.lstsq(np.column_stack([A / N, B / N]), np.ones_like(N), rcond=None)
        if x[0] > 0 and x[1] > 0:
            K1n, K3n = float(x[0]), float(1.0 / x[1])
            how = f"K1 and 1/K3 by least squares on the relative residuals ({N.size} vehicle(s))"
        else:
            how = "common scale factor (the two-constant least squares gave a non-positive constant)"
    if how.startswith("common"):
        pred0 = K1 * A + B / K3
        s = float(np.exp(np.mean(np.log(N / pred0))))
        K1n, K3n = K1 * s, K3 / s
    pred = K1n * A + B / K3n
    return {"constants": {"K1_cycles": K1n, "K2": K2, "K3_mm_per_cycle": K3n, "K4": K4},
            "fitted": ["K1_cycles", "K3_mm_per_cycle"], "held": ["K2", "K4"], "how": how,
            "predicted_cycles": [float(p) for p in pred], **_scatter(pred, N)}


def fit_syed(dW, N63) -> dict:
    dW, N = np.asarray(dW, float), np.asarray(N63, float)
    W = float(np.exp(np.mean(-np.log(N * dW))))
    pred = 1.0 / (W * dW)
    return {"constants": {"W_prime_per_MPa": W}, "fitted": ["W_prime_per_MPa"], "held": [],
            "how": f"least squares in ln N ({N.size} vehicle(s))", "predicted_cycles": [float(p) for p in pred],
            **_scatter(pred, N)}


def _spread(x: np.ndarray) -> float:
    return float(x.max() / x.min()) if x.size and x.min() > 0 else 1.0


def fit_power(measure, N, scale_key: str, exp_key: str, exponent: Optional[float], life_factor: float = 1.0,
              measure_factor: float = 1.0) -> dict:
    """measure_factor * D = C (life_factor * N)^e: C (and e with enough vehicles), least squares in ln.

    Morrow: D = dW, C = W_f', e = m, factors 1.  Coffin-Manson: D = dgamma_p, measure_factor 1/2,
    life_factor 2 (N the median), C = eps_f', e = c."""
    D, N = np.asarray(measure, float), np.asarray(N, float)
    y, x = np.log(measure_factor * D), np.log(life_factor * N)
    if N.size >= EXPONENT_MIN_VEHICLES and _spread(D) >= EXPONENT_MIN_SPREAD:
        e, lnC = np.polyfit(x, y, 1)
        fitted, held = [scale_key, exp_key], []
        how = f"{scale_key} and {exp_key} by least squares in ln ({N.size} vehicle(s))"
    elif exponent is None:
        raise ValueError(f"needs a literature {exp_key} to hold (none given) or {EXPONENT_MIN_VEHICLES} vehicles "
                         f"whose damage measure spans {EXPONENT_MIN_SPREAD:g}x")
    else:
        e = exponent
        lnC = float(np.mean(y - e * x))
        fitted, held = [scale_key], [exp_key]
        how = f"{scale_key} with {exp_key} held, least squares in ln N ({N.size} vehicle(s))"
    C, e = float(np.exp(lnC)), float(e)
    pred = (measure_factor * D / C) ** (1.0 / e) / life_factor
    return {"constants": {scale_key: C, exp_key: e}, "fitted": fitted, "held": held, "how": how,
            "predicted_cycles": [float(p) for p in pred], **_scatter(pred, N)}


def fit_engelmaier(dgamma_1, N50, c, eps_f: float, c0: float, c1: float, c2: float) -> dict:
    """The non-ideal factor F of the closed form, eps_f' and the c(T, t_D) coefficients held."""
    g, N, c = (np.asarray(x, float) for x in (dgamma_1, N50, c))
    lnF = np.log(2.0 * eps_f) + c * np.log(2.0 * N) - np.log(g)
    F = float(np.exp(np.mean(lnF)))
    pred = 0.5 * (F * g / (2.0 * eps_f)) ** (1.0 / c)
    return {"constants": {"eps_f": eps_f, "c0": c0, "c1_per_C": c1, "c2": c2, "F": F}, "fitted": ["F"],
            "held": ["eps_f", "c0", "c1_per_C", "c2"], "how": f"F by least squares in ln N ({N.size} vehicle(s))",
            "predicted_cycles": [float(p) for p in pred], **_scatter(pred, N)}


