"""PARDISO in 2x2 node blocks: the block matrix is the free-dof matrix, and the solution is the same.

The blocks come two ways: assembled directly from the element matrices
(:mod:`reliability.fem.node_blocks`, the thermo-elastic solve), and from any
CSR pattern (:func:`upper_blocks`, with the global unknowns of generalized
plane strain); both must give the free-dof matrix with unit rows and
columns added at the fixed and padding dofs.
"""

import numpy as np
import pytest
import scipy.sparse as sp

from conftest import make_material
from reliability.analysis.thermoelastic import ThermoElasticProblem
from reliability.fem.assembly import Assembler, element_stiffness
from reliability.fem.constraints import supports
from reliability.fem.geometry import element_geometry
from reliability.fem.kinematics import make_kinematics
from reliability.fem.node_blocks import BlockMatrix, NodeBlocks, pairs_of
from reliability.fem.solvers import available_solvers, make_solver
from reliability.fem.sparsity import upper_blocks
from reliability.geometry.strip import layered_strip

SI = dict(E_MPa=130000.0, nu=0.28, alpha_per_K=2.6e-6)
CU = dict(E_MPa=120000.0, nu=0.34, alpha_per_K=17e-6)
needs_pardiso = pytest.mark.skipif("pardiso" not in available_solvers(), reason="pypardiso (MKL) not installed")


def block_matrix(structure, data):
    """Dense symmetric matrix from the upper block triangle PARDISO is given (column-major blocks)."""
    indptr, indices, source = structure
    values = np.concatenate((data, [1.0, 0.0]))[source].reshape(-1, 2, 2).transpose(0, 2, 1)
    nb = indptr.size - 1
    upper = sp.bsr_matrix((values, indices, indptr), shape=(2 * nb, 2 * nb)).toarray()
    off = upper.copy()
    for b in range(nb):  # diagonal blocks are stored whole: mirror only the off-diagonal ones
        off[2 * b:2 * b + 2, 2 * b:2 * b + 2] = 0.0
    return upper + off.T


def reference(K, numbers, n_numbers):
    """K embedded at ``numbers`` of a 2-per-node numbering, unit diagonal elsewhere (padded to even)."""
    n = n_numbers + n_numbers % 2
    out = np.eye(n)
    out[numbers] = 0.0
    out[np.ix_(numbers, numbers)] = K.toarray()
    return out


def random_element_matrices(model, kinematics):
    kin = make_kinematics(kinematics, element_geometry(model))
    D = np.random.default_rng(0).normal(size=(model.n_elements, 1, 4, 4))
    return element_stiffness(kin.B, D + D.transpose(0, 1, 3, 2), kin.w)


def random_stiffness(model, kinematics, symmetry):
    layout = supports(model, kinematics, symmetry)
    assembler = Assembler.for_layout(model.elements, layout)
    return assembler, layout, assembler.matrix(random_element_matrices(model, kinematics))


@pytest.mark.parametrize("kinematics, symmetry", [("plane_strain", None), ("plane_strain", "symmetry"),
                                                  ("axisymmetric", None)])
def test_direct_node_blocks_equal_the_free_dof_matrix_and_the_generic_blocks(kinematics, symmetry):
    """Element matrices scattered straight into upper 2x2 blocks = the CSR free-dof matrix with unit rows."""
    model = layered_strip([("cu", 0.3), ("si", 0.3)], 4.0, nx=7, ny=2, half=symmetry is not None)
    if kinematics == "axisymmetric":
        model.nodes[:, 0] -= model.nodes[:, 0].min()  # the axis is x = 0
    assembler, layout, K = random_stiffness(model, kinematics, symmetry)
    Ke = random_element_matrices(model, kinematics)
    direct = NodeBlocks(model.elements, model.n_nodes, layout.fixed).stiffness(lambda sel: pairs_of(Ke[sel]), chunk=7)
    ref = reference(K, layout.free, layout.n_full)
    scale = np.abs(K.data).max()
    assert np.abs(direct.tocsr().toarray() - ref).max() <= 1e-14 * scale
    generic = upper_blocks(K.indptr, K.indices, layout.free, layout.n_full)
    assert np.abs(block_matrix(generic, K.data) - ref).max() <= 1e-14 * scale
    assert np.count_nonzero(layout.fixed) >= 3  # some rows really were fixed
    # a transposed element block is really exercised: some element pairs run from the higher node
    assert NodeBlocks(model.elements, model.n_nodes, layout.fixed).transposed.any()


def test_generic_blocks_with_global_unknowns_and_padding():
    """Generalized plane strain: 3 global unknowns make the numbering odd, so one padding row."""
    model = layered_strip([("cu", 0.3), ("si", 0.3)], 4.0, nx=7, ny=2)
    assembler, layout, K = random_stiffness(model, "generalized_plane_strain", None)
    assert layout.n_full % 2 == 1
    structure = upper_blocks(K.indptr, K.indices, layout.free, layout.n_full)
    ref = reference(K, layout.free, layout.n_full)
    assert np.abs(block_matrix(structure, K.data) - ref).max() <= 1e-14 * np.abs(K.data).max()


@needs_pardiso
@pytest.mark.parametrize("kinematics, half, symmetry", [("plane_strain", False, None),
                                                        ("generalized_plane_strain", True, "symmetry"),
                                                        ("axisymmetric", True, None)])
