"""Screening: contraindications, consult rules, not-asked answers, toxin elsewhere, evidence."""

from __future__ import annotations

from dataclasses import fields, replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calfsim.domain import LegMeasurements, Patient, RecentToxin, Sex, Side, ToxinProduct
from calfsim.errors import InvalidInputError
from calfsim.evidence import load_evidence
from calfsim.planner import Reason, ScreeningAnswers, ScreeningResult, Verdict, screen

EV = load_evidence()
ADULT = Patient(sex=Sex.FEMALE, age_years=29)
LEGS = {
    Side.LEFT: LegMeasurements(calf_girth_cm=37.5, fat_thickness_mm=6.0),
    Side.RIGHT: LegMeasurements(calf_girth_cm=37.8),
}
ONA = ToxinProduct.ONABOTULINUMTOXINA
ABO = ToxinProduct.ABOBOTULINUMTOXINA


def healthy(**changes: object) -> ScreeningAnswers:
    """Every question answered with the reassuring answer, then ``changes`` applied."""
    answers = dict.fromkeys(ScreeningAnswers.names(), False)
    answers["heel_raise_bulge"] = True
    answers.update(changes)  # type: ignore[arg-type]
    return ScreeningAnswers(**answers)  # type: ignore[arg-type]


def run(answers: ScreeningAnswers, **kwargs: object) -> ScreeningResult:
    kwargs.setdefault("patient", ADULT)
    kwargs.setdefault("legs", LEGS)
    return screen(answers, **kwargs)  # type: ignore[arg-type]


def codes(result: ScreeningResult) -> set[str]:
    return {r.code for r in result.reasons}


# --- The healthy adult ----------------------------------------------------------------------------


def test_healthy_adult_with_every_answer_is_a_candidate():
    result = run(healthy())
    assert result.verdict is Verdict.CANDIDATE
    assert result.reasons == ()
    assert result.not_asked == ()
    assert not result.suggests_alternatives
    assert result.excluded_products == frozenset()
    assert result.ceiling_room_u == EV.number("safety.ceiling_per_3_months_u")
    assert result.min_wait_days == 0.0


def test_names_are_exactly_the_yes_no_fields():
    boolean = {f.name for f in fields(ScreeningAnswers) if f.type == "bool | None"}
    assert set(ScreeningAnswers.names()) == boolean
    assert len(ScreeningAnswers.names()) == len(boolean)


# --- Each rule alone ------------------------------------------------------------------------------

CONTRAINDICATIONS = [
    "infection_at_site",
    "neuromuscular_disease",
    "toxin_hypersensitivity",
    "pregnant_or_breastfeeding",
]


@pytest.mark.parametrize("name", CONTRAINDICATIONS)
def test_each_contraindication_alone_is_not_recommended(name):
    result = run(healthy(**{name: True}))
    assert result.verdict is Verdict.NOT_RECOMMENDED
    assert codes(result) == {name}
    assert result.reasons[0].text


def test_cows_milk_allergy_rules_out_abobotulinumtoxin_a_when_chosen():
    result = run(healthy(cows_milk_protein_allergy=True), product=ABO)
    assert result.verdict is Verdict.NOT_RECOMMENDED
    assert codes(result) == {"cows_milk_protein_allergy"}
    assert result.excluded_products == frozenset({ABO})


def test_cows_milk_allergy_with_another_product_only_excludes_abobotulinumtoxin_a():
    result = run(healthy(cows_milk_protein_allergy=True), product=ONA)
    assert result.verdict is Verdict.CANDIDATE
    assert result.excluded_products == frozenset({ABO})
    (reason,) = result.reasons
    assert reason.verdict is Verdict.CANDIDATE
    assert "abobotulinumtoxinA" in reason.text and ONA.value in reason.text


def test_hypersensitivity_excludes_every_product():
    assert run(healthy(toxin_hypersensitivity=True)).excluded_products == frozenset(ToxinProduct)


