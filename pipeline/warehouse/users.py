"""Accounts in the warehouse: user name, role, argon2 hash, and whether they may log in.

``auth_version`` grows whenever a change must end the user's open sessions (disabled, new
password, new role); a session cookie carries the version it was issued with.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from pipeline.warehouse.connection import Warehouse, utcnow


@dataclass(frozen=True)
class User:
    """One account as stored (the hash never leaves the accounts module)."""

    username: str
    role: str
    password_hash: str
    disabled: bool
    auth_version: int
    last_login_at: datetime | None = None


class UserExists(ValueError):
    """A user of that name exists already."""


class NoSuchUser(LookupError):
    """No user of that name."""


def count_users(wh: Warehouse) -> int:
    """How many accounts exist (disabled ones included)."""
    return int(wh.scalar("SELECT count(*) FROM users"))


def get_user(wh: Warehouse, username: str) -> User | None:
    """The account called ``username``, or None."""
    rows = wh.rows(
        "SELECT username, role, password_hash, disabled, auth_version, last_login_at "
        "FROM users WHERE username = ?",
        [username],
    )
    return User(*rows[0]) if rows else None


def list_users(wh: Warehouse) -> pd.DataFrame:
    """Columns: username, role, disabled, created_at, created_by, updated_at, last_login_at."""
    return wh.read(
        "SELECT username, role, disabled, created_at, created_by, updated_at, last_login_at "
        "FROM users ORDER BY username"
    )


def insert_user(wh: Warehouse, username: str, role: str, password_hash: str, by: str) -> None:
    """Create an account; raises :class:`UserExists` when the name is taken."""
    now = utcnow()
    with wh.transaction(scope="accounts") as cur:
        if cur.execute("SELECT 1 FROM users WHERE username = ?", [username]).fetchone():
            raise UserExists(f"a user called {username!r} exists already")
        cur.execute(
            "INSERT INTO users (username, role, password_hash, disabled, auth_version, "
            "created_at, created_by, updated_at) VALUES (?, ?, ?, FALSE, 1, ?, ?, ?)",
            [username, role, password_hash, now, by, now],
        )


def update_user(
    wh: Warehouse,
    username: str,
    *,
    role: str | None = None,
    password_hash: str | None = None,
    disabled: bool | None = None,
) -> None:
    """Change an account and end its open sessions; raises :class:`NoSuchUser`."""
    sets, params = ["auth_version = auth_version + 1", "updated_at = ?"], [utcnow()]
    for column, value in (("role", role), ("password_hash", password_hash), ("disabled", disabled)):
        if value is not None:
            sets.append(f"{column} = ?")
            params.append(value)
    with wh.transaction(scope="accounts") as cur:
        if not cur.execute("SELECT 1 FROM users WHERE username = ?", [username]).fetchone():
            raise NoSuchUser(f"there is no user called {username!r}")
        cur.execute(f"UPDATE users SET {', '.join(sets)} WHERE username = ?", [*params, username])


def rehash(wh: Warehouse, username: str, password_hash: str) -> None:
    """Store a stronger hash of the same password (sessions stay valid)."""
    wh.execute(
        "UPDATE users SET password_hash = ? WHERE username = ?",
        [password_hash, username],
        scope="accounts",
    )


def touch_login(wh: Warehouse, username: str) -> None:
    """Remember the time of a successful login."""
    wh.execute(
        "UPDATE users SET last_login_at = ? WHERE username = ?",
        [utcnow(), username],
        scope="accounts",
    )
