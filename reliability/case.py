"""Case files: TOML, validated by a schema, every error one line.

A case names its model (a mesh file, or a package family for a builder), the
material of every region, and the analysis.  Paths are relative to the case
file.  Unknown keys are errors, so a typo never silently falls back to a
default.  See README.md, "Case file reference", for every key.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Optional

import pydantic

from .errors import CaseError, MaterialError
from .fem.kinematics import KINEMATICS
from .geometry import DEFAULT_SECTION, FAMILIES
from .geometry import SECTIONS as SECTIONS_2D
from .geometry.estimate import DEFAULT_MAX_ELEMENTS
from .geometry.submodel_sizes import LOCAL_JOINT_MM, LOCAL_SIZE_MM
from .fem.solvers import SOLVERS
from .library import get_material
from .material import Material, parse_material
from .validation import STRICT, Number, PositiveNumber, format_error

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,79}$")


class CaseInfo(pydantic.BaseModel):
    model_config = STRICT
    name: str
    description: str = ""

    @pydantic.field_validator("name")
    @classmethod
    def _safe(cls, value: str) -> str:
        # the name becomes a directory and a file name: keep it to one safe path component, in ASCII so
        # that it is the same file name on every file system and shell (no Unicode normalisation forms)
        if not value.isascii():
            import unicodedata

            bad = next(ch for ch in value if not ch.isascii())
            plain = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
            hint = f" (e.g. {plain!r})" if _SAFE_NAME.match(plain) and plain not in (".", "..") else ""
            raise ValueError(
                f"must be ASCII, and {bad!r} (U+{ord(bad):04X}) is not: use 1-80 ASCII letters, digits, '_', '-', "
                f"'.', starting with a letter or digit{hint}"
            )
        if not _SAFE_NAME.match(value) or value in (".", ".."):
            raise ValueError(
                "must be 1-80 ASCII characters of letters, digits, '_', '-', '.', starting with a letter or digit"
            )
        return value


FAMILY_NAMES = tuple(FAMILIES)  # the one family registry: geometry/ registers, the schema reads


class GeometrySpec(pydantic.BaseModel):
    """Either a mesh file or a package family with its options.

    Family options (``backside``, ``rdl_layers``, ``bump``, ...) sit directly
    in ``[geometry]``; the family's own schema validates them, so an option
    the family does not have is an error naming the allowed ones.

    ``section``: the plane of the 2D section, ``"centre_line"`` (through the
    centre parallel to an edge: the row a warpage scan along an edge centre
    line sees) or ``"diagonal"`` (along the body diagonal, balls at pitch x
    sqrt(2), the corner joint in the model: the usual 2D practice for
    fatigue); only the ball-array families have the diagonal
    (reliability/geometry/__init__.py, ``section_dimensions``).
    """

    model_config = pydantic.ConfigDict(extra="allow")
    mesh: Optional[str] = None
    family: Optional[Literal[FAMILY_NAMES]] = None  # type: ignore[valid-type]
    warpage_surface: str = "bottom"
    symmetry_line: Optional[str] = None
    board: bool = True
    half: bool = True
    section: Literal[SECTIONS_2D] = DEFAULT_SECTION  # type: ignore[valid-type]
    # "section": the 2D half section (default); "quarter_3d": the family as a 3D quarter model of
    # 10-node tetrahedra (free package, linear thermo-elastic; docs/3d.md, reliability/geometry/quarter3d.py)
    model: Literal["section", "quarter_3d"] = "section"
    dimensions_mm: dict[str, object] = {}

    @pydantic.model_validator(mode="after")
    def _one_source(self):
        if (self.mesh is None) == (self.family is None):
            raise ValueError("give exactly one of geometry.mesh (a .msh file) or geometry.family (a package builder)")
        if self.mesh is not None:
            extra = sorted(self.model_extra or {})
            set_fields = self.model_fields_set & {"board", "half", "section", "dimensions_mm"}
            if extra or set_fields:
                raise ValueError(
                    f"'{(extra or sorted(set_fields))[0]}' is a package-builder key; a mesh-file geometry takes "
                    "mesh, warpage_surface, symmetry_line"
                )
        return self

    @property
    def options(self) -> dict:
        """The family options, with ``section`` when it is not the default (the builder request takes it
        from here: reliability.geometry.parse_request)."""
        extra = dict(self.model_extra or {})
        if self.section != DEFAULT_SECTION:
            extra["section"] = self.section
        return extra


class SubmodelSpec(pydantic.BaseModel):
    """Global-local thermal cycling of a quarter_3d assembly (docs/3d.md): every joint coarse in the global
    model (mesh.size_mm, mesh.joint_size_mm, defaults 0.6 and 0.3 mm with a submodel), then the candidate
    joints fine, each in a local block of one pitch driven by the global displacements on its cut faces."""

    model_config = STRICT
    joint_size_mm: PositiveNumber = LOCAL_JOINT_MM  # the local joint (converged there: submodel_sizes)
    size_mm: PositiveNumber = LOCAL_SIZE_MM  # the local block away from the joint
    # local models: the joints with the N largest global dW, and the corner ball (largest DNP) always
    candidates: int = pydantic.Field(4, ge=1, le=32)


class MeshSpec(pydantic.BaseModel):
    """Element sizes of a built section (mm)."""

    model_config = STRICT
    size_mm: PositiveNumber = 0.05  # package parts
    joint_size_mm: PositiveNumber = 0.00625  # solder joints' interface layers: 4 elements across 0.025 mm
    board_size_mm: PositiveNumber = 0.2  # the PCB laminate
    # 6-node elements across the thickness of a thin package feature (trace, mask, pad, film): one
    # already bends exactly (quadratic displacement); 2 gives the finer meshes of GEOMETRY_VERSION 2
    feature_elements: int = pydantic.Field(1, ge=1, le=8)
    interface_layer_mm: Optional[PositiveNumber] = None  # refined band at each pad; default: fatigue.interface_layer_mm
    # refuse to mesh a built section whose element count, estimated from the dimensions and the sizes
    # before gmsh meshes (reliability/geometry/estimate.py, within 10 % of the real count), is above
    # this; the default is sized for a 2-core, 23 GB machine (see DEFAULT_MAX_ELEMENTS)
    max_elements: int = pydantic.Field(DEFAULT_MAX_ELEMENTS, ge=1)
    submodel: Optional[SubmodelSpec] = None  # quarter_3d with board only: global-local cycling


JEDEC_LETTERS = ("A", "B", "C", "G", "H", "I", "J", "K", "L", "M", "N")


class CyclingSpec(pydantic.BaseModel):
    """JESD22-A104 thermal cycling (physics.md 4.1): a condition letter or explicit extremes."""

    model_config = STRICT
    jedec: Optional[Literal[JEDEC_LETTERS]] = None  # type: ignore[valid-type]
    t_min_C: Optional[Number] = None
    t_max_C: Optional[Number] = None
    ramp_min: PositiveNumber = 15.0
    dwell_min: PositiveNumber = 15.0
    cycles: int = pydantic.Field(3, ge=1, le=50)
    cooldown: bool = True  # start stress-free at the stress-free temperature and cool to T_min
    increments_per_ramp: int = pydantic.Field(12, ge=2, le=1000)
    increments_per_dwell: int = pydantic.Field(8, ge=1, le=1000)
    max_cutbacks: int = pydantic.Field(8, ge=0, le=30)
    tolerance: PositiveNumber = 1e-5  # Newton: ||R|| <= tolerance * ||sum |f_e| ||
    newton: Literal["bfgs", "full"] = "bfgs"  # quasi-Newton on a kept factor, or a factorization every step

    @pydantic.model_validator(mode="after")
    def _extremes(self):
        if self.jedec is None and (self.t_min_C is None or self.t_max_C is None):
            raise ValueError("give jedec = \"G\" (a JESD22-A104 condition letter) or both t_min_C and t_max_C")
        lo, hi = self.extremes()
        if not lo < hi:
            raise ValueError(f"t_min_C ({lo:g}) must be below t_max_C ({hi:g})")
        if lo < -273.15 or hi > 1000:
            raise ValueError("cycling temperatures must lie between -273.15 and 1000 C")
        return self

    def extremes(self) -> tuple[float, float]:
        from .analysis.profile import JEDEC

        lo, hi = (JEDEC[self.jedec][:2] if self.jedec else (None, None))
        return (self.t_min_C if self.t_min_C is not None else lo, self.t_max_C if self.t_max_C is not None else hi)


class AnalysisSpec(pydantic.BaseModel):
    model_config = STRICT
    # required for a 2D section; does not apply to geometry.model = "quarter_3d" (checked in _check_model_3d)
    kinematics: Optional[Literal[KINEMATICS]] = None  # type: ignore[valid-type]
    # one stress-free temperature for every material: only with process.sequence = "none"
    stress_free_temperature_C: Optional[Number] = None
    temperatures_C: Optional[list[Number]] = None
    solver: Literal[SOLVERS] = "auto"  # type: ignore[valid-type]
    cycling: Optional[CyclingSpec] = None

    @pydantic.model_validator(mode="after")
    def _something_to_do(self):
        if self.temperatures_C is None:
            if self.cycling is None:
                raise ValueError("give temperatures_C (thermo-elastic warpage) and/or [analysis.cycling]")
            lo, hi = self.cycling.extremes()
            self.temperatures_C = sorted({lo, 25.0, hi})
        elif len(self.temperatures_C) == 0:
            raise ValueError("temperatures_C needs at least one temperature")
        return self

    @pydantic.field_validator("stress_free_temperature_C")
    @classmethod
    def _sft(cls, value: float | None) -> float | None:
        if value is not None and not -273.15 < value < 1000:
            raise ValueError("must be a temperature in degrees C between -273.15 and 1000")
        return value

    @pydantic.field_validator("temperatures_C")
    @classmethod
    def _temps(cls, values: list[float] | None) -> list[float] | None:
        for v in values or []:
            if not -273.15 < v < 1000:
                raise ValueError(f"{v:g} is not a temperature in degrees C between -273.15 and 1000")
        return values


SEQUENCES = ("claimed", "none")


class ProcessSpec(pydantic.BaseModel):
    """The fabrication history before the analysis (docs/process_history.md).

    ``sequence = "claimed"`` (the default of a family case) runs the family's
    claimed fabrication method as steps; ``"none"`` is one stress-free
    temperature for every material (``analysis.stress_free_temperature_C``).
    Giving ``steps`` replaces the claimed sequence; each step table is
    validated by its kind's schema (reliability/process/steps.py) when the
    case is read."""

    model_config = STRICT
    sequence: Optional[Literal[SEQUENCES]] = None  # type: ignore[valid-type]
    initial_C: Optional[Number] = None  # where the process starts (claimed: the first stage's temperature)
    steps: Optional[list[dict]] = None
    max_step_K: PositiveNumber = 10.0  # largest temperature increment inside a step (K)
    # Newton tolerance of the history's inelastic increments, ||R|| <= tolerance * ||sum |f_e| ||; default
    # 1e-7 (reliability.process.history.TOLERANCE), with the ramp predictor: the main job's warpage within
    # 0.003 um of a 1e-8 reference, where the cycling's 1e-5 left up to 0.67 um (the reflow curve 28 % off at
    # 150 C).  With RELIABILITY_PROCESS_PREDICTOR=0 (the old path) the default is the cycling's tolerance
    tolerance: Optional[PositiveNumber] = None
    reflow_peak_C: Number = 260.0  # the free package's warpage curve 25 -> peak -> 25 C (JESD22-B112)
    reflow_curve: Optional[bool] = None  # the free package's reflow warpage curve; default: family cases

    @pydantic.field_validator("initial_C", "reflow_peak_C")
    @classmethod
    def _temperature(cls, value: float | None) -> float | None:
        if value is not None and not -273.15 < value < 1000:
            raise ValueError("must be a temperature in degrees C between -273.15 and 1000")
        return value

    @pydantic.field_validator("steps")
    @classmethod
    def _some(cls, value):
        if value is not None and len(value) == 0:
            raise ValueError("give at least one step, or leave process.steps out")
        return value


FATIGUE_MODELS = ("darveaux", "syed", "engelmaier", "morrow", "coffin_manson")
DEFAULT_FATIGUE_MODELS = ("darveaux", "syed", "engelmaier")


def calibration_file(value: str, case_path: str | Path | None) -> Path:
    """The file ``[fatigue] calibration = value`` names: an absolute path as given; a relative one next to
    the case file (``case_path``) first, then in the current directory.  The path is returned as built, not
    resolved (a case file in the current folder: ``calibrations/x.toml`` itself), so messages and the
    summary show what the case says.  None is a regular file: a one-line :class:`CaseError` naming every
    place tried."""
    given = Path(value)
    tried = [given] if given.is_absolute() or case_path is None else [Path(case_path).parent / given, given]
    tried = [p for i, p in enumerate(tried) if os.path.abspath(p) not in map(os.path.abspath, tried[:i])]
    for p in tried:
        if p.is_file():
            return p
    if len(tried) == 2:
        where = f"looked for {tried[0]} next to the case file, then {tried[1]} in the current directory {Path.cwd()}"
    elif given.is_absolute():
        where = f"looked for {given}"
    else:
        where = f"looked for {given} in the current directory {Path.cwd()}"
        if case_path is not None:
            where += ", the case file's folder"
    raise CaseError(f"calibration file does not exist ({where}; write one with `reliability calibrate "
                    "CALIBRATION.toml`)")


class FatigueCaseSpec(pydantic.BaseModel):
    """Which fatigue models to evaluate, Darveaux's averaging layer, and the calibration cited.

    ``calibration``: a file written by ``reliability calibrate`` (docs/fatigue.md), absolute, or relative
    to the case file's folder and, when it is not there, to the current directory (where ``reliability
    calibrate`` wrote ``calibrations/NAME.toml``); see :func:`calibration_file`.  Its fitted constants
    replace the solder's literature constants, and the lives carry its name and scatter band."""

    model_config = STRICT
    models: list[Literal[FATIGUE_MODELS]] = list(DEFAULT_FATIGUE_MODELS)  # type: ignore[valid-type]
    interface_layer_mm: PositiveNumber = 0.025
    calibration: Optional[str] = None

    @pydantic.field_validator("calibration")
    @classmethod
    def _readable(cls, value: str | None, info: pydantic.ValidationInfo) -> str | None:
        from .analysis.calibration import load_calibration

        if value is not None:
            try:
                load_calibration(calibration_file(value, (info.context or {}).get("case_path")))
            except CaseError as exc:
                raise ValueError(str(exc)) from None
        return value  # as written: the summary and the provenance keep the case's own words

    _calibration_data: object = pydantic.PrivateAttr(default=None)

    @pydantic.model_validator(mode="after")
    def _load_calibration(self, info: pydantic.ValidationInfo):
        from .analysis.calibration import load_calibration

        self._calibration_data = None if self.calibration is None else load_calibration(
            calibration_file(self.calibration, (info.context or {}).get("case_path")))
        return self

    @property
    def calibration_data(self):
        """The cited calibration (:class:`reliability.analysis.calibration.Calibration`), or None."""
        return self._calibration_data


