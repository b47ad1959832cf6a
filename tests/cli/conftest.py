"""Fixtures for the CLI tests: a runner and protocol files (the example is in tests/)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner


@pytest.fixture
def runner() -> CliRunner:
    # Click >= 8.2 keeps stderr apart from stdout (result.stdout / result.stderr).
    return CliRunner()


@pytest.fixture
def write_protocol(tmp_path: Path) -> Callable[[Any], Path]:
    """Write decoded JSON to a fresh file in ``tmp_path`` and return its path."""
    counter = iter(range(1_000))

    def write(data: Any) -> Path:
        path = tmp_path / f"protocol_{next(counter)}.json"
        path.write_text(json.dumps(data), encoding="utf-8")
        return path

    return write
