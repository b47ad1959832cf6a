"""Units and orientation of a raw scan: which unit, which way is up, where the feet and front are.

:func:`orient_scan` turns a file's vertices (any units, any axes) into a
:class:`~calfsim.geometry.ScanMesh` in the canonical frame and says in words how each
decision was made:

Units
    The up extent must be a standing person (``WHOLE_BODY_HEIGHT_M``, 1.2–2.3 m) or a lower-leg
    scan (``LOWER_LEGS_HEIGHT_M``, 0.3–0.75 m). The ranges stay apart after a factor of 10, so
    at most one of m/dm/cm/mm fits.
Up
    The longest axis, unless it shows no legs and a shorter one does (T-pose arms). Its sign:
    on a whole body, two section loops (the legs) appear between 8% and 25% of the height from
    the feet and not from the head. When both or neither end shows two loops (lower-leg scans,
    a single leg), the feet end is the one whose section 1.5 cm in has a much larger hull area
    than the section 12 cm in (a footprint is 2–4 times the ankle; a knee or thigh about 1).
Front
    Toes point forward: the feet reach further ahead of the ankle centres than behind them
    (~17 cm vs ~6 cm). Then the person's left is +x and the person faces -y; otherwise the
    sign of x is arbitrary and the legs are named by their x side.

Each decision needs one set of parallel sections along a candidate axis, all cut in one
vectorised pass (:func:`calfsim.geometry._scan_section.cut_loops`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from calfsim.errors import InvalidInputError, MeshError
from calfsim.geometry._measure import (
    _WHOLE_BODY_MIN_M,
    LOWER_LEGS_HEIGHT_M,
    SCAN_UNITS,
    WHOLE_BODY_HEIGHT_M,
    FloatArray,
    IntArray,
    ScanMesh,
    _check_arrays,
    _core_fracs,
    _leg_loops,
    _Mesh,
)
from calfsim.geometry._scan_section import Loops, mesh_topology

__all__ = ["orient_scan"]

#: Toes reach at least this many times further ahead of the ankle than the heel behind it
#: (foot ~24 cm: ~17 cm ahead of the malleoli, ~6 cm behind); below it front is undecided.
_TOE_HEEL_RATIO = 1.4
#: Footprint / ankle-section hull-area ratio that marks the feet end (feet ~2-4, knee ~1).
_FOOT_AREA_RATIO = 1.5
#: ... and it must beat the other end by this factor (a clear asymmetry, not noise).
_FOOT_END_MARGIN = 1.3
#: Heights of the footprint and ankle sections compared to find the feet end.
_FOOT_LEVELS_M = np.array([0.015, 0.12])
_AXES = ("x", "y", "z")


# --- units ----------------------------------------------------------------------------------


def _fmt_m(x: float) -> str:
    return f"{x:.3g} m" if x < 1000 else f"{x:,.0f} m"


def _kind_of_height(height_m: float) -> str | None:
    if WHOLE_BODY_HEIGHT_M[0] <= height_m <= WHOLE_BODY_HEIGHT_M[1]:
        return "a standing person"
    if LOWER_LEGS_HEIGHT_M[0] <= height_m <= LOWER_LEGS_HEIGHT_M[1]:
        return "a lower-leg scan"
    return None


def _ranges_text() -> str:
    w, legs = WHOLE_BODY_HEIGHT_M, LOWER_LEGS_HEIGHT_M
    return (
        f"a standing person is {w[0]:g}–{w[1]:g} m tall and a scan of the lower legs "
        f"{legs[0]:g}–{legs[1]:g} m"
    )


def _guess_units(extent: float) -> str | None:
    for unit, factor in SCAN_UNITS.items():
        if _kind_of_height(extent * factor) is not None:
            return unit
    return None


def _decide_units(
    extent: float, axis_name: str, units: str | None, source: str
) -> tuple[str, float, str]:
    """Return (unit, metres per unit, reason) for a scan whose up extent is ``extent``."""
    if units is not None:
        if units not in SCAN_UNITS:
            raise InvalidInputError(
                f"units must be one of {', '.join(SCAN_UNITS)}; got {units!r}", field="units"
            )
        height = extent * SCAN_UNITS[units]
        if not LOWER_LEGS_HEIGHT_M[0] <= height <= WHOLE_BODY_HEIGHT_M[1]:
            guess = _guess_units(extent)
            hint = f"; from its size the file looks like it is in {guess}" if guess else ""
            raise InvalidInputError(
                f"units={units!r} makes {source} {_fmt_m(height)} tall along its longest axis "
                f"({axis_name}, {extent:g} file units), but {_ranges_text()}{hint}",
                field="units",
            )
        return (
            units,
            SCAN_UNITS[units],
            f"units given as {units!r}: the scan is {height:.3g} m tall along {axis_name}",
        )
    options = {u: extent * f for u, f in SCAN_UNITS.items()}
    for unit, height in options.items():
        kind = _kind_of_height(height)
        if kind is not None:
            others = ", ".join(f"{_fmt_m(h)} in {u}" for u, h in options.items() if u != unit)
            return (
                unit,
                SCAN_UNITS[unit],
                f"the longest axis ({axis_name}) spans {extent:.4g} file units: in {unit} that "
                f"is {height:.3g} m, {kind} ({_ranges_text()}); it would be {others}",
            )
    listing = ", ".join(f"{_fmt_m(h)} in {u}" for u, h in options.items())
    raise MeshError(
        f"cannot recognise the units of {source}: its longest axis ({axis_name}) spans "
        f"{extent:.4g} file units ({listing}) and none of these is a plausible size "
        f"({_ranges_text()}); give the units explicitly (m, dm, cm or mm)"
    )


# --- sections along a candidate axis ----------------------------------------------------------


def _direction_name(vector: FloatArray) -> str:
    """'+y' for a vector along a file axis, else its rounded components."""
    i = int(np.argmax(np.abs(vector)))
    if abs(vector[i]) > 0.95:
        return ("+" if vector[i] > 0 else "-") + _AXES[i]
    return "(" + ", ".join(f"{c:+.2f}" for c in vector) + ")"


class _AxisSections:
    """Sections perpendicular to one file axis at named groups of levels, cut in one pass."""

    def __init__(self, mesh: _Mesh, axis: int) -> None:
        self.axis = axis
        self.normal = np.eye(3)[axis]
        coordinate = mesh.v[:, axis]
        self.lo = float(coordinate.min())
        self.hi = float(coordinate.max())
        self.height = self.hi - self.lo
        h = self.height
        ankle = 0.07 * h if h >= _WHOLE_BODY_MIN_M else 0.10
        per_end = {
            "core": _core_fracs(h) * h,
            "foot": _FOOT_LEVELS_M[_FOOT_LEVELS_M < 0.5 * h],
            "ankle": np.array([ankle]),
        }
        groups = {}
        for key, levels in per_end.items():
            groups[f"lo_{key}"] = self.lo + levels
            groups[f"hi_{key}"] = self.hi - levels
        offsets = np.unique(np.concatenate(list(groups.values())))
        self.loops: Loops = mesh.cut(self.normal, offsets)
        self.big, self.counts = _leg_loops(self.loops, offsets.size)
        self.groups: dict[str, IntArray] = {
            k: np.searchsorted(offsets, v).astype(np.int64) for k, v in groups.items()
        }

    def two_leg_share(self, end: str) -> float:
        """Share of the core levels from ``end`` ('lo'/'hi') with exactly two leg loops."""
        return float(np.mean(self.counts[self.groups[f"{end}_core"]] == 2))

    def foot_ratio(self, end: str) -> float:
        """Hull area of the section 1.5 cm in from ``end`` over that 12 cm in (feet ~2-4)."""
        levels = self.groups[f"{end}_foot"]
        if levels.size < 2:
            return math.nan
        basis = np.delete(np.eye(3), self.axis, axis=0)
        areas = []
        for level in levels:
            idx = np.flatnonzero(self.loops.level == level)
            pts = [self.loops.points(int(i)) for i in idx]
            flat = np.concatenate(pts) @ basis.T if pts else np.zeros((0, 2))
            areas.append(_hull_area(flat))
        return areas[0] / areas[1] if areas[1] > 0 else math.nan

    def leg_pairs(self, end: str) -> IntArray:
        """Loop indices (k, 2) at the core levels from ``end`` that show exactly two legs."""
        levels = self.groups[f"{end}_core"]
        two = levels[self.counts[levels] == 2]
        keep = self.big[np.isin(self.loops.level[self.big], two)]
        keep = keep[np.argsort(self.loops.level[keep], kind="stable")]
        return keep.reshape(-1, 2)

    def leg_centroids(self, end: str) -> FloatArray:
        """Centroids of every leg-sized loop at the core levels from ``end``."""
        levels = self.groups[f"{end}_core"]
        keep = self.big[np.isin(self.loops.level[self.big], levels)]
        return self.loops.centroid_m[keep]

    def ankle_centroids(self, end: str) -> FloatArray:
        """Centroids of the (at most two) largest loops at ankle height from ``end``."""
        level = self.groups[f"{end}_ankle"][0]
        idx = self.big[self.loops.level[self.big] == level]
        idx = idx[np.argsort(-self.loops.length_m[idx])][:2]
        return np.asarray(self.loops.centroid_m[idx], dtype=np.float64)


def _hull_area(points_2d: FloatArray) -> float:
    from scipy.spatial import ConvexHull, QhullError

    if points_2d.shape[0] < 3:
        return math.nan
    try:
        return float(ConvexHull(points_2d).volume)  # in 2D, qhull's "volume" is the area
    except QhullError:
        return math.nan


@dataclass(frozen=True, slots=True)
class _Up:
    """An up-axis candidate: the axis, the sign (+1: feet at its low end) and why."""

    priority: int  # 0 best: legs at one end of a whole body; 3: a guess
    sections: _AxisSections
    sign: float
    unit: str
    factor: float
    units_reason: str
    reason: str

    @property
    def feet_end(self) -> str:
        return "lo" if self.sign > 0 else "hi"


def _evaluate_axis(sections: _AxisSections, unit: str, factor: float, units_reason: str) -> _Up:
    name = _AXES[sections.axis]
    h = sections.height
    fracs = _core_fracs(h)
    share_lo = sections.two_leg_share("lo")
    share_hi = sections.two_leg_share("hi")
    legs_text = (
        f"two separate leg loops appear in {share_lo:.0%} of the sections at {fracs[0]:.0%}–"
        f"{fracs[-1]:.0%} of the height from its -{name} end and {share_hi:.0%} from its "
        f"+{name} end"
    )
    whole = h >= _WHOLE_BODY_MIN_M
    if whole and max(share_lo, share_hi) >= 0.5 and abs(share_lo - share_hi) >= 0.25:
        sign = 1.0 if share_lo > share_hi else -1.0
        feet = f"-{name}" if sign > 0 else f"+{name}"
        reason = f"{legs_text}, so the feet are at the {feet} end"
        return _Up(0, sections, sign, unit, factor, units_reason, reason)
    has_two = max(share_lo, share_hi) >= 0.5
    ratio_lo = sections.foot_ratio("lo")
    ratio_hi = sections.foot_ratio("hi")
    feet_text = (
        f"the section 1.5 cm in from the -{name} end has {ratio_lo:.2f}x the hull area of the "
        f"one 12 cm in, and {ratio_hi:.2f}x at the +{name} end (a footprint is 2-4x the ankle)"
    )
    sign = 0.0
    if ratio_lo >= _FOOT_AREA_RATIO and not ratio_hi * _FOOT_END_MARGIN > ratio_lo:
        sign = 1.0
    elif ratio_hi >= _FOOT_AREA_RATIO and not ratio_lo * _FOOT_END_MARGIN > ratio_hi:
        sign = -1.0
    if sign != 0.0 and (has_two or not whole):
        feet = f"-{name}" if sign > 0 else f"+{name}"
        reason = f"{legs_text}; {feet_text}, so the feet are at the {feet} end"
        return _Up(1 if has_two else 2, sections, sign, unit, factor, units_reason, reason)
    if sign == 0.0:
        sign = 1.0
        feet_text += f"; the feet end is undecided, +{name} is assumed up as in the file"
    feet = f"-{name}" if sign > 0 else f"+{name}"
    reason = f"no two legs found: {legs_text}; {feet_text}; feet taken at the {feet} end"
    return _Up(3, sections, sign, unit, factor, units_reason, reason)


def _decide_up(
    v_file: FloatArray,
    f: IntArray,
    topology: tuple[IntArray, IntArray],
    units: str | None,
    source: str,
) -> _Up:
    """Choose the up axis, its sign and the units (see the module docstring)."""
    extent = v_file.max(axis=0) - v_file.min(axis=0)
    order = [int(i) for i in np.argsort(-extent, kind="stable")]
    first_error: MeshError | InvalidInputError | None = None
    candidates: list[_Up] = []
    # A scan has one unit. The longest axis of a person (height, or an arm span close to it)
    # sets it when it can; other axes are then candidates only if that unit makes them a
    # plausible height too (a lower leg's 13 cm width is not a 1.3 m person in dm).
    common: tuple[str, float, str] | None = None
    try:
        common = _decide_units(float(extent[order[0]]), _AXES[order[0]], units, source)
    except (MeshError, InvalidInputError) as exc:
        first_error = exc
    for axis in order:
        if common is not None:
            unit, factor, units_reason = common
            if axis != order[0] and _kind_of_height(float(extent[axis]) * factor) is None:
                continue
        else:
            try:
                unit, factor, units_reason = _decide_units(
                    float(extent[axis]), _AXES[axis], units, source
                )
            except (MeshError, InvalidInputError) as exc:
                first_error = first_error or exc
                continue
        sections = _AxisSections(_Mesh(v_file * factor, f, *topology), axis)
        candidate = _evaluate_axis(sections, unit, factor, units_reason)
        if candidate.priority == 0:
            candidates = [candidate]
            break
        candidates.append(candidate)
    if not candidates:
        if first_error is None:  # pragma: no cover - each axis either fails or is a candidate
            raise MeshError(f"cannot orient {source}")
        raise first_error
    best = min(candidates, key=lambda c: c.priority)  # min() keeps the longest axis on ties
    name = _AXES[best.sections.axis]
    which = (
        f"the longest axis ({name}, {best.sections.height:.2f} m)"
        if best.sections.axis == order[0]
        else f"axis {name} ({best.sections.height:.2f} m), not the longest, which shows no legs"
    )
    return _Up(
        best.priority,
        best.sections,
        best.sign,
        best.unit,
        best.factor,
        best.units_reason,
        f"up is {which}: {best.reason}",
    )


# --- front ----------------------------------------------------------------------------------


def _decide_front(
    foot_pts: FloatArray, ankles: FloatArray, x0: FloatArray, y0: FloatArray
) -> tuple[str, FloatArray | None]:
    """Front from the feet: toes reach further ahead of the ankle than the heel behind it."""
    if foot_pts.shape[0] < 3 or ankles.shape[0] == 0:
        return (
            "front/back undecided: no feet and ankles found at the floor; legs are named by "
            "their x side (side names assumed unknown)",
            None,
        )
    xy = np.column_stack([foot_pts @ x0, foot_pts @ y0])
    ankles_xy = np.column_stack([ankles @ x0, ankles @ y0])
    owner = np.argmin(np.linalg.norm(xy[:, None, :] - ankles_xy[None, :, :], axis=2), axis=1)
    ahead = 0.0
    behind = 0.0
    for k in range(ankles_xy.shape[0]):
        y = xy[owner == k, 1] - ankles_xy[k, 1]
        if y.size:
            ahead += max(float(y.max()), 0.0)
            behind += max(float(-y.min()), 0.0)
    n = ankles_xy.shape[0]
    detail = (
        f"the feet reach {100 * ahead / n:.1f} cm toward {_direction_name(y0)} of the file "
        f"beyond the ankle centres and {100 * behind / n:.1f} cm toward {_direction_name(-y0)}"
    )
    if ahead >= _TOE_HEEL_RATIO * behind and ahead > 0:
        front = y0
    elif behind >= _TOE_HEEL_RATIO * ahead and behind > 0:
        front = -y0
    else:
        return (
            f"front/back undecided: {detail} (toes should reach at least {_TOE_HEEL_RATIO}x "
            "further than heels); legs are named by their x side (side names assumed unknown)",
            None,
        )
    return (
        f"the person faces {_direction_name(front)} of the file: {detail}, and toes point "
        "forward; so the person's left is +x (canonical frame: +z up, facing -y)",
        front,
    )


def _side_axis(up_choice: _Up, up: FloatArray, foot_pts: FloatArray, v: FloatArray) -> FloatArray:
    """Horizontal unit vector joining the legs (or across the foot of a single leg)."""
    end = up_choice.feet_end
    pairs = up_choice.sections.leg_pairs(end)
    if pairs.shape[0]:
        c = up_choice.sections.loops.centroid_m
        diff = c[pairs[:, 1]] - c[pairs[:, 0]]
        diff *= np.sign(diff @ diff[0])[:, None]
        mean = diff.mean(axis=0)
        mean -= (mean @ up) * up
        return np.asarray(mean / np.linalg.norm(mean), dtype=np.float64)
    flat = foot_pts - np.outer(foot_pts @ up, up)
    if flat.shape[0] >= 3:  # one leg: x across the foot, so that y runs along it
        _, _, vt = np.linalg.svd(flat - flat.mean(axis=0), full_matrices=False)
        along = vt[0] - (vt[0] @ up) * up
        if np.linalg.norm(along) > 1e-9:
            return np.cross(along / np.linalg.norm(along), up)
    extent = v.max(axis=0) - v.min(axis=0)
    others = [int(i) for i in np.argsort(-extent) if i != up_choice.sections.axis]
    return np.asarray(np.eye(3)[others[0]], dtype=np.float64)


def orient_scan(
    vertices: FloatArray,
    faces: IntArray,
    *,
    units: str | None = None,
    source: str = "the scan",
    parts_reason: str = "all faces of the file",
) -> ScanMesh:
    """Recognise units, up, feet, legs and front of a scan and move it to the canonical frame.

    Parameters
    ----------
    vertices : ndarray, shape (n, 3)
        Vertex positions in the file's units and axes. Vertices shared by faces must already
        be merged (a surface whose faces share no edge cannot be cut into loops).
    faces : ndarray of int, shape (m, 3)
        Triangles. Degenerate triangles (a repeated vertex) are dropped.
    units : {"m", "dm", "cm", "mm"}, optional
        Units of ``vertices``; recognised from the size of the body when omitted.
    source : str, optional
        Name of the scan for messages (e.g. the file name).
    parts_reason : str, optional
        Which parts of the file the arrays hold, stored on the result.

    Returns
    -------
    ScanMesh
        In metres, +z up, floor at z = 0, x joining the legs, the person's left on +x when the
        front is known; the reasons for each decision are in its ``*_reason`` fields.

    Raises
    ------
    MeshError
        If the arrays are malformed or too small, the vertices are not merged, or no unit
        makes the scan a plausible size.
    InvalidInputError
        If ``units`` is not one of the accepted names or makes the scan implausibly sized
        (the message gives the resulting height).

    Examples
    --------
    A vertical cylinder 50 cm tall and 12 cm wide, in millimetres (a one-leg "scan"):

    >>> import trimesh
    >>> leg = trimesh.creation.cylinder(radius=60, height=500, sections=64)
    >>> scan = orient_scan(leg.vertices, leg.faces)
    >>> scan.source_units, round(scan.height_m, 3)
    ('mm', 0.5)
    """
    v_file = np.asarray(vertices, dtype=np.float64)
    f_in = np.asarray(faces)
    _check_arrays(v_file, f_in)
    f = f_in.astype(np.int64)
    f = f[(f[:, 0] != f[:, 1]) & (f[:, 1] != f[:, 2]) & (f[:, 2] != f[:, 0])]
    used = np.zeros(v_file.shape[0], np.bool_)
    used[f.ravel()] = True
    if not used.all():  # loose vertices would distort the extent, the units and the floor
        f = (np.cumsum(used) - 1)[f]
        v_file = v_file[used]
    _check_arrays(v_file, f)
    edges, face_edges, counts = mesh_topology(f, v_file.shape[0])
    if not np.any(counts == 2):
        raise MeshError(
            f"no two faces of {source} share an edge: its vertices are not merged "
            "(load it with calfsim.io.load_scan, which merges them)"
        )
    choice = _decide_up(v_file, f, (edges, face_edges), units, source)
    factor = choice.factor
    up = np.eye(3)[choice.sections.axis] * choice.sign
    v_m = v_file * factor
    heights = v_m @ up
    floor = float(heights.min())
    height_m = float(heights.max()) - floor
    foot_top = 0.03 * height_m if height_m >= _WHOLE_BODY_MIN_M else 0.04
    foot_pts = v_m[heights - floor < foot_top]
    x0 = _side_axis(choice, up, foot_pts, v_m)
    y0 = np.cross(up, x0)
    ankles = choice.sections.ankle_centroids(choice.feet_end)
    front_reason, front = _decide_front(foot_pts, ankles, x0, y0)
    if front is not None:
        x_c = np.cross(up, front)
    else:
        x_c = x0 * (1.0 if x0[int(np.argmax(np.abs(x0)))] > 0 else -1.0)
    rotation = np.stack([x_c, np.cross(up, x_c), up])
    v_c = v_m @ rotation.T
    centre = np.zeros(3)
    centre[2] = v_c[:, 2].min()
    pairs = choice.sections.leg_pairs(choice.feet_end)
    if pairs.size:
        legs = choice.sections.loops.centroid_m[pairs.ravel()]
    else:
        legs = choice.sections.leg_centroids(choice.feet_end)
    if legs.shape[0]:  # midway between the legs
        centre[:2] = (legs @ rotation.T)[:, :2].mean(axis=0)
    else:
        centre[:2] = 0.5 * (v_c[:, :2].min(axis=0) + v_c[:, :2].max(axis=0))
    transform = np.eye(4)
    transform[:3, :3] = factor * rotation
    transform[:3, 3] = -centre
    return ScanMesh(
        vertices_m=v_c - centre,
        faces=f,
        source_units=choice.unit,
        units_reason=choice.units_reason,
        up_axis_reason=choice.reason,
        front_reason=front_reason,
        is_front_known=front is not None,
        parts_reason=parts_reason,
        to_canonical=transform,
        topology=(edges, face_edges, counts),
    )
