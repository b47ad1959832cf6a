"""Use case: a whole treatment plan from one intake.

Screening → dose per leg and head (solved from the goal with the response model) → schedule
(first course, then maintenance from the predicted time course, within the ceilings and the
minimum interval) → injection sites and dilution → cost → prediction band → alternatives.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import Enum

import numpy as np

from calfsim.anatomy import LegAnatomy, build_leg_anatomy, default_head_split_frac
from calfsim.domain import (
    LegDose,
    LegMeasurements,
    MuscleHead,
    Patient,
    Protocol,
    RecentToxin,
    Session,
    Side,
    ToxinProduct,
)
from calfsim.domain._checks import check_range
from calfsim.errors import InvalidInputError
from calfsim.evidence import EvidenceBase, load_evidence
from calfsim.planner import (
    CostEstimate,
    Dilution,
    InjectionSite,
    MoneyRange,
    Option,
    Prices,
    Reason,
    ScreeningAnswers,
    ScreeningResult,
    Verdict,
    compare_alternatives,
    estimate_cost,
    plan_dilution,
    plan_sites,
    screen,
)
from calfsim.response import central_ona_equivalent_u, conservative_ona_equivalent_u
from calfsim.simulation._predict import predict
from calfsim.simulation._prediction import Prediction
from calfsim.simulation._safety import check_treatment_safety

__all__ = ["DoseChoice", "Goal", "GoalKind", "Plan", "PlanRequest", "make_plan"]

#: Planned per-calf doses are searched on this grid (onabotulinumtoxinA-equivalent units):
#: finer than the 8-10 U per injection point, coarse enough to be a clinical choice.
_DOSE_STEP_U = 10.0


class GoalKind(Enum):
    """What the person wants: as much as safely possible, a visible change, or a target."""

    MAX = "max"
    VISIBLE = "visible"
    GIRTH = "girth_change_cm"


@dataclass(frozen=True, slots=True, kw_only=True)
class Goal:
    """A goal; ``girth_change_cm`` (negative) is required for `GoalKind.GIRTH`."""

    kind: GoalKind
    girth_change_cm: float | None = None

    def __post_init__(self) -> None:
        if self.kind is GoalKind.GIRTH:
            if self.girth_change_cm is None:
                raise InvalidInputError(
                    "goal.girth_change_cm is required for a girth goal", field="girth_change_cm"
                )
            object.__setattr__(
                self,
                "girth_change_cm",
                check_range(
                    "girth_change_cm",
                    self.girth_change_cm,
                    -10.0,
                    -0.1,
                    "cm",
                    hint="a reduction is negative, e.g. -1.0",
                ),
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanRequest:
    """Everything the planner needs (the intake contract, as domain objects)."""

    patient: Patient
    legs: Mapping[Side, LegMeasurements]
    answers: ScreeningAnswers
    goal: Goal
    product: ToxinProduct = ToxinProduct.ONABOTULINUMTOXINA
    recent_toxin: tuple[RecentToxin, ...] = ()
    prices: Prices = field(default_factory=Prices)
    min_interval_days: float | None = None
    override_reason: str | None = None
    horizon_days: float = 730.0

    def __post_init__(self) -> None:
        if not self.legs:
            raise InvalidInputError(
                f"legs must contain 'left', 'right' or both; got {dict(self.legs)!r}", field="legs"
            )
        if self.min_interval_days is not None and not (self.override_reason or "").strip():
            raise InvalidInputError(
                "min_interval_days overrides the 12-week minimum interval and needs an "
                "override_reason to be recorded",
                field="override_reason",
            )
        check_range("horizon_days", self.horizon_days, 84.0, 1826.0, "days")


@dataclass(frozen=True, slots=True, kw_only=True)
class DoseChoice:
    """The dose chosen for one leg, and what the model predicts for the first course."""

    side: Side
    total_u: float
    ona_equivalent_u: float
    by_head_u: Mapping[MuscleHead, float]
    course_change_cm: tuple[float, float, float]  # p10, median, p90 at the course nadir
    is_goal_met: bool
    note: str


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Plan:
    """A complete plan (or, when treatment is not recommended, the reasons and alternatives)."""

    request: PlanRequest
    screening: ScreeningResult
    sessions: tuple[Session, ...]
    doses: Mapping[Side, DoseChoice]
    anatomies: Mapping[Side, LegAnatomy]
    sites: tuple[InjectionSite, ...]
    dilution: Dilution | None
    cost: CostEstimate | None
    prediction: Prediction | None
    alternatives: tuple[Option, ...]
    min_interval_days: float
    notes: tuple[str, ...]

    @property
    def has_treatment(self) -> bool:
        """Whether the plan contains sessions."""
        return bool(self.sessions)


def _session(day: float, product: ToxinProduct, doses: Mapping[Side, DoseChoice]) -> Session:
    return Session(
        day=day,
        product=product,
        doses_u={side: LegDose(by_head_u=dict(d.by_head_u)) for side, d in doses.items()},
    )


def _split_heads(anatomy: LegAnatomy, total_u: float) -> dict[MuscleHead, float]:
    split = default_head_split_frac(anatomy)
    medial = float(round(total_u * split[MuscleHead.GM_MEDIAL]))
    return {MuscleHead.GM_MEDIAL: medial, MuscleHead.GM_LATERAL: total_u - medial}


def _session_spacing(request: PlanRequest, interval: float, ev: EvidenceBase) -> float:
    """Days between planned sessions: the minimum interval, or just past the ceiling's window.

    Without an override, sessions are spaced so that each falls outside the previous one's
    3-month ceiling window (13 weeks): "3 months" is never shortened to 12 weeks by rounding.
    A recorded override keeps its shorter interval; the doses are then shared under the
    ceiling (see `_choose_doses`).
    """
    if request.min_interval_days is not None:
        return interval
    window = ev.number("safety.ceiling_window_days")
    return float(max(interval, math.ceil((window + 1.0) / 7.0) * 7))


def _start_day(request: PlanRequest, ev: EvidenceBase, lowest_total_u: float) -> float:
    """Return the first session day.

    At least the minimum interval after toxin received elsewhere, and later still if that
    toxin leaves too little room under the ceiling for the smallest dose.
    """
    if not request.recent_toxin:
        return 0.0
    interval = ev.number("safety.min_interval_days")
    start = max(0.0, max(interval - t.days_ago for t in request.recent_toxin))
    ceiling = ev.number("safety.ceiling_per_3_months_u")
    if ceiling - _used_u(request, ev, start) < lowest_total_u:
        # Wait until every recent dose has left the 3-month window (see check_treatment_safety).
        window = ev.number("safety.ceiling_window_days")
        start = max(start, max(window - t.days_ago for t in request.recent_toxin))
    return float(math.ceil(start))


def _used_u(request: PlanRequest, ev: EvidenceBase, day: float) -> float:
    window = ev.number("safety.ceiling_window_days")
    return sum(
        conservative_ona_equivalent_u(t.amount_u, t.product, ev)
        for t in request.recent_toxin
        if day - window < t.day <= day
    )


def _room_u(request: PlanRequest, ev: EvidenceBase, day: float) -> float:
    return ev.number("safety.ceiling_per_3_months_u") - _used_u(request, ev, day)


def _predict(
    request: PlanRequest,
    sessions: tuple[Session, ...],
    days: tuple[float, ...],
    interval: float,
    *,
    n: int,
    rng: int,
    include_profile: bool = False,
) -> Prediction:
    protocol = Protocol(patient=request.patient, legs=request.legs, sessions=sessions, days=days)
    return predict(
        protocol,
        n_samples=n,
        rng=rng,
        prior_toxin=request.recent_toxin,
        min_interval_days=interval,
        include_profile=include_profile,
    )


def _choose_doses(
    request: PlanRequest,
    anatomies: Mapping[Side, LegAnatomy],
    course_days: list[float],
    interval: float,
    ev: EvidenceBase,
    search_samples: int,
) -> tuple[dict[Side, DoseChoice], list[str]]:
    """Solve each leg's dose from the goal, on the grid of studied per-calf doses."""
    low, high = ev.bounds("dosing.study_dose_per_calf_u")
    tape = ev.number("safety.tape_error_sd_cm")
    eval_day = course_days[-1] + ev.number("planning.goal_evaluation_weeks") * 7
    room = _room_u(request, ev, course_days[0])
    window = ev.number("safety.ceiling_window_days")
    # Sessions of the course that can share one ceiling window (1 unless overridden).
    sharing = max(sum(1 for d in course_days if day - window < d <= day) for day in course_days)
    conservative = conservative_ona_equivalent_u(1.0, request.product, ev)
    central = central_ona_equivalent_u(1.0, request.product, ev)
    # Highest per-calf ONA-equivalent dose that keeps every window under the ceiling.
    per_leg_cap = min(
        high,
        min(room, ev.number("safety.ceiling_per_3_months_u") / sharing)
        / len(request.legs)
        * central
        / conservative,
    )
    grid = np.arange(low, per_leg_cap + 1e-9, _DOSE_STEP_U)
    notes: list[str] = []
    if grid.size == 0:
        raise InvalidInputError(
            f"toxin received elsewhere leaves {room:.0f} U under the ceiling: not enough for "
            f"the smallest studied dose ({low:g} U per calf) on {len(request.legs)} leg(s)",
            field="recent_toxin",
        )
    bands: dict[Side, list[tuple[float, float, float]]] = {side: [] for side in request.legs}
    for ona in grid:
        product_u = ona * (1.0 / central)
        doses = {
            side: DoseChoice(
                side=side,
                total_u=product_u,
                ona_equivalent_u=float(ona),
                by_head_u=_split_heads(anatomies[side], product_u),
                course_change_cm=(0.0, 0.0, 0.0),
                is_goal_met=False,
                note="",
            )
            for side in request.legs
        }
        sessions = tuple(_session(d, request.product, doses) for d in course_days)
        result = _predict(request, sessions, (0.0, eval_day), interval, n=search_samples, rng=7)
        for side, leg in result.legs.items():
            c = leg.calf_girth_change_cm
            bands[side].append((float(c.p10[1]), float(c.median[1]), float(c.p90[1])))
    chosen: dict[Side, DoseChoice] = {}
    goal = request.goal
    for side in request.legs:
        medians = np.array([b[1] for b in bands[side]])
        if goal.kind is GoalKind.MAX:
            index, met = grid.size - 1, True
        else:
            target = -tape if goal.kind is GoalKind.VISIBLE else float(goal.girth_change_cm or 0)
            reaching = np.nonzero(medians <= target)[0]
            index, met = (int(reaching[0]), True) if reaching.size else (grid.size - 1, False)
        p10, median, p90 = bands[side][index]
        ona = float(grid[index])
        product_u = float(round(ona / central))
        if goal.kind is GoalKind.MAX:
            note = f"largest studied dose within the ceilings ({ona:g} U per calf)"
        elif met:
            note = f"smallest studied dose whose median change reaches the goal ({median:+.2f} cm)"
        else:
            note = (
                f"the goal is not reached even at {ona:g} U per calf: predicted median "
                f"{median:+.2f} cm (10% of people {p10:+.2f} cm or more)"
            )
            notes.append(f"{side.value} leg: {note}")
        chosen[side] = DoseChoice(
            side=side,
            total_u=product_u,
            ona_equivalent_u=ona,
            by_head_u=_split_heads(anatomies[side], product_u),
            course_change_cm=(p10, median, p90),
            is_goal_met=met,
            note=note,
        )
    return chosen, notes


