import dataclasses
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import calfsim.anatomy as anatomy
from calfsim.anatomy import (
    AnatomyParams,
    LegAnatomy,
    Tissue,
    build_leg_anatomy,
    default_head_split_frac,
    girth_from_area_cm,
)
from calfsim.domain import LegMeasurements, MuscleHead, Patient, Sex, Side
from calfsim.errors import InvalidInputError

GASTROCNEMIUS = (MuscleHead.GM_MEDIAL, MuscleHead.GM_LATERAL)
MUSCLES = (Tissue.GM_MEDIAL, Tissue.GM_LATERAL, Tissue.SOLEUS, Tissue.OTHER_MUSCLE)


def calf_area(leg, tissue):
    return float(leg.area_cm2[tissue][leg.calf_level_index])


def calf_muscle_cm2(leg):
    return sum(calf_area(leg, t) for t in MUSCLES)


def assert_sections_consistent(leg):
    total = sum(leg.area_cm2[t] for t in Tissue)
    np.testing.assert_allclose(total, leg.total_area_cm2, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(leg.total_area_cm2, leg.girth_cm**2 / (4 * math.pi))
    for tissue in Tissue:
        assert np.all(leg.area_cm2[tissue] >= 0.0), tissue


# --- sections ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "measured",
    [
        {},
        {"ankle_girth_cm": 20.0, "knee_girth_cm": 33.0, "lower_leg_length_cm": 36.0},
        {"fat_thickness_mm": 12.0},
        {"gm_thickness_mm": 25.0, "fat_thickness_mm": 4.0},
    ],
)
@pytest.mark.parametrize("sex", [Sex.FEMALE, Sex.MALE, None])
def test_tissues_sum_to_the_section_and_are_non_negative(build, measured, sex):
    assert_sections_consistent(build(36.0, sex=sex, **measured))


def test_reference_woman_has_the_evidence_shares(build, ev):
    leg = build(ev.number("anatomy.reference_calf_girth_cm"))
    total = float(leg.total_area_cm2[leg.calf_level_index])
    for tissue, key in [
        (Tissue.GM_MEDIAL, "mg_share_calf_level_frac"),
        (Tissue.GM_LATERAL, "lg_share_calf_level_frac"),
        (Tissue.SOLEUS, "soleus_share_calf_level_frac"),
    ]:
        assert calf_area(leg, tissue) / total == pytest.approx(ev.number(f"anatomy.{key}"))
    low, high = ev.bounds("anatomy.reference_muscle_area_cm2")
    assert low <= calf_muscle_cm2(leg) <= high


def test_typical_woman_shares_within_evidence_ranges(build, ev):
    leg = build(36.3)
    total = float(leg.total_area_cm2[leg.calf_level_index])
    for tissue, key in [
        (Tissue.GM_MEDIAL, "mg_share_calf_level_frac"),
        (Tissue.GM_LATERAL, "lg_share_calf_level_frac"),
        (Tissue.SOLEUS, "soleus_share_calf_level_frac"),
    ]:
        low, high = ev.bounds(f"anatomy.{key}")
        assert low <= calf_area(leg, tissue) / total <= high


def test_muscle_area_agrees_with_the_slab_equation(build, ev):
    # Arch Gerontol Geriatr 2019 (older adults, use cautiously): slab volume / 10 cm ≈ mean
    # muscle area around the maximal girth. Woman CC 35 cm, BMI 22.
    slab_cm3 = (
        ev.number("anatomy.slab_volume_women_calf_coef") * 35.0
        + ev.number("anatomy.slab_volume_women_bmi_coef") * 22.0
        + ev.number("anatomy.slab_volume_women_intercept_cm3")
    )
    leg = build(35.0)
    assert calf_muscle_cm2(leg) == pytest.approx(slab_cm3 / 10.0, rel=0.15)


def test_men_have_more_muscle_and_thinner_fat(build, ev):
    woman = build(ev.number("anthropometry.calf_girth_women_cm"), sex=Sex.FEMALE)
    man = build(ev.number("anthropometry.calf_girth_men_cm"), sex=Sex.MALE)
    fat_ratio = man.measurements.fat_thickness_mm / woman.measurements.fat_thickness_mm
    assert fat_ratio == pytest.approx(ev.number("anatomy.fat_men_to_women_ratio"))
    # Weiss 1985: men's muscle 29% thicker by ultrasound; the area ratio lies between 1 and
    # 1.29² (thicker in one dimension only, or in both).
    muscle_ratio = calf_muscle_cm2(man) / calf_muscle_cm2(woman)
    thickness_ratio = ev.number("anatomy.muscle_thickness_men_to_women_ratio")
    assert 1.0 < muscle_ratio < thickness_ratio**2


