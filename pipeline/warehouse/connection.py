"""The one DuckDB connection of the owner process.

Readers (web threads) each take a cursor of the shared connection: DuckDB's MVCC gives every
statement a consistent snapshot, so a reader sees a run either not at all or whole. Writers go
through :meth:`Warehouse.transaction`, serialised by a lock: one writer at a time.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from pipeline.warehouse.migrations import MIGRATIONS

log = logging.getLogger(__name__)

_SAFE_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_ ]{0,62}$")


def quote_ident(name: str) -> str:
    """Quote a column or table name that has already been checked against an allow-list.

    Raises ``ValueError`` for anything that is not a plain identifier, so user text can never
    be spliced into SQL even if a caller forgets the allow-list.
    """
    if not _SAFE_IDENT.fullmatch(name):
        raise ValueError(f"refusing unsafe SQL identifier {name!r}")
    return '"' + name + '"'


def utcnow() -> datetime:
    """Naive UTC now, as stored in TIMESTAMP columns."""
    return datetime.now(UTC).replace(tzinfo=None)


class Warehouse:
    """Owns the DuckDB file; the only place in Plumbline that opens DuckDB."""

    def __init__(self, path: Path | str, *, read_only: bool = False, threads: int | None = None):
        self.path = Path(path)
        self.read_only = read_only
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        config: dict[str, Any] = {}
        if threads:
            config["threads"] = threads
        self._con = duckdb.connect(str(self.path), read_only=read_only, config=config)
        self._write_lock = threading.RLock()
        if not read_only:
            self.migrate()

    # -- lifecycle -------------------------------------------------------------------------
    def close(self) -> None:
        """Checkpoint and close the file."""
        with contextlib.suppress(duckdb.Error):
            if not self.read_only:
                self._con.execute("CHECKPOINT")
        self._con.close()

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def migrate(self) -> list[int]:
        """Apply pending migrations; returns the versions applied now."""
        with self.transaction() as cur:
            cur.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                "version INTEGER PRIMARY KEY, description VARCHAR, applied_at TIMESTAMP)"
            )
            done = {r[0] for r in cur.execute("SELECT version FROM schema_migrations").fetchall()}
            applied = []
            for version, description, statements in MIGRATIONS:
                if version in done:
                    continue
                for statement in statements:
                    cur.execute(statement)
                cur.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?, ?)",
                    [version, description, utcnow()],
                )
                applied.append(version)
        if applied:
            log.info("warehouse %s migrated to version %s", self.path, applied[-1])
        return applied

    # -- reading ---------------------------------------------------------------------------
    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor for this thread; cheap to make, close it when done."""
        return self._con.cursor()

    def read(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> pd.DataFrame:
        """Run one parameterised SELECT and return its rows as a DataFrame."""
        cur = self._con.cursor()
        try:
            return cur.execute(sql, params or []).df()
        finally:
            cur.close()

    def rows(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> list[tuple]:
        """Run one parameterised SELECT and return plain tuples."""
        cur = self._con.cursor()
        try:
            return cur.execute(sql, params or []).fetchall()
        finally:
            cur.close()

    def scalar(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> Any:
        """The first column of the first row, or None."""
        found = self.rows(sql, params)
        return found[0][0] if found else None

    def table_exists(self, name: str) -> bool:
        """Whether a table (or view) of that name exists in the main schema."""
        return bool(
            self.scalar(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
            )
        )

    def columns(self, table: str) -> dict[str, str]:
        """Column name -> DuckDB type of a table, in table order; empty when it is missing."""
        found = self.rows(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = ? ORDER BY ordinal_position",
            [table],
        )
        return dict(found)

    # -- writing ---------------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(
        self, cur: duckdb.DuckDBPyConnection | None = None
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        """One atomic write: commit on success, roll back on any error.

        Pass ``cur`` to write on a cursor that holds TEMP staging tables (a run's cursor);
        otherwise a fresh cursor is used and closed afterwards.
        """
        own = cur is None
        with self._write_lock:
            cur = self._con.cursor() if own else cur
            cur.execute("BEGIN TRANSACTION")
            try:
                yield cur
            except BaseException:
                cur.execute("ROLLBACK")
                if own:
                    cur.close()
                raise
            cur.execute("COMMIT")
            if own:
                cur.close()

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> None:
        """One write statement in its own transaction."""
        with self.transaction() as cur:
            cur.execute(sql, params or [])

    def size_bytes(self) -> int:
        """Size of the DuckDB file plus its WAL."""
        total = 0
        for p in (self.path, self.path.with_name(self.path.name + ".wal")):
            if p.exists():
                total += p.stat().st_size
        return total
