"""Server-rendered pages: home, procedure guide, candidacy check, try it on, plan.

The pages call the same core functions as the CLI and the JSON API (`calfsim.evidence`,
`calfsim.planner.screen`, `calfsim.simulation.make_plan`, `calfsim.report.write_plan_pdf`);
forms post back with a CSRF token. The try-on page's 3D viewer is JavaScript on top of the
JSON API (``/api/simulate``); everything else works without JavaScript.
"""

from __future__ import annotations

import base64
import hashlib
import json
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

import calfsim
from calfsim.domain import Patient, RecentToxin, Sex, ToxinProduct
from calfsim.errors import InvalidInputError
from calfsim.evidence import load_evidence
from calfsim.io import parse_intake
from calfsim.planner import ScreeningAnswers, screen
from calfsim.render import draw_injection_map
from calfsim.report import write_plan_pdf
from calfsim.simulation import Plan, make_plan
from calfsim.web._pages_forms import (
    QUESTIONS,
    FormProblems,
    intake_from_form,
    patient_from_form,
    product_choices,
    recent_toxin_from_form,
    screening_from_form,
)
from calfsim.web._pages_guide import guide_context
from calfsim.web._pages_plan_view import plan_view, screening_view
from calfsim.web._pages_tryon import tryon_context
from calfsim.web._security import require_csrf
from calfsim.web._work import run_compute

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

#: Plans kept in memory per app, so the PDF download does not recompute a plan just shown.
_PLAN_CACHE_SIZE = 16
#: Virtual patients of a plan made for a page (the plan CLI's default is 4000).
_PAGE_PLAN_SAMPLES = 2000
#: Plans are made in worker threads: the cache is shared between them.
_CACHE_LOCK = threading.Lock()


def _render(
    request: Request, name: str, context: dict[str, Any], *, status_code: int = 200
) -> HTMLResponse:
    templates = request.app.state.templates
    full = {"version": calfsim.__version__, "active": name.removesuffix(".html"), **context}
    response: HTMLResponse = templates.TemplateResponse(
        request, name, full, status_code=status_code
    )
    return response


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _plan_cache(request: Request) -> OrderedDict[str, Plan]:
    state = request.app.state
    if not hasattr(state, "page_plans"):
        state.page_plans = OrderedDict()
    cache: OrderedDict[str, Plan] = state.page_plans
    return cache


def _intake_key(intake: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(intake, sort_keys=True).encode()).hexdigest()[:32]


def _make_plan(request: Request, intake: dict[str, Any]) -> Plan:
    """Parse and plan an intake (raises InvalidInputError), with a small per-app cache."""
    key = _intake_key(intake)
    with _CACHE_LOCK:
        cache = _plan_cache(request)
        cached = cache.get(key)
        if cached is not None:
            cache.move_to_end(key)
            return cached
    plan = make_plan(parse_intake(intake), n_samples=_PAGE_PLAN_SAMPLES)
    with _CACHE_LOCK:
        cache[key] = plan
        while len(cache) > _PLAN_CACHE_SIZE:
            cache.popitem(last=False)
    return plan


def _map_data_uri(plan: Plan) -> str | None:
    """Return the injection map of the first session as an inline SVG image (or None)."""
    if not plan.has_treatment:
        return None
    legs = {
        side: (plan.anatomies[side], tuple(s for s in plan.sites if s.side is side))
        for side in plan.anatomies
    }
    with tempfile.TemporaryDirectory() as tmp:
        path = draw_injection_map(
            legs, Path(tmp) / "map.svg", title="Injection map, session 1", dilution=plan.dilution
        )
        data = path.read_bytes()
    return "data:image/svg+xml;base64," + base64.b64encode(data).decode("ascii")


def _form_context() -> dict[str, Any]:
    ev = load_evidence()
    return {
        "questions": QUESTIONS,
        "products": product_choices(ev),
        "tape_error_cm": ev.number("safety.tape_error_sd_cm"),
    }


# --- pages ------------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
async def home(request: Request) -> HTMLResponse:
    """Landing page: what calfsim does, and the four ways in."""
    ev = load_evidence()
    return _render(
        request,
        "home.html",
        {
            "off_label": ev.text("procedure.off_label_status"),
            "tape_error_cm": ev.number("safety.tape_error_sd_cm"),
        },
    )


@router.get("/guide", response_class=HTMLResponse)
async def guide(request: Request) -> HTMLResponse:
    """Show the procedure guide: the source page's facts and the evidence, all cited."""
    context = await run_compute(request, guide_context)
    return _render(request, "guide.html", context)


