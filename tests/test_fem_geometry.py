"""The element geometry lines up with the model's node numbering, and areas are exact."""

import gmsh
import numpy as np

from reliability.fem.geometry import element_areas, element_geometry, forget_geometry, region_area
from reliability.geometry.gmsh_tools import gmsh_session, mesh_to_model
from reliability.geometry.strip import layered_strip


def disk(radius=1.0):
    with gmsh_session("disk"):
        d = gmsh.model.occ.addDisk(0, 0, 0, radius, radius)
        gmsh.model.occ.synchronize()
        gmsh.model.addPhysicalGroup(2, [d], name="disk")
        gmsh.option.setNumber("Mesh.MeshSizeMax", 0.25)
        return mesh_to_model()


def test_gradients_of_a_linear_field_are_exact():
    model = disk()
    geo = element_geometry(model)
    for a, b in ((2.0, -3.0), (0.5, 7.0)):
        field = a * model.nodes[:, 0] + b * model.nodes[:, 1]
        grad = np.einsum("eqai,ea->eqi", geo.grad, field[model.elements])
        assert np.allclose(grad[..., 0], a, atol=1e-12) and np.allclose(grad[..., 1], b, atol=1e-12)


def test_curved_quadratic_triangles_capture_the_circle_area():
    model = disk()
    # chords would lose ~1 %; mid-nodes on the arc bring the error to ~1e-5 at this coarse size
    assert abs(element_areas(model).sum() - np.pi) / np.pi < 1e-4


def test_strip_areas_are_exact():
    m = layered_strip([("a", 0.1), ("b", 0.3)], 2.0, nx=7, ny=2)
    assert abs(region_area(m, "a") - 0.2) < 1e-14
    assert abs(region_area(m, "b") - 0.6) < 1e-14


def test_geometry_equals_skfem_cellbasis_on_curved_mesh():
    """Our vectorised isoparametric map against scikit-fem's CellBasis on MeshTri2."""
    from skfem import CellBasis, ElementTriP2, MeshTri2

    model = disk()
    geo = element_geometry(model)
    mesh = MeshTri2(model.nodes.T.copy(), model.elements.T.copy())
    basis = CellBasis(mesh, ElementTriP2(), intorder=2)
    grad = np.stack([basis.basis[a][0].grad for a in range(6)], axis=0).transpose(2, 3, 0, 1)
    assert np.abs(geo.grad - grad).max() / np.abs(grad).max() < 1e-12
    assert np.abs(geo.dx - basis.dx).max() / basis.dx.max() < 1e-12
    xq = np.asarray(basis.global_coordinates()).transpose(1, 2, 0)
    assert np.abs(geo.xq - xq).max() < 1e-14


def test_geometry_is_cached_per_model_until_its_mesh_changes():
    m = layered_strip([("a", 0.1), ("b", 0.3)], 2.0, nx=7, ny=2)
    geo = element_geometry(m)
    assert element_geometry(m) is geo
    forget_geometry(m)
    again = element_geometry(m)
    assert again is not geo and np.array_equal(again.dx, geo.dx)
    m.nodes = m.nodes * 2.0  # a new node array: the cached geometry is not reused
    assert abs(region_area(m, "a") - 0.8) < 1e-13
