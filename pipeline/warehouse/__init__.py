"""The warehouse: the only code that opens DuckDB. All SQL lives in this package."""

from pipeline.warehouse.connection import Warehouse, quote_ident, utcnow
from pipeline.warehouse.lock import DataDirInUse, DataDirLock, read_owner

__all__ = ["DataDirInUse", "DataDirLock", "Warehouse", "quote_ident", "read_owner", "utcnow"]
