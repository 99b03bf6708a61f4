"""What every open Runs page polls for, read again only after the warehouse changed.

Each open Runs page asks every two seconds, and the answer cache cannot keep that answer (the
live card counts seconds). The runs, the active run's steps and the page's version change only
when this process writes (a run's step, its end, a publication; it is the warehouse's only
writer), so they are read once per change, for everyone polling. For the poll only: a cached
answer must read through the warehouse, which notes what it read (see app.answer_cache).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from pipeline.warehouse import Warehouse

T = TypeVar("T")


class Snapshot(Generic[T]):
    """``read(wh)``, kept while ``wh``'s write generations stay the same. The value is shared
    between requests: callers must not change it."""

    def __init__(self, read: Callable[[Warehouse], T]) -> None:
        self._read = read
        self._kept: tuple[Warehouse, tuple[tuple[str, int], ...], T] | None = None

    def __call__(self, wh: Warehouse) -> T:
        # The generations are taken before reading: a write committing meanwhile moves them on,
        # and the next call reads again.
        generations = tuple(sorted(wh.generations().items()))
        kept = self._kept
        if kept is not None and kept[0] is wh and kept[1] == generations:
            return kept[2]
        value = self._read(wh)
        self._kept = (wh, generations, value)
        return value
