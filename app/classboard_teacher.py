"""The class board's teacher controls: the passcode, then starting and closing a class, hiding an
entry, renaming or removing a student and exporting the handwriting. The class page places them (``teacher_section``); the code
stays in the session only (``classboard.TEACHER_KEY``), never in a URL; a reload unlocks again
from a signed token in a cookie (``classboard.restore_teacher``).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from app import class_finetune, classboard, lead
from app.i18n import t
from app.state import widget_key
from classroom import classboard as cb

PAGE = classboard.PAGE  # the widget keys are the class page's
EXPORT_KEY = "classboard.__export_zip"  # the zip the teacher prepared: (room, bytes)


def teacher_section(room: str | None) -> None:
    """Passcode, then: start or close a class, hide an entry, export the collection."""
    unlocked = classboard.teacher_unlocked()  # also ends an unlock restored from a token that expired
    with st.expander(t("classboard.teacher"), icon="👩‍🏫", expanded=unlocked):
        code = st.session_state.get(classboard.TEACHER_KEY)
        if not code:
            with st.form(widget_key(PAGE, "__unlock")):
                typed = st.text_input(t("classboard.teacher_code"), type="password", key=widget_key(PAGE, "__passcode"))
                pressed = st.form_submit_button(t("classboard.unlock"), icon="🔓")
            if pressed:
                try:
                    classboard.unlock(typed)
                except cb.BoardError as error:
                    st.error(classboard.error_text(error))
                    return
                st.rerun()
            return
        teacher_controls(code, room)


def teacher_controls(code: str, room: str | None) -> None:
    start, lock = st.columns(2)
    if start.button(t("classboard.start"), key=widget_key(PAGE, "__start"), type="primary", icon="🚀"):
        try:
            new = classboard.class_board().open_room(code)
            classboard.join(new)
        except cb.BoardError as error:
            st.error(classboard.error_text(error))
        else:
            st.rerun()
    lock.button(t("classboard.lock"), key=widget_key(PAGE, "__lock"), on_click=classboard.lock, icon="🔒")
    try:
        rooms = classboard.class_board().rooms(code)
    except cb.BoardError as error:
        st.error(classboard.error_text(error))
        return
    if not rooms.empty:
        st.dataframe(pd.DataFrame({
            t("classboard.col.room"): rooms["code"],
            t("classboard.col.state"): [t("classboard.closed") if pd.notna(c) else t("classboard.open")
                                        for c in rooms["closed"]],
            t("classboard.runs"): rooms["runs"],
            t("classboard.drawings"): rooms["drawings"],
        }), hide_index=True, width="stretch")
    if room is None:
        st.caption(t("classboard.teacher_no_room"))
        return
    st.markdown(t("classboard.this_room", room=room))
    close_col, export_col = st.columns(2)
    is_open = classboard.room_open(room)
    if close_col.button(t("classboard.close" if is_open else "classboard.reopen"), key=widget_key(PAGE, "__close"),
                        icon="⏹️" if is_open else "▶️"):
        try:
            board = classboard.class_board()
            (board.close_room if is_open else board.reopen_room)(room, code)
        except cb.BoardError as error:
            st.error(classboard.error_text(error))
        else:
            classboard.forget_reads()
            st.rerun()
    export_section(export_col, code, room)
    hide_section(code, room)
    students_section(code, room)
    # Further tools for the room go here, each one call.
    class_finetune.learn_section(room)
    lead.question_controls(code, room)


def export_section(where: Any, code: str, room: str) -> None:
    """Prepare the zip of the room's drawings on request, then offer it for download; beside it, the
    room's runs and its leaderboard as CSV."""
    if where.button(t("classboard.export"), key=widget_key(PAGE, "__export"), icon="📦"):
        try:
            st.session_state[EXPORT_KEY] = (room, classboard.class_board().export(room, code))
        except cb.BoardError as error:
            st.error(classboard.error_text(error))
    ready = st.session_state.get(EXPORT_KEY)
    if ready and ready[0] == room:
        where.download_button(t("classboard.download"), data=ready[1], file_name=f"class-{room}-handwriting.zip",
                              mime="application/zip", key=widget_key(PAGE, "__download"), on_click="ignore", icon="⬇️")
    try:
        runs = classboard.runs(room, include_hidden=True)
    except cb.BoardError:
        return  # the hide section below says the board is unavailable
    if not runs.empty:
        where.download_button(t("classboard.download_runs"), data=lambda: classboard.runs_csv(runs),
                              file_name=f"class-{room}-runs.csv", mime="text/csv", key=widget_key(PAGE, "__runs_csv"),
                              on_click="ignore", icon="📄")
        where.download_button(t("classboard.download_leaderboard"), data=lambda: classboard.leaderboard_csv(runs),
                              file_name=f"class-{room}-leaderboard.csv", mime="text/csv",
                              key=widget_key(PAGE, "__leaderboard_csv"), on_click="ignore", icon="🏆")


