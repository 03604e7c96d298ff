"""`reliability sweep`: parametric studies on Dask (a local cluster by default).

A sweep file names a base case and the parameters to vary, as dotted case
keys (``geometry.backside``, ``geometry.dimensions_mm.die_thickness``,
``materials.mold``), and how to sample them:

* ``grid`` - every combination of the listed values;
* ``list`` - the i-th value of every parameter makes case i (equal lengths);
* ``latin_hypercube`` - ``n`` cases, ``seed``; a parameter given as
  ``[low, high]`` numbers is sampled in that interval, any other list is a
  set of levels drawn in balanced random order.

Every generated case is validated before anything runs (a bad key or value
stops the sweep with one line naming the case and the key).  Cases then run
as Dask tasks (retried elsewhere if a worker dies); each writes its results
atomically into ``OUT/runs/<case>/``.  A case that fails (an impossible
geometry, a solver that does not converge) is recorded with its one-line
message and the sweep goes on.  ``--resume`` skips every case whose results
are complete and carry the content hash of the case as it is now.

A dry run (:func:`dry_run`, ``reliability sweep --dry-run``) writes and
validates the cases (preflight only: nothing is meshed or solved), lists the
first :data:`SHOWN` and the count, and estimates the sweep's time from a
measured time per case (:func:`per_case_times`: earlier runs of this sweep, a
run of the base case, or a given results folder), saying which.
"""

from __future__ import annotations

import copy
import itertools
import json
import math
import os
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Optional, Union

import numpy as np
import pydantic

from .case import case_from_dict, read_toml
from .errors import CaseError, ReliabilityError
from .post.files import atomic_write_bytes, atomic_write_json, atomic_write_text
from .post.progress import on_terminal, progress_line
from .results import metrics
from .sections import preflight
from .validation import STRICT, format_error

Scalar = Union[pydantic.StrictBool, pydantic.StrictInt, pydantic.StrictFloat, pydantic.StrictStr]


class SamplingSpec(pydantic.BaseModel):
    model_config = STRICT
    method: Literal["grid", "list", "latin_hypercube"] = "grid"
    n: Optional[int] = pydantic.Field(None, ge=1, le=100000)
    seed: int = 0


class SweepSpec(pydantic.BaseModel):
    model_config = STRICT
    base: str
    name: Optional[str] = None
    parameters: dict[str, list[Scalar]] = pydantic.Field(min_length=1)
    sampling: SamplingSpec = SamplingSpec()

    @pydantic.field_validator("parameters")
    @classmethod
    def _non_empty(cls, params):
        for key, values in params.items():
            if not values:
                raise ValueError(f"parameter {key!r} has no values")
            if not key or any(not part for part in key.split(".")):
                raise ValueError(f"parameter key {key!r} is not a dotted case key")
        return params

    @pydantic.model_validator(mode="after")
    def _sampling(self):
        m = self.sampling.method
        if m == "list" and len({len(v) for v in self.parameters.values()}) != 1:
            raise ValueError("sampling.method = 'list' needs every parameter list to have the same length")
        if m == "latin_hypercube" and self.sampling.n is None:
            raise ValueError("sampling.method = 'latin_hypercube' needs sampling.n (number of cases)")
        if m == "grid":
            total = int(np.prod([len(v) for v in self.parameters.values()], dtype=float))
            if total > 100000:
                raise ValueError(f"the grid has {total} cases; more than 100000 is refused")
        return self


def load_sweep(path: Path) -> tuple[SweepSpec, dict]:
    raw = read_toml(path)
    try:
        spec = SweepSpec.model_validate(raw)
    except pydantic.ValidationError as err:
        raise CaseError(format_error(err, path, SweepSpec)) from None
    return spec, raw


