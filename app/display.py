"""The projector's large type: a sidebar toggle (or ``?large=1``) that enlarges text and charts."""

from __future__ import annotations

from typing import Any

import streamlit as st

from app.i18n import t

LARGE_KEY = "large"  # session state and URL parameter of the projector's large type (1 = on)
# Font sizes (px) of chart parts in large type; Vega-Lite's defaults are 10-11 px, fine on a
# laptop and unreadable from the back of a classroom.
LARGE_FONTS = {"label": 17, "title": 19, "legend_label": 16, "legend_title": 18, "heading": 22}
# Text in large type: Streamlit sizes its text in rem, so one root size scales it all.
LARGE_CSS = "<style>html { font-size: 21px; } [data-testid='stSidebar'] { font-size: 18px; }</style>"


def large_type() -> bool:
    """Whether the viewer asked for the projector's large type (sidebar toggle or ``?large=1``)."""
    if LARGE_KEY not in st.session_state:
        return st.query_params.get(LARGE_KEY) == "1"
    return bool(st.session_state[LARGE_KEY])


def large_type_switch() -> None:
    """The sidebar's projector toggle; while on, the page's text is larger (charts: ``show_chart``)."""
    if LARGE_KEY not in st.session_state:
        st.session_state[LARGE_KEY] = large_type()
    st.sidebar.toggle(t("app.large_type"), key=LARGE_KEY, help=t("app.large_type_help"))
    if st.session_state[LARGE_KEY]:
        st.html(LARGE_CSS)


def projector_config(config: dict[str, Any] | None = None) -> dict[str, Any]:
    """A Vega-Lite ``config`` with the projector's large axis, legend and title fonts merged in."""
    big = {
        "axis": {"labelFontSize": LARGE_FONTS["label"], "titleFontSize": LARGE_FONTS["title"]},
        "legend": {"labelFontSize": LARGE_FONTS["legend_label"], "titleFontSize": LARGE_FONTS["legend_title"]},
        "header": {"labelFontSize": LARGE_FONTS["label"], "titleFontSize": LARGE_FONTS["title"]},
        "title": {"fontSize": LARGE_FONTS["heading"]},
        "text": {"fontSize": LARGE_FONTS["label"]},
    }
    merged = dict(config or {})
    for part, sizes in big.items():
        merged[part] = {**merged.get(part, {}), **sizes}
    return merged
