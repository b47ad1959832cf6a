"""HTML forms of the pages → the intake contract (the same JSON as ``calfsim plan``).

Form values are strings; here they become the intake's JSON values: "yes"/"no"/"" answers
become true/false/null ("not asked"), lengths typed in inches become centimetres (the only
unit conversion, at the edge, through `calfsim.units`). Validation itself is the intake
parser's, so the page shows the same messages as the CLI and the API.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from calfsim.domain import ToxinProduct
from calfsim.evidence import EvidenceBase
from calfsim.planner import ScreeningAnswers
from calfsim.units import cm_from_inch

__all__ = [
    "LENGTH_UNITS",
    "PRODUCT_CHOICES",
    "QUESTIONS",
    "FormProblems",
    "Question",
    "intake_from_form",
    "product_choices",
]

LENGTH_UNITS = ("cm", "in")


@dataclass(frozen=True, slots=True)
class Question:
    """One yes/no question of the screening form."""

    name: str
    text: str
    hint: str = ""
    group: str = "health"


#: The screening questions in plain words, in the order of `ScreeningAnswers.names`.
QUESTIONS: tuple[Question, ...] = (
    Question("infection_at_site", "Do you have an infection on your calves right now?"),
    Question(
        "skin_condition_at_site",
        "Any other skin condition where the injections would go?",
        "A rash, eczema, a wound or a tattoo still healing.",
    ),
    Question(
        "neuromuscular_disease",
        "Do you have a disease of the nerves or muscles?",
        "For example myasthenia gravis, Lambert-Eaton syndrome or ALS.",
    ),
    Question(
        "toxin_hypersensitivity",
        "Have you ever reacted badly (allergy) to a botulinum toxin product?",
    ),
    Question(
        "cows_milk_protein_allergy",
        "Are you allergic to cow's-milk protein?",
        "This rules out one product (Dysport).",
    ),
    Question(
        "pregnant_or_breastfeeding",
        "Are you pregnant or breast-feeding?",
        "Leave blank if it does not apply to you.",
    ),
    Question(
        "aminoglycosides",
        "Are you taking aminoglycoside antibiotics or another muscle relaxant?",
        "Such as gentamicin, amikacin, tobramycin or neomycin.",
        "medicines",
    ),
    Question(
        "anticoagulants",
        "Do you take blood thinners?",
        "Anticoagulants or antiplatelet drugs, including daily aspirin.",
        "medicines",
    ),
    Question("bleeding_disorder", "Do you have a bleeding disorder?", "", "medicines"),
    Question(
        "athlete_or_calf_power_work",
        "Do you run, jump or cycle competitively, or need calf power at work?",
        "Weaker calves may matter to you.",
        "calves",
    ),
    Question(
        "calf_fat_dominant",
        "Does your calf feel mostly soft (fat) rather than firm (muscle)?",
        "",
        "calves",
    ),
    Question(
        "heel_raise_bulge",
        "Does your calf muscle bulge when you rise onto your toes?",
        "Stand, rise onto your toes and look at the back of your calf.",
        "calves",
    ),
    Question(
        "expects_permanent_result",
        "Do you expect the result to be permanent?",
        "",
        "expectations",
    ),
)

_ANSWERS = {"yes": True, "no": False, "": None}


def product_choices(ev: EvidenceBase) -> list[tuple[str, str]]:
    """Return (value, label) of every product, labelled with its brand names from evidence."""
    brands: dict[str, str] = {}
    for entry in ev.item("products.brand_names").value:
        generic, _, names = str(entry).partition(":")
        brands[generic.strip()] = names.strip()
    return [
        (p.value, f"{brands.get(p.value, p.value)} ({p.value})" if p.value in brands else p.value)
        for p in ToxinProduct
    ]


PRODUCT_CHOICES = tuple(p.value for p in ToxinProduct)


class FormProblems(Exception):
    """Form values that are not even numbers or choices; each line names the field."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _number(form: Mapping[str, str], name: str, problems: list[str]) -> float | None:
    raw = (form.get(name) or "").strip().replace(",", ".")
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        problems.append(f"{name}: must be a number; got {raw!r}")
        return None
    if not math.isfinite(value):
        problems.append(f"{name}: must be a finite number; got {raw!r}")
        return None
    return value


def _choice(
    form: Mapping[str, str], name: str, choices: tuple[str, ...], default: str, problems: list[str]
) -> str:
    raw = (form.get(name) or default).strip()
    if raw not in choices:
        problems.append(f"{name}: must be one of {', '.join(choices)}; got {raw!r}")
        return default
    return raw


def _length_cm(form: Mapping[str, str], name: str, unit: str, problems: list[str]) -> float | None:
    value = _number(form, name, problems)
    if value is None:
        return None
    return round(cm_from_inch(value), 2) if unit == "in" else value


