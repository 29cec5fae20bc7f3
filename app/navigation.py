"""The sidebar's list of pages, as plain links.

Streamlit's own navigation puts ``<li>`` items inside ``<div>`` wrappers inside a ``<ul>``: invalid
list markup that screen readers announce wrongly (axe: ``list``, ``listitem``). These links are
plain anchors under a heading per section, and each carries the parameters a student must keep
from page to page (their language, large type, their class), so a sidebar click after a reload
never drops them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import streamlit as st


def sidebar_links(sections: Mapping[str, Sequence[Any]], kept: Mapping[str, str]) -> None:
    """A heading per section and a link per page (``st.Page``), each link carrying ``kept``."""
    with st.sidebar.container(key="app_nav"):
        for heading, pages in sections.items():
            st.markdown(f"**{heading}**")
            for page in pages:
                st.page_link(page, label=page.title, icon=page.icon, query_params=dict(kept), width="stretch")
