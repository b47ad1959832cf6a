"""The JSON API: the CLI's contracts over HTTP (predict, plan, plan PDF, evidence).

Bodies are the contract files themselves (``examples/protocol.json``, ``examples/intake.json``)
sent as ``application/json``; answers are the JSON of ``calfsim predict --json`` and
``calfsim plan --json``. The scan and 3D routes are in :mod:`calfsim.web._api_scan`. Every
CPU-bound call runs in a worker thread, off the event loop.
"""

from __future__ import annotations

import json
import tempfile
import threading
import warnings
from pathlib import Path
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field
from pydantic.json_schema import models_json_schema

from calfsim.errors import ExtrapolationWarning, InvalidInputError
from calfsim.evidence import load_evidence
from calfsim.io import IntakeIn, ProtocolIn, evidence_to_dict, parse_intake, parse_protocol
from calfsim.web._errors import WebError
from calfsim.web._work import run_compute, run_heavy

__all__ = [
    "JSON_OBJECT",
    "MAX_API_SAMPLES",
    "WARNINGS_LOCK",
    "ErrorOut",
    "ProblemOut",
    "error_responses",
    "evidence_to_dict",
    "install_openapi",
    "json_request_body",
    "read_json_body",
    "router",
]

router = APIRouter()

#: Most virtual patients one API call may ask for (the CLI's default; more is a batch job).
MAX_API_SAMPLES = 4000
WARNINGS_LOCK = threading.Lock()


class ProblemOut(BaseModel):
    """One problem of a request."""

    field: str | None = Field(description="JSON path of the field (null: the whole request)")
    message: str = Field(description="What is wrong, the value given and what is accepted")


