"""The ``calfsim`` command line (Typer). Parses, calls the core, formats."""

from calfsim.cli._app import app, main

__all__ = ["app", "main"]
