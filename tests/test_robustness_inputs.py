"""Hostile inputs (issue 20, items 1, 3, 4, 5, 11): bad mesh files, symlink loops, absurd dimensions,
runaway meshes, paths that are directories, devices or FIFOs, non-ASCII case names.

Each ends in ONE line on stderr naming the file, the key, the value and what is allowed, exit code 2,
no traceback, within 60 s.  The element estimate that refuses a runaway mesh is checked against real
meshes of the default cases."""

import os
import time
from pathlib import Path

import pytest

from reliability.case import load_case
from reliability.cli import main
from reliability.geometry import build
from reliability.sections import build_request

REPO = Path(__file__).resolve().parent.parent
BIMETAL = REPO / "meshes" / "bimetal.msh"

MESH_CASE = """
[case]
name = "bimetal"
[geometry]
mesh = "{mesh}"
[materials]
layer_top = "silicon"
layer_bottom = "copper"
[analysis]
kinematics = "plane_strain"
stress_free_temperature_C = 25
temperatures_C = [-40, 125]
[output]
plots = false
vtu = false
"""

FAMILY_CASE = """
[process]
sequence = "none"
[case]
name = "{name}"
[geometry]
family = "{family}"
[geometry.dimensions_mm]
{dims}
[mesh]
{mesh}
[analysis]
kinematics = "plane_strain"
stress_free_temperature_C = 25
temperatures_C = [-40, 125]
[output]
plots = false
vtu = false
"""


def one_line_exit_2(capsys, args, *expect):
    """``main(args)`` returns 2 within 60 s with one line on stderr containing every ``expect``."""
    t0 = time.perf_counter()
    rc = main(args)  # an exception escaping here (a traceback) fails the test
    elapsed = time.perf_counter() - t0
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert rc == 2, err
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    for e in expect:
        assert e in lines[0], (e, lines[0])
    assert elapsed < 60, elapsed
    return lines[0]


def mesh_case(tmp_path, mesh) -> str:
    (tmp_path / "c.toml").write_text(MESH_CASE.format(mesh=Path(mesh).as_posix()))
    return "c.toml"


def run_args(case="c.toml"):
    return ["run", case, "--quiet", "--out", "out"]


# ---- item 1: a mesh file that is not gmsh ---------------------------------------------------------------

@pytest.mark.parametrize("content,expect", [
    (b"hello, this is not a mesh\n", "not a gmsh mesh: the first line is 'hello, this is not a mesh'"),
    (b"", "is empty"),
    (b"\n\n", "first line is blank"),
    (bytes(range(256)) * 40, "not a gmsh mesh"),
    (b"$MeshFormat\n2.2 0 8\n$EndMeshFormat\n$Nodes\n3\n1 0 0", "cannot read as a gmsh mesh"),
])
def test_a_mesh_file_that_is_not_gmsh(tmp_path, monkeypatch, capsys, content, expect):
    """Before: exit 1 and no output at all (meshio's SystemExit after printing to a redirected stderr)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.msh").write_bytes(content)
    one_line_exit_2(capsys, run_args(mesh_case(tmp_path, "bad.msh")), "c.toml", "geometry.mesh", "bad.msh", expect)


def test_a_truncated_gmsh_file(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    text = BIMETAL.read_bytes()
    (tmp_path / "cut.msh").write_bytes(text[: len(text) // 2])
    one_line_exit_2(capsys, run_args(mesh_case(tmp_path, "cut.msh")), "cut.msh", "cannot read as a gmsh mesh")


def strip_msh(tmp_path) -> str:
    from reliability.geometry.strip import layered_strip

    layered_strip([("layer_bottom", 0.3), ("layer_top", 0.3)], 4.0, nx=2, ny=1, path=tmp_path / "strip.msh")
    return (tmp_path / "strip.msh").read_text()


@pytest.mark.parametrize("edit,expect", [
    (("\n1 -2 0 0\n", "\n1 1e400 0 0\n"), "non-finite coordinate"),
    (("\n1 -2 0 0\n", "\n1 nan 0 0\n"), "non-finite coordinate"),
    (("\n16 -2 0.1500000000002887 0\n", "\n16 5 0.1500000000002887 0\n"), "inverted or collapsed"),
])
def test_a_gmsh_file_with_impossible_geometry(tmp_path, monkeypatch, capsys, edit, expect):
    """Readable, but an infinite node or an inverted element: before, the solver's traceback ('PARDISO phase
    22 failed with error -4', SuperLU 'Factor is exactly singular'); found by the fuzz test of mesh bytes."""
    monkeypatch.chdir(tmp_path)
    text = strip_msh(tmp_path)
    assert edit[0] in text
    (tmp_path / "bad.msh").write_text(text.replace(edit[0], edit[1]))
    one_line_exit_2(capsys, run_args(mesh_case(tmp_path, "bad.msh")), "c.toml", "bad.msh", expect)


