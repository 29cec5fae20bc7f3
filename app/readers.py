"""Which network reads a drawing: the draw page's choice, once, for one digit and for a whole number.

The student picks a network (the course's, the best, the robust, their own 5c network or the class's
fine-tuned one); one that diverged or hardly beats guessing never reads silently: another reads, and
the page says why (``canvas.reader_problem``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import streamlit as st

from app import class_finetune, classboard, ui
from app import mnist_widgets as mw
from lessons import canvas, mlp, mnist

MODEL_NAMES = {name: f"draw.model.{name}" for name in canvas.READERS}


def preset_model(name: str) -> Any:
    """The class's model for preset ``name``: trained once per server on first need, with a progress bar."""
    return ui.trained_with_bar(mlp.preset_for(name, ui.mnist_data()), "draw.training", model=ui.t(MODEL_NAMES[name]))


def reading_model(p: ui.Page) -> tuple[Any, str]:
    """The network chosen; the one that reads, and its name, saying why it is another (``canvas.reader_problem``)."""
    st.radio(ui.t("draw.model_choice"), canvas.READERS, format_func={m: ui.t(k) for m, k in MODEL_NAMES.items()}.get,
             key=p.key("model"), horizontal=True)
    if (choice := p["model"]) == canvas.OWN:
        trained = st.session_state.get(ui.SESSION_MODEL)
        problem = canvas.problem_of(trained, bool((st.session_state.get(mw.SESSION_MODEL_STATUS) or {}).get("diverged")))
    elif choice == canvas.CLASS:  # the class's fine-tuned network, once its teacher made one; else the default reads
        trained, problem = class_finetune.class_model(classboard.current_room()), None
        if trained is None:
            st.info(ui.t("finetune.draw_none", model=ui.t(MODEL_NAMES[mlp.DRAW_DEFAULT])))
            choice, trained = mlp.DRAW_DEFAULT, preset_model(mlp.DRAW_DEFAULT)
    else:
        trained = preset_model(choice)
        problem = canvas.problem_of(trained)
    if problem is not None:
        accuracy = getattr(trained, "accuracy", None)
        (st.info if problem == "none" else st.warning)(ui.t(
            f"draw.model_problem.{problem}", model=ui.t(MODEL_NAMES[canvas.FALLBACK_READER]),
            accuracy=f"{accuracy:.1%}" if problem == "chance" else ""))
        choice, trained = canvas.FALLBACK_READER, preset_model(canvas.FALLBACK_READER)
    st.caption("🧠 " + ui.t("draw.model_own" if choice == canvas.OWN else "draw.model_reading", model=ui.t(MODEL_NAMES[choice]),
                            accuracy=f"{trained.accuracy:.1%}", seconds=f"{trained.seconds:.0f}"))
    if trained.source == mnist.FALLBACK_SOURCE:
        st.warning(ui.t("draw.fallback"))
    return trained, choice


def probabilities(trained: Any, name: str, image: np.ndarray) -> np.ndarray:
    """The digit probabilities of ``image``, never NaN: a 5c model may blow up on just this drawing."""
    result = mlp.predict_proba(trained.model, image)[0]
    if not canvas.probabilities_broken(result) or name == canvas.FALLBACK_READER:
        return result
    st.warning(ui.t("draw.model_problem.nan", model=ui.t(MODEL_NAMES[canvas.FALLBACK_READER])))
    return mlp.predict_proba(preset_model(canvas.FALLBACK_READER).model, image)[0]


def batch_reader(trained: Any, name: str) -> Callable[[np.ndarray], np.ndarray]:
    """(n, 28, 28) images to (n, 10) probabilities by the chosen network, for weighing where a number is
    cut (``segment.segment_digits``); where it gives NaN on some piece, the fallback network judges."""
    def read(images: np.ndarray) -> np.ndarray:
        result = mlp.predict_proba(trained.model, images)
        if name == canvas.FALLBACK_READER or not any(canvas.probabilities_broken(row) for row in result):
            return result
        return mlp.predict_proba(preset_model(canvas.FALLBACK_READER).model, images)
    return read