@pytest.mark.parametrize(
    ("age", "verdict"), [(17, Verdict.NOT_RECOMMENDED), (18, Verdict.CANDIDATE)]
)
def test_age_under_18_is_not_recommended(age, verdict):
    result = run(healthy(), patient=Patient(age_years=age))
    assert result.verdict is verdict
    assert ("age_under_18" in codes(result)) is (verdict is Verdict.NOT_RECOMMENDED)


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"skin_condition_at_site": True}, "skin_condition_at_site"),
        ({"aminoglycosides": True}, "aminoglycosides"),
        ({"anticoagulants": True}, "anticoagulants"),
        ({"bleeding_disorder": True}, "bleeding_disorder"),
        ({"athlete_or_calf_power_work": True}, "athlete_or_calf_power_work"),
        ({"calf_fat_dominant": True}, "fat_dominant_calf"),
        ({"heel_raise_bulge": False}, "fat_dominant_calf"),
        ({"expects_permanent_result": True}, "expects_permanent_result"),
        ({"expected_girth_change_cm": -5.0}, "expects_large_change"),
        ({"expected_girth_change_cm": 1.0}, "expects_larger_calf"),
    ],
)
def test_each_consult_rule_alone_gives_consult(changes, code):
    result = run(healthy(**changes))
    assert result.verdict is Verdict.CONSULT
    assert codes(result) == {code}


def test_fat_layer_above_the_bulge_threshold_points_to_the_alternatives():
    limit_mm = EV.number("safety.fat_bulge_min_mm")
    fat = {Side.LEFT: LegMeasurements(calf_girth_cm=38.0, fat_thickness_mm=limit_mm + 0.5)}
    result = run(healthy(), legs=fat)
    assert codes(result) == {"fat_dominant_calf"}
    assert result.suggests_alternatives
    assert "safety.fat_bulge_min_mm" in result.reasons[0].evidence_keys
    assert "fat" in result.reasons[0].text and "muscle" in result.reasons[0].text
    at_limit = {Side.LEFT: LegMeasurements(calf_girth_cm=38.0, fat_thickness_mm=limit_mm)}
    assert run(healthy(), legs=at_limit).verdict is Verdict.CANDIDATE


def test_pinch_test_above_the_threshold_flags_fat():
    limit_cm = EV.number("safety.pinch_fat_dominant_min_cm")
    assert codes(run(healthy(pinch_test_cm=limit_cm + 0.5))) == {"fat_dominant_calf"}
    assert run(healthy(pinch_test_cm=limit_cm)).verdict is Verdict.CANDIDATE


def test_expected_change_within_the_studied_range_is_realistic():
    largest_cm = min(EV.series("studies.park2005_girth_change_cm"))
    assert run(healthy(expected_girth_change_cm=largest_cm)).verdict is Verdict.CANDIDATE
    result = run(healthy(expected_girth_change_cm=largest_cm - 0.1))
    assert codes(result) == {"expects_large_change"}
    assert result.suggests_alternatives


# --- Not asked ------------------------------------------------------------------------------------


def test_nothing_answered_lists_every_question():
    result = run(ScreeningAnswers(), patient=Patient(), recent_toxin=None)
    assert result.verdict is Verdict.CONSULT
    assert set(result.not_asked) == {*ScreeningAnswers.names(), "age_years", "recent_toxin"}
    assert "not_asked" in codes(result)


def test_pregnancy_is_not_asked_of_men():
    answers = replace(healthy(), pregnant_or_breastfeeding=None)
    assert run(answers, patient=Patient(sex=Sex.MALE, age_years=30)).verdict is Verdict.CANDIDATE
    assert run(answers).not_asked == ("pregnant_or_breastfeeding",)


@settings(max_examples=60, deadline=None)
@given(missing=st.sets(st.sampled_from(ScreeningAnswers.names()), min_size=1))
def test_missing_answers_are_listed_and_never_candidate(missing):
    answers = replace(healthy(), **dict.fromkeys(missing))
    result = run(answers)
    assert set(result.not_asked) == missing
    assert result.verdict is not Verdict.CANDIDATE
    (reason,) = [r for r in result.reasons if r.code == "not_asked"]
    assert reason.verdict is Verdict.CONSULT


# --- Severity -------------------------------------------------------------------------------------

ANSWER = st.one_of(st.none(), st.booleans())


@st.composite
def any_answers(draw: st.DrawFn) -> ScreeningAnswers:
    values = {name: draw(ANSWER) for name in ScreeningAnswers.names()}
    values["pinch_test_cm"] = draw(st.one_of(st.none(), st.floats(0.5, 5.0)))
    values["expected_girth_change_cm"] = draw(st.one_of(st.none(), st.floats(-8.0, 2.0)))
    return ScreeningAnswers(**values)


