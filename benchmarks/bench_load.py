"""A class at once, at the protocol level: N simulated students against one process and against the class server.

Each student (``benchmarks.protocol``) opens a lesson page that has a slider, then moves the
slider ``MOVES`` times, 1-3 s apart, speaking Streamlit's websocket protocol as the browser does;
no browser runs, so the server has the machine's cores to itself. Before the class, a teacher
visits every page once (caches warm, the draw page's model trained). Reported per setup and N:
errors (exceptions, the app's error boxes, protocol failures, timeouts), sliders that did not
change the page, median / p90 / worst slider rerun, first page median / p90, the server's CPU (cores
busy on average, all its processes) and memory (the sum of its processes' PSS: before the class,
peak, and ``AFTER_S`` seconds after the last class left). Also: the server's CPU time per slider
rerun for one student alone, per page (the script plus everything Streamlit does after it), and
the server's CPU per student's first page, per page (new students one after another).

Environment: ``LOAD_STUDENTS`` (default "10,30,60,100"), ``LOAD_SETUPS`` ("one,class"),
``LOAD_AFTER_S`` (120), ``LOAD_MOVES`` (5), ``LOAD_PORT`` (8700: nginx there, workers after it),
``WORKERS`` (class server workers, default one per core), ``LOAD_ARRIVE_S`` (2: the class
arrives within this many seconds), ``LOAD_FRONT_END`` (1: each student's first visit also fetches
the scripts and styles its page's HTML names, as a browser with an empty cache does),
``LOAD_FIRST_VISITS`` (10: new students per page for the first-page CPU; 0 skips it),
``LOAD_PER_RERUN`` (1: measure the CPU per slider rerun; 0 skips it). Bounded: every step has a timeout
(``protocol.STEP_TIMEOUT``) and the student count is fixed.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Self

from benchmarks import protocol
from benchmarks.live import ROOT, healthy
from serve.class_server import ClassServer, default_workers

STUDENTS = [int(n) for n in os.environ.get("LOAD_STUDENTS", "10,30,60,100").split(",") if n.strip()]
SETUPS = [s.strip() for s in os.environ.get("LOAD_SETUPS", "one,class").split(",") if s.strip()]
AFTER_S = float(os.environ.get("LOAD_AFTER_S", "120"))
MOVES = int(os.environ.get("LOAD_MOVES", "5"))
PORT = int(os.environ.get("LOAD_PORT", "8700"))
PAUSE = (1.0, 3.0)
ARRIVE_S = float(os.environ.get("LOAD_ARRIVE_S", "2"))
FRONT_END = os.environ.get("LOAD_FRONT_END", "1") == "1"
PER_RERUN = os.environ.get("LOAD_PER_RERUN", "1") == "1"
TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


# ------------------------------------------------------------------------ the server's processes, from /proc


def children() -> dict[int, list[int]]:
    """Every process's children, from /proc."""
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def process_tree(roots: list[int]) -> list[int]:
    """``roots`` and all their descendants (nginx's workers, a worker's children)."""
    tree, found, todo = children(), set(), list(roots)
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo.extend(tree.get(pid, []))
    return sorted(found)


def cpu_ticks(pid: int) -> int:
    """The CPU a process has used so far (user + system), in clock ticks (``TICKS`` a second)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def _memory(pid: int) -> int:
    """A process's proportional set size (shared pages split between their users), else its RSS."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_SIZE


def usage(roots: list[int]) -> tuple[float, int]:
    """(CPU seconds used so far, memory bytes now), summed over the process tree.

    Memory is PSS: the workers map the same torch and numpy libraries, and summing RSS would
    count those pages once per worker although the machine holds them once.
    """
    cpu, mem = 0.0, 0
    for pid in process_tree(roots):
        try:
            cpu += cpu_ticks(pid) / TICKS
            mem += _memory(pid)
        except (OSError, IndexError, ValueError):
            continue  # the process ended meanwhile
    return cpu, mem


class Sampler:
    """Peak memory of a process tree, sampled every ``every`` seconds in a thread."""

    def __init__(self, roots: list[int], every: float = 0.5) -> None:
        self.roots, self.every, self.peak = roots, every, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.peak = max(self.peak, usage(self.roots)[1])

    def __enter__(self) -> Self:
        self.peak = usage(self.roots)[1]
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


# ------------------------------------------------------------------------ the two setups


