"""The fast paths of the process history (issue 19) against the paths they replace.

Each fast path computes the same numbers in less time, so each test runs the
old path and the new one on a small case and asks for equality (to 1e-10 of
the values, and in practice to the last bit):

* the elastic regions' integrals reused for an element set seen before
  (``IntegralCache``) instead of integrated at every ``configure``;
* the forces and tangent blocks of built inelastic elements only, scattered
  through the built elements' dofs and positions, instead of every
  inelastic element's with zeros for the unbuilt (``BUILT_ONLY_SCATTER``);
* the free package's history on a thread beside the assembly's instead of
  one after the other (``CONCURRENT_SECTIONS``).
"""

import numpy as np
import pytest

from conftest import make_material
from reliability.analysis import incremental
from reliability.analysis.elastic_regions import ElasticRegions, IntegralCache
from reliability.analysis.incremental import InelasticProblem
from reliability.geometry.strip import layered_strip
from reliability.library import get_material
from reliability.process.history import History, persistent_nodes
from reliability.process.steps import parse_step

# a polymer whose modulus falls with temperature, as the mold and solder masks do
MASK = dict(E_MPa={"T_C": [-65, 25, 125, 260], "value": [4800.0, 4000.0, 2500.0, 1500.0]}, nu=0.35,
            alpha_per_K=60e-6, cure_shrinkage_linear=0.002)
# silicon, solder (two regions of one Anand group: one exists from the start, one is born later), the
# polymer (cured, then a second layer of it born later) and copper (bilinear, born later)
LAYERS = [("si", 0.2), ("sac_a", 0.08), ("mask", 0.05), ("sac_b", 0.08), ("mask_b", 0.04), ("cu", 0.1)]
LATER = {"sac_b", "mask_b", "cu"}
STEPS = [{"kind": "cure", "regions": ["mask"], "duration_min": 20.0},
         {"kind": "ramp", "to_C": 120.0, "rate_K_per_min": 20.0},
         {"kind": "activate", "regions": ["sac_b", "mask_b"]},
         {"kind": "evaluate", "temperatures_C": [60.0]},
         {"kind": "activate", "regions": ["cu"], "at_C": 100.0},
         {"kind": "dwell", "duration_min": 5.0},
         {"kind": "ramp", "to_C": 25.0, "rate_K_per_min": 20.0}]


@pytest.fixture(scope="module")
def strip():
    model = layered_strip(LAYERS, 2.0, nx=16, ny=1)
    sac, mask = get_material("SAC305"), make_material("mask", **MASK)
    mats = {"si": get_material("silicon"), "sac_a": sac, "sac_b": sac, "mask": mask, "mask_b": mask,
            "cu": get_material("copper")}
    return model, mats


def _history(strip, **problem_kwargs):
    model, mats = strip
    problem = InelasticProblem(model, mats, "plane_strain", 150.0, support_candidates=persistent_nodes(model, LATER),
                               **problem_kwargs)
    return History(problem, 150.0, LATER, max_step_K=20.0, dwell_increments=3)


def _run(strip, old: bool):
    """The steps on a fresh problem; ``old``: every configure integrates afresh, every inelastic element scattered."""
    h = _history(strip)
    if old:
        h.problem._integrals = IntegralCache(0)
        h.problem._dormant_cache = IntegralCache(0)
    records = []
    h.observer = lambda i, step, hist: records.append(hist.state)
    flag = incremental.BUILT_ONLY_SCATTER
    incremental.BUILT_ONLY_SCATTER = not old
    try:
        h.run([parse_step(s) for s in STEPS])
    finally:
        incremental.BUILT_ONLY_SCATTER = flag
    return h, records + h.evaluations


def _assert_same_states(a, b):
    assert len(a) == len(b)
    for sa, sb in zip(a, b):
        assert sa.T == sb.T and sa.t == sb.t
        scale = np.abs(sb.u).max()
        assert np.abs(sa.u - sb.u).max() <= 1e-10 * scale  # measured: equal to the last bit
        for ga, gb in zip(sa.groups, sb.groups):
            for k in gb:
                assert np.abs(ga[k] - gb[k]).max() <= 1e-10 * max(np.abs(gb[k]).max(), 1e-30), k
        for xa, xb in zip(sa.stress, sb.stress):
            assert np.abs(xa - xb).max() <= 1e-10 * max(np.abs(xb).max(), 1e-30)


def test_history_with_the_fast_paths_equals_the_old_paths(strip):
    """Cure sub-steps, births of part of a solder group and of an elastic layer, an evaluation branch, a copper
    layer born hot, a dwell: every state after every step, and the evaluation, as on the old paths."""
    (h_new, new), (h_old, old) = _run(strip, old=False), _run(strip, old=True)
    _assert_same_states(new, old)
    assert h_new.increments == h_old.increments and h_new.problem.iterations == h_old.problem.iterations
    assert h_new.problem.solver.factorizations == h_old.problem.solver.factorizations
    # the cache was used: the cure's sub-steps and the branch exit configure over sets seen before
    assert h_new.problem._integrals.hits >= 3
    # the solder's inelastic work is not trivially zero (the comparison covers the viscoplastic path)
    assert max(float(np.abs(g["W"]).max()) for g in new[-1].groups if "W" in g) > 0


