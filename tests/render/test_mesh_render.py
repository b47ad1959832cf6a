"""Headless mesh renders: true-to-scale silhouettes, the views the right way round, PNGs."""

from __future__ import annotations

import math

import numpy as np
import pytest
import trimesh
from PIL import Image

from calfsim.errors import InvalidInputError
from calfsim.render import (
    MeshCamera,
    before_after_png,
    frame_camera,
    render_meshes,
    weeks_strip_png,
)
from calfsim.render._mesh_render import _Renderer

SKIN = (0.91, 0.76, 0.66, 1.0)
TRANSPARENT = (1.0, 1.0, 1.0, 0.0)


@pytest.fixture(scope="module", autouse=True)
def egl():
    try:
        _Renderer.get()
    except RuntimeError as error:
        pytest.skip(f"no headless OpenGL (EGL) on this machine: {error}")


def _sphere(radius_m=0.1, center=(0.0, 0.0, 0.0), rgba=SKIN):
    mesh = trimesh.creation.icosphere(subdivisions=5, radius=radius_m)
    return (mesh.vertices + center, mesh.faces, rgba)


def _leg(x_m=0.0, scale=1.0, rgba=SKIN):
    """A calf-like solid of revolution, 0.45 m tall, widest (r = 6 cm x scale) at z = 0.3 m."""
    z = np.linspace(0.0, 0.45, 120)
    radius = 0.035 + 0.025 * np.exp(-(((z - 0.3) / 0.08) ** 2))
    profile = np.column_stack([radius * scale, z])
    mesh = trimesh.creation.revolve(profile, sections=96)
    return (mesh.vertices + np.array([x_m, 0.0, 0.0]), mesh.faces, rgba)


def _coverage(image):
    return image[..., 3] >= 128


def test_sphere_seen_from_behind_is_a_disc_of_the_right_area():
    radius_m, height_m, size_px = 0.1, 0.3, 300
    camera = MeshCamera(view="back", center_m=(0.0, 0.0, 0.0), height_m=height_m)
    image = render_meshes(
        [_sphere(radius_m)], size=(size_px, size_px), camera=camera, background_rgba=TRANSPARENT
    )
    assert image.shape == (size_px, size_px, 4)
    assert image.dtype == np.uint8
    px_per_m = size_px / height_m
    expected = math.pi * (radius_m * px_per_m) ** 2  # orthographic: the disc of the same radius
    mask = _coverage(image)
    assert mask.sum() == pytest.approx(expected, rel=0.02)
    rows, cols = np.nonzero(mask)
    assert rows.mean() == pytest.approx(size_px / 2, abs=1.0)
    assert cols.mean() == pytest.approx(size_px / 2, abs=1.0)


def test_white_background_and_shaded_mesh():
    image = render_meshes([_sphere()], view="back", size=(200, 200))
    assert (image[0, 0] == (255, 255, 255, 255)).all()
    center = image[100, 100, :3].astype(int)
    assert center[0] > center[2]  # skin colour, not white or grey
    # Lambert shading: the lit side (upper left) is brighter than the opposite side.
    mask = (image[..., :3] < 250).any(axis=2)
    rows, cols = np.nonzero(mask)
    lit = image[rows.min() + 40, cols.min() + 40, :3].astype(int).sum()
    dark = image[rows.max() - 40, cols.max() - 40, :3].astype(int).sum()
    assert lit > dark + 30


@pytest.mark.parametrize(
    ("view", "offset", "is_left"),
    [
        ("back", (0.2, 0.0, 0.0), True),  # the person's left (+X) on the left, seen from behind
        ("front", (0.2, 0.0, 0.0), False),  # ... and on the right seen from the front
        ("side", (0.0, 0.2, 0.0), True),  # the back (+Y) on the left: the person faces right
    ],
)
def test_views_are_the_right_way_round(view, offset, is_left):
    center = _sphere(0.05)
    marker = _sphere(0.05, center=offset, rgba=(0.2, 0.3, 0.9, 1.0))
    image = render_meshes([center, marker], view=view, size=(400, 200))
    blue = (image[..., 2].astype(int) - image[..., 0]) > 60
    assert blue.any()
    mean_col = np.nonzero(blue)[1].mean()
    assert (mean_col < 200) == is_left


def test_one_camera_keeps_the_scale_between_states():
    before, after = [_leg(scale=1.0)], [_leg(scale=0.8)]
    camera = frame_camera(before + after, view="back", size=(300, 450))
    widths = []
    for state in (before, after):
        image = render_meshes(state, size=(300, 450), camera=camera, background_rgba=TRANSPARENT)
        widths.append(_coverage(image).sum(axis=1))
    # Same camera: the leg's length in pixels is unchanged, each row is narrower (or equal).
    assert (widths[0] > 0).sum() == (widths[1] > 0).sum()
    assert (widths[1] <= widths[0] + 1).all()
    assert widths[1].max() == pytest.approx(0.8 * widths[0].max(), rel=0.03)


def test_frame_camera_fits_the_union_of_meshes():
    camera = frame_camera([_leg(-0.07), _leg(0.07)], view="back", size=(600, 900), margin_frac=0.0)
    assert camera.view == "back"
    assert camera.center_m == pytest.approx((0.0, 0.0, 0.225), abs=1e-3)
    assert camera.height_m == pytest.approx(0.45, rel=1e-3)  # taller than wide: height fits
    wide = frame_camera([_leg(-0.5), _leg(0.5)], view="back", size=(600, 900), margin_frac=0.0)
    assert wide.height_m == pytest.approx(1.12 * 900 / 600, rel=1e-2)  # width fits


