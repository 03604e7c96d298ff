"""Benchmark: linear thermo-elastic bimetal strip, ours against the documented scikit-fem route, NGSolve, SfePy and CalculiX.

Si 0.3 mm on Cu 0.3 mm, L = 10 mm, plane strain, 6-node triangles, same mesh
for both tools, dT = -100 K.  Each tool runs in its own process so the peak
resident memory (ru_maxrss) is its own.  Prints a table; `--sizes` picks the
degree-of-freedom targets.

    python bench/bench_core.py                 # 20k, 200k and 1M dofs, all tools
    python bench/bench_core.py --sizes 2e4     # quick

Columns: setup = mesh-dependent work done once (our geometry and node-block
pattern; NGSolve's mesh import), assembly = stiffness and load (ours: the
stiffness assembly's wall time, during which PARDISO analyses the block
pattern on its own threads; "solve" has the rest of the factorization),
solve = factorization (with its ordering) and solution; CalculiX is timed
as one external run (its own reading, assembly and SPOOLES solve), SfePy's
``Problem.solve`` as assembly + solve together.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent / "out"
SI = dict(E_MPa=130000.0, nu=0.28, alpha_per_K=2.6e-6)
CU = dict(E_MPa=120000.0, nu=0.34, alpha_per_K=17e-6)


def strip_divisions(target_dofs: float) -> tuple[int, int]:
    """(nx, ny per layer) for a strip with about ``target_dofs`` unknowns, elements ~2:1."""
    # nodes = (2 nx + 1)(4 ny + 1), dofs = 2 nodes, aspect nx : 2 ny = 10 : 0.6 * 2
    ny = max(1, int(round((target_dofs / 2 / (2 * 8.33 * 4)) ** 0.5)))
    nx = max(2, int(round(target_dofs / 2 / (4 * ny + 1) / 2)))
    return nx, ny


def mesh_path(target: float) -> Path:
    nx, ny = strip_divisions(target)
    path = OUT / f"strip_{nx}x{ny}.msh"
    if not path.exists():
        from reliability.geometry.strip import layered_strip

        layered_strip([("cu", 0.3), ("si", 0.3)], 10.0, nx=nx, ny=ny, path=path)
    return path


def run_ours(path: Path) -> dict:
    from reliability.analysis.thermoelastic import ThermoElasticProblem
    from reliability.analysis.warpage import surface_profile
    from reliability.material import parse_material
    from reliability.mesh import read_msh

    from reliability.fem.solvers import available_solvers

    available_solvers()  # load the solver libraries (MKL: 0.7 s) before the clock starts
    model = read_msh(path)
    mats = {"si": parse_material("si", SI, "bench"), "cu": parse_material("cu", CU, "bench")}
    t0 = time.perf_counter()
    problem = ThermoElasticProblem(model, mats, "plane_strain", 25.0)
    t_setup = time.perf_counter() - t0
    t1 = time.perf_counter()
    # PARDISO: assembled straight into its upper 2x2 node blocks while it analyses their pattern
    problem.factorize(-75.0)
    t_asm_fact = time.perf_counter() - t1
    t_asm = problem.timings.get("assembly_s", 0.0)
    t_fact = t_asm_fact - t_asm
    t3 = time.perf_counter()
    state = problem.solve(-75.0)  # load vector, the solve with the factor above, strains and stresses
    t_solve_rhs = time.perf_counter() - t3
    kappa = surface_profile(model, state.u, "bottom").curvature_per_mm()
    return dict(tool=f"reliability ({problem.solver.name})", dofs=problem.n_dofs, setup_s=t_setup,
                assembly_s=t_asm, solve_s=t_fact + t_solve_rhs, kappa=kappa)


def run_skfem(path: Path) -> dict:
    """The documented route: Basis + asm(BilinearForm) + condense + solve."""
    import meshio
    from skfem import Basis, BilinearForm, ElementTriP2, ElementVector, LinearForm, MeshTri2, asm, condense, solve
    from skfem.helpers import ddot, div, sym_grad, trace

    from reliability.mesh import read_msh

    model = read_msh(path)
    t0 = time.perf_counter()
    mesh = MeshTri2(model.nodes.T.copy(), model.elements.T.copy())
    basis = Basis(mesh, ElementVector(ElementTriP2()), intorder=2)
    props = {"si": SI, "cu": CU}
    lam_mu = {}
    for n in model.region_names:
        E, nu = props[n]["E_MPa"], props[n]["nu"]
        lam_mu[n] = (E * nu / ((1 + nu) * (1 - 2 * nu)), E / (2 * (1 + nu)), props[n]["alpha_per_K"] * -100.0)
    arr = np.array([lam_mu[n] for n in model.region_names])[model.element_region]
    nqp = basis.X.shape[1]
    lam, mu, eth = (np.repeat(arr[:, i:i + 1], nqp, axis=1) for i in range(3))

    @BilinearForm
    def a(u, v, w):
        return 2 * w.mu * ddot(sym_grad(u), sym_grad(v)) + w.lam * trace(sym_grad(u)) * trace(sym_grad(v))

    @LinearForm
    def f(v, w):
        return (3 * w.lam + 2 * w.mu) * w.eth * div(v)

    K = asm(a, basis, lam=lam, mu=mu)
    b = asm(f, basis, lam=lam, mu=mu, eth=eth)
    t_asm = time.perf_counter() - t0
    x, y = mesh.p
    left = np.flatnonzero((x == x.min()) & (y == 0))[0]
    right = np.flatnonzero((x == x.max()) & (y == 0))[0]
    fixed = np.array([basis.nodal_dofs[0, left], basis.nodal_dofs[1, left], basis.nodal_dofs[1, right]])
    t1 = time.perf_counter()
    u = solve(*condense(K, b, D=fixed))
    t_solve = time.perf_counter() - t1
    bottom = np.flatnonzero(np.abs(basis.doflocs[1]) < 1e-12)
    ydofs = bottom[np.isin(bottom, basis.nodal_dofs[1]) | np.isin(bottom, basis.facet_dofs[1])]
    xs = basis.doflocs[0, ydofs]
    keep = np.abs(xs) <= 2.5
    kappa = 2 * np.polyfit(xs[keep], u[ydofs][keep], 2)[0]
    return dict(tool="scikit-fem asm + solve", dofs=K.shape[0] - 3, setup_s=0.0, assembly_s=t_asm,
                solve_s=t_solve, kappa=kappa)


def _lame():
    out = {}
    for name, p in (("si", SI), ("cu", CU)):
        E, nu = p["E_MPa"], p["nu"]
        out[name] = (E * nu / ((1 + nu) * (1 - 2 * nu)), E / (2 * (1 + nu)), p["alpha_per_K"] * -100.0)
    return out


def _bottom_curvature(xs, uy):
    keep = np.abs(xs) <= 2.5
    return 2 * np.polyfit(xs[keep], uy[keep], 2)[0]


def run_ngsolve(path: Path) -> dict:
    """NGSolve: the same triangles, VectorH1 order 2 (the same P2 space on straight edges), sparse Cholesky."""
    import netgen.meshing as nm
    from ngsolve import (BilinearForm, CoefficientFunction, GridFunction, Grad, InnerProduct, LinearForm, Mesh,
                         NodeId, Sym, Trace, VERTEX, VectorH1, div, dx)

    from reliability.mesh import read_msh

    model = read_msh(path)
    t0 = time.perf_counter()
    corners = np.unique(model.elements[:, :3])
    ngm = nm.Mesh(dim=2)
    ids = {}
    for c in corners:
        ids[c] = ngm.Add(nm.MeshPoint(nm.Pnt(model.nodes[c, 0], model.nodes[c, 1], 0)))
    for r in range(len(model.region_names)):
        ngm.Add(nm.FaceDescriptor(bc=1, domin=r + 1, surfnr=r + 1))
        ngm.SetMaterial(r + 1, model.region_names[r])
    for e, r in zip(model.elements, model.element_region):
        ngm.Add(nm.Element2D(int(r) + 1, [ids[i] for i in e[:3]]))
    mesh = Mesh(ngm)
    t_setup = time.perf_counter() - t0
    lm = _lame()
    lam = CoefficientFunction([lm[n][0] for n in mesh.GetMaterials()])
    mu = CoefficientFunction([lm[n][1] for n in mesh.GetMaterials()])
    eth = CoefficientFunction([lm[n][2] for n in mesh.GetMaterials()])
    t1 = time.perf_counter()
    fes = VectorH1(mesh, order=2)
    u, v = fes.TnT()
    a = BilinearForm(fes, symmetric=True)
    a += (2 * mu * InnerProduct(Sym(Grad(u)), Sym(Grad(v))) + lam * Trace(Grad(u)) * Trace(Grad(v))) * dx
    f = LinearForm(fes)
    f += (3 * lam + 2 * mu) * eth * div(v) * dx
    a.Assemble()
    f.Assemble()
    t_asm = time.perf_counter() - t1
    pts = np.array([mesh.ngmesh.Points()[i + 1].p[:2] for i in range(mesh.nv)])
    left = int(np.flatnonzero((pts[:, 0] == pts[:, 0].min()) & (pts[:, 1] == 0))[0])
    right = int(np.flatnonzero((pts[:, 0] == pts[:, 0].max()) & (pts[:, 1] == 0))[0])
    free = fes.FreeDofs()
    dl = fes.GetDofNrs(NodeId(VERTEX, left))
    dr = fes.GetDofNrs(NodeId(VERTEX, right))
    free.Clear(dl[0])
    free.Clear(dl[1])
    free.Clear(dr[1])
    t2 = time.perf_counter()
    gfu = GridFunction(fes)
    gfu.vec.data = a.mat.Inverse(free, inverse="sparsecholesky") * f.vec
    t_solve = time.perf_counter() - t2
    bottom = pts[pts[:, 1] == 0]
    uy = np.array([gfu(mesh(px, 0.0))[1] for px in bottom[:, 0]])
    return dict(tool="NGSolve (sparsecholesky)", dofs=int(sum(free)), setup_s=t_setup, assembly_s=t_asm,
                solve_s=t_solve, kappa=_bottom_curvature(bottom[:, 0], uy))


def run_sfepy(path: Path) -> dict:
    """SfePy: the same triangles, vector field of order 2, lin_elastic + lin_prestress terms, Cholesky
    (sfepy's ls.cholesky = CHOLMOD).  Its solve() assembles and solves: reported as one number."""
    from sfepy.discrete import Equation, Equations, FieldVariable, Integral, Material, Problem
    from sfepy.discrete.conditions import Conditions, EssentialBC
    from sfepy.discrete.fem import FEDomain, Field, Mesh
    from sfepy.mechanics.matcoefs import stiffness_from_youngpoisson
    from sfepy.solvers.ls import CholeskySolver
    from sfepy.solvers.nls import Newton
    from sfepy.terms import Term

    from reliability.mesh import read_msh

    model = read_msh(path)
    t0 = time.perf_counter()
    corners = np.unique(model.elements[:, :3])
    remap = -np.ones(model.n_nodes, dtype=int)
    remap[corners] = np.arange(corners.size)
    coors = model.nodes[corners]
    mesh = Mesh.from_data("strip", coors, None, [remap[model.elements[:, :3]].astype(np.int32)],
                          [(model.element_region + 1).astype(np.int32)], ["2_3"])
    domain = FEDomain("d", mesh)
    omega = domain.create_region("Omega", "all")
    x, y = coors[:, 0], coors[:, 1]
    left = int(np.flatnonzero((x == x.min()) & (y == 0))[0])
    right = int(np.flatnonzero((x == x.max()) & (y == 0))[0])
    rl = domain.create_region("L", f"vertex {left}", "vertex")
    rr = domain.create_region("R", f"vertex {right}", "vertex")
    field = Field.from_args("u", np.float64, "vector", omega, approx_order=2)
    u = FieldVariable("u", "unknown", field)
    v = FieldVariable("v", "test", field, primary_var_name="u")
    integral = Integral("i", order=2)
    lm = _lame()
    a_terms, f_terms = [], []
    for r, name in enumerate(model.region_names):
        reg = domain.create_region(name, f"cells of group {r + 1}")
        p = SI if name == "si" else CU
        lam, mu, eth = lm[name]
        s0 = -(3 * lam + 2 * mu) * eth
        mat = Material(f"m{r}", D=stiffness_from_youngpoisson(2, p["E_MPa"], p["nu"], plane="strain"),
                       S=np.array([[s0], [s0], [0.0]]))
        a_terms.append(Term.new(f"dw_lin_elastic(m{r}.D, v, u)", integral, reg, **{f"m{r}": mat}, v=v, u=u))
        f_terms.append(Term.new(f"dw_lin_prestress(m{r}.S, v)", integral, reg, **{f"m{r}": mat}, v=v))
    eqs = Equations([Equation("balance", sum(a_terms[1:], a_terms[0]) + sum(f_terms[1:], f_terms[0]))])
    pb = Problem("strip", equations=eqs)
    pb.set_bcs(ebcs=Conditions([EssentialBC("fl", rl, {"u.all": 0.0}), EssentialBC("fr", rr, {"u.1": 0.0})]))
    pb.set_solver(Newton({"i_max": 1, "eps_a": 1e-30, "eps_r": 1e-30}, lin_solver=CholeskySolver({})))
    t_setup = time.perf_counter() - t0
    t1 = time.perf_counter()
    state = pb.solve(save_results=False)
    t_solve = time.perf_counter() - t1
    vals = state.get_state_parts()["u"].reshape(-1, 2)
    dof_xy = field.get_coor()
    bottom = np.abs(dof_xy[:, 1]) < 1e-12
    return dict(tool="SfePy (Cholesky)", dofs=int(vals.size - 3), setup_s=t_setup, assembly_s=float("nan"),
                solve_s=t_solve, kappa=_bottom_curvature(dof_xy[bottom, 0], vals[bottom, 1]))


def run_calculix(path: Path) -> dict:
    """CalculiX 2.20 (Debian), SPOOLES: the deck our export writes for the same mesh and supports."""
    import shutil
    import subprocess
    import tempfile

    from reliability.export.calculix import read_dat_displacements, write_deck
    from reliability.fem.constraints import supports
    from reliability.material import parse_material
    from reliability.mesh import read_msh

    if shutil.which("ccx") is None:
        raise RuntimeError("ccx not installed")
    model = read_msh(path)
    mats = {"si": parse_material("si", SI, "bench"), "cu": parse_material("cu", CU, "bench")}
    layout = supports(model, "plane_strain")
    with tempfile.TemporaryDirectory() as tmp:
        deck = write_deck(Path(tmp) / "strip.inp", model, mats, "plane_strain", 25.0, [-75.0],
                          np.flatnonzero(layout.fixed))
        t0 = time.perf_counter()
        proc = subprocess.run(["ccx", "strip"], cwd=tmp, capture_output=True, text=True)
        total = time.perf_counter() - t0
        if proc.returncode != 0:
            raise RuntimeError(proc.stdout[-500:])
        u = read_dat_displacements(Path(tmp) / "strip.dat", model.n_nodes)[0]
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    bottom = model.boundary_nodes("bottom")
    kappa = _bottom_curvature(model.nodes[bottom, 0], u[bottom, 1])
    return dict(tool="CalculiX 2.20 (SPOOLES)", dofs=layout.n_free, setup_s=0.0, assembly_s=float("nan"),
                solve_s=total, kappa=kappa, child_peak_MiB=peak)


def child(tool: str, path: str) -> None:
    res = {"ours": run_ours, "skfem": run_skfem, "ngsolve": run_ngsolve, "sfepy": run_sfepy,
           "ccx": run_calculix}[tool](Path(path))
    res["peak_MiB"] = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, res.pop("child_peak_MiB", 0.0))
    print("RESULT " + json.dumps(res))


