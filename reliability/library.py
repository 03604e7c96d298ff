"""The material library: one TOML file per material in ``materials/``.

Names are matched case-insensitively, through the file stem, the ``name`` key
or any of the ``aliases``.  The directory defaults to the repository's
``materials/`` and can be moved with the ``RELIABILITY_MATERIALS`` environment
variable.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .errors import MaterialError
from .material import Material, parse_material

DEFAULT_DIR = Path(__file__).resolve().parent.parent / "materials"


def library_dir() -> Path:
    return Path(os.environ.get("RELIABILITY_MATERIALS", DEFAULT_DIR))


@dataclass(frozen=True)
class Library:
    """The library's materials by lower-case name/alias, and the files that failed to load.

    A broken file does not block the rest: a case that does not use it runs; one that does
    gets the file's own one-line error (looked up by its stem, ``name`` and ``aliases`` when
    the TOML itself could be read).
    """

    materials: dict[str, Material]
    broken: dict[str, str]  # lower-case name/alias -> one-line error naming the file
    broken_files: dict[str, str]  # file path -> one-line error


@lru_cache(maxsize=4)
def _load(directory: str) -> Library:
    found: dict[str, Material] = {}
    broken: dict[str, str] = {}
    broken_files: dict[str, str] = {}
    folder = Path(directory)
    if not folder.is_dir():
        raise MaterialError(f"material library folder {folder} does not exist")
    for path in sorted(folder.glob("*.toml")):
        names = {path.stem}
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
            message = f"{path}: not valid TOML ({exc})"
        else:
            names |= {str(n) for n in [data.get("name") or path.stem, *(data.get("aliases") or [])]
                      if isinstance(n, str)}
            try:
                mat = parse_material(path.stem, data, str(path))
            except MaterialError as exc:
                message = str(exc)
            else:
                for key in {path.stem, mat.name, *mat.spec.aliases}:
                    found[key.lower()] = mat
                continue
        broken_files[str(path)] = message
        for key in names:
            broken.setdefault(key.lower(), message)
    return Library(found, broken, broken_files)


def broken_files(directory: Path | None = None) -> dict[str, str]:
    """Library files that did not load, each with its one-line error."""
    return dict(_load(str(directory or library_dir())).broken_files)


def load_library(directory: Path | None = None) -> dict[str, Material]:
    """All library materials keyed by lower-case name and alias."""
    return _load(str(directory or library_dir())).materials


def material_names(directory: Path | None = None) -> list[str]:
    """Canonical names of the library materials, sorted."""
    return sorted({m.name for m in load_library(directory).values()}, key=str.lower)


def get_material(name: str, directory: Path | None = None) -> Material:
    """Look a material up by name or alias (case-insensitive)."""
    lib = _load(str(directory or library_dir()))
    key = name.lower()
    if key in lib.materials:
        return lib.materials[key]
    if key in lib.broken:
        raise MaterialError(f"material '{name}' cannot be used: {lib.broken[key]}")
    skipped = (f" (not loaded, broken: {', '.join(Path(p).name for p in lib.broken_files)})"
               if lib.broken_files else "")
    raise MaterialError(
        f"unknown material '{name}'; library has: {', '.join(material_names(directory))}{skipped}"
    )
