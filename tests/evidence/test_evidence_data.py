"""The shipped evidence data files load, hold the keys the code relies on, and are validated."""

from __future__ import annotations

from importlib import resources

import pytest

from calfsim.errors import EvidenceDataError
from calfsim.evidence import EvidenceTag, load_evidence, parse_evidence

#: Topic files transcribed from clinical-evidence.md by this test's owner.
TOPICS = ("procedure", "safety", "products", "dosing", "studies", "prices", "alternatives")


def _data_files() -> dict[str, str]:
    folder = resources.files("calfsim.evidence") / "data"
    return {
        entry.name: entry.read_text(encoding="utf-8")
        for entry in folder.iterdir()
        if entry.name.endswith(".toml")
    }


@pytest.fixture(scope="module")
def ev():
    """These topics plus every sources*.toml, so that other topic files cannot break the tests."""
    files = _data_files()
    chosen = {n: t for n, t in files.items() if n.startswith("sources")}
    chosen.update({f"{topic}.toml": files[f"{topic}.toml"] for topic in TOPICS})
    return parse_evidence(chosen)


# --- The shipped data -------------------------------------------------------------------------


def test_shipped_evidence_loads():
    base = load_evidence()
    assert base.items
    assert set(TOPICS) <= set(base.topics)
    assert base.item("safety.ceiling_per_3_months_u").unit == "U"


def test_every_topic_has_items_and_a_description(ev):
    for topic in TOPICS:
        assert ev.in_topic(topic), topic
        assert ev.topics[topic].strip(), topic


NUMBERS = {
    # key: (unit, central value or None when only the unit is pinned)
    "safety.ceiling_per_3_months_u": ("U", 400),
    "safety.ceiling_window_days": ("day", 90),
    "safety.min_interval_days": ("day", 84),
    "safety.tape_error_sd_cm": ("cm", 0.4),
    "safety.fat_slim_max_mm": ("mm", 5.5),
    "safety.fat_bulge_min_mm": ("mm", 8.5),
    "safety.gm_thin_max_mm": ("mm", 15),
    "safety.gm_thick_min_mm": ("mm", 25),
    "products.ona_per_ona_ratio": ("ratio", 1.0),
    "products.abo_per_ona_ratio": ("ratio", 2.75),
    "products.inco_per_ona_ratio": ("ratio", 1.0),
    "products.pra_per_ona_ratio": ("ratio", 1.0),
    "products.leti_per_ona_ratio": ("ratio", 1.0),
    "products.consensus_concentration_u_per_ml": ("U/mL", 50),
    "products.reconstituted_use_within_days": ("day", 1),
    "procedure.recovery_days": ("day", 0),
    "procedure.price_low_usd": ("USD", 700),
    "procedure.price_high_usd": ("USD", 2100),
    "procedure.dose_per_treatment_u": ("U", 70),
    "procedure.min_sessions": ("session", 2),
    "procedure.intense_activity_pause_days": ("day", None),
    "procedure.onset_days": ("day", 7),
    "procedure.clear_atrophy_days": ("day", 30),
    "procedure.best_result_weeks": ("week", None),
    "procedure.nadir_weeks": ("week", None),
    "procedure.duration_months": ("month", None),
    "dosing.study_dose_per_calf_u": ("U", 100),
    "dosing.consensus_dose_per_calf_u": ("U", 55),
    "dosing.consensus_points_per_calf": ("point", 6),
    "dosing.consensus_units_per_point_u": ("U", 9),
    "dosing.volume_per_point_ml": ("mL", None),
    "dosing.mg_nerve_zone_low_frac": ("fraction", 0.70),
    "dosing.mg_nerve_zone_high_frac": ("fraction", 0.80),
    "dosing.lg_nerve_zone_low_frac": ("fraction", 0.75),
    "dosing.lg_nerve_zone_high_frac": ("fraction", 0.85),
    "studies.park2005_n_per_group": ("patient", 5),
    "prices.price_usd_per_u": ("USD/U", 14),
    "prices.session_fee_usd": ("USD", 0),
    "alternatives.selective_neurectomy_girth_change_cm": ("cm", -3.2),
    "alternatives.subtotal_resection_girth_change_cm": ("cm", -4.7),
    "alternatives.radiofrequency_ablation_girth_change_cm": ("cm", -1.7),
    "alternatives.liposuction_cost_usd": ("USD", None),
    "alternatives.no_treatment_girth_change_cm": ("cm", 0),
}


