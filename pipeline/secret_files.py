"""Random secrets kept in the data dir's owner-only secrets folder, never in the warehouse."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def owner_secret(secrets_dir: Path, name: str) -> str:
    """The secret in ``secrets_dir/name``: 32 random bytes as hex, made on first use.

    The folder is created 0700 and the file 0600. Two callers racing to make it both get the
    one that was written first.
    """
    path = secrets_dir / name
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    secrets_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    value = secrets.token_hex(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(value)
    return value
