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

import functools
import gc
import threading
import time
from typing import Any

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


# Upstream behaviour (Streamlit 1.67, ``ScriptRunner._on_script_finished`` in
# ``streamlit/runtime/scriptrunner/script_runner.py``): with ``runner.postScriptGC`` on, every script
# run ends with ``gc.collect(2)``, holding the GIL throughout. Its cost grows with everything the
# worker's sessions hold: alone about 5 ms, but with a class of 50 sessions on a worker it was 75 % of
# the worker's CPU (sampled under load), and every student's page and slider waited behind it.
class BudgetedCollector:
    """Stands in for the ``gc`` module in Streamlit's script runner: a full collection after a run
    only when at least ``max(floor_s, last collection's time / share)`` has passed since the last one,
    so full collections take at most ``share`` of the worker's time. A lone student moving a slider
    every second or more still gets one after every run (a 5 ms collection allows one every
    ``floor_s``); a busy worker collects about once a second instead of after each of its students'
    runs. Memory stays flat: a second's garbage waits at most that long. Python's own generational
    collections run as ever in between."""

    def __init__(self, share: float = 0.1, floor_s: float = 1.0, clock=time.monotonic) -> None:
        self.share, self.floor_s, self.clock = share, floor_s, clock
        self.next_at = 0.0
        self.full = self.skipped = 0
        self._lock = threading.Lock()

    def collect(self, generation: int = 2) -> int:
        if generation < 2:
            return gc.collect(generation)
        # another session's script thread is collecting now: this run's garbage is in its sight
        if self.clock() < self.next_at or not self._lock.acquire(blocking=False):
            self.skipped += 1
            return 0
        try:
            start = self.clock()
            found = gc.collect(2)
            end = self.clock()
            self.next_at = end + max(self.floor_s, (end - start) / self.share)
            self.full += 1
            return found
        finally:
            self._lock.release()

    def __getattr__(self, name: str):
        return getattr(gc, name)


def post_run_collector(script_runner: Any = None) -> Any:
    """What Streamlit's script runner calls ``gc`` (the ``gc`` module, or the budget once installed)."""
    if script_runner is None:
        from streamlit.runtime.scriptrunner import script_runner
    return script_runner.gc


def budget_post_run_collection(share: float = 0.1, floor_s: float = 1.0, script_runner: Any = None) -> BudgetedCollector:
    """Bound Streamlit's post-run full collection to ``share`` of the process's time (``BudgetedCollector``);
    the collector installed (once per process: a second call returns the first). ``script_runner``:
    the module whose ``gc`` it replaces (default: Streamlit's)."""
    if script_runner is None:
        from streamlit.runtime.scriptrunner import script_runner

    if isinstance(script_runner.gc, BudgetedCollector):
        return script_runner.gc
    collector = BudgetedCollector(share, floor_s)
    script_runner.gc = collector
    return collector


# Upstream behaviour (Streamlit 1.67, ``ScriptRunner._script_thread`` calls ``_run_script`` for each
# rerun request): every session runs its script in its own thread, all at once. With a class arriving
# together, 30 runs on one worker shared its one core (the GIL) evenly, so each finished only when
# nearly all had, and the event loop that sends pages and answers requests waited its turn among them.
def take_turns(slots: int = 2, wait_s: float = 0.5, runner: type | None = None) -> threading.BoundedSemaphore:
    """At most ``slots`` script runs of this process at once, the others waiting in order of arrival;
    a run waits at most ``wait_s`` for its turn, then runs anyway (a long run, e.g. live training,
    holds up no one for longer). Once per process: a second call returns the first's semaphore.
    ``runner``: the class whose ``_run_script`` takes turns (default: Streamlit's ``ScriptRunner``)."""
    if runner is None:
        from streamlit.runtime.scriptrunner.script_runner import ScriptRunner as runner

    original = runner._run_script
    if hasattr(original, "turns"):
        return original.turns
    turns = threading.BoundedSemaphore(slots)

    @functools.wraps(original)
    def run_script(self, rerun_data):
        mine = turns.acquire(timeout=wait_s)
        try:
            return original(self, rerun_data)
        finally:
            if mine:
                turns.release()

    run_script.turns = turns  # type: ignore[attr-defined]
    runner._run_script = run_script
    return turns
