"""Leading the class from the teacher's screen: "Send this to the class", the students' banner and
"follow the teacher", "eyes on me" (freeze), predict-then-reveal votes, and the class race.

Every screen that joined a room polls one small fragment (``lead_bar``, placed by the app's entry
script above every page): it reads the room's lead row (``ClassBoard.lead_state``) through a cache
shared by the whole worker for ``STATE_TTL`` seconds, so sixty students cost one query per worker
every ``STATE_TTL``. Everything shared between students goes through the database (``make class``
runs several worker processes); storage and every check are ``classroom.classboard``'s.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import streamlit as st

from app import classboard
from app.i18n import SETTING_KEYS, lang, t
from app.registry import PAGES
from app.state import keep_param, kept_params, kept_value, widget_key
from classroom import classboard as cb
from classroom import questions as bank

POLL_SECONDS = 2.0  # a student's screen asks this often: with STATE_TTL a push is seen within 2.25 s and a run; 60 cost < 0.3 cores
# The lead row is read at most this often per worker (shared by every session on it): a read costs
# about 0.5 ms, so 4 a second per worker is nothing, and a shorter life leaves a loaded server room under 3 s.
STATE_TTL = 0.25
PROJECTOR_SECONDS = 1.0
CACHE_ROOMS = 64
BAR_KEY = "lead_bar"  # the container's key: its CSS class st-key-lead_bar stays usable while frozen
FOLLOW_KEY = "lead.follow"  # this student follows the teacher: "1", or "" once they stopped
FOLLOW_PARAM = "follow"  # ... kept in every page's URL and a cookie, so a reload keeps following
FOLLOW_CHANGED_KEY = "lead.__follow_changed"
FREEZE_KEY = "lead_freeze"  # the container of the freeze script (hidden: a script takes no room)
SEEN_KEY = "lead.seen"  # the last version this session saw (or followed)
VOTED_KEY = "lead.voted"  # {question id: choice} this session voted
DISMISSED_KEY = "lead.dismissed"  # the revealed question whose result this student closed
SENT_KEY = "lead.sent_note"  # the teacher's last send, to confirm it
PAGE = "lead"  # widget keys
RACE_SHOWN = 10
QUERY_SKIP = ("view",)  # URL parameters that are no page setting (the class page's projector view)

# While frozen: nothing in the main area takes a click except the bar itself; controls are greyed.
FROZEN_CSS = f"""<style>
[data-testid="stMain"] {{pointer-events: none;}}
[data-testid="stMain"] .st-key-{BAR_KEY} {{pointer-events: auto;}}
[data-testid="stMain"] :is(input, textarea, button, [role="slider"], [data-baseweb="select"]):not(.st-key-{BAR_KEY} *)
  {{opacity: .45; filter: grayscale(1);}}
