"""Screenshots of every page, as a class sees it: 1366×768 (projector) and 390×844 (phone), zh and en,
and the dark theme. For looking at, not for the repository (default output: /tmp/screens).

    python -m benchmarks.screens                      # every page, every look
    python -m benchmarks.screens descent draw         # only these pages
    python -m benchmarks.screens --looks desk-zh,dark-desk-zh --out /tmp/s

Each look gives ``<page>_<look>.png`` (the first screen: what fits without scrolling) and
``<page>_<look>_full.png`` (the whole page). ``--readme`` instead refreshes the README's pictures in
docs/screenshots/ (first screens only, optimised).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path

from benchmarks.live import ROOT, SETTLED_JS, chromium, serve_app

DESK = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
# look name -> (viewport, lang, browser context options, extra query)
LOOKS = {
    "desk-zh": (DESK, "zh", {}, ""),
    "desk-en": (DESK, "en", {}, ""),
    "phone-zh": (PHONE, "zh", {"is_mobile": True, "has_touch": True, "device_scale_factor": 2}, ""),
    "phone-en": (PHONE, "en", {"is_mobile": True, "has_touch": True, "device_scale_factor": 2}, ""),
    "dark-desk-zh": (DESK, "zh", {"color_scheme": "dark"}, ""),
    "dark-phone-en": (PHONE, "en", {"color_scheme": "dark", "is_mobile": True, "has_touch": True,
                                    "device_scale_factor": 2}, ""),
    "large-desk-en": (DESK, "en", {}, "&large=1"),
}
DEFAULT_LOOKS = ("desk-zh", "desk-en", "phone-zh", "phone-en", "dark-desk-zh", "dark-phone-en")
# The README's pictures: file name -> (page, look, what to do first). Phones at scale 1 keep them small.
README = {
    "descent.png": ("descent", "desk-zh", None),
    "mnist_train.png": ("mnist_train", "desk-zh", "train"),
    "classboard.png": ("classboard", "desk-zh", "class"),
    "take_home.png": ("descent", "desk-zh", "take_home"),  # a PyTorch program, as the README says
    "draw.png": ("draw", "desk-zh", "draw"),
    "handwriting_phone.png": ("handwriting", "phone-zh", None),
}
NO_PLACEHOLDERS_JS = "() => !document.querySelector('[data-testid=\"stSkeleton\"], .stSkeleton')"
# Streamlit scrolls its main section, not the document: the whole page is that section's height.
MAIN_HEIGHT_JS = """() => {
  const main = document.querySelector('[data-testid="stMain"]') || document.querySelector('section.main');
  const block = main && main.querySelector('[data-testid="stMainBlockContainer"], .block-container');
  return Math.ceil(Math.max(main ? main.scrollHeight : 0, block ? block.getBoundingClientRect().height + 160 : 0));
}"""


WAIT_MS = 120_000  # --wait: a fresh server trains the draw page's network on its first visit


def settle(tab, timeout_ms: float | None = None) -> None:
    """Wait until the script has finished, twice: a first run may start a second one (the page
    learns its width and theme), which shows grey placeholders while it runs."""
    timeout_ms = timeout_ms or WAIT_MS
    for _ in range(2):
        tab.wait_for_function(SETTLED_JS, polling=100, timeout=timeout_ms)
        tab.wait_for_function(NO_PLACEHOLDERS_JS, polling=100, timeout=timeout_ms)
        tab.wait_for_timeout(700)  # charts paint a little after the script run ends


def open_take_home(tab) -> None:
    """Open the page's take-home expander and scroll its start (the program's imports) to the top."""
    expander = tab.locator('[data-testid="stExpander"]').filter(has_text="PyTorch").last
    expander.locator("summary").click()
    tab.wait_for_timeout(1000)
    expander.evaluate("(el) => el.scrollIntoView({block: 'start'})")
    tab.wait_for_timeout(400)


def train(tab) -> None:
    """Press 5c's Train and wait for the run to finish (the loss curve beside the settings)."""
    tab.locator('[data-testid^="stBaseButton-primary"]').first.click()
    tab.wait_for_timeout(1500)
    settle(tab)


def draw_three(tab) -> None:
    """Draw a "3" on the draw page's canvas (fabric.js's drawing layer) and wait for the reading."""
    canvas = tab.locator("canvas.upper-canvas")
    canvas.wait_for(timeout=WAIT_MS)
    box = canvas.bounding_box()
    scale = box["width"] / 280
    points = [(80, 60), (140, 35), (195, 60), (195, 105), (140, 135), (195, 165), (200, 215), (140, 245), (80, 225)]
    tab.mouse.move(box["x"] + points[0][0] * scale, box["y"] + points[0][1] * scale)
    tab.mouse.down()
    for x, y in points[1:]:
        tab.mouse.move(box["x"] + x * scale, box["y"] + y * scale, steps=6)
    tab.mouse.up()
    tab.wait_for_timeout(1500)
    settle(tab)


# A class for the board's picture: a throwaway database under /tmp, one room, a lesson's worth of runs.
TEACHER = "screens"
ROOM = ""