@dataclass
class Served:
    url: str
    roots: list[int]


@contextmanager
def one_process(port: int) -> Iterator[Served]:
    """One Streamlit process on loopback, started as ``make class`` starts each worker (``serve.worker``)."""
    (ROOT / ".run").mkdir(exist_ok=True)
    log = open(ROOT / ".run" / f"bench-one-{port}.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "serve.worker", "streamlit_app.py",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=ROOT, env=os.environ.copy(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while not healthy(url):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not start; see {log.name}")
            time.sleep(0.3)
        yield Served(url, [proc.pid])
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


@contextmanager
def watched(server: ClassServer) -> Iterator[ClassServer]:
    """``server`` started, its watch loop (which restarts nginx or a worker) on a thread; stopped after."""
    server.start()
    watcher = threading.Thread(target=server.watch, daemon=True)
    watcher.start()
    try:
        yield server
    finally:
        server.stop()
        watcher.join(10)


@contextmanager
def class_server(port: int, workers: int) -> Iterator[Served]:
    """``make class``: ``workers`` Streamlit processes behind nginx on loopback."""
    with watched(ClassServer(workers=workers, port=port, address="127.0.0.1")) as server:
        # the workers and the process they are forked from (its memory is shared with them)
        yield Served(server.url, [server.nginx.pid, server.zygote_pid, *(w.proc.pid for w in server.pool)])


# ------------------------------------------------------------------------ measurements


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of ``values``, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def class_round(served: Served, pages: list[str], n: int) -> tuple[str, int]:
    """N students at once; one report line and the error count."""
    cpu0, _ = usage(served.roots)
    start = time.perf_counter()
    with Sampler(served.roots) as mem:
        results = asyncio.run(protocol.classroom(served.url, pages, n, MOVES, PAUSE, ARRIVE_S, FRONT_END))
    wall = time.perf_counter() - start
    cpu1, _ = usage(served.roots)
    errors = [e for r in results for e in r.errors]
    sliders = [s for r in results for s in r.slider_s]
    firsts = [r.first_page_s for r in results if r.first_page_s is not None]
    unchanged = sum(not c for r in results for c in r.changed)
    line = (
        f"N={n:3d}: errors {len(errors)}, unchanged pages {unchanged}; "
        + (f"slider rerun median {statistics.median(sliders):.2f} / p90 {pct(sliders, 0.9):.2f} / worst {max(sliders):.2f} s; "
           if sliders else "no slider moved; ")
        + (f"first page median {statistics.median(firsts):.2f} / p90 {pct(firsts, 0.9):.2f} s (worst {max(firsts):.2f}); "
           if firsts else "no page opened; ")
        + f"server CPU {(cpu1 - cpu0) / wall:.2f} cores; peak memory {mem.peak / 2**20:.0f} MB"
    )  # fmt: skip
    if errors:
        line += "\n" + "\n".join(f"    - {e}" for e in sorted(set(errors))[:5])
    return line, len(errors)


async def _cpu_per_rerun(served: Served, page: str, moves: int = 16) -> tuple[list[float], float]:
    """The server's CPU seconds for each slider rerun of one student alone on ``page``, less what
    the server burns meanwhile when nobody does anything (its file-watcher polls, event loops);
    and that idle rate (CPU seconds per second)."""
    rng = random.Random(0)
    tab = protocol.Tab(served.url, page)
    await tab.open()
    costs = []
    try:
        await tab.move_slider(rng)  # the first move may fill a cache
        await asyncio.sleep(1.0)
        before, start = usage(served.roots)[0], time.perf_counter()
        await asyncio.sleep(3.0)
        idle = (usage(served.roots)[0] - before) / (time.perf_counter() - start)
        for _ in range(moves):
            before, start = usage(served.roots)[0], time.perf_counter()
            await tab.move_slider(rng)
            await asyncio.sleep(0.3)  # whatever the server does after script_finished (e.g. a collection)
            costs.append(usage(served.roots)[0] - before - idle * (time.perf_counter() - start))
    finally:
        await tab.close()
    return costs, idle


FIRST_VISITS = int(os.environ.get("LOAD_FIRST_VISITS", "10"))


