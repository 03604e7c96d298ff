"""PNG plots with units and colour bars.

* a scalar field (e.g. von Mises, MPa) on the magnified deformed shape, with
  the magnification in the title and optional zoom windows;
* warpage profiles of the warpage surface at every temperature (um vs mm);
* a material's properties against temperature.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.tri import Triangulation  # noqa: E402

from ..model import Model  # noqa: E402
from .files import atomic_save_figure  # noqa: E402

# each 6-node triangle drawn as four 3-node ones through its mid-side nodes
_SUBTRIANGLES = np.array([[0, 3, 5], [3, 1, 4], [5, 4, 2], [3, 4, 5]])


def auto_magnification(model: Model, u: np.ndarray, fraction: float = 0.08) -> float:
    """Scale so the largest displacement draws as ``fraction`` of the model size."""
    x0, y0, x1, y1 = model.bounding_box()
    umax = float(np.abs(u).max())
    if umax == 0:
        return 1.0
    mag = fraction * max(x1 - x0, y1 - y0) / umax
    # round down to 1, 2 or 5 x 10^k so the title reads cleanly
    exp = 10.0 ** np.floor(np.log10(mag))
    mantissa = max(m for m in (1, 2, 5) if m * exp <= mag * (1 + 1e-12))
    return float(mantissa * exp)


def _triangulation(model: Model, u: np.ndarray, mag: float) -> Triangulation:
    xy = model.nodes + mag * u
    tris = model.elements[:, _SUBTRIANGLES].reshape(-1, 3)
    return Triangulation(xy[:, 0], xy[:, 1], tris)


def draw_field(ax, model: Model, u: np.ndarray, values: np.ndarray, mag: float, vmin=None, vmax=None,
               zoom=None, cmap: str = "viridis"):
    """Element values on the magnified deformed shape, into an existing axes; returns the mappable.

    Every plotting sub-triangle gets its own three vertices coloured with its
    element's value and is drawn Gouraud-shaded: it looks flat, and Agg draws
    the whole mesh in one call instead of one path per triangle (half the
    time at 170 k sub-triangles).  A zoom (x0, y0, x1, y1) on the undeformed
    geometry draws only what it shows, in a window that moves with that
    region's mean magnified displacement: at x10 a joint at the package edge
    moves by a third of a millimetre, out of a window fixed in place.
    """
    xy = model.nodes + mag * u
    tris = model.elements[:, _SUBTRIANGLES]  # (elements, 4, 3)
    colours = np.broadcast_to(np.asarray(values, dtype=float)[:, None, None], tris.shape)
    cm = plt.get_cmap(cmap).with_extremes(bad="0.85")
    window = None
    if zoom is not None:
        x0, y0, x1, y1 = zoom
        pad = 0.05 * max(x1 - x0, y1 - y0)
        # elements taken from a wider box than the window, so that the deformed (rotated) shape fills it
        reach = 0.3 * max(x1 - x0, y1 - y0)
        corners = model.nodes[model.elements[:, :3]]
        keep = ((corners[:, :, 0].max(1) >= x0 - reach) & (corners[:, :, 0].min(1) <= x1 + reach)
                & (corners[:, :, 1].max(1) >= y0 - reach) & (corners[:, :, 1].min(1) <= y1 + reach))
        tris, colours = tris[keep], colours[keep]
        c = corners.mean(axis=1)
        shown = keep & (c[:, 0] >= x0) & (c[:, 0] <= x1) & (c[:, 1] >= y0) & (c[:, 1] <= y1)
        inside = np.unique(model.elements[shown])
        dx, dy = mag * u[inside].mean(axis=0) if inside.size else (0.0, 0.0)
        window = (x0 - pad + dx, x1 + pad + dx, y0 - pad + dy, y1 + pad + dy)
    if tris.size:
        pts = xy[tris.reshape(-1)]
        tri = Triangulation(pts[:, 0], pts[:, 1], np.arange(pts.shape[0]).reshape(-1, 3))
        pc = ax.tripcolor(tri, np.ma.masked_invalid(colours.reshape(-1)), cmap=cm, vmin=vmin, vmax=vmax,
                          shading="gouraud")
    else:  # nothing of the model in the window: an empty panel with its colour scale
        pc = matplotlib.cm.ScalarMappable(norm=matplotlib.colors.Normalize(vmin, vmax), cmap=cm)
    ax.set_aspect("equal")
    if window is not None:
        ax.set_xlim(*window[:2])
        ax.set_ylim(*window[2:])
    ax.set_xlabel("x (mm)")
    ax.set_ylabel("y (mm)")
    return pc


def plot_element_field(
    model: Model,
    u: np.ndarray,
    values: np.ndarray,
    path: Path,
    title: str,
    label: str,
    magnification: float | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
    zoom: tuple[float, float, float, float] | None = None,
    cmap: str = "viridis",
) -> float:
    """Element-wise field on the deformed shape; returns the magnification used."""
    mag = auto_magnification(model, u) if magnification is None else magnification
    x0, y0, x1, y1 = model.bounding_box() if zoom is None else zoom
    aspect = (y1 - y0) / max(x1 - x0, 1e-12)
    if aspect < 0.4:  # a whole (wide) section: full width, the colour bar under it
        width = 11.0
        height = float(np.clip(width * aspect + 1.6, 3.0, 9.0))
        fig, ax = plt.subplots(figsize=(width, height))
        bar = dict(orientation="horizontal", fraction=0.08, pad=0.25, aspect=40)
    else:  # a zoom (about square): the figure as wide as the plot, the colour bar beside it, so no
        # empty band is left between them
        plot_h = 6.0
        plot_w = float(np.clip(plot_h / aspect, 3.0, 10.0))
        fig, ax = plt.subplots(figsize=(plot_w + 2.4, plot_h + 1.9), layout="constrained")
        bar = dict(orientation="vertical", fraction=0.06, pad=0.02, aspect=30)
    pc = draw_field(ax, model, u, values, mag, vmin, vmax, zoom, cmap)
    ax.set_title(f"{title}\ndeformation magnified x{mag:g}")
    cb = fig.colorbar(pc, ax=ax, **bar)
    cb.set_label(label)
    atomic_save_figure(fig, path)
    plt.close(fig)
    return mag


def plot_warpage_profiles(curves: list[tuple[str, np.ndarray, np.ndarray]], path: Path, title: str) -> None:
    """Profiles w(x); ``curves`` are (legend label, x in mm, w in um)."""
    fig, ax = plt.subplots(figsize=(8, 4.5))
    cmap = plt.get_cmap("coolwarm")
    for i, (label, x, w) in enumerate(curves):
        ax.plot(x, w, color=cmap(i / max(len(curves) - 1, 1)), label=label, lw=1.8)
    ax.axhline(0.0, color="0.6", lw=0.8)
    ax.set_xlabel("x along the warpage surface (mm)")
    ax.set_ylabel("height, rigid rotation removed (um)")
    ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    atomic_save_figure(fig, path)
    plt.close(fig)


def plot_material(material, path: Path, T_range: tuple[float, float] = (-65.0, 300.0)) -> None:
    """Every property of ``material`` against temperature, one panel each."""
    lo, hi = material.range_C
    lo, hi = max(lo, T_range[0]), min(hi, T_range[1])
    T = np.linspace(lo, hi, 300)
    props = material.elastic.props
    fig, axes = plt.subplots(1, len(props), figsize=(3.2 * len(props), 3.2), squeeze=False)
    for ax, (key, table) in zip(axes[0], props.items()):
        scale, unit = (1e6, "ppm/K") if key.startswith("alpha") else (1.0, "")
        ax.plot(T, np.asarray(table(T)) * scale, lw=1.8)
        ax.set_xlabel("temperature (C)")
        ax.set_ylabel(f"{key}" + (f" ({unit})" if unit else ""))
        ax.grid(alpha=0.3)
    fig.suptitle(f"{material.name}: {material.description}")
    fig.tight_layout()
    atomic_save_figure(fig, path)
    plt.close(fig)


def plot_mesh(model: Model, path: Path, title: str, zooms: list[tuple[str, tuple[float, float, float, float]]] = ()) -> None:
    """The mesh coloured by region: whole section plus zoom windows (x0, y0, x1, y1)."""
    tri = _triangulation(model, np.zeros_like(model.nodes), 0.0)
    n_panels = 1 + len(zooms)
    fig, axes = plt.subplots(n_panels, 1, figsize=(11, 3.2 + 4.2 * len(zooms)),
                             gridspec_kw={"height_ratios": [1.0] + [1.6] * len(zooms)})
    axes = np.atleast_1d(axes)
    cmap = plt.get_cmap("tab20", max(len(model.region_names), 2))
    colours = np.repeat(model.element_region, 4)
    for k, ax in enumerate(axes):
        zoomed = k > 0
        ax.tripcolor(tri, facecolors=colours.astype(float), cmap=cmap, vmin=-0.5,
                     vmax=len(model.region_names) - 0.5, edgecolors="k" if zoomed else "none",
                     linewidth=0.15 if zoomed else 0.0)
        if zoomed:
            # outline the 6-node triangles, not the plotting sub-triangles
            corners = model.nodes[model.elements[:, [0, 1, 2, 0]]]
            x0, y0, x1, y1 = zooms[k - 1][1]
            keep = ((corners[:, :, 0].max(1) >= x0) & (corners[:, :, 0].min(1) <= x1)
                    & (corners[:, :, 1].max(1) >= y0) & (corners[:, :, 1].min(1) <= y1))
            for c in corners[keep]:
                ax.plot(c[:, 0], c[:, 1], "k-", lw=0.3)
            ax.set_xlim(x0, x1)
            ax.set_ylim(y0, y1)
            ax.set_title(zooms[k - 1][0])
        else:
            ax.set_title(title)
        ax.set_aspect("equal")
        ax.set_xlabel("x (mm)")
        ax.set_ylabel("y (mm)")
    handles = [plt.Rectangle((0, 0), 1, 1, color=cmap(i)) for i in range(len(model.region_names))]
    fig.legend(handles, model.region_names, loc="center right", fontsize=7, frameon=False)
    fig.tight_layout(rect=(0, 0, 0.86, 1))
    atomic_save_figure(fig, path)
    plt.close(fig)
