"""Plots of a process history: warpage after each step, the reflow warpage curve, the end-of-process stress."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .files import atomic_save_figure  # noqa: E402
from .plots import plot_element_field  # noqa: E402


def plot_step_warpage(steps: list[dict], path: Path, title: str) -> None:
    """Warpage (um) and temperature (C) at the end of each step."""
    idx = [s["index"] for s in steps]
    fig, ax = plt.subplots(figsize=(9, 4.8))
    ax.plot(idx, [s["warpage_um"] for s in steps], "o-", color="C0", label="warpage (um)")
    ax.axhline(0.0, color="0.6", lw=0.8)
    ax.set_xlabel("process step")
    ax.set_ylabel("warpage at the step's end (um), positive = convex", color="C0")
    ax.set_xticks(idx, [f"{s['index']} {s['description'][:30]}" for s in steps], rotation=30, ha="right", fontsize=7)
    ax2 = ax.twinx()
    ax2.plot(idx, [s["T_C"] for s in steps], "s--", color="C3", ms=4, label="temperature (C)")
    ax2.set_ylabel("temperature at the step's end (C)", color="C3")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    atomic_save_figure(fig, path)
    plt.close(fig)


def plot_reflow_curve(block: dict, path: Path, title: str) -> None:
    """Warpage vs temperature over the reflow profile, heating and cooling, with the ED-7306 band."""
    pts = block["points"]
    fig, ax = plt.subplots(figsize=(8, 5))
    for branch, style in (("heating", "o-"), ("cooling", "s--")):
        sel = [p for p in pts if p["branch"] == branch]
        ax.plot([p["T_C"] for p in sel], [p["warpage_um"] for p in sel], style, label=branch)
    limit = block.get("limit")
    if limit:
        lim = limit["limit_um"]
        ax.axhspan(-lim, lim, color="C2", alpha=0.08)
        ax.axhline(lim, color="C2", lw=1)
        ax.axhline(-lim, color="C2", lw=1,
                   label=f"JEITA ED-7306 +/-{lim:g} um ({limit['table_pitch_mm']:g} mm pitch, {limit['label']})")
        verdict = "pass" if block["passes"] else "FAIL"
        ax.text(0.02, 0.04, f"{verdict} at every temperature" if block["passes"] else verdict,
                transform=ax.transAxes, fontsize=10)
    ax.axhline(0.0, color="0.6", lw=0.8)
    ax.set_xlabel("temperature (C)")
    ax.set_ylabel("warpage (um), positive = convex (centre up, balls down)")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    atomic_save_figure(fig, path)
    plt.close(fig)


SECTION_CURVE = "2D section centre line (reads below the full-surface warpage the limit is for)"
QUARTER_CURVE = "3D quarter, full surface (JESD22-B112)"


def write_history_plots(plots: Path, case, steps: list[dict] | None, block: dict, where: str,
                        curve_note: str = SECTION_CURVE) -> None:
    """Warpage after each step of the free package (``steps``, the records of a history) and over the reflow
    curve of the summary's process ``block``; ``where`` names the model in the step plot's title."""
    if steps:
        plot_step_warpage(steps, plots / "process_steps_warpage.png",
                          f"{case.name}: warpage after each process step ({where}, {block['sequence']} sequence)")
    curve = block.get("warpage_vs_temperature")
    if curve:
        plot_reflow_curve(curve, plots / "reflow_warpage_curve.png",
                          f"{case.name}: free-package warpage over reflow {curve['profile']}\n{curve_note}")


def write_process_plots(plots: Path, case, process: dict, primary, package, block: dict) -> None:
    """The process plots of a run: steps, reflow curve (free package), end-of-process von Mises field."""
    pkg = process.get("package")
    write_history_plots(plots, case, pkg.steps if pkg is not None else None, block, package.role)
    end = process[primary.role].end_snapshot
    vm = np.where(end.active, end.von_mises.mean(axis=1), np.nan)
    plot_element_field(primary.model, end.u, vm, plots / "von_mises_process_end.png",
                       title=f"{case.name}: von Mises stress at the end of the process ({end.T_C:g} C, "
                       f"{primary.role})", label="von Mises stress (MPa), element mean", vmin=0.0)
