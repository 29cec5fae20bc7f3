"""Charts as plain Vega-Lite dicts: what altair would build, without its cost on every rerun.

Altair spends 20-40 ms per layered chart on each rerun (building, deep-copying and walking its
objects), most of a slider's server time. A page's chart function can instead return a dict
spec whose layers name their data (``{"data": {"name": "path"}}``) and hand the rows to
``show`` as columns: they go to the browser as Arrow, as altair's would, at a fraction of the
cost. The page tests check every such spec against the Vega-Lite schema.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa
import streamlit as st

from app.display import enlarged, large_type
from app.i18n import t

Columns = Mapping[str, Any]  # column name -> values (a list, a numpy array or a pandas Series)


def channel(field: str, kind: str, **extra: Any) -> dict[str, Any]:
    """A Vega-Lite encoding channel (or tooltip entry) of column ``field`` of type ``kind``;
    ``title=None`` hides the title, as altair's does."""
    return {"field": field, "type": kind, **extra}


def quantitative(field: str, **extra: Any) -> dict[str, Any]:
    """A channel of a number column."""
    return channel(field, "quantitative", **extra)


def nominal(field: str, **extra: Any) -> dict[str, Any]:
    """A channel of a category column (a name, a class)."""
    return channel(field, "nominal", **extra)


def lines(text: str) -> str | list[str]:
    """A chart title as Vega-Lite draws it on two lines: the words, then their bracketed note (``(...)`` or
    ``（...）``), so a long title stays whole in a phone's narrow chart instead of running off its edge."""
    for opening in (" (", "（"):
        head, found, note = text.partition(opening)
        if found and head:
            return [head, found.strip() + note]
    return text


def arrow(data: Columns | Any) -> bytes:
    """``data`` (a DataFrame or a mapping of columns) as Arrow IPC stream bytes, the form Streamlit
    sends a chart's data in; straight from the columns, without pandas' conversion layer."""
    if hasattr(data, "columns") and hasattr(data, "to_dict"):  # a DataFrame
        data = {str(c): data[c].to_numpy() for c in data.columns}
    table = pa.table({name: np.asarray(values) for name, values in data.items()})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def with_data(spec: Mapping[str, Any], data: Mapping[str, Columns | Any | bytes]) -> dict[str, Any]:
    """A copy of ``spec`` carrying ``data`` as named datasets (Arrow bytes; bytes pass as they are)."""
    full = dict(spec)
    full["datasets"] = {name: rows if isinstance(rows, bytes) else arrow(rows) for name, rows in data.items()}
    return full


def _title(channel_spec: Any) -> str | None:
    """A channel's title as the chart shows it (its field's name when it has none), or None."""
    if not isinstance(channel_spec, Mapping):
        return None
    title = channel_spec.get("title", channel_spec.get("field"))
    return title if isinstance(title, str) and title else None


def outline(spec: Mapping[str, Any]) -> str:
    """A plain description of a chart from its own words (title, axis and legend titles, already in the
    page's language), for a chart whose maker gave none: "chart of loss against step, by epoch"."""
    titles: dict[str, str] = {}
    for part in [spec, *spec.get("layer", [])]:
        for name in ("x", "y", "color"):
            found = _title(part.get("encoding", {}).get(name))
            if found and name not in titles:
                titles[name] = found
    heading = spec.get("title")
    heading = heading.get("text") if isinstance(heading, Mapping) else heading
    if "x" in titles and "y" in titles:
        text = t("access.chart_default", x=titles["x"], y=titles["y"])
    else:
        text = t("access.chart_untitled")
    if "color" in titles:
        text += t("access.by", what=titles["color"])
    return f"{heading}: {text}" if isinstance(heading, str) and heading else text


def show(spec: Mapping[str, Any], data: Mapping[str, Columns | Any | bytes], *, description: str | None = None,
         **kwargs: Any) -> Any:
    """Draw ``spec`` at the container's width with ``data`` as its named datasets, in large type
    when the projector asks for it. ``kwargs`` go to ``st.vega_lite_chart`` (e.g. ``key``, ``on_select``).

    ``description`` says in the page's language what the chart shows (a screen reader reads it as the
    chart's name); without one the spec's own ``description`` is used, else ``outline``'s, so no chart
    is drawn nameless."""
    full = with_data(spec, data)  # a copy: setting its config leaves the cached spec alone
    full["description"] = description or spec.get("description") or outline(spec)
    if large_type():
        full = enlarged(full)
    return st.vega_lite_chart(full, width="stretch", **kwargs)
