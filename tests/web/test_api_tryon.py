"""POST /api/tryon: a real photo in, before/after images per week out, nothing stored."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

pytest.importorskip("mediapipe", reason="the 'photo' extra is not installed")
Image = pytest.importorskip("PIL.Image")

PHOTOS = Path(__file__).resolve().parents[2] / ".." / "shared" / "assets" / "photos"
RYOTA = PHOTOS / "pifu-ryota.png"
needs_photo = pytest.mark.skipif(not RYOTA.is_file(), reason=f"{RYOTA} is absent")

GPS_IFD = 0x8825


def _protocol(protocol: dict[str, Any]) -> str:
    return json.dumps(protocol)


def _post(client: TestClient, photo: bytes, name: str, media: str, **fields: str) -> Any:
    return client.post("/api/tryon", files={"photo": (name, photo, media)}, data=fields)


def _decode(b64: str) -> Any:
    return Image.open(io.BytesIO(base64.b64decode(b64)))


@pytest.fixture(scope="module")
def ryota_png() -> bytes:
    if not RYOTA.is_file():
        pytest.skip(f"{RYOTA} is absent")
    return RYOTA.read_bytes()


@pytest.fixture(scope="module")
def ryota_jpeg_with_gps(ryota_png: bytes) -> bytes:
    """The photo as a 2400 px JPEG (over 1 MB) carrying EXIF with a GPS position."""
    image = Image.open(io.BytesIO(ryota_png)).convert("RGB").resize((2400, 2400))
    rng = np.random.default_rng(2)
    noisy = np.asarray(image, dtype=np.int16) + rng.integers(-10, 11, (2400, 2400, 3))
    image = Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[GPS_IFD] = {1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)}
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=95, exif=exif)
    data = out.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(GPS_IFD)  # the test input has GPS
    return data


@pytest.fixture
def tryon_answer(client: TestClient, ryota_png: bytes, protocol: dict[str, Any]) -> Any:
    response = _post(client, ryota_png, "ryota.png", "image/png", protocol=_protocol(protocol))
    assert response.status_code == 200, response.text
    return response.json()


@needs_photo
def test_tryon_returns_before_and_weekly_after_images_with_landmarks(tryon_answer: Any) -> None:
    body = tryon_answer
    before = _decode(body["before"])
    assert before.format == "JPEG"
    assert max(before.size) <= 1600
    assert before.size == (body["image"]["width_px"], body["image"]["height_px"])
    weeks = [frame["week"] for frame in body["weeks"]]
    assert weeks == [0, 4, 8, 12, 24, 52]
    before_px = np.asarray(before, dtype=np.int16)
    diffs = []
    for frame in body["weeks"]:
        after = _decode(frame["after"])
        assert after.size == before.size
        diffs.append(np.abs(np.asarray(after, dtype=np.int16) - before_px).mean())
        for girth in frame["girth_cm"].values():
            assert girth["p10"] <= girth["median"] <= girth["p90"]
    # Week 0 is (up to JPEG noise) the photo; the calves are narrower at week 12.
    assert diffs[weeks.index(12)] > diffs[0]
    week12 = body["weeks"][weeks.index(12)]["girth_cm"]
    assert all(g["median"] < g["before"] for g in week12.values())
    record = body["record"]
    assert {"left_knee", "right_knee", "left_ankle", "right_ankle"} <= set(record["landmarks"])
    assert all(0.0 <= lm["visibility"] <= 1.0 for lm in record["landmarks"].values())
    warped = [leg for leg in record["legs"].values() if leg["status"] == "warped"]
    assert warped
    level = max(warped[0]["levels"], key=lambda lv: lv["medial_inward_px"])
    assert level["medial_inward_px"] > 0 and level["medial_inward_cm"] > 0
    assert "not a promise" in body["disclaimer"]


@needs_photo
def test_tryon_strips_exif_and_gps(
    client: TestClient, ryota_jpeg_with_gps: bytes, protocol: dict[str, Any]
) -> None:
    response = _post(
        client, ryota_jpeg_with_gps, "ryota.jpg", "image/jpeg", protocol=_protocol(protocol)
    )
    assert response.status_code == 200, response.text
    body = response.json()
    for b64 in [body["before"], *(frame["after"] for frame in body["weeks"])]:
        raw = base64.b64decode(b64)
        image = Image.open(io.BytesIO(raw))
        assert not image.getexif(), "EXIF left in a returned image"
        assert b"Exif" not in raw and b"SecretCam" not in raw
        assert max(image.size) == 1600  # scaled down from 2400 px


@needs_photo
def test_tryon_band_changes_the_girth_shown(
    client: TestClient, ryota_png: bytes, protocol: dict[str, Any]
) -> None:
    shown = {}
    for band in ("p10", "p90"):
        response = _post(
            client, ryota_png, "r.png", "image/png", protocol=_protocol(protocol), band=band
        )
        assert response.status_code == 200, response.text
        frame = response.json()["weeks"][3]
        shown[band] = frame["girth_cm"]["left"]["shown"]
    assert shown["p10"] < shown["p90"]


@needs_photo
def test_tryon_stores_nothing(
    client: TestClient,
    ryota_jpeg_with_gps: bytes,
    protocol: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No row in any table, and the upload never rolls over to a temporary file."""
    import tempfile

    from sqlalchemy import inspect, text

    from calfsim.web._app import store_of

    assert len(ryota_jpeg_with_gps) > 1024 * 1024  # larger than Starlette's usual spool
    engine = store_of(client.app).engine  # type: ignore[arg-type]

    def counts() -> dict[str, int]:
        with engine.connect() as conn:
            return {
                t: int(conn.execute(text(f'SELECT COUNT(*) FROM "{t}"')).scalar_one())
                for t in inspect(engine).get_table_names()
            }

    def no_disk(self: Any) -> None:
        raise AssertionError("the photo was spooled to a temporary file")

    monkeypatch.setattr(tempfile.SpooledTemporaryFile, "rollover", no_disk)
    before = counts()
    assert before  # the tables exist
    response = _post(
        client, ryota_jpeg_with_gps, "r.jpg", "image/jpeg", protocol=_protocol(protocol)
    )
    assert response.status_code == 200, response.text
    assert counts() == before


