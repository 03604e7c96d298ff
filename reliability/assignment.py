"""Which material every region gets.

A case's ``[materials]`` table maps a region name, or a region-name prefix
(``solder`` covers ``solder_1``, ``solder_2``, ...), to a material name.  An
exact name wins over a prefix, a longer prefix over a shorter one.  Regions
that the case does not mention take the default material their builder gave
them; a region with neither is an error, and so is a case key that matches
no region (a typo).
"""

from __future__ import annotations

from .case import Case
from .errors import CaseError
from .material import Material
from .model import Model


def _matches(key: str, region: str) -> bool:
    """``solder`` matches ``solder`` and ``solder_3``, not ``solder_mask``."""
    if region == key:
        return True
    head, _, tail = region.rpartition("_")
    return head == key and tail.isdigit()


def resolve_materials(
    case: Case, model: Model, defaults: dict[str, str] | None = None, strict: bool = True
) -> dict[str, Material]:
    """Material object for every region of ``model``.

    ``strict``: a case key that matches no region is an error (off for a
    section that legitimately lacks some regions, e.g. the free package).
    """
    defaults = defaults or {}
    requested = case.spec.materials
    for key in requested:
        if strict and not any(_matches(key, r) for r in model.region_names):
            raise case.error(
                f"materials.{key}",
                requested[key],
                f"no region '{key}' in the model; regions: {', '.join(model.region_names)}",
            )
    out: dict[str, Material] = {}
    for region in model.region_names:
        keys = [k for k in requested if _matches(k, region)]
        if keys:
            key = max(keys, key=lambda k: (k == region, len(k)))
            out[region] = case.material(requested[key], f"materials.{key}")
        elif region in defaults:
            out[region] = case.material(defaults[region], f"(default material of region {region})")
        else:
            raise CaseError(
                f"{case.path}: region '{region}' of the mesh has no material; add materials.{region} = \"<name>\""
            )
    return out


def check_temperature_range(case: Case, assignment: dict[str, Material], temps, key: str) -> None:
    """Every temperature the analysis visits must lie in every material's data."""
    temps = [float(t) for t in temps]
    for region, mat in assignment.items():
        lo, hi = mat.range_C
        for t in temps:
            if not (lo - 1e-9 <= t <= hi + 1e-9):
                raise case.error(
                    key,
                    t,
                    f"outside the data of material '{mat.name}' (region {region}): {lo:g} to {hi:g} C",
                )
