"""A classroom at once: many concurrent browser sessions against one real server.

Starts the app on loopback, opens `SESSIONS` Chromium sessions spread over every page, waits for
each page to render, then moves a slider in each (where the page has one) and waits for the rerun.
Reports the slowest render, the slowest slider rerun and every error (exception boxes on a page,
or a session that failed). Bounded: a fixed number of sessions and a timeout per step.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass, field

from benchmarks.live import SETTLED, chromium, serve_app
from pages import ui

SESSIONS = int(os.environ.get("LOAD_SESSIONS", "16"))
STEP_TIMEOUT_MS = 180_000


@dataclass
class SessionResult:
    page: str
    render_s: float = float("nan")
    slider_s: float | None = None
    errors: list[str] = field(default_factory=list)


async def settle(page) -> None:
    """Wait until the app has rendered and its script has stopped running."""
    await page.wait_for_selector("h1", timeout=STEP_TIMEOUT_MS)
    await page.wait_for_timeout(200)  # let a rerun that a key press queued start
    await page.wait_for_selector(SETTLED, timeout=STEP_TIMEOUT_MS)


async def one_student(browser, base_url: str, spec: ui.PageSpec) -> SessionResult:
    result = SessionResult(spec.url_path)
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    page.on("pageerror", lambda exc: result.errors.append(f"page error: {exc}"))
    try:
        start = time.perf_counter()
        await page.goto(f"{base_url}/{spec.url_path}?lang=en", timeout=STEP_TIMEOUT_MS)
        await settle(page)
        result.render_s = time.perf_counter() - start
        slider = page.locator('[data-testid="stMain"] [role="slider"]').first
        if await slider.count():
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
    from playwright.async_api import async_playwright

    specs = [ui.PAGES[i % len(ui.PAGES)] for i in range(sessions)]
    async with async_playwright() as p:
        browser = await chromium(p)
        try:
            return await asyncio.gather(*(one_student(browser, base_url, s) for s in specs))
        finally:
            await browser.close()


def run_load(sessions: int = SESSIONS) -> list[SessionResult]:
    """Serve the app and run `sessions` concurrent browser sessions against it."""
    with serve_app() as url:
        return asyncio.run(classroom(url, sessions))


def summarize(results: list[SessionResult]) -> list[str]:
    renders = [r.render_s for r in results if r.render_s == r.render_s]
    sliders = [r.slider_s for r in results if r.slider_s is not None]
    errors = [f"{r.page}: {e}" for r in results for e in r.errors]
    slowest = max(results, key=lambda r: r.render_s if r.render_s == r.render_s else float("inf"))
    lines = [
        f"concurrent sessions: {len(results)} over {len({r.page for r in results})} pages",
        f"slowest page render: {max(renders):.1f} s ({slowest.page}); median {sorted(renders)[len(renders) // 2]:.1f} s"
        if renders else "no page rendered",
        f"slowest slider rerun: {max(sliders):.1f} s; median {sorted(sliders)[len(sliders) // 2]:.1f} s"
        if sliders else "no slider moved",
        f"errors: {len(errors)}",
    ]
    return lines + [f"  - {e}" for e in errors]


def main() -> list[str]:
    return summarize(run_load())
