"""``reliability fit-prony``: a Prony series and its shift law from DMA or relaxation data.

Physics (linear viscoelasticity, generalized Maxwell solid; Ferry, *Viscoelastic Properties of
Polymers*, 3rd ed., Wiley 1980, ch. 3 and 11):

* relaxation modulus at the reference temperature  E(t) = E_inf + sum_i E_i exp(-t / tau_i)
* storage and loss moduli at angular frequency w = 2 pi f
  E'(w)  = E_inf + sum_i E_i w^2 tau_i^2 / (1 + w^2 tau_i^2)
  E''(w) = sum_i E_i w tau_i / (1 + w^2 tau_i^2)
* time-temperature superposition (thermorheologically simple): data at temperature T equal the
  reference-temperature curve at the reduced frequency f a_T(T), or the reduced time t / a_T(T),
  with a_T > 1 below the reference temperature;
  WLF: log10 a_T = -C1 (T - T_ref) / (C2 + T - T_ref)  (Williams, Landel, Ferry, J. Am. Chem. Soc.
  77:3701, 1955); Arrhenius: ln a_T = (Ea / R)(1/T - 1/T_ref), kelvin.

What does what:

* the Prony fit is pyvisco's (Springer & Rosenberg, NREL; github.com/NREL/pyvisco, PyPI
  ``pyvisco``): ``prony.discretize`` (relaxation times one per decade of the master curve, or
  ``--terms N``) and ``prony.fit`` with ``opt=True`` (least squares on E' and E'' together, or on
  E(t), L-BFGS-B on the weights then on weights and times), for DMA data with a loss modulus and
  for relaxation data.  The discretization is run on the master curve with its end points repeated
  a decade beyond, so that terms just outside the data's window carry its ends (without them the
  loss modulus at the lowest reduced frequency was 46 % off and E(t) 14 % at the long-time end);
  the weights are then re-fitted by scipy nnls on pyvisco's times with relative residuals (kept
  only if better and not raising the glassy modulus);
* WLF constants: pyvisco's ``shift.fit_WLF``, refined with scipy ``least_squares`` from a
  typical-polymer start (C1 = 15, C2 = 100 K); the better of the two is kept (pyvisco's start
  C1 = 1000, C2 = 5000 with a bound of 5000 can stop on a nearly straight line);
* done here with numpy/scipy, not with pyvisco:
  - the shift factors.  pyvisco's pairwise shift (power-law fits of each set, ``master.get_aT``)
    was 0.5 decade off on exact synthetic data (log10 a_T = 1.14 for 1.67 between 140 and 150 C)
    and, under pandas 3, returned -50.8 decades for the coldest set.  Here each adjacent pair of
    temperatures is shifted horizontally on log-log axes to minimise the squared difference of
    log10 E' (and log10 E'' when given; log10 E for relaxation data) against the other set's
    linear interpolation, both ways, over their overlap (a grid search then a bounded scalar
    minimisation); the pairwise shifts are summed from the reference temperature outward;
  - the Arrhenius energy (linear least squares of ln a_T against 1/T - 1/T_ref);
  - DMA data without a loss modulus: pyvisco's frequency fit needs E''; the weights (E_inf, E_i)
    on one relaxation time per decade come from scipy's non-negative least squares on E'
    (relative residuals).

The reference temperature must be one of the measured temperatures (as in pyvisco's
``get_aT``): its shift factor is 1 by definition.  pyvisco is imported inside :func:`fit_prony`
only (it takes seconds to import).
"""

from __future__ import annotations

import contextlib
import csv
import io
import math
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np

from .errors import ReliabilityError

R_J_PER_MOL_K = 8.314462618
KELVIN = 273.15
MIN_POINTS_PER_TEMPERATURE = 3
MIN_POINTS = 8

DMA_COLUMNS = ("T_C", "f_Hz", "E_storage_MPa")
DMA_OPTIONAL = ("E_loss_MPa",)
RELAX_COLUMNS = ("T_C", "t_s", "E_MPa")

