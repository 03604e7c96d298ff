"""Plots of the 3D quarter model: the plan view of the bottom surface's height (what shadow moire shows)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def plot_bottom_height(path: Path, surf, title: str = "") -> Path:
    """Filled contours of the rotation-free height (um) of the whole (mirrored) bottom surface, with a colour bar.

    ``surf``: a :class:`~reliability.analysis.warpage3d.Surface3D`.  Package
    viewed from the top, balls down; + is up (towards the package top).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.tri as mtri

    from .files import atomic_save_figure

    x, y, w_um = surf.x, surf.y, 1e3 * surf.w
    tri = mtri.Triangulation(x, y)
    fig, ax = plt.subplots(figsize=(6.4, 5.4))
    levels = np.linspace(w_um.min(), w_um.max(), 21) if np.ptp(w_um) > 0 else 21
    cs = ax.tricontourf(tri, w_um, levels=levels, cmap="viridis")
    ax.tricontour(tri, w_um, levels=levels, colors="k", linewidths=0.3)
    fig.colorbar(cs, ax=ax, label="height of the bottom surface, um (best-fit plane removed)")
    ax.set_aspect("equal")
    ax.set_xlabel("x, mm")
    ax.set_ylabel("y, mm")
    ax.set_title((title + "\n" if title else "")
                 + f"JESD22-B112 warpage {surf.warpage_um:+.2f} um, centre line {surf.centre_line_um:+.2f} um",
                 fontsize=9)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_save_figure(fig, path)
    plt.close(fig)
    return path
