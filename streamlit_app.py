"""Entry point: `streamlit run streamlit_app.py`. Builds the course's navigation and the language switch."""

import streamlit as st

from app import ui

st.set_page_config(page_title="Deep Learning, Hands-on", page_icon="🧠", layout="wide")

ui.language_switch()

sections: dict[str, list] = {}
for spec in ui.PAGES:
    sections.setdefault(ui.t(spec.section), []).append(
        st.Page(
            spec.path,
            title=ui.t(f"page.{spec.name}.title"),
            icon=spec.icon,
            url_path=spec.url_path,
            default=spec is ui.HOME,
        )
    )

page = st.navigation(sections)
ui.share_caption()
page.run()
