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
  those files. They are compressed once, not per request (``compressed_front_end``). The pages'
  HTML too (Streamlit answers every page with the same ``index.html``): a class arriving at once
  waited seconds for it behind the workers' busy event loops.
- The launcher starts the workers, waits for each one's ``/_stcore/health``, starts nginx, checks
  the app through nginx, then watches: a worker that exits, or fails its health check
  ``HEALTH_FAILURES`` times in a row, is restarted; nginx is restarted within a second of exiting.
- Stopping leaves nothing behind, whatever signal arrives and whoever receives it. SIGINT, SIGTERM,
  SIGHUP or SIGQUIT to the launcher stops everything in order. Without the launcher (SIGKILL, a
  crash): the fork server sees its "alive" pipe close and exits, each worker dies with the fork
  server (``PR_SET_PDEATHSIG``, ``serve.forked``), nginx with the launcher (``setpriv --pdeathsig``).
  A signal to the whole process group (``kill -- -PGID``, a supervisor, a container stop) reaches
  the launcher and the fork server; the workers and nginx follow them. The pids of a run are kept in
  its run folder (``pids``): a start that finds processes of an earlier run alive (same pid and start
  time) stops them first, and a port that another program holds is named in a clear error.
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
import re
import secrets
import select
import shutil
import signal
import socket
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
TICK = 0.25  # seconds between checks that nginx and each worker still run (cheap: no request)
HEALTH_TIMEOUT = 5.0  # a worker busy with a class still answers its health check well within this
HEALTH_FAILURES = 3  # consecutive failed checks before a live worker is restarted
START_TIMEOUT = 120.0
STOP_TIMEOUT = 15.0
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
SETPRIV = shutil.which("setpriv")  # util-linux: runs nginx with a parent-death signal
PIDS_FILE = "pids"

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


def upload_limit_mb() -> int:
    """The app's one upload limit in MB, as the workers read it: ``STREAMLIT_SERVER_MAX_UPLOAD_SIZE``,
    else ``server.maxUploadSize`` in ``.streamlit/config.toml``. nginx must let that much through."""
    import tomllib

    if value := os.environ.get("STREAMLIT_SERVER_MAX_UPLOAD_SIZE"):
        return int(value)
    return int(tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["server"]["maxUploadSize"])


def page_paths() -> str:
    """The app's page URLs as an nginx regular expression: ``/`` and ``/<page>`` for every page."""
    # plain data: the launcher stays free of Streamlit and torch
    from app.registry import PAGES

    return "^/(?:" + "|".join(re.escape(spec.url_path) for spec in PAGES) + ")?$"


def render_nginx_conf(
    run_dir: Path, listen: str, worker_ports: list[int], max_body_mb: int | None = None, static_dir: Path | None = None
) -> str:
    """The nginx configuration for ``worker_ports`` on loopback, listening on ``listen`` ("port" or
    "addr:port"), serving the front end from ``static_dir`` (default: Streamlit's own folder) and the
    pages' HTML (Streamlit's ``index.html``, the same for every page) itself; an upload may be
    ``max_body_mb`` (default: the app's own limit, ``upload_limit_mb``)."""
    max_body_mb = upload_limit_mb() if max_body_mb is None else max_body_mb
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
        "index_dir": str(streamlit_static_dir()),
        "page_paths": page_paths(),
        "max_body": f"{max_body_mb + 1}m",  # the upload and its form; larger files are refused in the browser (app/uploads.py)
    }.items():
        text = text.replace("{{" + name + "}}", value)
    return text


def start_time(pid: int) -> int | None:
    """A process's start time in clock ticks since boot (with its pid, it names one process for
    good: a pid can be reused, the pair cannot), or None if there is no such process."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def port_taken(port: int, address: str = "127.0.0.1") -> bool:
    """Whether a listening socket holds ``port`` (bound as nginx and Streamlit bind, with SO_REUSEADDR)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((address, port))
        except OSError:
            return True
    return False


