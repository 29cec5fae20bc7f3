"""Serve a class on every core: N Streamlit workers behind Debian's nginx, as one command.

    python -m serve.class_server [--workers N] [--port P] [--address A]      (or: make class WORKERS=N)

- ``--workers`` defaults to one per core (a Streamlit process runs Python on one core at a time).
- ``--port`` / ``--address`` are where nginx listens for the students; they default to
  ``STREAMLIT_SERVER_PORT`` (else 8501) and ``STREAMLIT_SERVER_ADDRESS`` (else every interface),
  as ``make run`` does. Workers listen on loopback only, on the ports after the public one
  (``--worker-port`` moves them). Every other ``STREAMLIT_*`` variable reaches the workers.
- nginx runs unprivileged-style from a run folder (``.run/class-<port>/``, git-ignored) with its
  own configuration (``serve/nginx.conf.template``), pid, logs and temp folders.
- Sticky sessions by a cookie hash (see the template), websocket proxying with long timeouts.
- nginx serves Streamlit's own front end (``/static/``: 130 files, 4.4 MB, on a browser's first
  visit), cached by the browser: a Python worker spent about 300 ms of CPU per first visit sending
  those files. They are compressed once, not per request (``compressed_front_end``).
- The launcher starts the workers, waits for each one's ``/_stcore/health``, starts nginx, checks
  the app through nginx, then watches: a worker that exits, or fails its health check
  ``HEALTH_FAILURES`` times in a row, is restarted; so is nginx. SIGINT or SIGTERM stops everything.
- Each worker is ``streamlit run`` with its import-time heap frozen (``serve.worker``), so the full
  collection after every script run stays cheap. Workers are forked from one process that imported
  and froze everything once (``serve.zygote``, through ``multiprocessing``'s fork server): that
  memory is shared copy-on-write between the workers, and a restarted worker is up in a second.
- All workers share one cookie secret and the on-disk model store (``MODEL_CACHE_DIR``), so a
  student moved to another worker (after a restart) keeps working and no model is trained twice.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import importlib.metadata
import importlib.util
import logging
import multiprocessing
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import types
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from serve.forked import serve_forked

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = Path(__file__).resolve().parent / "nginx.conf.template"
NGINX = os.environ.get("NGINX", "/usr/sbin/nginx")
HEALTH_PATH = "/_stcore/health"
HEALTH_EVERY = 2.0  # seconds between health rounds
HEALTH_TIMEOUT = 5.0  # a worker busy with a class still answers its health check well within this
HEALTH_FAILURES = 3  # consecutive failed checks before a live worker is restarted
START_TIMEOUT = 120.0
STOP_TIMEOUT = 15.0

log = logging.getLogger("class_server")


def default_workers() -> int:
    """One worker per core this process may run on."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def healthy(url: str, timeout: float = HEALTH_TIMEOUT) -> bool:
    """Whether ``url`` answers Streamlit's health check with 200."""
    try:
        with urllib.request.urlopen(url + HEALTH_PATH, timeout=timeout) as response:
            return response.status == 200
    except OSError:
        return False


def streamlit_static_dir() -> Path:
    """Streamlit's built front end (index.html, static/js, static/css), found without importing it."""
    return Path(importlib.util.find_spec("streamlit").origin).parent / "static"


COMPRESSIBLE = (".js", ".css", ".svg", ".json", ".map", ".ttf")


