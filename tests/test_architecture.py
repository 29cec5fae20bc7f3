"""The layout the README describes, enforced: lessons/ is the course alone, pages/ holds only short
pages built on one protocol (no chart specs, no fragment that forgets the URL), Streamlit's internals
are touched in one module, and light pages don't pay for torch."""

import ast
import importlib
import subprocess
import sys
from pathlib import Path

from app.registry import PAGES

ROOT = Path(__file__).resolve().parent.parent
COMPAT = ROOT / "app" / "streamlit_compat.py"
APP_CODE = [*ROOT.glob("app/**/*.py"), *ROOT.glob("pages/*.py"), *ROOT.glob("lessons/**/*.py"),
            *ROOT.glob("classroom/**/*.py"), ROOT / "streamlit_app.py", *ROOT.glob("tests/**/*.py"),
            *ROOT.glob("benchmarks/*.py")]

# What the course's own code may import besides itself: its maths and data, nothing of a server.
LESSONS_MAY_IMPORT = {"numpy", "pandas", "torch", "torchvision"}
PAGE_BUDGET = 200  # lines: a page reads top to bottom as the lesson; charts, state machines and helpers live in app/
# Fragments that may rerun without writing the URL, because no setting is drawn or read inside them.
BARE_FRAGMENTS = {
    ("classboard", "live_board"): "refreshes the class's runs every few seconds; reads the room, no setting",
    ("classboard", "handwriting"): "refreshes the class's drawings every few seconds; reads the room, no setting",
}
VEGA_LITE_KEYS = {"mark", "encoding", "layer", "hconcat", "vconcat", "$schema"}


def imports(path: Path) -> set[str]:
    """The full names of every module and name ``path`` imports (``streamlit.runtime.x``, ``pkg.name``)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def test_lessons_import_only_the_maths_the_course_uses():
    """lessons/ is the course: numpy, pandas, torch, torchvision and the standard library. No UI, no
    database, no locks, no app (the class board, model store and training slots live in classroom/)."""
    offenders = {}
    for path in (ROOT / "lessons").rglob("*.py"):
        roots = {name.split(".")[0] for name in imports(path)}
        foreign = sorted(roots - LESSONS_MAY_IMPORT - {"lessons", "__future__"} - set(sys.stdlib_module_names))
        server = sorted(roots & {"fcntl", "sqlite3"})
        if foreign or server:
            offenders[str(path.relative_to(ROOT))] = foreign + server
    assert not offenders, f"lessons/ imports more than {sorted(LESSONS_MAY_IMPORT)} and the standard library: {offenders}"


def test_only_the_compat_module_touches_streamlit_internals():
    def private(name: str) -> bool:
        parts = name.split(".")
        return parts[0] == "streamlit" and ("runtime" in parts or any(part.startswith("_") for part in parts))

    offenders = {
        str(p.relative_to(ROOT)): sorted(n for n in imports(p) if private(n))
        for p in APP_CODE if p != COMPAT and any(private(n) for n in imports(p))
    }
    assert not offenders, f"only {COMPAT.relative_to(ROOT)} may import Streamlit internals: {offenders}"
    assert any(private(n) for n in imports(COMPAT)), "the compat module's check no longer sees what it guards"


def test_pages_holds_exactly_the_registered_page_scripts():
    on_disk = {p.relative_to(ROOT).as_posix() for p in (ROOT / "pages").iterdir() if p.name != "__pycache__"}
    assert on_disk == {spec.path for spec in PAGES}


def module_constant(tree: ast.Module, name: str) -> object:
    """The value of ``name`` at a page's top level: assigned there, or imported from a module."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return ast.literal_eval(node.value)
        if isinstance(node, ast.ImportFrom) and node.module and any((a.asname or a.name) == name for a in node.names):
            alias = next(a for a in node.names if (a.asname or a.name) == name)
            return getattr(importlib.import_module(node.module), alias.name)
    raise AssertionError(f"{name} is neither assigned nor imported at the page's top level")


