"""Computing processes (``compute_processes``): same answers, same errors, survive a killed one."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from calfsim.web import create_app
from calfsim.web._pool import ComputePool, ComputeProcessDied

from .conftest import TEST_SECRET


@pytest.fixture(scope="module")
def pooled() -> Any:
    app = create_app(
        db_url="sqlite://", secret=TEST_SECRET, predict_n_samples=300, compute_processes=1
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture(scope="module")
def local() -> Any:
    app = create_app(db_url="sqlite://", secret=TEST_SECRET, predict_n_samples=300)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def _pool(client: TestClient) -> ComputePool:
    pool: ComputePool = client.app.state.compute_pool  # type: ignore[attr-defined]
    return pool


def test_predict_and_plan_answer_byte_for_byte_as_in_the_server_process(
    pooled: TestClient, local: TestClient, protocol: dict[str, Any], intake: dict[str, Any]
) -> None:
    pids = _pool(pooled).pids
    assert len(pids) == 1 and os.getpid() not in pids
    for path, body in [
        ("/api/predict?seed=4&n_samples=300", protocol),
        ("/api/predict?seed=4&n_samples=300&profile=true", protocol),
        ("/api/plan?seed=2&n_samples=300", intake),
    ]:
        there = pooled.post(path, json=body)
        here = local.post(path, json=body)
        assert there.status_code == here.status_code == 200, there.text
        assert there.headers["content-type"] == "application/json"
        assert there.content == here.content


def test_errors_come_back_with_their_field(pooled: TestClient, protocol: dict[str, Any]) -> None:
    protocol["legs"]["left"]["calf_girth_cm"] = 380
    response = pooled.post("/api/predict", json=protocol)
    assert response.status_code == 422
    problems = response.json()["problems"]
    assert [p["field"] for p in problems] == ["legs.left.calf_girth_cm"]
    assert "380" in response.json()["message"]


def test_a_killed_process_is_replaced(pooled: TestClient, protocol: dict[str, Any]) -> None:
    pool = _pool(pooled)
    (victim,) = pool.pids
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and pool.pids in ([victim], []):
        time.sleep(0.05)
    (replacement,) = pool.pids
    assert replacement != victim and not pool.broken
    response = pooled.post("/api/predict", json=protocol)
    assert response.status_code == 200


def test_a_call_whose_process_dies_fails_clearly() -> None:
    async def scenario() -> None:
        pool = ComputePool(1, warm_n_samples=100)
        try:
            assert await pool.submit(sum, [1, 2, 3]) == 6
            sleeping = pool.submit(time.sleep, 30)
            await asyncio.sleep(0.2)
            os.kill(pool.pids[0], signal.SIGKILL)
            with pytest.raises(ComputeProcessDied, match="exit code"):
                await asyncio.wait_for(sleeping, 20)
            assert await asyncio.wait_for(pool.submit(max, [4, 9, 2]), 30) == 9
            with pytest.raises(ZeroDivisionError):
                await pool.submit(divmod, 1, 0)
        finally:
            pool.close()

    asyncio.run(scenario())


def test_answers_in_arrival_order_across_processes() -> None:
    async def scenario() -> list[int]:
        pool = ComputePool(2, warm_n_samples=100)
        try:
            futures = [pool.submit(pow, i, 2) for i in range(40)]
            return list(await asyncio.gather(*futures))
        finally:
            pool.close()

    assert asyncio.run(scenario()) == [i * i for i in range(40)]


def test_closing_fails_what_is_waiting() -> None:
    async def scenario() -> None:
        pool = ComputePool(1, warm_n_samples=100)
        busy = pool.submit(time.sleep, 30)
        waiting = pool.submit(sum, [1])
        await asyncio.sleep(0.1)
        pool.close(timeout_s=0.5)
        for future in (busy, waiting):
            with pytest.raises(ComputeProcessDied):
                await future
        with pytest.raises(RuntimeError, match="closed"):
            pool.submit(sum, [1])

    asyncio.run(scenario())


def test_serve_option_reaches_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from calfsim.web._settings import WebSettings

    monkeypatch.setenv("CALFSIM_COMPUTE_PROCESSES", "2")
    assert WebSettings.from_env().compute_processes == 2
    monkeypatch.setenv("CALFSIM_COMPUTE_PROCESSES", "-1")
    with pytest.raises(ValueError, match="compute_processes"):
        WebSettings.from_env()


def test_json_of_the_pool_is_valid_json(pooled: TestClient, protocol: dict[str, Any]) -> None:
    body = pooled.post("/api/predict?n_samples=300", json=protocol).content
    assert json.loads(body)["samples"] == 300
