"""A homogeneous free body under a uniform temperature change carries no stress.

The body has curved edges, a hole and two regions of the same material (the
interface must not matter); the material has temperature tables for E and
alpha, so the check covers the thermal-strain integral as well.  Tolerance:
every stress component below 1e-9 * E * alpha * |dT| (issue 2).  In plane
strain eps_zz = 0 is a constraint, so sigma_zz = -E * eps_th exactly and only
the in-plane components vanish.
"""

import gmsh
import numpy as np
import pytest

from conftest import make_material
from reliability.analysis.thermoelastic import ThermoElasticProblem
from reliability.geometry.gmsh_tools import gmsh_session, mesh_to_model

T_REF, T = 25.0, 150.0


def body(x_shift=0.0):
    with gmsh_session("blob"):
        occ = gmsh.model.occ
        a = occ.addRectangle(x_shift, 0, 0, 3.0, 1.0, roundedRadius=0.3)
        hole = occ.addDisk(x_shift + 1.5, 0.5, 0, 0.2, 0.2)
        cut, _ = occ.cut([(2, a)], [(2, hole)])
        splitter = occ.addRectangle(x_shift, 0, 0, 1.0, 1.0)
        pieces, _ = occ.fragment(cut, [(2, splitter)])
        occ.synchronize()
        tags = [t for d, t in gmsh.model.getEntities(2)]
        gmsh.model.addPhysicalGroup(2, tags[:1], name="part_a")
        gmsh.model.addPhysicalGroup(2, tags[1:], name="part_b")
        gmsh.option.setNumber("Mesh.MeshSizeMax", 0.15)
        return mesh_to_model()


MATERIAL = dict(
    E_MPa={"T_C": [-65, 100, 300], "value": [110000, 100000, 60000]},
    nu=0.3,
    alpha_per_K={"T_C": [-65, 100, 300], "value": [15e-6, 18e-6, 25e-6]},
)


@pytest.mark.parametrize("kinematics", ["plane_stress", "generalized_plane_strain", "axisymmetric", "plane_strain"])
def test_free_expansion_is_stress_free(kinematics):
    model = body(x_shift=0.5 if kinematics == "axisymmetric" else 0.0)
    mat = make_material("m", **MATERIAL)
    state = ThermoElasticProblem(model, {"part_a": mat, "part_b": mat}, kinematics, T_REF).solve(T)
    E = mat.elastic.youngs_modulus(T)
    eps_th = mat.elastic.thermal_strain(T, T_REF)[0]
    scale = E * abs(eps_th)  # E alpha |dT| with the integrated alpha
    in_plane = state.stress[..., [0, 1, 3]]
    assert np.abs(in_plane).max() < 1e-9 * scale
    if kinematics == "plane_strain":
        np.testing.assert_allclose(state.stress[..., 2], -E * eps_th, rtol=1e-9)
    else:
        assert np.abs(state.stress[..., 2]).max() < 1e-9 * scale


def test_axisymmetric_solid_disk_touching_axis_is_stress_free():
    model = body(x_shift=0.0)  # the rounded rectangle starts at r = 0 (touches the axis only at a point)
    mat = make_material("m", **MATERIAL)
    state = ThermoElasticProblem(model, {"part_a": mat, "part_b": mat}, "axisymmetric", T_REF).solve(T)
    scale = mat.elastic.youngs_modulus(T) * abs(mat.elastic.thermal_strain(T, T_REF)[0])
    assert np.abs(state.stress).max() < 1e-9 * scale
