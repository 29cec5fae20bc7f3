"""Unexpected errors inside a page section: logged on the server, a plain message for the student."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from app.i18n import t

logger = logging.getLogger(__name__)


@contextmanager
def caught() -> Iterator[None]:
    """Turn an unexpected error inside the block into a translated message instead of a traceback.

    The exception and its traceback go to the server's log; students see no exception text.
    ``st.rerun`` and ``st.stop`` derive from ``BaseException`` and pass through untouched.
    """
    try:
        yield
    except Exception:
        logger.exception("a page section failed")
        st.error(t("app.error_generic"))
