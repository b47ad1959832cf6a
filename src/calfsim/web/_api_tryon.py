"""The photo try-on over HTTP: ``POST /api/tryon`` (before/after images for the day slider).

The request is ``multipart/form-data``: the ``photo`` (JPEG or PNG, at most
``max_photo_bytes``), ``protocol`` (the predict contract as a JSON string, as the try-on page
sends to ``/api/simulate``) and optionally ``band`` (median, p10, p90) and ``view`` (auto,
front, back). The answer holds, as base64 JPEG strings without any metadata, the upright photo
("before") and the "after" at each of `TRYON_WEEKS`, all scaled to at most
`TRYON_LONG_SIDE_PX`; the JSON record of ``calfsim tryon --json`` for the last week (landmarks,
confidences, contours, moves in px and cm per level; pixels of the returned images); and the
calf girth band of each leg at each week.

The photo is processed in memory only: the multipart body is parsed without the temporary
file Starlette uses for large parts, nothing is written to disk or to the database, and the
bytes are dropped with the request. The person is found once; each week is a warp of the same
traced contours (MediaPipe's detector is built once per process and used under its lock; the
CPU work runs under the app's limiter of heavy work).
"""

from __future__ import annotations

import base64
import json
import warnings
from typing import Any, cast

from fastapi import APIRouter, Depends, Request
from fastapi import UploadFile as FastAPIUploadFile
from fastapi.responses import JSONResponse
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from calfsim.errors import ExtrapolationWarning, InvalidInputError, MissingExtraError
from calfsim.io import parse_protocol
from calfsim.web._api import JSON_OBJECT, PROTOCOL_EXAMPLE, WARNINGS_LOCK, error_responses
from calfsim.web._errors import WebError
from calfsim.web._security import check_upload, require_csrf_if_cookie
from calfsim.web._work import run_heavy

__all__ = ["TRYON_LONG_SIDE_PX", "TRYON_WEEKS", "router", "tryon_payload"]

router = APIRouter()

#: Weeks of the day slider: one detection, one warp per week.
TRYON_WEEKS = (0, 4, 8, 12, 24, 52)
#: Long side of the returned images, pixels (the photo is scaled down before the detection).
TRYON_LONG_SIDE_PX = 1600
#: JPEG quality of the returned images.
_JPEG_QUALITY = 88
_BANDS = ("median", "p10", "p90")
_VIEWS = ("auto", "front", "back")
_DAYS_PER_WEEK = 7
#: Monte Carlo virtual patients of the prediction behind the warp.
_N_SAMPLES = 1000
_PROTOCOL_DESCRIPTION = (
    "The protocol as a JSON string: the predict contract (examples/protocol.json); its "
    "``days`` are ignored (the answer covers weeks " + ", ".join(map(str, TRYON_WEEKS)) + ")"
)

_REQUEST_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["photo", "protocol"],
                    "properties": {
                        "photo": {
                            "type": "string",
                            "format": "binary",
                            "description": "JPEG or PNG photo of a standing person, front or "
                            "back view, both lower legs visible",
                        },
                        "protocol": {"type": "string", "description": _PROTOCOL_DESCRIPTION},
                        "band": {"type": "string", "enum": list(_BANDS), "default": "median"},
                        "view": {"type": "string", "enum": list(_VIEWS), "default": "auto"},
                    },
                },
                "encoding": {"photo": {"contentType": "image/jpeg, image/png"}},
                "example": {"protocol": json.dumps(PROTOCOL_EXAMPLE), "band": "median"},
            }
        },
    }
}


def _choice(value: Any, *, field: str, accepted: tuple[str, ...], default: str) -> str:
    if value is None or value == "":
        return default
    if not isinstance(value, str) or value not in accepted:
        raise InvalidInputError(
            f"{field}: must be one of {', '.join(accepted)}; got {str(value)[:50]!r}", field=field
        )
    return value


def _protocol_data(raw: Any) -> Any:
    if raw is None or raw == "":
        raise InvalidInputError(
            "protocol: missing; send the protocol (the predict contract) as a JSON string",
            field="protocol",
        )
    if not isinstance(raw, str):
        raise InvalidInputError(
            "protocol: must be a text field holding JSON, not a file", field="protocol"
        )
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(
            f"protocol: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})",
            field="protocol",
        ) from None
    except RecursionError:
        raise InvalidInputError("protocol: nested too deeply", field="protocol") from None


def _downscale(rgb: Any, long_side_px: int) -> Any:
    from calfsim.photo._detect import _import_mediapipe

    height, width = rgb.shape[:2]
    scale = long_side_px / max(height, width)
    if scale >= 1.0:
        return rgb
    _, cv2 = _import_mediapipe()
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


def _jpeg_b64(pixels: Any) -> str:
    from calfsim.photo import encode_image

    data = encode_image(pixels, suffix=".jpg", quality=_JPEG_QUALITY)
    return base64.b64encode(data).decode("ascii")


