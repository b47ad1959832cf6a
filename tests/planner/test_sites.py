"""Injection sites, safe zones, head regions and dilution (planner part 3, injection map)."""

from __future__ import annotations

import dataclasses
import itertools
import math

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from calfsim.anatomy import LegAnatomy, build_leg_anatomy
from calfsim.domain import LegMeasurements, MuscleHead, Patient, Sex, Side, ToxinProduct
from calfsim.errors import InvalidInputError, OutsideEvidenceError
from calfsim.evidence import EvidenceTag, load_evidence
from calfsim.planner import (
    Dilution,
    HeadRegion,
    InjectionSite,
    SafeZones,
    head_regions,
    plan_dilution,
    plan_sites,
    safe_zones,
    site_in_region,
)

MG, LG, SOL = MuscleHead.GM_MEDIAL, MuscleHead.GM_LATERAL, MuscleHead.SOLEUS
ONA, ABO = ToxinProduct.ONABOTULINUMTOXINA, ToxinProduct.ABOBOTULINUMTOXINA
EV = load_evidence()
ZONES = safe_zones()


def build(calf_girth_cm: float = 37.5, *, side: Side = Side.LEFT, sex=Sex.FEMALE, **measured):
    return build_leg_anatomy(
        LegMeasurements(calf_girth_cm=calf_girth_cm, **measured), Patient(sex=sex), side=side
    )


def plan(leg: LegAnatomy, doses, **kwargs):
    kwargs.setdefault("concentration_u_per_ml", 50.0)
    return plan_sites(leg, doses, **kwargs)


def pairwise_min_cm(sites) -> float:
    points = [(s.level_below_knee_cm, s.offset_from_midline_cm) for s in sites]
    return min((math.dist(p, q) for p, q in itertools.combinations(points, 2)), default=math.inf)


# --- the evidence behind the margins ------------------------------------------------------------


def test_safe_zones_come_from_the_evidence_and_are_marked_as_assumptions():
    zones = safe_zones(EV)
    assert zones == SafeZones(
        popliteal_margin_cm=EV.number("injection.popliteal_margin_cm"),
        midline_margin_cm=EV.number("injection.midline_margin_cm"),
        junction_margin_cm=EV.number("injection.junction_margin_cm"),
        min_spacing_cm=EV.number("injection.min_spacing_cm"),
    )
    for key in (
        "popliteal_margin_cm",
        "midline_margin_cm",
        "junction_margin_cm",
        "min_spacing_cm",
        "preferred_spacing_cm",
        "max_units_per_site_u",
        "needle_depth_min_mm",
        "needle_depth_max_mm",
        "syringe_ml",
    ):
        item = EV.item(f"injection.{key}")
        assert item.tag is EvidenceTag.INFERRED, key
        assert "ASSUMPTION" in item.note, key
    assert EV.item("injection.abo_vial_sizes_u").tag is EvidenceTag.SECONDARY


@pytest.mark.parametrize(
    "field", ["popliteal_margin_cm", "midline_margin_cm", "junction_margin_cm", "min_spacing_cm"]
)
@pytest.mark.parametrize("bad", [0.0, -1.0, math.nan, math.inf, "2", True])
def test_safe_zones_reject_non_positive_margins(field, bad):
    with pytest.raises(InvalidInputError, match=field) as info:
        dataclasses.replace(ZONES, **{field: bad})
    assert info.value.field == field


# --- head regions -------------------------------------------------------------------------------


