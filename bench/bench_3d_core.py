"""Benchmark: 3D linear thermo-elastic Si/Cu bimetal plate, ours against NGSolve and CalculiX, one tet mesh.

A quarter (x, y >= 0) of a 10 mm x 10 mm plate, Cu 0.3 mm (z 0 .. 0.3) under
Si 0.3 mm (z 0.3 .. 0.6), as two conformal OpenCASCADE boxes meshed by gmsh
with second-order (10-node) tetrahedra of one size, written once to a .msh
that every tool reads (meshio; element regions from the physical volumes).
Supports of a quarter model: u_x = 0 on x = 0, u_y = 0 on y = 0, u_z = 0 at
the origin; a uniform temperature change of -100 K (25 -> -75 C).  Each tool
runs in its own process so the peak resident memory (ru_maxrss) is its own.

    python bench/bench_3d_core.py                      # ~50k, 200k and 1M dofs, all tools
    python bench/bench_3d_core.py --sizes 5e4 --repeats 1

Columns: setup = mesh-dependent work done once (ours: geometry, node-block
pattern, solver set-up; NGSolve: the netgen mesh from the arrays, the
space and its free dofs), assembly = stiffness and load, solve =
factorization (with its ordering), solution and (ours) the strain and
stress recovery; CalculiX is timed as one external run (its reading,
assembly and SPOOLES solve) under a time limit (``--ccx-limit``) and an
address-space limit (``--ccx-mem-gb``).  The check value is the corner
warpage u_z(5, 5, 0) - u_z(0, 0, 0) in micrometres.
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

OUT = Path(os.environ.get("BENCH_OUT", Path(__file__).resolve().parent / "out"))
SI = dict(E_MPa=130000.0, nu=0.28, alpha_per_K=2.6e-6)
CU = dict(E_MPa=120000.0, nu=0.34, alpha_per_K=17e-6)
W2, T_CU, T_SI = 5.0, 0.3, 0.3
T_REF, T_LOAD = 25.0, -75.0


LAYERS = 2  # element layers through each material of the extruded mesh


def _mesh_at(h: float, path: Path, kind: str = "extruded") -> int:
    """Mesh the quarter plate at size h: ``extruded`` (the quarter-model builder's way: plan triangles of
    size h extruded through each material in LAYERS element layers, each prism split into three tets) or
    ``free`` (gmsh's 3D mesher, isotropic size h).  Second order; regions as physical volumes cu, si."""
    import gmsh

    gmsh.initialize(["-nt", "1"])
    try:
        gmsh.option.setNumber("General.Terminal", 0)
        gmsh.model.add("plate")
        gmsh.option.setNumber("Mesh.MeshSizeMax", h)
        gmsh.option.setNumber("Mesh.MeshSizeMin", h)
        if kind == "extruded":
            geo = gmsh.model.geo
            pts = [geo.addPoint(x, y, 0, h) for x, y in ((0, 0), (W2, 0), (W2, W2), (0, W2))]
            lines = [geo.addLine(pts[i], pts[(i + 1) % 4]) for i in range(4)]
            face = geo.addPlaneSurface([geo.addCurveLoop(lines)])
            first = geo.extrude([(2, face)], 0, 0, T_CU, [LAYERS])
            second = geo.extrude([first[0]], 0, 0, T_SI, [LAYERS])
            geo.synchronize()
            cu, si = first[1][1], second[1][1]
        else:
            occ = gmsh.model.occ
            cu0 = occ.addBox(0, 0, 0, W2, W2, T_CU)
            si0 = occ.addBox(0, 0, T_CU, W2, W2, T_SI)
            out, _ = occ.fragment([(3, cu0)], [(3, si0)])
            occ.synchronize()
            vols = sorted((gmsh.model.occ.getCenterOfMass(3, t)[2], t) for d, t in out if d == 3)
            cu, si = vols[0][1], vols[1][1]
            gmsh.option.setNumber("Mesh.Algorithm3D", 10)  # HXT
        gmsh.model.addPhysicalGroup(3, [cu], 1, "cu")
        gmsh.model.addPhysicalGroup(3, [si], 2, "si")
        gmsh.model.mesh.generate(3)
        gmsh.model.mesh.setOrder(2)
        gmsh.option.setNumber("Mesh.Binary", 1)
        gmsh.write(str(path))
        tags, _, _ = gmsh.model.mesh.getNodes(3, -1, True, False)
        return 3 * len(np.unique(tags))
    finally:
        gmsh.finalize()


def mesh_path(target: float, kind: str = "extruded") -> Path:
    """The .msh with about ``target`` dofs: h from dofs ~ h^-p (p = 2 extruded, 3 free), corrected until
    within 5 % (each mesh kept as plate3d_<kind>_h<h>.msh, its dof count in plate3d_sizes.json)."""
    sizes_file = OUT / "plate3d_sizes.json"
    sizes = json.loads(sizes_file.read_text()) if sizes_file.exists() else {}
    p = 2.0 if kind == "extruded" else 3.0
    h = 0.1
    for _ in range(6):
        name = f"plate3d_{kind}_h{h:.5f}.msh"
        if name not in sizes:
            t0 = time.perf_counter()
            sizes[name] = _mesh_at(h, OUT / name, kind)
            sizes_file.write_text(json.dumps(sizes, indent=1))
            print(f"meshed {kind} h = {h:.5f} mm: {sizes[name]:,} dofs in {time.perf_counter() - t0:.1f} s",
                  file=sys.stderr)
        n = sizes[name]
        if abs(n / target - 1) <= 0.05:
            break
        h = round(h * (n / target) ** (1 / p), 5)
    return OUT / name


def read_model(path: Path):
    """The .msh as our Model: 10-node tets in our node order, positive volumes, planes x, y, z = 0 exact."""
    import meshio

    from reliability.fem.geometry3d import orient_positive
    from reliability.geometry.quarter3d import _to_skfem_order
    from reliability.model import Model

    raw = meshio.read(path)
    blocks = [(c.data, raw.cell_data["gmsh:physical"][i]) for i, c in enumerate(raw.cells) if c.type == "tetra10"]
    el = np.vstack([b[0] for b in blocks]).astype(np.int64)
    phys = np.concatenate([b[1] for b in blocks]).astype(np.int64)
    nodes = np.asarray(raw.points, dtype=float)
    used = np.unique(el)
    renum = np.full(nodes.shape[0], -1, dtype=np.int64)
    renum[used] = np.arange(used.size)
    nodes, el = nodes[used].copy(), renum[el]
    el = orient_positive(nodes, _to_skfem_order(nodes, el))
    for axis in range(3):
        nodes[np.abs(nodes[:, axis]) <= 1e-9 * W2, axis] = 0.0
    return Model(nodes=nodes, elements=el, element_region=phys - 1, region_names=["cu", "si"], boundaries={},
                 source=str(path))


def _corner_nodes(nodes: np.ndarray) -> tuple[int, int]:
    origin = int(np.argmin(np.linalg.norm(nodes, axis=1)))
    corner = int(np.argmin(np.linalg.norm(nodes - [W2, W2, 0.0], axis=1)))
    return origin, corner


def _materials():
    from reliability.material import parse_material

    return {"si": parse_material("si", SI, "bench"), "cu": parse_material("cu", CU, "bench")}


def run_ours(path: Path) -> dict:
    from reliability.analysis.thermoelastic3d import ThermoElasticProblem3D
    from reliability.fem.solvers import available_solvers

    available_solvers()  # load the solver libraries (MKL) before the clock starts
    model = read_model(path)
    mats = _materials()
    t0 = time.perf_counter()
    problem = ThermoElasticProblem3D(model, mats, T_REF)
    t_setup = time.perf_counter() - t0
    t1 = time.perf_counter()
    K = problem.assemble(T_LOAD)
    f = problem.load(T_LOAD)
    t_asm = time.perf_counter() - t1
    t2 = time.perf_counter()
    # what ThermoElasticProblem3D.factorize does, with the assembly timed on its own
    problem.solver.factorize(K if problem.solver.name == "pardiso" else K.tocsr(), consume=True)
    problem._key = problem.material_stiffness(T_LOAD)
    del K
    u = problem.solver.solve(f)
    u[problem.fixed] = 0.0
    state = problem.state(T_LOAD, u)  # strains and stresses at the integration points
    t_solve = time.perf_counter() - t2
    o, c = _corner_nodes(model.nodes)
    w = 1e3 * (state.u[c, 2] - state.u[o, 2])
    return dict(tool=f"reliability ({problem.solver.name})", dofs=problem.n_dofs, setup_s=t_setup,
                assembly_s=t_asm, solve_s=t_solve, check=w, umax=1e3 * float(np.abs(state.u).max()))


def _lame():
    out = {}
    for name, p in (("cu", CU), ("si", SI)):
        E, nu = p["E_MPa"], p["nu"]
        out[name] = (E * nu / ((1 + nu) * (1 - 2 * nu)), E / (2 * (1 + nu)), p["alpha_per_K"] * (T_LOAD - T_REF))
    return out


def run_ngsolve(path: Path, inverse: str = "pardiso") -> dict:
    """NGSolve: the same tets (corners; VectorH1 order 2 is the same P2 space on straight edges),
    symmetric assembly, a direct solver (MKL PARDISO via ``inverse="pardiso"``, or its sparsecholesky),
    under its TaskManager (all cores)."""
    import netgen.meshing as nm
    from ngsolve import (BilinearForm, CoefficientFunction, GridFunction, Grad, InnerProduct, LinearForm, Mesh,
                         NodeId, Sym, TaskManager, Trace, VERTEX, VectorH1, div, dx, SetNumThreads)

    model = read_model(path)
    SetNumThreads(os.cpu_count())
    with TaskManager():
        t0 = time.perf_counter()
        el4 = model.elements[:, :4]
        corners = np.unique(el4)
        remap = -np.ones(model.n_nodes, dtype=np.int64)
        remap[corners] = np.arange(corners.size)
        tets = remap[el4].astype(np.int32)
        pts = model.nodes[corners]
        ngm = nm.Mesh(dim=3)
        ngm.AddPoints(np.ascontiguousarray(pts))
        # boundary triangles (faces of one tet): symmetry planes x = 0, y = 0, the rest
        faces = np.concatenate([tets[:, [0, 2, 1]], tets[:, [0, 1, 3]], tets[:, [0, 3, 2]], tets[:, [1, 2, 3]]])
        freg = np.tile(model.element_region, 4)
        key = np.sort(faces, axis=1)
        _, first, count = np.unique(key, axis=0, return_index=True, return_counts=True)
        bf, br = faces[first[count == 1]], freg[first[count == 1]]
        on_x = np.all(pts[bf, 0] == 0.0, axis=1)
        on_y = np.all(pts[bf, 1] == 0.0, axis=1)
        kind = np.where(on_x, 0, np.where(on_y, 1, 2))
        bcs = ["symx", "symy", "outer"]
        fd = 0
        for r in range(len(model.region_names)):
            ngm.SetMaterial(r + 1, model.region_names[r])
        for k in range(3):
            for r in range(len(model.region_names)):
                sel = (kind == k) & (br == r)
                if not sel.any():
                    continue
                fd += 1
                ngm.Add(nm.FaceDescriptor(surfnr=fd, domin=r + 1, domout=0, bc=k + 1))
                ngm.AddElements(dim=2, index=fd, data=np.ascontiguousarray(bf[sel]), base=0)
                ngm.SetBCName(fd - 1, bcs[k])  # the name of face descriptor fd
        for r in range(len(model.region_names)):
            ngm.AddElements(dim=3, index=r + 1, data=np.ascontiguousarray(tets[model.element_region == r]), base=0)
        mesh = Mesh(ngm)
        fes = VectorH1(mesh, order=2, dirichletx="symx", dirichlety="symy")
        free = fes.FreeDofs()
        o = int(np.argmin(np.linalg.norm(pts, axis=1)))
        free.Clear(fes.GetDofNrs(NodeId(VERTEX, o))[2])
        t_setup = time.perf_counter() - t0
        lm = _lame()
        lam = CoefficientFunction([lm[n][0] for n in mesh.GetMaterials()])
        mu = CoefficientFunction([lm[n][1] for n in mesh.GetMaterials()])
        eth = CoefficientFunction([lm[n][2] for n in mesh.GetMaterials()])
        t1 = time.perf_counter()
        u, v = fes.TnT()
        a = BilinearForm(fes, symmetric=True)
        a += (2 * mu * InnerProduct(Sym(Grad(u)), Sym(Grad(v))) + lam * Trace(Grad(u)) * Trace(Grad(v))) * dx
        f = LinearForm(fes)
        f += (3 * lam + 2 * mu) * eth * div(v) * dx
        a.Assemble()
        f.Assemble()
        t_asm = time.perf_counter() - t1
        t2 = time.perf_counter()
        gfu = GridFunction(fes)
        gfu.vec.data = a.mat.Inverse(free, inverse=inverse) * f.vec
        t_solve = time.perf_counter() - t2
        w = 1e3 * (gfu(mesh(W2, W2, 0.0))[2] - gfu(mesh(0.0, 0.0, 0.0))[2])
    return dict(tool=f"NGSolve {__import__('ngsolve').__version__} ({inverse})", dofs=int(sum(free)),
                setup_s=t_setup, assembly_s=t_asm, solve_s=t_solve, check=w, umax=float("nan"))


def run_ngsolve_chol(path: Path) -> dict:
    return run_ngsolve(path, "sparsecholesky")


def run_calculix(path: Path, limit_s: float = 900.0, mem_gb: float = 11.0) -> dict:
    """CalculiX 2.20 (Debian), SPOOLES: the deck our 3D export writes (C3D10) for the same mesh and supports."""
    import shutil
    import tempfile

    from reliability.analysis.thermoelastic3d import quarter_supports
    from reliability.export.calculix3d import read_dat_displacements3d, write_deck3d

    if shutil.which("ccx") is None:
        raise RuntimeError("ccx not installed")
    model = read_model(path)
    fixed = quarter_supports(model)
    tmp = tempfile.mkdtemp(prefix="ccx3d_", dir="/tmp")
    try:
        write_deck3d(Path(tmp) / "plate.inp", model, _materials(), T_REF, [T_LOAD], fixed)

        def limits():
            lim = int(mem_gb * 2**30)
            resource.setrlimit(resource.RLIMIT_AS, (lim, lim))

        env = dict(os.environ, OMP_NUM_THREADS=str(os.cpu_count()), CCX_NPROC_EQUATION_SOLVER=str(os.cpu_count()))
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(["ccx", "plate"], cwd=tmp, capture_output=True, text=True, timeout=limit_s,
                                  preexec_fn=limits, env=env)
        except subprocess.TimeoutExpired:
            peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            return dict(tool="CalculiX 2.20 (SPOOLES)", dofs=int(np.count_nonzero(~fixed)), setup_s=0.0,
                        assembly_s=float("nan"), solve_s=float("nan"), check=float("nan"), umax=float("nan"),
                        note=f"did not finish in {limit_s:.0f} s", child_peak_MiB=peak)
        total = time.perf_counter() - t0
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        if proc.returncode != 0 or not (Path(tmp) / "plate.dat").exists():
            return dict(tool="CalculiX 2.20 (SPOOLES)", dofs=int(np.count_nonzero(~fixed)), setup_s=0.0,
                        assembly_s=float("nan"), solve_s=float("nan"), check=float("nan"), umax=float("nan"),
                        note=f"failed after {total:.0f} s (rc {proc.returncode}; address space limit "
                             f"{mem_gb:g} GB): {(proc.stdout + proc.stderr).strip().splitlines()[-1:]}",
                        child_peak_MiB=peak)
        u = read_dat_displacements3d(Path(tmp) / "plate.dat", model.n_nodes)[0]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    o, c = _corner_nodes(model.nodes)
    return dict(tool="CalculiX 2.20 (SPOOLES)", dofs=int(np.count_nonzero(~fixed)), setup_s=0.0,
                assembly_s=float("nan"), solve_s=total, check=1e3 * (u[c, 2] - u[o, 2]),
                umax=1e3 * float(np.abs(u).max()), child_peak_MiB=peak)


def child(tool: str, path: str, limit_s: float, mem_gb: float) -> None:
    if tool == "ccx":
        res = run_calculix(Path(path), limit_s, mem_gb)
    else:
        res = {"ours": run_ours, "ngsolve": run_ngsolve, "ngsolve_chol": run_ngsolve_chol}[tool](Path(path))
    res["peak_MiB"] = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, res.pop("child_peak_MiB", 0.0))
    print("RESULT " + json.dumps(res), flush=True)


