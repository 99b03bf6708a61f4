"""PII protection: the salt for hashing PII columns, kept outside the warehouse."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

SALT_FILE = "pii_salt"


def pii_salt(secrets_dir: Path) -> str:
    """The data dir's PII salt, created on first use with owner-only permissions.

    It lives beside the warehouse, never in it, so a copy of the warehouse alone cannot be
    used to test guesses of the original values against the hashes.
    """
    path = secrets_dir / SALT_FILE
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    secrets_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    salt = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(salt)
    return salt
