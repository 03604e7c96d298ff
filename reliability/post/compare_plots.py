"""Plots of a comparison, every one on identical colour scales and axes.

* von Mises fields side by side at the coldest reported temperature (whole
  section, and zoomed on each case's critical or outermost joint);
* warpage profiles overlaid at that temperature, warpage vs temperature
  overlaid (and the assembly warpage loop over the thermal cycles);
* dW per joint, grouped bars; hysteresis loops of the critical joints overlaid;
* the von Mises difference field (case - first case) where two meshes share
  their geometry (same nodes and elements).

Fields are read back from each run's ParaView files, so reused results are
plotted exactly as computed.
"""

from __future__ import annotations

import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import meshio  # noqa: E402
import numpy as np  # noqa: E402

from ..model import Model  # noqa: E402
from .files import atomic_save_figure  # noqa: E402
from .plots import auto_magnification, draw_field  # noqa: E402


def _label(T: float) -> str:
    return f"T{T:+g}C".replace("+", "p").replace("-", "m").replace(".", "_")


def load_field(folder: Path, T: float):
    """(model, displacement, von Mises per element) of a run's primary section at T, or None."""
    files = sorted((folder / "fields").glob(f"*_{_label(T)}.vtu"))
    if not files:
        return None
    mesh = meshio.read(files[0])
    cells = mesh.cells_dict["triangle6"]
    region = np.asarray(mesh.cell_data_dict["region"]["triangle6"], dtype=np.int64)
    names = [str(i) for i in range(region.max() + 1)]
    model = Model(nodes=mesh.points[:, :2], elements=cells, element_region=region, region_names=names,
                  boundaries={})
    return model, mesh.point_data["displacement_mm"][:, :2], np.asarray(mesh.cell_data_dict["von_mises_MPa"]["triangle6"])


def _zoom(summary: dict):
    joints = summary.get("joints") or []
    if not joints:
        return None
    crit = (summary.get("cycling") or {}).get("critical_joint")
    j = next((j for j in joints if crit and j["name"] == crit["name"]), max(joints, key=lambda j: j["dnp_mm"]))
    half = 0.6 * max(j["pad_package_mm"], j["pad_board_mm"], j["standoff_mm"]) + 0.1
    ymid = -0.5 * j["standoff_mm"]
    return (j["x_mm"] - half, ymid - half, j["x_mm"] + half, ymid + half), j["name"]


def _save_pair(fig, axes, out: Path, filename: str) -> str:
    """Grid and legend on each panel, save atomically, close; returns the file name."""
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    atomic_save_figure(fig, out / filename)
    plt.close(fig)
    return filename


