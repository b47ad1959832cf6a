"""The anatomy and anthropometry evidence files: self-contained and internally consistent."""

from importlib import resources

import pytest

from calfsim.anatomy import AnatomyParams
from calfsim.evidence import EvidenceTag, parse_evidence

#: Clinical-study citations that live in sources.toml (owned elsewhere) and are cited here.
EXTERNAL_SOURCES = ("gm_thickness_class2019", "fat_satisfaction2024")


def _data(name):
    return (resources.files("calfsim.evidence") / "data" / name).read_text(encoding="utf-8")


def test_files_parse_with_only_the_declared_external_sources():
    stub = "\n".join(
        f'[{key}]\nauthors = ""\ntitle = "stub"\njournal = ""\nurl = "https://example.org"\n'
        for key in EXTERNAL_SOURCES
    )
    ev = parse_evidence(
        {
            "anatomy.toml": _data("anatomy.toml"),
            "anthropometry.toml": _data("anthropometry.toml"),
            "sources_anatomy.toml": _data("sources_anatomy.toml"),
            "sources_stub.toml": stub,
        }
    )
    assert AnatomyParams.from_evidence(ev) == AnatomyParams.from_evidence()


def test_every_item_is_cited_and_tagged(ev):
    items = ev.in_topic("anatomy") + ev.in_topic("anthropometry")
    assert len(items) > 40
    for item in items:
        assert item.sources, item.key
        assert isinstance(item.tag, EvidenceTag)
        assert item.note, item.key


def test_derived_items_match_their_arithmetic(ev):
    a = ev.number
    assert a("anatomy.mg_ultrasound_width_cm") == pytest.approx(
        a("anatomy.mg_acsa_max_cm2") / (a("anatomy.mg_thickness_typical_mm") / 10.0)
    )
    for sex in ("women", "men"):
        assert a(f"anthropometry.knee_to_calf_{sex}_ratio") == pytest.approx(
            a(f"anthropometry.knee_girth_{sex}_cm") / a(f"anthropometry.calf_girth_bdims_{sex}_cm"),
            abs=1e-3,
        )
        implied_stature_cm = a(f"anthropometry.calf_girth_{sex}_cm") / a(
            f"anthropometry.calf_to_stature_{sex}_ratio"
        )
        assert a(f"anthropometry.lower_leg_to_stature_{sex}_ratio") == pytest.approx(
            a(f"anthropometry.lower_leg_length_{sex}_cm") / implied_stature_cm, abs=1e-4
        )
    ratio = a("anatomy.women_to_fukunaga_volume_ratio")
    for head in ("mg", "lg", "soleus"):
        assert a(f"anatomy.{head}_volume_women_cm3") == pytest.approx(
            ratio * a(f"anatomy.{head}_volume_fukunaga_cm3")
        )
    assert a("anatomy.fat_men_to_women_ratio") == pytest.approx(1 - 0.29)
