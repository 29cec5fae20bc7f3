"""A simulated student: Streamlit 1.67's browser protocol without a browser.

What a browser tab does, read from Streamlit's server (``web/server/starlette/starlette_websocket.py``,
``runtime/app_session.py``, ``runtime/forward_msg_cache.py``, ``runtime/scriptrunner_utils``) and
its frontend (``ForwardMsgCache``, ``WidgetStateManager``, ``App.sendRerunBackMsg``):

1. GET the page's HTML (``/descent?lang=zh``), then ``/_stcore/health``, which sets the
   ``_streamlit_xsrf`` cookie (behind the class server, nginx also sets its ``dlsid`` cookie on
   the first response: cookies are kept per student, so the student sticks to one worker).
2. Open the websocket ``/_stcore/stream`` with the subprotocols ``["streamlit", <xsrf cookie>]``
   (a third entry would be the session id to resume), the cookies and an ``Origin`` header.
3. Send a ``rerun_script`` BackMsg: a ``ClientState`` with the URL's query string, the page name
   taken from the URL path (no page hash yet), the widget states, the hashes of the cached
   messages it holds, and ``context_info`` (time zone, locale, URL).
4. Read ForwardMsgs until ``script_finished``: ``new_session`` (its ``max_cached_message_age``),
   ``navigation`` (the current page's hash, sent back with every later rerun), ``page_info_changed``
   (the new query string), and deltas. A delta whose ``metadata.cacheable`` is set is cached by its
   hash; a ``ref_hash`` message is resolved from that cache, as the browser does (a miss is an error).
   ``FINISHED_EARLY_FOR_RERUN`` is not the end of the run the student waits for.
5. Move a slider: its id from the ``slider`` element seen in the deltas, its value ``double_array_value``,
   every slider's and checkbox's current value sent along (the browser sends all widget states),
   and the delta's ``fragment_id`` when the slider lives in an ``st.fragment`` (a fragment rerun).

Errors: an ``exception`` element, an ``alert`` of format ERROR (the app's ``st.error``), a compile
error, ``page_not_found``, a missing cached message, a closed socket or a timeout. A moved slider
"changes the page" when any element other than the slider itself has a new hash afterwards.
"""

from __future__ import annotations

import asyncio
import http.client
import random
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.asyncio.client import connect

STEP_TIMEOUT = 120.0  # seconds: a page or a rerun slower than this is an error, not a hang
XSRF_COOKIE = "_streamlit_xsrf"
FINISHED = {
    ForwardMsg.FINISHED_SUCCESSFULLY,
    ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY,
    ForwardMsg.FINISHED_WITH_COMPILE_ERROR,
}


class ProtocolError(Exception):
    """The server broke the protocol as the browser reads it (e.g. a reference to an unknown message)."""


@dataclass
class Widget:
    """A slider or checkbox the page showed: what the browser's widget manager remembers of it."""

    id: str
    kind: str  # "slider" or "checkbox"
    value: list[float] | bool
    path: tuple[int, ...]
    fragment_id: str = ""
    lo: float = 0.0
    hi: float = 0.0
    step: float = 1.0
    options: list[str] = field(default_factory=list)  # a select_slider's labels; its value holds their indices


@dataclass
class RunResult:
    seconds: float
    errors: list[str] = field(default_factory=list)


@dataclass
class StudentResult:
    page: str
    first_page_s: float | None = None
    slider_s: list[float] = field(default_factory=list)
    changed: list[bool] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    has_slider: bool = False


def _http_get(base_url: str, path: str, cookies: dict[str, str], timeout: float) -> tuple[int, bytes]:
    """GET ``path`` with the student's cookies; store the ones the response sets."""
    parts = urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())} if cookies else {}
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, body
    finally:
        conn.close()


FRONT_END_LANES = 6  # a browser fetches six files at a time from one host
FRONT_END = re.compile(rb'(?:src|href)="\./(static/[^"]+\.(?:js|css))"')


