"""Alternatives: equal detail (IPDAS), common denominators, girth scaling, Botox passed through."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calfsim.errors import InvalidInputError
from calfsim.evidence import load_evidence
from calfsim.planner import OPTION_KEYS, MoneyRange, Option, Risk, compare_alternatives

EV = load_evidence()
BAND = (-2.0, -1.2, -0.4)
COST = MoneyRange(low=3600.0, typical=5600.0, high=8400.0, currency="USD")
COUNT = re.compile(r"^(\d+) of (\d+) patients \(.+\)$")
YEAR = re.compile(r"(19|20)\d\d|year not recorded")


def options(calf_girth_cm: float = 37.5, **kwargs: object) -> dict[str, Option]:
    kwargs.setdefault("botox_girth_change_cm", BAND)
    kwargs.setdefault("botox_cost_two_years", COST)
    result = compare_alternatives(calf_girth_cm=calf_girth_cm, **kwargs)  # type: ignore[arg-type]
    return {o.key: o for o in result}


def test_every_option_in_a_fixed_order():
    result = compare_alternatives(
        calf_girth_cm=37.5, botox_girth_change_cm=BAND, botox_cost_two_years=COST
    )
    assert tuple(o.key for o in result) == OPTION_KEYS
    assert set(OPTION_KEYS) == {
        "botox",
        "selective_neurectomy",
        "surgical_resection",
        "radiofrequency_ablation",
        "liposuction",
        "no_treatment",
    }


# --- IPDAS: equal detail, common denominator, dated sources, off-label ----------------------------


@pytest.mark.parametrize("key", OPTION_KEYS)
def test_every_option_is_described_in_equal_detail(key):
    option = options()[key]
    for text in (
        option.name,
        option.girth_note,
        option.permanence,
        option.recovery,
        option.cost_note,
        option.evidence_strength,
    ):
        assert text.strip()
    assert option.sources
    assert option.risks, "at least one risk, or an explicit 'no frequency reported' line"
    for risk in option.risks:
        assert risk.text.strip() and risk.basis.strip()
        if risk.per_1000 is None:
            assert re.search(r"no frequency|unknown|no rate", risk.basis)
    if option.girth_change_cm is None:
        assert "no calf series" in option.girth_note.lower()
    else:
        low, typical, high = option.girth_change_cm
        assert low <= typical <= high <= 0
    if option.cost_two_years is None:
        assert "price" in option.cost_note


@pytest.mark.parametrize("key", OPTION_KEYS)
def test_counted_risks_are_per_1000_of_their_count(key):
    for risk in options()[key].risks:
        match = COUNT.match(risk.basis)
        if match:
            n_events, n_patients = int(match[1]), int(match[2])
            assert risk.per_1000 == pytest.approx(1000 * n_events / n_patients)


def test_walking_fatigue_after_neurectomy_is_20_in_1000():
    risks = options()["selective_neurectomy"].risks
    fatigue = next(r for r in risks if "walking" in r.text)
    assert fatigue.per_1000 == pytest.approx(20.0)
    assert fatigue.basis == "6 of 300 patients (Wang H et al. 2015)"


def test_every_source_shows_its_year():
    for option in options().values():
        for source in option.sources:
            assert YEAR.search(source), (option.key, source)


def test_only_calf_botox_is_off_label_and_says_so():
    result = options()
    assert [k for k, o in result.items() if o.off_label] == ["botox"]
    assert result["botox"].off_label_note == EV.text("procedure.off_label_status")
    assert "off-label" in result["botox"].off_label_note.lower()


# --- Girth changes --------------------------------------------------------------------------------


def _resection_fracs() -> tuple[float, float, float]:
    """Independent arithmetic on the three series (clinical-evidence.md §7)."""
    series = [  # (n, mean change %, mean change cm, per-patient range cm)
        (20, -0.133, -4.7, (-7.0, -3.5)),
        (300, -0.144, -5.2, (-8.1, -3.0)),
        (139, -0.166, -6.4, (-8.2, -3.8)),
    ]
    typical = sum(n * f for n, f, _, _ in series) / sum(n for n, _, _, _ in series)
    low = min(r[0] * f / cm for _, f, cm, r in series)
    high = max(r[1] * f / cm for _, f, cm, r in series)
    return (low, typical, high)


@settings(max_examples=50, deadline=None)
@given(calf_girth_cm=st.floats(25.0, 60.0))
def test_resection_is_scaled_to_the_persons_girth(calf_girth_cm):
    change = options(calf_girth_cm)["surgical_resection"].girth_change_cm
    assert change is not None
    expected = tuple(f * calf_girth_cm for f in _resection_fracs())
    assert change == pytest.approx(expected)
    # Between 13 and 17 % of the calf, as the series report.
    assert -0.17 < change[1] / calf_girth_cm < -0.13


def test_resection_note_says_it_is_scaled():
    note = options(40.0)["surgical_resection"].girth_note
    assert "Scaled to your calf (40 cm)" in note


@settings(max_examples=30, deadline=None)
@given(calf_girth_cm=st.floats(25.0, 60.0))
def test_radiofrequency_is_scaled_and_neurectomy_is_not(calf_girth_cm):
    result = options(calf_girth_cm)
    rf = result["radiofrequency_ablation"].girth_change_cm
    assert rf is not None
    assert rf[1] == pytest.approx(
        EV.number("alternatives.radiofrequency_ablation_girth_change_frac") * calf_girth_cm
    )
    neurectomy = result["selective_neurectomy"].girth_change_cm
    assert neurectomy is not None
    assert neurectomy[1] == EV.number("alternatives.selective_neurectomy_girth_change_cm")
    assert neurectomy == options(30.0)["selective_neurectomy"].girth_change_cm


def test_neurectomy_range_is_the_10th_to_90th_percentile():
    low, typical, high = options()["selective_neurectomy"].girth_change_cm or (0, 0, 0)
    # mean -3.2 cm, SD 1.2 cm (Wang 2015); z(0.9) = 1.2816
    assert low == pytest.approx(-3.2 - 1.2816 * 1.2, abs=1e-3)
    assert high == pytest.approx(-3.2 + 1.2816 * 1.2, abs=1e-3)
    assert typical == -3.2


def test_botox_band_and_cost_are_passed_through():
    botox = options()["botox"]
    assert botox.girth_change_cm == BAND
    assert botox.cost_two_years == COST
    own = (Risk(text="Calf weakness", per_1000=None, basis="no frequency reported"),)
    assert options(botox_risks=own)["botox"].risks == own


def test_no_treatment_changes_nothing_and_costs_nothing():
    eur = MoneyRange(low=1, typical=2, high=3, currency="EUR")
    none = options(botox_cost_two_years=eur)["no_treatment"]
    assert none.girth_change_cm == (0.0, 0.0, 0.0)
    assert none.cost_two_years == MoneyRange.zero("EUR")
    assert all(r.per_1000 == 0.0 for r in none.risks)


def test_liposuction_has_no_girth_numbers_and_a_usd_cost():
    lipo = options()["liposuction"]
    assert lipo.girth_change_cm is None
    low, high = EV.bounds("alternatives.liposuction_cost_usd")
    assert lipo.cost_two_years == MoneyRange(
        low=low, typical=EV.number("alternatives.liposuction_cost_usd"), high=high, currency="USD"
    )
    eur = MoneyRange(low=1, typical=2, high=3, currency="EUR")
    assert "no price in EUR" in options(botox_cost_two_years=eur)["liposuction"].cost_note


def test_surgery_has_no_price():
    result = options()
    for key in ("selective_neurectomy", "surgical_resection", "radiofrequency_ablation"):
        assert result[key].cost_two_years is None
        assert result[key].cost_note == EV.text("alternatives.surgical_price_unavailable")


# --- Validation -----------------------------------------------------------------------------------


@pytest.mark.parametrize("band", [(-1.0, -2.0, 0.0), (-1.0, -0.5), (-1.0, float("nan"), 0.0)])
def test_a_bad_botox_band_is_refused(band):
    with pytest.raises(InvalidInputError, match="botox_girth_change_cm"):
        options(botox_girth_change_cm=band)


@pytest.mark.parametrize("girth", [10.0, 95.0, float("inf")])
def test_an_implausible_girth_is_refused(girth):
    with pytest.raises(InvalidInputError, match=r"calf_girth_cm must be in \[20, 70\] cm") as info:
        options(girth)
    assert info.value.field == "calf_girth_cm"


@pytest.mark.parametrize(("n_events", "n_patients"), [(5, 3), (-1, 10), (0, 0)])
def test_a_count_must_fit_its_denominator(n_events, n_patients):
    with pytest.raises(InvalidInputError):
        Risk.from_count("x", n_events, n_patients, source="s")


def test_risk_frequency_must_be_per_1000():
    with pytest.raises(InvalidInputError, match="per_1000"):
        Risk(text="x", per_1000=1500.0, basis="b")
