"""What a student made, kept on the server under their browser's random id, so a reload finds it.

A browser id is a random token the browser keeps in a cookie (``app/identity.py``). It is never
trusted for anything but finding its own work: the file is named by a digest of the id (a made-up
id finds nothing, and no id reaches a path), each file is bounded in size, and files not written
for ``MAX_AGE_DAYS`` are deleted. The content is plain JSON (never a pickle), written to a temporary
file and renamed into place, so a reader sees a whole file or none; disk trouble never fails a page
(a miss, or a write skipped: the work lives for the session, as without cookies).

The folder is ``BROWSER_WORK_DIR`` when set, else ``data/browsers/`` in the checkout (git-ignored).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any

DEFAULT_DIR = Path(__file__).resolve().parent.parent / "data" / "browsers"
ID_PATTERN = re.compile(r"[0-9a-f]{32}")  # what identity.new_browser_id makes: 128 random bits
MAX_BYTES = 4 * 1024 * 1024  # 200 kept digits and ten 5c runs are well under 1 MB
MAX_AGE_DAYS = 14
MAX_FILES = 20_000  # beyond this the oldest go first, whatever their age
PRUNE_EVERY = 600.0  # seconds between two sweeps of old files by one process
SUFFIX = ".json"
FORMAT = 1

log = logging.getLogger(__name__)
_last_prune = 0.0


def store_dir() -> Path:
    """The folder: ``$BROWSER_WORK_DIR`` or ``data/browsers/``."""
    raw = os.environ.get("BROWSER_WORK_DIR")
    return Path(raw).expanduser() if raw else DEFAULT_DIR


def valid_id(browser_id: Any) -> bool:
    """Whether ``browser_id`` has the shape of an id this app makes (anything else finds nothing)."""
    return isinstance(browser_id, str) and ID_PATTERN.fullmatch(browser_id) is not None


def file_stem(browser_id: str) -> str:
    """The name (without suffix) of the id's files: a digest, so the id itself is never on disk."""
    return hashlib.sha256(f"browser-work|{browser_id}".encode()).hexdigest()[:40]


class BrowserStore:
    """Each browser's saved work: a JSON object of named parts, one file per browser id."""

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root) if root is not None else store_dir()

    def path(self, browser_id: str, suffix: str = SUFFIX) -> Path:
        return self.root / f"{file_stem(browser_id)}{suffix}"

    def load(self, browser_id: Any) -> dict[str, Any]:
        """The id's saved parts, ``{}`` for an unknown or malformed id, a missing, stale, damaged or oversized file."""
        if not valid_id(browser_id):
            return {}
        path = self.path(browser_id)
        try:
            if path.stat().st_size > MAX_BYTES or time.time() - path.stat().st_mtime > MAX_AGE_DAYS * 86400:
                return {}
            saved = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(saved, dict) or saved.get("format") != FORMAT or not isinstance(saved.get("parts"), dict):
            return {}
        return saved["parts"]

    def save(self, browser_id: Any, parts: dict[str, Any]) -> bool:
        """Write the id's parts (JSON-able) in place of the old ones; False when refused (bad id,
        too large, or the disk said no)."""
        if not valid_id(browser_id):
            return False
        try:
            text = json.dumps({"format": FORMAT, "parts": parts}, ensure_ascii=False, separators=(",", ":"))
        except (TypeError, ValueError) as exc:
            log.warning("browser work: not JSON (%s); not saved", exc)
            return False
        blob = text.encode("utf-8")
        if len(blob) > MAX_BYTES:
            log.warning("browser work: %d bytes is over the limit; not saved", len(blob))
            return False
        ok = _write_atomic(self.root, self.path(browser_id), blob)
        self.prune()
        return ok

    def forget(self, browser_id: Any) -> None:
        """Delete every file of the id."""
        if valid_id(browser_id):
            for path in self.root.glob(f"{file_stem(browser_id)}*"):
                with contextlib.suppress(OSError):
                    path.unlink()

    def prune(self, *, now: float | None = None, force: bool = False) -> int:
        """Delete files not written for ``MAX_AGE_DAYS`` (and the oldest beyond ``MAX_FILES``), at most
        once every ``PRUNE_EVERY`` seconds per process unless ``force``; returns how many went."""
        global _last_prune
        now = time.time() if now is None else now
        if not force and now - _last_prune < PRUNE_EVERY:
            return 0
        _last_prune = now
        try:
            files = [(p.stat().st_mtime, p) for p in self.root.iterdir() if not p.name.startswith(".")]
        except OSError:
            return 0
        files.sort()
        cut = now - MAX_AGE_DAYS * 86400
        doomed = [p for mtime, p in files if mtime < cut]
        doomed += [p for _, p in files[len(doomed):max(len(doomed), len(files) - MAX_FILES)]]
        for path in doomed:
            with contextlib.suppress(OSError):
                path.unlink()
        return len(doomed)


def _write_atomic(folder: Path, path: Path, blob: bytes) -> bool:
    tmp = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=folder)
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
        os.replace(tmp, path)
        return True
    except OSError as exc:
        log.warning("browser work: cannot write %s (%s); the work lives for the session only", path, exc)
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        return False