def test_regions_follow_the_anatomy_and_the_margins():
    leg = build(37.5)
    regions = head_regions(leg)
    assert list(regions) == [MG, LG, SOL]
    mg, lg, sol = regions[MG], regions[LG], regions[SOL]
    length = leg.length_cm
    # Distal ends from the anatomy shapes: MG at mg_end_frac, LG 1.74 cm higher (Antonios 2008).
    assert mg.end_cm == pytest.approx(EV.number("anatomy.mg_end_frac") * length, abs=0.05)
    assert mg.end_cm - lg.end_cm == pytest.approx(EV.number("anatomy.lg_end_offset_cm"), abs=0.05)
    for region in (mg, lg):
        assert region.top_cm == ZONES.popliteal_margin_cm
        assert region.bottom_cm == pytest.approx(region.end_cm - ZONES.junction_margin_cm)
        assert region.bulk_cm == leg.calf_level_cm  # largest cross-section at the maximal girth
        assert region.inner_offset_cm == ZONES.midline_margin_cm
        assert region.inner_offset_cm < region.outer_offset_cm <= leg.calf_girth_cm / 4 + 1e-9
        assert not region.is_empty
        assert region.side is Side.LEFT
    assert mg.direction == 1 and lg.direction == -1 and sol.direction == 0
    # The medial head is the bigger one; the soleus is reached below both bellies.
    assert mg.outer_offset_cm > lg.outer_offset_cm
    assert sol.top_cm >= mg.end_cm and sol.bottom_cm > sol.top_cm


def test_region_width_follows_the_head_and_vanishes_past_its_end():
    region = head_regions(build(37.5))[MG]
    assert region.width_at_cm(region.end_cm + 0.1) == 0.0
    assert region.width_at_cm(region.bulk_cm) > region.width_at_cm(region.bottom_cm) > 0.0


def test_reference_woman_medial_head_covers_the_ultrasound_width():
    """The width calibration: the reference calf's medial head is 8.5 cm wide on the skin."""
    leg = build(EV.number("anatomy.reference_calf_girth_cm"))
    region = head_regions(leg)[MG]
    assert region.width_at_cm(leg.calf_level_cm) == pytest.approx(
        EV.number("anatomy.mg_ultrasound_width_cm"), rel=0.02
    )


def test_wide_margins_can_empty_a_region_and_then_the_head_cannot_be_planned():
    zones = dataclasses.replace(ZONES, popliteal_margin_cm=25.0)
    leg = build(37.5)
    assert head_regions(leg, zones=zones)[MG].is_empty
    with pytest.raises(InvalidInputError, match="gm_medial: no room") as info:
        plan(leg, {MG: 30.0}, zones=zones)
    assert info.value.field == "gm_medial"


# --- the sites: properties over random legs and doses -------------------------------------------

legs = st.builds(
    dict,
    calf_girth_cm=st.floats(28.0, 50.0),
    sex=st.sampled_from([Sex.FEMALE, Sex.MALE, None]),
    side=st.sampled_from(list(Side)),
    fat_thickness_mm=st.none() | st.floats(2.0, 12.0),
    gm_thickness_mm=st.none() | st.floats(10.0, 35.0),
    lower_leg_length_cm=st.none() | st.floats(32.0, 45.0),
)
head_doses = st.fixed_dictionaries({MG: st.floats(0.0, 90.0), LG: st.floats(0.0, 60.0)})