def measure(tool: str, path: Path, repeats: int) -> dict:
    runs = []
    for _ in range(repeats):
        proc = subprocess.run([sys.executable, __file__, "--child", tool, str(path)],
                              capture_output=True, text=True)
        line = [l for l in proc.stdout.splitlines() if l.startswith("RESULT ")]
        if not line:
            raise RuntimeError(f"{tool} failed: {proc.stderr[-2000:]}")
        runs.append(json.loads(line[0][7:]))
    out = dict(runs[0])
    for key in ("setup_s", "assembly_s", "solve_s", "peak_MiB"):
        out[key] = float(np.median([r[key] for r in runs]))
    out["runs"] = len(runs)
    return out


TOOLS = ("ours", "skfem", "ngsolve", "sfepy", "ccx")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="*", type=float, default=[2e4, 2e5, 1e6])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tools", nargs="*", default=list(TOOLS), choices=TOOLS)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    OUT.mkdir(exist_ok=True)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, {platform.system()} "
          f"{platform.release()}, python {platform.python_version()}; medians of {args.repeats} runs, "
          "each tool in its own process")
    print("| dofs | tool | setup s | assembly s | solve s | total s | peak MiB | total / ours | curvature 1/mm |")
    print("|---|---|---|---|---|---|---|---|---|")
    for target in args.sizes:
        path = mesh_path(target)
        rows = []
        for tool in args.tools:
            try:
                rows.append(measure(tool, path, args.repeats))
            except Exception as exc:  # a missing peer is reported, not fatal
                print(f"| - | {tool} | failed: {str(exc).splitlines()[0][:80]} |||||||")
        ours = next((r for r in rows if r["tool"].startswith("reliability")), None)
        for r in rows:
            asm = r["assembly_s"]
            total = r["setup_s"] + (0.0 if asm != asm else asm) + r["solve_s"]
            r["total_s"] = total
        for r in rows:
            ratio = r["total_s"] / ours["total_s"] if ours else float("nan")
            asm = "-" if r["assembly_s"] != r["assembly_s"] else f"{r['assembly_s']:.2f}"
            print(f"| {r['dofs']:,} | {r['tool']} | {r['setup_s']:.2f} | {asm} | {r['solve_s']:.2f} | "
                  f"{r['total_s']:.2f} | {r['peak_MiB']:,.0f} | {ratio:.1f} | {r['kappa']:.9e} |")


if __name__ == "__main__":
    main()
