"""The intake contract of ``calfsim plan`` (JSON in): schema, parsing, path-named errors.

The intake holds the ``patient``/``legs`` of the predict contract plus ``screening`` answers,
``goal``, ``product``, ``recent_toxin`` and ``prices``. Missing screening answers mean "not
asked" and are listed as such, never read as "no".
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Discriminator, Field, Tag, ValidationError

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
    _person_problems,
    _pydantic_problems,
    _Strict,
    _valid_part,
    read_json_file,
)
from calfsim.planner import Prices, ScreeningAnswers, estimate_cost
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


def _goal_kind(value: Any) -> str | None:
    if isinstance(value, dict):
        return "[target]"
    if isinstance(value, str) and value in ("max", "visible"):
        return "[name]"
    return None


#: "max", "visible" or {"girth_change_cm": ...}. The tags are in brackets so that
#: `_pydantic_problems` drops them from the JSON path (as for the doses of the predict contract).
GoalIn = Annotated[
    Annotated[Literal["max", "visible"], Tag("[name]")] | Annotated[GirthGoalIn, Tag("[target]")],
    Discriminator(
        _goal_kind,
        custom_error_type="goal_type",
        custom_error_message=(
            "Input should be 'max', 'visible' or an object with girth_change_cm "
            "(the target change in cm, negative = slimmer)"
        ),
    ),
]


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
    goal: GoalIn = "visible"
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


def _prices(raw: PricesIn, problems: list[str]) -> Prices | None:
    """Build the prices and check now that they can price a plan (a currency without price)."""
    prices: Prices | None = _domain("prices", problems, Prices, **raw.model_dump())
    if prices is not None:
        _domain("prices", problems, estimate_cost, session_days=[], session_units=[], prices=prices)
    return prices


def _problems_of_valid_parts(data: Any) -> list[str]:
    """Plausibility problems of the well-formed parts of a malformed intake."""
    problems: list[str] = []
    if not isinstance(data, dict):
        return problems
    _person_problems(data, problems)
    screening = _valid_part(ScreeningIn, data.get("screening", {}))
    if screening is not None:
        _domain("screening", problems, ScreeningAnswers, **screening.model_dump())
    goal = data.get("goal")
    valid_goal = _valid_part(GirthGoalIn, goal) if isinstance(goal, dict) else None
    if valid_goal is not None:
        _domain(
            "goal", problems, Goal, kind=GoalKind.GIRTH, girth_change_cm=valid_goal.girth_change_cm
        )
    recent = data.get("recent_toxin")
    for i, r in enumerate(recent if isinstance(recent, list) else []):
        valid_recent = _valid_part(RecentToxinIn, r)
        if valid_recent is not None:
            _domain(
                f"recent_toxin[{i}]",
                problems,
                RecentToxin,
                days_ago=valid_recent.days_ago,
                amount_u=valid_recent.units,
                product=ToxinProduct(valid_recent.product),
            )
    prices = _valid_part(PricesIn, data.get("prices", {}))
    if prices is not None:
        _prices(prices, problems)
    return problems


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
        # Report the plausibility problems of the well-formed parts too: all at once.
        problems = _pydantic_problems(exc, _MODEL_AT) + _problems_of_valid_parts(data)
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
    prices = _prices(raw.prices, problems)
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
