"""Every solver backend gives the same solution on the same system (1e-8 relative)."""

import numpy as np
import pytest

from conftest import make_material
from reliability.analysis.thermoelastic import ThermoElasticProblem
from reliability.fem.solvers import available_solvers, choose
from reliability.geometry.strip import layered_strip

SI = dict(E_MPa=130000.0, nu=0.28, alpha_per_K=2.6e-6)
CU = dict(E_MPa=120000.0, nu=0.34, alpha_per_K=17e-6)


@pytest.fixture(scope="module")
def solutions():
    model = layered_strip([("cu", 0.3), ("si", 0.3)], 10.0, nx=60, ny=3)
    mats = {"si": make_material("si", **SI), "cu": make_material("cu", **CU)}
    out = {}
    for name in available_solvers():
        problem = ThermoElasticProblem(model, mats, "plane_strain", 25.0, solver=name)
        first = problem.solve(-75.0)
        # refactorize with other values on the same pattern (symbolic analysis reused)
        problem._stiffness_key = None
        again = problem.solve(-75.0)
        out[name] = (first.u, again.u, problem.solver.factorizations)
    return out


def test_at_least_superlu_and_one_more(solutions):
    assert "superlu" in solutions and len(solutions) >= 2, sorted(solutions)


def test_all_backends_agree(solutions):
    ref = solutions["superlu"][0]
    for name, (u, u_again, n_fact) in solutions.items():
        assert np.abs(u - ref).max() / np.abs(ref).max() < 1e-8, name
        assert np.abs(u_again - ref).max() / np.abs(ref).max() < 1e-8, name
        assert n_fact == 2


def test_auto_choice_and_clear_error_for_missing_backend():
    assert choose("auto", 1000) == available_solvers()[0]
    assert choose("superlu") == "superlu"
    with pytest.raises(ValueError, match="unknown solver"):
        choose("mumps")
