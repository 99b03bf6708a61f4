"""Logins, sessions and roles for the web app; see :mod:`app.auth.gate` for the checks."""

from app.auth.permissions import needed_role, requires
from app.auth.session import SessionUser, current_user
from pipeline.accounts import Role

__all__ = ["Role", "SessionUser", "current_user", "needed_role", "requires"]