def _next_maintenance_day(
    request: PlanRequest,
    sessions: tuple[Session, ...],
    interval: float,
    ev: EvidenceBase,
    search_samples: int,
) -> float | None:
    """Day when the median effect has worn off to the trigger fraction of its peak."""
    trigger = ev.number("planning.maintenance_trigger_frac")
    last = sessions[-1].day
    days = tuple(float(d) for d in np.arange(last, last + 7 * 60, 7.0))
    result = _predict(request, sessions, days, interval, n=search_samples, rng=11)
    worst = None
    for leg in result.legs.values():
        median = leg.calf_girth_change_cm.median
        peak_index = int(np.argmin(median))
        peak = median[peak_index]
        if peak >= 0:
            continue
        after = np.nonzero(median[peak_index:] >= trigger * peak)[0]
        if after.size:
            day = days[peak_index + int(after[0])]
            worst = day if worst is None else min(worst, day)
    if worst is None:
        return None
    return max(worst, last + interval)


def _screening_with(result: ScreeningResult, extra: list[Reason]) -> ScreeningResult:
    if not extra:
        return result
    reasons = result.reasons + tuple(extra)
    order = [Verdict.CANDIDATE, Verdict.CONSULT, Verdict.NOT_RECOMMENDED]
    verdict = max((r.verdict for r in reasons), key=order.index, default=result.verdict)
    return replace(result, reasons=reasons, verdict=max(verdict, result.verdict, key=order.index))


