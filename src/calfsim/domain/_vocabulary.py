"""Enumerations shared by every layer: sides, muscle heads, products, sex."""

from __future__ import annotations

from enum import Enum

__all__ = ["MuscleHead", "Sex", "Side", "ToxinProduct"]


class Side(Enum):
    """Which leg, from the person's own point of view."""

    LEFT = "left"
    RIGHT = "right"


class Sex(Enum):
    """Sex, used only to choose anthropometric defaults."""

    FEMALE = "female"
    MALE = "male"


class MuscleHead(Enum):
    """Muscles that can be injected (and whose size calfsim tracks)."""

    GM_MEDIAL = "gm_medial"
    GM_LATERAL = "gm_lateral"
    SOLEUS = "soleus"


class ToxinProduct(Enum):
    """Botulinum toxin type A products; their units are not interchangeable."""

    ONABOTULINUMTOXINA = "onabotulinumtoxinA"
    INCOBOTULINUMTOXINA = "incobotulinumtoxinA"
    PRABOTULINUMTOXINA = "prabotulinumtoxinA"
    ABOBOTULINUMTOXINA = "abobotulinumtoxinA"
    LETIBOTULINUMTOXINA = "letibotulinumtoxinA"

    @classmethod
    def accepted_names(cls) -> str:
        """Return the accepted product names, comma-separated."""
        return ", ".join(p.value for p in cls)
