"""`reliability calibrate CALIBRATION.toml`: fit the fatigue constants to test vehicles (docs/fatigue.md).

A calibration file lists test vehicles, each a case file (run, or its results
reused while the case is unchanged) or an existing results folder (its
summary.json is read, nothing is solved), with the measured characteristic
life N63.2 and, where known, the Weibull shape::

    [calibration]
    name = "pbga_motalab_section"          # -> calibrations/pbga_motalab_section.toml
    description = "Motalab 2013 PBGA, centre-row section"
    models = ["darveaux", "syed", "engelmaier"]   # optional (default: every model that can be fitted)

    [[vehicle]]
    name = "motalab_pbga"
    case = "../cases/pbga_motalab.toml"    # or: results = "../results/pbga_motalab"
    N63_2_cycles = 4719
    weibull_shape = 6.0                     # optional
    source = "Motalab, Auburn 2013 (physics.md B1)"

Paths are relative to the calibration file.  The fit itself is
:mod:`reliability.analysis.calibration`; this module gathers the vehicles'
damage measures, checks they share one solder and one method, fits, writes
the calibration file and returns the lines to print.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import re
from pathlib import Path
from typing import Literal, Optional

import pydantic

from . import __version__
from .analysis import calibration as cal
from .analysis.fatigue import engelmaier_exponent
from .errors import CaseError
from .validation import STRICT, PositiveNumber, format_error

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,79}$")


class VehicleSpec(pydantic.BaseModel):
    model_config = STRICT
    name: str
    case: Optional[str] = None
    results: Optional[str] = None
    N63_2_cycles: PositiveNumber
    weibull_shape: Optional[PositiveNumber] = None
    source: str = ""

    @pydantic.model_validator(mode="after")
    def _one(self):
        if (self.case is None) == (self.results is None):
            raise ValueError("give exactly one of case (a case file to run) or results (a results folder with "
                             "summary.json)")
        return self


class CalibrationHead(pydantic.BaseModel):
    model_config = STRICT
    name: str
    description: str = ""
    models: Optional[list[Literal[cal.CALIBRATED_MODELS]]] = None  # type: ignore[valid-type]
    out: Optional[str] = None

    @pydantic.field_validator("name")
    @classmethod
    def _safe(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("must be 1-80 ASCII letters, digits, '_', '-', '.', starting with a letter or digit "
                             "(it becomes the file name calibrations/<name>.toml)")
        return value


class CalibrationInput(pydantic.BaseModel):
    model_config = STRICT
    calibration: CalibrationHead
    vehicle: list[VehicleSpec]

    @pydantic.field_validator("vehicle")
    @classmethod
    def _some(cls, value):
        if not value:
            raise ValueError("give at least one [[vehicle]]")
        return value


def read_input(path: Path) -> CalibrationInput:
    from .case import read_toml

    raw = read_toml(path)
    try:
        return CalibrationInput.model_validate(raw)
    except pydantic.ValidationError as err:
        raise CaseError(format_error(err, path, CalibrationInput)) from None


def _vehicle_summary(v: VehicleSpec, i: int, folder: Path, path: Path, progress: bool) -> tuple[dict, str]:
    where = f"vehicle[{i}]"
    if v.results is not None:
        res = (folder / v.results)
        summary_path = res / "summary.json"
        if not summary_path.is_file():
            raise CaseError(f"{path}: {where}.results = {v.results!r}: no summary.json in {res}; give a results "
                            "folder written by `reliability run`")
        try:
            return json.loads(summary_path.read_text()), str(res)
        except (OSError, json.JSONDecodeError) as exc:
            raise CaseError(f"{path}: {where}.results = {v.results!r}: summary.json unreadable ({exc})") from None
    from .compare import ensure_run

    case_path = folder / v.case
    if not case_path.is_file():
        raise CaseError(f"{path}: {where}.case = {v.case!r}: case file {case_path} does not exist")
    run = ensure_run(case_path, progress=progress)
    return run.summary, str(run.folder)


def vehicle_row(v: VehicleSpec, i: int, summary: dict, where_from: str, path: Path) -> dict:
    """The damage measures of one vehicle's critical joint, from its summary.json."""
    key = f"vehicle[{i}]"
    cyc = summary.get("cycling") or {}
    if cyc.get("status") != "complete" or not cyc.get("critical_joint"):
        raise CaseError(f"{path}: {key} ({v.name}): {where_from} has no complete thermal cycling with a critical "
                        "joint; a vehicle needs [analysis.cycling]")
    crit = cyc["critical_joint"]
    joint = next(j for j in cyc["joints"] if j["name"] == crit["name"])
    side = crit["interface"]
    method = cyc.get("fatigue_method")
    if method is None:
        raise CaseError(f"{path}: {key} ({v.name}): {where_from}/summary.json predates the fatigue basis (no "
                        "cycling.fatigue_method); re-run the case with this version")
    prof = cyc["profile"]
    T_sj = 0.5 * (prof["t_min_C"] + prof["t_max_C"])
    row = {
        "name": v.name, "source": v.source or "", "results": where_from,
        "N63_2_measured_cycles": float(v.N63_2_cycles),
        "weibull_shape": v.weibull_shape,
        "solder": joint["material"], "joint": crit["name"], "interface": side,
        "stabilisation_percent": crit.get("stabilisation_percent"),
        "dW_MPa": float(crit["dW_MPa"]),
        "crack_length_mm": float(joint.get("crack_length_mm") or 0.0),
        "inelastic_shear_strain_range": math.sqrt(3.0) * 0.5 * float(joint["cycles"][-1][f"inelastic_strain_{side}"]),
        "T_sj_C": T_sj, "dwell_min": float(prof["dwell_min"]), "method": method,
    }
    e = crit["life"].get("engelmaier") or {}
    if e.get("available"):
        row["engelmaier_strain_at_F1"] = (e["dnp_mm"] * e["delta_alpha_per_K"] * e["delta_T_K"] / e["height_mm"])
    return row


