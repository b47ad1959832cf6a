"""The other pages in a browser: candidacy check, plan with its PDF, every page at two widths."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pypdfium2
import pytest

NO_QUESTIONS = (
    "infection_at_site",
    "skin_condition_at_site",
    "neuromuscular_disease",
    "toxin_hypersensitivity",
    "cows_milk_protein_allergy",
    "pregnant_or_breastfeeding",
    "aminoglycosides",
    "anticoagulants",
    "bleeding_disorder",
    "athlete_or_calf_power_work",
    "calf_fat_dominant",
    "expects_permanent_result",
)


def _answer(page: Any, name: str, value: str) -> None:
    page.click(f'label:has(> input[name="{name}"][value="{value}"])')


def _answer_screening(page: Any, **changes: str) -> None:
    for name in NO_QUESTIONS:
        _answer(page, name, changes.get(name, "no"))
    _answer(page, "heel_raise_bulge", changes.get("heel_raise_bulge", "yes"))


def test_candidacy_check_gives_a_verdict_with_reasons(
    desktop: tuple[Any, Any], base_url: str, tools: Any
) -> None:
    page, errors = desktop
    page.goto(f"{base_url}/check")
    page.fill("#f-age", "29")
    _answer_screening(page)
    page.click("button[type=submit]")
    page.wait_for_selector("[data-verdict]")
    assert page.get_attribute("[data-verdict]", "data-verdict") == "candidate"
    tools.screenshot(page, "check-result-desktop")
    # The answers stay; one more "yes" changes the verdict and says why.
    _answer(page, "pregnant_or_breastfeeding", "yes")
    page.click("button[type=submit]")
    page.wait_for_selector('[data-verdict="not_recommended"]')
    assert "pregnan" in page.inner_text(".reasons").lower()
    # Recent toxin elsewhere asks for its details only when answered yes.
    assert not page.is_visible("#f-rdays")
    _answer(page, "recent_toxin", "yes")
    assert page.is_visible("#f-rdays")
    assert not errors.messages, errors.messages


def test_plan_is_made_and_its_pdf_downloads(
    desktop: tuple[Any, Any], base_url: str, tools: Any
) -> None:
    page, errors = desktop
    page.goto(f"{base_url}/plan")
    page.fill("#f-left_calf", "37.5")
    page.fill("#f-right_calf", "37.8")
    page.fill("#f-age", "29")
    _answer_screening(page)
    page.click("#make-plan")
    page.wait_for_selector("#plan-result", timeout=tools.simulation_timeout_ms)
    text = page.inner_text("#plan-result")
    for words in ("Dose per session", "Schedule", "Cost", "Injection map", "alternatives"):
        assert words in text, words
    assert page.locator("img.map-img").evaluate("img => img.naturalWidth") > 300
    tools.screenshot(page, "plan-result-desktop")
    with page.expect_download() as info:
        page.click("#download-pdf")
    download = info.value
    assert download.suggested_filename == "calfsim-plan.pdf"
    data = Path(download.path()).read_bytes()
    assert data.startswith(b"%PDF")
    pdf = pypdfium2.PdfDocument(data)
    try:
        first_page = pdf[0].get_textpage().get_text_range()
    finally:
        pdf.close()
    assert "off-label" in first_page.lower()
    assert not errors.messages, errors.messages


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_every_page_fits_the_screen(browser: Any, base_url: str, tools: Any, width: str) -> None:
    viewport = tools.desktop if width == "desktop" else tools.phone
    page, errors = tools.new_page(browser, viewport)
    try:
        for path, name in (
            ("/", "home"),
            ("/guide", "guide"),
            ("/check", "check"),
            ("/try", "try"),
            ("/plan", "plan"),
        ):
            page.goto(f"{base_url}{path}")
            # No sideways scrolling of the page itself (wide tables scroll inside their box).
            overflow = page.evaluate(
                "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{path} is {overflow}px wider than the {width} screen"
            tools.screenshot(page, f"{name}-{width}")
        assert not errors.messages, errors.messages
    finally:
        page.context.close()
