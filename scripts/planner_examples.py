"""Regenerate the worked examples of docs/planner.md (maps and summaries).

Usage: ``.venv/bin/python scripts/planner_examples.py``; writes docs/figures/planner_*.png and
the text between the ``<!-- examples:start -->`` / ``<!-- examples:end -->`` markers.
"""

from __future__ import annotations

import re
from pathlib import Path

from calfsim.io import read_intake
from calfsim.render import draw_injection_map
from calfsim.simulation import make_plan

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "planner.md"
FIGURES = ROOT / "docs" / "figures"
EXAMPLES = {
    "typical": "Typical muscular calf, goal: a visible change",
    "fat": "Fat-dominated calf, goal: −2 cm",
    "recent-toxin": "Recent toxin elsewhere near the ceiling, goal: as much as safely possible",
    "contraindicated": "Contraindication (pregnancy)",
}


def _section(key: str, title: str) -> str:
    intake = ROOT / "examples" / f"intake-{key}.json"
    plan = make_plan(read_intake(intake), n_samples=4000, rng=1)
    lines = [
        f"### {title}",
        "",
        f"Intake: `examples/intake-{key}.json`. Command:",
        "",
        f"    calfsim plan examples/intake-{key}.json --map out/{key}.png --pdf out/{key}.pdf",
        "",
        f"**Screening: {plan.screening.verdict.value}.**",
        "",
    ]
    lines += [f"- {r.text} ({'; '.join(r.citations)})" for r in plan.screening.reasons]
    lines += [f"- note: {n}" for n in plan.notes]
    if plan.has_treatment:
        lines += ["", "| Day | Leg | GM medial U | GM lateral U |", "|---|---|---|---|"]
        for s in plan.sessions:
            for side, dose in s.doses_u.items():
                heads = dict(dose.by_head_u or {})
                lines.append(
                    f"| {s.day:g} | {side.value} | "
                    + " | ".join(f"{u:g}" for u in heads.values())
                    + " |"
                )
        lines.append("")
        for side, d in plan.doses.items():
            p10, med, p90 = d.course_change_cm
            lines.append(
                f"- {side.value}: {d.total_u:g} U per session; first-course change at the "
                f"nadir {med:+.2f} cm (p10 {p10:+.2f}, p90 {p90:+.2f}); {d.note}."
            )
        cost = plan.cost
        assert cost is not None
        lines.append(
            f"- cost: year 1 {cost.first_year.typical:,.0f} ({cost.first_year.low:,.0f}–"
            f"{cost.first_year.high:,.0f}) {cost.currency}, year 2 "
            f"{cost.second_year.typical:,.0f} ({cost.second_year.low:,.0f}–"
            f"{cost.second_year.high:,.0f}) {cost.currency}."
        )
        lines.append(
            f"- {len(plan.sites)} injection sites; dilution {plan.dilution.concentration_u_per_ml:g} U/mL."  # noqa: E501
            if plan.dilution
            else ""
        )
        figure = FIGURES / f"planner_{key}_map.png"
        legs = {
            side: (plan.anatomies[side], tuple(x for x in plan.sites if x.side is side))
            for side in plan.anatomies
        }
        draw_injection_map(legs, figure, title=title, dilution=plan.dilution)
        lines += ["", f"![Injection map: {title}](figures/{figure.name})"]
    lines.append("")
    return "\n".join(lines)


def main() -> None:
    FIGURES.mkdir(parents=True, exist_ok=True)
    body = "\n".join(_section(k, t) for k, t in EXAMPLES.items())
    text = DOC.read_text(encoding="utf-8")
    block = f"<!-- examples:start -->\n{body}\n<!-- examples:end -->"
    text = re.sub(
        r"<!-- examples:start -->.*<!-- examples:end -->", lambda _: block, text, flags=re.S
    )
    DOC.write_text(text, encoding="utf-8")
    print(body)


if __name__ == "__main__":
    main()
