"""One set of exception handlers: clear messages naming the field, never a stack trace.

Every error answer of the API is JSON of one shape::

    {"error": "invalid_input", "message": "<all problems, one per line>",
     "problems": [{"field": "legs.left.calf_girth_cm", "message": "..."}]}

Pages (paths outside ``/api`` asked for by a browser) get an HTML page instead, from the
template ``error.html`` when it exists.

============================  ======  ===============
exception                     status  ``error``
============================  ======  ===============
InvalidInputError, MeshError  422     invalid_input
request validation (FastAPI)  422     invalid_input
RecordNotFoundError           404     not_found
RecordConflictError           409     conflict
WebError                      its own  its own
HTTPException                 its own  http_<status>
anything else                 500     internal (a reference to the log line, no details)
============================  ======  ===============
"""

from __future__ import annotations

import html
import logging
import re
import secrets
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from calfsim.errors import (
    CalfSimError,
    InvalidInputError,
    MeshError,
    RecordConflictError,
    RecordNotFoundError,
)
from calfsim.web._headers import SECURITY_HEADERS

__all__ = ["WebError", "install_error_handlers", "problems_of"]

log = logging.getLogger(__name__)

#: "legs.left.calf_girth_cm: message" -> field and message (a JSON path has no spaces).
_PATH_LINE = re.compile(r"^(?P<field>[A-Za-z_][\w.\[\]]*|\(top level\)): (?P<message>.+)$", re.S)


class WebError(Exception):
    """An error answer decided at the edge (upload limits, CSRF, busy, unknown id).

    Parameters
    ----------
    status : int
        HTTP status.
    error : str
        Machine-readable kind (``"too_large"``, ``"unsupported_type"``, ``"csrf"``...).
    message : str
        Human-readable message naming the field, value and what is accepted.
    field : str, optional
        The offending field.
    headers : dict, optional
        Extra response headers (``Retry-After``).
    """

    def __init__(
        self,
        status: int,
        error: str,
        message: str,
        *,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message
        self.field = field
        self.headers = headers


def problems_of(exc: CalfSimError, *, field: str | None = None) -> list[dict[str, Any]]:
    """Split a calfsim error into ``{"field", "message"}`` problems.

    Parameters
    ----------
    exc : CalfSimError
        ``InvalidInputError`` lines look like ``"<json path>: <message>"``.
    field : str, optional
        Field to use when a line names none (e.g. ``"scan"`` for a `MeshError`).

    Returns
    -------
    list of dict
    """
    lines = exc.problems if isinstance(exc, InvalidInputError) else (str(exc),)
    default = getattr(exc, "field", None) or field
    problems = []
    for line in lines:
        match = _PATH_LINE.match(line)
        if (
            match
            and match["field"] != "(top level)"
            and not match["field"].endswith((".obj", ".ply", ".stl", ".glb", ".gltf"))
        ):
            problems.append({"field": match["field"], "message": match["message"]})
        else:
            problems.append({"field": default, "message": line})
    return problems


def _wants_html(request: Request) -> bool:
    if request.url.path.startswith("/api"):
        return False
    return "text/html" in request.headers.get("accept", "")


_TITLES = {
    400: "Bad request",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Too large",
    415: "Unsupported file type",
    422: "Please check your input",
    500: "Something went wrong",
    503: "Busy",
}


def _html(request: Request, status: int, message: str, problems: list[dict[str, Any]]) -> Response:
    title = _TITLES.get(status, "Error")
    templates = getattr(request.app.state, "templates", None)
    if templates is not None:
        try:
            templates.env.get_template("error.html")
        except Exception:  # no such template (or it does not compile): the inline page
            log.debug("no usable error.html template; using the inline error page")
        else:
            try:
                return templates.TemplateResponse(  # type: ignore[no-any-return]
                    request,
                    "error.html",
                    {
                        "status_code": status,
                        "title": title,
                        "message": message,
                        "problems": problems,
                    },
                    status_code=status,
                )
            except Exception:  # a broken error page must not hide the error
                log.exception("error.html failed to render; using the inline error page")
    items = "".join(
        f"<li>{html.escape((p['field'] + ': ') if p['field'] else '')}"
        f"{html.escape(p['message'])}</li>"
        for p in problems
    )
    body = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)} · calfsim</title></head><body>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(message)}</p>"
        f"{'<ul>' + items + '</ul>' if items and len(problems) > 1 else ''}"
        "<p><a href='/'>Back to calfsim</a></p></body></html>"
    )
    return HTMLResponse(body, status_code=status)


def error_response(
    request: Request,
    status: int,
    error: str,
    problems: list[dict[str, Any]],
    *,
    headers: dict[str, str] | None = None,
) -> Response:
    """Build the JSON (API) or HTML (pages) error answer."""
    message = "\n".join(
        f"{p['field']}: {p['message']}" if p["field"] else p["message"] for p in problems
    )
    if _wants_html(request):
        response = _html(request, status, message, problems)
    else:
        response = JSONResponse(
            {"error": error, "message": message, "problems": problems}, status_code=status
        )
    # Also here: a 500 is sent by Starlette's outermost middleware, outside SecurityMiddleware.
    response.headers.update(dict(SECURITY_HEADERS))
    if headers:
        response.headers.update(headers)
    return response


def _validation_field(loc: tuple[Any, ...]) -> str | None:
    parts = [p for p in loc if p not in ("body", "query", "path", "header", "cookie", "form")]
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out or None


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers of this module on ``app``."""

    async def on_web_error(request: Request, exc: WebError) -> Response:
        return error_response(
            request,
            exc.status,
            exc.error,
            [{"field": exc.field, "message": exc.message}],
            headers=exc.headers,
        )

    async def on_calfsim_error(request: Request, exc: CalfSimError) -> Response:
        if isinstance(exc, InvalidInputError | MeshError):
            return error_response(request, 422, "invalid_input", problems_of(exc))
        if isinstance(exc, RecordNotFoundError):
            return error_response(request, 404, "not_found", problems_of(exc))
        if isinstance(exc, RecordConflictError):
            return error_response(request, 409, "conflict", problems_of(exc))
        return await on_unhandled(request, exc)

    async def on_validation_error(request: Request, exc: RequestValidationError) -> Response:
        problems = []
        for err in exc.errors():
            got = err.get("input")
            shown = "" if err.get("type") == "missing" else f"; got {got!r}"[:200]
            problems.append(
                {
                    "field": _validation_field(tuple(err.get("loc", ()))),
                    "message": err["msg"] + shown,
                }
            )
        return error_response(request, 422, "invalid_input", problems)

    async def on_http_error(request: Request, exc: StarletteHTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code, "")
        return error_response(
            request,
            exc.status_code,
            f"http_{exc.status_code}",
            [{"field": None, "message": detail}],
            headers=getattr(exc, "headers", None),
        )

    async def on_unhandled(request: Request, exc: Exception) -> Response:
        reference = secrets.token_hex(4)
        log.error(
            "unhandled error %s on %s %s",
            reference,
            request.method,
            request.url.path,
            exc_info=(type(exc), exc, exc.__traceback__),
        )
        return error_response(
            request,
            500,
            "internal",
            [
                {
                    "field": None,
                    "message": "internal error; it was logged with reference "
                    f"{reference}. Please try again or report it.",
                }
            ],
        )

    # Starlette dispatches on the exception class, so each handler gets its own type.
    app.add_exception_handler(WebError, on_web_error)  # type: ignore[arg-type]
    app.add_exception_handler(CalfSimError, on_calfsim_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, on_validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, on_http_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, on_unhandled)
