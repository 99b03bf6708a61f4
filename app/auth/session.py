"""The logged-in person of the current request, kept in Flask's signed session cookie.

The cookie holds the user name and the account's ``auth_version`` when it was issued; each
request checks both against the warehouse (cached for a few seconds), so disabling a user, a
new password or a new role ends their sessions within :data:`RECHECK_SECONDS`.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from datetime import timedelta

import flask
from flask.sessions import SecureCookieSessionInterface, SessionMixin

from pipeline.accounts import Role
from pipeline.secret_files import owner_secret
from pipeline.settings import Settings, SettingsError
from pipeline.warehouse import Warehouse
from pipeline.warehouse import users as user_store

RECHECK_SECONDS = 5.0
# A permanent session's cookie is renewed (its expiry moved on) at most this often.
RENEW_SECONDS = 60
SECRET_FILE = "session_secret"
API_TOKEN_FILE = "api_token"


@dataclass(frozen=True)
class SessionUser:
    """Who is logged in, and with which role."""

    username: str
    role: Role


class _AccountCache:
    """user name -> (checked at, role, auth_version, disabled), refreshed every few seconds."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple[int, str], tuple[float, str, int, bool]] = {}

    def lookup(self, wh: Warehouse, username: str) -> tuple[str, int, bool] | None:
        key = (id(wh), username)
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(key)
        if entry is not None and now - entry[0] < RECHECK_SECONDS:
            return entry[1:]
        user = user_store.get_user(wh, username)
        if user is None:
            return None
        with self._lock:
            self._entries[key] = (now, user.role, user.auth_version, user.disabled)
        return user.role, user.auth_version, user.disabled

    def forget(self) -> None:
        with self._lock:
            self._entries.clear()


ACCOUNTS = _AccountCache()


def secret_key(settings: Settings) -> str:
    """The key that signs session cookies.

    ``secret_key`` from the settings when set. In demo mode without one, a random key is made
    once and kept in the data dir's secrets folder (owner-only), so logins survive a restart.
    Outside demo mode a missing key is a :class:`SettingsError`.
    """
    if settings.secret_key is not None:
        value = settings.secret_key.get_secret_value()
        if len(value) < 16:
            raise SettingsError(["secret_key: use at least 16 random characters"])
        return value
    if not settings.dataset.is_demo:
        raise SettingsError(
            [
                "no secret key: set PLUMBLINE_SECRET_KEY (or secret_key in plumbline.toml) to a "
                "long random string, e.g. the output of "
                "`python -c 'import secrets; print(secrets.token_hex(32))'`; it signs the login "
                "cookies, so keep it secret and the same across restarts"
            ]
        )
    return owner_secret(settings.secrets_dir, SECRET_FILE)


def local_api_token(settings: Settings) -> str:
    """The token with which the command line on this machine reads ``/api/status``.

    Kept in the owner-only secrets folder: whoever can read it can read the warehouse anyway.
    """
    return owner_secret(settings.secrets_dir, API_TOKEN_FILE)


class RenewingSessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie session, its expiry moved on at most every :data:`RENEW_SECONDS`.

    Flask re-signs a permanent session's cookie on every response to slide its expiry: with
    the dashboards' dozens of callback requests a second, serialising and signing the same
    session again costs ~0.15 ms a response, half of what a cached callback answer costs.
    The session notes when its cookie was last set (``r``, Unix seconds) and a response sets
    it again only when that is older: an active session still never expires, an idle one ends
    ``web.session_hours`` after its last renewal.
    """

    def should_set_cookie(self, app: flask.Flask, session: SessionMixin) -> bool:
        if not session.permanent:
            return session.modified
        now = int(time.time())
        renewed = session.get("r")
        due = not isinstance(renewed, int) or not 0 <= now - renewed < RENEW_SECONDS
        if not (session.modified or (due and app.config["SESSION_REFRESH_EACH_REQUEST"])):
            return False
        session["r"] = now
        return True


def configure(server: flask.Flask, settings: Settings) -> None:
    """Sign cookies with the secret key and make them HttpOnly, SameSite=Lax (Secure on TLS)."""
    server.session_interface = RenewingSessionInterface()
    server.config.update(
        SECRET_KEY=secret_key(settings),
        SESSION_COOKIE_NAME="plumbline_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.web.secure_cookies,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.web.session_hours),
    )


def current_user(wh: Warehouse) -> SessionUser | None:
    """The logged-in, enabled user of this request, or None (no request, no or stale login)."""
    if not flask.has_request_context():
        return None
    if "plumbline_user" in flask.g:
        return flask.g.plumbline_user
    found = None
    name, version = flask.session.get("user"), flask.session.get("v")
    if isinstance(name, str) and isinstance(version, int):
        account = ACCOUNTS.lookup(wh, name)
        if account is not None:
            role, current_version, disabled = account
            if not disabled and current_version == version:
                found = SessionUser(name, Role(role))
    flask.g.plumbline_user = found
    return found


def log_in(username: str, auth_version: int) -> None:
    """Start a session for ``username`` (a fresh cookie, so no fixation)."""
    flask.session.clear()
    flask.session.permanent = True
    flask.session["user"] = username
    flask.session["v"] = int(auth_version)
    flask.session["csrf"] = secrets.token_urlsafe(24)
    flask.g.pop("plumbline_user", None)


def log_out() -> None:
    """End this browser's session."""
    flask.session.clear()
    flask.g.pop("plumbline_user", None)


def csrf_token() -> str:
    """This session's token for plain HTML forms (login, logout)."""
    token = flask.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(24)
        flask.session["csrf"] = token
    return token
