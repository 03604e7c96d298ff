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


def shown(path: str | Path) -> str:
    """``path`` for a one-line message: as is, or quoted with escapes if it holds control characters."""
    text = str(path)
    return text if text.isprintable() else repr(text)


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
        return f"is not a usable {what} name (it contains a NUL character)"
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
        raise MeshError(f"mesh file {shown(path)} {problem}")
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
        line = head if len(head) <= 40 else head[:37] + "..."
        raise MeshError(f"{path}: not a gmsh mesh: the first line is {line!r} (a .msh file starts with "
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
    if elements.size and (elements.min() < 0 or elements.max() >= points.shape[0]):
        raise MeshError(f"{source}: triangles refer to nodes that are not in the file")
    if points.shape[1] == 3 and np.any(np.abs(points[:, 2]) > 1e-12 * max(1.0, np.abs(points).max())):
        raise MeshError(f"{source}: nodes with z != 0; a 2D section must lie in the x-y plane")

    # compact the node numbering to the nodes the triangles use
    used, inverse = np.unique(elements, return_inverse=True)
    renumber = np.full(points.shape[0], -1, dtype=np.int64)
    renumber[used] = np.arange(used.size)
    elements = inverse.reshape(elements.shape)
    nodes = points[used, :2].copy()
    if not np.all(np.isfinite(nodes)):
        raise MeshError(f"{source}: {int(np.sum(~np.isfinite(nodes).all(axis=1)))} node(s) with a non-finite "
                        "coordinate (inf or nan)")

    elements = _counter_clockwise(nodes, elements, source)
    _check_elements(nodes, elements, source)

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


# the six nodes of a 6-node triangle in area coordinates (corners, then mid-sides 0-1, 1-2, 2-0)
_P2_NODES = np.array([[0, 0], [1, 0], [0, 1], [0.5, 0], [0.5, 0.5], [0, 0.5]], dtype=float)


def _check_elements(nodes: np.ndarray, elements: np.ndarray, source: str) -> None:
    """Refuse meshes a solve would turn into a singular or meaningless system.

    Six distinct nodes per triangle; a positive Jacobian at all six nodes (a
    mid-side node moved past its corners inverts the element: it is the
    standard validity test of a quadratic triangle); one connected piece (a
    part touching nothing has no supports).
    """
    same = np.zeros(len(elements), dtype=bool)
    srt = np.sort(elements, axis=1)
    same |= np.any(srt[:, 1:] == srt[:, :-1], axis=1)
    if np.any(same):
        k = int(np.flatnonzero(same)[0])
        raise MeshError(f"{source}: {int(same.sum())} triangle(s) use the same node twice (first: element {k})")
    x = nodes[elements]  # (n, 6, 2)
    r, t = _P2_NODES[:, 0], _P2_NODES[:, 1]
    # derivatives of the six quadratic shape functions at the six nodes: (6 points, 6 functions)
    lam = 1 - r - t
    dr = np.stack([-(4 * lam - 1), 4 * r - 1, 0 * r, 4 * (lam - r), 4 * t, -4 * t], axis=1)
    dt = np.stack([-(4 * lam - 1), 0 * r, 4 * t - 1, -4 * r, 4 * r, 4 * (lam - t)], axis=1)
    jr = np.matmul(dr, x)  # (n, 6 points, 2)
    jt = np.matmul(dt, x)
    det = jr[..., 0] * jt[..., 1] - jr[..., 1] * jt[..., 0]
    corners = x[:, :3]
    scale = np.max(np.sum((corners - np.roll(corners, 1, axis=1)) ** 2, axis=2), axis=1)  # longest edge^2
    bad = np.any(det <= 1e-12 * scale[:, None], axis=1)
    if np.any(bad):
        k = int(np.flatnonzero(bad)[0])
        raise MeshError(f"{source}: {int(bad.sum())} inverted or collapsed 6-node triangle(s) (Jacobian not positive "
                        f"at a node; first: element {k} at x = {x[k, 0, 0]:.6g}, y = {x[k, 0, 1]:.6g}); "
                        "regenerate the mesh")
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(nodes)
    rows = np.repeat(elements[:, 0], 5)
    cols = elements[:, 1:].reshape(-1)
    pieces, label = connected_components(coo_matrix((np.ones(rows.size), (rows, cols)), shape=(n, n)),
                                         directed=False)
    if pieces > 1:
        sizes = np.bincount(label[elements[:, 0]], minlength=pieces)
        raise MeshError(f"{source}: {pieces} separate pieces (of {', '.join(str(v) for v in sorted(sizes)[::-1][:4])} "
                        "triangles): a section must be one connected body")
