"""The material library: one TOML file per material in ``materials/``.

Names are matched case-insensitively, through the file stem, the ``name`` key
or any of the ``aliases``.  The directory defaults to the repository's
``materials/`` and can be moved with the ``RELIABILITY_MATERIALS`` environment
variable.
"""

from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from pathlib import Path

from .errors import MaterialError
from .material import Material, parse_material

DEFAULT_DIR = Path(__file__).resolve().parent.parent / "materials"


def library_dir() -> Path:
    return Path(os.environ.get("RELIABILITY_MATERIALS", DEFAULT_DIR))


@lru_cache(maxsize=4)
def _load(directory: str) -> dict[str, Material]:
    found: dict[str, Material] = {}
    folder = Path(directory)
    if not folder.is_dir():
        raise MaterialError(f"material library folder {folder} does not exist")
    for path in sorted(folder.glob("*.toml")):
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise MaterialError(f"{path}: not valid TOML ({exc})") from None
        mat = parse_material(path.stem, data, str(path))
        for key in {path.stem, mat.name, *mat.spec.aliases}:
            found[key.lower()] = mat
    return found


def load_library(directory: Path | None = None) -> dict[str, Material]:
    """All library materials keyed by lower-case name and alias."""
    return _load(str(directory or library_dir()))


def material_names(directory: Path | None = None) -> list[str]:
    """Canonical names of the library materials, sorted."""
    return sorted({m.name for m in load_library(directory).values()}, key=str.lower)


def get_material(name: str, directory: Path | None = None) -> Material:
    """Look a material up by name or alias (case-insensitive)."""
    lib = load_library(directory)
    try:
        return lib[name.lower()]
    except KeyError:
        raise MaterialError(
            f"unknown material '{name}'; library has: {', '.join(material_names(directory))}"
        ) from None