def test_see_through_skin_shows_the_inner_mesh():
    inner = _sphere(0.05, rgba=(0.8, 0.2, 0.2, 1.0))
    xray = render_meshes([_sphere(0.1, rgba=(0.9, 0.8, 0.7, 0.3)), inner], size=(200, 200))
    solid = render_meshes([_sphere(0.1), inner], size=(200, 200))
    red = xray[100, 100, :3].astype(int)
    assert red[0] - red[1] > 60  # the muscle shows through
    skin = solid[100, 100, :3].astype(int)
    assert skin[0] - skin[1] < 40  # an opaque skin hides it


def test_winding_does_not_change_the_picture():
    """Inside-out triangles (clockwise from outside) render like outward ones, see-through too."""
    vertices, faces, _ = _leg()
    for rgba in (SKIN, (0.9, 0.8, 0.7, 0.4)):
        outward = render_meshes([(vertices, faces, rgba)], view="back", size=(120, 200))
        inverted = render_meshes([(vertices, faces[:, ::-1], rgba)], view="back", size=(120, 200))
        difference = np.abs(outward.astype(int) - inverted.astype(int))
        assert difference.mean() < 0.5


def test_renders_are_deterministic():
    first = render_meshes([_leg()], view="side", size=(120, 200))
    second = render_meshes([_leg()], view="side", size=(120, 200))
    np.testing.assert_array_equal(first, second)


def _mesh_pixels(rgb):
    """Skin-coloured pixels (red clearly above blue): the meshes, not white or blue marks."""
    return (rgb[..., 0].astype(int) - rgb[..., 2]) > 25


def test_before_after_png_shows_a_narrower_after(tmp_path):
    path = before_after_png(
        [_leg(-0.1), _leg(0.1)],
        [_leg(-0.1, scale=0.85), _leg(0.1, scale=0.85)],
        tmp_path / "sub" / "before_after.png",
        size=(240, 360),
        title="week 12",
    )
    assert path.is_file()
    with Image.open(path) as opened:
        assert opened.format == "PNG"
        rgb = np.asarray(opened.convert("RGB"))
    assert rgb.shape[1] == 2 * 240
    assert rgb.shape[0] > 2 * 360  # two rows (back, side) plus headings
    skin = _mesh_pixels(rgb)
    before_rows, after_rows = skin[:, :240].sum(axis=1), skin[:, 240:].sum(axis=1)
    both = (before_rows > 0) & (after_rows > 0)
    assert both.sum() > 300
    assert (after_rows[both] <= before_rows[both] + 2).all()
    assert after_rows.sum() < 0.92 * before_rows.sum()
    blue = (rgb[..., 2].astype(int) - rgb[..., 0]) > 60
    assert blue[:, 240:].sum() > blue[:, :240].sum() + 100  # the before outline on "after"


def test_weeks_strip_png_is_a_strip_of_shrinking_legs(tmp_path):
    frames = [(f"week {week}", [_leg(scale=s)]) for week, s in ((0, 1.0), (4, 0.9), (12, 0.8))]
    path = weeks_strip_png(frames, tmp_path / "weeks.png", view="side", size=(150, 260))
    with Image.open(path) as opened:
        rgb = np.asarray(opened.convert("RGB"))
    assert rgb.shape[1] == 3 * 150
    areas = [_mesh_pixels(rgb[:, i * 150 : (i + 1) * 150]).sum() for i in range(3)]
    assert areas[0] > areas[1] > areas[2] > 0


@pytest.mark.parametrize(
    "call",
    [
        lambda: render_meshes([], size=(10, 10)),
        lambda: render_meshes([_sphere()], view="top"),
        lambda: render_meshes([_sphere()], size=(0, 10)),
        lambda: render_meshes([_sphere()], size=(100_000, 10)),
        lambda: render_meshes([(np.zeros((3, 3)), np.array([[0, 1, 5]]), SKIN)]),
        lambda: render_meshes([(np.full((3, 3), np.nan), np.array([[0, 1, 2]]), SKIN)]),
        lambda: render_meshes([(np.eye(3), np.array([[0, 1, 2]]), (1, 0, 0))]),
        lambda: render_meshes([_sphere()], background_rgba=(2, 0, 0, 1)),
        lambda: render_meshes(
            [_sphere()], view="side", camera=MeshCamera(view="back", center_m=(0, 0, 0), height_m=1)
        ),
        lambda: MeshCamera(view="back", center_m=(0, 0, 0), height_m=0.0),
        lambda: frame_camera([_sphere()], margin_frac=0.6),
        lambda: before_after_png([_sphere()], [_sphere()], "x.png", views=("top",)),
        lambda: before_after_png([_sphere()], [_sphere()], "x.png", labels=("only one",)),
        lambda: weeks_strip_png([], "x.png"),
        lambda: weeks_strip_png([("week 0", [_sphere()])], "x.png", view="top"),
    ],
)
def test_invalid_input_is_refused(call):
    with pytest.raises(InvalidInputError):
        call()


def test_missing_egl_gives_a_clear_error(monkeypatch):
    import moderngl

    def no_egl(**kwargs):
        raise Exception("eglGetDisplay failed")  # what moderngl raises without EGL

    monkeypatch.setattr(_Renderer, "_instance", None)
    monkeypatch.setattr(moderngl, "create_standalone_context", no_egl)
    with pytest.raises(RuntimeError, match=r"EGL\) is unavailable.*libegl1"):
        render_meshes([_sphere()], size=(10, 10))
