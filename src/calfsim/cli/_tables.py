"""Rich tables for the terminal."""

from __future__ import annotations

from rich.table import Table

from calfsim.evidence import EvidenceBase
from calfsim.simulation import Prediction

__all__ = ["evidence_tables", "prediction_tables"]


def _pct(x: float) -> str:
    return "0%" if abs(x) < 0.005 else f"{100 * x:+.0f}%"


def prediction_tables(prediction: Prediction) -> list[Table]:
    """One table per leg: girth and change bands per day, and muscle volume changes."""
    tables = []
    err = prediction.tape_error_cm
    for side, leg in prediction.legs.items():
        table = Table(
            title=(
                f"{side.value} calf: baseline {leg.baseline_calf_girth_cm:.1f} cm, "
                f"{leg.calf_level_cm:.1f} cm below the knee"
            ),
            caption=(
                f"Change in cm as p10 / median / p90 of {prediction.samples} virtual patients "
                f"(negative = slimmer). * = median within the tape error (± {err:g} cm): "
                "not a measurable result. Muscle volumes: median change."
            ),
        )
        columns = ("day", "week", "girth", "p10", "median", "p90", "GM-med", "GM-lat", "soleus")
        for name in columns:
            table.add_column(name, justify="right")
        heads = list(leg.head_volume_change_frac.values())
        g = leg.calf_girth_cm
        c = leg.calf_girth_change_cm
        for i, day in enumerate(leg.days):
            star = "*" if abs(c.median[i]) <= err else " "
            table.add_row(
                f"{day:g}",
                f"{day / 7:.1f}",
                f"{g.median[i]:.1f}",
                f"{c.p10[i]:+.2f}",
                f"{c.median[i]:+.2f}{star}",
                f"{c.p90[i]:+.2f}",
                *(_pct(h.median[i]) for h in heads),
            )
        tables.append(table)
    return tables


def evidence_tables(ev: EvidenceBase, topic: str | None) -> list[Table]:
    """One table per topic: key, value with range and unit, tag, citation."""
    tables = []
    for name in sorted(ev.topics):
        if topic is not None and name != topic:
            continue
        table = Table(title=f"{name}: {ev.topics[name]}", show_lines=False)
        for col in ("item", "value", "unit", "tag", "source"):
            table.add_column(col, overflow="fold")
        for it in ev.in_topic(name):
            value = it.value
            if isinstance(value, float):
                shown = f"{value:g}"
                if it.low is not None or it.high is not None:
                    lo = it.low if it.low is not None else value
                    hi = it.high if it.high is not None else value
                    shown += f" ({lo:g}–{hi:g})"
            elif isinstance(value, tuple):
                shown = ", ".join(f"{v:g}" if isinstance(v, float) else v for v in value)
            else:
                shown = value if len(value) <= 90 else value[:87] + "…"
            table.add_row(it.key.split(".", 1)[1], shown, it.unit, it.tag.value, it.citation_text())
        tables.append(table)
    return tables
