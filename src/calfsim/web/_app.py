"""The app factory: settings, database, templates, static files, three.js, routers, security.

``create_app`` builds everything from its arguments (and ``CALFSIM_*`` variables); nothing
happens at import time. The database engine is opened at start-up (or on first use, for test
clients that skip the lifespan) and disposed of at shutdown.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

import calfsim
from calfsim.web._db import ResultStore, open_store
from calfsim.web._errors import install_error_handlers
from calfsim.web._pool import ComputePool
from calfsim.web._security import SecurityMiddleware, csrf_token
from calfsim.web._settings import WebSettings

__all__ = ["IMPORT_MAP", "create_app", "import_map_json", "store_of"]

log = logging.getLogger(__name__)

_HERE = Path(__file__).resolve().parent
TEMPLATES_DIR = _HERE / "templates"
STATIC_DIR = _HERE / "static"
#: The repository root (``src/calfsim/web`` -> repo) for ``node_modules``.
_REPO_ROOT = _HERE.parents[2]

#: Bare module names of three.js and its add-ons, for ``<script type="importmap">``. The
#: add-ons (GLTFLoader, OrbitControls) import ``"three"``, so pages need this map; its exact
#: text (:func:`import_map_json`) is allowed by a hash in the content security policy.
IMPORT_MAP: dict[str, dict[str, str]] = {
    "imports": {
        "three": "/vendor/three/build/three.module.js",
        "three/addons/": "/vendor/three/examples/jsm/",
    }
}


def import_map_json() -> str:
    """Return the import map's exact text (render it unescaped between the script tags)."""
    return json.dumps(IMPORT_MAP, separators=(",", ":"))


def _import_map_hash() -> str:
    digest = hashlib.sha256(import_map_json().encode()).digest()
    return "'sha256-" + base64.b64encode(digest).decode() + "'"


def _node_modules(settings: WebSettings) -> Path | None:
    candidates = [settings.node_modules_dir] if settings.node_modules_dir else []
    candidates += [_REPO_ROOT / "node_modules", Path.cwd() / "node_modules"]
    for folder in candidates:
        if folder is not None and (folder / "three" / "build" / "three.module.js").is_file():
            return folder
    return None


def _static_files(directory: Path, *, check_dir: bool = True) -> GZipMiddleware:
    """Serve a folder's files, gzip-compressed for clients that accept it.

    ``StaticFiles`` already sends ``ETag`` and ``Last-Modified`` and answers revalidations
    with 304; the middleware compresses text (JS, CSS, JSON, SVG; not PNG/JPEG, not range
    requests, not bodies already encoded) and adds ``Vary: Accept-Encoding``. Level 6: for
    three.core.js (1.5 MB) ~50 ms of CPU instead of ~90 ms at level 9, output within 1%.
    Chunks (64 kB) are compressed in worker threads (zlib releases the GIL) so that the event
    loop keeps answering. Only static files: pages carry CSRF tokens next to reflected input
    (compressing them would open BREACH), and the GLBs are stored compressed.
    """
    return GZipMiddleware(
        StaticFiles(directory=str(directory), check_dir=check_dir),
        compresslevel=6,
        thread_minimum_size=32 * 1024,
    )


def store_of(app: FastAPI) -> ResultStore:
    """Return the app's result store, opening the database on first use."""
    store: ResultStore | None = getattr(app.state, "store", None)
    if store is None:
        with app.state.store_lock:
            store = getattr(app.state, "store", None)
            if store is None:
                s: WebSettings = app.state.settings
                store = open_store(
                    s.db_url,
                    ttl_s=s.result_ttl_s,
                    max_scans=s.max_stored_scans,
                    max_simulations=s.max_stored_simulations,
                )
                app.state.store = store
    return store


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    store_of(app)
    settings: WebSettings = app.state.settings
    if settings.compute_processes:
        app.state.compute_pool = ComputePool(
            settings.compute_processes, warm_n_samples=settings.predict_n_samples
        )
    try:
        yield
    finally:
        pool: ComputePool | None = getattr(app.state, "compute_pool", None)
        if pool is not None:
            pool.close()
            app.state.compute_pool = None
        store: ResultStore | None = getattr(app.state, "store", None)
        if store is not None:
            store.close()
            app.state.store = None


