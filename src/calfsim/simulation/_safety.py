"""Safety and evidence-range checks on a treatment, applied before anything is simulated.

Ceilings (evidence ``safety.*``): at most 400 U onabotulinumtoxinA-equivalent in any 3-month
window, counting both legs and toxin given elsewhere, and sessions at least 12 weeks apart.
Conversions use the *lowest* plausible ratio, so that uncertainty errs on the safe side.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from calfsim.domain import RecentToxin, Session
from calfsim.errors import OutsideEvidenceError, SafetyLimitError
from calfsim.evidence import EvidenceBase
from calfsim.response import conservative_ona_equivalent_u

__all__ = ["check_dose_in_evidence", "check_treatment_safety"]


def check_treatment_safety(
    sessions: Sequence[Session],
    ev: EvidenceBase,
    *,
    prior_toxin: Sequence[RecentToxin] = (),
    min_interval_days: float | None = None,
) -> None:
    """Raise `SafetyLimitError` if sessions break the cumulative ceiling or minimum interval.

    Parameters
    ----------
    sessions : sequence of Session
        Sorted by day.
    ev : EvidenceBase
    prior_toxin : sequence of RecentToxin
        Toxin given elsewhere (counts against the ceiling, not the interval between sessions).
    min_interval_days : float, optional
        Recorded override of the minimum interval; default from the evidence (84 days).

    Raises
    ------
    SafetyLimitError
        Naming the session day, the amount and the limit.
    """
    ceiling_u = ev.number("safety.ceiling_per_3_months_u")
    window_days = ev.number("safety.ceiling_window_days")
    interval = (
        ev.number("safety.min_interval_days") if min_interval_days is None else (min_interval_days)
    )
    events = [
        (p.day, conservative_ona_equivalent_u(p.amount_u, p.product, ev)) for p in prior_toxin
    ]
    events += [
        (s.day, conservative_ona_equivalent_u(s.amount_u(), s.product, ev)) for s in sessions
    ]
    for s in sessions:
        total = sum(u for day, u in events if s.day - window_days < day <= s.day)
        if total > ceiling_u + 1e-9:
            raise SafetyLimitError(
                f"session on day {s.day:g}: {total:.0f} U onabotulinumtoxinA-equivalent within "
                f"{window_days:g} days (both legs, including toxin given elsewhere) exceeds the "
                f"ceiling of {ceiling_u:g} U per {window_days:g} days",
                field="sessions",
            )
    for earlier, later in itertools.pairwise(sessions):
        gap = later.day - earlier.day
        if gap < interval:
            raise SafetyLimitError(
                f"sessions on days {earlier.day:g} and {later.day:g} are {gap:g} days apart; "
                f"the minimum interval is {interval:g} days (12 weeks: repeating more often "
                "has not been evaluated)",
                field="sessions",
            )


def check_dose_in_evidence(
    dose_per_leg_ona_u: float, ev: EvidenceBase, *, day: float, side: str
) -> None:
    """Raise `OutsideEvidenceError` if one leg's dose exceeds the studied per-calf doses."""
    _, high = ev.bounds("dosing.study_dose_per_calf_u")
    if dose_per_leg_ona_u > high + 1e-9:
        raise OutsideEvidenceError(
            f"session on day {day:g}: {dose_per_leg_ona_u:.0f} U onabotulinumtoxinA-equivalent "
            f"to the {side} calf exceeds the largest studied dose ({high:g} U per calf); "
            "set allow_extrapolation to simulate it anyway",
            field="doses_u",
        )