def screening_from_form(form: Mapping[str, str], problems: list[str]) -> dict[str, Any]:
    """Build the ``screening`` object of the intake: answered questions only, plus the numbers."""
    screening: dict[str, Any] = {}
    for name in ScreeningAnswers.names():
        raw = (form.get(name) or "").strip().lower()
        if raw not in _ANSWERS:
            problems.append(f"{name}: must be yes, no or blank (not answered); got {raw!r}")
            continue
        if _ANSWERS[raw] is not None:
            screening[name] = _ANSWERS[raw]
    unit = _choice(form, "unit", LENGTH_UNITS, "cm", problems)
    pinch = _length_cm(form, "pinch_test", unit, problems)
    if pinch is not None:
        screening["pinch_test_cm"] = pinch
    hoped = _length_cm(form, "expected_change", unit, problems)
    if hoped is not None:
        # People type the slimming they hope for as a positive number.
        screening["expected_girth_change_cm"] = -abs(hoped)
    return screening


def patient_from_form(form: Mapping[str, str], problems: list[str]) -> dict[str, Any]:
    """Build the ``patient`` object: sex, age, height (in the chosen length unit) and weight."""
    patient: dict[str, Any] = {}
    sex = (form.get("sex") or "").strip()
    if sex:
        patient["sex"] = _choice(form, "sex", ("female", "male"), "female", problems)
    age = _number(form, "age_years", problems)
    if age is not None:
        patient["age_years"] = age
    unit = _choice(form, "unit", LENGTH_UNITS, "cm", problems)
    height = _length_cm(form, "height", unit, problems)
    if height is not None:
        patient["height_cm"] = height
    weight = _number(form, "weight_kg", problems)
    if weight is not None:
        patient["weight_kg"] = weight
    return patient


def recent_toxin_from_form(form: Mapping[str, str], problems: list[str]) -> list[dict[str, Any]]:
    """Build the ``recent_toxin`` list: one entry when the person had toxin elsewhere recently."""
    if (form.get("recent_toxin") or "").strip().lower() != "yes":
        return []
    days = _number(form, "recent_days_ago", problems)
    units = _number(form, "recent_units", problems)
    product = _choice(form, "recent_product", PRODUCT_CHOICES, "onabotulinumtoxinA", problems)
    if days is None or units is None:
        problems.append("recent_toxin: give how many days ago and how many units, or answer 'no'")
        return []
    return [{"days_ago": days, "product": product, "units": units}]


def legs_from_form(form: Mapping[str, str], problems: list[str]) -> dict[str, Any]:
    """Build the ``legs`` object: calf (required per leg given), ankle and knee girths."""
    unit = _choice(form, "unit", LENGTH_UNITS, "cm", problems)
    legs: dict[str, Any] = {}
    for side in ("left", "right"):
        leg: dict[str, Any] = {}
        for part in ("calf", "ankle", "knee"):
            value = _length_cm(form, f"{side}_{part}", unit, problems)
            if value is not None:
                leg[f"{part}_girth_cm"] = value
        if leg and "calf_girth_cm" not in leg:
            problems.append(f"{side}_calf: the calf girth is needed for the {side} leg")
        elif leg:
            legs[side] = leg
    if not legs and not any(p.startswith(("left_", "right_")) for p in problems):
        problems.append("left_calf: give the calf girth of at least one leg")
    return legs


def intake_from_form(form: Mapping[str, str]) -> dict[str, Any]:
    """Build the whole intake (``calfsim plan`` JSON) from the plan form.

    Raises
    ------
    FormProblems
        If a value is not a number or not one of its choices (one line per field).

    Examples
    --------
    >>> intake_from_form({"unit": "in", "left_calf": "15", "goal": "visible"})["legs"]
    {'left': {'calf_girth_cm': 38.1}}
    """
    problems: list[str] = []
    intake: dict[str, Any] = {
        "patient": patient_from_form(form, problems),
        "legs": legs_from_form(form, problems),
        "screening": screening_from_form(form, problems),
        "recent_toxin": recent_toxin_from_form(form, problems),
        "product": _choice(form, "product", PRODUCT_CHOICES, "onabotulinumtoxinA", problems),
    }
    goal = _choice(form, "goal", ("visible", "max", "target"), "visible", problems)
    if goal == "target":
        unit = _choice(form, "unit", LENGTH_UNITS, "cm", problems)
        target = _length_cm(form, "goal_cm", unit, problems)
        if target is None:
            problems.append("goal_cm: give the slimming you aim for, or choose another goal")
        else:
            intake["goal"] = {"girth_change_cm": -abs(target)}
    else:
        intake["goal"] = goal
    prices: dict[str, Any] = {}
    currency = (form.get("currency") or "").strip().upper()
    if currency:
        prices["currency"] = currency
    for name in ("per_unit", "session_fee"):
        value = _number(form, name, problems)
        if value is not None:
            prices[name] = value
    if prices:
        intake["prices"] = prices
    if problems:
        raise FormProblems(problems)
    return intake
