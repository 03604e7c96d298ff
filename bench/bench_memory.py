"""Benchmark: resident memory after each stage of a linear solve (bimetal strip, default 1 M dofs).

    python bench/bench_memory.py [--size 1e6]

Prints, after each stage, the resident set (MiB) and the peak so far, and
the sizes of the arrays held for the model's life (B operators, the
element-to-CSR map, the stiffness), to show where the peak comes from.
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
    row("setup (geometry, B, pattern)", time.perf_counter() - t,
        f"B {problem.kin.B.nbytes / MiB:,.0f} MiB, element-to-CSR map {problem.assembler._where.nbytes / MiB:,.0f} MiB")
    t = time.perf_counter()
    K = problem.stiffness(-75.0)
    row("assembly", time.perf_counter() - t, f"K {(K.data.nbytes + K.indices.nbytes) / MiB:,.0f} MiB, {K.nnz:,} nonzeros")
    t = time.perf_counter()
    problem.factorize(-75.0, K, consume=True)  # K's values are released once PARDISO has its copy
    row(f"factorization ({problem.solver.name})", time.perf_counter() - t)
    del K
    t = time.perf_counter()
    problem.solve(-75.0)
    row("solve and stress recovery", time.perf_counter() - t)


if __name__ == "__main__":
    main()
