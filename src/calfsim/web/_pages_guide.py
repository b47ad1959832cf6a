"""The procedure guide's content: the source page's facts plus the evidence, all cited.

Every sentence with a number is built from an evidence item (``calfsim.evidence``), and every
claim carries the citation marks of its items; nothing clinical is written here as a literal.
"""

from __future__ import annotations

import threading
from functools import cache
from typing import Any

from calfsim.evidence import EvidenceBase, load_evidence
from calfsim.io import parse_intake
from calfsim.planner import Option, ScreeningAnswers
from calfsim.simulation import make_plan
from calfsim.web._pages_cite import Citations, fmt_number
from calfsim.web._pages_plan_view import options_view

__all__ = ["guide_context", "reference_alternatives", "warm_up"]

_LOCK = threading.Lock()


def _reference_intake(ev: EvidenceBase) -> dict[str, Any]:
    """Return an average woman's calves (ANSUR II mean girth), a muscular calf, goal: visible."""
    girth_cm = ev.number("anthropometry.calf_girth_women_cm")
    answers: dict[str, Any] = dict.fromkeys(ScreeningAnswers.names(), False)
    answers["heel_raise_bulge"] = True
    return {
        "patient": {"sex": "female"},
        "legs": {"left": {"calf_girth_cm": girth_cm}, "right": {"calf_girth_cm": girth_cm}},
        "screening": answers,
        "goal": "visible",
    }


@cache
def reference_alternatives() -> tuple[tuple[Option, ...], float]:
    """Alternatives for the reference person (cached: one plan per process) and their girth."""
    with _LOCK:
        ev = load_evidence()
        intake = _reference_intake(ev)
        plan = make_plan(parse_intake(intake), n_samples=2000, search_samples=500)
        return plan.alternatives, float(intake["legs"]["left"]["calf_girth_cm"])


def warm_up() -> None:
    """Compute the cached reference plan (call from a background thread at start-up)."""
    reference_alternatives()


