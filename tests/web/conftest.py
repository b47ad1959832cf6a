"""Fixtures of the web tests: an app on an in-memory database and its test client."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from calfsim.web import create_app

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
#: Real scans, when ../shared/assets is present (never copied into the repository).
SCANS = ROOT.parent / "shared" / "assets" / "scans"
TEST_SECRET = "test-secret-0123456789-abcdefghijklmnop"


@pytest.fixture
def app() -> FastAPI:
    return create_app(db_url="sqlite://", secret=TEST_SECRET, predict_n_samples=300)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def protocol() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / "protocol.json").read_text())
    return data


@pytest.fixture
def intake() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / "intake.json").read_text())
    return data
