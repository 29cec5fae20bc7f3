"""Every chart's words fit, measured in a real browser from the rendered SVG's text boxes: on a classroom
laptop (1366×768) and a phone (390×844), in both languages, no title, legend or tick label is cut by the
chart's edge or the screen's, shortened with "…", or printed over another; the step numbers on lesson 1's
curve do not pile up; and large type (``?large=1``) draws the chart text larger."""

from __future__ import annotations

import pytest

from .conftest import PAGE_TIMEOUT_MS, wait_for_app

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
# The lesson pages whose charts draw without a trained network or a class.
PAGES = ["descent", "noise", "regression", "classification", "mnist_data", "mnist_network"]
SLACK = 2.0  # px: anti-aliasing, sub-pixel rounding, and CJK fonts' taller line boxes
OVERLAP = 2.0  # px both ways before two text boxes count as printed over each other

# For each chart: its box, and each piece of text's role (axis-label, axis-title, legend-label,
# legend-title, title-text, mark) with its box, text and font size.
MEASURE_JS = r"""() => {
  const charts = [];
  document.querySelectorAll('[data-testid="stVegaLiteChart"], [data-testid="stArrowVegaLiteChart"]').forEach((box, n) => {
    const svg = box.querySelector('svg.marks');
    if (!svg) return;
    const frame = box.getBoundingClientRect();
    if (frame.width === 0) return;  // in a closed tab or expander
    const area = svg.getBoundingClientRect();
    const texts = [];
    svg.querySelectorAll('text').forEach(el => {
      const words = (el.textContent || '').trim();
      if (!words) return;
      const style = getComputedStyle(el);
      if (style.visibility === 'hidden' || style.display === 'none' || el.getAttribute('opacity') === '0') return;
      let role = 'mark';
      for (let up = el.parentElement; up && up !== svg; up = up.parentElement) {
        const found = (up.getAttribute('class') || '').match(/role-(axis-label|axis-title|legend-label|legend-title|title-text|title-subtitle)/);
        if (found) { role = found[1]; break; }
      }
      const r = el.getBoundingClientRect();
      const size = parseFloat(el.getAttribute('font-size') || style.fontSize);
      // The browser's box is a line high (about 1.36 em); Vega lays text out one em high, so the box
      // reaches past what is drawn by about 0.18 em each side, across the text's own direction.
      const rotated = /rotate\((-?90|270)/.test(el.getAttribute('transform') || '');
      const inset = 0.18 * size;
      texts.push({role, words, size, rotated,
                  left: r.left + (rotated ? inset : 0), right: r.right - (rotated ? inset : 0),
                  top: r.top + (rotated ? 0 : inset), bottom: r.bottom - (rotated ? 0 : inset)});
    });
    charts.push({n, frame: {left: frame.left, right: frame.right, top: frame.top, bottom: frame.bottom},
                 svg: {left: area.left, right: area.right, top: area.top, bottom: area.bottom}, texts,
                 label: box.getAttribute('aria-label') || (svg.getAttribute('aria-label') || '').slice(0, 60)});
  });
  return {charts, width: window.innerWidth};
}"""

WORDS = ("axis-label", "axis-title", "legend-label", "legend-title", "title-text", "title-subtitle")


def overlap(a: dict, b: dict) -> bool:
    """Whether two text boxes share more than ``OVERLAP`` px both ways."""
    return (min(a["right"], b["right"]) - max(a["left"], b["left"]) > OVERLAP
            and min(a["bottom"], b["bottom"]) - max(a["top"], b["top"]) > OVERLAP)


