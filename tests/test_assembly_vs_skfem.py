"""Our cached-pattern assembly against scikit-fem's own `asm` (independent route).

* Stiffness and thermal load of a two-material plane-strain model equal the
  ones scikit-fem assembles from the weak form, to 1e-12 relative.
* Linear triangles lock in bending: on the bimetal with 2 elements per layer,
  P1 (scikit-fem, same nodes) misses the Timoshenko curvature by tens of
  percent (-22.5 %) while P2 with one element per layer is exact - the
  reason the project uses 6-node triangles only.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from skfem import (Basis, BilinearForm, ElementTriP1, ElementTriP2, ElementVector, LinearForm,
                   MeshTri1, MeshTri2, asm, condense, solve)
from skfem.helpers import ddot, div, sym_grad, trace

from closed_form import KAPPA_PLANE_STRAIN, rel
from conftest import make_material
from reliability.analysis.thermoelastic import ThermoElasticProblem, element_materials
from reliability.analysis.warpage import surface_profile
from reliability.fem.assembly import Assembler, element_force, element_stiffness
from reliability.fem.constraints import DofLayout
from reliability.fem.geometry import element_geometry
from reliability.fem.kinematics import make_kinematics
from reliability.fem.solvers import available_solvers
from reliability.geometry.strip import layered_strip

SI = dict(E_MPa=130000.0, nu=0.28, alpha_per_K=2.6e-6)
CU = dict(E_MPa=120000.0, nu=0.34, alpha_per_K=17e-6)


@BilinearForm
def elasticity(u, v, w):
    return 2.0 * w.mu * ddot(sym_grad(u), sym_grad(v)) + w.lam * trace(sym_grad(u)) * trace(sym_grad(v))


@LinearForm
def thermal_load(v, w):
    # plane strain: sigma_th = -(3 lam + 2 mu) alpha dT I in the plane
    return (3.0 * w.lam + 2.0 * w.mu) * w.eth * div(v)


def lame(E, nu):
    return E * nu / ((1 + nu) * (1 - 2 * nu)), E / (2 * (1 + nu))


def per_element(model, values_by_region, nqp):
    v = np.array([values_by_region[n] for n in model.region_names])[model.element_region]
    return np.repeat(v[:, None], nqp, axis=1)


def skfem_permutation(model, mesh, basis):
    """Our dof (2*node + c) -> scikit-fem's global dof."""
    perm = np.empty(2 * model.n_nodes, dtype=np.int64)
    for c in range(2):
        for a in range(3):
            perm[2 * model.elements[:, a] + c] = basis.nodal_dofs[c, mesh.t[a]]
        for k in range(3):
            perm[2 * model.elements[:, 3 + k] + c] = basis.facet_dofs[c, mesh.t2f[k]]
    return perm


def skfem_reference(model, mats, T_ref, T):
    """Stiffness and thermal load by scikit-fem's documented route, in our dof numbering (2 node + c)."""
    mesh = MeshTri2(model.nodes.T.copy(), model.elements.T.copy())
    basis = Basis(mesh, ElementVector(ElementTriP2()), intorder=2)
    nqp = basis.X.shape[1]
    lam_mu = {n: lame(mats[n].spec.E_MPa, mats[n].spec.nu) for n in model.region_names}
    lam = per_element(model, {n: v[0] for n, v in lam_mu.items()}, nqp)
    mu = per_element(model, {n: v[1] for n, v in lam_mu.items()}, nqp)
    eth_q = per_element(model, {n: mats[n].spec.alpha_per_K * (T - T_ref) for n in model.region_names}, nqp)
    p = skfem_permutation(model, mesh, basis)
    return asm(elasticity, basis, lam=lam, mu=mu)[p][:, p], asm(thermal_load, basis, lam=lam, mu=mu, eth=eth_q)[p]


