"""The shape the design card asks for: lessons/ is pure, pages/ holds only pages built on one
protocol, Streamlit's internals are touched in one module, and light pages don't pay for torch."""

import ast
import subprocess
import sys
from pathlib import Path

from app.registry import PAGES

ROOT = Path(__file__).resolve().parent.parent
COMPAT = ROOT / "app" / "streamlit_compat.py"
APP_CODE = [*ROOT.glob("app/*.py"), *ROOT.glob("pages/*.py"), *ROOT.glob("lessons/*.py"), ROOT / "streamlit_app.py",
            *ROOT.glob("tests/**/*.py"), *ROOT.glob("benchmarks/*.py")]


def imports(path: Path) -> set[str]:
    """The full names of every module and name ``path`` imports (``streamlit.runtime.x``, ``pkg.name``)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def test_lessons_never_import_streamlit():
    offenders = [p.name for p in (ROOT / "lessons").glob("*.py") if any(n.split(".")[0] == "streamlit" for n in imports(p))]
    assert not offenders, f"lessons/ must stay UI-free: {offenders}"


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


def test_every_page_runs_inside_the_page_protocol():
    """Each page's body is one top-level ``with ui.page(...)``; no page reads settings around it."""
    for spec in PAGES:
        tree = ast.parse((ROOT / spec.path).read_text(encoding="utf-8"))
        withs = [node for node in tree.body if isinstance(node, ast.With)]
        assert len(withs) == 1, f"{spec.path}: one top-level `with ui.page(...)`"
        call = withs[0].items[0].context_expr
        assert isinstance(call, ast.Call) and ast.unparse(call.func) == "ui.page", spec.path
        name = call.args[0]
        value = name.value if isinstance(name, ast.Constant) else next(
            node.value.value for node in tree.body if isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == name.id for t in node.targets))
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
