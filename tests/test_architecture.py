"""The shape the design card asks for: lessons/ is pure, light pages don't pay for torch."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_lessons_never_import_streamlit():
    offenders = [p.name for p in (ROOT / "lessons").rglob("*.py") if "streamlit" in imported_modules(p)]
    assert not offenders, f"lessons/ must stay UI-free: {offenders}"


def test_lessons_import_no_module_level_torch_where_not_needed():
    """The torch-free lessons and the page helpers import without loading torch."""
    light = ["pages.ui", "pages.strings", "lessons.descent", "lessons.regression", "lessons.classification"]
    code = (
        "import importlib, sys\n"
        f"for m in {light!r}:\n"
        "    try: importlib.import_module(m)\n"
        "    except ModuleNotFoundError as e:\n"
        "        if e.name != m: raise\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_top_level_layout():
    for name in ["streamlit_app.py", "pages", "lessons", "data", "tests", "requirements.txt", ".streamlit/config.toml"]:
        assert (ROOT / name).exists(), name


def test_requirements_are_pinned_exactly():
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            assert "==" in line, f"not pinned: {line}"
    text = (ROOT / "requirements.txt").read_text()
    assert "torch==2.14.1" in text and "torchvision==0.29.1" in text
    assert "streamlit==1.67.0" in text and "streamlit-drawable-canvas==0.13.0" in text