def test_every_page_runs_inside_the_page_protocol():
    """Each page's body is one top-level ``with ui.page(...)``; no page reads settings around it."""
    for spec in PAGES:
        tree = ast.parse((ROOT / spec.path).read_text(encoding="utf-8"))
        withs = [node for node in tree.body if isinstance(node, ast.With)]
        assert len(withs) == 1, f"{spec.path}: one top-level `with ui.page(...)`"
        call = withs[0].items[0].context_expr
        assert isinstance(call, ast.Call) and ast.unparse(call.func) == "ui.page", spec.path
        name = call.args[0]
        value = name.value if isinstance(name, ast.Constant) else module_constant(tree, name.id)
        assert value == spec.name, f"{spec.path} runs as page {value!r}"
        after = tree.body[tree.body.index(withs[0]) + 1:]
        assert not after, f"{spec.path}: code after the page block runs after the URL sync"


def test_lessons_and_the_app_package_import_without_torch():
    """The torch-free lessons and the page helpers import without loading torch."""
    light = ["app.ui", "lessons.descent", "lessons.regression", "lessons.classification", "lessons.network"]
    code = f"import importlib, sys\nfor m in {light!r}: importlib.import_module(m)\nassert 'torch' not in sys.modules\n"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_requirements_are_pinned_exactly():
    loose = [line for line in (ROOT / "requirements.txt").read_text().splitlines()
             if line.split("#")[0].strip() and "==" not in line]
    assert not loose, f"not pinned: {loose}"


def page_tree(spec) -> ast.Module:
    return ast.parse((ROOT / spec.path).read_text(encoding="utf-8"))


def test_every_page_fits_the_budget():
    long = {spec.path: n for spec in PAGES if (n := len((ROOT / spec.path).read_text(encoding="utf-8").splitlines())) > PAGE_BUDGET}
    assert not long, f"pages over {PAGE_BUDGET} lines (move charts to app/charts/<topic>.py, logic to lessons/): {long}"


def bare_fragments(tree: ast.Module) -> list[tuple[str, int]]:
    """(function name, line) of each use of Streamlit's own ``st.fragment`` in a page."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for decorator in node.decorator_list:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                if ast.unparse(target) in ("st.fragment", "streamlit.fragment", "fragment"):
                    found.append((node.name, node.lineno))
        elif isinstance(node, ast.Call) and ast.unparse(node.func) in ("st.fragment", "streamlit.fragment") and node.args:
            found.append((ast.unparse(node.args[0]), node.lineno))
        elif isinstance(node, ast.ImportFrom) and node.module == "streamlit" and any(a.name == "fragment" for a in node.names):
            found.append(("from streamlit import fragment", node.lineno))
    return found


def test_pages_use_the_fragment_that_keeps_the_url():
    """A bare ``st.fragment`` rerun skips the page's URL sync, so a shared link goes stale; ``ui.fragment``
    writes the settings after every run. Only fragments without any setting may stay bare."""
    offenders = [f"{spec.path}:{line} {name}" for spec in PAGES for name, line in bare_fragments(page_tree(spec))
                 if (spec.name, name) not in BARE_FRAGMENTS]
    assert not offenders, f"use ui.fragment (or add a settings-free fragment to BARE_FRAGMENTS, with why): {offenders}"
    known = {(spec.name, name) for spec in PAGES for name, _ in bare_fragments(page_tree(spec))}
    assert set(BARE_FRAGMENTS) <= known, f"allowed but gone, drop them: {set(BARE_FRAGMENTS) - known}"


def vega_lite_literals(tree: ast.Module) -> list[int]:
    """Lines of dict literals (or ``dict(...)`` calls) that build a Vega-Lite spec: "mark", "encoding", ..."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            keys = {k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)}
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict":
            keys = {k.arg for k in node.keywords if k.arg}
        else:
            continue
        if keys & VEGA_LITE_KEYS:
            lines.append(node.lineno)
    return lines


def test_no_page_builds_a_vega_lite_spec():
    """Chart specs are built in app/charts/<topic>.py (checked once, shared, testable without a page)."""
    offenders = {spec.path: lines for spec in PAGES if (lines := vega_lite_literals(page_tree(spec)))}
    assert not offenders, f"Vega-Lite spec literals in pages (move them to app/charts/): {offenders}"
