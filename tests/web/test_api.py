"""The JSON API has the CLI's contracts: predict, plan, plan PDF, evidence, OpenAPI."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from calfsim.evidence import load_evidence
from calfsim.io import parse_intake, parse_protocol, plan_to_dict, prediction_to_dict
from calfsim.simulation import make_plan, predict


def _fields(response: Any) -> list[str | None]:
    return [p["field"] for p in response.json()["problems"]]


def test_predict_equals_the_library_contract(client: TestClient, protocol: dict[str, Any]) -> None:
    response = client.post("/api/predict?seed=3&n_samples=500&profile=true", json=protocol)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    expected = prediction_to_dict(predict(parse_protocol(protocol), n_samples=500, rng=3))
    # Through JSON: the same numbers as `calfsim predict --json --seed 3 --samples 500`.
    assert response.json() == json.loads(json.dumps(expected))


def test_predict_default_samples_and_profile_switch(
    client: TestClient, protocol: dict[str, Any]
) -> None:
    lean = client.post("/api/predict", json=protocol).json()
    assert lean["samples"] == 300  # the test app's predict_n_samples
    assert "profile" not in lean["legs"]["left"]
    full = client.post("/api/predict?profile=true", json=protocol).json()
    assert "profile" in full["legs"]["left"]
    assert lean["legs"]["left"]["calf_girth_cm"] == full["legs"]["left"]["calf_girth_cm"]


@pytest.mark.parametrize("inline_max_samples", [0, 1000])
def test_predict_same_answer_and_errors_on_the_loop_or_in_a_thread(
    inline_max_samples: int, protocol: dict[str, Any]
) -> None:
    from calfsim.web import create_app

    from .conftest import TEST_SECRET

    app = create_app(db_url="sqlite://", secret=TEST_SECRET, inline_max_samples=inline_max_samples)
    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.post("/api/predict?seed=5&n_samples=400", json=protocol)
        protocol["legs"]["left"]["calf_girth_cm"] = 14
        bad = client.post("/api/predict?n_samples=400", json=protocol)
    expected = prediction_to_dict(
        predict(parse_protocol(json.loads(answer.request.content)), n_samples=400, rng=5),
        include_profile=False,
    )
    assert answer.status_code == 200
    assert answer.json() == json.loads(json.dumps(expected))
    assert bad.status_code == 422
    assert _fields(bad) == ["legs.left.calf_girth_cm"]


def test_predict_bad_input_names_every_field(client: TestClient, protocol: dict[str, Any]) -> None:
    protocol["legs"]["left"]["calf_girth_cm"] = 14
    protocol["sessions"][0]["product"] = "botox"
    response = client.post("/api/predict", json=protocol)
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid_input"
    assert set(_fields(response)) == {"legs.left.calf_girth_cm", "sessions[0].product"}
    girth = next(p for p in body["problems"] if p["field"] == "legs.left.calf_girth_cm")
    assert "14" in girth["message"] and "inches" in girth["message"]
    assert "onabotulinumtoxinA" in body["message"]  # what is accepted


@pytest.mark.parametrize(
    ("content", "content_type", "status", "field"),
    [
        (b"{not json", "application/json", 422, "body"),
        (b"", "application/json", 422, "body"),
        (b"legs=1", "application/x-www-form-urlencoded", 415, "content-type"),
        (b'{"legs": {}}', "text/plain", 415, "content-type"),
        (b"[1, 2]", "application/json", 422, "(top level)"),
        (b'{"legs": {"left": {"calf_girth_cm": "36"}}}', "application/json", 422, None),
    ],
)
def test_predict_malformed_bodies(
    client: TestClient, content: bytes, content_type: str, status: int, field: str | None
) -> None:
    response = client.post("/api/predict", content=content, headers={"content-type": content_type})
    assert response.status_code == status
    problems = response.json()["problems"]
    if field == "(top level)":
        assert problems[0]["field"] is None
    elif field is not None:
        assert problems[0]["field"] == field
    else:
        assert problems[0]["field"] == "legs.left.calf_girth_cm"


@pytest.mark.parametrize(
    ("query", "field"),
    [("seed=-1", "seed"), ("n_samples=5", "n_samples"), ("n_samples=999999", "n_samples")],
)
def test_predict_bad_query_names_the_parameter(
    client: TestClient, protocol: dict[str, Any], query: str, field: str
) -> None:
    response = client.post(f"/api/predict?{query}", json=protocol)
    assert response.status_code == 422
    assert _fields(response) == [field]


def test_plan_json_and_pdf(client: TestClient, intake: dict[str, Any]) -> None:
    plan = client.post("/api/plan?n_samples=300", json=intake)
    assert plan.status_code == 200
    expected = plan_to_dict(make_plan(parse_intake(intake), n_samples=300, rng=1))
    assert plan.json() == json.loads(json.dumps(expected, ensure_ascii=False))
    pdf = client.post("/api/plan.pdf?n_samples=300", json=intake)
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert "attachment" in pdf.headers["content-disposition"]


def test_plan_bad_intake_names_fields(client: TestClient, intake: dict[str, Any]) -> None:
    intake["goal"] = "huge"
    intake["screening"]["pinch_test_cm"] = "a lot"
    response = client.post("/api/plan", json=intake)
    assert response.status_code == 422
    assert {"goal", "screening.pinch_test_cm"} <= set(_fields(response))
    assert client.post("/api/plan.pdf", json=intake).status_code == 422


def test_evidence_all_and_one_topic(client: TestClient) -> None:
    ev = load_evidence()
    everything = client.get("/api/evidence").json()
    assert len(everything["items"]) == len(ev.items)
    response = client.get("/api/evidence", params={"topic": "response"}).json()
    assert response["items"] and all(i["key"].startswith("response.") for i in response["items"])
    assert set(response["sources"]) == {s for i in response["items"] for s in i["sources"]}
    bad = client.get("/api/evidence?topic=nonsense")
    assert bad.status_code == 422
    assert _fields(bad) == ["topic"] and "response" in bad.json()["message"]


def test_openapi_schema_documents_the_contracts(client: TestClient) -> None:
    schema = client.get("/api/openapi.json").json()
    paths = schema["paths"]
    for path in (
        "/api/predict",
        "/api/plan",
        "/api/plan.pdf",
        "/api/evidence",
        "/api/measure",
        "/api/simulate",
        "/api/simulations/{simulation_id}",
        "/api/simulations/{simulation_id}/legs.glb",
    ):
        assert path in paths, path
    body = paths["/api/predict"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"]["$ref"] == "#/components/schemas/ProtocolIn"
    components = schema["components"]["schemas"]
    assert "calf_girth_cm" in components["LegIn"]["properties"]
    assert "screening" in components["IntakeIn"]["properties"]
    assert "ErrorOut" in components
    # Every $ref resolves.
    refs = {
        ref.rsplit("/", 1)[-1]
        for ref in json.dumps(schema).split('"$ref": "')[1:]
        for ref in [ref.split('"', 1)[0]]
    }
    assert refs <= set(components)


def test_docs_page_lists_routes(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert "/api/predict" in page.text and "/api/openapi.json" in page.text


def test_json_answers_are_the_standard_librarys_values_and_refuse_nan() -> None:
    from calfsim.web._api import _json_bytes

    content = {"a": [0.1, 1e-05, 36.042905913763036, 2.5e300], "b": "µ", "c": None, "d": 3}
    assert json.loads(_json_bytes(content)) == content
    assert json.loads(_json_bytes({"x": [1.5, -0.0]})) == {"x": [1.5, -0.0]}
    with pytest.raises(ValueError, match="JSON compliant"):
        _json_bytes({"girth": float("nan")})
    assert json.loads(_json_bytes({1: "int key"})) == {"1": "int key"}