def tryon_payload(
    photo: bytes,
    data: Any,
    *,
    band: str = "median",
    view: str = "auto",
    n_samples: int = _N_SAMPLES,
    seed: int = 1,
    weeks: tuple[int, ...] = TRYON_WEEKS,
    long_side_px: int = TRYON_LONG_SIDE_PX,
) -> dict[str, Any]:
    """Decode, detect once, predict once and warp the photo at every week (all in memory).

    Parameters
    ----------
    photo : bytes
        The uploaded file.
    data : Any
        The decoded protocol JSON.
    band, view : str
        As for ``calfsim tryon``.
    n_samples, seed : int
        Monte Carlo virtual patients and seed.
    weeks : tuple of int
        Weeks to warp.
    long_side_px : int
        Long side of the returned images.

    Returns
    -------
    dict
        ``before`` and ``weeks`` (``[{"week", "day", "after", "girth_cm"}]``, images as base64
        JPEG), ``record`` (``tryon_to_dict`` of the last week), ``image`` (size, scale) and
        ``notes``.

    Raises
    ------
    InvalidInputError
        ``field="photo"`` with advice when the photo cannot be used; the protocol's fields.
    """
    import dataclasses

    from calfsim.photo import (
        find_legs_in_photo,
        read_photo,
        silhouette_change_from_prediction,
        tryon_photo,
        tryon_to_dict,
    )
    from calfsim.simulation import predict

    protocol = parse_protocol(data)
    original = read_photo(photo)
    rgb = _downscale(original, long_side_px)
    legs = find_legs_in_photo(rgb, view=view)
    days = tuple(float(w * _DAYS_PER_WEEK) for w in weeks)

    def run_predict() -> Any:
        return predict(
            dataclasses.replace(protocol, days=days),
            n_samples=n_samples,
            rng=seed,
            include_profile=True,
        )

    if protocol.allow_extrapolation:
        with WARNINGS_LOCK, warnings.catch_warnings():
            warnings.simplefilter("ignore", ExtrapolationWarning)  # reported in the notes
            prediction = run_predict()
    else:
        prediction = run_predict()
    frames: list[dict[str, Any]] = []
    record: dict[str, Any] = {}
    for week, day in zip(weeks, days, strict=True):
        changes = {
            side: silhouette_change_from_prediction(
                protocol, prediction, side=side, day=day, band=band
            )
            for side in protocol.legs
        }
        result = tryon_photo(rgb, changes, view=view, legs=legs)
        record = tryon_to_dict(result, day=day, band=band)
        girth = {
            side.value: {
                "before": round(c.girth_before_cm, 2),
                "shown": round(c.girth_after_cm, 2),
                **(
                    {}
                    if c.girth_band_cm is None
                    else dict(
                        zip(
                            ("p10", "median", "p90"),
                            (round(v, 2) for v in c.girth_band_cm),
                            strict=True,
                        )
                    )
                ),
            }
            for side, c in result.changes.items()
        }
        frames.append(
            {"week": week, "day": day, "after": _jpeg_b64(result.after), "girth_cm": girth}
        )
    height, width = rgb.shape[:2]
    return {
        "band": band,
        "view": legs.view,
        "image": {
            "width_px": width,
            "height_px": height,
            "original_width_px": int(original.shape[1]),
            "original_height_px": int(original.shape[0]),
            "media_type": "image/jpeg",
        },
        "before": _jpeg_b64(rgb),
        "weeks": frames,
        "record": record,
        "notes": record.get("notes", []),
        "disclaimer": (
            "An illustration of the model's prediction, not a promise: individual results vary "
            "(p10-p90 range)."
        ),
    }


async def _read_form(request: Request) -> FormData:
    """Parse the multipart body entirely in memory (no temporary file for large parts)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "multipart/form-data":
        raise WebError(
            415,
            "unsupported_type",
            f"send multipart/form-data (fields photo, protocol); got "
            f"{content_type or 'no content type'!r}",
            field="content-type",
        )
    settings = request.app.state.settings
    parser = MultiPartParser(
        request.headers, request.stream(), max_files=1, max_fields=10, max_part_size=1024 * 1024
    )
    # The security middleware caps the body below this: every part stays in memory.
    parser.spool_max_size = max(settings.max_scan_bytes, settings.max_photo_bytes) * 2
    try:
        return await parser.parse()
    except MultiPartException as exc:
        raise InvalidInputError(f"body: {exc.message}", field="body") from None


@router.post(
    "/api/tryon",
    name="api_tryon",
    tags=["photo"],
    summary="Before/after of a photo's calves at weeks 0-52 (processed in memory, never stored)",
    dependencies=[Depends(require_csrf_if_cookie)],
    openapi_extra=_REQUEST_BODY,
    responses={200: JSON_OBJECT, **error_responses(403, 413, 415, 422, 503)},
)
async def api_tryon(request: Request) -> JSONResponse:
    """Return the before image, the after image of every week and the try-on record."""
    form = await _read_form(request)
    try:
        upload = form.get("photo")
        if not isinstance(upload, UploadFile):
            raise InvalidInputError(
                "photo: missing; send the photo as a file part named 'photo' (JPEG or PNG)",
                field="photo",
            )
        settings = request.app.state.settings
        check_upload(
            cast(FastAPIUploadFile, upload), kind="photo", max_bytes=settings.max_photo_bytes
        )
        band = _choice(form.get("band"), field="band", accepted=_BANDS, default="median")
        view = _choice(form.get("view"), field="view", accepted=_VIEWS, default="auto")
        data = _protocol_data(form.get("protocol"))
        photo = await upload.read()
    finally:
        await form.close()
    try:
        payload = await run_heavy(request, tryon_payload, photo, data, band=band, view=view)
    except MissingExtraError as exc:
        raise WebError(503, "unavailable", str(exc), field="photo") from None
    return JSONResponse(payload)