def seed_class() -> str:
    """Open a room in a fresh class database (``CLASS_DB_URL``, set before the server starts) and post runs."""
    import numpy as np

    from classroom import classboard as cb

    rng = np.random.default_rng(7)
    from lessons.recipes import OPTIMIZERS as solvers  # 5c's own: a run can only come from those
    names = ["小明", "Amy", "阿傑", "小芳", "Ken", "怡君", "Leo", "雅婷", "Max", "志豪", "Mia", "佳穎"]
    with cb.ClassBoard(os.environ["CLASS_DB_URL"], teacher_code=TEACHER) as board:
        room = board.open_room(TEACHER)
        for k, name in enumerate(names):
            lr = float(10 ** rng.uniform(-3, -0.5))
            accuracy = float(np.clip(0.97 - 0.08 * abs(np.log10(lr) + 1.7) + rng.normal(0, 0.01), 0.5, 0.99))
            board.post_run(room, name, {"lr": round(lr, 4), "optimizer": solvers[k % len(solvers)], "hidden": [256, 64],
                                        "activation": "relu", "loss": "mse", "batch_size": 512, "epochs": 3},
                           accuracy, float(rng.uniform(15, 60)))
    return room


def shoot(browser, url: str, page: str, look: str, out: Path, full: bool = True,
          name: str | None = None, action: str | None = None, phone_scale: float | None = None) -> list[Path]:
    viewport, lang, options, extra = LOOKS[look]
    options = dict(options)
    if phone_scale is not None and "device_scale_factor" in options:
        options["device_scale_factor"] = phone_scale
    context = browser.new_context(viewport=viewport, **options)
    saved = []
    try:
        tab = context.new_page()
        path = "" if page == "home" else page
        if action == "class":
            extra += f"&room={ROOM}&nick=%E8%80%81%E5%B8%AB"
        tab.goto(f"{url}/{path}?lang={lang}{extra}", timeout=WAIT_MS)
        settle(tab)
        if action == "take_home":
            open_take_home(tab)
        elif action == "train":
            train(tab)
        elif action == "draw":
            draw_three(tab)
        stem = name or f"{page}_{look}.png"
        first = out / stem
        tab.screenshot(path=str(first))
        saved.append(first)
        if full:
            height = min(int(tab.evaluate(MAIN_HEIGHT_JS)), 12_000)
            if height > viewport["height"] + 20:
                tab.set_viewport_size({"width": viewport["width"], "height": height})
                tab.wait_for_timeout(400)
                settle(tab)  # the page measures its width and may run again after a resize
                whole = out / stem.replace(".png", "_full.png")
                tab.screenshot(path=str(whole))
                saved.append(whole)
    finally:
        context.close()
    return saved


def optimise(path: Path) -> None:
    """Re-save as a palette PNG when that keeps it readable and makes it smaller."""
    from PIL import Image

    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    tmp = path.with_suffix(".tmp.png")
    small.save(tmp, optimize=True)
    if tmp.stat().st_size < path.stat().st_size:
        tmp.replace(path)
    else:
        tmp.unlink()


def main(argv: list[str] | None = None) -> int:
    from playwright.sync_api import sync_playwright

    from app.registry import PAGES

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pages", nargs="*", help="page names (default: all)")
    parser.add_argument("--looks", default=",".join(DEFAULT_LOOKS), help=f"comma list of {', '.join(LOOKS)}")
    parser.add_argument("--out", type=Path, default=Path("/tmp/screens"))
    parser.add_argument("--no-full", action="store_true", help="first screens only")
    parser.add_argument("--url", help="an app already running (default: start one)")
    parser.add_argument("--readme", action="store_true", help="refresh docs/screenshots/ for the README")
    parser.add_argument("--wait", type=float, default=120, help="seconds a page may take to settle")
    args = parser.parse_args(argv)
    global WAIT_MS
    WAIT_MS = args.wait * 1000
    names = args.pages or [spec.name for spec in PAGES]
    looks = args.looks.split(",")
    unknown = [n for n in names if n not in {spec.name for spec in PAGES}] + [k for k in looks if k not in LOOKS]
    if unknown:
        parser.error(f"unknown: {', '.join(unknown)}")
    os.environ.setdefault("MNIST_DIR", "/work/shared/data/mnist")
    out = ROOT / "docs" / "screenshots" if args.readme else args.out
    if args.readme and not args.url:  # the class board's picture needs a class: a throwaway one
        global ROOM
        db = Path(f"/tmp/screens-class-{os.getpid()}.db")
        db.unlink(missing_ok=True)
        os.environ["CLASS_DB_URL"] = f"sqlite:///{db}"
        os.environ["CLASS_TEACHER_CODE"] = TEACHER
        ROOM = seed_class()
    out.mkdir(parents=True, exist_ok=True)

    def run(url: str) -> None:
        with sync_playwright() as pw:
            browser = chromium(pw)
            try:
                if args.readme:
                    for file, (page, look, action) in README.items():
                        if args.pages and page not in args.pages:
                            continue
                        for path in shoot(browser, url, page, look, out, full=False, name=file,
                                          action=action, phone_scale=1):
                            optimise(path)
                            print(f"{path}  {path.stat().st_size // 1024} KB", flush=True)
                    return
                for page in names:
                    for look in looks:
                        start = time.monotonic()
                        try:
                            saved = shoot(browser, url, page, look, out, full=not args.no_full)
                        except Exception as exc:  # noqa: BLE001 - one page's failure shouldn't stop the rest
                            print(f"{page} {look}: FAILED {type(exc).__name__}: {exc}".splitlines()[0], flush=True)
                            continue
                        print(f"{page} {look}: {time.monotonic() - start:.1f} s  "
                              + " ".join(p.name for p in saved), flush=True)
            finally:
                browser.close()

    # A `kill` of this process stops the server it started too (serve_app's cleanup runs on SystemExit).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.url:
        run(args.url.rstrip("/"))
    else:
        with serve_app(Path(f"/tmp/screens-server-{os.getpid()}.log")) as url:
            run(url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
