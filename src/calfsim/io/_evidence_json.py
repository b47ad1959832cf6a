"""The evidence contract (JSON out): items with their tags and the sources they cite."""

from __future__ import annotations

from typing import Any

from calfsim.evidence import EvidenceBase

__all__ = ["evidence_to_dict"]


def evidence_to_dict(ev: EvidenceBase, topic: str | None = None) -> dict[str, Any]:
    """Evidence items (optionally of one topic) and the sources they cite, JSON-ready.

    The contract of ``calfsim evidence --json`` and ``GET /api/evidence``.
    """
    items = [it for it in ev.items.values() if topic is None or it.key.startswith(topic + ".")]
    cited = {c.key for it in items for c in it.sources}
    return {
        "items": [
            {
                "key": it.key,
                "value": list(it.value) if isinstance(it.value, tuple) else it.value,
                "low": it.low,
                "high": it.high,
                "unit": it.unit,
                "tag": it.tag.value,
                "sources": [c.key for c in it.sources],
                "note": it.note,
            }
            for it in items
        ],
        "sources": {
            key: {
                "authors": c.authors,
                "title": c.title,
                "journal": c.journal,
                "year": c.year,
                "url": c.url,
                "doi": c.doi,
                "verified": c.is_verified,
            }
            for key, c in ev.sources.items()
            if key in cited
        },
    }
