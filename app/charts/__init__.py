"""Charts more than one page draws: altair charts at the projector's size.
Each topic's own Vega-Lite specs live beside it in ``app/charts/<topic>.py``."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import streamlit as st

from app.display import enlarged, large_type
from app.i18n import t


def show_chart(chart: Any, description: str | None = None) -> None:
    """Draw an altair chart at the container's width, in large type when the projector asks for it.

    ``description`` says in the page's language what the chart shows (a screen reader reads it as the
    chart's name); without one, the chart's own, else a plain "chart": no chart is drawn nameless."""
    shown = chart.copy(deep=False)
    if description or not isinstance(getattr(chart, "description", None), str):
        shown.description = description or t("access.chart_untitled")
    if large_type():  # as a dict, so the chart's own font sizes (mark text, titles) grow too
        st.vega_lite_chart(enlarged(shown.to_dict()), width="stretch")
    else:
        st.altair_chart(shown, width="stretch")


def front(size: int) -> Callable[[Callable[..., Any]], Any]:
    """A process-wide ``lru_cache`` of ``size`` in front of a ``cache_resource``: Streamlit's hashing of the
    arguments on every call was a fifth of a student's first page; chart keys are small tuples of numbers
    and words. ``clear`` empties both."""

    def wrap(cached: Any) -> Any:
        memo = functools.lru_cache(maxsize=size)(cached)
        memo.clear = lambda: (memo.cache_clear(), cached.clear())
        return memo

    return wrap