class OutputSpec(pydantic.BaseModel):
    model_config = STRICT
    plots: bool = True
    vtu: bool = True
    magnification: Optional[PositiveNumber] = None


class CaseSpec(pydantic.BaseModel):
    """Top level of a case file."""

    model_config = STRICT
    case: CaseInfo
    geometry: GeometrySpec
    materials: dict[str, str] = {}
    analysis: AnalysisSpec
    process: ProcessSpec = ProcessSpec()
    fatigue: FatigueCaseSpec = FatigueCaseSpec()
    mesh: MeshSpec = MeshSpec()
    output: OutputSpec = OutputSpec()


@dataclass
class Case:
    """A validated case file with its inline materials built."""

    path: Path
    spec: CaseSpec
    defined: dict[str, Material] = field(default_factory=dict)
    raw: dict = field(default_factory=dict, repr=False)
    steps: Optional[list] = None  # the case's own process steps, parsed (None: claimed or no process)

    @property
    def name(self) -> str:
        return self.spec.case.name

    @property
    def sequence(self) -> str:
        """``"claimed"``, ``"steps"`` (the case's own) or ``"none"`` (one stress-free temperature)."""
        p = self.spec.process
        if p.sequence == "none":
            return "none"
        if p.steps is not None:
            return "steps"
        return "claimed" if self.spec.geometry.family else "none"

    @property
    def has_process(self) -> bool:
        return self.sequence != "none"

    @property
    def folder(self) -> Path:
        return self.path.parent

    def resolve_path(self, relative: str) -> Path:
        return (self.folder / relative).resolve()

    def error(self, key: str, value, problem: str) -> CaseError:
        """A one-line :class:`CaseError` about ``key = value`` in this file."""
        return CaseError(f"{self.path}: {key} = {value!r}: {problem}")

    def material(self, name: str, key: str) -> Material:
        """Inline definition first, then the library; error names the case key."""
        if name in self.defined:
            return self.defined[name]
        try:
            return get_material(name)
        except MaterialError as exc:
            raise self.error(key, name, str(exc)) from None


