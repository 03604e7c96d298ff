"""Read gmsh meshes as :class:`~reliability.model.Model` objects.

A usable mesh has second-order (6-node) triangles grouped in named physical
surfaces (the regions that get materials) and, optionally, 3-node lines in
named physical lines (warpage surface, symmetry line, pad interfaces).  It is
read with meshio; anything else is refused with a one-line
:class:`~reliability.errors.MeshError`.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import stat
from pathlib import Path

import meshio
import numpy as np

from .errors import MeshError
from .model import Model

GMSH_FIRST_LINES = ("$MeshFormat", "$Comments")  # how every gmsh .msh file (MSH 2 and 4) begins


def path_problem(path: str | Path, what: str = "file") -> str | None:
    """Why ``path`` is not a readable regular file (``None`` when it is).

    Follows symbolic links; tells a missing file from a broken link, a link
    loop, a directory, a device, a FIFO or a socket, so that a message never
    says "not found" about something that exists.
    """
    path = Path(path)
    try:
        st = os.stat(path)
    except ValueError:  # an embedded NUL byte
        return f"not a usable {what} name"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "is a symbolic link loop (too many levels of symbolic links)"
        if exc.errno == errno.ENOENT:
            if os.path.islink(path):
                return f"is a broken symbolic link (to {os.readlink(path)}, which does not exist)"
            return "does not exist"
        if exc.errno == errno.ENOTDIR:
            return "does not exist (a part of the path is a file, not a directory)"
        if exc.errno == errno.ENAMETOOLONG:
            return "cannot be opened: the name is too long"
        if exc.errno == errno.EACCES:
            return "cannot be opened: permission denied"
        return f"cannot be opened ({os.strerror(exc.errno or 0) or type(exc).__name__})"
    mode = st.st_mode
    if stat.S_ISREG(mode):
        if not os.access(path, os.R_OK):
            return "cannot be read: permission denied"
        return None
    kind = ("a directory" if stat.S_ISDIR(mode) else "a FIFO (named pipe)" if stat.S_ISFIFO(mode)
            else "a character device" if stat.S_ISCHR(mode) else "a block device" if stat.S_ISBLK(mode)
            else "a socket" if stat.S_ISSOCK(mode) else "not a regular file")
    return f"exists but is {kind}, not a regular {what}"


def read_msh(path: str | Path) -> Model:
    """Read a gmsh ``.msh`` file into a :class:`Model`.

    Anything else - a missing path, a directory, a device, a FIFO, an empty
    file, a text file renamed ``.msh``, a truncated mesh - is a one-line
    :class:`~reliability.errors.MeshError` naming the file.
    """
    path = Path(path)
    problem = path_problem(path, "mesh file")
    if problem:
        raise MeshError(f"mesh file {path} {problem}")
    try:
        with open(path, "rb") as f:
            first = f.readline(200)
    except OSError as exc:
        raise MeshError(f"mesh file {path} cannot be read ({os.strerror(exc.errno or 0)})") from None
    if not first.strip():
        raise MeshError(f"mesh file {path} is empty" if not first else
                        f"{path}: not a gmsh mesh: the first line is blank (a .msh file starts with $MeshFormat)")
    head = first.decode("utf-8", "replace").strip()
    if head not in GMSH_FIRST_LINES:
        shown = head if len(head) <= 40 else head[:37] + "..."
        raise MeshError(f"{path}: not a gmsh mesh: the first line is {shown!r} (a .msh file starts with "
                        "$MeshFormat; write it with gmsh -2 -order 2 or gmsh.write)")
    captured = io.StringIO()
    try:
        # meshio prints warnings about unused cell data; keep the terminal clean.  Its gmsh reader, not
        # meshio.read, which prints to the (redirected) stderr and calls sys.exit on a file it cannot read
        with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
            raw = meshio.gmsh.read(path)
    except (Exception, SystemExit) as exc:  # meshio raises many types for corrupt files
        detail = str(exc) or captured.getvalue().strip() or "no detail"
        raise MeshError(f"{path}: cannot read as a gmsh mesh ({type(exc).__name__}: {detail})") from None
    return model_from_meshio(raw, str(path))


def model_from_meshio(raw: meshio.Mesh, source: str) -> Model:
    """Convert a meshio mesh with gmsh physical groups into a :class:`Model`."""
    types = {block.type for block in raw.cells}
    if "triangle6" not in types:
        if "triangle" in types:
            raise MeshError(
                f"{source}: has first-order triangles only; 6-node triangles are needed "
                "(mesh with gmsh -2 -order 2, or Mesh.ElementOrder = 2)"
            )
        raise MeshError(f"{source}: contains no 6-node triangles (found: {', '.join(sorted(types)) or 'nothing'})")
    unsupported = types - {"triangle6", "line3", "vertex", "line", "triangle"}
    if unsupported:
        raise MeshError(f"{source}: unsupported cell types {', '.join(sorted(unsupported))}; only 6-node triangles")

    names = {int(tag): name for name, (tag, dim) in _field_data(raw).items() if int(dim) == 2}
    line_names = {int(tag): name for name, (tag, dim) in _field_data(raw).items() if int(dim) == 1}
    if not names:
        raise MeshError(f"{source}: no named physical surfaces; name the regions (Physical Surface(\"die\") = ...)")
    phys = raw.cell_data.get("gmsh:physical")
    if phys is None:
        raise MeshError(f"{source}: no physical groups in the file")

    tris, tri_tags, lines, line_tags = [], [], [], []
    for block, tags in zip(raw.cells, phys):
        if block.type == "triangle6":
            tris.append(block.data)
            tri_tags.append(np.asarray(tags, dtype=int))
        elif block.type == "line3":
            lines.append(block.data)
            line_tags.append(np.asarray(tags, dtype=int))
    elements = np.concatenate(tris).astype(np.int64)
    tags = np.concatenate(tri_tags)
    unnamed = sorted(set(np.unique(tags)) - set(names))
    if unnamed:
        raise MeshError(f"{source}: triangles in physical surface(s) {unnamed} that have no name")

    points = np.asarray(raw.points, dtype=float)
    if points.shape[1] == 3 and np.any(np.abs(points[:, 2]) > 1e-12 * max(1.0, np.abs(points).max())):
        raise MeshError(f"{source}: nodes with z != 0; a 2D section must lie in the x-y plane")

    # compact the node numbering to the nodes the triangles use
    used, inverse = np.unique(elements, return_inverse=True)
    renumber = np.full(points.shape[0], -1, dtype=np.int64)
    renumber[used] = np.arange(used.size)
    elements = inverse.reshape(elements.shape)
    nodes = points[used, :2].copy()

    elements = _counter_clockwise(nodes, elements, source)

    region_tags = sorted(names)
    region_names = [names[t] for t in region_tags]
    lookup = {t: i for i, t in enumerate(region_tags)}
    element_region = np.array([lookup[t] for t in tags], dtype=np.int64) if tags.size else tags

    boundaries: dict[str, np.ndarray] = {}
    if lines:
        all_lines = np.concatenate(lines).astype(np.int64)
        all_tags = np.concatenate(line_tags)
        for tag in np.unique(all_tags):
            if tag not in line_names:
                continue
            edges = renumber[all_lines[all_tags == tag]]
            if np.any(edges < 0):
                raise MeshError(f"{source}: physical line '{line_names[tag]}' has nodes outside the triangles")
            boundaries[line_names[tag]] = edges
    return Model(
        nodes=nodes,
        elements=elements,
        element_region=element_region,
        region_names=region_names,
        boundaries=boundaries,
        source=source,
    )


def _field_data(raw: meshio.Mesh) -> dict:
    return {name: (int(v[0]), int(v[1])) for name, v in (raw.field_data or {}).items()}


def _counter_clockwise(nodes: np.ndarray, elements: np.ndarray, source: str) -> np.ndarray:
    x = nodes[elements[:, :3]]
    signed = (x[:, 1, 0] - x[:, 0, 0]) * (x[:, 2, 1] - x[:, 0, 1]) - (x[:, 2, 0] - x[:, 0, 0]) * (
        x[:, 1, 1] - x[:, 0, 1]
    )
    if np.any(signed == 0):
        raise MeshError(f"{source}: {int(np.sum(signed == 0))} degenerate triangle(s) of zero area")
    flip = signed < 0
    if np.any(flip):
        elements = elements.copy()
        # swap corners 1 and 2; mid-nodes 0-1 <-> 0-2 follow
        elements[flip] = elements[flip][:, [0, 2, 1, 5, 4, 3]]
    return elements
