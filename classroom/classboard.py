"""The class board: everyone's training runs and the class's own handwriting, in a real database.

Pure SQLAlchemy Core + numpy/pandas/Pillow (no streamlit). By default an SQLite file in WAL mode
under ``data/classboard/`` (git-ignored); ``CLASS_DB_URL`` (a SQLAlchemy URL) points it at a
PostgreSQL that several app processes share. The schema is created and versioned here
(``MIGRATIONS``, recorded in ``schema_version``); nobody runs SQL by hand.

How a page uses it::

    board = ClassBoard()                        # once per server (st.cache_resource)
    code = board.open_room(teacher_code)        # the teacher; e.g. "K7M3QD"
    board.post_run(code, "Mei", {"lr": 0.1, "optimizer": "adam"}, 0.973, 41.5, client=session_id)
    board.add_drawing(code, "Mei", 7, image_28x28, client=session_id)
    runs, drawings = board.runs(code), board.drawings(code)
    leaderboard(runs); best_run(runs); accuracy_by_model(drawings, {"course": fn, ...})
    board.hide(code, entry_id, teacher_code); board.export(code, teacher_code)  # zip bytes

Every refusal raises ``BoardError`` (a ``ValueError``) with a stable ``code`` (see
``ERROR_MESSAGES``) for the page to word in either language, and stores nothing. Entries
(runs and drawings) share one id space, so ``hide`` needs only the id.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import math
import os
import secrets
import sqlite3
import threading
import time
import unicodedata
import urllib.parse
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Self

import numpy as np
import pandas as pd
import sqlalchemy as sa
from PIL import Image

from lessons import network

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_PATH = ROOT / "data" / "classboard" / "class.sqlite3"

ROOM_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read off a projector unambiguously
ROOM_CODE_LENGTH = 6  # 31**6 ≈ 8.9e8 codes: guessing another class's room is hopeless
NICKNAME_MAX = 24
SETTINGS_MAX_BYTES = 4096  # a run's settings are a handful of numbers and names
SETTINGS_MAX_DEPTH = 6
SETTINGS_MAX_ITEMS = 200
SECONDS_MAX = 7 * 24 * 3600.0
IMAGE_SIDE = 28
MIN_INTERVAL = 1.0  # seconds between two entries from one client
WRITE_ATTEMPTS = 5  # a busy database is retried this often before the entry is refused
SQLITE_BUSY_TIMEOUT_MS = 10_000
STEPS_MAX = 100_000  # a race run's steps to the valley (regression allows 10 000 iterations)
PAGE_NAME_MAX = 40
RACES = ("descent", "regression")  # page 1's race (lowest loss, fewest steps) and page 3's (lowest error)

ERROR_MESSAGES = {
    "nickname_empty": "Type a nickname.",
    "nickname_too_long": f"A nickname has at most {NICKNAME_MAX} characters.",
    "nickname_invalid": "A nickname must be text without control characters.",
    "label_out_of_range": "The label must be a whole number from 0 to 9.",
    "image_shape": f"The drawing must be a {IMAGE_SIDE}×{IMAGE_SIDE} image.",
    "image_not_numeric": "The drawing must be made of numbers.",
    "image_not_finite": "The drawing contains NaN or infinite values.",
    "image_out_of_range": "The drawing's values must lie in [0, 1] (or 0–255 for whole numbers).",
    "accuracy_out_of_range": "The accuracy must be a number from 0 to 1.",
    "seconds_out_of_range": "The training time must be a number of seconds from 0 to a week.",
    "settings_not_plain": "The settings must be plain data: text, numbers, true/false, lists and tables.",
    "settings_too_large": f"The settings take more than {SETTINGS_MAX_BYTES} bytes.",
    "rate_limited": "One entry a second, please: try again in a moment.",
    "room_unknown": "There is no class with this code.",
    "room_closed": "This class is closed: it takes no new entries.",
    "entry_unknown": "There is no such entry in this class.",
    "student_unknown": "No student in this class uses this nickname.",
    "nickname_taken": "Another student in this class already uses this nickname.",
    "teacher_code_wrong": "The teacher code is not right.",
    "teacher_code_unset": "No teacher code is set on the server (CLASS_TEACHER_CODE).",
    "storage_unavailable": "The class board's database is busy or unreachable: nothing was stored. Try again.",
    "page_unknown": "There is no such page to send.",
    "question_unknown": "There is no such question in the bank.",
    "question_not_open": "This question is not open in this class.",
    "question_revealed": "The answer is out: this question takes no more votes.",
    "choice_unknown": "This is not one of the question's choices.",
    "loss_not_finite": "The final loss must be a finite number.",
    "steps_out_of_range": f"The steps to the valley must be a whole number from 0 to {STEPS_MAX}, or none.",
}


class BoardError(ValueError):
    """A refusal: ``code`` is a key of ``ERROR_MESSAGES``; ``str(error)`` the English message."""

    def __init__(self, code: str, **fields: Any):
        self.code = code
        self.fields = fields
        super().__init__(ERROR_MESSAGES[code].format(**fields))


# ------------------------------------------------------------------------------------- schema

metadata = sa.MetaData()
version_table = sa.Table("schema_version", metadata, sa.Column("version", sa.Integer, nullable=False))
rooms = sa.Table(
    "rooms", metadata,
    sa.Column("code", sa.String(16), primary_key=True),
    sa.Column("created", sa.Float, nullable=False),  # Unix seconds: the same on every database
    sa.Column("closed", sa.Float, nullable=True),
)
entries = sa.Table(
    "entries", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("room", sa.String(16), sa.ForeignKey("rooms.code"), nullable=False),
    sa.Column("kind", sa.String(8), nullable=False),  # "run" or "drawing"
    sa.Column("nickname", sa.String(4 * NICKNAME_MAX), nullable=False),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("hidden", sa.Boolean, nullable=False, default=False),
    sa.Index("entries_room_kind", "room", "kind", "id"),
)
runs_table = sa.Table(
    "runs", metadata,
    sa.Column("id", sa.Integer, sa.ForeignKey("entries.id"), primary_key=True, autoincrement=False),
    sa.Column("settings", sa.Text, nullable=False),  # JSON
    sa.Column("accuracy", sa.Float, nullable=False),
    sa.Column("seconds", sa.Float, nullable=False),
)
drawings_table = sa.Table(
    "drawings", metadata,
    sa.Column("id", sa.Integer, sa.ForeignKey("entries.id"), primary_key=True, autoincrement=False),
    sa.Column("label", sa.Integer, nullable=False),
    sa.Column("image", sa.LargeBinary, nullable=False),  # 784 bytes, uint8, row-major, ink high
)


def _migrate_1(conn: sa.Connection) -> None:
    """Rooms, entries, runs and drawings. (While this is the only step it may use the tables
    above; the first later step that alters them must freeze this one's own copy.)"""
    metadata.create_all(conn, tables=[rooms, entries, runs_table, drawings_table])


# Leading the class: one row per room with what the teacher sent last (page, its URL settings and a
# version that grows with each send) and whether the room is frozen; the questions opened in a room,
# the votes (one per nickname, replaced by a second), and the race runs posted from pages 1 and 3.
lead_table = sa.Table(
    "lead", metadata,
    sa.Column("room", sa.String(16), sa.ForeignKey("rooms.code"), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("page", sa.String(64), nullable=True),
    sa.Column("query", sa.Text, nullable=True),  # JSON: the page's URL settings, as text
    sa.Column("sent", sa.Float, nullable=True),
    sa.Column("frozen", sa.Boolean, nullable=False),
    sa.Column("question", sa.String(64), nullable=True),  # the question opened last
)
asked_table = sa.Table(
    "asked", metadata,
    sa.Column("room", sa.String(16), sa.ForeignKey("rooms.code"), primary_key=True),
    sa.Column("question", sa.String(64), primary_key=True),
    sa.Column("opened", sa.Float, nullable=False),
    sa.Column("revealed", sa.Float, nullable=True),
    sa.Column("answer", sa.String(64), nullable=True),
)
votes_table = sa.Table(
    "votes", metadata,
    sa.Column("room", sa.String(16), sa.ForeignKey("rooms.code"), primary_key=True),
    sa.Column("question", sa.String(64), primary_key=True),
    sa.Column("nickname", sa.String(4 * NICKNAME_MAX), primary_key=True),
    sa.Column("choice", sa.String(64), nullable=False),
    sa.Column("created", sa.Float, nullable=False),
)
race_table = sa.Table(
    "race", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("room", sa.String(16), sa.ForeignKey("rooms.code"), nullable=False),
    sa.Column("race", sa.String(16), nullable=False),
    sa.Column("nickname", sa.String(4 * NICKNAME_MAX), nullable=False),
    sa.Column("settings", sa.Text, nullable=False),  # JSON
    sa.Column("final_loss", sa.Float, nullable=False),
    sa.Column("steps_to_valley", sa.Integer, nullable=True),
    sa.Column("created", sa.Float, nullable=False),
    sa.Index("race_room", "room", "race", "id"),
)


def _migrate_2(conn: sa.Connection) -> None:
    """Leading the class: the lead row, questions asked, votes and race runs (new tables only)."""
    metadata.create_all(conn, tables=[lead_table, asked_table, votes_table, race_table])


MIGRATIONS: list[Callable[[sa.Connection], None]] = [_migrate_1, _migrate_2]  # step i brings the schema to version i + 1
SCHEMA_VERSION = len(MIGRATIONS)


# --------------------------------------------------------------------------------- validation

def normalise_room(code: Any) -> str:
    """A typed class code as stored (upper case, no spaces), or ``room_unknown`` if it cannot be one."""
    if not isinstance(code, str) or len(code) > 64:
        raise BoardError("room_unknown")
    code = "".join(code.split()).upper()
    if len(code) != ROOM_CODE_LENGTH or any(c not in ROOM_ALPHABET for c in code):
        raise BoardError("room_unknown")
    return code


# Unicode categories a nickname may not hold: controls, format characters (bidi overrides would
# garble the projector), surrogates, private use and unassigned code points, line separators.
_BAD_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
_ALLOWED_FORMAT = {"\u200d"}  # the zero-width joiner inside emoji sequences


def check_nickname(nickname: Any) -> str:
    """The nickname as stored: NFC, stripped, 1..``NICKNAME_MAX`` characters, no control characters."""
    if not isinstance(nickname, str):
        raise BoardError("nickname_invalid")
    if len(nickname) > 16 * NICKNAME_MAX:  # refused before any work on it
        raise BoardError("nickname_too_long")
    name = unicodedata.normalize("NFC", nickname).strip()
    if any(unicodedata.category(c) in _BAD_CATEGORIES and c not in _ALLOWED_FORMAT for c in name):
        raise BoardError("nickname_invalid")
    if not name:
        raise BoardError("nickname_empty")
    if len(name) > NICKNAME_MAX:
        raise BoardError("nickname_too_long")
    return name


def _is_real(x: Any) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, (bool, np.bool_))


def check_accuracy(accuracy: Any) -> float:
    if not _is_real(accuracy) or not 0.0 <= float(accuracy) <= 1.0:  # NaN fails the comparison too
        raise BoardError("accuracy_out_of_range")
    return float(accuracy)


def check_seconds(seconds: Any) -> float:
    if not _is_real(seconds) or not 0.0 <= float(seconds) <= SECONDS_MAX:
        raise BoardError("seconds_out_of_range")
    return float(seconds)


def check_label(label: Any) -> int:
    if not isinstance(label, (int, np.integer)) or isinstance(label, (bool, np.bool_)) or not 0 <= label <= 9:
        raise BoardError("label_out_of_range")
    return int(label)


def check_settings(settings: Any) -> str:
    """Settings as canonical JSON: a dict of plain data (str, int, float, bool, None, list or
    tuple, dict with str keys; ``dataclasses.asdict`` of a ``TrainConfig`` is), finite floats, at most ``SETTINGS_MAX_BYTES``. The walk has budgets, so a
    deep, cyclic or huge structure is refused before it is serialised."""
    if not isinstance(settings, dict):
        raise BoardError("settings_not_plain")
    budget = {"items": SETTINGS_MAX_ITEMS, "bytes": SETTINGS_MAX_BYTES}

    def walk(value: Any, depth: int) -> None:
        budget["items"] -= 1
        if budget["items"] < 0:
            raise BoardError("settings_too_large")
        if depth > SETTINGS_MAX_DEPTH:
            raise BoardError("settings_not_plain")
        if isinstance(value, str):
            budget["bytes"] -= len(value)
            if budget["bytes"] < 0:
                raise BoardError("settings_too_large")
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise BoardError("settings_not_plain")
        elif value is None or isinstance(value, (bool, int)):
            pass
        elif isinstance(value, (list, tuple)):  # a tuple (e.g. TrainConfig.hidden) comes back as a list
            for item in value:
                walk(item, depth + 1)
        elif isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    raise BoardError("settings_not_plain")
                walk(key, depth + 1)
                walk(item, depth + 1)
        else:
            raise BoardError("settings_not_plain")

    walk(settings, 0)
    text = json.dumps(settings, sort_keys=True, ensure_ascii=False, allow_nan=False)
    if len(text.encode("utf-8")) > SETTINGS_MAX_BYTES:
        raise BoardError("settings_too_large")
    return text


_PAGE_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_")


def check_page(page: Any) -> str:
    """A page's name as its URL says it (``descent``, ``mnist_train``): lower-case letters, digits, ``_``."""
    if not isinstance(page, str) or not 0 < len(page) <= PAGE_NAME_MAX or not set(page) <= _PAGE_CHARS:
        raise BoardError("page_unknown")
    return page


def check_query(query: Any) -> str:
    """A page's URL settings (name -> text, as ``st.query_params`` holds them) as canonical JSON."""
    if not isinstance(query, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in query.items()):
        raise BoardError("settings_not_plain")
    return check_settings(dict(query))


def _question(question_id: Any) -> Any:
    """The bank's question with this id (``question_unknown`` if none)."""
    from classroom import questions as bank

    found = bank.by_id().get(question_id) if isinstance(question_id, str) else None
    if found is None:
        raise BoardError("question_unknown")
    return found

def check_image(image: Any) -> np.ndarray:
    """A 28×28 uint8 image (ink high) from floats in [0, 1] (the canvas's output), whole numbers
    in 0..255, a PIL image or nested lists. The shape is checked before anything is converted,
    so a bomb-sized input costs nothing."""
    side = IMAGE_SIDE
    if isinstance(image, Image.Image):
        if image.size != (side, side):
            raise BoardError("image_shape")
        image = np.asarray(image.convert("L"))
    elif isinstance(image, np.ndarray):
        if image.shape != (side, side):
            raise BoardError("image_shape")
    else:
        try:
            ok = len(image) == side and all(len(row) == side for row in image)
        except TypeError:
            ok = False
        if not ok:
            raise BoardError("image_shape")
        try:
            image = np.asarray(image)
        except (TypeError, ValueError):
            raise BoardError("image_not_numeric") from None
        if image.shape != (side, side):
            raise BoardError("image_shape")
    kind = image.dtype.kind
    if kind == "f":
        if not np.isfinite(image).all():
            raise BoardError("image_not_finite")
        if image.min() < 0.0 or image.max() > 1.0:
            raise BoardError("image_out_of_range")
        return np.rint(image.astype(np.float64) * 255.0).astype(np.uint8)
    if kind in "ui":
        if image.min() < 0 or image.max() > 255:
            raise BoardError("image_out_of_range")
        return image.astype(np.uint8)
    if kind == "b":
        return image.astype(np.uint8) * 255
    raise BoardError("image_not_numeric")


def _digest(code: str) -> bytes:
    # Equal-length digests: compare_digest then leaks neither the content nor the length.
    return hashlib.sha256(code.encode("utf-8", "surrogatepass")).digest()


# ---------------------------------------------------------------------------------- the board

def default_url() -> str:
    """``CLASS_DB_URL`` if set, else the SQLite file under ``data/classboard/``."""
    url = os.environ.get("CLASS_DB_URL", "").strip()
    return url or f"sqlite:///{DEFAULT_SQLITE_PATH}"


PG_CONNECT_TIMEOUT = 5  # seconds: a database host that stopped answering is reported, not waited for


def _file_identity(path: str) -> tuple[int, int] | None:
    """The SQLite file's (device, inode), or None when nothing is at ``path``."""
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_dev, found.st_ino


def _engine_for(url: str) -> sa.Engine:
    parsed = sa.make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")  # the driver requirements.txt pins
    if parsed.get_backend_name() != "sqlite":
        if parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query:
            parsed = parsed.update_query_dict({"connect_timeout": str(PG_CONNECT_TIMEOUT)})
        # At most 15 connections per app process: several processes stay under the server's 100.
        # pool_pre_ping: a connection the server dropped (a restart) is replaced at its next use.
        return sa.create_engine(parsed, pool_pre_ping=True, pool_size=5, max_overflow=10, pool_timeout=60)
    connect_args = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
    options: dict[str, Any] = {"connect_args": connect_args}
    path = parsed.database if parsed.database and parsed.database != ":memory:" else None
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        sqlite3.connect(path).close()  # the one place the file is created

        def connect() -> sqlite3.Connection:
            # mode=rw: a file removed mid-class is reported missing, not silently made anew and empty
            return sqlite3.connect(f"file:{urllib.parse.quote(path)}?mode=rw", uri=True, **connect_args)

        options = {"creator": connect}
    engine = sa.create_engine(parsed, pool_size=10, max_overflow=60, pool_timeout=60, **options)

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, record: Any) -> None:
        # SQLAlchemy emits BEGIN itself (below), so the driver's own transaction handling is off.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a killed process loses nothing committed
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
        if path is not None:
            record.info["file"] = _file_identity(path)

    if path is not None:
        @sa.event.listens_for(engine, "checkout")
        def _on_checkout(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
            # An open SQLite connection keeps working on its file after the file (or its folder) is
            # moved or deleted: an entry would be "stored" where nobody reads it again. A connection
            # whose file is no longer the one at the path is replaced; a new one fails while the
            # file is gone, and the board says it is unavailable.
            if record.info.get("file") != _file_identity(path):
                raise sa.exc.DisconnectionError("the database file was moved, replaced or removed")

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        # A writer takes the lock up front: a read-then-write transaction could otherwise fail at
        # once with SQLITE_BUSY instead of waiting its turn.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("board_write") else "BEGIN")

    return engine


def _is_transient(error: sa.exc.DBAPIError) -> bool:
    """A lock, deadlock or serialisation conflict, or a connection that could not be made:
    the transaction did not commit, so it is safe to run it again."""
    if error.connection_invalidated:
        return True
    text = str(error.orig).lower()
    sqlstate = getattr(error.orig, "sqlstate", None) or ""
    return "locked" in text or "busy" in text or sqlstate in ("40001", "40P01") or sqlstate.startswith("08")


class ClassBoard:
    """One class board on one database. Thread-safe; several processes may share a PostgreSQL.

    ``url``: a SQLAlchemy URL (default: ``default_url()``). ``teacher_code``: the server's secret
    (default: ``CLASS_TEACHER_CODE``). ``min_interval``: seconds between two entries from one
    ``client`` (entries posted without a ``client`` are not rate-limited). Creates or migrates
    the schema; raises ``BoardError("storage_unavailable")`` if the database cannot be reached.
    """

    def __init__(self, url: str | None = None, *, teacher_code: str | None = None,
                 min_interval: float = MIN_INTERVAL):
        self.url = url or default_url()
        try:
            self.engine = _engine_for(self.url)
        except (OSError, sqlite3.Error) as error:  # the SQLite file's folder cannot be made or opened
            raise BoardError("storage_unavailable") from error
        self._writer = self.engine.execution_options(board_write=True)
        secret = teacher_code if teacher_code is not None else os.environ.get("CLASS_TEACHER_CODE", "")
        self._teacher_digest = _digest(secret) if secret else None
        self.min_interval = float(min_interval)
        self._last_entry: dict[str, float] = {}
        self._rate_lock = threading.Lock()
        self._migrate()

    # -- lifecycle

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        def step(conn: sa.Connection) -> None:
            if conn.dialect.name == "postgresql":
                # Two processes starting at once: one migrates, the other waits and finds it done.
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(4150015)"))
            version_table.create(conn, checkfirst=True)
            version = conn.execute(sa.select(version_table.c.version)).scalar()
            if version is None:
                conn.execute(version_table.insert().values(version=0))
                version = 0
            for number in range(version, SCHEMA_VERSION):
                MIGRATIONS[number](conn)
            if version != SCHEMA_VERSION:
                conn.execute(version_table.update().values(version=SCHEMA_VERSION))

        self._write(step)

    def schema_version(self) -> int:
        return int(self._read(sa.select(version_table.c.version))[0][0])

    # -- transactions

    def _write(self, work: Callable[[sa.Connection], Any]) -> Any:
        """Run ``work`` in one write transaction, retried while the database is busy. A failure
        during COMMIT itself is not retried (the entry might be stored twice): it is refused."""
        for attempt in range(WRITE_ATTEMPTS):
            try:
                with self._writer.connect() as conn:
                    transaction = conn.begin()
                    try:
                        result = work(conn)
                    except BaseException:
                        transaction.rollback()
                        raise
                    try:
                        transaction.commit()
                    except sa.exc.DBAPIError:
                        raise BoardError("storage_unavailable") from None
                    return result
            except sa.exc.DBAPIError as error:
                if not _is_transient(error) or attempt == WRITE_ATTEMPTS - 1:
                    raise BoardError("storage_unavailable") from error
                time.sleep(0.05 * 2 ** attempt * (1 + secrets.randbelow(100) / 100))
            except (sa.exc.TimeoutError, sa.exc.DisconnectionError, sa.exc.InvalidRequestError) as error:
                # every pooled connection stayed busy, or none could be made to the database's file
                raise BoardError("storage_unavailable") from error
        raise AssertionError("unreachable")

    def _read(self, statement: sa.Executable) -> list[sa.Row]:
        try:
            with self.engine.connect() as conn:
                return list(conn.execute(statement))
        except (sa.exc.DBAPIError, sa.exc.TimeoutError, sa.exc.DisconnectionError, sa.exc.InvalidRequestError) as error:
            raise BoardError("storage_unavailable") from error

    # -- the teacher

    def _check_teacher(self, teacher_code: Any) -> None:
        if self._teacher_digest is None:
            raise BoardError("teacher_code_unset")
        given = _digest(teacher_code) if isinstance(teacher_code, str) else b""
        if not hmac.compare_digest(given, self._teacher_digest):
            raise BoardError("teacher_code_wrong")

    def teacher_code_ok(self, teacher_code: Any) -> bool:
        """Whether ``teacher_code`` unlocks the teacher's controls (constant-time)."""
        try:
            self._check_teacher(teacher_code)
        except BoardError:
            return False
        return True

    def open_room(self, teacher_code: str) -> str:
        """Start a class: returns its new code, e.g. ``"K7M3QD"``."""
        self._check_teacher(teacher_code)
        while True:
            code = "".join(secrets.choice(ROOM_ALPHABET) for _ in range(ROOM_CODE_LENGTH))
            try:
                insert = rooms.insert().values(code=code, created=time.time())
                self._write(lambda conn, insert=insert: conn.execute(insert))
                return code
            except BoardError as error:
                # A clash with an existing code (about 1 in 10^8 per room) draws another one.
                if not isinstance(error.__cause__, sa.exc.IntegrityError):
                    raise

    def close_room(self, room: str, teacher_code: str) -> None:
        """Close a class: its board stays readable, it takes no new entries."""
        self._check_teacher(teacher_code)
        room = normalise_room(room)

        def close(conn: sa.Connection) -> None:
            done = conn.execute(rooms.update().where(rooms.c.code == room, rooms.c.closed.is_(None))
                                .values(closed=time.time()))
            if done.rowcount == 0 and not conn.execute(sa.select(rooms.c.code).where(rooms.c.code == room)).first():
                raise BoardError("room_unknown")

        self._write(close)

    def reopen_room(self, room: str, teacher_code: str) -> None:
        """Take entries again in a closed class."""
        self._check_teacher(teacher_code)
        room = normalise_room(room)

        def reopen(conn: sa.Connection) -> None:
            if conn.execute(rooms.update().where(rooms.c.code == room).values(closed=None)).rowcount == 0:
                raise BoardError("room_unknown")

        self._write(reopen)

    def rooms(self, teacher_code: str) -> pd.DataFrame:
        """Every class, newest first: code, created, closed (UTC times or NaT), runs, drawings."""
        self._check_teacher(teacher_code)
        def count(kind: str) -> sa.ColumnElement:
            return sa.func.count(entries.c.id).filter(entries.c.kind == kind)

        rows = self._read(
            sa.select(rooms.c.code, rooms.c.created, rooms.c.closed, count("run").label("runs"),
                      count("drawing").label("drawings"))
            .select_from(rooms.outerjoin(entries, sa.and_(entries.c.room == rooms.c.code, ~entries.c.hidden)))
            .group_by(rooms.c.code, rooms.c.created, rooms.c.closed).order_by(rooms.c.created.desc()))
        frame = pd.DataFrame(rows, columns=["code", "created", "closed", "runs", "drawings"])
        for column in ("created", "closed"):
            frame[column] = pd.to_datetime(frame[column].astype(float), unit="s", utc=True)
        return frame

    def room_exists(self, room: Any) -> bool:
        try:
            room = normalise_room(room)
        except BoardError:
            return False
        return bool(self._read(sa.select(rooms.c.code).where(rooms.c.code == room)))

    def room_is_open(self, room: Any) -> bool:
        try:
            room = normalise_room(room)
        except BoardError:
            return False
        return bool(self._read(sa.select(rooms.c.code).where(rooms.c.code == room, rooms.c.closed.is_(None))))

    def hide(self, room: str, entry_id: int, teacher_code: str, *, hidden: bool = True) -> None:
        """Hide a run or a drawing from the board and the export (``hidden=False`` shows it again).
        Nothing is deleted."""
        self._check_teacher(teacher_code)
        room = normalise_room(room)
        if not isinstance(entry_id, (int, np.integer)) or isinstance(entry_id, bool):
            raise BoardError("entry_unknown")

        def hide(conn: sa.Connection) -> None:
            done = conn.execute(entries.update().where(entries.c.id == int(entry_id), entries.c.room == room)
                                .values(hidden=bool(hidden)))
            if done.rowcount == 0:
                raise BoardError("entry_unknown")

        self._write(hide)

    # -- the class's students, by nickname

    def students(self, room: str, teacher_code: str) -> pd.DataFrame:
        """Every nickname with a run, a drawing or a race run in the room, alphabetical: nickname,
        entries (runs and drawings), hidden (how many of them are hidden), races (race runs)."""
        self._check_teacher(teacher_code)
        room = normalise_room(room)
        if not self.room_exists(room):
            raise BoardError("room_unknown")
        board = self._read(sa.select(entries.c.nickname, sa.func.count().label("entries"),
                                     sa.func.count().filter(entries.c.hidden).label("hidden"))
                           .where(entries.c.room == room).group_by(entries.c.nickname))
        raced = self._read(sa.select(race_table.c.nickname, sa.func.count().label("races"))
                           .where(race_table.c.room == room).group_by(race_table.c.nickname))
        counts = {r.nickname: [int(r.entries), int(r.hidden), 0] for r in board}
        for r in raced:
            counts.setdefault(r.nickname, [0, 0, 0])[2] = int(r.races)
        names = sorted(counts, key=lambda name: (name.casefold(), name))
        return pd.DataFrame({
            "nickname": pd.Series(names, dtype=object),
            "entries": np.array([counts[n][0] for n in names], dtype=np.int64),
            "hidden": np.array([counts[n][1] for n in names], dtype=np.int64),
            "races": np.array([counts[n][2] for n in names], dtype=np.int64),
        })

    def rename_student(self, room: str, nickname: str, new_nickname: str, teacher_code: str) -> None:
        """Give a student another nickname: their runs, drawings, race runs and votes follow it.
        A nickname another student of the room uses is refused (``nickname_taken``): two students
        are never merged by a slip."""
        self._check_teacher(teacher_code)
        room = normalise_room(room)
        old, new = check_nickname(nickname), check_nickname(new_nickname)
        tables = (entries, race_table, votes_table)

        def used(conn: sa.Connection, name: str) -> bool:
            return any(conn.execute(sa.select(table.c.room).where(table.c.room == room, table.c.nickname == name)
                                    .limit(1)).first() for table in tables)

        def rename(conn: sa.Connection) -> None:
            self._room_state(conn, room)  # room_unknown
            if not used(conn, old):
                raise BoardError("student_unknown")
            if new == old:
                return
            if used(conn, new):
                raise BoardError("nickname_taken")
            for table in tables:
                conn.execute(table.update().where(table.c.room == room, table.c.nickname == old).values(nickname=new))

        self._write(rename)

    def remove_student(self, room: str, nickname: str, teacher_code: str, *, removed: bool = True) -> None:
        """Take a student off the board: every run and drawing of theirs is hidden, so the board, its
        counts and the export leave them out (``removed=False`` brings them all back). Nothing is
        deleted. Race runs and votes have no hidden flag: they stay as they are."""
        self._check_teacher(teacher_code)
        room = normalise_room(room)
        name = check_nickname(nickname)

        def remove(conn: sa.Connection) -> None:
            self._room_state(conn, room)  # room_unknown
            done = conn.execute(entries.update().where(entries.c.room == room, entries.c.nickname == name)
                                .values(hidden=bool(removed)))
            if done.rowcount == 0:
                raise BoardError("student_unknown")

        self._write(remove)

    # -- students' entries

    def _reserve(self, client: str | None) -> float | None:
        """Claim ``client``'s slot (``rate_limited`` if it posted less than ``min_interval`` ago);
        returns the previous time, for ``_release`` if the entry is then refused."""
        if client is None:
            return None
        now = time.monotonic()
        with self._rate_lock:
            last = self._last_entry.get(client)
            if last is not None and now - last < self.min_interval:
                raise BoardError("rate_limited")
            if len(self._last_entry) > 10_000:  # forget clients that may post again anyway
                self._last_entry = {k: t for k, t in self._last_entry.items() if now - t < self.min_interval}
            self._last_entry[client] = now
            return last

    def _release(self, client: str | None, previous: float | None) -> None:
        if client is None:
            return
        with self._rate_lock:
            if previous is None:
                self._last_entry.pop(client, None)
            else:
                self._last_entry[client] = previous

    def _add_entry(self, room: Any, nickname: str, kind: str, client: str | None,
                   details: Callable[[int], sa.Executable]) -> int:
        room = normalise_room(room)
        previous = self._reserve(client)

        def add(conn: sa.Connection) -> int:
            state = conn.execute(sa.select(rooms.c.closed).where(rooms.c.code == room)).first()
            if state is None:
                raise BoardError("room_unknown")
            if state.closed is not None:
                raise BoardError("room_closed")
            entry_id = conn.execute(entries.insert().values(
                room=room, kind=kind, nickname=nickname, created=time.time(), hidden=False)).inserted_primary_key[0]
            conn.execute(details(entry_id))
            return int(entry_id)

        try:
            return self._write(add)
        except BaseException:
            self._release(client, previous)
            raise

    def post_run(self, room: str, nickname: str, settings: dict, accuracy: float, seconds: float,
                 *, client: str | None = None) -> int:
        """Post a training run (settings, test accuracy in [0, 1], training seconds); returns its id."""
        name, text = check_nickname(nickname), check_settings(settings)
        accuracy, seconds = check_accuracy(accuracy), check_seconds(seconds)
        return self._add_entry(room, name, "run", client, lambda entry_id: runs_table.insert().values(
            id=entry_id, settings=text, accuracy=accuracy, seconds=seconds))

    def add_drawing(self, room: str, nickname: str, label: int, image_28x28: Any,
                    *, client: str | None = None) -> int:
        """Add a labelled drawing (28×28, floats in [0, 1] or 0..255, ink high); returns its id."""
        name, label, pixels = check_nickname(nickname), check_label(label), check_image(image_28x28)
        return self._add_entry(room, name, "drawing", client, lambda entry_id: drawings_table.insert().values(
            id=entry_id, label=label, image=pixels.tobytes()))

    # -- reading the board

    def runs(self, room: Any, *, include_hidden: bool = False) -> pd.DataFrame:
        """The room's runs, oldest first: id, nickname, settings (dict), accuracy, seconds,
        created (UTC), hidden. Empty (with these columns) for an unknown room."""
        rows = self._entries(room, include_hidden, runs_table,
                             [runs_table.c.settings, runs_table.c.accuracy, runs_table.c.seconds])
        return _frame(rows, {
            "settings": pd.Series([json.loads(r.settings) for r in rows], dtype=object),
            "accuracy": np.fromiter((r.accuracy for r in rows), np.float64, len(rows)),
            "seconds": np.fromiter((r.seconds for r in rows), np.float64, len(rows)),
        })

    def drawings(self, room: Any, *, include_hidden: bool = False) -> pd.DataFrame:
        """The room's drawings, oldest first: id, nickname, label, image (28×28 uint8, ink high),
        created (UTC), hidden."""
        rows = self._entries(room, include_hidden, drawings_table, [drawings_table.c.label, drawings_table.c.image])
        shape = (IMAGE_SIDE, IMAGE_SIDE)
        return _frame(rows, {
            "label": np.fromiter((r.label for r in rows), np.int64, len(rows)),
            "image": pd.Series([np.frombuffer(r.image, dtype=np.uint8).reshape(shape) for r in rows], dtype=object),
        })

    def _entries(self, room: Any, include_hidden: bool, table: sa.Table, columns: list) -> list[sa.Row]:
        try:
            room = normalise_room(room)
        except BoardError:
            return []
        query = (sa.select(entries.c.id, entries.c.nickname, entries.c.created, entries.c.hidden, *columns)
                 .join(table, table.c.id == entries.c.id).where(entries.c.room == room).order_by(entries.c.id))
        if not include_hidden:
            query = query.where(~entries.c.hidden)
        return self._read(query)

    def export(self, room: str, teacher_code: str) -> bytes:
        """The room's visible drawings as a zip: ``<label>/<id>.png`` (28×28 greyscale, ink white,
        as MNIST) and ``labels.csv`` (file, label, id, nickname, created)."""
        self._check_teacher(teacher_code)
        room = normalise_room(room)
        if not self.room_exists(room):
            raise BoardError("room_unknown")
        drawings = self.drawings(room)
        buffer = io.BytesIO()
        table = io.StringIO()
        writer = csv.writer(table, lineterminator="\n")
        writer.writerow(["file", "label", "id", "nickname", "created"])
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for row in drawings.itertuples():
                name = f"{row.label}/{row.id}.png"
                png = io.BytesIO()
                Image.fromarray(row.image, mode="L").save(png, format="PNG")
                archive.writestr(name, png.getvalue())
                writer.writerow([name, row.label, row.id, row.nickname, row.created.isoformat()])
            archive.writestr("labels.csv", table.getvalue())
        return buffer.getvalue()

    # -- leading the class: send, freeze, questions and votes, the race

    def _upsert(self, conn: sa.Connection, table: sa.Table, values: dict, update: dict) -> None:
        """Insert a row, or update the one with the same primary key (one statement: two writers
        on PostgreSQL cannot both insert it)."""
        if conn.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        statement = insert(table).values(**values)
        conn.execute(statement.on_conflict_do_update(index_elements=[c.name for c in table.primary_key], set_=update))

    def _room_state(self, conn: sa.Connection, room: str) -> sa.Row:
        state = conn.execute(sa.select(rooms.c.closed).where(rooms.c.code == room)).first()
        if state is None:
            raise BoardError("room_unknown")
        return state

    def _send(self, conn: sa.Connection, room: str, page: str, query_text: str) -> int:
        self._upsert(conn, lead_table,
                     {"room": room, "version": 1, "page": page, "query": query_text, "sent": time.time(), "frozen": False},
                     {"version": lead_table.c.version + 1, "page": page, "query": query_text, "sent": time.time()})
        return int(conn.execute(sa.select(lead_table.c.version).where(lead_table.c.room == room)).scalar_one())

    def send(self, room: str, teacher_code: str, page: str, query: Mapping[str, Any]) -> int:
        """The teacher sends a page with its URL settings to the whole class; returns the new version."""
        self._check_teacher(teacher_code)
        room, page, text = normalise_room(room), check_page(page), check_query(query)

        def send(conn: sa.Connection) -> int:
            self._room_state(conn, room)
            return self._send(conn, room, page, text)

        return self._write(send)

    def sent(self, room: Any) -> dict | None:
        """What the teacher sent last: ``{"page", "query", "version"}``, or None (nothing sent yet)."""
        state = self.lead_state(room)
        if not state["version"]:
            return None
        return {"page": state["page"], "query": state["query"], "version": state["version"]}

    def freeze(self, room: str, teacher_code: str, frozen: bool) -> None:
        """Eyes on me: the students' page controls are disabled until ``frozen=False``."""
        self._check_teacher(teacher_code)
        room = normalise_room(room)

        def freeze(conn: sa.Connection) -> None:
            self._room_state(conn, room)
            self._upsert(conn, lead_table, {"room": room, "version": 0, "frozen": bool(frozen)}, {"frozen": bool(frozen)})

        self._write(freeze)

    def frozen(self, room: Any) -> bool:
        return self.lead_state(room)["frozen"]

    def lead_state(self, room: Any) -> dict:
        """Everything a student's screen polls for, in one read: version, page, query (dict), sent
        (Unix seconds), frozen, question (the one opened last, or None), revealed (bool), answer
        (None until revealed) and voters (how many voted on it so far)."""
        state = {"version": 0, "page": None, "query": {}, "sent": None, "frozen": False,
                 "question": None, "revealed": False, "answer": None, "voters": 0}
        try:
            room = normalise_room(room)
        except BoardError:
            return state
        voters = (sa.select(sa.func.count()).select_from(votes_table)
                  .where(votes_table.c.room == lead_table.c.room, votes_table.c.question == lead_table.c.question)
                  .scalar_subquery())
        rows = self._read(
            sa.select(lead_table.c.version, lead_table.c.page, lead_table.c.query, lead_table.c.sent,
                      lead_table.c.frozen, lead_table.c.question, asked_table.c.revealed, asked_table.c.answer,
                      voters.label("voters"))
            .select_from(lead_table.outerjoin(asked_table, sa.and_(asked_table.c.room == lead_table.c.room,
                                                                   asked_table.c.question == lead_table.c.question)))
            .where(lead_table.c.room == room))
        if not rows:
            return state
        row = rows[0]
        return {"version": int(row.version), "page": row.page, "query": json.loads(row.query) if row.query else {},
                "sent": row.sent, "frozen": bool(row.frozen), "question": row.question,
                "revealed": row.revealed is not None, "answer": row.answer, "voters": int(row.voters or 0)}

    def open_question(self, room: str, teacher_code: str, question_id: str) -> None:
        """Ask the class a question from the bank: votes open (again, afresh, if it was asked before)."""
        self._check_teacher(teacher_code)
        room, question = normalise_room(room), _question(question_id)

        def ask(conn: sa.Connection) -> None:
            self._room_state(conn, room)
            conn.execute(votes_table.delete().where(votes_table.c.room == room, votes_table.c.question == question.id))
            self._upsert(conn, asked_table, {"room": room, "question": question.id, "opened": time.time()},
                         {"opened": time.time(), "revealed": None, "answer": None})
            self._upsert(conn, lead_table, {"room": room, "version": 0, "frozen": False, "question": question.id},
                         {"question": question.id})

        self._write(ask)

    def vote(self, room: str, nickname: str, question_id: str, choice: str, *, client: str | None = None) -> None:
        """A student's vote; a second one from the same nickname replaces the first. Refused in a
        closed room, for a question not open in the room, and after the reveal."""
        name, question = check_nickname(nickname), _question(question_id)
        if not isinstance(choice, str) or choice not in question.choices:
            raise BoardError("choice_unknown")
        room = normalise_room(room)
        previous = self._reserve(client)

        def vote(conn: sa.Connection) -> None:
            if self._room_state(conn, room).closed is not None:
                raise BoardError("room_closed")
            asked = conn.execute(sa.select(asked_table.c.revealed).where(
                asked_table.c.room == room, asked_table.c.question == question.id)).first()
            if asked is None:
                raise BoardError("question_not_open")
            if asked.revealed is not None:
                raise BoardError("question_revealed")
            self._upsert(conn, votes_table,
                         {"room": room, "question": question.id, "nickname": name, "choice": choice, "created": time.time()},
                         {"choice": choice, "created": time.time()})

        try:
            self._write(vote)
        except BaseException:
            self._release(client, previous)
            raise

    def votes(self, room: Any, question_id: str) -> dict[str, int]:
        """How many chose each of the question's choices (every choice, in the bank's order)."""
        question = _question(question_id)
        counts = dict.fromkeys(question.choices, 0)
        try:
            room = normalise_room(room)
        except BoardError:
            return counts
        for row in self._read(sa.select(votes_table.c.choice, sa.func.count().label("n"))
                              .where(votes_table.c.room == room, votes_table.c.question == question.id)
                              .group_by(votes_table.c.choice)):
            if row.choice in counts:
                counts[row.choice] = int(row.n)
        return counts

    def reveal(self, room: str, teacher_code: str, question_id: str) -> str:
        """Close the vote, send the question's setup to every screen; returns the right answer
        (computed by ``lessons`` for the setup)."""
        self._check_teacher(teacher_code)
        room, question = normalise_room(room), _question(question_id)
        answer = question.answer()  # computed before the transaction: it may take a moment
        text = check_query(question.query)

        def reveal(conn: sa.Connection) -> str:
            self._room_state(conn, room)
            asked = conn.execute(sa.select(asked_table.c.revealed, asked_table.c.answer).where(
                asked_table.c.room == room, asked_table.c.question == question.id)).first()
            if asked is None:
                raise BoardError("question_not_open")
            if asked.revealed is None:
                conn.execute(asked_table.update().where(asked_table.c.room == room, asked_table.c.question == question.id)
                             .values(revealed=time.time(), answer=answer))
                self._send(conn, room, question.page, text)
            return answer

        return self._write(reveal)

    def post_descent(self, room: str, nickname: str, settings: dict, final_loss: float,
                     steps_to_valley: int | None, *, race: str = "descent", client: str | None = None) -> int:
        """A student's race run: its settings, where it ended (loss, or the regression's error) and
        how many steps it took to reach the valley (None: it never did). Returns its id."""
        name, text = check_nickname(nickname), check_settings(settings)
        if not _is_real(final_loss) or not math.isfinite(float(final_loss)):
            raise BoardError("loss_not_finite")
        if steps_to_valley is not None and (not isinstance(steps_to_valley, (int, np.integer))
                                            or isinstance(steps_to_valley, (bool, np.bool_))
                                            or not 0 <= steps_to_valley <= STEPS_MAX):
            raise BoardError("steps_out_of_range")
        if race not in RACES:
            raise BoardError("page_unknown")
        room = normalise_room(room)
        previous = self._reserve(client)

        def post(conn: sa.Connection) -> int:
            if self._room_state(conn, room).closed is not None:
                raise BoardError("room_closed")
            return int(conn.execute(race_table.insert().values(
                room=room, race=race, nickname=name, settings=text, final_loss=float(final_loss),
                steps_to_valley=None if steps_to_valley is None else int(steps_to_valley),
                created=time.time())).inserted_primary_key[0])

        try:
            return self._write(post)
        except BaseException:
            self._release(client, previous)
            raise

    def descents(self, room: Any, *, race: str = "descent") -> pd.DataFrame:
        """The room's race runs, oldest first: id, nickname, settings (dict), final_loss,
        steps_to_valley (nullable whole numbers), created (UTC)."""
        try:
            rows = self._read(sa.select(race_table).where(race_table.c.room == normalise_room(room),
                                                          race_table.c.race == race).order_by(race_table.c.id))
        except BoardError as error:
            if error.code != "room_unknown":
                raise
            rows = []
        n = len(rows)
        return pd.DataFrame({
            "id": np.fromiter((r.id for r in rows), np.int64, n),
            "nickname": pd.Series([r.nickname for r in rows], dtype=object),
            "settings": pd.Series([json.loads(r.settings) for r in rows], dtype=object),
            "final_loss": np.fromiter((r.final_loss for r in rows), np.float64, n),
            "steps_to_valley": pd.array([r.steps_to_valley for r in rows], dtype="Int64"),
            "created": pd.to_datetime(np.fromiter((r.created for r in rows), np.float64, n), unit="s", utc=True),
        })


def _frame(rows: list[sa.Row], details: dict[str, Any]) -> pd.DataFrame:
    """Entries as a frame, column by column (a frame built row by row costs several times more
    on every rerun): id, nickname, then ``details``, then created (UTC) and hidden. The column
    types are the same for an empty board."""
    n = len(rows)
    return pd.DataFrame({
        "id": np.fromiter((r.id for r in rows), np.int64, n),
        "nickname": pd.Series([r.nickname for r in rows], dtype=object),
        **details,
        "created": pd.to_datetime(np.fromiter((r.created for r in rows), np.float64, n), unit="s", utc=True),
        "hidden": np.fromiter((r.hidden for r in rows), bool, n),
    })


# ------------------------------------------------------------------- what the class page shows

def leaderboard(runs: pd.DataFrame) -> pd.DataFrame:
    """Each nickname's best run, best first: rank, nickname, accuracy, seconds, settings, id,
    created, runs (how many that nickname posted). Ties: the faster run, then the earlier one."""
    # numpy rather than sort_values/drop_duplicates: this runs on every refresh of the board.
    accuracy, seconds = runs["accuracy"].to_numpy(np.float64), runs["seconds"].to_numpy(np.float64)
    ids, names = runs["id"].to_numpy(np.int64), runs["nickname"].to_numpy(object)
    order = np.lexsort((ids, seconds, -accuracy))  # the last key sorts first; ids grow with time
    ranked_names = names[order].astype(str)
    _, first, counts = np.unique(ranked_names, return_index=True, return_counts=True)
    keep = order[np.sort(first)]
    posted = dict(zip(ranked_names[first], counts, strict=True))
    return pd.DataFrame({
        "rank": np.arange(1, len(keep) + 1),
        "nickname": pd.Series(names[keep], dtype=object),
        "accuracy": accuracy[keep],
        "seconds": seconds[keep],
        "settings": pd.Series(runs["settings"].to_numpy(object)[keep], dtype=object),
        "id": ids[keep],
        "created": runs["created"].iloc[keep].reset_index(drop=True),
        "runs": np.array([posted[name] for name in names[keep]], dtype=np.int64),
    })


def best_run(runs: pd.DataFrame) -> dict | None:
    """The settings of the class's best run (as ``leaderboard`` ranks them), or None for no runs."""
    board = leaderboard(runs)
    return None if board.empty else dict(board.iloc[0]["settings"])


def settings_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Runs with each setting as a column (for a chart of accuracy against, say, the learning
    rate, coloured by optimizer): id, nickname, accuracy, seconds, then the settings' keys
    (nested keys joined by "."; a key that clashes with those four gets a "setting." prefix)."""
    base = runs[["id", "nickname", "accuracy", "seconds"]].reset_index(drop=True)
    expanded = pd.json_normalize(list(runs["settings"])) if len(runs) else pd.DataFrame()
    expanded = expanded.rename(columns={c: f"setting.{c}" for c in expanded.columns if c in base.columns})
    return pd.concat([base, expanded], axis=1)


def board_summary(runs: pd.DataFrame, drawings: pd.DataFrame) -> dict:
    """Headline numbers: runs, drawings, students (distinct nicknames), best accuracy (None if
    no runs), and drawings per digit (a list of 10 counts)."""
    per_digit = np.bincount(drawings["label"].to_numpy(dtype=np.int64), minlength=10)[:10]
    return {
        "runs": len(runs),
        "drawings": len(drawings),
        "students": int(pd.concat([runs["nickname"], drawings["nickname"]]).nunique()),
        "best_accuracy": float(runs["accuracy"].max()) if len(runs) else None,
        "per_digit": [int(n) for n in per_digit],
    }


def images_array(drawings: pd.DataFrame) -> np.ndarray:
    """The drawings as one float32 array (n, 28, 28) in [0, 1], ink high: what the networks read."""
    if drawings.empty:
        return np.zeros((0, IMAGE_SIDE, IMAGE_SIDE), dtype=np.float32)
    return np.stack(list(drawings["image"])).astype(np.float32) / 255.0


def predictions(drawings: pd.DataFrame, predict_fns: Mapping[str, Callable[[np.ndarray], Any]]) -> pd.DataFrame:
    """How each model reads each drawing: id, label, then one column of predicted digits per model.

    ``predict_fns`` maps a model's name to a callable taking float images (n, 28, 28) in [0, 1]
    and returning n predicted digits or an (n, 10) array of scores/probabilities.
    """
    images = images_array(drawings)
    table = pd.DataFrame({"id": drawings["id"].to_numpy(dtype=np.int64), "label": drawings["label"].to_numpy(dtype=np.int64)})
    for name, predict in predict_fns.items():
        if len(images) == 0:
            table[name] = np.zeros(0, dtype=np.int64)
            continue
        out = np.asarray(predict(images))
        if out.ndim == 2:
            out = out.argmax(axis=1)
        if out.shape != (len(images),):
            raise ValueError(f"model {name!r} returned shape {out.shape} for {len(images)} drawings")
        table[name] = out.astype(np.int64)
    return table


def accuracy_by_model(drawings: pd.DataFrame, predict_fns: Mapping[str, Callable[[np.ndarray], Any]]) -> pd.DataFrame:
    """Per model: model, drawings, correct, accuracy (NaN-free: None when there are no drawings),
    and misread (the ids of the drawings it got wrong)."""
    table = predictions(drawings, predict_fns)
    rows = []
    for name in predict_fns:
        right = table[name].to_numpy() == table["label"].to_numpy()
        rows.append({"model": name, "drawings": len(table), "correct": int(right.sum()),
                     "accuracy": float(right.mean()) if len(table) else None,
                     "misread": [int(i) for i in table["id"].to_numpy()[~right]]})
    return pd.DataFrame(rows, columns=["model", "drawings", "correct", "accuracy", "misread"])


def digit_grids(drawings: pd.DataFrame, columns: int = 10) -> dict[int, np.ndarray]:
    """The collection as one ``lessons.network.montage`` per digit that has drawings, oldest first."""
    return {int(label): network.montage(list(group["image"]), columns)
            for label, group in drawings.groupby("label", sort=True)}


def race_leaderboard(runs: pd.DataFrame, by: str = "final_loss") -> pd.DataFrame:
    """Each nickname's best race run, best first: rank, nickname, final_loss, steps_to_valley,
    settings, id. ``by="final_loss"``: the lowest final loss (ties: fewer steps, then the earlier
    run); ``by="steps_to_valley"``: the fewest steps to the valley among runs that reached it (ties:
    the lower loss, then the earlier run)."""
    frame = runs if by == "final_loss" else runs[runs["steps_to_valley"].notna()]
    steps = frame["steps_to_valley"].astype("float64").fillna(np.inf).to_numpy()
    loss = frame["final_loss"].to_numpy(np.float64)
    ids = frame["id"].to_numpy(np.int64)
    order = np.lexsort((ids, steps, loss) if by == "final_loss" else (ids, loss, steps))
    names = frame["nickname"].to_numpy(object)[order].astype(str)
    _, first = np.unique(names, return_index=True)
    keep = order[np.sort(first)]
    best = frame.iloc[keep].reset_index(drop=True)
    return pd.DataFrame({"rank": np.arange(1, len(best) + 1), "nickname": best["nickname"],
                         "final_loss": best["final_loss"], "steps_to_valley": best["steps_to_valley"],
                         "settings": best["settings"], "id": best["id"]})


# ------------------------------------------------ the contract's functions, on the server's board

_DEFAULT: dict[tuple[str, str], ClassBoard] = {}
_DEFAULT_LOCK = threading.Lock()


def default_board() -> ClassBoard:
    """The board on ``default_url()`` with ``CLASS_TEACHER_CODE``, made once per process (and
    again if either changes): what the module-level functions below use."""
    key = (default_url(), os.environ.get("CLASS_TEACHER_CODE", ""))
    with _DEFAULT_LOCK:
        board = _DEFAULT.get(key)
        if board is None:
            if len(_DEFAULT) >= 4:  # bounded: a test that changes the URL often leaves no pile of engines
                for old in _DEFAULT.values():
                    old.close()
                _DEFAULT.clear()
            board = _DEFAULT[key] = ClassBoard(key[0], teacher_code=key[1])
        return board


def send(room: str, teacher_code: str, page: str, query: Mapping[str, Any]) -> int:
    return default_board().send(room, teacher_code, page, query)


def sent(room: Any) -> dict | None:
    return default_board().sent(room)


def freeze(room: str, teacher_code: str, frozen: bool) -> None:
    default_board().freeze(room, teacher_code, frozen)


def frozen(room: Any) -> bool:
    return default_board().frozen(room)


def open_question(room: str, teacher_code: str, question_id: str) -> None:
    default_board().open_question(room, teacher_code, question_id)


def vote(room: str, nickname: str, question_id: str, choice: str, *, client: str | None = None) -> None:
    default_board().vote(room, nickname, question_id, choice, client=client)


def votes(room: Any, question_id: str) -> dict[str, int]:
    return default_board().votes(room, question_id)


def reveal(room: str, teacher_code: str, question_id: str) -> str:
    return default_board().reveal(room, teacher_code, question_id)


def post_descent(room: str, nickname: str, settings: dict, final_loss: float, steps_to_valley: int | None,
                 *, race: str = "descent", client: str | None = None) -> int:
    return default_board().post_descent(room, nickname, settings, final_loss, steps_to_valley, race=race, client=client)


def descents(room: Any, *, race: str = "descent") -> pd.DataFrame:
    return default_board().descents(room, race=race)


def questions() -> list:
    """The question bank (``classroom.questions.questions``)."""
    from classroom import questions as bank

    return bank.questions()
