"""Entry point: `streamlit run streamlit_app.py`. Builds the course's navigation, the language switch
and the projector's large type."""

import streamlit as st

from app import ui
from app.heap import freeze_once
from app.i18n import mark_page_language
from app.streamlit_compat import forget_unknown_page, one_history_entry_per_page

freeze_once()  # the post-run collection skips what is loaded now (`make run` freezes torch too: serve/worker.py)

# Wide enough for the longest English title ("4 From regression to classification") on one line.
st.set_page_config(page_icon="🧠", layout="wide", initial_sidebar_state=330)

# Streamlit leaves 6rem above the title; on a 768 px classroom screen that is room for the experiment.
# On a phone a page title takes three lines at Streamlit's size: two at this one.
st.html("<style>[data-testid='stMainBlockContainer'] { padding-top: 2.5rem; }"
        " @media (max-width: 640px) { [data-testid='stMain'] h1 { font-size: 2rem; } }</style>")
ui.language_switch()
mark_page_language()
ui.large_type_switch()

lost = forget_unknown_page({spec.url_path for spec in ui.PAGES})
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
# The browser tab names the page in the viewer's language (a fixed page_title would stay English).
st.set_page_config(page_title=f"{page.title} · {ui.t('app.title')}")
ui.share_caption()
one_history_entry_per_page(st.sidebar)
if lost:
    st.warning(ui.t("app.page_not_found"), icon="🧭")
page.run()