def test_a_mesh_in_two_pieces(tmp_path, monkeypatch, capsys):
    import gmsh

    gmsh.initialize(readConfigFiles=False, interruptible=False)
    try:
        gmsh.option.setNumber("General.Terminal", 0)
        a = gmsh.model.occ.addRectangle(0, 0, 0, 1, 0.2)
        b = gmsh.model.occ.addRectangle(2, 0, 0, 1, 0.2)
        gmsh.model.occ.synchronize()
        gmsh.model.addPhysicalGroup(2, [a], name="layer_top")
        gmsh.model.addPhysicalGroup(2, [b], name="layer_bottom")
        gmsh.model.addPhysicalGroup(1, [1], name="bottom")
        gmsh.option.setNumber("Mesh.MeshSizeMax", 0.1)
        gmsh.option.setNumber("Mesh.ElementOrder", 2)
        gmsh.option.setNumber("Mesh.MshFileVersion", 2.2)
        gmsh.model.mesh.generate(2)
        gmsh.write(str(tmp_path / "two.msh"))
    finally:
        gmsh.finalize()
    monkeypatch.chdir(tmp_path)
    one_line_exit_2(capsys, run_args(mesh_case(tmp_path, "two.msh")), "two.msh", "2 separate pieces",
                    "one connected body")


# ---- item 3: symbolic links ------------------------------------------------------------------------------

def test_a_symlink_loop_as_the_mesh_path(tmp_path, monkeypatch, capsys):
    """Before: RuntimeError 'Symlink loop' from Path.resolve, a traceback."""
    monkeypatch.chdir(tmp_path)
    os.symlink("loop_b.msh", tmp_path / "loop_a.msh")
    os.symlink("loop_a.msh", tmp_path / "loop_b.msh")
    one_line_exit_2(capsys, run_args(mesh_case(tmp_path, "loop_a.msh")), "c.toml", "geometry.mesh", "loop_a.msh",
                    "symbolic link loop")