def measure(tool: str, path: Path, repeats: int, limit_s: float, mem_gb: float) -> dict:
    runs = []
    for _ in range(repeats):
        proc = subprocess.run([sys.executable, __file__, "--child", tool, str(path), "--ccx-limit", str(limit_s),
                               "--ccx-mem-gb", str(mem_gb)], capture_output=True, text=True)
        line = [l for l in proc.stdout.splitlines() if l.startswith("RESULT ")]
        if not line:
            raise RuntimeError(f"{tool} failed: {proc.stderr.strip()[-2000:]}")
        runs.append(json.loads(line[0][7:]))
        print(f"  {tool}: {runs[-1]}", file=sys.stderr, flush=True)
        if "note" in runs[-1]:  # a time-out or failure is not repeated
            break
    out = dict(runs[0])
    for key in ("setup_s", "assembly_s", "solve_s", "peak_MiB"):
        out[key] = float(np.median([r[key] for r in runs]))
    out["runs"] = len(runs)
    return out


TOOLS = ("ours", "ngsolve", "ngsolve_chol", "ccx")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="*", type=float, default=[5e4, 2e5, 1e6])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tools", nargs="*", default=["ours", "ngsolve", "ccx"], choices=TOOLS)
    parser.add_argument("--mesh", default="extruded", choices=("extruded", "free"))
    parser.add_argument("--ccx-limit", type=float, default=900.0, help="CalculiX time limit per run, s")
    parser.add_argument("--ccx-mem-gb", type=float, default=11.0, help="CalculiX address-space limit, GB")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child, args.ccx_limit, args.ccx_mem_gb)
        return
    OUT.mkdir(exist_ok=True)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, {platform.system()} "
          f"{platform.release()}, python {platform.python_version()}; medians of up to {args.repeats} runs, "
          "each tool in its own process")
    print("| dofs | tool | runs | setup s | assembly s | solve s | total s | peak MiB | total / ours | "
          "corner warpage um |")
    print("|---|---|---|---|---|---|---|---|---|---|", flush=True)
    for target in args.sizes:
        path = mesh_path(target, args.mesh)
        rows = []
        for tool in args.tools:
            try:
                rows.append(measure(tool, path, args.repeats, args.ccx_limit, args.ccx_mem_gb))
            except Exception as exc:  # a missing peer is reported, not fatal
                print(f"| - | {tool} | failed: {str(exc).splitlines()[-1][:120]} ||||||||", flush=True)
        for r in rows:
            asm = r["assembly_s"]
            r["total_s"] = r["setup_s"] + (0.0 if asm != asm else asm) + r["solve_s"]
        ours = next((r for r in rows if r["tool"].startswith("reliability")), None)
        for r in rows:
            if "note" in r:
                print(f"| {r['dofs']:,} | {r['tool']} | {r['runs']} | - | - | - | {r['note']} | "
                      f"{r['peak_MiB']:,.0f} | - | - |", flush=True)
                continue
            ratio = r["total_s"] / ours["total_s"] if ours else float("nan")
            asm = "-" if r["assembly_s"] != r["assembly_s"] else f"{r['assembly_s']:.2f}"
            print(f"| {r['dofs']:,} | {r['tool']} | {r['runs']} | {r['setup_s']:.2f} | {asm} | {r['solve_s']:.2f} | "
                  f"{r['total_s']:.2f} | {r['peak_MiB']:,.0f} | {ratio:.2f} | {r['check']:.7f} |", flush=True)


if __name__ == "__main__":
    main()