def _fetch_lane(base_url: str, paths: list[str], timeout: float) -> tuple[int, list[str]]:
    """GET ``paths`` one after another on one keep-alive connection, compressed as a browser asks;
    (bytes received, the paths that failed)."""
    parts = urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    received, failed = 0, []
    try:
        for path in paths:
            conn.request("GET", "/" + path, headers={"Accept-Encoding": "gzip, deflate"})
            response = conn.getresponse()
            received += len(response.read())
            if response.status != 200:
                failed.append(f"{path}: {response.status}")
    finally:
        conn.close()
    return received, failed


async def fetch_front_end(base_url: str, html: bytes, timeout: float) -> list[str]:
    """The scripts and styles a page's HTML names, fetched as a browser with an empty cache does
    (six at a time); the failures. Without this a simulated first visit would skip what costs a
    real one's server most when the front end is served by a Python worker."""
    paths = sorted({m.decode() for m in FRONT_END.findall(html)})
    lanes = [paths[i::FRONT_END_LANES] for i in range(FRONT_END_LANES)]
    results = await asyncio.gather(*(asyncio.to_thread(_fetch_lane, base_url, lane, timeout) for lane in lanes if lane))
    return [f for _, failed in results for f in failed]


class Tab:
    """One browser tab on one page of the app."""

    def __init__(self, base_url: str, page: str, query: str = "lang=zh", timeout: float = STEP_TIMEOUT) -> None:
        self.base_url = base_url.rstrip("/")
        self.page = page
        self.query = query
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self.ws = None
        self.page_hash = ""
        self.pages: dict[str, str] = {}  # url path -> page script hash, from the navigation message
        self.cache: dict[str, tuple[ForwardMsg, int]] = {}  # hash -> (message, run count when last used)
        self.max_age = 2
        self.runs = 0
        self.elements: dict[tuple[int, ...], tuple[str, str]] = {}  # delta path -> (element kind, hash)
        self.widgets: dict[str, Widget] = {}

    # ------------------------------------------------------------ connection

    async def open(self, front_end: bool = False) -> RunResult:
        """Load the page and run its script once, as a browser's first visit does (``front_end``:
        with an empty cache, fetching the page's scripts and styles too)."""
        start = time.perf_counter()
        status, html = await asyncio.to_thread(
            _http_get, self.base_url, f"/{self.page}?{self.query}", self.cookies, self.timeout
        )
        if status != 200:
            raise ProtocolError(f"GET /{self.page} answered {status}")
        if front_end and (failed := await fetch_front_end(self.base_url, html, self.timeout)):
            raise ProtocolError(f"front-end files failed: {failed[:3]}")
        status, _ = await asyncio.to_thread(_http_get, self.base_url, "/_stcore/health", self.cookies, self.timeout)
        if status != 200 or XSRF_COOKIE not in self.cookies:
            raise ProtocolError(f"health check answered {status} without the XSRF cookie")
        ws_url = "ws" + self.base_url[4:] + "/_stcore/stream"
        self.ws = await asyncio.wait_for(
            connect(
                ws_url,
                subprotocols=["streamlit", self.cookies[XSRF_COOKIE]],
                origin=self.base_url,
                additional_headers={"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())},
                max_size=None,
                compression=None,
            ),
            self.timeout,
        )
        result = await self.rerun()
        result.seconds = time.perf_counter() - start
        return result

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()

    # ------------------------------------------------------------ runs

    def _client_state(self, fragment_id: str = "") -> BackMsg:
        msg = BackMsg()
        state = msg.rerun_script
        state.query_string = self.query
        state.page_script_hash = self.page_hash
        state.page_name = "" if self.page_hash else self.page
        state.fragment_id = fragment_id
        state.cached_message_hashes.extend(self.cache)
        info = state.context_info
        info.timezone, info.timezone_offset, info.locale = "Asia/Taipei", -480, "zh-TW"
        info.url, info.is_embedded, info.color_scheme = f"{self.base_url}/{self.page}?{self.query}", False, "light"
        for w in self.widgets.values():
            ws = state.widget_states.widgets.add()
            ws.id = w.id
            if w.kind == "slider" and w.options:
                ws.string_array_value.data.extend(w.options[int(i)] for i in w.value)
            elif w.kind == "slider":
                ws.double_array_value.data.extend(w.value)
            else:
                ws.bool_value = bool(w.value)
        return msg

    async def rerun(self, fragment_id: str = "") -> RunResult:
        """Send a ``rerun_script`` and read the answer until its ``script_finished``."""
        start = time.perf_counter()
        await self.ws.send(self._client_state(fragment_id).SerializeToString())
        errors: list[str] = []
        touched: set[tuple[int, ...]] = set()
        deadline = time.monotonic() + self.timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no script_finished within {self.timeout:.0f} s")
            raw = await asyncio.wait_for(self.ws.recv(), remaining)
            msg = ForwardMsg.FromString(raw)
            kind = msg.WhichOneof("type")
            if kind == "ref_hash":
                hit = self.cache.get(msg.ref_hash)
                if hit is None:
                    raise ProtocolError(f"reference to a message not in the cache: {msg.ref_hash}")
                cached = ForwardMsg()
                cached.CopyFrom(hit[0])
                cached.metadata.CopyFrom(msg.metadata)  # the reference carries the delta path of this run
                self.cache[msg.ref_hash] = (hit[0], self.runs)
                msg, kind = cached, cached.WhichOneof("type")
            elif msg.metadata.cacheable:
                self.cache[msg.hash] = (msg, self.runs)
            if kind == "new_session":
                self.max_age = msg.new_session.config.max_cached_message_age or self.max_age
            elif kind == "navigation":
                self.page_hash = msg.navigation.page_script_hash
                self.pages = {p.url_pathname: p.page_script_hash for p in msg.navigation.app_pages}
            elif kind == "page_info_changed":
                self.query = msg.page_info_changed.query_string
            elif kind == "page_not_found":
                errors.append(f"page not found: {msg.page_not_found.page_name}")
            elif kind == "delta":
                path = tuple(msg.metadata.delta_path)
                touched.add(path)
                errors.extend(self._on_delta(msg, path))
            elif kind == "script_finished":
                status = msg.script_finished
                if status == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                    errors.append("the script did not compile")
                if status in FINISHED:
                    self._end_run(touched, full=not fragment_id)
                    return RunResult(time.perf_counter() - start, errors)

    def _on_delta(self, msg: ForwardMsg, path: tuple[int, ...]) -> list[str]:
        delta = msg.delta
        if delta.WhichOneof("type") != "new_element":
            self.elements[path] = (delta.WhichOneof("type") or "", msg.hash)
            return []
        element = delta.new_element
        kind = element.WhichOneof("type") or ""
        self.elements[path] = (kind, msg.hash)
        if kind == "exception":
            return [f"exception: {element.exception.type}: {element.exception.message}"[:300]]
        if kind == "alert" and element.alert.format == Alert.ERROR:
            return [f"error box: {element.alert.body}"[:300]]
        if kind == "slider":
            s = element.slider
            if s.options:  # a select_slider: its state is the chosen options' labels, the slider moves an index
                value = [float(list(s.options).index(v)) for v in s.raw_value] if s.set_value else list(s.default)
            else:
                value = list(s.value if s.set_value else s.default)
            known = self.widgets.get(s.id)
            if known is not None and not s.set_value:
                value = known.value  # the browser keeps the value the student chose; the default is only the start
            self.widgets[s.id] = Widget(
                s.id, "slider", value, path, delta.fragment_id, s.min, s.max, s.step or 1.0, options=list(s.options)
            )
        elif kind == "checkbox":
            c = element.checkbox
            known = self.widgets.get(c.id)
            value = c.value if c.set_value or known is None else known.value
            self.widgets[c.id] = Widget(c.id, "checkbox", value, path, delta.fragment_id)
        return []

    def _end_run(self, touched: set[tuple[int, ...]], full: bool) -> None:
        """What the browser does when a run finishes: drop stale elements, age the message cache."""
        if full:
            self.elements = {p: e for p, e in self.elements.items() if p in touched}
            self.widgets = {k: w for k, w in self.widgets.items() if w.path in touched}
        self.runs += 1
        self.cache = {h: (m, used) for h, (m, used) in self.cache.items() if self.runs - used <= self.max_age}

    # ------------------------------------------------------------ a student's actions

    def main_slider(self) -> Widget | None:
        """The first slider in the page's main area (delta path starting with 0), else any slider."""
        sliders = sorted((w for w in self.widgets.values() if w.kind == "slider"), key=lambda w: (w.path[0] != 0, w.path))
        return sliders[0] if sliders else None

    async def move_slider(self, rng: random.Random) -> tuple[RunResult, bool]:
        """Move the main slider one step up or down, as a key press does; (the rerun, whether the page changed)."""
        w = self.main_slider()
        if w is None:
            raise ProtocolError("no slider on the page")
        before = {p: e for p, e in self.elements.items() if p != w.path}
        value = list(w.value)
        if not value or w.hi - w.lo < w.step:
            raise ProtocolError(f"slider {w.id} cannot move")
        i = rng.randrange(len(value))
        up = value[i] + w.step <= w.hi and (rng.random() < 0.5 or value[i] - w.step < w.lo)
        value[i] = value[i] + w.step if up else value[i] - w.step
        if len(value) > 1:
            value.sort()
        w.value = value
        result = await self.rerun(w.fragment_id)
        after = {p: e for p, e in self.elements.items() if p != w.path}
        return result, after != before


async def student(
    base_url: str, page: str, moves: int = 5, pause: tuple[float, float] = (1.0, 3.0), seed: int = 0, query: str = "lang=zh",
    front_end: bool = False,
) -> StudentResult:
    """Open ``page`` (``front_end``: with an empty browser cache), then move its slider ``moves``
    times, ``pause`` seconds apart."""
    rng = random.Random(seed)
    result = StudentResult(page)
    tab = Tab(base_url, page, query)
    try:
        first = await tab.open(front_end)
        result.first_page_s = first.seconds
        result.errors += first.errors
        result.has_slider = tab.main_slider() is not None
        for _ in range(moves if result.has_slider else 0):
            await asyncio.sleep(rng.uniform(*pause))
            run, changed = await tab.move_slider(rng)
            result.slider_s.append(run.seconds)
            result.changed.append(changed)
            result.errors += run.errors
    except Exception as exc:  # noqa: BLE001 - a failed student is a counted error, not a crashed benchmark
        result.errors.append(f"{type(exc).__name__}: {exc}".splitlines()[0][:300])
    finally:
        try:
            await asyncio.wait_for(tab.close(), 10)
        except Exception:  # noqa: BLE001 - the result is already recorded
            pass
    return result


async def discover_pages(base_url: str) -> tuple[list[str], set[str]]:
    """The app's page URL paths (from its navigation message) and the ones with a slider (a teacher's visit)."""
    tab = Tab(base_url, "")
    try:
        await tab.open()
        paths = [p for p in tab.pages if p]
    finally:
        await tab.close()
    with_slider: set[str] = set()
    for path in paths:
        visit = await student(base_url, path, moves=0)
        if visit.errors:
            raise ProtocolError(f"the teacher's visit to /{path} failed: {visit.errors}")
        if visit.has_slider:
            with_slider.add(path)
    return paths, with_slider


async def classroom(
    base_url: str, pages: list[str], students: int, moves: int = 5, pause: tuple[float, float] = (1.0, 3.0),
    arrive_s: float = 2.0, front_end: bool = False,
) -> list[StudentResult]:
    """``students`` students over ``pages`` (round robin), arriving within ``arrive_s`` seconds
    (``front_end``: each with an empty browser cache)."""

    async def one(i: int) -> StudentResult:
        await asyncio.sleep(arrive_s * i / max(students, 1))
        return await student(base_url, pages[i % len(pages)], moves, pause, seed=i, front_end=front_end)

    # Each browser has its own connections: with asyncio's default pool (cores + 4 threads) the
    # students' HTTP requests queued behind one another here, and that wait was counted as the server's.
    lanes = students * (FRONT_END_LANES + 1)
    with ThreadPoolExecutor(max_workers=lanes, thread_name_prefix="browser") as pool:
        asyncio.get_running_loop().set_default_executor(pool)
        return list(await asyncio.gather(*(one(i) for i in range(students))))