CSV_FORMAT = """\
CSV format (one header row, one row per point; '#' lines are comments):
  DMA:        T_C,f_Hz,E_storage_MPa[,E_loss_MPa]   temperature (C), frequency (Hz, cycles/s),
              storage (and loss) modulus (MPa)
  relaxation: T_C,t_s,E_MPa                          temperature (C), time since the strain step (s),
              relaxation modulus (MPa)
The kind is taken from the header. At least two temperatures (for the shift), at least 3 points at
each and 8 in all; frequencies, times and moduli > 0 (a loss modulus >= 0)."""


class FitDataError(ReliabilityError):
    """A data file for fit-prony cannot be used (missing, not CSV, bad columns or values)."""


@dataclass
class FitData:
    path: Path
    kind: str                       # "dma" or "relaxation"
    T_C: np.ndarray                 # per point
    x: np.ndarray                   # f_Hz (dma) or t_s (relaxation), per point
    E_MPa: np.ndarray               # storage modulus (dma) or relaxation modulus
    E_loss_MPa: Optional[np.ndarray] = None

    @property
    def temperatures_C(self) -> np.ndarray:
        return np.unique(self.T_C)

    @property
    def log_freq(self) -> np.ndarray:
        """log10 of the frequency-like axis: f for DMA, 1/t for relaxation (so a_T multiplies it)."""
        return np.log10(self.x) if self.kind == "dma" else -np.log10(self.x)


@dataclass
class PronyFit:
    data: FitData
    reference_C: float
    E_inf_MPa: float
    E_MPa: np.ndarray
    tau_s: np.ndarray
    log10_aT: dict[float, float]     # measured shift factors, per temperature (C)
    shift: dict                      # the law written to the material file
    shift_rms_decades: float         # rms of (law - measured log10 a_T)
    method: str                      # how the Prony terms were fitted
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def relaxation_MPa(self, t_s) -> np.ndarray:
        t = np.asarray(t_s, float)
        return self.E_inf_MPa + (self.E_MPa * np.exp(-t[..., None] / self.tau_s)).sum(-1)

    def storage_loss_MPa(self, f_Hz):
        wt = 2 * np.pi * np.asarray(f_Hz, float)[..., None] * self.tau_s
        Es = self.E_inf_MPa + (self.E_MPa * wt**2 / (1 + wt**2)).sum(-1)
        El = (self.E_MPa * wt / (1 + wt**2)).sum(-1)
        return Es, El

    def law_log10_aT(self, T_C) -> np.ndarray:
        return shift_law_log10_aT(self.shift, self.reference_C, T_C)

    def reduced_log_freq(self) -> np.ndarray:
        """log10 reduced frequency (DMA) or -log10 reduced time (relaxation) of every point."""
        shift = np.array([self.log10_aT[float(T)] for T in self.data.T_C])
        return self.data.log_freq + shift


def shift_law_log10_aT(shift: dict, reference_C: float, T_C) -> np.ndarray:
    T = np.asarray(T_C, float)
    if shift["model"] == "wlf":
        d = T - reference_C
        return -shift["C1"] * d / (shift["C2_K"] + d)
    if shift["model"] == "arrhenius":
        return shift["Ea_J_per_mol"] / (R_J_PER_MOL_K * math.log(10)) * (1 / (T + KELVIN) - 1 / (reference_C + KELVIN))
    return np.interp(T, shift["T_C"], shift["log10_aT"])


# ----------------------------------------------------------------------------------------------
# reading

