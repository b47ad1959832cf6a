"""View models of plans and options for the templates: plain dicts of formatted strings.

The templates only lay these out; all numbers come from the planner's value objects.
"""

from __future__ import annotations

from typing import Any

from calfsim.domain import MuscleHead, Side
from calfsim.planner import MoneyRange, Option, ScreeningResult, Verdict
from calfsim.simulation import Plan
from calfsim.web._pages_cite import fmt_number

__all__ = ["money", "options_view", "plan_view", "screening_view"]

VERDICT_WORDS = {
    Verdict.CANDIDATE: ("You look like a candidate", "✓"),
    Verdict.CONSULT: ("Discuss it with a clinician first", "!"),
    Verdict.NOT_RECOMMENDED: ("Not recommended for you now", "×"),
}
_HEAD_WORDS = {MuscleHead.GM_MEDIAL: "inner head", MuscleHead.GM_LATERAL: "outer head"}
_QUESTION_WORDS = {
    "age_years": "your age",
    "recent_toxin": "toxin received elsewhere recently",
}


def money(value: MoneyRange | None) -> str:
    """Format a money range: ``"USD 4,200"`` or ``"USD 2,700–6,300"``.

    Examples
    --------
    >>> money(MoneyRange(low=700, typical=1400, high=2100, currency="USD"))
    'USD 700–2,100 (typically 1,400)'
    """
    if value is None:
        return "no reliable price"
    low, typical, high = (fmt_number(round(v)) for v in (value.low, value.typical, value.high))
    if low == high:
        return f"{value.currency} {typical}"
    return f"{value.currency} {low}–{high} (typically {typical})"


def _money_parts(value: MoneyRange) -> dict[str, str]:
    """Typical amount and range, for a stat box."""
    low, typical, high = (fmt_number(round(v)) for v in (value.low, value.typical, value.high))
    return {
        "typical": f"{value.currency} {typical}",
        "range": "" if low == high else f"range {low}–{high}",
    }


def _change(band: tuple[float, float, float] | None) -> str:
    if band is None:
        return "not known"
    low, typical, high = (0.0 if abs(v) < 0.05 else v for v in band)  # no "-0.0"
    if low == typical == high:
        return f"{typical:+.1f} cm" if typical else "0.0 cm"
    return f"{typical:+.1f} cm ({low:+.1f} to {high:+.1f})"


def options_view(options: tuple[Option, ...]) -> list[dict[str, Any]]:
    """Return the comparison table's rows: one dict per option, same fields for every option."""
    rows = []
    for option in options:
        rows.append(
            {
                "key": option.key,
                "name": option.name.split(" (")[0],
                "name_detail": option.name.partition(" (")[2].rstrip(")"),
                "change": _change(option.girth_change_cm),
                "change_note": option.girth_note,
                "permanence": option.permanence,
                "recovery": option.recovery,
                "risks": [
                    {
                        "text": risk.text,
                        "freq": (
                            f"{fmt_number(round(risk.per_1000, 1))} in 1,000"
                            if risk.per_1000 is not None
                            else "no frequency reported"
                        ),
                        "basis": risk.basis,
                    }
                    for risk in option.risks
                ],
                "cost": money(option.cost_two_years),
                "cost_note": option.cost_note,
                "sources": ", ".join(option.sources),
                "strength": option.evidence_strength,
                "off_label": option.off_label_note if option.off_label else "",
            }
        )
    return rows


def screening_view(result: ScreeningResult) -> dict[str, Any]:
    """Verdict words, icon and reasons of a screening result."""
    title, icon = VERDICT_WORDS[result.verdict]
    return {
        "verdict": result.verdict.value,
        "title": title,
        "icon": icon,
        "reasons": [
            {
                "verdict": reason.verdict.value,
                "pill": {"candidate": "ok", "consult": "warn", "not_recommended": "bad"}[
                    reason.verdict.value
                ],
                "text": reason.text,
                "citations": "; ".join(reason.citations),
            }
            for reason in result.reasons
        ],
        "not_asked": [_QUESTION_WORDS.get(q, q.replace("_", " ")) for q in result.not_asked],
        "suggests_alternatives": result.suggests_alternatives,
        "min_wait_days": result.min_wait_days,
    }


def _leg_name(side: Side) -> str:
    return f"{side.value.capitalize()} leg"


def plan_view(plan: Plan) -> dict[str, Any]:
    """Everything the plan page shows of a `Plan`."""
    view: dict[str, Any] = {
        "screening": screening_view(plan.screening),
        "has_treatment": plan.has_treatment,
        "product": plan.request.product.value,
        "notes": list(plan.notes),
        "alternatives": options_view(plan.alternatives),
        "doses": [],
        "sessions": [],
        "cost": None,
        "dilution": None,
        "n_sites": len(plan.sites),
    }
    for side, dose in plan.doses.items():
        p10, median, p90 = dose.course_change_cm
        view["doses"].append(
            {
                "leg": _leg_name(side),
                "total": fmt_number(round(dose.total_u, 1)),
                "heads": ", ".join(
                    f"{fmt_number(round(u))} U {_HEAD_WORDS.get(h, h.value)}"
                    for h, u in dose.by_head_u.items()
                ),
                "change": f"{median:+.1f} cm",
                "band": f"{p10:+.1f} to {p90:+.1f} cm",
                "note": dose.note,
            }
        )
    for number, session in enumerate(plan.sessions, start=1):
        view["sessions"].append(
            {
                "number": number,
                "day": fmt_number(session.day),
                "week": fmt_number(round(session.day / 7, 1)),
                "units": ", ".join(
                    f"{side.value} {fmt_number(round(dose.amount_u, 1))} U"
                    for side, dose in session.doses_u.items()
                ),
                "kind": "first course" if number <= 2 else "maintenance",
            }
        )
    if plan.cost is not None:
        view["cost"] = {
            "years": [
                {"label": "First year", **_money_parts(plan.cost.first_year)},
                {"label": "Second year", **_money_parts(plan.cost.second_year)},
            ],
            "per_session": money(plan.cost.per_session[0]) if plan.cost.per_session else "",
            "assumptions": list(plan.cost.assumptions),
            "sources": ", ".join(plan.cost.sources),
        }
    if plan.dilution is not None:
        d = plan.dilution
        view["dilution"] = {
            "vials": f"{d.n_vials} × {fmt_number(d.vial_u)} U",
            "diluent": f"{fmt_number(round(d.diluent_ml, 2))} mL saline per vial",
            "concentration": f"{fmt_number(round(d.concentration_u_per_ml, 1))} U/mL",
            "volume": f"{fmt_number(round(d.total_volume_ml, 2))} mL in {d.syringes} syringe(s)",
            "notes": list(d.notes),
        }
    return view
