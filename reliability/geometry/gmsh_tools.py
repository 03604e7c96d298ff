"""A gmsh session that ends in a :class:`~reliability.model.Model`.

Builders describe geometry with gmsh's OpenCASCADE kernel inside
:func:`gmsh_session`, name physical groups, and call :func:`mesh_to_model`,
which meshes with second-order triangles, writes a ``.msh`` and reads it back
through :func:`reliability.mesh.read_msh` - so a built model and a model read
from a file are the same object by construction.
"""

from __future__ import annotations

import tempfile
from contextlib import contextmanager
from pathlib import Path

import gmsh

from ..mesh import read_msh
from ..model import Model


@contextmanager
def gmsh_session(name: str, verbose: bool = False):
    """Initialise gmsh for one model and always finalise it."""
    # interruptible=False: no SIGINT handler, so builders also run in worker threads
    gmsh.initialize(readConfigFiles=False, interruptible=False)
    try:
        gmsh.option.setNumber("General.Terminal", 1 if verbose else 0)
        gmsh.option.setNumber("General.Verbosity", 2 if verbose else 0)
        gmsh.model.add(name)
        yield gmsh
    finally:
        gmsh.finalize()


def mesh_to_model(path: str | Path | None = None, source: str = "", optimize: bool = True) -> Model:
    """Mesh the current gmsh model with 6-node triangles and return it as a Model.

    ``path``: where to keep the ``.msh`` (a temporary file when ``None``).
    """
    # mesh and smooth at first order, then lift to second order with the
    # mid-side nodes placed on the geometry (curved on arcs)
    gmsh.option.setNumber("Mesh.ElementOrder", 1)
    gmsh.option.setNumber("Mesh.SecondOrderLinear", 0)
    gmsh.model.mesh.generate(2)
    if optimize:
        gmsh.model.mesh.optimize("Laplace2D")
    gmsh.model.mesh.setOrder(2)
    # MSH 2.2 writes an element once per physical group, so a curve can carry two
    # names (the package bottom is also a joint's pad interface); meshio reads
    # only one physical tag per element from MSH 4
    if path is None:
        with tempfile.TemporaryDirectory() as tmp:
            file = Path(tmp) / "model.msh"
            gmsh.option.setNumber("Mesh.MshFileVersion", 2.2)
            gmsh.write(str(file))
            model = read_msh(file)
    else:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        gmsh.option.setNumber("Mesh.MshFileVersion", 2.2)
        gmsh.write(str(path))
        model = read_msh(path)
    model.source = source or model.source
    return model