def test_pardiso_in_blocks_equals_superlu(kinematics, half, symmetry):
    """The thermo-elastic solve factorizes in node blocks, and agrees with SuperLU to 1e-9 (round-off of a thin
    strip's bending: measured 1.1e-10 in plane strain with MKL 2026.2.1, below 1e-10 on the earlier install)."""
    model = layered_strip([("cu", 0.3), ("si", 0.3)], 10.0, nx=40, ny=3, half=half)
    mats = {"si": make_material("si", **SI), "cu": make_material("cu", **CU)}
    ours = ThermoElasticProblem(model, mats, kinematics, 25.0, symmetry_line=symmetry, solver="pardiso")
    u = ours.solve(-75.0).u
    if kinematics == "generalized_plane_strain":  # global unknowns: blocks from the CSR pattern
        assert ours.blocks is None and ours.solver._source is not None
    else:  # assembled as blocks, and neither B nor a CSR assembler was built
        assert ours.blocks is not None and ours.solver._direct
        assert ours.kin._B is None and ours._assembler is None
    ref = ThermoElasticProblem(model, mats, kinematics, 25.0, symmetry_line=symmetry, solver="superlu").solve(-75.0).u
    assert np.abs(u - ref).max() <= 1e-9 * np.abs(ref).max()


@needs_pardiso
@pytest.mark.parametrize("single", [False, True])
def test_block_and_entry_factors_agree_on_refactorization(single):
    """Same pattern, new values: the block factor reuses its analysis and still solves the new matrix."""
    model = layered_strip([("cu", 0.3), ("si", 0.3)], 4.0, nx=20, ny=2, half=True)
    assembler, layout, K = random_stiffness(model, "plane_strain", "symmetry")
    K = K @ K.T  # symmetric positive definite (a wider pattern: the generic block path)
    K = sp.csr_matrix(K + 1e-3 * abs(K).max() * sp.eye(K.shape[0]))
    b = np.random.default_rng(1).normal(size=K.shape[0])
    blocks = make_solver("pardiso", single=single)
    blocks.use_node_blocks(layout.free, layout.n_full)
    plain = make_solver("pardiso", single=single)
    for scale in (1.0, 3.0):
        A = sp.csr_matrix(K * scale)
        A.sort_indices()
        blocks.factorize(A)
        plain.factorize(A)
        x_b, x_p = blocks.solve(b), plain.solve(b)
        tol = 0.1 if single else 1e-8
        x = sp.linalg.spsolve(A.tocsc(), b)
        assert np.linalg.norm(x_b - x) <= tol * np.linalg.norm(x)
        assert np.linalg.norm(x_p - x) <= tol * np.linalg.norm(x)
    assert blocks._source is not None and blocks.factorizations == 2


@needs_pardiso
def test_consumed_stiffness_is_released_and_the_solution_unchanged():
    """CSR path (global unknowns): K's values are released before the numeric factorization."""
    model = layered_strip([("cu", 0.3), ("si", 0.3)], 10.0, nx=30, ny=2)
    mats = {"si": make_material("si", **SI), "cu": make_material("cu", **CU)}
    ours = ThermoElasticProblem(model, mats, "generalized_plane_strain", 25.0, solver="pardiso")
    K = ours.assemble(-75.0)
    ours.factorize(-75.0, K, consume=True)
    assert K.data.size == 0
    u = ours.solve(-75.0).u
    ref = ThermoElasticProblem(model, mats, "generalized_plane_strain", 25.0, solver="superlu").solve(-75.0).u
    assert np.abs(u - ref).max() <= 1e-10 * np.abs(ref).max()


@needs_pardiso
def test_node_block_problem_takes_only_its_own_matrix_and_refactorizes_on_a_new_temperature():
    """assemble() gives blocks, a CSR K is refused with a clear error, and a new D refactorizes."""
    model = layered_strip([("cu", 0.3), ("si", 0.3)], 10.0, nx=30, ny=2)
    mats = {"si": make_material("si", **SI),
            "cu": make_material("cu", E_MPa={"T_C": [-100, 200], "value": [130000.0, 110000.0]}, nu=0.34,
                                alpha_per_K=17e-6)}
    ours = ThermoElasticProblem(model, mats, "plane_strain", 25.0, solver="pardiso")
    assert isinstance(ours.assemble(-75.0), BlockMatrix)
    with pytest.raises(TypeError, match="assemble"):
        ours.factorize(-75.0, ours.stiffness(-75.0))
    ref = ThermoElasticProblem(model, mats, "plane_strain", 25.0, solver="superlu")
    for T in (-75.0, 150.0):
        u, u_ref = ours.solve(T).u, ref.solve(T).u
        assert np.abs(u - u_ref).max() <= 1e-10 * np.abs(u_ref).max()
    assert ours.solver.factorizations == 2


@needs_pardiso
@pytest.mark.parametrize("blocks", [False, True])
def test_a_new_pattern_gets_a_new_analysis(blocks):
    """The pattern is remembered by reference: equal arrays reuse the analysis, different ones do not."""
    n = 40
    A = sp.diags([np.full(n, 4.0), np.full(n - 1, -1.0), np.full(n - 1, -1.0)], [0, 1, -1], format="csr")
    wider = sp.csr_matrix(A + sp.diags([np.full(n - 4, -0.5), np.full(n - 4, -0.5)], [4, -4]))
    b = np.arange(1.0, n + 1)
    solver = make_solver("pardiso")
    if blocks:
        solver.use_node_blocks(np.arange(n), n)
    for M in (A, sp.csr_matrix(A.copy()), wider, A):
        solver.factorize(M)
        assert np.linalg.norm(M @ solver.solve(b) - b) <= 1e-12 * np.linalg.norm(b)
