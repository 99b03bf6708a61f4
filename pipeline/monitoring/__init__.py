"""Monitoring: drift and performance of the scored population against a reference window.

The names every monitoring table and sentence shares live here once.
"""

from __future__ import annotations

from datetime import date

#: ``segment_column`` and ``segment_value`` of a result about the whole batch.
ALL = "(all)"
#: ``drift_results.column_name`` of prediction (score) drift.
SCORE = "__score__"


def where(segment_column: str, segment_value: str) -> str:
    """ " in region South", or "" for the whole batch: appended to a sentence."""
    return "" if segment_column == ALL else f" in {segment_column} {segment_value}"


def month(period: date) -> str:
    """A period as people read it in alerts and decisions: "2025-06"."""
    return f"{period:%Y-%m}"
