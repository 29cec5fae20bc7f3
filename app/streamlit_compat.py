"""The one module that touches Streamlit internals: leaving the legacy pages-directory mode.

Upstream behaviour (Streamlit 1.67; ``streamlit/runtime/pages_manager.py`` and ``_mpa_v1`` in
``streamlit/runtime/scriptrunner/script_runner.py``): the class flag
``PagesManager.uses_pages_directory`` starts as ``None``, and the first ``PagesManager`` of a
process sets it to "a folder named ``pages/`` sits beside the main script". While it is true,
a run executes the requested file from ``pages/`` bare, with a file-list sidebar and none of
``streamlit_app.py``'s navigation, until some script calls ``st.navigation``, which sets it to
``False`` for the rest of the process. The design card names the folder ``pages/``, so a fresh
server's first requests land in that mode. This private flag was rewritten twice in a year
upstream: when it changes again, this module is the one to fix, and
``tests/e2e/test_smoke.py::test_a_fresh_servers_first_requests_deep_links_get_the_apps_navigation``
is the test that says so.
"""

from __future__ import annotations

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import get_script_run_ctx


def leave_legacy_pages_mode() -> None:
    """Make a page that Streamlit ran bare go through ``streamlit_app.py``'s navigation instead.

    Such a run still lists the main script among its pages. Switch the mode off for good and
    rerun; the rerun finds the page by its URL name, which is why each page's URL is its file's
    name (``app.registry.PageSpec.url_path``). ``ui.page`` calls it first on every page.
    """
    PagesManager.uses_pages_directory = False
    ctx = get_script_run_ctx()
    if ctx is not None and any(
        str(info.get("script_path", "")).endswith("streamlit_app.py") for info in ctx.pages_manager.get_pages().values()
    ):
        st.rerun()


def start_every_run_in_app_navigation() -> None:
    """For AppTest: start every run as a server's later requests start, after the legacy mode is left.

    ``AppTest.run`` resets the flag before each run, so each would begin as a fresh server's very
    first request does. The real server leaves that mode on its first request (above); the
    fresh-server browser test covers that request.
    """
    original = PagesManager.__init__
    if getattr(original, "_app_navigation", False):
        return

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    init._app_navigation = True  # type: ignore[attr-defined]
    PagesManager.__init__ = init  # type: ignore[method-assign]


# Upstream behaviour (Streamlit 1.67 frontend, ``handlePageInfoChanged`` and ``maybeUpdatePageUrl``
# in ``static/js/index.*.js``): a page switch pushes the new page's URL without its query string,
# and every later change of ``st.query_params`` pushes another entry. ``ui.page`` writes the
# settings and the language to the URL after every run, so each page left two entries and Back
# first landed on the same page without its settings. Within one page (same path) the entry is
# replaced instead: one history entry per page visited, carrying that page's latest settings.
_ONE_ENTRY_PER_PAGE = """<script>
(() => {
  const h = window.history;
  if (h.__onePerPage) return;
  const push = h.pushState.bind(h);
  h.pushState = (state, title, url) => {
    const next = new URL(url, window.location.href);
    return next.pathname === window.location.pathname ? h.replaceState(state, title, url) : push(state, title, url);
  };
  h.__onePerPage = true;
})();
</script>"""


def one_history_entry_per_page(where=None) -> None:
    """Make the browser's Back button go to the previous page (see ``_ONE_ENTRY_PER_PAGE``)."""
    (where or st).html(_ONE_ENTRY_PER_PAGE, unsafe_allow_javascript=True)


def forget_unknown_page(url_paths: set[str]) -> bool:
    """Whether the browser asked for a page the app does not have; if so, ask for the home page instead.

    Upstream (``st.navigation`` in ``streamlit/commands/navigation.py``): an unknown URL runs the
    default page and makes the browser show its own English "Page not found" dialog. Clearing the
    request's page name (``PagesManager.set_script_intent``) before ``st.navigation`` resolves it
    lands on the home page without that dialog, so the app can say it in the student's language.
    """
    ctx = get_script_run_ctx()
    if ctx is None:
        return False
    manager = ctx.pages_manager
    name = manager.intended_page_name
    if manager.intended_page_script_hash or not name or name in url_paths:
        return False
    manager.set_script_intent("", "")
    return True
