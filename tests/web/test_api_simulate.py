"""3D simulations over HTTP: the stored summary, the GLB (gzip or not), errors."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from calfsim.io import read_glb_morph_names
from calfsim.web import create_app

from .conftest import TEST_SECRET


@pytest.fixture
def fast_client() -> Any:
    app = create_app(
        db_url="sqlite://", secret=TEST_SECRET, simulate_n_samples=200, simulate_n_around=32
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_simulate_model_legs_stores_summary_and_glb(
    fast_client: TestClient, protocol: dict[str, Any], tmp_path: Path
) -> None:
    response = fast_client.post("/api/simulate?seed=2", json=protocol)
    assert response.status_code == 200, response.text
    body = response.json()
    simulation_id = body["simulation_id"]
    assert body["glb_url"] == f"/api/simulations/{simulation_id}/legs.glb"
    assert body["prediction"]["samples"] == 200
    frame_names = [f["name"] for f in body["frames"]]
    assert "day_084_median" in frame_names and "day_084_p10" in frame_names

    again = fast_client.get(f"/api/simulations/{simulation_id}")
    assert again.status_code == 200 and again.json() == body

    glb = fast_client.get(body["glb_url"], headers={"accept-encoding": "identity"})
    assert glb.status_code == 200
    assert glb.headers["content-type"] == "model/gltf-binary"
    assert "content-encoding" not in glb.headers
    assert glb.content[:4] == b"glTF"
    (tmp_path / "legs.glb").write_bytes(glb.content)
    names = read_glb_morph_names(tmp_path / "legs.glb")
    assert any("day_084_median" in targets for targets in names.values())

    with fast_client.stream("GET", body["glb_url"], headers={"accept-encoding": "gzip"}) as raw:
        assert raw.headers["content-encoding"] == "gzip"
        compressed = b"".join(raw.iter_raw())
    assert gzip.decompress(compressed) == glb.content
    assert len(compressed) < len(glb.content) / 2

    # The try-on page's parts: the skins' medians, the band targets, the muscles.
    medians = {f["name"] for f in body["frames"] if f["band"] == "median"}
    skins = {m["name"] for m in body["meshes"] if m["part"] == "skin"}
    muscles = {m["name"] for m in body["meshes"] if m["part"] != "skin"}
    expected = {
        "median": {name: sorted(medians) for name in skins},
        "bands": {name: sorted(set(frame_names) - medians) for name in skins},
        "muscles": {name: sorted(frame_names) for name in muscles},
    }
    whole = read_glb_morph_names(tmp_path / "legs.glb")
    for part, targets in expected.items():
        url = f"/api/simulations/{simulation_id}/parts/{part}.glb"
        with fast_client.stream("GET", url, headers={"accept-encoding": "gzip"}) as raw:
            assert raw.status_code == 200, part
            assert raw.headers["content-encoding"] == "gzip"
            assert "immutable" in raw.headers["cache-control"]
            data = gzip.decompress(b"".join(raw.iter_raw()))
        (tmp_path / f"{part}.glb").write_bytes(data)
        names = read_glb_morph_names(tmp_path / f"{part}.glb")
        assert {k: sorted(v) for k, v in names.items()} == targets, part
        for node, node_targets in names.items():  # in the order of the whole file
            assert node_targets == [t for t in whole[node] if t in node_targets]
    assert len((tmp_path / "median.glb").read_bytes()) < len(glb.content) / 2


def test_simulate_errors(fast_client: TestClient, protocol: dict[str, Any]) -> None:
    unknown = fast_client.post("/api/simulate?scan_id=" + "0" * 32, json=protocol)
    assert unknown.status_code == 404
    assert unknown.json()["problems"][0]["field"] == "scan_id"
    malformed = fast_client.post("/api/simulate?scan_id=../../etc", json=protocol)
    assert malformed.status_code == 422
    assert malformed.json()["problems"][0]["field"] == "scan_id"
    protocol["legs"]["right"]["calf_girth_cm"] = 500
    bad = fast_client.post("/api/simulate", json=protocol)
    assert bad.status_code == 422
    assert bad.json()["problems"][0]["field"] == "legs.right.calf_girth_cm"
    missing = "/api/simulations/" + "f" * 32
    for path in (missing, missing + "/legs.glb", missing + "/parts/median.glb"):
        assert fast_client.get(path).status_code == 404
    assert fast_client.get("/api/simulations/nope").status_code == 422
    assert fast_client.get(missing + "/parts/everything.glb").status_code == 422


def test_simulate_scan_id_in_the_body_is_checked(
    fast_client: TestClient, protocol: dict[str, Any]
) -> None:
    for scan_id, status in ((12, 422), ("x" * 32, 422), ("a" * 32, 404)):
        response = fast_client.post("/api/simulate", json={**protocol, "scan_id": scan_id})
        assert response.status_code == status, scan_id
        assert response.json()["problems"][0]["field"] == "scan_id"
    both = fast_client.post(
        "/api/simulate?scan_id=" + "b" * 32, json={**protocol, "scan_id": "a" * 32}
    )
    assert both.status_code == 422 and "different scans" in both.json()["message"]


def test_legs_come_from_the_scan_when_the_protocol_has_none() -> None:
    from calfsim.web._api_scan import _legs_from_scan

    measured = {
        "legs": {
            "left": {"side": "left", "calf_girth_cm": 38.3},
            "right": {"side": "right", "calf_girth_cm": 37.6},
        }
    }
    sessions = [{"day": 0, "product": "onabotulinumtoxinA", "doses_u": {"left": 50}}]
    filled = _legs_from_scan({"sessions": sessions}, measured)
    assert filled["legs"] == {"left": {"calf_girth_cm": 38.3}, "right": {"calf_girth_cm": 37.6}}
    # Given legs keep their values; a missing girth is taken from the scan.
    given = {"legs": {"left": {"calf_girth_cm": 36.0}, "right": {"ankle_girth_cm": 21.0}}}
    assert _legs_from_scan(given, measured)["legs"] == {
        "left": {"calf_girth_cm": 36.0},
        "right": {"ankle_girth_cm": 21.0, "calf_girth_cm": 37.6},
    }
    # Unknown sides (a scan without a known front) are not guessed.
    unknown = {"legs": {"+x": {"side": None, "calf_girth_cm": 38.0}}}
    assert _legs_from_scan({}, unknown)["legs"] == {}