def test_a_broken_symlink_as_the_mesh_path(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    os.symlink("gone.msh", tmp_path / "link.msh")
    one_line_exit_2(capsys, run_args(mesh_case(tmp_path, "link.msh")), "link.msh", "broken symbolic link",
                    "gone.msh")


def test_a_symlink_loop_as_the_case_path(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    os.symlink("b.toml", tmp_path / "a.toml")
    os.symlink("a.toml", tmp_path / "b.toml")
    one_line_exit_2(capsys, run_args("a.toml"), "a.toml", "symbolic link loop")


def test_a_good_symlink_is_followed(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    os.symlink(BIMETAL, tmp_path / "link.msh")
    os.symlink(mesh_case(tmp_path, "link.msh"), tmp_path / "linked.toml")
    assert main(run_args("linked.toml")) == 0, capsys.readouterr().err


# ---- item 4: absurd dimensions, gmsh failures ------------------------------------------------------------

@pytest.mark.parametrize("dims,expect", [
    ("die_thickness = 1e9", "geometry.dimensions_mm.die_thickness = 1e+09: outside 0.0001 to 1000 mm"),
    ("trace_thickness = 1e-7", "geometry.dimensions_mm.trace_thickness = 1e-07: outside 0.0001 to 1000 mm"),
])
def test_absurd_dimensions(tmp_path, monkeypatch, capsys, dims, expect):
    """Before (1e9): 'Cannot reparametrize a mesh node in high order meshing' from gmsh, a traceback."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.toml").write_text(FAMILY_CASE.format(name="big", family="fan_out", dims=dims, mesh=""))
    one_line_exit_2(capsys, run_args(), "c.toml", expect, "in mm")


def test_a_gmsh_failure_is_one_line(tmp_path, monkeypatch, capsys):
    """Whatever gmsh cannot mesh (it raises a bare Exception) becomes a GeometryError naming the case."""
    import reliability.geometry.assemble as assemble

    def crash(*args, **kwargs):
        raise Exception("Cannot reparametrize a mesh node in high order meshing")

    monkeypatch.setattr(assemble, "mesh_to_model", crash)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.toml").write_text(FAMILY_CASE.format(name="crash", family="wlp_paste_plug", dims="",
                                                        mesh="size_mm = 0.1\nboard_size_mm = 0.4"))
    one_line_exit_2(capsys, run_args(), "c.toml", "gmsh cannot mesh this wlp_paste_plug section",
                    "Cannot reparametrize")


# ---- item 5: runaway meshes ------------------------------------------------------------------------------

@pytest.mark.parametrize("dims,mesh,expect", [
    ("", "size_mm = 0.0005", "mesh.size_mm = 0.0005"),
    ("", "joint_size_mm = 1e-5", "joint interface bands at mesh.joint_size_mm = 1e-05"),
    ("die_thickness = 300", "", "package parts at mesh.size_mm = 0.05"),  # um typed for mm
    ("body_width = 800\ndie_width = 500", "", "800 balls at ball_pitch = 0.5 mm"),  # thousands of joints
])
def test_a_runaway_mesh_is_refused_before_meshing(tmp_path, monkeypatch, capsys, dims, mesh, expect):
    """Before: minutes of silence, memory growing about 35 MB/s."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.toml").write_text(FAMILY_CASE.format(name="runaway", family="fan_out", dims=dims, mesh=mesh))
    line = one_line_exit_2(capsys, run_args(), "c.toml", expect)
    from reliability.geometry.estimate import DEFAULT_MAX_ELEMENTS

    if "balls" not in expect:
        assert f"mesh.max_elements = {DEFAULT_MAX_ELEMENTS:,}" in line and "elements" in line
    assert not (tmp_path / "meshes" / "runaway.msh").exists()  # the refused section: nothing meshed


def test_max_elements_is_the_key_to_change(tmp_path, monkeypatch, capsys):
    """Above the limit: refused with the estimate (11,900 for a real 11,700); raised: it meshes."""
    monkeypatch.chdir(tmp_path)
    coarse = "size_mm = 0.1\nboard_size_mm = 0.4\n"
    (tmp_path / "c.toml").write_text(FAMILY_CASE.format(name="small", family="wlp_paste_plug", dims="",
                                                        mesh=coarse + "max_elements = 5000"))
    line = one_line_exit_2(capsys, ["mesh", "c.toml"], "c.toml", "mesh.max_elements = 5,000:",
                           "wlp_paste_plug assembly section would have about", "raise mesh.max_elements")
    estimate = int(line.split("about ")[1].split(" elements")[0].replace(",", ""))
    (tmp_path / "c.toml").write_text(FAMILY_CASE.format(name="small", family="wlp_paste_plug", dims="",
                                                        mesh=coarse + "max_elements = 100_000"))
    assert main(["mesh", "c.toml"]) == 0
    real = int(capsys.readouterr().out.split(": ")[1].split(" elements")[0].replace(",", ""))
    assert abs(estimate / real - 1) < 0.15, (estimate, real)


@pytest.mark.parametrize("value,expect", [("0", "greater than or equal to 1"), ('"many"', "integer"),
                                          ("1.5", "integer")])
def test_max_elements_is_validated(tmp_path, monkeypatch, capsys, value, expect):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.toml").write_text(FAMILY_CASE.format(name="v", family="fan_out", dims="",
                                                        mesh=f"max_elements = {value}"))
    one_line_exit_2(capsys, run_args(), "c.toml", "mesh.max_elements", expect)


