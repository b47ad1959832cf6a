"""Safety and consistency of plans over many generated intakes (issue 3 acceptance)."""

import itertools
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calfsim.domain import LegMeasurements, Patient, RecentToxin, Sex, Side, ToxinProduct
from calfsim.errors import InvalidInputError
from calfsim.evidence import load_evidence
from calfsim.planner import Prices, ScreeningAnswers, head_regions, safe_zones, site_in_region
from calfsim.simulation import Goal, GoalKind, PlanRequest, make_plan

EV = load_evidence()
# Independent of the planner's code: the label numbers and the *lowest* conversion ratios.
CEILING_U = 400.0
WINDOW_DAYS = 90.0
MIN_INTERVAL_DAYS = 84.0
LOWEST_RATIO = {
    ToxinProduct.ONABOTULINUMTOXINA: 1.0,
    ToxinProduct.INCOBOTULINUMTOXINA: 1.0,
    ToxinProduct.PRABOTULINUMTOXINA: EV.bounds("products.pra_per_ona_ratio")[0],
    ToxinProduct.LETIBOTULINUMTOXINA: EV.bounds("products.leti_per_ona_ratio")[0],
    ToxinProduct.ABOBOTULINUMTOXINA: 2.5,
}
CONTRAINDICATIONS = (
    "infection_at_site",
    "neuromuscular_disease",
    "toxin_hypersensitivity",
    "pregnant_or_breastfeeding",
)
# Thousands of intakes in CI; fewer when iterating locally (CALFSIM_PLAN_EXAMPLES=50).
N_EXAMPLES = int(os.environ.get("CALFSIM_PLAN_EXAMPLES", "2000"))

answers = st.builds(
    ScreeningAnswers,
    **{
        name: st.one_of(st.none(), st.booleans(), st.just(False), st.just(False))
        for name in ScreeningAnswers.names()
    },
)
legs = st.builds(
    LegMeasurements,
    calf_girth_cm=st.floats(30.0, 46.0),
    fat_thickness_mm=st.one_of(st.none(), st.floats(2.0, 12.0)),
    gm_thickness_mm=st.one_of(st.none(), st.floats(10.0, 30.0)),
)
recent = st.builds(
    RecentToxin,
    days_ago=st.floats(0.0, 200.0),
    amount_u=st.floats(1.0, 400.0),
    product=st.sampled_from(list(ToxinProduct)),
)
goals = st.one_of(
    st.builds(Goal, kind=st.sampled_from([GoalKind.MAX, GoalKind.VISIBLE])),
    st.builds(Goal, kind=st.just(GoalKind.GIRTH), girth_change_cm=st.floats(-3.0, -0.2)),
)


@st.composite
def requests(draw):
    sides = draw(st.sampled_from([[Side.LEFT], [Side.RIGHT], [Side.LEFT, Side.RIGHT]]))
    override = draw(st.one_of(st.none(), st.floats(56.0, 84.0)))
    return PlanRequest(
        patient=Patient(
            sex=draw(st.one_of(st.none(), st.sampled_from(list(Sex)))),
            age_years=draw(st.one_of(st.none(), st.floats(14.0, 75.0))),
        ),
        legs={side: draw(legs) for side in sides},
        answers=draw(answers),
        goal=draw(goals),
        product=draw(st.sampled_from(list(ToxinProduct))),
        recent_toxin=tuple(draw(st.lists(recent, max_size=2))),
        prices=Prices(),
        min_interval_days=override,
        override_reason="recorded in the test" if override is not None else None,
    )


def _ona_u(units, product):
    return units / LOWEST_RATIO[product]


def _is_contraindicated(request):
    a = request.answers
    if any(getattr(a, name) is True for name in CONTRAINDICATIONS):
        return True
    if request.product is ToxinProduct.ABOBOTULINUMTOXINA and a.cows_milk_protein_allergy:
        return True
    age = request.patient.age_years
    return age is not None and age < 18


@pytest.mark.slow
@settings(
    max_examples=N_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(request=requests())
def test_plans_are_safe_and_consistent(request):
    try:
        plan = make_plan(request, n_samples=100, search_samples=100)
    except InvalidInputError as exc:
        # A clear refusal is acceptable (e.g. a tiny calf that cannot take the dose at the
        # per-site maximum); it must name what is wrong.
        assert str(exc)
        return
    if _is_contraindicated(request):
        assert not plan.sessions and not plan.sites
        assert plan.screening.verdict.value == "not_recommended"
        return
    if not plan.sessions:
        return
    interval = request.min_interval_days or MIN_INTERVAL_DAYS
    assert interval >= 56.0
    days = [s.day for s in plan.sessions]
    assert all(b - a >= interval - 1e-9 for a, b in itertools.pairwise(days))
    assert len(plan.sessions) >= 2 or days[0] + interval > request.horizon_days
    events = [(t.day, _ona_u(t.amount_u, t.product)) for t in request.recent_toxin]
    events += [(s.day, _ona_u(s.amount_u(), s.product)) for s in plan.sessions]
    for s in plan.sessions:
        total = sum(u for day, u in events if s.day - WINDOW_DAYS < day <= s.day)
        assert total <= CEILING_U + 1e-6
    zones = safe_zones(EV)
    first = plan.sessions[0]
    for side, dose in first.doses_u.items():
        regions = head_regions(plan.anatomies[side], zones=zones, ev=EV)
        leg_sites = [x for x in plan.sites if x.side is side]
        for head, units in (dose.by_head_u or {}).items():
            head_sites = [x for x in leg_sites if x.head is head]
            assert sum(x.units_u for x in head_sites) == pytest.approx(units, abs=1e-9)
            for site in head_sites:
                assert site_in_region(site, regions[head], zones)