def samples(spec: SweepSpec) -> list[dict]:
    """Parameter values of every case, in order."""
    keys = list(spec.parameters)
    vals = [spec.parameters[k] for k in keys]
    m = spec.sampling.method
    if m == "grid":
        return [dict(zip(keys, combo)) for combo in itertools.product(*vals)]
    if m == "list":
        return [dict(zip(keys, combo)) for combo in zip(*vals)]
    n = spec.sampling.n
    rng = np.random.default_rng(spec.sampling.seed)
    columns = {}
    for k, v in zip(keys, vals):
        numeric = len(v) == 2 and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v)
        if numeric:
            lo, hi = float(v[0]), float(v[1])
            u = (rng.permutation(n) + rng.random(n)) / n  # one point per stratum
            columns[k] = [lo + (hi - lo) * x for x in u]
        else:
            reps = [v[i % len(v)] for i in range(n)]
            columns[k] = [reps[i] for i in rng.permutation(n)]
    return [{k: columns[k][i] for k in keys} for i in range(n)]


def _set(data: dict, dotted: str, value) -> None:
    parts = dotted.split(".")
    node = data
    for p in parts[:-1]:
        nxt = node.get(p)
        if nxt is None:
            nxt = node[p] = {}
        if not isinstance(nxt, dict):
            raise CaseError(f"parameter {dotted!r}: {p!r} is a value in the base case, not a table")
        node = nxt
    node[parts[-1]] = value


def _resolved(path: Path, key: str, source) -> Path:
    """``path`` made absolute; a symbolic link loop is one line naming the key, not a traceback."""
    try:
        return path.resolve()
    except (RuntimeError, OSError) as exc:
        raise CaseError(f"{source}: {key} = '{path}': cannot be resolved ({exc}); a symbolic link loop? "
                        "give a regular file") from None


def _absolute_paths(raw: dict, base_dir: Path) -> dict:
    out = copy.deepcopy(raw)
    geo = out.get("geometry")
    if isinstance(geo, dict) and isinstance(geo.get("mesh"), str):
        geo["mesh"] = str(_resolved(base_dir / geo["mesh"], "geometry.mesh", base_dir))
    fat = out.get("fatigue")
    if isinstance(fat, dict) and isinstance(fat.get("calibration"), str):
        given = Path(fat["calibration"])
        near = base_dir / given  # first, as a case file reads it (reliability.case.calibration_file)
        # made absolute only when the current directory would not find the same file: otherwise as written
        # (the current directory, then an error naming both places), so the summary says what the case says
        if near.is_file() and not (given.is_file() and os.path.samefile(near, given)):
            fat["calibration"] = str(_resolved(near, "fatigue.calibration", base_dir))
    return out


