r"""Injection sites on the back of the calf: safe zones, head regions, spacing, depth and dose.

Coordinates on the skin of one lower leg
----------------------------------------
A point is given by its *level*, the distance below the knee joint line (popliteal crease) along
the leg, and its *offset*, the distance along the skin from the posterior midline: positive
towards the medial side, negative towards the lateral side. Seen from behind, the medial head
lies on the medial half of the posterior surface, the lateral head on the lateral half, and the
soleus is reachable below the gastrocnemius bellies on both sides of the Achilles tendon.

The geometry (assumptions, evidence ``injection.head_section_model``)
---------------------------------------------------------------------
Each head's cross-section keeps its shape along the leg, so its width on the skin and its
thickness both scale with the square root of its area :math:`A(z)` from the anatomy model:

.. math::

    w(z) = c \sqrt{A(z)}, \qquad
    c = \frac{w_{MG}}{\sqrt{s_{MG} \, C_{ref}^2 / 4\pi}}, \qquad
    T(z) = T_{GM} \sqrt{A(z) / A_{MG}(z_{calf})}

where :math:`w_{MG}` is the medial-gastrocnemius ultrasound width (8.5 cm), :math:`s_{MG}` its
share of the reference woman's section at the maximal girth :math:`C_{ref}` (so the reference
medial head covers 8.5 cm of skin, a quarter of her girth), and :math:`T_{GM}` the leg's
gastrocnemius thickness at the maximal girth (measured, or estimated by the anatomy model). A
head is never wider on the skin than a quarter of the girth (what is visible from behind); the
soleus width is split evenly between the two sides of the Achilles tendon.

The usable region of a head runs from the popliteal margin down to its distal end (the
musculotendinous junction, where its area falls to zero) less the junction margin, and from the
midline margin out to its width. Sites sit on a staggered (hexagonal) lattice centred on the
head's bulk (its largest cross-section), spread at the preferred spacing when they fit and
closer, down to the minimum spacing, when they do not.

Depth is skin + subcutaneous fat + half the muscle thickness at the site's level, clipped to the
needle range of the evidence. Volume is units / concentration.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from numpy.typing import NDArray

from calfsim.anatomy import LegAnatomy, Tissue
from calfsim.domain import MuscleHead, Side, ToxinProduct
from calfsim.errors import InvalidInputError, OutsideEvidenceError
from calfsim.evidence import EvidenceBase, load_evidence
from calfsim.planner._dilution import (
    CONCENTRATION_RANGE_U_PER_ML,
    check_number,
    check_product,
    units_per_ona_ratio,
)
from calfsim.units import MM_PER_CM

__all__ = [
    "HeadRegion",
    "InjectionSite",
    "SafeZones",
    "head_regions",
    "plan_sites",
    "safe_zones",
    "site_in_region",
]

FloatArray = NDArray[np.float64]

#: Heads in the order their sites are planned and numbered.
_HEADS = (MuscleHead.GM_MEDIAL, MuscleHead.GM_LATERAL, MuscleHead.SOLEUS)
#: Which side of the midline each head is injected on: +1 medial, -1 lateral, 0 both.
_DIRECTION = {MuscleHead.GM_MEDIAL: 1, MuscleHead.GM_LATERAL: -1, MuscleHead.SOLEUS: 0}
#: Spacings tried between the preferred and the minimum spacing, in this step.
_SPACING_STEP_CM = 0.25
#: Lattice points are laid out this much further apart than asked, so that round-off in the
#: diagonal distances (s/2, s·√3/2) never brings two sites below the spacing.
_LATTICE_INFLATION_RATIO = 1.0 + 1e-9
#: Slack for floating-point round-off when checking a stored site against its region.
_TOL_CM = 1e-9


# --- value objects ----------------------------------------------------------------------------


def _check_positive(name: str, value: object, unit: str) -> float:
    return check_number(name, value, 0.0, math.inf, unit)


@dataclass(frozen=True, slots=True, kw_only=True)
class SafeZones:
    """Distances that keep needles away from structures at risk (evidence ``injection.*``).

    Attributes
    ----------
    popliteal_margin_cm : float
        No site closer to the knee crease than this (popliteal fossa: popliteal vessels, tibial
        nerve).
    midline_margin_cm : float
        No site closer, along the skin, to the posterior midline than this (sural nerve, small
        saphenous vein).
    junction_margin_cm : float
        Sites stay this far above the distal end of their head (the musculotendinous junction).
    min_spacing_cm : float
        Smallest distance between two sites on the same leg.

    Raises
    ------
    InvalidInputError
        If a margin is not a finite number > 0.

    Examples
    --------
    >>> SafeZones(popliteal_margin_cm=5, midline_margin_cm=1.5, junction_margin_cm=3,
    ...           min_spacing_cm=2).min_spacing_cm
    2.0
    """

    popliteal_margin_cm: float
    midline_margin_cm: float
    junction_margin_cm: float
    min_spacing_cm: float

    def __post_init__(self) -> None:
        for name in (
            "popliteal_margin_cm",
            "midline_margin_cm",
            "junction_margin_cm",
            "min_spacing_cm",
        ):
            object.__setattr__(self, name, _check_positive(name, getattr(self, name), "cm"))


@dataclass(frozen=True, slots=True, kw_only=True)
class HeadRegion:
    """Where on the skin one muscle can be injected, after the safe zones.

    Attributes
    ----------
    side : Side
    head : MuscleHead
    top_cm, bottom_cm : float
        Highest and lowest usable level below the knee crease; the region is empty if
        ``bottom_cm < top_cm``.
    bulk_cm : float
        Level of the head's largest cross-section, clipped into ``[top_cm, bottom_cm]``.
    inner_offset_cm, outer_offset_cm : float
        Range of ``|offset|`` from the posterior midline (medial for the medial head, lateral
        for the lateral head, either side for the soleus).
    end_cm : float
        Distal end of the head (musculotendinous junction), below the knee crease.
    outline_levels_cm, outline_width_cm : tuple of float
        The head's width on the skin from the midline (for the soleus, on each side) at levels
        from the knee crease to ``end_cm``; a site must also lie within this outline.
    """

    side: Side
    head: MuscleHead
    top_cm: float
    bottom_cm: float
    bulk_cm: float
    inner_offset_cm: float
    outer_offset_cm: float
    end_cm: float
    outline_levels_cm: tuple[float, ...]
    outline_width_cm: tuple[float, ...]

    @property
    def is_empty(self) -> bool:
        """True if no point satisfies every margin."""
        return self.bottom_cm < self.top_cm or self.outer_offset_cm < self.inner_offset_cm

    @property
    def direction(self) -> int:
        """Sign of the offsets of this head's sites: +1 medial, -1 lateral, 0 either side."""
        return _DIRECTION[self.head]

    def width_at_cm(self, level_cm: float) -> float:
        """Return the head's width on the skin from the midline at ``level_cm`` (0 outside it).

        Examples
        --------
        >>> from calfsim.anatomy import build_leg_anatomy
        >>> from calfsim.domain import LegMeasurements, Patient
        >>> leg = build_leg_anatomy(LegMeasurements(calf_girth_cm=36), Patient(), side=Side.LEFT)
        >>> region = head_regions(leg)[MuscleHead.GM_MEDIAL]
        >>> region.width_at_cm(region.bulk_cm) >= region.outer_offset_cm - 1e-9
        True
        """
        return float(
            np.interp(level_cm, self.outline_levels_cm, self.outline_width_cm, left=0, right=0)
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class InjectionSite:
    """One injection point on one leg.

    Attributes
    ----------
    side : Side
    head : MuscleHead
    index : int
        1-based number of the site within its leg (the order to inject and the label on the map).
    level_below_knee_cm : float
        Distance below the knee joint line (popliteal crease), along the leg.
    offset_from_midline_cm : float
        Distance along the skin from the posterior midline; positive medial, negative lateral.
    level_frac : float
        ``level_below_knee_cm`` / lower-leg length.
    depth_mm : float
        Needle depth from the skin surface to the target (mid-muscle).
    units_u : float
        Units of the product at this site.
    volume_ml : float
        Volume at this site (units / concentration).

    Raises
    ------
    InvalidInputError
        If a field has the wrong type or an impossible value.
    """

    side: Side
    head: MuscleHead
    index: int
    level_below_knee_cm: float
    offset_from_midline_cm: float
    level_frac: float
    depth_mm: float
    units_u: float
    volume_ml: float

    def __post_init__(self) -> None:
        if not isinstance(self.side, Side):
            raise InvalidInputError(f"side must be a Side; got {self.side!r}", field="side")
        if not isinstance(self.head, MuscleHead):
            raise InvalidInputError(f"head must be a MuscleHead; got {self.head!r}", field="head")
        if isinstance(self.index, bool) or not isinstance(self.index, int) or self.index < 1:
            raise InvalidInputError(
                f"index must be an integer >= 1; got {self.index!r}", field="index"
            )
        checks = (
            ("level_below_knee_cm", 0.0, math.inf, "cm"),
            ("offset_from_midline_cm", -math.inf, math.inf, "cm"),
            ("level_frac", 0.0, 1.0, "fraction"),
            ("depth_mm", 0.0, math.inf, "mm"),
            ("units_u", 0.0, math.inf, "U"),
            ("volume_ml", 0.0, math.inf, "mL"),
        )
        for name, low, high, unit in checks:
            value = getattr(self, name)
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            if not (ok and math.isfinite(value) and low <= value <= high):
                raise InvalidInputError(
                    f"{name} must be a finite number in [{low:g}, {high:g}] {unit}; got {value!r}",
                    field=name,
                )
            object.__setattr__(self, name, float(value))


# --- evidence ---------------------------------------------------------------------------------


def safe_zones(ev: EvidenceBase | None = None) -> SafeZones:
    """Return the safe-zone margins of the evidence (``injection.*_margin_cm``, spacing).

    All four numbers are assumptions tagged 'inferred': no source read reports them.

    Parameters
    ----------
    ev : EvidenceBase, optional
        Defaults to the shipped evidence.

    Returns
    -------
    SafeZones

    Examples
    --------
    >>> safe_zones()
    SafeZones(popliteal_margin_cm=5.0, midline_margin_cm=1.5, junction_margin_cm=3.0, \
min_spacing_cm=2.0)
    """
    evidence = load_evidence() if ev is None else ev
    return SafeZones(
        popliteal_margin_cm=evidence.number("injection.popliteal_margin_cm"),
        midline_margin_cm=evidence.number("injection.midline_margin_cm"),
        junction_margin_cm=evidence.number("injection.junction_margin_cm"),
        min_spacing_cm=evidence.number("injection.min_spacing_cm"),
    )


def _width_per_root_area(ev: EvidenceBase) -> float:
    """Skin width of a head per square root of its area, from the reference medial head."""
    girth_cm = ev.number("anatomy.reference_calf_girth_cm")
    mg_cm2 = ev.number("anatomy.mg_share_calf_level_frac") * girth_cm**2 / (4.0 * math.pi)
    return ev.number("anatomy.mg_ultrasound_width_cm") / math.sqrt(mg_cm2)


# --- the leg's geometry -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _LegGeometry:
    """Arrays along one leg that the sites need (internal)."""

    levels_cm: FloatArray
    girth_cm: FloatArray
    skin_mm: FloatArray
    fat_mm: FloatArray
    width_cm: Mapping[MuscleHead, FloatArray]
    thickness_mm: Mapping[MuscleHead, FloatArray]
    end_cm: Mapping[MuscleHead, float]

    def at(self, values: FloatArray, level_cm: float) -> float:
        return float(np.interp(level_cm, self.levels_cm, values))


def _end_level_cm(levels_cm: FloatArray, area_cm2: FloatArray) -> float:
    """Distal end of a muscle: where its area, falling from the peak, reaches zero.

    Near its end a muscle's area falls like the square of the distance (the half-cosine shape
    of the anatomy model), so the root of the square root of the area is found by linear
    extrapolation between the last two levels with muscle.
    """
    peak = int(np.argmax(area_cm2))
    after = np.nonzero(area_cm2[peak:] <= 0.0)[0]
    if after.size == 0:
        return float(levels_cm[-1])
    first_zero = peak + int(after[0])
    last = first_zero - 1
    if last < 1:
        return float(levels_cm[first_zero])
    root_last = math.sqrt(area_cm2[last])
    root_before = math.sqrt(area_cm2[last - 1])
    step_cm = float(levels_cm[last] - levels_cm[last - 1])
    if root_before <= root_last:
        return float(levels_cm[first_zero])
    end_cm = float(levels_cm[last]) + root_last * step_cm / (root_before - root_last)
    return min(max(end_cm, float(levels_cm[last])), float(levels_cm[first_zero]))


def _geometry(anatomy: LegAnatomy, ev: EvidenceBase) -> _LegGeometry:
    levels = np.asarray(anatomy.levels_cm, dtype=np.float64)
    girth = np.asarray(anatomy.girth_cm, dtype=np.float64)
    radius_cm = girth / (2.0 * math.pi)
    # Rings inside a circle of the girth: skin outermost, then fat (anatomy._build).
    below_skin_cm = np.sqrt(np.maximum(radius_cm**2 - anatomy.area_cm2[Tissue.SKIN] / math.pi, 0))
    below_fat_cm = np.sqrt(
        np.maximum(below_skin_cm**2 - anatomy.area_cm2[Tissue.FAT] / math.pi, 0.0)
    )
    skin_mm = (radius_cm - below_skin_cm) * MM_PER_CM
    fat_mm = (below_skin_cm - below_fat_cm) * MM_PER_CM
    width_per_root = _width_per_root_area(ev)
    # The medial head's area at the maximal girth anchors every thickness; the floor only keeps
    # a degenerate anatomy (no medial head) from dividing by zero.
    calf_mg_cm2 = max(
        float(anatomy.muscle_area_cm2(MuscleHead.GM_MEDIAL)[anatomy.calf_level_index]), 1e-12
    )
    gm_mm = anatomy.measurements.gm_thickness_mm
    if gm_mm is None:  # an anatomy built without filling it: area / ultrasound width
        gm_mm = calf_mg_cm2 / ev.number("anatomy.mg_ultrasound_width_cm") * MM_PER_CM
    widths: dict[MuscleHead, FloatArray] = {}
    thicknesses: dict[MuscleHead, FloatArray] = {}
    ends: dict[MuscleHead, float] = {}
    for head in _HEADS:
        area = np.asarray(anatomy.muscle_area_cm2(head), dtype=np.float64)
        width = width_per_root * np.sqrt(area)
        if head is MuscleHead.SOLEUS:
            width = width / 2.0  # half on each side of the Achilles tendon
        widths[head] = np.minimum(width, girth / 4.0)
        thicknesses[head] = gm_mm * np.sqrt(area / calf_mg_cm2)
        ends[head] = _end_level_cm(levels, area)
    return _LegGeometry(
        levels_cm=levels,
        girth_cm=girth,
        skin_mm=skin_mm,
        fat_mm=fat_mm,
        width_cm=widths,
        thickness_mm=thicknesses,
        end_cm=ends,
    )


def _region(
    anatomy: LegAnatomy, geometry: _LegGeometry, head: MuscleHead, zones: SafeZones
) -> HeadRegion:
    levels = geometry.levels_cm
    end_cm = geometry.end_cm[head]
    top_cm = zones.popliteal_margin_cm
    if head is MuscleHead.SOLEUS:
        # Reachable only below both gastrocnemius bellies.
        top_cm = max(
            top_cm, geometry.end_cm[MuscleHead.GM_MEDIAL], geometry.end_cm[MuscleHead.GM_LATERAL]
        )
    bottom_cm = end_cm - zones.junction_margin_cm
    area = anatomy.muscle_area_cm2(head)
    bulk_cm = float(levels[int(np.argmax(area))])
    bulk_cm = min(max(bulk_cm, top_cm), max(bottom_cm, top_cm))
    width = geometry.width_cm[head]
    inside = (levels > top_cm) & (levels < bottom_cm)
    samples = [geometry.at(width, top_cm), geometry.at(width, bottom_cm)]
    samples += [float(w) for w in width[inside]]
    outer_cm = max(samples) if bottom_cm >= top_cm else 0.0
    keep = levels < end_cm
    outline_levels = (*(float(z) for z in levels[keep]), end_cm)
    outline_width = (*(float(w) for w in width[keep]), 0.0)
    return HeadRegion(
        side=anatomy.side,
        head=head,
        top_cm=top_cm,
        bottom_cm=bottom_cm,
        bulk_cm=bulk_cm,
        inner_offset_cm=zones.midline_margin_cm,
        outer_offset_cm=outer_cm,
        end_cm=end_cm,
        outline_levels_cm=outline_levels,
        outline_width_cm=outline_width,
    )


def head_regions(
    anatomy: LegAnatomy, *, zones: SafeZones | None = None, ev: EvidenceBase | None = None
) -> dict[MuscleHead, HeadRegion]:
    """Where each head of one leg can be injected, after the safe zones.

    Parameters
    ----------
    anatomy : LegAnatomy
        The leg (its girth profile, head areas along the leg and filled measurements).
    zones : SafeZones, optional
        Margins; default :func:`safe_zones` of ``ev``.
    ev : EvidenceBase, optional
        Defaults to the shipped evidence.

    Returns
    -------
    dict of MuscleHead to HeadRegion
        One region per head (medial and lateral gastrocnemius, soleus), in that order.

    Raises
    ------
    InvalidInputError
        If ``anatomy`` is not a `LegAnatomy` or ``zones`` not `SafeZones`.

    Examples
    --------
    >>> from calfsim.anatomy import build_leg_anatomy
    >>> from calfsim.domain import LegMeasurements, Patient
    >>> leg = build_leg_anatomy(LegMeasurements(calf_girth_cm=37.5), Patient(), side=Side.LEFT)
    >>> mg = head_regions(leg)[MuscleHead.GM_MEDIAL]
    >>> mg.top_cm, round(mg.bottom_cm, 2), mg.bulk_cm, mg.inner_offset_cm
    (5.0, 18.75, 11.25, 1.5)
    """
    evidence = load_evidence() if ev is None else ev
    _check_anatomy(anatomy)
    margins = _check_zones(zones, evidence)
    geometry = _geometry(anatomy, evidence)
    return {head: _region(anatomy, geometry, head, margins) for head in _HEADS}


def site_in_region(site: InjectionSite, region: HeadRegion, zones: SafeZones) -> bool:
    """Return True if ``site`` lies inside ``region`` and outside every safe-zone margin.

    The site must belong to the region's leg and head, lie between the region's top and bottom,
    at least ``zones.popliteal_margin_cm`` below the knee crease and ``zones.junction_margin_cm``
    above the head's end, on the head's side of the midline at least ``zones.midline_margin_cm``
    from it, and within the region's offsets and the head's outline at its level. Round-off up to
    1e-9 cm is tolerated.

    Examples
    --------
    >>> from calfsim.anatomy import build_leg_anatomy
    >>> from calfsim.domain import LegMeasurements, Patient
    >>> leg = build_leg_anatomy(LegMeasurements(calf_girth_cm=37.5), Patient(), side=Side.LEFT)
    >>> sites = plan_sites(leg, {MuscleHead.GM_MEDIAL: 36.0}, concentration_u_per_ml=50.0)
    >>> region = head_regions(leg)[MuscleHead.GM_MEDIAL]
    >>> all(site_in_region(s, region, safe_zones()) for s in sites)
    True
    """
    if site.side is not region.side or site.head is not region.head:
        return False
    return _admissible(
        site.level_below_knee_cm, site.offset_from_midline_cm, region, zones, tol_cm=_TOL_CM
    )


def _admissible(
    level_cm: float, offset_cm: float, region: HeadRegion, zones: SafeZones, *, tol_cm: float
) -> bool:
    distance_cm = abs(offset_cm)
    direction = region.direction
    if direction != 0 and offset_cm * direction <= 0:
        return False
    lowest_cm = min(region.bottom_cm, region.end_cm - zones.junction_margin_cm)
    highest_cm = max(region.top_cm, zones.popliteal_margin_cm)
    if not highest_cm - tol_cm <= level_cm <= lowest_cm + tol_cm:
        return False
    nearest_cm = max(region.inner_offset_cm, zones.midline_margin_cm)
    farthest_cm = min(region.outer_offset_cm, region.width_at_cm(level_cm))
    return nearest_cm - tol_cm <= distance_cm <= farthest_cm + tol_cm


# --- placing the sites ------------------------------------------------------------------------


def _lattice(
    centre: tuple[float, float],
    spacing_cm: float,
    phase: tuple[float, float],
    half_height_cm: float,
    half_width_cm: float,
) -> list[tuple[float, float]]:
    """Points of a staggered lattice (rows across the leg) around ``centre`` = (level, offset)."""
    row_cm = spacing_cm * math.sqrt(3.0) / 2.0
    n_rows = int(half_height_cm / row_cm) + 2
    n_cols = int(half_width_cm / spacing_cm) + 2
    points = []
    for k in range(-n_rows, n_rows + 1):
        level_cm = centre[0] + (k + phase[0]) * row_cm
        shift = 0.5 * (k % 2) + phase[1]
        for j in range(-n_cols, n_cols + 1):
            points.append((level_cm, centre[1] + (j + shift) * spacing_cm))
    return points


def _arrange(
    region: HeadRegion,
    zones: SafeZones,
    n_sites: int,
    spacing_cm: float,
    occupied: Sequence[tuple[float, float]],
) -> list[tuple[float, float]]:
    """Up to ``n_sites`` admissible points ``spacing_cm`` apart, nearest the bulk first.

    Tries the four phases of the lattice (a point or a gap at the centre, in each direction)
    and keeps the one that places the most points, then the most compact.
    """
    middle_cm = (region.inner_offset_cm + region.outer_offset_cm) / 2.0
    centres = (
        [(region.bulk_cm, middle_cm), (region.bulk_cm, -middle_cm)]
        if region.direction == 0
        else [(region.bulk_cm, region.direction * middle_cm)]
    )
    half_height = max(region.bulk_cm - region.top_cm, region.bottom_cm - region.bulk_cm)
    half_width = region.outer_offset_cm
    step_cm = spacing_cm * _LATTICE_INFLATION_RATIO
    best: list[tuple[float, float]] = []
    best_key = (0, 0.0)
    for phase in itertools.product((0.0, 0.5), (0.0, 0.5)):
        candidates = []
        for centre in centres:
            for level_cm, offset_cm in _lattice(centre, step_cm, phase, half_height, half_width):
                if _admissible(level_cm, offset_cm, region, zones, tol_cm=0.0):
                    distance = min(math.dist((level_cm, offset_cm), c) for c in centres)
                    candidates.append((distance, level_cm, offset_cm))
        candidates.sort()
        chosen: list[tuple[float, float]] = []
        total_distance = 0.0
        for distance, level_cm, offset_cm in candidates:
            point = (level_cm, offset_cm)
            if all(math.dist(point, p) >= zones.min_spacing_cm for p in occupied) and all(
                math.dist(point, p) >= spacing_cm for p in chosen
            ):
                chosen.append(point)
                total_distance += distance
                if len(chosen) == n_sites:
                    break
        key = (len(chosen), -total_distance)
        if key > best_key:
            best, best_key = chosen, key
    return best


def _spacings_cm(preferred_cm: float, minimum_cm: float) -> list[float]:
    if preferred_cm <= minimum_cm:
        return [minimum_cm]
    n_steps = math.floor((preferred_cm - minimum_cm) / _SPACING_STEP_CM)
    values = [preferred_cm - i * _SPACING_STEP_CM for i in range(n_steps + 1)]
    return [v for v in values if v > minimum_cm + 1e-12] + [minimum_cm]


def _split_units(amount_u: float, n_sites: int) -> list[float]:
    """Split ``amount_u`` into ``n_sites`` parts that are multiples of 0.1 U where possible.

    Exact rational arithmetic: the parts are whole tenths that differ by at most one tenth (the
    first ones, nearest the bulk, get the extra tenths); the last part, one of the smaller ones,
    also carries any remainder finer than 0.1 U, so the parts still differ by at most 0.1 U and
    sum to ``amount_u``.
    """
    exact = Fraction(amount_u)
    tenths = math.floor(exact * 10)
    base, extra = divmod(tenths, n_sites)
    parts = [Fraction(base + (1 if i < extra else 0), 10) for i in range(n_sites)]
    parts[-1] += exact - Fraction(tenths, 10)
    return [float(p) for p in parts]


def plan_sites(
    anatomy: LegAnatomy,
    head_units: Mapping[MuscleHead, float],
    *,
    concentration_u_per_ml: float,
    product: ToxinProduct = ToxinProduct.ONABOTULINUMTOXINA,
    zones: SafeZones | None = None,
    ev: EvidenceBase | None = None,
) -> tuple[InjectionSite, ...]:
    """Place the injection sites of one leg, with their depth, units and volume.

    Each head with a dose gets about one site per consensus dose per point (8-10 U, evidence
    ``dosing.consensus_units_per_point_u``; at least one site), on a staggered lattice centred
    on its bulk, inside its region and outside every safe zone, spread at the preferred spacing
    or closer down to the minimum spacing. If even then the sites do not fit, fewer sites carry
    more units each, up to ``injection.max_units_per_site_u``. Units are split evenly in whole
    tenths of a unit and sum exactly to each head's dose.

    Parameters
    ----------
    anatomy : LegAnatomy
        The leg to inject.
    head_units : mapping of MuscleHead to float
        Units of ``product`` for each head (missing heads get none). Each value and their sum
        must be in [0, the largest studied dose per calf] (150 U onabotulinumtoxinA, converted
        with the lowest plausible ratio for other products).
    concentration_u_per_ml : float
        Concentration of the reconstituted toxin, in (1, 500] U/mL (see `plan_dilution`).
    product : ToxinProduct, default onabotulinumtoxinA
        Scales the units per point, the per-site maximum and the per-calf ceiling by the cited
        conversion ratio (evidence ``products.*_per_ona_ratio``).
    zones : SafeZones, optional
        Margins and minimum spacing; default :func:`safe_zones` of ``ev``.
    ev : EvidenceBase, optional
        Defaults to the shipped evidence.

    Returns
    -------
    tuple of InjectionSite
        Medial-head sites first, then lateral head, then soleus; each head's sites from the top
        down. ``index`` numbers them 1, 2, ... within the leg.

    Raises
    ------
    InvalidInputError
        If an argument has the wrong type, a head's units are negative or not finite, the
        concentration is out of range, a head with a dose has no usable region, the sites would
        need more than the per-site maximum, or the needle range cannot reach the middle of the
        muscle (the message names the head, the value and the range).
    OutsideEvidenceError
        If a head's units or the leg's total exceed the largest studied dose per calf.

    References
    ----------
    Kim HS et al. 2013, Dermatol Surg (6 points of 8-10 U per calf at 50 U/mL). The margins,
    spacing, depth rule and needle range are assumptions (evidence ``injection.*``, tagged
    inferred): no source read reports them.

    Examples
    --------
    >>> from calfsim.anatomy import build_leg_anatomy
    >>> from calfsim.domain import LegMeasurements, Patient
    >>> leg = build_leg_anatomy(LegMeasurements(calf_girth_cm=37.5, fat_thickness_mm=6.0),
    ...                         Patient(), side=Side.LEFT)
    >>> sites = plan_sites(leg, {MuscleHead.GM_MEDIAL: 36.0, MuscleHead.GM_LATERAL: 19.0},
    ...                    concentration_u_per_ml=50.0)
    >>> [(s.index, s.head.value, s.units_u) for s in sites][:5]
    [(1, 'gm_medial', 9.0), (2, 'gm_medial', 9.0), (3, 'gm_medial', 9.0), (4, 'gm_medial', 9.0), \
(5, 'gm_lateral', 9.5)]
    >>> sum(s.units_u for s in sites), round(sites[0].volume_ml, 2)
    (55.0, 0.18)
    """
    evidence = load_evidence() if ev is None else ev
    _check_anatomy(anatomy)
    product = check_product(product)
    margins = _check_zones(zones, evidence)
    low_c, high_c = CONCENTRATION_RANGE_U_PER_ML
    concentration = check_number(
        "concentration_u_per_ml", concentration_u_per_ml, low_c, high_c, "U/mL"
    )
    doses = _check_head_units(head_units, product, evidence)
    _, ratio, _ = units_per_ona_ratio(product, evidence)
    per_point_u = evidence.number("dosing.consensus_units_per_point_u") * ratio
    max_per_site_u = evidence.number("injection.max_units_per_site_u") * ratio
    preferred_cm = evidence.number("injection.preferred_spacing_cm")
    depth_range_mm = (
        evidence.number("injection.needle_depth_min_mm"),
        evidence.number("injection.needle_depth_max_mm"),
    )
    geometry = _geometry(anatomy, evidence)
    sites: list[InjectionSite] = []
    occupied: list[tuple[float, float]] = []
    for head in _HEADS:
        amount_u = doses.get(head, 0.0)
        if amount_u <= 0.0:
            continue
        region = _region(anatomy, geometry, head, margins)
        wanted = max(1, math.floor(amount_u / per_point_u + 0.5))
        points: list[tuple[float, float]] = []
        if not region.is_empty:
            for spacing_cm in _spacings_cm(
                max(preferred_cm, margins.min_spacing_cm), margins.min_spacing_cm
            ):
                points = _arrange(region, margins, wanted, spacing_cm, occupied)
                if len(points) == wanted:
                    break
        if not points:
            raise InvalidInputError(
                f"{head.value}: no room for an injection site on the {anatomy.side.value} leg "
                f"once the safe zones are applied (usable levels {region.top_cm:.1f}-"
                f"{region.bottom_cm:.1f} cm below the knee crease, offsets "
                f"{region.inner_offset_cm:.1f}-{region.outer_offset_cm:.1f} cm from the "
                "midline); check the leg measurements and the margins",
                field=head.value,
            )
        if amount_u / len(points) > max_per_site_u + 1e-9:
            raise InvalidInputError(
                f"{head.value}: {amount_u:g} U would need {amount_u / len(points):.1f} U at each "
                f"of the {len(points)} sites that fit at {margins.min_spacing_cm:g} cm spacing "
                f"on the {anatomy.side.value} leg; the most per site is {max_per_site_u:g} U. "
                "Lower the dose for this head or the minimum spacing",
                field=head.value,
            )
        units = _split_units(amount_u, len(points))
        placed = sorted(zip(points, units, strict=True), key=lambda pu: (pu[0][0], abs(pu[0][1])))
        for (level_cm, offset_cm), units_u in placed:
            depth_mm = _depth_mm(geometry, head, level_cm, depth_range_mm, anatomy.side)
            sites.append(
                InjectionSite(
                    side=anatomy.side,
                    head=head,
                    index=len(sites) + 1,
                    level_below_knee_cm=level_cm,
                    offset_from_midline_cm=offset_cm,
                    level_frac=level_cm / anatomy.length_cm,
                    depth_mm=depth_mm,
                    units_u=units_u,
                    volume_ml=units_u / concentration,
                )
            )
        occupied.extend(points)
    return tuple(sites)


def _depth_mm(
    geometry: _LegGeometry,
    head: MuscleHead,
    level_cm: float,
    depth_range_mm: tuple[float, float],
    side: Side,
) -> float:
    """Skin + fat + half the muscle at ``level_cm``, clipped to the needle range."""
    above_mm = geometry.at(geometry.skin_mm, level_cm) + geometry.at(geometry.fat_mm, level_cm)
    muscle_mm = geometry.at(geometry.thickness_mm[head], level_cm)
    low_mm, high_mm = depth_range_mm
    depth_mm = min(max(above_mm + muscle_mm / 2.0, low_mm), high_mm)
    if not above_mm < depth_mm < above_mm + muscle_mm:
        raise InvalidInputError(
            f"{head.value}: at {level_cm:.1f} cm below the knee crease on the {side.value} leg "
            f"the muscle lies {above_mm:.1f}-{above_mm + muscle_mm:.1f} mm under the skin, "
            f"outside what the needle range {low_mm:g}-{high_mm:g} mm can reach; check "
            "fat_thickness_mm and gm_thickness_mm",
            field="fat_thickness_mm",
        )
    return depth_mm


# --- validation -------------------------------------------------------------------------------


def _check_anatomy(anatomy: object) -> None:
    if not isinstance(anatomy, LegAnatomy):
        raise InvalidInputError(
            f"anatomy must be a LegAnatomy; got {type(anatomy).__name__}", field="anatomy"
        )


def _check_zones(zones: object, ev: EvidenceBase) -> SafeZones:
    if zones is None:
        return safe_zones(ev)
    if not isinstance(zones, SafeZones):
        raise InvalidInputError(
            f"zones must be SafeZones; got {type(zones).__name__}", field="zones"
        )
    return zones


def _check_head_units(
    head_units: object, product: ToxinProduct, ev: EvidenceBase
) -> dict[MuscleHead, float]:
    if not isinstance(head_units, Mapping):
        raise InvalidInputError(
            f"head_units must map muscle heads to units; got {type(head_units).__name__}",
            field="head_units",
        )
    low_ratio, _, _ = units_per_ona_ratio(product, ev)
    _, ceiling_ona_u = ev.bounds("dosing.study_dose_per_calf_u")
    ceiling_u = ceiling_ona_u * low_ratio
    doses: dict[MuscleHead, float] = {}
    for head, amount in head_units.items():
        if not isinstance(head, MuscleHead):
            raise InvalidInputError(
                f"muscle head must be one of {', '.join(h.value for h in MuscleHead)}; "
                f"got {head!r}",
                field="head_units",
            )
        ok = isinstance(amount, int | float) and not isinstance(amount, bool)
        if not (ok and math.isfinite(amount) and amount >= 0.0):
            raise InvalidInputError(
                f"{head.value} must be a number of units in [0, {ceiling_u:g}] U; got {amount!r}",
                field=head.value,
            )
        if amount > ceiling_u:
            raise OutsideEvidenceError(
                f"{head.value} must be in [0, {ceiling_u:g}] U of {product.value} (the largest "
                f"studied dose per calf, {ceiling_ona_u:g} U onabotulinumtoxinA); got {amount:g}",
                field=head.value,
            )
        doses[head] = float(amount)
    total_u = sum(doses.values())
    if total_u > ceiling_u + 1e-9:
        raise OutsideEvidenceError(
            f"head_units must total at most {ceiling_u:g} U of {product.value} per leg (the "
            f"largest studied dose per calf, {ceiling_ona_u:g} U onabotulinumtoxinA); got "
            f"{total_u:g}",
            field="head_units",
        )
    return doses