def _leg_or_skip(params) -> LegAnatomy:
    measured = {k: v for k, v in params.items() if k not in ("sex", "side") and v is not None}
    try:
        return build_leg_anatomy(
            LegMeasurements(**measured), Patient(sex=params["sex"]), side=params["side"]
        )
    except InvalidInputError:  # thicknesses that cannot fit in the girth
        assume(False)
        raise


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(params=legs, doses=head_doses, concentration=st.sampled_from([25.0, 40.0, 50.0, 100.0]))
def test_sites_are_safe_spaced_and_carry_the_dose_exactly(params, doses, concentration):
    leg = _leg_or_skip(params)
    sites = plan(leg, doses, concentration_u_per_ml=concentration)
    regions = head_regions(leg)
    depth_low, depth_high = (
        EV.number("injection.needle_depth_min_mm"),
        EV.number("injection.needle_depth_max_mm"),
    )
    fat_mm = leg.measurements.fat_thickness_mm
    assert [s.index for s in sites] == list(range(1, len(sites) + 1))
    for head, dose_u in doses.items():
        mine = [s for s in sites if s.head is head]
        assert math.fsum(s.units_u for s in mine) == pytest.approx(dose_u, abs=1e-9)
        assert bool(mine) == (dose_u > 0)
        if mine:
            # every share is within a tenth of a unit of every other
            assert max(s.units_u for s in mine) - min(s.units_u for s in mine) <= 0.1 + 1e-9
            assert max(s.units_u for s in mine) <= EV.number("injection.max_units_per_site_u")
    for site in sites:
        assert site.side is leg.side
        assert site_in_region(site, regions[site.head], ZONES)
        assert site.level_below_knee_cm >= ZONES.popliteal_margin_cm
        assert abs(site.offset_from_midline_cm) >= ZONES.midline_margin_cm
        assert (
            site.level_below_knee_cm <= regions[site.head].end_cm - ZONES.junction_margin_cm + 1e-9
        )
        assert depth_low <= site.depth_mm <= depth_high
        assert site.depth_mm > fat_mm
        assert site.volume_ml == pytest.approx(site.units_u / concentration, rel=1e-12)
        assert site.level_frac == pytest.approx(site.level_below_knee_cm / leg.length_cm)
    assert pairwise_min_cm(sites) >= ZONES.min_spacing_cm


@settings(max_examples=60, deadline=None)
@given(params=legs, dose=st.floats(1.0, 40.0))
def test_soleus_sites_lie_beside_the_achilles_below_the_bellies(params, dose):
    leg = _leg_or_skip(params)
    sites = plan(leg, {MG: 30.0, LG: 20.0, SOL: dose})
    regions = head_regions(leg)
    soleus = [s for s in sites if s.head is SOL]
    assert math.fsum(s.units_u for s in soleus) == pytest.approx(dose, abs=1e-9)
    for site in soleus:
        assert site_in_region(site, regions[SOL], ZONES)
        assert site.level_below_knee_cm >= regions[MG].end_cm
    assert pairwise_min_cm(sites) >= ZONES.min_spacing_cm


def test_consensus_dose_gives_about_six_points_of_eight_to_ten_units():
    """Kim 2013: 50-60 U per calf at 6 points of 8-10 U (evidence dosing.consensus_*)."""
    leg = build(37.5, fat_thickness_mm=6.0, gm_thickness_mm=18.0)
    sites = plan(leg, {MG: 36.0, LG: 19.0})
    assert len(sites) == EV.number("dosing.consensus_points_per_calf")
    low, high = EV.bounds("dosing.consensus_units_per_point_u")
    assert all(low <= s.units_u <= high for s in sites)
    assert all(s.volume_ml == pytest.approx(s.units_u / 50.0) for s in sites)


def test_heads_are_on_their_own_side_of_the_midline_and_centred_on_the_bulk():
    leg = build(38.0)
    sites = plan(leg, {MG: 60.0, LG: 30.0})
    medial = [s for s in sites if s.head is MG]
    lateral = [s for s in sites if s.head is LG]
    assert all(s.offset_from_midline_cm > 0 for s in medial)
    assert all(s.offset_from_midline_cm < 0 for s in lateral)
    for group in (medial, lateral):
        mean_level = sum(s.level_below_knee_cm for s in group) / len(group)
        assert mean_level == pytest.approx(leg.calf_level_cm, abs=ZONES.min_spacing_cm)
    # numbered head by head, each head from the top down
    assert [s.head for s in sites] == [MG] * len(medial) + [LG] * len(lateral)
    levels = [s.level_below_knee_cm for s in medial]
    assert levels == sorted(levels)