def test_verdicts_are_ordered_by_severity():
    assert [v.severity for v in Verdict] == [0, 1, 2]
    assert Verdict.CANDIDATE.severity < Verdict.CONSULT.severity < Verdict.NOT_RECOMMENDED.severity


@settings(max_examples=150, deadline=None)
@given(answers=any_answers(), product=st.sampled_from(list(ToxinProduct)))
def test_the_verdict_is_the_most_severe_reason(answers, product):
    result = run(answers, product=product)
    severities = [r.verdict.severity for r in result.reasons]
    assert result.verdict.severity == max(severities, default=0)
    assert severities == sorted(severities, reverse=True)
    if result.verdict is Verdict.CANDIDATE:
        assert result.not_asked == ()
    # A contraindication always wins, whatever else is answered.
    worse = replace(answers, infection_at_site=True)
    assert run(worse, product=product).verdict is Verdict.NOT_RECOMMENDED


# --- Toxin received elsewhere ---------------------------------------------------------------------


def test_300_u_onabotulinumtoxin_a_20_days_ago_leaves_100_u():
    result = run(healthy(), recent_toxin=[RecentToxin(days_ago=20, amount_u=300, product=ONA)])
    assert result.ceiling_room_u == pytest.approx(100.0)
    # 100 U is exactly the smallest studied dose for two calves (2 x 50 U): no ceiling reason,
    # but the 84-day interval applies.
    assert codes(result) == {"recent_toxin"}
    assert result.min_wait_days == pytest.approx(84 - 20)
    assert "64 more days" in result.reasons[0].text
    assert "leaving 100 U" in result.reasons[0].text


def test_500_u_abobotulinumtoxin_a_counts_with_the_conservative_ratio():
    result = run(healthy(), recent_toxin=[RecentToxin(days_ago=20, amount_u=500, product=ABO)])
    low_ratio, _ = EV.bounds("products.abo_per_ona_ratio")
    assert low_ratio == 2.5
    assert result.ceiling_room_u == pytest.approx(400 - 500 / 2.5)
    assert result.ceiling_room_u == pytest.approx(200.0)


def test_too_little_room_under_the_ceiling_asks_to_wait():
    result = run(healthy(), recent_toxin=[RecentToxin(days_ago=20, amount_u=350, product=ONA)])
    assert result.ceiling_room_u == pytest.approx(50.0)
    assert codes(result) == {"ceiling_room_low", "recent_toxin"}
    assert result.verdict is Verdict.CONSULT
    # The 350 U leave the 90-day window on day 70, later than the interval's day 64.
    assert result.min_wait_days == pytest.approx(90 - 20)
    reason = next(r for r in result.reasons if r.code == "ceiling_room_low")
    assert "leaving 50 U" in reason.text and "70 more days" in reason.text


def test_only_enough_old_toxin_needs_to_leave_the_window():
    toxin = [
        RecentToxin(days_ago=80, amount_u=200, product=ONA),
        RecentToxin(days_ago=10, amount_u=250, product=ONA),
    ]
    result = run(healthy(), recent_toxin=toxin)
    assert result.ceiling_room_u == 0.0
    reason = next(r for r in result.reasons if r.code == "ceiling_room_low")
    assert "10 more days" in reason.text  # the 200 U leave on day 10, leaving 150 U
    assert result.min_wait_days == pytest.approx(84 - 10)


def test_toxin_between_the_interval_and_the_window_counts_only_against_the_ceiling():
    result = run(healthy(), recent_toxin=[RecentToxin(days_ago=85, amount_u=400, product=ONA)])
    assert codes(result) == {"ceiling_room_low"}
    assert result.min_wait_days == pytest.approx(5.0)


def test_old_toxin_does_not_count():
    result = run(healthy(), recent_toxin=[RecentToxin(days_ago=120, amount_u=400, product=ONA)])
    assert result.verdict is Verdict.CANDIDATE
    assert result.ceiling_room_u == 400.0