def calibrate(path: str | Path, out: str | Path | None = None, progress: bool = True) -> tuple[Path, list[str]]:
    """Run/read the vehicles, fit, write the calibration file; returns (its path, lines to print)."""
    from .library import get_material

    path = Path(path)
    spec = read_input(path)
    folder = path.parent
    rows = []
    for i, v in enumerate(spec.vehicle):
        summary, where_from = _vehicle_summary(v, i, folder, path, progress)
        rows.append(vehicle_row(v, i, summary, where_from, path))
    solders = {r["solder"].lower() for r in rows}
    if len(solders) > 1:
        raise CaseError(f"{path}: vehicle: the critical joints are of different solders ({', '.join(sorted(solders))});"
                        " a calibration belongs to one solder")
    for r in rows[1:]:
        diff = cal.method_differences(r["method"], rows[0]["method"])
        if diff:
            raise CaseError(f"{path}: vehicle '{r['name']}' was computed with another method than "
                            f"'{rows[0]['name']}': {'; '.join(diff)}; a calibration belongs to one method")
    material = get_material(rows[0]["solder"])
    fspec = material.spec.fatigue
    beta_default = fspec.weibull.shape if fspec else 4.0
    for r in rows:
        r["weibull_shape_used"] = r["weibull_shape"] or beta_default
        r["N50_measured_cycles"] = r["N63_2_measured_cycles"] * math.log(2.0) ** (1.0 / r["weibull_shape_used"])
    N63 = [r["N63_2_measured_cycles"] for r in rows]
    N50 = [r["N50_measured_cycles"] for r in rows]
    wanted = spec.calibration.models or list(cal.CALIBRATED_MODELS)
    constants, fits, skipped = {}, {}, {}
    for model in wanted:
        lit = getattr(fspec, model, None) if fspec else None
        try:
            if model == "darveaux":
                if lit is None:
                    raise ValueError("no literature [fatigue.darveaux] exponents K2, K4 to hold")
                f = cal.fit_darveaux([r["dW_MPa"] for r in rows], [r["crack_length_mm"] for r in rows], N63,
                                     lit.K1_cycles, lit.K2, lit.K3_mm_per_cycle, lit.K4)
            elif model == "syed":
                f = cal.fit_syed([r["dW_MPa"] for r in rows], N63)
            elif model == "morrow":
                f = cal.fit_power([r["dW_MPa"] for r in rows], N63, "W_f_MPa", "m", lit.m if lit else None)
            elif model == "coffin_manson":
                f = cal.fit_power([r["inelastic_shear_strain_range"] for r in rows], N50, "eps_f", "c",
                                  lit.c if lit else None, life_factor=2.0, measure_factor=0.5)
            else:
                if lit is None:
                    raise ValueError("no literature [fatigue.engelmaier] eps_f and c coefficients to hold")
                missing = [r["name"] for r in rows if "engelmaier_strain_at_F1" not in r]
                if missing:
                    raise ValueError(f"no closed-form strain for vehicle(s) {', '.join(missing)}")
                c = [engelmaier_exponent(r["T_sj_C"], r["dwell_min"], lit.c0, lit.c1_per_C, lit.c2) for r in rows]
                f = cal.fit_engelmaier([r["engelmaier_strain_at_F1"] for r in rows], N50, c, lit.eps_f, lit.c0,
                                       lit.c1_per_C, lit.c2)
        except ValueError as exc:
            skipped[model] = str(exc)
            continue
        constants[model] = f.pop("constants")
        pred = f.pop("predicted_cycles")
        res = f.pop("residual_percent")
        for r, p, e in zip(rows, pred, res):
            # every prediction as N63.2 beside the measured N63.2 (the N50 models through the vehicle's shape)
            if model in ("engelmaier", "coffin_manson"):
                p = p / math.log(2.0) ** (1.0 / r["weibull_shape_used"])
            r.setdefault("predicted_N63_2_cycles", {})[model] = p
            r.setdefault("residual_percent", {})[model] = e
        if model == "engelmaier" and not 0.5 <= constants[model]["F"] <= 1.5:
            f["note"] = (f"F = {constants[model]['F']:.3g} lies outside IPC-D-279's 0.5-1.5: the closed form "
                         "misses this vehicle's life by more than the non-ideal factor is meant to cover")
        f["vehicles"] = len(rows)
        f["life_fitted_to"] = "N50" if model in ("engelmaier", "coffin_manson") else "N63.2"
        fits[model] = f
    if not constants:
        raise CaseError(f"{path}: calibration.models: no model could be fitted ("
                        + "; ".join(f"{k}: {v}" for k, v in skipped.items()) + ")")
    name = spec.calibration.name
    target = Path(out) if out else (Path(spec.calibration.out) if spec.calibration.out else
                                    Path("calibrations") / f"{name}.toml")
    vehicles = []
    for r in rows:
        v = {k: r[k] for k in ("name", "source", "results", "N63_2_measured_cycles", "weibull_shape_used",
                               "N50_measured_cycles", "joint", "interface", "dW_MPa", "crack_length_mm",
                               "inelastic_shear_strain_range", "T_sj_C", "dwell_min")}
        if r.get("stabilisation_percent") is not None:
            v["stabilisation_percent"] = r["stabilisation_percent"]
        if "engelmaier_strain_at_F1" in r:
            v["engelmaier_strain_at_F1"] = r["engelmaier_strain_at_F1"]
        v["predicted_N63_2_cycles"] = r.get("predicted_N63_2_cycles", {})
        v["residual_percent"] = r.get("residual_percent", {})
        vehicles.append(v)
    method = {k: v for k, v in rows[0]["method"].items() if v is not None}
    data = {
        "calibration": {"name": name, "solder": material.name, "description": spec.calibration.description,
                        "input": str(path), "created_utc": _dt.datetime.now(_dt.timezone.utc).strftime(
                            "%Y-%m-%dT%H:%M:%SZ"), "tool_version": __version__,
                        "skipped": [f"{k}: {v}" for k, v in skipped.items()]},
        "method": method,
        "constants": constants,
        "fit": fits,
        "vehicle": vehicles,
    }
    from .post.files import atomic_write_text

    header = (f"Fatigue constants fitted by `reliability calibrate {path}` for the method below\n"
              "(docs/fatigue.md). Cite it in a case: [fatigue] calibration = \"" + target.as_posix() + "\"")
    atomic_write_text(target, cal.to_toml(data, header))
    cal.load_calibration(target)  # what was written reads back
    return target, report_lines(name, material.name, method, constants, fits, skipped, vehicles, target)