def test_units_are_split_in_tenths_and_sum_exactly():
    sites = plan(build(37.5), {MG: 50.0, LG: 0.0})
    assert len(sites) == 6  # round(50 / 9)
    assert sorted(s.units_u for s in sites) == [8.3, 8.3, 8.3, 8.3, 8.4, 8.4]
    assert math.fsum(s.units_u for s in sites) == pytest.approx(50.0, abs=1e-12)
    odd = plan(build(37.5), {MG: 12.345})
    assert math.fsum(s.units_u for s in odd) == pytest.approx(12.345, abs=1e-12)


def test_zero_and_missing_doses_give_no_sites():
    leg = build(37.5)
    assert plan(leg, {}) == ()
    assert plan(leg, {MG: 0.0, LG: 0.0, SOL: 0.0}) == ()
    assert {s.head for s in plan(leg, {LG: 10.0})} == {LG}


def test_small_dose_gets_a_single_site_at_the_bulk():
    leg = build(37.5)
    (site,) = plan(leg, {MG: 3.0})
    assert site.units_u == 3.0
    assert site.level_below_knee_cm == pytest.approx(leg.calf_level_cm)


def test_crowded_head_gets_fewer_sites_with_more_units_up_to_the_maximum():
    leg = build(37.5)
    zones = dataclasses.replace(ZONES, min_spacing_cm=4.0)
    sites = plan(leg, {MG: 60.0}, zones=zones)
    assert len(sites) < round(60.0 / 9.0)
    assert all(s.units_u <= EV.number("injection.max_units_per_site_u") for s in sites)
    assert math.fsum(s.units_u for s in sites) == pytest.approx(60.0)
    assert pairwise_min_cm(sites) >= 4.0
    with pytest.raises(InvalidInputError, match=r"gm_medial: .* the most per site is 20 U"):
        plan(leg, {MG: 60.0}, zones=dataclasses.replace(ZONES, min_spacing_cm=8.0))


def test_depth_is_skin_fat_and_half_the_muscle():
    thin = plan(build(37.5, fat_thickness_mm=4.0, gm_thickness_mm=16.0), {MG: 9.0})[0]
    fat = plan(build(37.5, fat_thickness_mm=9.0, gm_thickness_mm=16.0), {MG: 9.0})[0]
    thick = plan(build(37.5, fat_thickness_mm=4.0, gm_thickness_mm=26.0), {MG: 9.0})[0]
    skin_mm = EV.number("anatomy.skin_thickness_mm")
    # a single site sits at the maximal girth, where fat and muscle are the measured ones
    assert thin.depth_mm == pytest.approx(skin_mm + 4.0 + 16.0 / 2, abs=0.05)
    assert fat.depth_mm - thin.depth_mm == pytest.approx(5.0, abs=0.05)
    assert thick.depth_mm - thin.depth_mm == pytest.approx(5.0, abs=0.05)


def test_depth_without_a_gastrocnemius_thickness_uses_the_area_and_ultrasound_width():
    leg = build(37.5)  # thickness estimated by the anatomy as area / ultrasound width
    bare = dataclasses.replace(
        leg, measurements=dataclasses.replace(leg.measurements, gm_thickness_mm=None)
    )
    expected = plan(leg, {MG: 30.0, LG: 20.0})
    got = plan(bare, {MG: 30.0, LG: 20.0})
    assert [s.depth_mm for s in got] == pytest.approx([s.depth_mm for s in expected])


def test_depth_is_clipped_to_the_needle_range():
    deep = plan(build(50.0, fat_thickness_mm=25.0, gm_thickness_mm=35.0), {MG: 9.0})[0]
    assert deep.depth_mm == EV.number("injection.needle_depth_max_mm")


def test_abobotulinumtoxina_scales_points_limits_and_the_ceiling():
    leg = build(37.5)
    ratio = EV.number("products.abo_per_ona_ratio")
    sites = plan(leg, {MG: 100.0, LG: 50.0}, product=ABO, concentration_u_per_ml=137.5)
    per_point = EV.number("dosing.consensus_units_per_point_u") * ratio
    assert len([s for s in sites if s.head is MG]) == round(100.0 / per_point)
    # 300 U abobotulinumtoxinA is within the per-calf ceiling (150 U ona x 2.5), not for ona
    plan(leg, {MG: 200.0, LG: 100.0}, product=ABO, concentration_u_per_ml=137.5)
    with pytest.raises(OutsideEvidenceError):
        plan(leg, {MG: 200.0, LG: 100.0})


