"""Use case: the 3D try-it-on — both legs' meshes over a year, for the median and the band.

`simulate_legs` composes the prediction (:func:`~calfsim.simulation.predict` with girth
profiles) and the geometry (:mod:`calfsim.geometry`) into meshes whose vertex positions are
given for every frame of a time axis:

- **weekly medians** ``day_000_median`` … ``day_364_median`` (53 frames), and
- **band extremes** ``day_DDD_p10`` and ``day_DDD_p90`` every ``band_every_days`` (default
  every 4 weeks: 14 days x 2 = 28 frames). p10 is the smaller leg (the girth's 10th
  percentile, with each muscle's atrophy at its matching extreme), p90 the larger.

Without a scan each leg is the model's mesh built from the protocol's measurements
(:func:`~calfsim.geometry.build_leg_mesh`), deformed by :func:`~calfsim.geometry.deform_leg`;
the ring at every anatomy level then has the predicted girth exactly. With a scan the scan
itself moves: the layered anatomy is fitted to the scan's girth profile
(:mod:`calfsim.geometry._scan_deform`), the scan's calf, ankle and knee girths replace the
protocol's tape measurements in the prediction, and each leg's vertices follow the radial
scale field, corrected level by level to the model's girths.

Every frame's girth is then measured on the deformed mesh at every anatomy level and kept
beside the model's, so the agreement can be checked and reported.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
from numpy.typing import NDArray

from calfsim.anatomy import LegAnatomy, build_leg_anatomy, default_params
from calfsim.domain import LegMeasurements, MuscleHead, Protocol, Side
from calfsim.errors import InvalidInputError, MeshError
from calfsim.evidence import EvidenceBase
from calfsim.geometry import (
    REFINE_EDGE_M,
    LegAxisFrame,
    LegMeasurement,
    LegsFound,
    ScanMesh,
    build_leg_mesh,
    deform_inner,
    deform_leg,
    deform_scan_leg,
    find_legs,
    fit_anatomy_to_scan,
    leg_axis_frame,
    level_girths_cm,
    model_points_on_scan_leg,
    refine_scan_below,
    scan_leg_measurements,
    scan_leg_vertex_index,
)
from calfsim.simulation._predict import HEADS, predict
from calfsim.simulation._prediction import LegPrediction, Prediction
from calfsim.units import M_PER_CM

__all__ = [
    "BANDS",
    "BAND_EVERY_DAYS",
    "WEEKLY_DAYS",
    "Frame",
    "LegFrames",
    "LegsSimulation",
    "MeshFrames",
    "simulate_legs",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: Days of the weekly median frames: week 0 to week 52.
WEEKLY_DAYS: tuple[int, ...] = tuple(range(0, 365, 7))
#: Default spacing of the p10/p90 frames, days (every 4 weeks).
BAND_EVERY_DAYS = 28
#: Band names of the frames, in file order.
BANDS = ("median", "p10", "p90")
_ATROPHY_LIMIT = 1.0  # the deformation accepts atrophy fractions in [-1, 1]
#: The scan's working region reaches 8 cm above the knee; it is refined a little higher.
_REFINE_ABOVE_KNEE_M = 0.12


def _read_only(values: NDArray[np.generic]) -> NDArray[np.generic]:
    # The frame arrays are tens of MB and made here: made read-only, not copied.
    values.setflags(write=False)
    return values


@dataclass(frozen=True, slots=True, kw_only=True)
class Frame:
    """One frame of the time axis: a day and a band.

    Examples
    --------
    >>> Frame(day=84, band="p10").name
    'day_084_p10'
    """

    day: int
    band: str

    def __post_init__(self) -> None:
        if self.band not in BANDS:
            raise InvalidInputError(
                f"band must be one of {', '.join(BANDS)}; got {self.band!r}", field="band"
            )

    @property
    def name(self) -> str:
        """Morph-target name, ``day_DDD_band`` (day zero-padded to 3 digits)."""
        return f"day_{self.day:03d}_{self.band}"


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class MeshFrames:
    """One mesh and its vertex positions in every frame.

    Attributes
    ----------
    name : str
        ``"left_skin"``, ``"right_skin"``, ``"scan_skin"`` (a scan holding both legs) or
        ``"<side>_<head>"`` for an inner muscle (e.g. ``"left_gm_medial"``).
    side : Side or None
        The leg, or None for a scan's skin (both legs in one mesh).
    part : str
        ``"skin"`` or the muscle head's value.
    vertices_m : ndarray, shape (n, 3)
        Baseline positions (day 0), metres, +z up.
    faces : ndarray of int64, shape (m, 3)
    frames_m : ndarray, shape (n_frames, n, 3)
        Positions in each frame of `LegsSimulation.frames` (read-only, not copied).
    """

    name: str
    side: Side | None
    part: str
    vertices_m: FloatArray
    faces: IntArray
    frames_m: FloatArray

    def __post_init__(self) -> None:
        vertices = np.asarray(self.vertices_m, dtype=np.float64)
        frames = np.asarray(self.frames_m, dtype=np.float64)
        if frames.ndim != 3 or frames.shape[1:] != vertices.shape:
            raise InvalidInputError(
                f"frames_m must have shape (n_frames, {vertices.shape[0]}, 3); got {frames.shape}",
                field="frames_m",
            )
        object.__setattr__(self, "vertices_m", _read_only(np.array(vertices)))
        object.__setattr__(self, "faces", _read_only(np.array(self.faces, dtype=np.int64)))
        object.__setattr__(self, "frames_m", _read_only(frames))


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class LegFrames:
    """Girths of one leg in every frame: the model's and those measured on the mesh.

    Attributes
    ----------
    side : Side
    anatomy : LegAnatomy
        The anatomy the mesh follows (fitted to the scan when there is one).
    measurements : LegMeasurements
        The measurements predicted from (the scan's when there is one).
    levels_cm : ndarray, shape (n_levels,)
        Anatomy levels below the knee joint line.
    level_heights_m : ndarray, shape (n_levels,)
        Height of each level above the floor, where its plane meets the leg axis.
    axis_point_m, axis_direction : ndarray, shape (3,)
        The leg axis (floor point, unit direction up); girth planes are perpendicular to it.
    model_girth_cm : ndarray, shape (n_frames, n_levels)
        The model's girth at every level and frame (targets of the deformation).
    mesh_girth_cm : ndarray, shape (n_frames, n_levels)
        Tape girth measured on the deformed skin (NaN at levels where a scan's section does
        not close).
    scan_leg : str or None
        Name of the scan's leg (``"left"``, ``"+x"``...) when a scan is used.
    """

    side: Side
    anatomy: LegAnatomy
    measurements: LegMeasurements
    levels_cm: FloatArray
    level_heights_m: FloatArray
    axis_point_m: FloatArray
    axis_direction: FloatArray
    model_girth_cm: FloatArray
    mesh_girth_cm: FloatArray
    scan_leg: str | None = None

    def __post_init__(self) -> None:
        for name in (
            "levels_cm",
            "level_heights_m",
            "axis_point_m",
            "axis_direction",
            "model_girth_cm",
            "mesh_girth_cm",
        ):
            object.__setattr__(
                self, name, _read_only(np.array(getattr(self, name), dtype=np.float64))
            )

    @property
    def max_girth_error_cm(self) -> float:
        """Largest |mesh - model| girth over every measured level and frame, cm."""
        return float(np.nanmax(np.abs(self.mesh_girth_cm - self.model_girth_cm)))


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class LegsSimulation:
    """Result of `simulate_legs`: the prediction, the time axis, the meshes and their girths.

    Attributes
    ----------
    prediction : Prediction
        The prediction (with girth profiles) on the weekly days merged with the protocol's.
    frames : tuple of Frame
        The time axis: weekly medians, then the band extremes day by day.
    meshes : tuple of MeshFrames
        Skins first (one per leg, or one scan), then the inner muscles of each leg.
    legs : mapping of Side to LegFrames
    scan : ScanMesh or None
        The scan whose vertices were deformed, if any.
    scan_legs : LegsFound or None
        Its legs as found (orientation and naming reasons).
    notes : tuple of str
        Assumptions made (scan legs named, measurements replaced, ...), in words.
    """

    prediction: Prediction
    frames: tuple[Frame, ...]
    meshes: tuple[MeshFrames, ...]
    legs: Mapping[Side, LegFrames]
    scan: ScanMesh | None = None
    scan_legs: LegsFound | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        object.__setattr__(self, "legs", MappingProxyType(dict(self.legs)))

    def frame_index(self, day: int, band: str = "median") -> int:
        """Index of the frame ``(day, band)`` in `frames` and in every ``frames_m``.

        Raises
        ------
        LookupError
            If there is no such frame.
        """
        for i, frame in enumerate(self.frames):
            if frame.day == day and frame.band == band:
                return i
        raise LookupError(f"no frame day_{day:03d}_{band}")

    @property
    def max_girth_error_cm(self) -> float:
        """Largest |mesh - model| girth over every leg, level and frame, cm."""
        return max(leg.max_girth_error_cm for leg in self.legs.values())

    @property
    def nadir_day(self) -> int:
        """Weekly day of the smallest median calf girth (mean change of the legs)."""
        medians = [i for i, f in enumerate(self.frames) if f.band == "median"]
        change = sum(
            leg.model_girth_cm[medians, leg.anatomy.calf_level_index] - leg.anatomy.calf_girth_cm
            for leg in self.legs.values()
        )
        return self.frames[medians[int(np.argmin(change))]].day


def _frames(band_every_days: int) -> tuple[Frame, ...]:
    weekly = tuple(Frame(day=d, band="median") for d in WEEKLY_DAYS)
    band_days = range(0, WEEKLY_DAYS[-1] + 1, band_every_days)
    bands = tuple(Frame(day=d, band=b) for d in band_days for b in ("p10", "p90"))
    return weekly + bands


def _targets(
    leg: LegPrediction, frames: tuple[Frame, ...]
) -> tuple[FloatArray, dict[MuscleHead, FloatArray]]:
    """Model girth per level (n_frames, n_levels) and atrophy per head (n_frames,) per frame."""
    profile = leg.girth_profile_cm
    if profile is None:  # pragma: no cover - predict is always asked for profiles here
        raise InvalidInputError("the prediction has no girth profile", field="prediction")
    rows = np.searchsorted(leg.days, [f.day for f in frames])
    girth = np.empty((len(frames), leg.levels_cm.size))
    atrophy = {h: np.empty(len(frames)) for h in HEADS}
    for band in BANDS:
        which = np.array([f.band == band for f in frames])
        girth[which] = getattr(profile, band)[rows[which]]
        for head in HEADS:
            change = getattr(leg.head_volume_change_frac[head], band)[rows[which]]
            atrophy[head][which] = np.clip(-change, -_ATROPHY_LIMIT, _ATROPHY_LIMIT)
    return girth, atrophy


def _check_options(n_samples: int, band_every_days: int, n_around: int) -> None:
    if (
        isinstance(band_every_days, bool)
        or not isinstance(band_every_days, int)
        or band_every_days % 7
        or not 7 <= band_every_days <= WEEKLY_DAYS[-1]
    ):
        raise InvalidInputError(
            f"band_every_days must be a whole number of weeks in [7, {WEEKLY_DAYS[-1]}] days; "
            f"got {band_every_days!r}",
            field="band_every_days",
        )
    if isinstance(n_around, bool) or not isinstance(n_around, int) or not 32 <= n_around <= 512:
        raise InvalidInputError(
            f"n_around must be an integer in [32, 512] vertices per ring; got {n_around!r}",
            field="n_around",
        )
    del n_samples  # validated by predict


def _model_legs(
    protocol: Protocol, prediction: Prediction, frames: tuple[Frame, ...], n_around: int
) -> tuple[list[MeshFrames], list[MeshFrames], dict[Side, LegFrames]]:
    skins: list[MeshFrames] = []
    inner: list[MeshFrames] = []
    legs: dict[Side, LegFrames] = {}
    for side in sorted(protocol.legs, key=lambda s: s.value):
        anatomy = build_leg_anatomy(protocol.legs[side], protocol.patient, side=side)
        mesh = build_leg_mesh(anatomy, n_around=n_around)
        girth, atrophy = _targets(prediction.legs[side], frames)
        skin = deform_leg(mesh, anatomy, girth_cm=girth, gm_atrophy_frac=atrophy)
        muscles = deform_inner(mesh, anatomy, girth_cm=girth, gm_atrophy_frac=atrophy)
        skins.append(
            MeshFrames(
                name=f"{side.value}_skin",
                side=side,
                part="skin",
                vertices_m=mesh.vertices_m,
                faces=mesh.faces,
                frames_m=skin,
            )
        )
        for head, (vertices, faces) in mesh.inner.items():
            inner.append(
                MeshFrames(
                    name=f"{side.value}_{head.value}",
                    side=side,
                    part=head.value,
                    vertices_m=vertices,
                    faces=faces,
                    frames_m=muscles[head],
                )
            )
        legs[side] = LegFrames(
            side=side,
            anatomy=anatomy,
            measurements=anatomy.measurements,
            levels_cm=anatomy.levels_cm,
            level_heights_m=mesh.ring_heights_m,
            axis_point_m=np.array([*mesh.axis_xy_m, 0.0]),
            axis_direction=np.array([0.0, 0.0, 1.0]),
            model_girth_cm=girth,
            mesh_girth_cm=level_girths_cm(mesh, skin),
        )
    return skins, inner, legs


def _assign_scan_legs(
    protocol: Protocol, found: LegsFound
) -> tuple[dict[Side, LegMeasurement], list[str]]:
    """Which leg of the scan is which leg of the protocol, and how that was decided."""
    notes: list[str] = []
    named = {leg.side: leg for leg in found.legs if leg.side is not None}
    wanted = set(protocol.legs)
    if wanted <= set(named):
        return {side: named[side] for side in wanted}, notes
    if len(found.legs) == 2:
        # Without a known front the legs are named by their x side; the canonical frame puts
        # the person's left on +x, so that is the best guess.
        plus, minus = found.legs
        notes.append(
            f"the scan's front is unknown ({found.orientation_reason}); its +x leg is taken "
            "as the left leg"
        )
        by_side = {Side.LEFT: plus, Side.RIGHT: minus}
        return {side: by_side[side] for side in wanted}, notes
    if len(found.legs) == 1 and len(wanted) == 1:
        (side,) = wanted
        notes.append(f"the scan shows one leg; it is taken as the protocol's {side.value} leg")
        return {side: found.legs[0]}, notes
    raise MeshError(
        f"the scan shows {len(found.legs)} leg(s) "
        f"({', '.join(leg.name for leg in found.legs)}) but the protocol treats "
        f"{', '.join(sorted(s.value for s in wanted))}"
    )


def _scan_legs(
    protocol: Protocol,
    scan: ScanMesh,
    found: LegsFound,
) -> tuple[Protocol, dict[Side, tuple[LegMeasurement, float]], list[str]]:
    """Return the protocol with the scan's measurements, each leg's scan leg and knee height."""
    assigned, notes = _assign_scan_legs(protocol, found)
    params = default_params()
    legs: dict[Side, LegMeasurements] = {}
    placed: dict[Side, tuple[LegMeasurement, float]] = {}
    for side, leg in assigned.items():
        measurements, knee_height_m, leg_notes = scan_leg_measurements(
            scan, leg, params=params, ultrasound=protocol.legs[side]
        )
        notes.extend(leg_notes)
        given = protocol.legs[side].calf_girth_cm
        notes.append(
            f"{side.value} leg: the scan's calf girth {measurements.calf_girth_cm:.1f} cm "
            f"(protocol: {given:g} cm), ankle {measurements.ankle_girth_cm:.1f} cm and lower-leg "
            f"length {measurements.lower_leg_length_cm:.1f} cm are used"
        )
        legs[side] = measurements
        placed[side] = (leg, knee_height_m)
    return dataclasses.replace(protocol, legs=legs), placed, notes


def _scan_meshes(
    protocol: Protocol,
    prediction: Prediction,
    frames: tuple[Frame, ...],
    scan: ScanMesh,
    found: LegsFound,
    placed: dict[Side, tuple[LegMeasurement, float]],
    n_around: int,
) -> tuple[list[MeshFrames], list[MeshFrames], dict[Side, LegFrames]]:
    leg_frames: dict[Side, LegAxisFrame] = {
        side: leg_axis_frame(leg, side=side, knee_height_m=knee)
        for side, (leg, knee) in placed.items()
    }
    # Legs of the scan that the protocol leaves alone still claim their own vertices.
    top = max(knee for _, knee in placed.values())
    others = [
        leg_axis_frame(leg, side=Side.LEFT, knee_height_m=top)
        for leg in found.legs
        if all(leg is not p for p, _ in placed.values())
    ]
    sides = sorted(leg_frames, key=lambda s: s.value)
    regions = scan_leg_vertex_index(scan.vertices_m, [leg_frames[s] for s in sides] + others)
    skin = np.broadcast_to(scan.vertices_m, (len(frames), *scan.vertices_m.shape)).copy()
    inner: list[MeshFrames] = []
    legs: dict[Side, LegFrames] = {}
    for side, region in zip(sides, regions, strict=False):
        frame = leg_frames[side]
        measured_anatomy = build_leg_anatomy(protocol.legs[side], protocol.patient, side=side)
        anatomy, is_measured = fit_anatomy_to_scan(
            measured_anatomy, scan.vertices_m, scan.faces, frame
        )
        ratio, atrophy = _targets(prediction.legs[side], frames)
        # The model's girth on the fitted anatomy: the scan's girth times the predicted ratio.
        girth = anatomy.girth_cm * ratio / measured_anatomy.girth_cm
        positions, measured = deform_scan_leg(
            scan.vertices_m,
            scan.faces,
            frame=frame,
            anatomy=anatomy,
            vertex_index=region,
            girth_cm_target=girth,
            gm_atrophy_frac=atrophy,
            is_measured=is_measured,
        )
        skin[:, region] = positions
        model = build_leg_mesh(anatomy, n_around=n_around)
        muscles = deform_inner(model, anatomy, girth_cm=girth, gm_atrophy_frac=atrophy)
        for head, (vertices, faces) in model.inner.items():
            inner.append(
                MeshFrames(
                    name=f"{side.value}_{head.value}",
                    side=side,
                    part=head.value,
                    vertices_m=model_points_on_scan_leg(vertices, model, frame),
                    faces=faces,
                    frames_m=model_points_on_scan_leg(muscles[head], model, frame),
                )
            )
        legs[side] = LegFrames(
            side=side,
            anatomy=anatomy,
            measurements=protocol.legs[side],
            levels_cm=anatomy.levels_cm,
            level_heights_m=frame.knee_height_m - anatomy.levels_cm * M_PER_CM,
            axis_point_m=frame.axis_point_m,
            axis_direction=frame.axis_direction,
            model_girth_cm=girth,
            mesh_girth_cm=measured,
            scan_leg=placed[side][0].name,
        )
    skins = [
        MeshFrames(
            name="scan_skin",
            side=None,
            part="skin",
            vertices_m=scan.vertices_m,
            faces=scan.faces,
            frames_m=skin,
        )
    ]
    return skins, inner, legs


def simulate_legs(
    protocol: Protocol,
    *,
    scan: ScanMesh | None = None,
    scan_legs: LegsFound | None = None,
    n_samples: int = 4000,
    rng: np.random.Generator | int | None = None,
    band_every_days: int = BAND_EVERY_DAYS,
    n_around: int = 112,
    evidence: EvidenceBase | None = None,
) -> LegsSimulation:
    """Simulate both legs in 3D over a year: meshes per week, with the band, and their girths.

    Parameters
    ----------
    protocol : Protocol
        Patient, legs, sessions and the days to report (the weekly days 0-364 are added).
    scan : ScanMesh, optional
        A body or lower-leg scan (canonical frame, e.g. from :func:`calfsim.io.load_scan`):
        its own vertices are deformed, and its measurements replace the protocol's tape
        measurements (ultrasound thicknesses are kept).
    scan_legs : LegsFound, optional
        The scan's legs if already found (default: :func:`~calfsim.geometry.find_legs`).
    n_samples : int, default 4000
        Virtual patients of the Monte Carlo (100 to 200,000).
    rng : numpy.random.Generator, int or None
        Seed or generator; the same seed gives the same result.
    band_every_days : int, default 28
        Spacing of the p10/p90 frames (a whole number of weeks); fewer keep the GLB small.
    n_around : int, default 112
        Vertices per ring of the model legs (32-512; 112 gives ~21.8k vertices per leg, above
        the 20k a screen needs).
    evidence : EvidenceBase, optional
        Evidence to use instead of the shipped data.

    Returns
    -------
    LegsSimulation

    Raises
    ------
    InvalidInputError
        If an option is out of range, or the protocol is refused by `predict` (safety limits,
        doses outside the evidence).
    MeshError
        If the scan's legs cannot be matched to the protocol's or measured at the anatomy
        levels.

    Examples
    --------
    >>> from calfsim.domain import LegDose, LegMeasurements, Patient, Session, ToxinProduct
    >>> protocol = Protocol(
    ...     patient=Patient(),
    ...     legs={Side.LEFT: LegMeasurements(calf_girth_cm=36.0)},
    ...     sessions=(Session(day=0, product=ToxinProduct.ONABOTULINUMTOXINA,
    ...                       doses_u={Side.LEFT: LegDose(total_u=100)}),),
    ...     days=(0, 84))
    >>> sim = simulate_legs(protocol, n_samples=200, rng=1, n_around=64)
    >>> len(sim.frames), sim.frames[12].name, sim.max_girth_error_cm < 1e-6
    (81, 'day_084_median', True)
    """
    _check_options(n_samples, band_every_days, n_around)
    if scan is not None and not isinstance(scan, ScanMesh):
        raise InvalidInputError(f"scan must be a ScanMesh; got {scan!r}", field="scan")
    if scan_legs is not None and scan is None:
        raise InvalidInputError("scan_legs needs the scan it was found on", field="scan_legs")
    frames = _frames(band_every_days)
    notes: list[str] = []
    placed: dict[Side, tuple[LegMeasurement, float]] = {}
    found = None
    if scan is not None:
        found = find_legs(scan) if scan_legs is None else scan_legs
        scan_protocol, placed, scan_notes = _scan_legs(protocol, scan, found)
        # A coarse scan is made fine enough for every anatomy level first, then measured: the
        # working region ends 8 cm above the knee, the refinement a little higher so that its
        # seam never moves.
        top = max(knee for _, knee in placed.values())
        scan, n_added = refine_scan_below(scan, height_m=top + _REFINE_ABOVE_KNEE_M)
        if n_added:
            notes.append(
                f"the scan's lower legs were subdivided (+{n_added:,} vertices on the smooth "
                f"surface through its own, edges at most {REFINE_EDGE_M * 1000:.0f} mm) so "
                "that the girth can follow the model at every level; girths are measured on it"
            )
            found = find_legs(scan)
            scan_protocol, placed, scan_notes = _scan_legs(protocol, scan, found)
        protocol = scan_protocol
        notes.extend(scan_notes)
    days = tuple(sorted({*protocol.days, *(float(d) for d in WEEKLY_DAYS)}))
    protocol = dataclasses.replace(protocol, days=days)
    prediction = predict(
        protocol, n_samples=n_samples, rng=rng, include_profile=True, evidence=evidence
    )
    if scan is None or found is None:
        skins, inner, legs = _model_legs(protocol, prediction, frames, n_around)
    else:
        skins, inner, legs = _scan_meshes(
            protocol, prediction, frames, scan, found, placed, n_around
        )
    return LegsSimulation(
        prediction=prediction,
        frames=frames,
        meshes=(*skins, *inner),
        legs=legs,
        scan=scan,
        scan_legs=found,
        notes=(*notes, *prediction.notes),
    )
