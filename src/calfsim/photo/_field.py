r"""The displacement field that moves a photo's calf contours by the model's amount.

For every image row between a leg's knee and ankle landmarks, the leg's two contours move
towards the leg axis by the model's medial and lateral ratios (`leg_displacement`); the axis
is placed across the silhouette where the model's axis lies (its medial share of the width).
The row is then remapped horizontally (`warp_grid`):

- inside the leg, between a contour and the axis, pixels are compressed uniformly;
- outside the leg the background follows the contour over a fade distance and stops moving
  with zero slope (a smoothstep), so nothing beyond it moves, and the fades of two neighbouring
  legs never overlap (each stops at the middle of the gap);
- the change itself fades in just below the knee and out just above the ankle landmark, so the
  knee, the feet and everything else stay exactly as they were.

The field is computed on a coarse grid covering only the lower legs and upsampled by the
image adapter (the grid nodes sit where a linear resize puts them). Pure numpy and scipy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.ndimage import gaussian_filter1d

from calfsim.domain import Side
from calfsim.errors import InvalidInputError
from calfsim.photo._change import SilhouetteChange
from calfsim.photo._contour import LegContour

__all__ = ["FADE_WIDTH_RATIO", "LegDisplacement", "WarpGrid", "leg_displacement", "warp_grid"]

FloatArray = NDArray[np.float64]

#: How far (x the leg's width) the background beside a contour follows it. Wide enough that the
#: stretched background is not noticeable, short of the other leg in a normal stance. Look only.
FADE_WIDTH_RATIO = 0.6
#: Lengths (fractions of the knee-ankle distance) over which the change fades in below the knee
#: landmark and out above the ankle landmark, after a margin where nothing moves, so that the
#: knee and the foot stay exactly as they are. The model's change is close to zero there anyway
#: (the muscles' bulges are higher up).
_END_MARGIN_FRAC = 0.01
_FADE_IN_FRAC = 0.06
_FADE_OUT_FRAC = 0.05
#: Contours are smoothed along the leg over this fraction of its length before they drive the
#: field (pixel noise of the trace must not ripple the warp). Look only.
_SMOOTH_FRAC = 0.01


def _smoothstep(x: FloatArray) -> FloatArray:
    t = np.clip(x, 0.0, 1.0)
    result: FloatArray = t * t * (3.0 - 2.0 * t)
    return result


def _frozen(values: FloatArray) -> FloatArray:
    out = np.array(values, dtype=np.float64, copy=True)
    out.setflags(write=False)
    return out


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class LegDisplacement:
    """How one leg's contours move, row by row (pixels of the upright photo).

    Attributes
    ----------
    side : Side
    y_px, level_frac : ndarray, shape (n,)
        Rows and their positions along the lower leg (0 knee, 1 ankle).
    left_x_px, right_x_px : ndarray, shape (n,)
        The contours (smoothed along the leg) before the change.
    axis_x_px : ndarray, shape (n,)
        The leg axis: the fixed point of the compression.
    left_shift_px, right_shift_px : ndarray, shape (n,)
        Signed moves of the left and right contours (positive = towards the image right).
    medial_inward_px, lateral_inward_px : ndarray, shape (n,)
        Moves of the medial and lateral contours towards the axis (positive = narrower).
    is_medial_left : bool
    """

    side: Side
    y_px: FloatArray
    level_frac: FloatArray
    left_x_px: FloatArray
    right_x_px: FloatArray
    axis_x_px: FloatArray
    left_shift_px: FloatArray
    right_shift_px: FloatArray
    is_medial_left: bool

    def __post_init__(self) -> None:
        for name in (
            "y_px",
            "level_frac",
            "left_x_px",
            "right_x_px",
            "axis_x_px",
            "left_shift_px",
            "right_shift_px",
        ):
            object.__setattr__(self, name, _frozen(getattr(self, name)))

    @property
    def medial_inward_px(self) -> FloatArray:
        """Move of the medial contour towards the axis, pixels (positive = narrower)."""
        result: FloatArray = self.left_shift_px if self.is_medial_left else -self.right_shift_px
        return result

    @property
    def lateral_inward_px(self) -> FloatArray:
        """Move of the lateral contour towards the axis, pixels (positive = narrower)."""
        result: FloatArray = -self.right_shift_px if self.is_medial_left else self.left_shift_px
        return result


def leg_displacement(contour: LegContour, change: SilhouetteChange | None) -> LegDisplacement:
    """Row-by-row moves of a leg's contours for a model change (None: the leg stays).

    Parameters
    ----------
    contour : LegContour
        The traced leg.
    change : SilhouetteChange or None
        The model's change for this leg.

    Returns
    -------
    LegDisplacement

    Examples
    --------
    >>> from calfsim.anatomy import build_leg_anatomy
    >>> from calfsim.domain import LegMeasurements, Patient
    >>> from calfsim.photo._change import silhouette_change
    >>> leg = build_leg_anatomy(LegMeasurements(calf_girth_cm=36.0), Patient(), side=Side.LEFT)
    >>> change = silhouette_change(leg, girth_cm_target=leg.girth_cm * 0.9)
    >>> y = np.arange(100.0, 301.0)
    >>> contour = LegContour(side=Side.LEFT, y_px=y, left_x_px=np.full(y.size, 300.0),
    ...     right_x_px=np.full(y.size, 340.0), is_medial_left=True,
    ...     knee_xy_px=(320.0, 100.0), ankle_xy_px=(320.0, 300.0))
    >>> moved = leg_displacement(contour, change)
    >>> calf = int(np.argmin(np.abs(moved.level_frac - change.calf_level_frac)))
    >>> round(float(moved.medial_inward_px[calf] + moved.lateral_inward_px[calf]) / 40, 2)
    0.1
    >>> float(moved.left_shift_px[0]), float(moved.right_shift_px[-1])  # knee, ankle: still
    (0.0, 0.0)
    """
    y = contour.y_px
    t = contour.level_frac(y)
    sigma = max(1.0, _SMOOTH_FRAC * contour.length_px)
    left = gaussian_filter1d(contour.left_x_px, sigma, mode="nearest")
    right = gaussian_filter1d(contour.right_x_px, sigma, mode="nearest")
    medial = left if contour.is_medial_left else right
    lateral = right if contour.is_medial_left else left
    if change is None:
        zero = np.zeros_like(y)
        axis = 0.5 * (left + right)
        return LegDisplacement(
            side=contour.side,
            y_px=y,
            level_frac=t,
            left_x_px=left,
            right_x_px=right,
            axis_x_px=axis,
            left_shift_px=zero,
            right_shift_px=zero,
            is_medial_left=contour.is_medial_left,
        )
    if change.side is not contour.side:
        raise InvalidInputError(
            f"the change is for the {change.side.value} leg but the contour is the "
            f"{contour.side.value} leg",
            field="change",
        )
    medial_ratio, lateral_ratio = change.ratios_at(t)
    taper = _smoothstep((t - _END_MARGIN_FRAC) / _FADE_IN_FRAC) * _smoothstep(
        (1.0 - _END_MARGIN_FRAC - t) / _FADE_OUT_FRAC
    )
    axis = medial + (lateral - medial) * change.medial_share_at(t)
    new_medial = axis + (medial - axis) * (1.0 + taper * (medial_ratio - 1.0))
    new_lateral = axis + (lateral - axis) * (1.0 + taper * (lateral_ratio - 1.0))
    new_left = new_medial if contour.is_medial_left else new_lateral
    new_right = new_lateral if contour.is_medial_left else new_medial
    return LegDisplacement(
        side=contour.side,
        y_px=y,
        level_frac=t,
        left_x_px=left,
        right_x_px=right,
        axis_x_px=axis,
        left_shift_px=new_left - left,
        right_shift_px=new_right - right,
        is_medial_left=contour.is_medial_left,
    )


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class WarpGrid:
    """A horizontal backward map on a coarse grid over the lower legs.

    The destination pixel ``(x, y)`` of the region takes its colour from the source pixel
    ``(x + dx, y)``. Node ``(i, j)`` sits at pixel ``(x0 + j*step + (step-1)/2,
    y0 + i*step + (step-1)/2)``, where a linear resize by ``step`` puts the centre of its block.

    Attributes
    ----------
    x0, y0 : int
        Top-left pixel of the region.
    step : int
        Grid spacing, pixels; the region is ``dx.shape * step`` pixels (clipped to the image).
    dx : ndarray of float32, shape (n_rows, n_cols)
        Backward horizontal offsets at the nodes, pixels.
    """

    x0: int
    y0: int
    step: int
    dx: NDArray[np.float32]

    @property
    def is_empty(self) -> bool:
        """True when nothing moves."""
        return self.dx.size == 0 or not np.any(self.dx)


def _row_knots(
    legs: Sequence[tuple[float, float, float, float, float]], fade_ratio: float
) -> tuple[FloatArray, FloatArray]:
    """Fade extents of each leg on one row, clipped at the middle of each gap."""
    ordered = sorted(legs, key=lambda leg: leg[0])
    lows, highs = [], []
    for k, (left, right, _, _, _) in enumerate(ordered):
        fade = fade_ratio * (right - left)
        low, high = left - fade, right + fade
        if k > 0:
            low = max(low, 0.5 * (ordered[k - 1][1] + left))
        if k + 1 < len(ordered):
            high = min(high, 0.5 * (right + ordered[k + 1][0]))
        lows.append(low)
        highs.append(high)
    return np.array(lows), np.array(highs)


def _forward_shift(
    x: FloatArray,
    leg: tuple[float, float, float, float, float],
    low: float,
    high: float,
) -> FloatArray:
    """Forward horizontal shift of source columns ``x`` by one leg on one row."""
    left, right, axis, d_left, d_right = leg
    shift = np.zeros_like(x)
    fade_left = max(left - low, 1e-6)
    fade_right = max(high - right, 1e-6)
    before = (x >= low) & (x < left)
    shift[before] = d_left * _smoothstep((x[before] - low) / fade_left)
    inner_left = (x >= left) & (x < axis)
    shift[inner_left] = d_left * (axis - x[inner_left]) / max(axis - left, 1e-6)
    inner_right = (x >= axis) & (x <= right)
    shift[inner_right] = d_right * (x[inner_right] - axis) / max(right - axis, 1e-6)
    after = (x > right) & (x <= high)
    shift[after] = d_right * (1.0 - _smoothstep((x[after] - right) / fade_right))
    return shift


def warp_grid(
    displacements: Sequence[LegDisplacement],
    *,
    image_shape: tuple[int, int],
    step: int,
    fade_ratio: float = FADE_WIDTH_RATIO,
) -> WarpGrid:
    """Backward map on a coarse grid that moves every leg's contours by its displacement.

    Parameters
    ----------
    displacements : sequence of LegDisplacement
        Every leg found in the photo (legs that do not change still stop the others' fades).
    image_shape : tuple of int
        ``(height, width)`` of the photo, pixels.
    step : int
        Grid spacing, pixels (1-16).
    fade_ratio : float, optional
        Fade distance beside each contour, as a multiple of the leg's width.

    Returns
    -------
    WarpGrid

    Raises
    ------
    InvalidInputError
        If ``step`` is out of range or a move would fold the image (a contour moving further
        than its fade or its axis allows).
    """
    if isinstance(step, bool) or not isinstance(step, int) or not 1 <= step <= 16:
        raise InvalidInputError(f"step must be an integer in [1, 16]; got {step!r}", field="step")
    height, width = image_shape
    moving = [d for d in displacements if np.any(d.left_shift_px) or np.any(d.right_shift_px)]
    if not moving:
        return WarpGrid(x0=0, y0=0, step=step, dx=np.zeros((0, 0), dtype=np.float32))
    y_lo = int(np.floor(min(d.y_px[0] for d in moving)))
    y_hi = int(np.ceil(max(d.y_px[-1] for d in moving)))
    x_lo = min(
        float(np.min(d.left_x_px - fade_ratio * (d.right_x_px - d.left_x_px))) for d in moving
    )
    x_hi = max(
        float(np.max(d.right_x_px + fade_ratio * (d.right_x_px - d.left_x_px))) for d in moving
    )
    x0 = max(0, int(np.floor(x_lo)) - 2 * step)
    x1 = min(width, int(np.ceil(x_hi)) + 2 * step)
    y0 = max(0, y_lo - step)
    y1 = min(height, y_hi + step + 1)
    n_cols = -(-(x1 - x0) // step)
    n_rows = -(-(y1 - y0) // step)
    centre = (step - 1) / 2.0
    xs = x0 + np.arange(n_cols) * step + centre
    ys = y0 + np.arange(n_rows) * step + centre
    # Source columns sampled finely enough to invert the forward map accurately.
    fine = np.arange(x0 - step, x1 + step + 1, max(1.0, step / 4.0))
    dx = np.zeros((n_rows, n_cols), dtype=np.float32)
    for i, y in enumerate(ys):
        legs = []
        for d in displacements:
            if d.y_px[0] <= y <= d.y_px[-1]:
                # Within a grid step of the knee or ankle row the leg only stops the others'
                # fades: the upsampled field is then exactly zero beyond both rows.
                is_still = not d.y_px[0] + step <= y <= d.y_px[-1] - step
                row = [
                    float(np.interp(y, d.y_px, v)) for v in (d.left_x_px, d.right_x_px, d.axis_x_px)
                ]
                shifts = [
                    float(np.interp(y, d.y_px, v)) for v in (d.left_shift_px, d.right_shift_px)
                ]
                if is_still:
                    shifts = [0.0, 0.0]
                legs.append((row[0], row[1], row[2], shifts[0], shifts[1]))
        if not any(leg[3] or leg[4] for leg in legs):
            continue
        lows, highs = _row_knots(legs, fade_ratio)
        ordered = sorted(legs, key=lambda leg: leg[0])
        shift = np.zeros_like(fine)
        for leg, low, high in zip(ordered, lows, highs, strict=True):
            _check_fold(leg, low, high, y)
            shift += _forward_shift(fine, leg, low, high)
        source = np.interp(xs, fine + shift, fine)
        dx[i] = source - xs
    return WarpGrid(x0=x0, y0=y0, step=step, dx=dx)


def _check_fold(
    leg: tuple[float, float, float, float, float], low: float, high: float, y: float
) -> None:
    """Refuse moves that would fold the image (the forward map must stay increasing)."""
    left, right, axis, d_left, d_right = leg
    # smoothstep's slope peaks at 1.5 / fade; the compression's at 1 / half-width.
    ok = (
        1.0 + 1.5 * min(d_left, 0.0) / max(left - low, 1e-6) > 0.0
        and 1.0 - 1.5 * max(d_right, 0.0) / max(high - right, 1e-6) > 0.0
        and d_left < axis - left
        and -d_right < right - axis
    )
    if not ok:
        raise InvalidInputError(
            f"the legs are too close together at row {y:.0f} for the change to be shown "
            "without folding the image; take the photo with the feet hip-width apart",
            field="photo",
        )
