"""WCAG 2.1 A/AA, as axe-core checks it, on every page in both languages (and in the dark theme and in
large type): no serious or critical finding. The experiment also speaks: a slider move puts one
sentence in the page's live region."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app import i18n, ui
from app.charts import classification as cls_charts
from app.i18n import HTML_LANG
from lessons import classification as lc

from .conftest import STEP_TIMEOUT_MS, VIEWPORT, open_app_page, wait_for_app

pytestmark = pytest.mark.browser

WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


# axe-core leaves SVG text out of its contrast check, so a chart's axis, legend and title text (and a
# label drawn on the page's background, outside any bar or cell; not one Vega hid) is measured here: WCAG's ratio of its
# fill, blended at its opacity, against the chart's background; 4.5:1, or 3:1 from 24 px (18.66 px bold).
CHART_TEXT_JS = """() => {
  const rgb = (s) => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map((c) => { c /= 255; return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; })
    .reduce((sum, c, i) => sum + c * [0.2126, 0.7152, 0.0722][i], 0);
  const out = [];
  document.querySelectorAll('.stVegaLiteChart svg').forEach((svg, chart) => {
    const bg = rgb(getComputedStyle(svg).backgroundColor);
    if (bg.length < 3) return;
    const cells = svg.querySelector('.mark-rect.role-mark, .mark-area.role-mark');
    svg.querySelectorAll('text').forEach((text) => {
      if (!text.textContent.trim() || (cells && text.closest('.role-mark'))) return;
      const style = getComputedStyle(text);
      const fill = rgb(style.fill);
      if (fill.length < 3) return;
      let alpha = Number(style.fillOpacity) * Number(style.opacity);
      for (let el = text.parentElement; el && el !== svg; el = el.parentElement) alpha *= Number(getComputedStyle(el).opacity);
      if (alpha < 0.05) return;  // a label Vega hid where it would overlap another
      const shown = fill.slice(0, 3).map((c, i) => c * alpha + bg[i] * (1 - alpha));
      const [a, b] = [lum(shown), lum(bg)];
      const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
      const size = parseFloat(style.fontSize), bold = Number(style.fontWeight) >= 700;
      const needed = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
      if (ratio < needed) out.push(`chart ${chart}: "${text.textContent}" ${ratio.toFixed(2)}:1 (${style.fill} on ${getComputedStyle(svg).backgroundColor})`);
    });
  });
  return out;
}"""


def findings(page) -> list[str]:
    """axe-core's serious and critical violations on the page as it stands, one line per node, and chart
    text below WCAG's contrast."""
    from axe_playwright_python.sync_playwright import Axe

    result = Axe().run(page, options=WCAG_AA)
    return [f"{v['id']} ({v['impact']}): {node['target']} {node.get('failureSummary', '')[:160]}"
            for v in result.response["violations"] if v["impact"] in ("serious", "critical")
            for node in v["nodes"]] + [f"chart-text-contrast: {line}" for line in page.evaluate(CHART_TEXT_JS)]


@pytest.mark.parametrize("lang", list(HTML_LANG))
@pytest.mark.parametrize("spec", ui.PAGES, ids=lambda spec: spec.url_path)
def test_every_page_meets_wcag_aa(page, app_url, spec, lang):
    open_app_page(page, app_url, "" if spec is ui.HOME else spec.url_path, lang)
    page.wait_for_timeout(500)  # charts draw after the script has finished
    found = findings(page)
    assert not found, f"{spec.url_path} ({lang}):\n" + "\n".join(found[:20])


# The dark theme (the viewer's preference: .streamlit/config.toml defines both) and the projector's large
# type change every colour and size axe checks contrast with: one language each is enough.
LOOKS = {"dark": ({"color_scheme": "dark"}, "zh", ""), "large": ({}, "en", "&large=1")}


@pytest.mark.parametrize("look", list(LOOKS))
@pytest.mark.parametrize("spec", ui.PAGES, ids=lambda spec: spec.url_path)
def test_every_page_meets_wcag_aa_in_the_dark_theme_and_in_large_type(browser, app_url, spec, look):
    options, lang, extra = LOOKS[look]
    context = browser.new_context(viewport=VIEWPORT, **options)
    try:
        tab = context.new_page()
        tab.set_default_timeout(STEP_TIMEOUT_MS)
        open_app_page(tab, app_url, ("" if spec is ui.HOME else spec.url_path), lang + extra)
        tab.wait_for_timeout(500)
        found = findings(tab)
        assert not found, f"{spec.url_path} ({look}):\n" + "\n".join(found[:20])
    finally:
        context.close()


def test_the_experiment_speaks_after_a_slider_move(page, app_url):
    open_app_page(page, app_url, "classification", "en")
    region = page.locator("#dl-live")
    said = region.text_content() if region.count() else ""
    slider = page.get_by_test_id("stSlider").nth(1).get_by_role("slider")  # b, in the sigmoid's part
    slider.focus()
    page.keyboard.press("ArrowRight")
    wait_for_app(page)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(i18n, "lang", lambda: "en")
        w, b = lc.SETTINGS["w"].default, lc.SETTINGS["b"].default
        expected = cls_charts.sigmoid_note(w, round(b + 0.1, 1))
    expect(region).to_have_text(expected)
    assert expected != said