def _include_pages(app: FastAPI) -> None:
    try:
        from calfsim.web._pages import router as pages_router
    except ModuleNotFoundError as exc:
        if not (exc.name or "").startswith("calfsim.web._pages"):
            raise
        log.warning("%s is missing: the app serves the API only", exc.name)
        return
    app.include_router(pages_router)


def create_app(
    *,
    db_url: str | None = None,
    settings: WebSettings | None = None,
    static_dir: Path | None = None,
    templates_dir: Path | None = None,
    **overrides: Any,
) -> FastAPI:
    """Build the calfsim web app (pages, JSON API, static files).

    Parameters
    ----------
    db_url : str, optional
        SQLAlchemy URL of the results database (default ``CALFSIM_DB_URL``, else
        ``sqlite:///out/calfsim.sqlite3``; ``"sqlite://"`` keeps it in memory).
    settings : WebSettings, optional
        All settings at once (``db_url`` and ``overrides`` then must not be given).
    static_dir, templates_dir : Path, optional
        Other folders of static files and Jinja2 templates (defaults: the package's).
    **overrides
        Any other `WebSettings` field (``secret``, ``max_scan_bytes``...).

    Returns
    -------
    fastapi.FastAPI
        With ``app.state.settings``, ``app.state.templates`` (``Jinja2Templates`` whose
        globals include ``csrf_token`` and ``import_map_json``) and ``app.state.store``
        (after start-up; use :func:`store_of`).

    Raises
    ------
    ValueError
        If settings are invalid (e.g. a placeholder secret) or given twice.

    Examples
    --------
    >>> app = create_app(db_url="sqlite://")
    >>> app.url_path_for("api_predict")
    '/api/predict'
    """
    if settings is not None and (db_url is not None or overrides):
        raise ValueError("give either settings or db_url/overrides, not both")
    if settings is None:
        settings = WebSettings.from_env(db_url=db_url, **overrides)

    app = FastAPI(
        title="calfsim",
        version=calfsim.__version__,
        summary="Evidence-based simulator and planner for calf reduction by botulinum toxin.",
        description=(
            "The same contracts as the `calfsim` command line: protocols and intakes in, "
            "predictions (p10 / median / p90), plans, scan measurements and 3D simulations "
            "out. Calf use of botulinum toxin is off-label; a simulation is not a promise."
        ),
        lifespan=_lifespan,
        openapi_url="/api/openapi.json",
        docs_url=None,  # Swagger UI loads from a CDN: /docs is served by the API router
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.store = None
    app.state.compute_pool = None
    app.state.store_lock = threading.Lock()

    templates = Jinja2Templates(directory=str(templates_dir or TEMPLATES_DIR))
    templates.env.globals["csrf_token"] = csrf_token
    templates.env.globals["import_map_json"] = import_map_json
    app.state.templates = templates

    install_error_handlers(app)
    app.add_middleware(
        SecurityMiddleware,
        max_json_bytes=settings.max_json_bytes,
        max_upload_bytes=max(settings.max_scan_bytes, settings.max_photo_bytes),
        script_hashes=(_import_map_hash(),),
    )

    from calfsim.web._api import install_openapi
    from calfsim.web._api import router as api_router
    from calfsim.web._api_scan import router as scan_router
    from calfsim.web._api_tryon import router as tryon_router

    app.include_router(api_router)
    app.include_router(scan_router)
    app.include_router(tryon_router)
    install_openapi(app)
    _include_pages(app)

    app.mount("/static", _static_files(static_dir or STATIC_DIR, check_dir=False), name="static")
    node_modules = _node_modules(settings)
    app.state.three_dir = None
    if node_modules is None:
        log.warning(
            "three.js not found (no node_modules/three; set CALFSIM_NODE_MODULES or run "
            "`npm ci`): the 3D viewer will not load"
        )
    else:
        three = node_modules / "three"
        app.state.three_dir = three
        app.mount("/vendor/three/build", _static_files(three / "build"), name="three_build")
        app.mount(
            "/vendor/three/examples/jsm",
            _static_files(three / "examples" / "jsm"),
            name="three_addons",
        )
        log.info("serving three.js from %s", three)
    return app
