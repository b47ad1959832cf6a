"""Numeric ground truth: a real body mesh rendered before and after a known 3D change.

The MakeHuman base mesh (``../shared/assets/scans``) is rendered from behind with an
orthographic camera. Its lower legs are then deformed in 3D by the model's radial scale field
(:func:`calfsim.geometry.radial_scale_field`: each calf section's muscle bulges flatten and the
section shrinks to the target girth, around the scan's own leg axis) and rendered again with the
same camera. The photo pipeline sees only the "before" render: it finds the legs with the pose
model, traces them, computes the silhouette change from the model's own mesh for the same
anatomy and targets, and warps the image. Its calf silhouettes must match the "after" render's
(intersection over union >= 0.97 in the calf band, a bar the unwarped image misses) and every
pixel outside the lower legs must be unchanged.

The 3D deformation is written here from the scan's axis (``find_legs``) and the scale field
only; the photo side never sees the deformed mesh.
"""

from __future__ import annotations

import numpy as np
import pytest

from calfsim.anatomy import build_leg_anatomy, default_params, girth_from_area_cm
from calfsim.domain import LegMeasurements, MuscleHead, Patient, Side
from calfsim.geometry import find_legs, radial_scale_field

from .conftest import SCANS, asset

#: A strong change (larger than any predicted median, so that it shows at the IoU bar): most of
#: the medial head and half of the lateral head gone; the girth follows from the lost area.
ATROPHY = {MuscleHead.GM_MEDIAL: 0.6, MuscleHead.GM_LATERAL: 0.5}
SIZE_PX = (1000, 2000)
BACKGROUND = np.array([140, 153, 166])
SKIN_RGBA = (0.85, 0.7, 0.6, 1.0)
#: The calf band compared: from 10% to 60% of the way from the knee joint line to the
#: malleolus, where the gastrocnemius heads are.
BAND_FRAC = (0.1, 0.6)
IOU_BAR = 0.97


def _renderer_or_skip():
    from calfsim.render._mesh_render import _Renderer

    try:
        _Renderer.get()
    except RuntimeError as error:
        pytest.skip(f"no headless OpenGL (EGL) on this machine: {error}")


def _deform(vertices, leg, anatomy, knee_m, girth):
    """Move one leg's vertices radially about its own axis by the model's scale field."""
    field = radial_scale_field(
        anatomy, girth_cm_target=girth, gm_atrophy_frac=ATROPHY, knee_height_m=knee_m
    )
    d = leg.axis_direction / np.linalg.norm(leg.axis_direction)

    def across(v):
        u = v - d * (v @ d)
        return u / np.linalg.norm(u)

    anterior = across(np.array([0.0, -1.0, 0.0]))
    medial = across(np.array([-1.0 if leg.side is Side.LEFT else 1.0, 0.0, 0.0]))
    height = d[2] * ((vertices - leg.axis_point_m) @ d)
    is_leg = (np.sign(vertices[:, 0]) == np.sign(leg.axis_point_m[0])) & (height < knee_m + 0.06)
    on_axis = leg.axis_point_m + (height[is_leg] / d[2])[:, None] * d
    radial = vertices[is_leg] - on_axis
    angle = np.mod(np.arctan2(radial @ medial, radial @ anterior), 2.0 * np.pi)
    moved = vertices.copy()
    moved[is_leg] = on_axis + radial * field(height[is_leg], angle)[0][:, None]
    return moved