</style>"""

# The pointer is not the only way in: Tab reaches a slider and the arrow keys move it, Enter presses a
# button. ``inert`` takes everything in the main area but the bar out of focus and input. Streamlit
# draws the page's elements after the bar and redraws them on every run, so an observer marks each
# new one while frozen. The script runs in the page's own document (st.html with JavaScript); its
# text differs between frozen and not, so Streamlit runs it again at each change, never on a poll
# that changed nothing. Nodes it marked carry data-lead-frozen, so thawing undoes only its own marks.
FREEZE_JS = """<script>
(() => {{
  const frozen = {frozen};
  const MARK = "data-lead-frozen";
  const set = (node, on) => {{
    if (on && !node.hasAttribute(MARK) && !node.inert) {{ node.inert = true; node.setAttribute(MARK, ""); }}
    if (!on && node.hasAttribute(MARK)) {{ node.inert = false; node.removeAttribute(MARK); }}
  }};
  const apply = () => {{
    const main = document.querySelector('[data-testid="stMain"]');
    if (!main) return;
    const bar = main.querySelector(".st-key-{bar}");
    set(main, !bar);  // no bar yet (a page still drawing): the whole main area waits
    for (let node = bar; node && node !== main; node = node.parentElement) {{
      set(node, false);
      for (const other of node.parentElement.children) if (other !== node) set(other, true);
    }}
  }};
  if (window.leadFreeze) {{ window.leadFreeze.disconnect(); window.leadFreeze = null; }}
  document.querySelectorAll("[" + MARK + "]").forEach((node) => set(node, false));
  if (!frozen) return;
  apply();
  window.leadFreeze = new MutationObserver(apply);
  window.leadFreeze.observe(document.body, {{childList: true, subtree: true}});
}})();
</script>"""
HIDE_FREEZE_CSS = f"<style>.st-key-{FREEZE_KEY} {{display: none;}}</style>"


# ------------------------------------------------------------------------------ reading


@st.cache_data(ttl=STATE_TTL, max_entries=CACHE_ROOMS, show_spinner=False)
def _state(url: str, room: str) -> dict:
    return classboard.class_board().lead_state(room)


@st.cache_data(ttl=STATE_TTL, max_entries=CACHE_ROOMS, show_spinner=False)
def _votes(url: str, room: str, question_id: str) -> dict[str, int]:
    return classboard.class_board().votes(room, question_id)


def lead_state(room: str) -> dict | None:
    """The room's lead row (what was sent, frozen, the question), shared for ``STATE_TTL`` s; None while
    the database cannot be reached (the screen carries on without the bar)."""
    try:
        return _state(cb.default_url(), room)
    except cb.BoardError:
        return None


def vote_counts(room: str, question_id: str) -> dict[str, int] | None:
    try:
        return _votes(cb.default_url(), room, question_id)
    except cb.BoardError:
        return None


def _clean_follow(raw: str) -> str | None:
    return "1" if raw == "1" else None


keep_param(FOLLOW_PARAM, FOLLOW_KEY, _clean_follow)


def following() -> bool:
    """Whether this student follows the teacher: their tick in this session, else the URL's (or, after
    a reload that lost the URL, the cookie's)."""
    return kept_value(FOLLOW_PARAM) == "1"


def forget() -> None:
    """After this session changed the lead row: its next read sees the change at once."""
    _state.clear()
    _votes.clear()


# ------------------------------------------------------------------------------ words


def page_title(page: str) -> str:
    return t(f"page.{page}.title") if any(spec.name == page for spec in PAGES) else page


def param_words() -> dict[str, str]:
    """How a sent setting reads in the banner, by its URL name ({v}: its value)."""
    return {
        "x0": t("lead.param.x0"), "lr": t("lead.param.lr"), "steps": t("lead.param.steps"),
        "iters": t("lead.param.iters"), "solvers": t("lead.param.solvers"), "focus": t("lead.param.focus"),
        "data": t("lead.param.data"), "classes": t("lead.param.classes"), "between": t("lead.param.between"),
        "layers": t("lead.param.layers"), "optimizer": t("lead.param.optimizer"), "epochs": t("lead.param.epochs"),
        "noise_std": t("lead.param.noise_std"),
    }


def _value(raw: str) -> str:
    try:
        number = float(raw)
    except ValueError:
        return raw.replace(",", " / ")
    return f"{number:g}" if math.isfinite(number) else raw


def describe(page: str, query: dict[str, str]) -> str:
    """"1 Gradient descent, x₀ = 3, lr 0.2": the page's title, then each sent setting in words."""
    words = param_words()
    parts = [page_title(page)]
    order = list(words)  # the banner's order (x₀ before lr), not the stored one (alphabetical)
    for name, raw in sorted(query.items(), key=lambda item: order.index(item[0]) if item[0] in order else len(order)):
        if name == "normalise":
            if raw == "1":
                parts.append(t("lead.param.normalise"))
            continue
        template = words.get(name)
        parts.append(template.format(v=_value(raw)) if template else f"{name} = {_value(raw)}")
    return t("lead.list_sep").join(parts)


def choice_words(question: bank.Question) -> dict[str, str]:
    """Each choice of a question in the reader's language."""
    solvers = {s: t(f"descent.solver.{s}") for s in ("sgd", "momentum", "rmsprop", "adam")}
    words = {"yes": t("lead.choice.yes"), "no": t("lead.choice.no"), "same": t("lead.choice.same"),
             "cross_entropy": t("lead.choice.cross_entropy"), "mse": t("lead.choice.mse"),
             "under_100k": t("lead.choice.under_100k"), "100k_to_500k": t("lead.choice.100k_to_500k"),
             "over_500k": t("lead.choice.over_500k"), **solvers}
    return {choice: words.get(choice, choice) for choice in question.choices}


