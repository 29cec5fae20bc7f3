"""A classroom at once: many concurrent browser sessions against one real server.

Starts the app on loopback, visits every page once (as a teacher would before class: the draw
page trains its model then), then opens `SESSIONS` Chromium sessions spread over every page, waits for
each page to render, then moves a slider in each (where the page has one) and waits for the rerun.
Reports the slowest render, the slowest slider rerun and every error (exception boxes on a page,
or a session that failed). Bounded: a fixed number of sessions and a timeout per step.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass, field

from benchmarks.live import SETTLED_JS, chromium, serve_app
from pages import ui

SESSIONS = int(os.environ.get("LOAD_SESSIONS", "16"))
SLIDER = '[data-testid="stMain"] [data-testid="stSlider"] input[type="range"]'  # a slider's keyboard handle
STEP_TIMEOUT_MS = 180_000


@dataclass
class SessionResult:
    page: str
    render_s: float = float("nan")
    slider_s: float | None = None
    has_slider: bool = False
    errors: list[str] = field(default_factory=list)


async def settle(page) -> None:
    """Wait until the app has rendered and its script has stopped running."""
    await page.wait_for_timeout(200)  # let a rerun that a key press queued start
    await page.wait_for_function(SETTLED_JS, polling=100, timeout=STEP_TIMEOUT_MS)


async def one_student(browser, base_url: str, spec: ui.PageSpec, slider_pages: set[str] | None) -> SessionResult:
    """One student opens ``spec``'s page and, where it has one, moves its first slider.

    ``slider_pages`` names the pages known to have a slider; ``None`` means find out (the
    teacher's visit). A busy browser paints the last elements a moment after the run ends, so
    a page known to have a slider counts as rendered once its slider is there.
    """
    result = SessionResult(spec.url_path)
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    page.on("pageerror", lambda exc: result.errors.append(f"page error: {exc}"))
    slider = page.locator(SLIDER).first
    try:
        start = time.perf_counter()
        await page.goto(f"{base_url}/{spec.url_path}?lang=en", timeout=STEP_TIMEOUT_MS)
        await settle(page)
        if slider_pages is None:
            await page.wait_for_timeout(1500)
            result.has_slider = await slider.count() > 0
        else:
            result.has_slider = spec.url_path in slider_pages
            if result.has_slider:
                await slider.wait_for(timeout=STEP_TIMEOUT_MS)
        result.render_s = time.perf_counter() - start
        if result.has_slider:
            start = time.perf_counter()
            await slider.focus()
            await page.keyboard.press("ArrowRight")
            await page.keyboard.press("ArrowRight")
            await settle(page)
            result.slider_s = time.perf_counter() - start
        exceptions = await page.locator('[data-testid="stException"]').count()
        if exceptions:
            result.errors.append(f"{exceptions} exception box(es) on the page")
    except Exception as exc:  # noqa: BLE001 - a failed session is a reported error, not a crash
        result.errors.append(f"{type(exc).__name__}: {exc}".splitlines()[0])
    finally:
        await context.close()
    return result


async def classroom(base_url: str, sessions: int) -> list[SessionResult]:
    """The teacher opens every page once (the draw page trains its model then), then the class at once."""
    from playwright.async_api import async_playwright

    specs = [ui.PAGES[i % len(ui.PAGES)] for i in range(sessions)]
    async with async_playwright() as p:
        browser = await chromium(p)
        try:
            teacher = [await one_student(browser, base_url, spec, None) for spec in ui.PAGES]
            slider_pages = {r.page for r in teacher if r.has_slider}
            return await asyncio.gather(*(one_student(browser, base_url, s, slider_pages) for s in specs))
        finally:
            await browser.close()


def run_load(sessions: int = SESSIONS) -> list[SessionResult]:
    """Serve the app and run `sessions` concurrent browser sessions against it (after the teacher's visit)."""
    with serve_app() as url:
        return asyncio.run(classroom(url, sessions))


def summarize(results: list[SessionResult]) -> list[str]:
    renders = [r.render_s for r in results if r.render_s == r.render_s]
    sliders = [r.slider_s for r in results if r.slider_s is not None]
    errors = [f"{r.page}: {e}" for r in results for e in r.errors]
    slowest = max(results, key=lambda r: r.render_s if r.render_s == r.render_s else float("inf"))
    lines = [
        f"concurrent sessions: {len(results)} over {len({r.page for r in results})} pages "
        "(the browsers run on the server's own 2 cores)",
        f"slowest page render: {max(renders):.1f} s ({slowest.page}); median {sorted(renders)[len(renders) // 2]:.1f} s"
        if renders else "no page rendered",
        f"slowest slider rerun: {max(sliders):.1f} s; median {sorted(sliders)[len(sliders) // 2]:.1f} s "
        f"({len(sliders)} of {sum(r.has_slider for r in results)} sessions whose page has a slider)"
        if sliders else "no slider moved",
        f"errors: {len(errors)}",
    ]
    return lines + [f"  - {e}" for e in errors]


def main() -> list[str]:
    return summarize(run_load())
