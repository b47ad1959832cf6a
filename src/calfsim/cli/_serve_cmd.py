"""``calfsim serve``: run the web app (pages and JSON API) with uvicorn.

Exit codes: 0 after a clean stop (Ctrl+C), 2 for invalid options (bad database URL or secret).
"""

from __future__ import annotations

import logging
import os
import secrets

import typer
from rich.console import Console

__all__ = ["serve"]


def serve(
    *,
    host: str,
    port: int,
    db_url: str | None,
    workers: int = 1,
    compute_processes: int | None = None,
    log_level: str = "info",
) -> None:
    """Build the app and serve it until interrupted, printing the address first.

    Parameters
    ----------
    host : str
        Interface to listen on (``127.0.0.1``: this machine only).
    port : int
        TCP port (1-65535).
    db_url : str, optional
        SQLAlchemy URL of the results database (default: ``CALFSIM_DB_URL``, else SQLite in
        ``out/calfsim.sqlite3``).
    workers : int
        Worker processes (each has its own Python interpreter: numpy-heavy requests then use
        every core). With more than one, the settings reach the workers through ``CALFSIM_*``
        variables, and one CSRF secret is made here for all of them.
    compute_processes : int, optional
        Processes that compute the API's predictions and plans, in arrival order (default:
        ``CALFSIM_COMPUTE_PROCESSES``, else 0: in the server's process). One server with one
        computing process per core answers many keep-alive clients more evenly than several
        workers (docs/web.md).
    log_level : str
        uvicorn's log level.

    Raises
    ------
    typer.Exit
        With code 2 if the settings are invalid.
    """
    import uvicorn
    from pydantic import ValidationError

    from calfsim.web import create_app

    err = Console(stderr=True, soft_wrap=True)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(name)s: %(message)s")
    if compute_processes is not None:
        # Through the environment, so that every worker of ``--workers`` gets it too.
        os.environ["CALFSIM_COMPUTE_PROCESSES"] = str(compute_processes)
    try:
        app = create_app(db_url=db_url)
    except (ValidationError, ValueError) as exc:
        err.print(f"error: {exc}", markup=False, highlight=False)
        raise typer.Exit(2) from None
    shown = f"[{host}]" if ":" in host else host
    Console(soft_wrap=True).print(
        f"calfsim is running at http://{shown}:{port}/ "
        f"(API: http://{shown}:{port}/docs; results in {app.state.settings.db_url}); "
        "press Ctrl+C to stop",
        markup=False,
        highlight=False,
    )
    if workers == 1:
        uvicorn.run(app, host=host, port=port, log_level=log_level, server_header=False)
        return
    # Each worker builds its own app from the environment; they must share the database and
    # the secret that signs CSRF tokens (a form served by one worker is posted to another).
    os.environ["CALFSIM_DB_URL"] = app.state.settings.db_url
    os.environ.setdefault("CALFSIM_SECRET", secrets.token_urlsafe(32))
    del app
    uvicorn.run(
        "calfsim.web:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        server_header=False,
    )