def test_tryon_refuses_other_types(client: TestClient, protocol: dict[str, Any]) -> None:
    response = _post(client, b"GIF89a....", "x.gif", "image/gif", protocol=_protocol(protocol))
    assert response.status_code == 415
    assert response.json()["problems"][0]["field"] == "photo"


def test_tryon_refuses_json_body(client: TestClient, protocol: dict[str, Any]) -> None:
    response = client.post("/api/tryon", json=protocol)
    assert response.status_code == 415


def test_tryon_refuses_too_large(app: Any, protocol: dict[str, Any]) -> None:
    from calfsim.web import create_app

    small = create_app(db_url="sqlite://", secret="s" * 40, max_photo_bytes=10_000)
    with TestClient(small, raise_server_exceptions=False) as client:
        response = _post(
            client, b"\xff\xd8" + b"0" * 20_000, "x.jpg", "image/jpeg", protocol=_protocol(protocol)
        )
    assert response.status_code == 413
    assert response.json()["problems"][0]["field"] == "photo"


def test_tryon_refuses_not_an_image(client: TestClient, protocol: dict[str, Any]) -> None:
    response = _post(
        client, b"not a photo at all", "x.jpg", "image/jpeg", protocol=_protocol(protocol)
    )
    assert response.status_code == 422
    assert response.json()["problems"][0]["field"] == "photo"


def test_tryon_refuses_no_person(client: TestClient, protocol: dict[str, Any]) -> None:
    rng = np.random.default_rng(1)
    pixels = (rng.random((600, 400, 3)) * 40 + 100).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="PNG")
    response = _post(client, out.getvalue(), "wall.png", "image/png", protocol=_protocol(protocol))
    assert response.status_code == 422
    problem = response.json()["problems"][0]
    assert problem["field"] == "photo"
    assert "photo" in problem["message"].lower()


@needs_photo
@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"protocol": "{not json"}, "protocol"),
        ({}, "protocol"),
        ({"protocol": json.dumps({"legs": {"left": {"calf_girth_cm": -3}}})}, "legs"),
        ({"band": "p50"}, "band"),
        ({"view": "side"}, "view"),
    ],
)
def test_tryon_names_the_bad_field(
    client: TestClient,
    ryota_png: bytes,
    protocol: dict[str, Any],
    fields: dict[str, str],
    field: str,
) -> None:
    data = {"protocol": _protocol(protocol), **fields} if fields else {}
    response = _post(client, ryota_png, "r.png", "image/png", **data)
    assert response.status_code == 422, response.text
    named = [p["field"] or "" for p in response.json()["problems"]]
    assert any(f.startswith(field) for f in named), named


def test_tryon_is_in_the_openapi_schema(client: TestClient) -> None:
    schema = client.get("/api/openapi.json").json()
    body = schema["paths"]["/api/tryon"]["post"]["requestBody"]["content"]["multipart/form-data"]
    assert {"photo", "protocol"} <= set(body["schema"]["required"])


def test_tryon_refusal_gives_advice(client: TestClient, protocol: dict[str, Any]) -> None:
    """Legs touching (a suit, feet together): 422 on the photo with the photo to take instead."""
    suit = PHOTOS / "tfex-standing-suit.jpeg"
    if not suit.is_file():
        pytest.skip(f"{suit} is absent")
    response = _post(
        client, suit.read_bytes(), "suit.jpeg", "image/jpeg", protocol=_protocol(protocol)
    )
    assert response.status_code == 422, response.text
    problems = response.json()["problems"]
    assert all(p["field"] == "photo" for p in problems)
    assert any("feet hip-width apart" in p["message"] for p in problems), problems