def report_lines(name, solder, method, constants, fits, skipped, vehicles, target) -> list[str]:
    lines = [f"calibration {name}: {len(vehicles)} vehicle(s), solder {solder}; method: "
             + ", ".join(f"{k} {v}" for k, v in method.items())]
    for model, k in constants.items():
        f = fits[model]
        consts = ", ".join(f"{key} = {val:.6g}" for key, val in k.items())
        lines.append(f"  {model}: {consts}")
        lines.append(f"    fitted {', '.join(f['fitted'])}" + (f"; held {', '.join(f['held'])}" if f["held"] else "")
                     + f"; {f['how']}; in-sample scatter band x{f['scatter_band_factor']:.4g}, rms ln residual "
                     f"{f['rms_log_residual']:.3g}" + (" (one vehicle: exact fit, no scatter estimate)"
                                                       if f["vehicles"] == 1 else ""))
        if f.get("note"):
            lines.append(f"    note: {f['note']}")
    for model, why in skipped.items():
        lines.append(f"  {model}: not fitted ({why})")
    models = list(constants)
    lines.append(f"  {'vehicle':<20} {'measured N63.2':>15} " + " ".join(f"{m + ' pred':>18} {'resid %':>8}"
                                                                          for m in models))
    for v in vehicles:
        cells = []
        for m in models:
            cells.append(f"{v['predicted_N63_2_cycles'][m]:18,.0f} {v['residual_percent'][m]:+8.2f}")
        lines.append(f"  {v['name']:<20} {v['N63_2_measured_cycles']:15,.0f} " + " ".join(cells))
    lines.append("  (engelmaier and coffin_manson are fitted to N50 = N63.2 (ln 2)^(1/beta); shown as N63.2)"
                 if any(m in ("engelmaier", "coffin_manson") for m in models) else "")
    from .analysis.cycling_results import STABILISED_PERCENT

    for v in vehicles:
        st = v.get("stabilisation_percent")
        if st is None or st > STABILISED_PERCENT:
            lines.append(f"WARNING: vehicle {v['name']}: dW has not stabilised ("
                         + ("one cycle run" if st is None else f"{st:.1f} % over the last two cycles")
                         + "); the constants fitted on it inherit that")
    lines.append(f"-> {target}   (cite it: [fatigue] calibration = \"{target.as_posix()}\")")
    return [ln for ln in lines if ln]
