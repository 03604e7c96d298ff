"""Hostile input: mutated case and sweep files end in one line with exit code 2,
or in a valid run - never a traceback, never a file written outside the
working folder (hypothesis, 1000 examples each)."""

import copy
import io
import json
import os
import tomllib
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reliability.cli import main
from reliability.geometry.strip import layered_strip
from reliability.sweep import _toml

HERE = Path(__file__).parent

VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-10**30, max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["../../../etc/passwd", "/tmp/x", "..", ".", "solder", "plane_stress", "G", "SAC305",
                     "grid", "latin_hypercube", "copper", "∞", "😀", "a" * 300]),
    st.lists(st.one_of(st.integers(-5, 300), st.floats(allow_nan=True), st.text(max_size=5)), max_size=4),
    st.dictionaries(st.text(max_size=8), st.integers(), max_size=3),
)


def paths(d, prefix=()):
    for k, v in d.items():
        yield prefix + (k,)
        if isinstance(v, dict):
            yield from paths(v, prefix + (k,))


PLAUSIBLE = ["silicon", "copper", "my-cu", "plane_stress", "generalized_plane_strain", "axisymmetric", "bottom",
             "superlu", "auto", "grid", "list", "latin_hypercube"]


@st.composite
def mutated(draw, base: dict):
    data = copy.deepcopy(base)
    for _ in range(draw(st.integers(0, 3))):
        keys = list(paths(data))
        if not keys:
            break
        path = draw(st.sampled_from(keys))
        parent = data
        for k in path[:-1]:
            parent = parent[k]
        action = draw(st.sampled_from(["replace", "delete", "add", "rename", "perturb", "perturb"]))
        value = parent[path[-1]]
        if action == "perturb":
            # a change that may well stay valid: scale a number, swap a name for another plausible one
            if isinstance(value, bool):
                parent[path[-1]] = not value
            elif isinstance(value, (int, float)):
                parent[path[-1]] = value * draw(st.sampled_from([-1.0, 0.0, 0.5, 2.0, 1e3, 1e-3]))
            elif isinstance(value, str):
                parent[path[-1]] = draw(st.sampled_from(PLAUSIBLE))
            elif isinstance(value, list) and value:
                parent[path[-1]] = value[: draw(st.integers(0, len(value)))] + draw(
                    st.lists(st.integers(-60, 300), max_size=2))
        elif action == "replace":
            parent[path[-1]] = draw(VALUES)
        elif action == "delete":
            del parent[path[-1]]
        elif action == "add":
            target = parent if not isinstance(parent.get(path[-1]), dict) else parent[path[-1]]
            target[draw(st.text(min_size=1, max_size=12))] = draw(VALUES)
        else:
            parent[draw(st.text(min_size=1, max_size=12))] = parent.pop(path[-1])
    return data


def to_text(data, draw_broken: bool, junk: str) -> str:
    try:
        text = _toml({k: v for k, v in data.items() if v is not None and not (isinstance(v, dict) and any(x is None for x in v.values()))})
    except Exception:
        text = json.dumps(data, default=str)  # not TOML at all: must be refused cleanly
    if draw_broken:
        cut = len(text) // 2
        text = text[:cut] + junk + text[cut:]
    return text


def check_one(workdir: Path, args: list[str]) -> None:
    # the parent's own entries, not a recursive walk: it holds every earlier example's
    # folder, and walking them all for each of 2000 examples took minutes
    before = set(workdir.parent.iterdir())
    err, out = io.StringIO(), io.StringIO()
    with redirect_stderr(err), redirect_stdout(out):
        rc = main(args)  # any exception escaping here fails the test with its traceback
    if rc == 2:
        lines = err.getvalue().strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), err.getvalue()
    else:
        assert rc == 0, (rc, err.getvalue())
    created = set(workdir.parent.iterdir()) - before
    assert created <= {workdir}, created


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    d = tmp_path_factory.mktemp("fuzzbase")
    layered_strip([("layer_bottom", 0.3), ("layer_top", 0.3)], 4.0, nx=6, ny=1, path=d / "tiny.msh")
    case = {
        "case": {"name": "tiny"},
        "geometry": {"mesh": (d / "tiny.msh").as_posix(), "warpage_surface": "bottom"},
        "materials": {"layer_top": "silicon", "layer_bottom": "my-cu",
                      "define": {"my-cu": {"E_MPa": 120000, "nu": 0.34, "alpha_per_K": 17e-6}}},
        "analysis": {"kinematics": "plane_strain", "stress_free_temperature_C": 25, "temperatures_C": [-40, 125],
                     "solver": "superlu"},
        "output": {"plots": False, "vtu": False},
    }
    return d, case


@settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(data=st.data())
def test_fuzz_case_files(base, data, tmp_path_factory):
    d, case = base
    mutant = data.draw(mutated(case))
    broken = data.draw(st.booleans()) and data.draw(st.booleans())
    text = to_text(mutant, broken, data.draw(st.text(max_size=6)))
    work = tmp_path_factory.mktemp("w")
    (work / "c.toml").write_text(text)
    os.chdir(work)
    check_one(work, ["run", "c.toml", "--quiet", "--out", "out"])


@settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(data=st.data())
def test_fuzz_sweep_files(base, data, tmp_path_factory):
    d, case = base
    work = tmp_path_factory.mktemp("s")
    (work / "base.toml").write_text(_toml(case))
    sweep = {"base": "base.toml",
             "parameters": {"materials.layer_top": ["silicon", "copper"], "analysis.temperatures_C": [[-40], [125]]},
             "sampling": {"method": "grid", "seed": 1, "n": 3}}
    mutant = data.draw(mutated(sweep))
    broken = data.draw(st.booleans()) and data.draw(st.booleans())
    (work / "s.toml").write_text(to_text(mutant, broken, data.draw(st.text(max_size=6))))
    os.chdir(work)
    check_one(work, ["sweep", "s.toml", "--dry-run", "--out", "out", "--quiet"])
