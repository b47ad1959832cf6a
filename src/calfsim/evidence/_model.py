"""Value objects of the evidence base: citations, tags and items."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

from calfsim.errors import EvidenceDataError

__all__ = ["Citation", "EvidenceBase", "EvidenceItem", "EvidenceTag"]


class EvidenceTag(Enum):
    """How solid a number is (the tags of ``clinical-evidence.md``).

    ``STATED`` is [V] (stated in the cited source), ``DERIVED`` is [A]/[D] (arithmetic on stated
    numbers or computed from a raw public dataset), ``INFERRED`` is [I] (a modelling assumption)
    and ``SECONDARY`` is [S] (clinic page or other secondary source; verify before relying on it).
    """

    STATED = "stated"
    DERIVED = "derived"
    INFERRED = "inferred"
    SECONDARY = "secondary"


@dataclass(frozen=True, slots=True, kw_only=True)
class Citation:
    """One source, as it was read.

    ``is_verified`` is False where a bibliographic detail (authors, journal, year) could not be
    seen in the source read ([U] in the evidence report).
    """

    key: str
    authors: str
    title: str
    journal: str
    year: int | None
    url: str
    doi: str = ""
    is_verified: bool = True
    note: str = ""

    def short(self) -> str:
        """Return a compact "First author year" label.

        Examples
        --------
        >>> Citation(key="k", authors="Park JM, Ha JS", title="t", journal="j", year=2005,
        ...          url="u").short()
        'Park JM et al. 2005'
        """
        first = self.authors.split(",")[0].strip() or self.title
        many = "," in self.authors
        year = f" {self.year}" if self.year else ""
        return f"{first}{' et al.' if many else ''}{year}"


Value = float | str | tuple[float, ...] | tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class EvidenceItem:
    """One clinical number (or fact) with its citation and evidence tag.

    ``low``/``high`` bound the plausible range where the evidence gives one; they equal
    ``value`` otherwise.
    """

    key: str
    value: Value
    unit: str
    tag: EvidenceTag
    sources: tuple[Citation, ...]
    low: float | None = None
    high: float | None = None
    note: str = ""

    @property
    def number(self) -> float:
        """The value as a float; raises if the item is not a single number."""
        if isinstance(self.value, float):
            return self.value
        raise EvidenceDataError(f"evidence item {self.key!r} is not a single number")

    def citation_text(self) -> str:
        """Return the short citations of all sources, joined by '; '."""
        return "; ".join(c.short() for c in self.sources)


@dataclass(frozen=True, slots=True)
class EvidenceBase:
    """All evidence items by dotted key (``"response.tau_on_weeks"``) and all sources."""

    items: Mapping[str, EvidenceItem]
    sources: Mapping[str, Citation]
    topics: Mapping[str, str] = field(default_factory=dict)

    def item(self, key: str) -> EvidenceItem:
        """Return the item stored under ``key``.

        Raises
        ------
        EvidenceDataError
            If there is no such item (a programming error, not a user error).
        """
        try:
            return self.items[key]
        except KeyError:
            raise EvidenceDataError(f"no evidence item {key!r}") from None

    def number(self, key: str) -> float:
        """Return the central value of a numeric item."""
        return self.item(key).number

    def bounds(self, key: str) -> tuple[float, float]:
        """Return ``(low, high)`` of a numeric item (both equal the value if no range)."""
        it = self.item(key)
        value = it.number
        low = value if it.low is None else it.low
        high = value if it.high is None else it.high
        return (low, high)

    def series(self, key: str) -> tuple[float, ...]:
        """Return a numeric series item."""
        value = self.item(key).value
        if isinstance(value, tuple) and all(isinstance(v, float) for v in value):
            return value  # type: ignore[return-value]
        raise EvidenceDataError(f"evidence item {key!r} is not a numeric series")

    def text(self, key: str) -> str:
        """Return a text item."""
        value = self.item(key).value
        if isinstance(value, str):
            return value
        raise EvidenceDataError(f"evidence item {key!r} is not text")

    def in_topic(self, topic: str) -> list[EvidenceItem]:
        """Return the items of one topic, in file order."""
        prefix = topic + "."
        return [it for key, it in self.items.items() if key.startswith(prefix)]
