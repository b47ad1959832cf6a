r"""Body and leg scans: units, orientation, both legs, and girth profiles measured like a tape.

Pure code on arrays: :mod:`calfsim.io` reads the file and hands vertices and faces to
:func:`~calfsim.geometry.orient_scan` (in ``_scan_orient``), which recognises the units, finds
up, the feet, the legs and the front, and returns a :class:`ScanMesh` in the canonical frame.
:func:`find_legs` then measures each leg.

Canonical frame of a :class:`ScanMesh`
    Metres; +z up with the floor (lowest vertex) at z = 0; x along the line joining the two
    legs, with the person's **left on +x** when the front is known; the person then faces -y
    (a proper rotation: nothing is mirrored, so left stays left). When the front cannot be
    told, x still joins the legs but its sign is arbitrary.

How units, up and front are decided
    See :mod:`calfsim.geometry._scan_orient`; the result says it in words (``*_reason``).

Girth
    Like a tape: the perimeter of the convex hull of the section of one leg by a plane
    perpendicular to that leg's axis (a line fitted through horizontal section centroids
    between ankle and knee).

Levels (whole-body scan of height H)
    ankle: minimal girth between 3% and 12% of H; calf: maximal girth between the ankle + 5 cm
    (and at least 14% of H) and 30% of H; knee: the narrowest girth above the calf up to 32% of
    H, i.e. where the leg narrows below the knee (the joint line is a few cm higher). The
    README of the test scans puts the calf at 20–22% and the ankle at 5–8% of H. A lower-leg
    scan uses the same rules in absolute heights of a 1.65 m person (ankle 5–20 cm, calf up to
    50 cm, knee up to the top of the scan).

References
----------
Drillis R, Contini R, Bluestein M (1964). Body segment parameters. Artificial Limbs 8:44-66
(segment lengths as fractions of stature: knee height 0.285 H, ankle 0.039 H).
ISO 8559-1:2017, Size designation of clothes — anthropometric definitions (girths by tape).
"""

from __future__ import annotations

import math
from dataclasses import InitVar, dataclass, field

import numpy as np
from numpy.typing import NDArray

from calfsim.domain import MEASUREMENT_LIMITS, Side
from calfsim.errors import InvalidInputError, MeshError
from calfsim.geometry._scan_section import (
    Loops,
    cut_loops,
    hull_perimeters,
    mesh_topology,
)

