"""Scans and 3D simulations over HTTP: ``/api/measure``, ``/api/simulate`` and their results.

- ``POST /api/measure`` takes a scan upload (multipart field ``scan``; ``.obj .ply .stl .glb
  .gltf``, at most 50 MB), answers the JSON of ``calfsim measure --json`` plus ``scan_id``,
  and keeps the file for a while so that ``/api/simulate?scan_id=...`` can deform it.
- ``POST /api/simulate`` takes a protocol (the predict contract), simulates both legs in 3D
  over a year and answers the summary (``summary.json`` of ``calfsim simulate``) plus
  ``simulation_id`` and ``glb_url``; the GLB (morph targets per week and band) is stored
  gzip-compressed and served from ``GET /api/simulations/{id}/legs.glb``. The try-on page
  loads it in parts instead (``GET /api/simulations/{id}/parts/{median|bands|muscles}.glb``,
  cut from the same file): the skins' weekly medians first, the rest when it is asked for.

Loading a scan and simulating take seconds of one core each: they run in worker threads,
at most ``max_concurrent_simulations`` at once, with ``max_queued_simulations`` more waiting;
beyond that the answer is 503 with ``Retry-After``.
"""

from __future__ import annotations

import gzip
import re
import tempfile
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import anyio
import anyio.to_thread
from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse, Response

import calfsim
from calfsim.errors import ExtrapolationWarning, InvalidInputError, MeshError
from calfsim.io import SCAN_SUFFIXES, parse_protocol
from calfsim.web._api import (
    JSON_OBJECT,
    MAX_API_SAMPLES,
    PROTOCOL_EXAMPLE,
    WARNINGS_LOCK,
    Seed,
    error_responses,
    json_request_body,
    read_json_body,
)
from calfsim.web._app import store_of
from calfsim.web._security import check_upload, require_csrf_if_cookie
from calfsim.web._work import run_heavy

__all__ = ["router"]

router = APIRouter()

T = TypeVar("T")
#: Ids are 32 lower-case hex digits (128 random bits).
_ID_PATTERN = r"^[0-9a-f]{32}$"
_UNITS = ("m", "dm", "cm", "mm")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def _safe_filename(name: str | None, suffix: str) -> str:
    """Return a file name for messages and the copy: no folders, no odd characters."""
    stem = _SAFE_NAME.sub("_", Path(name or "scan").name)[:100].strip("._") or "scan"
    return stem if stem.lower().endswith(suffix) else stem + suffix


def _measure(path: Path, units: str | None) -> dict[str, Any]:
    from calfsim.geometry import find_legs
    from calfsim.io import legs_to_dict, load_scan

    try:
        loaded = load_scan(path, units=units)
        found = find_legs(loaded)
    except MeshError as exc:
        raise InvalidInputError(str(exc), field="scan") from None
    return legs_to_dict(loaded, found, source=path.name)


def _measure_upload(data: bytes, filename: str, units: str | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="calfsim-scan-") as folder:
        path = Path(folder) / filename
        path.write_bytes(data)
        return _measure(path, units)


def _units(units: str | None) -> str | None:
    if units in (None, ""):
        return None
    if units not in _UNITS:
        raise InvalidInputError(
            f"units: must be one of {', '.join(_UNITS)} (or omitted to recognise them from the "
            f"body's size); got {units!r}",
            field="units",
        )
    return units


@router.post(
    "/api/measure",
    name="api_measure",
    tags=["scan"],
    summary="Measure both legs of a 3D scan like a tape (calf, ankle, knee girths, profile)",
    dependencies=[Depends(require_csrf_if_cookie)],
    responses={200: JSON_OBJECT, **error_responses(403, 413, 415, 422, 503)},
)
async def api_measure(
    request: Request,
    scan: Annotated[
        UploadFile, File(description="Body or lower-leg scan: .obj, .ply, .stl, .glb or .gltf")
    ],
    units: Annotated[
        str | None,
        Form(description="Units of the file: m, dm, cm or mm (default: from the body's size)"),
    ] = None,
) -> JSONResponse:
    """Return the JSON of ``calfsim measure --json`` plus ``scan_id`` for later simulations."""
    settings = request.app.state.settings
    suffix = check_upload(
        scan, kind="scan", max_bytes=settings.max_scan_bytes, suffixes=SCAN_SUFFIXES
    )
    unit = _units(units)
    filename = _safe_filename(scan.filename, suffix)
    data = await scan.read()
    result = await run_heavy(request, _measure_upload, data, filename, unit)
    store = store_of(request.app)
    scan_id = await anyio.to_thread.run_sync(
        lambda: store.add_scan(filename=filename, units=unit, data=data, legs=result)
    )
    return JSONResponse({"scan_id": scan_id, **result})