def problems(measured: dict) -> list[str]:
    """Every chart text cut at an edge, shortened with "…" or printed over another, in words."""
    found = []
    for chart in measured["charts"]:
        name = f"chart {chart['n']} ({chart['label']!r})"
        edge = {"left": max(chart["frame"]["left"], chart["svg"]["left"], 0),
                "right": min(chart["frame"]["right"], chart["svg"]["right"], measured["width"]),
                "top": chart["svg"]["top"], "bottom": chart["svg"]["bottom"]}
        words = [text for text in chart["texts"] if text["role"] in WORDS]
        for text in words:
            if (text["left"] < edge["left"] - SLACK or text["right"] > edge["right"] + SLACK
                    or text["top"] < edge["top"] - SLACK or text["bottom"] > edge["bottom"] + SLACK):
                found.append(f"{name}: {text['role']} {text['words']!r} is cut by the chart's edge")
            if text["words"].endswith("…"):
                found.append(f"{name}: {text['role']} {text['words']!r} is shortened")
        for i, a in enumerate(words):
            for b in words[i + 1:]:
                if overlap(a, b):
                    found.append(f"{name}: {a['role']} {a['words']!r} over {b['role']} {b['words']!r}")
        # Numbers printed on the plot (lesson 1's step numbers) must not pile up on each other or on the axes.
        marks = [text for text in chart["texts"] if text["role"] == "mark"]
        for i, a in enumerate(marks):
            for b in marks[i + 1:]:
                if overlap(a, b):
                    found.append(f"{name}: mark text {a['words']!r} over {b['words']!r}")
    return found


def open_page(browser, app_url: str, name: str, lang: str, viewport: dict, query: str = ""):
    context = browser.new_context(viewport=viewport)
    tab = context.new_page()
    tab.goto(f"{app_url}/{name}?lang={lang}{query}", timeout=PAGE_TIMEOUT_MS)
    wait_for_app(tab)
    tab.wait_for_selector('[data-testid="stVegaLiteChart"] svg.marks', timeout=PAGE_TIMEOUT_MS)
    tab.wait_for_timeout(2500)  # Vega draws after the script has settled, and a page's later charts after its first
    return context, tab


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["laptop", "phone"])
@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("name", PAGES)
def test_chart_words_fit(browser, app_url, name, lang, viewport):
    context, tab = open_page(browser, app_url, name, lang, viewport)
    try:
        measured = tab.evaluate(MEASURE_JS)
        assert measured["charts"], f"{name}: no chart drawn"
        assert problems(measured) == []
    finally:
        context.close()


@pytest.mark.parametrize("name", PAGES)
def test_large_type_draws_chart_text_larger(browser, app_url, name):
    sizes = {}
    for query in ("", "&large=1"):
        context, tab = open_page(browser, app_url, name, "en", LAPTOP, query)
        try:
            measured = tab.evaluate(MEASURE_JS)
        finally:
            context.close()
        sizes[query] = {role: [t["size"] for c in measured["charts"] for t in c["texts"] if t["role"] == role]
                        for role in ("axis-label", "axis-title", "legend-label", "title-text", "mark")}
        if query:
            assert problems(measured) == [], "large type cuts or overprints chart text"
    small, large = sizes[""], sizes["&large=1"]
    for role in small:
        if small[role] and large[role]:
            assert min(large[role]) > max(small[role]), f"{name}: {role} is no larger in large type"
    assert large["axis-label"], f"{name}: no axis label drawn in large type"


# Buttons' and tabs' words that the browser draws cut (wider than their box: shown with "…").
CUT_LABELS_JS = """() => [...document.querySelectorAll(
    '[data-testid="stMain"] [data-testid^="stBaseButton"] p, [data-testid="stMain"] [data-baseweb="tab"] p')]
  .filter(p => p.offsetWidth > 0 && p.scrollWidth > p.clientWidth + 1).map(p => p.textContent)"""


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("name", ["descent", "classification"])
def test_large_type_folds_the_sidebar_and_cuts_no_label(browser, app_url, name, lang):
    context, tab = open_page(browser, app_url, name, lang, LAPTOP, "&large=1")
    try:
        sidebar = tab.locator('[data-testid="stSidebar"]')
        assert sidebar.get_attribute("aria-expanded") == "false" or sidebar.bounding_box()["width"] < 2
        assert tab.evaluate(CUT_LABELS_JS) == []
    finally:
        context.close()
