"""The class server (serve/class_server.py): nginx's configuration, cookie stickiness, and the
whole setup on loopback: it starts, serves a page through nginx, and survives a worker being killed.

Skipped where Debian's nginx is absent, unless REQUIRE_NGINX=1 (CI installs it).
"""

from __future__ import annotations

import asyncio
import http.client
import http.server
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from benchmarks import protocol
from serve import class_server
from serve.class_server import ClassServer, healthy, render_nginx_conf

ROOT = Path(__file__).resolve().parent.parent
PORTS = (8600, 8799)  # this suite's servers stay in this range

if not Path(class_server.NGINX).exists():
    if os.environ.get("REQUIRE_NGINX") == "1":
        raise RuntimeError(f"REQUIRE_NGINX=1 but {class_server.NGINX} is absent")
    pytest.skip(f"{class_server.NGINX} is absent (apt-get install nginx-light)", allow_module_level=True)


def free_ports(count: int) -> int:
    """The first of ``count`` consecutive free loopback ports in ``PORTS``."""
    for _ in range(200):
        first = random.randrange(PORTS[0], PORTS[1] - count)
        socks = []
        try:
            for port in range(first, first + count):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free ports")


def get(port: int, path: str = "/_stcore/health", cookie: str | None = None) -> tuple[int, str, str | None]:
    """(status, body, the dlsid cookie set) for a GET through nginx."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        r = conn.getresponse()
        body = r.read().decode(errors="replace")
        set_cookie = next((c.split(";")[0] for c in r.headers.get_all("Set-Cookie") or [] if c.startswith("dlsid=")), None)
        return r.status, body, set_cookie
    finally:
        conn.close()


def test_rendered_configuration_is_valid_nginx(tmp_path):
    text = render_nginx_conf(tmp_path, "127.0.0.1:8600", [8601, 8602])
    directives = [line.split("#")[0].strip() for line in text.splitlines()]
    assert "hash $uid_got$uid_set consistent;" in directives and not any(d.startswith("ip_hash") for d in directives)
    assert "server 127.0.0.1:8601" in text and "server 127.0.0.1:8602" in text
    assert "proxy_set_header Upgrade $http_upgrade;" in text and "proxy_read_timeout 1h;" in text
    assert "{{" not in text
    conf = tmp_path / "nginx.conf"
    conf.write_text(text)
    check = subprocess.run(
        [class_server.NGINX, "-t", "-p", str(tmp_path), "-c", str(conf), "-e", str(tmp_path / "err.log")],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert check.returncode == 0, check.stderr


class _Echo(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - the stdlib's name
        body = str(self.server.server_port).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_sessions_stick_by_cookie_not_by_address(tmp_path):
    """Every student on one IP (loopback): the cookie, not the address, picks the worker."""
    first = free_ports(3)
    stubs = [http.server.ThreadingHTTPServer(("127.0.0.1", p), _Echo) for p in (first + 1, first + 2)]
    for s in stubs:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    conf = tmp_path / "nginx.conf"
    conf.write_text(render_nginx_conf(tmp_path, f"127.0.0.1:{first}", [first + 1, first + 2]))
    nginx = subprocess.Popen(
        [class_server.NGINX, "-p", str(tmp_path), "-c", str(conf), "-e", str(tmp_path / "err.log"), "-g", "daemon off;"],
        start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                get(first)
                break
            except OSError:
                assert time.monotonic() < deadline and nginx.poll() is None
                time.sleep(0.1)
        # a page's HTML (the same index.html for every page) comes from nginx, with the cookie
        index = (Path(class_server.streamlit_static_dir()) / "index.html").read_text()
        for page in ("/", "/descent", "/mnist_train"):
            status, body, page_cookie = get(first, page)
            assert status == 200 and body == index and page_cookie
        assert get(first, "/no_such_page")[1] in {str(first + 1), str(first + 2)}  # the app says "not found"
        # one browser: its first response sets the cookie; it and every later request go to one worker
        status, worker, cookie = get(first)
        assert status == 200 and cookie
        assert {get(first, cookie=cookie)[1] for _ in range(10)} == {worker}
        # many browsers on the same address spread over both workers
        assert {get(first)[1] for _ in range(40)} == {str(first + 1), str(first + 2)}
        # the worker goes down: the same browser is served by the other one meanwhile
        stubs[int(worker) - first - 1].shutdown()
        stubs[int(worker) - first - 1].server_close()
        status, other, _ = get(first, cookie=cookie)
        assert status == 200 and other != worker
    finally:
        nginx.terminate()
        nginx.wait(20)
        for s in stubs:
            s.server_close()


def test_the_front_end_is_compressed_once_and_reused(tmp_path):
    """Each text file of Streamlit's front end gets a gzip copy of the same bytes, beside a link to
    the original; a second server finds the mirror made and builds nothing."""
    import gzip

    source = class_server.streamlit_static_dir() / "static"
    mirror = class_server.compressed_front_end(tmp_path)
    scripts = sorted(source.glob("js/*.js"))
    assert mirror != source and len(scripts) > 100
    for script in scripts[:: max(1, len(scripts) // 20)]:
        linked = mirror / "js" / script.name
        assert linked.resolve() == script.resolve()
        assert gzip.decompress((mirror / "js" / f"{script.name}.gz").read_bytes()) == script.read_bytes()
    assert not list(mirror.glob("media/*.woff2.gz"))  # already compressed formats are left alone
    made = (mirror / ".complete").stat().st_mtime_ns
    assert class_server.compressed_front_end(tmp_path) == mirror
    assert (mirror / ".complete").stat().st_mtime_ns == made and len(list(tmp_path.iterdir())) == 1


def test_an_unwritable_cache_falls_back_to_streamlits_folder(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    assert class_server.compressed_front_end(blocked) == class_server.streamlit_static_dir() / "static"


def assert_nginx_serves_the_front_end(port: int, html: str, mirror: Path) -> None:
    """The page's scripts come from nginx itself (cached for a year), as Streamlit built them, and
    compressed ahead: the bytes sent are the mirror's gzip copy, not compressed per request."""
    import gzip
    import re

    script = re.search(r'src="\./(static/js/[^"]+\.js)"', html).group(1)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/" + script, headers={"Accept-Encoding": "gzip"})
        r = conn.getresponse()
        body = r.read()
    finally:
        conn.close()
    assert r.status == 200 and r.headers["Content-Encoding"] == "gzip"
    assert r.headers["Content-Type"] == "text/javascript"  # a browser runs a module script of no other type
    assert "immutable" in r.headers["Cache-Control"] and r.headers["Server"].startswith("nginx")
    assert gzip.decompress(body) == (class_server.streamlit_static_dir() / script).read_bytes()
    assert body == (mirror / script.removeprefix("static/")).with_name(Path(script).name + ".gz").read_bytes()


