"""Leading the class under ``make class``: 60 students in one room, every one polling, on SQLite and PostgreSQL.

The class server (``serve.class_server``: nginx and forked Streamlit workers, as ``make class`` runs
it) serves the app with a fresh class board. Sixty simulated students (``benchmarks.protocol``: the
browser's websocket protocol, no browser) open page 1 in one room, half in each language, and do
what their browsers would: rerun each ``st.fragment(run_every=…)`` the server announced
(``auto_rerun``) at its interval, the lead bar's poll among them. Measured in one run:

- Polling: the server's CPU (every process of it, from /proc) while the 60 only poll, less what the
  idle server burns before they come. Goal: <= 0.3 cores in total.
- Push: the teacher sends ``PUSHES`` setups (``ClassBoard.send``, the call the teacher's button
  makes; the teacher's own worker is then one more writer of the row). Each student notes the first
  poll whose banner names the setup. Goal: every one of the 60 within 3 s (p100).
- Slider: meanwhile each student moves page 1's slider ``MOVES`` times. Goal: rerun p90 <= 1 s.
- Votes: the teacher opens a question; each student presses a choice's button in their bar between
  2.6 s (their poll has shown it) and 5 s after it opened. Goal: all 60 counted by the board.

Also, for the record: one run of the bar's fragment in AppTest (in-process CPU, less an empty
script's), and one ``lead_state`` read. The machine's load average is reported beside the figures:
on a shared machine, other programs' work slows the server and the students alike.

Environment: ``LEAD_DATABASES`` ("sqlite,postgresql"), ``LEAD_STUDENTS`` (60), ``WORKERS`` (class
server workers, default one per core), ``LEAD_POLL_S`` (20: the polling-only window).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import resource
import statistics
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass, field

from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from benchmarks import protocol
from benchmarks.live import free_port
from classroom import classboard as cb

TEACHER = "bench"
STUDENTS = int(os.environ.get("LEAD_STUDENTS", "60"))
DATABASES = [d.strip() for d in os.environ.get("LEAD_DATABASES", "sqlite,postgresql").split(",") if d.strip()]
POLL_WINDOW = float(os.environ.get("LEAD_POLL_S", "20"))
ARRIVE_S = 10.0  # the class arrives within this many seconds
SETTLE_S = 6.0
PUSHES, PUSH_EVERY = 5, 4.0
MOVES = 3
VOTE_FROM, VOTE_TO = 2.6, 4.9  # seconds after the question opened
QUESTION = "descent_lowest_default"
POLL_RUNS = 40


# ------------------------------------------------------------------------------ a student's tab


class _Listening:
    """The tab's websocket, noting each ``auto_rerun`` (a fragment the browser reruns on a timer)."""

    def __init__(self, ws, tab: LeadTab) -> None:
        self.ws, self.tab = ws, tab

    async def send(self, data) -> None:
        await self.ws.send(data)

    async def recv(self):
        raw = await self.ws.recv()
        if len(raw) < 256:  # the announcement is small; a delta is parsed by the tab itself
            msg = ForwardMsg.FromString(raw)
            if msg.WhichOneof("type") == "auto_rerun":
                self.tab.polls[msg.auto_rerun.fragment_id] = msg.auto_rerun.interval
            elif msg.WhichOneof("type") == "stop_auto_rerun":
                self.tab.polls.clear()
        return raw

    async def close(self) -> None:
        await self.ws.close()


