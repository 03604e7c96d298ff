"""Benchmark: tangent re-assembly and bookkeeping against factorization.

    python bench/bench_assembly.py

On the bimetal strip (plane strain, 6-node triangles) at about 100 k and 1 M
unknowns: the one-time work per mesh (geometry, B operators, sparsity
pattern with the element-to-CSR map), one re-assembly of the stiffness
(element matrices + scatter into the fixed pattern), one PARDISO
factorization with its analysis, and a refactorization on the same pattern.
"Bookkeeping" = re-assembly + boundary handling + the constitutive update of
an elastic state (stress recovery); its ratio to the refactorization is the
issue-7 target (<= 20 % at 1 M).  Median of 3.
"""

from __future__ import annotations

import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from bench_core import CU, SI, mesh_path  # noqa: E402

from reliability.analysis.thermoelastic import element_materials  # noqa: E402
from reliability.fem.assembly import Assembler, element_strain  # noqa: E402
from reliability.fem.constraints import supports  # noqa: E402
from reliability.fem.geometry import element_geometry  # noqa: E402
from reliability.fem.kinematics import make_kinematics  # noqa: E402
from reliability.fem.solvers import available_solvers, make_solver  # noqa: E402
from reliability.material import parse_material  # noqa: E402
from reliability.mesh import read_msh  # noqa: E402


def timed(fn, repeats=3):
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main() -> None:
    available_solvers()
    print(f"machine: {platform.machine()}, {platform.system()} {platform.release()}, python {platform.python_version()}")
    print("| dofs | geometry s | B operators s | pattern + map s | re-assembly s | stress recovery s | "
          "factorization (first) s | refactorization s | bookkeeping / refactorization |")
    print("|---|---|---|---|---|---|---|---|---|")
    mats = {"si": parse_material("si", SI, "b"), "cu": parse_material("cu", CU, "b")}
    for target in (1e5, 1e6):
        model = read_msh(mesh_path(target))
        t_geo, geo = timed(lambda: (model.__dict__.pop("_geometry_cache", None), element_geometry(model))[1], 1)
        t_B, kin = timed(lambda: make_kinematics("plane_strain", geo), 1)
        layout = supports(model, "plane_strain")
        t_pat, asm = timed(lambda: Assembler.for_layout(model.elements, layout), 1)
        materials, index = element_materials(model, mats)
        D = np.stack([m.elastic.stiffness(-75.0) for m in materials])[index][:, None]
        t_asm, K = timed(lambda: asm.csr(asm.stiffness_data(kin.B, D, kin.w)))
        u = np.random.default_rng(0).normal(size=asm.n_dofs) * 1e-3
        t_rec, _ = timed(lambda: np.einsum("eij,eqj->eqi", D[:, 0], element_strain(kin.B, asm.gather(u))))
        solver = make_solver("auto")
        if hasattr(solver, "use_node_blocks"):  # as the thermo-elastic solve does
            solver.use_node_blocks(layout.free, layout.n_full, structure=asm.node_graph.upper_blocks)
        t0 = time.perf_counter()
        solver.factorize(K)
        t_first = time.perf_counter() - t0
        t_ref, _ = timed(lambda: solver.factorize(K))
        ratio = (t_asm + t_rec) / t_ref
        print(f"| {asm.n_dofs:,} | {t_geo:.2f} | {t_B:.2f} | {t_pat:.2f} | {t_asm:.3f} | {t_rec:.3f} | "
              f"{t_first:.2f} ({solver.name}) | {t_ref:.2f} | {100 * ratio:.0f} % |")


if __name__ == "__main__":
    main()
