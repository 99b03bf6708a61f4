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
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import pandas as pd

from pipeline.warehouse.migrations import MIGRATIONS

log = logging.getLogger(__name__)
T = TypeVar("T")

# What a write changes, so that a cache of answers read from the warehouse knows what to forget
# (app/answer_cache.py). A few tables change often without changing any result: a run's start,
# steps, cancel request and failed or cancelled end ("progress"), raw batches arriving ("intake"),
# alerts raised or handled between publications, the audit trail and accounts. A write to them
# alone says its scope; "data" is everything else (results, promotions, a successful run's
# publication, any write that touches several kinds of table) and is the default. A read notes the
# scopes of the tables its SQL names (see :meth:`Warehouse.record_reads`), so an answer can be kept
# until what it read changes.
TABLE_SCOPES = {
    "runs": "progress",
    "run_steps": "progress",
    "raw_batches": "intake",
    "alerts": "alerts",
    "audit_log": "audit",
    "users": "accounts",
}
SCOPES = frozenset({"data", *TABLE_SCOPES.values()})
_SCOPED_TABLE = re.compile(r"\b(" + "|".join(TABLE_SCOPES) + r")\b", re.IGNORECASE)

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
        self._generations = dict.fromkeys(SCOPES, 0)
        self._reads = threading.local()  # .scopes: the set record_reads fills, or None
        self._kept: dict[Hashable, tuple[tuple[int, ...], Any]] = {}  # see kept()
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
    def generation(self, scope: str = "data") -> int:
        """How many write transactions of ``scope`` (see :data:`SCOPES`) this process has
        committed: an answer read from that part of the warehouse stays true while this number
        stays the same (this process is the only writer)."""
        return self._generations[scope]

    def generations(self) -> dict[str, int]:
        """:meth:`generation` of every scope, as of now."""
        return dict(self._generations)

    def record_reads(self) -> set[str]:
        """From now on, note in the returned set the scopes (:data:`TABLE_SCOPES`) of the tables
        this thread's reads name, until :meth:`stop_recording`. "data" is always read."""
        scopes = {"data"}
        self._reads.scopes = scopes
        return scopes

    def stop_recording(self) -> None:
        """End this thread's :meth:`record_reads`."""
        self._reads.scopes = None

    def _note(self, sql: str, declared: Iterable[str] | None = None) -> None:
        scopes = getattr(self._reads, "scopes", None)
        if scopes is None:
            return
        if declared is not None:
            scopes.update(declared)
        else:
            scopes.update(TABLE_SCOPES[name.lower()] for name in _SCOPED_TABLE.findall(sql))

    def kept(self, key: Hashable, scopes: Iterable[str], read: Callable[[], T]) -> T:
        """``read()``, computed again only once ``scopes`` ("data" always counts) were written
        since it was computed for ``key``. For a read that many answers share and that does
        not depend on their filters (the Monitor's time line of events, what the Runs page
        polls): after a write the first answer reads it, the others find it. The value is
        shared between threads: callers must not change it. Noted as a read of ``scopes`` (see
        :meth:`record_reads`).
        A read-only warehouse reads every time: another process writes, unseen by its counts.
        """
        names = sorted({"data", *scopes})
        self._note("", names)
        if self.read_only:
            return read()
        # The generations are taken before reading: a write committing meanwhile moves them
        # on, so the next call reads again.
        generations = tuple(self._generations[name] for name in names)
        found = self._kept.get(key)
        if found is not None and found[0] == generations:
            return found[1]
        value = read()
        self._kept[key] = (generations, value)
        return value

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor for this thread; cheap to make, close it when done."""
        return self._con.cursor()

    def read(
        self,
        sql: str,
        params: Sequence[Any] | dict[str, Any] | None = None,
        *,
        scopes: Iterable[str] | None = None,
    ) -> pd.DataFrame:
        """Run one parameterised SELECT and return its rows as a DataFrame.

        ``scopes`` names what the result depends on when the tables the SQL names say more
        (e.g. it joins ``runs`` only for runs that have published results); by default, the
        scopes of those tables (:meth:`record_reads`).
        """
        self._note(sql, scopes)
        cur = self._con.cursor()
        try:
            return cur.execute(sql, params or []).df()
        finally:
            cur.close()

    def rows(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> list[tuple]:
        """Run one parameterised SELECT and return plain tuples."""
        self._note(sql)
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

        # DESCRIBE reads one table's catalog entry (~0.5 ms); information_schema.columns
        # scans every column of every table (~2 ms), and dashboards ask on every answer, so
        # the answer is kept until the next "data" write (tables change only in those).
        def describe() -> dict[str, str]:
            try:
                found = self.rows(f"DESCRIBE {quote_ident(table)}")
            except duckdb.CatalogException:
                return {}
            return {row[0]: row[1] for row in found}

        return dict(self.kept(("columns", table), (), describe))

    # -- writing ---------------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(
        self, cur: duckdb.DuckDBPyConnection | None = None, *, scope: str = "data"
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        """One atomic write: commit on success, roll back on any error.

        Pass ``cur`` to write on a cursor that holds TEMP staging tables (a run's cursor);
        otherwise a fresh cursor is used and closed afterwards. ``scope`` says what the write
        changes (:data:`SCOPES`); its :meth:`generation` counts the commits.
        """
        if scope not in SCOPES:
            raise ValueError(f"unknown write scope {scope!r}; one of {sorted(SCOPES)}")
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
            self._generations[scope] += 1  # under the write lock: one writer at a time
            if own:
                cur.close()

    def execute(
        self,
        sql: str,
        params: Sequence[Any] | dict[str, Any] | None = None,
        *,
        scope: str = "data",
    ) -> None:
        """One write statement in its own transaction (of ``scope``: see :data:`SCOPES`)."""
        with self.transaction(scope=scope) as cur:
            cur.execute(sql, params or [])

    def size_bytes(self) -> int:
        """Size of the DuckDB file plus its WAL."""
        total = 0
        for p in (self.path, self.path.with_name(self.path.name + ".wal")):
            if p.exists():
                total += p.stat().st_size
        return total
