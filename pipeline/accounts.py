"""Accounts and roles: who may log in, with which role, and the argon2 hash of their password.

Roles are ordered: ``executive`` reads the business pages; ``analyst`` adds Data, Model review,
Explain, Monitor and Runs, retrains, promotes and rolls back; ``admin`` adds users, settings and
the audit trail. Callers write account changes to the audit trail (the web app with the
request's user, role and address; the command line with the OS user).
"""

from __future__ import annotations

import re
import secrets
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from pipeline.warehouse import Warehouse
from pipeline.warehouse import audit as audit_store
from pipeline.warehouse import users as store
from pipeline.warehouse.users import NoSuchUser, User, UserExists

__all__ = [
    "AccountError",
    "NoSuchUser",
    "Role",
    "User",
    "UserExists",
    "allows",
]

MIN_PASSWORD = 10
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{1,63}$")

# argon2id with the library's RFC 9106 "low memory" profile defaults (64 MiB, 3 passes).
HASHER = PasswordHasher()
# Verifying against this when the user does not exist keeps the answer time the same, so the
# login form does not tell which user names exist.
_DUMMY_HASH = HASHER.hash(secrets.token_hex(16))


class Role(StrEnum):
    """What a person may do; each role includes the rights of the ones before it."""

    EXECUTIVE = "executive"
    ANALYST = "analyst"
    ADMIN = "admin"


_RANK = {Role.EXECUTIVE: 1, Role.ANALYST: 2, Role.ADMIN: 3}


class AccountError(ValueError):
    """An account change that cannot be made; the message says why and what to do."""


def allows(role: str | None, needed: Role) -> bool:
    """Whether ``role`` (None: not logged in) includes the rights of ``needed``."""
    try:
        return role is not None and _RANK[Role(role)] >= _RANK[needed]
    except ValueError:
        return False


def check_role(role: str) -> Role:
    """``role`` as a :class:`Role`, or :class:`AccountError` naming the valid ones."""
    try:
        return Role(role)
    except ValueError:
        names = ", ".join(r.value for r in Role)
        raise AccountError(f"unknown role {role!r}: choose one of {names}") from None


def check_username(username: str) -> str:
    """``username`` when it is 2-64 letters, digits, or ``. _ @ -``; else AccountError."""
    if not USERNAME.match(username or ""):
        raise AccountError(
            f"user name {username!r} is not allowed: use 2 to 64 letters, digits, '.', '_', "
            "'@' or '-', starting with a letter or digit"
        )
    return username


def check_password(password: str) -> str:
    """``password`` when it is long enough; else AccountError."""
    if len(password or "") < MIN_PASSWORD:
        raise AccountError(f"the password is too short: use at least {MIN_PASSWORD} characters")
    return password


def generate_password() -> str:
    """A random password (about 120 bits) that is easy to copy from a terminal."""
    return secrets.token_urlsafe(15)


def hash_password(password: str) -> str:
    """The argon2id hash of ``password``."""
    return HASHER.hash(password)


def authenticate(wh: Warehouse, username: str, password: str) -> User | None:
    """The enabled user whose password this is, or None (unknown, wrong or disabled)."""
    user = store.get_user(wh, username) if username else None
    try:
        HASHER.verify(user.password_hash if user else _DUMMY_HASH, password or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if user is None or user.disabled:
        return None
    if HASHER.check_needs_rehash(user.password_hash):
        store.rehash(wh, username, HASHER.hash(password))
    store.touch_login(wh, username)
    return user


def add_user(wh: Warehouse, username: str, role: str, password: str, by: str) -> User:
    """Create an account; raises AccountError or UserExists."""
    role = check_role(role)
    store.insert_user(
        wh, check_username(username), role.value, hash_password(check_password(password)), by
    )
    return store.get_user(wh, username)  # type: ignore[return-value]


def set_disabled(wh: Warehouse, username: str, disabled: bool, by: str) -> None:
    """Disable (ending the user's sessions) or re-enable an account."""
    if disabled and username == by:
        raise AccountError("you cannot disable your own account; ask another admin")
    if disabled and _last_admin(wh, username):
        raise AccountError(f"{username} is the last enabled admin; add another admin first")
    store.update_user(wh, username, disabled=disabled)


def set_role(wh: Warehouse, username: str, role: str) -> None:
    """Give an account another role, ending its sessions."""
    new = check_role(role)
    if new is not Role.ADMIN and _last_admin(wh, username):
        raise AccountError(f"{username} is the last enabled admin; add another admin first")
    store.update_user(wh, username, role=new.value)


def set_password(wh: Warehouse, username: str, password: str) -> None:
    """Set a new password, ending the account's sessions."""
    store.update_user(wh, username, password_hash=hash_password(check_password(password)))


def _last_admin(wh: Warehouse, username: str) -> bool:
    admins = wh.rows("SELECT username FROM users WHERE role = 'admin' AND NOT disabled")
    return [r[0] for r in admins] == [username]


def bootstrap_admin(wh: Warehouse, password: str | None) -> str | None:
    """On a warehouse without accounts, create ``admin``; returns the password it was given.

    ``password`` (from ``PLUMBLINE_ADMIN_PASSWORD``) is used when given; otherwise a random
    one is made, for the caller to show once. Returns None when accounts exist already.
    """
    if store.count_users(wh):
        return None
    chosen = password or generate_password()
    by = "plumbline (first start)"
    add_user(wh, "admin", Role.ADMIN.value, chosen, by)
    audit_store.record(wh, audit_store.AuditEvent(by, "user.add", "ok", "admin", "role admin"))
    return chosen