def _claims(c: Citations) -> dict[str, Any]:
    ev = c.ev
    p = "procedure."
    low_u, high_u = ev.bounds(p + "dose_per_treatment_u")
    return {
        "name": ev.text(p + "name"),
        "summary": c.text_fact(p + "summary"),
        "skinny": [
            {
                "label": "Average recovery",
                "value": f"{c.number(p + 'recovery_days')} days",
                "sub": f"intense exercise after {c.span(p + 'intense_activity_pause_days')} days",
                "cites": c.cite(p + "recovery_days", p + "intense_activity_pause_days"),
            },
            {
                "label": "Price per treatment",
                "value": f"${c.number(p + 'price_low_usd')}–${c.number(p + 'price_high_usd')}",
                "sub": "source page, 2021",
                "cites": c.cite(p + "price_low_usd", p + "price_high_usd"),
            },
            {
                "label": "Units per treatment",
                "value": f"{fmt_number(low_u)}–{fmt_number(high_u)} U",
                "sub": "of Botox, across the gastrocnemius",
                "cites": c.cite(p + "dose_per_treatment_u"),
            },
            {
                "label": "Sessions",
                "value": f"{c.number(p + 'min_sessions')}+",
                "sub": "then maintenance",
                "cites": c.cite(p + "min_sessions", p + "maintenance"),
            },
        ],
        "about": [
            c.text_fact(p + "target_muscle"),
            c.text_fact(p + "procedure_time"),
            c.fact(
                f"At least {c.number(p + 'min_sessions')} sessions are typically needed for a "
                "noticeable result.",
                p + "min_sessions",
            ),
            c.text_fact(p + "maintenance"),
        ],
        "addresses": c.text_fact(p + "addresses"),
        "recovery": [
            c.fact(
                f"Recovery time: {c.number(p + 'recovery_days')} days; most people walk and "
                "return to normal activity almost immediately.",
                p + "recovery_days",
            ),
            c.fact(
                f"Wait {c.span(p + 'intense_activity_pause_days')} days before intense "
                "physical activity.",
                p + "intense_activity_pause_days",
            ),
        ],
        "ideal": [
            c.text_fact(p + "ideal_candidate"),
            c.text_fact("safety.heel_raise_bulge"),
            c.text_fact("safety.fat_dominated_calves"),
            c.text_fact("safety.athletes"),
            c.fact(
                f"Adults only: under {c.number('safety.min_age_years')} is not a candidate.",
                "safety.age_under_18",
            ),
        ],
        "not_recommended": [
            c.text_fact(p + "not_recommended_for"),
            c.text_fact("safety.contraindication_hypersensitivity"),
            c.text_fact("safety.contraindication_cows_milk_protein"),
            c.text_fact("safety.neuromuscular_disease"),
            c.text_fact("safety.pregnancy_breastfeeding"),
            c.text_fact("safety.interaction_aminoglycosides"),
        ],
        "side_effects": {
            "common": [str(s) for s in ev.item(p + "side_effects").value],
            "common_cites": c.cite(p + "side_effects"),
            "more": [
                c.text_fact("safety.ae_reviews_and_clinics"),
                c.text_fact("safety.ae_event_rates"),
                c.text_fact("safety.warning_distant_spread"),
            ],
        },
        "pros": [str(s) for s in ev.item(p + "pros").value],
        "cons": [str(s) for s in ev.item(p + "cons").value],
        "pros_cons_cites": c.cite(p + "pros", p + "cons"),
        "timeline": [
            {
                "when": f"~{c.number(p + 'onset_days')} days",
                "what": "First slimming noticed",
                "cites": c.cite(p + "onset_days"),
                "tag": c.fact("", p + "onset_days"),
            },
            {
                "when": f"{c.span(p + 'best_result_weeks')} weeks",
                "what": "Clinics report the best look",
                "cites": c.cite(p + "best_result_weeks"),
                "tag": c.fact("", p + "best_result_weeks"),
            },
            {
                "when": f"{c.span(p + 'nadir_weeks')} weeks",
                "what": "Muscle at its smallest (from jaw-muscle studies)",
                "cites": c.cite(p + "nadir_weeks"),
                "tag": c.fact("", p + "nadir_weeks"),
            },
            {
                "when": f"{c.span(p + 'duration_months')} months",
                "what": "How long the effect lasts",
                "cites": c.cite(p + "duration_months"),
                "tag": c.fact("", p + "duration_months"),
            },
        ],
        "evidence": [
            c.text_fact(p + "volume_decrease_phase"),
            c.text_fact(p + "first_course_schedule"),
            c.fact(
                f"Studies gave {c.number('dosing.lowest_study_dose_per_calf_u')}–"
                f"{c.number('dosing.highest_study_dose_per_calf_u')} U per calf; a consensus "
                f"suggests about {c.number('dosing.consensus_dose_per_calf_u')} U per calf in "
                f"{c.number('dosing.consensus_points_per_calf')} points.",
                "dosing.lowest_study_dose_per_calf_u",
                "dosing.highest_study_dose_per_calf_u",
                "dosing.consensus_dose_per_calf_u",
                "dosing.consensus_points_per_calf",
            ),
            c.fact(
                f"Never more than {c.number('safety.ceiling_per_3_months_u')} U in "
                f"{c.number('safety.ceiling_window_days')} days, all body areas together, and "
                f"at least {c.number('safety.min_interval_days')} days "
                f"({fmt_number(ev.number('safety.min_interval_days') / 7)} weeks) between "
                "sessions.",
                "safety.ceiling_per_3_months_u",
                "safety.ceiling_window_days",
                "safety.min_interval_days",
            ),
            c.fact(
                f"A tape measure is only good to about ±{c.number('safety.tape_error_sd_cm')} cm:"
                " a change smaller than that cannot be told from measuring error.",
                "safety.tape_error_sd_cm",
            ),
        ],
        "off_label": c.text_fact(p + "off_label_status"),
        "units": c.text_fact(p + "unit_non_equivalence"),
        "units_ratio": c.fact(
            f"One cited conversion: about {c.span('products.abo_per_ona_ratio')} Dysport units "
            "per Botox unit — a clinical assumption, not a unit conversion.",
            "products.abo_per_ona_ratio",
        ),
        "last_updated": ev.text(p + "last_updated"),
        "source_cites": c.cite(p + "name"),
    }


def guide_context() -> dict[str, Any]:
    """Everything the guide template shows, with numbered citations and the references."""
    ev = load_evidence()
    c = Citations(ev)
    context = _claims(c)
    options, girth_cm = reference_alternatives()
    context["alternatives"] = options_view(options)
    context["reference_person"] = c.fact(
        f"Compared for a woman with an average calf girth of {fmt_number(girth_cm)} cm, "
        "whose calf bulges on a heel raise, aiming for a visible change.",
        "anthropometry.calf_girth_women_cm",
    )
    context["references"] = c.references()
    return context