def read_toml(path: Path) -> dict:
    """Parse a TOML file; any problem becomes a one-line :class:`CaseError`.

    A path that is not a readable regular file (missing, a broken link or a
    link loop, a directory, a device, a FIFO) says which, rather than "does
    not exist" about something that exists; a FIFO or /dev/zero is never
    opened, so nothing blocks or reads forever.
    """
    from .mesh import path_problem, shown

    path = Path(path)
    problem = path_problem(path, "TOML file")
    if problem == "does not exist":
        raise CaseError(f"{path}: case file does not exist")
    if problem:
        raise CaseError(f"{shown(path)}: {problem}; give a .toml file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise CaseError(f"{path}: not a text file in UTF-8 (byte {exc.start}: {exc.reason}); give a .toml "
                        "file") from None
    except OSError as exc:
        raise CaseError(f"{path}: cannot read ({type(exc).__name__}: {exc.strerror or exc})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CaseError(f"{path}: not valid TOML: {exc}") from None


def load_case(path: str | Path) -> Case:
    """Read and validate a case file."""
    path = Path(path)
    raw = read_toml(path)
    return case_from_dict(raw, path)


def case_from_dict(raw: dict, path: Path) -> Case:
    """Validate already-parsed case data (used by sweeps for generated cases)."""
    data = dict(raw)
    materials = data.get("materials", {})
    defined: dict[str, Material] = {}
    if isinstance(materials, dict) and "define" in materials:
        materials = dict(materials)
        define = materials.pop("define")
        if not isinstance(define, dict):
            raise CaseError(f"{path}: materials.define must be a table of material tables")
        for name, mdata in define.items():
            if not isinstance(mdata, dict):
                raise CaseError(f"{path}: materials.define.{name} must be a table (E_MPa = ..., nu = ...)")
            try:
                defined[name] = parse_material(
                    name, mdata, f"{path}", key_prefix=f"materials.define.{name}"
                )
            except MaterialError as exc:
                raise CaseError(str(exc)) from None
        data["materials"] = materials
    try:
        spec = CaseSpec.model_validate(data, context={"case_path": path})  # relative files: next to it
    except pydantic.ValidationError as err:
        raise CaseError(format_error(err, path, CaseSpec)) from None
    case = Case(path=path, spec=spec, defined=defined, raw=raw)
    _check_model_3d(case)
    case.steps = _parse_steps(case)
    return case


def _check_model_3d(case: Case) -> None:
    """``geometry.model``: a section needs its kinematics; a quarter_3d model refuses what does not apply."""
    g, a, path = case.spec.geometry, case.spec.analysis, case.path
    if g.model == "section":
        if a.kinematics is None:
            raise CaseError(f"{path}: missing required key 'analysis.kinematics'")
        if case.spec.mesh.submodel is not None:
            raise CaseError(f"{path}: [mesh.submodel]: the global-local submodel is a 3D assembly's; it needs "
                            "geometry.model = \"quarter_3d\" with board = true (a section meshes every joint "
                            "finely already); remove [mesh.submodel]")
        return
    from .analysis.quarter3d import check_quarter_case

    check_quarter_case(case)


def _parse_steps(case: Case) -> list | None:
    """The case's own process steps, each validated by its kind's schema; checks how the process and the
    single stress-free temperature combine."""
    from .process.steps import STEP_KINDS, parse_step

    p, a, path = case.spec.process, case.spec.analysis, case.path
    given = "sequence" in p.model_fields_set
    if case.sequence == "none" and "tolerance" in p.model_fields_set:
        raise CaseError(f"{path}: process.tolerance = {p.tolerance:g}: sequence = \"none\" runs no process history "
                        "to solve; remove the key (the cycling's tolerance is analysis.cycling.tolerance)")
    if p.sequence == "none" and p.steps is not None:
        raise CaseError(f"{path}: process.steps: sequence = \"none\" runs no steps; remove the steps or the "
                        "sequence line")
    if p.sequence == "claimed" and given and case.spec.geometry.family is None and p.steps is None:
        raise CaseError(f"{path}: process.sequence = 'claimed': a mesh-file case has no claimed fabrication "
                        "sequence; give process.steps, or sequence = \"none\"")
    if case.has_process and a.stress_free_temperature_C is not None:
        raise CaseError(f"{path}: analysis.stress_free_temperature_C = {a.stress_free_temperature_C:g}: this case "
                        f"runs a process history ({case.sequence} sequence), which sets every region's stress-free "
                        "state; remove the key, or set [process] sequence = \"none\" for one stress-free "
                        "temperature")
    if not case.has_process and a.stress_free_temperature_C is None:
        raise CaseError(f"{path}: missing required key 'analysis.stress_free_temperature_C' (a case without a "
                        "process history needs its one stress-free temperature)")
    if p.steps is None:
        if p.initial_C is not None and case.sequence == "none":
            raise CaseError(f"{path}: process.initial_C = {p.initial_C:g}: there is no process to start")
        return None
    if p.initial_C is None:
        raise CaseError(f"{path}: missing required key 'process.initial_C' (where the given steps start; regions "
                        "no step activates exist from the start, stress-free there)")
    steps = []
    for i, data in enumerate(p.steps):
        where = f"process.steps[{i}]"
        try:
            steps.append(parse_step(data))
        except pydantic.ValidationError as err:
            raise CaseError(format_error(err, path, STEP_KINDS[data["kind"]], prefix=where)) from None
        except ValueError as exc:
            raise CaseError(f"{path}: {where}.{exc}") from None
    return steps
