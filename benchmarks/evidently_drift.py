"""Evidently's DataDriftPreset on the benchmark's Parquet files: the other side of bench_drift.py.

Runs in its own virtual environment (Evidently is not a Plumbline dependency, and Evidently
0.7.x does not import with pandas 3)::

    python3.11 -m venv benchmarks/.venv-evidently
    benchmarks/.venv-evidently/bin/pip install -r benchmarks/evidently-requirements.txt

``benchmarks/bench_drift.py`` starts it as a child process and reads the one JSON line it
prints: wall and CPU seconds per run of ``Report([DataDriftPreset()]).run(current,
reference)`` (building the two ``Dataset`` objects included; reading Parquet into pandas is
not), this process's peak RSS, and per column the method, threshold, score and verdict
Evidently chose by default.

Usage: benchmarks/.venv-evidently/bin/python benchmarks/evidently_drift.py
       --reference ref.parquet --current cur.parquet [--repeat 1] [--baseline]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

from _process import cpu_seconds, peak_memory  # benchmarks/ is on the path when run as a script


def _verdicts(snapshot: Any) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """Per column ``{method, threshold, score, drifted}`` and the dataset-level count and share.

    ValueDrift reports only the score; the verdict follows Evidently's stattests: distances
    drift when ``score >= threshold``, p-value tests when ``score < threshold``.
    """
    columns: dict[str, dict[str, Any]] = {}
    dataset: dict[str, Any] = {}
    for metric in snapshot.dict()["metrics"]:
        config = metric["config"]
        if config["type"].endswith("DriftedColumnsCount"):
            dataset = {**metric["value"], "drift_share": config["drift_share"]}
            continue
        if not config["type"].endswith("ValueDrift"):
            continue
        method, threshold, score = config["method"], config["threshold"], metric["value"]
        is_test = "p_value" in method
        columns[config["column"]] = {
            "method": method,
            "threshold": threshold,
            "score": score,
            "drifted": bool(score < threshold if is_test else score >= threshold),
        }
    return columns, dataset


def main() -> None:
    """Parse the arguments, run the preset, print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", required=True)
    parser.add_argument("--current", required=True)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--baseline", action="store_true", help="import only, then report RSS")
    args = parser.parse_args()

    import evidently
    import pandas as pd
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    if args.baseline:
        sys.stdout.write(json.dumps({"seconds": [], **peak_memory()}) + "\n")
        return
    reference = pd.read_parquet(args.reference)
    current = pd.read_parquet(args.current)
    numeric = [c for c in reference.columns if pd.api.types.is_float_dtype(reference[c])]
    categorical = [c for c in reference.columns if c not in numeric]
    definition = DataDefinition(numerical_columns=numeric, categorical_columns=categorical)
    seconds, cpu_used, snapshot = [], [], None
    for _ in range(args.repeat):
        cpu, started = cpu_seconds(), time.perf_counter()
        snapshot = Report([DataDriftPreset()]).run(
            Dataset.from_pandas(current, data_definition=definition),
            Dataset.from_pandas(reference, data_definition=definition),
        )
        seconds.append(time.perf_counter() - started)
        cpu_used.append(cpu_seconds() - cpu)
    columns, dataset = _verdicts(snapshot)
    result = {
        "seconds": seconds,
        "cpu_seconds": cpu_used,
        **peak_memory(),
        "rows": [len(reference), len(current)],
        "columns": columns,
        "dataset": dataset,
        "versions": {"evidently": evidently.__version__, "pandas": pd.__version__},
        "load_1min": os.getloadavg()[0],
    }
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
