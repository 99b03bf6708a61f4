"""Security headers on every response: a strict Content-Security-Policy and its companions.

The policy allows scripts only from this server plus the inline scripts Dash itself renders,
each pinned by its hash (:meth:`dash.Dash.csp_hashes`): no ``unsafe-eval``, no
``unsafe-inline`` for scripts. So even if data ever became markup, the browser would refuse to
run it and report a violation instead.
"""

from __future__ import annotations

import dash
import flask

from app.security.errors import install_error_pages
from pipeline.settings import Settings

# HSTS for a year; no includeSubDomains: a self-hosted app does not own its neighbours' names.
HSTS = "max-age=31536000"

STATIC_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def content_security_policy(script_hashes: list[str]) -> str:
    """The policy string, allowing inline scripts only by the given ``'sha256-...'`` hashes."""
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", *script_hashes],
        # 'unsafe-inline' for styles only, and needed (a run without it reports violations on
        # every page): Plotly.js and AG Grid add <style> elements at run time, and style
        # attributes appear in served HTML (the login page). None can carry a hash or a
        # nonce. Styles cannot run code; scripts stay pinned to 'self' and hashes.
        "style-src": ["'self'", "'unsafe-inline'"],
        # data: for the SVG icons inlined in Bootstrap's CSS (selects, checkboxes, close buttons)
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def security_headers(app: dash.Dash, settings: Settings) -> dict[str, str]:
    """Every header :func:`install_security` adds, for ``app`` under ``settings``."""
    headers = {"Content-Security-Policy": content_security_policy(list(app.csp_hashes()))}
    headers |= STATIC_HEADERS
    if settings.web.secure_cookies:
        # Only behind TLS: HSTS sent over plain HTTP to a browser would lock it out of the app.
        headers["Strict-Transport-Security"] = HSTS
    return headers


def install_security(app: dash.Dash, settings: Settings) -> None:
    """Add the security headers to every response of ``app`` and install generic error pages.

    Call it after the pages and their callbacks are registered. The script hashes are read on
    every response, so a clientside callback registered later is still allowed.
    """

    if app.server.extensions.get("plumbline_security"):
        return  # already installed: a second set of hooks would only repeat the work
    app.server.extensions["plumbline_security"] = True

    def add_headers(response: flask.Response) -> flask.Response:
        response.headers.update(security_headers(app, settings))
        return response

    app.server.after_request(add_headers)
    install_error_pages(app.server)
