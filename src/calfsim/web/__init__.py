"""The web app: procedure guide, candidacy check, 3D try-on, plans, and the JSON API.

Run it with ``calfsim serve`` (or ``make run``). Build it in code with :func:`create_app`::

    from calfsim.web import create_app
    app = create_app(db_url="sqlite://")  # in-memory results database

See ``docs/web.md`` for the API, its limits and the security measures.
"""

from calfsim.web._app import IMPORT_MAP, create_app, import_map_json, store_of
from calfsim.web._security import csrf_token, require_csrf, require_csrf_if_cookie
from calfsim.web._settings import DEFAULT_DB_URL, WebSettings

__all__ = [
    "DEFAULT_DB_URL",
    "IMPORT_MAP",
    "WebSettings",
    "create_app",
    "csrf_token",
    "import_map_json",
    "require_csrf",
    "require_csrf_if_cookie",
    "store_of",
]
