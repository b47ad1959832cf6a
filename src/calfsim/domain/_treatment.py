"""Treatments: doses per leg and head, sessions, and a whole protocol to simulate."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from calfsim.domain._checks import check_finite, check_range, raise_all
from calfsim.domain._measurement import LegMeasurements, Patient
from calfsim.domain._vocabulary import MuscleHead, Side, ToxinProduct
from calfsim.errors import InvalidInputError

__all__ = ["MAX_DAY", "MAX_DOSE_PER_LEG_U", "LegDose", "Protocol", "RecentToxin", "Session"]

#: Input sanity bound on the product units given to one leg in one session. The clinical
#: ceilings (400 U onabotulinumtoxinA-equivalent per 3 months) are checked separately, with the
#: product conversion, by the simulation and the planner; this only catches typing errors
#: (abobotulinumtoxinA doses of 300-600 U per patient are in use, evidence ``dosing.*``).
MAX_DOSE_PER_LEG_U = 1500.0
#: Longest horizon calfsim simulates: 10 years.
MAX_DAY = 3653.0


@dataclass(frozen=True, slots=True, kw_only=True)
class LegDose:
    """Dose to one leg in one session: a leg total, or units per muscle head.

    Exactly one of ``total_u`` and ``by_head_u`` is set. A total is split between the heads by
    the default plan (by head volume) when the protocol is simulated.

    Examples
    --------
    >>> LegDose(total_u=100).total_u
    100.0
    >>> LegDose(by_head_u={MuscleHead.GM_MEDIAL: 60, MuscleHead.GM_LATERAL: 40}).amount_u
    100.0
    """

    total_u: float | None = None
    by_head_u: Mapping[MuscleHead, float] | None = None

    def __post_init__(self) -> None:
        if (self.total_u is None) == (self.by_head_u is None):
            raise InvalidInputError("give either a leg total or units per head", field="doses_u")
        if self.total_u is not None:
            object.__setattr__(
                self,
                "total_u",
                check_range("doses_u", self.total_u, 0.0, MAX_DOSE_PER_LEG_U, "U"),
            )
        if self.by_head_u is not None:
            clean: dict[MuscleHead, float] = {}
            for head, amount in self.by_head_u.items():
                if not isinstance(head, MuscleHead):
                    raise InvalidInputError(
                        f"muscle head must be one of "
                        f"{', '.join(h.value for h in MuscleHead)}; got {head!r}",
                        field="doses_u",
                    )
                clean[head] = check_range(head.value, amount, 0.0, MAX_DOSE_PER_LEG_U, "U")
            if sum(clean.values()) > MAX_DOSE_PER_LEG_U:
                raise InvalidInputError(
                    f"doses_u per leg must total at most {MAX_DOSE_PER_LEG_U:g} U; "
                    f"got {sum(clean.values()):g}",
                    field="doses_u",
                )
            object.__setattr__(self, "by_head_u", MappingProxyType(clean))

    @property
    def amount_u(self) -> float:
        """Total product units to this leg."""
        if self.total_u is not None:
            return self.total_u
        return float(sum((self.by_head_u or {}).values()))


@dataclass(frozen=True, slots=True, kw_only=True)
class Session:
    """One injection session: its day (day 0 = first injection), product and doses per leg.

    A leg absent from ``doses_u`` receives nothing in this session (a control leg).
    """

    day: float
    product: ToxinProduct
    doses_u: Mapping[Side, LegDose] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "day", check_range("day", self.day, 0.0, MAX_DAY, "days"))
        if not isinstance(self.product, ToxinProduct):
            raise InvalidInputError(
                f"product must be one of {ToxinProduct.accepted_names()}; got {self.product!r}",
                field="product",
            )
        object.__setattr__(self, "doses_u", MappingProxyType(dict(self.doses_u)))

    def amount_u(self) -> float:
        """Total product units of the session, both legs."""
        return float(sum(d.amount_u for d in self.doses_u.values()))


@dataclass(frozen=True, slots=True, kw_only=True)
class Protocol:
    """Everything needed to predict: the person, the legs, the sessions and the output days.

    Parameters
    ----------
    patient : Patient
    legs : mapping of Side to LegMeasurements
        Legs to simulate (at least one).
    sessions : tuple of Session
        Sorted by day on construction.
    days : tuple of float
        Days (since the first injection) at which to report; sorted, unique.
    allow_extrapolation : bool
        Accept doses and intervals outside the evidence (with a warning) instead of refusing.
    """

    patient: Patient
    legs: Mapping[Side, LegMeasurements]
    sessions: tuple[Session, ...]
    days: tuple[float, ...]
    allow_extrapolation: bool = False

    def __post_init__(self) -> None:
        if not self.legs:
            raise InvalidInputError(
                f"legs must contain 'left', 'right' or both; got {dict(self.legs)!r}", field="legs"
            )
        for session in self.sessions:
            for side in session.doses_u:
                if side not in self.legs:
                    raise InvalidInputError(
                        f"session on day {session.day:g} doses the {side.value} leg, "
                        "which has no measurements",
                        field="doses_u",
                    )
        if not self.days:
            raise InvalidInputError(
                f"days must list at least one day; got {list(self.days)!r}", field="days"
            )
        days = sorted({check_finite("days", d, "days") for d in self.days})
        for d in days:
            check_range("days", d, 0.0, MAX_DAY, "days")
        object.__setattr__(self, "days", tuple(days))
        object.__setattr__(self, "sessions", tuple(sorted(self.sessions, key=lambda s: s.day)))
        object.__setattr__(self, "legs", MappingProxyType(dict(self.legs)))


@dataclass(frozen=True, slots=True, kw_only=True)
class RecentToxin:
    """Botulinum toxin received elsewhere (any body area) before the planned treatment.

    It counts against the cumulative dose ceiling; ``days_ago`` is counted back from day 0 of
    the plan.

    Examples
    --------
    >>> RecentToxin(days_ago=20, amount_u=50, product=ToxinProduct.ONABOTULINUMTOXINA).day
    -20.0
    """

    days_ago: float
    amount_u: float
    product: ToxinProduct

    def __post_init__(self) -> None:
        errors: list[InvalidInputError] = []
        for name, label, high, unit in (
            ("days_ago", "days_ago", MAX_DAY, "days"),
            ("amount_u", "units", MAX_DOSE_PER_LEG_U, "U"),
        ):
            try:
                object.__setattr__(
                    self, name, check_range(label, getattr(self, name), 0.0, high, unit)
                )
            except InvalidInputError as exc:
                errors.append(exc)
        raise_all(errors)
        if not isinstance(self.product, ToxinProduct):
            raise InvalidInputError(
                f"product must be one of {ToxinProduct.accepted_names()}; got {self.product!r}",
                field="product",
            )

    @property
    def day(self) -> float:
        """Day relative to the plan's day 0 (negative: before)."""
        return -self.days_ago
