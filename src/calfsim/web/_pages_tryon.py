"""Defaults and limits of the try-on form, all from the evidence.

- Dose per calf: the typical study dose, limited to the studied range (lowest to highest per
  calf) in 10 U steps.
- Sessions: the first course's number of sessions; the spacing is the minimum interval, moved
  past the 3-month ceiling window and rounded up to whole weeks (13 weeks with the shipped
  evidence), as the planner does.
"""

from __future__ import annotations

import math
from typing import Any

from calfsim.evidence import load_evidence
from calfsim.io import SCAN_SUFFIXES
from calfsim.web._pages_forms import product_choices

__all__ = ["tryon_context"]

_DAYS_PER_WEEK = 7


def session_spacing_days(min_interval_days: float, ceiling_window_days: float) -> int:
    """Days between first-course sessions: past the ceiling window, in whole weeks.

    Examples
    --------
    >>> session_spacing_days(84, 90)
    91
    """
    days = max(min_interval_days, ceiling_window_days + 1)
    return int(math.ceil(days / _DAYS_PER_WEEK) * _DAYS_PER_WEEK)


def tryon_context() -> dict[str, Any]:
    """Form defaults, limits and help numbers of the try-on page."""
    ev = load_evidence()
    spacing = session_spacing_days(
        ev.number("safety.min_interval_days"), ev.number("safety.ceiling_window_days")
    )
    women_low, women_high = ev.bounds("anthropometry.calf_girth_women_cm")
    return {
        "dose_default_u": int(ev.number("dosing.study_dose_per_calf_u")),
        "dose_min_u": int(ev.number("dosing.lowest_study_dose_per_calf_u")),
        "dose_max_u": int(ev.number("dosing.highest_study_dose_per_calf_u")),
        "sessions_default": int(ev.number("planning.first_course_sessions")),
        "session_spacing_days": spacing,
        "sessions_max": 365 // spacing + 1,
        "tape_error_cm": ev.number("safety.tape_error_sd_cm"),
        "girth_women_cm": ev.number("anthropometry.calf_girth_women_cm"),
        "girth_women_range": f"{women_low:g}–{women_high:g}",
        "girth_men_cm": ev.number("anthropometry.calf_girth_men_cm"),
        "products": product_choices(ev),
        "scan_suffixes": ",".join(SCAN_SUFFIXES),
        "values": {"unit": "cm"},
    }
