"""Benchmark: the README's main job (``reliability run cases/fan_out_exposed.toml``) against the code it replaced.

    python bench/bench_main_job.py                       # 2 alternating pairs: HEAD's code against this checkout
    python bench/bench_main_job.py --pairs 3             # more alternations (medians reported)
    python bench/bench_main_job.py --process-only        # without the cycling (the process history and outputs)
    python bench/bench_main_job.py --base DIR            # the old code from DIR (default /tmp/base)
    python bench/bench_main_job.py --new-env RELIABILITY_SERIAL_SECTIONS=1   # the new code with an old path
    python bench/bench_main_job.py --old-env RELIABILITY_PROCESS_PREDICTOR=0  # old = this checkout's old path

The old code is HEAD's tree (``git archive HEAD | tar -x -C /tmp/base``, made
here when DIR does not exist; git's state is not touched), run with
``PYTHONPATH=DIR`` (with ``--old-env``: this checkout with that environment,
e.g. the process history before its predictor); the new is this checkout.  Every run is a fresh process
writing to a fresh results folder, on the meshes of this checkout's cache
(built once beforehand), and old and new alternate so that both see the same
machine load.  Besides the wall times the table gives what the load does not
change: CPU seconds, increments, residual evaluations and factorizations,
and the differences of the answers (the critical joint's dW and every
warpage number of summary.json, new against old), and the answers themselves
(critical-joint dW, lives, warpage at each temperature) of both.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CASE = REPO / "cases" / "fan_out_exposed.toml"

# one run in a fresh process: the summary's numbers and this process's CPU time
RUNNER = r"""
import json, resource, sys, time
from pathlib import Path
t = time.perf_counter()
from reliability.run import run_case
s = run_case(sys.argv[1], Path(sys.argv[2]), progress=False, mesh_dir=Path(sys.argv[3]))
wall = time.perf_counter() - t
ru = resource.getrusage(resource.RUSAGE_SELF)
print("RESULT " + json.dumps({"wall_s": wall, "cpu_s": ru.ru_utime + ru.ru_stime, "peak_MiB": ru.ru_maxrss / 1024,
                              "summary": str(Path(sys.argv[2]) / "summary.json")}))
"""


def _values(x, path=""):
    if isinstance(x, dict):
        for k, v in x.items():
            yield from _values(v, f"{path}.{k}")
    elif isinstance(x, list):
        for i, v in enumerate(x):
            yield from _values(v, f"{path}[{i}]")
    elif isinstance(x, (int, float)) and not isinstance(x, bool):
        yield path, float(x)


def warpage_numbers(summary: dict) -> dict[str, float]:
    """Every number of a summary under a key that names a warpage (um), the cycling's time series excluded."""
    return {p: v for p, v in _values(summary) if "warpage" in p.rsplit(".", 1)[-1]}


def differences(old: dict, new: dict) -> dict:
    """Largest relative differences, new against old: the critical dW, and each kind of warpage number."""
    out = {}
    crit = [s.get("cycling", {}).get("critical_joint", {}).get("dW_MPa") for s in (old, new)]
    if None not in crit:
        out["dW"] = abs(crit[1] - crit[0]) / abs(crit[0])
    wo, wn = warpage_numbers(old), warpage_numbers(new)
    missing = sorted(set(wo) ^ set(wn))
    if missing:
        out["missing"] = missing[:5]
    rel = [abs(wn[k] - wo[k]) / max(abs(wo[k]), 1e-12) for k in wo if k in wn]
    out["warpage"] = max(rel) if rel else 0.0
    out["warpage_values"] = len(rel)
    return out


def answers(summary: dict) -> dict[str, float]:
    """The main job's answers: critical-joint dW and lives, the warpage at each temperature (free package and
    assembly), the reflow curve's largest absolute warpage."""
    out = {}
    crit = summary.get("cycling", {}).get("critical_joint", {})
    if "dW_MPa" in crit:
        out["critical dW MPa/cycle"] = crit["dW_MPa"]
        for model, life in crit.get("life", {}).items():
            if life.get("N63_2_cycles") is not None:
                out[f"N63.2 {model} cycles"] = life["N63_2_cycles"]
    for row in summary.get("temperatures", []):
        out[f"warpage at {row['T_C']:g} C um"] = row["warpage_um"]
        if row.get("assembly_warpage_um") is not None:
            out[f"assembly warpage at {row['T_C']:g} C um"] = row["assembly_warpage_um"]
    points = summary.get("process", {}).get("warpage_vs_temperature", {}).get("points", [])
    if points:
        out["reflow curve max abs warpage um"] = max(abs(q["warpage_um"]) for q in points)
    return out


def counts(summary: dict) -> dict:
    """Increments, residual evaluations and factorizations of the process sections and the cycling, and their walls."""
    out = {}
    for role, sec in summary.get("process", {}).get("sections", {}).items():
        out[role] = (sec["increments"], sec["newton_iterations"], sec["factorizations"], sec["wall_time_s"])
    if "solver" in summary.get("cycling", {}):
        c = summary["cycling"]["solver"]
        out["cycling"] = (c["increments"], c["newton_iterations"], c["factorizations"], c["wall_time_s"])
    return out


