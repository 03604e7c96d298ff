"""What a package builder produces before meshing: shapes painted in order.

A family module describes its half cross-section (x >= 0, the symmetry line
at x = 0, y up, package bottom at y = 0) as a list of :class:`Shape` objects.
Overlaps are resolved like paint: where shapes overlap, the one with the
higher ``priority`` owns the area, and a shape with ``region=None`` is a void
that removes whatever lies below it (a solder-mask opening, the gap between a
pad and its mask).  :mod:`reliability.geometry.assemble` turns the list into
a conformal gmsh mesh with OpenCASCADE boolean fragments.

Priorities used by all families (higher wins) are the constants below.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .ball import TruncatedSphere

# paint order shared by the families
SOLDER = 5  # balls: below everything, so mask openings confine them and pads keep their shape
BODY = 10  # encapsulant / mold body, board laminate
LAYER = 20  # films: solder mask, dielectric, polyimide, insulation
DIE = 30  # die and chips
METAL = 40  # pads, traces, leads, vias, plugs
BUMP = 45  # flip-chip bumps
TOP = 60  # anything that must win (protective films on leads)
VOID = 70  # openings that remove everything below them


@dataclass
class Shape:
    """One piece of the section.

    ``outline`` is one of
    ``("rect", x0, y0, x1, y1)``, ``("poly", [(x, y), ...])`` or
    ``("ball", x_centre, y_top, TruncatedSphere)``.
    ``size`` is the target element size inside (mm); ``thickness`` the
    smallest dimension, used to put ``mesh.feature_elements`` elements through it.
    """

    region: str | None
    outline: tuple
    priority: int
    material: str | None = None
    size: float | None = None
    joint: "Joint | None" = None  # a solder joint's shape takes the joint's final name

    def mirrored(self, joint_map: dict | None = None) -> "Shape":
        kind = self.outline[0]
        if kind == "rect":
            _, x0, y0, x1, y1 = self.outline
            out = ("rect", -x1, y0, -x0, y1)
        elif kind == "poly":
            out = ("poly", [(-x, y) for x, y in reversed(self.outline[1])])
        else:
            _, xc, y_top, ball = self.outline
            out = ("ball", -xc, y_top, ball)
        joint = joint_map[id(self.joint)] if self.joint is not None and joint_map else None
        return Shape(self.region, out, self.priority, self.material, self.size, joint)


@dataclass
class Joint:
    """A solder joint between the package and the board (or a bump).

    ``name`` is final only after :meth:`Layout.finalize` numbers the joints
    from the package centre outward.
    """

    x: float  # centre, mm
    y_top: float  # package-side interface (pad) plane
    y_bottom: float  # board-side interface plane
    pad_top_mm: float  # wetted width at the package side
    pad_bottom_mm: float  # wetted width at the board side
    shape: TruncatedSphere | None = None  # None for a rectangular (lead) joint
    name: str = ""

    @property
    def dnp_mm(self) -> float:
        """Distance to the neutral point (the package centre, x = 0)."""
        return abs(self.x)


@dataclass
class Layout:
    """Shapes of a half section plus the bookkeeping the analyses need."""

    family: str
    shapes: list[Shape] = field(default_factory=list)
    joints: list[Joint] = field(default_factory=list)
    package_x: float = 0.0  # half width of the package body, mm
    package_bottom_y: float = 0.0
    package_top_y: float = 0.0
    board: bool = False
    info: dict = field(default_factory=dict)

    def add(self, region, outline, priority, material=None, size=None) -> Shape:
        shape = Shape(region, outline, priority, material, size)
        self.shapes.append(shape)
        return shape

    def rect(self, region, x0, y0, x1, y1, priority, material=None, size=None) -> Shape:
        return self.add(region, ("rect", min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)), priority,
                        material, size)

    def segmented(self, region, x0, x1, y0, y1, gaps, priority, material=None) -> None:
        """A layer from x0 to x1 with openings ``gaps`` = [(xa, xb), ...] left empty."""
        edges = [x0]
        for a, b in sorted(gaps):
            a, b = max(a, x0), min(b, x1)
            if b <= a:
                continue
            if a <= edges[-1] + 1e-9:
                edges[-1] = max(edges[-1], b)
                continue
            edges += [a, b]
        edges.append(x1)
        for a, b in zip(edges[::2], edges[1::2]):
            if b - a > 1e-9:
                self.rect(region, a, y0, b, y1, priority, material)

    def joint_shape(self, joint: Joint, outline, priority, material, size=None) -> Shape:
        """Add a solder joint and its shape; the region is named at :meth:`finalize`."""
        self.joints.append(joint)
        shape = Shape(None, outline, priority, material, size, joint)
        self.shapes.append(shape)
        return shape

    def finalize(self, half: bool) -> None:
        """Mirror for a full section and name the joints solder_1.. from the centre out."""
        if not half:
            joint_map = {id(j): Joint(-j.x, j.y_top, j.y_bottom, j.pad_top_mm, j.pad_bottom_mm, j.shape)
                         for j in self.joints}
            self.shapes = self.shapes + [s.mirrored(joint_map) for s in self.shapes]
            self.joints = self.joints + list(joint_map.values())
        self.joints.sort(key=lambda j: (round(abs(j.x), 9), j.x))
        for i, j in enumerate(self.joints, start=1):
            j.name = f"solder_{i}"
        for shape in self.shapes:
            if shape.joint is not None:
                shape.region = shape.joint.name
