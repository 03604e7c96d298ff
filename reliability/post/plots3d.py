"""Plots of the 3D quarter model: the plan view of the bottom surface's height (what shadow moire shows), and
the map of every ball's dW per cycle over the array of the 3D assembly."""

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


def plot_joint_dw_map(path: Path, joints: list[dict], info: dict[str, dict], critical: str | None = None,
                      title: str = "", critical_dW_MPa: float | None = None) -> Path:
    """Plan view of the ball array (mirrored from the quarter): each ball a disc coloured by its last-cycle
    dW (MPa per cycle, the worse of its two pad interfaces), the critical ball ringed in red, with a colour bar.

    ``joints``: the ``cycling.joints`` entries (name, dW_last_cycle_MPa); ``info``: the model's joints by
    name (x_mm, y_mm, sphere_radius_mm); ``critical_dW_MPa``: the critical ball's dW when it comes from
    elsewhere than ``joints`` (a submodel's local model over a screening map).  A ball on a symmetry plane
    is drawn once.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import Circle

    from .files import atomic_save_figure

    discs, values, ring = [], [], []
    for j in joints:
        i = info[j["name"]]
        x, y, r = float(i["x_mm"]), float(i["y_mm"]), float(i.get("sphere_radius_mm", 0.15))
        for sx, sy in {(sx * x, sy * y) for sx in (1.0, -1.0) for sy in (1.0, -1.0)}:
            discs.append(Circle((sx, sy), r))
            values.append(float(j["dW_last_cycle_MPa"]))
            if j["name"] == critical:
                ring.append((sx, sy, r))
    fig, ax = plt.subplots(figsize=(6.4, 5.6))
    col = PatchCollection(discs, cmap="inferno", edgecolor="k", linewidth=0.3)
    col.set_array(np.asarray(values))
    ax.add_collection(col)
    for sx, sy, r in ring:
        ax.add_patch(Circle((sx, sy), 1.25 * r, fill=False, edgecolor="red", linewidth=1.5))
    fig.colorbar(col, ax=ax, label="dW per cycle, MPa (Darveaux band, worse pad interface)")
    reach = max(abs(float(info[j["name"]]["x_mm"])) + 2 * float(info[j["name"]].get("sphere_radius_mm", 0.15))
                for j in joints) if joints else 1.0
    reach = max(reach, max((abs(float(info[j["name"]]["y_mm"])) for j in joints), default=0.0) + 0.3)
    ax.set_xlim(-reach, reach)
    ax.set_ylim(-reach, reach)
    ax.set_aspect("equal")
    ax.set_xlabel("x, mm")
    ax.set_ylabel("y, mm")
    crit = next((j for j in joints if j["name"] == critical), None)
    note = "" if crit is None else (f"critical {critical} (row {info[critical]['row']}, column "
                                    f"{info[critical]['col']}, DNP {float(info[critical]['dnp_mm']):.2f} mm): "
                                    f"{crit['dW_last_cycle_MPa'] if critical_dW_MPa is None else critical_dW_MPa:.4g}"
                                    f" MPa{'' if critical_dW_MPa is None else ' (local model)'}; ")
    for j in joints:  # the value on each ball of the modelled quarter
        i = info[j["name"]]
        ax.text(float(i["x_mm"]), float(i["y_mm"]), f"{j['dW_last_cycle_MPa']:.3f}", ha="center", va="center",
                fontsize=5, color="cyan")
    ax.set_title((title + "\n" if title else "") + note + "\nmirrored from the quarter model (values on the "
                 "modelled quarter x, y > 0)", fontsize=8)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_save_figure(fig, path)
    plt.close(fig)
    return path