class ErrorOut(BaseModel):
    """Every error answer (4xx, 5xx) has this shape."""

    error: str = Field(description="invalid_input, too_large, unsupported_type, csrf, ...")
    message: str = Field(description="All problems, one per line")
    problems: list[ProblemOut]


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries of these error statuses (all `ErrorOut`)."""
    descriptions = {
        403: "CSRF token missing or wrong (browser uploads only)",
        404: "Unknown or expired id",
        413: "Body or upload larger than the limit named in the message",
        415: "Unsupported content or file type; the message names the accepted ones",
        422: "Invalid input: every problem with its field (JSON path) and value",
        503: "Too many simulations waiting; retry after the Retry-After seconds",
    }
    return {s: {"model": ErrorOut, "description": descriptions[s]} for s in statuses}


#: The OpenAPI examples: ``examples/protocol.json`` and ``examples/intake.json``.
PROTOCOL_EXAMPLE: dict[str, Any] = {
    "patient": {"sex": "female", "age_years": 30, "height_cm": 160, "weight_kg": 55},
    "legs": {
        "left": {"calf_girth_cm": 36.3, "ankle_girth_cm": 21.5, "knee_girth_cm": 34.0},
        "right": {"calf_girth_cm": 36.5},
    },
    "sessions": [
        {
            "day": 0,
            "product": "onabotulinumtoxinA",
            "doses_u": {"left": {"gm_medial": 60, "gm_lateral": 40}, "right": 100},
        }
    ],
    "days": [0, 7, 14, 28, 56, 84, 182, 365],
}
INTAKE_EXAMPLE: dict[str, Any] = {
    "patient": {"sex": "female", "age_years": 29, "height_cm": 160, "weight_kg": 55},
    "legs": {
        "left": {
            "calf_girth_cm": 37.5,
            "ankle_girth_cm": 21.5,
            "fat_thickness_mm": 6.0,
            "gm_thickness_mm": 18.0,
        },
        "right": {"calf_girth_cm": 37.8},
    },
    "screening": {
        "infection_at_site": False,
        "skin_condition_at_site": False,
        "neuromuscular_disease": False,
        "toxin_hypersensitivity": False,
        "cows_milk_protein_allergy": False,
        "pregnant_or_breastfeeding": False,
        "aminoglycosides": False,
        "anticoagulants": False,
        "bleeding_disorder": False,
        "athlete_or_calf_power_work": False,
        "calf_fat_dominant": False,
        "heel_raise_bulge": True,
    },
    "goal": "max",
    "product": "onabotulinumtoxinA",
    "recent_toxin": [{"days_ago": 20, "product": "onabotulinumtoxinA", "units": 50}],
    "prices": {"currency": "USD", "per_unit": 14.0, "session_fee": 0},
}


def json_request_body(
    schema_name: str, description: str, example: dict[str, Any]
) -> dict[str, Any]:
    """OpenAPI ``requestBody`` of a JSON contract (schema added by `install_openapi`)."""
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {
                "application/json": {
                    "schema": {"$ref": f"#/components/schemas/{schema_name}"},
                    "example": example,
                }
            },
        }
    }


JSON_OBJECT = {"content": {"application/json": {"schema": {"type": "object"}}}}


async def read_json_body(request: Request, *, what: str) -> Any:
    """Return the decoded JSON body of ``request``.

    Parameters
    ----------
    request : fastapi.Request
    what : str
        Name of the document in messages (``"protocol"``).

    Raises
    ------
    WebError
        415 unless the content type is ``application/json``.
    InvalidInputError
        If the body is empty, not UTF-8 or not JSON (the message gives line and column).
    """
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise WebError(
            415,
            "unsupported_type",
            f"the {what} must be sent as application/json; got "
            f"{content_type or 'no content type'!r}",
            field="content-type",
        )
    raw = await request.body()
    if not raw.strip():
        raise InvalidInputError(f"body: the {what} is empty; send a JSON object", field="body")
    try:
        return json.loads(raw)
    except UnicodeDecodeError:
        raise InvalidInputError(f"body: the {what} is not UTF-8 text", field="body") from None
    except json.JSONDecodeError as exc:
        raise InvalidInputError(
            f"body: the {what} is not valid JSON (line {exc.lineno}, column {exc.colno}: "
            f"{exc.msg})",
            field="body",
        ) from None
    except RecursionError:
        raise InvalidInputError(f"body: the {what} is nested too deeply", field="body") from None


def _samples(request: Request, n_samples: int | None) -> int:
    default: int = request.app.state.settings.predict_n_samples
    return default if n_samples is None else n_samples


Seed = Annotated[
    int, Query(ge=0, le=2**32 - 1, description="Random seed: the same seed gives the same output")
]
Samples = Annotated[
    int | None,
    Query(
        ge=100,
        le=MAX_API_SAMPLES,
        description="Monte Carlo virtual patients (default: the server's, see docs/web.md)",
    ),
]


def predict_dict(data: Any, *, n_samples: int, seed: int, profile: bool = True) -> dict[str, Any]:
    """Parse a protocol, predict and return the ``calfsim predict --json`` contract.

    Raises
    ------
    InvalidInputError
        With every problem of the protocol, its JSON path and value.
    """
    from calfsim.io import prediction_to_dict
    from calfsim.simulation import predict

    protocol = parse_protocol(data)
    if protocol.allow_extrapolation:
        # Extrapolation is reported in the notes; catch_warnings is process-wide, hence the lock.
        with WARNINGS_LOCK, warnings.catch_warnings():
            warnings.simplefilter("ignore", ExtrapolationWarning)
            result = predict(protocol, n_samples=n_samples, rng=seed, include_profile=profile)
    else:
        result = predict(protocol, n_samples=n_samples, rng=seed, include_profile=profile)
    return prediction_to_dict(result, include_profile=profile)


def _json_bytes(content: Any) -> bytes:
    """``content`` as compact UTF-8 JSON, by orjson (20x the standard library here).

    The values are those of Starlette's ``JSONResponse`` (floats written to round-trip, e.g.
    ``1e-5`` rather than ``1e-05``). orjson writes NaN and infinities as ``null``; a
    prediction never holds them, so an answer with ``null`` is written again by the standard
    library, which refuses them (a 500, never a silent ``null`` for a number), as Starlette
    would.
    """
    try:
        data: bytes | None = orjson.dumps(content)
    except orjson.JSONEncodeError:  # e.g. a key that is not a string: the standard library's way
        data = None
    if data is not None and b"null" not in data:
        return data
    return json.dumps(
        content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")
    ).encode("utf-8")


def predict_json(data: Any, *, n_samples: int, seed: int, profile: bool) -> bytes:
    """`predict_dict` written as JSON, where it is computed (a computing process's time)."""
    return _json_bytes(predict_dict(data, n_samples=n_samples, seed=seed, profile=profile))


@router.post(
    "/api/predict",
    name="api_predict",
    tags=["predict"],
    summary="Predict girth over time (p10 / median / p90) for a protocol",
    openapi_extra=json_request_body(
        "ProtocolIn",
        "A protocol, as in examples/protocol.json (the predict contract)",
        PROTOCOL_EXAMPLE,
    ),
    responses={200: JSON_OBJECT, **error_responses(413, 415, 422)},
)
async def api_predict(
    request: Request,
    seed: Seed = 1,
    n_samples: Samples = None,
    profile: Annotated[
        bool,
        Query(
            description="Also the girth profile at every level along the leg (for 3D views; "
            "3-4x slower). With it the answer is exactly `calfsim predict --json`."
        ),
    ] = False,
) -> JSONResponse:
    """Return the JSON of ``calfsim predict --json`` for the protocol in the body."""
    data = await read_json_body(request, what="protocol")
    samples = _samples(request, n_samples)
    short = not profile and samples <= request.app.state.settings.inline_max_samples
    result = await run_compute(
        request,
        predict_json,
        data,
        n_samples=samples,
        seed=seed,
        profile=profile,
        inline=short,
        portable=True,
    )
    return Response(result, media_type="application/json")


def _plan(data: Any, *, n_samples: int, seed: int) -> Any:
    from calfsim.simulation import make_plan

    return make_plan(parse_intake(data), n_samples=n_samples, rng=seed)


def plan_dict(data: Any, *, n_samples: int, seed: int) -> dict[str, Any]:
    """Parse an intake, plan and return the ``calfsim plan --json`` contract.

    Raises
    ------
    InvalidInputError
        With every problem of the intake, its JSON path and value.
    """
    from calfsim.io import plan_to_dict

    return plan_to_dict(_plan(data, n_samples=n_samples, seed=seed))


def plan_json(data: Any, *, n_samples: int, seed: int) -> bytes:
    """`plan_dict` written as JSON, where it is computed."""
    return _json_bytes(plan_dict(data, n_samples=n_samples, seed=seed))


def plan_pdf_bytes(data: Any, *, n_samples: int, seed: int) -> bytes:
    """Parse an intake, plan and return the patient-ready PDF."""
    from calfsim.report import write_plan_pdf

    plan = _plan(data, n_samples=n_samples, seed=seed)
    with tempfile.TemporaryDirectory(prefix="calfsim-plan-") as folder:
        return write_plan_pdf(plan, Path(folder) / "plan.pdf").read_bytes()


@router.post(
    "/api/plan",
    name="api_plan",
    tags=["plan"],
    summary="Screen, dose, injection sites, schedule, cost and alternatives for an intake",
    openapi_extra=json_request_body(
        "IntakeIn", "An intake, as in examples/intake.json (the plan contract)", INTAKE_EXAMPLE
    ),
    responses={200: JSON_OBJECT, **error_responses(413, 415, 422)},
)
async def api_plan(request: Request, seed: Seed = 1, n_samples: Samples = None) -> JSONResponse:
    """Return the JSON of ``calfsim plan --json`` for the intake in the body."""
    data = await read_json_body(request, what="intake")
    result = await run_compute(
        request, plan_json, data, n_samples=_samples(request, n_samples), seed=seed, portable=True
    )
    return Response(result, media_type="application/json")


@router.post(
    "/api/plan.pdf",
    name="api_plan_pdf",
    tags=["plan"],
    summary="The patient-ready plan as a PDF",
    openapi_extra=json_request_body("IntakeIn", "An intake, as for /api/plan", INTAKE_EXAMPLE),
    responses={
        200: {"content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}},
        **error_responses(413, 415, 422, 503),
    },
)
async def api_plan_pdf(request: Request, seed: Seed = 1, n_samples: Samples = None) -> Response:
    """Return the plan PDF (as ``calfsim plan --pdf``) for the intake in the body."""
    data = await read_json_body(request, what="intake")
    pdf = await run_heavy(
        request, plan_pdf_bytes, data, n_samples=_samples(request, n_samples), seed=seed
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"content-disposition": 'attachment; filename="calfsim-plan.pdf"'},
    )


@router.get(
    "/api/evidence",
    name="api_evidence",
    tags=["evidence"],
    summary="Every clinical number calfsim uses, with its citation and evidence tag",
    responses={200: JSON_OBJECT, **error_responses(422)},
)
async def api_evidence(
    topic: Annotated[str | None, Query(description="Only this topic (e.g. response)")] = None,
) -> JSONResponse:
    """Return the JSON of ``calfsim evidence --json``."""
    ev = load_evidence()
    if topic is not None and topic not in ev.topics:
        raise InvalidInputError(
            f"topic: must be one of {', '.join(sorted(ev.topics))}; got {topic!r}", field="topic"
        )
    return JSONResponse(evidence_to_dict(ev, topic))


@router.get("/docs", include_in_schema=False, response_class=HTMLResponse)
async def api_docs(request: Request) -> HTMLResponse:
    """List the API's routes as plain HTML (Swagger UI would need a CDN)."""
    templates = request.app.state.templates
    schema = request.app.openapi()
    routes = [
        {
            "method": method.upper(),
            "path": path,
            "summary": op.get("summary", ""),
            "params": [p["name"] for p in op.get("parameters", [])],
        }
        for path, ops in schema["paths"].items()
        for method, op in ops.items()
    ]
    try:
        templates.env.get_template("api_docs.html")
    except Exception:  # no template: a plain page
        import html

        rows = "".join(
            f"<li><code>{r['method']} {html.escape(r['path'])}</code> — "
            f"{html.escape(r['summary'])}"
            f"{' (query: ' + ', '.join(r['params']) + ')' if r['params'] else ''}</li>"
            for r in routes
        )
        return HTMLResponse(
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            "<title>calfsim API</title><link rel='stylesheet' href='/static/css/site.css'>"
            "</head><body><main class='wrap'><h1>calfsim JSON API</h1>"
            "<p>OpenAPI schema: <a href='/api/openapi.json'>/api/openapi.json</a>. "
            "Errors: <code>{error, message, problems: [{field, message}]}</code>.</p>"
            f"<ul>{rows}</ul><p><a href='/'>Back to calfsim</a></p></main></body></html>"
        )
    response: HTMLResponse = templates.TemplateResponse(
        request, "api_docs.html", {"routes": routes, "openapi_url": "/api/openapi.json"}
    )
    return response


def install_openapi(app: FastAPI) -> None:
    """Make ``app.openapi()`` include the contract schemas the JSON bodies refer to."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            summary=app.summary,
            description=app.description,
            routes=app.routes,
        )
        _, defs = models_json_schema(
            [(ProtocolIn, "validation"), (IntakeIn, "validation")],
            ref_template="#/components/schemas/{model}",
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for name, definition in defs.get("$defs", {}).items():
            components.setdefault(name, definition)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