# --- volumes -------------------------------------------------------------------------------------


def test_typical_woman_volumes_in_evidence_ranges(build, ev):
    leg = build(36.0)
    for head, key in [
        (MuscleHead.GM_MEDIAL, "mg_volume_women_cm3"),
        (MuscleHead.GM_LATERAL, "lg_volume_women_cm3"),
        (MuscleHead.SOLEUS, "soleus_volume_women_cm3"),
    ]:
        low, high = ev.bounds(f"anatomy.{key}")
        assert low <= leg.volume_cm3(head) <= high, (head, leg.volume_cm3(head))
    low, high = ev.bounds("anatomy.gastrocnemius_volume_cm3")
    assert low <= sum(leg.volume_cm3(h) for h in GASTROCNEMIUS) <= high


def test_typical_man_volumes_near_fukunaga(build, ev):
    # Fukunaga 1992 reports means without spread in the abstract; accept ±20%.
    leg = build(39.0, sex=Sex.MALE)
    for head, key in [
        (MuscleHead.GM_MEDIAL, "mg_volume_fukunaga_cm3"),
        (MuscleHead.GM_LATERAL, "lg_volume_fukunaga_cm3"),
        (MuscleHead.SOLEUS, "soleus_volume_fukunaga_cm3"),
    ]:
        assert leg.volume_cm3(head) == pytest.approx(ev.number(f"anatomy.{key}"), rel=0.20)
    low, high = ev.bounds("anatomy.gastrocnemius_volume_cm3")
    assert low <= sum(leg.volume_cm3(h) for h in GASTROCNEMIUS) <= high * 1.1


def test_gastrocnemius_volume_from_thickness_near_bandholm(build, ev):
    # Bandholm 2007 (cadavers): volume = a·gMT + b·LL + c. A loose cross-check of the
    # thickness-to-area conversion: within 30%.
    leg = build(36.3, gm_thickness_mm=20.0, lower_leg_length_cm=37.5)
    expected_cm3 = (
        ev.number("anatomy.gastrocnemius_volume_thickness_coef") * 2.0
        + ev.number("anatomy.gastrocnemius_volume_length_coef") * 37.5
        + ev.number("anatomy.gastrocnemius_volume_intercept_cm3")
    )
    got_cm3 = sum(leg.volume_cm3(h) for h in GASTROCNEMIUS)
    assert got_cm3 == pytest.approx(expected_cm3, rel=0.30)


def test_lateral_head_ends_more_proximally_than_medial(build, ev):
    leg = build(36.0, n_levels=2001)
    z = leg.levels_cm
    mg_end = z[np.nonzero(leg.muscle_area_cm2(MuscleHead.GM_MEDIAL))[0][-1]]
    lg_end = z[np.nonzero(leg.muscle_area_cm2(MuscleHead.GM_LATERAL))[0][-1]]
    assert mg_end - lg_end == pytest.approx(ev.number("anatomy.lg_end_offset_cm"), abs=0.05)
    soleus_peak = z[np.argmax(leg.muscle_area_cm2(MuscleHead.SOLEUS))]
    assert soleus_peak > leg.calf_level_cm


def test_volumes_converge_with_levels(build):
    coarse, fine = build(36.0, n_levels=21), build(36.0, n_levels=1001)
    for head in MuscleHead:
        assert coarse.volume_cm3(head) == pytest.approx(fine.volume_cm3(head), rel=0.01)


@settings(max_examples=40, deadline=None)
@given(calf=st.floats(28.0, 49.0), extra=st.floats(0.2, 5.0))
def test_bigger_calf_bigger_gastrocnemius(calf, extra):
    def gastrocnemius_cm3(calf_cm):
        leg = build_leg_anatomy(
            LegMeasurements(calf_girth_cm=calf_cm), Patient(sex=Sex.FEMALE), side=Side.LEFT
        )
        return sum(leg.volume_cm3(h) for h in GASTROCNEMIUS)

    assert gastrocnemius_cm3(min(calf + extra, 50.0)) > gastrocnemius_cm3(calf)


# --- ultrasound ----------------------------------------------------------------------------------


