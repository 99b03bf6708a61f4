"""PII protection: the salt for hashing PII columns, kept outside the warehouse."""

from __future__ import annotations

from pathlib import Path

from pipeline.secret_files import owner_secret

SALT_FILE = "pii_salt"


def pii_salt(secrets_dir: Path) -> str:
    """The data dir's PII salt, created on first use with owner-only permissions.

    It lives beside the warehouse, never in it, so a copy of the warehouse alone cannot be
    used to test guesses of the original values against the hashes.
    """
    return owner_secret(secrets_dir, SALT_FILE)