def comparison_plots(runs, out: Path) -> dict[str, str]:
    """Write the plots into ``out``; returns {title: file name}."""
    plots: dict[str, str] = {}
    temps = [row["T_C"] for row in runs[0].summary["temperatures"]]
    T = min(temps)
    fields = [load_field(r.folder, T) for r in runs]
    if all(f is not None for f in fields):
        vmax = max(float(f[2].max()) for f in fields)
        mag = min(auto_magnification(f[0], f[1]) for f in fields)
        for zoomed in (False, True):
            zooms = [_zoom(r.summary) for r in runs] if zoomed else [None] * len(runs)
            if zoomed and any(z is None for z in zooms):
                continue
            # joints side by side (stacked square panels put one's x label on the next one's title)
            if zoomed:
                fig, axes = plt.subplots(1, len(runs), figsize=(5.0 * len(runs), 6.2), squeeze=False)
            else:
                fig, axes = plt.subplots(len(runs), 1, figsize=(11, 3.0 * len(runs)), squeeze=False)
            panels = axes.ravel()
            for ax, r, (model, u, vm), z in zip(panels, runs, fields, zooms):
                pc = draw_field(ax, model, u, vm, 1.0 if zoomed else mag, 0.0, vmax, z[0] if z else None)
                ax.set_title(f"{r.name}" + (f": {z[1]}" if z else ""))
            fig.colorbar(pc, ax=panels.tolist(), orientation="horizontal", fraction=0.04 if not zoomed else 0.05,
                         pad=0.12,
                         label="von Mises stress (MPa), element mean")
            fig.suptitle(f"von Mises at {T:g} C, same colour scale"
                         + ("" if zoomed else f", deformation x{mag:g}"))
            name = f"von_mises_{'joint' if zoomed else 'section'}_{_label(T)}.png"
            atomic_save_figure(fig, out / name)
            plt.close(fig)
            plots[f"von Mises at {T:g} C ({'critical joint' if zoomed else 'whole section'})"] = name
        ref = fields[0]
        for r, f in zip(runs[1:], fields[1:]):
            same = (f[0].nodes.shape == ref[0].nodes.shape and f[0].elements.shape == ref[0].elements.shape
                    and np.array_equal(f[0].elements, ref[0].elements) and np.allclose(f[0].nodes, ref[0].nodes))
            if not same:
                continue
            diff = f[2] - ref[2]
            lim = max(float(np.abs(diff).max()), 1e-12)
            fig, ax = plt.subplots(figsize=(11, 3.5))
            pc = draw_field(ax, ref[0], np.zeros_like(ref[1]), diff, 0.0, -lim, lim, None, "RdBu_r")
            fig.colorbar(pc, ax=ax, orientation="horizontal", fraction=0.08, pad=0.25,
                         label=f"von Mises {r.name} - {runs[0].name} (MPa)")
            ax.set_title(f"difference field at {T:g} C (shared mesh)")
            name = f"difference_{r.name}_minus_{runs[0].name}_{_label(T)}.png"
            atomic_save_figure(fig, out / name)
            plt.close(fig)
            plots[f"difference {r.name} - {runs[0].name}"] = name

    # warpage profiles at T and warpage vs temperature
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 4.5))
    for r in runs:
        path = r.folder / "warpage_profiles.csv"
        if path.is_file():
            with open(path) as fh:
                rows_csv = list(csv.reader(fh))
            head = rows_csv[0]
            col = head.index(f"height_um_at_{T:g}C")
            data = np.array(rows_csv[1:], dtype=float)
            ax1.plot(data[:, 0], data[:, col], lw=1.8, label=r.name)
        rows = r.summary["temperatures"]
        ax2.plot([row["T_C"] for row in rows], [row["warpage_um"] for row in rows], "-o", lw=1.8, label=r.name)
    ax1.set_xlabel("x along the warpage surface (mm)")
    ax1.set_ylabel(f"height at {T:g} C (um)")
    ax1.set_title("warpage profiles (free package)")
    ax2.set_xlabel("temperature (C)")
    ax2.set_ylabel("warpage (um, + = convex)")
    ax2.set_title("warpage vs temperature (free package)")
    plots["warpage profiles and warpage vs temperature"] = _save_pair(fig, (ax1, ax2), out, "warpage.png")

    curves = [(r, (r.summary.get("process") or {}).get("warpage_vs_temperature")) for r in runs]
    if any(c for _, c in curves):
        # the process: warpage after each step, and the reflow curve with its limit
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 4.8))
        for k, (r, c) in enumerate(curves):
            steps = (r.summary.get("process") or {}).get("steps", [])
            ax1.plot([st["index"] for st in steps], [st["warpage_um"] for st in steps], "-o", lw=1.8,
                     color=f"C{k}", label=r.name)
            for branch, style in (("heating", "-o"), ("cooling", "--s")):
                pts = [p for p in (c or {}).get("points", []) if p["branch"] == branch]
                ax2.plot([p["T_C"] for p in pts], [p["warpage_um"] for p in pts], style, ms=3, color=f"C{k}",
                         label=f"{r.name} ({branch})")
        limits = {c["limit"]["limit_um"] for _, c in curves if c and c.get("limit")}
        for lim in limits:
            ax2.axhline(lim, color="C2", lw=1)
            ax2.axhline(-lim, color="C2", lw=1, label=f"JEITA ED-7306 +/-{lim:g} um")
        ax1.set_xlabel("process step")
        ax1.set_ylabel("warpage at the step's end (um, + = convex)")
        ax1.set_title("warpage after each process step (free package)")
        ax2.set_xlabel("temperature (C)")
        ax2.set_ylabel("warpage (um, + = convex)")
        ax2.set_title("reflow warpage curve 25 -> 260 -> 25 C (free package)")
        plots["process steps and reflow warpage curve"] = _save_pair(fig, (ax1, ax2), out, "process_and_reflow.png")

    cycling = [r for r in runs if (r.summary.get("cycling") or {}).get("status") == "complete"]
    if len(cycling) == len(runs):
        fig, ax = plt.subplots(figsize=(11, 4.5))
        names = []
        for r in runs:
            names += [j["name"] for j in r.summary["cycling"]["joints"] if j["name"] not in names]
        x = np.arange(len(names))
        width = 0.8 / len(runs)
        for k, r in enumerate(runs):
            by = {j["name"]: j["dW_last_cycle_MPa"] for j in r.summary["cycling"]["joints"]}
            ax.bar(x + (k - (len(runs) - 1) / 2) * width, [by.get(n, 0.0) for n in names], width, label=r.name)
        ax.set_xticks(x, names, fontsize=8)
        ax.set_ylabel("dW per cycle at the worse pad (MPa)")
        ax.set_title("inelastic work density per joint, last cycle")
        ax.legend()
        ax.grid(axis="y", alpha=0.3)
        atomic_save_figure(fig, out / "dW_per_joint.png")
        plt.close(fig)
        plots["dW per joint"] = "dW_per_joint.png"

        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 4.8))
        for r in runs:
            h = r.folder / "hysteresis.csv"
            if h.is_file():
                d = np.genfromtxt(h, delimiter=",", names=True)
                last = d["cycle"] == d["cycle"].max()
                ax1.plot(d["inelastic_shear_strain"][last], d["shear_stress_MPa"][last], lw=1.8,
                         label=f"{r.name}: {r.summary['cycling']['critical_joint']['name']}")
            w = r.folder / "warpage_vs_time.csv"
            if w.is_file():
                d = np.genfromtxt(w, delimiter=",", names=True)
                last = d["cycle"] == d["cycle"].max()
                ax2.plot(d["T_C"][last], d["assembly_warpage_um"][last], "-o", ms=2, lw=1.5, label=r.name)
        ax1.set_xlabel("inelastic shear strain (-)")
        ax1.set_ylabel("shear stress (MPa)")
        ax1.set_title("hysteresis of the critical joints, last cycle")
        ax2.set_xlabel("temperature (C)")
        ax2.set_ylabel("assembly warpage (um)")
        ax2.set_title("assembly warpage over the last cycle")
        plots["hysteresis loops and assembly warpage loop"] = _save_pair(fig, (ax1, ax2), out,
                                                                         "hysteresis_and_warpage_loop.png")
    return plots