def to_toml(value, key_path="") -> str:
    """Minimal TOML writer for case data (tables, scalars, lists of scalars)."""
    def scalar(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return repr(v) if not isinstance(v, float) or np.isfinite(v) else ("nan" if v != v else ("inf" if v > 0 else "-inf"))
        if isinstance(v, str):
            return _toml_string(v)
        if isinstance(v, list):
            return "[" + ", ".join(scalar(x) if not isinstance(x, dict) else "{" + ", ".join(
                f"{_toml_string(k)} = {scalar(y)}" for k, y in x.items()) + "}" for x in v) + "]"
        if isinstance(v, dict):
            return "{" + ", ".join(f"{_toml_string(k)} = {scalar(y)}" for k, y in v.items()) + "}"
        raise TypeError(type(v))

    lines = []
    tables = []
    for k, v in value.items():
        if isinstance(v, dict) and not _inline(v):
            tables.append((k, v))
        else:
            lines.append(f"{_toml_string(k)} = {scalar(v)}")
    text = "\n".join(lines) + ("\n" if lines else "")
    for k, v in tables:
        path = f"{key_path}.{_toml_string(k)}" if key_path else _toml_string(k)
        text += f"\n[{path}]\n" + to_toml(v, path)
    return text


def _toml_string(text: str) -> str:
    """A TOML basic string: JSON escaping of quotes and control characters, other Unicode kept as is."""
    return json.dumps(text, ensure_ascii=False)


def _inline(d: dict) -> bool:
    # property tables {T_C = [...], value = [...]} stay inline
    return set(d) <= {"T_C", "value"} and bool(d)


def case_variant(base_path: Path, overrides: dict, name: str | None = None) -> str:
    """TOML text of the case at ``base_path`` with dotted-key overrides, e.g. {"mesh.joint_size_mm": 0.0125}.

    A mesh path is made absolute, so the text can be written anywhere; the
    caller validates it by loading it like any case file.
    """
    raw = _absolute_paths(read_toml(base_path), base_path.parent)
    for key, value in overrides.items():
        _set(raw, key, value)
    if name is not None:
        raw.setdefault("case", {})["name"] = name
    return to_toml(raw)


def generate(sweep_path: Path, out: Path, durable: bool = True) -> list[dict]:
    """Write and validate every case of the sweep; returns [{id, file, parameters}].

    ``durable=False`` (a dry run) skips the fsync of each file and an unchanged
    file's rewrite: 10,000 case files in seconds, not minutes.  A real run
    writes them again, durably, before anything is solved.
    """
    spec, _ = load_sweep(sweep_path)
    base_path = _resolved(sweep_path.parent / spec.base, "base", sweep_path)
    base_raw = read_toml(base_path)
    base_raw = _absolute_paths(base_raw, base_path.parent)
    stem = spec.name or (base_raw.get("case", {}) or {}).get("name", "case")
    if not isinstance(stem, str):
        stem = "case"
    cases = []
    (out / "cases").mkdir(parents=True, exist_ok=True)
    for i, params in enumerate(samples(spec)):
        raw = copy.deepcopy(base_raw)
        for key, value in params.items():
            _set(raw, key, value)
        cid = f"{stem}_{i:04d}"[:80]
        raw.setdefault("case", {})
        if not isinstance(raw["case"], dict):
            raise CaseError(f"{base_path}: [case] must be a table")
        raw["case"]["name"] = cid
        path = out / "cases" / f"{cid}.toml"
        text = to_toml(raw)
        try:
            tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:  # pragma: no cover - writer bug guard
            raise CaseError(f"{sweep_path}: case {cid} cannot be written as TOML ({exc})") from None
        (atomic_write_text if durable else _write_quick)(path, text)
        try:
            preflight(case_from_dict(raw, path))
        except ReliabilityError as exc:
            raise CaseError(f"{sweep_path}: case {cid} ({_describe(params)}): {exc}") from None
        cases.append({"id": cid, "file": str(path), "parameters": params})
    return cases


def _write_quick(path: Path, text: str) -> None:
    """Atomic (a reader never sees half a file) but not fsynced; an identical file is left alone."""
    try:
        if path.read_text(encoding="utf-8") == text:
            return
    except (OSError, UnicodeDecodeError):
        pass
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _describe(params: dict) -> str:
    return ", ".join(f"{k} = {v!r}" for k, v in params.items())


def run_one(case_file: str, folder: str, mesh_dir: str, resume: bool, token: str = "") -> dict:
    """One case on a worker: run (or reuse when resuming) and return its key outputs.

    Idempotent within one sweep (``token``): when Dask recomputes a task whose
    result was lost with a dead worker, the finished case is not run again.
    """
    from .compare import ensure_run

    status_file = Path(folder) / "sweep_status.json"
    if token and status_file.is_file():
        try:
            done = json.loads(status_file.read_text())
        except (OSError, json.JSONDecodeError):
            done = {}
        if done.get("token") == token:
            return done
    t0 = time.perf_counter()
    try:
        run = ensure_run(case_file, progress=False, mesh_dir=Path(mesh_dir), folder=Path(folder), force=not resume)
        result = {"status": "reused" if run.reused else "complete", "message": "",
                  "outputs": key_outputs(run.summary), "run_wall_time_s": run.summary.get("wall_time_s")}
    except ReliabilityError as exc:
        result = {"status": "failed", "message": str(exc), "outputs": {}}
    except Exception as exc:  # a bug must not stop the sweep; it is reported, not hidden
        result = {"status": "failed", "message": f"internal error {type(exc).__name__}: {exc}", "outputs": {}}
    result["wall_time_s"] = round(time.perf_counter() - t0, 3)
    result["token"] = token
    atomic_write_json(status_file, result)
    if result["status"] != "reused":
        # one line per completed run: lets tests count executions exactly
        with open(Path(folder).parent.parent / "completed.log", "a") as fh:
            fh.write(f"{Path(folder).name} {result['status']}\n")
    return result


def key_outputs(summary: dict) -> dict:
    """The key outputs of one run (warpage per temperature, critical joint, dW, lives): :mod:`reliability.results`."""
    return metrics(summary, key_only=True)


def run_sweep(sweep_path: str | Path, out: Path | None = None, workers: int | None = None,
              scheduler: str | None = None, resume: bool = False, progress: bool = True) -> dict:
    sweep_path = Path(sweep_path)
    spec, _ = load_sweep(sweep_path)
    out = out or Path("results") / f"sweep_{sweep_path.stem}"
    cases = generate(sweep_path, out)
    from dask.distributed import Client, LocalCluster, as_completed

    n_workers = workers or os.cpu_count() or 1
    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=40)
        client = Client(cluster)
    mesh_dir = out / "meshes"
    try:
        futures = {}
        token = f"{os.getpid()}-{time.time_ns()}"
        for c in cases:
            fut = client.submit(run_one, c["file"], str(out / "runs" / c["id"]), str(mesh_dir), resume, token,
                                key=f"case-{c['id']}-{time.time_ns()}", pure=False, retries=3)
            futures[fut] = c
        results = {}
        bar = None
        lines = progress and not on_terminal()  # a log: one line per finished case instead of a bar
        if progress and not lines:
            from tqdm import tqdm

            bar = tqdm(total=len(cases), desc=f"sweep {sweep_path.stem}", unit="case")
        t_start = time.perf_counter()
        for done, fut in enumerate(as_completed(futures), start=1):
            c = futures[fut]
            try:
                results[c["id"]] = fut.result()
            except Exception as exc:  # the task itself died (e.g. its worker, more often than retries)
                results[c["id"]] = {"status": "failed", "message": f"task lost: {exc}", "outputs": {}}
            r = results[c["id"]]
            if bar is not None:
                bar.set_postfix_str(f"{c['id']}: {r['status']}")
                bar.update(1)
            elif lines:
                wall = r.get("run_wall_time_s", r.get("wall_time_s"))
                took = f", its run {wall:.1f} s" if isinstance(wall, (int, float)) else ""
                why = f": {r['message']}" if r["status"] == "failed" and r.get("message") else ""
                progress_line(f"sweep {sweep_path.stem}: case {done}/{len(cases)} {c['id']} {r['status']}{took}{why}; "
                              f"{time.perf_counter() - t_start:.1f} s since the start")
        if bar is not None:
            bar.close()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    table = write_table(out, spec, cases, results)
    from .post.sweep_plots import sweep_plots

    plots = sweep_plots(out, list(spec.parameters), table)
    summary = {"sweep": str(sweep_path), "cases": len(cases),
               "complete": sum(r["status"] in ("complete", "reused") for r in results.values()),
               "failed": sum(r["status"] == "failed" for r in results.values()),
               "reused": sum(r["status"] == "reused" for r in results.values()),
               "table": ["sweep.csv", "sweep.parquet"], "plots": plots}
    atomic_write_json(out / "sweep_summary.json", summary)
    return summary