@pytest.mark.slow
def test_class_server_serves_and_survives_a_killed_worker(tmp_path):
    port = free_ports(3)
    server = ClassServer(workers=2, port=port, address="127.0.0.1", run_dir=tmp_path / "run")
    server.start()
    try:
        assert healthy(server.url)
        for w in server.pool:  # forks of the one zygote, sharing its imported, frozen heap
            ppid = int(Path(f"/proc/{w.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
            assert ppid == server.zygote_pid
        status, html, _ = get(port, "/descent")
        assert status == 200 and "<noscript>" in html.lower()  # Streamlit's page, through nginx
        assert_nginx_serves_the_front_end(port, html, class_server.compressed_front_end(tmp_path))
        first = asyncio.run(protocol.student(server.url, "descent", moves=2, pause=(0.1, 0.3)))
        assert first.errors == [] and first.changed == [True, True]

        victim = server.pool[0]
        os.killpg(victim.proc.pid, signal.SIGKILL)
        victim.proc.wait(10)
        # meanwhile nginx sends everyone to the living worker
        during = asyncio.run(protocol.student(server.url, "descent", moves=1, pause=(0.1, 0.2), seed=1))
        assert during.errors == []
        assert server.check_once() == [victim.port] and victim.restarts == 1
        deadline = time.monotonic() + 120
        while not healthy(victim.url):
            assert time.monotonic() < deadline and victim.proc.poll() is None
            time.sleep(0.3)
        # a reload (a new tab) works, with its settings from the URL
        again = asyncio.run(protocol.student(server.url, "descent", moves=1, pause=(0.1, 0.2), seed=2, query="lang=en"))
        assert again.errors == [] and again.changed == [True]
        assert server.check_once() == []  # both healthy: nothing restarted
    finally:
        server.stop()
    assert all(w.proc.poll() is not None for w in server.pool) and server.nginx.poll() is not None


@pytest.mark.slow
def test_one_command_starts_and_a_signal_stops_everything(tmp_path):
    port = free_ports(2)
    proc = subprocess.Popen(
        [sys.executable, "-m", "serve.class_server", "--workers", "1", "--port", str(port),
         "--address", "127.0.0.1", "--run-dir", str(tmp_path)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not healthy(f"http://127.0.0.1:{port}"):
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.3)
        nginx_pid = int((tmp_path / "nginx.pid").read_text())
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out
    assert not healthy(f"http://127.0.0.1:{port}", timeout=1) and not healthy(f"http://127.0.0.1:{port + 1}", timeout=1)
    with pytest.raises(ProcessLookupError):
        os.kill(nginx_pid, 0)


@pytest.mark.slow
def test_a_worker_freezes_its_import_time_heap():
    """serve.worker: after the heavy imports, and those the web server and the pages make later, the
    collector no longer walks their objects; triton (GPU kernels) is never loaded, and training works."""
    probe = (
        "import gc, sys; sys.argv = ['x']; from serve import worker; "
        "tracked = len(gc.get_objects()); frozen = worker.prepare(); "
        "later = all(m in sys.modules for m in ('uvicorn.main', 'starlette.applications', 'app.ui', 'app.charts', 'app.display')); "
        "from app.streamlit_compat import BudgetedCollector, post_run_collector; "
        "budgeted = isinstance(post_run_collector(), BudgetedCollector); "
        "print(frozen, len(gc.get_objects()), tracked, int(later), int(sys.modules['triton'] is None), int(budgeted))"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    frozen, tracked_after, tracked_before, later, no_triton, budgeted = map(int, out.stdout.split())
    assert frozen > 50_000 and tracked_after < tracked_before / 10, out.stderr
    assert later and no_triton and "not preloaded" not in out.stderr, out.stderr
    assert budgeted, "the worker's post-run collections are not budgeted"


class Cycle:
    """Garbage only a full collection frees: an object that refers to itself."""

    def __init__(self) -> None:
        self.me = self


def test_post_run_collections_take_at_most_their_share_of_the_time():
    """app.streamlit_compat.BudgetedCollector: a full collection, then none until the longer of
    ``floor_s`` and (its duration / share) has passed; the skipped runs' garbage goes at the next one."""
    import gc
    import weakref

    from app.streamlit_compat import BudgetedCollector

    now = [0.0]
    collector = BudgetedCollector(share=0.1, floor_s=0.5, clock=lambda: now[0])
    real_collect = gc.collect

    def slow_collect(generation=2):  # a collection that takes 0.2 s by the collector's clock
        now[0] += 0.2
        return real_collect(generation)

    gc.collect = slow_collect
    try:
        garbage = Cycle()
        gone = weakref.ref(garbage)
        del garbage
        assert collector.collect(2) >= 1 and gone() is None  # the first collection runs at once
        assert collector.next_at == pytest.approx(0.2 + 0.2 / 0.1)  # 0.2 s of collecting buys 2 s without
        garbage = Cycle()
        gone = weakref.ref(garbage)
        del garbage
        now[0] = 1.0
        assert collector.collect(2) == 0 and gone() is not None and collector.skipped == 1
        now[0] = 2.3
        collector.collect(2)
        assert gone() is None and collector.full == 2
        # a cheap collection: the floor, not the share, sets the next one
        gc.collect = real_collect
        now[0] = 10.0
        collector.collect(2)
        assert collector.next_at == pytest.approx(10.5)
        assert collector.get_count() == gc.get_count()  # the rest of the gc module passes through
    finally:
        gc.collect = real_collect


def test_script_runs_take_turns_in_order_and_a_long_one_blocks_no_one_for_long():
    """app.streamlit_compat.take_turns: with one slot, runs that arrive together run one after another
    in their order of arrival; a run that holds its turn too long is overtaken after ``wait_s``."""
    from app.streamlit_compat import take_turns

    log: list[tuple[str, str]] = []
    release_long = threading.Event()

    class Runner:
        def _run_script(self, name):
            log.append(("start", name))
            if name == "long":
                release_long.wait(10)
            else:
                time.sleep(0.05)
            log.append(("end", name))

    turns = take_turns(slots=1, wait_s=5.0, runner=Runner)
    assert take_turns(slots=3, runner=Runner) is turns  # once per class
    threads = []
    for name in "abc":
        threads.append(threading.Thread(target=Runner()._run_script, args=(name,)))
        threads[-1].start()
        time.sleep(0.01)
    for thread in threads:
        thread.join(10)
    assert log == [("start", "a"), ("end", "a"), ("start", "b"), ("end", "b"), ("start", "c"), ("end", "c")]

    class Busy:
        def _run_script(self, name):
            log.append(("start", name))
            if name == "long":
                release_long.wait(10)
            log.append(("end", name))

    log.clear()
    take_turns(slots=1, wait_s=0.2, runner=Busy)
    long = threading.Thread(target=Busy()._run_script, args=("long",))
    long.start()
    time.sleep(0.05)
    started = time.monotonic()
    Busy()._run_script("short")  # waits its 0.2 s, then runs beside the long one
    waited = time.monotonic() - started
    release_long.set()
    long.join(10)
    assert 0.15 <= waited < 2 and log[:3] == [("start", "long"), ("start", "short"), ("end", "short")]


def test_the_budget_replaces_streamlits_post_run_collection_once():
    """Streamlit's script runner calls ``gc.collect(2)`` after each run (``runner.postScriptGC``): that
    name is what the budget replaces, once per process."""
    import gc
    import types

    import streamlit

    from app.streamlit_compat import BudgetedCollector, budget_post_run_collection, post_run_collector

    runner = types.SimpleNamespace(gc=gc)  # stands in for Streamlit's module: the test process keeps its own
    first = budget_post_run_collection(script_runner=runner)
    assert isinstance(post_run_collector(runner), BudgetedCollector)
    assert budget_post_run_collection(script_runner=runner) is first
    # upstream still collects so, under that name
    source = Path(streamlit.__file__).parent / "runtime" / "scriptrunner" / "script_runner.py"
    assert "import gc\n" in source.read_text() and "gc.collect(2)" in source.read_text()
    assert post_run_collector() is gc or isinstance(post_run_collector(), BudgetedCollector)


FORKED_TRAINING = """
import multiprocessing, sys, time
sys.path.insert(0, {root!r})


def train(queue):
    import torch

    from lessons import mlp

    torch.set_num_threads(mlp.TORCH_THREADS)  # as serve.forked does
    net = mlp.MLP((64,))
    optimizer = mlp.make_optimizer("sgd", net.parameters(), 0.01, 0.9)
    x, y = torch.rand(2048, 784), torch.randint(0, 10, (2048,))
    for _ in range(5):
        optimizer.zero_grad()
        mlp.objective(net(x), y, "mse").backward()
        optimizer.step()
    queue.put(torch.get_num_threads())


if __name__ == "__main__":
    forks = multiprocessing.get_context("forkserver")
    forks.set_forkserver_preload(["serve.zygote"])
    queue = forks.Queue()
    for _ in range(2):  # the second fork comes from a zygote that has forked before
        worker = forks.Process(target=train, args=(queue,))
        worker.start()
        print(queue.get(timeout=120))
        worker.join(30)
"""


@pytest.mark.slow
def test_a_worker_forked_from_the_zygote_trains_on_every_core(tmp_path):
    """A fork of a process whose OpenMP pool has started hangs at its first parallel op; the
    zygote keeps torch on one thread, so its forks train on all the cores (and do not hang)."""
    from lessons import mlp

    script = tmp_path / "forked_training.py"
    script.write_text(FORKED_TRAINING.format(root=str(ROOT)))
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == [str(mlp.TORCH_THREADS)] * 2
