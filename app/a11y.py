"""Fixes to Streamlit's markup that its own elements cannot be asked for."""

from __future__ import annotations

import json

import streamlit as st

from app.i18n import t

# Series told apart by colour (lesson 1's solvers, the class board's optimizers): Okabe and Ito's
# vermillion and blue with a bluish green and a violet, every pair far apart under deuteranopia and
# protanopia too (tests/test_a11y.py simulates both), each at least 3:1 against the light and the dark
# theme's background, so no theme needs its own. Shape and dash tell them apart without colour.
SERIES_COLORS = {"sgd": "#d55e00", "momentum": "#4b49ff", "rmsprop": "#0072b2", "adam": "#1aa589"}
SERIES_SHAPES = {"sgd": "circle", "momentum": "square", "rmsprop": "triangle-up", "adam": "diamond"}
SERIES_DASHES = {"sgd": [1, 0], "momentum": [8, 4], "rmsprop": [2, 3], "adam": [8, 3, 2, 3]}
# A series outside those four (a name posted to the class board by hand): a neutral grey, as bright
# against both backgrounds, and a shape of its own.
OTHER_COLOR, OTHER_SHAPE = "#8a8f98", "cross"
# Marks that must show on both themes (a valley marker, a reference line): 3:1 against both backgrounds.
MARK_GREY = "#8a8f98"

# A chart's text mark named with this prefix (Vega-Lite's layer ``name``) is drawn in the page's text
# colour, on either theme: a number printed beside a bar, on the chart's background.
PAGE_TEXT = "page_text"

# A wide formula (KaTeX's display block) scrolls sideways, but only a mouse can scroll it: a keyboard
# reaches a scrolling region only if it can take the focus. Every formula, now and later, gets one; so
# does the sidebar, which scrolls on a 768 px classroom screen.
# The chosen option of a segmented control or pills is drawn in the primary colour on a tint of it: 4.4:1
# on the light theme. In the theme's text colour it passes on both themes; the tint and border still mark it.
# Streamlit's chart theme greys axis, legend and title text to #808495: 3.7:1 on the light theme. In the
# page's own text colour (faded a little), chart text passes on both themes, switching with them.
# A button's label wraps instead of ending in "…" ("Download the example CSV (edit it and upload it b…",
# "Reset to de…" in large type): a label cut short no longer says what the button does.
_FOCUSABLE_FORMULAS = """<style>
button:is([data-variant="segmented_control"], [data-variant="pills"]):is([aria-checked="true"], [aria-pressed="true"])
  { color: inherit !important; }
[data-testid^="stBaseButton-primary"] { color: var(--dl-page-background, #fffdf8) !important; }
.stVegaLiteChart :is(.role-axis-label, .role-axis-title, .role-legend-label, .role-legend-title,
  .role-title-text, .role-title-subtitle) text { fill: currentColor; fill-opacity: .8; }
.stVegaLiteChart g[class*="page_text"] text { fill: currentColor; }
[data-testid^="stBaseButton"] :is(p, div) { white-space: normal !important; text-overflow: clip !important; overflow: visible !important; }
[data-testid^="stBaseButton"] { height: auto !important; }
</style><script>
(() => {
  const doc = window.document;
  if (doc.__formulasFocusable) return;
  const mark = () => doc.querySelectorAll('.katex-display:not([tabindex])').forEach((el) => {
    el.setAttribute('tabindex', '0');
    el.setAttribute('role', 'group');
    const tex = el.querySelector('annotation[encoding="application/x-tex"]');
    if (tex) el.setAttribute('aria-label', tex.textContent);
  });
  const sidebar = () => doc.querySelectorAll('[data-testid="stSidebarContent"]:not([tabindex])')
    .forEach((el) => el.setAttribute('tabindex', '0'));
  // A primary button's text in the page's background colour: white on the dark theme's light orange was 2.3:1.
  const background = () => {
    const app = doc.querySelector('[data-testid="stApp"]');
    if (app) doc.documentElement.style.setProperty('--dl-page-background', getComputedStyle(app).backgroundColor);
  };
  new MutationObserver(() => { mark(); sidebar(); background(); }).observe(doc.body, {childList: true, subtree: true});
  mark();
  sidebar();
  background();
  doc.__formulasFocusable = true;
})();
</script>"""


def focusable_formulas(where=None) -> None:
    """Let the keyboard reach (and scroll) every wide formula and the sidebar; draw a chosen option, a
    primary button's text and chart text in colours that pass 4.5:1 on both themes."""
    (where or st.sidebar).html(_FOCUSABLE_FORMULAS, unsafe_allow_javascript=True)


# One polite live region for the whole tab, made once outside Streamlit's elements (a region that is
# itself re-rendered on every run is not announced reliably); each run writes its sentence into it.
_ANNOUNCE = """<script>
(() => {{
  const doc = window.document;
  let region = doc.getElementById('dl-live');
  if (!region) {{
    region = doc.createElement('div');
    region.id = 'dl-live';
    region.setAttribute('aria-live', 'polite');
    region.setAttribute('role', 'status');
    region.style.cssText = 'position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0;';
    doc.body.appendChild(region);
  }}
  const text = {text};
  if (region.textContent !== text) region.textContent = text;
}})();
</script>"""


SAID = "__a11y.said."  # session-state prefix: the last sentence each part of a page spoke


def announce(sentence: str, key: str | None = None, *, speak_first: bool = False) -> None:
    """Tell a screen-reader user, in one short sentence, what the last slider move or training step
    changed (the same result the chart draws). Nothing is shown on screen.

    With a ``key`` (one per part of a page), the part speaks only when its sentence differs from the
    one it spoke last: a rerun of the whole page then leaves the parts that did not change silent. Its
    first sentence is kept quiet (the student arrived and moved nothing yet) unless ``speak_first``
    (a result that only an action brings, such as a finished training)."""
    if key is not None:
        before = st.session_state.get(SAID + key)
        st.session_state[SAID + key] = sentence
        if before == sentence or (before is None and not speak_first):
            return
    st.html(_ANNOUNCE.format(text=json.dumps(sentence, ensure_ascii=False).replace("</", "<\\/")), unsafe_allow_javascript=True, width=1)


def digit_alt(label: int | None, read: int | None = None, caption: str = "") -> str:
    """A digit picture's text alternative in the page's language: the digit and, when a network read
    it, what it read and whether that is right ("handwritten 7, read as 1 (wrong)"); without a label,
    the picture's caption."""
    if label is None:
        return t("access.digit_picture", caption=caption)
    if read is None:
        return t("access.digit", label=label)
    return t("access.digit_read_right" if read == label else "access.digit_read_wrong", label=label, read=read)
