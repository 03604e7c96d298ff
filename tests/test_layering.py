"""Imports point down the data flow: case -> geometry / mesh -> materials -> fem -> analysis -> results -> post -> CLI.

The solver stack (``io/``, ``constitutive/``, ``fem/``, ``analysis/``, ``process/``) must not import from what
sits above it: ``post/``, ``export/``, the commands (``cli``, ``run*``, ``compare``, ``sweep``, ``api``,
``process_case``); ``fem/`` not from ``analysis/``; ``constitutive/`` not from ``fem/`` or ``analysis/``;
``io/`` from nothing else of the package.  Imports are read with :mod:`ast` (lazy ones inside functions
count too), relative ones resolved.  An edge that is known and not yet fixed is in ``ALLOWED`` with the reason;
any other one fails, and so does an ``ALLOWED`` entry that no longer occurs (remove it).
"""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "reliability"

COMMANDS = ("reliability.post", "reliability.export", "reliability.cli", "reliability.run", "reliability.compare",
            "reliability.sweep", "reliability.api", "reliability.process_case")
# importer package -> packages (and top-level modules) it must not import from; "reliability.run" also
# stands for run3d, run3d_cycling (a prefix of the module name, not of the dotted path)
FORBIDDEN = {
    "reliability.io": ("reliability.",),  # nothing else of the package
    "reliability.constitutive": COMMANDS + ("reliability.fem", "reliability.analysis", "reliability.process"),
    "reliability.fem": COMMANDS + ("reliability.analysis", "reliability.process"),
    "reliability.analysis": COMMANDS,
    "reliability.process": COMMANDS,
}

# (importer, imported): why it is still there.  Fixing one means deleting its entry.
ALLOWED = {
    # on_terminal / progress_line now live in reliability.io.progress (post.progress re-exports them);
    # process/section.py is edited elsewhere: its import is to move to ..io.progress
    ("reliability.process.section", "reliability.post.progress"): "not yet moved to reliability.io.progress",
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path):
    """(line, dotted module) of every import of the package in ``path``; ``from . import x`` names ``x``."""
    me = module_name(path)
    package = me if path.name == "__init__.py" else me.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "reliability":
                    yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "reliability":
                continue
            if node.module:
                yield node.lineno, target
            else:
                for alias in node.names:
                    yield node.lineno, f"{target}.{alias.name}"


def forbidden(importer: str, target: str) -> bool:
    """Whether ``importer`` may not import ``target`` (both dotted module names)."""
    def under(name: str, prefix: str) -> bool:
        return name == prefix or name.startswith(prefix + ".")

    for owner, banned in FORBIDDEN.items():
        if not under(importer, owner) or under(target, owner):
            continue  # not governed by this rule, or inside its own package
        for b in banned:
            if b == "reliability." and target.startswith(b):
                return True
            if b == "reliability.run" and target.startswith(b):  # run, run3d, run3d_cycling
                return True
            if under(target, b):
                return True
    return False


def upward_edges():
    for path in sorted(PACKAGE.rglob("*.py")):
        importer = module_name(path)
        for line, target in imported_modules(path):
            if forbidden(importer, target):
                yield importer, target, f"{path.relative_to(PACKAGE.parent)}:{line}"


def test_the_solver_stack_imports_nothing_above_it():
    new = [f"{where}: {a} imports {b}" for a, b, where in upward_edges() if (a, b) not in ALLOWED]
    assert not new, "upward imports (move the helper down, or pass a callback):\n" + "\n".join(new)


def test_every_allowed_upward_import_still_exists():
    found = {(a, b) for a, b, _ in upward_edges()}
    stale = sorted(set(ALLOWED) - found)
    assert not stale, f"fixed, remove from ALLOWED: {stale}"


def test_the_checker_sees_an_upward_import():
    """The rules catch what they are for (post/ from analysis/, analysis/ from fem/, run3d from analysis/,
    anything from io/) and pass downward imports and look-alike names."""
    assert forbidden("reliability.analysis.cycling", "reliability.post.files")
    assert forbidden("reliability.fem.solvers", "reliability.analysis.incremental")
    assert forbidden("reliability.constitutive.anand", "reliability.fem.threads")
    assert forbidden("reliability.analysis.cycling3d", "reliability.run3d_cycling")
    assert forbidden("reliability.io.files", "reliability.errors")
    assert not forbidden("reliability.io.files", "reliability.io.progress")
    assert not forbidden("reliability.analysis.cycling", "reliability.io.files")
    assert not forbidden("reliability.analysis.cycling", "reliability.fem.threads")
    assert not forbidden("reliability.analysis.cycling", "reliability.postal")  # a prefix of a name, not a package
    assert not forbidden("reliability.post.files", "reliability.io.files")
    assert not forbidden("reliability.run", "reliability.post.files")
    lines = {t for _, t in imported_modules(PACKAGE / "analysis" / "cycling.py")}
    assert {"reliability.io.files", "reliability.io.progress", "reliability.analysis.incremental"} <= lines
