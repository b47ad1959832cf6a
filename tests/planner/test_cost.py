"""Cost: evidence defaults, overrides, year sums, maintenance ranges and price validation."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calfsim.domain import ToxinProduct
from calfsim.errors import InvalidInputError, UnitMismatchError
from calfsim.evidence import load_evidence
from calfsim.planner import CostEstimate, MoneyRange, Prices, estimate_cost
from calfsim.planner._screening import cite_items

EV = load_evidence()
PRICE_LOW, PRICE_HIGH = EV.bounds("prices.price_usd_per_u")
PRICE = EV.number("prices.price_usd_per_u")


def triple(m: MoneyRange) -> tuple[float, float, float]:
    return (m.low, m.typical, m.high)


# --- Defaults from the evidence -------------------------------------------------------------------


def test_default_prices_come_from_the_evidence():
    cost = estimate_cost([0, 120], [200, 200])
    assert cost.currency == "USD"
    assert triple(cost.per_session[0]) == pytest.approx(
        (200 * PRICE_LOW, 200 * PRICE, 200 * PRICE_HIGH)
    )
    assert triple(cost.first_year) == pytest.approx(
        (400 * PRICE_LOW, 400 * PRICE, 400 * PRICE_HIGH)
    )
    assert cost.second_year == MoneyRange.zero("USD")
    assert cost.sources  # the price pages, with their years
    assert any("year 2" in a for a in cost.assumptions)
    assert EV.text("prices.price_caveat") in cost.assumptions


def test_the_evidence_session_fee_is_added_to_every_session():
    fee = EV.number("prices.session_fee_usd")
    cost = estimate_cost([0], [100])
    assert cost.per_session[0].typical == pytest.approx(100 * PRICE + fee)


def test_other_products_are_priced_as_onabotulinumtoxin_a_equivalent_units():
    cost = estimate_cost([0], [500], product=ToxinProduct.ABOBOTULINUMTOXINA)
    r_low, r_high = EV.bounds("products.abo_per_ona_ratio")
    r_mid = EV.number("products.abo_per_ona_ratio")
    assert triple(cost.per_session[0]) == pytest.approx(
        (500 / r_high * PRICE_LOW, 500 / r_mid * PRICE, 500 / r_low * PRICE_HIGH)
    )
    assert any("abobotulinumtoxinA" in a for a in cost.assumptions)
    # A price given by the user is per unit of the product: no conversion.
    given_price = estimate_cost(
        [0], [500], product=ToxinProduct.ABOBOTULINUMTOXINA, prices=Prices(per_unit=5.0)
    )
    assert triple(given_price.per_session[0]) == (2500.0, 2500.0, 2500.0)


# --- Overrides ------------------------------------------------------------------------------------


def test_a_price_per_unit_alone_is_exact():
    cost = estimate_cost([0, 100], [100, 50], prices=Prices(per_unit=12.0, session_fee=50.0))
    assert triple(cost.per_session[0]) == (1250.0, 1250.0, 1250.0)
    assert triple(cost.first_year) == (1900.0, 1900.0, 1900.0)
    price_sources = set(cite_items(EV, ["prices.price_usd_per_u"]))
    assert price_sources
    assert not price_sources & set(cost.sources)


def test_a_price_range_around_the_price_per_unit():
    prices = Prices(per_unit=12.0, per_unit_low=10.0, per_unit_high=15.0)
    assert triple(estimate_cost([0], [100], prices=prices).first_year) == (1000.0, 1200.0, 1500.0)


def test_a_price_range_without_a_price_has_its_midpoint_as_typical():
    prices = Prices(per_unit_low=10.0, per_unit_high=20.0)
    assert triple(estimate_cost([0], [100], prices=prices).first_year) == (1000.0, 1500.0, 2000.0)


def test_half_a_range_is_refused():
    with pytest.raises(InvalidInputError, match="per_unit_high") as info:
        Prices(per_unit_low=10.0)
    assert info.value.field == "per_unit_high"


def test_a_currency_without_a_price_is_refused():
    with pytest.raises(InvalidInputError, match=r"give prices\.per_unit in EUR; the evidence only"):
        estimate_cost([0], [100], prices=Prices(currency="EUR"))


def test_a_currency_with_a_price_is_kept():
    cost = estimate_cost([0], [100], prices=Prices(currency="EUR", per_unit=11.0))
    assert cost.currency == "EUR"
    assert cost.first_year == MoneyRange(low=1100, typical=1100, high=1100, currency="EUR")


# --- Years ----------------------------------------------------------------------------------------


def test_sessions_are_split_into_plan_years():
    prices = Prices(per_unit=10.0, session_fee=0.0)
    cost = estimate_cost([0, 364, 365, 729, 730], [100, 100, 100, 100, 100], prices=prices)
    assert cost.first_year.typical == 2000.0
    assert cost.second_year.typical == 2000.0  # day 730 is in year 3, not counted


def test_second_year_sessions_override_the_schedule_with_a_range():
    prices = Prices(per_unit=10.0, session_fee=100.0)
    cost = estimate_cost(
        [0, 90, 400], [200, 200, 150], prices=prices, second_year_sessions=(1, 2, 3)
    )
    last = 150 * 10.0 + 100.0
    assert triple(cost.second_year) == (last, 2 * last, 3 * last)
    assert cost.first_year.typical == 2 * 2100.0


@pytest.mark.parametrize("counts", [(2, 1, 3), (0, 1, 13), (-1, 0, 1), (1.5, 2, 3), (1, 2)])
def test_bad_second_year_counts_are_refused(counts):
    with pytest.raises(InvalidInputError, match="second_year_sessions"):
        estimate_cost([0], [100], second_year_sessions=counts)


def test_second_year_counts_need_a_session_to_price():
    with pytest.raises(InvalidInputError, match="second_year_sessions"):
        estimate_cost([], [], second_year_sessions=(1, 2, 3))


def test_an_empty_schedule_costs_nothing():
    cost = estimate_cost([], [])
    assert cost.per_session == ()
    assert cost.first_year == MoneyRange.zero("USD")


@settings(max_examples=200, deadline=None)
@given(
    sessions=st.lists(st.tuples(st.floats(0, 1000), st.floats(0, 600)), max_size=8),
    per_unit=st.one_of(st.none(), st.floats(0, 50)),
    fee=st.one_of(st.none(), st.floats(0, 1000)),
)
def test_year_totals_are_the_sums_of_their_sessions(sessions, per_unit, fee):
    days = [d for d, _ in sessions]
    units = [u for _, u in sessions]
    cost = estimate_cost(days, units, prices=Prices(per_unit=per_unit, session_fee=fee))
    assert isinstance(cost, CostEstimate)
    assert len(cost.per_session) == len(sessions)
    for m in (*cost.per_session, cost.first_year, cost.second_year):
        assert m.low <= m.typical <= m.high
        assert m.currency == cost.currency
    for year, total in ((0, cost.first_year), (1, cost.second_year)):
        chosen = [
            c
            for c, d in zip(cost.per_session, days, strict=True)
            if 365 * year <= d < 365 * (year + 1)
        ]
        for attr in ("low", "typical", "high"):
            expected = math.fsum(getattr(c, attr) for c in chosen)
            assert getattr(total, attr) == pytest.approx(expected, rel=1e-12, abs=1e-9)


# --- Validation -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"currency": "usd"}, "currency"),
        ({"currency": "DOLLARS"}, "currency"),
        ({"per_unit": -1.0}, "per_unit"),
        ({"per_unit": 1001.0}, "per_unit"),
        ({"per_unit": math.nan}, "per_unit"),
        ({"per_unit": math.inf}, "per_unit"),
        ({"session_fee": -5.0}, "session_fee"),
        ({"per_unit_low": -2.0, "per_unit_high": 3.0}, "per_unit_low"),
        ({"per_unit": 10.0, "per_unit_low": 12.0}, "per_unit_low"),
        ({"per_unit": 10.0, "per_unit_high": 8.0}, "per_unit_high"),
    ],
)
def test_price_errors_name_the_field(kwargs, field):
    with pytest.raises(InvalidInputError) as info:
        Prices(**kwargs)
    assert info.value.field == field
    assert field in str(info.value)


def test_price_error_names_value_and_range():
    with pytest.raises(
        InvalidInputError, match=r"per_unit must be in \[0, 1000\] USD per unit; got 1200"
    ):
        Prices(per_unit=1200)


def test_schedule_errors_name_the_field():
    with pytest.raises(InvalidInputError, match="session_units") as info:
        estimate_cost([0, 90], [100])
    assert info.value.field == "session_units"
    with pytest.raises(InvalidInputError, match="session_days"):
        estimate_cost([-1], [100])


def test_money_of_different_currencies_does_not_add():
    with pytest.raises(UnitMismatchError):
        _ = MoneyRange.zero("USD") + MoneyRange.zero("EUR")


def test_money_range_must_be_ordered():
    with pytest.raises(InvalidInputError, match="low <= typical <= high"):
        MoneyRange(low=3, typical=2, high=4, currency="USD")
