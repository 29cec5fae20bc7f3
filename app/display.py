"""The projector's large type: a sidebar toggle (or ``?large=1``) that enlarges text and charts."""

from __future__ import annotations

from typing import Any

import streamlit as st

from app.i18n import t

LARGE_KEY = "large"  # session state and URL parameter of the projector's large type (1 = on)
# Font sizes (px) of chart parts in large type; Vega-Lite's defaults are 10-11 px, fine on a
# laptop and unreadable from the back of a classroom.
LARGE_FONTS = {"label": 17, "title": 19, "legend_label": 16, "legend_title": 18, "heading": 22}
# A chart's height in large type, as a share of its own: its text takes half as much room again.
LARGE_HEIGHT = 1.5
# Text in large type: Streamlit sizes its text in rem, so one root size scales it all.
# Buttons and tabs wrap their words instead of cutting them with "…" ("Reset to de…") in the larger type.
LARGE_CSS = ("<style>html { font-size: 21px; } [data-testid='stSidebar'] { font-size: 18px; }"
             " [data-testid^='stBaseButton'] p { white-space: normal; overflow: visible; text-overflow: clip; }"
             " [data-baseweb='tab-list'] { flex-wrap: wrap; }"
             " [data-baseweb='tab'] p { white-space: normal; overflow: visible; text-overflow: clip; }</style>")


def large_type() -> bool:
    """Whether the viewer asked for the projector's large type (sidebar toggle or ``?large=1``)."""
    if LARGE_KEY not in st.session_state:
        return st.query_params.get(LARGE_KEY) == "1"
    return bool(st.session_state[LARGE_KEY])


def large_type_switch() -> None:
    """The sidebar's projector toggle; while on, the page's text is larger (charts: ``show_chart``)."""
    # Seeded through ``value``, never st.session_state: a page switch remounts the toggle at its ``value``.
    st.sidebar.toggle(t("app.large_type"), value=large_type(), key=LARGE_KEY, help=t("app.large_type_help"))
    if st.session_state[LARGE_KEY]:
        st.html(LARGE_CSS)


def projector_config(config: dict[str, Any] | None = None) -> dict[str, Any]:
    """A Vega-Lite ``config`` with the projector's large axis, legend and title fonts merged in."""
    big = {
        "axis": {"labelFontSize": LARGE_FONTS["label"], "titleFontSize": LARGE_FONTS["title"]},
        # No label limit: Vega's 160 px, made for 11 px type, would cut a legend's name in large type.
        "legend": {"labelFontSize": LARGE_FONTS["legend_label"], "titleFontSize": LARGE_FONTS["legend_title"],
                   "labelLimit": 0},
        "header": {"labelFontSize": LARGE_FONTS["label"], "titleFontSize": LARGE_FONTS["title"]},
        "title": {"fontSize": LARGE_FONTS["heading"]},
        "text": {"fontSize": LARGE_FONTS["label"]},
    }
    merged = dict(config or {})
    for part, sizes in big.items():
        own = merged.get(part, {})  # a chart's own size larger than these stays
        merged[part] = {**own, **{name: size if name == "labelLimit" else max(size, own.get(name, 0))
                                  for name, size in sizes.items()}}
    return merged


# A size a chart sets on one of its own parts wins over the config: each such key is raised to at
# least its large size (mark text to the label size, a chart's title to the heading size).
_OWN_SIZES = {"labelFontSize": "label", "titleFontSize": "title", "fontSize": "label"}


def enlarged(spec: Any, part: str = "") -> Any:
    """``spec`` (a Vega-Lite dict) with every font size it sets itself raised to the projector's, and
    ``projector_config`` at its top: large type then reaches axis and legend titles, titles and the
    text marks of every chart, whatever the chart set. Its data (``datasets``, ``values``) is shared, not copied."""
    if isinstance(spec, list):
        return [enlarged(item, part) for item in spec]
    if not isinstance(spec, dict):
        return spec
    out = {}
    for key, value in spec.items():
        if key in ("datasets", "values", "data"):
            out[key] = value
        elif key in _OWN_SIZES and isinstance(value, (int, float)):
            role = "heading" if key == "fontSize" and part == "title" else _OWN_SIZES[key]
            out[key] = max(value, LARGE_FONTS[role])
        else:
            out[key] = enlarged(value, key)
    if not part:
        out["config"] = projector_config(out.get("config"))
        if isinstance(out.get("height"), (int, float)):  # the larger axes and legends keep their plot's room
            out["height"] = round(out["height"] * LARGE_HEIGHT)
    return out
