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

from app.display import large_type, projector_config

Columns = Mapping[str, Any]  # column name -> values (a list, a numpy array or a pandas Series)


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


def show(spec: Mapping[str, Any], data: Mapping[str, Columns | Any | bytes], **kwargs: Any) -> Any:
    """Draw ``spec`` at the container's width with ``data`` as its named datasets, in large type
    when the projector asks for it. ``kwargs`` go to ``st.vega_lite_chart`` (e.g. ``key``, ``on_select``)."""
    full = with_data(spec, data)  # a copy: setting its config leaves the cached spec alone
    if large_type():
        full["config"] = projector_config(full.get("config"))
    return st.vega_lite_chart(full, width="stretch", **kwargs)
