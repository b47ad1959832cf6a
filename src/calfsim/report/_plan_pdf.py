"""The plan as a printable A4 PDF: summary, map, schedule, cost, prediction, alternatives."""

from __future__ import annotations

import base64
import tempfile
from datetime import date
from pathlib import Path

import jinja2

import calfsim
from calfsim.evidence import load_evidence
from calfsim.render import draw_injection_map, plot_prediction
from calfsim.simulation import Plan

__all__ = ["plan_html", "write_plan_pdf"]

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("calfsim.report", "templates"),
    autoescape=jinja2.select_autoescape(["html"]),
    undefined=jinja2.StrictUndefined,
)


def _data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def plan_html(plan: Plan, *, today: date | None = None) -> str:
    """Render the plan as self-contained HTML (images inlined)."""
    images: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if plan.has_treatment and plan.prediction is not None:
            legs = {
                side: (plan.anatomies[side], tuple(s for s in plan.sites if s.side is side))
                for side in plan.anatomies
            }
            images["map"] = _data_uri(
                draw_injection_map(legs, folder / "map.png", title="Injection map, session 1")
            )
            images["band"] = _data_uri(plot_prediction(plan.prediction, folder / "band.png"))
        template = _ENV.get_template("plan.html")
        return template.render(
            plan=plan,
            images=images,
            today=(today or date.today()).isoformat(),
            version=calfsim.__version__,
            ceiling_u=load_evidence().number("safety.ceiling_per_3_months_u"),
        )


def write_plan_pdf(plan: Plan, path: Path, *, today: date | None = None) -> Path:
    """Write the plan PDF to ``path`` and return it.

    Raises
    ------
    OSError
        If the file cannot be written.
    """
    import weasyprint  # heavy: only when a PDF is asked for

    html = plan_html(plan, today=today)
    path.parent.mkdir(parents=True, exist_ok=True)
    weasyprint.HTML(string=html).write_pdf(path)
    return path
