"""The README's several-machines recipe, simulated on one machine: two class servers act as two
hosts behind one front nginx, sharing the class board's PostgreSQL, the model folder and the cookie
secret.

    CLASS_DB_URL=postgresql://... python -m serve.two_hosts [--port P] [--workers N] [--models DIR]

- Each "host" is ``python -m serve.class_server`` in its own session with its own nginx, on
  loopback ports ``P + 10`` and ``P + 20`` (its workers on the ports after each).
- The front nginx (``serve/nginx.conf.template``, one ``server`` line per host, as the README says)
  listens on ``P`` and hashes the students' ``dlsid`` cookie to a host; each host's nginx hashes the
  same cookie to one of its workers. A host that stops answering is skipped (``max_fails``), so its
  students reach the other host on their next request, with the class and the settings in their URL.
- What the hosts share: ``CLASS_DB_URL`` (required: PostgreSQL, as several real hosts would),
  ``MODEL_CACHE_DIR`` (``--models``, default ``data/models/``; on real hosts an NFS folder with
  working ``flock``) and ``STREAMLIT_SERVER_COOKIE_SECRET`` (generated once here unless set).
- Stop with Ctrl+C or SIGTERM: the hosts and the front nginx stop, and nothing is left behind
  (each host stops as ``make class`` does; without this process the hosts and nginx die with it).
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from serve import class_server
from serve.class_server import ROOT, healthy

HOST_OFFSETS = (10, 20)  # each host's nginx port after the front's; its workers follow it
START_TIMEOUT = 240.0

log = logging.getLogger("two_hosts")


@dataclass
class TwoHosts:
    """Two class servers (the "hosts") and the front nginx; ``start``, ``stop``, ``kill_host``."""

    port: int = 8700
    workers: int = 1
    db_url: str = ""
    models: Path | None = None
    run_dir: Path | None = None
    hosts: list[subprocess.Popen] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.db_url = self.db_url or os.environ.get("CLASS_DB_URL", "")
        if not self.db_url.startswith("postgres"):
            raise ValueError("the hosts share a PostgreSQL board: set CLASS_DB_URL=postgresql://...")
        self.run_dir = Path(self.run_dir or ROOT / ".run" / f"two-hosts-{self.port}").resolve()
        self.host_ports = [self.port + offset for offset in HOST_OFFSETS]
        self.env = {
            **os.environ,
            "CLASS_DB_URL": self.db_url,
            "MODEL_CACHE_DIR": str(Path(self.models or os.environ.get("MODEL_CACHE_DIR") or ROOT / "data" / "models")),
            "STREAMLIT_SERVER_COOKIE_SECRET": os.environ.get("STREAMLIT_SERVER_COOKIE_SECRET") or secrets.token_hex(32),
        }
        # the front is a ClassServer's nginx, its "workers" being the hosts' nginx ports
        self.front = class_server.ClassServer(workers=len(HOST_OFFSETS), port=self.port, address="127.0.0.1",
                                              run_dir=self.run_dir / "front")
        for upstream, host_port in zip(self.front.pool, self.host_ports, strict=True):
            upstream.port = host_port
        self.stopping = self.front.stopping

    def host_url(self, i: int) -> str:
        return f"http://127.0.0.1:{self.host_ports[i]}"

    @property
    def url(self) -> str:
        return self.front.url

    def start(self, timeout: float = START_TIMEOUT) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.front.run_dir.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + timeout
        try:
            for i, host_port in enumerate(self.host_ports):
                cmd = [sys.executable, "-m", "serve.class_server", "--workers", str(self.workers),
                       "--port", str(host_port), "--address", "127.0.0.1", "--run-dir", str(self.run_dir / f"host-{i}")]
                if class_server.SETPRIV:  # a host stops (in order: SIGTERM) when this process dies
                    cmd = [class_server.SETPRIV, "--pdeathsig", "TERM", "--", *cmd]
                with open(self.run_dir / f"host-{i}.log", "a") as out:
                    self.hosts.append(subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                                       start_new_session=True))
            for i, host in enumerate(self.hosts):
                while not healthy(self.host_url(i), timeout=2):
                    if host.poll() is not None or self.stopping.is_set() or time.monotonic() > deadline:
                        raise RuntimeError(f"host {i} did not start; see {self.run_dir / f'host-{i}.log'}")
                    time.sleep(0.3)
            self.front.reclaim()
            self.front._start_nginx()
            while not healthy(self.url, timeout=2):
                if self.front.nginx.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the front nginx did not start; see {self.front.run_dir}")
                time.sleep(0.2)
        except BaseException:
            self.stop()
            raise
        log.info("two hosts at %s and %s behind %s", self.host_url(0), self.host_url(1), self.url)

    def kill_host(self, i: int) -> None:
        """The whole host ``i`` goes down at once (its launcher and fork server; the workers and its
        nginx follow them), as a machine that loses power."""
        os.killpg(self.hosts[i].pid, signal.SIGKILL)
        self.hosts[i].wait(30)

    def watch(self) -> None:
        """Keep the front nginx up (a host that went down stays down, as a real machine would)."""
        while not self.stopping.wait(class_server.TICK):
            if self.front.nginx is None or self.front.nginx.poll() is not None:
                log.warning("front nginx exited: restarting")
                self.front._restart_nginx()

    def stop(self) -> None:
        self.stopping.set()
        self.front._stop(self.front.nginx)
        for host in self.hosts:
            if host.poll() is None:
                host.send_signal(signal.SIGTERM)
        for host in self.hosts:
            try:
                host.wait(class_server.STOP_TIMEOUT + 30)
            except subprocess.TimeoutExpired:
                os.killpg(host.pid, signal.SIGKILL)
                host.wait(30)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8700)
    parser.add_argument("--workers", type=int, default=1, help="workers per host")
    parser.add_argument("--models", type=Path, default=None, help="the shared model folder (MODEL_CACHE_DIR)")
    parser.add_argument("--run-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    try:
        hosts = TwoHosts(args.port, args.workers, models=args.models, run_dir=args.run_dir)
    except ValueError as exc:
        log.error("%s", exc)
        return 2

    def on_signal(signum: int, _frame: object) -> None:
        hosts.stopping.set()

    for sig in class_server.STOP_SIGNALS:
        signal.signal(sig, on_signal)
    try:
        hosts.start()
        print(f"Two hosts behind {hosts.url}  (Ctrl+C stops everything)", flush=True)
        threading.Thread(target=hosts.watch, daemon=True).start()
        hosts.stopping.wait()
    except RuntimeError as exc:
        log.error("%s", exc)
        return 1
    finally:
        for sig in class_server.STOP_SIGNALS:
            signal.signal(sig, signal.SIG_IGN)
        hosts.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
