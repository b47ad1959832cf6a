"""Try it on your photo, in a browser: upload, before/after with a divider, the week slider."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

PHOTO = (
    Path(__file__).resolve().parents[3] / ".." / "shared" / "assets" / "photos" / "pifu-ryota.png"
)
pytest.importorskip("mediapipe", reason="the 'photo' extra is not installed")
if not PHOTO.is_file():
    pytest.skip(f"{PHOTO} is absent", allow_module_level=True)

TIMEOUT_MS = 180_000


def _upload(page: Any, base_url: str) -> None:
    _send(page, base_url, PHOTO)
    page.wait_for_selector("#photo-tryon[data-ready]", state="attached", timeout=TIMEOUT_MS)
    page.wait_for_function(
        "() => ['photo-before', 'photo-after'].every((id) => {"
        " const img = document.getElementById(id); return img.complete && img.naturalWidth > 0; })"
    )


def _send(page: Any, base_url: str, photo: Path) -> None:
    page.goto(f"{base_url}/try")
    page.fill("#f-left_calf", "36")
    page.fill("#f-right_calf", "36.5")
    page.set_input_files("#photo-file", str(photo))
    page.click("#photo-go")


def _split(page: Any) -> float:
    return float(page.evaluate("() => window.calfsimPhotoTryOn.split"))


def test_photo_before_after_divider_and_week_slider(
    desktop: Any, base_url: str, tools: Any
) -> None:
    page, errors = desktop
    _upload(page, base_url)
    assert page.is_visible("#photo-before") and page.is_visible("#photo-after")
    assert page.is_visible(".photo-disclaimer")
    assert "not a promise" in page.inner_text(".photo-disclaimer")
    first_week = page.get_attribute("#photo-tryon", "data-shown-week")
    assert first_week == "12"
    assert "range" in page.inner_text("#photo-girths")

    # Drag the divider from the middle to a quarter of the width.
    page.locator("#photo-compare").scroll_into_view_if_needed()
    box = page.locator("#photo-compare").bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] / 2, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.25, y, steps=8)
    page.mouse.up()
    assert _split(page) == pytest.approx(25, abs=2)
    divider = page.locator("#photo-divider").bounding_box()
    assert divider["x"] + divider["width"] / 2 == pytest.approx(
        box["x"] + box["width"] * 0.25, abs=3
    )
    # The keyboard moves it too.
    page.focus("#photo-divider")
    page.keyboard.press("ArrowRight")
    assert _split(page) == pytest.approx(27, abs=2.5)
    assert page.get_attribute("#photo-divider", "aria-valuenow") == str(round(_split(page)))
    tools.screenshot(page, "photo-tryon-desktop")

    # The week slider swaps the "after" image.
    before_src = page.get_attribute("#photo-before", "src")
    week12_src = page.get_attribute("#photo-after", "src")
    page.fill("#photo-week", "5")
    page.wait_for_selector('#photo-tryon[data-shown-week="52"]', state="attached")
    assert page.get_attribute("#photo-after", "src") != week12_src
    assert page.inner_text("#photo-week-out") == "week 52"
    page.fill("#photo-week", "0")
    page.wait_for_selector('#photo-tryon[data-shown-week="0"]', state="attached")
    assert page.get_attribute("#photo-before", "src") == before_src
    page.locator("#photo-tryon").screenshot(
        path=str(tools.screenshot(page, "photo-tryon-desktop-full").with_name("photo-section.png"))
    )
    assert not errors.messages, errors.messages


def test_photo_tryon_fits_a_phone(phone: Any, base_url: str, tools: Any) -> None:
    page, errors = phone
    _upload(page, base_url)
    box = page.locator("#photo-compare").bounding_box()
    assert box["width"] <= 390 and box["width"] > 300
    assert page.evaluate("() => document.scrollingElement.scrollWidth") <= 390
    # A touch-size drag target (at least 44 px wide).
    assert page.locator("#photo-divider").bounding_box()["width"] >= 44
    page.locator("#photo-compare").scroll_into_view_if_needed()
    tools.screenshot(page, "photo-tryon-phone")
    page.locator("#photo-tryon").screenshot(
        path=str(tools.screenshot(page, "photo-tryon-phone").with_name("photo-section-phone.png"))
    )
    assert not errors.messages, errors.messages


def test_photo_band_switch_and_refusal(desktop: Any, base_url: str, tools: Any) -> None:
    page, errors = desktop
    _upload(page, base_url)
    page.fill("#photo-week", "4")
    page.wait_for_selector('#photo-tryon[data-shown-week="24"]', state="attached")
    likely = page.inner_text("#photo-girths")
    page.check('input[name="photo_band"][value="p10"]', force=True)
    page.wait_for_selector('#photo-tryon[data-band="p10"]', state="attached", timeout=TIMEOUT_MS)
    page.wait_for_selector("#photo-tryon:not([data-busy])", state="attached", timeout=TIMEOUT_MS)
    assert "best case" in page.inner_text("#photo-girths")
    assert page.get_attribute("#photo-tryon", "data-shown-week") == "24"  # the week is kept
    assert page.inner_text("#photo-girths") != likely

    suit = PHOTO.with_name("tfex-standing-suit.jpeg")
    if not suit.is_file():
        pytest.skip(f"{suit} is absent")
    _send(page, base_url, suit)
    page.wait_for_selector("#photo-tryon[data-refused]", state="attached", timeout=TIMEOUT_MS)
    message = page.inner_text("#photo-message")
    assert "cannot be used" in message and "hip-width apart" in message
    assert not page.is_visible("#photo-after") and not page.is_visible("#photo-before")
    page.locator("#photo-tryon").screenshot(
        path=str(tools.screenshot(page, "photo-refused").with_name("photo-refused-section.png"))
    )
    # The refusal is a 422 the page handles; only the browser's own network line is logged.
    assert all("422" in m for m in errors.messages), errors.messages
