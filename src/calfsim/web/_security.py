"""Security at the edge: headers, body-size limits while streaming, CSRF tokens, upload checks.

- Every response gets a strict content security policy (everything from this origin only; no
  inline scripts or styles), ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY``
  and ``Referrer-Policy: no-referrer``.
- Request bodies are counted while they stream in: JSON and URL-encoded forms above
  ``max_json_bytes``, multipart uploads above ``max_scan_bytes`` (plus a small allowance for
  the multipart framing) get a 413 naming the limit, without being read to the end.
- CSRF: a signed double-submit token. :func:`csrf_token` gives the page its token (and sets
  the ``calfsim_csrf`` cookie, HttpOnly, SameSite=Strict); form routes depend on
  :func:`require_csrf`, which wants the same token back in the form field ``csrf_token`` or
  the ``X-CSRF-Token`` header. JSON API calls need no token (a cross-site page cannot send
  ``application/json`` without a CORS preflight, which this app never grants); multipart
  uploads to the API need it when the browser holds the cookie
  (:func:`require_csrf_if_cookie`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Literal

from fastapi import Request, UploadFile

from calfsim.web._errors import WebError
from calfsim.web._headers import CSP, SECURITY_HEADERS, security_headers

__all__ = [
    "CSP",
    "CSRF_COOKIE",
    "CSRF_FIELD",
    "CSRF_HEADER",
    "PHOTO_TYPES",
    "SECURITY_HEADERS",
    "SecurityMiddleware",
    "check_upload",
    "csrf_token",
    "require_csrf",
    "require_csrf_if_cookie",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_HEADER_NAMES = frozenset(k.encode() for k, _ in SECURITY_HEADERS)
CSRF_COOKIE = "calfsim_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
#: Multipart framing (boundaries, part headers, small form fields) allowed beyond the file.
_MULTIPART_ALLOWANCE_BYTES = 64 * 1024
#: Accepted photo types: content type -> file suffixes.
PHOTO_TYPES = {"image/jpeg": (".jpg", ".jpeg"), "image/png": (".png",)}


class _BodyTooLarge(Exception):
    """Raised from ``receive`` when a request body passes its limit."""


def _mb(n_bytes: int) -> str:
    return f"{n_bytes / 1024 / 1024:.3g} MB ({n_bytes:,} bytes)"


def _json_response(
    status: int, body: dict[str, Any], headers: list[tuple[bytes, bytes]]
) -> tuple[Message, Message]:
    payload = json.dumps(body).encode()
    start = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(payload)).encode()),
            (b"connection", b"close"),
            *headers,
        ],
    }
    return start, {"type": "http.response.body", "body": payload}


class SecurityMiddleware:
    """ASGI middleware: security headers, CSRF cookie, request-body limits while streaming.

    Parameters
    ----------
    app : ASGI application
    max_json_bytes : int
        Limit of non-multipart bodies.
    max_upload_bytes : int
        Limit of one uploaded file (multipart bodies may be slightly larger for the framing).
    script_hashes : tuple of str
        ``'sha256-...'`` sources of inline scripts to allow (the three.js import map).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_json_bytes: int,
        max_upload_bytes: int,
        script_hashes: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.max_json_bytes = max_json_bytes
        self.max_upload_bytes = max_upload_bytes
        self.headers = [(k.encode(), v.encode()) for k, v in security_headers(script_hashes)]

    def _limit(self, scope: Scope) -> tuple[int, str]:
        content_type = b""
        for key, value in scope.get("headers", ()):
            if key == b"content-type":
                content_type = value.lower()
        if content_type.startswith(b"multipart/"):
            return (
                self.max_upload_bytes + _MULTIPART_ALLOWANCE_BYTES,
                f"uploads must be at most {_mb(self.max_upload_bytes)}",
            )
        return self.max_json_bytes, f"request bodies must be at most {self.max_json_bytes:,} bytes"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI call."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, limit_text = self._limit(scope)
        too_large = {"flag": False}

        async def refuse() -> None:
            start, body = _json_response(
                413,
                {
                    "error": "too_large",
                    "message": f"the request is too large: {limit_text}",
                    "problems": [{"field": None, "message": limit_text}],
                },
                self.headers,
            )
            await send(start)
            await send(body)

        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await refuse()
            return

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    too_large["flag"] = True
                    raise _BodyTooLarge(limit_text)
            return message

        started = {"flag": False}

        async def guarded_send(message: Message) -> None:
            if too_large["flag"]:
                # Whatever the app made of the cut-off body (a 400 from the form parser, ...),
                # the answer is 413.
                if message["type"] == "http.response.start" and not started["flag"]:
                    started["flag"] = True
                    await refuse()
                return
            if message["type"] == "http.response.start":
                started["flag"] = True
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() not in _HEADER_NAMES
                ]
                headers.extend(self.headers)
                cookie = scope.get("state", {}).get("csrf_set_cookie")
                if cookie:
                    headers.append((b"set-cookie", cookie.encode("latin-1")))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except _BodyTooLarge:
            if not started["flag"]:
                started["flag"] = True
                await refuse()


def _content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", ()):
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


# --- CSRF ------------------------------------------------------------------------------------