def current_query() -> dict[str, str]:
    """This page's URL settings: the URL without the parameters every page keeps (language, class, nickname)."""
    kept = set(kept_params()) | set(QUERY_SKIP)
    return {name: value for name, value in st.query_params.to_dict().items() if name not in kept}


def open_page(page: str, query: dict[str, str]) -> None:
    """Go to ``page`` with the sent settings: that page's own settings in this session are forgotten
    first, so it reads them from the URL (a page seeds from the URL only what the session lacks)."""
    for key in [k for k in SETTING_KEYS if k.startswith(f"{page}.")]:
        st.session_state.pop(key, None)
    st.switch_page(f"pages/{page}.py", query_params={**query, **kept_params()})


# --------------------------------------------------------------------- the bar on every page


def lead_bar(page: str) -> None:
    """Above every page of a session in a class: the teacher's send and freeze controls (sidebar),
    and the polled banner, freeze and vote. Nothing outside a class."""
    room = classboard.current_room()
    if room is None or st.query_params.get("view") == classboard.PROJECTOR:  # the projector has its own view
        return
    teacher = classboard.teacher_unlocked()
    if teacher:
        teacher_sidebar(room, page)
    st.html(HIDE_FREEZE_CSS)
    with st.container(key=BAR_KEY):
        _poll(room, page, bool(teacher))


@st.fragment(run_every=POLL_SECONDS)
def _poll(room: str, page: str, teacher: bool) -> None:
    """One poll: the banner, the freeze and the question, from the shared cached row."""
    if st.session_state.pop(FOLLOW_CHANGED_KEY, False):
        st.rerun()  # a whole run: every link and the cookie carry the new choice
    state = lead_state(room)
    if state is None:
        return
    with st.container(key=FREEZE_KEY):
        # Always drawn: the unfrozen script is what thaws a screen that was frozen.
        st.html(FREEZE_JS.format(frozen="true" if state["frozen"] and not teacher else "false", bar=BAR_KEY),
                unsafe_allow_javascript=True)
    if state["frozen"]:
        if teacher:
            st.caption("👀 " + t("lead.frozen_teacher"))
        else:
            st.warning(t("lead.frozen"), icon="👀")
            st.html(FROZEN_CSS)
    if state["version"] and not teacher:
        sent_banner(state, page)
    if state["question"] and not teacher:
        question_box(room, state)


def sent_banner(state: dict, page: str) -> None:
    """"The teacher sent: …" with one button to open it; followers are taken there at once."""
    version, target, query = state["version"], state["page"], state["query"]
    seen = st.session_state.setdefault(SEEN_KEY, version)  # a new screen follows what comes next
    if following() and version > seen:
        st.session_state[SEEN_KEY] = version
        open_page(target, query)
    here = target == page and all(st.query_params.get(k) == v for k, v in query.items())
    text_col, go_col = st.columns([4, 1], vertical_alignment="center")
    text_col.info(t("lead.sent", where=describe(target, query)), icon="📣")
    if not here and go_col.button(t("lead.open"), key=widget_key(PAGE, f"__open{version}"), type="primary"):
        st.session_state[SEEN_KEY] = version
        open_page(target, query)
    # The choice lives in session state, the URL and a cookie (``following``): a widget's own value would be
    # dropped by the page switch, and a reload starts a new session.
    st.checkbox(t("lead.follow"), value=following(), key=widget_key(PAGE, "__follow"),
                help=t("lead.follow_help"), on_change=_toggle_follow)


def _toggle_follow() -> None:
    on = bool(st.session_state.get(widget_key(PAGE, "__follow")))
    st.session_state[FOLLOW_KEY] = "1" if on else ""
    if not on:
        st.query_params.pop(FOLLOW_PARAM, None)  # else the URL's follow=1 would still count
    st.session_state[FOLLOW_CHANGED_KEY] = True