def write_table(out: Path, spec: SweepSpec, cases: list[dict], results: dict):
    import pandas as pd

    rows = []
    for c in cases:
        r = results[c["id"]]
        row = {"case": c["id"]}
        row.update({k: v for k, v in c["parameters"].items()})
        row["status"] = "complete" if r["status"] == "reused" else r["status"]
        row["message"] = r["message"]
        # the solve's own wall time (kept in its summary), so a resumed sweep's table matches
        row["wall_time_s"] = r.get("run_wall_time_s", r.get("wall_time_s"))
        row.update(r.get("outputs", {}))
        rows.append(row)
    df = pd.DataFrame(rows)
    atomic_write_text(out / "sweep.csv", df.to_csv(index=False))
    import io

    buf = io.BytesIO()
    df.astype({k: str for k in spec.parameters if df[k].dtype == object}).to_parquet(buf, index=False)
    atomic_write_bytes(out / "sweep.parquet", buf.getvalue())
    return df


# --- dry run: the cases and an estimate of the time, nothing solved -------------------------------------

SHOWN = 10  # a dry run lists this many cases, then "... N more"
_MAX_TIMES = 500  # earlier runs read for the per-case time (a sample of a huge sweep is enough)
GIVEN = "the time per case given (not measured here)"


@dataclass
class Estimate:
    """Time of a sweep from a measured time per case.

    ``per_case_s``: mean wall time of one case (s) over ``measured`` runs (``min_s`` to ``max_s``; 0 runs
    for a time given by the caller);
    ``basis``: where the times come from, in words.  ``solve_s`` = cases x per case (s of solving);
    ``wall_s`` = the rounds of ``workers`` parallel cases x per case (s), None without a worker count.
    """

    cases: int
    per_case_s: float
    min_s: float
    max_s: float
    measured: int
    basis: str
    workers: Optional[int]

    @property
    def solve_s(self) -> float:
        return self.cases * self.per_case_s

    @property
    def wall_s(self) -> Optional[float]:
        return None if not self.workers else math.ceil(self.cases / self.workers) * self.per_case_s


