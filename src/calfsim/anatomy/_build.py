"""The layered leg: measurements -> tissue cross-sections along the lower leg.

How a section is filled, at every level (all areas in cm², each section a circle):

1. total area ``A = C² / 4π`` from the girth profile;
2. skin: the outer ring of constant thickness;
3. fat: the next ring. Its thickness at the calf level is the measured (or default) one; along
   the leg it stays proportional to the local radius, so fat is a constant fraction of the area
   inside the skin;
4. bone (tibia + fibula): constant area, never more than what is left;
5. muscle: the rest, split into the medial and lateral gastrocnemius heads, the soleus and the
   other compartments. Each head's area is its calf-level area times a smooth longitudinal
   shape (1 at the calf level); the other compartments take what remains.

At the calf level the head areas are fractions of the muscle area, calibrated so that the
reference woman's section (``anatomy.reference_calf_girth_cm``, default fat) has exactly the
evidence shares (``anatomy.*_share_calf_level_frac``); the same fractions of muscle are used
for every leg and both sexes. An ultrasound gastrocnemius thickness replaces the medial head's
calf-level area (thickness x ``anatomy.mg_ultrasound_width_cm``) and scales the lateral head with
it; the soleus and other compartments share what is left in their default proportion.
"""

from __future__ import annotations

import math

import numpy as np

from calfsim.anatomy._leg import LegAnatomy
from calfsim.anatomy._params import AnatomyParams, default_params
from calfsim.anatomy._profile import bump, girth_profile_cm, levels_cm
from calfsim.anatomy._tissue import Tissue, annulus_area_cm2
from calfsim.domain import MEASUREMENT_LIMITS, LegMeasurements, MuscleHead, Patient, Sex, Side
from calfsim.errors import InvalidInputError
from calfsim.units import MM_PER_CM

__all__ = ["build_leg_anatomy"]

#: Fewer levels cannot place the three landmarks on distinct grid nodes with room between them;
#: more than this only costs time (the profile is smooth at the 1-cm scale).
_N_LEVELS_RANGE = (11, 2001)
_HEADS = (MuscleHead.GM_MEDIAL, MuscleHead.GM_LATERAL, MuscleHead.SOLEUS)


def _reference_muscle_fracs(params: AnatomyParams) -> dict[MuscleHead, float]:
    """Muscle fractions (area of each muscle / all muscle) at the reference calf level.

    The evidence gives shares of the whole section for the reference woman; dividing by her
    muscle share (section minus skin, default fat and bone) turns them into fractions of muscle.
    """
    girth_cm = params.reference_calf_girth_cm
    total_cm2 = girth_cm**2 / (4.0 * math.pi)
    radius_cm = girth_cm / (2.0 * math.pi)
    core_radius_cm = (
        radius_cm - (params.skin_thickness_mm + params.female.fat_thickness_mm) / MM_PER_CM
    )
    muscle_cm2 = math.pi * max(core_radius_cm, 0.0) ** 2 - params.bone_area_cm2
    shares = {
        MuscleHead.GM_MEDIAL: params.mg_share_frac,
        MuscleHead.GM_LATERAL: params.lg_share_frac,
        MuscleHead.SOLEUS: params.soleus_share_frac,
    }
    if muscle_cm2 <= sum(shares.values()) * total_cm2:
        raise InvalidInputError(
            "the reference section has less muscle than the muscle shares need; check "
            "reference_calf_girth_cm, the layer thicknesses and the shares",
            field="reference_calf_girth_cm",
        )
    return {head: share * total_cm2 / muscle_cm2 for head, share in shares.items()}


def _clip_to_limits(name: str, value: float) -> tuple[float, bool]:
    low, high, _unit = MEASUREMENT_LIMITS[name]
    clipped = min(max(value, low), high)
    return clipped, clipped != value