def make_plan(
    request: PlanRequest,
    *,
    n_samples: int = 4000,
    rng: int = 1,
    search_samples: int = 1000,
    evidence: EvidenceBase | None = None,
) -> Plan:
    """Plan a treatment from an intake: screening, doses, sites, schedule, cost, alternatives.

    Parameters
    ----------
    request : PlanRequest
    n_samples : int
        Virtual patients of the final prediction band.
    search_samples : int
        Virtual patients used while searching doses and maintenance timing.
    rng : int
        Seed (plans are reproducible).
    evidence : EvidenceBase, optional

    Returns
    -------
    Plan
        Without sessions when screening says treatment is not recommended.

    Raises
    ------
    InvalidInputError
        If the intake cannot be planned (e.g. no room under the ceiling at all).
    """
    ev = load_evidence() if evidence is None else evidence
    anatomies = {
        side: build_leg_anatomy(leg, request.patient, side=side)
        for side, leg in request.legs.items()
    }
    screening = screen(
        request.answers,
        patient=request.patient,
        legs=request.legs,
        recent_toxin=request.recent_toxin,
        product=request.product,
        ev=ev,
    )
    base_interval = ev.number("safety.min_interval_days")
    notes: list[str] = []
    if request.min_interval_days is not None:
        floor = ev.number("planning.min_interval_override_floor_days")
        check_range("min_interval_days", request.min_interval_days, floor, base_interval, "days")
        interval = request.min_interval_days
        notes.append(
            f"minimum interval overridden to {interval:g} days (reason recorded: "
            f"{request.override_reason})"
        )
    else:
        interval = base_interval
    mean_girth = float(np.mean([leg.calf_girth_cm for leg in request.legs.values()]))
    sessions, doses, plan_notes, extra = _schedule(
        request, anatomies, interval, ev, min(search_samples, n_samples)
    )
    notes.extend(plan_notes)
    screening = _screening_with(screening, extra)
    cost = estimate_cost(
        [s.day for s in sessions],
        [s.amount_u() for s in sessions],
        prices=request.prices,
        product=request.product,
        ev=ev,
    )
    alternatives = _alternatives(request, ev, mean_girth, doses, cost)
    if screening.verdict is Verdict.NOT_RECOMMENDED:
        return Plan(
            request=request,
            screening=screening,
            sessions=(),
            doses={},
            anatomies=anatomies,
            sites=(),
            dilution=None,
            cost=None,
            prediction=None,
            alternatives=alternatives,
            min_interval_days=interval,
            notes=(
                *notes,
                "no treatment is planned: see the screening reasons (the Botox row of the "
                "comparison shows what the model would predict, for information only)",
            ),
        )
    days = tuple(float(d) for d in np.arange(0.0, request.horizon_days + 1.0, 7.0))
    prediction = _predict(request, sessions, days, interval, n=n_samples, rng=rng)
    first = sessions[0]
    dilution = plan_dilution(first.amount_u(), request.product, ev=ev)
    sites: list[InjectionSite] = []
    for side, leg_dose in first.doses_u.items():
        sites.extend(
            plan_sites(
                anatomies[side],
                dict(leg_dose.by_head_u or {}),
                concentration_u_per_ml=dilution.concentration_u_per_ml,
                product=request.product,
                ev=ev,
            )
        )
    return Plan(
        request=request,
        screening=screening,
        sessions=sessions,
        doses=doses,
        anatomies=anatomies,
        sites=tuple(sites),
        dilution=dilution,
        cost=cost,
        prediction=prediction,
        alternatives=alternatives,
        min_interval_days=interval,
        notes=tuple(notes),
    )