@dataclass
class DryRun:
    """What a sweep would run: the validated cases ({id, file, parameters}) written to ``out/cases``,
    the sweep's spec, the time to generate them (s) and an :class:`Estimate` (None when no time per
    case is known; ``no_estimate`` says why and how to get one)."""

    sweep: Path
    out: Path
    spec: SweepSpec
    cases: list[dict]
    generate_s: float
    estimate: Optional[Estimate]
    no_estimate: str = ""

    def lines(self, shown: int = SHOWN) -> list[str]:
        """The dry run's report: the first ``shown`` cases, the count, the estimate and its basis."""
        n = len(self.cases)
        listed = self.cases if n <= shown + 2 else self.cases[:shown]
        out = [f"{c['id']}: {_describe(c['parameters'])}" for c in listed]
        if len(listed) < n:
            out.append(f"... {n - len(listed)} more (every case is in {self.out / 'cases'})")
        sampling = self.spec.sampling
        if sampling.method == "latin_hypercube":
            how = f"latin hypercube, seed {sampling.seed}, of {', '.join(self.spec.parameters)}"
        else:
            how = f"{sampling.method} of " + " x ".join(f"{len(v)} {k}" for k, v in self.spec.parameters.items())
        out.append(f"{n} valid cases ({how}) written to {self.out / 'cases'} in {self.generate_s:.1f} s "
                   "(dry run: preflight only, nothing solved)")
        e = self.estimate
        if e is None:
            out.append(f"no time estimate: {self.no_estimate}")
            return out
        spread = f", {_duration(e.min_s)} to {_duration(e.max_s)}" if e.measured > 1 else ""
        text = f"estimated time: {n} cases x {_duration(e.per_case_s)} = {_duration(e.solve_s)} of solving"
        if e.wall_s is not None:
            text += f", about {_duration(e.wall_s)} on {e.workers} worker{'s' if e.workers != 1 else ''}"
        out.append(text)
        runs = f" ({e.measured} run{'s' if e.measured != 1 else ''}{spread})" if e.measured else ""
        out.append(f"basis: {e.basis}{runs}; it assumes every case takes that long (a finer mesh or more cycles "
                   "take longer)")
        return out


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.3g} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def _summary_time(path: Path) -> Optional[float]:
    """Wall time (s) of a complete run from its summary.json, None if there is none."""
    try:
        s = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    cyc = s.get("cycling")
    t = s.get("wall_time_s")
    if (cyc is not None and cyc.get("status") != "complete") or not isinstance(t, (int, float)) or t <= 0:
        return None
    return float(t)


def _run_times(folders) -> list[float]:
    times = []
    for folder in itertools.islice(sorted(folders), _MAX_TIMES):
        t = _summary_time(folder / "summary.json")
        if t is not None:
            times.append(t)
    return times


def _sweep_table_times(folder: Path) -> list[float]:
    try:
        import pandas as pd

        df = pd.read_csv(folder / "sweep.csv")
        return [float(t) for t in df.loc[df["status"] == "complete", "wall_time_s"].dropna() if t > 0]
    except (OSError, ValueError, KeyError):
        return []


