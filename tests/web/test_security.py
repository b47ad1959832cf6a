"""Security basics: headers on every answer, no stack traces, CSRF, body limits."""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import PlainTextResponse
from fastapi.testclient import TestClient

from calfsim.web import create_app, csrf_token, require_csrf
from calfsim.web._headers import CSP

from .conftest import TEST_SECRET

HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


def _with_test_routes(app: FastAPI) -> FastAPI:
    router = APIRouter()

    @router.get("/test/form")
    async def form(request: Request) -> PlainTextResponse:
        return PlainTextResponse(csrf_token(request))

    @router.post("/test/form", dependencies=[Depends(require_csrf)])
    async def submit(request: Request) -> PlainTextResponse:
        form = await request.form()
        return PlainTextResponse(f"got {form.get('name')}")

    @router.get("/test/boom")
    async def boom() -> None:
        raise RuntimeError("secret internal detail /etc/passwd")

    @router.get("/api/test/boom")
    async def api_boom() -> None:
        raise KeyError("another internal detail")

    app.include_router(router)
    return app


def _client(**overrides: object) -> TestClient:
    app = create_app(db_url="sqlite://", secret=TEST_SECRET, **overrides)
    return TestClient(_with_test_routes(app), raise_server_exceptions=False)


def _check_headers(response) -> None:  # type: ignore[no-untyped-def]
    for name, value in HEADERS.items():
        assert response.headers[name] == value, name
    csp = response.headers["content-security-policy"]
    for directive in (
        "default-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "frame-ancestors 'none'",
    ):
        assert directive in csp
    # Scripts: this origin plus exactly the import map's hash; never inline or eval.
    script_src = next(d for d in csp.split(";") if d.strip().startswith("script-src"))
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src


def test_security_headers_on_api_pages_errors_and_static() -> None:
    with _client() as client:
        for path in ("/api/evidence", "/api/evidence?topic=nope", "/no/such/page", "/api/x"):
            _check_headers(client.get(path))
        _check_headers(client.get("/test/boom"))
        _check_headers(client.get("/vendor/three/build/three.module.js"))


def test_csp_default_has_no_inline_scripts() -> None:
    assert "script-src 'self';" in CSP and "unsafe" not in CSP


def test_500_has_no_stack_trace_json_and_html() -> None:
    with _client() as client:
        api = client.get("/api/test/boom")
        assert api.status_code == 500
        body = api.json()
        assert body["error"] == "internal"
        assert "reference" in body["message"]
        page = client.get("/test/boom", headers={"accept": "text/html"})
        assert page.status_code == 500
        assert page.headers["content-type"].startswith("text/html")
        for response in (api, page):
            for leak in ("Traceback", "secret internal detail", "another internal", ".py"):
                assert leak not in response.text


def test_csrf_token_round_trip_and_rejections() -> None:
    with _client() as client:
        page = client.get("/test/form")
        token = page.text
        cookie = page.headers["set-cookie"]
        assert "calfsim_csrf=" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
        ok = client.post("/test/form", data={"name": "calf", "csrf_token": token})
        assert ok.status_code == 200 and ok.text == "got calf"
        # The header works as well as the field.
        ok = client.post("/test/form", data={"name": "x"}, headers={"x-csrf-token": token})
        assert ok.status_code == 200
        # A second page view reuses the valid cookie's token.
        assert client.get("/test/form").text == token

        missing = client.post("/test/form", data={"name": "calf"})
        assert missing.status_code == 403
        assert missing.json()["problems"][0]["field"] == "csrf_token"
        wrong = client.post("/test/form", data={"name": "calf", "csrf_token": token + "x"})
        assert wrong.status_code == 403


def test_csrf_rejects_forged_cookie_and_cross_site_post() -> None:
    with _client() as attacker:
        # No cookie at all (a cross-site form: SameSite=Strict keeps the cookie home).
        assert attacker.post("/test/form", data={"csrf_token": "a.b"}).status_code == 403
        # A cookie the attacker made up matches its own field, but is not signed by us.
        attacker.cookies.set("calfsim_csrf", "nonce.forged")
        forged = attacker.post("/test/form", data={"csrf_token": "nonce.forged"})
        assert forged.status_code == 403
    # A token signed with another secret is refused too.
    other = create_app(db_url="sqlite://", secret="another-secret-0123456789-abcdefghij")
    with TestClient(_with_test_routes(other)) as foreign:
        token = foreign.get("/test/form").text
    with _client() as client:
        client.cookies.set("calfsim_csrf", token)
        assert client.post("/test/form", data={"csrf_token": token}).status_code == 403


def test_json_body_limit_413_names_the_limit() -> None:
    with _client(max_json_bytes=2000) as client:
        big = b'{"legs": {"left": {"calf_girth_cm": 36}}, "pad": "' + b"x" * 5000 + b'"}'
        response = client.post(
            "/api/predict", content=big, headers={"content-type": "application/json"}
        )
        assert response.status_code == 413
        assert "2,000 bytes" in response.json()["message"]
        _check_headers(response)


def test_body_limit_applies_while_streaming_without_content_length() -> None:
    chunks_sent = []

    def body():  # type: ignore[no-untyped-def]
        for i in range(100):
            chunks_sent.append(i)
            yield b"x" * 1000

    with _client(max_json_bytes=5000) as client:
        response = client.post(
            "/api/predict", content=body(), headers={"content-type": "application/json"}
        )
    assert response.status_code == 413
    assert "5,000 bytes" in response.json()["message"]


def test_placeholder_secret_is_refused() -> None:
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="placeholder"):
        create_app(db_url="sqlite://", secret="changethis")


def _upload(name: str, data: bytes, content_type: str) -> object:
    import io

    from fastapi import UploadFile
    from starlette.datastructures import Headers

    return UploadFile(
        io.BytesIO(data),
        size=len(data),
        filename=name,
        headers=Headers({"content-type": content_type}),
    )


def test_check_upload_photos_by_type_or_suffix() -> None:
    import pytest

    from calfsim.web._errors import WebError
    from calfsim.web._security import check_upload

    ok = {"a.jpg": "image/jpeg", "b.PNG": "application/octet-stream", "c": "image/png"}
    expected = {"a.jpg": ".jpg", "b.PNG": ".png", "c": ".png"}
    for name, content_type in ok.items():
        upload = _upload(name, b"x" * 10, content_type)
        assert check_upload(upload, kind="photo", max_bytes=100) == expected[name]  # type: ignore[arg-type]
    with pytest.raises(WebError) as wrong:
        check_upload(_upload("d.gif", b"GIF89a", "image/gif"), kind="photo", max_bytes=100)  # type: ignore[arg-type]
    assert wrong.value.status == 415 and "JPEG or PNG" in wrong.value.message
    with pytest.raises(WebError) as big:
        check_upload(_upload("e.jpg", b"x" * 101, "image/jpeg"), kind="photo", max_bytes=100)  # type: ignore[arg-type]
    assert big.value.status == 413 and "photos must be at most" in big.value.message
    assert "(100 bytes)" in big.value.message