def read_fit_data(path) -> FitData:
    """Read and check a fit-prony CSV (format: :data:`CSV_FORMAT`); one-line :class:`FitDataError`."""
    path = Path(path)
    allowed = (f"allowed headers: {','.join(DMA_COLUMNS)}[,{DMA_OPTIONAL[0]}] (DMA) or "
               f"{','.join(RELAX_COLUMNS)} (relaxation)")
    if not path.is_file():
        raise FitDataError(f"data file {path} does not exist")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise FitDataError(f"{path}: not a text CSV file (not UTF-8); {allowed}") from None
    lines = [(i + 1, ln) for i, ln in enumerate(text.splitlines()) if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        raise FitDataError(f"{path}: empty (no header row); {allowed}")
    try:
        rows = list(csv.reader(io.StringIO("\n".join(ln for _, ln in lines))))
    except csv.Error as exc:
        raise FitDataError(f"{path}: not CSV ({exc}); {allowed}") from None
    header = [h.strip() for h in rows[0]]
    hrow = lines[0][0]
    if set(header) >= set(DMA_COLUMNS):
        kind, need, optional = "dma", DMA_COLUMNS, DMA_OPTIONAL
    elif set(header) >= set(RELAX_COLUMNS):
        kind, need, optional = "relaxation", RELAX_COLUMNS, ()
    else:
        missing_dma = [c for c in DMA_COLUMNS if c not in header]
        missing_rel = [c for c in RELAX_COLUMNS if c not in header]
        missing = missing_dma if len(missing_dma) <= len(missing_rel) else missing_rel
        raise FitDataError(f"{path}: row {hrow}: header {','.join(header)!r} lacks column(s) "
                           f"{', '.join(missing)}; {allowed}")
    extra = [c for c in header if c not in need + optional]
    if extra:
        raise FitDataError(f"{path}: row {hrow}: unknown column(s) {', '.join(extra)} for {kind} data; {allowed}")
    if len(set(header)) != len(header):
        raise FitDataError(f"{path}: row {hrow}: a column appears twice in the header; {allowed}")
    cols = {c: [] for c in header}
    for (lineno, _), row in zip(lines[1:], rows[1:]):
        if len(row) != len(header):
            raise FitDataError(f"{path}: row {lineno}: {len(row)} values for {len(header)} columns "
                               f"({','.join(header)})")
        for name, cell in zip(header, row):
            try:
                v = float(cell)
            except ValueError:
                raise FitDataError(f"{path}: row {lineno}, column {name}: {cell.strip()!r} is not a number") from None
            if not math.isfinite(v):
                raise FitDataError(f"{path}: row {lineno}, column {name}: {cell.strip()!r} is not a finite number")
            if name == "E_loss_MPa":
                if v < 0:
                    raise FitDataError(f"{path}: row {lineno}, column {name}: {v:g} is negative; a loss modulus "
                                       "must be >= 0 MPa")
            elif name == "T_C":
                if v <= -KELVIN:
                    raise FitDataError(f"{path}: row {lineno}, column T_C: {v:g} C is below absolute zero")
            elif v <= 0:
                what = "a modulus must be > 0 MPa" if name.endswith("MPa") else f"{name} must be > 0"
                raise FitDataError(f"{path}: row {lineno}, column {name}: {v:g} is not positive; {what}")
            cols[name].append(v)
    n = len(cols["T_C"])
    if n < MIN_POINTS:
        raise FitDataError(f"{path}: {n} data rows; at least {MIN_POINTS} are needed "
                           f"(and {MIN_POINTS_PER_TEMPERATURE} at each of at least 2 temperatures)")
    arr = {k: np.array(v) for k, v in cols.items()}
    temps, counts = np.unique(arr["T_C"], return_counts=True)
    if len(temps) < 2:
        raise FitDataError(f"{path}: column T_C: one temperature only ({temps[0]:g} C); the shift law needs "
                           "data at 2 or more temperatures")
    for T, c in zip(temps, counts):
        if c < MIN_POINTS_PER_TEMPERATURE:
            raise FitDataError(f"{path}: column T_C: {c} point(s) at {T:g} C; at least "
                               f"{MIN_POINTS_PER_TEMPERATURE} at each temperature are needed")
    xname = "f_Hz" if kind == "dma" else "t_s"
    for T in temps:
        xs = arr[xname][arr["T_C"] == T]
        if np.unique(xs).size < MIN_POINTS_PER_TEMPERATURE:
            raise FitDataError(f"{path}: column {xname}: fewer than {MIN_POINTS_PER_TEMPERATURE} distinct "
                               f"values at {T:g} C")
    Ename = "E_storage_MPa" if kind == "dma" else "E_MPa"
    return FitData(path, kind, arr["T_C"], arr[xname], arr[Ename], arr.get("E_loss_MPa"))


# ----------------------------------------------------------------------------------------------
# shift factors (scipy; see the module docstring for why not pyvisco's)

def _pair_cost(xa, ya, xb, yb, s):
    """Mean squared mismatch of set b shifted by s (log10) against set a, both ways, on the overlap."""
    cost, n = 0.0, 0
    xbs = xb + s
    for (xp, yp), (xq, yq) in (((xbs, yb), (xa, ya)), ((xa, ya), (xbs, yb))):
        inside = (xp >= xq[0]) & (xp <= xq[-1])
        if inside.sum():
            for k in range(yp.shape[0]):
                d = yp[k][inside] - np.interp(xp[inside], xq, yq[k])
                cost += float(d @ d)
                n += d.size
    return (cost / n if n else np.inf), n


def pair_shift(xa, ya, xb, yb) -> float:
    """log10 shift s that lays set b (x = log10 f, rows of y = log10 modulus) onto set a."""
    from scipy.optimize import minimize_scalar

    lo, hi = xa[0] - xb[-1], xa[-1] - xb[0]
    grid = np.linspace(lo, hi, 401)
    costs = []
    for s in grid:
        c, n = _pair_cost(xa, ya, xb, yb, s)
        costs.append(c if n >= 2 * MIN_POINTS_PER_TEMPERATURE else np.inf)
    costs = np.array(costs)
    if not np.isfinite(costs).any():
        return np.nan
    k = int(np.argmin(costs))
    a, b = grid[max(k - 1, 0)], grid[min(k + 1, grid.size - 1)]
    res = minimize_scalar(lambda s: _pair_cost(xa, ya, xb, yb, s)[0], bounds=(a, b), method="bounded",
                          options={"xatol": 1e-6})
    return float(res.x) if res.fun <= costs[k] else float(grid[k])


def shift_factors(data: FitData, reference_C: float) -> dict[float, float]:
    """log10 a_T at each measured temperature, 0 at reference_C (a measured temperature)."""
    temps = data.temperatures_C
    sets = []
    for T in temps:
        m = data.T_C == T
        x = data.log_freq[m]
        order = np.argsort(x)
        ys = [np.log10(data.E_MPa[m][order])]
        if data.E_loss_MPa is not None and np.all(data.E_loss_MPa[m] > 0):
            ys.append(np.log10(data.E_loss_MPa[m][order]))
        sets.append((x[order], np.array(ys)))
    if data.E_loss_MPa is not None and any(s[1].shape[0] == 1 for s in sets):
        sets = [(x, y[:1]) for x, y in sets]   # a zero loss modulus somewhere: shift on E' alone
    iref = int(np.argmin(np.abs(temps - reference_C)))
    log_a = {float(temps[iref]): 0.0}
    for step in (-1, 1):
        i = iref
        while 0 <= i + step < len(temps):
            j = i + step
            s = pair_shift(*sets[i], *sets[j])
            if not np.isfinite(s):
                raise FitDataError(f"{data.path}: the data at {temps[j]:g} C and {temps[i]:g} C do not overlap "
                                   "once shifted (no common range of modulus); measure a wider frequency/time "
                                   "range or closer temperatures")
            log_a[float(temps[j])] = log_a[float(temps[i])] + s
            i = j
    return log_a


# ----------------------------------------------------------------------------------------------
# shift laws

def fit_shift_law(model: str, reference_C: float, log_a: dict[float, float], path) -> dict:
    T = np.array(sorted(log_a))
    y = np.array([log_a[t] for t in T])
    if model == "table":
        if np.any(np.diff(y) > 0):
            raise FitDataError(f"{path}: the shift factors do not decrease with temperature "
                               f"(log10 a_T = {', '.join(f'{v:.3g}' for v in y)} at {', '.join(f'{t:g}' for t in T)} C); "
                               "a shift table must not increase; check the data or use --shift wlf")
        return {"model": "table", "T_C": [float(t) for t in T], "log10_aT": [round(float(v), 6) for v in y]}
    if model == "arrhenius":
        x = (1 / (T + KELVIN) - 1 / (reference_C + KELVIN)) / math.log(10) / R_J_PER_MOL_K
        Ea = float(x @ y / (x @ x))
        if Ea <= 0:
            raise FitDataError(f"{path}: the fitted Arrhenius energy is {Ea:g} J/mol (the shift factors rise "
                               "with temperature); it must be > 0")
        return {"model": "arrhenius", "Ea_J_per_mol": Ea}
    if model == "wlf":
        return _fit_wlf(reference_C, T, y, path)
    raise ValueError(model)


def _fit_wlf(reference_C, T, y, path) -> dict:
    import pandas as pd
    from scipy.optimize import least_squares

    candidates = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            from pyvisco import shift as pv_shift

            df = pv_shift.fit_WLF(reference_C, pd.DataFrame({"T": T, "log_aT": y}))
            candidates.append((float(df["C1"].iloc[0]), float(df["C2"].iloc[0])))
        except Exception:       # pyvisco's fit failing is not fatal: scipy below
            pass
    d = T - reference_C
    lo_C2 = max(1e-3, float(-d.min()) + 1e-3)        # keep C2 + T - T_ref > 0 at every measured T

    def resid(p):
        return -p[0] * d / (p[1] + d) - y

    for p0 in [(15.0, 100.0), (8.0, 50.0), (30.0, 200.0)] + candidates:
        p0 = (max(p0[0], 1e-3), max(p0[1], lo_C2 * 1.01))
        try:
            r = least_squares(resid, p0, bounds=([1e-6, lo_C2], [1e4, 1e5]))
            candidates.append(tuple(r.x))
        except ValueError:
            pass
    best = None
    for C1, C2 in candidates:
        if C1 <= 0 or C2 <= lo_C2 * 0.999:
            continue
        err = float(np.sum(resid((C1, C2)) ** 2))
        if best is None or err < best[0]:
            best = (err, C1, C2)
    if best is None:
        raise FitDataError(f"{path}: no WLF law with C1 > 0, C2 > 0 fits the shift factors; use --shift table "
                           "or --shift arrhenius")
    return {"model": "wlf", "C1": best[1], "C2_K": best[2]}


# ----------------------------------------------------------------------------------------------
# Prony fit

def _master_frame(data: FitData, log_a: dict[float, float], reference_C: float):
    """pyvisco's master-curve DataFrame (sorted by reduced frequency or time, with its attributes)."""
    import pandas as pd

    shift = np.array([log_a[float(T)] for T in data.T_C])
    f_red = 10 ** (data.log_freq + shift)          # f a_T (dma), 1 / (t / a_T) (relaxation)
    sets = np.searchsorted(data.temperatures_C, data.T_C)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")             # pyvisco keeps its metadata as DataFrame attributes
        if data.kind == "dma":
            df = pd.DataFrame({"E_stor": data.E_MPa, "E_loss": data.E_loss_MPa, "Set": sets, "f": f_red})
            df = df.sort_values(by=["f"]).reset_index(drop=True)
            df["omega"] = 2 * np.pi * df["f"]
            df["t"] = 1 / df["f"]
            df.domain = "freq"
        else:
            df = pd.DataFrame({"E_relax": data.E_MPa, "Set": sets, "t": 1 / f_red})
            df = df.sort_values(by=["t"]).reset_index(drop=True)
            df["f"] = 1 / df["t"]
            df["omega"] = 2 * np.pi * df["f"]
            df.domain = "time"
        df.RefT = reference_C
        df.modul = "E"
    return df


def _extended(df_master):
    """The master frame with its first and last rows repeated a decade beyond (for the discretization)."""
    import pandas as pd

    first, last = df_master.iloc[[0]].copy(), df_master.iloc[[-1]].copy()
    for row, factor in ((first, 0.1), (last, 10.0)):
        if df_master.domain == "time":
            factor = 1 / factor
        row["f"] = row["f"] * factor
        row["omega"] = 2 * np.pi * row["f"]
        row["t"] = 1 / row["f"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ext = pd.concat([first, df_master, last]).reset_index(drop=True)
        for a in ("domain", "modul", "RefT"):
            setattr(ext, a, getattr(df_master, a))
    return ext


def _design(data, log_a, tau):
    """Rows of the linear model in (E_inf, E_i) for every datum, divided by the datum (relative residuals)."""
    shift = np.array([log_a[float(T)] for T in data.T_C])
    f_red = 10 ** (data.log_freq + shift)
    if data.kind == "dma":
        wt = 2 * np.pi * f_red[:, None] * tau
        rows = [np.hstack([np.ones((wt.shape[0], 1)), wt**2 / (1 + wt**2)]) / data.E_MPa[:, None]]
        if data.E_loss_MPa is not None:
            ok = data.E_loss_MPa > 0
            rows.append(np.hstack([np.zeros((ok.sum(), 1)), (wt / (1 + wt**2))[ok]]) / data.E_loss_MPa[ok, None])
        A = np.vstack(rows)
    else:
        A = np.hstack([np.ones((f_red.size, 1)), np.exp(-(1 / f_red)[:, None] / tau)]) / data.E_MPa[:, None]
    return A


def _polish(data, log_a, E_inf, E_i, tau):
    """Re-fit the weights (E_inf, E_i >= 0) on pyvisco's relaxation times by scipy nnls (relative residuals);
    kept if its relative rms is lower than that of pyvisco's weights (pyvisco's residuals are normalised by
    E_0 and its weights held to sum(alpha) <= 1, so the two optima differ), and if it does not raise the glassy
    modulus E_inf + sum E_i by more than 2 % (weights of times outside the data's window are unconstrained)."""
    from scipy.optimize import nnls

    A = _design(data, log_a, tau)
    b = np.ones(A.shape[0])
    coef, _ = nnls(A, b)
    before = float(np.linalg.norm(A @ np.r_[E_inf, E_i] - b))
    after = float(np.linalg.norm(A @ coef - b))
    # terms far outside the data's window are unconstrained: refuse a re-fit that raises the glassy modulus
    glassy_before, glassy_after = E_inf + float(np.sum(E_i)), float(np.sum(coef))
    if after < before and coef[0] > 0 and glassy_after <= 1.02 * glassy_before:
        return float(coef[0]), coef[1:], True
    return E_inf, E_i, False


def _terms_storage_only(data, log_a, n_terms):
    """E_inf, E_i on one tau per decade from E' alone: scipy nnls, relative residuals."""
    from scipy.optimize import nnls

    shift = np.array([log_a[float(T)] for T in data.T_C])
    lf = data.log_freq + shift
    w = 2 * np.pi * 10**lf
    lo, hi = math.floor(-np.log10(w.max())), math.ceil(-np.log10(w.min()))
    n = n_terms or (hi - lo + 1)
    tau = np.geomspace(10.0**lo, 10.0**hi, n)
    wt = w[:, None] * tau
    A = np.hstack([np.ones((w.size, 1)), wt**2 / (1 + wt**2)]) / data.E_MPa[:, None]
    coef, _ = nnls(A, np.ones(w.size))
    keep = coef[1:] > 0
    return float(coef[0]), coef[1:][keep], tau[keep]


def fit_prony(path, reference_C: float, shift_model: str = "wlf", n_terms: Optional[int] = None,
              kind: Optional[str] = None) -> PronyFit:
    """Read DATA.csv, shift it to reference_C, fit the Prony terms (pyvisco) and the shift law.

    ``kind`` ("dma" or "relaxation"), if given, must match the kind the CSV header says.
    """
    t0 = time.perf_counter()
    data = read_fit_data(path)
    if kind is not None and kind != data.kind:
        need = DMA_COLUMNS if kind == "dma" else RELAX_COLUMNS
        raise FitDataError(f"{data.path}: --kind {kind}, but the header is that of {data.kind} data; "
                           f"{kind} data have the columns {','.join(need)}")
    temps = data.temperatures_C
    if np.min(np.abs(temps - reference_C)) > 0.5:
        raise FitDataError(f"{data.path}: --reference-C {reference_C:g} is not a measured temperature; "
                           f"use one of {', '.join(f'{t:g}' for t in temps)} C")
    if n_terms is not None and not 1 <= n_terms <= 60:
        raise FitDataError(f"--terms {n_terms}: the number of Prony terms must be 1 to 60")
    reference_C = float(temps[np.argmin(np.abs(temps - reference_C))])
    log_a = shift_factors(data, reference_C)
    law = fit_shift_law(shift_model, reference_C, log_a, data.path)
    notes = []
    if data.kind == "dma" and data.E_loss_MPa is None:
        E_inf, E_i, tau_i = _terms_storage_only(data, log_a, n_terms)
        method = "scipy nnls on E' (no loss modulus in the data), one relaxation time per decade"
        notes.append("no E_loss_MPa column: terms fitted to the storage modulus alone (scipy nnls)")
    else:
        from pyvisco import master as pv_master
        from pyvisco import prony as pv_prony

        df_master = _master_frame(data, log_a, reference_C)
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            df_master = pv_master.smooth(df_master, 1)
            # pyvisco places (and bounds) the relaxation times inside the master curve's window
            # 1/(2 pi f_max) .. 1/(2 pi f_min); discretizing on a copy whose end points are repeated one
            # decade further each way gives terms just outside it, which carry the ends of E'' and E(t)
            df_dis = pv_prony.discretize(_extended(df_master), "round", n_terms or 0)
            prony, _ = pv_prony.fit(df_dis, df_master, opt=True)
        terms = prony["df_terms"]
        E0 = float(prony["E_0"])
        alpha = terms["alpha_i"].to_numpy(float)
        tau_i = terms["tau_i"].to_numpy(float)
        keep = alpha > 1e-6             # drop terms pyvisco left at (numerically) zero weight
        E_i, tau_i = alpha[keep] * E0, tau_i[keep]
        E_inf = E0 * (1 - float(alpha.sum()))
        E_inf, E_i, polished = _polish(data, log_a, E_inf, E_i, tau_i)
        keep = E_i > 0
        E_i, tau_i = E_i[keep], tau_i[keep]
        on = "E' and E''" if data.kind == "dma" else "E(t)"
        method = (f"pyvisco prony.fit ({on}, opt=True), "
                  f"{len(alpha)} relaxation times from prony.discretize "
                  f"({'--terms' if n_terms else 'one per decade'})"
                  + ("; weights re-fitted by scipy nnls on those times (relative residuals)" if polished else ""))
    if E_inf <= 0:
        raise FitDataError(f"{data.path}: the fit gives a rubbery modulus E_inf = {E_inf:.3g} MPa; it must be > 0 "
                           "(the data must reach the rubbery plateau; try fewer --terms)")
    if E_inf < 1e-3 * (E_inf + float(np.sum(E_i))):
        notes.append(f"E_inf = {E_inf:.3g} MPa is ~0: the longest term carries the rubbery modulus (the data do not "
                     "reach the rubbery plateau, or too few --terms); beyond the data's window the fitted material "
                     "relaxes fully")
    order = np.argsort(tau_i)
    Tm = np.array(sorted(log_a))
    rms = float(np.sqrt(np.mean((shift_law_log10_aT(law, reference_C, Tm) - np.array([log_a[t] for t in Tm])) ** 2)))
    return PronyFit(data, reference_C, float(E_inf), np.asarray(E_i)[order], np.asarray(tau_i)[order], log_a,
                    law, rms, method, time.perf_counter() - t0, notes)


# ----------------------------------------------------------------------------------------------
# material file

def _num(v: float) -> str:
    return f"{v:.6g}" if abs(v) < 1e6 else f"{v:.6e}"


def _q(text: str) -> str:
    """A TOML basic string (JSON's escapes are valid TOML ones)."""
    import json

    return json.dumps(text, ensure_ascii=False)


def material_toml(fit: PronyFit, name: str, nu: Optional[float], alpha_per_K: Optional[float]) -> str:
    src = fit.data.path.name
    name = name.replace("\n", " ")
    T = fit.data.temperatures_C
    tag = (f"D: fitted by reliability fit-prony from {src} ({fit.data.kind}, {fit.data.T_C.size} points at "
           f"{', '.join(f'{t:g}' for t in T)} C, reference {fit.reference_C:g} C)")
    fr = fit.reduced_log_freq()
    if fit.data.kind == "dma":
        rng = f"reduced frequency {10**fr.min():.3g} to {10**fr.max():.3g} Hz"
    else:
        rng = f"reduced time {10**-fr.max():.3g} to {10**-fr.min():.3g} s"
    sh = fit.shift
    if sh["model"] == "wlf":
        shift_line = f'{{ model = "wlf", C1 = {_num(sh["C1"])}, C2_K = {_num(sh["C2_K"])} }}'
    elif sh["model"] == "arrhenius":
        shift_line = f'{{ model = "arrhenius", Ea_J_per_mol = {_num(sh["Ea_J_per_mol"])} }}'
    else:
        shift_line = (f'{{ model = "table", T_C = [{", ".join(_num(t) for t in sh["T_C"])}], '
                      f'log10_aT = [{", ".join(_num(v) for v in sh["log10_aT"])}] }}')
    lines = [
        f"# {name}: viscoelastic (Prony + {sh['model']} shift) fitted by `reliability fit-prony` from {src}.",
        "# E(t) = E_inf + sum E_i exp(-xi / tau_i), reduced time xi = int dt / a_T(T)  (docs/viscoelastic.md).",
        f"# Prony terms: {fit.method}; valid over the data's {rng}.",
        f"# Shift factors measured at {', '.join(f'{t:g}' for t in T)} C; the {sh['model']} law fits them with an "
        f"rms error of {fit.shift_rms_decades:.3g} decades.",
        "description = " + _q(f"{name}: Prony series and {sh['model']} shift fitted to {src} (reliability fit-prony)"),
    ]
    if nu is not None:
        lines.append(f"nu = {nu:g}")
    else:
        lines.append("# nu = ...   MUST BE ADDED: a uniaxial DMA/relaxation test does not measure Poisson's ratio")
    if alpha_per_K is not None:
        lines.append(f"alpha_per_K = {alpha_per_K:g}")
    else:
        lines.append("# alpha_per_K = ...   MUST BE ADDED (a number or { T_C = [...], value = [...] }): "
                     "the fit does not measure the CTE")
    lines += ["", "[viscoelastic]", f"E_inf_MPa = {_num(fit.E_inf_MPa)}", f"reference_C = {_num(fit.reference_C)}",
              f"shift = {shift_line}", "terms = ["]
    lines += [f"  {{ E_MPa = {_num(E)}, tau_s = {_num(t)} }}," for E, t in zip(fit.E_MPa, fit.tau_s)]
    lines += ["]", "", "[source]"]
    if nu is not None:
        lines.append('nu = "U: given as --nu to reliability fit-prony (not measured by the fitted test)"')
    if alpha_per_K is not None:
        lines.append('alpha_per_K = "U: given as --alpha to reliability fit-prony (not measured by the fitted test)"')
    lines += [
        '"viscoelastic.E_inf_MPa" = ' + _q(f"{tag}: E_inf of the Prony fit ({fit.method})"),
        '"viscoelastic.terms" = ' + _q(f"{tag}: {len(fit.E_MPa)} terms, {fit.method}; valid over the {rng}"),
        '"viscoelastic.reference_C" = ' + _q(f"{tag}: the --reference-C of the fit (a measured temperature)"),
        '"viscoelastic.shift" = ' + _q(f"{tag}: {sh['model']} law least-squares fitted to the measured shift "
                                       f"factors (rms {fit.shift_rms_decades:.3g} decades)"),
    ]
    return "\n".join(lines) + "\n"


def shift_table_csv(fit: PronyFit) -> str:
    out = ["T_C,log10_aT_measured,log10_aT_law"]
    for T in sorted(fit.log10_aT):
        out.append(f"{T:g},{fit.log10_aT[T]:.6f},{float(fit.law_log10_aT(T)):.6f}")
    return "\n".join(out) + "\n"
