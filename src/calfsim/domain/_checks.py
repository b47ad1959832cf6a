"""Validation helpers for value objects: one message style everywhere."""

from __future__ import annotations

import math
from collections.abc import Sequence

from calfsim.errors import InvalidInputError

__all__ = ["check_finite", "check_range", "raise_all"]


def check_finite(field: str, value: float, unit: str) -> float:
    """Return ``value`` as float if it is a finite real number, else raise."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInputError(
            f"{field} must be a finite number in {unit}; got {value!r}", field=field
        )
    return float(value)


def check_range(
    field: str,
    value: float,
    low: float,
    high: float,
    unit: str,
    *,
    hint: str = "",
) -> float:
    """Return ``value`` if ``low <= value <= high``; raise a message naming all three otherwise.

    Examples
    --------
    >>> check_range("calf_girth_cm", 36.0, 20, 70, "cm")
    36.0
    >>> check_range("calf_girth_cm", 14, 20, 70, "cm", hint="Was it entered in inches?")
    Traceback (most recent call last):
    ...
    calfsim.errors.InvalidInputError: calf_girth_cm must be in [20, 70] cm; got 14. Was it...
    """
    x = check_finite(field, value, unit)
    if not low <= x <= high:
        extra = f". {hint}" if hint else ""
        raise InvalidInputError(
            f"{field} must be in [{low:g}, {high:g}] {unit}; got {value!r}{extra}", field=field
        )
    return x


def raise_all(errors: Sequence[InvalidInputError]) -> None:
    """Raise nothing, the one error, or one error listing every ``"field: message"``.

    The combined error has ``field=None`` and one entry per error in ``problems``.
    """
    if len(errors) == 1:
        raise errors[0]
    if errors:
        lines = tuple(f"{e.field}: {e.message}" for e in errors)
        raise InvalidInputError("\n".join(lines), problems=lines)