@pytest.fixture(scope="module")
def truth(mediapipe_ok):
    from calfsim.io import load_scan
    from calfsim.photo import silhouette_change
    from calfsim.render import MeshCamera, render_meshes

    _renderer_or_skip()
    scan = load_scan(asset(SCANS / "makehuman-base.obj"))
    found = find_legs(scan)
    params = default_params()
    vertices = scan.vertices_m
    changes, levels = {}, {}
    for leg in found.legs:
        # The anatomy of this leg: its girths and a lower-leg length from its calf and ankle
        # levels (the anatomy's level fractions), the knee joint line above the calf level.
        length_cm = (leg.calf_level_cm - leg.ankle_level_cm) / (
            params.ankle_level_frac - params.calf_level_frac
        )
        knee_m = (leg.calf_level_cm + params.calf_level_frac * length_cm) / 100.0
        anatomy = build_leg_anatomy(
            LegMeasurements(
                calf_girth_cm=leg.calf_girth_cm,
                ankle_girth_cm=leg.ankle_girth_cm,
                lower_leg_length_cm=length_cm,
            ),
            Patient(),
            side=leg.side,
        )
        area = anatomy.total_area_cm2 - sum(
            f * anatomy.muscle_area_cm2(h) for h, f in ATROPHY.items()
        )
        girth = girth_from_area_cm(area)
        vertices = _deform(vertices, leg, anatomy, knee_m, girth)
        changes[leg.side] = silhouette_change(
            anatomy, girth_cm_target=girth, gm_atrophy_frac=ATROPHY
        )
        levels[leg.side] = (knee_m, length_cm / 100.0)
    height_m = float(scan.vertices_m[:, 2].max())
    camera = MeshCamera(view="back", center_m=(0.0, 0.0, height_m / 2), height_m=height_m * 1.04)

    def render(v):
        rgba = render_meshes(
            [(v, scan.faces, SKIN_RGBA)], camera=camera, size=SIZE_PX, background_rgba=(0, 0, 0, 0)
        )
        alpha = rgba[..., 3:4] / 255.0
        rgb = (rgba[..., :3] * alpha + BACKGROUND * (1.0 - alpha)).round().astype(np.uint8)
        return np.ascontiguousarray(rgb), rgba[..., 3] >= 128

    before, before_mask = render(scan.vertices_m)
    _, after_mask = render(vertices)
    px_per_m = SIZE_PX[1] / camera.height_m

    def row_of(z_m):
        return SIZE_PX[1] / 2 - (z_m - height_m / 2) * px_per_m - 0.5

    return {
        "before": before,
        "before_mask": before_mask,
        "after_mask": after_mask,
        "changes": changes,
        "levels": levels,
        "row_of": row_of,
        "cm_per_px": 100.0 / px_per_m,
    }


@pytest.fixture(scope="module")
def warped(truth):
    from calfsim.photo import tryon_photo

    return tryon_photo(truth["before"], truth["changes"], view="back")


def _band(truth):
    band = np.zeros(truth["before_mask"].shape, dtype=bool)
    for knee_m, length_m in truth["levels"].values():
        top = truth["row_of"](knee_m - BAND_FRAC[0] * length_m)
        bottom = truth["row_of"](knee_m - BAND_FRAC[1] * length_m)
        band[int(np.ceil(top)) : int(bottom) + 1] = True
    return band


def _coverage(rgb):
    """Skin coverage of a render on the flat background (half-way colour threshold)."""
    skin = np.array(SKIN_RGBA[:3]) * 255.0
    distance = np.linalg.norm(rgb.astype(float) - BACKGROUND, axis=2)
    return distance > 0.5 * np.linalg.norm(skin - BACKGROUND) * 0.5


def _iou(a, b, band):
    return float((a & b & band).sum() / ((a | b) & band).sum())


def test_the_legs_are_found_and_named_from_behind(truth, warped):
    legs = warped.legs
    assert legs.view == "back"
    assert set(legs.usable_sides) == {Side.LEFT, Side.RIGHT}
    # Seen from behind the left leg is on the image left; the knee landmarks lie within a few
    # percent of the lower leg of the knee joint line placed from the anatomy's levels.
    assert legs.landmarks["left_knee"].x_px < legs.landmarks["right_knee"].x_px
    for side, (knee_m, length_m) in truth["levels"].items():
        contour = legs.legs[side].contour
        length_px = length_m * 100.0 / truth["cm_per_px"]
        assert abs(contour.knee_xy_px[1] - truth["row_of"](knee_m)) < 0.05 * length_px
        assert abs(contour.ankle_xy_px[1] - truth["row_of"](knee_m - length_m)) < 0.05 * length_px


def test_the_coverage_measure_reproduces_the_render_mask(truth):
    band = _band(truth)
    assert _iou(_coverage(truth["before"]), truth["before_mask"], band) > 0.99


def test_warped_calves_match_the_3d_change(truth, warped):
    band = _band(truth)
    unwarped = _iou(truth["before_mask"], truth["after_mask"], band)
    matched = _iou(_coverage(warped.after), truth["after_mask"], band)
    assert unwarped < IOU_BAR  # the change is visible at the bar
    assert matched >= IOU_BAR, (unwarped, matched)
    # Most of the silhouette error is gone.
    assert (1.0 - matched) < 0.6 * (1.0 - unwarped)


