"""The server-side gate: every request is checked here before Flask or Dash handles it.

- Static files, the login and logout routes, ``/healthz`` and ``/metrics`` are public.
- Every other route needs a login: pages redirect to ``/login``, Dash's JSON endpoints and the
  API answer 401.
- A callback POST runs only when the callback's declared role (``@requires``) allows the
  session's role. Callbacks without a declaration are refused to everyone (deny by default).
  Refusals of state-changing callbacks are written to the audit trail.
- Dash's own page-routing callback is let through for any logged-in user: it can be posted a
  crafted ``pathname`` (the way past dash-auth's ``public_routes``), so the page layouts check
  the role themselves (:func:`guard_layout`).
"""

from __future__ import annotations

import hmac
import logging
import urllib.parse
from collections.abc import Callable
from typing import Any

import dash
import flask

from app.audit import audit
from app.auth.permissions import needed_role
from app.auth.session import SessionUser, current_user
from app.services import services
from pipeline.accounts import Role, allows

log = logging.getLogger(__name__)

PUBLIC_PREFIXES = ("/assets/", "/_dash-component-suites/")
PUBLIC_PATHS = frozenset({"/login", "/logout", "/healthz", "/metrics", "/_favicon.ico"})
CALLBACK_PATH = "/_dash-update-component"
API_PREFIX = "/api/"


def _json(status: int, message: str) -> flask.Response:
    response = flask.jsonify({"error": message})
    response.status_code = status
    return response


def login_url(path: str) -> str:
    """``/login`` with a ``next`` that brings the user back to ``path`` (same site only)."""
    return "/login?" + urllib.parse.urlencode({"next": safe_next(path)})


def safe_next(target: str | None) -> str:
    """``target`` when it is a same-site path, else ``/`` (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    if any(ord(c) < 32 for c in target):
        return "/"
    return target


def callback_function(app: dash.Dash, output: object) -> Callable[..., Any] | None:
    """The function behind the callback whose output id is ``output``, or None."""
    if not isinstance(output, str):
        return None
    entry = app.callback_map.get(output)
    return (entry or {}).get("callback")


def _is_dash_internal(func: Callable[..., Any]) -> bool:
    while getattr(func, "__wrapped__", None) is not None:
        func = func.__wrapped__
    return getattr(func, "__module__", "").split(".")[0] == "dash"


def _callback_verdict(
    app: dash.Dash, user: SessionUser | None
) -> tuple[int, str, str | None] | None:
    """None to let the callback run; else (status, message, action to audit or None)."""
    body = flask.request.get_json(silent=True)
    output = body.get("output") if isinstance(body, dict) else None
    func = callback_function(app, output)
    role, action = needed_role(func)
    if user is None:
        return 401, "log in first", action
    if func is None:
        return 404, "no such callback", None
    if role is None:
        if _is_dash_internal(func):
            return None
        log.warning("callback %s declares no role: refused (deny by default)", output)
        return 403, "this action is not available", None
    if not allows(user.role, role):
        return 403, f"your role ({user.role}) may not do this; it needs {role}", action
    return None


def bearer_matches(token: str) -> bool:
    """Whether the request carries ``Authorization: Bearer <token>`` (constant-time compare;
    bytes, so a header with non-ASCII characters is a mismatch, not an error)."""
    scheme, _, given = flask.request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode("utf-8", "replace"), token.encode()
    )


def install_gate(app: dash.Dash, api_token: str) -> None:
    """Check every request of ``app.server`` (see the module docstring).

    ``api_token`` lets the local command line read ``/api/*`` (``plumbline status``).
    """

    def gate() -> flask.Response | None:
        path = flask.request.path
        if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES):
            return None
        if path.startswith(API_PREFIX) and bearer_matches(api_token):
            return None
        user = current_user(services().warehouse)
        if path == CALLBACK_PATH:
            verdict = _callback_verdict(app, user)
            if verdict is None:
                return None
            status, message, action = verdict
            if action is not None:
                audit("denied", target=action, outcome="denied", detail=message)
            return _json(status, message)
        if user is None:
            if path.startswith(("/_dash-", "/_reload-hash")) or path.startswith(API_PREFIX):
                return _json(401, "log in first")
            query = flask.request.query_string.decode("utf-8", "replace")
            return flask.redirect(login_url(path + (f"?{query}" if query else "")))
        if path.startswith(API_PREFIX) and not allows(user.role, Role.ANALYST):
            return _json(403, f"your role ({user.role}) may not read this")
        return None

    app.server.before_request(gate)


def page_role(page: dict[str, Any]) -> Role:
    """The role a registered page needs (admin when a page forgot to say: deny by default)."""
    role = page.get("role")
    return role if isinstance(role, Role) else Role.ADMIN


def pages_for(role: str | None) -> list[dict[str, Any]]:
    """The registered pages ``role`` may open, in registry order."""
    return [p for p in dash.page_registry.values() if allows(role, page_role(p))]


def guard_layout(layout: Callable[..., Any], role: Role, refusal: Callable[..., Any]):
    """``layout`` that renders only for ``role`` and above; ``refusal(user, role)`` otherwise."""

    def guarded(**kwargs: Any) -> Any:
        user = current_user(services().warehouse)
        if user is None or not allows(user.role, role):
            return refusal(user, role)
        return layout(**kwargs)

    guarded.plumbline_guarded = True  # type: ignore[attr-defined]
    guarded.__wrapped__ = layout  # type: ignore[attr-defined]
    return guarded