__all__ = [
    "LOWER_LEGS_HEIGHT_M",
    "SCAN_UNITS",
    "WHOLE_BODY_HEIGHT_M",
    "LegMeasurement",
    "LegsFound",
    "ScanMesh",
    "find_legs",
    "girth_profile_cm",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: Length units a scan file may use, with metres per unit.
SCAN_UNITS: dict[str, float] = {"m": 1.0, "dm": 0.1, "cm": 0.01, "mm": 0.001}
#: Plausible height of a standing adult; wider than the 1.4–2.1 m of adult anthropometric
#: surveys (ANSUR II) so that short and tall people pass, and still 10x apart from the next
#: range so that one unit at most fits.
WHOLE_BODY_HEIGHT_M = (1.2, 2.3)
#: Plausible height of a scan of the lower legs only (floor to above the knee, ~0.5 m).
LOWER_LEGS_HEIGHT_M = (0.3, 0.75)
#: Scans below this height are lower-leg scans (the two ranges above are far apart).
_WHOLE_BODY_MIN_M = 1.0
#: Fewer vertices than this cannot resolve a calf (a calf section alone needs ~20 points).
MIN_VERTICES = 100
#: A loop shorter than this is not a leg (adult ankle girth ≥ ~17 cm; toes and fingers are
#: shorter); ANSUR II ankle 21.6 ± 1.5 cm (women).
_MIN_LEG_LOOP_M = 0.06
#: Sections closer than this to the leg axis belong to the leg (a calf radius is ~6 cm; at the
#: foot the section centroid moves forward a few cm).
_MAX_AXIS_DISTANCE_M = 0.10
#: A calf bulge stands at least this much above the narrowing below the knee (the three test
#: scans: 1.0-2.1 cm); smaller bumps are scanner noise.
_CALF_PROMINENCE_M = 0.003
#: Sections compared to tell whether a lower-leg scan stands on its feet, and the hull-area
#: ratio of a footprint to the ankle above it (feet 2-4x; a leg cut above the ankle ~1x); the
#: same test as the feet end of ``orient_scan``.
_FOOTPRINT_LEVELS_M = np.array([0.015, 0.12])
_FOOTPRINT_RATIO = 1.5
#: Spacing of the reported girth profile (5 mm: finer than a tape is placed).
PROFILE_STEP_M = 0.005


def _frozen(values: NDArray[np.generic], dtype: type) -> NDArray[np.generic]:
    out: NDArray[np.generic] = np.array(values, dtype=dtype, copy=True)
    out.setflags(write=False)
    return out


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ScanMesh:
    """A body or lower-leg scan in the canonical frame (metres, +z up, floor at 0, left +x).

    Usually made by :func:`orient_scan` (or :func:`calfsim.io.load_scan` from a file).
    Arrays are copied and made read-only.

    Attributes
    ----------
    vertices_m : ndarray, shape (n, 3)
        Vertex positions in metres, canonical frame.
    faces : ndarray of int64, shape (m, 3)
        Triangles (vertex indices).
    source_units : str
        Units of the file: ``"m"``, ``"dm"``, ``"cm"`` or ``"mm"``.
    units_reason : str
        How the units were decided, in words.
    up_axis_reason : str
        How up (and where the feet are) was decided.
    front_reason : str
        How the front (and thus left and right) was decided, or why it could not be.
    is_front_known : bool
        True if the person's left is known to be +x.
    parts_reason : str
        Which parts of the file make the surface (e.g. one OBJ group of several).
    to_canonical : ndarray, shape (4, 4)
        Homogeneous similarity transform from file coordinates (file units) to this frame.
    is_watertight : bool
        Every edge is shared by exactly two faces (computed).
    n_components : int
        Number of connected pieces of surface (computed).
    n_open_edges : int
        Edges not shared by exactly two faces (computed).
    topology : tuple of ndarray, optional
        ``mesh_topology(faces, n)`` if already known (init only; computed when omitted).

    Raises
    ------
    MeshError
        If the arrays are malformed or there are fewer than ``MIN_VERTICES`` vertices.
    """

    vertices_m: FloatArray
    faces: IntArray
    source_units: str
    units_reason: str
    up_axis_reason: str
    front_reason: str = "front not examined"
    is_front_known: bool = False
    parts_reason: str = "all faces of the file"
    to_canonical: FloatArray = field(default_factory=lambda: np.eye(4))
    is_watertight: bool = field(init=False)
    n_components: int = field(init=False)
    n_open_edges: int = field(init=False)
    edges: IntArray = field(init=False, repr=False)
    face_edges: IntArray = field(init=False, repr=False)
    topology: InitVar[tuple[IntArray, IntArray, IntArray] | None] = None

    def __post_init__(self, topology: tuple[IntArray, IntArray, IntArray] | None) -> None:
        v = np.asarray(self.vertices_m)
        f = np.asarray(self.faces)
        _check_arrays(v, f)
        object.__setattr__(self, "vertices_m", _frozen(v, np.float64))
        object.__setattr__(self, "faces", _frozen(f, np.int64))
        object.__setattr__(self, "to_canonical", _frozen(self.to_canonical, np.float64))
        if self.source_units not in SCAN_UNITS:
            raise InvalidInputError(
                f"source_units must be one of {', '.join(SCAN_UNITS)}; got {self.source_units!r}",
                field="source_units",
            )
        if topology is None:
            topology = mesh_topology(self.faces, v.shape[0])
        edges, face_edges, counts = topology
        n_open = int(np.count_nonzero(counts != 2))
        object.__setattr__(self, "edges", _frozen(edges, np.int64))
        object.__setattr__(self, "face_edges", _frozen(face_edges, np.int64))
        object.__setattr__(self, "n_open_edges", n_open)
        object.__setattr__(self, "is_watertight", n_open == 0)
        object.__setattr__(self, "n_components", _n_components(edges, self.faces, v.shape[0]))

    @property
    def height_m(self) -> float:
        """Height of the scan above the floor (z of the highest vertex)."""
        return float(self.vertices_m[:, 2].max())

    @property
    def is_whole_body(self) -> bool:
        """True for a whole-body scan, False for a scan of the lower legs only."""
        return self.height_m >= _WHOLE_BODY_MIN_M


def _check_arrays(v: NDArray[np.generic], f: NDArray[np.generic]) -> None:
    if v.ndim != 2 or v.shape[1] != 3 or not np.issubdtype(v.dtype, np.number):
        raise MeshError(f"vertices must be an (n, 3) array of numbers; got shape {v.shape}")
    if f.ndim != 2 or f.shape[1] != 3 or not np.issubdtype(f.dtype, np.integer):
        raise MeshError(f"faces must be an (m, 3) array of integers; got shape {f.shape}")
    if v.shape[0] < MIN_VERTICES:
        raise MeshError(
            f"too few vertices to measure a leg: {v.shape[0]} (need at least {MIN_VERTICES})"
        )
    if f.shape[0] < MIN_VERTICES:
        raise MeshError(
            f"too few faces to measure a leg: {f.shape[0]} (need at least {MIN_VERTICES})"
        )
    if not np.isfinite(v).all():
        raise MeshError("vertices contain NaN or infinite coordinates")
    if f.min() < 0 or f.max() >= v.shape[0]:
        raise MeshError(f"faces refer to vertices outside 0..{v.shape[0] - 1}")


def _n_components(edges: IntArray, faces: IntArray, n_vertices: int) -> int:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix(
        (np.ones(edges.shape[0]), (edges[:, 0], edges[:, 1])), shape=(n_vertices, n_vertices)
    )
    _, labels = connected_components(graph, directed=False)
    return int(np.unique(labels[np.unique(faces)]).shape[0])


# --- shared with the orientation (calfsim.geometry._scan_orient) ----------------------------


@dataclass(frozen=True, slots=True)
class _Mesh:
    """Working copy in metres with its topology (internal)."""

    v: FloatArray
    f: IntArray
    edges: IntArray
    face_edges: IntArray

    def cut(self, normal: FloatArray, offsets: FloatArray) -> Loops:
        return cut_loops(self.v, self.f, self.edges, self.face_edges, normal, offsets)


def _leg_loops(loops: Loops, n_levels: int) -> tuple[IntArray, IntArray]:
    """Loops long enough to be a leg, and how many there are at each of the levels."""
    big = np.flatnonzero(loops.length_m >= _MIN_LEG_LOOP_M).astype(np.int64)
    return big, np.bincount(loops.level[big], minlength=n_levels).astype(np.int64)


def _core_fracs(height_m: float) -> FloatArray:
    """Heights (fractions of the scan height) where two separate legs are expected."""
    if height_m >= _WHOLE_BODY_MIN_M:
        return np.linspace(0.08, 0.25, 24)  # shin and calf: legs apart, hands higher up
    return np.linspace(0.15, 0.85, 24)


# --- legs -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class LegMeasurement:
    """Girths and levels of one leg of a scan, measured like a tape.

    Levels are heights above the floor; girths are convex-hull perimeters of the section
    perpendicular to the leg axis. Arrays are copied and made read-only.

    Attributes
    ----------
    side : Side or None
        The person's left or right leg; None when the front (or the other leg) is unknown.
    name : str
        ``"left"``/``"right"``, else ``"+x"``/``"-x"`` (side of the canonical x axis), or
        ``"single"`` when the scan shows one leg only.
    calf_girth_cm, calf_level_cm : float
        Maximal girth between ankle and knee, and its height.
    ankle_girth_cm, ankle_level_cm : float
        Minimal girth above the malleoli, and its height.
    knee_girth_cm, knee_level_cm : float or None
        Narrowest girth above the calf (just below the knee joint line), and its height; None
        when the scan ends before the leg narrows again (lower-leg scans).
    lower_leg_length_cm : float or None
        ``knee_level_cm - ankle_level_cm``: between the two narrowings, a few cm shorter than
        the anthropometric knee-joint-line-to-malleolus length.
    profile_heights_cm : ndarray, shape (k,)
        Heights of the profile (every 5 mm) above the floor, where the plane meets the axis.
    profile_girths_cm : ndarray, shape (k,)
        Girth at each height; NaN where the section does not close (holes in the surface).
    axis_point_m : ndarray, shape (3,)
        Where the leg axis meets the floor plane z = 0 (canonical frame).
    axis_direction : ndarray, shape (3,)
        Unit vector along the leg axis, pointing up.
    n_open_levels : int
        Profile levels left out because the section did not close.
    """

    side: Side | None
    name: str
    calf_girth_cm: float
    calf_level_cm: float
    ankle_girth_cm: float
    ankle_level_cm: float
    knee_girth_cm: float | None
    knee_level_cm: float | None
    lower_leg_length_cm: float | None
    profile_heights_cm: FloatArray
    profile_girths_cm: FloatArray
    axis_point_m: FloatArray
    axis_direction: FloatArray
    n_open_levels: int = 0

    def __post_init__(self) -> None:
        for name in ("profile_heights_cm", "profile_girths_cm", "axis_point_m", "axis_direction"):
            object.__setattr__(self, name, _frozen(getattr(self, name), np.float64))

    def axis_point_at(self, height_m: float) -> FloatArray:
        """Point of the leg axis at ``height_m`` above the floor, shape (3,)."""
        d = self.axis_direction
        return np.asarray(self.axis_point_m + d * (height_m / d[2]), dtype=np.float64)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class LegsFound:
    """Both legs of a scan (or the one leg of a single-leg scan), with how they were named.

    Attributes
    ----------
    legs : tuple of LegMeasurement
        Two legs (``+x`` side first, i.e. the left leg when the front is known), or one.
    orientation_reason : str
        How front, left and right were decided, in words.
    warnings : tuple of str
        Things the reader must know (holes in the surface, single leg, ...).
    height_m : float
        Height of the scan above the floor.
    is_whole_body : bool
        True for a whole-body scan, False for a lower-leg scan.
    """

    legs: tuple[LegMeasurement, ...]
    orientation_reason: str
    warnings: tuple[str, ...] = ()
    height_m: float
    is_whole_body: bool

    def leg(self, side: Side) -> LegMeasurement:
        """Return the leg on ``side``.

        Raises
        ------
        LookupError
            If no leg was named ``side`` (front unknown, or a single leg).
        """
        for leg in self.legs:
            if leg.side is side:
                return leg
        raise LookupError(f"no {side.value} leg: {self.orientation_reason}")


def _fit_axis(centroids: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Line through centroids: (point at the floor z = 0, unit direction with z > 0)."""
    c0 = centroids.mean(axis=0)
    if centroids.shape[0] < 3:
        d = np.array([0.0, 0.0, 1.0])
    else:
        _, _, vt = np.linalg.svd(centroids - c0, full_matrices=False)
        d = vt[0] * (1.0 if vt[0][2] >= 0 else -1.0)
        if d[2] < 0.5:  # more than 60° from vertical: not a standing leg; measure horizontally
            d = np.array([0.0, 0.0, 1.0])
    return c0 - d * (c0[2] / d[2]), d


def _axis_girths_m(
    scan: ScanMesh, point_m: FloatArray, direction: FloatArray, heights_m: FloatArray
) -> tuple[FloatArray, NDArray[np.bool_]]:
    """Tape girth (m) perpendicular to an axis at each height; NaN where it does not close."""
    mesh = _Mesh(scan.vertices_m, scan.faces, scan.edges, scan.face_edges)
    d = direction / np.linalg.norm(direction)
    on_axis = point_m[None, :] + np.outer(heights_m / d[2], d)
    loops = mesh.cut(d, on_axis @ d)
    out = np.full(heights_m.shape[0], np.nan)
    if len(loops) == 0:
        return out, np.zeros(heights_m.shape[0], np.bool_)
    dist = np.linalg.norm(loops.centroid_m - on_axis[loops.level], axis=1)
    near = np.flatnonzero(dist <= _MAX_AXIS_DISTANCE_M)
    near = near[np.lexsort((dist[near], loops.level[near]))]
    first = near[np.r_[True, np.diff(loops.level[near]) != 0]] if near.size else near
    closed = first[loops.is_closed[first]]
    out[loops.level[closed]] = hull_perimeters(loops, closed, d)
    is_open = np.zeros(heights_m.shape[0], np.bool_)
    is_open[loops.level[first[~loops.is_closed[first]]]] = True
    return out, is_open


def girth_profile_cm(scan: ScanMesh, leg: LegMeasurement, heights_m: FloatArray) -> FloatArray:
    """Girth of one leg at given heights, measured perpendicular to its axis like a tape.

    Parameters
    ----------
    scan : ScanMesh
        The scan the leg was found on.
    leg : LegMeasurement
        The leg (its axis selects the section loop).
    heights_m : array_like, shape (k,)
        Heights above the floor where the planes meet the leg axis, strictly increasing.

    Returns
    -------
    ndarray, shape (k,)
        Convex-hull perimeter of the section in cm; NaN where the section does not close.

    Raises
    ------
    InvalidInputError
        If ``heights_m`` is not a strictly increasing 1-D array of finite numbers.
    """
    h = np.asarray(heights_m, dtype=np.float64)
    if h.ndim != 1 or not np.isfinite(h).all() or np.any(np.diff(h) <= 0):
        raise InvalidInputError(
            "heights_m must be a strictly increasing 1-D array of finite heights in m",
            field="heights_m",
        )
    girth_m, _ = _axis_girths_m(scan, leg.axis_point_m, leg.axis_direction, h)
    return girth_m * 100.0


@dataclass(frozen=True, slots=True, kw_only=True)
class _Windows:
    ankle: tuple[float, float]
    calf_top: float
    calf_fallback_top: float
    calf_min: float
    knee_top: float
    profile: tuple[float, float]


def _windows(height_m: float) -> _Windows:
    if height_m >= _WHOLE_BODY_MIN_M:
        h = height_m
        return _Windows(
            ankle=(0.03 * h, 0.12 * h),
            calf_top=0.30 * h,
            calf_fallback_top=0.26 * h,
            calf_min=0.14 * h,
            knee_top=0.32 * h,
            profile=(0.02 * h, 0.35 * h),
        )
    # Lower-leg scan: absolute heights of a 1.65 m person (same fractions as above).
    top = height_m - 0.01
    return _Windows(
        ankle=(0.05, 0.20),
        calf_top=min(0.50, top),
        calf_fallback_top=min(0.43, top),
        calf_min=0.0,
        knee_top=top,
        profile=(0.02, top),
    )


def _pick(values: FloatArray, heights: FloatArray, lo: float, hi: float, *, largest: bool) -> int:
    """Index of the smallest (largest) finite value with lo <= height <= hi, or -1."""
    idx = np.flatnonzero((heights >= lo) & (heights <= hi) & np.isfinite(values))
    if idx.size == 0:
        return -1
    sub = values[idx]
    return int(idx[int(np.argmax(sub) if largest else np.argmin(sub))])


def _calf_index(
    girth_m: FloatArray, heights: FloatArray, lo: float, hi: float, fallback_hi: float
) -> int:
    """Index of the calf bulge: the largest prominent peak of girth in [lo, hi], else -1.

    Above the calf the leg narrows below the knee and then widens into the thigh, so the
    plain maximum up to 30% of the height can be the thigh; the calf is a *peak* (prominence
    at least ``_CALF_PROMINENCE_M``). A leg without a bulge (a cone) falls back to the maximum
    in [lo, fallback_hi].
    """
    idx = np.flatnonzero((heights >= lo) & (heights <= hi) & np.isfinite(girth_m))
    peaks = _prominent_peaks(girth_m[idx], _CALF_PROMINENCE_M)
    if peaks.size:
        return int(idx[peaks[int(np.argmax(girth_m[idx][peaks]))]])
    return _pick(girth_m, heights, lo, fallback_hi, largest=True)


def _prominent_peaks(values: FloatArray, min_prominence: float) -> IntArray:
    """Return the interior local maxima whose prominence is at least ``min_prominence``.

    Prominence as in topography (and ``scipy.signal.peak_prominences``): the height of the
    peak above the higher of the two lowest points that separate it from higher ground on
    each side (or from the ends of the profile).
    """
    n = values.size
    if n < 3:
        return np.zeros(0, np.int64)
    inner = np.arange(1, n - 1)
    is_peak = (values[inner] > values[inner - 1]) & (values[inner] >= values[inner + 1])
    out = []
    for i in inner[is_peak]:
        left = values[:i][::-1]
        right = values[i + 1 :]
        bases = []
        for side in (left, right):
            higher = np.flatnonzero(side > values[i])
            stop = int(higher[0]) if higher.size else side.size
            bases.append(float(side[:stop].min()) if stop else float(values[i]))
        if values[i] - max(bases) >= min_prominence:
            out.append(int(i))
    return np.asarray(out, dtype=np.int64)


def _ranges_cm(heights_m: FloatArray) -> str:
    """'31.0–37.5, 52.0' for sorted heights on the profile grid (m)."""
    gaps = np.flatnonzero(np.diff(heights_m) > 1.5 * PROFILE_STEP_M)
    starts = np.r_[0, gaps + 1]
    ends = np.r_[gaps, heights_m.size - 1]
    return ", ".join(
        f"{100 * heights_m[a]:.1f}"
        if a == b
        else f"{100 * heights_m[a]:.1f}–{100 * heights_m[b]:.1f}"
        for a, b in zip(starts, ends, strict=True)
    )


def _measure_leg(
    scan: ScanMesh, centroids: FloatArray, side: Side | None, name: str, notes: list[str]
) -> LegMeasurement:
    point, direction = _fit_axis(centroids)
    win = _windows(scan.height_m)
    first = math.ceil(win.profile[0] / PROFILE_STEP_M) * PROFILE_STEP_M  # on a 5 mm grid
    heights = np.arange(first, win.profile[1], PROFILE_STEP_M)
    girth_m, is_open = _axis_girths_m(scan, point, direction, heights)
    n_open = int(np.count_nonzero(is_open))
    holes = "" if scan.is_watertight else " (the surface has holes there)"
    i_ankle = _pick(girth_m, heights, *win.ankle, largest=False)
    if i_ankle < 0:
        raise MeshError(
            f"{name} leg: no closed section between {100 * win.ankle[0]:.0f} and "
            f"{100 * win.ankle[1]:.0f} cm above the floor to measure the ankle{holes}"
        )
    calf_lo = max(heights[i_ankle] + 0.05, win.calf_min)
    i_calf = _calf_index(girth_m, heights, calf_lo, win.calf_top, win.calf_fallback_top)
    if i_calf < 0:
        raise MeshError(
            f"{name} leg: no closed section between {100 * calf_lo:.0f} and "
            f"{100 * win.calf_top:.0f} cm above the floor to measure the calf{holes}"
        )
    calf_cm = 100 * float(girth_m[i_calf])
    low, high, _unit = MEASUREMENT_LIMITS["calf_girth_cm"]
    if not low <= calf_cm <= high:
        raise MeshError(
            f"{name} leg: not a human leg: its calf girth would be {calf_cm:.1f} cm at "
            f"{100 * heights[i_calf]:.1f} cm above the floor, and a calf girth must be in "
            f"[{low:g}, {high:g}] cm (are the units right?)"
        )
    knee_lo = heights[i_calf] + 0.01
    i_knee = _pick(girth_m, heights, knee_lo, win.knee_top, largest=False)
    knee_girth = knee_level = length = None
    is_narrowing = (
        i_knee >= 0
        and knee_lo + PROFILE_STEP_M < heights[i_knee] < win.knee_top - PROFILE_STEP_M
        and girth_m[i_knee] < girth_m[i_calf]
    )
    if not is_narrowing:
        notes.append(
            f"{name} leg: the leg does not narrow again between the calf and "
            f"{100 * win.knee_top:.0f} cm, so no knee level is reported"
        )
    else:
        knee_girth = 100 * float(girth_m[i_knee])
        knee_level = 100 * float(heights[i_knee])
        length = knee_level - 100 * float(heights[i_ankle])
    if n_open:
        notes.append(
            f"{name} leg: {n_open} of {heights.size} profile sections do not close and are left "
            f"out ({_ranges_cm(heights[is_open])} cm above the floor); a girth level next to "
            "such a gap may be off"
        )
    return LegMeasurement(
        side=side,
        name=name,
        calf_girth_cm=calf_cm,
        calf_level_cm=100 * float(heights[i_calf]),
        ankle_girth_cm=100 * float(girth_m[i_ankle]),
        ankle_level_cm=100 * float(heights[i_ankle]),
        knee_girth_cm=knee_girth,
        knee_level_cm=knee_level,
        lower_leg_length_cm=length,
        profile_heights_cm=100 * heights,
        profile_girths_cm=100 * girth_m,
        axis_point_m=point,
        axis_direction=direction,
        n_open_levels=n_open,
    )


def _footprint_ratio(mesh: _Mesh) -> float:
    """Hull area of all sections 1.5 cm above the floor over that 12 cm up (feet: 2-4)."""
    from scipy.spatial import ConvexHull, QhullError

    loops = mesh.cut(np.array([0.0, 0.0, 1.0]), _FOOTPRINT_LEVELS_M)
    areas = []
    for level in range(_FOOTPRINT_LEVELS_M.size):
        idx = np.flatnonzero(loops.level == level)
        if idx.size == 0:
            return math.nan
        points = np.concatenate([loops.points(int(i))[:, :2] for i in idx])
        try:
            areas.append(float(ConvexHull(points).volume))  # in 2D, the "volume" is the area
        except QhullError:
            return math.nan
    return areas[0] / areas[1] if areas[1] > 0 else math.nan


def find_legs(scan: ScanMesh) -> LegsFound:
    """Find both legs of a scan and measure their ankle, calf and knee girths.

    Horizontal sections between the shin and the knee must show two loops (the legs); each
    leg's axis is the line through its section centroids, and its girth profile is measured
    perpendicular to that axis (see the module docstring for the levels).

    Parameters
    ----------
    scan : ScanMesh
        A scan in the canonical frame (from :func:`orient_scan` or ``calfsim.io.load_scan``).

    Returns
    -------
    LegsFound
        Two legs (+x first), or one leg with ``side=None`` for a single-leg lower-leg scan;
        with the orientation reasoning and warnings (holes, single leg, ...).

    Raises
    ------
    MeshError
        If no legs are found (one loop where two legs should be, or none at all), a leg has
        no closed section at the ankle or calf levels, or its calf girth is outside the human
        range of ``calfsim.domain.MEASUREMENT_LIMITS`` (a sphere, a pillar, wrong units).

    Examples
    --------
    >>> import trimesh
    >>> from calfsim.io import load_scan
    >>> legs = find_legs(load_scan("scan.obj"))  # doctest: +SKIP
    >>> [round(leg.calf_girth_cm, 1) for leg in legs.legs]  # doctest: +SKIP
    [37.3, 38.0]
    """
    height = scan.height_m
    fracs = _core_fracs(height)
    mesh = _Mesh(scan.vertices_m, scan.faces, scan.edges, scan.face_edges)
    loops = mesh.cut(np.array([0.0, 0.0, 1.0]), fracs * height)
    big, counts = _leg_loops(loops, fracs.size)
    span = f"between {100 * fracs[0] * height:.0f} and {100 * fracs[-1] * height:.0f} cm"
    holes = (
        ""
        if scan.is_watertight
        else f" (the surface is not watertight: {scan.n_open_edges} open edges)"
    )
    notes: list[str] = []
    if not scan.is_watertight:
        notes.append(
            f"the scan is not watertight ({scan.n_open_edges} open edges): girths are measured "
            "only where a section closes"
        )
    if not scan.is_whole_body:
        ratio = _footprint_ratio(mesh)
        if not ratio >= _FOOTPRINT_RATIO:  # also NaN: nothing to compare
            notes.append(
                "no feet at the bottom of this lower-leg scan (the section 1.5 cm above its "
                f"lowest point has {ratio:.2f}x the hull area of the one 12 cm up; a footprint "
                f"has {_FOOTPRINT_RATIO:g}x or more): levels are heights above its lowest point, "
                "not the floor, and the calf window (up to 50 cm) may reach above the knee"
            )
    if np.mean(counts == 2) >= 0.5:
        levels = np.flatnonzero(counts == 2)
        keep = big[np.isin(loops.level[big], levels)]
        keep = keep[np.lexsort((loops.centroid_m[keep, 0], loops.level[keep]))]
        pairs = keep.reshape(-1, 2)  # per level: the -x loop, then the +x loop
        closed = loops.is_closed[pairs].all(axis=1)
        if np.count_nonzero(closed) >= 3:
            pairs = pairs[closed]
        known = scan.is_front_known
        legs = []
        for column, sign in ((1, "+x"), (0, "-x")):
            side = (Side.LEFT if column == 1 else Side.RIGHT) if known else None
            name = side.value if side is not None else sign
            legs.append(_measure_leg(scan, loops.centroid_m[pairs[:, column]], side, name, notes))
        naming = (
            "the leg at +x is the person's left"
            if known
            else "left and right are unknown, so the legs are named by their x side (+x, -x)"
        )
        return LegsFound(
            legs=tuple(legs),
            orientation_reason=f"{scan.front_reason}; {naming}",
            warnings=tuple(notes),
            height_m=height,
            is_whole_body=scan.is_whole_body,
        )
    if not np.any(counts):
        raise MeshError(
            f"no legs found: no section {span} above the floor has a loop of at least "
            f"{100 * _MIN_LEG_LOOP_M:.0f} cm{holes}"
        )
    if scan.is_whole_body or np.mean(counts == 1) < 0.5:
        shown = int(np.bincount(counts).argmax())
        raise MeshError(
            f"found one leg / legs not separated: the sections {span} above the floor show "
            f"{shown} loop{'s' if shown != 1 else ''} where two legs should be; scan both legs "
            f"standing with feet apart{holes}"
        )
    levels = np.flatnonzero(counts == 1)
    keep = big[np.isin(loops.level[big], levels)]
    notes.append(
        "only one leg was found (a lower-leg scan of a single leg): it is reported with its "
        "side unknown"
    )
    leg = _measure_leg(scan, loops.centroid_m[keep], None, "single", notes)
    return LegsFound(
        legs=(leg,),
        orientation_reason=f"{scan.front_reason}; a single leg cannot be named left or right",
        warnings=tuple(notes),
        height_m=height,
        is_whole_body=scan.is_whole_body,
    )