@pytest.mark.parametrize("case,board", [("fan_out_exposed", True), ("fan_out_exposed", False),
                                        ("wlp_polyimide_land", False), ("flip_chip_on_leads", False)])
def test_the_estimate_is_within_ten_percent_of_real_meshes(case, board):
    """The calibration of reliability/geometry/estimate.py: the default cases' meshes (the estimate is
    within -6 % / +9 % of all 38 of them; these four are the largest and the two worst)."""
    request = build_request(load_case(REPO / "cases" / f"{case}.toml"), board)
    model = build(request)
    assert abs(model.info["estimated_elements"] / model.n_elements - 1) < 0.10, (
        model.info["estimated_elements"], model.n_elements)


# ---- item 11: directories, devices, FIFOs, non-ASCII names -----------------------------------------------

def test_a_directory_as_the_mesh_path(tmp_path, monkeypatch, capsys):
    """Before: 'mesh file not found' about a path that exists."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "folder.msh").mkdir()
    one_line_exit_2(capsys, run_args(mesh_case(tmp_path, "folder.msh")), "c.toml", "geometry.mesh = 'folder.msh'",
                    "exists but is a directory, not a regular mesh file")


def test_a_device_as_the_mesh_path(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    one_line_exit_2(capsys, run_args(mesh_case(tmp_path, "/dev/zero")), "geometry.mesh = '/dev/zero'",
                    "exists but is a character device")


def test_a_fifo_as_the_mesh_path(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    os.mkfifo(tmp_path / "pipe.msh")  # opening it would block forever
    one_line_exit_2(capsys, run_args(mesh_case(tmp_path, "pipe.msh")), "pipe.msh", "FIFO (named pipe)")


def test_a_missing_mesh_is_still_not_found(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    one_line_exit_2(capsys, run_args(mesh_case(tmp_path, "none.msh")), "geometry.mesh", "mesh file not found")


@pytest.mark.parametrize("kind", ["directory", "fifo", "device"])
def test_a_case_path_that_is_not_a_file(tmp_path, monkeypatch, capsys, kind):
    """Before (a directory): 'case file does not exist'."""
    monkeypatch.chdir(tmp_path)
    if kind == "directory":
        (tmp_path / "case.toml").mkdir()
        path, expect = "case.toml", "exists but is a directory, not a regular TOML file"
    elif kind == "fifo":
        os.mkfifo(tmp_path / "case.toml")
        path, expect = "case.toml", "FIFO"
    else:
        path, expect = "/dev/zero", "character device"
    one_line_exit_2(capsys, run_args(path), path, expect)


@pytest.mark.parametrize("name,expect", [("Lötstelle", "(e.g. 'Lotstelle')"), ("焊点", "'焊' (U+710A)"),
                                         ("Æble", "'Æ' (U+00C6)")])
def test_a_non_ascii_case_name(tmp_path, monkeypatch, capsys, name, expect):
    """Before: refused as not 'letters' - but ö is a letter; the rule is ASCII."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.toml").write_text(MESH_CASE.format(mesh=BIMETAL.as_posix()).replace('"bimetal"', f'"{name}"'),
                                     encoding="utf-8")
    one_line_exit_2(capsys, run_args(), "c.toml", f"case.name = '{name}'", "must be ASCII", expect)


