"""The "take it home" expander, the same on every page that has an experiment to export: the page's
program (``export.course_code``), its download, how to run it, and for the regression the data it reads."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import streamlit as st

import export
from app.i18n import STRINGS, lang, t
from app.state import Page
from lessons import regression

EXAMPLE = Path(__file__).resolve().parent.parent / "data" / "example.csv"


def run_hint(page: str, language: str, data_name: str | None = None) -> str:
    """The one line the page shows under the code: how to run it, in ``language``."""
    return STRINGS[f"export.run.{page}"][language].format(command=export.run_command(page, data_name))


def program_data(settings: Mapping[str, Any], data_name: str | None = None, points: Any = None) -> bytes | None:
    """The file the regression program reads by default, as the page has it: the course's data.csv
    (read where ``regression.course_data_path`` finds it), the example, or the student's upload
    written back as CSV from ``points``; None when the page has no such data now."""
    source = export.settings_for("regression", settings)["data"]
    if source == "course":
        path = regression.course_data_path()
        try:
            return Path(path).read_bytes() if path else None
        except OSError:  # the page says the file is unreadable
            return None
    if source == "upload":
        return regression.points_to_csv(points).encode() if data_name and points is not None else None
    return EXAMPLE.read_bytes()


def take_home(p: Page, settings: Mapping[str, Any], *, data_name: str | None = None, points: Any = None) -> None:
    """The page's experiment as a stand-alone PyTorch program: the code, a download, how to run it.

    ``data_name`` and ``points``: the regression's uploaded file's name and its points, so the
    program names the file and the student can download the data it reads.
    Written only while the expander is open, so a page's rerun does not pay for it.
    """
    page = p.name
    home = st.expander(t("export.title"), icon="🏠", key=p.key("__home"), on_change="rerun")
    with home:
        if not home.open:
            return
        values = {name: p[name] for name in settings}
        try:
            code = export.course_code(page, values, lang=lang(), data_name=data_name)
        except export.ExportError as e:
            st.error(t(f"export.err.{e.code}", **e.fields))
            return
        st.caption(t("export.intro"))
        st.code(code, language="python")
        file = export.course_code_filename(page)
        st.download_button(t("export.download", file=file), code, file_name=file, mime="text/x-python",
                           key=p.key("__download_code"), on_click="ignore", icon="⬇️")
        if page == "regression":
            data = program_data(values, data_name, points)
            if data is not None:
                name = export.data_file(values, data_name)
                st.download_button(t("export.download_data", file=name), data, file_name=name, mime="text/csv",
                                   key=p.key("__download_data"), on_click="ignore", icon="⬇️")
        st.markdown(run_hint(page, lang(), data_name=data_name))
