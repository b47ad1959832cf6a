"""Scans and 3D simulations over HTTP: uploads, limits, stored results, the GLB."""

from __future__ import annotations

import json
import re
import time
from types import SimpleNamespace
from typing import Any

import anyio
import pytest
from fastapi.testclient import TestClient

from calfsim.geometry import find_legs
from calfsim.io import legs_to_dict, load_scan
from calfsim.web import create_app
from calfsim.web._errors import WebError
from calfsim.web._work import run_heavy

from .conftest import SCANS, TEST_SECRET

SCAN = SCANS / "tg3d-scan1.obj"
needs_scan = pytest.mark.skipif(not SCAN.is_file(), reason=f"no real scan at {SCAN}")


def _upload(client: TestClient, name: str, data: bytes, **kwargs: Any) -> Any:
    return client.post("/api/measure", files={"scan": (name, data, "model/obj")}, **kwargs)


@pytest.fixture
def fast_client() -> Any:
    app = create_app(
        db_url="sqlite://",
        secret=TEST_SECRET,
        simulate_n_samples=200,
        simulate_n_around=32,
        max_scan_bytes=10_000,
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@needs_scan
def test_measure_real_scan_matches_the_cli_contract(client: TestClient) -> None:
    response = _upload(client, SCAN.name, SCAN.read_bytes())
    assert response.status_code == 200, response.text
    body = response.json()
    assert re.fullmatch(r"[0-9a-f]{32}", body.pop("scan_id"))
    loaded = load_scan(SCAN)
    expected = legs_to_dict(loaded, find_legs(loaded), source=SCAN.name)
    assert body == json.loads(json.dumps(expected))
    assert {leg["side"] for leg in body["legs"].values()} == {"left", "right"}


def test_measure_wrong_type_is_415_naming_accepted_types(client: TestClient) -> None:
    for name in ("leg.txt", "leg", "leg.obj.exe"):
        response = _upload(client, name, b"v 0 0 0\n")
        assert response.status_code == 415, name
        body = response.json()
        assert body["error"] == "unsupported_type"
        assert body["problems"][0]["field"] == "scan"
        assert ".obj, .ply, .stl, .glb, .gltf" in body["message"]


def test_measure_oversized_is_413_naming_the_limit(fast_client: TestClient) -> None:
    # Just above the file limit (within the multipart allowance): checked on the parsed file.
    response = _upload(fast_client, "big.obj", b"v 0 0 0\n" * 1500)
    assert response.status_code == 413
    assert "at most 0.00954 MB (10,000 bytes)" in response.json()["message"]
    assert response.json()["problems"][0]["field"] == "scan"
    # Far above: refused by the streaming limit before the body is read.
    response = _upload(fast_client, "huge.obj", b"v 0 0 0\n" * 200_000)
    assert response.status_code == 413
    assert "10,000 bytes" in response.json()["message"]


def test_measure_unreadable_scan_and_units_are_422(client: TestClient) -> None:
    for data in (b"", b"this is not a mesh at all"):
        response = _upload(client, "leg.obj", data)
        assert response.status_code == 422
        assert response.json()["problems"][0]["field"] == "scan"
    response = client.post(
        "/api/measure", files={"scan": ("leg.obj", b"v 0 0 0\n")}, data={"units": "inch"}
    )
    assert response.status_code == 422
    assert response.json()["problems"][0]["field"] == "units"
    assert "mm" in response.json()["message"]


def test_measure_from_a_browser_needs_the_csrf_header(client: TestClient) -> None:
    client.cookies.set("calfsim_csrf", "made.up")
    response = _upload(client, "leg.obj", b"v 0 0 0\n")
    assert response.status_code == 403
    assert response.json()["error"] == "csrf"


@pytest.mark.anyio
async def test_heavy_work_is_capped_and_refused_when_the_queue_is_full() -> None:
    app = create_app(
        db_url="sqlite://",
        secret=TEST_SECRET,
        max_concurrent_simulations=1,
        max_queued_simulations=1,
    )
    request: Any = SimpleNamespace(app=app)
    running: list[int] = []
    peak: list[int] = []

    def work(i: int) -> int:
        running.append(i)
        peak.append(len(running))
        time.sleep(0.2)
        running.remove(i)
        return i

    results: list[int] = []

    async def call(i: int) -> None:
        results.append(await run_heavy(request, work, i))

    async with anyio.create_task_group() as tg:
        tg.start_soon(call, 1)
        tg.start_soon(call, 2)
        await anyio.sleep(0.05)
        with pytest.raises(WebError) as refused:
            await run_heavy(request, work, 3)
    assert refused.value.status == 503 and refused.value.headers == {"Retry-After": "5"}
    assert sorted(results) == [1, 2]
    assert max(peak) == 1  # never two at once


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
