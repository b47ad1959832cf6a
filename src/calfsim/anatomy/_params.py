"""Parameters of the layered leg, read from the evidence data (topics anatomy, anthropometry).

Every number the anatomy model uses is a field here, and every field comes from one evidence
item (named beside it). Researchers can recalibrate with :func:`dataclasses.replace`.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, fields
from functools import cache

from calfsim.domain import Sex
from calfsim.errors import InvalidInputError
from calfsim.evidence import EvidenceBase, load_evidence

__all__ = ["AnatomyParams", "SexDefaults", "default_params"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SexDefaults:
    """Anthropometric defaults of one sex, used for measurements that were not taken.

    Attributes
    ----------
    calf_to_ankle_ratio : float
        Calf girth / ankle girth (``anthropometry.calf_to_ankle_{women,men}_ratio``).
    knee_to_calf_ratio : float
        Knee girth / calf girth (``anthropometry.knee_to_calf_{women,men}_ratio``).
    lower_leg_length_cm : float
        Knee joint line to lateral malleolus (``anthropometry.lower_leg_length_{women,men}_cm``).
    lower_leg_to_stature_ratio : float
        Lower-leg length / stature, used when the height is known
        (``anthropometry.lower_leg_to_stature_{women,men}_ratio``).
    fat_thickness_mm : float
        Subcutaneous fat thickness at the calf level (``anatomy.fat_thickness_women_mm``; men
        times ``anatomy.fat_men_to_women_ratio``).
    """

    calf_to_ankle_ratio: float
    knee_to_calf_ratio: float
    lower_leg_length_cm: float
    lower_leg_to_stature_ratio: float
    fat_thickness_mm: float

    def __post_init__(self) -> None:
        _check_positive(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class AnatomyParams:
    """Every number of the anatomy model, with its evidence key.

    Fractions along the leg are of the lower-leg length, measured down from the knee joint line.

    Attributes
    ----------
    female, male : SexDefaults
        Anthropometric defaults by sex.
    calf_level_frac : float
        Level of the maximal calf girth (``anatomy.calf_level_frac``).
    ankle_level_frac : float
        Level of the minimal (ankle) girth above the malleoli (``anatomy.ankle_level_frac``).
    knee_profile_max_calf_ratio : float
        Cap on the profile's girth at the knee joint line, relative to the calf girth, so that
        the calf level stays the maximum (``anatomy.knee_profile_max_calf_ratio``).
    skin_thickness_mm : float
        ``anatomy.skin_thickness_mm``.
    bone_area_cm2 : float
        Tibia + fibula, constant along the leg (``anatomy.bone_area_cm2``).
    reference_calf_girth_cm : float
        Calf girth of the reference woman at which the section shares hold exactly
        (``anatomy.reference_calf_girth_cm``).
    mg_share_frac, lg_share_frac, soleus_share_frac : float
        Area of each muscle / whole section at the calf level of the reference woman
        (``anatomy.{mg,lg,soleus}_share_calf_level_frac``).
    remainder_min_share_frac : float
        Smallest share of the section at the calf level left for the soleus and the other
        compartments (``anatomy.remainder_min_share_frac``).
    mg_ultrasound_width_cm : float
        Medial gastrocnemius area = ultrasound thickness x this width
        (``anatomy.mg_ultrasound_width_cm``).
    gm_origin_above_knee_frac : float
        The gastrocnemius bellies start this far above the knee joint line
        (``anatomy.gm_origin_above_knee_frac``).
    mg_end_frac : float
        Distal end of the medial belly (``anatomy.mg_end_frac``).
    lg_end_offset_cm : float
        The lateral belly ends this much more proximally (``anatomy.lg_end_offset_cm``).
    soleus_origin_frac, soleus_peak_frac, soleus_end_frac : float
        Start, bulk peak and end of the soleus (``anatomy.soleus_{origin,peak,end}_frac``).
    """

    female: SexDefaults
    male: SexDefaults
    calf_level_frac: float
    ankle_level_frac: float
    knee_profile_max_calf_ratio: float
    skin_thickness_mm: float
    bone_area_cm2: float
    reference_calf_girth_cm: float
    mg_share_frac: float
    lg_share_frac: float
    soleus_share_frac: float
    remainder_min_share_frac: float
    mg_ultrasound_width_cm: float
    gm_origin_above_knee_frac: float
    mg_end_frac: float
    lg_end_offset_cm: float
    soleus_origin_frac: float
    soleus_peak_frac: float
    soleus_end_frac: float

    def __post_init__(self) -> None:
        for name in ("female", "male"):
            if not isinstance(getattr(self, name), SexDefaults):
                raise InvalidInputError(f"{name} must be a SexDefaults", field=name)
        _check_positive(self, allow_zero=("gm_origin_above_knee_frac",))
        _check_order("calf_level_frac < mg_end_frac < 1", self.calf_level_frac, self.mg_end_frac, 1)
        _check_order(
            "calf_level_frac < ankle_level_frac < 1", self.calf_level_frac, self.ankle_level_frac, 1
        )
        _check_order(
            "soleus_origin_frac < calf_level_frac", self.soleus_origin_frac, self.calf_level_frac
        )
        _check_order(
            "soleus_origin_frac < soleus_peak_frac < soleus_end_frac <= 1",
            self.soleus_origin_frac,
            self.soleus_peak_frac,
            self.soleus_end_frac,
            1 + 1e-12,  # the soleus may end exactly at the ankle
        )
        shares = self.mg_share_frac + self.lg_share_frac + self.soleus_share_frac
        if not shares + self.remainder_min_share_frac < 1.0:
            raise InvalidInputError(
                "mg_share_frac + lg_share_frac + soleus_share_frac + remainder_min_share_frac "
                f"must be below 1; got {shares + self.remainder_min_share_frac:.3f}",
                field="mg_share_frac",
            )
        if not self.knee_profile_max_calf_ratio < 1.0:
            raise InvalidInputError(
                "knee_profile_max_calf_ratio must be below 1 so that the calf level is the "
                f"maximum of the profile; got {self.knee_profile_max_calf_ratio}",
                field="knee_profile_max_calf_ratio",
            )

    def for_sex(self, sex: Sex) -> SexDefaults:
        """Return the defaults of ``sex``."""
        return self.male if sex is Sex.MALE else self.female

    @classmethod
    def from_evidence(cls, evidence: EvidenceBase | None = None) -> AnatomyParams:
        """Read every parameter from the evidence base.

        Parameters
        ----------
        evidence : EvidenceBase, optional
            Defaults to the shipped data (:func:`calfsim.evidence.load_evidence`).

        Returns
        -------
        AnatomyParams

        Raises
        ------
        EvidenceDataError
            If an item is missing or not a number.

        Examples
        --------
        >>> AnatomyParams.from_evidence().calf_level_frac
        0.3
        """
        ev = load_evidence() if evidence is None else evidence

        def a(key: str) -> float:
            return ev.number(f"anatomy.{key}")

        def h(key: str) -> float:
            return ev.number(f"anthropometry.{key}")

        fat_women_mm = a("fat_thickness_women_mm")
        female = SexDefaults(
            calf_to_ankle_ratio=h("calf_to_ankle_women_ratio"),
            knee_to_calf_ratio=h("knee_to_calf_women_ratio"),
            lower_leg_length_cm=h("lower_leg_length_women_cm"),
            lower_leg_to_stature_ratio=h("lower_leg_to_stature_women_ratio"),
            fat_thickness_mm=fat_women_mm,
        )
        male = SexDefaults(
            calf_to_ankle_ratio=h("calf_to_ankle_men_ratio"),
            knee_to_calf_ratio=h("knee_to_calf_men_ratio"),
            lower_leg_length_cm=h("lower_leg_length_men_cm"),
            lower_leg_to_stature_ratio=h("lower_leg_to_stature_men_ratio"),
            fat_thickness_mm=fat_women_mm * a("fat_men_to_women_ratio"),
        )
        return cls(
            female=female,
            male=male,
            calf_level_frac=a("calf_level_frac"),
            ankle_level_frac=a("ankle_level_frac"),
            knee_profile_max_calf_ratio=a("knee_profile_max_calf_ratio"),
            skin_thickness_mm=a("skin_thickness_mm"),
            bone_area_cm2=a("bone_area_cm2"),
            reference_calf_girth_cm=a("reference_calf_girth_cm"),
            mg_share_frac=a("mg_share_calf_level_frac"),
            lg_share_frac=a("lg_share_calf_level_frac"),
            soleus_share_frac=a("soleus_share_calf_level_frac"),
            remainder_min_share_frac=a("remainder_min_share_frac"),
            mg_ultrasound_width_cm=a("mg_ultrasound_width_cm"),
            gm_origin_above_knee_frac=a("gm_origin_above_knee_frac"),
            mg_end_frac=a("mg_end_frac"),
            lg_end_offset_cm=a("lg_end_offset_cm"),
            soleus_origin_frac=a("soleus_origin_frac"),
            soleus_peak_frac=a("soleus_peak_frac"),
            soleus_end_frac=a("soleus_end_frac"),
        )


@cache
def default_params() -> AnatomyParams:
    """Return the parameters read from the shipped evidence (cached).

    Examples
    --------
    >>> default_params() is default_params()
    True
    """
    return AnatomyParams.from_evidence()


def _check_positive(obj: object, *, allow_zero: tuple[str, ...] = ()) -> None:
    """Raise unless every float field of ``obj`` is finite and positive (or zero if allowed)."""
    for f in fields(obj):  # type: ignore[arg-type]
        value = getattr(obj, f.name)
        if isinstance(value, SexDefaults):
            continue
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        ok = ok and math.isfinite(value) and (value > 0 or (f.name in allow_zero and value == 0))
        if not ok:
            bound = ">= 0" if f.name in allow_zero else "> 0"
            raise InvalidInputError(
                f"{f.name} must be a finite number {bound}; got {value!r}", field=f.name
            )


def _check_order(what: str, *values: float) -> None:
    """Raise unless ``values`` are strictly increasing; the first name in ``what`` is blamed."""
    if not all(x < y for x, y in itertools.pairwise(values)):
        raise InvalidInputError(
            f"need {what}; got {', '.join(f'{v:g}' for v in values)}",
            field=what.split(" ", 1)[0],
        )
