"""ParaView output: one ``.vtu`` per load state and a ``.pvd`` collection.

Point data: ``displacement_mm`` (3 components, z = 0, so ParaView's "Warp By
Vector" works directly) and ``von_mises_MPa`` averaged at the nodes.  Cell
data: element means of the stress components (MPa) and of von Mises, and the
integer ``region`` with the names in the ``region_names`` field data
(also listed in the collection file's comment).
"""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path
from xml.sax.saxutils import quoteattr

import meshio
import numpy as np

from ..model import Model
from .files import atomic_write_text

STRESS_NAMES = ("stress_xx_MPa", "stress_yy_MPa", "stress_zz_MPa", "stress_xy_MPa")


def nodal_average(model: Model, element_values: np.ndarray) -> np.ndarray:
    """Average of element values over the elements sharing each node."""
    counts = np.bincount(model.elements.ravel(), minlength=model.n_nodes)
    sums = np.bincount(
        model.elements.ravel(), weights=np.repeat(element_values, 6), minlength=model.n_nodes
    )
    return sums / np.maximum(counts, 1)


def write_vtu(path: Path, model: Model, u: np.ndarray, cell_fields: dict[str, np.ndarray],
              point_fields: dict[str, np.ndarray] | None = None) -> None:
    """Write one state; ``cell_fields`` are per-element arrays."""
    points = np.column_stack([model.nodes, np.zeros(model.n_nodes)])
    point_data = {"displacement_mm": np.column_stack([u, np.zeros(model.n_nodes)])}
    point_data.update(point_fields or {})
    cell_data = {name: [np.asarray(v)] for name, v in cell_fields.items()}
    cell_data["region"] = [model.element_region.astype(np.int32)]
    mesh = meshio.Mesh(points, [("triangle6", model.elements)], point_data=point_data, cell_data=cell_data)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.partial.vtu")
    # meshio writes to a path only: write beside the target, then move atomically
    with contextlib.redirect_stdout(io.StringIO()):
        meshio.write(tmp, mesh, file_format="vtu", binary=True, compression=None)
    os.replace(tmp, path)


def write_pvd(path: Path, entries: list[tuple[float, str]], comment: str = "") -> None:
    """A ParaView collection; ``entries`` are (timestep, relative file name) or (timestep, file, part): parts
    of one timestep are shown together (e.g. a submodel's local models)."""
    lines = ['<?xml version="1.0"?>']
    if comment:
        lines.append(f"<!-- {comment.replace('--', '- -')} -->")
    lines.append('<VTKFile type="Collection" version="0.1" byte_order="LittleEndian">')
    lines.append("  <Collection>")
    for step, name, *part in entries:
        lines.append(f'    <DataSet timestep="{step:.12g}" group="" part="{part[0] if part else 0}" '
                     f'file={quoteattr(name)}/>')
    lines.append("  </Collection>")
    lines.append("</VTKFile>")
    atomic_write_text(path, "\n".join(lines) + "\n")
