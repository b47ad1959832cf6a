"""``calfsim measure SCAN [--json] [--units]``: tables, JSON fields, how left and right were
decided, and bad inputs (exit code 2, one ``error:`` line naming the problem, no traceback).

Scans are the anatomy model's lower legs (:func:`calfsim.geometry.build_leg_mesh`, calf girth
36.3 cm by construction) written as files here, and the real scans of ``../shared/assets/scans``
when present.
"""

from __future__ import annotations

import json
import math
import struct
from itertools import pairwise
from pathlib import Path

import pytest
import trimesh

from calfsim.anatomy import build_leg_anatomy
from calfsim.cli import app
from calfsim.domain import LegMeasurements, Patient, Side
from calfsim.geometry import build_leg_mesh

ASSETS = Path(__file__).resolve().parents[2].parent / "shared" / "assets" / "scans"
REAL_SCANS = ("tg3d-scan1.obj", "tg3d-scan2.obj", "makehuman-base.obj")
CALF_GIRTH_CM = 36.3
LEG_FIELDS = {
    "side",
    "calf_girth_cm",
    "calf_level_cm",
    "ankle_girth_cm",
    "ankle_level_cm",
    "knee_girth_cm",
    "knee_level_cm",
    "lower_leg_length_cm",
    "axis_tilt_deg",
    "profile",
}


def legs_mesh(*, with_foot: bool = True) -> trimesh.Trimesh:
    parts = []
    for side in Side:
        anatomy = build_leg_anatomy(
            LegMeasurements(calf_girth_cm=CALF_GIRTH_CM), Patient(), side=side
        )
        mesh = build_leg_mesh(anatomy, n_around=48, with_foot=with_foot)
        parts.append(trimesh.Trimesh(mesh.vertices_m, mesh.faces, process=False))
    return trimesh.util.concatenate(parts)


