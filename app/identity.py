"""The browser's own id, the cookies the app keeps, and a student's work kept under that id, so a
reload (a phone does one on a camera switch or a locked screen) loses neither their class nor their work.

No account: the id is 128 random bits the browser keeps in a cookie, made on its first visit; it
is never trusted for anything but finding its own work (``classroom.browser_store``). Streamlit
reads cookies (``st.context.cookies``, as sent when the tab connected) but cannot set them, so each
full run sends a small script that sets them (SameSite=Lax, path /, a bounded max-age). Without
cookies every reload is a new browser: the work lives for the session, as it always did.

A feature keeps a piece of session state with ``remember`` (a name, how to write it as JSON, how to
put it back, a cheap fingerprint that changes when it does). At a session's first run the saved
pieces are put back; after every run (and every fragment's) the pieces that changed are saved.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import streamlit as st

from classroom.browser_store import MAX_AGE_DAYS, BrowserStore, valid_id

BROWSER_COOKIE = "dl_browser"
PARAM_COOKIE = "dl_{}"  # a kept URL parameter's cookie (dl_room, dl_nick)
PARAM_MAX_AGE = 12 * 3600  # the class and the nickname: a school day
BROWSER_MAX_AGE = MAX_AGE_DAYS * 86400
COOKIE_VALUE_MAX = 256  # longer cookies are no cookie of this app's
ID_KEY = "identity.browser"  # this session's browser id
STARTED_KEY = "identity.__started"
SAVED_KEY = "identity.__saved"  # name -> (fingerprint, JSON value) of what is saved
COOKIES_KEY = "identity.__cookies"  # name -> (value or None to delete, max-age) set by a feature

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Part:
    """A piece of session state kept for the browser: ``dump()`` its JSON (None: nothing to keep),
    ``load(value)`` puts a saved one back, ``fingerprint()`` changes whenever it does (cheap: every run)."""

    dump: Callable[[], Any]
    load: Callable[[Any], None]
    fingerprint: Callable[[], Any]


_PARTS: dict[str, Part] = {}
_ON_START: list[Callable[[], None]] = []


def remember(name: str, dump: Callable[[], Any], load: Callable[[Any], None], fingerprint: Callable[[], Any]) -> None:
    """Keep a piece of session state for this browser (see ``Part``); registered once, at import."""
    _PARTS[name] = Part(dump, load, fingerprint)


def on_session_start(callback: Callable[[], None]) -> None:
    """Call ``callback`` once at each session's first run, after the saved work is back (a feature's own cookie)."""
    if callback not in _ON_START:
        _ON_START.append(callback)


# ---------------------------------------------------------------------------------- cookies


def cookie(name: str) -> str | None:
    """The cookie ``name`` as the browser sent it when this tab connected (percent-decoded), else None."""
    try:
        raw = st.context.cookies.get(name)
    except Exception:  # noqa: BLE001 - no client (a bare script run): no cookies
        return None
    if not isinstance(raw, str) or not raw or len(raw) > 3 * COOKIE_VALUE_MAX:
        return None
    value = unquote(raw)
    return value if len(value) <= COOKIE_VALUE_MAX else None


def set_cookie(name: str, value: str, max_age: int) -> None:
    """Set cookie ``name`` at the end of this run (and keep it set on every later one)."""
    st.session_state.setdefault(COOKIES_KEY, {})[name] = (value, int(max_age))


def delete_cookie(name: str) -> None:
    st.session_state.setdefault(COOKIES_KEY, {})[name] = (None, 0)


_SET_COOKIES = """<script>
(() => {{
  const cookies = {cookies};
  const secure = window.location.protocol === 'https:' ? '; Secure' : '';
  for (const [name, value, age] of cookies) {{
    document.cookie = value === null
      ? `${{name}}=; Path=/; Max-Age=0; SameSite=Lax${{secure}}`
      : `${{name}}=${{encodeURIComponent(value)}}; Path=/; Max-Age=${{age}}; SameSite=Lax${{secure}}`;
  }}
}})();
</script>"""


def cookie_script(cookies: Mapping[str, tuple[str | None, int]]) -> str:
    """The script that sets (value) or deletes (None) each cookie, as JSON inside the page."""
    rows = [[name, value, int(age)] for name, (value, age) in sorted(cookies.items())]
    return _SET_COOKIES.format(cookies=json.dumps(rows, ensure_ascii=False).replace("</", "<\\/"))


def wanted_cookies(kept: Mapping[str, str | None]) -> dict[str, tuple[str | None, int]]:
    """Every cookie this session keeps: the browser's id, each kept parameter (deleted when the
    session has none: a student who left the class is not put back in it) and the features' own."""
    cookies: dict[str, tuple[str | None, int]] = {BROWSER_COOKIE: (browser_id(), BROWSER_MAX_AGE)}
    for name, value in kept.items():
        cookies[PARAM_COOKIE.format(name)] = (value, PARAM_MAX_AGE) if value else (None, 0)
    cookies.update(st.session_state.get(COOKIES_KEY, {}))
    return cookies