@settings(max_examples=100, deadline=None)
@given(
    toxin=st.lists(
        st.builds(
            RecentToxin,
            days_ago=st.floats(0, 200),
            amount_u=st.floats(0, 600),
            product=st.sampled_from(list(ToxinProduct)),
        ),
        max_size=4,
    )
)
def test_ceiling_room_counts_the_window_conservatively(toxin):
    result = run(healthy(), recent_toxin=toxin)
    used = sum(t.amount_u / EV.bounds(_ratio_key(t.product))[0] for t in toxin if t.days_ago < 90)
    assert result.ceiling_room_u == pytest.approx(max(0.0, 400 - used), abs=1e-9)
    assert result.min_wait_days >= 0
    if result.ceiling_room_u < 100:
        assert "ceiling_room_low" in codes(result)
    # After the wait, the interval is kept and the ceiling leaves room for two calves.
    d = result.min_wait_days
    assert all(t.days_ago + d >= 84 - 1e-9 for t in toxin if t.days_ago < 84)
    later = sum(
        t.amount_u / EV.bounds(_ratio_key(t.product))[0] for t in toxin if t.days_ago + d < 90
    )
    assert 400 - later >= 100 - 1e-9


def _ratio_key(product: ToxinProduct) -> str:
    short = {
        ToxinProduct.ONABOTULINUMTOXINA: "ona",
        ToxinProduct.INCOBOTULINUMTOXINA: "inco",
        ToxinProduct.PRABOTULINUMTOXINA: "pra",
        ToxinProduct.ABOBOTULINUMTOXINA: "abo",
        ToxinProduct.LETIBOTULINUMTOXINA: "leti",
    }
    return f"products.{short[product]}_per_ona_ratio"


# --- Evidence behind every reason -----------------------------------------------------------------


def _every_reason() -> list[Reason]:
    everything = dict.fromkeys(ScreeningAnswers.names(), True)
    everything["heel_raise_bulge"] = False
    results = [
        run(
            ScreeningAnswers(**everything, pinch_test_cm=4.0, expected_girth_change_cm=-6.0),
            patient=Patient(age_years=16),
            legs={Side.LEFT: LegMeasurements(calf_girth_cm=40.0, fat_thickness_mm=12.0)},
            recent_toxin=[RecentToxin(days_ago=5, amount_u=900, product=ABO)],
            product=ABO,
        ),
        run(healthy(cows_milk_protein_allergy=True, expected_girth_change_cm=2.0)),
        run(ScreeningAnswers(), patient=Patient(), recent_toxin=None),
        run(healthy(), recent_toxin=[RecentToxin(days_ago=10, amount_u=20, product=ONA)]),
    ]
    return [reason for result in results for reason in result.reasons]


def test_every_reason_code_is_produced_and_cites_evidence_that_exists():
    reasons = _every_reason()
    assert {r.code for r in reasons} >= {
        *CONTRAINDICATIONS,
        "cows_milk_protein_allergy",
        "age_under_18",
        "skin_condition_at_site",
        "aminoglycosides",
        "anticoagulants",
        "bleeding_disorder",
        "athlete_or_calf_power_work",
        "fat_dominant_calf",
        "expects_permanent_result",
        "expects_large_change",
        "expects_larger_calf",
        "recent_toxin",
        "ceiling_room_low",
        "not_asked",
    }
    for reason in reasons:
        assert reason.evidence_keys, reason.code
        for key in reason.evidence_keys:
            assert key in EV.items, (reason.code, key)
        assert reason.citations, reason.code
        assert reason.text.strip().endswith("."), reason.code


# --- Input validation -----------------------------------------------------------------------------


def test_an_answer_that_is_not_a_boolean_is_refused():
    with pytest.raises(InvalidInputError, match="infection_at_site") as info:
        ScreeningAnswers(infection_at_site="no")  # type: ignore[arg-type]
    assert info.value.field == "infection_at_site"


def test_a_pinch_in_millimetres_gets_a_hint():
    with pytest.raises(InvalidInputError, match=r"pinch_test_cm.*\[0.1, 15\].*millimetres"):
        ScreeningAnswers(pinch_test_cm=25)


def test_wrong_argument_types_are_refused():
    with pytest.raises(InvalidInputError, match="answers"):
        screen({}, patient=ADULT, legs=LEGS)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="product"):
        screen(healthy(), patient=ADULT, legs=LEGS, product="botox")  # type: ignore[arg-type]