def entry_label(kind: str, row: Any) -> str:
    what = (t("classboard.entry_run", accuracy=f"{row.accuracy:.2%}") if kind == "run"
            else t("classboard.entry_drawing", label=int(row.label)))
    hidden = " · " + t("classboard.hidden") if row.hidden else ""
    return f"#{row.id} · {row.nickname} · {what}{hidden}"


def hide_section(code: str, room: str) -> None:
    """Hide an entry from the board and the export (or show it again); nothing is deleted."""
    try:
        runs, drawings = classboard.runs(room, include_hidden=True), classboard.drawings(room, include_hidden=True)
    except cb.BoardError as error:
        st.error(classboard.error_text(error))
        return
    choices = {row.id: entry_label("run", row) for row in runs.itertuples()}
    choices |= {row.id: entry_label("drawing", row) for row in drawings.itertuples()}
    if not choices:
        return
    hidden = set(runs["id"][runs["hidden"]]) | set(drawings["id"][drawings["hidden"]])
    pick_col, act_col = st.columns([3, 1], vertical_alignment="bottom")
    entry = pick_col.selectbox(t("classboard.entry"), sorted(choices, reverse=True), format_func=choices.get,
                               key=widget_key(PAGE, "__entry"))
    showing = entry in hidden
    if act_col.button(t("classboard.show" if showing else "classboard.hide"), key=widget_key(PAGE, "__hide"),
                      icon="👁️" if showing else "🙈"):
        try:
            classboard.class_board().hide(room, int(entry), code, hidden=not showing)
        except cb.BoardError as error:
            st.error(classboard.error_text(error))
        else:
            classboard.forget_reads()
            st.rerun()


def student_choice(row: Any) -> str:
    """A student in the picker: the nickname, how many entries, and whether they are off the board."""
    text = t("classboard.student_choice", nickname=row.nickname, entries=int(row.entries))
    removed = row.entries > 0 and row.hidden == row.entries
    return f"{text} · {t('classboard.student_removed')}" if removed else text


def students_section(code: str, room: str) -> None:
    """Rename a student (everything of theirs follows) or take them off the board (hidden, so not
    counted; nothing is deleted), or put them back."""
    try:
        students = classboard.class_board().students(room, code)
    except cb.BoardError as error:
        st.error(classboard.error_text(error))
        return
    if students.empty:
        return
    st.markdown(f"**{t('classboard.students_title')}**")
    st.caption(t("classboard.students_note"))
    rows = {row.nickname: row for row in students.itertuples()}
    shown = {name: student_choice(row) for name, row in rows.items()}  # worded now, in the page's language
    name = st.selectbox(t("classboard.student_pick"), list(rows), format_func=shown.__getitem__,
                        key=widget_key(PAGE, "__student"))
    row = rows[name]
    removed = row.entries > 0 and row.hidden == row.entries
    new_col, rename_col, remove_col = st.columns([2, 1, 1], vertical_alignment="bottom")
    new_name = new_col.text_input(t("classboard.new_nickname"), max_chars=cb.NICKNAME_MAX,
                                  key=widget_key(PAGE, "__new_nickname"))
    rename = rename_col.button(t("classboard.rename"), key=widget_key(PAGE, "__rename"), icon="✏️")
    remove = bool(row.entries) and remove_col.button(
        t("classboard.restore_student" if removed else "classboard.remove_student"),
        key=widget_key(PAGE, "__remove"), icon="↩️" if removed else "🚫")
    if not (rename or remove):
        return
    try:
        board = classboard.class_board()
        if rename:
            board.rename_student(room, name, new_name, code)
        else:
            board.remove_student(room, name, code, removed=not removed)
    except cb.BoardError as error:
        st.error(classboard.error_text(error))
    else:
        classboard.forget_reads()
        st.rerun()
