"""``calfsim tryon``: outputs written without metadata, JSON record, exit codes."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from calfsim.cli import app

from .conftest import PHOTOS, asset


@pytest.fixture(scope="module")
def runner():
    return CliRunner()


def _tryon(runner, *args):
    return runner.invoke(app, ["tryon", *(str(a) for a in args)])


def test_tryon_writes_the_after_photo_the_comparison_and_json(
    runner, mediapipe_ok, tmp_path, example_path
):
    photo = asset(PHOTOS / "pifu-ryota.png")
    out, compare = tmp_path / "after.jpg", tmp_path / "compare.png"
    result = _tryon(
        runner,
        photo,
        "--protocol",
        example_path,
        "--day",
        84,
        "--band",
        "p10",
        "--out",
        out,
        "--compare",
        compare,
        "--json",
        "--samples",
        400,
    )
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["change"] == {"day": 84.0, "band": "p10", "label": "day 84, p10"}
    assert record["photo"] == {"width_px": 512, "height_px": 512, "view": "front"}
    assert record["landmarks"]["left_knee"]["visibility"] > 0.5
    for side in ("left", "right"):
        leg = record["legs"][side]
        assert leg["status"] == "warped"
        assert leg["calf_girth_after_cm"] < leg["calf_girth_before_cm"]
        band = leg["calf_girth_band_cm"]
        assert band["p10"] <= band["median"] <= band["p90"]
        levels = leg["levels"]
        assert len(levels) == 21 and levels[0]["level_frac"] == 0.0
        # The knee and the ankle do not move; the calf narrows on both sides.
        assert levels[0]["medial_inward_px"] == 0.0 == levels[-1]["lateral_inward_px"]
        assert max(lv["medial_inward_px"] for lv in levels) > 0.0
        assert max(lv["lateral_inward_px"] for lv in levels) > 0.0
        for lv in levels:
            assert lv["medial_inward_cm"] == pytest.approx(
                lv["medial_inward_px"] * leg["cm_per_px"], abs=2e-3
            )
        assert len(leg["contour"]["y_px"]) == len(leg["contour"]["medial_x_px"]) > 10
    after = Image.open(out)
    assert after.format == "JPEG" and after.size == (512, 512)
    assert len(after.getexif()) == 0
    side_by_side = Image.open(compare)
    assert side_by_side.width > 2 * 512 and len(side_by_side.getexif()) == 0
    # The after photo differs from the original only around the lower legs.
    before = np.asarray(Image.open(photo).convert("RGB"), dtype=int)
    changed = np.abs(np.asarray(after.convert("RGB"), dtype=int) - before).max(axis=2) > 40
    rows = np.nonzero(changed)[0]
    assert rows.size == 0 or rows.min() > 300


def test_tryon_summary_and_refusal(runner, mediapipe_ok, tmp_path, example_path):
    ok = _tryon(
        runner,
        asset(PHOTOS / "tfex-yoga-leggings.jpeg"),
        "--protocol",
        example_path,
        "--day",
        84,
        "--out",
        tmp_path / "after.png",
        "--samples",
        400,
    )
    assert ok.exit_code == 0, ok.output
    assert "right leg: refused" in ok.stdout and "knee is bent" in ok.stdout
    assert (tmp_path / "after.png").is_file()
    refused = _tryon(
        runner,
        asset(PHOTOS / "tfex-standing-suit.jpeg"),
        "--protocol",
        example_path,
        "--day",
        84,
        "--out",
        tmp_path / "suit.jpg",
        "--samples",
        400,
    )
    assert refused.exit_code == 2
    assert refused.stderr.count("error:") == 2
    assert "hip-width apart" in refused.stderr
    assert not (tmp_path / "suit.jpg").exists()


def test_tryon_usage_errors(runner, tmp_path, example_path):
    not_photo = tmp_path / "legs.jpg"
    not_photo.write_text("hello", encoding="utf-8")
    bad_suffix = _tryon(
        runner, not_photo, "--protocol", example_path, "--day", 84, "--out", tmp_path / "a.gif"
    )
    assert bad_suffix.exit_code == 2 and "--out must name a .jpg" in bad_suffix.stderr
    not_image = _tryon(
        runner, not_photo, "--protocol", example_path, "--day", 84, "--out", tmp_path / "a.jpg"
    )
    assert not_image.exit_code == 2 and "not a JPEG, PNG or WebP" in not_image.stderr
    bad_band = _tryon(
        runner,
        asset(PHOTOS / "pifu-ryota.png"),
        "--protocol",
        example_path,
        "--day",
        84,
        "--band",
        "p50",
        "--out",
        tmp_path / "a.jpg",
    )
    assert bad_band.exit_code == 2 and "band must be one of median, p10, p90" in bad_band.stderr
    assert not (tmp_path / "a.jpg").exists()
