"""Copper via in silicon, plane strain, against the Lame composite-cylinder solution.

physics.md 6.4 (Choi et al. 2021 properties): D = 30 um, dT = -400 K, radial
stress in the silicon at r = 20 um is +353.95 MPa (tension on cooling).  The
silicon plate is 40 via radii across, so its finite size changes the
infinite-plate value by less than 0.1 %.

The published formula takes nu_Si = nu_Cu in its thermal term; the exact
plane-strain composite cylinder is 0.49 % higher (355.69 MPa; 355.31 MPa for
this finite plate).  The FE result is checked against both: 1 % from the
published number (the issue's tolerance) and 0.1 % from the exact one.
"""

import gmsh
import numpy as np
import pytest

from closed_form import composite_cylinder_radial_stress, lame_radial_stress
from reliability.analysis.thermoelastic import ThermoElasticProblem
from reliability.fem.geometry import element_geometry
from reliability.geometry.gmsh_tools import gmsh_session, mesh_to_model
from reliability.library import get_material

D = 0.030
R_OUT = 40 * D / 2


def via_mesh():
    with gmsh_session("via"):
        occ = gmsh.model.occ
        via = occ.addDisk(0, 0, 0, D / 2, D / 2)
        plate = occ.addDisk(0, 0, 0, R_OUT, R_OUT)
        out, _ = occ.fragment([(2, plate)], [(2, via)])
        occ.synchronize()
        surfaces = [t for d, t in gmsh.model.getEntities(2)]
        areas = {t: occ.getMass(2, t) for t in surfaces}
        via_tag = min(areas, key=areas.get)
        gmsh.model.addPhysicalGroup(2, [via_tag], name="via")
        gmsh.model.addPhysicalGroup(2, [t for t in surfaces if t != via_tag], name="silicon")
        outer = [t for d, t in gmsh.model.getBoundary([(2, t) for t in surfaces], oriented=False)]
        gmsh.model.addPhysicalGroup(1, [abs(t) for t in outer], name="outer")
        f = gmsh.model.mesh.field
        dist = f.add("MathEval")
        f.setString(dist, "F", f"0.0012 + 0.08*Sqrt(x*x+y*y)")
        f.setAsBackgroundMesh(dist)
        gmsh.option.setNumber("Mesh.MeshSizeExtendFromBoundary", 0)
        gmsh.option.setNumber("Mesh.MeshSizeFromPoints", 0)
        return mesh_to_model()


@pytest.fixture(scope="module")
def via_model():
    return via_mesh()


def ring_average_radial_stress(model, stress, r0=0.020, band=0.002):
    """sigma_rr at r0 from silicon quadrature points with |r - r0| < band.

    The quadrature-point stresses of P2 elements scatter by about 0.5 % from
    element to element; averaging sigma_rr * (r / r0)^2 (constant in the
    Lame solution) over a band of several elements removes the scatter
    without biasing the mean.
    """
    geo = element_geometry(model)
    r = np.hypot(geo.xq[..., 0], geo.xq[..., 1])
    c, s = geo.xq[..., 0] / r, geo.xq[..., 1] / r
    sx, sy, _, txy = np.moveaxis(stress, -1, 0)
    srr = c * c * sx + s * s * sy + 2 * c * s * txy
    ring = (np.abs(r - r0) < band) & (model.element_region[:, None] == model.region_index("silicon"))
    return float(np.sum((srr * (r / r0) ** 2)[ring] * geo.dx[ring]) / np.sum(geo.dx[ring]))


def test_lame_radial_stress_at_20um(via_model):
    mats = {"via": get_material("copper-tsv"), "silicon": get_material("silicon-tsv")}
    T_ref, T = 25.0, 25.0 - 400.0
    state = ThermoElasticProblem(via_model, mats, "plane_strain", T_ref).solve(T)
    fe = ring_average_radial_stress(via_model, state.stress)
    ref = lame_radial_stress(117000, 0.30, 16.7e-6, 169000, 0.26, 2.3e-6, -400.0, D, 0.020)
    assert abs(ref - 353.95) < 0.01  # the closed form reproduces the published value
    assert abs(fe - 353.95) / 353.95 < 0.01  # issue: within 1 % (measured +0.48 %)
    exact = composite_cylinder_radial_stress(
        117000, 0.30, 16.7e-6, 169000, 0.26, 2.3e-6, -400.0, D / 2, R_OUT, 0.020
    )  # 355.31 MPa for this finite plate; 355.69 for an infinite one
    assert abs(fe - exact) / exact < 1e-3  # measured -0.01 %
