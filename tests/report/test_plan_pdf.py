"""The patient-ready plan PDF: it opens, has the sections, the numbers and a visible map.

The planner issue: "The PDF is a patient-ready plan: summary, map, schedule, cost, prediction
band, alternatives, disclaimers" and "The PDF opens, and its pages rendered to PNG show the map
and tables legibly". The PDF is read back with pypdfium2 (text and a rendered page).
"""

from __future__ import annotations

import copy
import re
from datetime import date
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pytest

from calfsim.io import parse_intake, read_intake, read_json_file
from calfsim.report import plan_html, write_plan_pdf
from calfsim.simulation import Plan, make_plan

# WeasyPrint warns on import when the system lacks libharfbuzz-subset (it falls back to
# fontTools); the PDF is the same, and the test settings turn warnings into errors.
pytestmark = pytest.mark.filterwarnings("ignore:HarfBuzz-Subset:DeprecationWarning")

INTAKE_PATH = Path(__file__).parents[2] / "examples" / "intake.json"
FAST = {"n_samples": 200, "search_samples": 200}


def _text(pdf: pdfium.PdfDocument) -> str:
    """All pages' text with every run of whitespace (line breaks too) as one space."""
    pages = (pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    return " ".join(" ".join(pages).split())


def _words(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def plan() -> Plan:
    return make_plan(read_intake(INTAKE_PATH), **FAST)


@pytest.fixture(scope="module")
def refused() -> Plan:
    data = copy.deepcopy(read_json_file(INTAKE_PATH, what="intake"))
    data["screening"]["infection_at_site"] = True
    return make_plan(parse_intake(data), **FAST)


@pytest.fixture(scope="module")
def pdf(plan, tmp_path_factory):
    path = write_plan_pdf(plan, tmp_path_factory.mktemp("pdf") / "plan.pdf")
    document = pdfium.PdfDocument(path)
    yield document
    document.close()


@pytest.fixture(scope="module")
def text(pdf) -> str:
    return _text(pdf)


@pytest.fixture(scope="module")
def refused_text(refused, tmp_path_factory) -> str:
    path = write_plan_pdf(refused, tmp_path_factory.mktemp("pdf") / "refused.pdf")
    document = pdfium.PdfDocument(path)
    try:
        return _text(document)
    finally:
        document.close()


def test_the_pdf_is_a_pdf_with_3_to_10_pages(plan, pdf, tmp_path):
    path = write_plan_pdf(plan, tmp_path / "sub" / "plan.pdf")
    assert path == tmp_path / "sub" / "plan.pdf"
    assert path.read_bytes().startswith(b"%PDF-")
    assert 3 <= len(pdf) <= 10


@pytest.mark.parametrize(
    "heading",
    ["Summary", "Injection map", "Schedule", "Predicted course", "Cost", "Your options"],
)
def test_the_pdf_has_every_section(text, heading):
    assert heading in text


def test_the_pdf_states_that_calf_use_is_off_label(text):
    assert "off-label" in text.lower()


def test_the_pdf_names_every_option(plan, text):
    assert len(plan.alternatives) == 6
    for option in plan.alternatives:
        assert _words(option.name) in text, option.name


def test_the_pdf_lists_every_session_day(plan, text):
    assert plan.sessions
    for session in plan.sessions:
        # A schedule row: day, week, purpose.
        row = rf"\b{session.day:g} {session.day / 7:.0f} (first course|maintenance)\b"
        assert re.search(row, text), row


def test_the_pdf_gives_the_first_years_cost_with_a_thousands_separator(plan, text):
    assert plan.cost is not None
    typical = plan.cost.first_year.typical
    assert typical >= 1000  # so that the separator shows
    assert f"First year {typical:,.0f} {plan.cost.currency}" in text


def test_the_pdf_gives_the_screening_verdict_and_reasons(plan, text):
    assert f"Screening: {plan.screening.verdict.value.replace('_', ' ')}" in text
    for reason in plan.screening.reasons:
        assert _words(reason.text) in text


def test_the_map_page_is_not_blank(pdf):
    assert "Injection map" in pdf[1].get_textpage().get_text_range()
    image = pdf[1].render(scale=1).to_pil().convert("L")
    pixels = np.asarray(image)
    dark = pixels < 200
    # The map (both legs with numbered sites) covers a good part of the page, not just text.
    assert dark.mean() > 0.05, dark.mean()
    rows = np.nonzero(dark.any(axis=1))[0]
    assert rows.max() - rows.min() > pixels.shape[0] / 2


def test_a_not_recommended_plan_writes_a_pdf_with_the_reasons(refused, refused_text):
    assert not refused.has_treatment
    assert refused.screening.verdict.value == "not_recommended"
    assert "Screening: not recommended" in refused_text
    for reason in refused.screening.reasons:
        assert _words(reason.text) in refused_text
    assert "Injection map" not in refused_text
    assert "Schedule" not in refused_text


def test_a_not_recommended_plan_still_compares_the_options(refused, refused_text):
    for option in refused.alternatives:
        assert _words(option.name) in refused_text
    assert "off-label" in refused_text.lower()


def test_plan_html_is_dated_and_self_contained(plan):
    html = plan_html(plan, today=date(2026, 1, 2))
    assert "2026-01-02" in html
    assert html.count("data:image/png;base64,") == 2  # the map and the prediction band
    assert 'src="http' not in html
    assert 'src="file' not in html


def test_plan_html_of_a_not_recommended_plan_has_no_images(refused):
    html = plan_html(refused, today=date(2026, 1, 2))
    assert "2026-01-02" in html
    assert "data:image/png;base64," not in html
