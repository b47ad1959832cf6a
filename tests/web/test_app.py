"""The app factory and `calfsim serve`: settings, three.js, the address printed."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from calfsim.web import IMPORT_MAP, create_app, import_map_json

from .conftest import ROOT, TEST_SECRET


def test_templates_static_and_three(client: TestClient) -> None:
    app = client.app
    templates = app.state.templates  # type: ignore[attr-defined]
    assert templates.env.globals["import_map_json"]() == import_map_json()
    three = client.get(IMPORT_MAP["imports"]["three"])
    assert three.status_code == 200
    assert "javascript" in three.headers["content-type"]
    loader = client.get(IMPORT_MAP["imports"]["three/addons/"] + "loaders/GLTFLoader.js")
    assert loader.status_code == 200 and "from 'three'" in loader.text
    assert client.get("/vendor/three/package.json").status_code == 404  # only build/ and jsm/


def test_import_map_hash_is_in_the_csp(client: TestClient) -> None:
    import base64
    import hashlib

    digest = base64.b64encode(hashlib.sha256(import_map_json().encode()).digest()).decode()
    csp = client.get("/api/evidence?topic=response").headers["content-security-policy"]
    assert f"'sha256-{digest}'" in csp


def test_missing_three_still_starts_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import calfsim.web._app as app_module

    monkeypatch.setattr(app_module, "_REPO_ROOT", tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CALFSIM_NODE_MODULES", str(tmp_path / "nowhere"))
    with caplog.at_level(logging.WARNING, logger="calfsim.web._app"):
        app = create_app(db_url="sqlite://", secret=TEST_SECRET)
    assert "three.js not found" in caplog.text
    with TestClient(app) as client:
        assert client.get("/vendor/three/build/three.module.js").status_code == 404
        assert client.get("/api/evidence?topic=response").status_code == 200


def test_settings_are_validated() -> None:
    with pytest.raises(ValidationError, match="db_url must be a SQLAlchemy database URL"):
        create_app(db_url="not a url", secret=TEST_SECRET)
    with pytest.raises(ValidationError, match="max_scan_bytes"):
        create_app(db_url="sqlite://", secret=TEST_SECRET, max_scan_bytes=0)
    with pytest.raises(ValidationError, match="no_such_setting"):
        create_app(db_url="sqlite://", no_such_setting=1)
    with pytest.raises(ValueError, match="not both"):
        from calfsim.web import WebSettings

        create_app(settings=WebSettings(), db_url="sqlite://")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_calfsim_serve_prints_the_address_and_answers(tmp_path: Path) -> None:
    port = _free_port()
    command = [
        str(Path(sys.executable).with_name("calfsim")),
        "serve",
        "--port",
        str(port),
        "--db",
        f"sqlite:///{tmp_path}/results.sqlite3",
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    server = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env
    )
    try:
        assert server.stdout is not None
        lines = [server.stdout.readline().decode() for _ in range(3)]
        assert any(f"calfsim is running at http://127.0.0.1:{port}/" in x for x in lines), lines
        deadline = time.monotonic() + 120
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/api/evidence?topic=response")
                break
            except httpx.TransportError:
                assert server.poll() is None, "the server stopped"
                assert time.monotonic() < deadline, "the server did not answer in 120 s"
                time.sleep(0.3)
        assert response.status_code == 200
        assert response.headers["x-frame-options"] == "DENY"
        assert (tmp_path / "results.sqlite3").is_file()
    finally:
        server.terminate()
        server.wait(timeout=30)
        if server.stdout is not None:
            server.stdout.close()


def test_calfsim_serve_refuses_a_bad_database_url() -> None:
    result = subprocess.run(
        [str(Path(sys.executable).with_name("calfsim")), "serve", "--db", "nonsense"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert "db_url must be a SQLAlchemy database URL" in result.stderr
    assert "Traceback" not in result.stderr
