"""Errors on the command line: one ``error: ...`` line per problem on stderr, no traceback."""

from __future__ import annotations

from rich.console import Console

from calfsim.errors import CalfSimError, InvalidInputError

__all__ = ["print_errors"]


def print_errors(err: Console, exc: CalfSimError, *, source: str | None = None) -> None:
    """Print every problem of ``exc`` as an ``error:`` line (prefixed by ``source`` if given).

    An `InvalidInputError` carries each problem with its path; other errors are one line. A
    line that already starts with ``source`` is not prefixed twice.
    """
    lines = exc.problems if isinstance(exc, InvalidInputError) else (str(exc),)
    for line in lines:
        if source is not None and not line.startswith(source):
            line = f"{source}: {line}"
        err.print(f"error: {line}", markup=False, highlight=False)
