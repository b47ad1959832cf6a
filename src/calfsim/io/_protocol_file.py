"""The protocol contract (JSON in): schema, parsing and one-line-per-problem errors.

Structure and types are checked by pydantic; plausibility by the domain value objects. Every
problem is reported with its JSON path (``legs.left.calf_girth_cm``), the value and what is
accepted, all at once.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationError

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


def _dose_kind(value: Any) -> str | None:
    if isinstance(value, dict):
        return "[per head]"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "[leg total]"
    return None


#: Units to one leg: a number (leg total) or an object of units per head. The tags are in
#: brackets so that `_pydantic_problems` drops them from the JSON path.
DoseIn = Annotated[
    Annotated[float, Tag("[leg total]")] | Annotated[dict[HeadName, float], Tag("[per head]")],
    Discriminator(
        _dose_kind,
        custom_error_type="dose_type",
        custom_error_message=(
            "Input should be a number of units (leg total) or an object of units per head "
            "(gm_medial, gm_lateral, soleus)"
        ),
    ),
]


class _Strict(BaseModel):
    # strict: JSON numbers and booleans only; "36" or "yes" are refused, not converted.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


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
    doses_u: dict[SideName, DoseIn] = Field(
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


_MODEL_AT: dict[str, type[BaseModel]] = {
    "": ProtocolIn,
    "patient": PatientIn,
    "legs": LegIn,
    "sessions": SessionIn,
}


def _pydantic_problems(
    exc: ValidationError, model_at: dict[str, type[BaseModel]] | None = None
) -> list[str]:
    """One line per pydantic error: JSON path, message (accepted values), the value given."""
    model_at = _MODEL_AT if model_at is None else model_at
    problems = []
    for err in exc.errors(include_url=False):
        # Union members and dict keys add "[...]" to the location; drop those for a clean path.
        loc = tuple(
            p for p in err["loc"] if not (isinstance(p, str) and ("[" in p or p in ("float",)))
        )
        got = err.get("input")
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            model = model_at.get(next((p for p in loc[:-1] if isinstance(p, str)), ""), None)
            model = model or model_at[""]
            msg = f"unknown field; accepted: {', '.join(model.model_fields)}"
        shown = "" if err["type"] == "missing" else f"; got {json.dumps(got, default=str)}"
        problems.append(f"{_path(loc)}: {msg}{shown}")
    return sorted(set(problems), key=problems.index)


def _domain(path: str, problems: list[str], build: Any, **kwargs: Any) -> Any:
    try:
        return build(**kwargs)
    except InvalidInputError as exc:
        if exc.field is None and len(exc.problems) > 1:
            # Several fields of one object, each already "field: message".
            problems.extend(f"{path}.{line}" if path else line for line in exc.problems)
            return None
        field = exc.field if exc.field and exc.field not in path else ""
        where = ".".join(p for p in (path, field) if p) or "(top level)"
        problems.append(f"{where}: {exc.message}")
        return None


def _patient(p: PatientIn, problems: list[str]) -> Patient | None:
    patient: Patient | None = _domain(
        "patient",
        problems,
        Patient,
        sex=Sex(p.sex) if p.sex else None,
        age_years=p.age_years,
        height_cm=p.height_cm,
        weight_kg=p.weight_kg,
    )
    return patient


def _leg(side_name: str, leg: LegIn, problems: list[str]) -> LegMeasurements | None:
    built: LegMeasurements | None = _domain(
        f"legs.{side_name}", problems, LegMeasurements, **leg.model_dump()
    )
    return built


def _session(
    i: int, s: SessionIn, measured: Collection[str] | None, problems: list[str]
) -> Session | None:
    """Build session ``i``; ``measured``: the legs with measurements (None: not known)."""
    doses: dict[Side, LegDose] = {}
    for side_name, dose in s.doses_u.items():
        where = f"sessions[{i}].doses_u.{side_name}"
        if measured is not None and side_name not in measured:
            problems.append(
                f"{where}: doses the {side_name} leg, which has no measurements; "
                f"add legs.{side_name} or remove this dose"
            )
            continue
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
    session: Session | None = _domain(
        f"sessions[{i}]",
        problems,
        Session,
        day=s.day,
        product=ToxinProduct(s.product),
        doses_u=doses,
    )
    return session


def _valid_part(model: type[BaseModel], value: Any) -> Any:
    try:
        return model.model_validate(value)
    except ValidationError:
        return None


def _person_problems(data: dict[str, Any], problems: list[str]) -> None:
    """Add the plausibility problems of well-formed ``patient`` and ``legs`` entries."""
    patient = _valid_part(PatientIn, data.get("patient", {}))
    if patient is not None:
        _patient(patient, problems)
    legs = data.get("legs")
    for side_name, leg in (legs if isinstance(legs, dict) else {}).items():
        valid = _valid_part(LegIn, leg)
        if side_name in ("left", "right") and valid is not None:
            _leg(side_name, valid, problems)


def _problems_of_valid_parts(data: Any) -> list[str]:
    """Plausibility problems of the well-formed parts of a malformed protocol."""
    problems: list[str] = []
    if not isinstance(data, dict):
        return problems
    _person_problems(data, problems)
    sessions = data.get("sessions")
    for i, s in enumerate(sessions if isinstance(sessions, list) else []):
        valid = _valid_part(SessionIn, s)
        if valid is not None:
            # Whether a dosed leg was measured is only checked once legs is well-formed.
            _session(i, valid, None, problems)
    return problems


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
        # Report the plausibility problems of the well-formed parts too: all at once.
        problems = _pydantic_problems(exc) + _problems_of_valid_parts(data)
        raise InvalidInputError("\n".join(problems), problems=tuple(problems)) from None
    problems: list[str] = []
    patient = _patient(raw.patient, problems)
    legs: dict[Side, LegMeasurements] = {}
    for side_name, leg in raw.legs.items():
        built = _leg(side_name, leg, problems)
        if built is not None:
            legs[Side(side_name)] = built
    sessions: list[Session] = []
    for i, s in enumerate(raw.sessions):
        # With no legs at all, Protocol reports the empty legs instead.
        session = _session(i, s, raw.legs or None, problems)
        if session is not None:
            sessions.append(session)
    if problems:
        raise InvalidInputError("\n".join(problems), problems=tuple(problems))
    protocol: Protocol | None = _domain(
        "",
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


def read_json_file(path: Path, *, what: str = "protocol") -> Any:
    """Read a JSON file with the size, encoding and syntax checks every input file gets.

    Raises
    ------
    InvalidInputError
        If the file is missing, too large, not UTF-8 or not JSON (the message names the file).
    """
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InvalidInputError(f"{path}: cannot read the file ({exc.strerror})") from None
    if size > MAX_FILE_BYTES:
        raise InvalidInputError(
            f"{path}: {what} files must be at most {MAX_FILE_BYTES:,} bytes; got {size:,}"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InvalidInputError(f"{path}: not a UTF-8 text file") from None
    except OSError as exc:  # a directory, no permission, ...
        raise InvalidInputError(f"{path}: cannot read the file ({exc.strerror})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(
            f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    except RecursionError:
        raise InvalidInputError(f"{path}: not a {what} (JSON nested too deeply)") from None


def read_protocol(path: Path) -> Protocol:
    """Read and parse a protocol JSON file.

    Raises
    ------
    InvalidInputError
        If the file is missing, too large, not JSON, or its content is invalid.
    """
    return parse_protocol(read_json_file(path))
