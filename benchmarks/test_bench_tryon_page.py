"""Try-on page: how soon the legs are shown and the week slider responds, in headless Chromium.

Times are read inside the page (``performance`` marks of ``static/js/tryon.js``):

- ``calfsim-ready``: the first frame with the legs has been drawn (two animation frames after
  the render), in ms since the navigation started;
- ``calfsim-slider``: from the slider's input event until the frame showing the new week has
  been drawn.

"Interactive" is ``calfsim-ready`` plus one slider response. Two cases:

1. a stored simulation opened by its address (``/try?simulation=ID``, e.g. a reload), in a
   fresh browser context (a cold cache): HTML, three.js, the summary and the model's first part
   (``parts/median.glb``: the skins with the weekly medians; the band targets and the muscles
   load later, when asked for) download in parallel, then parse and the first frame;
2. the fresh flow after pressing "Show my legs": the server's simulation (reported apart) and
   then the page's own work from the answer to the first frame.

Headless Chromium renders WebGL in software (SwiftShader) here, so frames cost far more than on
any GPU: these are upper bounds for a user's browser.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path(os.environ.get("CALFSIM_CHROMIUM", "/usr/bin/chromium"))
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PROTOCOL = {
    "patient": {"sex": "female"},
    "legs": {"left": {"calf_girth_cm": 38.0}, "right": {"calf_girth_cm": 38.4}},
    "sessions": [
        {"day": 0, "product": "onabotulinumtoxinA", "doses_u": {"left": 100, "right": 100}},
        {"day": 91, "product": "onabotulinumtoxinA", "doses_u": {"left": 100, "right": 100}},
    ],
}
TIMEOUT_MS = 180_000

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
if not CHROMIUM.is_file():
    pytest.skip(f"{CHROMIUM} is missing (make test installs it)", allow_module_level=True)


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import uvicorn

    from calfsim.web import create_app

    db = tmp_path_factory.mktemp("db") / "bench.sqlite3"
    app = create_app(db_url=f"sqlite:///{db}")  # the default settings of `make run`
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=30)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def simulation_id(base_url: str) -> str:
    request = urllib.request.Request(
        f"{base_url}/api/simulate",
        data=json.dumps(PROTOCOL).encode(),
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=300) as response:
        sid: str = json.load(response)["simulation_id"]
    return sid


def _marks(page: Any) -> dict[str, float]:
    marks: dict[str, float] = page.evaluate(
        "() => Object.fromEntries(performance.getEntriesByType('mark')"
        ".map(m => [m.name, m.startTime]))"
    )
    return marks


def _slider_ms(page: Any) -> float:
    page.fill("#week", "12")
    page.wait_for_selector('body[data-shown^="12-"]', state="attached", timeout=TIMEOUT_MS)
    durations: list[float] = page.evaluate(
        "() => performance.getEntriesByName('calfsim-slider').map(e => e.duration)"
    )
    return durations[-1]


def _report(benchmark: Any, rows: list[dict[str, float]]) -> None:
    for key in rows[0]:
        benchmark.extra_info[f"median_{key}"] = round(statistics.median(r[key] for r in rows))
    print(json.dumps(benchmark.extra_info, indent=1))


def test_tryon_interactive_stored_simulation(
    benchmark: Any, browser: Any, base_url: str, simulation_id: str
) -> None:
    rows: list[dict[str, float]] = []

    def open_page() -> None:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        try:
            page.goto(f"{base_url}/try?simulation={simulation_id}", wait_until="commit")
            page.wait_for_selector("body[data-viewer-ready]", state="attached", timeout=TIMEOUT_MS)
            ready = _marks(page)["calfsim-ready"]
            slider = _slider_ms(page)
            rows.append({"ready_ms": ready, "slider_ms": slider, "interactive_ms": ready + slider})
        finally:
            page.close()

    benchmark.pedantic(open_page, rounds=7, iterations=1, warmup_rounds=1)
    _report(benchmark, rows)


def test_tryon_fresh_simulation(benchmark: Any, browser: Any, base_url: str) -> None:
    rows: list[dict[str, float]] = []
    counter = iter(range(1000))

    def simulate() -> None:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        try:
            page.goto(f"{base_url}/try")
            page.fill("#f-left_calf", "38")
            page.fill("#f-right_calf", f"{38.2 + next(counter) / 10:.1f}")  # not a stored one
            page.click("#simulate")
            page.wait_for_selector("body[data-viewer-ready]", state="attached", timeout=TIMEOUT_MS)
            m = _marks(page)
            slider = _slider_ms(page)
            client = m["calfsim-ready"] - m["calfsim-simulated"]
            rows.append(
                {
                    "server_simulate_ms": m["calfsim-simulated"] - m["calfsim-submit"],
                    "client_ready_ms": client,
                    "slider_ms": slider,
                    "client_interactive_ms": client + slider,
                }
            )
        finally:
            page.close()

    benchmark.pedantic(simulate, rounds=3, iterations=1)
    _report(benchmark, rows)
