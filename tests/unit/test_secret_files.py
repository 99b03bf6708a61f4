"""Secrets kept in the data dir: made once, owner-only, the same on every read."""

from __future__ import annotations

import stat
from pathlib import Path

from pipeline.secret_files import owner_secret


def test_a_secret_is_made_once_owner_only_and_read_back(tmp_path: Path) -> None:
    folder = tmp_path / "secrets"
    first = owner_secret(folder, "key")
    assert len(bytes.fromhex(first)) == 32
    assert owner_secret(folder, "key") == first
    assert owner_secret(folder, "other") != first
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "key").stat().st_mode) == 0o600
