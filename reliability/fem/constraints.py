"""Supports: rigid-body removal for a free body, symmetry lines, the axis.

A package in a thermal load case is a free body: the thermal load is
self-equilibrated, so holding the minimum number of displacement components
that stop rigid-body motion (pin one node, roll another) produces no
reaction and no stress.  The user therefore never has to add supports.

* free body in plane strain / plane stress / generalized plane strain:
  node A (leftmost, then lowest) fixed in x and y; node B (farthest from A)
  fixed in the direction normal to AB.
* symmetry line (a named, straight, axis-aligned physical line): the normal
  displacement is zero on it; one node on it is held along it.  In
  generalized plane strain the out-of-plane strain gradient across the line
  (e1 for a vertical line, e2 for a horizontal one) is zero by symmetry.
* axisymmetric: u_r = 0 on the axis x = 0; one node is held axially.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import CaseError
from ..model import Model


@dataclass
class DofLayout:
    """Numbering of the unknowns and which of them are eliminated.

    Full numbering: node ``a`` component ``c`` -> ``2a + c``; global extra
    unknowns follow the nodal ones.  Free numbering skips fixed dofs.
    """

    n_nodes: int
    n_extra: int
    fixed: np.ndarray  # (n_full,) bool

    @property
    def n_full(self) -> int:
        return 2 * self.n_nodes + self.n_extra

    @property
    def free(self) -> np.ndarray:
        return np.flatnonzero(~self.fixed)

    @property
    def n_free(self) -> int:
        return int(np.count_nonzero(~self.fixed))

    def free_index(self) -> np.ndarray:
        """Map full dof -> free dof, -1 for fixed ones."""
        index = np.full(self.n_full, -1, dtype=np.int64)
        index[~self.fixed] = np.arange(self.n_free)
        return index

    def element_dofmap(self, elements: np.ndarray) -> np.ndarray:
        """(E, 12 + n_extra) free-dof map of the element unknowns."""
        E = elements.shape[0]
        nodal = (2 * elements[:, :, None] + np.arange(2)).reshape(E, 12)
        extra = np.broadcast_to(2 * self.n_nodes + np.arange(self.n_extra), (E, self.n_extra))
        return self.free_index()[np.hstack([nodal, extra])]

    def expand(self, u_free: np.ndarray) -> np.ndarray:
        """Full vector with zeros at the fixed dofs."""
        u = np.zeros(self.n_full)
        u[~self.fixed] = u_free
        return u


def _tolerance(model: Model) -> float:
    x0, y0, x1, y1 = model.bounding_box()
    return 1e-9 * max(x1 - x0, y1 - y0, 1e-12)


def line_orientation(model: Model, name: str) -> str:
    """'vertical' or 'horizontal' for a straight axis-aligned named line."""
    nodes = model.nodes[model.boundary_nodes(name)]
    tol = 1e3 * _tolerance(model)
    if np.ptp(nodes[:, 0]) <= tol:
        return "vertical"
    if np.ptp(nodes[:, 1]) <= tol:
        return "horizontal"
    raise CaseError(f"symmetry line '{name}' is not a straight vertical or horizontal line")


def supports(model: Model, kinematics: str, symmetry_line: str | None = None,
             candidates: np.ndarray | None = None) -> DofLayout:
    """Dof layout with the supports described in the module docstring.

    ``candidates`` (N,) bool: the nodes the point supports may use (in a
    process history, nodes of elements that exist through every step), so
    that no support ever holds a node that is not part of the body.
    """
    allowed = np.ones(model.n_nodes, dtype=bool) if candidates is None else np.asarray(candidates, dtype=bool)
    if not allowed.any():
        raise CaseError("no node exists through the whole process to hold the body against rigid motion")
    n_extra = 3 if kinematics == "generalized_plane_strain" else 0
    fixed = np.zeros(2 * model.n_nodes + n_extra, dtype=bool)
    x, y = model.nodes[:, 0], model.nodes[:, 1]
    tol = 1e3 * _tolerance(model)

    def fix(node: int, comp: int) -> None:
        fixed[2 * node + comp] = True

    if symmetry_line is not None and symmetry_line not in model.boundaries:
        raise CaseError(
            f"symmetry line '{symmetry_line}' is not a named line of the mesh; "
            f"lines: {', '.join(sorted(model.boundaries)) or 'none'}"
        )

    if kinematics == "axisymmetric":
        if x.min() < -tol:
            raise CaseError(
                f"axisymmetric model has nodes at negative radius (x = {x.min():g} mm); the axis is x = 0"
            )
        on_axis = np.flatnonzero(np.abs(x) <= tol)
        fixed[2 * on_axis] = True
        if symmetry_line is not None and line_orientation(model, symmetry_line) == "horizontal":
            nodes = model.boundary_nodes(symmetry_line)
            fixed[2 * nodes + 1] = True
        else:
            fix(int(_first(np.lexsort((y, x)), allowed)), 1)
        return DofLayout(model.n_nodes, n_extra, fixed)

    if symmetry_line is not None:
        nodes = model.boundary_nodes(symmetry_line)
        if line_orientation(model, symmetry_line) == "vertical":
            fixed[2 * nodes] = True
            fix(int(_first(nodes[np.argsort(y[nodes], kind="stable")], allowed)), 1)
            if n_extra:
                fixed[2 * model.n_nodes + 1] = True  # e1: antisymmetric in x
        else:
            fixed[2 * nodes + 1] = True
            fix(int(_first(nodes[np.argsort(x[nodes], kind="stable")], allowed)), 0)
            if n_extra:
                fixed[2 * model.n_nodes + 2] = True  # e2: antisymmetric in y
        return DofLayout(model.n_nodes, n_extra, fixed)

    a = int(_first(np.lexsort((y, x)), allowed))
    dist = np.where(allowed, np.hypot(x - x[a], y - y[a]), -1.0)
    b = int(np.argmax(dist))
    fix(a, 0)
    fix(a, 1)
    fix(b, 1 if abs(x[b] - x[a]) >= abs(y[b] - y[a]) else 0)
    return DofLayout(model.n_nodes, n_extra, fixed)


def _first(order: np.ndarray, allowed: np.ndarray) -> int:
    """The first node of ``order`` that is allowed."""
    ok = order[allowed[order]]
    if ok.size == 0:
        raise CaseError("no node on the symmetry line or axis exists through the whole process")
    return int(ok[0])
