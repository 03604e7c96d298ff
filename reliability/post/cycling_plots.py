"""Plots of a thermal-cycling run: hysteresis, dW per joint, inelastic strain, warpage loop."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .files import atomic_save_figure  # noqa: E402


def plot_hysteresis(rec, band_index: int, label: str, path: Path) -> None:
    """Band-averaged shear stress against total and against inelastic shear strain, one colour per cycle.

    Left: tau_xy against the total engineering shear strain, the loop a test would measure; it closes
    once the cycle has stabilised and its area is the cycle's shear work.  Right: against the inelastic
    component, which drifts from cycle to cycle where the joint ratchets.
    """
    tau = np.array(rec.band_tau)[:, band_index]
    panels = [(np.array(rec.band_gamma)[:, band_index], "inelastic shear strain gamma_xy (-)")]
    total = getattr(rec, "band_gamma_total", None)
    if total is not None and len(total) == len(tau) and len(tau):
        panels.insert(0, (np.array(total)[:, band_index], "total shear strain gamma_xy (-)"))
    cyc = np.array(rec.cycle)
    fig, axes = plt.subplots(1, len(panels), figsize=(6.2 * len(panels), 5), squeeze=False)
    cmap = plt.get_cmap("viridis", max(cyc.max() + 1, 2))
    for ax, (gam, xlabel) in zip(axes[0], panels):
        for c in np.unique(cyc):
            # join each cycle to the last point of the previous one so loops close visually
            idx = np.flatnonzero(cyc == c)
            if c > 0 and idx[0] > 0:
                idx = np.concatenate(([idx[0] - 1], idx))
            ax.plot(gam[idx], tau[idx], "-", color=cmap(c), lw=1.6, label="cool-down" if c == 0 else f"cycle {c}")
        ax.set_xlabel(f"{xlabel}, interface-layer average")
        ax.set_ylabel("shear stress tau_xy (MPa), interface-layer average")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(f"hysteresis: {label}")
    atomic_save_figure(fig, path)
    plt.close(fig)


def plot_dW_per_joint(joints: list[dict], path: Path, title: str) -> None:
    """Grouped bars: dW of the last cycle at the package-side and board-side interfaces."""
    names = [j["name"] for j in joints]
    last = [j["cycles"][-1] for j in joints]
    x = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(max(6, 0.8 * len(names) + 2), 4.5))
    for k, (side, colour) in enumerate((("package", "tab:blue"), ("board", "tab:orange"))):
        vals = [row.get(f"dW_{side}_MPa", 0.0) for row in last]
        ax.bar(x + (k - 0.5) * 0.38, vals, 0.38, label=f"{side}-side pad", color=colour)
    ax.set_xticks(x, [f"{n}\nDNP {j['dnp_mm']:.2f} mm" for n, j in zip(names, joints)], fontsize=7)
    ax.set_ylabel("dW per cycle (MPa), interface-layer average")
    ax.set_title(title, pad=28)
    # above the axes: inside, it covered the tallest (critical) bar
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False, fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    atomic_save_figure(fig, path)
    plt.close(fig)


def plot_warpage_loop(rec, path: Path, title: str) -> None:
    """Warpage (um) against temperature over the whole profile."""
    T = np.array(rec.T)
    w = np.array(rec.warpage_um)
    cyc = np.array(rec.cycle)
    fig, ax = plt.subplots(figsize=(7, 5))
    cmap = plt.get_cmap("viridis", max(cyc.max() + 1, 2))
    for c in np.unique(cyc):
        idx = np.flatnonzero(cyc == c)
        if c > 0 and idx[0] > 0:
            idx = np.concatenate(([idx[0] - 1], idx))
        ax.plot(T[idx], w[idx], "-o", ms=2, color=cmap(c), label="cool-down" if c == 0 else f"cycle {c}")
    ax.set_xlabel("temperature (C)")
    ax.set_ylabel("warpage of the package bottom (um, + = convex)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    atomic_save_figure(fig, path)
    plt.close(fig)
