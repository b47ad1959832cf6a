"""Measurements of a person and of each lower leg, validated for plausibility.

The accepted ranges are input checks, not clinical parameters: they are several standard
deviations wider than the anthropometric spread (ANSUR II women calf 37.3 ± 2.9 cm, men
39.2 ± 3.0 cm; ankle 21.6 ± 1.5 / 22.9 ± 1.5 cm; evidence item ``anthropometry.*``), wide
enough for very slim and very muscular or obese legs, and narrow enough to catch a value typed
in the wrong unit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from calfsim.domain._checks import check_range, raise_all
from calfsim.domain._vocabulary import Sex
from calfsim.errors import InvalidInputError
from calfsim.units import CM_PER_INCH, KG_PER_LB, MM_PER_CM

__all__ = ["MEASUREMENT_LIMITS", "LegMeasurements", "Patient"]

#: (low, high, unit) accepted for each field.
MEASUREMENT_LIMITS: dict[str, tuple[float, float, str]] = {
    "calf_girth_cm": (20.0, 70.0, "cm"),
    "ankle_girth_cm": (14.0, 45.0, "cm"),
    "knee_girth_cm": (22.0, 70.0, "cm"),
    "lower_leg_length_cm": (25.0, 60.0, "cm"),
    "fat_thickness_mm": (0.5, 60.0, "mm"),
    "gm_thickness_mm": (5.0, 50.0, "mm"),
    "age_years": (10.0, 110.0, "years"),
    "height_cm": (120.0, 230.0, "cm"),
    "weight_kg": (25.0, 300.0, "kg"),
}


def _inch_hint(value: float, low: float, high: float) -> str:
    """Suggest inches when ``value`` fits the range once converted from inches."""
    if low <= value * CM_PER_INCH <= high:
        return (
            f"{value:g} looks like inches ({value * CM_PER_INCH:.1f} cm); "
            "enter centimetres or convert at the edge"
        )
    return ""


def _check(field: str, value: float | None, *, unit_hint: str = "") -> float | None:
    if value is None:
        return None
    low, high, unit = MEASUREMENT_LIMITS[field]
    hint = unit_hint
    if unit == "cm" and isinstance(value, int | float) and not isinstance(value, bool):
        hint = hint or _inch_hint(float(value), low, high)
    if unit == "mm" and isinstance(value, int | float) and not isinstance(value, bool):
        if value < low and low <= value * 10 <= high:
            hint = f"{value:g} looks like centimetres ({value * 10:g} mm)"
    return check_range(field, value, low, high, unit, hint=hint)


@dataclass(frozen=True, slots=True, kw_only=True)
class LegMeasurements:
    """Tape and ultrasound measurements of one lower leg.

    Parameters
    ----------
    calf_girth_cm : float
        Maximal calf girth, standing, tape horizontal (required).
    ankle_girth_cm, knee_girth_cm : float, optional
        Minimal girth above the malleoli; girth at the knee joint line.
    lower_leg_length_cm : float, optional
        Knee joint line to the lateral malleolus.
    fat_thickness_mm : float, optional
        Subcutaneous fat thickness over the medial gastrocnemius by ultrasound, at the level of
        maximal girth.
    gm_thickness_mm : float, optional
        Medial gastrocnemius thickness by ultrasound at the level of maximal girth.

    Raises
    ------
    InvalidInputError
        If a value is outside its accepted range (the message names the field, the value and
        the range) or the ankle is not thinner than the calf.

    Examples
    --------
    >>> LegMeasurements(calf_girth_cm=36.3).calf_girth_cm
    36.3
    """

    calf_girth_cm: float
    ankle_girth_cm: float | None = None
    knee_girth_cm: float | None = None
    lower_leg_length_cm: float | None = None
    fat_thickness_mm: float | None = None
    gm_thickness_mm: float | None = None

    def __post_init__(self) -> None:
        errors: list[InvalidInputError] = []
        for name in (
            "calf_girth_cm",
            "ankle_girth_cm",
            "knee_girth_cm",
            "lower_leg_length_cm",
            "fat_thickness_mm",
            "gm_thickness_mm",
        ):
            try:
                object.__setattr__(self, name, _check(name, getattr(self, name)))
            except InvalidInputError as exc:
                errors.append(exc)
        raise_all(errors)
        if self.ankle_girth_cm is not None and self.ankle_girth_cm >= self.calf_girth_cm:
            raise InvalidInputError(
                f"ankle_girth_cm must be smaller than calf_girth_cm ({self.calf_girth_cm:g} cm); "
                f"got {self.ankle_girth_cm:g}",
                field="ankle_girth_cm",
            )
        if self.knee_girth_cm is not None and self.knee_girth_cm <= 0.75 * self.calf_girth_cm:
            # The knee is never much thinner than the calf below it (bdims: knee 35.3 ± 2.6 cm
            # vs calf 35.0 ± 2.6 cm in women); a knee below 3/4 of the calf is a typing error.
            raise InvalidInputError(
                f"knee_girth_cm must be more than 0.75 × calf_girth_cm "
                f"({0.75 * self.calf_girth_cm:.1f} cm); got {self.knee_girth_cm:g}",
                field="knee_girth_cm",
            )
        if self.fat_thickness_mm is not None:
            # The fat layer cannot take up the whole radius of the section.
            radius_mm = self.calf_girth_cm * MM_PER_CM / (2 * math.pi)
            if self.fat_thickness_mm > 0.5 * radius_mm:
                raise InvalidInputError(
                    f"fat_thickness_mm must be at most half the calf radius "
                    f"({0.5 * radius_mm:.0f} mm for a {self.calf_girth_cm:g} cm calf); "
                    f"got {self.fat_thickness_mm:g}",
                    field="fat_thickness_mm",
                )


@dataclass(frozen=True, slots=True, kw_only=True)
class Patient:
    """Person-level data; every field optional (defaults come from the evidence).

    No identifiers: names, dates of birth and record numbers never enter the core.

    Examples
    --------
    >>> Patient(sex=Sex.FEMALE, height_cm=160).bmi is None
    True
    """

    sex: Sex | None = None
    age_years: float | None = None
    height_cm: float | None = None
    weight_kg: float | None = None

    def __post_init__(self) -> None:
        if self.sex is not None and not isinstance(self.sex, Sex):
            raise InvalidInputError(
                f"sex must be one of {', '.join(s.value for s in Sex)}; got {self.sex!r}",
                field="sex",
            )
        errors: list[InvalidInputError] = []
        for name, hint in (
            ("age_years", ""),
            ("height_cm", ""),
            ("weight_kg", self._pound_hint()),
        ):
            try:
                object.__setattr__(self, name, _check(name, getattr(self, name), unit_hint=hint))
            except InvalidInputError as exc:
                errors.append(exc)
        raise_all(errors)

    def _pound_hint(self) -> str:
        w = self.weight_kg
        if isinstance(w, int | float) and not isinstance(w, bool) and w > 300:
            return f"{w:g} looks like pounds ({w * KG_PER_LB:.0f} kg)"
        return ""

    @property
    def bmi(self) -> float | None:
        """Body-mass index in kg/m², or None when height or weight is missing."""
        if self.height_cm is None or self.weight_kg is None:
            return None
        return self.weight_kg / (self.height_cm / 100.0) ** 2
