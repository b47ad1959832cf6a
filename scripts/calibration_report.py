"""Regenerate the calibration figures and residual tables of docs/model.md.

Usage: ``.venv/bin/python scripts/calibration_report.py`` (from the project root). The tables
are written between the ``<!-- calibration:start -->`` and ``<!-- calibration:end -->``
markers of docs/model.md; figures go to docs/figures/. Review the diff before committing.
"""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from calfsim.domain import LegDose, LegMeasurements, Patient, Protocol, Session, Sex, Side
from calfsim.domain import ToxinProduct as Product
from calfsim.evidence import load_evidence
from calfsim.simulation import predict
from calfsim.simulation._calibration import (
    CalibrationPoints,
    chang_repeated_sessions,
    cp_time_course,
    fortuna_maximal_atrophy,
    masseter_time_course,
    park_dose_response,
)

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ROOT / "docs" / "figures"
MODEL_MD = ROOT / "docs" / "model.md"


def _plot(points: list[CalibrationPoints], path: Path, *, title: str) -> None:
    fig, axes = plt.subplots(1, len(points), figsize=(5.2 * len(points), 3.8), squeeze=False)
    for ax, p in zip(axes[0], points, strict=True):
        lo, hi = np.minimum(p.p10, p.p90), np.maximum(p.p10, p.p90)
        ax.errorbar(
            p.x,
            p.median,
            yerr=[p.median - lo, hi - p.median],
            fmt="s",
            color="#1f6fb2",
            capsize=4,
            label="model median, p10–p90",
        )
        ax.plot(p.x, p.observed, "o", color="#c2561a", ms=8, label="published")
        ax.set_title(p.name, fontsize=9)
        ax.set_xlabel(p.x_label)
        ax.set_ylabel(p.unit)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _time_course_figure(path: Path) -> None:
    """Girth course for a typical intake: 100 U per calf at day 0 and week 16."""
    dose = {Side.LEFT: LegDose(total_u=100)}
    protocol = Protocol(
        patient=Patient(sex=Sex.FEMALE),
        legs={Side.LEFT: LegMeasurements(calf_girth_cm=36.0)},
        sessions=(
            Session(day=0, product=Product.ONABOTULINUMTOXINA, doses_u=dose),
            Session(day=112, product=Product.ONABOTULINUMTOXINA, doses_u=dose),
        ),
        days=tuple(float(d) for d in range(0, 731, 7)),
    )
    leg = predict(protocol, n_samples=4000, rng=1).legs[Side.LEFT]
    weeks = leg.days / 7
    fig, ax = plt.subplots(figsize=(7, 3.8))
    band = leg.calf_girth_change_cm
    ax.fill_between(weeks, band.p10, band.p90, alpha=0.3, label="p10–p90")
    ax.plot(weeks, band.median, lw=2, label="median")
    ax.axhspan(-0.4, 0.4, color="0.85", label="tape error")
    for day in (0, 112):
        ax.axvline(day / 7, color="0.3", ls=":", lw=1)
    ax.set_xlabel("weeks")
    ax.set_ylabel("calf girth change (cm)")
    ax.set_title("Woman, calf 36 cm, 100 U per calf at weeks 0 and 16", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _table(points: list[CalibrationPoints]) -> str:
    rows = [
        "| Calibration point | x | published | model median | model p10–p90 | residual | in band |",
        "|---|---|---|---|---|---|---|",
    ]
    for p in points:
        for i in range(p.x.size):
            lo, hi = sorted((p.p10[i], p.p90[i]))
            rows.append(
                f"| {p.name} | {p.x[i]:g} | {p.observed[i]:+.3f} | {p.median[i]:+.3f} | "
                f"{lo:+.3f} to {hi:+.3f} | {p.residual[i]:+.3f} | "
                f"{'yes' if p.is_inside_band[i] else '**no**'} |"
            )
    return "\n".join(rows)


def _parameter_table(ev) -> str:
    rows = [
        "| Parameter | Central | Range (p5–p95) | Unit | Tag | Sources | Basis |",
        "|---|---|---|---|---|---|---|",
    ]
    for topic in ("response", "products"):
        for it in ev.in_topic(topic):
            if not isinstance(it.value, float):
                continue
            lo = "" if it.low is None else f"{it.low:g}"
            hi = "" if it.high is None else f"{it.high:g}"
            rng = f"{lo}–{hi}" if lo or hi else ""
            rows.append(
                f"| `{it.key}` | {it.value:g} | {rng} | {it.unit} | {it.tag.value} | "
                f"{it.citation_text()} | {it.note} |"
            )
    return "\n".join(rows)


def _replace(text: str, marker: str, body: str) -> str:
    block = f"<!-- {marker}:start -->\n{body}\n<!-- {marker}:end -->"
    pattern = rf"<!-- {marker}:start -->.*<!-- {marker}:end -->"
    return re.sub(pattern, lambda _: block, text, flags=re.S)


def main() -> None:
    ev = load_evidence()
    FIGURES.mkdir(parents=True, exist_ok=True)
    shapes = [masseter_time_course(ev), cp_time_course(ev)]
    bounds = [chang_repeated_sessions(ev), fortuna_maximal_atrophy(ev)]
    park12 = list(park_dose_response(ev, week=12))
    park26 = list(park_dose_response(ev, week=26))
    _plot(
        shapes,
        FIGURES / "calibration_shapes.png",
        title="Time-course shapes (normalised to the nadir)",
    )
    _plot(
        bounds,
        FIGURES / "calibration_repeat_and_max.png",
        title="Repeated sessions and maximal atrophy",
    )
    _plot(
        park12,
        FIGURES / "calibration_park_week12.png",
        title="Park 2005 dose-response, model at week 12",
    )
    _plot(
        park26,
        FIGURES / "calibration_park_week26.png",
        title="Park 2005 dose-response, model at week 26 (the evidence's assumed time point)",
    )
    _time_course_figure(FIGURES / "example_course.png")
    table = _table(shapes + bounds + park12 + park26)
    text = MODEL_MD.read_text(encoding="utf-8")
    text = _replace(text, "calibration", table)
    text = _replace(text, "parameters", _parameter_table(ev))
    MODEL_MD.write_text(text, encoding="utf-8")
    print(table)


if __name__ == "__main__":
    main()
