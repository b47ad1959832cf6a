"""Calf contours in a photo: the traced outline of a lower leg, and how it is traced.

A contour is one x position per image row, between the knee and the ankle, for each side of
the leg. It is found in two steps (the image work is in :mod:`calfsim.photo._detect`):

1. the pose model's person mask gives a rough boundary (the mask is computed at 256 x 256
   inside the model, so its edge is soft and can be off by several pixels in a large photo);
2. in a narrow window around that boundary, the strongest image edge is followed from row to
   row by dynamic programming (`trace_edge`): a path through the edge-strength map that
   maximises the summed strength, moves at most ``max_step`` pixels per row and is pulled
   gently towards the rough boundary, then refined to a sub-pixel position (`subpixel_peak`).

Pure numpy: no image library.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from calfsim.domain import Side
from calfsim.errors import InvalidInputError

__all__ = ["LegContour", "subpixel_peak", "trace_edge"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def trace_edge(
    strength: ArrayLike,
    prior_col: ArrayLike,
    *,
    max_step: int = 1,
    prior_halfwidth: float,
    prior_weight: float = 0.3,
    step_cost: float = 0.05,
) -> IntArray:
    """Follow the strongest edge down the rows of a strength map (dynamic programming).

    Parameters
    ----------
    strength : array_like, shape (n_rows, n_cols)
        Edge strength, roughly 0-1 (e.g. the gradient magnitude over its 95th percentile).
    prior_col : array_like, shape (n_rows,)
        Expected column in each row (the rough boundary).
    max_step : int, default 1
        Largest move from one row to the next, pixels.
    prior_halfwidth : float
        Distance from the prior (pixels) at which the pull costs ``prior_weight``.
    prior_weight : float, default 0.3
        Strength of the pull towards the prior.
    step_cost : float, default 0.05
        Cost per pixel of sideways move between rows (keeps the path smooth).

    Returns
    -------
    ndarray of int64, shape (n_rows,)
        Column of the path in each row.

    Examples
    --------
    >>> s = np.zeros((5, 9)); s[:, 6] = 1.0; s[2, 2] = 1.5  # an edge at 6, one bright speck
    >>> trace_edge(s, np.full(5, 5.0), prior_halfwidth=4.0).tolist()
    [6, 6, 6, 6, 6]
    """
    score = np.asarray(strength, dtype=np.float64)
    prior = np.asarray(prior_col, dtype=np.float64)
    if score.ndim != 2 or prior.shape != (score.shape[0],) or score.shape[1] < 1:
        raise InvalidInputError(
            "strength must be 2-D and prior_col hold one column per row", field="strength"
        )
    n_rows, n_cols = score.shape
    cols = np.arange(n_cols, dtype=np.float64)
    score = score - prior_weight * ((cols[None, :] - prior[:, None]) / prior_halfwidth) ** 2
    best = score[0].copy()
    back = np.zeros((n_rows, n_cols), dtype=np.int64)
    # Coming to column x from x + d (|d| <= max_step): a sliding window over the previous row,
    # padded with -inf, minus the cost of the move.
    shifts = np.arange(-max_step, max_step + 1)
    penalty = -step_cost * np.abs(shifts).astype(np.float64)
    padded = np.full(n_cols + 2 * max_step, -np.inf)
    index = np.arange(n_cols)
    for y in range(1, n_rows):
        padded[max_step : max_step + n_cols] = best
        windows = np.lib.stride_tricks.sliding_window_view(padded, shifts.size) + penalty
        k = np.argmax(windows, axis=1)
        back[y] = index + shifts[k]
        best = windows[index, k] + score[y]
    path = np.empty(n_rows, dtype=np.int64)
    path[-1] = int(np.argmax(best))
    for y in range(n_rows - 1, 0, -1):
        path[y - 1] = back[y, path[y]]
    return path


def subpixel_peak(strength: ArrayLike, cols: ArrayLike) -> FloatArray:
    """Refine integer peak columns to sub-pixel by a parabola through three samples.

    Parameters
    ----------
    strength : array_like, shape (n_rows, n_cols)
    cols : array_like of int, shape (n_rows,)
        A column in each row, at or near a local maximum.

    Returns
    -------
    ndarray, shape (n_rows,)
        Columns moved by at most half a pixel.

    Examples
    --------
    >>> s = np.array([[0.0, 1.0, 3.0, 2.0, 0.0]])
    >>> subpixel_peak(s, [2]).round(3).tolist()
    [2.167]
    """
    s = np.asarray(strength, dtype=np.float64)
    c = np.clip(np.asarray(cols, dtype=np.int64), 1, s.shape[1] - 2)
    rows = np.arange(s.shape[0])
    left, mid, right = s[rows, c - 1], s[rows, c], s[rows, c + 1]
    denom = left - 2.0 * mid + right
    with np.errstate(divide="ignore", invalid="ignore"):
        offset = np.where(denom < 0, 0.5 * (left - right) / denom, 0.0)
    result: FloatArray = c + np.clip(offset, -0.5, 0.5)
    return result


def _frozen(values: ArrayLike) -> FloatArray:
    out = np.array(values, dtype=np.float64, copy=True)
    out.setflags(write=False)
    return out


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class LegContour:
    """The traced outline of one lower leg in a photo, in pixels of the (upright) photo.

    Attributes
    ----------
    side : Side
        Which leg of the person.
    y_px : ndarray, shape (n,)
        Image rows, increasing (knee to ankle).
    left_x_px, right_x_px : ndarray, shape (n,)
        Columns of the image-left and image-right contours in each row (sub-pixel).
    is_medial_left : bool
        True when the image-left contour is the medial one (the leg is on the image right of
        the body's midline).
    knee_xy_px, ankle_xy_px : tuple of float
        The knee and ankle landmarks, (x, y) pixels: level 0 and level 1 of the lower leg.
    edge_contrast : float
        Mean edge strength along both contours, 0-1 (low: the outline follows the pose model's
        mask more than the image's edges).
    """

    side: Side
    y_px: FloatArray
    left_x_px: FloatArray
    right_x_px: FloatArray
    is_medial_left: bool
    knee_xy_px: tuple[float, float]
    ankle_xy_px: tuple[float, float]
    edge_contrast: float = 0.0

    def __post_init__(self) -> None:
        y, left, right = (_frozen(getattr(self, n)) for n in ("y_px", "left_x_px", "right_x_px"))
        if y.ndim != 1 or y.size < 2 or left.shape != y.shape or right.shape != y.shape:
            raise InvalidInputError(
                "y_px, left_x_px and right_x_px must be 1-D of the same length (>= 2)",
                field="y_px",
            )
        if np.any(np.diff(y) <= 0) or np.any(right <= left):
            raise InvalidInputError(
                "rows must increase and every right contour lie right of the left one",
                field="y_px",
            )
        object.__setattr__(self, "y_px", y)
        object.__setattr__(self, "left_x_px", left)
        object.__setattr__(self, "right_x_px", right)

    @property
    def medial_x_px(self) -> FloatArray:
        """Column of the medial contour in each row."""
        return self.left_x_px if self.is_medial_left else self.right_x_px

    @property
    def lateral_x_px(self) -> FloatArray:
        """Column of the lateral contour in each row."""
        return self.right_x_px if self.is_medial_left else self.left_x_px

    @property
    def width_px(self) -> FloatArray:
        """Width of the leg in each row, pixels."""
        result: FloatArray = self.right_x_px - self.left_x_px
        return result

    @property
    def length_px(self) -> float:
        """Distance from the knee to the ankle landmark, pixels."""
        return float(np.hypot(*np.subtract(self.ankle_xy_px, self.knee_xy_px)))

    def level_frac(self, y_px: ArrayLike) -> FloatArray:
        """Position of image rows along the lower leg: 0 at the knee, 1 at the ankle landmark.

        The level of the point of the knee-ankle segment on that row (the leg is close to
        vertical in a usable photo, which is checked when it is found).
        """
        ky, ay = self.knee_xy_px[1], self.ankle_xy_px[1]
        result: FloatArray = (np.asarray(y_px, dtype=np.float64) - ky) / (ay - ky)
        return result
