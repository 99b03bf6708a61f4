"""Machine-readable output shared by the benchmarks: ``--json PATH`` and its summaries.

Standard library only, so any benchmark (and the Evidently venv) can import it. ``run_all.py``
passes ``--json PATH`` to each benchmark and renders the files it finds.
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any


def add_json_argument(parser: argparse.ArgumentParser, dest: str = "json") -> None:
    """Add ``--json PATH``: also write the results as JSON to PATH (what run_all.py reads)."""
    parser.add_argument(
        "--json",
        dest=dest,
        type=Path,
        metavar="PATH",
        default=None,
        help="also write the results as JSON to PATH (read by benchmarks/run_all.py)",
    )


def spread(values: Sequence[float]) -> dict[str, Any]:
    """``{"median", "min", "max", "p95", "n"}`` of ``values`` (p95 needs 2+ values)."""
    values = list(values)
    out: dict[str, Any] = {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "n": len(values),
    }
    out["p95"] = (
        statistics.quantiles(values, n=20, method="inclusive")[-1] if len(values) > 1 else values[0]
    )
    return out


def write_json(path: Path | None, payload: dict[str, Any]) -> None:
    """Write ``payload`` to ``path`` (parents created); nothing when ``path`` is None."""
    if path is None:
        return
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n", encoding="utf-8")


def page_payload(
    bench: str,
    read: Callable[[str], object],
    timed: Callable[[Callable[[], object], int], list[float]],
    rows: int,
    args: argparse.Namespace,
    results: dict,
    scan: tuple[str, str],
) -> dict[str, Any]:
    """The ``--json`` payload of a page benchmark: every callback's ms and two baselines timed
    now, in ms: a bare ``SELECT 1`` through ``read`` and ``scan`` (name, one grouped scan)."""
    baselines = {"SELECT 1 via Warehouse.read": "SELECT 1", scan[0]: scan[1]}
    base = {}
    for name, sql in baselines.items():
        read(sql)
        base[name] = spread(timed(lambda sql=sql: read(sql), args.repeat))
    return {
        "bench": bench,
        "rows": rows,
        "customers": args.customers,
        "periods": args.periods,
        "repeat": args.repeat,
        "unit": "ms",
        "baselines": base,
        "callbacks": results,
    }