def test_pixels_outside_the_lower_legs_are_unchanged(truth, warped):
    before, after = truth["before"], warped.after
    changed = np.any(after != before, axis=2)
    assert changed.any()
    rows = np.nonzero(changed)[0]
    knees = [warped.legs.legs[s].contour.knee_xy_px[1] for s in truth["levels"]]
    ankles = [warped.legs.legs[s].contour.ankle_xy_px[1] for s in truth["levels"]]
    assert rows.min() >= min(knees) and rows.max() <= max(ankles)
    # Beside the legs, nothing moved beyond the fade (0.6 x the leg's width).
    near = np.zeros_like(changed)
    for d in warped.displacements.values():
        reach = 0.61 * (d.right_x_px - d.left_x_px) + 2.0
        cols = np.arange(changed.shape[1])[None, :]
        rows_ = d.y_px.astype(int)
        near[rows_] |= (cols >= (d.left_x_px - reach)[:, None]) & (
            cols <= (d.right_x_px + reach)[:, None]
        )
    assert not (changed & ~near).any()


def test_the_scale_from_the_girth_is_close_to_the_camera(truth, warped):
    # The model's silhouette width for the leg's girth gives centimetres per pixel; the
    # camera's true scale is known. MakeHuman's calves are a little narrower side to side than
    # the model's section for the same girth.
    for side in truth["levels"]:
        assert warped.cm_per_px[side] == pytest.approx(truth["cm_per_px"], rel=0.12)


def _edges(mask, rows, axis_x):
    """Image-left and image-right silhouette edges of the leg around ``axis_x`` on each row."""
    out = []
    for y, x in zip(rows, axis_x, strict=True):
        run = mask[y]
        falses = np.flatnonzero(~run)
        out.append((falses[falses < x][-1] + 0.5, falses[falses > x][0] - 0.5))
    return np.array(out)


def test_each_side_moves_by_the_3d_amount(truth, warped):
    band = _band(truth)
    for d in warped.displacements.values():
        rows = np.array([int(y) for y in d.y_px if band[int(y), 0]])
        axis = np.interp(rows, d.y_px, d.axis_x_px).round().astype(int)
        before = _edges(truth["before_mask"], rows, axis)
        after = _edges(truth["after_mask"], rows, axis)
        moved = _edges(_coverage(warped.after), rows, axis)
        medial = 0 if d.is_medial_left else 1
        change_3d = np.abs(after - before).mean(axis=0)
        error = np.abs(moved - after).mean(axis=0)
        # The medial head wasted more and is the larger: the medial side narrows most, in 3D
        # and in the photo.
        assert change_3d[medial] > change_3d[1 - medial]
        inward = np.abs(moved - before).mean(axis=0)
        assert inward[medial] > inward[1 - medial]
        # Each contour lands closer to the 3D result than it started, and the two together
        # keep less than 70% of the change as error (pixel-quantised edges; the model's section
        # puts its medial extreme nearer the medial head than MakeHuman's calf, so the photo
        # narrows the medial side somewhat more than the 3D change of this mesh).
        assert np.all(error < change_3d)
        assert error.sum() < 0.7 * change_3d.sum()


def test_a_side_view_is_refused_with_advice(mediapipe_ok):
    from calfsim.errors import InvalidInputError
    from calfsim.io import load_scan
    from calfsim.photo import ADVICE, find_legs_in_photo, silhouette_change, tryon_photo
    from calfsim.render import MeshCamera, render_meshes

    _renderer_or_skip()
    scan = load_scan(asset(SCANS / "makehuman-base.obj"))
    height_m = float(scan.vertices_m[:, 2].max())
    camera = MeshCamera(view="side", center_m=(0.0, 0.0, height_m / 2), height_m=height_m * 1.04)
    rgba = render_meshes(
        [(scan.vertices_m, scan.faces, SKIN_RGBA)],
        camera=camera,
        size=(600, 1200),
        background_rgba=(0.55, 0.6, 0.65, 1.0),
    )
    rgb = np.ascontiguousarray(rgba[..., :3])
    legs = find_legs_in_photo(rgb)
    assert legs.usable_sides == ()
    reasons = {finding.reason for finding in legs.legs.values()}
    assert "view" in reasons
    anatomy = build_leg_anatomy(LegMeasurements(calf_girth_cm=36.0), Patient(), side=Side.LEFT)
    change = silhouette_change(anatomy, girth_cm_target=anatomy.girth_cm * 0.95)
    with pytest.raises(InvalidInputError) as info:
        tryon_photo(rgb, {Side.LEFT: change}, legs=legs)
    assert info.value.field == "photo"
    assert ADVICE[legs.legs[Side.LEFT].reason] in info.value.message
