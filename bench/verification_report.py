"""Print the measured value of every verification check next to its reference.

    python bench/verification_report.py

The numbers quoted in README.md ("Verification") and in the issue notes come
from this script; the tests in tests/ assert the same quantities with their
tolerances.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from closed_form import (CU, KAPPA_BIAXIAL, KAPPA_PLANE_STRAIN, KAPPA_PLANE_STRESS, SI,  # noqa: E402
                         bimetal_reference, composite_cylinder_radial_stress)
from conftest import make_material  # noqa: E402

from reliability.analysis.thermoelastic import ThermoElasticProblem  # noqa: E402
from reliability.analysis.warpage import surface_profile  # noqa: E402
from reliability.geometry.strip import layered_strip  # noqa: E402


def row(name, ref, value, unit=""):
    err = value / ref - 1 if ref else float("nan")
    print(f"| {name} | {ref:.6g} {unit} | {value:.6g} {unit} | {100 * err:+.2e} % |")


def main() -> None:
    print("| check | reference | measured | relative error |")
    print("|---|---|---|---|")
    mats = {"si": make_material("si", **SI), "cu": make_material("cu", **CU)}
    strip = layered_strip([("cu", 0.3), ("si", 0.3)], 10.0, nx=100, ny=4)
    for kin, ref in (("plane_strain", KAPPA_PLANE_STRAIN), ("plane_stress", KAPPA_PLANE_STRESS),
                     ("generalized_plane_strain", KAPPA_BIAXIAL)):
        st = ThermoElasticProblem(strip, mats, kin, 25.0).solve(-75.0)
        k = surface_profile(strip, st.u, "bottom").curvature_per_mm()
        row(f"bimetal curvature, {kin} (vs physics.md)", ref, k, "1/mm")
        cf = bimetal_reference("biaxial" if kin == "generalized_plane_strain" else kin)
        row(f"bimetal curvature, {kin} (vs exact closed form)", cf, k, "1/mm")
    disk = layered_strip([("cu", 0.3), ("si", 0.3)], 10.0, nx=60, ny=4, half=True)
    st = ThermoElasticProblem(disk, mats, "axisymmetric", 25.0).solve(-75.0)
    row("axisymmetric disk curvature", KAPPA_BIAXIAL, surface_profile(disk, st.u, "bottom", 0.0).curvature_per_mm(), "1/mm")

    import test_free_expansion as fe

    for kin in ("plane_stress", "generalized_plane_strain", "axisymmetric", "plane_strain"):
        model = fe.body(0.5 if kin == "axisymmetric" else 0.0)
        mat = make_material("m", **fe.MATERIAL)
        st = ThermoElasticProblem(model, {"part_a": mat, "part_b": mat}, kin, fe.T_REF).solve(fe.T)
        scale = mat.elastic.youngs_modulus(fe.T) * abs(mat.elastic.thermal_strain(fe.T, fe.T_REF)[0])
        comps = [0, 1, 3] if kin == "plane_strain" else [0, 1, 2, 3]
        print(f"| free expansion, {kin}: max stress / (E alpha dT) | < 1e-9 | "
              f"{np.abs(st.stress[..., comps]).max() / scale:.1e} | |")

    import test_lame as tl
    from reliability.library import get_material

    via = tl.via_mesh()
    st = ThermoElasticProblem(via, {"via": get_material("copper-tsv"), "silicon": get_material("silicon-tsv")},
                              "plane_strain", 25.0).solve(-375.0)
    s = tl.ring_average_radial_stress(via, st.stress)
    row("Lame sigma_r at 20 um (published 353.95)", 353.95, s, "MPa")
    exact = composite_cylinder_radial_stress(117000, 0.30, 16.7e-6, 169000, 0.26, 2.3e-6, -400.0,
                                             tl.D / 2, tl.R_OUT, 0.020)
    row("Lame sigma_r at 20 um (exact finite plate)", exact, s, "MPa")

    from test_assembly_vs_skfem import p1_p2_curvatures

    k = p1_p2_curvatures(nx=25, ny=1)
    row("P1, 2 elements per layer (locking)", KAPPA_PLANE_STRAIN, k["P1"], "1/mm")
    row("P2, 1 element per layer", KAPPA_PLANE_STRAIN, k["P2"], "1/mm")


if __name__ == "__main__":
    main()
