r"""A watertight lower-leg mesh built from the anatomy model.

Conventions (the whole of :mod:`calfsim.geometry`)
---------------------------------------------------
- Coordinates in **metres**, right-handed, **+z up**, the floor at ``z = 0``.
- The person faces **-y** (anterior = -y, posterior = +y) and their **left is +x**: the
  Blender/MakeHuman convention for a z-up body. Converting to glTF (+y up, the model facing
  +z) is the usual rotation ``(x, y, z) -> (x, z, -y)``, which keeps the left leg at +x.
- The person's left leg stands at ``x = +offset_x_m``, the right leg at ``x = -offset_x_m``
  (default 0.09 m); each leg axis is vertical, at ``y = 0``.
- **Seen from behind** is a camera at +y looking towards -y (up +z): the left leg then appears
  on the left of the image, as when standing behind the person.
- Angles around a leg axis are **anatomical** and the same for both legs: ``θ = 0`` anterior,
  ``π/2`` medial (towards the body midline), ``π`` posterior, ``3π/2`` lateral. Anatomical
  coordinates ``(a, m) = r (cos θ, sin θ)`` (a anterior, m medial) map to the world as
  ``x = x_axis + m`` for the right leg, ``x = x_axis - m`` for the left leg, and ``y = -a``.

The surface
-----------
Horizontal rings of ``n_around`` vertices at the same anatomical angles ``θ_j = 2πj/n``, from
top to bottom:

1. a rounded cap and a short thigh stump above the knee joint line (the knee closure);
2. the anatomy rings: one ring at every anatomy level (``z = knee_height - level``), with
   interpolated rings between them (at most ``MAX_RING_SPACING_CM`` apart). Each level's ring
   is the calf section model of :mod:`calfsim.geometry._section` scaled so that the convex
   hull of the ring — what a plane cut at that height and a tape measure — equals the anatomy
   girth exactly;
3. the ankle and a foot pointing forward (-y), heel behind, built as horizontal sections of an
   implicit foot shape (only the look: no girth of the model is taken below the ankle);
4. a flat sole on the floor with a rounded edge.

Inner meshes of the gastrocnemius heads and the soleus are separate watertight lofts of
curved ellipses inside the skin, each with the muscle's area at every level, for an "x-ray"
view.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.interpolate import PchipInterpolator

from calfsim.anatomy import LegAnatomy, Tissue
from calfsim.domain import MuscleHead, Side
from calfsim.errors import InvalidInputError
from calfsim.geometry._section import (
    BULGE_HEADS,
    HEAD_ANGLE_RAD,
    girth_plane_cut_cm,
    head_shares,
    star_hull_perimeter,
    unit_section_radius,
)
from calfsim.units import M_PER_CM

__all__ = [
    "ANTERIOR_DIRECTION",
    "DEFAULT_OFFSET_X_M",
    "LEFT_DIRECTION",
    "LegMesh",
    "anatomical_angle_rad",
    "build_leg_mesh",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: World direction the person faces (anterior); see the module docstring.
ANTERIOR_DIRECTION = (0.0, -1.0, 0.0)
#: World direction of the person's left.
LEFT_DIRECTION = (1.0, 0.0, 0.0)
#: Half the distance between the two leg axes (feet a little apart, 18 cm between axes). Look
#: only.
DEFAULT_OFFSET_X_M = 0.09

#: Height of the lateral malleolus (the last anatomy level) above the floor, as a fraction of
#: the lower-leg length: 0.17 x 37.5 cm = 6.4 cm, within the 6-7 cm of adult lateral malleolus
#: heights. Look only: no girth of the model depends on it.
MALLEOLUS_HEIGHT_RATIO = 0.17
#: Foot length / lower-leg length (a 24.4 cm foot for a 37.5 cm lower leg). Look only.
FOOT_LENGTH_RATIO = 0.65
#: Largest vertical spacing of the anatomy rings; finer than the levels so that the surface is
#: smooth on screen and a leg has >= 20k vertices with the default 192 around.
MAX_RING_SPACING_CM = 0.35
#: Thigh stump above the knee joint line: height (fraction of the lower-leg length) and girth
#: growth over it. Look only.
STUMP_HEIGHT_RATIO = 0.2
STUMP_GIRTH_GROWTH_FRAC = 0.1
N_STUMP_RINGS = 20
N_CAP_RINGS = 10
#: Foot rings between the ankle level and the floor, and flat rings of the sole.
N_FOOT_RINGS = 40
N_SOLE_RINGS = 4
#: Radius of the rounded edge of the sole, fraction of the foot length. Look only.
SOLE_EDGE_RATIO = 0.04
#: Around-the-loop resolution of the inner muscle meshes.
N_INNER_AROUND = 48

_MIN_AROUND = 16
_MAX_AROUND = 4096


def _frozen(values: ArrayLike, dtype: type = np.float64) -> NDArray[np.generic]:
    out: NDArray[np.generic] = np.array(values, dtype=dtype, copy=True)
    out.setflags(write=False)
    return out


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class LegMesh:
    """Skin and inner muscle meshes of one lower leg, in metres (see the module conventions).

    Arrays are copied and made read-only.

    Attributes
    ----------
    side : Side
        Which leg.
    vertices_m : ndarray, shape (n, 3)
        Skin vertices.
    faces : ndarray of int64, shape (m, 3)
        Skin triangles, outward normals, watertight.
    ring_heights_m : ndarray, shape (n_levels,)
        Height above the floor of the ring at each anatomy level, in level order (knee joint
        line first, so decreasing).
    ring_vertex_index : ndarray of int64, shape (n_levels, n_around)
        Vertices of the ring at each anatomy level, at anatomical angles ``2πj / n_around``.
    skin_ring_heights_m : ndarray, shape (n_rings,)
        Heights of every ring of the skin, top (knee cap) to bottom (sole), decreasing.
    skin_ring_vertex_index : ndarray of int64, shape (n_rings, n_around)
        Vertices of every ring, same angles; the rest of the skin is the cap's pole and the
        sole's centre.
    axis_xy_m : ndarray, shape (2,)
        Where the (vertical) leg axis crosses the floor.
    knee_height_m, ankle_height_m : float
        Heights of the first (knee joint line) and last (lateral malleolus) anatomy levels.
    inner : mapping of MuscleHead to (vertices, faces)
        Watertight meshes of the gastrocnemius heads and the soleus, same frame.
    """

    side: Side
    vertices_m: FloatArray
    faces: IntArray
    ring_heights_m: FloatArray
    ring_vertex_index: IntArray
    skin_ring_heights_m: FloatArray
    skin_ring_vertex_index: IntArray
    axis_xy_m: FloatArray
    knee_height_m: float
    ankle_height_m: float
    inner: Mapping[MuscleHead, tuple[FloatArray, IntArray]]

    def __post_init__(self) -> None:
        if not isinstance(self.side, Side):
            raise InvalidInputError(f"side must be a Side; got {self.side!r}", field="side")
        vertices = _frozen(self.vertices_m)
        faces = _frozen(self.faces, np.int64)
        if vertices.ndim != 2 or vertices.shape[1] != 3:
            raise InvalidInputError("vertices_m must have shape (n, 3)", field="vertices_m")
        if faces.ndim != 2 or faces.shape[1] != 3 or faces.min() < 0:
            raise InvalidInputError("faces must have shape (m, 3)", field="faces")
        if faces.max() >= vertices.shape[0]:
            raise InvalidInputError("faces must index vertices_m", field="faces")
        rings = _frozen(self.ring_vertex_index, np.int64)
        heights = _frozen(self.ring_heights_m)
        skin_rings = _frozen(self.skin_ring_vertex_index, np.int64)
        skin_heights = _frozen(self.skin_ring_heights_m)
        if rings.ndim != 2 or heights.shape != (rings.shape[0],):
            raise InvalidInputError(
                "ring_vertex_index must be (n_levels, n_around) and ring_heights_m (n_levels,)",
                field="ring_vertex_index",
            )
        if skin_rings.ndim != 2 or skin_rings.shape[1] != rings.shape[1]:
            raise InvalidInputError(
                "skin_ring_vertex_index must be (n_rings, n_around)",
                field="skin_ring_vertex_index",
            )
        if skin_heights.shape != (skin_rings.shape[0],) or np.any(np.diff(skin_heights) >= 0):
            raise InvalidInputError(
                "skin_ring_heights_m must hold one decreasing height per ring",
                field="skin_ring_heights_m",
            )
        inner = {head: (_frozen(v), _frozen(f, np.int64)) for head, (v, f) in self.inner.items()}
        object.__setattr__(self, "vertices_m", vertices)
        object.__setattr__(self, "faces", faces)
        object.__setattr__(self, "ring_vertex_index", rings)
        object.__setattr__(self, "ring_heights_m", heights)
        object.__setattr__(self, "skin_ring_vertex_index", skin_rings)
        object.__setattr__(self, "skin_ring_heights_m", skin_heights)
        object.__setattr__(self, "axis_xy_m", _frozen(self.axis_xy_m))
        object.__setattr__(self, "knee_height_m", float(self.knee_height_m))
        object.__setattr__(self, "ankle_height_m", float(self.ankle_height_m))
        object.__setattr__(self, "inner", MappingProxyType(inner))

    @property
    def n_around(self) -> int:
        """Number of vertices in each ring."""
        return int(self.ring_vertex_index.shape[1])

    @property
    def n_levels(self) -> int:
        """Number of anatomy levels (rings that follow the model's girths)."""
        return int(self.ring_vertex_index.shape[0])

    def girth_cm(
        self, height_m: float | FloatArray, *, vertices_m: FloatArray | None = None
    ) -> float | FloatArray:
        """Tape girth of the skin at height(s) above the floor (`girth_plane_cut_cm`).

        Parameters
        ----------
        height_m : float or ndarray
            Height(s) above the floor.
        vertices_m : ndarray, shape (n, 3), optional
            Deformed vertex positions (from `deform_leg`); default the mesh's own.

        Returns
        -------
        float or ndarray
            Girth(s) in cm.
        """
        vertices = self.vertices_m if vertices_m is None else vertices_m
        return girth_plane_cut_cm(vertices, self.faces, height_m=height_m, center_m=self.axis_xy_m)


def anatomical_angle_rad(points_m: ArrayLike, *, axis_xy_m: ArrayLike, side: Side) -> FloatArray:
    """Anatomical angle of points around a vertical leg axis (0 anterior, π/2 medial).

    Parameters
    ----------
    points_m : array_like, shape (..., 2) or (..., 3)
        World points (only x and y are used).
    axis_xy_m : array_like, shape (2,)
        Where the leg axis crosses the floor.
    side : Side
        Which leg (medial is +x for the right leg, -x for the left).

    Returns
    -------
    ndarray, shape (...)
        Angles in ``[0, 2π)``.

    Examples
    --------
    >>> float(anatomical_angle_rad([[0.0, -0.05, 0.3]], axis_xy_m=(0.0, 0.0), side=Side.LEFT)[0])
    0.0
    >>> round(float(anatomical_angle_rad([-0.05, 0.0], axis_xy_m=(0, 0), side=Side.LEFT)), 4)
    1.5708
    """
    points = np.asarray(points_m, dtype=np.float64)
    axis = np.asarray(axis_xy_m, dtype=np.float64)
    medial_sign = -1.0 if side is Side.LEFT else 1.0
    medial = medial_sign * (points[..., 0] - axis[0])
    anterior = -(points[..., 1] - axis[1])
    result: FloatArray = np.mod(np.arctan2(medial, anterior), 2.0 * math.pi)
    return result


# --- construction ------------------------------------------------------------------------------


def build_leg_mesh(
    anatomy: LegAnatomy,
    *,
    n_around: int = 192,
    offset_x_m: float | None = None,
    with_foot: bool = True,
) -> LegMesh:
    """Build the skin and inner muscle meshes of one lower leg from its anatomy.

    The ring at every anatomy level has the model's girth exactly, measured like a tape (convex
    hull of the horizontal section). See the module docstring for the axes and angles.

    Parameters
    ----------
    anatomy : LegAnatomy
        The layered leg (its ``side`` chooses the leg and mirrors the shape).
    n_around : int, default 192
        Vertices per ring, in [16, 4096]. With 192 a leg has about 33k skin vertices.
    offset_x_m : float, optional
        Distance of the leg axis from the body midline ``x = 0``, >= 0 (default 0.09 m): the
        left leg at ``+offset``, the right leg at ``-offset``.
    with_foot : bool, default True
        Add the ankle and foot below the last level (and a flat sole); otherwise the leg ends
        in a flat cut at the malleolus height (the floor stays at ``z = 0``).

    Returns
    -------
    LegMesh

    Raises
    ------
    InvalidInputError
        If an argument has the wrong type or is out of range.

    Examples
    --------
    >>> from calfsim.anatomy import build_leg_anatomy
    >>> from calfsim.domain import LegMeasurements, Patient
    >>> leg = build_leg_anatomy(LegMeasurements(calf_girth_cm=36.3), Patient(), side=Side.LEFT)
    >>> mesh = build_leg_mesh(leg)
    >>> mesh.vertices_m.shape[0] > 20_000, round(mesh.girth_cm(mesh.ring_heights_m[18]), 6)
    (True, 36.3)
    """
    if not isinstance(anatomy, LegAnatomy):
        raise InvalidInputError(f"anatomy must be a LegAnatomy; got {anatomy!r}", field="anatomy")
    if (
        isinstance(n_around, bool)
        or not isinstance(n_around, int)
        or not _MIN_AROUND <= n_around <= _MAX_AROUND
    ):
        raise InvalidInputError(
            f"n_around must be an integer in [{_MIN_AROUND}, {_MAX_AROUND}]; got {n_around!r}",
            field="n_around",
        )
    offset = DEFAULT_OFFSET_X_M if offset_x_m is None else offset_x_m
    if (
        isinstance(offset, bool)
        or not isinstance(offset, int | float)
        or not math.isfinite(offset)
        or not 0.0 <= offset <= 1.0
    ):
        raise InvalidInputError(
            f"offset_x_m must be a distance in [0, 1] m; got {offset_x_m!r}", field="offset_x_m"
        )
    return _build(anatomy, n_around=n_around, offset_m=float(offset), with_foot=bool(with_foot))


def ring_angles_rad(n_around: int) -> FloatArray:
    """Return the anatomical angles ``2πj / n_around`` of the vertices of every ring."""
    result: FloatArray = np.arange(n_around, dtype=np.float64) * (2.0 * math.pi / n_around)
    return result


def level_section_radii_cm(
    shares: FloatArray, level_frac: FloatArray, girth_cm: FloatArray, n_around: int
) -> tuple[FloatArray, FloatArray]:
    """Return unit radii and scale ``R`` (cm) of the sections with these shares and girths.

    Returns ``(unit, scale)`` with ``unit`` of shape (k, n_around) and ``scale`` (k,), so that
    the ring radii are ``scale[:, None] * unit`` and each ring's hull perimeter is ``girth_cm``.
    """
    theta = ring_angles_rad(n_around)
    unit = unit_section_radius(theta[None, :], shares[:, None, :], level_frac[:, None])
    scale: FloatArray = girth_cm / star_hull_perimeter(unit, theta)
    return unit, scale


def _leg_ring_levels(levels_cm: FloatArray) -> tuple[FloatArray, IntArray]:
    """Levels of every anatomy ring (levels plus interpolated ones) and where the levels are."""
    pieces: list[FloatArray] = []
    level_index = np.empty(levels_cm.size, dtype=np.int64)
    count = 0
    for i in range(levels_cm.size - 1):
        n_sub = max(1, math.ceil((levels_cm[i + 1] - levels_cm[i]) / MAX_RING_SPACING_CM))
        piece = levels_cm[i] + (levels_cm[i + 1] - levels_cm[i]) * np.arange(n_sub) / n_sub
        piece[0] = levels_cm[i]
        level_index[i] = count
        pieces.append(piece)
        count += n_sub
    level_index[-1] = count
    pieces.append(levels_cm[-1:])
    return np.concatenate(pieces), level_index


@dataclass(frozen=True, slots=True)
class _Rings:
    """Rings in anatomical coordinates: heights (m, decreasing) and radii (cm)."""

    heights_m: FloatArray
    radii_cm: FloatArray


def _anatomy_rings(
    anatomy: LegAnatomy, n_around: int, knee_height_m: float
) -> tuple[_Rings, IntArray, FloatArray]:
    """Rings from the knee joint line to the malleolus; also the level rows and level shares."""
    levels = anatomy.levels_cm
    ring_levels, level_rows = _leg_ring_levels(levels)
    shares = head_shares(anatomy)
    ring_shares = np.asarray(PchipInterpolator(levels, shares, axis=0)(ring_levels))
    ring_girth = np.asarray(PchipInterpolator(levels, anatomy.girth_cm)(ring_levels))
    ring_shares = np.maximum(ring_shares, 0.0)
    ring_shares[level_rows] = shares  # exact at the levels
    ring_girth[level_rows] = anatomy.girth_cm
    unit, scale = level_section_radii_cm(
        ring_shares, ring_levels / anatomy.length_cm, ring_girth, n_around
    )
    heights = knee_height_m - ring_levels * M_PER_CM
    return _Rings(heights, scale[:, None] * unit), level_rows, shares


def _smoothstep(x: FloatArray) -> FloatArray:
    t = np.clip(x, 0.0, 1.0)
    result: FloatArray = t * t * (3.0 - 2.0 * t)
    return result


def _knee_cap_rings(
    top: FloatArray, knee_height_m: float, length_cm: float
) -> tuple[_Rings, float]:
    """Thigh stump and rounded cap above the knee-level ring ``top`` (radii in cm)."""
    n_around = top.shape[0]
    theta = ring_angles_rad(n_around)
    round_unit = unit_section_radius(theta, np.zeros(3), 0.0)
    round_unit = round_unit / star_hull_perimeter(round_unit[None, :], theta)[0]
    top_unit = top / star_hull_perimeter(top[None, :], theta)[0]
    top_girth = float(star_hull_perimeter(top[None, :], theta)[0])
    stump_cm = STUMP_HEIGHT_RATIO * length_cm
    t = np.arange(1, N_STUMP_RINGS + 1) / N_STUMP_RINGS
    blend = _smoothstep(t)[:, None]
    girth = top_girth * (1.0 + STUMP_GIRTH_GROWTH_FRAC * _smoothstep(t))
    stump = ((1.0 - blend) * top_unit + blend * round_unit) * girth[:, None]
    stump_heights = knee_height_m + t * stump_cm * M_PER_CM
    mean_radius_cm = float(stump[-1].mean())
    dome_cm = 0.6 * mean_radius_cm
    phi = np.arange(1, N_CAP_RINGS) * (0.5 * math.pi / N_CAP_RINGS)
    dome = stump[-1][None, :] * np.cos(phi)[:, None]
    dome_heights = stump_heights[-1] + dome_cm * M_PER_CM * np.sin(phi)
    heights = np.concatenate([stump_heights, dome_heights])[::-1]
    radii = np.concatenate([stump, dome])[::-1]
    return _Rings(heights, radii), float(stump_heights[-1] + dome_cm * M_PER_CM)


# --- the foot ----------------------------------------------------------------------------------

#: Foot outline and dorsum as functions of t = (a - heel back) / foot length (look only).
#: Half-width of the footprint / foot length (heel 6 cm wide, ball 9.3 cm for a 24.4 cm foot).
_FOOT_T = np.array([0.0, 0.15, 0.3, 0.45, 0.6, 0.72, 0.82, 0.92, 1.0])
_FOOT_HALF_WIDTH = np.array([0.115, 0.122, 0.128, 0.135, 0.165, 0.19, 0.185, 0.165, 0.14])
#: Height of the top of the foot / foot length (instep ~ 4.9 cm, toes ~ 1.8 cm).
_DORSUM_T = np.array([0.0, 0.35, 0.45, 0.55, 0.65, 0.74, 0.84, 0.93, 1.0])
_DORSUM_HEIGHT = np.array([0.24, 0.24, 0.225, 0.2, 0.165, 0.13, 0.1, 0.078, 0.05])
#: Back of the heel behind the leg axis, heel top, and how fast the heel's back moves forward
#: above it (towards the Achilles tendon), all / foot length except the slope.
_HEEL_BACK_RATIO = 0.23
_HEEL_TOP_RATIO = 0.16
_HEEL_SLOPE = 1.2
#: Heel and toe rounding lengths (fractions of the foot length) and the forefoot's medial shift.
_HEEL_ROUND_T = 0.12
_TOE_ROUND_T = 0.14
_FOREFOOT_MEDIAL_SHIFT_RATIO = 0.02
#: The foot stays this far below the malleolus ring, cm.
_FOOT_CEILING_GAP_CM = 1.2
#: Rounding of the heel's top (where the heel's back turns into the Achilles tendon), cm, and
#: of the junction between the leg and the foot (instep, heel), cm.
_HEEL_ROUND_CM = 1.0
_ANKLE_FILLET_CM = 1.2
#: Smoothing length of the unions/intersections of the foot's parts, cm.
_FOOT_SMOOTHING_CM = 0.8


def _end_rounding(t: FloatArray) -> FloatArray:
    """Quarter-ellipse factor that rounds the heel (t near 0) and the toes (t near 1)."""
    heel = np.clip((_HEEL_ROUND_T - t) / _HEEL_ROUND_T, 0.0, 1.0)
    toe = np.clip((t - (1.0 - _TOE_ROUND_T)) / _TOE_ROUND_T, 0.0, 1.0)
    result: FloatArray = np.sqrt((1.0 - heel**2) * (1.0 - toe**2))
    return result


def _soft_min(a: FloatArray, b: FloatArray, k: float) -> FloatArray:
    """Smooth minimum (quadratic blend over a width ``k``; exactly ``min`` beyond it)."""
    h = np.maximum(k - np.abs(a - b), 0.0) / k
    result: FloatArray = np.minimum(a, b) - 0.25 * k * h * h
    return result


def _soft_max(a: FloatArray, b: FloatArray, k: float) -> FloatArray:
    """Smooth maximum (quadratic blend over a width ``k``; exactly ``max`` beyond it)."""
    return -_soft_min(-a, -b, k)


@dataclass(frozen=True, slots=True)
class _Foot:
    ankle_radii_cm: FloatArray  # the leg's section at the malleolus, shape (n_around,)
    length_cm: float
    ankle_height_cm: float

    def inside_cm(
        self, a: FloatArray, m: FloatArray, z_cm: FloatArray, theta: FloatArray
    ) -> FloatArray:
        """Signed 'depth' inside the ankle-and-foot solid, cm (positive inside)."""
        f = self.length_cm
        k = _FOOT_SMOOTHING_CM
        rho = SOLE_EDGE_RATIO * f
        inset = np.where(
            z_cm < rho, rho - np.sqrt(np.maximum(rho**2 - (rho - z_cm) ** 2, 0.0)), 0.0
        )
        # The leg column: the ankle section, narrowing below the malleoli (hidden in the foot).
        taper = 0.75 + 0.25 * _smoothstep(z_cm / (0.7 * self.ankle_height_cm))
        r = np.hypot(a, m)
        n = self.ankle_radii_cm.size
        ankle_r = np.interp(theta, ring_angles_rad(n), self.ankle_radii_cm, period=2.0 * math.pi)
        column = ankle_r * taper - r - inset
        # The foot: footprint sides, top (dorsum) and heel back, intersected smoothly.
        t = (a + _HEEL_BACK_RATIO * f) / f
        half = np.interp(t, _FOOT_T, _FOOT_HALF_WIDTH) * _end_rounding(t) * f
        half = np.where(t < 0.0, t * f, np.where(t > 1.0, (1.0 - t) * f, half))
        centre = _FOREFOOT_MEDIAL_SHIFT_RATIO * f * _smoothstep((t - 0.5) / 0.4)
        across = (m - centre) / np.maximum(half, 1e-6)
        sides = half - np.abs(m - centre) - inset
        lateral = np.clip(-across, 0.0, 1.0)
        top_height = (
            np.interp(t, _DORSUM_T, _DORSUM_HEIGHT)
            * f
            * (1.0 - 0.35 * np.clip(across, -1.0, 1.0) ** 2)
            * (1.0 - 0.15 * lateral)
        )
        top = 2.0 * (top_height - z_cm)
        heel_back = -_HEEL_BACK_RATIO * f + _HEEL_SLOPE * np.maximum(
            z_cm - _HEEL_TOP_RATIO * f, 0.0
        )
        heel = a - heel_back
        # Nothing of the foot reaches the malleolus ring: that ring is the model's section.
        ceiling = 2.0 * (self.ankle_height_cm - _FOOT_CEILING_GAP_CM - z_cm)
        foot = _soft_min(_soft_min(_soft_min(sides, top, k), heel, k), ceiling, k)
        return _soft_max(column, foot, k)


def _foot_rings(ankle_radii_cm: FloatArray, ankle_height_m: float, length_cm: float) -> _Rings:
    """Horizontal sections of the ankle and foot below the malleolus ring, then the sole."""
    n_around = ankle_radii_cm.size
    theta = ring_angles_rad(n_around)
    foot_cm = FOOT_LENGTH_RATIO * length_cm
    ankle_cm = ankle_height_m / M_PER_CM
    foot = _Foot(ankle_radii_cm, foot_cm, ankle_cm)
    k = np.arange(N_FOOT_RINGS - 1, -1, -1)
    z_cm = ankle_cm * (k / N_FOOT_RINGS) ** 1.4  # denser near the floor; last ring at z = 0
    radii = _ray_cast(foot, theta, z_cm, r_max_cm=1.2 * foot_cm)
    sole = radii[-1][None, :] * (1.0 - np.arange(1, N_SOLE_RINGS + 1) / (N_SOLE_RINGS + 1))[:, None]
    heights = np.concatenate([z_cm, np.zeros(N_SOLE_RINGS)]) * M_PER_CM
    return _Rings(heights, np.concatenate([radii, sole]))


def _ray_cast(foot: _Foot, theta: FloatArray, z_cm: FloatArray, *, r_max_cm: float) -> FloatArray:
    """First exit of each ray (z, θ) from the solid: coarse march, then bisection.

    The march's step (``r_max_cm / 47``, about 6 mm for a 24 cm foot) is finer than any part
    of the foot, so the first sample outside brackets the first exit; 20 bisections then place
    it to well under a micrometre.
    """
    n_steps = 48
    zz = z_cm[:, None, None]
    cos_t, sin_t = np.cos(theta)[None, :, None], np.sin(theta)[None, :, None]
    th = theta[None, :, None]
    r = np.linspace(0.0, r_max_cm, n_steps)[None, None, :]
    inside = foot.inside_cm(r * cos_t, r * sin_t, zz, th) > 0.0
    first_out = np.argmax(~inside, axis=2)  # the march's first outside sample (>= 1)
    step = r_max_cm / (n_steps - 1)
    lo = (first_out - 1) * step
    hi = first_out * step
    zz2, cos2, sin2, th2 = (
        z_cm[:, None],
        np.cos(theta)[None, :],
        np.sin(theta)[None, :],
        theta[None, :],
    )
    for _ in range(20):
        mid = 0.5 * (lo + hi)
        is_in = foot.inside_cm(mid * cos2, mid * sin2, zz2, th2) > 0.0
        lo = np.where(is_in, mid, lo)
        hi = np.where(is_in, hi, mid)
    result: FloatArray = 0.5 * (lo + hi)
    return result


# --- assembling --------------------------------------------------------------------------------


def _loft_faces(n_rings: int, n_around: int, first: int = 0) -> IntArray:
    """Triangles between consecutive rings (ring k above ring k+1), outward for CCW rings."""
    j = np.arange(n_around)
    j1 = (j + 1) % n_around
    k = np.arange(n_rings - 1)[:, None]
    upper = first + k * n_around
    lower = first + (k + 1) * n_around
    a = np.stack([upper + j, lower + j, upper + j1], axis=-1)
    b = np.stack([upper + j1, lower + j, lower + j1], axis=-1)
    return np.concatenate([a.reshape(-1, 3), b.reshape(-1, 3)]).astype(np.int64)


def _fan(pole: int, ring_start: int, n_around: int, *, is_top: bool) -> IntArray:
    j = np.arange(n_around)
    j1 = (j + 1) % n_around
    p = np.full(n_around, pole)
    if is_top:
        return np.stack([p, ring_start + j, ring_start + j1], axis=-1).astype(np.int64)
    return np.stack([p, ring_start + j1, ring_start + j], axis=-1).astype(np.int64)


def _to_world(
    a_cm: FloatArray, m_cm: FloatArray, z_m: FloatArray, side: Side, axis_x_m: float
) -> FloatArray:
    medial_sign = -1.0 if side is Side.LEFT else 1.0
    x = axis_x_m + medial_sign * m_cm * M_PER_CM
    y = -a_cm * M_PER_CM
    return np.stack([x, y, np.broadcast_to(z_m, np.shape(x))], axis=-1)


def _closed_loft(
    rings: _Rings, theta: FloatArray, side: Side, axis_x_m: float, top_z: float, bottom_z: float
) -> tuple[FloatArray, IntArray]:
    """Vertices (rings, then top pole, then bottom pole) and faces of a closed loft."""
    n_rings, n_around = rings.radii_cm.shape
    a = rings.radii_cm * np.cos(theta)[None, :]
    m = rings.radii_cm * np.sin(theta)[None, :]
    z = np.broadcast_to(rings.heights_m[:, None], a.shape)
    ring_vertices = _to_world(a, m, z, side, axis_x_m).reshape(-1, 3)
    poles = np.array([[axis_x_m, 0.0, top_z], [axis_x_m, 0.0, bottom_z]])
    vertices = np.concatenate([ring_vertices, poles])
    top_pole, bottom_pole = n_rings * n_around, n_rings * n_around + 1
    faces = np.concatenate(
        [
            _fan(top_pole, 0, n_around, is_top=True),
            _loft_faces(n_rings, n_around),
            _fan(bottom_pole, (n_rings - 1) * n_around, n_around, is_top=False),
        ]
    )
    if side is Side.LEFT:  # the mirror image reverses the winding
        faces = faces[:, ::-1]
    return vertices, np.ascontiguousarray(faces)


def _build(anatomy: LegAnatomy, *, n_around: int, offset_m: float, with_foot: bool) -> LegMesh:
    side = anatomy.side
    axis_x = offset_m if side is Side.LEFT else -offset_m
    length_cm = anatomy.length_cm
    ankle_height_m = MALLEOLUS_HEIGHT_RATIO * length_cm * M_PER_CM
    knee_height_m = ankle_height_m + length_cm * M_PER_CM
    theta = ring_angles_rad(n_around)
    leg, level_rows, _ = _anatomy_rings(anatomy, n_around, knee_height_m)
    cap, pole_height_m = _knee_cap_rings(leg.radii_cm[0], knee_height_m, length_cm)
    parts = [cap, leg]
    if with_foot:
        parts.append(_foot_rings(leg.radii_cm[-1], ankle_height_m, length_cm))
    rings = _Rings(
        np.concatenate([p.heights_m for p in parts]),
        np.concatenate([p.radii_cm for p in parts]),
    )
    bottom_z = 0.0 if with_foot else ankle_height_m
    vertices, faces = _closed_loft(rings, theta, side, axis_x, pole_height_m, bottom_z)
    n_cap = cap.heights_m.size
    ring_index = np.arange(rings.heights_m.size * n_around, dtype=np.int64).reshape(-1, n_around)
    # Distinct ring heights are required by the deformation; the sole's flat rings share z = 0.
    is_distinct = np.ones(rings.heights_m.size, dtype=np.bool_)
    if with_foot:
        is_distinct[-N_SOLE_RINGS:] = False
    level_ring_rows = n_cap + level_rows
    inner = _inner_meshes(anatomy, leg.radii_cm[level_rows], knee_height_m, axis_x)
    return LegMesh(
        side=side,
        vertices_m=vertices,
        faces=faces,
        ring_heights_m=rings.heights_m[level_ring_rows],
        ring_vertex_index=ring_index[level_ring_rows],
        skin_ring_heights_m=rings.heights_m[is_distinct],
        skin_ring_vertex_index=ring_index[is_distinct],
        axis_xy_m=np.array([axis_x, 0.0]),
        knee_height_m=knee_height_m,
        ankle_height_m=ankle_height_m,
        inner=inner,
    )


# --- inner muscle meshes -------------------------------------------------------------------------

#: Width / thickness of each muscle's section (a curved ellipse under the skin). Look only.
_MUSCLE_ASPECT = {
    MuscleHead.GM_MEDIAL: 2.3,
    MuscleHead.GM_LATERAL: 2.1,
    MuscleHead.SOLEUS: 2.8,
}
#: Levels where a muscle's area is below this fraction of its largest area are left out.
_MIN_AREA_FRAC = 0.02


def _inner_meshes(
    anatomy: LegAnatomy,
    level_radii_cm: FloatArray,
    knee_height_m: float,
    axis_x: float,
) -> dict[MuscleHead, tuple[FloatArray, IntArray]]:
    n_around = level_radii_cm.shape[1]
    theta = ring_angles_rad(n_around)
    girth = anatomy.girth_cm
    # Skin + fat thickness from their areas (thin-ring approximation: area ~ girth x thickness).
    cover_cm = (anatomy.area_cm2[Tissue.SKIN] + anatomy.area_cm2[Tissue.FAT]) / girth

    def skin_radius(angle: float) -> FloatArray:
        return np.array([np.interp(angle, theta, r, period=2.0 * math.pi) for r in level_radii_cm])

    thickness = {
        h: np.sqrt(anatomy.muscle_area_cm2(h) / (math.pi * _MUSCLE_ASPECT[h])) for h in BULGE_HEADS
    }
    meshes: dict[MuscleHead, tuple[FloatArray, IntArray]] = {}
    for head in BULGE_HEADS:
        angle = HEAD_ANGLE_RAD[head]
        a_cm = thickness[head]  # radial semi-axis
        b_cm = _MUSCLE_ASPECT[head] * a_cm  # tangential semi-axis
        if head is MuscleHead.SOLEUS:
            gm_cm = np.maximum(thickness[MuscleHead.GM_MEDIAL], thickness[MuscleHead.GM_LATERAL])
            depth = skin_radius(angle) - cover_cm - 1.7 * gm_cm - a_cm
        else:
            depth = skin_radius(angle) - cover_cm - 1.05 * a_cm
        depth = np.maximum(depth, 1.2 * a_cm)
        area = anatomy.muscle_area_cm2(head)
        rows = np.nonzero(area >= _MIN_AREA_FRAC * area.max())[0]
        rows = np.arange(rows.min(), rows.max() + 1)
        heights = knee_height_m - anatomy.levels_cm[rows] * M_PER_CM
        meshes[head] = _muscle_loft(
            heights, depth[rows], a_cm[rows], b_cm[rows], angle, anatomy.side, axis_x
        )
    return meshes


def _muscle_loft(
    heights_m: FloatArray,
    depth_cm: FloatArray,
    a_cm: FloatArray,
    b_cm: FloatArray,
    angle_rad: float,
    side: Side,
    axis_x: float,
) -> tuple[FloatArray, IntArray]:
    """Build a watertight loft of curved ellipses, rounded at both ends."""
    n_end = 3
    psi = np.arange(n_end, 0, -1) * (0.5 * math.pi / (n_end + 1))  # towards the pole
    end_top = max(1.5 * float(a_cm[0]), 0.5) * M_PER_CM
    end_bottom = max(1.5 * float(a_cm[-1]), 0.5) * M_PER_CM
    scale = np.concatenate(
        [np.cos(psi)[::-1] * 0 + np.cos(psi), np.ones(heights_m.size), np.cos(psi)[::-1]]
    )
    top_h = heights_m[0] + end_top * np.sin(psi)
    bottom_h = heights_m[-1] - end_bottom * np.sin(psi)[::-1]
    z = np.concatenate([top_h, heights_m, bottom_h])
    depth = np.concatenate([np.full(n_end, depth_cm[0]), depth_cm, np.full(n_end, depth_cm[-1])])
    a = np.concatenate([np.full(n_end, a_cm[0]), a_cm, np.full(n_end, a_cm[-1])]) * scale
    b = np.concatenate([np.full(n_end, b_cm[0]), b_cm, np.full(n_end, b_cm[-1])]) * scale
    phi = np.arange(N_INNER_AROUND) * (2.0 * math.pi / N_INNER_AROUND)
    radius = depth[:, None] + a[:, None] * np.cos(phi)[None, :]
    polar = angle_rad + b[:, None] * np.sin(phi)[None, :] / depth[:, None]
    ring_a, ring_m = radius * np.cos(polar), radius * np.sin(polar)
    ring_z = np.broadcast_to(z[:, None], ring_a.shape)
    ring_vertices = _to_world(ring_a, ring_m, ring_z, side, axis_x).reshape(-1, 3)
    centre_top = _to_world(
        np.array(depth_cm[0] * math.cos(angle_rad)),
        np.array(depth_cm[0] * math.sin(angle_rad)),
        np.array(heights_m[0] + end_top),
        side,
        axis_x,
    )
    centre_bottom = _to_world(
        np.array(depth_cm[-1] * math.cos(angle_rad)),
        np.array(depth_cm[-1] * math.sin(angle_rad)),
        np.array(heights_m[-1] - end_bottom),
        side,
        axis_x,
    )
    vertices = np.concatenate([ring_vertices, centre_top[None, :], centre_bottom[None, :]])
    n_rings = z.size
    top_pole, bottom_pole = n_rings * N_INNER_AROUND, n_rings * N_INNER_AROUND + 1
    faces = np.concatenate(
        [
            _fan(top_pole, 0, N_INNER_AROUND, is_top=True),
            _loft_faces(n_rings, N_INNER_AROUND),
            _fan(bottom_pole, (n_rings - 1) * N_INNER_AROUND, N_INNER_AROUND, is_top=False),
        ]
    )
    if side is Side.LEFT:
        faces = faces[:, ::-1]
    return vertices, np.ascontiguousarray(faces)