@pytest.fixture(scope="module")
def legs_stl(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Both lower legs in millimetres, as a binary STL (the person faces -y, left on +x)."""
    path = tmp_path_factory.mktemp("scans") / "legs.stl"
    mesh = legs_mesh()
    mesh.apply_scale(1000.0)
    mesh.export(path)
    return path


def run(runner, *args: str | Path):
    return runner.invoke(app, ["measure", *(str(a) for a in args)])


def assert_clean_failure(result, *fragments: str) -> str:
    """Exit 2, nothing on stdout, one ``error:`` line per problem on stderr, no traceback."""
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.stderr and result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines and all(line.startswith("error: ") for line in lines), lines
    for fragment in fragments:
        assert fragment in result.stderr, (fragment, result.stderr)
    return result.stderr


# --- output -------------------------------------------------------------------------------------


def test_table_output(runner, legs_stl):
    result = run(runner, legs_stl)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "legs.stl: 55.1 cm tall, units mm (lower legs only)" in out
    assert "left leg" in out and "right leg" in out
    for label in ("calf girth (cm)", "calf level (cm)", "ankle girth (cm)", "knee girth (cm)"):
        assert label in out
    calf_row = next(line for line in out.splitlines() if "calf girth (cm)" in line)
    assert calf_row.count(f"{CALF_GIRTH_CM:.1f}") == 2  # both legs, to the 0.1 cm shown
    assert "Girth profile (cm), every 2 cm" in out
    # How the decisions were made, in words:
    assert "units: the longest axis (z) spans" in out and "a lower-leg scan" in out
    assert "sides: the person faces -y of the file" in out
    assert "the leg at +x is the person's left" in out
    assert "warning: left leg: the leg does not narrow again" in out  # no knee on this model leg
    assert result.stderr == ""


def test_json_fields(runner, legs_stl):
    result = run(runner, legs_stl, "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"scan", "warnings", "legs"}
    assert list(data["legs"]) == ["left", "right"]
    scan = data["scan"]
    assert scan["source"] == "legs.stl" and scan["source_units"] == "mm"
    assert scan["is_whole_body"] is False and scan["is_watertight"] is True
    # how left/right was decided: from the feet (toes point forward), said in words
    assert "toes point forward" in scan["orientation_reason"]
    assert "the leg at +x is the person's left" in scan["orientation_reason"]
    for name, leg in data["legs"].items():
        assert set(leg) == LEG_FIELDS
        assert leg["side"] == name
        assert leg["calf_girth_cm"] == pytest.approx(CALF_GIRTH_CM, abs=0.05)
        assert leg["ankle_girth_cm"] < leg["calf_girth_cm"]
        assert leg["ankle_level_cm"] < leg["calf_level_cm"]
        assert leg["knee_girth_cm"] is None  # the model leg does not narrow below its knee cap
        heights = leg["profile"]["heights_cm"]
        girths = leg["profile"]["girths_cm"]
        assert len(heights) == len(girths) > 50
        assert all(b - a == pytest.approx(0.5) for a, b in pairwise(heights))
        # the calf is the profile's value at the calf level
        i = heights.index(leg["calf_level_cm"])
        assert girths[i] == leg["calf_girth_cm"]


def test_json_without_feet_names_legs_by_their_x_side(runner, tmp_path):
    path = tmp_path / "no_feet.ply"
    legs_mesh(with_foot=False).export(path)
    result = run(runner, path, "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert list(data["legs"]) == ["+x", "-x"]
    assert all(leg["side"] is None for leg in data["legs"].values())
    reason = data["scan"]["orientation_reason"]
    assert "front/back undecided" in reason and "left and right are unknown" in reason
    assert any(
        w.startswith("no feet at the bottom of this lower-leg scan") for w in data["warnings"]
    )


def test_units_option(runner, legs_stl):
    result = run(runner, legs_stl, "--json", "--units", "mm")
    assert result.exit_code == 0, result.stderr
    scan = json.loads(result.stdout)["scan"]
    assert scan["units_reason"].startswith("units given as 'mm'")


# --- bad inputs ---------------------------------------------------------------------------------


def test_wrong_units_option(runner, legs_stl):
    result = run(runner, legs_stl, "--units", "m")
    assert_clean_failure(result, "units='m' makes legs.stl 551 m tall", "looks like it is in mm")


def test_unknown_units_option(runner, legs_stl):
    assert_clean_failure(run(runner, legs_stl, "--units", "inch"), "units must be one of m, dm")


def test_missing_file(runner, tmp_path):
    assert_clean_failure(run(runner, tmp_path / "nowhere.obj"), "nowhere.obj: no such file")


def test_empty_file(runner, tmp_path):
    path = tmp_path / "empty.ply"
    path.write_bytes(b"")
    assert_clean_failure(run(runner, path), "empty.ply: the file is empty")


def test_not_a_mesh(runner, tmp_path):
    path = tmp_path / "notes.obj"
    path.write_text("shopping list\nmilk\n")
    assert_clean_failure(run(runner, path), "notes.obj: not a mesh")


def test_unsupported_type(runner, tmp_path):
    path = tmp_path / "photo.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0" + b"\0" * 100)
    assert_clean_failure(run(runner, path), "photo.jpg: unsupported scan file type '.jpg'")


def test_two_million_faces(runner, tmp_path):
    path = tmp_path / "huge.stl"
    with path.open("wb") as fh:  # a sparse binary STL: 100 MB on paper, nothing on disk
        fh.write(b"\0" * 80 + struct.pack("<I", 2_000_000))
        fh.truncate(84 + 50 * 2_000_000)
    assert_clean_failure(
        run(runner, path), "huge.stl: the file declares 2,000,000 faces", "1,000,000"
    )


def test_no_legs(runner, tmp_path):
    path = tmp_path / "ball.stl"
    sphere = trimesh.creation.icosphere(subdivisions=4, radius=850.0)  # 1.70 m in mm
    sphere.export(path)
    assert_clean_failure(run(runner, path), "found one leg / legs not separated")


# --- real scans ---------------------------------------------------------------------------------


@pytest.mark.skipif(not ASSETS.is_dir(), reason=f"real scan assets not found at {ASSETS}")
@pytest.mark.parametrize("name", REAL_SCANS)
def test_real_scans(runner, name):
    path = ASSETS / name
    if not path.is_file():
        pytest.skip(f"{path} not found")
    result = run(runner, path, "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["scan"]["is_whole_body"] is True
    assert data["scan"]["source_units"] == ("dm" if name.startswith("makehuman") else "mm")
    assert "toes point forward" in data["scan"]["orientation_reason"]
    assert list(data["legs"]) == ["left", "right"]
    for leg in data["legs"].values():
        # ANSUR II women 37.3 ± 2.9 cm calf, 21.6 ± 1.5 cm ankle: within 3 SD
        assert 28.6 < leg["calf_girth_cm"] < 46.0
        assert 17.1 < leg["ankle_girth_cm"] < 26.1
        assert leg["knee_girth_cm"] is not None
        assert all(g is None or math.isfinite(g) for g in leg["profile"]["girths_cm"])  # JSON-safe
    table = run(runner, path)
    assert table.exit_code == 0 and "left leg" in table.stdout
