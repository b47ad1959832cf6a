"""The leg along its length: levels, the outer girth profile and muscle shape functions.

Levels run from the knee joint line (``z = 0``) down to the lateral malleolus (``z = L``, the
lower-leg length). The girth profile passes through three landmarks: the knee girth at the
joint line, the maximal calf girth at the calf level and the minimal (ankle) girth a few
centimetres above the malleoli; below the ankle level it stays at the ankle girth (no malleolar
girth is in the evidence). A monotone cubic (PCHIP) joins the landmarks, so the profile is
smooth, rises from the knee to the calf level, falls from there to the ankle level, and the calf
level is its maximum.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from calfsim.anatomy._tissue import FloatArray

__all__ = ["bump", "girth_profile_cm", "levels_cm", "pchip"]


def levels_cm(length_cm: float, n_levels: int, *, snap_cm: tuple[float, ...]) -> FloatArray:
    """Return ``n_levels`` levels from 0 to ``length_cm``, with the landmarks on the grid.

    The grid is uniform except that the node nearest each level in ``snap_cm`` is moved onto
    it (by at most half a step, so the grid stays strictly increasing; the end nodes never
    move). Internal helper: ``n_levels >= 5`` and the snapped levels lie well inside
    ``(0, length_cm)`` and more than a step apart.

    Examples
    --------
    >>> levels_cm(10.0, 5, snap_cm=(3.0,))
    array([ 0. ,  3. ,  5. ,  7.5, 10. ])
    """
    grid: FloatArray = np.linspace(0.0, length_cm, n_levels)
    step_cm = length_cm / (n_levels - 1)
    for level_cm in snap_cm:
        index = min(max(round(level_cm / step_cm), 1), n_levels - 2)
        grid[index] = level_cm
    return grid


def girth_profile_cm(
    z_cm: FloatArray,
    *,
    knee_girth_cm: float,
    calf_level_cm: float,
    calf_girth_cm: float,
    ankle_level_cm: float,
    ankle_girth_cm: float,
    length_cm: float,
) -> FloatArray:
    """Outer girth at each level: a monotone cubic through the three landmarks.

    Internal helper; inputs are trusted: ``0 < calf_level_cm < ankle_level_cm < length_cm`` and
    ``knee_girth_cm, ankle_girth_cm < calf_girth_cm``.

    Examples
    --------
    >>> z = np.array([0.0, 11.25, 20.0, 32.6, 37.5])
    >>> girth_profile_cm(z, knee_girth_cm=35.0, calf_level_cm=11.25, calf_girth_cm=36.0,
    ...                  ankle_level_cm=32.6, ankle_girth_cm=21.0, length_cm=37.5).round(2)
    array([35.  , 36.  , 30.51, 21.  , 21.  ])
    """
    knots_cm = np.array([0.0, calf_level_cm, ankle_level_cm, length_cm])
    girths_cm = np.array([knee_girth_cm, calf_girth_cm, ankle_girth_cm, ankle_girth_cm])
    return pchip(knots_cm, girths_cm, z_cm)


def pchip(x_knots: FloatArray, y_knots: FloatArray, x: FloatArray) -> FloatArray:
    """Monotonicity-preserving cubic interpolation, the same as SciPy's ``PchipInterpolator``.

    Monotone between knots and never overshoots them, so a profile through knee, calf and
    ankle girths has its maximum exactly at the calf knot. The slopes at the knots are SciPy's
    (Fritsch & Butland 1984: a weighted harmonic mean of the neighbouring secants, zero at a
    local extremum; three-point ends limited to keep the shape); the test suite checks the
    values against ``scipy.interpolate.PchipInterpolator``. Written out because building the
    SciPy object costs about 0.2 ms — half of building a leg's anatomy for a handful of knots,
    and the API builds two legs per request (docs/decisions.md). ``x`` must lie within the
    knots (NaN outside, as SciPy with ``extrapolate=False``); at least two knots, increasing.

    Examples
    --------
    >>> pchip(np.array([0.0, 1.0, 2.0]), np.array([0.0, 1.0, 0.0]), np.array([0.5, 1.0]))
    array([0.75, 1.  ])
    """
    xk = np.asarray(x_knots, dtype=np.float64)
    yk = np.asarray(y_knots, dtype=np.float64)
    # The slopes at the knots in plain floats: a handful of knots, where NumPy's per-call
    # cost would dominate (this function runs twice per API request).
    xs, ys = xk.tolist(), yk.tolist()
    h_list = [b - a for a, b in itertools.pairwise(xs)]
    m = [(b - a) / step for (a, b), step in zip(itertools.pairwise(ys), h_list, strict=True)]
    if len(xs) == 2:
        slopes = [m[0], m[0]]
    else:
        slopes = [_end_slope(h_list[0], h_list[1], m[0], m[1])]
        for k in range(1, len(xs) - 1):
            if m[k - 1] * m[k] > 0.0:
                w1 = 2.0 * h_list[k] + h_list[k - 1]
                w2 = h_list[k] + 2.0 * h_list[k - 1]
                slopes.append((w1 + w2) / (w1 / m[k - 1] + w2 / m[k]))
            else:
                slopes.append(0.0)
        slopes.append(_end_slope(h_list[-1], h_list[-2], m[-1], m[-2]))
    h = np.array(h_list)
    slope = np.array(slopes)
    x_arr = np.asarray(x, dtype=np.float64)
    i = np.clip(np.searchsorted(xk, x_arr, side="right") - 1, 0, xk.size - 2)
    step = h[i]
    t = (x_arr - xk[i]) / step
    t2, t3 = t * t, t * t * t
    result: FloatArray = (
        (2.0 * t3 - 3.0 * t2 + 1.0) * yk[i]
        + (t3 - 2.0 * t2 + t) * step * slope[i]
        + (-2.0 * t3 + 3.0 * t2) * yk[i + 1]
        + (t3 - t2) * step * slope[i + 1]
    )
    return np.where((x_arr >= xk[0]) & (x_arr <= xk[-1]), result, np.nan)


def _end_slope(h0: float, h1: float, m0: float, m1: float) -> float:
    """One-sided three-point slope at an end knot, shape-preserving (as in SciPy's PCHIP)."""
    d = ((2.0 * h0 + h1) * m0 - h0 * m1) / (h0 + h1)
    if _sign(d) != _sign(m0):
        return 0.0
    if _sign(m0) != _sign(m1) and abs(d) > abs(3.0 * m0):
        return 3.0 * m0
    return d


def _sign(value: float) -> int:
    return (value > 0.0) - (value < 0.0)


def bump(x: FloatArray, *, start: float, peak: float, end: float) -> FloatArray:
    """Smooth single-peaked shape: 0 outside ``(start, end)``, 1 at ``peak``.

    Two half-cosines (rising from ``start`` to ``peak``, falling from ``peak`` to ``end``)
    joined with zero slope at the peak, so the shape and its slope are continuous. Used for the
    longitudinal profile of each muscle's cross-section. ``start < peak < end``.

    Examples
    --------
    >>> bump(np.array([0.0, 0.25, 0.5, 1.0]), start=0.0, peak=0.5, end=1.0)
    array([0. , 0.5, 1. , 0. ])
    """
    rise = np.clip((x - start) / (peak - start), 0.0, 1.0)
    fall = np.clip((x - peak) / (end - peak), 0.0, 1.0)
    shape: FloatArray = np.where(
        x <= peak,
        0.5 * (1.0 - np.cos(math.pi * rise)),
        0.5 * (1.0 + np.cos(math.pi * fall)),
    )
    return shape
