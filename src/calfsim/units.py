"""Canonical units and conversion factors; nothing else.

calfsim carries units in names (``girth_cm``, ``t_days``) with one canonical unit per quantity.
This module holds the only conversion factors. Toxin units are *not* here: a unit of one product
is not a unit of another, and converting between products is a clinical assumption kept in the
evidence data.
"""

from __future__ import annotations

__all__ = [
    "CM_PER_INCH",
    "DAYS_PER_WEEK",
    "DAYS_PER_YEAR",
    "KG_PER_LB",
    "MM_PER_CM",
    "M_PER_CM",
    "cm_from_inch",
    "days_from_weeks",
    "inch_from_cm",
    "weeks_from_days",
]

#: Exact by definition of the international inch (1959).
CM_PER_INCH = 2.54
MM_PER_CM = 10.0
#: Exact by definition of the international avoirdupois pound (1959).
KG_PER_LB = 0.45359237
M_PER_CM = 0.01
DAYS_PER_WEEK = 7.0
#: Mean Gregorian year; used only to label yearly totals.
DAYS_PER_YEAR = 365.25


def cm_from_inch(length_inch: float) -> float:
    """Convert inches to centimetres.

    Examples
    --------
    >>> cm_from_inch(10.0)
    25.4
    """
    return length_inch * CM_PER_INCH


def inch_from_cm(length_cm: float) -> float:
    """Convert centimetres to inches.

    Examples
    --------
    >>> inch_from_cm(25.4)
    10.0
    """
    return length_cm / CM_PER_INCH


def days_from_weeks(t_weeks: float) -> float:
    """Convert weeks to days.

    Examples
    --------
    >>> days_from_weeks(12)
    84.0
    """
    return t_weeks * DAYS_PER_WEEK


def weeks_from_days(t_days: float) -> float:
    """Convert days to weeks.

    Examples
    --------
    >>> weeks_from_days(84)
    12.0
    """
    return t_days / DAYS_PER_WEEK