@pytest.mark.parametrize("fat_mm", [2.0, 5.5, 8.5, 15.0])
def test_fat_thickness_is_reproduced(build, ev, fat_mm):
    leg = build(37.0, fat_thickness_mm=fat_mm)
    skin_cm = ev.number("anatomy.skin_thickness_mm") / 10.0
    inner_girth_cm = 37.0 - 2 * math.pi * skin_cm
    fat_cm2 = calf_area(leg, Tissue.FAT)
    # Invert the annulus C·t − πt² = A for the ring just inside the skin.
    t_cm = (inner_girth_cm - math.sqrt(inner_girth_cm**2 - 4 * math.pi * fat_cm2)) / (2 * math.pi)
    assert t_cm * 10.0 == pytest.approx(fat_mm, rel=1e-9)
    assert leg.measurements.fat_thickness_mm == fat_mm
    assert "fat_thickness_mm" not in leg.defaulted


def test_thicker_fat_leaves_less_muscle(build):
    thin, thick = build(37.0, fat_thickness_mm=4.0), build(37.0, fat_thickness_mm=12.0)
    assert calf_muscle_cm2(thick) < calf_muscle_cm2(thin)
    assert calf_area(thick, Tissue.GM_MEDIAL) < calf_area(thin, Tissue.GM_MEDIAL)


@pytest.mark.parametrize("gm_mm", [12.0, 20.0, 28.0])
def test_gm_thickness_sets_the_medial_head(build, ev, gm_mm):
    leg = build(37.0, gm_thickness_mm=gm_mm)
    width_cm = ev.number("anatomy.mg_ultrasound_width_cm")
    mg_cm2 = calf_area(leg, Tissue.GM_MEDIAL)
    assert mg_cm2 == pytest.approx(gm_mm / 10.0 * width_cm)
    lg_per_mg = ev.number("anatomy.lg_share_calf_level_frac") / ev.number(
        "anatomy.mg_share_calf_level_frac"
    )
    assert calf_area(leg, Tissue.GM_LATERAL) == pytest.approx(mg_cm2 * lg_per_mg)
    assert leg.measurements.gm_thickness_mm == gm_mm
    assert "gm_thickness_mm" not in leg.defaulted
    assert_sections_consistent(leg)


def test_gm_thickness_moves_area_from_soleus_and_other(build):
    base, big = build(37.0, gm_thickness_mm=15.0), build(37.0, gm_thickness_mm=25.0)
    gained = sum(calf_area(big, t) - calf_area(base, t) for t in MUSCLES[:2])
    lost = sum(calf_area(base, t) - calf_area(big, t) for t in MUSCLES[2:])
    assert gained > 0
    assert lost == pytest.approx(gained)
    assert calf_muscle_cm2(big) == pytest.approx(calf_muscle_cm2(base))
    assert big.volume_cm3(MuscleHead.GM_MEDIAL) > base.volume_cm3(MuscleHead.GM_MEDIAL)


def test_default_gm_thickness_is_consistent_with_the_model(build, ev):
    leg = build(36.3)
    width_cm = ev.number("anatomy.mg_ultrasound_width_cm")
    assert leg.measurements.gm_thickness_mm == pytest.approx(
        calf_area(leg, Tissue.GM_MEDIAL) / width_cm * 10.0
    )
    rebuilt = build(36.3, gm_thickness_mm=leg.measurements.gm_thickness_mm)
    for tissue in Tissue:
        np.testing.assert_allclose(rebuilt.area_cm2[tissue], leg.area_cm2[tissue], atol=1e-9)


def test_gm_too_thick_for_the_girth_is_rejected(build):
    with pytest.raises(InvalidInputError, match=r"gm_thickness_mm = 45") as info:
        build(28.0, gm_thickness_mm=45.0, fat_thickness_mm=6.0)
    assert info.value.field == "gm_thickness_mm"
    assert "fat_thickness_mm = 6" in str(info.value)
    assert "28 cm" in str(info.value)


def test_fat_too_thick_for_the_girth_is_rejected(build):
    with pytest.raises(InvalidInputError, match=r"fat_thickness_mm = 22") as info:
        build(28.0, fat_thickness_mm=22.0)
    assert info.value.field == "fat_thickness_mm"


# --- defaults, symmetry, immutability ------------------------------------------------------------


