"""Exceptions and warnings raised by calfsim.

The tree::

    CalfSimError
    ├── InvalidInputError (also ValueError)
    │   ├── UnitMismatchError
    │   ├── OutsideEvidenceError   dose or time beyond what the evidence covers
    │   └── SafetyLimitError       a dose ceiling or minimum interval would be broken
    ├── EvidenceDataError (also ValueError)  the shipped evidence files are inconsistent
    ├── MeshError (also ValueError)  not watertight, no calf region found
    ├── RecordNotFoundError (also LookupError)
    ├── RecordConflictError
    └── MissingExtraError (also ImportError)  says which extra to install
    CalfSimWarning (UserWarning)
    └── ExtrapolationWarning

Messages name the field, the value and what is accepted, so that an edge adapter can show
them to a person unchanged.
"""

from __future__ import annotations

__all__ = [
    "CalfSimError",
    "CalfSimWarning",
    "EvidenceDataError",
    "ExtrapolationWarning",
    "InvalidInputError",
    "MeshError",
    "MissingExtraError",
    "OutsideEvidenceError",
    "RecordConflictError",
    "RecordNotFoundError",
    "SafetyLimitError",
    "UnitMismatchError",
]


class CalfSimError(Exception):
    """Base class of every error calfsim raises on purpose."""


class InvalidInputError(CalfSimError, ValueError):
    """An input value is missing, malformed or implausible.

    Parameters
    ----------
    message : str
        Human-readable message naming the value and what is accepted.
    field : str, optional
        Dotted name of the offending field (``"calf_girth_cm"``); edge adapters prefix it with
        the path of the enclosing object.
    problems : tuple of str, optional
        One line per problem when several were found at once (e.g. in a protocol file).
    """

    def __init__(
        self, message: str, *, field: str | None = None, problems: tuple[str, ...] = ()
    ) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.problems = problems or (message,)


class UnitMismatchError(InvalidInputError):
    """Quantities in incompatible units (or toxin products) were combined."""


class OutsideEvidenceError(InvalidInputError):
    """A dose, interval or time lies beyond what the published evidence covers."""


class SafetyLimitError(InvalidInputError):
    """A treatment would exceed a dose ceiling or break a minimum interval."""


class EvidenceDataError(CalfSimError, ValueError):
    """The evidence data files shipped with calfsim are malformed or inconsistent."""


class MeshError(CalfSimError, ValueError):
    """A mesh cannot be used (not watertight, no legs found, ...)."""


class RecordNotFoundError(CalfSimError, LookupError):
    """A stored record does not exist."""


class RecordConflictError(CalfSimError):
    """A stored record conflicts with an existing one."""


class MissingExtraError(CalfSimError, ImportError):
    """An optional dependency is missing; the message names the extra to install."""


class CalfSimWarning(UserWarning):
    """Base class of calfsim warnings."""


class ExtrapolationWarning(CalfSimWarning):
    """A result extrapolates beyond the evidence (issued when extrapolation is allowed)."""
