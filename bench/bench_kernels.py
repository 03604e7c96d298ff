"""Benchmark: the kernels behind the cycling and 1 M-dof numbers, each against its alternative in one process.

    python bench/bench_kernels.py            # all rows (about 1.5 min)
    python bench/bench_kernels.py --quick    # without the 1 M-dof rows

Rows (medians of repeated calls):

* a PARDISO solve (200 k dofs) right after five vector dot products, with
  NumPy's OpenBLAS at its default threads and at one thread
  (``fem.threads.openblas_single_threaded``);
* on the default fan-out case, cooled from 217 to 25 C in 24 increments: a
  residual evaluation and a tangent with 1 and 2 worker threads, and one
  Anand update of all solder points from a close guess;
* PARDISO on that case's tangent, entry-wise CSR against 2x2 node blocks
  (first factorization, refactorization, solve);
* on that case: the elastic regions at a new temperature, integrated
  element by element against the integrated basis; an Anand update after a
  global step from the last dp against its first-order prediction; the
  solder's element forces, three-operand einsum against one flat product;
* the 1 M-dof bimetal strip of ``bench_core.py``: PARDISO's first
  factorization (analysis + numeric), of the CSR matrix entry-wise against
  the directly assembled 2x2 node blocks, alternating, best of two each.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).parent))
from bench_core import CU, SI, mesh_path  # noqa: E402

from reliability.fem.assembly import element_force  # noqa: E402
from reliability.fem.solvers import make_solver  # noqa: E402
from reliability.fem.threads import openblas_single_threaded  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


def median_ms(fn, repeats=10, before=None):
    times = []
    for _ in range(repeats):
        if before is not None:
            before()
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1e3 * statistics.median(times)


def row(what, a_label, a, b_label, b, unit="ms"):
    print(f"| {what} | {a_label} | {a:.1f} {unit} | {b_label} | {b:.1f} {unit} | {a / b:.2f} |")


def openblas_rows():
    n = 200_000
    A = sp.diags([np.full(n, 4.0), np.full(n - 1, -1.0), np.full(n - 1, -1.0), np.full(n - 300, -1.0),
                  np.full(n - 300, -1.0)], [0, 1, -1, 300, -300], format="csr")
    s = make_solver("pardiso", single=True)
    s.factorize(A)
    b = np.ones(n)

    def dots():
        for _ in range(5):
            np.dot(b, b)

    default = median_ms(lambda: s.solve(b), 30, dots)
    with openblas_single_threaded():
        single = median_ms(lambda: s.solve(b), 30, dots)
    row("PARDISO solve after 5 dot products (200 k)", "OpenBLAS default", default, "OpenBLAS 1 thread", single)


def fan_out_rows():
    from reliability.analysis.incremental import InelasticProblem
    from reliability.case import load_case
    from reliability.sections import sections

    case = load_case(REPO / "cases" / "fan_out_exposed.toml")
    sec = {x.role: x for x in sections(case, REPO / "meshes")}["assembly"]
    a = case.spec.analysis
    pr = InelasticProblem(sec.model, sec.assignment, a.kinematics, 217.0, symmetry_line=sec.symmetry_line)
    with openblas_single_threaded():
        st = pr.initial_state()
        for k, T in enumerate(np.linspace(217.0, 25.0, 25)[1:]):
            st = pr.increment(st, 60.0 * (k + 1), T)
        u = st.u + 1e-6
        ev, tg = {}, {}
        for workers in (1, 2):
            pr.workers = workers
            ev[workers] = median_ms(lambda: pr.evaluate(u, 20.0, 60.0, st), 10)
            tg[workers] = median_ms(lambda: pr.evaluate(u, 20.0, 60.0, st)[1](), 4) - ev[workers]
        row("residual evaluation, fan-out mid-cycle", "1 thread", ev[1], "2 threads", ev[2])
        row("tangent assembly, fan-out mid-cycle", "1 thread", tg[1], "2 threads", tg[2])
        elastic_rows(pr)
        g = next(g for g in pr.groups if g.model.kind == "anand")
        i = pr.groups.index(g)
        B, w, dofs = pr._group_operators(g)
        eps = np.einsum("eqki,ei->eqk", B, np.concatenate((u, [0.0]))[dofs]).reshape(-1, 4)
        eth = g.material.elastic.thermal_strain(20.0, 217.0)
        _, _, new = g.model.update(eps, 20.0, 60.0, st.groups[i], eth, st.stress[i])
        guess = new["p"] - st.groups[i]["p"]
        t = median_ms(lambda: g.model.update(eps * 1.0001, 20.0, 60.0, st.groups[i], eth, st.stress[i],
                                             lazy_tangent=True, dp_guess=guess), 10)
        print(f"| Anand update, {eps.shape[0]:,} points, close guess | - | - | this code | {t:.1f} ms | - |")
        # the next global iteration: strains moved by ~1e-3; start from the last dp, or from the last
        # return mapping's first-order prediction at the new trial stresses
        _, last, new = g.model.update(eps, 20.0, 60.0, st.groups[i], eth, st.stress[i], lazy_tangent=True)
        moved = eps * (1.0 + np.random.default_rng(2).uniform(-1e-3, 1e-3, eps.shape))
        plain = median_ms(lambda: g.model.update(moved, 20.0, 60.0, st.groups[i], eth, st.stress[i],
                                                 lazy_tangent=True, dp_guess=new["p"] - st.groups[i]["p"]), 10)
        predicted = median_ms(lambda: g.model.update(moved, 20.0, 60.0, st.groups[i], eth, st.stress[i],
                                                     lazy_tangent=True, dp_guess=last), 10)
        row(f"Anand update after a global step, {eps.shape[0]:,} points", "from the last dp", plain,
            "from its predicted dp", predicted)
        sig = np.ascontiguousarray(st.stress[i].reshape(-1, pr.Q, 4))
        three = median_ms(lambda: np.einsum("eqki,eqk,eq->ei", B, sig, w, optimize=True), 10)
        flat = median_ms(lambda: element_force(B, sig, w), 10)
        row(f"element forces, {B.shape[0]:,} solder elements", "3-operand einsum", three, "flat batched product",
            flat)
        K = pr.evaluate(u, 20.0, 60.0, st)[1]()
        R = np.random.default_rng(0).normal(size=K.shape[0])
        for single in (True, False):
            res = {}
            for blocks in (False, True):
                s = make_solver("pardiso", single=single)
                if blocks:
                    s.use_node_blocks(pr.layout.free, pr.layout.n_full)
                t0 = time.perf_counter()
                s.factorize(K)
                first = 1e3 * (time.perf_counter() - t0)
                res[blocks] = (first, median_ms(lambda: s.factorize(K), 5), median_ms(lambda: s.solve(R), 10),
                               s.single)
            label = "single" if single else "double"
            if single and not res[True][3]:
                label += " (blocks fell back to double: MKL has no single precision for BSR)"
            for k, name in enumerate(("first factorization", "refactorization", "solve")):
                row(f"PARDISO {name}, fan-out tangent {K.shape[0]:,} dofs, {label}", "entries", res[False][k],
                    "2x2 blocks", res[True][k])


def strip_rows():
    from reliability.analysis.thermoelastic import ThermoElasticProblem
    from reliability.material import parse_material
    from reliability.mesh import read_msh

    model = read_msh(mesh_path(1e6))
    mats = {"si": parse_material("si", SI, "bench"), "cu": parse_material("cu", CU, "bench")}
    p = ThermoElasticProblem(model, mats, "plane_strain", 25.0)
    K = {False: p.stiffness(-75.0), True: p.assemble(-75.0)}  # CSR on the free dofs; upper node blocks
    out = {False: [], True: []}
    # alternating, best of two each: the first large factorization in a process pays for fresh memory
    for blocks in (False, True, False, True):
        s = make_solver("pardiso")
        t0 = time.perf_counter()
        s.factorize(K[blocks])
        out[blocks].append(time.perf_counter() - t0)
        s._ps.free_memory(everything=True)
        del s
    row(f"PARDISO first factorization (best of 2), strip {K[False].shape[0]:,} dofs", "entries (CSR)",
        min(out[False]), "2x2 node blocks", min(out[True]), unit="s")


def elastic_rows(pr):
    """The elastic regions at a new temperature, both with one K_el u: the algorithm before the basis
    (temperature-independent materials cached, the others and every element's thermal force integrated
    at T), and the integrated basis of ``analysis.elastic_regions``."""
    asm, kin = pr.assembler, pr.kin
    e = pr.elastic_elements
    varying = np.array([m.elastic.temperature_dependent for m in pr.materials])[pr.mat_index]
    ev, ec = e[varying[e]], e[~varying[e]]
    D0 = np.stack([m.elastic.stiffness(20.0) for m in pr.materials])[pr.mat_index][:, None]
    constant = asm.stiffness_data(kin.B, D0, kin.w, ec)
    u = np.random.default_rng(1).normal(size=pr.n_dofs) * 1e-3
    temps = iter(np.linspace(20.0, 21.0, 1000))

    def before():
        T = next(temps)
        D = np.stack([m.elastic.stiffness(T) for m in pr.materials])
        eth = np.stack([m.elastic.thermal_strain(T, pr.T_ref) for m in pr.materials])
        data = constant.copy()
        data += asm.stiffness_data(kin.B, D[pr.mat_index[ev]][:, None], kin.w, ev)
        sig = np.broadcast_to(np.einsum("mij,mj->mi", D, eth)[pr.mat_index][:, None, :], kin.w.shape + (4,))
        fe = element_force(kin.B, sig, kin.w)
        floor = np.linalg.norm(asm.vector(np.abs(fe)))
        return asm.csr(data) @ u, asm.vector(fe[e], e), asm.vector(np.abs(fe[e]), e), floor

    def basis():
        at = pr.elastic.at(next(temps))
        return at.matvec(u), at.f_th, at.scale_th

    row(f"elastic regions at a new temperature ({ev.size:,} of {e.size:,} elastic elements temperature-dependent)",
        "integrated at T", median_ms(before, 5), "integrated basis", median_ms(basis, 10))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="skip the 1 M-dof rows")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {platform.system()} {platform.release()}, python {platform.python_version()}")
    print("| kernel | A | A time | B | B time | A / B |")
    print("|---|---|---|---|---|---|")
    openblas_rows()
    fan_out_rows()
    if not args.quick:
        strip_rows()


if __name__ == "__main__":
    main()
