"""Scan orientation and leg measurement on synthetic bodies with known answers (no files).

The toy body: two truncated cones (the legs) whose horizontal sections are regular 64-gons, so
the tape girth at height z is exactly the polygon perimeter ``2 n r(z) sin(pi / n)`` (within
0.2% of ``2 pi r``); a box torso joins them and two box feet point forward. It is built with the
person facing +y (z up), then turned into an OBJ-like file frame (+Y up, facing +Z), where the
person's left leg lies on +X.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import trimesh
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calfsim.domain import Side
from calfsim.errors import InvalidInputError, MeshError
from calfsim.geometry import (
    LegsFound,
    ScanMesh,
    find_legs,
    girth_profile_cm,
    orient_scan,
)

N_SIDES = 64
POLYGON = 2 * N_SIDES * math.sin(math.pi / N_SIDES)  # perimeter / circumradius of the 64-gon
LEG_BOTTOM_M, LEG_TOP_M = 0.03, 0.75
#: (x in the person frame, radius at the bottom, radius at the top): left leg is the thicker.
LEFT = (-0.10, 0.035, 0.065)
RIGHT = (0.10, 0.033, 0.060)
#: Person frame (z up, facing +y, left on -x) to file frame (+Y up, facing +Z): a rotation.
TO_FILE = np.array([[-1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]])


def radius_m(leg: tuple[float, float, float], z_m: np.ndarray) -> np.ndarray:
    _, r0, r1 = leg
    return r0 + (r1 - r0) * (z_m - LEG_BOTTOM_M) / (LEG_TOP_M - LEG_BOTTOM_M)


def cone(leg: tuple[float, float, float], top_m: float = LEG_TOP_M) -> trimesh.Trimesh:
    x, _r0, _ = leg
    m = trimesh.creation.cylinder(radius=1.0, height=1.0, sections=N_SIDES)
    v = m.vertices.copy()
    z = LEG_BOTTOM_M + (v[:, 2] + 0.5) * (top_m - LEG_BOTTOM_M)
    v[:, :2] *= radius_m(leg, z)[:, None]
    v[:, 2] = z
    v[:, 0] += x
    return trimesh.Trimesh(v, m.faces, process=False)


def box(lo: tuple[float, float, float], hi: tuple[float, float, float]) -> trimesh.Trimesh:
    b = trimesh.creation.box(extents=np.subtract(hi, lo))
    b.apply_translation(np.add(lo, hi) / 2)
    return b


def foot(x: float) -> trimesh.Trimesh:
    """24 cm long, toes 18 cm ahead of the leg axis, heel 6 cm behind."""
    return box((x - 0.045, -0.06, 0.0), (x + 0.045, 0.18, 0.04))


def body(
    *, feet: bool = True, legs: tuple = (LEFT, RIGHT), torso: bool = True, top_m: float = LEG_TOP_M
) -> tuple[np.ndarray, np.ndarray]:
    """Vertices (file frame, metres) and faces of the toy body."""
    parts = [cone(leg, top_m) for leg in legs]
    if torso:
        parts.append(box((-0.2, -0.12, 0.72), (0.2, 0.12, 1.70)))
    if feet:
        parts += [foot(leg[0]) for leg in legs]
    mesh = trimesh.util.concatenate(parts)
    return mesh.vertices @ TO_FILE.T, np.asarray(mesh.faces)


@pytest.fixture(scope="module")
def toy() -> tuple[ScanMesh, LegsFound]:
    v, f = body()
    scan = orient_scan(v * 1000.0, f)  # millimetres, like a scanner
    return scan, find_legs(scan)


def expected_girth_cm(leg: tuple[float, float, float], heights_cm: np.ndarray) -> np.ndarray:
    return 100 * POLYGON * radius_m(leg, np.asarray(heights_cm) / 100)


# --- known answers --------------------------------------------------------------------------


def test_toy_body_is_oriented_and_its_units_recognised(toy):
    scan, found = toy
    assert scan.source_units == "mm"
    assert "1.7 m" in scan.units_reason
    assert "feet are at the -y end" in scan.up_axis_reason
    assert scan.is_front_known and "faces +z of the file" in scan.front_reason
    assert scan.vertices_m[:, 2].min() == pytest.approx(0.0, abs=1e-12)
    assert scan.height_m == pytest.approx(1.70, abs=1e-9)
    assert scan.is_watertight and scan.n_components == 5  # 2 legs + torso + 2 feet
    assert found.is_whole_body
    assert [leg.side for leg in found.legs] == [Side.LEFT, Side.RIGHT]
    assert found.leg(Side.LEFT).axis_point_m[0] > 0  # canonical frame: the left leg on +x


@pytest.mark.parametrize("side, leg", [(Side.LEFT, LEFT), (Side.RIGHT, RIGHT)])
def test_cone_girth_is_the_polygon_perimeter_at_every_height(toy, side, leg):
    _, found = toy
    measured = found.leg(side)
    h = measured.profile_heights_cm
    above_feet = h > 5.0  # the foot boxes end at 4 cm
    np.testing.assert_allclose(
        measured.profile_girths_cm[above_feet], expected_girth_cm(leg, h[above_feet]), atol=1e-6
    )
    np.testing.assert_allclose(measured.axis_direction, [0, 0, 1], atol=1e-9)
    assert measured.calf_girth_cm == pytest.approx(
        expected_girth_cm(leg, measured.calf_level_cm), abs=1e-6
    )
    assert measured.ankle_girth_cm == pytest.approx(
        expected_girth_cm(leg, measured.ankle_level_cm), abs=1e-6
    )
    # 2 pi r within the polygon's 0.16% shortfall
    r_calf = radius_m(leg, np.array(measured.calf_level_cm / 100))
    assert measured.calf_girth_cm == pytest.approx(200 * math.pi * r_calf, rel=2e-3)


def test_cone_without_bulge_reports_no_knee_narrowing(toy):
    _, found = toy
    leg = found.leg(Side.LEFT)
    # a cone widens all the way up: ankle at the bottom of its window, calf at the fallback top
    assert leg.ankle_level_cm == pytest.approx(5.5)  # first 5 mm step above 3% of 170 cm
    assert leg.calf_level_cm == pytest.approx(44.0)  # last step below 26% of 170 cm
    assert leg.knee_girth_cm is None and leg.lower_leg_length_cm is None
    assert any("does not narrow again" in w for w in found.warnings)


def test_girth_profile_matches_the_cone(toy):
    scan, found = toy
    heights = np.array([0.10, 0.20, 0.30])
    got = girth_profile_cm(scan, found.leg(Side.RIGHT), heights)
    np.testing.assert_allclose(got, expected_girth_cm(RIGHT, 100 * heights), atol=1e-6)


def test_girth_profile_refuses_unsorted_heights(toy):
    scan, found = toy
    with pytest.raises(InvalidInputError, match="heights_m must be a strictly increasing"):
        girth_profile_cm(scan, found.legs[0], np.array([0.3, 0.1]))


# --- invariants -----------------------------------------------------------------------------


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(k=st.floats(0.75, 1.3))
def test_scaling_the_mesh_by_k_scales_girth_by_k(toy, k):
    scan, found = toy
    v, f = body()
    scaled = orient_scan(v * k, f, units="m")
    legs = find_legs(scaled)
    heights = np.array([0.10, 0.20, 0.30])
    for side in Side:
        base = girth_profile_cm(scan, found.leg(side), heights)
        np.testing.assert_allclose(
            girth_profile_cm(scaled, legs.leg(side), k * heights), k * base, rtol=1e-9
        )
        # the reported calf girth scales too (up to the 5 mm grid of its level)
        assert legs.leg(side).calf_girth_cm == pytest.approx(
            k * found.leg(side).calf_girth_cm, rel=0.01
        )


def test_mirroring_left_right_preserves_girths_and_swaps_sides(toy):
    _, found = toy
    v, f = body()
    mirrored = v * np.array([-1.0, 1.0, 1.0])  # file x is the person's left-right axis
    legs = find_legs(orient_scan(mirrored, f[:, ::-1], units="m"))
    for side, other in ((Side.LEFT, Side.RIGHT), (Side.RIGHT, Side.LEFT)):
        a, b = found.leg(side), legs.leg(other)
        np.testing.assert_allclose(a.profile_girths_cm, b.profile_girths_cm, atol=1e-9)
        assert a.calf_girth_cm == pytest.approx(b.calf_girth_cm, abs=1e-9)
        assert a.ankle_girth_cm == pytest.approx(b.ankle_girth_cm, abs=1e-9)


@pytest.mark.parametrize("unit, factor", [("m", 1.0), ("dm", 10.0), ("cm", 100.0), ("mm", 1e3)])
def test_units_are_recognised_from_body_size(toy, unit, factor):
    _, found = toy
    v, f = body()
    scan = orient_scan(v * factor, f)
    assert scan.source_units == unit
    legs = find_legs(scan)
    for side in Side:
        assert legs.leg(side).calf_girth_cm == pytest.approx(
            found.leg(side).calf_girth_cm, abs=1e-6
        )


def test_a_turned_file_gives_the_same_girths(toy):
    """Any proper rotation of the file (here: lying along x, feet at +x) is undone."""
    _, found = toy
    v, f = body()
    turn = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])  # +Y up -> -X up
    scan = orient_scan(v @ turn.T, f, units="m")
    assert "up is the longest axis (x" in scan.up_axis_reason
    legs = find_legs(scan)
    for side in Side:
        assert legs.leg(side).calf_girth_cm == pytest.approx(
            found.leg(side).calf_girth_cm, abs=1e-6
        )


# --- documented handling of incomplete scans ------------------------------------------------


def test_without_feet_the_legs_are_named_by_their_x_side():
    v, f = body(feet=False)
    found = find_legs(orient_scan(v, f))
    assert [leg.name for leg in found.legs] == ["+x", "-x"]
    assert all(leg.side is None for leg in found.legs)
    assert "side names assumed unknown" in found.orientation_reason
    with pytest.raises(LookupError, match="no left leg"):
        found.leg(Side.LEFT)


def test_lower_legs_only_scan():
    v, f = body(torso=False, top_m=0.60)
    scan = orient_scan(v * 100, f)
    assert scan.source_units == "cm"
    assert "a lower-leg scan" in scan.units_reason
    assert "footprint" in scan.up_axis_reason  # both ends show two legs: the feet decide
    found = find_legs(scan)
    assert not found.is_whole_body
    assert [leg.side for leg in found.legs] == [Side.LEFT, Side.RIGHT]


def test_single_leg_is_reported_with_side_unknown():
    v, f = body(torso=False, legs=(LEFT,), top_m=0.60)
    found = find_legs(orient_scan(v, f))
    (leg,) = found.legs
    assert leg.side is None and leg.name == "single"
    assert any("only one leg was found" in w for w in found.warnings)
    h = leg.profile_heights_cm > 5.0
    np.testing.assert_allclose(
        leg.profile_girths_cm[h],
        100 * POLYGON * radius_m(LEFT, leg.profile_heights_cm[h] / 100),
        atol=1e-6,
    )


def test_holes_away_from_the_legs_only_warn(toy):
    _, found = toy
    v, f = body()
    centres = v[f].mean(axis=1)
    keep = ~((centres[:, 1] > 1.2) & (centres[:, 2] > 0.11))  # the torso's front face, up high
    scan = orient_scan(v, f[keep])
    assert not scan.is_watertight
    legs = find_legs(scan)
    assert any("not watertight" in w for w in legs.warnings)
    for side in Side:
        assert legs.leg(side).calf_girth_cm == pytest.approx(
            found.leg(side).calf_girth_cm, abs=1e-9
        )


# --- refusals -------------------------------------------------------------------------------


def test_a_sphere_has_no_legs():
    sphere = trimesh.creation.icosphere(subdivisions=3, radius=0.85)
    scan = orient_scan(sphere.vertices, sphere.faces)
    with pytest.raises(MeshError, match=r"found one leg / legs not separated.*feet apart"):
        find_legs(scan)


def test_legs_pressed_together_are_not_separated():
    """Legs touching from ankle to knee make one surface: one loop per section."""
    fused = cone((0.0, 0.05, 0.07))
    fused.vertices[:, 0] *= 2.2  # one wide elliptic column instead of two legs
    torso = box((-0.2, -0.12, 0.72), (0.2, 0.12, 1.70))
    mesh = trimesh.util.concatenate([fused, torso, foot(-0.1), foot(0.1)])
    with pytest.raises(MeshError, match=r"legs not separated: the sections .* show 1 loop"):
        find_legs(orient_scan(mesh.vertices @ TO_FILE.T, mesh.faces))


def test_wrong_units_give_the_resulting_height():
    v, f = body()
    with pytest.raises(InvalidInputError, match=r"units='m' makes .* 1,700 m tall.*in mm"):
        orient_scan(v * 1000, f, units="m")
    with pytest.raises(InvalidInputError, match="units must be one of m, dm, cm, mm"):
        orient_scan(v, f, units="inch")


def test_unrecognisable_size():
    v, f = body()
    with pytest.raises(MeshError, match="cannot recognise the units"):
        orient_scan(v * 0.02, f)  # 3.4 cm at most, even read as metres: no person


def test_too_few_vertices():
    tetra = trimesh.creation.box()
    with pytest.raises(MeshError, match="too few vertices to measure a leg: 8"):
        orient_scan(tetra.vertices, tetra.faces)


def test_unmerged_vertices_are_refused():
    v, f = body()
    soup = v[f].reshape(-1, 3)
    with pytest.raises(MeshError, match="not merged"):
        orient_scan(soup, np.arange(len(soup)).reshape(-1, 3))


def test_non_finite_vertices_are_refused():
    v, f = body()
    v = v.copy()
    v[0, 0] = np.nan
    with pytest.raises(MeshError, match="NaN or infinite"):
        orient_scan(v, f)