def run_one(code: Path, case: Path, out: Path, meshes: Path, env_extra: dict) -> dict:
    env = {**os.environ, "PYTHONPATH": str(code), **env_extra}
    proc = subprocess.run([sys.executable, "-c", RUNNER, str(case), str(out), str(meshes)], cwd=code, env=env,
                          capture_output=True, text=True)
    line = next((l for l in proc.stdout.splitlines() if l.startswith("RESULT ")), None)
    if proc.returncode != 0 or line is None:
        raise SystemExit(f"run of {code} failed:\n{proc.stderr[-3000:]}")
    res = json.loads(line[7:])
    res["data"] = json.loads(Path(res["summary"]).read_text())
    return res


def ensure_base(base: Path) -> None:
    if (base / "reliability").is_dir():
        return
    base.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "-C", str(REPO), "archive", "HEAD"], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(base)], input=archive, check=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", type=int, default=2)
    ap.add_argument("--base", type=Path, default=Path("/tmp/base"))
    ap.add_argument("--process-only", action="store_true", help="remove [analysis.cycling] (and the plots)")
    ap.add_argument("--new-env", action="append", default=[], metavar="KEY=VALUE",
                    help="environment of the new code's runs, e.g. RELIABILITY_SERIAL_SECTIONS=1")
    ap.add_argument("--old-env", action="append", default=[], metavar="KEY=VALUE",
                    help="old = this checkout run with this environment (not --base), e.g. "
                         "RELIABILITY_PROCESS_PREDICTOR=0")
    args = ap.parse_args()
    env_new = dict(kv.split("=", 1) for kv in args.new_env)
    env_old = dict(kv.split("=", 1) for kv in args.old_env)
    old_code = REPO if args.old_env else args.base
    if not args.old_env:
        ensure_base(args.base)
    old_name = f"{REPO} with {' '.join(args.old_env)}" if args.old_env else f"{args.base} (HEAD)"
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, python "
          f"{platform.python_version()}, {time.strftime('%Y-%m-%d %H:%M')}; old = {old_name}, new = {REPO}"
          + (f" with {' '.join(args.new_env)}" if args.new_env else ""))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        case = CASE
        if args.process_only:
            sys.path.insert(0, str(REPO / "bench"))
            from bench_process import _variant

            case = _variant(CASE, work, CASE.stem, {"analysis.cycling": None, "output.plots": False,
                                                    "output.vtu": False})
        meshes = REPO / "meshes"
        run_one(REPO, case, work / "warm", meshes, env_new)  # builds the meshes if the cache is cold
        rows, loads = [], []
        for k in range(args.pairs):
            old = run_one(old_code, case, work / f"old{k}", meshes, env_old)
            new = run_one(REPO, case, work / f"new{k}", meshes, env_new)
            loads.append(os.getloadavg()[0])
            rows.append((old, new))
    what = "process history and outputs (no cycling, no plots)" if args.process_only else "whole main job"
    print(f"\n{what}, `{CASE.relative_to(REPO)}`; load average after each pair: "
          + ", ".join(f"{x:.1f}" for x in loads))
    print("\n| pair | old wall s | new wall s | old / new | old CPU s | new CPU s | old / new CPU | new peak MiB |")
    print("|---|---|---|---|---|---|---|---|")
    for k, (o, n) in enumerate(rows):
        print(f"| {k + 1} | {o['wall_s']:.1f} | {n['wall_s']:.1f} | {o['wall_s'] / n['wall_s']:.2f} | "
              f"{o['cpu_s']:.1f} | {n['cpu_s']:.1f} | {o['cpu_s'] / n['cpu_s']:.2f} | {n['peak_MiB']:.0f} |")
    med = lambda key, i: statistics.median(r[i][key] for r in rows)
    print(f"| median | {med('wall_s', 0):.1f} | {med('wall_s', 1):.1f} | {med('wall_s', 0) / med('wall_s', 1):.2f} | "
          f"{med('cpu_s', 0):.1f} | {med('cpu_s', 1):.1f} | {med('cpu_s', 0) / med('cpu_s', 1):.2f} | |")
    print("\n| part | increments old / new | residual evaluations old / new | factorizations old / new | "
          "wall s old / new (pair 1) |")
    print("|---|---|---|---|---|")
    co, cn = counts(rows[0][0]["data"]), counts(rows[0][1]["data"])
    for part in co:
        a, b = co[part], cn.get(part, (None,) * 4)
        print(f"| {part} | {a[0]} / {b[0]} | {a[1]} / {b[1]} | {a[2]} / {b[2]} | {a[3]:.1f} / {b[3]:.1f} |")
    print("\n| pair | critical dW old (MPa) | new | dW rel. difference | largest warpage rel. difference "
          "(values) |")
    print("|---|---|---|---|---|")
    for k, (o, n) in enumerate(rows):
        d = differences(o["data"], n["data"])
        dW = [r["data"].get("cycling", {}).get("critical_joint", {}).get("dW_MPa") for r in (o, n)]
        dws = "- | - | -" if None in dW else f"{dW[0]:.10g} | {dW[1]:.10g} | {d['dW']:.1e}"
        print(f"| {k + 1} | {dws} | {d['warpage']:.1e} ({d['warpage_values']}) |"
              + (f" missing: {d['missing']}" if "missing" in d else ""))
    print("\n| answer (pair 1) | old | new | new - old |")
    print("|---|---|---|---|")
    ao, an = answers(rows[0][0]["data"]), answers(rows[0][1]["data"])
    for key, a in ao.items():
        b = an.get(key)
        print(f"| {key} | {a:.6g} | " + ("- | - |" if b is None else f"{b:.6g} | {b - a:+.3g} |"))


if __name__ == "__main__":
    main()
