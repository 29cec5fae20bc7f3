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

# Streamlit 1.67's frontend (``index.*.js``): the sidebar's open/closed state is remembered in
# localStorage (``stSidebarCollapsed-…``) and wins over ``initial_sidebar_state`` on the next load, and
# an ``st.page_link`` click leaves the sidebar open (only Streamlit's own page list folds it on a
# phone). On a phone the open sidebar covers the whole page: after a reload it reopened over the
# lesson, and after a link click it hid the page the student asked for. On a screen as narrow as
# Streamlit's own "small" (768 px, where ``"auto"`` starts collapsed) this folds it after a link click
# and on load, and forgets the remembered state, so a reload starts collapsed. Wider screens are left
# alone: there the sidebar sits beside the page.
_PHONE_SIDEBAR = """<script>
(() => {
  if (window.__phoneSidebar) return;
  window.__phoneSidebar = true;
  const narrow = () => window.innerWidth <= 768;
  const forget = () => {
    if (!narrow()) return;
    Object.keys(window.localStorage).filter(k => k.startsWith('stSidebarCollapsed-'))
      .forEach(k => window.localStorage.removeItem(k));
  };
  const fold = () => {
    const bar = document.querySelector('[data-testid="stSidebar"]');
    const button = document.querySelector('[data-testid="stSidebarCollapseButton"] button');
    if (narrow() && bar && bar.dataset.collapsed === 'false' && button) button.click();
    forget();
  };
  // The remembered state is applied when the sidebar's content arrives, maybe just after this runs.
  fold();
  setTimeout(fold, 400);
  document.addEventListener('click', e => {
    if (e.target.closest && e.target.closest('[data-testid="stSidebar"] a')) setTimeout(fold, 0);
  }, true);
  document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'hidden') forget(); });
  window.addEventListener('pagehide', forget);
})();
</script>"""


def sidebar_links(sections: Mapping[str, Sequence[Any]], kept: Mapping[str, str]) -> None:
    """A heading per section and a link per page (``st.Page``), each link carrying ``kept``; on a
    phone the sidebar folds away after a click and starts folded after a reload."""
    with st.sidebar.container(key="app_nav"):
        for heading, pages in sections.items():
            st.markdown(f"**{heading}**")
            for page in pages:
                st.page_link(page, label=page.title, icon=page.icon, query_params=dict(kept), width="stretch")
    st.sidebar.html(_PHONE_SIDEBAR, unsafe_allow_javascript=True)
