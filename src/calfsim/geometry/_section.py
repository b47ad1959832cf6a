r"""Horizontal sections of the leg: the calf's shape, hull perimeters and plane cuts.

The calf section model
----------------------
Each skin section is a star-shaped closed curve around the leg axis,
:math:`r(\theta) = R \, s(\theta)`, where the unit shape :math:`s` depends only on the angle and
on the muscles' shares of the section at that level:

.. math::

    s(\theta) = e(\theta) \, f(\theta) \Big(1 + \sum_h c_h \, \frac{A_h}{A} \, G_h(\theta)\Big)

- :math:`e` is an ellipse wider side to side than front to back (ratio ``DEPTH_TO_WIDTH_RATIO``);
- :math:`f` flattens the shin (the subcutaneous anteromedial face of the tibia);
- each muscle ``h`` (medial and lateral gastrocnemius heads, soleus) adds a smooth periodic
  bump :math:`G_h` centred at its angle, with an amplitude proportional to its share
  :math:`A_h / A` of the section area at that level (from the anatomy model). The medial head is
  larger and reaches lower than the lateral one because its area does.

:math:`R` is then chosen so that the **convex-hull perimeter** of the section (what a tape
measures) equals the anatomy girth exactly; the perimeter is homogeneous of degree 1 in
:math:`R`, so :math:`R = C / P(s)` with :math:`P(s)` computed on the sampled polygon.

Angles (anatomical, identical for both legs)
-------------------------------------------
:math:`\theta = 0` is anterior, :math:`\pi/2` medial (towards the body midline), :math:`\pi`
posterior, :math:`3\pi/2` lateral. How they map to the world axes of a mesh is defined in
:mod:`calfsim.geometry._leg_mesh`.

All shape constants below are modelling choices for the look of the surface, not clinical
numbers: the girths of the surface come from the anatomy model alone.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import overload

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import ConvexHull, QhullError

from calfsim.anatomy import LegAnatomy
from calfsim.domain import MuscleHead
from calfsim.errors import InvalidInputError, MeshError
from calfsim.units import M_PER_CM

__all__ = [
    "BULGE_HEADS",
    "girth_plane_cut_cm",
    "head_shares",
    "star_hull_perimeter",
    "unit_section_radius",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: The muscles that shape the posterior contour, in a fixed order.
BULGE_HEADS = (MuscleHead.GM_MEDIAL, MuscleHead.GM_LATERAL, MuscleHead.SOLEUS)

#: Front-to-back over side-to-side extent of the base ellipse along the leg (knee joint line,
#: calf level, mid-leg, malleolus: fractions of the lower-leg length): nearly round at the knee,
#: wider than deep at the calf (before the gastrocnemius bulge is added) and at the malleoli.
#: Shape only.
DEPTH_TO_WIDTH_LEVEL_FRAC = (0.0, 0.3, 0.6, 1.0)
DEPTH_TO_WIDTH_RATIO = (1.0, 0.9, 0.88, 0.84)
#: Centre of each bulge (anatomical angle, rad): the medial head sits posteromedially, the
#: lateral head posterolaterally, the soleus straight behind and wide. Shape only.
HEAD_ANGLE_RAD = {
    MuscleHead.GM_MEDIAL: math.pi - 0.75,
    MuscleHead.GM_LATERAL: math.pi + 0.7,
    MuscleHead.SOLEUS: math.pi,
}
#: Angular half-width (rad) of each bulge. Shape only.
HEAD_WIDTH_RAD = {
    MuscleHead.GM_MEDIAL: 0.6,
    MuscleHead.GM_LATERAL: 0.5,
    MuscleHead.SOLEUS: 1.0,
}
#: Bulge amplitude per unit area share, calibrated so that flattening a bulge by a fraction
#: ``a`` shortens the tape girth by what the anatomy model's circle relation gives for losing
#: ``a`` of that muscle's area (``dC = 2π dA / C``), within about 10% along the leg (checked
#: in the tests). The model's compensation (other muscles growing back) then shows as a small
#: uniform fullness when the girth is renormalised, and the bulges look like the muscles'
#: share of the section. Narrower bulges need larger amplitudes for the same area.
HEAD_BULGE_RATIO = {
    MuscleHead.GM_MEDIAL: 1.9,
    MuscleHead.GM_LATERAL: 2.45,
    MuscleHead.SOLEUS: 1.2,
}
#: Shin flattening: depth (fraction of the radius) and centre (rad, anteromedial) of the flat
#: subcutaneous face of the tibia. Shape only.
SHIN_FLATTENING_FRAC = 0.07
SHIN_ANGLE_RAD = 0.45
SHIN_WIDTH_RAD = 0.6
#: Egg taper: the front (tibia and anterior compartment) is narrower than the back (the
#: triceps surae); radius factor ``1 + EGG_TAPER_FRAC * (-cos θ) * sin² θ``. Shape only.
EGG_TAPER_FRAC = 0.12


def _bump(angle_rad: FloatArray, centre_rad: float, width_rad: float) -> FloatArray:
    """Smooth periodic bump, 1 at ``centre_rad``, ~Gaussian of sd ``width_rad`` near it."""
    result: FloatArray = np.exp((np.cos(angle_rad - centre_rad) - 1.0) / width_rad**2)
    return result


def head_shares(anatomy: LegAnatomy) -> FloatArray:
    """Each bulge muscle's share of the section area at every level.

    Parameters
    ----------
    anatomy : LegAnatomy

    Returns
    -------
    ndarray, shape (n_levels, 3)
        ``A_h / A`` for the heads in `BULGE_HEADS` order.

    Examples
    --------
    >>> from calfsim.anatomy import build_leg_anatomy
    >>> from calfsim.domain import LegMeasurements, Patient, Side
    >>> leg = build_leg_anatomy(LegMeasurements(calf_girth_cm=36.3), Patient(), side=Side.LEFT)
    >>> head_shares(leg)[leg.calf_level_index].round(3)
    array([0.153, 0.082, 0.122])
    """
    total = anatomy.total_area_cm2
    return np.stack([anatomy.muscle_area_cm2(h) / total for h in BULGE_HEADS], axis=-1)


def unit_section_radius(
    angle_rad: FloatArray, shares: FloatArray, level_frac: FloatArray | float
) -> FloatArray:
    r"""Radius of the unit calf section :math:`s(\theta)` (before the girth scaling).

    Parameters
    ----------
    angle_rad : ndarray
        Anatomical angles (0 anterior, π/2 medial, π posterior); any shape broadcastable
        against ``shares[..., 0]``.
    shares : ndarray, shape (..., 3)
        Bulge muscles' area shares (`head_shares`, possibly scaled by ``1 - atrophy``).
    level_frac : float or ndarray, shape (...)
        Level below the knee joint line as a fraction of the lower-leg length (0 to 1; values
        outside are clamped), broadcastable like ``shares[..., 0]``.

    Returns
    -------
    ndarray
        The broadcast shape of ``angle_rad`` and ``shares[..., 0]``; positive.

    Examples
    --------
    >>> r = unit_section_radius(np.array([0.0, np.pi / 2, np.pi]), np.zeros(3), 0.3)
    >>> bool(r[1] > r[0]), round(float(r[2] / r[1]), 2)  # wider than deep
    (True, 0.91)
    """
    angle = np.asarray(angle_rad, dtype=np.float64)
    cos_t, sin_t = np.cos(angle), np.sin(angle)
    depth = np.interp(level_frac, DEPTH_TO_WIDTH_LEVEL_FRAC, DEPTH_TO_WIDTH_RATIO)
    ellipse = 1.0 / np.sqrt((cos_t / depth) ** 2 + sin_t**2)
    shin = 1.0 - SHIN_FLATTENING_FRAC * _bump(angle, SHIN_ANGLE_RAD, SHIN_WIDTH_RAD)
    shin = shin * (1.0 - EGG_TAPER_FRAC * cos_t * sin_t**2)
    bulge = np.ones(np.broadcast_shapes(angle.shape, shares.shape[:-1]))
    for k, head in enumerate(BULGE_HEADS):
        amplitude = HEAD_BULGE_RATIO[head] * shares[..., k]
        bulge = bulge + amplitude * _bump(angle, HEAD_ANGLE_RAD[head], HEAD_WIDTH_RAD[head])
    result: FloatArray = ellipse * shin * bulge
    return result


def _kept_neighbours(keep: NDArray[np.bool_]) -> tuple[IntArray, IntArray]:
    """Previous and next kept column of every column, cyclically, row by row."""
    n = keep.shape[1]
    columns = np.arange(n)
    last = np.maximum.accumulate(np.where(keep, columns, -1), axis=1)
    prev = np.empty_like(last)
    prev[:, 0] = -1
    prev[:, 1:] = last[:, :-1]
    prev = np.where(prev < 0, last[:, -1:], prev)
    first = np.minimum.accumulate(np.where(keep, columns, n)[:, ::-1], axis=1)[:, ::-1]
    nxt = np.empty_like(first)
    nxt[:, -1] = n
    nxt[:, :-1] = first[:, 1:]
    nxt = np.where(nxt >= n, first[:, :1], nxt)
    return prev.astype(np.int64), nxt.astype(np.int64)


def star_hull_perimeter(radius: FloatArray, angle_rad: FloatArray) -> FloatArray:
    """Convex-hull perimeter of many star-shaped polygons at once (exact, vectorised).

    Each row is a closed polygon given in polar form around a point inside it, with the angles
    strictly increasing over less than a full turn. Vertices where the polygon turns the wrong
    way (reflex vertices) are never on the hull; removing all of them and repeating until none
    is left gives the hull (the kept vertices always include every hull vertex, and the polygon
    stays star-shaped around the same point).

    Parameters
    ----------
    radius : ndarray, shape (n_polygons, n)
        Distance of each vertex from the centre.
    angle_rad : ndarray, shape (n,) or (n_polygons, n)
        Polar angle of each vertex, increasing along a row.

    Returns
    -------
    ndarray, shape (n_polygons,)
        Perimeters, in the unit of ``radius``.

    Examples
    --------
    >>> theta = np.linspace(0, 2 * np.pi, 4, endpoint=False)
    >>> star_hull_perimeter(np.ones((1, 4)), theta).round(6)  # a square of diagonal 2
    array([5.656854])
    >>> star = np.array([[1.0, 0.2, 1.0, 0.2, 1.0, 0.2, 1.0, 0.2]])
    >>> star_hull_perimeter(star, np.linspace(0, 2 * np.pi, 8, endpoint=False)).round(6)
    array([5.656854])
    """
    x = radius * np.cos(angle_rad)
    y = radius * np.sin(angle_rad)
    # Fast path: rows without a reflex vertex are their own hull (the usual case for the calf
    # section model, which is convex).
    dx_next = np.roll(x, -1, axis=1) - x
    dy_next = np.roll(y, -1, axis=1) - y
    cross = np.roll(dx_next, 1, axis=1) * dy_next - np.roll(dy_next, 1, axis=1) * dx_next
    perimeter: FloatArray = np.hypot(dx_next, dy_next).sum(axis=1)
    concave = np.nonzero((cross < 0.0).any(axis=1))[0]
    if concave.size:
        perimeter[concave] = _peeled_perimeter(x[concave], y[concave])
    return perimeter


def _peeled_perimeter(x: FloatArray, y: FloatArray) -> FloatArray:
    """Hull perimeter of star-shaped polygons by repeated removal of reflex vertices."""
    n_polygons, n = x.shape
    keep = np.ones((n_polygons, n), dtype=np.bool_)
    active = np.arange(n_polygons)
    for _ in range(n):
        sub = keep[active]
        prev, nxt = _kept_neighbours(sub)
        rows = active[:, None]
        xs, ys = x[active], y[active]
        cross = (xs - x[rows, prev]) * (y[rows, nxt] - ys) - (ys - y[rows, prev]) * (
            x[rows, nxt] - xs
        )
        reflex = sub & (cross < 0.0)
        has_reflex = reflex.any(axis=1)
        if not has_reflex.any():
            break
        keep[active] = sub & ~reflex
        active = active[has_reflex]
    prev, nxt = _kept_neighbours(keep)
    rows_all = np.arange(n_polygons)[:, None]
    edge = np.hypot(x[rows_all, nxt] - x, y[rows_all, nxt] - y)
    result: FloatArray = np.where(keep, edge, 0.0).sum(axis=1)
    return result


# --- plane cut of any mesh ---------------------------------------------------------------------


def _plane_frame(axis: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Two unit vectors spanning the plane perpendicular to the unit vector ``axis``."""
    helper = np.array([1.0, 0.0, 0.0]) if abs(axis[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    u = helper - axis * float(helper @ axis)
    u /= np.linalg.norm(u)
    v = np.cross(axis, u)
    return u, v


def _check_mesh_arrays(vertices_m: ArrayLike, faces: ArrayLike) -> tuple[FloatArray, IntArray]:
    vertices = np.asarray(vertices_m, dtype=np.float64)
    face_array = np.asarray(faces)
    if vertices.ndim != 2 or vertices.shape[1] != 3 or vertices.shape[0] < 3:
        raise InvalidInputError(
            f"vertices_m must have shape (n, 3) with n >= 3; got {vertices.shape}",
            field="vertices_m",
        )
    if not np.all(np.isfinite(vertices)):
        raise InvalidInputError("vertices_m must be finite", field="vertices_m")
    if (
        face_array.ndim != 2
        or face_array.shape[1] != 3
        or face_array.shape[0] == 0
        or not np.issubdtype(face_array.dtype, np.integer)
    ):
        raise InvalidInputError(
            f"faces must be an integer array of shape (m, 3) with m >= 1; got "
            f"{face_array.dtype} {face_array.shape}",
            field="faces",
        )
    if face_array.min() < 0 or face_array.max() >= vertices.shape[0]:
        raise InvalidInputError(
            f"faces must index vertices_m (0 .. {vertices.shape[0] - 1})", field="faces"
        )
    return vertices, face_array.astype(np.int64, copy=False)


@overload
def girth_plane_cut_cm(
    vertices_m: ArrayLike,
    faces: ArrayLike,
    *,
    height_m: float,
    axis: ArrayLike = ...,
    center_m: ArrayLike | None = ...,
) -> float: ...
@overload
def girth_plane_cut_cm(
    vertices_m: ArrayLike,
    faces: ArrayLike,
    *,
    height_m: FloatArray | list[float],
    axis: ArrayLike = ...,
    center_m: ArrayLike | None = ...,
) -> FloatArray: ...
def girth_plane_cut_cm(
    vertices_m: ArrayLike,
    faces: ArrayLike,
    *,
    height_m: float | FloatArray | list[float],
    axis: ArrayLike = (0.0, 0.0, 1.0),
    center_m: ArrayLike | None = None,
) -> float | FloatArray:
    """Girth where a plane cuts a mesh, measured like a tape (convex hull of the section).

    The plane ``{p : p · axis = height_m}`` cuts the triangles (vectorised, every height at
    once); the cut segments are joined into closed loops. With ``center_m`` the tape goes
    around the loop(s) that enclose the centre (for a mesh holding both legs: the leg whose
    axis passes through it); if none does, the loop nearest the centre is used. Without it the
    tape goes around everything the plane cuts. The girth is the perimeter of the convex hull
    of the chosen loop(s).

    A vertex lying exactly on the plane counts as above it (a symbolic perturbation), so a cut
    through a ring of vertices is that ring.

    Parameters
    ----------
    vertices_m : array_like, shape (n, 3)
        Vertex positions in metres.
    faces : array_like of int, shape (m, 3)
        Triangles.
    height_m : float or array_like, shape (k,)
        Plane offset(s) along ``axis`` (with the default axis: heights above the floor ``z =
        0``).
    axis : array_like, shape (3,)
        Plane normal (the leg axis); normalised here. Default +z.
    center_m : array_like, shape (2,) or (3,), optional
        A point on the leg axis, in metres; a 2-vector is ``(x, y)`` at ``z = 0``. It is
        projected onto each plane along ``axis``.

    Returns
    -------
    float or ndarray
        Girth in cm: a float for a scalar ``height_m``, else an array of shape (k,).

    Raises
    ------
    InvalidInputError
        If the arrays have the wrong shape, are not finite, or the axis is zero.
    MeshError
        If a plane cuts no closed loop (it misses the mesh or grazes it).

    References
    ----------
    ISO 8559-1:2017, Size designation of clothes - Anthropometric definitions for body
    measurement (girths are taken with a tape, which spans concavities: the convex hull).

    Examples
    --------
    >>> import trimesh
    >>> cylinder = trimesh.creation.cylinder(radius=0.05, height=0.4, sections=256)
    >>> round(girth_plane_cut_cm(cylinder.vertices, cylinder.faces, height_m=0.0), 2)
    31.42
    >>> girth_plane_cut_cm(cylinder.vertices, cylinder.faces, height_m=[-0.1, 0.1]).round(2)
    array([31.42, 31.42])
    """
    vertices, face_array = _check_mesh_arrays(vertices_m, faces)
    axis_vec = np.asarray(axis, dtype=np.float64).reshape(-1)
    if axis_vec.shape != (3,) or not np.all(np.isfinite(axis_vec)) or not np.any(axis_vec):
        raise InvalidInputError(
            f"axis must be a finite non-zero 3-vector; got {axis!r}", field="axis"
        )
    axis_vec = axis_vec / np.linalg.norm(axis_vec)
    heights = np.asarray(height_m, dtype=np.float64)
    is_scalar = heights.ndim == 0
    heights = heights.reshape(-1)
    if heights.size == 0 or not np.all(np.isfinite(heights)):
        raise InvalidInputError(
            "height_m must be one or more finite heights in metres", field="height_m"
        )
    center: FloatArray | None = None
    if center_m is not None:
        center = np.asarray(center_m, dtype=np.float64).reshape(-1)
        if center.shape not in ((2,), (3,)) or not np.all(np.isfinite(center)):
            raise InvalidInputError(
                f"center_m must be a finite (x, y) or (x, y, z) in metres; got {center_m!r}",
                field="center_m",
            )
        if center.shape == (2,):
            center = np.append(center, 0.0)
    girths_m = _plane_cut_girths_m(vertices, face_array, heights, axis_vec, center)
    girths_cm = girths_m / M_PER_CM
    if is_scalar:
        return float(girths_cm[0])
    return girths_cm


_EDGES = np.array([[0, 1], [1, 2], [2, 0]])


@dataclass(frozen=True, slots=True, eq=False)
class PlaneCutStencil:
    """Where planes cut a mesh, as fixed mixes of its vertices, to re-measure moved meshes fast.

    The cut of plane ``s`` is the set of points ``(1 - t) * P[vi] + t * P[vj]`` for the nodes
    with ``level == s``; while every vertex keeps its offset along the axis (e.g. it only moves
    within its plane, radially), the same mix gives the cut of the moved mesh exactly.
    """

    vi: IntArray
    vj: IntArray
    t: FloatArray
    level: IntArray
    n_levels: int
    u: FloatArray
    v: FloatArray
    heights: FloatArray
    center: FloatArray

    def girths_m(self, vertices_m: FloatArray) -> FloatArray:
        """Tape girth (m) of each plane's cut for these vertex positions (NaN: no loop).

        The points of a cut, sorted by angle around the axis, form a polygon that is star-
        shaped around it whenever the axis lies inside their hull (no angular gap of half a
        turn): then the hulls of all levels are found at once (`star_hull_perimeter`); other
        levels go to Qhull.
        """
        points = vertices_m[self.vi] + self.t[:, None] * (vertices_m[self.vj] - vertices_m[self.vi])
        x = points @ self.u - float(self.center @ self.u)
        y = points @ self.v - float(self.center @ self.v)
        angle = np.arctan2(y, x)
        order = np.lexsort((angle, self.level))
        level, x, y, angle = self.level[order], x[order], y[order], angle[order]
        counts = np.bincount(level, minlength=self.n_levels)
        girths = np.full(self.n_levels, np.nan)
        n_max = int(counts.max()) if counts.size else 0
        if n_max < 3:
            return girths
        starts = np.cumsum(counts) - counts
        # Pad every row to n_max with its last point (zero-length edges change nothing).
        index = starts[:, None] + np.minimum(np.arange(n_max)[None, :], counts[:, None] - 1)
        index = np.clip(index, 0, max(level.size - 1, 0))
        radius_rows = np.hypot(x, y)[index]
        angle_rows = angle[index]
        gap = np.diff(angle_rows, axis=1).max(axis=1, initial=0.0)
        wrap = angle_rows[:, 0] + 2.0 * np.pi - angle_rows[np.arange(self.n_levels), counts - 1]
        is_star = (counts >= 3) & (np.maximum(gap, wrap) < np.pi) & (radius_rows.min(axis=1) > 0)
        if is_star.any():
            girths[is_star] = star_hull_perimeter(radius_rows[is_star], angle_rows[is_star])
        for s in np.flatnonzero(~is_star & (counts >= 3)):
            rows = slice(starts[s], starts[s] + counts[s])
            pts = np.stack([x[rows], y[rows]], axis=1)
            try:
                girths[s] = _hull_perimeter(pts, float(self.heights[s]))
            except MeshError:
                continue
        return girths


def plane_cut_stencil(
    vertices_m: FloatArray,
    faces: IntArray,
    heights: FloatArray,
    axis: FloatArray,
    center: FloatArray | None,
) -> PlaneCutStencil:
    """Return the cut nodes of planes ``p · axis = heights[s]`` (see `girth_plane_cut_cm`).

    Parameters are those of `girth_plane_cut_cm` as arrays (``axis`` a unit vector,
    ``center`` a 3-D point or None); planes that cut nothing have no nodes.
    """
    n_vertices = vertices_m.shape[0]
    order = np.argsort(heights, kind="stable")
    sorted_heights = heights[order]
    level = vertices_m @ axis
    face_level = level[faces]
    # A face crosses height h when min < h <= max (a vertex at h counts as above).
    lo = np.searchsorted(sorted_heights, face_level.min(axis=1), side="right")
    hi = np.searchsorted(sorted_heights, face_level.max(axis=1), side="right")
    counts = hi - lo
    crossing = np.nonzero(counts)[0]
    counts = counts[crossing]
    n_pairs = int(counts.sum())
    u, v = _plane_frame(axis)
    origin = np.zeros(3) if center is None else np.asarray(center, dtype=np.float64)
    if n_pairs == 0:
        empty = np.zeros(0, dtype=np.int64)
        return PlaneCutStencil(
            empty, empty, np.zeros(0), empty, heights.size, u, v, np.array(heights), origin
        )
    face_of = np.repeat(crossing, counts)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    height_of = lo[face_of] + (np.arange(n_pairs) - starts)
    signed = face_level[face_of] - sorted_heights[height_of][:, None]
    above = signed >= 0.0
    # Exactly two of the three edges change side; take them in edge order.
    edge_crosses = above[:, _EDGES[:, 0]] != above[:, _EDGES[:, 1]]
    _, k = np.nonzero(edge_crosses)
    pair = np.repeat(np.arange(n_pairs), 2)
    i_local, j_local = _EDGES[k, 0], _EDGES[k, 1]
    vi = faces[face_of[pair], i_local]
    vj = faces[face_of[pair], j_local]
    di = signed[pair, i_local]
    dj = signed[pair, j_local]
    t = di / (di - dj)
    # Node = (height, mesh edge): the point a cut makes on an edge is shared by both faces.
    edge_key = np.minimum(vi, vj) * n_vertices + np.maximum(vi, vj)
    _, edge_id = np.unique(edge_key, return_inverse=True)
    n_edges = int(edge_id.max()) + 1
    node_key = height_of[pair] * n_edges + edge_id.reshape(-1)
    node_values, first, node = np.unique(node_key, return_index=True, return_inverse=True)
    node = node.reshape(-1)
    node_height = node_values // n_edges
    keep_node = np.ones(node_values.size, dtype=np.bool_)
    if center is not None:
        points = vertices_m[vi[first]] + t[first, None] * (
            vertices_m[vj[first]] - vertices_m[vi[first]]
        )
        rel = points - center
        node_xy = np.stack([rel @ u, rel @ v], axis=1)
        keep_node = _nodes_around_center(node, node_xy, node_height, n_pairs)
    kept = first[keep_node]
    # Levels in the caller's order, nodes grouped by level.
    node_level = order[node_height[keep_node]]
    by_level = np.argsort(node_level, kind="stable")
    return PlaneCutStencil(
        vi=vi[kept][by_level],
        vj=vj[kept][by_level],
        t=t[kept][by_level],
        level=node_level[by_level],
        n_levels=heights.size,
        u=u,
        v=v,
        heights=np.array(heights),
        center=origin,
    )


def _plane_cut_girths_m(
    vertices: FloatArray,
    faces: IntArray,
    heights: FloatArray,
    axis: FloatArray,
    center: FloatArray | None,
) -> FloatArray:
    stencil = plane_cut_stencil(vertices, faces, heights, axis, center)
    if stencil.vi.size == 0:
        raise MeshError(f"no plane at height_m {heights.tolist()} cuts the mesh")
    girths = stencil.girths_m(vertices)
    missing = np.flatnonzero(~np.isfinite(girths))
    if missing.size:
        height = float(heights[missing[0]])
        counts = np.bincount(stencil.level, minlength=heights.size)
        if counts[missing[0]] < 3:
            raise MeshError(f"the plane at height_m {height:g} cuts no closed loop of the mesh")
        raise MeshError(f"the plane at height_m {height:g} cuts the mesh in a degenerate section")
    return girths


def _nodes_around_center(
    node: IntArray, node_xy: FloatArray, node_height: IntArray, n_pairs: int
) -> NDArray[np.bool_]:
    """Keep the loops that enclose the centre (origin of ``node_xy``), else the nearest loop."""
    a, b = node[0::2], node[1::2]
    n_nodes = node_xy.shape[0]
    graph = coo_matrix((np.ones(n_pairs), (a, b)), shape=(n_nodes, n_nodes))
    _, label = connected_components(graph, directed=False)
    # Crossing number of a ray from the centre along +u, counted per loop.
    pa, pb = node_xy[a], node_xy[b]
    straddles = (pa[:, 1] > 0.0) != (pb[:, 1] > 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_cross = pa[:, 0] + (0.0 - pa[:, 1]) * (pb[:, 0] - pa[:, 0]) / (pb[:, 1] - pa[:, 1])
    hits = straddles & (x_cross > 0.0)
    n_labels = int(label.max()) + 1
    crossings = np.bincount(label[a], weights=hits.astype(np.float64), minlength=n_labels)
    encloses = np.round(crossings).astype(np.int64) % 2 == 1
    # Loops per height: a loop's nodes all share one height.
    loop_height = np.zeros(n_labels, dtype=np.int64)
    loop_height[label] = node_height
    distance = np.hypot(node_xy[:, 0], node_xy[:, 1])
    nearest = np.full(n_labels, np.inf)
    np.minimum.at(nearest, label, distance)
    chosen = encloses.copy()
    heights_with_enclosing = np.unique(loop_height[encloses])
    orphan = ~np.isin(loop_height, heights_with_enclosing)
    if orphan.any():
        # Per orphan height, the loop with the smallest distance to the centre.
        candidates = np.nonzero(orphan)[0]
        order = np.lexsort((nearest[candidates], loop_height[candidates]))
        ranked = candidates[order]
        first_of_height = np.ones(ranked.size, dtype=np.bool_)
        first_of_height[1:] = loop_height[ranked][1:] != loop_height[ranked][:-1]
        chosen[ranked[first_of_height]] = True
    result: NDArray[np.bool_] = chosen[label]
    return result


def _hull_perimeter(points: FloatArray, height: float) -> float:
    if points.shape[0] < 3:
        raise MeshError(f"the plane at height_m {height:g} cuts no closed loop of the mesh")
    try:
        hull = ConvexHull(points)
    except QhullError as exc:
        raise MeshError(
            f"the plane at height_m {height:g} cuts the mesh in a degenerate section"
        ) from exc
    return float(hull.area)  # in 2-D, Qhull's "area" is the perimeter


def section_shares_after(
    shares: FloatArray, atrophy_frac: Mapping[MuscleHead, float]
) -> FloatArray:
    """Scale each bulge muscle's share by ``1 - atrophy`` (the bulge flattens with the muscle)."""
    factors = np.array([1.0 - atrophy_frac.get(h, 0.0) for h in BULGE_HEADS])
    result: FloatArray = shares * factors
    return result