@pytest.mark.parametrize("key", sorted(NUMBERS))
def test_required_number_has_unit_and_value(ev, key):
    unit, value = NUMBERS[key]
    item = ev.item(key)
    assert item.unit == unit
    number = ev.number(key)
    if value is not None:
        assert number == pytest.approx(value)


RANGES = {
    "products.abo_per_ona_ratio": (2.5, 3.0),
    "products.pra_per_ona_ratio": (0.8, 1.25),
    "products.leti_per_ona_ratio": (0.8, 1.25),
    "procedure.dose_per_treatment_u": (40, 100),
    "procedure.intense_activity_pause_days": (1, 2),
    "procedure.best_result_weeks": (6, 8),
    "procedure.nadir_weeks": (11, 13),
    "procedure.duration_months": (4, 9),
    "safety.tape_error_sd_cm": (0.3, 0.5),
    "dosing.study_dose_per_calf_u": (50, 150),
    "dosing.consensus_dose_per_calf_u": (50, 60),
    "dosing.consensus_units_per_point_u": (8, 10),
    "dosing.volume_per_point_ml": (0.16, 0.2),
    "prices.price_usd_per_u": (9, 21),
    "alternatives.liposuction_cost_usd": (2000, 7000),
}


@pytest.mark.parametrize("key", sorted(RANGES))
def test_ranges_follow_the_report(ev, key):
    assert ev.bounds(key) == pytest.approx(RANGES[key])


SERIES = {
    "studies.park2005_dose_u": ("U", (50, 100, 150)),
    "studies.park2005_girth_change_cm": ("cm", (-0.7, -1.30, -1.51)),
    "studies.park2005_ct_area_change_frac": ("fraction", (-0.126, -0.1965, -0.229)),
    "products.vial_sizes_u": ("U", None),
}


@pytest.mark.parametrize("key", sorted(SERIES))
def test_required_series(ev, key):
    unit, expected = SERIES[key]
    assert ev.item(key).unit == unit
    values = ev.series(key)
    if expected is not None:
        assert values == pytest.approx(expected, abs=1e-3)


TEXTS = [
    "procedure.name",
    "procedure.summary",
    "procedure.ideal_candidate",
    "procedure.not_recommended_for",
    "procedure.addresses",
    "procedure.last_updated",
    "procedure.off_label_status",
    "procedure.unit_non_equivalence",
    "safety.contraindication_hypersensitivity",
    "safety.contraindication_injection_site_infection",
    "safety.contraindication_cows_milk_protein",
    "safety.neuromuscular_disease",
    "safety.warning_distant_spread",
    "safety.interaction_aminoglycosides",
    "safety.anticoagulants_bruising",
    "safety.bleeding_disorder",
    "safety.pregnancy_breastfeeding",
    "safety.age_under_18",
    "safety.athletes",
    "safety.fat_dominated_calves",
    "safety.heel_raise_bulge",
    "safety.immunogenicity",
    "products.storage",
    "dosing.thickness_based_dosing",
    "studies.yongin_rct_outcome",
    "studies.prabotulinum_rct2019_outcome",
    "studies.gm_soleus_combined_compensation",
    "studies.fat_satisfaction2024_findings",
    "prices.price_date",
    "alternatives.surgical_price_unavailable",
]


@pytest.mark.parametrize("key", TEXTS)
def test_required_text_items(ev, key):
    assert ev.text(key).strip()


@pytest.mark.parametrize("key", ["procedure.side_effects", "procedure.pros", "procedure.cons"])
def test_page_lists_are_lists_of_text(ev, key):
    value = ev.item(key).value
    assert isinstance(value, tuple)
    assert value
    assert all(isinstance(v, str) and v for v in value)


def test_procedure_page_facts(ev):
    assert ev.text("procedure.last_updated") == "2021-08-02"
    assert ev.number("procedure.price_low_usd") < ev.number("procedure.price_high_usd")
    assert {c.key for c in ev.item("procedure.price_low_usd").sources} == {"aedit_calf_page"}


def test_safety_thresholds_are_ordered(ev):
    assert ev.number("safety.fat_slim_max_mm") < ev.number("safety.fat_bulge_min_mm")
    assert ev.number("safety.gm_thin_max_mm") < ev.number("safety.gm_thick_min_mm")
    assert ev.number("safety.min_interval_days") <= ev.number("safety.ceiling_window_days")


def test_nerve_zones_are_ordered_fractions(ev):
    for head in ("mg", "lg"):
        low = ev.number(f"dosing.{head}_nerve_zone_low_frac")
        high = ev.number(f"dosing.{head}_nerve_zone_high_frac")
        assert 0 <= low < high <= 1