class Forked:
    """A worker forked from the zygote, with the part of ``subprocess.Popen``'s interface used here.

    The worker is the zygote's child, not ours: its liveness comes from a pidfd (readable once the
    process has exited), not from multiprocessing, which reports any worker as exited once the
    zygote has gone (a stop that believed it left workers running)."""

    def __init__(self, process: multiprocessing.process.BaseProcess) -> None:
        self.process = process
        self.pid = process.pid
        self.started = start_time(self.pid)
        try:
            self.pidfd: int | None = os.pidfd_open(self.pid)
        except (AttributeError, OSError):  # not Linux 5.3+: /proc and the start time instead
            self.pidfd = None

    def running(self) -> bool:
        if self.pidfd is not None:
            return not select.select([self.pidfd], [], [], 0)[0]
        return self.started is not None and start_time(self.pid) == self.started and not _zombie(self.pid)

    def poll(self) -> int | None:
        if self.running():
            return None
        code = self.process.exitcode
        self.close()
        return 255 if code is None else code

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.running():
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise subprocess.TimeoutExpired(f"worker {self.pid}", timeout or 0)
            if self.pidfd is not None:
                select.select([self.pidfd], [], [], left)
            else:
                time.sleep(0.05)
        return self.poll()

    def send_signal(self, sig: int) -> None:
        if self.pidfd is not None:
            signal.pidfd_send_signal(self.pidfd, sig)
        elif self.running():
            os.kill(self.pid, sig)

    def close(self) -> None:
        if self.pidfd is not None:
            os.close(self.pidfd)
            self.pidfd = None
            self.started = None  # gone: the /proc fallback now says "not running" too


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


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
        if w.proc is not None:
            w.proc.close()
        w.proc = Forked(process)
        w.failures = 0
        self._record_pids()
        log.info("worker %s started (pid %s)", w.port, w.proc.pid)

    def _start_nginx(self) -> None:
        conf = self.run_dir / "nginx.conf"
        listen = f"{self.address}:{self.port}" if self.address else str(self.port)
        static = compressed_front_end(self.run_dir.parent)
        conf.write_text(render_nginx_conf(self.run_dir, listen, [w.port for w in self.pool], static_dir=static))
        cmd = [NGINX, "-p", str(self.run_dir), "-c", str(conf), "-e", str(self.run_dir / "nginx-error.log"),
               "-g", "daemon off;"]  # fmt: skip
        # nginx leaves with the launcher even when the launcher cannot stop it (SIGKILL, a crash);
        # SIGTERM is nginx's fast shutdown, which takes its worker processes along. (The kernel
        # counts the thread that started nginx as its parent: a thread that ends takes nginx along,
        # and the watch loop starts another.)
        if SETPRIV:
            cmd = [SETPRIV, "--pdeathsig", "TERM", "--", *cmd]
        with open(self.run_dir / "nginx.out", "a") as out:
            self.nginx = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self._record_pids()
        log.info("nginx started on %s (pid %s)", listen, self.nginx.pid)

    def _restart_nginx(self) -> None:
        """A new nginx after the old one exited. Its worker processes outlive a killed master and
        still hold the port: its process group goes first."""
        old = self.nginx
        if old is not None:
            try:
                os.killpg(old.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            old.wait()
        self._start_nginx()

    @staticmethod
    def _stop(proc: subprocess.Popen | Forked | None) -> None:
        """SIGTERM, then SIGKILL after ``STOP_TIMEOUT``: a worker alone (its zygote may be gone
        already), nginx with its whole process group."""
        if proc is None or proc.poll() is not None:
            return
        kill = proc.send_signal if isinstance(proc, Forked) else (lambda sig: os.killpg(proc.pid, sig))
        try:
            kill(signal.SIGTERM)
            proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            kill(signal.SIGKILL)
            proc.wait(STOP_TIMEOUT)
        except ProcessLookupError:
            pass
        if isinstance(proc, subprocess.Popen):  # nginx's worker processes, if its master went first
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def _stop_zygote(self) -> None:
        """End the fork server (the workers' parent, holding the imported heap): it would otherwise
        live as long as this process. A later start makes a new one."""
        pid = self.zygote_pid
        if pid is None:
            return
        try:
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + STOP_TIMEOUT
            while os.waitpid(pid, os.WNOHANG) == (0, 0):
                if time.monotonic() > deadline:
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                    break
                time.sleep(0.05)
        except (ProcessLookupError, ChildProcessError):
            pass
        from multiprocessing import forkserver

        server = forkserver._forkserver  # let the next start make a fresh one (private, as zygote_pid)
        with server._lock:
            if server._forkserver_pid == pid:
                if server._forkserver_alive_fd is not None:
                    os.close(server._forkserver_alive_fd)
                server._forkserver_pid = server._forkserver_alive_fd = server._forkserver_address = None

    # ---------------------------------------------------------------- an earlier run's leftovers

    def _record_pids(self) -> None:
        """This run's processes (pid and start time) in the run folder, for ``reclaim``."""
        lines = []
        for role, pid in [("zygote", self.zygote_pid), ("nginx", self.nginx and self.nginx.pid),
                          *(("worker", w.proc and w.proc.pid) for w in self.pool)]:
            started = start_time(pid) if pid else None
            if started is not None:
                lines.append(f"{role} {pid} {started}\n")
        tmp = self.run_dir / f".{PIDS_FILE}.tmp"
        tmp.write_text("".join(lines))
        os.replace(tmp, self.run_dir / PIDS_FILE)

    def reclaim(self) -> list[int]:
        """Stop the processes an earlier run from this run folder left alive: only those whose pid
        and start time are as recorded (a reused pid is someone else's). Returns their pids."""
        path = self.run_dir / PIDS_FILE
        try:
            lines = path.read_text().splitlines()
        except OSError:
            return []
        stale = []
        for line in lines:
            try:
                role, pid, started = line.split()
                pid, started = int(pid), int(started)
            except ValueError:
                continue
            if pid != os.getpid() and start_time(pid) == started:
                stale.append(pid)
                log.warning("stopping %s %s left by an earlier run in %s", role, pid, self.run_dir)
                try:
                    os.killpg(pid, signal.SIGKILL) if role != "zygote" else os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + STOP_TIMEOUT
        while any(start_time(pid) is not None and not _zombie(pid) for pid in stale) and time.monotonic() < deadline:
            time.sleep(0.05)
        path.unlink(missing_ok=True)
        return stale

    def check_ports(self) -> None:
        """A clear error naming a port that another program holds (instead of a worker that never starts)."""
        public = self.address if self.address not in ("", "::") else "0.0.0.0"
        for address, port in [(public, self.port), *(("127.0.0.1", w.port) for w in self.pool)]:
            deadline = time.monotonic() + 5  # a port just released by a reclaimed process frees at once
            while port_taken(port, address):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"port {port} is taken by another program: choose others with "
                                       "--port / --worker-port, or stop that program")
                time.sleep(0.1)

    # ---------------------------------------------------------------- lifecycle

    def start(self, timeout: float = START_TIMEOUT) -> None:
        """Stop an earlier run's leftovers, start every worker, wait for their health, start nginx and
        check the app through it."""
        if not Path(NGINX).exists():
            raise RuntimeError(f"{NGINX} not found: install Debian's nginx (apt-get install nginx-light)")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.reclaim()
        self.check_ports()
        deadline = time.monotonic() + timeout
        try:
            for w in self.pool:
                self._start_worker(w)
            for w in self.pool:
                while not healthy(w.url, timeout=2):
                    if self.stopping.is_set():
                        raise RuntimeError("stopped while starting")
                    if w.proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"worker {w.port} did not start; see {w.log_path}")
                    time.sleep(0.3)
            self._start_nginx()
            while not healthy(self.url, timeout=2):
                if self.stopping.is_set():
                    raise RuntimeError("stopped while starting")
                if self.nginx.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"nginx did not start; see {self.run_dir / 'nginx-error.log'}")
                time.sleep(0.2)
        except BaseException:
            self.stop()
            raise
        log.info("serving %d workers at %s", len(self.pool), self.url)

    def _restart_worker(self, w: Worker, why: str) -> None:
        log.warning("worker %s %s: restarting", w.port, why)
        self._stop(w.proc)
        self._start_worker(w)
        w.restarts += 1

    def check_processes(self) -> list[int]:
        """The cheap part of a watch round (no request): restart nginx and every worker that exited;
        the ports of restarted workers."""
        restarted = []
        if not self.stopping.is_set() and (self.nginx is None or self.nginx.poll() is not None):
            log.warning("nginx exited: restarting")
            self._restart_nginx()
        for w in self.pool:
            if self.stopping.is_set():
                break
            if w.proc is None or w.proc.poll() is not None:
                self._restart_worker(w, "exited")
                restarted.append(w.port)
        return restarted

    def check_once(self) -> list[int]:
        """One watch round: restart what died or stopped answering; the ports of restarted workers."""
        restarted = self.check_processes()
        for w in self.pool:
            if self.stopping.is_set() or w.port in restarted:
                continue
            w.failures = 0 if healthy(w.url) else w.failures + 1
            if w.failures >= HEALTH_FAILURES:
                self._restart_worker(w, "stopped answering")
                restarted.append(w.port)
        return restarted

    def watch(self) -> None:
        """Keep everything up until ``stop`` (or a signal) is called: exited processes are noticed
        within ``TICK``, a worker that stopped answering within ``HEALTH_FAILURES`` health rounds."""
        next_round = time.monotonic() + HEALTH_EVERY
        while not self.stopping.wait(TICK):
            if time.monotonic() >= next_round:
                self.check_once()
                next_round = time.monotonic() + HEALTH_EVERY
            else:
                self.check_processes()

    def stop(self) -> None:
        """Stop nginx, every worker (SIGTERM, SIGKILL after ``STOP_TIMEOUT``) and the fork server."""
        self.stopping.set()
        self._stop(self.nginx)
        for w in self.pool:
            self._stop(w.proc)
        self._stop_zygote()
        (self.run_dir / PIDS_FILE).unlink(missing_ok=True)
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

    for sig in STOP_SIGNALS:
        signal.signal(sig, on_signal)
    try:
        server.start()
        print(f"Serving a class with {args.workers} workers at {server.url}  (Ctrl+C stops everything)", flush=True)
        server.watch()
    except RuntimeError as exc:
        if not server.stopping.is_set():
            log.error("%s", exc)
            return 1
    finally:
        # a second signal must not cut the stop short
        for sig in STOP_SIGNALS:
            signal.signal(sig, signal.SIG_IGN)
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
