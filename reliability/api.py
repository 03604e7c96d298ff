"""The Python API: load a case, override keys, run it, read its results, run a sweep.

    import reliability

    case = reliability.load("cases/bimetal.toml")          # a case file, or a dict of its tables
    res = case.with_overrides({"analysis.temperatures_C": [-40, 125]}).run(out="results/bi")
    res["warpage_um@125C"]                                  # a value; res.metrics lists them with units
    res.temperatures                                        # pandas DataFrame, one row per temperature

Everything here is what ``reliability run`` and ``reliability sweep`` do, reached from Python: the case
is validated like a case file (one-line :class:`reliability.errors.CaseError` naming the key), run by
:func:`reliability.run.run_case` into a results folder, and read back from that folder
(``summary.json``, ``fields*.pvd`` + ``.vtu``, ``plots/*.png``), so :meth:`Results.open` of a folder
written by the CLI gives the same object.  See ``docs/api.md``.

Units, as everywhere in the project: mm, N, MPa, tonne, s, degrees C; warpage and coplanarity in
micrometres.  Every table column and metric name carries its unit (``warpage_um``, ``T_C``,
``von_mises_max_MPa[die]``, ``dW_last_cycle_MPa``); :attr:`Results.metrics` also has a ``unit`` column.
"""

from __future__ import annotations

import copy
import hashlib
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Optional, Union

from .case import case_from_dict, read_toml
from .errors import CaseError
from .sections import MESH_DIR, preflight

PathLike = Union[str, Path]

__all__ = ["Case", "Results", "SweepResults", "load", "sweep_plan", "sweep_run"]


def _plain(value):
    """numpy scalars and arrays (a notebook's values) as the TOML writer's bool/int/float/str/list."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):  # numpy scalar or array
        return _plain(value.tolist())
    if isinstance(value, Path):
        return str(value)
    return value


class Case:
    """A validated case: the tables of a case file as a dict, ready to override and run.

    Build one with :func:`load`.  A relative ``geometry.mesh`` is made absolute against the case
    file's folder (or the ``folder`` given to :func:`load` for a dict), so the case runs from anywhere.
    Objects are immutable: :meth:`with_overrides` returns a new case.
    """

    def __init__(self, data: dict, folder: Path, label: str):
        from .sweep import _absolute_paths

        self._folder = Path(folder).resolve()
        self._label = label
        self._data = _absolute_paths(_plain(data), self._folder)
        self._case = case_from_dict(copy.deepcopy(self._data), Path(label))
        preflight(self._case)  # materials exist, family dimensions parse, the mesh file exists

    @property
    def name(self) -> str:
        """``case.name``: the default results folder is ``results/<name>``."""
        return self._case.name

    @property
    def data(self) -> dict:
        """A copy of the case's tables (``{"case": {...}, "geometry": {...}, ...}``)."""
        return copy.deepcopy(self._data)

    @property
    def spec(self):
        """The validated :class:`reliability.case.CaseSpec` (defaults filled in), read-only."""
        return self._case.spec

    def with_overrides(self, overrides: Mapping[str, Any], name: Optional[str] = None) -> "Case":
        """A new case with dotted keys set, e.g. ``{"geometry.dimensions_mm.die_thickness": 0.2,
        "materials.mold": "emc-standard", "mesh.size_mm": 0.1}`` (values in the case file's units:
        mm, C, ...); a table value replaces the table.  ``name`` renames the case.  The result is
        validated: a bad key or value raises a one-line CaseError naming it.
        """
        from .sweep import _set

        data = copy.deepcopy(self._data)
        for key, value in overrides.items():
            if not isinstance(key, str) or not key or any(not p for p in key.split(".")):
                raise CaseError(f"{self._label}: override key {key!r} is not a dotted case key")
            _set(data, key, _plain(value))
        if name is not None:
            data.setdefault("case", {})["name"] = name
        label = self._label if self._label.endswith("(with overrides)") else f"{self._label} (with overrides)"
        return Case(data, self._folder, label)

    def to_toml(self) -> str:
        """The case as TOML text (a case file; the mesh path absolute)."""
        from .sweep import to_toml

        return to_toml(self._data)

    def write(self, path: PathLike) -> Path:
        """Write the case file to ``path``; returns the path."""
        from .post.files import atomic_write_text

        path = Path(path)
        try:
            atomic_write_text(path, self.to_toml())
        except OSError as exc:
            raise CaseError(f"{path}: cannot write the case file ({exc.strerror or type(exc).__name__})") from None
        return path

    def run(self, out: Optional[PathLike] = None, progress: bool = False, mesh_dir: Optional[PathLike] = None,
            resume: bool = False) -> "Results":
        """Solve the case into ``out`` (default ``results/<name>``) and return its :class:`Results`.

        The case as run is written first to ``out/case-<content hash>.toml`` (named in
        ``summary.json`` as ``case_file``; a different override gets a different file).  ``progress``:
        the progress bars of ``reliability run``.  ``mesh_dir``: the cache of built meshes (default
        ``meshes``, as the CLI).  ``resume``: continue a killed thermal-cycling run from
        ``out/checkpoint.npz``.
        """
        from .post.outdir import check_writable
        from .run import run_case

        out = Path(out) if out is not None else Path("results") / self.name
        text = self.to_toml()
        check_writable(out)
        case_file = out / f"case-{hashlib.sha256(text.encode()).hexdigest()[:10]}.toml"
        self.write(case_file)
        summary = run_case(case_file, out, progress=progress,
                           mesh_dir=Path(mesh_dir) if mesh_dir is not None else MESH_DIR, resume=resume)
        return Results(out, summary)

    def __repr__(self) -> str:
        return f"reliability.Case({self.name!r}, from {self._label})"


