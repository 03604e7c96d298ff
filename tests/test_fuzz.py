"""Hostile input: mutated case and sweep files end in one line with exit code 2,
or in a valid run - never a traceback, never a file written outside the
working folder (hypothesis; 300 examples each in the default run, which keeps CI within its 20 minutes,
and 1000 each, the acceptance run, with ``RELIABILITY_FUZZ_EXAMPLES=1000``)."""

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
from reliability.sweep import to_toml

HERE = Path(__file__).parent
# examples per fuzz test (the mesh-bytes one took 111 s at 1000 on the 2-core CI machine)
EXAMPLES = int(os.environ.get("RELIABILITY_FUZZ_EXAMPLES", "300"))

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
        text = to_toml({k: v for k, v in data.items() if v is not None and not (isinstance(v, dict) and any(x is None for x in v.values()))})
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


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
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


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(data=st.data())
def test_fuzz_sweep_files(base, data, tmp_path_factory):
    d, case = base
    work = tmp_path_factory.mktemp("s")
    (work / "base.toml").write_text(to_toml(case))
    sweep = {"base": "base.toml",
             "parameters": {"materials.layer_top": ["silicon", "copper"], "analysis.temperatures_C": [[-40], [125]]},
             "sampling": {"method": "grid", "seed": 1, "n": 3}}
    mutant = data.draw(mutated(sweep))
    broken = data.draw(st.booleans()) and data.draw(st.booleans())
    (work / "s.toml").write_text(to_text(mutant, broken, data.draw(st.text(max_size=6))))
    os.chdir(work)
    check_one(work, ["sweep", "s.toml", "--dry-run", "--out", "out", "--quiet"])


# ---- path inputs: symlinks, directories, devices, FIFOs, files that are not what they claim ---------------

PATH_KINDS = ["good", "symlink", "through_linked_dir", "symlink_loop", "broken_symlink", "directory",
              "symlink_to_directory", "fifo", "symlink_to_fifo", "dev_zero", "dev_null", "empty", "text",
              "binary", "missing", "trailing_slash", "empty_string", "nul_in_name"]


def make_path(kind: str, work: Path, good: Path, name: str) -> str:
    """A path of ``kind`` inside ``work`` (or a device), standing for the regular file ``good``."""
    p = work / name
    if kind == "good":
        p.write_bytes(good.read_bytes())
    elif kind == "symlink":
        os.symlink(good, p)
    elif kind == "through_linked_dir":
        (work / "real").mkdir(exist_ok=True)
        (work / "real" / name).write_bytes(good.read_bytes())
        if not (work / "linked").exists():
            os.symlink(work / "real", work / "linked")
        return f"linked/{name}"
    elif kind == "symlink_loop":
        os.symlink(f"{name}.other", p)
        os.symlink(name, work / f"{name}.other")
    elif kind == "broken_symlink":
        os.symlink(work / "nowhere" / name, p)
    elif kind == "directory":
        p.mkdir()
    elif kind == "symlink_to_directory":
        (work / f"{name}.d").mkdir()
        os.symlink(work / f"{name}.d", p)
    elif kind == "fifo":
        os.mkfifo(p)  # opening it would block: it must never be opened
    elif kind == "symlink_to_fifo":
        os.mkfifo(work / f"{name}.fifo")
        os.symlink(work / f"{name}.fifo", p)
    elif kind == "dev_zero":
        return "/dev/zero"  # reading it never ends
    elif kind == "dev_null":
        return "/dev/null"
    elif kind == "empty":
        p.write_bytes(b"")
    elif kind == "text":
        p.write_text("this is a text file renamed\n")
    elif kind == "binary":
        p.write_bytes(bytes(range(256)) * 8)
    elif kind == "missing":
        pass
    elif kind == "trailing_slash":
        p.write_bytes(good.read_bytes())
        return f"{name}/"
    elif kind == "empty_string":
        return ""
    elif kind == "nul_in_name":
        return f"{name}\x00.x"
    return name


@settings(max_examples=max(1, EXAMPLES * 3 // 5), deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(mesh_kind=st.sampled_from(PATH_KINDS), case_kind=st.sampled_from(PATH_KINDS),
       absolute=st.booleans())
def test_fuzz_paths(base, tmp_path_factory, mesh_kind, case_kind, absolute):
    """Mesh and case paths that are links, loops, folders, devices, FIFOs, empty or foreign files: one line and
    exit code 2 (or a valid run) - never a traceback, never a hang on a FIFO or /dev/zero."""
    d, case = base
    work = tmp_path_factory.mktemp("p")
    mesh = make_path(mesh_kind, work, d / "tiny.msh", "mesh.msh")
    if absolute and mesh and not mesh.startswith("/"):
        mesh = str(work / mesh)
    data = copy.deepcopy(case)
    data["geometry"]["mesh"] = mesh
    good_case = work / "good_case.txt"
    good_case.write_text(to_toml(data))
    case_path = make_path(case_kind, work, good_case, "c.toml")
    if case_kind == "nul_in_name":
        case_path = "c\x00.toml"
    os.chdir(work)
    check_one(work, ["run", case_path or ".", "--quiet", "--out", "out"])


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(data=st.data())
def test_fuzz_mesh_file_bytes(base, data, tmp_path_factory):
    """A gmsh file cut short, with bytes changed, lines dropped or junk inserted: one line and exit code 2, or
    a valid run."""
    d, case = base
    raw = bytearray((d / "tiny.msh").read_bytes())
    for _ in range(data.draw(st.integers(1, 3))):
        action = data.draw(st.sampled_from(["truncate", "flip", "drop_line", "insert", "duplicate_line"]))
        at = data.draw(st.integers(0, max(len(raw) - 1, 0)))
        if action == "truncate":
            raw = raw[:at]
        elif action == "flip" and raw:
            raw[at] = data.draw(st.integers(0, 255))
        elif action in ("drop_line", "duplicate_line"):
            lines = bytes(raw).split(b"\n")
            k = data.draw(st.integers(0, len(lines) - 1))
            lines[k:k + 1] = [] if action == "drop_line" else [lines[k], lines[k]]
            raw = bytearray(b"\n".join(lines))
        else:
            raw[at:at] = data.draw(st.sampled_from([b"nan", b"-1", b"1e400", b"\n$EndNodes\n", b"99999999999",
                                                     b"\x00\xff", b" ", b"\n"]))
    work = tmp_path_factory.mktemp("b")
    (work / "m.msh").write_bytes(bytes(raw))
    mutant = copy.deepcopy(case)
    mutant["geometry"]["mesh"] = "m.msh"
    (work / "c.toml").write_text(to_toml(mutant))
    os.chdir(work)
    check_one(work, ["run", "c.toml", "--quiet", "--out", "out"])
