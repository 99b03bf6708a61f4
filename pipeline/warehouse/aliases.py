"""Model aliases (``champion``, ``challenger``) and their history.

An alias points at one version. A version that loses its alias is recorded as ``archived`` in
the history. Every change carries its reason in words and, for people, who made it and why.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from pipeline.warehouse.connection import utcnow

POINTERS = ("champion", "challenger")


@dataclass(frozen=True)
class AliasChange:
    """Give ``version`` the ``alias`` (or archive it), for ``reason``."""

    alias: str  # champion | challenger | archived
    version: int
    reason: str
    actor: str | None = None  # the person, or None for the pipeline
    comment: str | None = None

    def __post_init__(self) -> None:
        if self.alias not in (*POINTERS, "archived"):
            raise ValueError(f"unknown alias {self.alias!r}")


def apply(cur: duckdb.DuckDBPyConnection, changes: list[AliasChange], run_id: int | None) -> None:
    """Apply ``changes`` in order on ``cur`` (inside the caller's transaction)."""
    for change in changes:
        now = utcnow()
        # A version holds at most one pointer: moving it drops the other one.
        cur.execute("DELETE FROM model_aliases WHERE version = ?", [change.version])
        if change.alias in POINTERS:
            cur.execute(
                "INSERT OR REPLACE INTO model_aliases VALUES (?, ?, ?, ?)",
                [change.alias, change.version, now, change.reason],
            )
        cur.execute(
            "INSERT INTO alias_history (alias, version, set_at, reason, actor, comment, run_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                change.alias,
                change.version,
                now,
                change.reason,
                change.actor,
                change.comment,
                run_id,
            ],
        )


def promotion_changes(
    version: int,
    current: dict[str, int],
    reason: str,
    actor: str | None = None,
    comment: str | None = None,
) -> list[AliasChange]:
    """Changes that make ``version`` champion; the old champion is archived.

    ``current`` maps alias to version as the registry holds them now.
    """
    changes = []
    old = current.get("champion")
    if old is not None and old != version:
        changes.append(
            AliasChange("archived", old, f"replaced by v{version} as champion", actor, comment)
        )
    changes.append(AliasChange("champion", version, reason, actor, comment))
    return changes


def challenger_changes(version: int, current: dict[str, int], reason: str) -> list[AliasChange]:
    """Changes that make ``version`` challenger; a previous challenger is archived."""
    changes = []
    old = current.get("challenger")
    if old is not None and old != version:
        changes.append(AliasChange("archived", old, f"superseded by v{version} as challenger"))
    changes.append(AliasChange("challenger", version, reason))
    return changes
