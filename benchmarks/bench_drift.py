"""Drift of 25 columns at 100k and 1M rows per side: Plumbline's DuckDB counts against Evidently.

The data are ``benchmarks/_drift_data.py`` (20 numeric and 5 categorical columns, six planted
shifts, one a mean shift of 0.25 standard deviations; the same generator as the detection test),
written once per size to two Parquet files and loaded into a DuckDB file as ``clean_rows`` with
a ``_period`` column per window. Then, each in a fresh child process:

* ``plumbline``: the DuckDB file opened read-only, ``build_reference`` on the reference period
  and ``drift_by_period`` on the current one with the default methods, ``--repeat`` times (the
  reported time is the median; the first run reads the file from the OS cache). The data are
  already in the warehouse, as in the monitor step.
* ``evidently``: ``benchmarks/evidently_drift.py`` run by the Evidently venv's Python (Evidently
  0.7 needs pandas 2), reading the same Parquet files into pandas and timing
  ``Report([DataDriftPreset()]).run(current, reference)``.
* a ``baseline`` child for each that only imports the libraries: its peak RSS is the floor.

Peak memory is each child's own ``ru_maxrss``; the parent imports only the standard library
(Linux carries a process's RSS high-water mark across fork and exec). Results go to
``benchmarks/results/drift.json``.

Usage: python benchmarks/bench_drift.py [--rows 100000 1000000] [--repeat 5]
       [--evidently-repeat 3] [--evidently-python benchmarks/.venv-evidently/bin/python]
       [--json PATH (same as --out)]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from _process import cpu_seconds, peak_memory  # benchmarks/ is on the path when run as a script

HERE = Path(__file__).resolve().parent
GOAL_SPEEDUP, GOAL_MEMORY_SHARE = 50.0, 0.25
REFERENCE, CURRENT = date(2025, 1, 1), date(2025, 2, 1)
VENV = HERE / ".venv-evidently"
SETUP_HINT = (
    "python3.11 -m venv benchmarks/.venv-evidently && "
    "benchmarks/.venv-evidently/bin/pip install -r benchmarks/evidently-requirements.txt"
)


def _write(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


# -- children --------------------------------------------------------------------------------
def _child_setup(data: Path, rows: int, seed: int) -> dict[str, Any]:
    """Write the two windows to Parquet and load both into ``warehouse.duckdb``."""
    import _drift_data
    import duckdb
    import pyarrow as pa
    import pyarrow.parquet as pq

    for name, shifted in (("reference", False), ("current", True)):
        window = _drift_data.window(rows, shifted, seed)
        table = pa.table(
            {
                k: pa.array(
                    v, type=pa.string() if v.dtype == object else pa.float64(), from_pandas=True
                )
                for k, v in window.items()
            }
        )
        pq.write_table(table, data / f"{name}.parquet")
        del window, table
    con = duckdb.connect(str(data / "warehouse.duckdb"))
    con.execute(
        "CREATE TABLE clean_rows AS "
        "SELECT ?::DATE AS _period, * FROM read_parquet(?) "
        "UNION ALL SELECT ?::DATE AS _period, * FROM read_parquet(?)",
        [REFERENCE, str(data / "reference.parquet"), CURRENT, str(data / "current.parquet")],
    )
    con.close()
    sizes = {p.name: p.stat().st_size for p in data.iterdir()}
    return {
        "bytes": sizes,
        "numeric": _drift_data.numeric_columns(),
        "categorical": _drift_data.categorical_columns(),
        "planted": _drift_data.PLANTED,
    }


def _child_plumbline(data: Path, repeat: int, segments: list[str]) -> dict[str, Any]:
    import _drift_data
    import duckdb

    from pipeline.monitoring import reference_store
    from pipeline.monitoring.window import build_reference, drift_by_period

    numeric, categorical = _drift_data.numeric_columns(), _drift_data.categorical_columns()
    con = duckdb.connect(str(data / "warehouse.duckdb"), read_only=True)
    runs, cells = [], []
    for _ in range(repeat):
        load, cpu, started = os.getloadavg()[0], cpu_seconds(), time.perf_counter()
        reference = build_reference(con, numeric, categorical, [REFERENCE], segments)
        built = time.perf_counter()
        cells = drift_by_period(con, reference, [CURRENT])
        done = time.perf_counter()
        # As the monitor step runs a batch: the champion's reference read back from its JSON.
        stored = reference_store.to_json(reference)
        loaded = time.perf_counter()
        drift_by_period(con, reference_store.from_json(stored), [CURRENT])
        batch = time.perf_counter() - loaded
        runs.append(
            {
                "seconds": done - started,
                "reference_s": built - started,
                "drift_s": done - built,
                "per_batch_s": batch,
                "cpu_s": cpu_seconds() - cpu,
                "load_1min": load,
            }
        )
    whole = [c for c in cells if c.segment_column == "(all)"]
    return {
        "runs": runs,
        **peak_memory(),
        "cells": len(cells),
        "columns": {
            c.column: {
                "method": c.result.method,
                "statistic": c.result.statistic,
                "threshold": c.result.threshold,
                "drifted": c.result.drifted,
            }
            for c in whole
        },
        "threads": con.execute("SELECT current_setting('threads')").fetchone()[0],
        "duckdb": duckdb.__version__,
    }


def _child_baseline(data: Path, repeat: int, segments: list[str]) -> dict[str, Any]:
    import _drift_data  # noqa: F401
    import duckdb  # noqa: F401

    import pipeline.monitoring.window  # noqa: F401

    return peak_memory()


CHILDREN = {"plumbline": _child_plumbline, "baseline": _child_baseline}


# -- parent ----------------------------------------------------------------------------------
def _spawn(argv: list[str], what: str) -> dict[str, Any]:
    """Run a child; returns the JSON object on the last line of its output."""
    done = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=HERE.parent)
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _self(mode: str, data: Path, *extra: str) -> list[str]:
    return [sys.executable, __file__, "--child", mode, "--data", str(data), *extra]


def _evidently(python: Path, data: Path, repeat: int, baseline: bool = False) -> dict[str, Any]:
    argv = [
        str(python),
        str(HERE / "evidently_drift.py"),
        "--reference",
        str(data / "reference.parquet"),
        "--current",
        str(data / "current.parquet"),
        "--repeat",
        str(repeat),
    ]
    return _spawn(argv + (["--baseline"] if baseline else []), "evidently_drift.py")


def _verdicts(columns: dict[str, dict[str, Any]], planted: dict[str, str]) -> dict[str, Any]:
    flagged = {c for c, v in columns.items() if v["drifted"]}
    return {
        "flagged": sorted(flagged),
        "missed": sorted(set(planted) - flagged),
        "false_alarms": sorted(flagged - set(planted)),
        "subtle_shift": columns.get("n00"),
    }


def _measure(args: argparse.Namespace, rows: int, work: Path) -> dict[str, Any]:
    data = work / f"rows_{rows}"
    data.mkdir()
    _write(f"\n{rows:,} rows per window: generating and loading ...")
    setup = _spawn(_self("setup", data, "--rows", str(rows), "--seed", str(args.seed)), "setup")
    planted = setup["planted"]
    result: dict[str, Any] = {"rows_per_window": rows, "files_bytes": setup["bytes"]}
    base = _spawn(_self("baseline", data), "baseline")
    _write(f"  plumbline: {args.repeat} runs ...")
    plumb = _spawn(
        _self("plumbline", data, "--repeat", str(args.repeat), "--segments"), "plumbline"
    )
    seconds = [r["seconds"] for r in plumb["runs"]]
    result["plumbline"] = {
        "median_s": statistics.median(seconds),
        "min_s": min(seconds),
        "max_s": max(seconds),
        "median_reference_s": statistics.median(r["reference_s"] for r in plumb["runs"]),
        "median_drift_s": statistics.median(r["drift_s"] for r in plumb["runs"]),
        "median_per_batch_s": statistics.median(r["per_batch_s"] for r in plumb["runs"]),
        "median_cpu_s": statistics.median(r["cpu_s"] for r in plumb["runs"]),
        "peak_mb": plumb["ru_maxrss_mb"],
        "baseline_mb": base["ru_maxrss_mb"],
        "threads": plumb["threads"],
        "duckdb": plumb["duckdb"],
        "runs": plumb["runs"],
        "verdicts": _verdicts(plumb["columns"], planted),
        "columns": plumb["columns"],
    }
    if args.segments:
        seg = _spawn(
            _self("plumbline", data, "--repeat", "3", "--segments", *args.segments), "segments"
        )
        result["plumbline_with_segments"] = {
            "segments": args.segments,
            "cells": seg["cells"],
            "median_s": statistics.median(r["seconds"] for r in seg["runs"]),
            "peak_mb": seg["ru_maxrss_mb"],
        }
    python = Path(args.evidently_python)
    if not python.exists():
        _write(f"  evidently: no interpreter at {python}; create it with:\n    {SETUP_HINT}")
        result["evidently"] = None
        return result
    repeat = args.evidently_repeat if rows <= 200_000 else 1
    _write(f"  evidently: {repeat} run(s) ...")
    ev_base = _evidently(python, data, 1, baseline=True)
    ev = _evidently(python, data, repeat)
    result["evidently"] = {
        "median_s": statistics.median(ev["seconds"]),
        "runs_s": ev["seconds"],
        "median_cpu_s": statistics.median(ev["cpu_seconds"]),
        "peak_mb": ev["ru_maxrss_mb"],
        "baseline_mb": ev_base["ru_maxrss_mb"],
        "versions": ev["versions"],
        "dataset": ev["dataset"],
        "verdicts": _verdicts(ev["columns"], planted),
        "columns": ev["columns"],
        "load_1min": ev["load_1min"],
    }
    result["speedup"] = result["evidently"]["median_s"] / result["plumbline"]["median_s"]
    result["cpu_ratio"] = result["evidently"]["median_cpu_s"] / result["plumbline"]["median_cpu_s"]
    result["speedup_drift_only"] = (
        result["evidently"]["median_s"] / result["plumbline"]["median_drift_s"]
    )
    result["speedup_per_batch"] = (
        result["evidently"]["median_s"] / result["plumbline"]["median_per_batch_s"]
    )
    result["memory_share"] = result["plumbline"]["peak_mb"] / result["evidently"]["peak_mb"]
    return result


def _print(results: list[dict[str, Any]]) -> None:
    _write("\nDrift of 25 columns (20 numeric, 5 categorical), reference vs current window")
    _write(
        f"{'rows/window':>12}{'plumbline s':>13}{'evidently s':>13}{'speedup':>9}"
        f"{'plumbline MB':>14}{'evidently MB':>14}{'memory':>8}"
    )
    for r in results:
        p, e = r["plumbline"], r["evidently"]
        if e is None:
            _write(
                f"{r['rows_per_window']:>12,}{p['median_s']:>13.2f}{'-':>13}{'-':>9}"
                f"{p['peak_mb']:>14.0f}{'-':>14}{'-':>8}"
            )
            continue
        _write(
            f"{r['rows_per_window']:>12,}{p['median_s']:>13.2f}{e['median_s']:>13.1f}"
            f"{r['speedup']:>8.0f}x{p['peak_mb']:>14.0f}{e['peak_mb']:>14.0f}"
            f"{r['memory_share']:>8.0%}"
        )
    for r in results:
        p, e = r["plumbline"], r["evidently"]
        _write(
            f"\n{r['rows_per_window']:,} rows: plumbline reference {p['median_reference_s']:.2f}"
            f" s + drift {p['median_drift_s']:.2f} s, {p['median_cpu_s']:.2f} CPU s; imports "
            f"alone {p['baseline_mb']:.0f} MB"
        )
        if e is not None:
            _write(
                f"  evidently {e['median_cpu_s']:.1f} CPU s ({r['cpu_ratio']:.0f}x Plumbline's), "
                f"imports alone {e['baseline_mb']:.0f} MB; per batch as the monitor step runs "
                f"it (the champion's reference stored once): {p['median_per_batch_s']:.2f} s, "
                f"{r['speedup_per_batch']:.0f}x faster"
            )
        if "plumbline_with_segments" in r:
            s = r["plumbline_with_segments"]
            _write(f"  with segments {s['segments']}: {s['median_s']:.2f} s, {s['cells']} cells")
        for name, side in (("plumbline", p), ("evidently", e)):
            if side is None:
                continue
            v = side["verdicts"]
            subtle = v["subtle_shift"]
            _write(
                f"  {name}: flagged {v['flagged']}; missed {v['missed'] or 'none'}; false alarms "
                f"{v['false_alarms'] or 'none'}; 0.25-std shift: {subtle['method']} "
                f"{subtle['score' if 'score' in subtle else 'statistic']:.3f}"
            )
        if e is not None:
            memory = r["memory_share"] <= GOAL_MEMORY_SHARE
            for what, speedup in (
                ("reference and batch counted", r["speedup"]),
                ("per batch, reference stored", r["speedup_per_batch"]),
            ):
                met = speedup >= GOAL_SPEEDUP and memory
                _write(
                    f"  goal ({GOAL_SPEEDUP:.0f}x faster, <= {GOAL_MEMORY_SHARE:.0%} memory), "
                    f"{what}: {'met' if met else 'NOT met'} ({speedup:.0f}x)"
                )


def main() -> None:
    """Parse the arguments; run a child, or the whole benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--evidently-repeat", type=int, default=3, help="at <= 200k rows")
    parser.add_argument("--evidently-python", default=str(VENV / "bin" / "python"))
    parser.add_argument("--segments", nargs="*", default=["c0"], help="also time with these")
    parser.add_argument("--seed", type=int, default=20250601)
    parser.add_argument(
        "--out", "--json", default=str(HERE / "results" / "drift.json"), help="results JSON"
    )
    parser.add_argument("--child", choices=["setup", *CHILDREN], help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        sys.path[:0] = [str(HERE), str(HERE.parent)]
        data = Path(args.data)
        if args.child == "setup":
            out = _child_setup(data, args.rows[0], args.seed)
        else:
            out = CHILDREN[args.child](data, args.repeat, args.segments)
        sys.stdout.write(json.dumps(out) + "\n")
        return

    results = []
    with tempfile.TemporaryDirectory(prefix="bench_drift_") as tmp:
        for rows in args.rows:
            results.append(_measure(args, rows, Path(tmp)))
    _print(results)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "results": results,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "goal": {"speedup": GOAL_SPEEDUP, "memory_share": GOAL_MEMORY_SHARE},
    }
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    _write(f"\nwritten {out}")


if __name__ == "__main__":
    main()