class LeadTab(protocol.Tab):
    """A tab that also keeps the texts of its alerts and its buttons, and can press a button."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.polls: dict[str, float] = {}  # fragment id -> seconds
        self.alerts: dict[tuple[int, ...], tuple[str, str]] = {}  # path -> (text, fragment id)
        self.buttons: dict[str, tuple[tuple[int, ...], str]] = {}  # id -> (path, fragment id)
        self.pressed: list[str] = []
        self.lock = asyncio.Lock()  # one run at a time, as the browser queues them
        self._fragment = ""

    async def rerun(self, fragment_id: str = "") -> protocol.RunResult:
        if not isinstance(self.ws, _Listening):
            self.ws = _Listening(self.ws, self)
        self._fragment = fragment_id
        return await super().rerun(fragment_id)

    def _client_state(self, fragment_id: str = ""):
        msg = super()._client_state(fragment_id)
        for button in self.pressed:  # a press is sent once, as a trigger
            state = msg.rerun_script.widget_states.widgets.add()
            state.id, state.trigger_value = button, True
        self.pressed = []
        return msg

    def _on_delta(self, msg, path):
        errors = super()._on_delta(msg, path)
        delta = msg.delta
        if delta.WhichOneof("type") == "new_element":
            element = delta.new_element
            kind = element.WhichOneof("type")
            if kind == "alert":
                self.alerts[path] = (element.alert.body, delta.fragment_id)
            elif kind == "button":
                self.buttons[element.button.id] = (path, delta.fragment_id)
        return errors

    def _end_run(self, touched, full: bool) -> None:
        super()._end_run(touched, full)
        # what the run did not draw again is gone (a fragment's run: only that fragment's)
        stale = (lambda path, frag: path not in touched and (full or frag == self._fragment))
        self.alerts = {p: a for p, a in self.alerts.items() if not stale(p, a[1])}
        self.buttons = {b: v for b, v in self.buttons.items() if not stale(*v)}

    def shows(self, text: str) -> bool:
        return any(text in body for body, _ in self.alerts.values())


@dataclass
class Class:
    """What the teacher did (shared by the students) and what the students saw."""

    room: str
    sent: dict[int, float] = field(default_factory=dict)  # version -> wall time of the send's commit
    markers: dict[int, str] = field(default_factory=dict)  # version -> text only its banner holds
    seen: list[dict[int, float]] = field(default_factory=list)  # per student: version -> wall time
    slider_s: list[float] = field(default_factory=list)
    vote_at: float | None = None  # when the question opened (wall time)
    pressed: list[float] = field(default_factory=list)  # when each vote's button was pressed (wall time)
    voted: list[float] = field(default_factory=list)  # when each vote's rerun finished
    vote_s: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    opened: int = 0
    done: bool = False


def push_query(version: int) -> dict[str, str]:
    """The setup of push ``version``: its learning rate names it in the banner (0.101, 0.102, …)."""
    return {"x0": "3", "lr": f"{0.1 + version / 1000:g}"}


async def _run(tab: LeadTab, plan: Class, me: int, fragment: str = "") -> protocol.RunResult:
    async with tab.lock:
        result = await tab.rerun(fragment)
    plan.errors += result.errors
    now = time.time()
    for version, marker in list(plan.markers.items()):
        if version not in plan.seen[me] and tab.shows(marker):
            plan.seen[me][version] = now
    return result


async def _poll(tab: LeadTab, plan: Class, me: int, fragment: str) -> None:
    """A fragment's timer: the browser's setInterval, so a slow run does not delay the next one."""
    due = time.monotonic()
    while not plan.done:
        due += tab.polls.get(fragment, 2.0)
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        if not plan.done and fragment in tab.polls:
            await _run(tab, plan, me, fragment)


async def student(base: str, plan: Class, me: int, rng: random.Random) -> None:
    lang = "zh" if me % 2 == 0 else "en"
    tab = LeadTab(base, "descent", f"lang={lang}&room={plan.room}&nick=s{me:02d}")
    pollers: list[asyncio.Task] = []
    try:
        await asyncio.sleep(ARRIVE_S * me / STUDENTS)
        first = await tab.open()
        plan.errors += first.errors
        plan.opened += 1
        pollers = [asyncio.create_task(_poll(tab, plan, me, f)) for f in list(tab.polls)]
        while plan.vote_at is None and not plan.done:  # the slider moves come with the pushes
            if plan.sent and rng.random() < MOVES / (PUSHES * PUSH_EVERY / 0.25):
                async with tab.lock:
                    result, _ = await tab.move_slider(rng)
                plan.slider_s.append(result.seconds)
                plan.errors += result.errors
            await asyncio.sleep(0.25)
        if plan.done:
            return
        await asyncio.sleep(max(0.0, plan.vote_at + rng.uniform(VOTE_FROM, VOTE_TO) - time.time()))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            choices = [b for b in tab.buttons if f"__vote_{QUESTION}_" in b]
            if choices:
                button = rng.choice(choices)
                tab.pressed.append(button)
                plan.pressed.append(time.time())
                started = time.perf_counter()
                await _run(tab, plan, me, tab.buttons[button][1])
                plan.vote_s.append(time.perf_counter() - started)
                plan.voted.append(time.time())
                break
            await asyncio.sleep(0.1)
        else:
            plan.errors.append("the question's buttons never showed")
        while not plan.done:
            await asyncio.sleep(0.25)
    except Exception as exc:  # noqa: BLE001 - a failed student is a counted error, not a crashed benchmark
        plan.errors.append(f"{type(exc).__name__}: {exc}".splitlines()[0][:300])
    finally:
        for task in pollers:
            task.cancel()
        with contextlib.suppress(Exception):  # the result is already recorded
            await asyncio.wait_for(tab.close(), 10)


async def lesson(base: str, board: cb.ClassBoard, room: str, roots: list[int]) -> list[str]:
    from benchmarks.bench_load import usage

    plan = Class(room, seen=[{} for _ in range(STUDENTS)])
    rng = random.Random(0)
    before, at = usage(roots)[0], time.perf_counter()
    await asyncio.sleep(5.0)
    idle = (usage(roots)[0] - before) / (time.perf_counter() - at)
    own0 = resource.getrusage(resource.RUSAGE_SELF)
    tasks = [asyncio.create_task(student(base, plan, i, random.Random(rng.random()))) for i in range(STUDENTS)]
    deadline = time.monotonic() + ARRIVE_S + 120
    while plan.opened < STUDENTS and time.monotonic() < deadline and not all(t.done() for t in tasks):
        await asyncio.sleep(0.2)
    await asyncio.sleep(SETTLE_S)
    load = os.getloadavg()
    before, at = usage(roots)[0], time.perf_counter()
    await asyncio.sleep(POLL_WINDOW)
    polling = (usage(roots)[0] - before) / (time.perf_counter() - at) - idle

    for _ in range(PUSHES):
        version = await asyncio.to_thread(board.send, room, TEACHER, "descent", push_query(len(plan.sent) + 1))
        plan.sent[version] = time.time()
        plan.markers[version] = push_query(version)["lr"]
        await asyncio.sleep(PUSH_EVERY)
    await asyncio.to_thread(board.open_question, room, TEACHER, QUESTION)
    plan.vote_at = time.time()
    await asyncio.sleep(VOTE_TO + 3)
    wait_until = time.monotonic() + 20
    while len(plan.voted) + len([e for e in plan.errors if "buttons" in e]) < plan.opened and time.monotonic() < wait_until:
        await asyncio.sleep(0.5)
    counted = await asyncio.to_thread(board.votes, room, QUESTION)
    plan.done = True
    await asyncio.gather(*tasks)
    own1 = resource.getrusage(resource.RUSAGE_SELF)

    delays = [seen[v] - plan.sent[v] for seen in plan.seen for v in plan.sent if v in seen]
    missed = STUDENTS * len(plan.sent) - len(delays)
    sliders = sorted(plan.slider_s)
    votes, pressed = sorted(plan.voted), sorted(plan.pressed)
    lines = [(f"  {plan.opened} of {STUDENTS} students opened page 1; errors {len(plan.errors)}; "
              f"load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1/5/15 min) during the polling window")]
    lines.append(f"  polling: server CPU {polling:.3f} cores for {plan.opened} students over {POLL_WINDOW:.0f} s "
                 f"(idle server {idle:.3f} cores, subtracted) (goal <= 0.3)")
    if delays:
        ordered = sorted(delays)
        lines.append(f"  push: {len(plan.sent)} sends, {len(delays)} sightings, {missed} missed; median "
                     f"{statistics.median(ordered):.2f} s, p90 {pct(ordered, 0.9):.2f} s, p100 {ordered[-1]:.2f} s (goal p100 <= 3 s)")
    else:
        lines.append(f"  push: no student saw any of {len(plan.sent)} sends")
    if sliders:
        lines.append(f"  slider rerun while polling: {len(sliders)} moves, median {statistics.median(sliders):.2f} s, "
                     f"p90 {pct(sliders, 0.9):.2f} s, worst {sliders[-1]:.2f} s (goal p90 <= 1 s)")
    total = sum(counted.values())
    if votes:
        lines.append(f"  votes: {len(pressed)} pressed between {pressed[0] - plan.vote_at:.1f} s and "
                     f"{pressed[-1] - plan.vote_at:.1f} s after the question opened, the last answered at "
                     f"{votes[-1] - plan.vote_at:.1f} s (press to answer: p90 {pct(sorted(plan.vote_s), 0.9):.2f} s, "
                     f"a poll in progress included); the board counts {total} {dict(counted)} "
                     f"(goal: all {STUDENTS} cast within 5 s counted)")
    else:
        lines.append(f"  votes: none cast; the board counts {total}")
    lines.append(f"  (the students' own process used {own1.ru_utime + own1.ru_stime - own0.ru_utime - own0.ru_stime:.1f} s CPU "
                 f"on the same machine; load average after {' / '.join(f'{x:.1f}' for x in os.getloadavg())})")
    if plan.errors:
        lines += [f"    - {e}" for e in sorted(set(plan.errors))[:5]]
    return lines


def pct(ordered: list[float], q: float) -> float:
    """The q-quantile of sorted values, nearest rank."""
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def served_class(url: str) -> list[str]:
    """One lesson on the class server with its board at ``url``."""
    from benchmarks.bench_load import class_server
    from serve.class_server import default_workers

    workers = int(os.environ.get("WORKERS") or default_workers())
    saved = {k: os.environ.get(k) for k in ("CLASS_DB_URL", "CLASS_TEACHER_CODE")}
    os.environ.update(CLASS_DB_URL=url, CLASS_TEACHER_CODE=TEACHER)
    try:
        with cb.ClassBoard(url, teacher_code=TEACHER) as board:
            room = board.open_room(TEACHER)
            with class_server(free_port(), workers) as served:
                warm = protocol.Tab(served.url, "descent", f"lang=zh&room={room}")
                asyncio.run(_visit(warm))  # the teacher's visit: page 1's caches warm
                lines = [f"  {workers} workers behind nginx at {served.url}"]
                return lines + asyncio.run(lesson(served.url, board, room, served.roots))
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


async def _visit(tab: protocol.Tab) -> None:
    try:
        await tab.open()
    finally:
        await tab.close()


def poll_cost() -> tuple[float, float]:
    """(CPU seconds of one run of the bar's fragment above an empty script's, of one lead_state read)."""
    from streamlit.testing.v1 import AppTest

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.sqlite3"
        saved = {k: os.environ.get(k) for k in ("CLASS_DB_URL", "CLASS_TEACHER_CODE")}
        os.environ.update(CLASS_DB_URL=url, CLASS_TEACHER_CODE=TEACHER)
        try:
            with cb.ClassBoard(url, teacher_code=TEACHER) as board:
                room = board.open_room(TEACHER)
                board.send(room, TEACHER, "descent", {"x0": "3", "lr": "0.2"})
                board.open_question(room, TEACHER, QUESTION)
                started = time.process_time()
                for _ in range(POLL_RUNS):
                    board.lead_state(room)
                read = (time.process_time() - started) / POLL_RUNS

                def bar(room: str) -> None:
                    from app import lead

                    lead._poll(room, "noise", False)

                def empty(room: str) -> None:
                    import streamlit as st

                    st.empty()

                costs = {}
                for name, script in (("bar", bar), ("empty", empty)):
                    at = AppTest.from_function(script, args=(room,), default_timeout=60)
                    at.run()  # imports and the first read
                    started = time.process_time()
                    for _ in range(POLL_RUNS):
                        at.run()
                    costs[name] = (time.process_time() - started) / POLL_RUNS
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    return max(costs["bar"] - costs["empty"], 0.0), read


def main() -> list[str]:
    from app import lead

    lines = [(f"{STUDENTS} students on page 1 of one room, polling every {lead.POLL_SECONDS} s "
              f"(the row shared per worker for {lead.STATE_TTL} s); {os.cpu_count()} cores; "
              f"load average at the start {' / '.join(f'{x:.1f}' for x in os.getloadavg())}")]
    per_poll, read = poll_cost()
    lines.append(f"in-process (AppTest): one bar run {per_poll * 1000:.1f} ms CPU (less an empty script's); "
                 f"one lead_state read {read * 1000:.2f} ms CPU, once per worker every {lead.STATE_TTL} s")
    for name in DATABASES:
        lines.append(f"### make class on {name}")
        with ExitStack() as stack:
            if name == "postgresql":
                from tests.pg import PostgresUnavailable, throwaway_cluster

                try:
                    url = stack.enter_context(throwaway_cluster())
                except PostgresUnavailable as why:
                    lines.append(f"  skipped ({why})")
                    continue
            else:
                url = f"sqlite:///{stack.enter_context(tempfile.TemporaryDirectory())}/class.sqlite3"
            lines += served_class(url)
    return lines


if __name__ == "__main__":
    print("\n".join(main()))
