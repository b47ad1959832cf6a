"""The security headers every response carries (also the 500s sent from outside the middleware)."""

from __future__ import annotations

__all__ = ["CSP", "SECURITY_HEADERS", "security_headers"]

#: Everything from this origin only; no inline scripts or styles; images may be data:/blob:
#: (canvas snapshots), workers blob: (three.js loaders); the app may not be framed.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; worker-src 'self' blob:; frame-ancestors 'none'; "
    "base-uri 'self'; form-action 'self'; object-src 'none'"
)
SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("content-security-policy", CSP),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
)


def security_headers(script_hashes: tuple[str, ...] = ()) -> tuple[tuple[str, str], ...]:
    """Return the headers with ``script_hashes`` (``'sha256-...'``) added to ``script-src``.

    Examples
    --------
    >>> csp = dict(security_headers(("'sha256-abc='",)))["content-security-policy"]
    >>> csp.split("; ")[1]
    "script-src 'self' 'sha256-abc='"
    """
    if not script_hashes:
        return SECURITY_HEADERS
    csp = CSP.replace("script-src 'self'", "script-src 'self' " + " ".join(script_hashes), 1)
    return (("content-security-policy", csp), *SECURITY_HEADERS[1:])
