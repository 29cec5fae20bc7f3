"""Play, Pause and step-by-step for a page whose experiment unfolds over steps (descent, the regression replay).

``ui.player(p, part, *args, step_key=...)`` runs ``part(p, play, *args)`` as the page's fragment. While
Play is on, the fragment reruns on a clock, one frame a run, and ``play.step(last)`` moves the step shown
(kept under ``step_key``) a frame further; the last frame, or Pause, stops the clock with a whole-page run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import streamlit as st

from app.i18n import t
from app.state import Page, fragment
from lessons.regression import sample_iterations

FRAME_SECONDS = (1.0, 0.5, 0.25, 0.1)  # the seconds per frame of play speeds 1 (slowest) to 4


def play_steps(last: int, most: int = 120) -> np.ndarray:
    """The step numbers a play visits from 0 to ``last``: every step when there are few, else about
    ``most`` of them, dense at the start where descent moves most and sparser in the long tail."""
    return sample_iterations(last, most)


def next_step(current: int, stops: Sequence[int] | np.ndarray) -> int | None:
    """The play's next step after ``current`` (None once it has shown the last one)."""
    stops = np.asarray(stops)
    later = stops[stops > current]
    return int(later[0]) if later.size else None


def frame_seconds(speed: int) -> float:
    """Seconds per frame at play speed 1 … len(FRAME_SECONDS)."""
    if not 1 <= speed <= len(FRAME_SECONDS):
        raise ValueError(f"speed must be 1 … {len(FRAME_SECONDS)}")
    return FRAME_SECONDS[speed - 1]


class Player:
    """One run of a page's Play state: whether it plays, and the step shown (``step_key`` in session state).

    ``clock``: whether this fragment run was set to rerun every frame (Play was on at the last whole-page run).
    """

    def __init__(self, p: Page, step_key: str, clock: bool) -> None:
        self.p = p
        self.step_key = step_key
        self.playing_key = p.key("__playing")
        self.clock = clock

    @property
    def playing(self) -> bool:
        return bool(st.session_state.get(self.playing_key, False))

    def step(self, last: int) -> int:
        """The step to show in this run, at most ``last``: one frame further while playing (the last frame stops it)."""
        k = min(st.session_state.get(self.step_key, 0), last)
        if self.playing:
            following = next_step(k, play_steps(last))
            k = last if following is None else following
            st.session_state[self.playing_key] = k < last
        st.session_state[self.step_key] = k
        return k

    def toggle(self, last: int) -> None:
        """Play starts from the beginning (or from the step shown, if it is not the end); Pause stops."""
        playing = not self.playing
        st.session_state[self.playing_key] = playing
        if playing and st.session_state.get(self.step_key, 0) >= last:
            st.session_state[self.step_key] = 0

    def advance(self) -> None:
        """One step further (a "next step" button)."""
        st.session_state[self.step_key] = st.session_state.get(self.step_key, 0) + 1

    def restart(self) -> None:
        """Back to step 0, stopped."""
        st.session_state[self.step_key] = 0
        st.session_state[self.playing_key] = False

    def controls(self, last: int, texts: Mapping[str, str], *, disabled: bool = False, width: int = 120) -> None:
        """The Play/Pause button and the speed beside it. ``texts``: the page's string keys for
        "play", "pause" and "speed_value" (a speed's label, with {n})."""
        st.button(t(texts["pause"] if self.playing else texts["play"]), key=self.p.key("__play"), type="primary",
                  on_click=self.toggle, args=(last,), disabled=disabled)
        st.select_slider(t(texts["speed"]), options=[1, 2, 3, 4], key=self.p.key("speed"), label_visibility="collapsed",
                         format_func=lambda v: t(texts["speed_value"], n=v), width=width)


def player(p: Page, part: Callable[..., Any], *args: Any, step_key: str) -> None:
    """Run ``part(p, play, *args)`` as the page's fragment (``ui.fragment``: the URL follows every run),
    rerun every frame while Play is on; Play or Pause pressed starts or stops that clock with a whole-page run."""
    speed = st.session_state.setdefault(p.key("speed"), 2)
    clock = bool(st.session_state.get(p.key("__playing"), False))
    fragment(_framed, run_every=frame_seconds(speed) if clock else None, key=p.key("__experiment"))(
        p, part, Player(p, step_key, clock), *args)


def _framed(p: Page, part: Callable[..., Any], play: Player, *args: Any) -> None:
    if play.playing != play.clock:
        st.rerun()  # Play or Pause pressed: the frame clock starts or stops with a whole-page run
    part(p, play, *args)
    if play.clock and not play.playing:
        st.rerun()  # the last frame is drawn: stop the clock