def load(source: Union[PathLike, Mapping, Case], folder: Optional[PathLike] = None) -> Case:
    """A :class:`Case` from a case file (TOML), or from a dict of the same tables.

    For a dict, a relative ``geometry.mesh`` is read from ``folder`` (default: the current folder).
    Raises a one-line :class:`reliability.errors.CaseError` for a missing file or a bad key or value.
    """
    if isinstance(source, Case):
        return source
    if isinstance(source, Mapping):
        return Case(copy.deepcopy(dict(source)), Path(folder) if folder is not None else Path.cwd(), "<case dict>")
    path = Path(source)
    return Case(read_toml(path), path.parent, str(path))


def _flat(row: Mapping) -> dict:
    """One table row from a summary record: ``{k: {q: v}}`` -> ``k[q]``, ``{k: {q: {f: v}}}`` -> ``k_f[q]``;
    lists (per-cycle records) are left out."""
    out: dict[str, Any] = {}
    for k, v in row.items():
        if isinstance(v, Mapping):
            for q, w in v.items():
                if isinstance(w, Mapping):
                    for f, x in w.items():
                        if not isinstance(x, (Mapping, list)):
                            out[f"{k}_{f}[{q}]"] = x
                elif not isinstance(w, list):
                    out[f"{k}[{q}]"] = w
        elif not isinstance(v, list):
            out[k] = v
    return out