def question_box(room: str, state: dict) -> None:
    """The open question with a button per choice (a second vote replaces the first); after the reveal,
    the class's split beside the right answer."""
    question = bank.by_id().get(state["question"])
    if question is None:
        return
    if state["revealed"]:
        if st.session_state.get(DISMISSED_KEY) != question.id:
            revealed(room, question, state["answer"], closable=True)
        return
    with st.container(border=True):
        st.markdown("🗳️ **" + t("lead.question") + "** " + question.prompt(lang()))
        nickname = classboard.remembered_nickname()
        if not nickname:
            nickname = st.text_input(t("classboard.nickname"), key=widget_key(PAGE, "__nickname"),
                                     placeholder=t("classboard.nickname_placeholder"))
        words = choice_words(question)
        mine = st.session_state.get(VOTED_KEY, {}).get(question.id)
        with st.container(horizontal=True):
            for choice, word in words.items():
                if st.button(word, key=widget_key(PAGE, f"__vote_{question.id}_{choice}"),
                             type="primary" if choice == mine else "secondary"):
                    try:
                        classboard.class_board().vote(room, nickname, question.id, choice, client=classboard.client_id())
                    except cb.BoardError as error:
                        st.error(classboard.error_text(error))
                    else:
                        st.session_state.setdefault(VOTED_KEY, {})[question.id] = mine = choice
                        st.session_state[classboard.NICKNAME_KEY] = nickname.strip()
                        forget()
        if mine is not None:
            st.caption(t("lead.your_vote", choice=words[mine]))
        st.caption(t("lead.voters", count=max(state["voters"], 1 if mine else 0)))


def revealed(room: str, question: bank.Question, answer: str | None, *, closable: bool, large: bool = False) -> None:
    """The vote's split beside the right answer, and a link to the page's explanation."""
    counts = vote_counts(room, question.id) or dict.fromkeys(question.choices, 0)
    words = choice_words(question)
    with st.container(border=True):
        st.markdown("🗳️ " + question.prompt(lang()))
        split_col, answer_col = st.columns([3, 2])
        with split_col:
            total = sum(counts.values())
            for choice, word in words.items():
                n = counts.get(choice, 0)
                mark = " ✅" if choice == answer else ""
                st.progress(n / total if total else 0.0, text=t("lead.split_row", choice=word + mark, count=n))
        with answer_col:
            if answer is not None:
                (st.header if large else st.subheader)(t("lead.answer", choice=words.get(answer, answer)))
            st.page_link(f"pages/{question.page}.py", label=t("lead.explain", page=page_title(question.page)),
                         icon="📖", query_params={**question.query, **kept_params()})
        if closable and st.button(t("lead.close"), key=widget_key(PAGE, f"__dismiss_{question.id}")):
            st.session_state[DISMISSED_KEY] = question.id
            st.rerun(scope="fragment")


# -------------------------------------------------------------------- the teacher, on any page


def teacher_sidebar(room: str, page: str) -> None:
    """"Send this to the class" (this page and its URL settings) and "eyes on me", in the sidebar."""
    code = st.session_state.get(classboard.TEACHER_KEY)
    state = lead_state(room) or {"frozen": False}
    with st.sidebar.container(border=True):
        st.markdown("👩‍🏫 " + t("lead.teacher_title", room=room))
        if st.button(t("lead.send"), key=widget_key(PAGE, "__send"), icon="📣", type="primary", width="stretch"):
            try:
                version = classboard.class_board().send(room, code, page, current_query())
            except cb.BoardError as error:
                st.error(classboard.error_text(error))
            else:
                forget()
                st.session_state[SENT_KEY] = (version, describe(page, current_query()))
        note = st.session_state.get(SENT_KEY)
        if note:
            st.caption(t("lead.sent_done", version=note[0], where=note[1]))
        frozen = state["frozen"]
        if st.button(t("lead.unfreeze" if frozen else "lead.freeze"), key=widget_key(PAGE, "__freeze"),
                     icon="▶️" if frozen else "👀", width="stretch"):
            try:
                classboard.class_board().freeze(room, code, not frozen)
            except cb.BoardError as error:
                st.error(classboard.error_text(error))
            else:
                forget()
                st.rerun()


def question_label(question: bank.Question) -> str:
    return f"{page_title(question.page)} · {question.prompt(lang())}"