# ---- the mesh cache of a family case ---------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["directory", "symlink_loop", "file_as_folder"])
def test_an_unusable_mesh_folder(tmp_path, monkeypatch, capsys, kind):
    """The cached mesh of a family case cannot be written: refused before meshing, one line."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.toml").write_text(FAMILY_CASE.format(name="cache", family="wlp_paste_plug", dims="",
                                                        mesh="size_mm = 0.1\nboard_size_mm = 0.4"))
    if kind == "directory":
        (tmp_path / "m" / "cache.msh").mkdir(parents=True)
        expect = "exists but is a directory"
    elif kind == "symlink_loop":
        (tmp_path / "m").mkdir()
        os.symlink("cache.msh", tmp_path / "m" / "cache.msh")
        expect = "symbolic link loop"
    else:
        (tmp_path / "m").write_text("a file")
        expect = "is a file, not a folder"
    one_line_exit_2(capsys, ["mesh", "c.toml", "--out", "m"], "c.toml", "cannot write the mesh", expect)


# ---- item 9: one broken material file --------------------------------------------------------------------

MUTATIONS = {
    "decreasing T_C": (lambda s: s.replace("T_C = [-65, 160, 180, 300]", "T_C = [-65, 180, 160, 300]"),
                       "alpha3_per_K = {T_C, value}: table temperatures T_C must increase strictly"),
    "unequal lengths": (lambda s: s.replace("T_C = [-65, 160, 180, 300]", "T_C = [-65, 160, 300]"),
                        "alpha3_per_K = {T_C, value}: a table needs T_C and value lists of the same length"),
    "not TOML": (lambda s: s + "\nthis is = = not toml\n", "not valid TOML"),
    "quoted number": (lambda s: s.replace("E1_MPa = 22000", 'E1_MPa = "22000"'),
                      "E1_MPa = '22000': expected a number (without quotes)"),
    "unknown key": (lambda s: s.replace("E1_MPa = 22000", "E1_MPa = 22000\nE9_MPa = 1"), "unknown key 'E9_MPa'"),
}


@pytest.fixture
def broken_library(tmp_path, monkeypatch, request):
    """A copy of the library with materials/fr4.toml mutated; the lookup cache cleared around it."""
    from reliability import library

    lib = tmp_path / "lib"
    lib.mkdir()
    for f in (REPO / "materials").glob("*.toml"):
        (lib / f.name).write_text(f.read_text())
    mutate, expect = MUTATIONS[request.param]
    fr4 = lib / "fr4.toml"
    text = fr4.read_text()
    assert mutate(text) != text, "the mutation no longer matches materials/fr4.toml"
    fr4.write_text(mutate(text))
    monkeypatch.setenv("RELIABILITY_MATERIALS", str(lib))
    library._load.cache_clear()
    yield fr4, expect
    library._load.cache_clear()


@pytest.mark.parametrize("broken_library", list(MUTATIONS), indirect=True)
def test_a_broken_material_file_is_named_with_what_is_wrong(broken_library, tmp_path, monkeypatch, capsys):
    fr4, expect = broken_library
    monkeypatch.chdir(tmp_path)
    line = one_line_exit_2(capsys, ["materials", "fr4"], str(fr4), expect)
    assert "cannot be used" in line


@pytest.mark.parametrize("broken_library", ["decreasing T_C"], indirect=True)
def test_a_broken_material_file_does_not_block_cases_that_do_not_use_it(broken_library, tmp_path, monkeypatch,
                                                                         capsys):
    fr4, expect = broken_library
    monkeypatch.chdir(tmp_path)
    # the bimetal case uses silicon and copper only: it runs
    assert main(run_args(mesh_case(tmp_path, BIMETAL))) == 0
    summary = (tmp_path / "out" / "summary.json").read_text()
    assert '"warpage_um"' in summary
    capsys.readouterr()
    # the library listing shows the good materials and names the broken file, exit 2
    assert main(["materials"]) == 2
    out, err = capsys.readouterr()
    assert "silicon" in out and "SAC305" in out and "fr4" not in out.split()
    assert str(fr4) in err and expect in err
    # a case that uses it gets the file's own error, naming the case key that asked for it
    (tmp_path / "fo.toml").write_text((REPO / "cases" / "fan_out_exposed.toml").read_text())
    line = one_line_exit_2(capsys, ["run", "fo.toml", "--quiet", "--out", "out_fo"], "fr4", str(fr4), expect)
    assert line.startswith("error: fo.toml")
