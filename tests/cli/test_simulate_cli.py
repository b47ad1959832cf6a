"""``calfsim simulate``: the four files, the girths on the meshes, and clear refusals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from calfsim.cli import app
from calfsim.io import read_glb_morph_names

FAST = ("--samples", "200", "--quiet")
SCAN = Path(__file__).resolve().parents[2].parent / "shared" / "assets" / "scans"


def run(runner, *args: str | Path):
    return runner.invoke(app, [str(a) for a in args])


def assert_clean_refusal(result, *words: str) -> None:
    assert result.exit_code == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines and all(line.startswith("error: ") for line in lines), lines
    for word in words:
        assert word in result.stderr


def test_simulate_writes_the_four_files(runner, example_path, tmp_path):
    out = tmp_path / "sim"
    result = run(runner, "simulate", example_path, "--out", out, *FAST)
    assert result.exit_code == 0, result.stderr
    assert {p.name for p in out.iterdir()} == {
        "legs.glb",
        "before_after.png",
        "weeks.png",
        "summary.json",
    }
    summary = json.loads((out / "summary.json").read_text())
    assert summary["prediction"]["samples"] == 200
    assert summary["frames"][12]["name"] == "day_084_median"
    assert summary["max_girth_error_cm"] < 0.1
    for leg in summary["legs"].values():
        mesh = np.array(leg["mesh_girth_cm"], dtype=float)
        model = np.array(leg["model_girth_cm"], dtype=float)
        assert np.nanmax(np.abs(mesh - model)) < 0.1
    names = read_glb_morph_names(out / "legs.glb")
    assert names["left_skin"][0] == "day_000_median" and "day_364_median" in names["left_skin"]
    with Image.open(out / "before_after.png") as image:
        assert image.width > 600 and image.height > 800
    assert "left calf: 36.3 cm at baseline" in result.stdout
    assert "wrote" in result.stdout


def test_the_after_picture_differs_from_the_before_where_the_calf_is(
    runner, example_path, tmp_path
):
    out = tmp_path / "sim"
    result = run(
        runner, "simulate", example_path, "--out", out, *FAST, "--band", "p10", "--day", "84"
    )
    assert result.exit_code == 0, result.stderr
    with Image.open(out / "before_after.png") as image:
        pixels = np.asarray(image.convert("RGB"), dtype=np.int16)
    half = pixels.shape[1] // 2
    before, after = pixels[:, :half], pixels[:, half : 2 * half]
    changed = np.abs(before - after).sum(axis=2) > 60
    body = changed[120:-60]  # without the title, column labels and legend
    rows = body.any(axis=1)
    # The silhouette moves along the calves only: not at the knees, feet or everywhere.
    assert 0.05 < rows.mean() < 0.6, rows.mean()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--band", "worst"), ("--band", "worst")),
        (("--day", "10"), ("--day", "10")),
        (("--day", "400"), ("--day",)),
        (("--band", "p10", "--day", "14"), ("--day 14", "p10")),
        (("--samples", "5"), ("samples", "5")),
    ],
)
def test_bad_options_are_refused_by_name(runner, example_path, tmp_path, args, words):
    result = run(runner, "simulate", example_path, "--out", tmp_path / "o", "--quiet", *args)
    assert_clean_refusal(result, *words)
    assert not (tmp_path / "o" / "legs.glb").exists()


def test_a_missing_protocol_or_scan_is_refused(runner, example_path, tmp_path):
    result = run(runner, "simulate", tmp_path / "nope.json", "--out", tmp_path / "o", *FAST)
    assert_clean_refusal(result, "nope.json")
    result = run(
        runner,
        "simulate",
        example_path,
        "--scan",
        tmp_path / "nope.obj",
        "--out",
        tmp_path / "o",
        *FAST,
    )
    assert_clean_refusal(result, "nope.obj")


def test_a_file_as_out_is_refused(runner, example_path, tmp_path):
    target = tmp_path / "file"
    target.write_text("x")
    result = run(runner, "simulate", example_path, "--out", target, *FAST)
    assert_clean_refusal(result, "--out")


@pytest.mark.skipif(not (SCAN / "tg3d-scan1.obj").is_file(), reason="../shared/assets absent")
def test_simulate_on_a_real_scanner_file(runner, example_path, tmp_path):
    out = tmp_path / "scan"
    result = run(
        runner, "simulate", example_path, "--scan", SCAN / "tg3d-scan1.obj", "--out", out, *FAST
    )
    assert result.exit_code == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["meshes"][0]["name"] == "scan_skin"
    assert summary["max_girth_error_cm"] < 0.1
    assert any("scan's calf girth" in note for note in summary["notes"])