# --- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [-1.0, math.nan, math.inf, "10", None, True])
def test_bad_head_units_name_the_head_and_the_range(bad):
    with pytest.raises(
        InvalidInputError, match=r"gm_lateral must be a number of units in \[0, "
    ) as info:
        plan(build(), {MG: 10.0, LG: bad})
    assert info.value.field == "gm_lateral"


def test_head_units_above_the_per_calf_ceiling_are_outside_the_evidence():
    _, ceiling = EV.bounds("dosing.study_dose_per_calf_u")
    with pytest.raises(OutsideEvidenceError, match=r"gm_medial must be in \[0, 150\] U") as info:
        plan(build(), {MG: ceiling + 1})
    assert info.value.field == "gm_medial"
    assert isinstance(info.value, InvalidInputError)
    with pytest.raises(OutsideEvidenceError, match="total at most 150 U") as info:
        plan(build(), {MG: 100.0, LG: 60.0})
    assert info.value.field == "head_units"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"head_units": {"gm_medial": 10.0}}, "head_units"),
        ({"head_units": [10.0]}, "head_units"),
        ({"concentration_u_per_ml": 0.0}, "concentration_u_per_ml"),
        ({"concentration_u_per_ml": 5000.0}, "concentration_u_per_ml"),
        ({"product": "botox"}, "product"),
        ({"zones": {"min_spacing_cm": 2}}, "zones"),
        ({"anatomy": "leg"}, "anatomy"),
    ],
)
def test_bad_arguments_are_refused_with_their_field(kwargs, field):
    args = {"anatomy": build(), "head_units": {MG: 10.0}, "concentration_u_per_ml": 50.0}
    args.update(kwargs)
    with pytest.raises(InvalidInputError) as info:
        plan_sites(args.pop("anatomy"), args.pop("head_units"), **args)
    assert info.value.field == field


def test_site_in_region_rejects_other_heads_legs_and_the_no_go_zones():
    leg = build(37.5)
    regions = head_regions(leg)
    site = plan(leg, {MG: 9.0})[0]
    assert site_in_region(site, regions[MG], ZONES)
    assert not site_in_region(site, regions[LG], ZONES)
    other_leg = head_regions(build(37.5, side=Side.RIGHT))[MG]
    assert not site_in_region(site, other_leg, ZONES)
    for change in (
        {"offset_from_midline_cm": -site.offset_from_midline_cm},  # wrong side of the midline
        {"offset_from_midline_cm": ZONES.midline_margin_cm / 2},  # in the midline strip
        {"level_below_knee_cm": ZONES.popliteal_margin_cm / 2},  # in the popliteal band
        {"level_below_knee_cm": regions[MG].end_cm - 1.0},  # too close to the junction
        {"offset_from_midline_cm": regions[MG].outer_offset_cm + 1.0},  # off the head
    ):
        assert not site_in_region(dataclasses.replace(site, **change), regions[MG], ZONES)


def test_injection_site_validates_its_fields():
    site = plan(build(), {MG: 9.0})[0]
    for change in (
        {"index": 0},
        {"index": 1.0},
        {"side": "left"},
        {"head": "gm_medial"},
        {"depth_mm": -1.0},
        {"units_u": math.nan},
        {"level_frac": 1.5},
    ):
        with pytest.raises(InvalidInputError):
            dataclasses.replace(site, **change)
    assert isinstance(site, InjectionSite)
    assert isinstance(head_regions(build())[MG], HeadRegion)


