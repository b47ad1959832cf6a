"""Numbered citations for server-rendered pages: every claim links to its source.

A page collects the evidence items it shows through one `Citations` object; each item's sources
get a number on first use, and the page ends with the numbered reference list.
"""

from __future__ import annotations

from dataclasses import dataclass

from calfsim.evidence import Citation, EvidenceBase, EvidenceItem, EvidenceTag

__all__ = ["Citations", "Cite", "Fact", "fmt_number"]

#: Evidence tags shown beside a claim (stated facts need no label).
_TAG_LABELS = {
    EvidenceTag.SECONDARY: "clinic source",
    EvidenceTag.INFERRED: "assumption",
    EvidenceTag.DERIVED: "derived",
}


def fmt_number(value: float) -> str:
    """Format a number for reading: no trailing zeros, thousands separated.

    Examples
    --------
    >>> fmt_number(2100.0), fmt_number(0.4), fmt_number(2.75)
    ('2,100', '0.4', '2.75')
    """
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


@dataclass(frozen=True, slots=True)
class Cite:
    """One citation mark: its number, the source key (anchor) and a short label."""

    number: int
    key: str
    label: str


@dataclass(frozen=True, slots=True)
class Fact:
    """A claim in words with the citation marks of its evidence items and a tag label."""

    text: str
    cites: tuple[Cite, ...]
    tag: str = ""
    tag_class: str = ""


class Citations:
    """Numbers sources in order of first use on one page."""

    def __init__(self, ev: EvidenceBase) -> None:
        self.ev = ev
        self._numbers: dict[str, int] = {}
        self._sources: dict[str, Citation] = {}

    def item(self, key: str) -> EvidenceItem:
        """Return the evidence item ``key`` (dotted, e.g. ``"procedure.onset_days"``)."""
        return self.ev.item(key)

    def cite(self, *keys: str) -> tuple[Cite, ...]:
        """Return the citation marks of the sources of the evidence items ``keys``."""
        marks: list[Cite] = []
        for key in keys:
            for source in self.ev.item(key).sources:
                if source.key not in self._numbers:
                    self._numbers[source.key] = len(self._numbers) + 1
                    self._sources[source.key] = source
                mark = Cite(self._numbers[source.key], source.key, source.short())
                if mark not in marks:
                    marks.append(mark)
        return tuple(marks)

    def fact(self, text: str, *keys: str) -> Fact:
        """Return a claim with the marks of ``keys`` and the weakest tag among them."""
        tags = [self.ev.item(k).tag for k in keys]
        label, css = "", ""
        for tag in (EvidenceTag.SECONDARY, EvidenceTag.INFERRED, EvidenceTag.DERIVED):
            if tag in tags:
                label, css = _TAG_LABELS[tag], tag.value
                break
        return Fact(text=text, cites=self.cite(*keys), tag=label, tag_class=css)

    def text_fact(self, key: str) -> Fact:
        """Return the text of a text item as a claim with its citations."""
        return self.fact(self.ev.text(key), key)

    def number(self, key: str) -> str:
        """Return the value of a numeric item, formatted."""
        return fmt_number(self.ev.number(key))

    def span(self, key: str) -> str:
        """Return ``"low–high"`` of a numeric item (or its value when it has no range)."""
        low, high = self.ev.bounds(key)
        if low == high:
            return fmt_number(low)
        return f"{fmt_number(low)}–{fmt_number(high)}"

    def references(self) -> list[dict[str, str | int]]:
        """Return the numbered reference list, in number order."""
        out: list[dict[str, str | int]] = []
        for key, number in sorted(self._numbers.items(), key=lambda kv: kv[1]):
            source = self._sources[key]
            parts = [source.authors or "", source.title, source.journal]
            text = ". ".join(p.strip().rstrip(".") for p in parts if p and p.strip())
            if source.year:
                text += f" ({source.year})"
            url = f"https://doi.org/{source.doi}" if source.doi else source.url
            out.append(
                {
                    "number": number,
                    "key": key,
                    "text": text,
                    "url": url,
                    "note": "" if source.is_verified else "details not verified",
                }
            )
        return out
