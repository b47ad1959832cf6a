"""Browser tests: the real app served by uvicorn on a free port, driven by headless Chromium.

Chromium is Debian's ``/usr/bin/chromium`` (``make test`` installs it), driven by the Python
``playwright`` package; ``playwright install`` is never used (it downloads a browser). The tests
skip, saying why, when either is missing. Screenshots go to ``out/screenshots`` (ignored by git).
"""

from __future__ import annotations

import io
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[3]
CHROMIUM = Path(os.environ.get("CALFSIM_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = ROOT / "out" / "screenshots"
#: Real scans, when ../shared/assets is present (never copied into the repository).
SCANS = ROOT.parent / "shared" / "assets" / "scans"
TEST_SECRET = "browser-test-secret-0123456789-abcdefghij"
#: Launch flags that work in containers and CI (no sandbox, software GL, no network chatter).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
#: A 3D simulation takes seconds of server time, more on a busy 2-core machine.
SIMULATION_TIMEOUT_MS = 180_000

playwright_sync = pytest.importorskip(
    "playwright.sync_api", reason="the playwright package is not installed (pip install -e .[dev])"
)
if not CHROMIUM.is_file():
    pytest.skip(
        f"{CHROMIUM} is missing: install Debian's chromium (make test does: apt-get install "
        "chromium)",
        allow_module_level=True,
    )
if not (ROOT / "node_modules" / "three" / "build" / "three.module.js").is_file():
    pytest.skip(
        "node_modules/three is missing: run `npm ci` (make test does)", allow_module_level=True
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Serve the app (temporary SQLite file) with uvicorn in a background thread."""
    import uvicorn

    from calfsim.web import create_app

    db = tmp_path_factory.mktemp("db") / "calfsim.sqlite3"
    app = create_app(
        db_url=f"sqlite:///{db}",
        secret=TEST_SECRET,
        simulate_n_samples=600,
        predict_n_samples=300,
    )
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="calfsim-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=30)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    # Module scope: while playwright's sync API is open, its event loop counts as running in
    # this thread, and async tests of other modules (anyio) could not start their own.
    with playwright_sync.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class PageErrors:
    """Uncaught errors and console errors of one page (CSP violations are console errors)."""

    def __init__(self, page: Any) -> None:
        self.messages: list[str] = []
        page.on("pageerror", lambda error: self.messages.append(f"pageerror: {error}"))
        page.on(
            "console",
            lambda message: (
                self.messages.append(f"console: {message.text}")
                if message.type == "error"
                else None
            ),
        )


def new_page(browser: Any, viewport: dict[str, int]) -> tuple[Any, PageErrors]:
    context = browser.new_context(viewport=viewport, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    return page, PageErrors(page)


@pytest.fixture
def desktop(browser: Any) -> Iterator[tuple[Any, PageErrors]]:
    page, errors = new_page(browser, DESKTOP)
    yield page, errors
    page.context.close()


@pytest.fixture
def phone(browser: Any) -> Iterator[tuple[Any, PageErrors]]:
    page, errors = new_page(browser, PHONE)
    yield page, errors
    page.context.close()


def screenshot(page: Any, name: str, *, full_page: bool = True) -> Path:
    """Save a screenshot under out/screenshots and return its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.evaluate("() => window.scrollTo(0, 0)")
    page.screenshot(path=str(path), full_page=full_page)
    return path


def canvas_rgb(page: Any) -> np.ndarray:
    """The viewer canvas as an (h, w, 3) uint8 array."""
    from PIL import Image

    png = page.locator("#viewer canvas").screenshot()
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def skin_widths(rgb: np.ndarray) -> np.ndarray:
    """Pixels per row that show skin (warm, opaque), both legs together.

    The skin is drawn in a warm tone (red well above blue); the background and the translucent
    blue ghost of today's legs are not.
    """
    r, b = rgb[..., 0].astype(int), rgb[..., 2].astype(int)
    is_skin = (r - b > 35) & (r > 80)
    return is_skin.sum(axis=1)


def ghost_pixels(rgb: np.ndarray) -> np.ndarray:
    """Boolean mask of pixels tinted by the ghost (blue clearly above red)."""
    r, b = rgb[..., 0].astype(int), rgb[..., 2].astype(int)
    return b - r > 25


def have_scans() -> bool:
    return SCANS.is_dir() and any(SCANS.glob("*.obj"))


@pytest.fixture(scope="session")
def tools() -> Any:
    """The helpers above, for the test modules (importlib mode: no imports between tests)."""
    from types import SimpleNamespace

    return SimpleNamespace(
        screenshot=screenshot,
        canvas_rgb=canvas_rgb,
        skin_widths=skin_widths,
        ghost_pixels=ghost_pixels,
        have_scans=have_scans,
        new_page=new_page,
        scans=SCANS,
        desktop=DESKTOP,
        phone=PHONE,
        simulation_timeout_ms=SIMULATION_TIMEOUT_MS,
    )