# ------------------------------------------------------------------------------ the browser


def new_browser_id() -> str:
    return secrets.token_hex(16)


def browser_id() -> str:
    """This browser's id: its cookie's, else one made now (kept in a cookie at the end of the run)."""
    known = st.session_state.get(ID_KEY)
    if known:
        return known
    sent = cookie(BROWSER_COOKIE)
    st.session_state[ID_KEY] = sent if valid_id(sent) else new_browser_id()
    return st.session_state[ID_KEY]


def start_session(kept: Mapping[str, bool] | None = None) -> None:
    """At a session's first run: the browser's id; each kept URL parameter the URL lacks (or, where
    ``kept[name]`` is True, whatever the URL says) from its cookie, as if the link had carried it (the
    feature checks it as it checks a link's); the saved work."""
    if st.session_state.get(STARTED_KEY):
        return
    st.session_state[STARTED_KEY] = True
    own = browser_id()
    for name, cookie_wins in (kept or {}).items():
        value = cookie(PARAM_COOKIE.format(name))
        if value and (cookie_wins or name not in st.query_params):
            st.query_params[name] = value
    saved: dict[str, tuple[Any, Any]] = {}
    parts = BrowserStore().load(own) if _PARTS else {}
    for name, value in parts.items():
        part = _PARTS.get(name)
        if part is None or value is None:
            continue
        try:
            part.load(value)
            saved[name] = (part.fingerprint(), value)
        except Exception:  # a saved piece that no longer fits is dropped, never a broken page
            log.warning("browser work: could not put %r back", name, exc_info=True)
    st.session_state[SAVED_KEY] = saved
    for callback in _ON_START:
        try:
            callback()
        except Exception:  # same
            log.warning("browser work: a session-start callback failed", exc_info=True)


def save_work() -> bool:
    """Save this browser's pieces if any changed since the last save; True when written."""
    if not _PARTS or not st.session_state.get(STARTED_KEY):
        return False
    saved: dict[str, tuple[Any, Any]] = dict(st.session_state.get(SAVED_KEY, {}))
    changed = False
    for name, part in _PARTS.items():
        try:
            fingerprint = part.fingerprint()
            if name in saved and saved[name][0] == fingerprint:
                continue
            if name not in saved and fingerprint is None:
                continue
            saved[name] = (fingerprint, part.dump())
            changed = True
        except Exception:  # a piece that cannot be written stays for the session only
            log.warning("browser work: could not keep %r", name, exc_info=True)
    if not changed:
        return False
    st.session_state[SAVED_KEY] = saved
    return BrowserStore().save(browser_id(), {name: value for name, (_, value) in saved.items() if value is not None})


def end_run(kept: Mapping[str, str | None] | None = None, *, full: bool = True) -> None:
    """After a run: save the work that changed; after a full run also set the cookies (``kept``: each
    kept parameter's value this session, None when it has none)."""
    save_work()
    if full and st.session_state.get(STARTED_KEY):
        st.sidebar.html(cookie_script(wanted_cookies(kept or {})), unsafe_allow_javascript=True)


# ------------------------------------------------------------------------- a signed unlock


def _signature(secret: str, purpose: str, expires: int) -> str:
    key = hashlib.sha256(f"unlock-key|{secret}".encode()).digest()
    message = f"{purpose}|{browser_id()}|{expires}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def sign(secret: str, purpose: str, seconds: int, *, now: float | None = None) -> str:
    """A token that ``secret`` unlocked ``purpose`` in this browser, valid for ``seconds``: the expiry
    and an HMAC keyed by the secret (the secret itself is never in it)."""
    expires = int((time.time() if now is None else now) + seconds)
    return f"{expires}.{_signature(secret, purpose, expires)}"


def verify(token: Any, secret: str, purpose: str, *, now: float | None = None) -> int | None:
    """The token's expiry if ``secret`` signed it for ``purpose`` in this browser and it has not
    expired, else None (any other secret, browser, purpose or a changed byte: None)."""
    if not secret or not isinstance(token, str) or len(token) > 128 or "." not in token:
        return None
    raw, signature = token.split(".", 1)
    if not raw.isdigit():
        return None
    expires = int(raw)
    if expires <= (time.time() if now is None else now):
        return None
    return expires if hmac.compare_digest(signature, _signature(secret, purpose, expires)) else None
