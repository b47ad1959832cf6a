"""The protocol contract (JSON in): schema, parsing and one-line-per-problem errors.

Structure and types are checked by pydantic; plausibility by the domain value objects. Every
problem is reported with its JSON path (``legs.left.calf_girth_cm``), the value and what is
accepted, all at once.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from calfsim.domain import (
    LegDose,
    LegMeasurements,
    MuscleHead,
    Patient,
    Protocol,
    Session,
    Sex,
    Side,
    ToxinProduct,
)
from calfsim.errors import InvalidInputError

__all__ = ["DEFAULT_DAYS", "ProtocolIn", "parse_protocol", "read_protocol"]

#: Weekly from week 0 to week 52, when a protocol gives no days.
DEFAULT_DAYS: tuple[float, ...] = tuple(float(7 * w) for w in range(53))
#: Protocol files larger than this are refused before parsing.
MAX_FILE_BYTES = 1_000_000

ProductName = Literal[
    "onabotulinumtoxinA",
    "incobotulinumtoxinA",
    "prabotulinumtoxinA",
    "abobotulinumtoxinA",
    "letibotulinumtoxinA",
]
SideName = Literal["left", "right"]
HeadName = Literal["gm_medial", "gm_lateral", "soleus"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class PatientIn(_Strict):
    """Person-level data; all optional."""

    sex: Literal["female", "male"] | None = Field(None, description="Used for defaults only")
    age_years: float | None = Field(None, description="Age in years")
    height_cm: float | None = Field(None, description="Standing height in cm")
    weight_kg: float | None = Field(None, description="Body weight in kg")


class LegIn(_Strict):
    """Measurements of one lower leg."""

    calf_girth_cm: float = Field(description="Maximal calf girth in cm (required)")
    ankle_girth_cm: float | None = Field(None, description="Minimal ankle girth in cm")
    knee_girth_cm: float | None = Field(None, description="Girth at the knee joint line in cm")
    lower_leg_length_cm: float | None = Field(
        None, description="Knee joint line to lateral malleolus in cm"
    )
    fat_thickness_mm: float | None = Field(
        None, description="Subcutaneous fat thickness by ultrasound at max girth, mm"
    )
    gm_thickness_mm: float | None = Field(
        None, description="Medial gastrocnemius thickness by ultrasound at max girth, mm"
    )


class SessionIn(_Strict):
    """One session: day, product and units per leg (a number) or per head (an object)."""

    day: float = Field(description="Days since the first injection (day 0)")
    product: ProductName
    doses_u: dict[SideName, float | dict[HeadName, float]] = Field(
        default_factory=dict, description="Product units per leg, or per muscle head"
    )


class ProtocolIn(_Strict):
    """The whole protocol file."""

    patient: PatientIn = Field(default_factory=PatientIn)
    legs: dict[SideName, LegIn]
    sessions: list[SessionIn] = Field(default_factory=list)
    days: list[float] = Field(default_factory=lambda: list(DEFAULT_DAYS))
    allow_extrapolation: bool = False


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _pydantic_problems(exc: ValidationError) -> list[str]:
    problems = []
    for err in exc.errors(include_url=False):
        # Union members add their type name to the location; drop those for a clean path.
        loc = tuple(
            p for p in err["loc"] if not (isinstance(p, str) and ("[" in p or p in ("float",)))
        )
        got = err.get("input")
        shown = "" if err["type"] == "missing" else f"; got {json.dumps(got, default=str)}"
        problems.append(f"{_path(loc)}: {err['msg']}{shown}")
    return sorted(set(problems), key=problems.index)


def _domain(path: str, problems: list[str], build: Any, **kwargs: Any) -> Any:
    try:
        return build(**kwargs)
    except InvalidInputError as exc:
        field = f".{exc.field}" if exc.field and exc.field not in path else ""
        problems.append(f"{path}{field}: {exc.message}")
        return None


def parse_protocol(data: Any) -> Protocol:
    """Turn decoded JSON into a `Protocol`, reporting every problem with its JSON path.

    Parameters
    ----------
    data : object
        Decoded JSON (normally a dict).

    Returns
    -------
    Protocol

    Raises
    ------
    InvalidInputError
        With ``problems``: one line per problem, ``"<json path>: <message>"``.

    Examples
    --------
    >>> p = parse_protocol({"legs": {"left": {"calf_girth_cm": 36}}})
    >>> p.legs[Side.LEFT].calf_girth_cm
    36.0
    >>> parse_protocol({"legs": {"left": {"calf_girth_cm": 14}}})
    Traceback (most recent call last):
    ...
    calfsim.errors.InvalidInputError: legs.left.calf_girth_cm: calf_girth_cm must be in [20, 70] cm;
    got 14.0. 14 looks like inches (35.6 cm)...
    """
    try:
        raw = ProtocolIn.model_validate(data)
    except ValidationError as exc:
        problems = _pydantic_problems(exc)
        raise InvalidInputError("\n".join(problems), problems=tuple(problems)) from None
    problems: list[str] = []
    p = raw.patient
    patient = _domain(
        "patient",
        problems,
        Patient,
        sex=Sex(p.sex) if p.sex else None,
        age_years=p.age_years,
        height_cm=p.height_cm,
        weight_kg=p.weight_kg,
    )
    legs: dict[Side, LegMeasurements] = {}
    for side_name, leg in raw.legs.items():
        built = _domain(f"legs.{side_name}", problems, LegMeasurements, **leg.model_dump())
        if built is not None:
            legs[Side(side_name)] = built
    sessions: list[Session] = []
    for i, s in enumerate(raw.sessions):
        doses: dict[Side, LegDose] = {}
        for side_name, dose in s.doses_u.items():
            where = f"sessions[{i}].doses_u.{side_name}"
            if isinstance(dose, dict):
                leg_dose = _domain(
                    where,
                    problems,
                    LegDose,
                    by_head_u={MuscleHead(h): u for h, u in dose.items()},
                )
            else:
                leg_dose = _domain(where, problems, LegDose, total_u=dose)
            if leg_dose is not None:
                doses[Side(side_name)] = leg_dose
        session = _domain(
            f"sessions[{i}]",
            problems,
            Session,
            day=s.day,
            product=ToxinProduct(s.product),
            doses_u=doses,
        )
        if session is not None:
            sessions.append(session)
    if problems:
        raise InvalidInputError("\n".join(problems), problems=tuple(problems))
    protocol: Protocol | None = _domain(
        "protocol",
        problems,
        Protocol,
        patient=patient,
        legs=legs,
        sessions=tuple(sessions),
        days=tuple(raw.days),
        allow_extrapolation=raw.allow_extrapolation,
    )
    if protocol is None:
        raise InvalidInputError("\n".join(problems), problems=tuple(problems))
    return protocol


def read_protocol(path: Path) -> Protocol:
    """Read and parse a protocol JSON file.

    Raises
    ------
    InvalidInputError
        If the file is missing, too large, not JSON, or its content is invalid.
    """
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InvalidInputError(f"{path}: cannot read the file ({exc.strerror})") from None
    if size > MAX_FILE_BYTES:
        raise InvalidInputError(
            f"{path}: protocol files must be at most {MAX_FILE_BYTES:,} bytes; got {size:,}"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise InvalidInputError(f"{path}: not a UTF-8 text file") from None
    except json.JSONDecodeError as exc:
        raise InvalidInputError(
            f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    return parse_protocol(data)