# --- dilution -----------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    total=st.floats(0.5, 400.0),
    product=st.sampled_from(list(ToxinProduct)),
    concentration=st.none() | st.floats(10.0, 200.0),
)
def test_vials_cover_the_dose_and_the_leftover_is_what_is_discarded(total, product, concentration):
    d = plan_dilution(total, product, concentration_u_per_ml=concentration)
    assert isinstance(d, Dilution)
    assert d.n_vials >= 1
    assert d.n_vials * d.vial_u >= total
    assert (d.n_vials - 1) * d.vial_u < total  # no vial too many
    assert d.units_discarded_u == pytest.approx(d.n_vials * d.vial_u - total, abs=1e-9)
    assert d.total_volume_ml == pytest.approx(total / d.concentration_u_per_ml)
    assert d.diluent_ml * d.concentration_u_per_ml == pytest.approx(d.vial_u)
    assert d.reconstituted_ml >= d.total_volume_ml - 1e-9
    assert d.syringes * d.syringe_ml >= d.total_volume_ml - 1e-9
    assert (d.syringes - 1) * d.syringe_ml < d.total_volume_ml
    # no other vial size of the product would waste fewer units
    for vial in EV.series(
        "injection.abo_vial_sizes_u" if product is ABO else "products.vial_sizes_u"
    ):
        waste = math.ceil(total / vial) * vial - total
        assert d.units_discarded_u <= waste + 1e-9


def test_consensus_dilution_is_the_default():
    d = plan_dilution(100.0, ONA)
    assert (d.vial_u, d.n_vials, d.diluent_ml, d.concentration_u_per_ml) == (100.0, 1, 2.0, 50.0)
    assert d.units_discarded_u == 0.0
    assert d.syringes == 2 and d.syringe_ml == 1.0
    assert d.use_within_days == EV.number("products.reconstituted_use_within_days")
    assert any("100 U in 2 mL" in note for note in d.notes)
    assert any("24 h" in note for note in d.notes)


def test_dilution_prefers_the_least_waste_then_the_fewest_vials():
    d = plan_dilution(110.0, ONA)
    assert (d.vial_u, d.n_vials, d.units_discarded_u) == (50.0, 3, 40.0)
    d = plan_dilution(200.0, ONA)
    assert (d.vial_u, d.n_vials) == (200.0, 1)
    d = plan_dilution(110.0, ONA, vial_sizes_u=[100.0])
    assert (d.vial_u, d.n_vials, d.units_discarded_u) == (100.0, 2, 90.0)


def test_abobotulinumtoxina_uses_its_own_vials_and_an_equivalent_concentration():
    d = plan_dilution(300.0, ABO)
    assert (d.vial_u, d.n_vials) == (300.0, 1)
    ratio = EV.number("products.abo_per_ona_ratio")
    assert d.concentration_u_per_ml == pytest.approx(50.0 * ratio)
    assert any("not verified" in note for note in d.notes)


def test_products_without_vial_sizes_say_so():
    d = plan_dilution(100.0, ToxinProduct.INCOBOTULINUMTOXINA)
    assert any("onabotulinumtoxinA sizes" in note for note in d.notes)


@pytest.mark.parametrize(
    ("args", "kwargs", "field"),
    [
        ((0.0, ONA), {}, "total_units_u"),
        ((-5.0, ONA), {}, "total_units_u"),
        ((math.nan, ONA), {}, "total_units_u"),
        ((100.0, "botox"), {}, "product"),
        ((100.0, ONA), {"concentration_u_per_ml": 0.0}, "concentration_u_per_ml"),
        ((100.0, ONA), {"vial_sizes_u": []}, "vial_sizes_u"),
        ((100.0, ONA), {"vial_sizes_u": [0.0]}, "vial_sizes_u"),
    ],
)
def test_dilution_refuses_bad_input(args, kwargs, field):
    with pytest.raises(InvalidInputError) as info:
        plan_dilution(*args, **kwargs)
    assert info.value.field == field