def build_leg_anatomy(
    leg: LegMeasurements,
    patient: Patient,
    *,
    side: Side,
    n_levels: int = 61,
    params: AnatomyParams | None = None,
) -> LegAnatomy:
    r"""Build the layered anatomy of one lower leg from its measurements.

    Missing measurements are filled from sex-specific anthropometric defaults; when the
    patient's sex is unknown the **female** defaults are used (most calf-reduction patients are
    women) and the result says so (``is_sex_assumed``). Defaults: ankle girth = calf girth /
    calf-to-ankle ratio (ANSUR II); knee girth = calf girth x knee-to-calf ratio (bdims);
    lower-leg length = the ANSUR II mean, or a fixed fraction of the height when the height is
    known; fat thickness 7 mm for women (middle of the S10 'moderate' class), 29% thinner for
    men (Weiss 1985); the medial gastrocnemius thickness is estimated from the model.

    The girth profile passes through the knee girth at the joint line (capped just below the
    calf girth so that the calf level stays the maximum), the calf girth at 30% of the leg
    length and the ankle girth at 87% (the level of the minimal girth is an assumption; the
    evidence gives no level).

    Parameters
    ----------
    leg : LegMeasurements
        Measurements of this leg; only ``calf_girth_cm`` is required.
    patient : Patient
        Sex and height choose and scale the defaults.
    side : Side
        Which leg (does not change the anatomy: left and right are mirror images).
    n_levels : int, default 61
        Number of levels from the knee joint line to the ankle, in [11, 2001].
    params : AnatomyParams, optional
        Model parameters; defaults to the shipped evidence.

    Returns
    -------
    LegAnatomy

    Raises
    ------
    InvalidInputError
        If an argument has the wrong type, ``n_levels`` is out of range, or the ultrasound
        thicknesses (``fat_thickness_mm``, ``gm_thickness_mm``) cannot fit inside the measured
        calf girth (the message names the fields and values).

    References
    ----------
    Every number is an evidence item (``anatomy.*``, ``anthropometry.*``) with its citation.
    Main sources: Gordon CC et al. 2014, ANSUR II (girths, lengths); Heinz G et al. 2003, bdims
    (knee girth); Fukunaga T et al. 1992, J Orthop Res 10:926-934 (volumes, ACSA); Antonios T,
    Adds PJ 2008, doi:10.1002/ca.20533 (LG ends 1.74 cm above MG); Weiss L, Clark F 1985,
    doi:10.1093/ptj/65.4.477 (sex differences in fat and muscle thickness).

    Examples
    --------
    >>> from calfsim.domain import LegMeasurements, Patient, Sex, Side
    >>> leg = build_leg_anatomy(LegMeasurements(calf_girth_cm=36.3), Patient(sex=Sex.FEMALE),
    ...                         side=Side.LEFT)
    >>> leg.calf_level_cm, leg.calf_girth_cm, float(leg.girth_cm.max())
    (11.25, 36.3, 36.3)
    >>> sorted(leg.defaulted)[:3]
    ['ankle_girth_cm', 'fat_thickness_mm', 'gm_thickness_mm']
    >>> round(float(leg.area_cm2[Tissue.GM_MEDIAL][leg.calf_level_index]), 1)
    16.0
    """
    if not isinstance(leg, LegMeasurements):
        raise InvalidInputError(f"leg must be LegMeasurements; got {leg!r}", field="leg")
    if not isinstance(patient, Patient):
        raise InvalidInputError(f"patient must be a Patient; got {patient!r}", field="patient")
    if not isinstance(side, Side):
        raise InvalidInputError(
            f"side must be one of {', '.join(s.value for s in Side)}; got {side!r}", field="side"
        )
    low, high = _N_LEVELS_RANGE
    if isinstance(n_levels, bool) or not isinstance(n_levels, int) or not low <= n_levels <= high:
        raise InvalidInputError(
            f"n_levels must be an integer in [{low}, {high}]; got {n_levels!r}", field="n_levels"
        )
    p = default_params() if params is None else params
    if not isinstance(p, AnatomyParams):
        raise InvalidInputError(f"params must be AnatomyParams; got {p!r}", field="params")
    return _build(leg, patient, side=side, n_levels=n_levels, params=p)