def _schedule(
    request: PlanRequest,
    anatomies: Mapping[Side, LegAnatomy],
    interval: float,
    ev: EvidenceBase,
    search_samples: int,
) -> tuple[tuple[Session, ...], dict[Side, DoseChoice], list[str], list[Reason]]:
    """Doses from the goal, a first course, then maintenance sessions up to the horizon."""
    notes: list[str] = []
    low, _ = ev.bounds("dosing.study_dose_per_calf_u")
    start = _start_day(request, ev, low * len(request.legs))
    if start > 0:
        notes.append(
            f"the first session is on day {start:g}: at least 12 weeks after toxin received "
            "elsewhere, with room for the dose under the 3-month ceiling"
        )
    n_course = int(ev.number("planning.first_course_sessions"))
    spacing = _session_spacing(request, interval, ev)
    course = [start + k * spacing for k in range(n_course)]
    doses, dose_notes = _choose_doses(request, anatomies, course, interval, ev, search_samples)
    notes.extend(dose_notes)
    extra: list[Reason] = []
    if request.goal.kind is GoalKind.GIRTH and not all(d.is_goal_met for d in doses.values()):
        key = "studies.park2005_girth_change_cm"
        extra.append(
            Reason(
                code="goal_not_reachable",
                verdict=Verdict.CONSULT,
                text=(
                    "The change you hope for is more than the model predicts for most people "
                    "even at the largest studied dose; discuss realistic expectations."
                ),
                evidence_keys=(key,),
                citations=tuple(c.short() for c in ev.item(key).sources),
            )
        )
    sessions = tuple(_session(d, request.product, doses) for d in course)
    while True:
        nxt = _next_maintenance_day(request, sessions, spacing, ev, search_samples)
        if nxt is None:
            break
        nxt = float(math.ceil(nxt / 7.0) * 7)
        if nxt > request.horizon_days:
            break
        sessions = (*sessions, _session(nxt, request.product, doses))
    # Built to respect them; checked again so that no plan can ever break them.
    check_treatment_safety(
        sessions, ev, prior_toxin=request.recent_toxin, min_interval_days=interval
    )
    return sessions, doses, notes, extra


def _alternatives(
    request: PlanRequest,
    ev: EvidenceBase,
    mean_girth_cm: float,
    doses: Mapping[Side, DoseChoice] | None,
    cost: CostEstimate | None,
) -> tuple[Option, ...]:
    if doses:
        bands = np.array([d.course_change_cm for d in doses.values()])
        band = (float(bands[:, 0].mean()), float(bands[:, 1].mean()), float(bands[:, 2].mean()))
    else:
        band = (0.0, 0.0, 0.0)
    if cost is not None:
        two_years = MoneyRange(
            low=cost.first_year.low + cost.second_year.low,
            typical=cost.first_year.typical + cost.second_year.typical,
            high=cost.first_year.high + cost.second_year.high,
            currency=cost.currency,
        )
    else:
        two_years = MoneyRange(low=0.0, typical=0.0, high=0.0, currency=request.prices.currency)
    return compare_alternatives(
        calf_girth_cm=mean_girth_cm,
        botox_girth_change_cm=band,
        botox_cost_two_years=two_years,
        ev=ev,
    )