def test_cached_assembly_equals_skfem_asm():
    model = layered_strip([("cu", 0.3), ("si", 0.3)], 4.0, nx=12, ny=2)
    mats = {"si": make_material("si", **SI), "cu": make_material("cu", **CU)}
    T_ref, T = 25.0, -75.0

    geo = element_geometry(model)
    kin = make_kinematics("plane_strain", geo)
    materials, mat_index = element_materials(model, mats)
    D = np.stack([m.elastic.stiffness(T) for m in materials])[mat_index][:, None]
    eth = np.stack([m.elastic.thermal_strain(T, T_ref) for m in materials])[mat_index]
    layout = DofLayout(model.n_nodes, 0, np.zeros(2 * model.n_nodes, dtype=bool))
    assembler = Assembler(layout.element_dofmap(model.elements), layout.n_free)
    K = assembler.matrix(element_stiffness(kin.B, D, kin.w))
    sig = np.broadcast_to(np.einsum("eqij,ej->eqi", D, eth), kin.w.shape + (4,))
    f = assembler.vector(element_force(kin.B, sig, kin.w))

    K_ref, f_ref = skfem_reference(model, mats, T_ref, T)
    assert abs(K - K_ref).max() / abs(K_ref).max() < 1e-12
    assert np.abs(f - f_ref).max() / np.abs(f_ref).max() < 1e-12


@pytest.mark.skipif("pardiso" not in available_solvers(), reason="node-block assembly is PARDISO's path")
def test_node_block_assembly_equals_skfem_asm():
    """The thermo-elastic solve's upper 2x2 blocks and load equal scikit-fem's asm on the free dofs (1e-12)."""
    model = layered_strip([("cu", 0.3), ("si", 0.3)], 4.0, nx=12, ny=2)
    mats = {"si": make_material("si", **SI), "cu": make_material("cu", **CU)}
    T_ref, T = 25.0, -75.0
    problem = ThermoElasticProblem(model, mats, "plane_strain", T_ref, solver="pardiso")
    assert problem.blocks is not None
    K = problem.assemble(T).tocsr()  # full nodal numbering, unit rows and columns at the supports
    f = problem.load(T)

    K_ref, f_ref = skfem_reference(model, mats, T_ref, T)

    free, fixed = problem.layout.free, np.flatnonzero(problem.layout.fixed)
    assert abs(K[free][:, free] - K_ref[free][:, free]).max() / abs(K_ref).max() < 1e-12
    assert np.abs(f[free] - f_ref[free]).max() / np.abs(f_ref).max() < 1e-12
    assert fixed.size == 3 and not f[fixed].any()
    assert np.array_equal(K[fixed].toarray(), np.eye(K.shape[0])[fixed])


def p1_p2_curvatures(nx=50, ny=2):
    """Bimetal (plane strain) solved entirely with scikit-fem, P1 and P2 on the same nodes."""
    model = layered_strip([("cu", 0.3), ("si", 0.3)], 10.0, nx=nx, ny=ny)
    out = {}
    vertices = np.unique(model.elements[:, :3])
    for name, elem in (("P1", ElementTriP1()), ("P2", ElementTriP2())):
        if name == "P1":
            # split every 6-node triangle into 4 linear ones: same nodes, same dofs
            sub = model.elements[:, [[0, 3, 5], [3, 1, 4], [5, 4, 2], [3, 4, 5]]].reshape(-1, 3)
            region = np.repeat(model.element_region, 4)
            mesh = MeshTri1(model.nodes.T.copy(), sub.T.copy())
        else:
            region = model.element_region
            mesh = MeshTri2(model.nodes.T.copy(), model.elements.T.copy())
        basis = Basis(mesh, ElementVector(elem), intorder=2)
        nqp = basis.X.shape[1]
        props = {"si": SI, "cu": CU}
        names = model.region_names
        lam = np.repeat(np.array([lame(props[n]["E_MPa"], props[n]["nu"])[0] for n in names])[region][:, None], nqp, 1)
        mu = np.repeat(np.array([lame(props[n]["E_MPa"], props[n]["nu"])[1] for n in names])[region][:, None], nqp, 1)
        eth = np.repeat(np.array([props[n]["alpha_per_K"] * -100.0 for n in names])[region][:, None], nqp, 1)
        K = asm(elasticity, basis, lam=lam, mu=mu)
        f = asm(thermal_load, basis, lam=lam, mu=mu, eth=eth)
        # 3-2-1 support: the two bottom corners
        x, y = mesh.p
        left = np.flatnonzero((np.abs(x - x.min()) < 1e-12) & (np.abs(y) < 1e-12))[0]
        right = np.flatnonzero((np.abs(x - x.max()) < 1e-12) & (np.abs(y) < 1e-12))[0]
        fixed = np.array([basis.nodal_dofs[0, left], basis.nodal_dofs[1, left], basis.nodal_dofs[1, right]])
        u = solve(*condense(K, f, D=fixed))
        bottom = np.flatnonzero(np.abs(basis.doflocs[1]) < 1e-12)
        ydofs = bottom[np.isin(bottom, basis.nodal_dofs[1]) | np.isin(bottom, basis.facet_dofs[1] if name == "P2" else [])]
        xs = basis.doflocs[0, ydofs]
        keep = np.abs(xs) <= 2.5
        out[name] = 2 * np.polyfit(xs[keep], u[ydofs][keep], 2)[0]
    return out