def test_defaults_are_filled_and_listed(build, ev):
    leg = build(36.0)
    assert leg.defaulted == {
        "ankle_girth_cm",
        "knee_girth_cm",
        "lower_leg_length_cm",
        "fat_thickness_mm",
        "gm_thickness_mm",
    }
    m = leg.measurements
    assert m.ankle_girth_cm == pytest.approx(
        36.0 / ev.number("anthropometry.calf_to_ankle_women_ratio")
    )
    assert m.knee_girth_cm == pytest.approx(
        36.0 * ev.number("anthropometry.knee_to_calf_women_ratio")
    )
    assert m.lower_leg_length_cm == ev.number("anthropometry.lower_leg_length_women_cm")
    assert m.fat_thickness_mm == ev.number("anatomy.fat_thickness_women_mm")
    measured = build(36.0, ankle_girth_cm=22.0)
    assert "ankle_girth_cm" not in measured.defaulted
    assert measured.measurements.ankle_girth_cm == 22.0


def test_unknown_sex_uses_female_defaults_and_says_so(build):
    unknown, female = build(36.0, sex=None), build(36.0, sex=Sex.FEMALE)
    assert unknown.is_sex_assumed and not female.is_sex_assumed
    assert unknown.sex is Sex.FEMALE
    assert any("Sex unknown" in note for note in unknown.notes)
    for tissue in Tissue:
        np.testing.assert_array_equal(unknown.area_cm2[tissue], female.area_cm2[tissue])


def test_men_use_men_defaults(build, ev):
    leg = build(39.0, sex=Sex.MALE)
    assert leg.length_cm == ev.number("anthropometry.lower_leg_length_men_cm")
    assert leg.measurements.ankle_girth_cm == pytest.approx(
        39.0 / ev.number("anthropometry.calf_to_ankle_men_ratio")
    )


def test_left_and_right_are_mirror_images(build):
    measured = {"fat_thickness_mm": 6.0, "gm_thickness_mm": 19.0, "ankle_girth_cm": 21.0}
    left = build(37.0, side=Side.LEFT, **measured)
    right = build(37.0, side=Side.RIGHT, **measured)
    assert (left.side, right.side) == (Side.LEFT, Side.RIGHT)
    np.testing.assert_array_equal(left.levels_cm, right.levels_cm)
    np.testing.assert_array_equal(left.girth_cm, right.girth_cm)
    for tissue in Tissue:
        np.testing.assert_array_equal(left.area_cm2[tissue], right.area_cm2[tissue])
    assert left.measurements == right.measurements
    for head in MuscleHead:
        assert left.volume_cm3(head) == right.volume_cm3(head)


def test_anatomy_is_immutable(build):
    leg = build(36.0)
    with pytest.raises(ValueError, match="read-only"):
        leg.girth_cm[0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        leg.area_cm2[Tissue.FAT][0] = 1.0
    with pytest.raises(TypeError):
        leg.area_cm2[Tissue.FAT] = np.zeros(61)  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        leg.side = Side.RIGHT  # type: ignore[misc]


def test_new_girth_from_changed_area(build):
    leg = build(36.0)
    i = leg.calf_level_index
    assert girth_from_area_cm(float(leg.total_area_cm2[i])) == pytest.approx(36.0)
    smaller = leg.total_area_cm2 - leg.muscle_area_cm2(MuscleHead.GM_MEDIAL) * 0.3
    assert np.all(girth_from_area_cm(smaller) <= leg.girth_cm + 1e-12)


# --- dose split ----------------------------------------------------------------------------------


def test_default_head_split_follows_volumes(build):
    leg = build(36.3)
    split = default_head_split_frac(leg)
    assert set(split) == set(MuscleHead)
    assert split[MuscleHead.SOLEUS] == 0.0
    assert split[MuscleHead.GM_MEDIAL] + split[MuscleHead.GM_LATERAL] == pytest.approx(1.0)
    ratio = leg.volume_cm3(MuscleHead.GM_MEDIAL) / leg.volume_cm3(MuscleHead.GM_LATERAL)
    assert split[MuscleHead.GM_MEDIAL] / split[MuscleHead.GM_LATERAL] == pytest.approx(ratio)
    assert split[MuscleHead.GM_MEDIAL] > split[MuscleHead.GM_LATERAL]


# --- argument checking ---------------------------------------------------------------------------


@pytest.mark.parametrize("n_levels", [0, 10, 2002, 61.0, True])
def test_bad_n_levels_rejected(n_levels):
    with pytest.raises(InvalidInputError) as info:
        build_leg_anatomy(
            LegMeasurements(calf_girth_cm=36.0), Patient(), side=Side.LEFT, n_levels=n_levels
        )
    assert info.value.field == "n_levels"


def test_bad_argument_types_rejected():
    leg, patient = LegMeasurements(calf_girth_cm=36.0), Patient()
    with pytest.raises(InvalidInputError, match="side"):
        build_leg_anatomy(leg, patient, side="left")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="leg"):
        build_leg_anatomy(36.0, patient, side=Side.LEFT)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="patient"):
        build_leg_anatomy(leg, None, side=Side.LEFT)  # type: ignore[arg-type]