def per_case_times(estimate_from, out: Path, base_path: Path) -> tuple[list[float], str]:
    """Measured wall times of single cases (s) and their basis in words.

    ``estimate_from``: a number (s per case), a ``summary.json``, a results folder of one run, or a
    sweep folder (its ``runs/*/summary.json``, else its ``sweep.csv``); a CaseError if it holds no
    complete run.  Without it: the complete runs of this sweep in ``out/runs`` (an earlier, perhaps
    interrupted, run of it), else ``results/<base case name>/summary.json`` (``reliability run`` of the
    base case from this folder); ([], reason) when neither exists.
    """
    if estimate_from is not None:
        if isinstance(estimate_from, str) and not Path(estimate_from).exists():
            try:
                estimate_from = float(estimate_from)  # "--estimate-from 2.5": seconds per case
            except ValueError:
                pass
        if isinstance(estimate_from, (int, float)) and not isinstance(estimate_from, bool):
            if not (math.isfinite(estimate_from) and estimate_from > 0):
                raise CaseError(f"estimate from {estimate_from!r}: a time per case must be > 0 s")
            return [float(estimate_from)], GIVEN
        src = Path(estimate_from)
        if src.is_file():
            t = _summary_time(src)
            times, basis = ([t] if t else []), f"{src}"
        elif (src / "summary.json").is_file():
            t = _summary_time(src / "summary.json")
            times, basis = ([t] if t else []), f"{src / 'summary.json'}"
        else:
            times = _run_times((src / "runs").glob("*")) if (src / "runs").is_dir() else []
            basis = f"the runs of the sweep in {src / 'runs'}"
            if not times:
                times, basis = _sweep_table_times(src), f"the complete cases of {src / 'sweep.csv'}"
        if not times:
            raise CaseError(f"estimate from {src}: no complete run there (give a results folder or its "
                            "summary.json, or a sweep folder)")
        return times, basis
    if (out / "runs").is_dir():
        times = _run_times((out / "runs").glob("*"))
        if times:
            return times, f"complete runs of this sweep in {out / 'runs'}"
    try:
        name = (read_toml(base_path).get("case") or {}).get("name")
    except ReliabilityError:
        name = None
    if isinstance(name, str) and name:
        summary = Path("results") / name / "summary.json"
        t = _summary_time(summary)
        if t is not None:
            return [t], f"{summary}: a run of the base case"
    return [], (f"no complete run of this sweep in {out / 'runs'} and none of the base case in "
                f"results/{name or '<name>'}")


def dry_run(sweep_path: str | Path, out: Path | None = None, workers: int | None = None,
            estimate_from=None, scheduler: str | None = None) -> DryRun:
    """Generate and validate every case (preflight only, nothing solved) and estimate the sweep's time.

    ``workers``: the local worker count of the real run (default: all cores; unknown with a
    ``scheduler``, then only the total solving time is estimated).  ``estimate_from``: see
    :func:`per_case_times`.  The case files go to ``out/cases`` (default results/sweep_<name>).
    """
    sweep_path = Path(sweep_path)
    spec, _ = load_sweep(sweep_path)
    out = Path(out) if out is not None else Path("results") / f"sweep_{sweep_path.stem}"
    t0 = time.perf_counter()
    cases = generate(sweep_path, out, durable=False)
    generate_s = time.perf_counter() - t0
    base_path = _resolved(sweep_path.parent / spec.base, "base", sweep_path)
    times, basis = per_case_times(estimate_from, out, base_path)
    if not times:
        first = cases[0]["id"]
        hint = (f"{basis}; to get one, run one case (reliability run {out / 'cases' / first}.toml --out "
                f"{out / 'runs' / first}; the sweep's --resume reuses it) and dry-run again")
        return DryRun(sweep_path, out, spec, cases, generate_s, None, hint)
    n_workers = None if scheduler else (workers or os.cpu_count() or 1)
    est = Estimate(len(cases), float(np.mean(times)), min(times), max(times), 0 if basis == GIVEN else len(times),
                   basis, n_workers)
    return DryRun(sweep_path, out, spec, cases, generate_s, est)