def _sign(secret: str, nonce: str) -> str:
    mac = hmac.new(secret.encode(), nonce.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def _is_signed(secret: str, token: str | None) -> bool:
    if not token or token.count(".") != 1:
        return False
    nonce, signature = token.split(".")
    return hmac.compare_digest(_sign(secret, nonce), signature)


def _secret(request: Request) -> str:
    secret: str = request.app.state.settings.secret
    return secret


def csrf_token(request: Request) -> str:
    """Return the CSRF token for a page, setting the ``calfsim_csrf`` cookie when needed.

    Use it in templates as ``<input type="hidden" name="csrf_token"
    value="{{ csrf_token(request) }}">`` (it is a Jinja global of ``app.state.templates``) and
    for scripts in ``<meta name="csrf-token" content="{{ csrf_token(request) }}">``, sent back
    as the ``X-CSRF-Token`` header.

    Parameters
    ----------
    request : fastapi.Request

    Returns
    -------
    str
        ``<nonce>.<signature>``; the same within one request.
    """
    existing = getattr(request.state, "csrf_token", None)
    if isinstance(existing, str):
        return existing
    secret = _secret(request)
    cookie = request.cookies.get(CSRF_COOKIE)
    if cookie is not None and _is_signed(secret, cookie):
        token = cookie
    else:
        nonce = secrets.token_urlsafe(24)
        token = f"{nonce}.{_sign(secret, nonce)}"
        secure = "; Secure" if request.url.scheme == "https" else ""
        request.state.csrf_set_cookie = (
            f"{CSRF_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict{secure}"
        )
    request.state.csrf_token = token
    return token


async def _submitted_token(request: Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


_CSRF_MESSAGE = (
    "the form's security token is missing or does not match (the page may be old or "
    "sent from another site); reload the page and try again"
)


async def require_csrf(request: Request) -> None:
    """Dependency of form routes: the submitted token must equal the signed cookie.

    Raises
    ------
    WebError
        403 when the cookie is missing or unsigned, or the token (form field ``csrf_token``
        or header ``X-CSRF-Token``) does not match it.
    """
    cookie = request.cookies.get(CSRF_COOKIE)
    submitted = await _submitted_token(request)
    if (
        not _is_signed(_secret(request), cookie)
        or submitted is None
        or not hmac.compare_digest(submitted, cookie or "")
    ):
        raise WebError(403, "csrf", _CSRF_MESSAGE, field=CSRF_FIELD)


async def require_csrf_if_cookie(request: Request) -> None:
    """Dependency of API uploads: require the token only when the browser holds the cookie.

    Scripts and command-line clients without the cookie carry no ambient authority (there are
    no accounts), so they need no token; a browser page of this app sends ``X-CSRF-Token``.

    Raises
    ------
    WebError
        403 as :func:`require_csrf` when the cookie is present and the token does not match.
    """
    if CSRF_COOKIE in request.cookies:
        await require_csrf(request)


# --- uploads ---------------------------------------------------------------------------------


def check_upload(
    upload: UploadFile,
    *,
    kind: Literal["scan", "photo"],
    max_bytes: int,
    suffixes: tuple[str, ...] = (),
) -> str:
    """Check an uploaded file's type and size; return its lower-case suffix.

    Parameters
    ----------
    upload : fastapi.UploadFile
        The parsed part (spooled to a temporary file, so its size is known).
    kind : {"scan", "photo"}
        Scans are recognised by file suffix; photos by content type or suffix.
    max_bytes : int
        Size limit of the file.
    suffixes : tuple of str
        Accepted suffixes of scans (``calfsim.io.SCAN_SUFFIXES``).

    Returns
    -------
    str
        The file's suffix (``".obj"``; ``".jpg"`` or ``".png"`` for photos).

    Raises
    ------
    WebError
        415 naming the accepted types, 413 naming the limit, 422 when the file is empty.
    """
    name = upload.filename or ""
    suffix = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""
    field = kind
    if kind == "scan":
        if suffix not in suffixes:
            raise WebError(
                415,
                "unsupported_type",
                f"unsupported file type {suffix or '(no suffix)'!r} of "
                f"{name or 'the upload'!r}; accepted: {', '.join(suffixes)}",
                field=field,
            )
    else:
        content_type = (upload.content_type or "").lower()
        by_type = PHOTO_TYPES.get(content_type)
        all_suffixes = tuple(s for group in PHOTO_TYPES.values() for s in group)
        if by_type is None and suffix not in all_suffixes:
            raise WebError(
                415,
                "unsupported_type",
                f"unsupported type {content_type or suffix or 'unknown'!r}; accepted: "
                f"JPEG or PNG ({', '.join(PHOTO_TYPES)})",
                field=field,
            )
        suffix = suffix if suffix in all_suffixes else (by_type or (".jpg",))[0]
    size = upload.size
    if size is None:
        upload.file.seek(0, 2)
        size = upload.file.tell()
        upload.file.seek(0)
    if size > max_bytes:
        raise WebError(
            413,
            "too_large",
            f"the file is {size:,} bytes; {kind}s must be at most {_mb(max_bytes)}",
            field=field,
        )
    if size == 0:
        raise WebError(422, "invalid_input", "the file is empty", field=field)
    return suffix
