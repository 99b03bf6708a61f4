"""Who is acting: the name recorded with promotions, rollbacks, retrains and audit events."""

from __future__ import annotations

import flask

from app.auth.session import SessionUser, current_user
from app.services import services


def acting_user() -> SessionUser | None:
    """The logged-in user of this request, or None (no request, or not logged in)."""
    return current_user(services().warehouse) if flask.has_request_context() else None


def client_address() -> str | None:
    """The client's address (the proxy's client when a trusted proxy forwards it)."""
    return flask.request.remote_addr if flask.has_request_context() else None


def current_actor() -> str:
    """The acting person's name as recorded in the audit columns."""
    user = acting_user()
    if user is not None:
        return user.username
    if flask.has_request_context():
        return f"anonymous ({client_address() or 'unknown address'})"
    return "anonymous (no request)"
