r"""Deformation of a leg over time: the calf section follows the model's tissue change.

At every anatomy level the new skin section is the calf section model with each muscle's
bulge term scaled by ``1 - atrophy`` (the posterior bulge flattens where the muscle wastes; it
is not a uniform shrink), then rescaled so that its convex-hull perimeter equals the target
girth exactly. The ratio of the new to the old section radius, as a function of height and
anatomical angle, is a **radial scale field** around the leg axis:

.. math::

    k(z, \theta) = \frac{R'(z)\, s'(\theta; z)}{R(z)\, s(\theta; z)}

linear in height between levels, and blended smoothly to 1 above the knee joint line and
below the malleolus (the knee cap and the foot do not move). Multiplying a vertex's distance
from the leg axis by ``k`` deforms the model's own mesh (`deform_leg`: the ring at every level
then has the target girth exactly) or any other leg, such as a scan (`radial_scale_field`).

Angles are anatomical (0 anterior, π/2 medial, π posterior); see
:mod:`calfsim.geometry._leg_mesh` for how they map to the world axes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from calfsim.anatomy import LegAnatomy
from calfsim.domain import MuscleHead, Side
from calfsim.errors import InvalidInputError
from calfsim.geometry._leg_mesh import (
    N_INNER_AROUND,
    LegMesh,
    anatomical_angle_rad,
    level_section_radii_cm,
    ring_angles_rad,
)
from calfsim.geometry._section import BULGE_HEADS, head_shares, unit_section_radius
from calfsim.units import M_PER_CM

__all__ = ["RadialScaleField", "deform_inner", "deform_leg", "radial_scale_field"]

FloatArray = NDArray[np.float64]

#: The deformation fades to nothing over this distance above the knee joint line (into the
#: knee cap) and below the malleolus (into the foot). Look only; the levels themselves always
#: reach their target girths.
BLEND_ABOVE_KNEE_M = 0.03
BLEND_BELOW_ANKLE_M = 0.015
#: Accepted atrophy fractions: 1 removes a muscle's bulge, negative values (growth, e.g. the
#: soleus compensating) enlarge it, at most doubling it.
_ATROPHY_RANGE = (-1.0, 1.0)
#: Accepted target girth relative to the baseline (a deformation, not a different leg).
_GIRTH_RATIO_RANGE = (0.5, 1.5)


def _smoothstep(x: FloatArray) -> FloatArray:
    t = np.clip(x, 0.0, 1.0)
    result: FloatArray = t * t * (3.0 - 2.0 * t)
    return result


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class RadialScaleField:
    """Radial scale factors around a leg axis, from the baseline sections to the target ones.

    Made by `radial_scale_field`; call it with heights and anatomical angles. Leading
    dimension ``n_frames`` holds several targets (e.g. weeks) at once.

    Attributes
    ----------
    side : Side
    knee_height_m : float
        Height of the knee joint line (level 0) on the leg being deformed.
    levels_cm : ndarray, shape (n_levels,)
        Anatomy levels below the knee joint line.
    level_frac : ndarray, shape (n_levels,)
        The levels as fractions of the lower-leg length.
    shares_before, shares_after : ndarray, shape (n_levels, 3) and (n_frames, n_levels, 3)
        Bulge muscles' area shares before and after (scaled by ``1 - atrophy``).
    scale_before_cm, scale_after_cm : ndarray, shape (n_levels,) and (n_frames, n_levels)
        Section scales ``R`` giving the baseline and the target hull perimeters.
    n_around : int
        Angular sampling on which the hull perimeters were computed (the mesh's).
    """

    side: Side
    knee_height_m: float
    levels_cm: FloatArray
    level_frac: FloatArray
    shares_before: FloatArray
    shares_after: FloatArray
    scale_before_cm: FloatArray
    scale_after_cm: FloatArray
    n_around: int

    @property
    def n_frames(self) -> int:
        """Number of targets held (1 for a single target)."""
        return int(self.scale_after_cm.shape[0])

    def level_scale(self, angle_rad: FloatArray) -> FloatArray:
        """Scale factors at every level for the given angles, shape (n_frames, n_levels, n)."""
        theta = np.asarray(angle_rad, dtype=np.float64)[None, None, :]
        frac = self.level_frac[None, :, None]
        before = unit_section_radius(theta, self.shares_before[None, :, None, :], frac)
        after = unit_section_radius(theta, self.shares_after[:, :, None, :], frac)
        ratio = self.scale_after_cm / self.scale_before_cm[None, :]
        result: FloatArray = ratio[:, :, None] * after / before
        return result

    def _bracket(self, height_m: FloatArray) -> tuple[NDArray[np.int64], FloatArray, FloatArray]:
        """Lower level index, weight to the next level, and the 'still moving' factor."""
        levels = self.levels_cm
        level = (self.knee_height_m - height_m) / M_PER_CM
        lower = np.clip(np.searchsorted(levels, level, side="right") - 1, 0, levels.size - 2)
        weight = np.clip((level - levels[lower]) / (levels[lower + 1] - levels[lower]), 0.0, 1.0)
        above = _smoothstep(-level * M_PER_CM / BLEND_ABOVE_KNEE_M)
        below = _smoothstep((level - levels[-1]) * M_PER_CM / BLEND_BELOW_ANKLE_M)
        moving: FloatArray = (1.0 - above) * (1.0 - below)
        return lower.astype(np.int64), weight, moving

    def __call__(self, height_m: ArrayLike, angle_rad: ArrayLike) -> FloatArray:
        """Scale factors at points given by height and anatomical angle.

        Parameters
        ----------
        height_m : array_like
            Heights along the leg axis, in the frame where the knee joint line is at
            ``knee_height_m``.
        angle_rad : array_like
            Anatomical angles (0 anterior, π/2 medial, π posterior); broadcast against
            ``height_m``.

        Returns
        -------
        ndarray, shape (n_frames, *broadcast shape)
            Factors to multiply each point's distance from the leg axis by (1 outside the
            blend zones above the knee and below the ankle).
        """
        height, theta = np.broadcast_arrays(
            np.asarray(height_m, dtype=np.float64), np.asarray(angle_rad, dtype=np.float64)
        )
        shape = height.shape
        height, theta = height.reshape(-1), theta.reshape(-1)
        lower, weight, moving = self._bracket(height)
        ratio = self.scale_after_cm / self.scale_before_cm[None, :]

        def at(index: NDArray[np.int64]) -> FloatArray:
            frac = self.level_frac[index]
            before = unit_section_radius(theta, self.shares_before[index], frac)
            after = unit_section_radius(theta[None, :], self.shares_after[:, index], frac)
            result: FloatArray = ratio[:, index] * after / before
            return result

        scale = (1.0 - weight) * at(lower) + weight * at(lower + 1)
        scale = 1.0 + moving * (scale - 1.0)
        return scale.reshape((self.n_frames, *shape))


def _check_targets(
    anatomy: LegAnatomy, girth_cm: ArrayLike, atrophy: Mapping[MuscleHead, ArrayLike] | None
) -> tuple[FloatArray, FloatArray, bool]:
    """Return validated girths (n_frames, n_levels), atrophy (n_frames, 3) and whether one frame."""
    girth = np.asarray(girth_cm, dtype=np.float64)
    is_single = girth.ndim == 1
    girth = np.atleast_2d(girth)
    if girth.ndim != 2 or girth.shape[1] != anatomy.n_levels:
        raise InvalidInputError(
            f"girth_cm must have shape ({anatomy.n_levels},) or (n_frames, {anatomy.n_levels}) "
            f"(one girth per anatomy level); got {np.shape(girth_cm)}",
            field="girth_cm",
        )
    ratio = girth / anatomy.girth_cm[None, :]
    low, high = _GIRTH_RATIO_RANGE
    if not np.all(np.isfinite(girth)) or np.any(ratio < low) or np.any(ratio > high):
        raise InvalidInputError(
            f"girth_cm must be finite and within {low:g}-{high:g} x the anatomy's girth at "
            "every level (cm)",
            field="girth_cm",
        )
    n_frames = girth.shape[0]
    fracs = np.zeros((n_frames, len(BULGE_HEADS)))
    for head, value in (atrophy or {}).items():
        if not isinstance(head, MuscleHead):
            raise InvalidInputError(
                f"gm_atrophy_frac keys must be MuscleHead; got {head!r}", field="gm_atrophy_frac"
            )
        values = np.asarray(value, dtype=np.float64)
        if values.ndim > 1 or (values.ndim == 1 and values.shape[0] != n_frames):
            raise InvalidInputError(
                f"gm_atrophy_frac[{head.value}] must be a number or hold one per frame "
                f"({n_frames}); got shape {values.shape}",
                field="gm_atrophy_frac",
            )
        lo, hi = _ATROPHY_RANGE
        if not np.all(np.isfinite(values)) or np.any(values < lo) or np.any(values > hi):
            raise InvalidInputError(
                f"gm_atrophy_frac[{head.value}] must be in [{lo:g}, {hi:g}] (a fraction; "
                f"positive = smaller); got {value!r}",
                field="gm_atrophy_frac",
            )
        fracs[:, BULGE_HEADS.index(head)] = values
    return girth, fracs, is_single


def radial_scale_field(
    anatomy: LegAnatomy,
    *,
    girth_cm_target: ArrayLike,
    gm_atrophy_frac: Mapping[MuscleHead, ArrayLike] | None = None,
    knee_height_m: float,
    n_around: int = 192,
) -> RadialScaleField:
    """Radial scale field that takes the model's sections to the target girths and atrophy.

    Use it to deform any leg — for instance a scan, after fitting ``anatomy`` to the scan's
    girth profile: multiply each vertex's distance from the leg axis by
    ``field(height, angle)[frame]``. The posterior bulge flattens by the model's amount, but
    the scan's own sections are not the model's, so its girths only approximately reach the
    targets: **measure the deformed scan at each level and correct** (for example by a further
    uniform radial factor per level, interpolated in height).

    Parameters
    ----------
    anatomy : LegAnatomy
        The baseline leg (its levels, girths and muscle areas).
    girth_cm_target : array_like, shape (n_levels,) or (n_frames, n_levels)
        Target girth at every anatomy level (for example a row of
        ``LegPrediction.girth_profile_cm.median``), cm.
    gm_atrophy_frac : mapping of MuscleHead to float or array of shape (n_frames,), optional
        Atrophy of each muscle, as a fraction of its size (positive = smaller; the negative of
        ``head_volume_change_frac``). A head's bulge term is scaled by ``1 - atrophy``. Missing
        heads (or None) keep their bulge: only the girth changes.
    knee_height_m : float
        Height of the knee joint line (level 0) along the axis of the leg to deform
        (``LegMesh.knee_height_m`` for a model mesh).
    n_around : int, default 192
        Angular sampling for the hull perimeters (the mesh's ``n_around`` makes the model mesh
        exact).

    Returns
    -------
    RadialScaleField
        Callable ``field(height_m, angle_rad) -> (n_frames, ...)`` factors.

    Raises
    ------
    InvalidInputError
        If the targets do not match the levels, a girth is outside 0.5-1.5 x the baseline, or
        an atrophy fraction is outside [-1, 1].

    Examples
    --------
    >>> from calfsim.anatomy import build_leg_anatomy
    >>> from calfsim.domain import LegMeasurements, Patient
    >>> leg = build_leg_anatomy(LegMeasurements(calf_girth_cm=36.3), Patient(), side=Side.LEFT)
    >>> field = radial_scale_field(leg, girth_cm_target=leg.girth_cm * 0.97,
    ...                            gm_atrophy_frac={MuscleHead.GM_MEDIAL: 0.3},
    ...                            knee_height_m=0.44)
    >>> calf_z = 0.44 - leg.calf_level_cm / 100
    >>> front, back = field(calf_z, [0.0, np.pi - 0.75])[0]
    >>> bool(back < front < 1.0)  # the medial head's bulge flattens most
    True
    """
    if not isinstance(anatomy, LegAnatomy):
        raise InvalidInputError(f"anatomy must be a LegAnatomy; got {anatomy!r}", field="anatomy")
    if not isinstance(knee_height_m, int | float) or not math.isfinite(knee_height_m):
        raise InvalidInputError(
            f"knee_height_m must be a finite height in metres; got {knee_height_m!r}",
            field="knee_height_m",
        )
    if isinstance(n_around, bool) or not isinstance(n_around, int) or not 16 <= n_around <= 4096:
        raise InvalidInputError(
            f"n_around must be an integer in [16, 4096]; got {n_around!r}", field="n_around"
        )
    girth, atrophy, _ = _check_targets(anatomy, girth_cm_target, gm_atrophy_frac)
    return _field(anatomy, girth, atrophy, float(knee_height_m), n_around)


def _field(
    anatomy: LegAnatomy, girth: FloatArray, atrophy: FloatArray, knee_height_m: float, n_around: int
) -> RadialScaleField:
    n_frames, n_levels = girth.shape
    level_frac = anatomy.levels_cm / anatomy.length_cm
    shares = head_shares(anatomy)
    _, scale_before = level_section_radii_cm(shares, level_frac, anatomy.girth_cm, n_around)
    shares_after = shares[None, :, :] * (1.0 - atrophy)[:, None, :]
    _, scale_after = level_section_radii_cm(
        shares_after.reshape(-1, len(BULGE_HEADS)),
        np.tile(level_frac, n_frames),
        girth.reshape(-1),
        n_around,
    )
    return RadialScaleField(
        side=anatomy.side,
        knee_height_m=knee_height_m,
        levels_cm=anatomy.levels_cm,
        level_frac=level_frac,
        shares_before=shares,
        shares_after=shares_after,
        scale_before_cm=scale_before,
        scale_after_cm=scale_after.reshape(n_frames, n_levels),
        n_around=n_around,
    )


def _check_mesh_anatomy(mesh: LegMesh, anatomy: LegAnatomy) -> None:
    if not isinstance(mesh, LegMesh):
        raise InvalidInputError(f"mesh must be a LegMesh; got {mesh!r}", field="mesh")
    if not isinstance(anatomy, LegAnatomy):
        raise InvalidInputError(f"anatomy must be a LegAnatomy; got {anatomy!r}", field="anatomy")
    if mesh.side is not anatomy.side or mesh.n_levels != anatomy.n_levels:
        raise InvalidInputError(
            f"the mesh ({mesh.side.value}, {mesh.n_levels} levels) was not built from this "
            f"anatomy ({anatomy.side.value}, {anatomy.n_levels} levels)",
            field="anatomy",
        )


def deform_leg(
    mesh: LegMesh,
    anatomy: LegAnatomy,
    *,
    girth_cm: ArrayLike,
    gm_atrophy_frac: Mapping[MuscleHead, ArrayLike] | None = None,
) -> FloatArray:
    """Return new skin vertex positions of a model leg mesh for target girths and muscle atrophy.

    The faces do not change. At every anatomy level the ring takes the shape of the calf
    section with each muscle's bulge scaled by ``1 - atrophy``, scaled so that its tape girth
    (convex hull) equals ``girth_cm`` at that level exactly; rings between levels follow
    linearly; the knee cap and the foot do not move (the change fades over 3 cm above the knee
    joint line and 1.5 cm below the malleolus).

    Parameters
    ----------
    mesh : LegMesh
        Built by `build_leg_mesh` from ``anatomy``.
    anatomy : LegAnatomy
        The baseline leg.
    girth_cm : array_like, shape (n_levels,) or (n_frames, n_levels)
        Target girth at every level, cm; several rows deform for several targets at once
        (e.g. 53 weeks), which is much faster than one call per target.
    gm_atrophy_frac : mapping of MuscleHead to float or array of shape (n_frames,), optional
        Atrophy of each muscle (positive = smaller; ``-head_volume_change_frac``). None: the
        section keeps its shape and only its size changes.

    Returns
    -------
    ndarray, shape (n_vertices, 3) or (n_frames, n_vertices, 3)
        Vertex positions in metres (the shape follows ``girth_cm``).

    Raises
    ------
    InvalidInputError
        If the mesh was not built from ``anatomy`` or the targets are invalid (see
        `radial_scale_field`).

    Examples
    --------
    >>> from calfsim.anatomy import build_leg_anatomy
    >>> from calfsim.domain import LegMeasurements, Patient
    >>> from calfsim.geometry import build_leg_mesh
    >>> leg = build_leg_anatomy(LegMeasurements(calf_girth_cm=36.3), Patient(), side=Side.LEFT)
    >>> mesh = build_leg_mesh(leg)
    >>> moved = deform_leg(mesh, leg, girth_cm=leg.girth_cm - 1.0,
    ...                    gm_atrophy_frac={MuscleHead.GM_MEDIAL: 0.3, MuscleHead.GM_LATERAL: 0.3})
    >>> round(mesh.girth_cm(mesh.ring_heights_m[18], vertices_m=moved), 9)
    35.3
    """
    _check_mesh_anatomy(mesh, anatomy)
    girth, atrophy, is_single = _check_targets(anatomy, girth_cm, gm_atrophy_frac)
    field = _field(anatomy, girth, atrophy, mesh.knee_height_m, mesh.n_around)
    level_scale = field.level_scale(ring_angles_rad(mesh.n_around))
    lower, weight, moving = field._bracket(mesh.skin_ring_heights_m)
    ring_scale = (1.0 - weight)[None, :, None] * level_scale[:, lower] + weight[
        None, :, None
    ] * level_scale[:, lower + 1]
    ring_scale = 1.0 + moving[None, :, None] * (ring_scale - 1.0)
    n_frames, n_vertices = field.n_frames, mesh.vertices_m.shape[0]
    vertex_scale = np.ones((n_frames, n_vertices))
    vertex_scale[:, mesh.skin_ring_vertex_index.reshape(-1)] = ring_scale.reshape(n_frames, -1)
    # The level rings exactly (no interpolation round-off).
    vertex_scale[:, mesh.ring_vertex_index.reshape(-1)] = level_scale.reshape(n_frames, -1)
    axis = mesh.axis_xy_m
    vertices = np.empty((n_frames, n_vertices, 3))
    for k in range(2):
        rel = mesh.vertices_m[:, k] - axis[k]
        np.multiply(vertex_scale, rel[None, :], out=vertices[:, :, k])
        vertices[:, :, k] += axis[k]
    vertices[:, :, 2] = mesh.vertices_m[None, :, 2]
    return vertices[0] if is_single else vertices


def deform_inner(
    mesh: LegMesh,
    anatomy: LegAnatomy,
    *,
    girth_cm: ArrayLike,
    gm_atrophy_frac: Mapping[MuscleHead, ArrayLike] | None = None,
) -> dict[MuscleHead, FloatArray]:
    """Return new vertex positions of the inner muscle meshes, consistent with `deform_leg`.

    Each muscle moves with the skin around it (the radial scale field at its vertices) and
    shrinks about its own centre line by ``sqrt(1 - atrophy)`` (its section area by
    ``1 - atrophy``).

    Parameters
    ----------
    mesh, anatomy, girth_cm, gm_atrophy_frac
        As for `deform_leg`.

    Returns
    -------
    dict of MuscleHead to ndarray, shape (n, 3) or (n_frames, n, 3)
        Keyed like ``mesh.inner``; faces unchanged.

    Raises
    ------
    InvalidInputError
        As for `deform_leg`.
    """
    _check_mesh_anatomy(mesh, anatomy)
    girth, atrophy, is_single = _check_targets(anatomy, girth_cm, gm_atrophy_frac)
    field = _field(anatomy, girth, atrophy, mesh.knee_height_m, mesh.n_around)
    axis = mesh.axis_xy_m
    out: dict[MuscleHead, FloatArray] = {}
    for head, (vertices, _) in mesh.inner.items():
        centre = _inner_centre_line(vertices)
        angle = anatomical_angle_rad(centre, axis_xy_m=axis, side=mesh.side)
        moved_centre = np.repeat(centre[None, :, :], field.n_frames, axis=0)
        scale = field(centre[:, 2], angle)
        moved_centre[:, :, :2] = axis + (centre[:, :2] - axis) * scale[:, :, None]
        shrink = np.sqrt(np.clip(1.0 - atrophy[:, BULGE_HEADS.index(head)], 0.0, None))
        moved = moved_centre + (vertices - centre)[None, :, :] * shrink[:, None, None]
        moved[:, :, 2] = vertices[:, 2]
        out[head] = moved[0] if is_single else moved
    return out


def _inner_centre_line(vertices: FloatArray) -> FloatArray:
    """Centre of each vertex's ring (inner meshes: rings of equal size, then two poles)."""
    n_rings = (vertices.shape[0] - 2) // N_INNER_AROUND
    rings = vertices[: n_rings * N_INNER_AROUND].reshape(n_rings, N_INNER_AROUND, 3)
    centres = np.repeat(rings.mean(axis=1), N_INNER_AROUND, axis=0)
    result: FloatArray = np.concatenate([centres, vertices[-2:]])
    return result
