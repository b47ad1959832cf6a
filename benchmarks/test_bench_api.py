"""Speed of one ``POST /api/predict`` through the whole app (ASGI stack, JSON in and out).

One request at a time, in process (Starlette's TestClient: the client's own work is
included). The load test with 20 concurrent clients against a real server is
``benchmarks/load_api.py``. Run with ``make bench``; medians go to docs/benchmarks.md.
"""

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from calfsim.web import create_app

PROTOCOL = json.loads(
    (Path(__file__).resolve().parents[1] / "examples" / "protocol.json").read_text()
)


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(db_url="sqlite://")) as test_client:
        yield test_client


@pytest.mark.parametrize(
    "query",
    ["", "profile=true", "n_samples=200", "n_samples=4000&profile=true"],
    ids=["default-500", "500-profile", "200", "4000-profile-like-cli"],
)
def test_api_predict(benchmark, client, query):
    seeds = iter(range(10**9))

    def call():
        response = client.post(f"/api/predict?seed={next(seeds)}&{query}", json=PROTOCOL)
        assert response.status_code == 200

    benchmark(call)
