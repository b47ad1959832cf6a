"""Try it on, in a browser: measurements -> 3D legs; the slider narrows the calf; bands; scan."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from .conftest import new_page


def _simulate(page: Any, base_url: str, tools: Any, *, left: str, right: str) -> None:
    page.goto(f"{base_url}/try")
    page.fill("#f-left_calf", left)
    page.fill("#f-right_calf", right)
    page.click("#simulate")
    page.wait_for_selector(
        "body[data-viewer-ready]", state="attached", timeout=tools.simulation_timeout_ms
    )


def _shown(page: Any, state: str) -> None:
    """Wait until the frame showing ``"week-band-view-xray"`` is drawn."""
    page.wait_for_selector(f'body[data-shown="{state}"]', state="attached")


def _show_week(page: Any, week: int) -> None:
    page.fill("#week", str(week))  # a range input: fill sets the value and fires input
    page.wait_for_selector(f'body[data-shown^="{week}-"]', state="attached")


def _calf_band(widths: np.ndarray) -> np.ndarray:
    """Rows of the calf's widest region: the upper part of the legs within 8 % of the widest row.

    The view from behind puts the knees at the top and the feet (wider, in profile) at the
    bottom; the calf is the widest part of the upper 60 % of the legs.
    """
    rows = np.flatnonzero(widths > 0)
    top, bottom = rows.min(), rows.max()
    upper = np.arange(top, top + int(0.6 * (bottom - top)))
    widest = widths[upper].max()
    return upper[widths[upper] >= 0.92 * widest]


def test_slider_to_week_12_narrows_the_calf_beside_todays_ghost(
    desktop: tuple[Any, Any], base_url: str, tools: Any
) -> None:
    page, errors = desktop
    _simulate(page, base_url, tools, left="38", right="38.4")
    page.click('[data-view="back"]')
    _show_week(page, 0)
    week0 = tools.canvas_rgb(page)
    tools.screenshot(page, "try-desktop-week0")
    _show_week(page, 12)
    week12 = tools.canvas_rgb(page)
    tools.screenshot(page, "try-desktop-week12")

    w0, w12 = tools.skin_widths(week0), tools.skin_widths(week12)
    band = _calf_band(w0)
    assert band.size >= 10, "no calf found in the back view"
    narrower = w0[band] - w12[band]
    # Both calves lose ~1 % of their width: a few pixels per row, on every row of the band.
    assert narrower.mean() >= 1.0, (
        f"calf band widths {w0[band].mean():.1f} -> {w12[band].mean():.1f}"
    )
    assert (narrower >= 0).mean() >= 0.9
    # The knees (top rows) hardly move: the change is at the calf.
    rows = np.flatnonzero(w0 > 0)
    knee = rows[: max(3, len(rows) // 20)]
    assert np.abs(w0[knee] - w12[knee]).mean() < narrower.mean() / 2
    # Today's legs are shown beside the prediction: their ghost appears where the calf shrank.
    ghost0 = tools.ghost_pixels(week0)[band].sum()
    ghost12 = tools.ghost_pixels(week12)[band].sum()
    assert ghost12 > ghost0 + band.size, (ghost0, ghost12)
    # The readout keeps the measured baseline beside the week's value.
    assert page.inner_text("#r-base") == "38.0 cm"
    assert page.text_content("#r-week-label").startswith("Week 12")
    week_cm = float(page.inner_text("#r-week").split()[0])
    assert week_cm < 38.0
    # The chart shows the band, today's girth and the tape's error.
    for selector in (
        "#chart svg .band",
        "#chart svg .median",
        "#chart svg .baseline",
        "#chart svg .tape-error",
    ):
        assert page.locator(selector).count() == 1, selector
    assert "simulation=" in page.url  # a reload shows the same simulation
    assert not errors.messages, errors.messages


def test_bands_order_the_calf_and_the_readout(
    desktop: tuple[Any, Any], base_url: str, tools: Any
) -> None:
    page, errors = desktop
    _simulate(page, base_url, tools, left="39", right="39")
    _show_week(page, 12)
    widths: dict[str, float] = {}
    values: dict[str, float] = {}
    band_rows = None
    for band, label in (("median", "Likely"), ("p10", "Best case"), ("p90", "Little change")):
        page.click(f'label:has(> input[name="band"][value="{band}"])')
        _shown(page, f"12-{band}-back-0")
        assert label.lower() in page.text_content("#r-week-label")
        rgb = tools.canvas_rgb(page)
        row_widths = tools.skin_widths(rgb)
        if band_rows is None:
            band_rows = _calf_band(row_widths)
        widths[band] = float(row_widths[band_rows].mean())
        values[band] = float(page.inner_text("#r-week").split()[0])
    tools.screenshot(page, "try-desktop-band-p90")
    # Best case is the slimmest leg, little change the fullest.
    assert widths["p10"] < widths["median"] < widths["p90"], widths
    assert values["p10"] < values["median"] < values["p90"], values
    assert not errors.messages, errors.messages


def test_inches_are_converted_and_views_and_xray_work(
    desktop: tuple[Any, Any], base_url: str, tools: Any
) -> None:
    page, errors = desktop
    page.goto(f"{base_url}/try")
    page.fill("#f-left_calf", "38.1")
    page.fill("#f-right_calf", "38.1")
    page.click('label:has(> input[name="unit"][value="in"])')
    assert page.input_value("#f-left_calf") == "15"
    assert page.inner_text(".unit-label >> nth=0") == "in"
    page.click("#simulate")
    page.wait_for_selector(
        "body[data-viewer-ready]", state="attached", timeout=tools.simulation_timeout_ms
    )
    assert page.inner_text("#r-base") == "15.0 in"  # 38.1 cm, shown in the unit chosen
    back = tools.canvas_rgb(page)
    page.click('[data-view="side"]')
    _shown(page, "0-median-side-0")
    side = tools.canvas_rgb(page)
    # From the side the two legs overlap: fewer skin pixels across each row.
    assert tools.skin_widths(side).max() < tools.skin_widths(back).max()
    page.click("#xray")
    _shown(page, "0-median-side-1")
    xray = tools.canvas_rgb(page)
    tools.screenshot(page, "try-desktop-xray-side")
    r, g, b = (xray[..., i].astype(int) for i in range(3))
    muscle_red = (r - g > 60) & (r - b > 50)
    assert muscle_red.sum() > 500, "the muscles do not show through the skin"
    assert not errors.messages, errors.messages


def test_bad_measurement_is_explained(desktop: tuple[Any, Any], base_url: str, tools: Any) -> None:
    page, _ = desktop
    page.goto(f"{base_url}/try")
    page.fill("#f-left_calf", "380")
    page.click("#simulate")
    page.wait_for_selector("#form-errors:not(.hidden)", timeout=tools.simulation_timeout_ms)
    text = page.inner_text("#form-errors")
    assert "calf_girth_cm" in text and "380" in text


def test_scan_upload_shows_the_scanned_legs(
    desktop: tuple[Any, Any], base_url: str, tools: Any
) -> None:
    if not tools.have_scans():
        pytest.skip(f"no real scans in {tools.scans} (../shared/assets is absent)")
    scan = sorted(tools.scans.glob("tg3d-*.obj"))[0]
    page, errors = desktop
    page.goto(f"{base_url}/try")
    page.click("#tab-scan")
    page.set_input_files("#f-scan", str(scan))
    page.click("#simulate")
    page.wait_for_selector(
        "body[data-viewer-ready]", state="attached", timeout=tools.simulation_timeout_ms
    )
    assert "leg found" in page.inner_text("#scan-status")
    summary_legs = page.evaluate("() => Object.keys(window.calfsimTryOn.legs)")
    assert set(summary_legs) <= {"left", "right"} and summary_legs
    base_cm = float(page.inner_text("#r-base").split()[0])
    assert 25 < base_cm < 55  # a human calf, measured on the scan
    _show_week(page, 12)
    tools.screenshot(page, "try-desktop-scan-week12")
    assert float(page.inner_text("#r-week").split()[0]) < base_cm
    assert not errors.messages, errors.messages


def test_a_stored_simulation_opens_from_its_address(
    browser: Any, desktop: tuple[Any, Any], base_url: str, tools: Any
) -> None:
    """A reload or a link: the legs, the slider, the bands and x-ray, loaded in parts."""
    first, _ = desktop
    _simulate(first, base_url, tools, left="38", right="38.4")
    address = first.url
    assert "simulation=" in address

    page, errors = new_page(browser, {"width": 1280, "height": 900})  # a cold cache
    page.goto(address)
    page.wait_for_selector(
        "body[data-viewer-ready]", state="attached", timeout=tools.simulation_timeout_ms
    )
    assert page.locator("#viewer canvas").count() == 1  # one viewer, however often it is asked
    assert page.inner_text("#r-base") == "38.0 cm"
    loaded = page.evaluate(
        "() => performance.getEntriesByType('resource').map(r => new URL(r.name).pathname)"
    )
    assert any(path.endswith("/parts/median.glb") for path in loaded)
    assert not any(path.endswith(("/legs.glb", "/bands.glb", "/muscles.glb")) for path in loaded)
    week0 = tools.canvas_rgb(page)
    _show_week(page, 12)
    w0, w12 = tools.skin_widths(week0), tools.skin_widths(tools.canvas_rgb(page))
    band = _calf_band(w0)
    assert (w0[band] - w12[band]).mean() >= 1.0
    widths = {}
    for value in ("p10", "p90"):  # the band targets load on the first switch
        page.click(f'label:has(> input[name="band"][value="{value}"])')
        _shown(page, f"12-{value}-back-0")
        widths[value] = float(tools.skin_widths(tools.canvas_rgb(page))[band].mean())
    assert widths["p10"] < w12[band].mean() < widths["p90"], (widths, w12[band].mean())
    page.click("#xray")  # the muscles load when x-ray is first switched on
    _shown(page, "12-p90-back-1")
    xray = tools.canvas_rgb(page)
    r, g, b = (xray[..., i].astype(int) for i in range(3))
    assert ((r - g > 60) & (r - b > 50)).sum() > 500, "the muscles do not show through the skin"
    assert not errors.messages, errors.messages
    page.context.close()