def _simulate(
    data: Any,
    *,
    scan_file: tuple[str, bytes, str | None] | None,
    n_samples: int,
    seed: int,
    n_around: int,
) -> tuple[dict[str, Any], bytes, dict[str, bytes], str]:
    """Parse, simulate; return (summary, GLB, its parts for the page, model version), gzipped."""
    from calfsim.io import (
        load_scan,
        simulation_glb_parts,
        simulation_to_dict,
        write_simulation_glb,
    )
    from calfsim.simulation import simulate_legs

    protocol = parse_protocol(data)
    with tempfile.TemporaryDirectory(prefix="calfsim-sim-") as folder:
        scan = None
        if scan_file is not None:
            name, raw, units = scan_file
            path = Path(folder) / name
            path.write_bytes(raw)
            try:
                scan = load_scan(path, units=units)
            except MeshError as exc:
                raise InvalidInputError(str(exc), field="scan_id") from None

        def run() -> Any:
            try:
                return simulate_legs(
                    protocol, scan=scan, n_samples=n_samples, rng=seed, n_around=n_around
                )
            except MeshError as exc:
                raise InvalidInputError(str(exc), field="scan_id") from None

        if protocol.allow_extrapolation:
            with WARNINGS_LOCK, warnings.catch_warnings():
                warnings.simplefilter("ignore", ExtrapolationWarning)  # in the notes
                sim = run()
        else:
            sim = run()
        glb = write_simulation_glb(sim, Path(folder) / "legs.glb").read_bytes()
    # Level 1: 19 MB -> ~6 MB in ~0.3 s; higher levels save little more for 3x the time. The
    # whole file is compressed in a second thread (zlib releases the GIL) while the page's
    # parts are cut and compressed (~0.3 s too), so that they add little to the answer's time.
    with ThreadPoolExecutor(max_workers=1) as pool:
        whole_gz = pool.submit(gzip.compress, glb, compresslevel=1)
        summary = simulation_to_dict(sim)
        parts_gz = {
            name: gzip.compress(part, compresslevel=1)
            for name, part in simulation_glb_parts(sim, glb).items()
        }
        glb_gz = whole_gz.result()
    model_version = str(summary.get("prediction", {}).get("model_version", ""))
    return summary, glb_gz, parts_gz, model_version


def _legs_from_scan(data: Any, measured: dict[str, Any]) -> Any:
    """Fill the protocol's missing legs or calf girths from the scan's measurement.

    With a scan the scan's girths replace the tape measurements anyway, so a page may send a
    protocol without legs; the sides come from the scan (``left``/``right`` when known).
    """
    if not isinstance(data, dict):
        return data
    legs = data.get("legs")
    if legs is None or legs == {}:
        legs = {}
        for leg in measured.get("legs", {}).values():
            if leg.get("side") in ("left", "right") and leg.get("calf_girth_cm") is not None:
                legs[leg["side"]] = {}
    if not isinstance(legs, dict):
        return data
    girths = {
        leg.get("side"): leg.get("calf_girth_cm") for leg in measured.get("legs", {}).values()
    }
    filled = {
        side: (
            {**leg, "calf_girth_cm": girths[side]}
            if isinstance(leg, dict) and "calf_girth_cm" not in leg and girths.get(side)
            else leg
        )
        for side, leg in legs.items()
    }
    return {**data, "legs": filled}


def _scan_id_of(data: Any, query_scan_id: str | None) -> str | None:
    """Take ``scan_id`` out of the body (pages send it there) or keep the query's."""
    if not isinstance(data, dict) or "scan_id" not in data:
        return query_scan_id
    body_scan_id = data.pop("scan_id")
    if body_scan_id is None:
        return query_scan_id
    if not isinstance(body_scan_id, str) or not re.fullmatch(_ID_PATTERN, body_scan_id):
        raise InvalidInputError(
            f"scan_id: must be the 32 hex digits of a scan_id from POST /api/measure; got "
            f"{body_scan_id!r}"[:200],
            field="scan_id",
        )
    if query_scan_id is not None and query_scan_id != body_scan_id:
        raise InvalidInputError(
            "scan_id: the body and the query name different scans; give it once", field="scan_id"
        )
    return body_scan_id


