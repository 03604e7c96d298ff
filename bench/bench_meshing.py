"""Benchmark: meshing time and size per package family, default and fine joint size.

    python bench/bench_meshing.py

Board-level assemblies (the largest sections), half models, default
dimensions; "fine" halves joint_size_mm.  Time = layout + OCC fragments +
second-order meshing + reading the mesh back, median of 3.
"""

from __future__ import annotations

import platform
import statistics
import time

from reliability.geometry import FAMILIES, build, parse_request
from reliability.mesh_quality import min_angles_deg


def main() -> None:
    print(f"machine: {platform.machine()}, {platform.system()} {platform.release()}, python {platform.python_version()}")
    print("| family | joint size mm | elements | nodes | dofs | min angle deg | meshing s |")
    print("|---|---|---|---|---|---|---|")
    for family in FAMILIES:
        for joint in (0.00625, 0.003125):
            mesh = dict(size_mm=0.05, joint_size_mm=joint, board_size_mm=0.2, interface_layer_mm=0.025)
            req = parse_request(family, {}, {}, True, True, mesh, "bench")
            times = []
            for _ in range(3):
                t = time.perf_counter()
                model = build(req)
                times.append(time.perf_counter() - t)
            print(f"| {family} | {joint:g} | {model.n_elements:,} | {model.n_nodes:,} | {2 * model.n_nodes:,} | "
                  f"{min_angles_deg(model).min():.1f} | {statistics.median(times):.2f} |")


if __name__ == "__main__":
    main()