class Results:
    """A results folder of one run (``reliability run`` or :meth:`Case.run`) and its ``summary.json``.

    Tables are pandas DataFrames whose column names keep the units of ``summary.json``
    (``warpage_um``, ``coplanarity_um``, ``T_C``, ``time_s``, ``von_mises_max_MPa[<region>]``); an
    output the run does not have (no process history, no cycling) is an empty DataFrame.
    """

    def __init__(self, folder: PathLike, summary: Optional[dict] = None):
        self.folder = Path(folder)
        if summary is None:
            import json

            path = self.folder / "summary.json"
            if not path.is_file():
                raise CaseError(f"{self.folder}: no summary.json (not a results folder of a run)")
            try:
                summary = json.loads(path.read_text())
            except (OSError, ValueError) as exc:
                raise CaseError(f"{path}: cannot read ({type(exc).__name__})") from None
        self.summary: dict = summary
        """summary.json as a dict (every key carries its unit)."""

    @classmethod
    def open(cls, folder: PathLike) -> "Results":
        """The results in ``folder`` (a folder written by a run); a one-line CaseError if it is not one."""
        return cls(folder)

    @property
    def name(self) -> str:
        return self.summary.get("case", self.folder.name)

    @property
    def complete(self) -> bool:
        """False when the thermal cycling was interrupted or failed (``cycling.status`` not "complete")."""
        cyc = self.summary.get("cycling")
        return cyc is None or cyc.get("status") == "complete"

    @property
    def metrics(self):
        """Every output as one row: index = the flat key of :mod:`reliability.results`
        (``warpage_um@125C``, ``von_mises_max_MPa[die]``, ``dW_critical_MPa_per_cycle``,
        ``life_N63.2_cycles[darveaux]``), columns ``value`` and ``unit`` ("um", "MPa", "cycles",
        "1" for dimensionless, None for text)."""
        import pandas as pd

        from .results import metric_of, metrics

        flat = metrics(self.summary)
        df = pd.DataFrame({"value": pd.Series(list(flat.values()), index=list(flat), dtype=object),
                           "unit": pd.Series([metric_of(k).unit for k in flat], index=list(flat), dtype=object)})
        df.index.name = "metric"
        return df

    def __getitem__(self, key: str):
        """The value of one metric, e.g. ``res["warpage_um@125C"]`` (um); KeyError names the valid keys."""
        from .results import metrics

        flat = metrics(self.summary)
        if key not in flat:
            raise KeyError(f"{key!r} is not an output of this run; outputs: {', '.join(flat)}")
        return flat[key]

    @property
    def temperatures(self):
        """One row per reported temperature: ``T_C``, ``warpage_um``, ``coplanarity_um``,
        ``curvature_per_mm``, ``von_mises_max_MPa[<region>]``, ``assembly_warpage_um`` (with a board),
        ``delta_T_K`` (one stress-free temperature) ..."""
        import pandas as pd

        return pd.DataFrame([_flat(r) for r in self.summary.get("temperatures", [])])

    @property
    def process_steps(self):
        """One row per process step and section (``section`` = "package" or "assembly"): ``index``,
        ``kind``, ``description``, ``T_C`` and ``time_s`` at its end, ``warpage_um``, ``coplanarity_um``,
        ``von_mises_max_MPa[<region>]``; the package rows are ``summary["process"]["steps"]``."""
        import pandas as pd

        proc = self.summary.get("process") or {}
        rows = [{"section": role, **_flat(st)} for role, sec in (proc.get("sections") or {}).items()
                for st in sec.get("steps", [])]
        if not rows:  # an older summary: the package steps only
            rows = [{"section": "package", **_flat(st)} for st in proc.get("steps", [])]
        return pd.DataFrame(rows)

    @property
    def reflow_curve(self):
        """Warpage against temperature through reflow (JESD22-B112 points): ``branch`` (heating,
        cooling), ``T_C``, ``warpage_um``, ``coplanarity_um``, ``limit_um`` and ``pass`` (ED-7306)."""
        import pandas as pd

        curve = (self.summary.get("process") or {}).get("warpage_vs_temperature") or {}
        return pd.DataFrame([_flat(p) for p in curve.get("points", [])])

    @property
    def joints(self):
        """One row per solder joint (inner to outer): geometry (``x_mm``, ``dnp_mm``, ``pad_package_mm``,
        ``standoff_mm``, ...) and, after thermal cycling, ``dW_last_cycle_MPa`` (MPa per cycle, the
        critical interface's), ``critical_interface``, ``cycles``, ``critical`` (the critical joint) and
        the lives ``life_N63_2_cycles[<model>]``, ``life_N1_cycles[<model>]`` (cycles)."""
        import pandas as pd

        geometry = {j["name"]: j for j in self.summary.get("joints", [])}
        cyc = self.summary.get("cycling") or {}
        cycled = {j["name"]: j for j in cyc.get("joints", [])}
        critical = (cyc.get("critical_joint") or {}).get("name")
        rows = []
        for name in list(cycled) or list(geometry):
            row = {"name": name, **_flat(geometry.get(name, {}))}
            if name in cycled:
                row.update(_flat(cycled[name]))
                row["cycles"] = len(cycled[name].get("cycles", []))
                row["critical"] = name == critical
            rows.append(row)
        return pd.DataFrame(rows)

    @property
    def joint_cycles(self):
        """One row per joint and cycle: ``name``, ``cycle``, ``dW_package_MPa``, ``dW_board_MPa`` (MPa per
        cycle), ``inelastic_strain_package``, ``inelastic_strain_board``, ``inelastic_strain_max``."""
        import pandas as pd

        cyc = self.summary.get("cycling") or {}
        return pd.DataFrame([{"name": j["name"], **r} for j in cyc.get("joints", []) for r in j.get("cycles", [])])

    def fields(self, which: str = "fields") -> list:
        """The ``.vtu`` files of ``<which>.pvd`` as meshio meshes, in load-step order.

        ``which``: "fields" (the primary section: the assembly with a board, else the package; one
        mesh per temperature of analysis.temperatures_C), "fields_package" (the free package beside
        an assembly), "fields_process_end" (the state after the process history).  Points in mm;
        point data ``displacement_mm`` (x, y, 0) and ``von_mises_MPa``; cell data the element means
        ``stress_xx_MPa`` ... ``von_mises_MPa``, ``temperature_C`` and the integer ``region``.
        """
        import meshio

        pvd = self.folder / (which if which.endswith(".pvd") else f"{which}.pvd")
        if not pvd.is_file():
            have = ", ".join(sorted(p.stem for p in self.folder.glob("*.pvd"))) or "none (output.vtu = false?)"
            raise CaseError(f"{pvd}: no such field collection; this run has: {have}")
        try:
            files = [d.get("file") for d in ET.parse(pvd).getroot().iter("DataSet")]
        except ET.ParseError as exc:
            raise CaseError(f"{pvd}: not a ParaView collection ({exc})") from None
        return [meshio.read(self.folder / f) for f in files]

    @property
    def plots(self) -> list[Path]:
        """The PNG files of the run (``plots/*.png``), sorted by name."""
        return sorted((self.folder / "plots").glob("*.png"))

    @property
    def case(self) -> Optional[Case]:
        """The case the run came from (``summary["case_file"]``), None if that file is gone."""
        path = Path(self.summary.get("case_file", ""))
        if not path.is_absolute() and not path.is_file():
            path = self.folder / path.name
        return load(path) if path.is_file() else None

    def __repr__(self) -> str:
        return f"reliability.Results({str(self.folder)!r}, case {self.name!r})"


