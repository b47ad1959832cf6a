"""Contour tracing and the displacement field on synthetic images with known answers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calfsim.domain import Side
from calfsim.errors import InvalidInputError
from calfsim.photo import (
    LegContour,
    SilhouetteChange,
    leg_displacement,
    subpixel_peak,
    trace_edge,
    warp_grid,
)

KNEE_Y, ANKLE_Y = 100.0, 500.0


def _edges(y):
    left = 200.0 + 12.0 * np.sin(y / 45.0)
    right = 290.0 + 8.0 * np.cos(y / 60.0)
    return left, right


def _leg_image(height=600, width=480):
    """A dark leg (0) on a striped light background, anti-aliased edges (area coverage)."""
    y = np.arange(height, dtype=float)[:, None]
    x = np.arange(width, dtype=float)[None, :]
    left, right = _edges(y)
    inside = np.clip(np.minimum(x + 0.5 - left, right - (x - 0.5)), 0.0, 1.0)
    rows = (y >= KNEE_Y - 40) & (y <= ANKLE_Y + 40)
    inside = np.where(rows, inside, 0.0)
    background = 200.0 + 40.0 * (np.sin(x / 3.0) > 0)  # stripes every few pixels
    gray = background * (1.0 - inside)
    return np.repeat(gray[:, :, None], 3, axis=2).round().astype(np.uint8)


def _measured_edges(gray_row):
    """Sub-pixel edges of the dark run in one row, from the coverage of each pixel."""
    darkness = 1.0 - gray_row / 255.0
    inside = np.flatnonzero(darkness > 0.5)
    return inside.min(), inside.max()


def _contour(y):
    left, right = _edges(y)
    return LegContour(
        side=Side.LEFT,
        y_px=y,
        left_x_px=left,
        right_x_px=right,
        is_medial_left=False,
        knee_xy_px=(245.0, KNEE_Y),
        ankle_xy_px=(245.0, ANKLE_Y),
    )


def _change(medial=0.9, lateral=0.95, share=0.5):
    t = np.linspace(0.0, 1.0, 11)
    medial_before = np.full(t.size, 6.0 * share / 0.5)
    lateral_before = np.full(t.size, 6.0 * (1 - share) / 0.5)
    return SilhouetteChange(
        side=Side.LEFT,
        level_frac=t,
        medial_before_cm=medial_before,
        lateral_before_cm=lateral_before,
        medial_after_cm=medial_before * medial,
        lateral_after_cm=lateral_before * lateral,
        length_cm=36.0,
        calf_level_frac=0.3,
        girth_before_cm=36.0,
        girth_after_cm=34.0,
    )


def test_trace_edge_follows_a_wavy_edge_through_noise():
    rng = np.random.default_rng(0)
    rows = 300
    truth = 40.0 + 6.0 * np.sin(np.arange(rows) / 20.0)
    cols = np.arange(80)[None, :]
    strength = np.exp(-0.5 * ((cols - truth[:, None]) / 1.2) ** 2)
    noisy = strength + rng.normal(0.0, 0.25, strength.shape)
    path = trace_edge(noisy, truth + 5.0, max_step=1, prior_halfwidth=15.0)
    refined = subpixel_peak(strength, path)
    assert np.abs(path - truth).max() <= 2
    assert np.abs(refined - truth).mean() < 0.5


def test_subpixel_peak_of_a_symmetric_peak_is_its_centre():
    s = np.array([[0.0, 1.0, 2.0, 2.0, 1.0, 0.0]])
    assert subpixel_peak(s, [2])[0] == pytest.approx(2.5)


def test_trace_edge_rejects_bad_shapes():
    with pytest.raises(InvalidInputError):
        trace_edge(np.zeros((3, 4)), np.zeros(2), prior_halfwidth=2.0)


def test_contour_rejects_crossed_edges():
    y = np.arange(10.0)
    with pytest.raises(InvalidInputError):
        LegContour(
            side=Side.LEFT,
            y_px=y,
            left_x_px=np.full(10, 5.0),
            right_x_px=np.full(10, 4.0),
            is_medial_left=True,
            knee_xy_px=(0.0, 0.0),
            ankle_xy_px=(0.0, 9.0),
        )


@pytest.mark.parametrize("step", [1, 2, 4])
def test_warp_moves_the_edges_where_the_model_says_and_nothing_else(mediapipe_ok, step):
    from calfsim.photo import remap_region

    image = _leg_image()
    y = np.arange(KNEE_Y, ANKLE_Y + 1)
    moved = leg_displacement(_contour(y), _change())
    grid = warp_grid([moved], image_shape=image.shape[:2], step=step)
    warped = remap_region(image, grid)
    # Rows away from the fades: the contour moved by the whole change.
    for level in (0.2, 0.35, 0.5, 0.7, 0.9):
        row = round(KNEE_Y + level * (ANKLE_Y - KNEE_Y))
        i = row - int(KNEE_Y)
        expected_left = moved.left_x_px[i] + moved.left_shift_px[i]
        expected_right = moved.right_x_px[i] + moved.right_shift_px[i]
        lo, hi = _measured_edges(warped[row, :, 0].astype(float))
        # Pixel-coverage edges: the first/last pixel more than half dark.
        assert lo == pytest.approx(expected_left, abs=1.0)
        assert hi == pytest.approx(expected_right, abs=1.0)
        # The lateral side (image left here) moves by 5 %, the medial by 10 % of its half.
        axis = moved.axis_x_px[i]
        assert (axis - expected_left) / (axis - moved.left_x_px[i]) == pytest.approx(0.95)
        assert (expected_right - axis) / (moved.right_x_px[i] - axis) == pytest.approx(0.9)
    # Above the knee landmark and below the ankle landmark nothing changed.
    assert np.array_equal(warped[: int(KNEE_Y)], image[: int(KNEE_Y)])
    assert np.array_equal(warped[int(ANKLE_Y) + 1 :], image[int(ANKLE_Y) + 1 :])
    # Beyond the fade beside the leg nothing changed either.
    width = moved.right_x_px - moved.left_x_px
    far = np.zeros(image.shape[:2], dtype=bool)
    cols = np.arange(image.shape[1])[None, :]
    rows = slice(int(KNEE_Y), int(ANKLE_Y) + 1)
    far[rows] = (cols < (moved.left_x_px - 0.61 * width)[:, None] - 1) | (
        cols > (moved.right_x_px + 0.61 * width)[:, None] + 1
    )
    assert np.array_equal(warped[far], image[far])


def test_no_change_moves_nothing(mediapipe_ok):
    from calfsim.photo import remap_region

    image = _leg_image()
    y = np.arange(KNEE_Y, ANKLE_Y + 1)
    still = leg_displacement(_contour(y), None)
    grid = warp_grid([still], image_shape=image.shape[:2], step=2)
    assert grid.is_empty
    assert np.array_equal(remap_region(image, grid), image)


@settings(max_examples=30, deadline=None)
@given(
    medial=st.floats(0.7, 1.05),
    lateral=st.floats(0.7, 1.05),
    share=st.floats(0.4, 0.6),
    step=st.integers(1, 8),
)
def test_the_backward_map_never_folds(medial, lateral, share, step):
    y = np.arange(KNEE_Y, ANKLE_Y + 1)
    moved = leg_displacement(_contour(y), _change(medial, lateral, share))
    grid = warp_grid([moved], image_shape=(600, 480), step=step)
    source = grid.x0 + np.arange(grid.dx.shape[1]) * step + grid.dx
    # Each row's source columns increase: the image is never folded or mirrored.
    assert np.all(np.diff(source, axis=1) > 0)


def test_legs_too_close_are_refused():
    y = np.arange(KNEE_Y, ANKLE_Y + 1)
    one = leg_displacement(_contour(y), _change(1.3, 1.3))
    _, right = _edges(y)
    other = LegContour(
        side=Side.RIGHT,
        y_px=y,
        left_x_px=right + 1.0,
        right_x_px=right + 80.0,
        is_medial_left=True,
        knee_xy_px=(330.0, KNEE_Y),
        ankle_xy_px=(330.0, ANKLE_Y),
    )
    still = leg_displacement(other, None)
    with pytest.raises(InvalidInputError, match="hip-width"):
        warp_grid([one, still], image_shape=(600, 480), step=2)


def test_step_is_checked():
    with pytest.raises(InvalidInputError):
        warp_grid([], image_shape=(10, 10), step=0)