def compressed_front_end(cache_root: Path) -> Path:
    """Streamlit's front-end folder mirrored in ``cache_root``: a link to each file, and a gzip copy
    beside each text file for nginx's ``gzip_static``. Built once per Streamlit install and reused.

    Compressed per request instead, a class of 60 arriving within 2 s had nginx's one process
    compress 260 MB: students waited about a second for it before their page could start. Where the
    mirror cannot be written, Streamlit's own folder (nginx then compresses as it sends).
    """
    source = streamlit_static_dir() / "static"
    key = hashlib.sha256(f"{source}|{importlib.metadata.version('streamlit')}".encode()).hexdigest()[:12]
    target = cache_root / f"static-{key}"
    if (target / ".complete").exists():
        return target
    tmp = None
    try:
        cache_root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".static-", dir=cache_root))
        for path in sorted(source.rglob("*")):
            mirror = tmp / path.relative_to(source)
            if path.is_dir():
                mirror.mkdir(exist_ok=True)
                continue
            mirror.parent.mkdir(parents=True, exist_ok=True)
            mirror.symlink_to(path)
            if path.suffix in COMPRESSIBLE:
                mirror.with_name(mirror.name + ".gz").write_bytes(gzip.compress(path.read_bytes(), 9, mtime=0))
        (tmp / ".complete").touch()
        os.rename(tmp, target)  # atomic; fails if another server finished the same mirror first
        tmp = None
    except OSError as exc:
        if not (target / ".complete").exists():
            log.warning("no compressed front end in %s (%s): nginx compresses each request", cache_root, exc)
            return source
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def render_nginx_conf(
    run_dir: Path, listen: str, worker_ports: list[int], max_body_mb: int = 5, static_dir: Path | None = None
) -> str:
    """The nginx configuration for ``worker_ports`` on loopback, listening on ``listen`` ("port" or
    "addr:port"), serving the front end from ``static_dir`` (default: Streamlit's own folder)."""
    servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=3s;" for p in worker_ports)
    # nginx started as root would hand its workers to "nobody", who cannot write the run folder
    user_line = f"user {pwd.getpwuid(os.geteuid()).pw_name};" if os.geteuid() == 0 else ""
    text = TEMPLATE.read_text()
    for name, value in {
        "run_dir": str(run_dir),
        "user_line": user_line,
        "servers": servers,
        "listen": listen,
        "static_dir": str(static_dir or streamlit_static_dir() / "static"),
        "max_body": f"{max_body_mb + 1}m",  # Streamlit refuses oversized uploads itself, with its message
    }.items():
        text = text.replace("{{" + name + "}}", value)
    return text


class Forked:
    """A worker forked from the zygote, with the part of ``subprocess.Popen``'s interface used here."""

    def __init__(self, process: multiprocessing.process.BaseProcess) -> None:
        self.process = process
        self.pid = process.pid

    def poll(self) -> int | None:
        return self.process.exitcode

    def wait(self, timeout: float | None = None) -> int:
        self.process.join(timeout)
        if self.process.exitcode is None:
            raise subprocess.TimeoutExpired(f"worker {self.pid}", timeout or 0)
        return self.process.exitcode