def test_linear_triangles_lock_in_bending():
    # 6-node triangles, 1 through each 0.3 mm layer, 0.4 mm long; split into
    # 3-node ones that is 2 through each layer, 0.2 mm long
    k = p1_p2_curvatures(nx=25, ny=1)
    assert rel(k["P2"], KAPPA_PLANE_STRAIN) < 1e-3  # measured -8e-9 vs the closed form
    assert rel(k["P1"], KAPPA_PLANE_STRAIN) > 0.15  # measured -22.5 %
    assert abs(k["P1"]) < abs(k["P2"])  # locking makes the strip too stiff


def test_our_solution_equals_skfem_route():
    """Same mesh, same supports: our displacements equal the documented scikit-fem route."""
    model = layered_strip([("cu", 0.3), ("si", 0.3)], 10.0, nx=50, ny=2)
    mats = {"si": make_material("si", **SI), "cu": make_material("cu", **CU)}
    state = ThermoElasticProblem(model, mats, "plane_strain", 25.0).solve(-75.0)
    prof = surface_profile(model, state.u, "bottom")
    k_sk = p1_p2_curvatures(nx=50, ny=2)["P2"]
    assert rel(prof.curvature_per_mm(), k_sk) < 1e-8


@pytest.mark.parametrize("symmetry", [None, "symmetry"])
def test_block_pattern_equals_generic_pattern(symmetry):
    """The node-graph pattern (fast path) gives the same matrix as deduplicating dof pairs."""
    from reliability.fem.constraints import supports

    model = layered_strip([("cu", 0.3), ("si", 0.3)], 4.0, nx=9, ny=2, half=symmetry is not None)
    geo = element_geometry(model)
    kin = make_kinematics("plane_strain", geo)
    layout = supports(model, "plane_strain", symmetry)
    rng = np.random.default_rng(0)
    D = rng.normal(size=(model.n_elements, 1, 4, 4))
    D = D + D.transpose(0, 1, 3, 2)
    Ke = element_stiffness(kin.B, D, kin.w)
    fast = Assembler.for_layout(model.elements, layout)
    slow = Assembler(layout.element_dofmap(model.elements), layout.n_free)
    assert np.array_equal(fast.indptr, slow.indptr) and np.array_equal(fast.indices, slow.indices)
    assert abs(fast.matrix(Ke) - slow.matrix(Ke)).max() < 1e-12 * np.abs(Ke).max()
    sub = np.arange(0, model.n_elements, 3)
    assert abs(fast.matrix(Ke[sub], sub) - slow.matrix(Ke[sub], sub)).max() < 1e-12 * np.abs(Ke).max()


@pytest.mark.parametrize("kinematics", ["plane_strain", "plane_stress", "axisymmetric"])
@pytest.mark.parametrize("materials", ["one", "mixed"])
def test_pair_stiffness_from_gradients_equals_the_element_matrices(kinematics, materials):
    """The 84 node-pair entries from gradient products equal those of B^T D B, 1e-13; B never built."""
    from reliability.fem.node_blocks import pair_stiffness, pairs_of

    model = layered_strip([("cu", 0.3), ("si", 0.3)], 4.0, nx=12, ny=2)
    kin = make_kinematics(kinematics, element_geometry(model))
    rng = np.random.default_rng(3)
    D = rng.normal(size=(3, 4, 4))
    D = D + D.transpose(0, 2, 1)  # every entry, the zz row and the shear couplings included
    index = np.zeros(model.n_elements, dtype=int) if materials == "one" else rng.integers(0, 3, model.n_elements)
    ours = pair_stiffness(kin.nodal_gradients(), kin.w, D, index)
    assert kin._B is None
    ref = pairs_of(element_stiffness(kin.B, D[index][:, None], kin.w))
    assert np.abs(ours - ref).max() <= 1e-13 * np.abs(ref).max()
