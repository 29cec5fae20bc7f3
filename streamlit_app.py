"""Entry point: `streamlit run streamlit_app.py`. Builds the course's navigation, the language switch
and the projector's large type."""

import streamlit as st

from app import classboard, kept_work, ui  # noqa: F401 - imported for their effect: the class kept in every link, the work kept for the browser
from app.a11y import focusable_formulas
from app.heap import freeze_once
from app.i18n import mark_page_language
from app.lead import lead_bar
from app.navigation import sidebar_links
from app.state import kept_params
from app.streamlit_compat import forget_unknown_page, one_history_entry_per_page

freeze_once()  # the post-run collection skips what is loaded now (`make run` freezes torch too: serve/worker.py)

# Wide enough for the longest English title ("4 From regression to classification") on one line; folded
# away in the projector's large type, where the page needs the whole screen.
st.set_page_config(page_icon="🧠", layout="wide", initial_sidebar_state="collapsed" if ui.large_type() else 330)

# Streamlit leaves 6rem above the title; on a 768 px classroom screen that is room for the experiment.
# On a phone a page title takes three lines at Streamlit's size: two at this one.
# Captions: Streamlit greys them to 4.2:1 against the page; the text colour at 78 % is 7:1 on the light
# theme and 9:1 on the dark one (WCAG AA asks 4.5:1).
st.html("<style>[data-testid='stMainBlockContainer'] { padding-top: 2.5rem; }"
        " @media (max-width: 640px) { [data-testid='stMain'] h1 { font-size: 2rem; } }"
        " [data-testid='stCaptionContainer'] { color: inherit !important; opacity: .78; }"
        # Inline code in a caption keeps its own green, which the caption's fading takes below 4.5:1.
        " [data-testid='stCaptionContainer'] code { color: inherit; }</style>")
ui.language_switch()
mark_page_language()
focusable_formulas()
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

page = st.navigation(sections, position="hidden")
# The browser tab names the page in the viewer's language (a fixed page_title would stay English).
st.set_page_config(page_title=f"{page.title} · {ui.t('app.title')}")
sidebar_links(sections, kept_params())
ui.share_caption()
one_history_entry_per_page(st.sidebar)
if lost:
    st.warning(ui.t("app.page_not_found"), icon="🧭")
lead_bar(next((spec.name for spec in ui.PAGES if spec.url_path == page.url_path), ui.HOME.name))
page.run()
