"""Settings of the web app, validated once in :func:`calfsim.web.create_app`.

Read from the arguments of ``create_app`` first, then from ``CALFSIM_*`` environment
variables, then the defaults below. Nothing is read at import time.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["DEFAULT_DB_URL", "WEB_MAX_SCAN_BYTES", "WebSettings"]

#: ``make run`` and ``calfsim serve`` keep their SQLite file here (relative to the working
#: directory).
DEFAULT_DB_URL = "sqlite:///out/calfsim.sqlite3"
#: Scans uploaded through the web are limited to 50 MB: a decimated whole-body phone scan is
#: 5-30 MB; the CLI accepts up to ``calfsim.io.MAX_SCAN_BYTES``.
WEB_MAX_SCAN_BYTES = 50 * 1024 * 1024
#: Photos (JPEG/PNG) of a leg: a 12 MP JPEG is 3-8 MB.
WEB_MAX_PHOTO_BYTES = 15 * 1024 * 1024
#: JSON bodies (protocols, intakes): the same limit as protocol files on disk.
WEB_MAX_JSON_BYTES = 1_000_000
#: Secrets shorter than this (or known placeholders) are refused.
_MIN_SECRET_CHARS = 32
_PLACEHOLDERS = frozenset({"changethis", "changeme", "secret", "dev", "test"})


class WebSettings(BaseModel):
    """Validated settings of one app instance.

    Attributes
    ----------
    db_url : str
        SQLAlchemy URL of the database (SQLite file by default; ``sqlite://`` is in memory).
    secret : str
        Key that signs the CSRF tokens; random per process when not given (tokens then stop
        working across restarts, which only means reloading a form).
    node_modules_dir : Path or None
        Where npm installed ``three`` (``CALFSIM_NODE_MODULES``, else ``<repo>/node_modules``).
    max_scan_bytes, max_photo_bytes, max_json_bytes : int
        Upload and body limits (413 above them).
    predict_n_samples : int
        Default virtual patients of ``/api/predict`` and ``/api/plan`` (see docs/web.md for
        the measurement behind it).
    simulate_n_samples : int
        Virtual patients of ``/api/simulate``.
    simulate_n_around : int
        Vertices per ring of the model legs of ``/api/simulate`` (fewer: a smaller GLB).
    max_concurrent_computations : int
        Predictions and plans computed at once in one process (the rest wait in order).
    inline_max_samples : int
        Predictions without the girth profile and with at most this many virtual patients
        (a few milliseconds of work) run on the event loop instead of a worker thread; 0 runs
        every prediction in a thread (docs/benchmarks.md has the measurement).
    compute_processes : int
        Processes that compute the JSON API's predictions and plans (``calfsim.web._pool``),
        one per core to use; 0 computes them in the server's own process.
    max_concurrent_simulations : int
        3D simulations run at once (each uses a core for seconds).
    max_queued_simulations : int
        Further simulations that may wait; beyond that ``/api/simulate`` answers 503.
    result_ttl_s : float
        Stored simulations and scans older than this are deleted.
    max_stored_simulations, max_stored_scans : int
        At most this many of each are kept (oldest deleted first).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    db_url: str = DEFAULT_DB_URL
    secret: str = Field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    node_modules_dir: Path | None = None
    max_scan_bytes: int = Field(WEB_MAX_SCAN_BYTES, gt=0)
    max_photo_bytes: int = Field(WEB_MAX_PHOTO_BYTES, gt=0)
    max_json_bytes: int = Field(WEB_MAX_JSON_BYTES, gt=0)
    predict_n_samples: int = Field(500, ge=100, le=20_000)
    simulate_n_samples: int = Field(2000, ge=100, le=20_000)
    simulate_n_around: int = Field(112, ge=32, le=512)
    max_concurrent_computations: int = Field(2, ge=1, le=64)
    inline_max_samples: int = Field(1000, ge=0, le=20_000)
    compute_processes: int = Field(0, ge=0, le=64)
    max_concurrent_simulations: int = Field(1, ge=1, le=16)
    max_queued_simulations: int = Field(4, ge=0, le=100)
    result_ttl_s: float = Field(24 * 3600.0, gt=0)
    max_stored_simulations: int = Field(50, ge=1)
    max_stored_scans: int = Field(20, ge=1)

    @field_validator("db_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            make_url(value)
        except ArgumentError:
            raise ValueError(
                f"db_url must be a SQLAlchemy database URL such as "
                f"sqlite:///out/calfsim.sqlite3; got {value!r}"
            ) from None
        return value

    @field_validator("secret")
    @classmethod
    def _strong_secret(cls, value: str) -> str:
        if value.lower() in _PLACEHOLDERS or len(value) < _MIN_SECRET_CHARS:
            raise ValueError(
                f"secret must be at least {_MIN_SECRET_CHARS} characters and not a "
                "placeholder; leave CALFSIM_SECRET unset to get a random one per process"
            )
        return value

    @classmethod
    def from_env(cls, **overrides: Any) -> WebSettings:
        """Build settings from ``CALFSIM_<FIELD>`` variables (``CALFSIM_DB_URL``...).

        Every field can be set so (``CALFSIM_PREDICT_N_SAMPLES=1000``); ``node_modules_dir``
        is ``CALFSIM_NODE_MODULES``. Values are validated like arguments.

        Parameters
        ----------
        **overrides
            Fields given explicitly; they win over the environment. None values are ignored.

        Returns
        -------
        WebSettings

        Raises
        ------
        pydantic.ValidationError
            Naming the field when a value is not accepted.
        """
        values: dict[str, Any] = {}
        for name in cls.model_fields:
            env = (
                "CALFSIM_NODE_MODULES" if name == "node_modules_dir" else f"CALFSIM_{name.upper()}"
            )
            if os.environ.get(env):
                values[name] = os.environ[env]
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)
