"""Widget extremes: every slider, number input, select slider and select box of every page,
pushed one at a time to its minimum and its maximum, never raises."""

import pytest
from conftest import open_page
from streamlit.testing.v1.element_tree import TESTING_KEY

from app import ui
from app.i18n import STRINGS


def set_to_option(widget, index: int) -> None:
    """Pick an option by position. AppTest maps a value back through the page's format_func,
    which expects a raw option; the sweep only knows the displayed labels, so it sends a label
    with an identity formatter and lets the app translate it back, as the browser does."""
    widget.root.session_state[TESTING_KEY][widget.id] = lambda v: v
    widget.set_value(widget.options[index])


def extremes(at):
    """(description, action) pairs that push one widget to one end of its range."""
    for w in at.slider:
        for end in ("min", "max"):
            target = getattr(w, end)
            if isinstance(w.value, (tuple, list)):
                yield f"slider {w.key or w.label} {end}", (lambda w=w, t=target: w.set_range(t, t))
            else:
                yield f"slider {w.key or w.label} {end}", (lambda w=w, t=target: w.set_value(t))
    for w in at.number_input:
        for end in ("min", "max"):
            target = getattr(w, end)
            if target is not None:
                yield f"number {w.key or w.label} {end}", (lambda w=w, t=target: w.set_value(t))
    for w in [*at.select_slider, *at.selectbox]:
        if w.key == ui.LANG_KEY or not w.options:
            continue
        for index, end in ((0, "first"), (-1, "last")):
            yield f"{w.type} {w.key or w.label} {end}", (lambda w=w, i=index: set_to_option(w, i))


@pytest.mark.slow
@pytest.mark.parametrize("path", [spec.path for spec in ui.PAGES])
def test_every_widget_at_its_extremes(path):
    at = open_page(path, lang="en", timeout=300)
    caught = STRINGS["app.error_generic"]["en"]
    assert not at.exception
    plan = [desc for desc, _ in extremes(at)]
    for desc in plan:
        # Re-find the widget on the current tree: earlier pushes can change what the page shows.
        action = dict(extremes(at)).get(desc)
        if action is None:
            continue
        action()
        at.run()
        assert not at.exception, f"{path}: {desc}: {[e.value for e in at.exception]}"
        assert caught not in [e.value for e in at.error], f"{path}: {desc}: an error was caught (see the log)"
