"""A window reference as JSON, and the key it is cached under.

The reference of a champion's training window does not change while it is champion, so the
monitor step counts it once and keeps it (``monitor_references``); each later batch then only
counts itself. The key covers everything the counts depend on: the model version, the periods,
the columns, the segments, the bins and the methods, plus the number of rows in the window, so
data added to a reference month later makes a new key rather than a stale answer.
"""

from __future__ import annotations

import hashlib
import json
import math
from datetime import date
from typing import Any

from pipeline.monitoring.drift import DriftSpec, Histogram
from pipeline.monitoring.window import ColumnReference, WindowReference


def _number(x: float | None) -> Any:
    if x is None:
        return None
    return x if math.isfinite(x) else ("inf" if x > 0 else "-inf")


def _float(x: Any) -> float | None:
    if x is None:
        return None
    return {"inf": math.inf, "-inf": -math.inf}.get(x, x) if isinstance(x, str) else float(x)


def _histogram(h: Histogram) -> dict[str, Any]:
    return {
        "counts": list(h.counts),
        "missing": h.missing,
        "minimum": h.minimum,
        "maximum": h.maximum,
        "std": h.std,
        "sums": None if h.sums is None else list(h.sums),
    }


def to_json(ref: WindowReference) -> str:
    """The reference as one JSON text."""
    columns = []
    for c in ref.columns.values():
        columns.append(
            {
                "column": c.column,
                "kind": c.kind,
                "edges": None if c.spec.edges is None else [_number(e) for e in c.spec.edges],
                "method": c.spec.method,
                "threshold": c.spec.threshold,
                "categories": list(c.categories),
                "histograms": [[k[0], k[1], _histogram(h)] for k, h in c.histograms.items()],
            }
        )
    return json.dumps(
        {
            "periods": [p.isoformat() for p in ref.periods],
            "segments": list(ref.segments),
            "rows": ref.rows,
            "source": ref.source,
            "thresholds": ref.thresholds,
            "sampled_every": ref.sampled_every,
            "columns": columns,
        }
    )


def from_json(text: str, source: str | None = None) -> WindowReference:
    """The reference stored by :func:`to_json` (counted over ``source`` from now on, if given)."""
    data = json.loads(text)
    columns = {}
    for c in data["columns"]:
        edges = None if c["edges"] is None else tuple(_float(e) for e in c["edges"])
        spec = DriftSpec(c["column"], c["kind"], edges, c["method"], c["threshold"])
        hists = {(seg, value): Histogram(**h) for seg, value, h in c["histograms"]}
        columns[c["column"]] = ColumnReference(
            c["column"], c["kind"], spec, hists, list(c["categories"])
        )
    return WindowReference(
        periods=[date.fromisoformat(p) for p in data["periods"]],
        segments=list(data["segments"]),
        columns=columns,
        rows=int(data["rows"]),
        source=source or data["source"],
        thresholds=dict(data["thresholds"]),
        sampled_every=int(data["sampled_every"]),
    )


def cache_key(**parts: Any) -> str:
    """A stable key for the reference counted with these settings."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()
