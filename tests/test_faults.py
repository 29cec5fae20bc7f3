"""Faults in a class, each on loopback with its recovery time measured: a stop that leaves nothing
behind whatever signal arrives, nginx killed, the class board's database gone mid-class, a model
store that cannot be written, a worker killed while a student trains, and one of two hosts going
down (serve/two_hosts.py).

Every test here is ``slow``; the class-server ones start real launchers on loopback and are skipped
where Debian's nginx is absent (as tests/test_serve.py), the PostgreSQL ones are marked
``postgres``. Each prints its recovery time (``pytest -s``) for the README.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
import test_pages_classboard as page_tests
from conftest import open_page
from test_serve import free_ports, get

from app import classboard
from benchmarks import protocol
from benchmarks.bench_load import children, cpu_ticks, watched
from classroom import classboard as cb
from serve import class_server
from serve.class_server import ClassServer, healthy, port_taken, start_time
from tests import pg
from tests.pg import postgres_url  # noqa: F401 - the session fixture

pytestmark = pytest.mark.slow  # servers, subprocesses and whole pages: left out of make test-fast

ROOT = Path(__file__).resolve().parent.parent
START_WAIT = 240.0  # a launcher imports torch once (its zygote): slow on a busy 2-core machine


def report(what: str, seconds: float) -> None:
    """A recovery time, for the README (visible with ``pytest -s``)."""
    print(f"\n[recovery] {what}: {seconds:.2f} s", flush=True)


# ------------------------------------------------------------------------------ processes


def descendants(pid: int) -> dict[int, int]:
    """``pid`` and every process below it (workers in their own sessions included), each with its start time."""
    tree, found, todo = children(), {}, [pid]
    while todo:
        p = todo.pop()
        started = start_time(p)
        if started is not None:
            found[p] = started
            todo.extend(tree.get(p, []))
    return found


def alive(processes: dict[int, int]) -> list[int]:
    """Those of ``processes`` still running (a reused pid has another start time; a zombie has ended)."""
    left = []
    for pid, started in processes.items():
        if start_time(pid) != started:
            continue
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state != "Z":
            left.append(pid)
    return left


def launch(port: int, workers: int, run_dir: Path, env: dict | None = None) -> subprocess.Popen:
    """``python -m serve.class_server`` in its own session, as ``make class`` runs from a terminal."""
    return subprocess.Popen(
        [sys.executable, "-m", "serve.class_server", "--workers", str(workers), "--port", str(port),
         "--address", "127.0.0.1", "--run-dir", str(run_dir)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
        env={**os.environ, **(env or {})},
    )  # fmt: skip


def wait_healthy(url: str, proc: subprocess.Popen | None = None, timeout: float = START_WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not healthy(url, timeout=2):
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the launcher exited: {proc.stdout.read()[-3000:]}")
        assert time.monotonic() < deadline, f"{url} did not come up within {timeout:.0f} s"
        time.sleep(0.3)


class Students:
    """``count`` simulated students with their pages open (websockets held) on a background loop."""

    def __init__(self, url: str, count: int, page: str = "descent") -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.tabs = [protocol.Tab(url, page, f"lang=en&i={i}") for i in range(count)]
        opened = [asyncio.run_coroutine_threadsafe(t.open(), self.loop) for t in self.tabs]
        self.errors = [e for f in opened for e in f.result(180).errors]

    def close(self) -> None:
        for tab in self.tabs:
            with contextlib.suppress(Exception):  # the server is gone: nothing to close politely
                asyncio.run_coroutine_threadsafe(asyncio.wait_for(tab.close(), 5), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


# ---------------------------------------------------------------------- stopping leaves nothing


STOPS = {  # what arrives, and at whom
    "SIGTERM to the process group": (signal.SIGTERM, True),
    "SIGTERM to the launcher": (signal.SIGTERM, False),
    "SIGINT to the launcher": (signal.SIGINT, False),
    "SIGHUP to the launcher": (signal.SIGHUP, False),
    "SIGKILL to the launcher": (signal.SIGKILL, False),
}


@pytest.mark.slow
def test_no_process_or_port_survives_a_stop_whatever_the_signal(tmp_path):
    """Five loaded classes (students' websockets open) stopped five ways: every process under each
    launcher (its fork server, workers in their own sessions, nginx and its workers) ends, and every
    port is free again; a new start on the same ports then serves."""
    started = {}
    for name in STOPS:
        workers = 2 if STOPS[name][1] else 1
        port = free_ports(workers + 1)
        run_dir = tmp_path / f"run-{port}"
        started[name] = (launch(port, workers, run_dir), port, workers, run_dir)
    try:
        tree, load = {}, {}
        for name, (proc, port, workers, _) in started.items():
            wait_healthy(f"http://127.0.0.1:{port}", proc)
            load[name] = Students(f"http://127.0.0.1:{port}", 2)
            assert load[name].errors == []
            tree[name] = descendants(proc.pid)
            # launcher, resource tracker, zygote, workers, nginx master and worker
            assert len(tree[name]) >= 2 + workers, tree[name]  # nginx may still be starting its worker
        began = {}
        for name, (proc, *_) in started.items():
            sig, group = STOPS[name]
            began[name] = time.monotonic()
            os.killpg(proc.pid, sig) if group else proc.send_signal(sig)
        for name, (proc, port, workers, _) in started.items():
            deadline = began[name] + 60
            ports = range(port, port + workers + 1)
            while alive(tree[name]) or any(port_taken(p) for p in ports):
                assert time.monotonic() < deadline, f"{name}: left {alive(tree[name])}, ports {[p for p in ports if port_taken(p)]}"
                time.sleep(0.1)
            report(f"stop, {name}: every process and port gone", time.monotonic() - began[name])
            load[name].close()
            proc.wait(10)
            if STOPS[name][0] != signal.SIGKILL:
                assert proc.returncode == 0, proc.stdout.read()[-3000:]
    finally:
        for proc, *_ in started.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
    # the next start on the same ports (and run folder) serves
    _, port, workers, run_dir = started["SIGKILL to the launcher"]
    again = launch(port, workers, run_dir)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", again)
        assert get(port, "/descent")[0] == 200
    finally:
        again.send_signal(signal.SIGTERM)
        again.wait(60)


def test_a_start_reclaims_an_earlier_runs_leftovers_and_names_a_foreign_port(tmp_path):
    """A process recorded by an earlier run (same pid and start time) holding a worker port is
    stopped by the next start; a port held by a program that is not ours is named in the error,
    and that program is left alone."""
    port = free_ports(3)
    holder = "import socket, time; s = socket.socket(); s.bind(('127.0.0.1', {})); s.listen(); time.sleep(300)"
    ours = subprocess.Popen([sys.executable, "-c", holder.format(port + 1)], start_new_session=True)
    foreign = subprocess.Popen([sys.executable, "-c", holder.format(port + 2)], start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while not (port_taken(port + 1) and port_taken(port + 2)):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        server = ClassServer(workers=2, port=port, address="127.0.0.1", run_dir=tmp_path)
        tmp_path.mkdir(exist_ok=True)
        (tmp_path / class_server.PIDS_FILE).write_text(
            f"worker {ours.pid} {start_time(ours.pid)}\nworker {foreign.pid} {start_time(foreign.pid) + 1}\n")
        assert server.reclaim() == [ours.pid]
        ours.wait(10)
        with pytest.raises(RuntimeError, match=f"port {port + 2} is taken"):
            server.check_ports()
        assert foreign.poll() is None and not port_taken(port + 1)
    finally:
        for proc in (ours, foreign):
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)


# ------------------------------------------------------------------------------ nginx killed


def nginx_group(server: ClassServer) -> dict[int, int]:
    """nginx's master and worker processes with their start times."""
    return descendants(server.nginx.pid)


@pytest.mark.slow
def test_nginx_killed_is_restored_within_five_seconds(tmp_path):
    """nginx's master killed (its worker process left holding the port), then its whole group: the
    watch loop has a new nginx serving the app within 5 s each time; a student's page works after."""
    port = free_ports(2)
    with watched(ClassServer(workers=1, port=port, address="127.0.0.1", run_dir=tmp_path / "run")) as server:
        for how in ("master", "group"):
            old = nginx_group(server)
            assert len(old) >= 2  # master and its worker
            began = time.monotonic()
            if how == "master":
                os.kill(server.nginx.pid, signal.SIGKILL)
            else:
                os.killpg(server.nginx.pid, signal.SIGKILL)
            while not (alive(old) == [] and healthy(server.url, timeout=1)):
                assert time.monotonic() - began < 5.0, f"nginx not restored within 5 s ({how} killed)"
                time.sleep(0.05)
            report(f"nginx killed ({how}): serving again", time.monotonic() - began)
            student = asyncio.run(protocol.student(server.url, "descent", moves=1, pause=(0.1, 0.2), query="lang=en"))
            assert student.errors == [] and student.changed == [True]
    assert server.nginx.poll() is not None and not port_taken(port) and not port_taken(port + 1)


# ------------------------------------------------------------------ the class board's database


TEACHER = "sesame-4711"
host, widget = page_tests.host, page_tests.widget  # the board widgets hosted on a page (fixtures)
messages, no_exception, post_script, text = page_tests.messages, page_tests.no_exception, page_tests.post_script, page_tests.text


class SqliteOutage:
    """The board's SQLite file becomes unreachable: its folder moved away (then back), deleted (then
    restored from a copy: another file at the same path), or made unreadable (then readable)."""

    def __init__(self, folder: Path, how: str) -> None:
        self.folder, self.how = folder, how
        self.url = f"sqlite:///{folder / 'class.sqlite3'}"

    def begin(self) -> None:
        aside = self.folder.with_name(self.folder.name + ".aside")
        if self.how == "unreadable":
            self.folder.chmod(0)
        elif self.how == "moved":
            self.folder.rename(aside)
        else:
            shutil.copytree(self.folder, aside)
            shutil.rmtree(self.folder)

    def end(self) -> None:
        if self.how == "unreadable":
            self.folder.chmod(0o755)
        else:
            self.folder.with_name(self.folder.name + ".aside").rename(self.folder)


class PostgresOutage:
    """A throw-away PostgreSQL cluster (as tests/pg.py makes one) that is stopped and started again."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.data, self.log = folder, folder / "data", folder / "server.log"
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.bin = pg.server_bin()
        if self.as_postgres:
            shutil.chown(folder, "postgres", "postgres")
        self.run(self.bin / "initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync")
        self.port = pg._free_port()
        self.end()
        self.run(self.bin / "createdb", "-h", "127.0.0.1", "-p", self.port, "-U", "postgres", "classboard")
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/classboard"

    def run(self, *args) -> None:
        done = subprocess.run([*self.as_postgres, *map(str, args)], capture_output=True, text=True, timeout=120,
                              check=False)
        if done.returncode != 0:
            raise pg.PostgresUnavailable(f"{args[0]}: {done.stderr[-2000:]}")

    def begin(self) -> None:
        self.run(self.bin / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")

    def end(self) -> None:
        self.run(self.bin / "pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t", "60",
                 "-o", f"-p {self.port} -k {self.folder} -h 127.0.0.1 -c fsync=off", "start")

    def close(self) -> None:
        subprocess.run([*self.as_postgres, str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"],
                       capture_output=True, timeout=60, check=False)


OUTAGES = [
    pytest.param("sqlite-moved", id="sqlite: folder moved away and back"),
    pytest.param("sqlite-deleted", id="sqlite: folder deleted, restored from a copy"),
    pytest.param("sqlite-unreadable", id="sqlite: folder made unreadable",
                 marks=pytest.mark.skipif(os.geteuid() == 0, reason="root reads every folder")),
    pytest.param("postgres", id="postgres: stopped and started", marks=pytest.mark.postgres),
]


@pytest.fixture
def outage(request, tmp_path):
    if request.param == "postgres":
        folder = Path(tempfile.mkdtemp(prefix="faults-pg-"))
        try:
            made = PostgresOutage(folder)
        except pg.PostgresUnavailable as reason:
            shutil.rmtree(folder, ignore_errors=True)
            if os.environ.get("REQUIRE_POSTGRES") == "1":
                pytest.fail(f"REQUIRE_POSTGRES=1 but {reason}")
            pytest.skip(str(reason))
        try:
            yield made
        finally:
            made.close()
            shutil.rmtree(folder, ignore_errors=True)
    else:
        (tmp_path / "board").mkdir()
        yield SqliteOutage(tmp_path / "board", request.param.split("-")[1])


def until(check, timeout: float = 30.0) -> float:
    """Seconds until ``check()`` returns true (an exception counts as not yet)."""
    began = time.monotonic()
    while True:
        try:
            if check():
                return time.monotonic() - began
        except cb.BoardError:
            pass
        assert time.monotonic() - began < timeout, "not within the time allowed"
        time.sleep(0.02)


@pytest.mark.parametrize("outage", OUTAGES, indirect=True)
def test_the_board_refuses_while_its_database_is_gone_and_resumes_without_a_restart(outage):
    """Reads and posts say "unavailable" (never a post reported stored and lost); when the database
    is back, the same board object reads and stores again, and the refused post is not there."""
    board = cb.ClassBoard(outage.url, teacher_code=TEACHER, min_interval=0)
    other = cb.ClassBoard(outage.url, teacher_code=TEACHER)  # another worker or host on the same database
    try:
        room = board.open_room(TEACHER)
        board.post_run(room, "Mei", {"lr": 0.1}, 0.91, 3.0)
        assert list(other.runs(room)["nickname"]) == ["Mei"]
        outage.begin()
        name = f"{type(outage).__name__} {getattr(outage, 'how', '')}".strip()
        for what, attempt in (("read", lambda: board.runs(room)), ("read", lambda: board.drawings(room)),
                              ("read", lambda: board.room_is_open(room)),
                              ("post", lambda: board.post_run(room, "Lin", {"lr": 0.2}, 0.92, 3.0))):
            began = time.monotonic()
            with pytest.raises(cb.BoardError) as refused:
                attempt()
            assert refused.value.code == "storage_unavailable"
            if what == "post":
                report(f"class board, {name}: a post refused after", time.monotonic() - began)
        outage.end()
        back = until(lambda: list(board.runs(room)["nickname"]) == ["Mei"])  # the refused post is not there
        report(f"class board, {name}: reads again after the database returned", back)
        board.post_run(room, "Lin", {"lr": 0.2}, 0.92, 3.0)
        assert list(other.runs(room)["nickname"]) == ["Mei", "Lin"]
    finally:
        board.close()
        other.close()


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("outage", OUTAGES[:1] + OUTAGES[2:], indirect=True)
def test_mid_class_the_page_says_the_board_is_unavailable_and_lessons_keep_working(outage, widget, monkeypatch, lang):
    """With the database gone: the class page says the board is unavailable in the student's
    language (no error box, no exception) and keeps the class from the URL; a lesson page works; a
    post is refused with its message. When the database is back, the board shows again and the post
    is stored, without a restart."""
    monkeypatch.setenv("CLASS_DB_URL", outage.url)
    monkeypatch.setenv("CLASS_TEACHER_CODE", TEACHER)
    with cb.ClassBoard(outage.url, teacher_code=TEACHER) as check:
        room = check.open_room(TEACHER)
        check.post_run(room, "Mei", {"lr": 0.1, "optimizer": "sgd"}, 0.91, 3.0)
        first = open_page("pages/classboard.py", lang=lang, query={"room": room})  # the app opens its board
        assert {m.label: m.value for m in first.metric}[text("classboard.runs", lang)] == "1"
        outage.begin()
        try:
            classboard.forget_reads()
            board = open_page("pages/classboard.py", lang=lang, query={"room": room})
            no_exception(board)
            assert messages(board, "error") == []
            assert text("classboard.unavailable", lang) in messages(board, "warning")
            assert text("classboard.joined", lang, room=room) in messages(board, "success")  # the class is kept
            lesson = open_page("pages/descent.py", lang=lang, query={"room": room})
            no_exception(lesson)
            assert messages(lesson, "error") == [] and lesson.slider
            post = widget(post_script, {"lr": 0.2, "optimizer": "adam"}, 0.95, 4.0, room=room, lang=lang)
            post.text_input[0].input("Lin")
            post.button[0].click().run()
            no_exception(post)
            assert messages(post, "error") == [text("classboard.err.storage_unavailable", lang)]
            assert messages(post, "success") == []
        finally:
            outage.end()
        classboard.forget_reads()
        began = time.monotonic()
        board = open_page("pages/classboard.py", lang=lang, query={"room": room})
        report(f"class page ({lang}) shows the board again after the database returned ({type(outage).__name__})",
               time.monotonic() - began)
        no_exception(board)
        assert text("classboard.unavailable", lang) not in messages(board, "warning")
        assert {m.label: m.value for m in board.metric}[text("classboard.runs", lang)] == "1"  # nothing half-stored
        post.button[0].click().run()  # the same student presses again: now it is stored
        assert messages(post, "error") == [] and list(check.runs(room)["nickname"]) == ["Mei", "Lin"]
    classboard.forget_reads()


# ------------------------------------------------------------------ a model store that cannot be written


@pytest.fixture
def read_only_folder(tmp_path):
    """A folder nobody can write: a read-only tmpfs for root (who ignores permissions), else mode 555."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)
        return
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(folder)],
                          capture_output=True, text=True, timeout=30, check=False)
    if done.returncode != 0:
        pytest.skip(f"root cannot mount a read-only folder here: {done.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], capture_output=True, timeout=30, check=False)


def full_disk(monkeypatch, folder: Path) -> None:
    """Every file the store writes is on a full disk: its bytes go to /dev/full (ENOSPC, for real)."""
    from classroom import modelstore

    def mkstemp(prefix: str = "", suffix: str = "", dir: str | None = None) -> tuple[int, str]:
        return os.open("/dev/full", os.O_WRONLY), str(Path(dir or folder) / f"{prefix}full{suffix}")

    monkeypatch.setattr(modelstore.tempfile, "mkstemp", mkstemp)


def shown(at) -> dict[str, list[str]]:
    return {kind: [el.value for el in getattr(at, kind)] for kind in ("warning", "error", "exception")}


@pytest.mark.slow
@pytest.mark.parametrize("store", ["read-only folder", "full disk"])
def test_training_works_in_memory_when_the_model_store_cannot_be_written(store, tmp_path, monkeypatch, request):
    """5c trains, shows its results and hands the model on, with the same words as with a working
    store (nothing alarming); no file is left behind; the model is kept in memory for the class."""
    from collections import OrderedDict

    from app import ui
    from classroom import models
    from lessons import mnist

    monkeypatch.setenv("MNIST_DIR", str(tmp_path))
    monkeypatch.setattr(mnist, "DEFAULT_ROOT", tmp_path / "no-mnist-here")
    ui.mnist_data.clear()
    tiny = {"layers": "1", "h1": "16", "epochs": "1", "seed": "7"}

    def train_once():
        at = open_page("pages/mnist_train.py", lang="en", query=tiny, timeout=180)
        at.button(key="mnist_train.__train").click().run()
        if "mnist_train.__job" in at.session_state:
            assert at.session_state["mnist_train.__job"].wait(180), "the training did not end in time"
            at.run()
        return at

    try:
        monkeypatch.setenv("MODEL_CACHE_DIR", str(tmp_path / "working-store"))
        monkeypatch.setattr(models, "_cache", OrderedDict())
        baseline = train_once()
        assert list((tmp_path / "working-store").glob("*.pt"))  # a working store keeps the model
        if store == "read-only folder":
            folder = request.getfixturevalue("read_only_folder")
        else:
            folder = tmp_path / "full"
            folder.mkdir()
            full_disk(monkeypatch, folder)
        monkeypatch.setenv("MODEL_CACHE_DIR", str(folder))
        monkeypatch.setattr(models, "_cache", OrderedDict())  # a fresh worker: nothing in memory
        began = time.monotonic()
        at = train_once()
        report(f"5c training with the model store on a {store}: results shown", time.monotonic() - began)
        assert shown(at) == shown(baseline) and shown(at)["error"] == [] and shown(at)["exception"] == []
        trained = at.session_state["mnist_train.__last"]["trained"]
        assert not trained.stopped and 0.0 <= trained.accuracy <= 1.0
        assert {m.label for m in at.metric} == {m.label for m in baseline.metric}
        # no model, no shared data set, no temporary file (a full disk still holds an empty lock file)
        assert [f.name for f in folder.iterdir() if f.suffix != ".lock"] == []
        assert any(hit is trained for hit in models._cache.values())  # kept in memory for everyone
    finally:
        ui.mnist_data.clear()


# ------------------------------------------------------------- a worker killed while a student trains


class Browser(protocol.Tab):
    """A tab that also presses buttons, fills a form and reads the text shown (``protocol.Tab``
    moves sliders only)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.buttons: dict[str, tuple[str, str]] = {}  # widget id -> (its fragment's id, its form's id)
        self.inputs: set[str] = set()  # text inputs' ids
        self.content: dict[tuple[int, ...], str] = {}  # delta path -> the text of an alert or a metric
        self.extra: list[tuple[str, str, object]] = []  # (widget id, state field, value) sent with the next run

    def _on_delta(self, msg, path):
        errors = super()._on_delta(msg, path)
        if msg.delta.WhichOneof("type") != "new_element":
            return errors
        element = msg.delta.new_element
        kind = element.WhichOneof("type")
        self.content.pop(path, None)
        if kind == "button":
            self.buttons[element.button.id] = (msg.delta.fragment_id, element.button.form_id)
        elif kind == "text_input":
            self.inputs.add(element.text_input.id)
        elif kind == "alert":
            self.content[path] = element.alert.body
        elif kind == "metric":
            self.content[path] = f"{element.metric.label}: {element.metric.body}"
        return errors

    def _client_state(self, fragment_id: str = ""):
        msg = super()._client_state(fragment_id)
        for widget, name, value in self.extra:
            state = msg.rerun_script.widget_states.widgets.add()
            state.id = widget
            setattr(state, name, value)
        return msg

    async def _press(self, widget: str, fields: list) -> protocol.RunResult:
        self.extra = [*fields, (widget, "trigger_value", True)]
        try:
            return await self.rerun(self.buttons[widget][0])
        finally:
            self.extra = []

    async def click(self, key: str) -> protocol.RunResult:
        (widget,) = [i for i in self.buttons if i.endswith(f"-{key}")]
        return await self._press(widget, [])

    async def submit(self, form: str, texts: dict[str, str]) -> protocol.RunResult:
        """Fill the form's text inputs (by key) and press its submit button."""
        (widget,) = [i for i, (_, f) in self.buttons.items() if f == form]
        fields = [(next(i for i in self.inputs if i.endswith(f"-{key}")), "string_value", value) for key, value in texts.items()]
        return await self._press(widget, fields)

    def slider_value(self, key: str) -> list[float]:
        (widget,) = [w for i, w in self.widgets.items() if i.endswith(f"-{key}")]
        return widget.value

    def kinds(self) -> set[str]:
        return {kind for kind, _ in self.elements.values()}

    def texts(self) -> list[str]:
        return [self.content[p] for p in sorted(self.elements) if p in self.content]


async def worker_of(tab: protocol.Tab, server: ClassServer, rng) -> int:
    """The port of the worker serving ``tab``: the one that works while the tab's slider moves."""
    before = {w.port: cpu_ticks(w.proc.pid) for w in server.pool}
    for _ in range(4):
        run, _ = await tab.move_slider(rng)
        assert run.errors == []
    spent = {w.port: cpu_ticks(w.proc.pid) - before[w.port] for w in server.pool}
    busiest = max(spent, key=spent.get)
    assert spent[busiest] >= 2 * max(1, *(v for p, v in spent.items() if p != busiest)), spent
    return busiest


TRAINING = "layers=2&h1=512&h2=512&epochs=20&batch=32&seed=3&lang=en"  # a few seconds on the small digits


@pytest.mark.slow
def test_a_worker_killed_while_a_student_trains(tmp_path, monkeypatch):
    """Students on the other worker notice nothing (same connection, no error); the student who was
    training reloads the same address and gets a working page with their settings, presses Train
    again and gets the results (trained again: the killed training stored nothing); the students who
    were on the killed worker get a working page on reload too."""
    import random

    monkeypatch.setenv("MNIST_DIR", str(tmp_path / "no-mnist"))  # scikit-learn's digits: no download, quick
    monkeypatch.setenv("MODEL_CACHE_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("TRAINING_SLOTS_DIR", str(tmp_path / "slots"))
    port = free_ports(3)
    server = ClassServer(workers=2, port=port, address="127.0.0.1", run_dir=tmp_path / "run")
    rng = random.Random(0)

    async def scenario() -> None:
        # other students, until each worker has some
        others: dict[int, list[protocol.Tab]] = {w.port: [] for w in server.pool}
        for i in range(12):
            if all(len(tabs) >= 1 for tabs in others.values()) and i >= 4:
                break
            tab = protocol.Tab(server.url, "descent", f"lang=en&student={i}")
            assert (await tab.open()).errors == []
            others[await worker_of(tab, server, rng)].append(tab)
        assert all(others.values()), "every student landed on one worker"
        trainer = Browser(server.url, "mnist_train", TRAINING)
        assert (await trainer.open()).errors == []
        ports = {w.proc.pid: w.port for w in server.pool}
        before = {pid: cpu_ticks(pid) for pid in ports}
        assert (await trainer.click("mnist_train.__train")).errors == []
        await asyncio.sleep(0.6)
        spent = {pid: cpu_ticks(pid) - before[pid] for pid in ports}
        busiest = max(spent, key=spent.get)
        assert spent[busiest] >= 3 * max(1, *(v for p, v in spent.items() if p != busiest)), spent  # it trains
        victim = next(w for w in server.pool if w.proc.pid == busiest)
        assert not list((tmp_path / "models").glob("*.pt")), "the training ended before the worker was killed"
        began = time.monotonic()
        victim.proc.send_signal(signal.SIGKILL)
        # the students on the other worker: the same connection, a slider moved, no error
        for tab in others[next(p for p in others if p != victim.port)]:
            run, changed = await tab.move_slider(rng)
            assert run.errors == [] and changed
        # the student who was training reloads the same address: their settings, a working page
        reload = Browser(server.url, "mnist_train", TRAINING)
        reload.cookies = dict(trainer.cookies)
        assert (await reload.open()).errors == []
        report("worker killed mid-training: the student's reload shows the page", time.monotonic() - began)
        assert reload.slider_value("mnist_train.layers") == [2.0] and reload.slider_value("mnist_train.epochs") == [20.0]
        assert (await reload.click("mnist_train.__train")).errors == []
        deadline = time.monotonic() + 240
        while "metric" not in reload.kinds():  # the panel polls until the results take over
            assert time.monotonic() < deadline, "no results after the training restarted"
            await asyncio.sleep(0.5)
            assert (await reload.rerun()).errors == []
        report("worker killed mid-training: the student has results again", time.monotonic() - began)
        assert len(list((tmp_path / "models").glob("*.pt"))) == 1  # and the class has the model now
        # the students who were on the killed worker: a working page on reload
        for tab in others[victim.port]:
            again = protocol.Tab(server.url, "descent", tab.query)
            again.cookies = dict(tab.cookies)
            assert (await again.open()).errors == []
            run, changed = await again.move_slider(rng)
            assert run.errors == [] and changed
            await again.close()
        for tab in [t for tabs in others.values() for t in tabs] + [trainer, reload]:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(tab.close(), 5)

    with watched(server):
        asyncio.run(scenario())
        deadline = time.monotonic() + 60
        while not all(healthy(w.url, timeout=1) for w in server.pool):  # the watch loop restarted it
            assert time.monotonic() < deadline
            time.sleep(0.3)


# ------------------------------------------------------------------ two machines, simulated on loopback


def host_ticks(hosts) -> list[int]:
    """CPU ticks spent so far by each host's processes (launcher, zygote, workers)."""
    return [sum(cpu_ticks(pid) for pid in descendants(h.pid) if start_time(pid) is not None) for h in hosts.hosts]


async def train_to_results(tab: Browser) -> None:
    assert (await tab.click("mnist_train.__train")).errors == []
    deadline = time.monotonic() + 240
    while "metric" not in tab.kinds():
        assert time.monotonic() < deadline, "no results"
        await asyncio.sleep(0.3)
        assert (await tab.rerun()).errors == []


@pytest.mark.slow
@pytest.mark.postgres
def test_two_hosts_share_the_board_and_the_models_and_one_can_go_down(tmp_path, monkeypatch, postgres_url):  # noqa: F811
    """Two class servers behind one front nginx (serve/two_hosts.py), sharing PostgreSQL and the
    model folder: a run posted through one is on the other's board; a model trained on one is loaded,
    not retrained, on the other; one whole host killed, its student reloads through the front and
    gets a working page from the other, with their class and settings."""
    from serve.two_hosts import TwoHosts

    models = tmp_path / "models"
    monkeypatch.setenv("MNIST_DIR", str(tmp_path / "no-mnist"))
    monkeypatch.setenv("MODEL_CACHE_DIR", str(models))
    monkeypatch.setenv("TRAINING_SLOTS_DIR", str(tmp_path / "slots"))
    monkeypatch.setenv("CLASS_TEACHER_CODE", TEACHER)
    with cb.ClassBoard(postgres_url, teacher_code=TEACHER) as board:
        room = board.open_room(TEACHER)
    port = free_ports(23)
    hosts = TwoHosts(port=port, workers=1, db_url=postgres_url, models=models, run_dir=tmp_path / "run")
    hosts.start()
    settings = f"layers=1&h1=16&epochs=2&seed=5&room={room}&lang=en"

    async def scenario() -> None:
        student = Browser(hosts.url, "mnist_train", settings)
        assert (await student.open()).errors == []
        before = host_ticks(hosts)
        await train_to_results(student)
        spent = [after - was for after, was in zip(host_ticks(hosts), before, strict=True)]
        home = spent.index(max(spent))  # the host that trained: the student's
        assert spent[home] >= 2 * max(1, spent[1 - home]), spent
        other = 1 - home
        (stored,) = models.glob("*.pt")
        identity = (stored.stat().st_ino, stored.stat().st_mtime_ns)
        posted = await student.submit("mnist_train.__board_post_run", {"mnist_train.__board_run_nickname": "Mei"})
        assert posted.errors == []
        # the other host's board (asked directly, not through the front) has the run
        board_there = Browser(hosts.host_url(other), "classboard", f"room={room}&lang=en")
        assert (await board_there.open()).errors == []
        assert f"{text('classboard.runs', 'en')}: 1" in board_there.texts()
        # the same training on the other host comes from the shared folder: the file is untouched
        there = Browser(hosts.host_url(other), "mnist_train", settings)
        assert (await there.open()).errors == []
        await train_to_results(there)
        assert [(f.stat().st_ino, f.stat().st_mtime_ns) for f in models.glob("*.pt")] == [identity]
        # the student's host goes down whole; they reload through the front
        gone = descendants(hosts.hosts[home].pid)
        began = time.monotonic()
        hosts.kill_host(home)
        reload = Browser(hosts.url, "classboard", f"room={room}&lang=en")
        reload.cookies = dict(student.cookies)
        assert (await reload.open()).errors == []
        report("one host of two killed: its student's reload through the front shows the class", time.monotonic() - began)
        assert text("classboard.joined", "en", room=room) in reload.texts()
        assert f"{text('classboard.runs', 'en')}: 1" in reload.texts()
        lesson = Browser(hosts.url, "mnist_train", settings)
        lesson.cookies = dict(student.cookies)
        assert (await lesson.open()).errors == []
        assert lesson.slider_value("mnist_train.layers") == [1.0] and lesson.slider_value("mnist_train.epochs") == [2.0]
        deadline = time.monotonic() + 30
        while alive(gone):  # and nothing of the killed host is left
            assert time.monotonic() < deadline, alive(gone)
            await asyncio.sleep(0.1)
        for tab in (student, board_there, there, reload, lesson):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(tab.close(), 5)

    try:
        asyncio.run(scenario())
        with cb.ClassBoard(postgres_url, teacher_code=TEACHER) as board:
            assert list(board.runs(room)["nickname"]) == ["Mei"]
    finally:
        hosts.stop()
    assert not any(port_taken(p) for p in (port, *hosts.host_ports))