def test_inferred_conversions_are_tagged_inferred(ev):
    for key in ("products.pra_per_ona_ratio", "products.leti_per_ona_ratio"):
        assert ev.item(key).tag is EvidenceTag.INFERRED
    assert ev.item("products.abo_per_ona_ratio").tag is EvidenceTag.STATED
    assert "letybo_label2024" in {c.key for c in ev.item("products.leti_per_ona_ratio").sources}


def test_every_item_has_a_note(ev):
    for topic in TOPICS:
        for item in ev.in_topic(topic):
            assert item.note.strip(), item.key


def test_every_source_has_url_or_doi(ev):
    assert ev.sources
    for key, source in ev.sources.items():
        assert source.url or source.doi, key


def test_clinical_sources_have_web_addresses():
    base = parse_evidence({"sources.toml": _data_files()["sources.toml"]})
    assert len(base.sources) > 50
    for key, source in base.sources.items():
        assert source.url.startswith("https://"), key


def test_key_sources_are_present(ev):
    expected = {
        "park2005",
        "lee2004",
        "rogozhin2008",
        "dashtipour2016",
        "scaglione2016",
        "sloop1996",
        "fortuna2011",
        "chang2019",
        "xie2014",
        "kim2013",
        "wang2015",
        "lee2006",
        "prabotulinum_rct2019",
        "gm_thickness_class2019",
        "gm_soleus_combined",
        "yongin_rct",
        "fat_satisfaction2024",
        "masseter_volumetric_eaaps",
        "cp_mri2018",
        "cp_mri2013",
        "aedit_calf_page",
        "aedit_botox_cost",
        "botox_cosmetic_label",
        "dysport_label",
        "letybo_label2024",
    }
    assert expected <= set(ev.sources)
    assert not ev.sources["prabotulinum_rct2019"].is_verified
    assert ev.sources["park2005"].year == 2005


# --- Validation rejects malformed data ---------------------------------------------------------

SOURCES = """
[demo2020]
authors = "Doe J, Roe R"
title = "A demonstration"
journal = "J Demo"
year = 2020
url = "https://example.org/demo"
"""

GOOD_ITEM = {
    "value": "3.0",
    "low": "2.0",
    "high": "4.0",
    "unit": '"cm"',
    "tag": '"stated"',
    "sources": '["demo2020"]',
    "note": '"a demonstration number"',
}


def _topic(key: str = "girth_change_cm", **fields: str) -> str:
    body = {**GOOD_ITEM, **fields}
    lines = [f"{name} = {text}" for name, text in body.items() if text is not None]
    return 'topic = "demo"\ndescription = "demo"\n\n' + f"[items.{key}]\n" + "\n".join(lines)


def _parse(topic_text: str):
    return parse_evidence({"sources.toml": SOURCES, "demo.toml": topic_text})


def test_well_formed_demo_item_parses():
    base = _parse(_topic())
    item = base.item("demo.girth_change_cm")
    assert item.number == 3.0
    assert base.bounds("demo.girth_change_cm") == (2.0, 4.0)
    assert item.citation_text() == "Doe J et al. 2020"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"tag": '"anecdotal"'}, "tag must be one of"),
        ({"sources": '["nobody1999"]'}, "unknown sources"),
        ({"value": "5.0"}, "low <= value <= high"),
        ({"value": "1.0"}, "low <= value <= high"),
        ({"unit": '"mm"'}, "suffix promises unit 'cm'"),
        ({"unit": '""'}, "numeric items need a unit"),
        ({"comment": '"not a field"'}, "unknown fields"),
        ({"sources": "[]"}, "non-empty list"),
    ],
)
def test_malformed_items_are_rejected_by_name(fields, message):
    with pytest.raises(EvidenceDataError, match=message) as info:
        _parse(_topic(**fields))
    assert "'demo.girth_change_cm'" in str(info.value)


def test_evidence_data_error_is_a_value_error():
    with pytest.raises(ValueError, match=r"demo\.girth_change_cm"):
        _parse(_topic(tag='"anecdotal"'))


def test_source_without_url_or_doi_is_rejected():
    bad = SOURCES.replace('url = "https://example.org/demo"', 'url = ""')
    with pytest.raises(EvidenceDataError, match="'demo2020': needs a url or a doi"):
        parse_evidence({"sources.toml": bad, "demo.toml": _topic()})


def test_unknown_source_field_is_rejected():
    bad = SOURCES + 'publisher = "nobody"\n'
    with pytest.raises(EvidenceDataError, match="source 'demo2020': unknown fields"):
        parse_evidence({"sources.toml": bad, "demo.toml": _topic()})
