"""Static files and three.js: gzip for clients that accept it, 304 on revalidation, GLBs once."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient

import calfsim
from calfsim.io import GlbNode, write_glb
from calfsim.web._app import IMPORT_MAP, store_of

THREE = IMPORT_MAP["imports"]["three"]
ADDONS = IMPORT_MAP["imports"]["three/addons/"]
GZIP = {"accept-encoding": "gzip"}


def _raw(
    client: TestClient, url: str, headers: dict[str, str]
) -> tuple[int, dict[str, str], bytes]:
    """GET ``url``; return the status, the headers and the body as sent (not decoded)."""
    with client.stream("GET", url, headers=headers) as response:
        return response.status_code, dict(response.headers), b"".join(response.iter_raw())


def test_three_and_static_text_are_gzipped_when_asked(client: TestClient) -> None:
    for url in (THREE, ADDONS + "loaders/GLTFLoader.js", "/static/css/site.css"):
        identity = client.get(url, headers={"accept-encoding": "identity"})
        assert identity.status_code == 200 and "content-encoding" not in identity.headers
        status, headers, raw = _raw(client, url, GZIP)
        assert status == 200, url
        assert headers["content-encoding"] == "gzip", url
        assert "accept-encoding" in headers["vary"].lower()
        assert gzip.decompress(raw) == identity.content  # compressed once, nothing lost
        assert len(raw) < len(identity.content) / 2, url
        assert headers["etag"] and headers["last-modified"]
        # The security headers survive the compression.
        assert headers["content-security-policy"].startswith("default-src 'self'")
        assert headers["x-content-type-options"] == "nosniff"


def test_revalidation_with_the_etag_is_a_304(client: TestClient) -> None:
    first = client.get(THREE, headers=GZIP)
    etag = first.headers["etag"]
    for sent in (etag, "W/" + etag):  # a browser may hold it as weak
        again = client.get(THREE, headers={**GZIP, "if-none-match": sent})
        assert again.status_code == 304
        assert again.content == b""
        assert again.headers["etag"] == etag
        assert again.headers["x-frame-options"] == "DENY"
    changed = client.get(THREE, headers={**GZIP, "if-none-match": '"something-else"'})
    assert changed.status_code == 200 and changed.content == first.content


def test_range_requests_and_small_files_are_left_alone(client: TestClient) -> None:
    status, headers, raw = _raw(client, THREE, {**GZIP, "range": "bytes=0-99"})
    assert status == 206 and len(raw) == 100 and "content-encoding" not in headers
    status, headers, raw = _raw(client, "/static/img/favicon.svg", GZIP)  # < 500 bytes
    assert status == 200 and "content-encoding" not in headers and raw.startswith(b"<svg")


def test_stored_glb_parts_are_not_compressed_twice(client: TestClient, tmp_path: Path) -> None:
    n = 40
    angles = np.linspace(0.0, 2.0 * np.pi, n, endpoint=False)
    ring = np.column_stack([0.05 * np.cos(angles), 0.05 * np.sin(angles), np.zeros(n)])
    vertices = np.vstack([ring, ring + np.array([0.0, 0.0, 0.3])])
    faces = [[i, (i + 1) % n, n + i] for i in range(n)]
    faces += [[(i + 1) % n, n + (i + 1) % n, n + i] for i in range(n)]
    node = GlbNode(
        name="left_skin",
        vertices_m=vertices,
        faces=np.array(faces),
        morph_targets=[("day_007_median", vertices * 0.98)],
    )
    glb = write_glb(tmp_path / "legs.glb", [node]).read_bytes()
    assert len(glb) > 1000  # large enough that a compressing layer would not skip it
    simulation_id = store_of(client.app).add_simulation(  # type: ignore[arg-type]
        calfsim_version=calfsim.__version__,
        model_version="",
        scan_id=None,
        request={},
        summary={},
        glb=gzip.compress(glb),
        glb_parts={"median": gzip.compress(glb)},
    )
    for url in (
        f"/api/simulations/{simulation_id}/legs.glb",
        f"/api/simulations/{simulation_id}/parts/median.glb",
    ):
        status, headers, raw = _raw(client, url, GZIP)
        assert status == 200, url
        assert headers["content-encoding"] == "gzip", url  # once: not "gzip, gzip"
        assert gzip.decompress(raw) == glb, url
        status, headers, raw = _raw(client, url, {"accept-encoding": "identity"})
        assert status == 200 and "content-encoding" not in headers and raw == glb