def test_cached_integrals_are_the_integrated_ones(strip):
    """ElasticRegions from the cache (same element set, other offsets and birth strains) equals a fresh
    integration at several temperatures: stiffness data, its product, thermal force, force scale and floor."""
    h = _history(strip)
    h.run([parse_step(s) for s in STEPS[:3]])  # the cure, a ramp, a birth: offsets and birth strains set
    p, birth = h.problem, h.state.birth
    active = birth.active
    elements = p.elastic_elements[active[p.elastic_elements]]
    offset = birth.offset(p.materials, p.mat_index, p.T_ref)
    args = (p.assembler, p.kin.B, p.kin.w, p.materials, p.mat_index, elements, p.T_ref, offset, birth.eps_birth,
            active)
    cache = IntegralCache()
    ElasticRegions(*args, cache=cache)
    cached = ElasticRegions(*args, cache=cache)
    assert cache.hits == 3 and cache.misses == 3  # stiffness, force parts, birth basis
    fresh = ElasticRegions(*args)
    u = np.random.default_rng(1).standard_normal(p.n_dofs) * 1e-3
    for T in (-40.0, 25.0, 125.0, 217.0):
        a, b = cached.at(T), fresh.at(T)
        assert np.array_equal(a.data(), b.data()) and np.array_equal(a.matvec(u), b.matvec(u))
        assert np.array_equal(a.f_th, b.f_th) and np.array_equal(a.scale_th, b.scale_th)
        assert cached.force_floor == fresh.force_floor


def test_built_only_scatter_equals_scattering_every_inelastic_element(strip):
    """A partly built solder group (one region born later): residual, force scale and tangent of one
    evaluation are those of the old scatter over every inelastic element with zeros for the unbuilt."""
    h = _history(strip)
    h.run([parse_step(s) for s in STEPS[:2]])
    p, state = h.problem, h.state
    assert p._built_rows is not None  # sac_b and cu are not built: the fast path is taken
    u = state.u * 1.01
    out = {}
    flag = incremental.BUILT_ONLY_SCATTER
    try:
        for built_only in (True, False):
            incremental.BUILT_ONLY_SCATTER = built_only
            p._hints = (None, None, [])  # the same local starting points for both
            R, tangent, trial, stresses, scale = p.evaluate(u, 110.0, 30.0, state)
            out[built_only] = (R, tangent(), scale)
    finally:
        incremental.BUILT_ONLY_SCATTER = flag
    (R1, K1, c1), (R0, K0, c0) = out[True], out[False]
    assert np.array_equal(R1, R0) and c1 == c0
    assert (K1 != K0).nnz == 0


def test_concurrent_sections_equal_the_serial_run(tmp_path):
    """The free package's history on a thread beside the assembly's: every state the summary and the
    cycling read (each section's end state, evaluations and step records) is the serial run's."""
    from reliability import process_case
    from reliability.case import load_case
    from reliability.run import centre_x
    from reliability.sections import sections

    (tmp_path / "c.toml").write_text(SMALL_SECTIONS)
    case = load_case(tmp_path / "c.toml")
    secs = sections(case, tmp_path / "meshes")
    assert [s.role for s in secs] == ["package", "assembly"]
    temps = {s.role: [25.0, 100.0] for s in secs}
    out = {}
    flag = process_case.CONCURRENT_SECTIONS
    try:
        for concurrent in (True, False):
            process_case.CONCURRENT_SECTIONS = concurrent
            out[concurrent] = process_case.run_processes(
                case, secs, temps, lambda s: centre_x(s.model, "plane_strain", s.symmetry_line), False)
    finally:
        process_case.CONCURRENT_SECTIONS = flag
    for role in ("package", "assembly"):
        a, b = out[True][role], out[False][role]
        _assert_same_states([a.end], [b.end])
        assert a.solver == b.solver  # increments, iterations, factorizations
        assert [r["warpage_um"] for r in a.steps] == [r["warpage_um"] for r in b.steps]
        for T in temps[role]:
            assert a.evaluations[T][1].warpage_um == b.evaluations[T][1].warpage_um
    assert list(out[True]) == list(out[False]) == ["package", "assembly"]


# a small board-level paste-plug WLP with its own two steps (no reflow curve): both sections have solder
SMALL_SECTIONS = """
[case]
name = "two_sections"
[geometry]
family = "wlp_paste_plug"
[geometry.dimensions_mm]
die_width = 1.2
board_overhang = 0.4
pcb_thickness = 0.4
[mesh]
size_mm = 0.15
board_size_mm = 0.3
[process]
initial_C = 150.0
reflow_curve = false
max_step_K = 25.0
[[process.steps]]
kind = "ramp"
to_C = 25.0
[[process.steps]]
kind = "dwell"
duration_min = 5.0
[analysis]
kinematics = "plane_strain"
temperatures_C = [25, 100]
[output]
plots = false
vtu = false
"""
