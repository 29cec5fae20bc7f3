"""A real app server and a real browser, for the browser tests and the load benchmark.

`serve_app()` starts `streamlit run streamlit_app.py` on a free loopback port and waits for
`/_stcore/health`; `chromium(playwright)` launches Debian's Chromium with the flags this
closed network needs (Playwright's own browser download is not available here).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def healthy(url: str) -> bool:
    """Whether the Streamlit server at ``url`` answers its health check."""
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@contextmanager
def serve_app(log_path: Path | None = None, timeout: float = 120) -> Iterator[str]:
    """Run the app on a free loopback port for the duration of the block; yield its base URL.

    The environment (``MNIST_DIR`` in particular) is passed through; the server's output goes
    to ``log_path``.
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = log_path or ROOT / ".streamlit-test-server.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = open(log_path, "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "streamlit_app.py",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=ROOT, env=os.environ.copy(), stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + timeout
        while not healthy(url):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not start; see {log.name}")
            time.sleep(0.3)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


# The page has settled: the script has finished, the page has a title, and the browser has stopped
# adding to the page for half a second (it paints the last elements a little after the run ends).
SETTLED_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning' || !document.querySelector('h1')) {
    window.__settled = null;
    return false;
  }
  const shape = document.querySelectorAll('[data-testid="stElementContainer"]').length + ':' + document.body.innerText.length;
  const now = performance.now();
  if (!window.__settled || window.__settled.shape !== shape) {
    window.__settled = {shape, since: now};
    return false;
  }
  return now - window.__settled.since > 500;
}"""


def chromium(playwright, **kwargs):
    """Launch Debian's Chromium through Playwright (sync or async API object)."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, **kwargs)


def chromium_available() -> bool:
    """Whether Debian's Chromium is installed."""
    return Path(CHROMIUM).exists()