@dataclass
class Worker:
    port: int
    log_path: Path
    proc: Forked | None = None
    failures: int = 0
    restarts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class ClassServer:
    """The workers, nginx, and the watch loop that keeps them up (see the module docstring)."""

    workers: int = field(default_factory=default_workers)
    port: int = 8501
    address: str = ""
    worker_port: int | None = None
    run_dir: Path | None = None
    app: str = "streamlit_app.py"

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError("at least one worker")
        first = self.worker_port or self.port + 1
        self.run_dir = Path(self.run_dir or ROOT / ".run" / f"class-{self.port}").resolve()
        self.pool = [Worker(first + i, self.run_dir / f"worker-{first + i}.log") for i in range(self.workers)]
        self.nginx: subprocess.Popen | None = None
        self.stopping = threading.Event()
        self.env = {
            **os.environ,
            # one secret for all workers: signed cookies stay valid whichever worker answers
            "STREAMLIT_SERVER_COOKIE_SECRET": os.environ.get("STREAMLIT_SERVER_COOKIE_SECRET") or secrets.token_hex(32),
            # idle OpenMP threads sleep instead of spinning against the other workers
            "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE"),
        }
        self.forks = multiprocessing.get_context("forkserver")
        self.forks.set_forkserver_preload(["serve.zygote"])

    @property
    def zygote_pid(self) -> int | None:
        """The process the workers are forked from (their parent), once the first worker started."""
        from multiprocessing import forkserver

        return forkserver._forkserver._forkserver_pid  # private: the stdlib offers no public accessor

    @property
    def url(self) -> str:
        host = self.address if self.address not in ("", "0.0.0.0", "::") else "127.0.0.1"
        return f"http://{host}:{self.port}"

    # ---------------------------------------------------------------- processes

    def _start_worker(self, w: Worker) -> None:
        # The fork server starts (once, importing serve.zygote) with this process's environment:
        # OMP_WAIT_POLICY must be set before torch loads there.
        os.environ["OMP_WAIT_POLICY"] = self.env["OMP_WAIT_POLICY"]
        args = [self.app, "--server.port", str(w.port), "--server.address", "127.0.0.1", "--server.headless", "true"]
        process = self.forks.Process(target=serve_forked, args=(args, str(w.log_path), self.env), name=f"worker-{w.port}")
        # multiprocessing re-runs the launcher's __main__ in each new process; a worker needs none
        # of it (and where the launcher has run a Streamlit script, e.g. AppTest under pytest,
        # __main__ is that script, which must not run outside Streamlit)
        real_main = sys.modules["__main__"]
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            process.start()
        finally:
            sys.modules["__main__"] = real_main
        w.proc = Forked(process)
        w.failures = 0
        log.info("worker %s started (pid %s)", w.port, w.proc.pid)

    def _start_nginx(self) -> None:
        conf = self.run_dir / "nginx.conf"
        listen = f"{self.address}:{self.port}" if self.address else str(self.port)
        static = compressed_front_end(self.run_dir.parent)
        conf.write_text(render_nginx_conf(self.run_dir, listen, [w.port for w in self.pool], static_dir=static))
        cmd = [NGINX, "-p", str(self.run_dir), "-c", str(conf), "-e", str(self.run_dir / "nginx-error.log"),
               "-g", "daemon off;"]  # fmt: skip
        with open(self.run_dir / "nginx.out", "a") as out:
            self.nginx = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        log.info("nginx started on %s (pid %s)", listen, self.nginx.pid)

    @staticmethod
    def _stop(proc: subprocess.Popen | None) -> None:
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(STOP_TIMEOUT)
        except ProcessLookupError:
            pass

    # ---------------------------------------------------------------- lifecycle

    def start(self, timeout: float = START_TIMEOUT) -> None:
        """Start every worker, wait for their health, start nginx and check the app through it."""
        if not Path(NGINX).exists():
            raise RuntimeError(f"{NGINX} not found: install Debian's nginx (apt-get install nginx-light)")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        for w in self.pool:
            self._start_worker(w)
        deadline = time.monotonic() + timeout
        try:
            for w in self.pool:
                while not healthy(w.url, timeout=2):
                    if w.proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"worker {w.port} did not start; see {w.log_path}")
                    time.sleep(0.3)
            self._start_nginx()
            while not healthy(self.url, timeout=2):
                if self.nginx.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"nginx did not start; see {self.run_dir / 'nginx-error.log'}")
                time.sleep(0.2)
        except BaseException:
            self.stop()
            raise
        log.info("serving %d workers at %s", len(self.pool), self.url)

    def check_once(self) -> list[int]:
        """One watch round: restart what died or stopped answering; the ports of restarted workers."""
        restarted = []
        for w in self.pool:
            if self.stopping.is_set():
                break
            dead = w.proc is None or w.proc.poll() is not None
            if not dead:
                w.failures = 0 if healthy(w.url) else w.failures + 1
            if dead or w.failures >= HEALTH_FAILURES:
                log.warning("worker %s %s: restarting", w.port, "exited" if dead else "stopped answering")
                self._stop(w.proc)
                self._start_worker(w)
                w.restarts += 1
                restarted.append(w.port)
        if not self.stopping.is_set() and (self.nginx is None or self.nginx.poll() is not None):
            log.warning("nginx exited: restarting")
            self._start_nginx()
        return restarted

    def watch(self) -> None:
        """Keep everything up until ``stop`` (or a signal) is called."""
        while not self.stopping.wait(HEALTH_EVERY):
            self.check_once()

    def stop(self) -> None:
        """Stop nginx, then every worker (SIGTERM, SIGKILL after ``STOP_TIMEOUT``)."""
        self.stopping.set()
        self._stop(self.nginx)
        for w in self.pool:
            self._stop(w.proc)
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            shutil.rmtree(self.run_dir / name, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WORKERS") or default_workers()))
    parser.add_argument("--port", type=int, default=int(os.environ.get("STREAMLIT_SERVER_PORT") or 8501))
    parser.add_argument("--address", default=os.environ.get("STREAMLIT_SERVER_ADDRESS", ""))
    parser.add_argument("--worker-port", type=int, default=None, help="first worker port (default: --port + 1)")
    parser.add_argument("--run-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    server = ClassServer(args.workers, args.port, args.address, args.worker_port, args.run_dir)

    def on_signal(signum: int, _frame: object) -> None:
        log.info("signal %s: stopping", signum)
        server.stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        server.start()
        print(f"Serving a class with {args.workers} workers at {server.url}  (Ctrl+C stops everything)", flush=True)
        server.watch()
    except RuntimeError as exc:
        log.error("%s", exc)
        return 1
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
