"""Terminal rendering of a plan (Rich)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from calfsim.planner import MoneyRange
from calfsim.simulation import Plan

__all__ = ["print_plan"]


def _money(m: MoneyRange | None) -> str:
    if m is None:
        return "no trustworthy price"
    if m.low == m.high:
        return f"{m.typical:,.0f} {m.currency}"
    return f"{m.typical:,.0f} ({m.low:,.0f}–{m.high:,.0f}) {m.currency}"


def _band(values: tuple[float, float, float] | None) -> str:
    if values is None:
        return "not known"
    low, typical, high = values
    return f"{typical:+.1f} ({low:+.1f} to {high:+.1f})"


def print_plan(out: Console, plan: Plan) -> None:
    """Print screening, sessions, sites, cost, prediction and alternatives."""
    s = plan.screening
    out.print(f"[bold]Screening verdict: {s.verdict.value}[/bold]")
    for reason in s.reasons:
        cites = "; ".join(reason.citations)
        out.print(f"  - [{reason.verdict.value}] {reason.text} ({cites})", markup=False)
    if s.not_asked:
        out.print(f"  not asked: {', '.join(s.not_asked)}", markup=False)
    for note in plan.notes:
        out.print(f"note: {note}", markup=False)
    if not plan.has_treatment:
        out.print("No treatment is planned.")
    else:
        sessions = Table(title="Sessions (units of " + plan.request.product.value + ")")
        for col in ("day", "week", "leg", "GM medial", "GM lateral", "total"):
            sessions.add_column(col, justify="right")
        for session in plan.sessions:
            for side, dose in session.doses_u.items():
                heads = dict(dose.by_head_u or {})
                sessions.add_row(
                    f"{session.day:g}",
                    f"{session.day / 7:.0f}",
                    side.value,
                    *(f"{u:g}" for u in heads.values()),
                    f"{dose.amount_u:g}",
                )
        out.print(sessions)
        sites = Table(title="Injection sites (session 1; positions from the knee crease)")
        for col in ("leg", "head", "#", "below knee cm", "from midline cm", "depth mm", "U", "mL"):
            sites.add_column(col, justify="right")
        for site in plan.sites:
            sites.add_row(
                site.side.value,
                site.head.value,
                str(site.index),
                f"{site.level_below_knee_cm:.1f}",
                f"{site.offset_from_midline_cm:+.1f}",
                f"{site.depth_mm:.0f}",
                f"{site.units_u:g}",
                f"{site.volume_ml:.2f}",
            )
        out.print(sites)
        if plan.dilution is not None:
            d = plan.dilution
            out.print(
                f"Dilution: {d.vial_u:g} U vial + {d.diluent_ml:g} mL saline = "
                f"{d.concentration_u_per_ml:g} U/mL; {d.n_vials} vial(s), {d.syringes} syringe(s)",
                markup=False,
            )
        if plan.cost is not None:
            out.print(
                f"Cost: first year {_money(plan.cost.first_year)}, second year "
                f"{_money(plan.cost.second_year)}",
                markup=False,
            )
        for side, dose in plan.doses.items():
            out.print(
                f"{side.value} calf: {dose.total_u:g} U per session; first course change at "
                f"the nadir {_band(dose.course_change_cm)} cm (median, p10 to p90) — {dose.note}",
                markup=False,
            )
    alternatives = Table(title="Options compared (details, risks and sources: --json or --pdf)")
    for col in ("option", "girth change cm", "lasts", "cost over 2 years"):
        alternatives.add_column(col, overflow="fold")
    for option in plan.alternatives:
        lasts = option.permanence.split(":")[0].split(".")[0]
        alternatives.add_row(
            option.name.split(" (")[0],
            _band(option.girth_change_cm),
            lasts,
            _money(option.cost_two_years),
        )
    out.print(alternatives)
    out.print("Calf use of botulinum toxin is off-label. A simulation is not a promise.")
