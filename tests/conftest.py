"""Fixtures shared by every test folder: the shipped example protocol."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

EXAMPLE_PATH = Path(__file__).parents[1] / "examples" / "protocol.json"


@pytest.fixture(scope="session")
def example_path() -> Path:
    return EXAMPLE_PATH


@pytest.fixture
def example() -> dict[str, Any]:
    """A fresh copy of the decoded example protocol (tests may change it)."""
    return json.loads(EXAMPLE_PATH.read_text(encoding="utf-8"))
