"""Cost of a treatment plan: per session and for the first and second year, as a range.

A session costs ``units × price per unit + session fee``. The prices default to the evidence
(``prices.price_usd_per_u``: USD 9-21 per onabotulinumtoxinA unit, typical 14, from clinic and
consumer pages; ``prices.session_fee_usd``: no separate fee) and can be overridden, in any
currency. Every amount is a `MoneyRange` (low, typical, high), never a single number.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from calfsim.domain import MAX_DAY, MAX_DOSE_PER_LEG_U, Side, ToxinProduct
from calfsim.domain._checks import raise_all
from calfsim.errors import InvalidInputError, UnitMismatchError
from calfsim.evidence import EvidenceBase, load_evidence
from calfsim.planner._screening import RATIO_KEYS, cite_items

__all__ = ["YEAR_DAYS", "CostEstimate", "MoneyRange", "Prices", "estimate_cost"]

#: Length of a plan year: year 1 is days [0, 365), year 2 is days [365, 730). Plan days are
#: whole days, so a session on the anniversary of day 0 opens year 2.
YEAR_DAYS = 365.0
#: Input sanity bounds (not prices from the evidence): they catch typing errors only.
MAX_PRICE_PER_UNIT = 1000.0
MAX_SESSION_FEE = 100_000.0
MAX_SESSIONS_PER_YEAR = 12
_CURRENCY = re.compile(r"[A-Z]{3}")
_EVIDENCE_CURRENCY = "USD"


def _check_currency(currency: str, field: str) -> None:
    if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency):
        raise InvalidInputError(
            f"{field} must be a 3-letter upper-case ISO 4217 code such as 'USD' or 'EUR'; "
            f"got {currency!r}",
            field=field,
        )


def _check_amount(field: str, value: float, high: float, unit: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not 0 <= value <= high
    ):
        raise InvalidInputError(
            f"{field} must be in [0, {high:g}] {unit}; got {value!r}", field=field
        )
    return float(value)


@dataclass(frozen=True, slots=True, kw_only=True)
class MoneyRange:
    """An amount of money as a range: ``low <= typical <= high``, in one currency.

    Examples
    --------
    >>> a = MoneyRange(low=900, typical=1400, high=2100, currency="USD")
    >>> (a + a).high
    4200.0
    """

    low: float
    typical: float
    high: float
    currency: str

    def __post_init__(self) -> None:
        _check_currency(self.currency, "currency")
        for name in ("low", "typical", "high"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidInputError(f"{name} must be a number; got {value!r}", field=name)
            if not math.isfinite(value) or value < 0:
                raise InvalidInputError(
                    f"{name} must be a finite amount >= 0 {self.currency}; got {value!r}",
                    field=name,
                )
            object.__setattr__(self, name, float(value))
        if not self.low <= self.typical <= self.high:
            raise InvalidInputError(
                f"need low <= typical <= high; got {self.low:g} <= {self.typical:g} <= "
                f"{self.high:g} {self.currency}",
                field="typical",
            )

    @classmethod
    def zero(cls, currency: str) -> MoneyRange:
        """Return a range of nothing to pay."""
        return cls(low=0.0, typical=0.0, high=0.0, currency=currency)

    def __add__(self, other: MoneyRange) -> MoneyRange:
        if not isinstance(other, MoneyRange):
            return NotImplemented
        if other.currency != self.currency:
            raise UnitMismatchError(
                f"cannot add {other.currency} to {self.currency}; convert at the edge first"
            )
        return MoneyRange(
            low=self.low + other.low,
            typical=self.typical + other.typical,
            high=self.high + other.high,
            currency=self.currency,
        )

    def times(self, counts: tuple[int, int, int]) -> MoneyRange:
        """Scale by (low, typical, high) counts, e.g. numbers of sessions."""
        return MoneyRange(
            low=self.low * counts[0],
            typical=self.typical * counts[1],
            high=self.high * counts[2],
            currency=self.currency,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Prices:
    """Prices to use instead of the evidence defaults.

    Parameters
    ----------
    currency : str
        ISO 4217 code of every amount given here. The evidence has USD prices only: any other
        currency needs ``per_unit`` (and ``session_fee`` when the evidence fee is not 0).
    per_unit : float, optional
        Price of one unit of the product used, in ``currency``. Given alone, it is exact
        (low = typical = high).
    session_fee : float, optional
        Fee per session on top of the toxin, in ``currency``.
    per_unit_low, per_unit_high : float, optional
        Range of the price per unit. With ``per_unit`` each defaults to ``per_unit``; without
        it both are needed and the typical price is their midpoint.

    Raises
    ------
    InvalidInputError
        If the currency is not 3 upper-case letters, an amount is not finite, negative or above
        its limit (1000 per unit), or the range is not ordered. The message names the field.

    Examples
    --------
    >>> Prices(currency="EUR", per_unit=11.0).per_unit
    11.0
    >>> Prices(per_unit=-1)
    Traceback (most recent call last):
    ...
    calfsim.errors.InvalidInputError: per_unit must be in [0, 1000] USD per unit; got -1
    """

    currency: str = _EVIDENCE_CURRENCY
    per_unit: float | None = None
    session_fee: float | None = None
    per_unit_low: float | None = None
    per_unit_high: float | None = None

    def __post_init__(self) -> None:
        _check_currency(self.currency, "currency")
        errors: list[InvalidInputError] = []
        for name, high, unit in (
            ("per_unit", MAX_PRICE_PER_UNIT, f"{self.currency} per unit"),
            ("per_unit_low", MAX_PRICE_PER_UNIT, f"{self.currency} per unit"),
            ("per_unit_high", MAX_PRICE_PER_UNIT, f"{self.currency} per unit"),
            ("session_fee", MAX_SESSION_FEE, self.currency),
        ):
            value = getattr(self, name)
            if value is not None:
                try:
                    object.__setattr__(self, name, _check_amount(name, value, high, unit))
                except InvalidInputError as exc:
                    errors.append(exc)
        raise_all(errors)
        if self.per_unit is None and (self.per_unit_low is None) != (self.per_unit_high is None):
            missing = "per_unit_high" if self.per_unit_high is None else "per_unit_low"
            raise InvalidInputError(
                f"{missing} is needed too: without per_unit, give both per_unit_low and "
                "per_unit_high (or give per_unit)",
                field=missing,
            )
        low, typical, high = self.per_unit_range() or (0.0, 0.0, 0.0)
        if not low <= typical <= high:
            raise InvalidInputError(
                f"need per_unit_low <= per_unit <= per_unit_high; got {low:g} <= {typical:g} "
                f"<= {high:g} {self.currency}",
                field="per_unit_low" if low > typical else "per_unit_high",
            )

    def per_unit_range(self) -> tuple[float, float, float] | None:
        """Return (low, typical, high) price per unit, or None if no price was given."""
        if self.per_unit is not None:
            low = self.per_unit if self.per_unit_low is None else self.per_unit_low
            high = self.per_unit if self.per_unit_high is None else self.per_unit_high
            return (low, self.per_unit, high)
        if self.per_unit_low is not None and self.per_unit_high is not None:
            return (
                self.per_unit_low,
                (self.per_unit_low + self.per_unit_high) / 2,
                self.per_unit_high,
            )
        return None


_DEFAULT_PRICES = Prices()


@dataclass(frozen=True, slots=True, kw_only=True)
class CostEstimate:
    """Cost of a plan, per session and per year, with what it assumes.

    Attributes
    ----------
    per_session : tuple of MoneyRange
        One range per session, in the order given.
    first_year, second_year : MoneyRange
        Sums over the sessions on days [0, 365) and [365, 730), or the maintenance range when
        ``second_year_sessions`` was given.
    currency : str
    assumptions : tuple of str
        Plain sentences: where the prices come from and what is (not) counted.
    sources : tuple of str
        Short citations of the price evidence used (empty if every price was given).
    """

    per_session: tuple[MoneyRange, ...]
    first_year: MoneyRange
    second_year: MoneyRange
    currency: str
    assumptions: tuple[str, ...]
    sources: tuple[str, ...]


def _check_schedule(
    session_days: Sequence[float],
    session_units: Sequence[float],
    second_year_sessions: tuple[int, int, int] | None,
) -> None:
    if len(session_days) != len(session_units):
        raise InvalidInputError(
            f"session_units must have one entry per session day ({len(session_days)}); "
            f"got {len(session_units)}",
            field="session_units",
        )
    for day in session_days:
        _check_amount("session_days", day, MAX_DAY, "days")
    for units in session_units:
        _check_amount("session_units", units, len(Side) * MAX_DOSE_PER_LEG_U, "U")
    if second_year_sessions is not None:
        counts = tuple(second_year_sessions)
        if (
            len(counts) != 3
            or not all(isinstance(n, int) and not isinstance(n, bool) for n in counts)
            or not 0 <= counts[0] <= counts[1] <= counts[2] <= MAX_SESSIONS_PER_YEAR
        ):
            raise InvalidInputError(
                "second_year_sessions must be 3 whole numbers (low, typical, high) with "
                f"0 <= low <= typical <= high <= {MAX_SESSIONS_PER_YEAR}; "
                f"got {second_year_sessions!r}",
                field="second_year_sessions",
            )
        if not session_units:
            raise InvalidInputError(
                "second_year_sessions needs at least one session to price (its units); "
                "got no sessions",
                field="second_year_sessions",
            )


def estimate_cost(
    session_days: Sequence[float],
    session_units: Sequence[float],
    *,
    prices: Prices = _DEFAULT_PRICES,
    second_year_sessions: tuple[int, int, int] | None = None,
    product: ToxinProduct = ToxinProduct.ONABOTULINUMTOXINA,
    ev: EvidenceBase | None = None,
) -> CostEstimate:
    """Estimate the cost of a schedule of sessions, per session and per year.

    Parameters
    ----------
    session_days : sequence of float
        Day of each session (day 0 = first injection).
    session_units : sequence of float
        Product units of each session, both legs together (same length as ``session_days``).
    prices : Prices
        Overrides of the evidence prices; ``Prices()`` (USD, evidence prices) by default.
    second_year_sessions : tuple of int, optional
        (low, typical, high) number of maintenance sessions in year 2, when it is uncertain;
        each is priced like the last session of the schedule. Overrides the sessions of the
        schedule that fall in year 2.
    product : ToxinProduct
        Product of the units. The evidence prices are per onabotulinumtoxinA unit: other
        products are priced as onabotulinumtoxinA-equivalent units (the conversion range
        widens the cost range). Prices given in ``prices`` are per unit of ``product``.
    ev : EvidenceBase, optional
        Evidence to use; the shipped evidence by default.

    Returns
    -------
    CostEstimate
        Per-session ranges, year 1 (days 0-364) and year 2 (days 365-729) sums, the
        assumptions in words and the sources.

    Raises
    ------
    InvalidInputError
        If the lists differ in length, a day or dose is out of range, the counts are not
        ordered, or a currency other than USD has no price per unit ("give prices.per_unit in
        EUR; the evidence only has USD prices").

    References
    ----------
    Price evidence ``prices.price_usd_per_u`` (Dr Osman LA price blog; AEDIT calf page 2021;
    aesthetic.education 2026) and ``prices.session_fee_usd``; clinical-evidence.md §6.

    Examples
    --------
    >>> cost = estimate_cost([0, 120], [200, 200])
    >>> cost.first_year.low, cost.first_year.typical, cost.first_year.high
    (3600.0, 5600.0, 8400.0)
    >>> cost.second_year.typical
    0.0
    """
    ev = load_evidence() if ev is None else ev
    if not isinstance(prices, Prices):
        raise InvalidInputError(f"prices must be Prices; got {prices!r}", field="prices")
    if not isinstance(product, ToxinProduct):
        raise InvalidInputError(
            f"product must be one of {ToxinProduct.accepted_names()}; got {product!r}",
            field="product",
        )
    _check_schedule(session_days, session_units, second_year_sessions)
    currency = prices.currency
    assumptions: list[str] = []
    keys: list[str] = []

    # Price per unit of the product, and the units factor (product units -> priced units).
    unit_factors = (1.0, 1.0, 1.0)
    given = prices.per_unit_range()
    if given is not None:
        unit_prices = given
        assumptions.append(
            f"Price per unit of {product.value}: {_money_text(*given, currency)}, as given."
        )
    elif currency != _EVIDENCE_CURRENCY:
        raise InvalidInputError(
            f"give prices.per_unit in {currency}; the evidence only has "
            f"{_EVIDENCE_CURRENCY} prices",
            field="per_unit",
        )
    else:
        key = "prices.price_usd_per_u"
        low, high = ev.bounds(key)
        unit_prices = (low, ev.number(key), high)
        keys += [key, "prices.price_date", "prices.price_caveat"]
        assumptions.append(
            f"Price per onabotulinumtoxinA (Botox) unit: {_money_text(*unit_prices, currency)}, "
            f"from clinic, consumer and procedure pages ({ev.text('prices.price_date')}); "
            "not inflation-adjusted."
        )
        assumptions.append(ev.text("prices.price_caveat"))
        if product is not ToxinProduct.ONABOTULINUMTOXINA:
            ratio_key = RATIO_KEYS[product]
            r_low, r_high = ev.bounds(ratio_key)
            r_mid = ev.number(ratio_key)
            unit_factors = (1 / r_high, 1 / r_mid, 1 / r_low)
            keys.append(ratio_key)
            assumptions.append(
                f"{product.value} units are priced as onabotulinumtoxinA-equivalent units "
                f"({r_low:g}-{r_high:g} {product.value} units per Botox unit), assuming the "
                "price follows the effect; give prices.per_unit for a real price."
            )

    if prices.session_fee is not None:
        fees = (prices.session_fee,) * 3
        assumptions.append(f"Session fee: {_money_text(*fees, currency)} per session, as given.")
    else:
        key = "prices.session_fee_usd"
        fee_low, fee_high = ev.bounds(key)
        fees = (fee_low, ev.number(key), fee_high)
        if currency != _EVIDENCE_CURRENCY and fee_high > 0:
            raise InvalidInputError(
                f"give prices.session_fee in {currency}; the evidence only has "
                f"{_EVIDENCE_CURRENCY} fees",
                field="session_fee",
            )
        keys.append(key)
        if fee_high > 0:
            assumptions.append(f"Session fee: {_money_text(*fees, currency)} per session.")
        else:
            assumptions.append(
                "No separate session fee: clinics price the toxin per unit (an assumption)."
            )

    per_session = tuple(
        MoneyRange(
            low=units * unit_factors[0] * unit_prices[0] + fees[0],
            typical=units * unit_factors[1] * unit_prices[1] + fees[1],
            high=units * unit_factors[2] * unit_prices[2] + fees[2],
            currency=currency,
        )
        for units in session_units
    )
    first_year = sum(
        (c for c, d in zip(per_session, session_days, strict=True) if d < YEAR_DAYS),
        MoneyRange.zero(currency),
    )
    assumptions.append(
        f"Year 1 counts the sessions on days 0-{YEAR_DAYS - 1:g}, year 2 those on days "
        f"{YEAR_DAYS:g}-{2 * YEAR_DAYS - 1:g}; later sessions are not counted."
    )
    if second_year_sessions is not None:
        last = per_session[max(range(len(session_days)), key=lambda i: session_days[i])]
        second_year = last.times(second_year_sessions)
        n_low, n_typical, n_high = second_year_sessions
        assumptions.append(
            f"Year 2: {n_low}-{n_high} maintenance sessions (typically {n_typical}), each "
            "priced like the last session of the plan."
        )
    else:
        in_year_2 = [
            c
            for c, d in zip(per_session, session_days, strict=True)
            if YEAR_DAYS <= d < 2 * YEAR_DAYS
        ]
        second_year = sum(in_year_2, MoneyRange.zero(currency))
        if not in_year_2:
            keys.append("procedure.first_course_schedule")
            assumptions.append(
                "No session of the schedule falls in year 2, so maintenance is not priced "
                f"there ({ev.text('procedure.first_course_schedule')}); pass "
                "second_year_sessions to price it."
            )
    return CostEstimate(
        per_session=per_session,
        first_year=first_year,
        second_year=second_year,
        currency=currency,
        assumptions=tuple(assumptions),
        sources=cite_items(ev, keys),
    )


def _money_text(low: float, typical: float, high: float, currency: str) -> str:
    """Format a range of money as "USD 9-21 (typical 14)"."""
    if low == high:
        return f"{currency} {typical:,.2f}".removesuffix(".00")
    return f"{currency} {low:,.4g}-{high:,.4g} (typical {typical:,.4g})"