@router.get("/check", response_class=HTMLResponse)
async def check_form(request: Request) -> HTMLResponse:
    """Show the candidacy questionnaire."""
    return _render(request, "check.html", {**_form_context(), "values": {}, "result": None})


def _screen(form: dict[str, str]) -> dict[str, Any]:
    problems: list[str] = []
    answers = screening_from_form(form, problems)
    patient = patient_from_form(form, problems)
    recent = recent_toxin_from_form(form, problems)
    product = form.get("product") or ToxinProduct.ONABOTULINUMTOXINA.value
    if problems:
        raise FormProblems(problems)
    try:
        result = screen(
            ScreeningAnswers(**answers),
            patient=Patient(
                sex=Sex(patient["sex"]) if "sex" in patient else None,
                age_years=patient.get("age_years"),
            ),
            legs={},
            recent_toxin=tuple(
                RecentToxin(
                    days_ago=r["days_ago"], amount_u=r["units"], product=ToxinProduct(r["product"])
                )
                for r in recent
            ),
            product=ToxinProduct(product),
        )
    except ValueError as exc:  # InvalidInputError, or an unknown product/sex value
        problems = list(getattr(exc, "problems", (str(exc),)))
        raise FormProblems(problems) from None
    return screening_view(result)


@router.post("/check", response_class=HTMLResponse, dependencies=[Depends(require_csrf)])
async def check_submit(request: Request) -> HTMLResponse:
    """Screen the answers and show the verdict with its reasons."""
    form = await _form(request)
    context = {**_form_context(), "values": form, "result": None, "errors": []}
    try:
        context["result"] = await run_compute(request, _screen, form)
    except FormProblems as exc:
        context["errors"] = exc.problems
        return _render(request, "check.html", context, status_code=422)
    return _render(request, "check.html", context)


@router.get("/try", response_class=HTMLResponse)
async def try_on(request: Request) -> HTMLResponse:
    """Try it on: measurements or a scan, the 3D legs over a year, the girth chart."""
    return _render(request, "try.html", tryon_context())


_PLAN_DEFAULTS = {"unit": "cm", "goal": "visible", "product": "onabotulinumtoxinA"}


@router.get("/plan", response_class=HTMLResponse)
async def plan_form(request: Request) -> HTMLResponse:
    """Show the plan form: measurements, screening, goal, product and prices."""
    context = {**_form_context(), "values": dict(_PLAN_DEFAULTS), "plan": None, "errors": []}
    return _render(request, "plan.html", context)


def _plan_page(request: Request, intake: dict[str, Any]) -> dict[str, Any]:
    plan = _make_plan(request, intake)
    return {
        "plan": plan_view(plan),
        "map_uri": _map_data_uri(plan),
        "intake_json": json.dumps(intake, sort_keys=True),
    }


@router.post("/plan", response_class=HTMLResponse, dependencies=[Depends(require_csrf)])
async def plan_submit(request: Request) -> HTMLResponse:
    """Make the plan and show it, with the PDF download."""
    form = await _form(request)
    context: dict[str, Any] = {**_form_context(), "values": form, "plan": None, "errors": []}
    try:
        intake = intake_from_form(form)
        context.update(await run_compute(request, _plan_page, request, intake))
    except FormProblems as exc:
        context["errors"] = exc.problems
        return _render(request, "plan.html", context, status_code=422)
    except InvalidInputError as exc:
        context["errors"] = list(exc.problems)
        return _render(request, "plan.html", context, status_code=422)
    return _render(request, "plan.html", context)


def _pdf_bytes(request: Request, intake: dict[str, Any]) -> bytes:
    plan = _make_plan(request, intake)
    with tempfile.TemporaryDirectory() as tmp:
        return write_plan_pdf(plan, Path(tmp) / "plan.pdf").read_bytes()


@router.post("/plan/pdf", dependencies=[Depends(require_csrf)])
async def plan_pdf(request: Request) -> Response:
    """Send the plan as a PDF download (the intake comes back in a hidden field)."""
    form = await _form(request)
    try:
        intake = json.loads(form.get("intake") or "")
        if not isinstance(intake, dict):
            raise InvalidInputError("intake: must be a JSON object", field="intake")
        pdf = await run_compute(request, _pdf_bytes, request, intake)
    except (ValueError, InvalidInputError) as exc:
        problems = list(getattr(exc, "problems", (f"intake: not valid JSON ({exc})",)))
        context = {**_form_context(), "values": dict(_PLAN_DEFAULTS), "plan": None}
        context["errors"] = problems
        return _render(request, "plan.html", context, status_code=422)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": 'attachment; filename="calfsim-plan.pdf"'},
    )