@router.post(
    "/api/simulate",
    name="api_simulate",
    tags=["scan"],
    summary="Simulate both legs in 3D over a year (GLB with weekly morph targets and the band)",
    openapi_extra=json_request_body(
        "ProtocolIn",
        "A protocol, as for /api/predict; with a scan (``scan_id`` in the query, or as an extra "
        "top-level body field) the scan's girths replace the tape measurements",
        PROTOCOL_EXAMPLE,
    ),
    responses={200: JSON_OBJECT, **error_responses(404, 413, 415, 422, 503)},
)
async def api_simulate(
    request: Request,
    seed: Seed = 1,
    n_samples: Annotated[
        int | None,
        Query(ge=100, le=MAX_API_SAMPLES, description="Monte Carlo virtual patients"),
    ] = None,
    scan_id: Annotated[
        str | None,
        Query(
            pattern=_ID_PATTERN,
            description="Deform this scan (the scan_id of POST /api/measure) instead of model legs",
        ),
    ] = None,
) -> JSONResponse:
    """Return the 3D simulation's summary, its ``simulation_id`` and ``glb_url``."""
    data = await read_json_body(request, what="protocol")
    scan_id = _scan_id_of(data, scan_id)
    settings = request.app.state.settings
    store = store_of(request.app)
    scan_file = None
    if scan_id is not None:
        record = await anyio.to_thread.run_sync(lambda: store.get_scan(scan_id))
        scan_file = (record.filename, record.data, record.units)
        data = _legs_from_scan(data, record.legs)
    summary, glb_gz, parts_gz, model_version = await run_heavy(
        request,
        _simulate,
        data,
        scan_file=scan_file,
        n_samples=n_samples or settings.simulate_n_samples,
        seed=seed,
        n_around=settings.simulate_n_around,
    )
    request_record = {
        "protocol": data,
        "seed": seed,
        "n_samples": n_samples or settings.simulate_n_samples,
        "scan_id": scan_id,
    }
    simulation_id = await anyio.to_thread.run_sync(
        lambda: store.add_simulation(
            calfsim_version=calfsim.__version__,
            model_version=model_version,
            scan_id=scan_id,
            request=request_record,
            summary=summary,
            glb=glb_gz,
            glb_parts=parts_gz,
        )
    )
    return JSONResponse(_with_urls(request, simulation_id, summary))


def _with_urls(request: Request, simulation_id: str, summary: dict[str, Any]) -> dict[str, Any]:
    glb_url = request.app.url_path_for("api_simulation_glb", simulation_id=simulation_id)
    return {"simulation_id": simulation_id, "glb_url": str(glb_url), **summary}


SimulationId = Annotated[
    str, PathParam(pattern=_ID_PATTERN, description="simulation_id from POST /api/simulate")
]


@router.get(
    "/api/simulations/{simulation_id}",
    name="api_simulation",
    tags=["scan"],
    summary="A stored 3D simulation's summary (as returned by POST /api/simulate)",
    responses={200: JSON_OBJECT, **error_responses(404, 422)},
)
async def api_simulation(request: Request, simulation_id: SimulationId) -> JSONResponse:
    """Return a stored simulation's summary."""
    store = store_of(request.app)
    record = await anyio.to_thread.run_sync(lambda: store.get_simulation(simulation_id))
    return JSONResponse(_with_urls(request, simulation_id, record.summary))


@router.get(
    "/api/simulations/{simulation_id}/legs.glb",
    name="api_simulation_glb",
    tags=["scan"],
    summary="The simulation's legs as binary glTF with named morph targets",
    responses={
        200: {"content": {"model/gltf-binary": {"schema": {"type": "string", "format": "binary"}}}},
        **error_responses(404, 422),
    },
)
async def api_simulation_glb(request: Request, simulation_id: SimulationId) -> Response:
    """Return the GLB (gzip-encoded when the client accepts it, as browsers do)."""
    store = store_of(request.app)
    glb_gz = await anyio.to_thread.run_sync(lambda: store.get_simulation_glb(simulation_id))
    return await _glb_response(request, glb_gz, "legs.glb")


@router.get(
    "/api/simulations/{simulation_id}/parts/{part}.glb",
    name="api_simulation_glb_part",
    tags=["scan"],
    summary="A part of the simulation's GLB, as the try-on page loads it",
    description=(
        "Cut from legs.glb without re-encoding: ``median`` the skins with the weekly median "
        "targets, ``bands`` the skins with the p10/p90 targets, ``muscles`` the inner muscles "
        "with every target (404 when the simulation has none)."
    ),
    responses={
        200: {"content": {"model/gltf-binary": {"schema": {"type": "string", "format": "binary"}}}},
        **error_responses(404, 422),
    },
)
async def api_simulation_glb_part(
    request: Request,
    simulation_id: SimulationId,
    part: Annotated[Literal["median", "bands", "muscles"], PathParam(description="Which part")],
) -> Response:
    """Return one part of the GLB (gzip-encoded when the client accepts it)."""
    store = store_of(request.app)
    glb_gz = await anyio.to_thread.run_sync(
        lambda: store.get_simulation_glb_part(simulation_id, part)
    )
    return await _glb_response(request, glb_gz, f"{part}.glb")


async def _glb_response(request: Request, glb_gz: bytes, filename: str) -> Response:
    """Send a stored gzip-compressed GLB, compressed when the client accepts gzip."""
    headers = {
        "content-disposition": f'inline; filename="{filename}"',
        "cache-control": "private, max-age=86400, immutable",
        "vary": "accept-encoding",
    }
    if "gzip" in request.headers.get("accept-encoding", ""):
        headers["content-encoding"] = "gzip"
        return Response(glb_gz, media_type="model/gltf-binary", headers=headers)
    glb = await anyio.to_thread.run_sync(gzip.decompress, glb_gz)
    return Response(glb, media_type="model/gltf-binary", headers=headers)