@dataclass
class SweepResults:
    """A sweep's folder: ``summary`` (sweep_summary.json: cases, complete, failed, reused),
    ``table`` (sweep.parquet as a DataFrame: one row per case, its parameters, status, message,
    wall_time_s and key outputs with units in the names) and :meth:`run` for one case's Results."""

    folder: Path
    summary: dict

    @property
    def table(self):
        import pandas as pd

        return pd.read_parquet(self.folder / "sweep.parquet")

    def run(self, case_id: str) -> Results:
        """The Results of one case of the sweep (``case_id`` as in the table's ``case`` column)."""
        return Results.open(self.folder / "runs" / case_id)


def _sweep_file(sweep, out: Optional[PathLike]) -> tuple[Path, Path]:
    """The sweep file and the output folder; a dict sweep is written to ``out/sweep.toml`` (its base a
    path, relative to the current folder, or a :class:`Case`, written to ``out/sweep_base.toml``)."""
    from .sweep import to_toml

    if not isinstance(sweep, Mapping):
        path = Path(sweep)
        return path, Path(out) if out is not None else Path("results") / f"sweep_{path.stem}"
    spec = _plain({k: v for k, v in sweep.items() if k != "base"})
    base = sweep.get("base")
    if base is None:
        raise CaseError("sweep dict: 'base' (a case file or a reliability.Case) is missing")
    base_case = load(base)
    out = Path(out) if out is not None else Path("results") / f"sweep_{spec.get('name') or base_case.name}"
    if isinstance(base, Case):
        base_path = base.write(out / "sweep_base.toml")
    else:
        base_path = Path(base).resolve()
    path = out / "sweep.toml"
    from .post.files import atomic_write_text

    atomic_write_text(path, to_toml({"base": str(base_path.resolve()), **spec}))
    return path, out


def sweep_run(sweep: Union[PathLike, Mapping], out: Optional[PathLike] = None, workers: Optional[int] = None,
              scheduler: Optional[str] = None, resume: bool = False, progress: bool = False) -> SweepResults:
    """Run a sweep, as ``reliability sweep``: on a local Dask cluster of ``workers`` processes (default
    all cores) or on a running ``scheduler`` ("tcp://host:8786"); ``resume`` reuses complete cases.

    ``sweep``: a sweep file, or a dict of the same keys, e.g. ``{"base": case, "parameters":
    {"geometry.dimensions_mm.die_thickness": [0.15, 0.25]}, "sampling": {"method": "grid"}}`` with
    ``base`` a case file or a :class:`Case`.  Results in ``out`` (default results/sweep_<name>).
    """
    from .sweep import run_sweep

    path, out = _sweep_file(sweep, out)
    summary = run_sweep(path, out, workers=workers, scheduler=scheduler, resume=resume, progress=progress)
    return SweepResults(out, summary)


def sweep_plan(sweep: Union[PathLike, Mapping], out: Optional[PathLike] = None, workers: Optional[int] = None,
               estimate_from=None):
    """The dry run of a sweep (``reliability sweep --dry-run``): every case written to ``out/cases`` and
    validated (preflight only, nothing solved) and an estimate of the time, as a
    :class:`reliability.sweep.DryRun` (``.cases``, ``.estimate.solve_s`` / ``.wall_s`` in s,
    ``.lines()`` the printed report).  ``estimate_from``: a time per case (s), a results folder or a
    sweep folder; by default earlier runs of this sweep in ``out/runs`` or ``results/<base case name>``.
    """
    from .sweep import dry_run

    path, out = _sweep_file(sweep, out)
    return dry_run(path, out, workers=workers, estimate_from=estimate_from)
