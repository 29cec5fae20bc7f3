"""A throw-away PostgreSQL cluster on loopback, from Debian's server binaries.

``throwaway_cluster()`` (a context manager, also used by ``benchmarks/bench_classboard.py``)
runs ``initdb`` and ``pg_ctl`` as the ``postgres`` user (when we are root) in a temporary
folder, creates a database and yields its SQLAlchemy URL; afterwards it stops the server and
removes the folder. ``postgres_url`` is the session-scoped pytest fixture around it: it skips,
saying why, where the binaries are absent, and fails instead under ``REQUIRE_POSTGRES=1`` (CI).
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

PORTS = range(5540, 5560)  # this project's share of the machine's ports
DATABASE = "classboard"


class PostgresUnavailable(RuntimeError):
    """The cluster cannot be started here; the message says why."""


def server_bin() -> Path:
    """The newest ``/usr/lib/postgresql/<version>/bin`` that holds a server."""
    found = glob.glob("/usr/lib/postgresql/*/bin/postgres")
    if not found:
        raise PostgresUnavailable("PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin/postgres); "
                                  "apt-get install postgresql")
    newest = max(found, key=lambda p: [int(x) if x.isdigit() else 0 for x in Path(p).parent.parent.name.split(".")])
    return Path(newest).parent


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise PostgresUnavailable(f"no free port in {PORTS.start}-{PORTS.stop - 1}")


@contextlib.contextmanager
def throwaway_cluster() -> Iterator[str]:
    """Start a cluster, yield ``postgresql+psycopg://postgres@127.0.0.1:PORT/classboard``, remove it."""
    bindir = server_bin()
    as_postgres: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root
        if not shutil.which("runuser"):
            raise PostgresUnavailable("running as root without runuser to switch to the postgres user")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    folder = Path(tempfile.mkdtemp(prefix="classboard-pg-"))
    data, log = folder / "data", folder / "server.log"
    try:
        if as_postgres:
            shutil.chown(folder, "postgres", "postgres")

        def run(*args: str) -> None:
            done = subprocess.run([*as_postgres, *args], capture_output=True, text=True, timeout=120, check=False)
            if done.returncode != 0:
                detail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
                raise PostgresUnavailable(f"{Path(args[0]).name} failed: {done.stderr.strip()[-2000:]} {detail}")

        # Trust on loopback only, no fsync: a disposable cluster for tests, never a real one.
        run(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
            "--locale=C", "--no-sync")
        started = None
        for _ in range(3):  # another program may take the port between the probe and the start
            port = _free_port()
            try:
                run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60",
                    "-o", f"-p {port} -k {folder} -h 127.0.0.1 -c fsync=off -c max_connections=200", "start")
            except PostgresUnavailable:
                continue
            started = port
            break
        if started is None:
            raise PostgresUnavailable(f"pg_ctl could not start a server: {log.read_text(errors='replace')[-2000:]}")
        try:
            run(str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(started), "-U", "postgres", DATABASE)
            yield f"postgresql+psycopg://postgres@127.0.0.1:{started}/{DATABASE}"
        finally:
            subprocess.run([*as_postgres, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                           capture_output=True, timeout=60, check=False)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The URL of a session-wide throw-away PostgreSQL database (skipped where unavailable)."""
    cluster = throwaway_cluster()
    try:
        url = cluster.__enter__()
    except PostgresUnavailable as reason:
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(f"REQUIRE_POSTGRES=1 but {reason}")
        pytest.skip(str(reason))
    try:
        yield url
    finally:
        cluster.__exit__(None, None, None)