async def _cpu_per_first_page(served: Served, page: str, visits: int) -> tuple[list[float], float]:
    """The server's CPU seconds (every process: nginx and the workers) for each of ``visits`` new
    students opening ``page`` one after another (``FRONT_END``: with an empty browser cache), less the
    idle server's rate; and that rate. The first visit is left out: it may fill a worker's caches."""
    await asyncio.sleep(1.0)
    before, start = usage(served.roots)[0], time.perf_counter()
    await asyncio.sleep(3.0)
    idle = (usage(served.roots)[0] - before) / (time.perf_counter() - start)
    costs = []
    for i in range(visits + 1):
        tab = protocol.Tab(served.url, page)
        before, start = usage(served.roots)[0], time.perf_counter()
        try:
            result = await tab.open(FRONT_END)
            await asyncio.sleep(0.3)  # whatever the server does after script_finished
        finally:
            await tab.close()
        if result.errors:
            raise protocol.ProtocolError(f"/{page}: {result.errors[:2]}")
        if i:
            costs.append(usage(served.roots)[0] - before - idle * (time.perf_counter() - start))
    return costs, idle


def first_page_cost(served: Served, pages: list[str], visits: int = FIRST_VISITS) -> list[str]:
    """Per page: median and mean server CPU of a student's first page (read as ``per_page_cost``)."""
    lines = []
    for page in pages:
        costs, idle = asyncio.run(_cpu_per_first_page(served, page, visits))
        lines.append(f"  {page}: median {statistics.median(costs) * 1000:.0f} ms, mean {statistics.mean(costs) * 1000:.0f} ms, "
                     f"worst {max(costs) * 1000:.0f} ms (idle server: {idle * 1000:.0f} ms/s, subtracted)")
    return lines


def per_page_cost(served: Served, pages: list[str]) -> list[str]:
    """Per page: median and mean CPU per rerun (the kernel counts CPU in 10 ms ticks, so one rerun
    reads as 0, 10 or 20 ms; the mean over 16 is the finer figure)."""
    lines = []
    for page in pages:
        costs, idle = asyncio.run(_cpu_per_rerun(served, page))
        lines.append(f"  {page}: median {statistics.median(costs) * 1000:.0f} ms, mean {statistics.mean(costs) * 1000:.0f} ms, "
                     f"worst {max(costs) * 1000:.0f} ms (idle server: {idle * 1000:.0f} ms/s, subtracted)")
    return lines


def run_setup(name: str, served: Served) -> list[str]:
    _, rss0 = usage(served.roots)
    every_page, pages = asyncio.run(protocol.discover_pages(served.url))
    pages = sorted(pages)
    _, rss_warm = usage(served.roots)
    lines = [
        f"### {name}: {served.url}, {len(served.roots)} process(es); pages with a slider: {', '.join(pages)}",
        f"memory at start {rss0 / 2**20:.0f} MB, after the teacher's visit {rss_warm / 2**20:.0f} MB",
    ]
    if FIRST_VISITS > 0:
        title = (f"server CPU per first page, {FIRST_VISITS} new students one after another"
                 f"{' (empty browser cache)' if FRONT_END else ''}, per page:")
        lines += [title, *first_page_cost(served, every_page)]
    if PER_RERUN:
        lines += ["server CPU per slider rerun, one student alone (script + everything after it):",
                  *per_page_cost(served, pages)]
    for n in STUDENTS:
        line, _ = class_round(served, pages, n)
        lines.append(line)
    time.sleep(AFTER_S)
    _, rss_after = usage(served.roots)
    lines.append(
        f"memory {AFTER_S:.0f} s after the students left: {rss_after / 2**20:.0f} MB "
        f"({(rss_after / rss_warm - 1) * 100:+.0f} % against after the teacher's visit)"
    )
    return lines


def main() -> list[str]:
    lines = [(f"students {STUDENTS} arriving within {ARRIVE_S:g} s"
              f"{', each fetching the front end (empty cache)' if FRONT_END else ''}, "
              f"{MOVES} slider moves each {PAUSE[0]:.0f}-{PAUSE[1]:.0f} s apart; {os.cpu_count()} cores")]
    if "one" in SETUPS:
        with one_process(PORT) as served:
            lines += run_setup("one process (one serve.worker)", served)
    if "class" in SETUPS:
        workers = int(os.environ.get("WORKERS") or default_workers())
        with class_server(PORT, workers) as served:
            lines += run_setup(f"class server (make class), {workers} workers behind nginx", served)
    return lines
