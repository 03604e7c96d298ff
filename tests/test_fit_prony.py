"""``reliability fit-prony``: Prony terms and shift law recovered from data generated with them.

Synthetic data from a known generalized Maxwell solid (8 terms, one per decade, tau 1e-3 .. 1e4 s,
E_inf = 1000 MPa, glassy 24 000 MPa: the low-CTE EMC set of materials/emc-low-cte-visco.toml) with
a WLF shift (C1 = 15, C2 = 100 K, T_ref = 150 C):
  DMA:        E'(w) = E_inf + sum E_i w^2 l_i^2 / (1 + w^2 l_i^2), E''(w) = sum E_i w l_i / (1 + w^2 l_i^2),
              l_i = a_T tau_i, 16 frequencies 0.1 .. 100 Hz at 130, 140, 150, 160, 170 C;
  relaxation: E(t) = E_inf + sum E_i exp(-t / (a_T tau_i)), 16 times 1 .. 1000 s at the same temperatures.
Checked: E(t) of the fitted series against the known one over the data's range of reduced time
(2 %), the shift factors (1e-3 decades) and the fitted law's constants.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("pyvisco", reason="fit-prony needs pyvisco (pip install 'reliability[fit]')")

from reliability.cli import main  # noqa: E402
from reliability.fit_prony import fit_prony  # noqa: E402
from reliability.material import load_material_file  # noqa: E402

E_INF = 1000.0
E_I = np.array([920, 1840, 3220, 5520, 5520, 3220, 1840, 920.0])
TAU = 10.0 ** np.arange(-3, 5)
T_REF, C1, C2 = 150.0, 15.0, 100.0
TEMPS = [130.0, 140.0, 150.0, 160.0, 170.0]


def log_aT(T):
    return -C1 * (T - T_REF) / (C2 + T - T_REF)


def E_true(t):
    return E_INF + (E_I * np.exp(-np.asarray(t, float)[:, None] / TAU)).sum(1)


def write_dma(path, loss=True):
    f = np.geomspace(0.1, 100, 16)
    lines = ["T_C,f_Hz,E_storage_MPa" + (",E_loss_MPa" if loss else "")]
    for T in TEMPS:
        wl = 2 * np.pi * f[:, None] * 10 ** log_aT(T) * TAU
        Es = E_INF + (E_I * wl**2 / (1 + wl**2)).sum(1)
        El = (E_I * wl / (1 + wl**2)).sum(1)
        lines += [f"{T:g},{a:.10g},{b:.10g}" + (f",{c:.10g}" if loss else "") for a, b, c in zip(f, Es, El)]
    path.write_text("\n".join(lines) + "\n")
    return path


def write_relaxation(path):
    t = np.geomspace(1, 1000, 16)
    lines = ["# E(t) after a strain step, synthetic", "T_C,t_s,E_MPa"]
    for T in TEMPS:
        E = E_true(t / 10 ** log_aT(T))
        lines += [f"{T:g},{a:.10g},{b:.10g}" for a, b in zip(t, E)]
    path.write_text("\n".join(lines) + "\n")
    return path


def reduced_time_range(fit):
    r = fit.reduced_log_freq()
    if fit.data.kind == "dma":       # equivalent time of a frequency: t = 1 / w
        return 1 / (2 * np.pi * 10 ** r.max()), 1 / (2 * np.pi * 10 ** r.min())
    return 10 ** -r.max(), 10 ** -r.min()


def max_relaxation_error(fit):
    t = np.geomspace(*reduced_time_range(fit), 400)
    return float(np.max(np.abs(fit.relaxation_MPa(t) / E_true(t) - 1)))


def max_shift_error(fit):
    return max(abs(fit.log10_aT[T] - log_aT(T)) for T in TEMPS)


def test_dma_recovers_relaxation_modulus_and_wlf(tmp_path):
    fit = fit_prony(write_dma(tmp_path / "dma.csv"), T_REF, "wlf")
    assert fit.data.kind == "dma"
    assert max_relaxation_error(fit) < 0.02            # measured 3.1e-3 (at the long-time end, 500 s)
    assert max_shift_error(fit) < 1e-3                 # measured 2.0e-4 decades
    assert fit.shift["C1"] == pytest.approx(C1, rel=0.01)     # 15.002
    assert fit.shift["C2_K"] == pytest.approx(C2, rel=0.01)   # 100.01


def test_dma_storage_only_uses_nnls_and_still_recovers(tmp_path):
    fit = fit_prony(write_dma(tmp_path / "dma_storage.csv", loss=False), T_REF, "wlf")
    assert "nnls" in fit.method
    assert max_relaxation_error(fit) < 0.02
    # E' alone is nearly flat near the glassy plateau (130 C): a looser shift, measured 6.9e-3 decades
    assert max_shift_error(fit) < 0.02


def test_relaxation_recovers_relaxation_modulus_and_arrhenius_table(tmp_path):
    path = write_relaxation(tmp_path / "relax.csv")
    fit = fit_prony(path, T_REF, "arrhenius")
    assert fit.data.kind == "relaxation"
    assert max_relaxation_error(fit) < 0.02            # measured 2.6e-3
    assert max_shift_error(fit) < 1e-3                 # measured 2.6e-4 decades
    # Arrhenius through the WLF factors: Ea = R ln10 sum(x y)/sum(x^2), x = 1/T - 1/T_ref
    T = np.array(TEMPS) + 273.15
    x = 1 / T - 1 / (T_REF + 273.15)
    y = np.array([log_aT(t) for t in TEMPS])
    Ea = 8.314462618 * math.log(10) * (x @ y) / (x @ x)
    assert fit.shift["Ea_J_per_mol"] == pytest.approx(Ea, rel=1e-3)
    table = fit_prony(path, T_REF, "table").shift
    assert np.allclose(table["log10_aT"], [log_aT(t) for t in TEMPS], atol=1e-3)


@pytest.mark.parametrize("shift", ["wlf", "table"])
def test_written_material_loads_and_runs_relaxation(tmp_path, shift, capsys):
    data = write_dma(tmp_path / "emc_dma.csv")
    out = tmp_path / "emc-fitted.toml"
    rc = main(["fit-prony", str(data), "--reference-C", "150", "--shift", shift, "--nu", "0.3",
               "--alpha", "9e-6", "--out", str(out), "--name", "emc-fitted"])
    assert rc == 0
    assert out.with_suffix(".png").stat().st_size > 10_000
    assert (tmp_path / "emc-fitted_shift.csv").is_file()
    mat = load_material_file(out)
    ve = mat.spec.viscoelastic
    assert ve.reference_C == 150 and ve.shift.model == shift
    for key in ("viscoelastic.E_inf_MPa", "viscoelastic.terms", "viscoelastic.reference_C", "viscoelastic.shift"):
        assert mat.sources[key].startswith("D: fitted by reliability fit-prony from emc_dma.csv")
    # the file's E(t) at the reference temperature: the known one within 2 % over the data's range
    t = np.geomspace(1e-6, 500, 200)
    E_file = ve.E_inf_MPa + sum(term.E_MPa * np.exp(-t / term.tau_s) for term in ve.terms)
    assert np.max(np.abs(E_file / E_true(t) - 1)) < 0.02
    capsys.readouterr()
    rc = main(["material", str(out), "--test", "relaxation", "--temperature", "160", "--out", str(tmp_path)])
    assert rc == 0
    csv = (tmp_path / "emc-fitted_relaxation_160C.csv").read_text().splitlines()
    assert len(csv) > 10


def test_without_nu_and_alpha_the_file_says_what_to_add(tmp_path, capsys):
    out = tmp_path / "r.toml"
    assert main(["fit-prony", str(write_relaxation(tmp_path / "r.csv")), "--reference-C", "150",
                 "--out", str(out)]) == 0
    assert "must be added" in capsys.readouterr().out
    assert "alpha_per_K = ...   MUST BE ADDED" in out.read_text()


def _bad(tmp_path, text, name="bad.csv", binary=False):
    p = tmp_path / name
    if binary:
        p.write_bytes(text)
    else:
        p.write_text(text)
    return p


GOOD_ROWS = "".join(f"{T},{f},{1000 + T + f}\n" for T in (130, 150) for f in (0.1, 1, 10, 100))


@pytest.mark.parametrize("content, expect", [
    (None, "does not exist"),
    (b"\x89PNG\r\n\x1a\n\x00\xff\xfe", "not a text CSV"),
    ("T_C,f_Hz,E_MPa_storage\n1,2,3\n", "lacks column(s) E_storage_MPa"),
    ("T_C,f_Hz,E_storage_MPa,colour\n" + GOOD_ROWS.replace("\n", ",red\n"), "unknown column(s) colour"),
    ("T_C,f_Hz,E_storage_MPa\n" + GOOD_ROWS.replace("130,0.1,", "130,abc,", 1), "row 2, column f_Hz: 'abc' is not a number"),
    ("T_C,f_Hz,E_storage_MPa\n" + GOOD_ROWS.replace("150,10,1160", "150,10,-5", 1), "column E_storage_MPa: -5 is not positive"),
    ("T_C,t_s,E_MPa\n" + "".join(f"150,{t},{1000 - t}\n" for t in range(1, 10)), "one temperature only"),
    ("T_C,t_s,E_MPa\n150,1,900\n160,1,800\n", "at least 8 are needed"),
    ("T_C,f_Hz,E_storage_MPa\n" + GOOD_ROWS + "170,1,900\n", "1 point(s) at 170 C"),
    ("T_C,f_Hz,E_storage_MPa\n" + GOOD_ROWS.replace(",10,", ",", 1), "2 values for 3 columns"),
])
def test_bad_data_files_give_one_line_and_exit_2(tmp_path, capsys, content, expect):
    if content is None:
        path = tmp_path / "missing.csv"
    else:
        path = _bad(tmp_path, content, binary=isinstance(content, bytes))
    rc = main(["fit-prony", str(path), "--reference-C", "150"])
    err = capsys.readouterr().err
    assert rc == 2
    assert len(err.strip().splitlines()) == 1, err
    assert str(path) in err and expect in err, err
    assert "Traceback" not in err


def test_reference_not_measured_and_kind_mismatch_exit_2(tmp_path, capsys):
    data = write_relaxation(tmp_path / "r.csv")
    assert main(["fit-prony", str(data), "--reference-C", "155"]) == 2
    err = capsys.readouterr().err
    assert "not a measured temperature; use one of 130, 140, 150, 160, 170 C" in err
    assert main(["fit-prony", str(data), "--reference-C", "150", "--kind", "dma"]) == 2
    err = capsys.readouterr().err
    assert "--kind dma, but the header is that of relaxation data" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("kind, shift_tol", [("dma", 0.01), ("relaxation", 0.05)])
def test_one_percent_noise(tmp_path, kind, shift_tol):
    """1 % multiplicative noise on every modulus (seed 1): E(t) still within 2 %; measured 0.48 % / 0.95 %,
    shift factors 1.8e-3 / 1.3e-2 decades."""
    path = write_dma(tmp_path / "n.csv") if kind == "dma" else write_relaxation(tmp_path / "n.csv")
    rng = np.random.default_rng(1)
    out = []
    for line in path.read_text().splitlines():
        if line[0].isdigit():
            v = line.split(",")
            line = ",".join(v[:2] + [f"{float(x) * (1 + 0.01 * rng.standard_normal()):.8g}" for x in v[2:]])
        out.append(line)
    path.write_text("\n".join(out) + "\n")
    fit = fit_prony(path, T_REF, "wlf")
    assert max_relaxation_error(fit) < 0.02
    assert max_shift_error(fit) < shift_tol
