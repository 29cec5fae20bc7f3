"""Lesson 1 page speed: script time of a rerun after a slider moves (goal: well under 0.1 s).

The page script is timed from inside the AppTest run (so the figure is the script's own work,
not AppTest's polling), while sliders move as a student would move them. The whole app's
rerun as AppTest sees it (navigation + page + AppTest overhead) is reported beside it.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUDGET = 0.1  # seconds of script time per rerun: the "well under a tenth of a second"
# (widget, values) a student might drag through: start, learning rate, number of steps
MOVES = [
    ("slider", "x0", [-6.0, -2.5, 1.0, 4.2, 7.5, -9.1, 0.4, 3.0]),
    ("select_slider", "lr", [0.001, 0.01, 0.1, 0.5, 0.02, 0.05]),
    ("slider", "steps", [10, 120, 300, 60, 40]),
]


def _timed_page() -> None:
    """AppTest script: run the page; keep its wall-clock and CPU seconds (the CPU time of the
    script's thread does not count the other programs sharing the machine)."""
    import runpy
    import time

    import streamlit as st

    started, cpu = time.perf_counter(), time.thread_time()
    runpy.run_path(st.session_state["__page"], run_name="__page__")
    st.session_state["__seconds"] = (time.perf_counter() - started, time.thread_time() - cpu)


def _drag(at, rounds: int) -> list[tuple[float, float]]:
    """Move each slider through its values ``rounds`` times; (wall, CPU) seconds of every rerun."""
    times = []
    for _ in range(rounds):
        for kind, name, values in MOVES:
            for v in values:
                getattr(at, kind)(key=f"descent.{name}").set_value(v).run()
                assert not at.exception, [e.value for e in at.exception]
                times.append(at.session_state["__seconds"])
    return times


def main() -> list[str]:
    sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
    from conftest import open_page
    from streamlit.testing.v1 import AppTest

    lines = []
    for lang in ("zh", "en"):
        at = AppTest.from_function(_timed_page, default_timeout=120)
        at.session_state["__page"] = str(ROOT / "pages" / "descent.py")
        at.query_params["lang"] = lang
        at.run()
        first = at.session_state["__seconds"][0]
        times = _drag(at, rounds=2)
        for label, series in (("wall", [w for w, _ in times]), ("CPU", [c for _, c in times])):
            median = statistics.median(series)
            lines.append(
                f"descent page script {label} time per rerun after a slider move ({lang}, {len(series)} reruns): "
                f"median {median * 1000:.1f} ms, 90th pct {sorted(series)[int(0.9 * len(series))] * 1000:.1f} ms, "
                f"max {max(series) * 1000:.1f} ms = {median / BUDGET:.2f}x of the 0.1 s budget"
            )
        lines.append(f"  (first run in a fresh session, {lang}: {first * 1000:.0f} ms wall, imports included)")

    at = open_page("pages/descent.py", lang="en", timeout=120)
    walls = []
    for v in MOVES[0][2]:
        started = time.perf_counter()
        at.slider(key="descent.x0").set_value(v).run()
        walls.append(time.perf_counter() - started)
    lines.append(
        f"whole-app AppTest rerun after moving x0 (navigation + page + AppTest polling, {len(walls)} reruns): "
        f"median {statistics.median(walls) * 1000:.1f} ms"
    )
    return lines


if __name__ == "__main__":
    print("\n".join(main()))
