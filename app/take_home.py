"""Issue 16's "take it home" expander, the same on every page that has an experiment to export."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

from app.i18n import lang, t
from app.state import Page
from lessons import export


def take_home(p: Page, settings: Mapping[str, Any], *, data_name: str | None = None) -> None:
    """The page's experiment as a stand-alone PyTorch program: the code, a download, how to run it.

    Written only while the expander is open, so a page's rerun does not pay for it.
    """
    page = p.name
    home = st.expander(t("export.title"), icon="🏠", key=p.key("__home"), on_change="rerun")
    with home:
        if not home.open:
            return
        try:
            code = export.course_code(page, {name: p[name] for name in settings}, lang=lang(), data_name=data_name)
        except export.ExportError as e:
            st.error(t(f"export.err.{e.code}", **e.fields))
            return
        st.caption(t("export.intro"))
        st.code(code, language="python")
        file = export.course_code_filename(page)
        st.download_button(t("export.download", file=file), code, file_name=file, mime="text/x-python",
                           key=p.key("__download_code"), on_click="ignore", icon="⬇️")
        st.markdown(export.run_hint(page, lang(), data_name=data_name))
