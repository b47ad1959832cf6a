"""The plan contract (JSON out) of ``calfsim plan --json``."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from enum import Enum
from typing import Any

import numpy as np

import calfsim
from calfsim.domain import Session
from calfsim.io._prediction_json import prediction_to_dict
from calfsim.simulation import Plan

__all__ = ["jsonable", "plan_to_dict", "session_to_dict"]


def jsonable(value: Any) -> Any:
    """Turn value objects (frozen dataclasses, enums, mappings, arrays) into plain JSON data.

    Enum members become their values (also as mapping keys); floats are rounded to 4 decimals
    for readability; non-finite floats become None.
    """
    if isinstance(value, Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(jsonable(k)): jsonable(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, frozenset | set):
        return sorted(jsonable(v) for v in value)
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, float):
        return round(value, 4) if math.isfinite(value) else None
    return value


def session_to_dict(session: Session) -> dict[str, Any]:
    """Return a session in the shape the predict contract accepts (``doses_u`` per head)."""
    return {
        "day": session.day,
        "product": session.product.value,
        "doses_u": {
            side.value: {head.value: units for head, units in (dose.by_head_u or {}).items()}
            if dose.by_head_u is not None
            else dose.total_u
            for side, dose in session.doses_u.items()
        },
    }


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    """Return the JSON-ready plan: screening, sessions, sites, dilution, cost, prediction, ...

    ``sessions`` use the predict contract's shape, so ``{"legs": ..., "sessions": ...}`` of a
    plan can be fed to ``calfsim predict`` unchanged.
    """
    request = plan.request
    return {
        "calfsim_version": calfsim.__version__,
        "model_version": plan.prediction.model_version if plan.prediction else None,
        "screening": jsonable(plan.screening),
        "goal": jsonable(request.goal),
        "product": request.product.value,
        "min_interval_days": plan.min_interval_days,
        "override_reason": request.override_reason,
        "sessions": [session_to_dict(s) for s in plan.sessions],
        "doses": jsonable(plan.doses),
        "sites": [{**jsonable(site), "leg": site.side.value} for site in plan.sites],
        "dilution": jsonable(plan.dilution),
        "cost": jsonable(plan.cost),
        "prediction": (
            prediction_to_dict(plan.prediction, include_profile=False) if plan.prediction else None
        ),
        "alternatives": jsonable(plan.alternatives),
        "notes": list(plan.notes),
        "disclaimers": [
            "Calf use of botulinum toxin is off-label.",
            "A simulation is not a promise: the ranges come from thin, mostly abstract-level "
            "evidence.",
        ],
    }