def test_direct_construction_is_validated(build):
    leg = build(36.0)
    areas = dict(leg.area_cm2)
    areas[Tissue.FAT] = areas[Tissue.FAT] + 1.0
    with pytest.raises(InvalidInputError, match="sum"):
        dataclasses.replace(leg, area_cm2=areas)
    areas = dict(leg.area_cm2)
    areas[Tissue.BONE] = -areas[Tissue.BONE]
    with pytest.raises(InvalidInputError, match="non-negative"):
        dataclasses.replace(leg, area_cm2=areas)
    with pytest.raises(InvalidInputError, match="levels_cm"):
        dataclasses.replace(leg, levels_cm=leg.levels_cm[::-1])
    with pytest.raises(InvalidInputError, match="calf_level_index"):
        dataclasses.replace(leg, calf_level_index=leg.n_levels)
    copy = dataclasses.replace(leg)
    assert isinstance(copy, LegAnatomy)


def test_params_can_be_recalibrated(build):
    params = AnatomyParams.from_evidence()
    bigger = dataclasses.replace(params, mg_share_frac=0.18)
    leg = build_leg_anatomy(
        LegMeasurements(calf_girth_cm=36.0), Patient(), side=Side.LEFT, params=bigger
    )
    assert leg.volume_cm3(MuscleHead.GM_MEDIAL) > build(36.0).volume_cm3(MuscleHead.GM_MEDIAL)
    with pytest.raises(InvalidInputError, match="soleus_origin_frac"):
        dataclasses.replace(params, soleus_origin_frac=0.4)
    with pytest.raises(InvalidInputError, match="skin_thickness_mm"):
        dataclasses.replace(params, skin_thickness_mm=-1.0)


# --- invariants over random plausible legs -------------------------------------------------------


@st.composite
def legs(draw):
    calf = draw(st.floats(28.0, 50.0))
    measured = {}
    if draw(st.booleans()):
        measured["ankle_girth_cm"] = draw(st.floats(max(14.0, calf * 0.45), calf * 0.75))
    if draw(st.booleans()):
        measured["knee_girth_cm"] = draw(st.floats(calf * 0.8, min(70.0, calf * 1.15)))
    if draw(st.booleans()):
        radius_mm = calf * 10.0 / (2 * math.pi)
        measured["fat_thickness_mm"] = draw(st.floats(0.5, 0.5 * radius_mm))
    if draw(st.booleans()):
        measured["gm_thickness_mm"] = draw(st.floats(5.0, 50.0))
    if draw(st.booleans()):
        measured["lower_leg_length_cm"] = draw(st.floats(25.0, 60.0))
    sex = draw(st.sampled_from([Sex.FEMALE, Sex.MALE, None]))
    height = draw(st.none() | st.floats(120.0, 230.0))
    return LegMeasurements(calf_girth_cm=calf, **measured), Patient(sex=sex, height_cm=height)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(legs(), st.sampled_from(list(Side)))
def test_random_legs_build_or_raise_invalid_input(case, side):
    leg_measurements, patient = case
    try:
        leg = build_leg_anatomy(leg_measurements, patient, side=side)
    except InvalidInputError as exc:
        assert exc.field in {"gm_thickness_mm", "fat_thickness_mm"}
        return
    assert_sections_consistent(leg)
    assert int(np.argmax(leg.girth_cm)) == leg.calf_level_index
    assert leg.girth_cm[leg.calf_level_index] == leg_measurements.calf_girth_cm
    for head in MuscleHead:
        assert leg.volume_cm3(head) > 0.0
    split = default_head_split_frac(leg)
    assert split[MuscleHead.GM_MEDIAL] + split[MuscleHead.GM_LATERAL] == pytest.approx(1.0)


# --- public surface ------------------------------------------------------------------------------


def test_all_lists_the_public_names():
    public = {name for name in vars(anatomy) if not name.startswith("_")}
    public -= {"annotations"}
    assert set(anatomy.__all__) == public
    for name in anatomy.__all__:
        assert getattr(anatomy, name).__doc__, name