def _build(
    leg: LegMeasurements, patient: Patient, *, side: Side, n_levels: int, params: AnatomyParams
) -> LegAnatomy:
    notes: list[str] = []
    is_sex_assumed = patient.sex is None
    sex = Sex.FEMALE if patient.sex is None else patient.sex
    if is_sex_assumed:
        notes.append("Sex unknown: female anthropometric defaults were used.")
    sex_defaults = params.for_sex(sex)
    calf_cm = leg.calf_girth_cm

    # --- measurements, with defaults ------------------------------------------------------
    filled: dict[str, float] = {}
    ankle_cm = leg.ankle_girth_cm
    if ankle_cm is None:
        ankle_cm, _ = _clip_to_limits("ankle_girth_cm", calf_cm / sex_defaults.calf_to_ankle_ratio)
        filled["ankle_girth_cm"] = ankle_cm
    knee_cm = leg.knee_girth_cm
    if knee_cm is None:
        knee_cm, _ = _clip_to_limits("knee_girth_cm", calf_cm * sex_defaults.knee_to_calf_ratio)
        filled["knee_girth_cm"] = knee_cm
    length_cm = leg.lower_leg_length_cm
    if length_cm is None:
        if patient.height_cm is not None:
            length_cm = patient.height_cm * sex_defaults.lower_leg_to_stature_ratio
            notes.append(f"Lower-leg length estimated from the height: {length_cm:.1f} cm.")
        else:
            length_cm = sex_defaults.lower_leg_length_cm
        length_cm, _ = _clip_to_limits("lower_leg_length_cm", length_cm)
        filled["lower_leg_length_cm"] = length_cm
    fat_mm = leg.fat_thickness_mm
    if fat_mm is None:
        fat_mm = sex_defaults.fat_thickness_mm
        filled["fat_thickness_mm"] = fat_mm

    # --- levels and girth profile ---------------------------------------------------------
    calf_level_cm = params.calf_level_frac * length_cm
    ankle_level_cm = params.ankle_level_frac * length_cm
    z_cm = levels_cm(length_cm, n_levels, snap_cm=(calf_level_cm, ankle_level_cm))
    calf_index = int(np.argmin(np.abs(z_cm - calf_level_cm)))
    knee_profile_cm = min(knee_cm, params.knee_profile_max_calf_ratio * calf_cm)
    if leg.knee_girth_cm is not None and knee_profile_cm < knee_cm:
        notes.append(
            f"The knee girth ({knee_cm:g} cm) is close to or above the calf girth; the profile "
            f"uses {knee_profile_cm:.1f} cm at the knee joint line so that the calf level stays "
            "the maximum."
        )
    girth_cm = girth_profile_cm(
        z_cm,
        knee_girth_cm=knee_profile_cm,
        calf_level_cm=calf_level_cm,
        calf_girth_cm=calf_cm,
        ankle_level_cm=ankle_level_cm,
        ankle_girth_cm=ankle_cm,
        length_cm=length_cm,
    )
    girth_cm[calf_index] = calf_cm  # exact at the landmark (the interpolant is, up to round-off)

    # --- layers ---------------------------------------------------------------------------
    total_cm2 = girth_cm**2 / (4.0 * math.pi)
    skin_cm = params.skin_thickness_mm / MM_PER_CM
    skin_cm2 = annulus_area_cm2(girth_cm, skin_cm)
    inner_cm2 = total_cm2 - skin_cm2
    calf_inner_radius_cm = calf_cm / (2.0 * math.pi) - skin_cm
    fat_frac = 1.0 - (1.0 - fat_mm / MM_PER_CM / calf_inner_radius_cm) ** 2
    fat_cm2 = inner_cm2 * fat_frac
    core_cm2 = inner_cm2 - fat_cm2
    bone_cm2 = np.minimum(params.bone_area_cm2, core_cm2)
    muscle_cm2 = core_cm2 - bone_cm2

    # --- muscles at the calf level ----------------------------------------------------------
    fracs = _reference_muscle_fracs(params)
    calf_muscle_cm2 = float(muscle_cm2[calf_index])
    calf_total_cm2 = float(total_cm2[calf_index])
    if leg.gm_thickness_mm is not None:
        mg_cm2 = leg.gm_thickness_mm / MM_PER_CM * params.mg_ultrasound_width_cm
        lg_cm2 = mg_cm2 * params.lg_share_frac / params.mg_share_frac
    else:
        mg_cm2 = fracs[MuscleHead.GM_MEDIAL] * calf_muscle_cm2
        lg_cm2 = fracs[MuscleHead.GM_LATERAL] * calf_muscle_cm2
    remainder_cm2 = calf_muscle_cm2 - mg_cm2 - lg_cm2
    floor_cm2 = params.remainder_min_share_frac * calf_total_cm2
    if remainder_cm2 < floor_cm2:
        raise _does_not_fit(leg, fat_mm, remainder_cm2, floor_cm2, calf_total_cm2)
    other_frac = 1.0 - sum(fracs.values())
    soleus_cm2 = remainder_cm2 * fracs[MuscleHead.SOLEUS] / (fracs[MuscleHead.SOLEUS] + other_frac)

    # --- muscles along the leg --------------------------------------------------------------
    x = z_cm / length_cm
    x_calf = float(x[calf_index])
    mg_end = params.mg_end_frac
    lg_end = mg_end - params.lg_end_offset_cm / length_cm
    if not lg_end > x_calf:
        raise InvalidInputError(
            f"with a lower-leg length of {length_cm:g} cm the lateral gastrocnemius would end "
            f"above the calf level (mg_end_frac - lg_end_offset_cm / length = {lg_end:.3f} <= "
            f"calf_level_frac = {x_calf:.3f}); check lower_leg_length_cm and the parameters",
            field="lower_leg_length_cm",
        )
    origin = -params.gm_origin_above_knee_frac
    shapes = {
        MuscleHead.GM_MEDIAL: bump(x, start=origin, peak=x_calf, end=mg_end),
        MuscleHead.GM_LATERAL: bump(x, start=origin, peak=x_calf, end=lg_end),
        MuscleHead.SOLEUS: bump(
            x,
            start=params.soleus_origin_frac,
            peak=params.soleus_peak_frac,
            end=params.soleus_end_frac,
        ),
    }
    calf_areas = {
        MuscleHead.GM_MEDIAL: mg_cm2,
        MuscleHead.GM_LATERAL: lg_cm2,
        MuscleHead.SOLEUS: soleus_cm2,
    }
    heads_cm2 = {
        head: calf_areas[head] * shapes[head] / shapes[head][calf_index] for head in _HEADS
    }
    heads_sum_cm2 = sum(heads_cm2.values())
    # Where the heads would not fit (only far from the calf level, with extreme inputs), shrink
    # them together so that the other compartments are empty rather than negative.
    scale = np.where(
        heads_sum_cm2 > muscle_cm2, muscle_cm2 / np.maximum(heads_sum_cm2, 1e-300), 1.0
    )
    heads_cm2 = {head: area * scale for head, area in heads_cm2.items()}
    other_cm2 = np.maximum(muscle_cm2 - sum(heads_cm2.values()), 0.0)

    # --- the filled measurements ----------------------------------------------------------
    if leg.gm_thickness_mm is None:
        gm_mm = float(heads_cm2[MuscleHead.GM_MEDIAL][calf_index]) / params.mg_ultrasound_width_cm
        gm_mm, is_clipped = _clip_to_limits("gm_thickness_mm", gm_mm * MM_PER_CM)
        filled["gm_thickness_mm"] = gm_mm
        if is_clipped:
            notes.append(
                f"The estimated gastrocnemius thickness was clipped to {gm_mm:g} mm (the "
                "accepted range)."
            )
    measurements = LegMeasurements(
        calf_girth_cm=calf_cm,
        ankle_girth_cm=filled.get("ankle_girth_cm", leg.ankle_girth_cm),
        knee_girth_cm=filled.get("knee_girth_cm", leg.knee_girth_cm),
        lower_leg_length_cm=filled.get("lower_leg_length_cm", leg.lower_leg_length_cm),
        fat_thickness_mm=filled.get("fat_thickness_mm", leg.fat_thickness_mm),
        gm_thickness_mm=filled.get("gm_thickness_mm", leg.gm_thickness_mm),
    )
    return LegAnatomy(
        side=side,
        sex=sex,
        is_sex_assumed=is_sex_assumed,
        measurements=measurements,
        defaulted=frozenset(filled),
        levels_cm=z_cm,
        girth_cm=girth_cm,
        area_cm2={
            Tissue.SKIN: skin_cm2,
            Tissue.FAT: fat_cm2,
            Tissue.GM_MEDIAL: heads_cm2[MuscleHead.GM_MEDIAL],
            Tissue.GM_LATERAL: heads_cm2[MuscleHead.GM_LATERAL],
            Tissue.SOLEUS: heads_cm2[MuscleHead.SOLEUS],
            Tissue.OTHER_MUSCLE: other_cm2,
            Tissue.BONE: bone_cm2,
        },
        calf_level_index=calf_index,
        notes=tuple(notes),
    )


def _does_not_fit(
    leg: LegMeasurements,
    fat_mm: float,
    remainder_cm2: float,
    floor_cm2: float,
    calf_total_cm2: float,
) -> InvalidInputError:
    """Build the error for ultrasound thicknesses that leave too little room in the girth."""
    given = [
        f"{name} = {getattr(leg, name):g} mm"
        for name in ("fat_thickness_mm", "gm_thickness_mm")
        if getattr(leg, name) is not None
    ]
    what = " and ".join(given) if given else f"the default fat thickness ({fat_mm:g} mm)"
    field_name = "gm_thickness_mm" if leg.gm_thickness_mm is not None else "fat_thickness_mm"
    return InvalidInputError(
        f"{what} cannot fit inside a calf girth of {leg.calf_girth_cm:g} cm: skin, fat, bone and "
        f"the gastrocnemius would leave {max(remainder_cm2, 0.0):.1f} cm² for the soleus and the "
        f"other compartments, below the minimum {floor_cm2:.1f} cm² "
        f"({floor_cm2 / calf_total_cm2:.0%} of the section). Check the thicknesses (mm) and "
        "the girth (cm).",
        field=field_name,
    )
