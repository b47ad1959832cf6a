"""The intake contract of ``calfsim plan`` (JSON in): schema, parsing, path-named errors.

The intake holds the ``patient``/``legs`` of the predict contract plus ``screening`` answers,
``goal``, ``product``, ``recent_toxin`` and ``prices``. Missing screening answers mean "not
asked" and are listed as such, never read as "no".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from calfsim.domain import LegMeasurements, RecentToxin, Side, ToxinProduct
from calfsim.errors import InvalidInputError
from calfsim.io._protocol_file import (
    LegIn,
    PatientIn,
    ProductName,
    SideName,
    _domain,
    _leg,
    _patient,
    _pydantic_problems,
    _Strict,
    read_json_file,
)
from calfsim.planner import Prices, ScreeningAnswers
from calfsim.simulation import Goal, GoalKind, PlanRequest

__all__ = ["IntakeIn", "parse_intake", "read_intake"]


class ScreeningIn(_Strict):
    """Screening answers; any may be omitted (then it is "not asked")."""

    infection_at_site: bool | None = None
    skin_condition_at_site: bool | None = None
    neuromuscular_disease: bool | None = None
    toxin_hypersensitivity: bool | None = None
    cows_milk_protein_allergy: bool | None = None
    pregnant_or_breastfeeding: bool | None = None
    aminoglycosides: bool | None = None
    anticoagulants: bool | None = None
    bleeding_disorder: bool | None = None
    athlete_or_calf_power_work: bool | None = None
    calf_fat_dominant: bool | None = None
    heel_raise_bulge: bool | None = None
    pinch_test_cm: float | None = Field(None, description="Calf skin-fold pinch in cm")
    expects_permanent_result: bool | None = None
    expected_girth_change_cm: float | None = Field(
        None, description="The change the person hopes for, cm (negative = slimmer)"
    )


class GirthGoalIn(_Strict):
    """A target change of the calf girth."""

    girth_change_cm: float = Field(description="Target change in cm (negative = slimmer)")


class RecentToxinIn(_Strict):
    """Toxin received elsewhere before this treatment."""

    days_ago: float = Field(description="Days before the planned first session")
    product: ProductName
    units: float = Field(description="Units of that product")


class PricesIn(_Strict):
    """Price overrides; defaults come from the evidence (USD)."""

    currency: str = "USD"
    per_unit: float | None = Field(None, description="Price per unit of toxin")
    session_fee: float | None = Field(None, description="Fee per session")
    per_unit_low: float | None = None
    per_unit_high: float | None = None


class IntakeIn(_Strict):
    """The whole intake file."""

    patient: PatientIn = Field(default_factory=lambda: PatientIn())
    legs: dict[SideName, LegIn]
    screening: ScreeningIn = Field(default_factory=lambda: ScreeningIn())
    goal: Literal["max", "visible"] | GirthGoalIn = "visible"
    product: ProductName = "onabotulinumtoxinA"
    recent_toxin: list[RecentToxinIn] = Field(default_factory=list)
    prices: PricesIn = Field(default_factory=lambda: PricesIn())
    min_interval_days: float | None = Field(
        None, description="Recorded override of the 12-week minimum interval, days"
    )
    override_reason: str | None = None
    horizon_days: float = Field(730.0, description="Planning horizon, days")


_MODEL_AT: dict[str, type[BaseModel]] = {
    "": IntakeIn,
    "patient": PatientIn,
    "legs": LegIn,
    "screening": ScreeningIn,
    "goal": GirthGoalIn,
    "recent_toxin": RecentToxinIn,
    "prices": PricesIn,
}


def parse_intake(data: Any) -> PlanRequest:
    """Turn decoded intake JSON into a `PlanRequest`, every problem with its JSON path.

    Raises
    ------
    InvalidInputError
        With ``problems``: one line per problem, ``"<json path>: <message>"``.

    Examples
    --------
    >>> request = parse_intake({"legs": {"left": {"calf_girth_cm": 37.5}}, "goal": "max"})
    >>> request.goal.kind.value, request.answers.infection_at_site is None
    ('max', True)
    """
    try:
        raw = IntakeIn.model_validate(data)
    except ValidationError as exc:
        problems = _pydantic_problems(exc, _MODEL_AT)
        raise InvalidInputError("\n".join(problems), problems=tuple(problems)) from None
    problems: list[str] = []
    patient = _patient(raw.patient, problems)
    legs: dict[Side, LegMeasurements] = {}
    for side_name, leg in raw.legs.items():
        built = _leg(side_name, leg, problems)
        if built is not None:
            legs[Side(side_name)] = built
    answers = _domain("screening", problems, ScreeningAnswers, **raw.screening.model_dump())
    if isinstance(raw.goal, GirthGoalIn):
        goal = _domain(
            "goal", problems, Goal, kind=GoalKind.GIRTH, girth_change_cm=raw.goal.girth_change_cm
        )
    else:
        goal = Goal(kind=GoalKind(raw.goal))
    recent: list[RecentToxin] = []
    for i, r in enumerate(raw.recent_toxin):
        built_recent = _domain(
            f"recent_toxin[{i}]",
            problems,
            RecentToxin,
            days_ago=r.days_ago,
            amount_u=r.units,
            product=ToxinProduct(r.product),
        )
        if built_recent is not None:
            recent.append(built_recent)
    prices = _domain("prices", problems, Prices, **raw.prices.model_dump())
    if problems:
        raise InvalidInputError("\n".join(problems), problems=tuple(problems))
    request: PlanRequest | None = _domain(
        "",
        problems,
        PlanRequest,
        patient=patient,
        legs=legs,
        answers=answers,
        goal=goal,
        product=ToxinProduct(raw.product),
        recent_toxin=tuple(recent),
        prices=prices,
        min_interval_days=raw.min_interval_days,
        override_reason=raw.override_reason,
        horizon_days=raw.horizon_days,
    )
    if request is None:
        raise InvalidInputError("\n".join(problems), problems=tuple(problems))
    return request


def read_intake(path: Path) -> PlanRequest:
    """Read and parse an intake JSON file (same file checks as protocols)."""
    return parse_intake(read_json_file(path, what="intake"))
