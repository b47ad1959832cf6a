"""Server-rendered pages: content from the evidence, cited; forms with CSRF; plan and PDF."""

from __future__ import annotations

import re
from html import unescape

import pytest
from fastapi.testclient import TestClient

from calfsim.evidence import load_evidence
from calfsim.planner import ScreeningAnswers
from calfsim.web._pages_cite import fmt_number
from calfsim.web._pages_forms import FormProblems, intake_from_form

PAGES = ("/", "/guide", "/check", "/try", "/plan")


def _token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the form has no csrf_token field"
    return match.group(1)


def _all_no(**changes: str) -> dict[str, str]:
    answers = dict.fromkeys(ScreeningAnswers.names(), "no")
    answers["heel_raise_bulge"] = "yes"
    answers.update(changes)
    return answers


def _text(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", html))


@pytest.mark.parametrize("path", PAGES)
def test_page_renders_with_nav_and_no_inline_code(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    html = response.text
    assert "text/html" in response.headers["content-type"]
    assert "script-src 'self'" in response.headers["content-security-policy"]
    for href in ('href="/guide"', 'href="/check"', 'href="/try"', 'href="/plan"'):
        assert href in html
    assert "off-label" in html.lower()
    # The CSP forbids inline styles and scripts: none may be in the markup (the import map is
    # allowed by its hash and is the only inline script).
    assert not re.search(r"\sstyle=", html)
    assert "<style" not in html
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert 'src="/static/js/' in tag or 'type="importmap"' in tag, tag


def test_static_assets_exist(client: TestClient) -> None:
    html = "".join(client.get(p).text for p in PAGES)
    assets = set(re.findall(r'(?:src|href)="(/static/[^"]+)"', html))
    assert {"/static/css/site.css", "/static/js/tryon.js", "/static/js/page-forms.js"} <= assets
    for asset in assets:
        assert client.get(asset).status_code == 200, asset


def test_guide_numbers_come_from_the_evidence_and_are_cited(client: TestClient) -> None:
    ev = load_evidence()
    html = client.get("/guide").text
    text = _text(html)
    for key in ("procedure.onset_days", "procedure.min_sessions", "safety.min_interval_days"):
        assert fmt_number(ev.number(key)) in text, key
    low, high = ev.bounds("procedure.best_result_weeks")
    assert f"{fmt_number(low)}–{fmt_number(high)} weeks" in text
    low, high = ev.bounds("procedure.dose_per_treatment_u")
    assert f"{fmt_number(low)}–{fmt_number(high)} U" in text
    assert f"${fmt_number(ev.number('procedure.price_low_usd'))}" in text
    for section in (
        "The Skinny",
        "What it addresses",
        "Recovery",
        "Ideal candidate",
        "Not recommended for",
        "Side effects",
        "Pros",
        "Cons",
        "What the evidence adds",
        "alternatives",
    ):
        assert section in text, section
    for pro in ev.item("procedure.pros").value:
        assert str(pro) in text
    assert ev.text("procedure.off_label_status") in text
    # Every citation mark points at an entry of the reference list, and every entry is used.
    marks = set(re.findall(r'class="cite" href="#ref-([^"]+)"', html))
    refs = set(re.findall(r'<li id="ref-([^"]+)"', html))
    assert marks and marks == refs
    assert "lee2004" in refs  # the onset's study
    # The alternatives table has every option of the planner.
    for name in ("Selective", "resection", "adiofrequency", "iposuction", "No treatment"):
        assert name in text, name


def test_check_needs_the_csrf_token(client: TestClient) -> None:
    client.get("/check")
    response = client.post("/check", data=_all_no())
    assert response.status_code == 403


def test_check_gives_a_verdict_with_reasons(client: TestClient) -> None:
    token = _token(client.get("/check").text)
    ok = client.post("/check", data={"csrf_token": token, "age_years": "29", **_all_no()})
    assert ok.status_code == 200
    assert 'data-verdict="candidate"' in ok.text
    stop = client.post(
        "/check",
        data={"csrf_token": token, "age_years": "29", **_all_no(pregnant_or_breastfeeding="yes")},
    )
    assert 'data-verdict="not_recommended"' in stop.text
    assert "pregnan" in _text(stop.text).lower()
    # The answers are kept in the form.
    assert re.search(r'name="pregnant_or_breastfeeding" value="yes" checked', stop.text)
    unsure = client.post("/check", data={"csrf_token": token})
    assert "Not answered" in _text(unsure.text)


def test_check_names_the_bad_field(client: TestClient) -> None:
    token = _token(client.get("/check").text)
    response = client.post("/check", data={"csrf_token": token, "age_years": "twenty"})
    assert response.status_code == 422
    assert "age_years: must be a number; got 'twenty'" in unescape(response.text)
    young = client.post("/check", data={"csrf_token": token, "age_years": "5"})
    assert young.status_code == 422
    assert "age_years" in unescape(young.text)


def test_form_lengths_in_inches_become_centimetres() -> None:
    intake = intake_from_form(
        {"unit": "in", "left_calf": "15", "right_calf": "14.5", "goal": "target", "goal_cm": "1"}
    )
    assert intake["legs"] == {"left": {"calf_girth_cm": 38.1}, "right": {"calf_girth_cm": 36.83}}
    assert intake["goal"] == {"girth_change_cm": -2.54}
    with pytest.raises(FormProblems) as problems:
        intake_from_form({"unit": "yard", "left_calf": "x"})
    assert any(p.startswith("unit:") for p in problems.value.problems)
    assert any(p.startswith("left_calf:") for p in problems.value.problems)


def test_plan_page_and_pdf(client: TestClient) -> None:
    token = _token(client.get("/plan").text)
    form = {
        "csrf_token": token,
        "unit": "cm",
        "left_calf": "37.5",
        "right_calf": "37.8",
        "age_years": "29",
        "sex": "female",
        "goal": "visible",
        "product": "onabotulinumtoxinA",
        "per_unit": "14",
        "session_fee": "0",
        **_all_no(),
    }
    response = client.post("/plan", data=form)
    assert response.status_code == 200, _text(response.text)[:2000]
    text = _text(response.text)
    for words in ("Dose per session", "Schedule", "Cost", "Injection map", "alternatives"):
        assert words in text
    assert 'src="data:image/svg+xml;base64,' in response.text
    intake = unescape(re.search(r'name="intake" value="([^"]+)"', response.text).group(1))
    pdf = client.post("/plan/pdf", data={"csrf_token": token, "intake": intake})
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert "attachment" in pdf.headers["content-disposition"]
    assert pdf.content.startswith(b"%PDF")


def test_plan_form_errors_name_the_field(client: TestClient) -> None:
    token = _token(client.get("/plan").text)
    missing = client.post("/plan", data={"csrf_token": token, "goal": "visible"})
    assert missing.status_code == 422
    assert "left_calf" in unescape(missing.text)
    implausible = client.post("/plan", data={"csrf_token": token, "left_calf": "370"})
    assert implausible.status_code == 422
    assert "calf_girth_cm" in unescape(implausible.text)
    bad_pdf = client.post("/plan/pdf", data={"csrf_token": token, "intake": "{not json"})
    assert bad_pdf.status_code == 422
