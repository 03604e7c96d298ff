"""The material library: every file loads, every number has a source, unverified
numbers say so, and the CLI lists and plots materials."""

import tomllib

import numpy as np
import pytest

from reliability.cli import main
from reliability.constitutive.tables import Table
from reliability.errors import MaterialError
from reliability.library import get_material, library_dir, load_library, material_names
from reliability.material import MaterialSpec

FILES = sorted(library_dir().glob("*.toml"))

# what the five package families need (physics.md 1, issue 2)
REQUIRED = ["silicon", "copper", "copper-c194", "SAC305", "63Sn37Pb", "high-lead", "gold", "emc-low-cte",
            "bt", "fr4", "polyimide", "solder-mask", "underfill", "ag-paste", "adhesive-low-modulus",
            "titanium", "aluminium", "nickel", "polyimide-tape"]


def test_library_has_every_material_the_families_need():
    names = {n.lower() for n in material_names()}
    assert not [n for n in REQUIRED if n.lower() not in names]


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_every_number_has_a_source(path):
    data = tomllib.loads(path.read_text())
    spec = MaterialSpec.model_validate(data)
    numbers = spec.numeric_keys() + [k for k in ("Tg_C", "solidus_C", "valid_T_C") if getattr(spec, k) is not None]
    numbers += [k for k in ("anand", "plasticity") if getattr(spec, k) is not None]
    if spec.fatigue is not None:
        numbers += [f"fatigue.{m}" for m in ("darveaux", "syed", "engelmaier", "weibull")
                    if m in data.get("fatigue", {})]
    missing = [k for k in numbers if not spec.source.get(k, "").strip()]
    assert not missing, f"{path.name}: no source for {missing}"
    for key, text in spec.source.items():
        assert text[:1] in "CSUD", f"{path.name}: source of {key} must start with its label C/S/U/D"
        if text.startswith("U") or "/U" in text[:6]:
            assert "unverified" in text.lower(), f"{path.name}: {key} is labelled U but does not say unverified"


def test_case_insensitive_lookup_and_aliases():
    assert get_material("sac305") is get_material("SAC305")
    assert get_material("FR-4").name == "fr4"
    with pytest.raises(MaterialError, match="unknown material 'unobtainium'"):
        get_material("unobtainium")


def test_thermal_strain_is_the_integral_of_the_instantaneous_cte():
    emc = get_material("emc-low-cte")
    T = np.linspace(25.0, 250.0, 200001)
    alpha = emc.elastic.props["alpha_per_K"](T)
    numeric = np.trapezoid(alpha, T)
    assert abs(emc.elastic.thermal_strain(250.0, 25.0)[0] - numeric) < 1e-12
    # across Tg the secant CTE is far from either alpha1 or alpha2
    secant = emc.elastic.thermal_strain(250.0, 25.0)[0] / 225.0
    assert 8e-6 < secant < 35e-6


def test_table_refuses_to_extrapolate():
    t = Table("m", "E_MPa", [1.0, 2.0], [0.0, 100.0])
    assert t(50.0) == 1.5
    with pytest.raises(MaterialError, match="outside the data of material 'm' for E_MPa"):
        t(150.0)


def test_orthotropic_stiffness_is_symmetric_positive_definite():
    for name in ("fr4", "bt", "silicon-110"):
        D = get_material(name).elastic.stiffness(25.0)
        assert np.allclose(D, D.T)
        assert np.all(np.linalg.eigvalsh(D) > 0)


def test_sac305_modulus_follows_kariya_fit():
    sac = get_material("SAC305")
    for T in (-40.0, 25.0, 125.0):
        assert abs(sac.elastic.props["E_MPa"](T) - (76087 - 109 * (T + 273.15))) < 1e-6


def test_cli_lists_and_plots(tmp_path, capsys):
    assert main(["materials"]) == 0
    out = capsys.readouterr().out
    assert "SAC305" in out and "fr4" in out
    assert main(["materials", "emc", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "emc-low-cte" in out and "source:" in out
    png = tmp_path / "material_emc-low-cte.png"
    assert png.stat().st_size > 10000
    assert main(["materials", "nope"]) == 2