def question_controls(code: str, room: str) -> None:
    """The class page's "Predict, then reveal": pick a question, ask the class, watch the count, reveal."""
    st.markdown("#### 🗳️ " + t("lead.questions_title"))
    try:
        found = bank.questions()
    except bank.BankError as error:
        st.error(t("lead.bank_error", error=str(error)))
        return
    by_id = {q.id: q for q in found}
    state = lead_state(room) or {"question": None, "revealed": False, "voters": 0, "answer": None}
    pick_col, ask_col = st.columns([4, 1], vertical_alignment="bottom")
    labels = {qid: question_label(q) for qid, q in by_id.items()}  # made now: in the reader's language
    chosen = pick_col.selectbox(t("lead.pick"), list(by_id), format_func=labels.get,
                                key=widget_key(PAGE, "question"))
    if ask_col.button(t("lead.ask"), key=widget_key(PAGE, "__ask"), icon="❓", type="primary"):
        try:
            classboard.class_board().open_question(room, code, chosen)
        except cb.BoardError as error:
            st.error(classboard.error_text(error))
        else:
            forget()
            state = lead_state(room) or state
    current = by_id.get(state["question"] or "")
    if current is None:
        return
    if not state["revealed"]:
        st.info(t("lead.asking", question=current.prompt(lang()), count=state["voters"]), icon="🗳️")
        if st.button(t("lead.reveal"), key=widget_key(PAGE, "__reveal"), icon="🎉"):
            try:
                with st.spinner(t("lead.computing")):
                    classboard.class_board().reveal(room, code, current.id)
            except cb.BoardError as error:
                st.error(classboard.error_text(error))
            else:
                forget()
                st.rerun()
        return
    revealed(room, current, state["answer"], closable=False)


# ------------------------------------------------------------------- the projector's question


@st.fragment(run_every=PROJECTOR_SECONDS)
def projector_question(room: str) -> None:
    """The open question in large type with the count of votes so far (never their split before the
    reveal); after it, the split beside the right answer."""
    state = lead_state(room)
    if state is None or not state["question"]:
        return
    question = bank.by_id().get(state["question"])
    if question is None:
        return
    if state["revealed"]:
        revealed(room, question, state["answer"], closable=False, large=True)
        return
    st.header("🗳️ " + question.prompt(lang()))
    st.markdown(" · ".join(choice_words(question).values()))
    st.metric(t("lead.votes_so_far"), state["voters"])


# --------------------------------------------------------------------------- the race


def race_post_descent(values: dict[str, Any], solver: str) -> None:
    """Page 1: post this run (the focused solver with the page's settings) to the class race."""
    race_post("descent", bank.descent_race_settings(values, solver))


def race_post_regression(values: dict[str, Any]) -> None:
    """Page 3: post this run on the example data (lowest error after its iterations)."""
    if values.get("data") != "example":
        st.caption("🏁 " + t("lead.race_example_only"))
        return
    race_post("regression", {k: values[k] for k in bank.REGRESSION_RACE_KEYS})


def _race_numbers(race: str, settings: dict) -> tuple[float, int | None]:
    if race == "descent":
        _, final, steps = bank.descent_race_run(settings)
    else:
        from app.data_source import example_points

        _, final, steps = bank.regression_race_run(example_points(), settings)
    return final, steps


def race_post(race: str, settings: dict) -> None:
    """"Post my run to the class race": the numbers are computed here from the settings, never typed."""
    room = classboard.current_room()
    if room is None:
        return
    with st.container(border=True):
        title = {"descent": t("lead.race_title_descent", room=room), "regression": t("lead.race_title_regression", room=room)}
        st.markdown("🏁 " + title[race])
        nickname = classboard.remembered_nickname()
        if not nickname:
            nickname = st.text_input(t("classboard.nickname"), key=widget_key(PAGE, f"__race_nickname_{race}"),
                                     placeholder=t("classboard.nickname_placeholder"))
        if not st.button(t("lead.race_post"), key=widget_key(PAGE, f"__race_{race}"), icon="🏁"):
            return
        final, steps = _race_numbers(race, settings)
        if not math.isfinite(final):
            st.warning(t("lead.race_diverged"))
            return
        try:
            classboard.class_board().post_descent(room, nickname, settings, final, steps, race=race,
                                                  client=classboard.client_id())
        except cb.BoardError as error:
            st.error(classboard.error_text(error))
            return
        st.session_state[classboard.NICKNAME_KEY] = nickname.strip()
        _race.clear()
        st.success(t("lead.race_posted", loss=f"{final:.4g}",
                     steps="—" if steps is None else steps))


