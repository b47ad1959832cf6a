"""Load and validate the evidence data files shipped in ``calfsim/evidence/data``.

Each topic is one TOML file. ``sources*.toml`` files list the citations; every other file holds
items::

    topic = "response"
    description = "..."

    [items.tau_on_weeks]
    value = 0.75          # a number, a string, or a list of numbers or strings
    low = 0.3             # optional plausible range
    high = 1.2
    unit = "week"
    tag = "inferred"      # stated | derived | inferred | secondary
    sources = ["lee2004", "sloop1996"]
    note = "why this value"

Validation is strict: unknown fields, unknown sources, unknown tags, non-finite numbers,
``low > value > high`` and units that disagree with the key's suffix are all rejected.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

from calfsim.errors import EvidenceDataError
from calfsim.evidence._model import Citation, EvidenceBase, EvidenceItem, EvidenceTag, Value

__all__ = ["load_evidence", "parse_evidence"]

_SOURCE_FIELDS = {"authors", "title", "journal", "year", "url", "doi", "verified", "note"}
_ITEM_FIELDS = {"value", "low", "high", "unit", "tag", "sources", "note"}
#: The unit a key's suffix promises (STYLE.md, "Units").
_SUFFIX_UNITS = {
    "_cm": "cm",
    "_mm": "mm",
    "_m": "m",
    "_days": "day",
    "_weeks": "week",
    "_months": "month",
    "_years": "year",
    "_frac": "fraction",
    "_ratio": "ratio",
    "_u": "U",
    "_ml": "mL",
    "_cm2": "cm²",
    "_cm3": "cm³",
    "_u_per_ml": "U/mL",
    "_u_per_cm3": "U/cm³",
    "_kg": "kg",
    "_usd": "USD",
    "_usd_per_u": "USD/U",
}


def _suffix_unit(key: str) -> str | None:
    matches = [s for s in _SUFFIX_UNITS if key.endswith(s)]
    if not matches:
        return None
    return _SUFFIX_UNITS[max(matches, key=len)]


def _parse_source(key: str, raw: Mapping[str, Any]) -> Citation:
    unknown = set(raw) - _SOURCE_FIELDS
    if unknown:
        raise EvidenceDataError(f"source {key!r}: unknown fields {sorted(unknown)}")
    for required in ("authors", "title", "journal", "url"):
        if not isinstance(raw.get(required), str):
            raise EvidenceDataError(f"source {key!r}: {required!r} must be a string")
    if not raw["url"] and not raw.get("doi"):
        raise EvidenceDataError(f"source {key!r}: needs a url or a doi")
    year = raw.get("year")
    if year is not None and not (isinstance(year, int) and 1900 < year < 2100):
        raise EvidenceDataError(f"source {key!r}: year must be an integer; got {year!r}")
    return Citation(
        key=key,
        authors=raw["authors"],
        title=raw["title"],
        journal=raw["journal"],
        year=year,
        url=raw["url"],
        doi=str(raw.get("doi", "")),
        is_verified=bool(raw.get("verified", True)),
        note=str(raw.get("note", "")),
    )


def _finite(key: str, name: str, x: Any) -> float:
    if isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x):
        raise EvidenceDataError(f"item {key!r}: {name} must be a finite number; got {x!r}")
    return float(x)


def _parse_value(key: str, raw: Any) -> Value:
    if isinstance(raw, str):
        return raw
    if isinstance(raw, list):
        if raw and all(isinstance(v, str) for v in raw):
            return tuple(raw)
        return tuple(_finite(key, "value", v) for v in raw)
    return _finite(key, "value", raw)


def _parse_item(key: str, raw: Mapping[str, Any], sources: Mapping[str, Citation]) -> EvidenceItem:
    unknown = set(raw) - _ITEM_FIELDS
    if unknown:
        raise EvidenceDataError(f"item {key!r}: unknown fields {sorted(unknown)}")
    if "value" not in raw:
        raise EvidenceDataError(f"item {key!r}: missing 'value'")
    value = _parse_value(key, raw["value"])
    try:
        tag = EvidenceTag(raw.get("tag"))
    except ValueError:
        accepted = ", ".join(t.value for t in EvidenceTag)
        raise EvidenceDataError(
            f"item {key!r}: tag must be one of {accepted}; got {raw.get('tag')!r}"
        ) from None
    source_keys = raw.get("sources")
    if not isinstance(source_keys, list) or not source_keys:
        raise EvidenceDataError(f"item {key!r}: 'sources' must be a non-empty list")
    missing = [s for s in source_keys if s not in sources]
    if missing:
        raise EvidenceDataError(f"item {key!r}: unknown sources {missing}")
    unit = raw.get("unit", "")
    if not isinstance(unit, str):
        raise EvidenceDataError(f"item {key!r}: unit must be a string")
    if not isinstance(value, str) and not (
        isinstance(value, tuple) and value and isinstance(value[0], str)
    ):
        if not unit:
            raise EvidenceDataError(f"item {key!r}: numeric items need a unit")
        expected = _suffix_unit(key.rsplit(".", 1)[-1])
        if expected is not None and unit != expected:
            raise EvidenceDataError(
                f"item {key!r}: the key's suffix promises unit {expected!r}; got {unit!r}"
            )
    low = _finite(key, "low", raw["low"]) if "low" in raw else None
    high = _finite(key, "high", raw["high"]) if "high" in raw else None
    if isinstance(value, float):
        lo = value if low is None else low
        hi = value if high is None else high
        if not lo <= value <= hi:
            raise EvidenceDataError(
                f"item {key!r}: need low <= value <= high; got {lo} <= {value} <= {hi}"
            )
    elif low is not None or high is not None:
        raise EvidenceDataError(f"item {key!r}: low/high only apply to single numbers")
    return EvidenceItem(
        key=key,
        value=value,
        unit=unit,
        tag=tag,
        sources=tuple(sources[s] for s in source_keys),
        low=low,
        high=high,
        note=str(raw.get("note", "")),
    )


def parse_evidence(files: Mapping[str, str]) -> EvidenceBase:
    """Parse and validate evidence files given as ``{file name: TOML text}``.

    Parameters
    ----------
    files : mapping of str to str
        Files named ``sources*.toml`` hold citations (merged; a key may appear once); every
        other ``*.toml`` is a topic file.

    Returns
    -------
    EvidenceBase
        All items, keyed ``"topic.name"``.

    Raises
    ------
    EvidenceDataError
        On any malformed or inconsistent entry (the message names the item).
    """
    source_files = sorted(n for n in files if n.startswith("sources"))
    if not source_files:
        raise EvidenceDataError("the evidence data has no sources*.toml")
    sources: dict[str, Citation] = {}
    for name in source_files:
        try:
            raw_sources = tomllib.loads(files[name])
        except tomllib.TOMLDecodeError as exc:
            raise EvidenceDataError(f"{name}: {exc}") from None
        for key, entry in raw_sources.items():
            if key in sources:
                raise EvidenceDataError(f"{name}: source {key!r} is defined twice")
            sources[key] = _parse_source(key, entry)
    items: dict[str, EvidenceItem] = {}
    topics: dict[str, str] = {}
    for name in sorted(files):
        if name.startswith("sources"):
            continue
        try:
            raw = tomllib.loads(files[name])
        except tomllib.TOMLDecodeError as exc:
            raise EvidenceDataError(f"{name}: {exc}") from None
        topic = raw.get("topic")
        if topic != name.removesuffix(".toml"):
            raise EvidenceDataError(f"{name}: 'topic' must be {name.removesuffix('.toml')!r}")
        unknown = set(raw) - {"topic", "description", "items"}
        if unknown:
            raise EvidenceDataError(f"{name}: unknown top-level fields {sorted(unknown)}")
        topics[topic] = str(raw.get("description", ""))
        for key, entry in raw.get("items", {}).items():
            full = f"{topic}.{key}"
            items[full] = _parse_item(full, entry, sources)
    return EvidenceBase(items=items, sources=sources, topics=topics)


@cache
def load_evidence() -> EvidenceBase:
    """Load the evidence data shipped with calfsim (validated, cached).

    Examples
    --------
    >>> ev = load_evidence()
    >>> ev.item("safety.ceiling_per_3_months_u").unit
    'U'
    """
    folder = resources.files("calfsim.evidence") / "data"
    files = {
        entry.name: entry.read_text(encoding="utf-8")
        for entry in folder.iterdir()
        if entry.name.endswith(".toml")
    }
    return parse_evidence(files)
