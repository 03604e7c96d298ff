"""Benchmark: resident memory after each stage of a linear solve (bimetal strip, default 1 M dofs).

    python bench/bench_memory.py [--size 1e6]

Prints, after each stage, the resident set (MiB) and the peak so far, and
the sizes of the arrays held for the model's life (gradients, the node-block
pattern and element-to-block map, the stiffness), to show where the peak
comes from.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_core import CU, SI, mesh_path  # noqa: E402

from reliability.analysis.thermoelastic import ThermoElasticProblem  # noqa: E402
from reliability.fem.solvers import available_solvers  # noqa: E402
from reliability.material import parse_material  # noqa: E402
from reliability.mesh import read_msh  # noqa: E402

MiB = 2**20


def resident() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() / MiB


def peak() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=float, default=1e6, help="target dofs (default 1e6)")
    args = parser.parse_args()
    print("| stage | time s | resident MiB | peak MiB | note |")
    print("|---|---|---|---|---|")

    def row(stage, t, note=""):
        print(f"| {stage} | {t:.2f} | {resident():,.0f} | {peak():,.0f} | {note} |")

    available_solvers()
    row("imports and solver libraries", 0.0)
    t = time.perf_counter()
    model = read_msh(mesh_path(args.size))
    row("mesh read", time.perf_counter() - t, f"{model.n_elements:,} elements")
    mats = {"si": parse_material("si", SI, "bench"), "cu": parse_material("cu", CU, "bench")}
    t = time.perf_counter()
    problem = ThermoElasticProblem(model, mats, "plane_strain", 25.0)
    geo = problem.geo
    note = f"gradients {geo.grad.nbytes / MiB:,.0f} MiB"
    if problem.blocks is not None:
        b = problem.blocks
        note += (f", node-block pattern {(b.indices.nbytes + b.indptr.nbytes) / MiB:,.0f} MiB, element-to-block map "
                 f"{(b.block.nbytes + b.transposed.nbytes) / MiB:,.0f} MiB; no B, CSR or element-to-CSR map")
    row("setup (geometry, pattern)", time.perf_counter() - t, note)
    t = time.perf_counter()
    K = problem.assemble(-75.0)
    size = K.values.nbytes if hasattr(K, "values") else K.data.nbytes + K.indices.nbytes
    row("assembly", time.perf_counter() - t, f"K {size / MiB:,.0f} MiB ({type(K).__name__})")
    t = time.perf_counter()
    problem.factorize(-75.0, K, consume=True)
    row(f"factorization ({problem.solver.name})", time.perf_counter() - t,
        f"factor {problem.solver._ps.iparm[17]:,} entries" if hasattr(problem.solver, "_ps") else "")
    del K
    t = time.perf_counter()
    problem.solve(-75.0)
    row("solve and stress recovery", time.perf_counter() - t)


if __name__ == "__main__":
    main()