@st.cache_data(ttl=1.0, max_entries=CACHE_ROOMS, show_spinner=False)
def _race(url: str, room: str, race: str) -> pd.DataFrame:
    return classboard.class_board().descents(room, race=race)


@st.cache_resource(max_entries=classboard.VIEWS_CACHE, ttl=classboard.VIEWS_TTL, show_spinner=False)
def race_view(key: str, lang_code: str, _runs: pd.DataFrame) -> tuple[Any, pd.DataFrame, pd.DataFrame]:
    """The race chart (every path on the curve) and both leaderboards, once per set of runs and language."""
    from app.charts import race as charts

    return (charts.race_chart(_runs, solver_words()), cb.race_leaderboard(_runs),
            cb.race_leaderboard(_runs, "steps_to_valley"))


def solver_words() -> dict[str, str]:
    return {s: t(f"descent.solver.{s}") for s in ("sgd", "momentum", "rmsprop", "adam")}


def board_table(ranked: pd.DataFrame, race: str, most: int) -> pd.DataFrame:
    shown = ranked.head(most)
    words = solver_words()
    table = {t("lead.col.rank"): shown["rank"], t("classboard.col.nickname"): shown["nickname"],
             (t("lead.col.loss_descent") if race == "descent" else t("lead.col.loss_regression")): shown["final_loss"].map(lambda v: f"{v:.4g}"),
             t("lead.col.steps"): shown["steps_to_valley"].map(lambda v: "—" if pd.isna(v) else str(int(v)))}
    if race == "descent":
        table[t("lead.col.solver")] = [words.get(s.get("solver"), s.get("solver")) for s in shown["settings"]]
    table[t("lead.col.lr")] = [f"{s.get('lr', float('nan')):g}" for s in shown["settings"]]
    return pd.DataFrame(table)


@st.fragment(run_every=2)
def race_section(room: str, projector: bool) -> None:
    """Page 1's race: every posted path on x²·sin x, by solver, and the two leaderboards; then page 3's."""
    try:
        runs = _race(cb.default_url(), room, "descent")
        fits = _race(cb.default_url(), room, "regression")
    except cb.BoardError as error:
        classboard.show_read_error(error)
        return
    if runs.empty and fits.empty:
        if not projector:
            st.caption("🏁 " + t("lead.race_empty"))
        return
    if not runs.empty:
        st.subheader("🏁 " + t("lead.race_heading", count=len(runs)))
        chart, lowest, fastest = race_view(classboard.ids_key(room, runs), lang(), runs)
        from app.charts import race as charts
        from app.vega import show as show_vega

        spec, data = chart
        show_vega(charts.for_projector(spec) if projector else spec, data)
        low_col, fast_col = st.columns(2)
        with low_col:
            st.markdown("**" + t("lead.lowest") + "**")
            show_table(board_table(lowest, "descent", RACE_SHOWN), projector)
        with fast_col:
            st.markdown("**" + t("lead.fastest") + "**")
            if fastest.empty:
                st.caption(t("lead.none_settled"))
            else:
                show_table(board_table(fastest, "descent", RACE_SHOWN), projector)
    if not fits.empty:
        st.subheader("📈 " + t("lead.race_regression", count=len(fits)))
        ranked = cb.race_leaderboard(fits)
        table = board_table(ranked, "regression", RACE_SHOWN)
        table[t("lead.col.iters")] = [str(s.get("iters", "")) for s in ranked.head(RACE_SHOWN)["settings"]]
        show_table(table, projector)


def show_table(table: pd.DataFrame, projector: bool) -> None:
    """A leaderboard: plain large type on the projector, a scrollable table on a screen."""
    if projector:
        st.table(table, hide_index=True)
    else:
        st.dataframe(table, hide_index=True, width="stretch")
