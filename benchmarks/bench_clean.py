"""Validate and clean the demo's ~1M customer rows: Plumbline's DuckDB path against plain pandas.

Both implementations do the flow's validate and clean steps over the same 24 monthly files
(``customers_YYYY-MM.csv``, ~42k rows each at 42,000 customers) with the same data contract:

* ``duckdb``: the Plumbline functions called exactly as ``pipeline/flow.py`` calls them, on an
  in-memory ``duckdb.connect()``: the files staged (``stage_batches``: files with one header are
  read together, ~32 MB per staged table), the first one profiled and ``infer_contract``, every
  batch scanned for PII suspects (``scan_staged``), then each staged table cleaned, all its
  batches at once (``clean_data_batches``), and dropped, and ``finish_clean`` leaving
  ``stage_clean`` and ``stage_quarantine``;
* ``pandas``: ``benchmarks/_clean_pandas.py``, the same steps in vectorised pandas (the first
  file profiled, each file's first rows scanned for PII suspects, each file cleaned), ending
  with the cleaned and the quarantined rows as DataFrames and the suspects.

Each run is a fresh child process, so peak memory is that process's ``ru_maxrss``; a third
child that only imports the same libraries gives the interpreter + imports baseline. The time
is the validate + clean work inside the child (no interpreter start, no imports). The runs
alternate their order. Afterwards the outputs of the first runs are compared row by row, and
when the DuckDB path is not 5x faster its SQL is timed statement by statement.

The parent imports only the standard library: Linux carries a process's RSS high-water mark
across fork and exec, so a child's ``ru_maxrss`` is never below its parent's RSS at spawn. Every
library is therefore imported inside the child functions, and the demo build, the contract and
the comparison run in children too.

Usage: python benchmarks/bench_clean.py [--customers 42000] [--months 24] [--repeat 5]
       [--seed 42] [--sql-profile auto|always|never] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from _jsonout import add_json_argument, spread, write_json
from _process import cpu_seconds, peak_memory  # benchmarks/ is on the path when run as a script

IMPLEMENTATIONS = ("duckdb", "pandas")
GOAL_SPEEDUP = 5.0
RULES = (
    "malformed_line",
    "missing_key",
    "invalid_time",
    "invalid_number",
    "exact_duplicate",
    "duplicate_key",
)
REPORT_FIELDS = (
    "rows_in",
    "rows_accepted",
    "rows_quarantined",
    "duplicates_removed",
    "text_normalised",
    "nulls_found",
    "outliers_nulled",
)


def _write(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


# -- children --------------------------------------------------------------------------------
def _libraries() -> SimpleNamespace:
    """Import what every measured child uses; the baseline child imports this and stops."""
    import _clean_pandas
    import duckdb
    import pandas

    from pipeline.contract import Contract, infer_contract
    from pipeline.settings import DatasetSettings
    from pipeline.warehouse import cleaning, pii_scan

    return SimpleNamespace(
        duckdb=duckdb,
        pandas=pandas,
        clean_pandas=_clean_pandas,
        Contract=Contract,
        infer_contract=infer_contract,
        DatasetSettings=DatasetSettings,
        cleaning=cleaning,
        pii_scan=pii_scan,
    )


class _Clock:
    """Wall and CPU seconds (user + system, every thread) of a block, and the load before it."""

    def __enter__(self) -> _Clock:
        self.load = os.getloadavg()[0]
        self._cpu = cpu_seconds()
        self._wall = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self._wall
        self.cpu_seconds = cpu_seconds() - self._cpu

    def result(self) -> dict[str, float]:
        return {"seconds": self.seconds, "cpu_s": self.cpu_seconds, "load_1min": self.load}


def _customer_files(data: Path) -> list[Path]:
    return sorted((data / "demo").glob("customers_*.csv"))


class _TimedCursor:
    """A DuckDB cursor that adds each statement's time (execute and fetch) to ``times``."""

    def __init__(self, cur: Any, times: dict[str, list[float]]):
        self._cur = cur
        self._times = times
        self._last = ""

    def _add(self, started: float) -> None:
        entry = self._times.setdefault(self._last, [0, 0.0])
        entry[1] += time.perf_counter() - started

    def execute(self, sql: str, parameters: Any = None) -> _TimedCursor:
        # Statements that differ only in a batch number or a column name count as one.
        self._last = re.sub(r'"[^"]*"', '"…"', re.sub(r"\d+", "N", " ".join(sql.split())))
        self._times.setdefault(self._last, [0, 0.0])[0] += 1
        started = time.perf_counter()
        if parameters is None:
            self._cur.execute(sql)
        else:
            self._cur.execute(sql, parameters)
        self._add(started)
        return self

    def fetchone(self) -> Any:
        started = time.perf_counter()
        row = self._cur.fetchone()
        self._add(started)
        return row

    def fetchall(self) -> list[Any]:
        started = time.perf_counter()
        rows = self._cur.fetchall()
        self._add(started)
        return rows


def _duckdb_path(lib: SimpleNamespace, cur: Any, paths: list[Path]) -> tuple[dict[str, int], Any]:
    """The flow's ``_validate`` then ``_clean`` over ``paths``; returns the totals, contract.

    Mirrors ``Flow._validate`` and ``Flow._clean`` with default settings: every file staged
    (``stage_batches``: files with one header read together, configured PII not loaded), the
    first one profiled, each batch's PII suspects scanned, then each staged table cleaned
    (``clean_data_batches``, all its batches at once) and dropped.
    """
    cleaning, dataset = lib.cleaning, lib.DatasetSettings()
    cleaning.ensure_staging(cur)
    keys = {dataset.entity_id, dataset.event_time, dataset.target}
    unread = {p.lower() for p in dataset.pii} - {k.lower() for k in keys}
    staged, failed = cleaning.stage_batches(
        cur,
        [(bid, str(path), path.suffix) for bid, path in enumerate(paths, start=1)],
        skip=unread,
    )
    if failed:
        raise RuntimeError(f"files rejected while staging: {failed}")
    contract = None
    configured = {p.lower() for p in dataset.pii} | keys
    for unit in staged:
        if contract is None:
            first = unit.batches[0]
            measured = [c for c in unit.columns if c not in keys]
            profiles = cleaning.profile(cur, measured, unit.table, first.file)
            contract = lib.infer_contract(profiles, dataset)
        lib.pii_scan.scan_staged(cur, unit, {c for c in unit.columns if c.lower() in configured})
    totals = dict.fromkeys(REPORT_FIELDS, 0)
    columns = {b.batch_id: unit.columns for unit in staged for b in unit.batches}
    for unit in cleaning.staged_tables(cur, columns):
        results = cleaning.clean_data_batches(cur, unit, contract)
        unit.drop(cur)
        for bid, report in results.items():
            if isinstance(report, cleaning.BatchRejected):
                raise RuntimeError(f"batch {bid} rejected: {report}")
            if report.rows_in != report.rows_accepted + report.rows_quarantined:
                raise RuntimeError(f"batch {bid}: rows in != accepted + quarantined: {report}")
            for key in REPORT_FIELDS:
                totals[key] += getattr(report, key)
    cleaning.finish_clean(cur)
    return totals, contract


def _child_setup(data: Path, seed: int, customers: int, months: int) -> dict[str, Any]:
    """Build the demo files and Plumbline's contract from the first customers file."""
    from pipeline.demo import build_demo_files

    lib = _libraries()
    build_demo_files(data / "demo", seed, customers, months)
    paths = _customer_files(data)
    cur = lib.duckdb.connect()
    columns = lib.cleaning.stage_file(cur, str(paths[0]), ".csv")
    contract = lib.infer_contract(lib.cleaning.profile(cur, columns), lib.DatasetSettings())
    (data / "contract.json").write_text(contract.to_json(), encoding="utf-8")
    return {
        "files": len(paths),
        "bytes": sum(p.stat().st_size for p in paths),
        "code": str(Path(lib.cleaning.__file__).parents[2]),
    }


def _child_baseline(data: Path, dump: bool) -> dict[str, Any]:
    _libraries()
    return {"seconds": 0.0, "cpu_s": 0.0, "load_1min": os.getloadavg()[0], **peak_memory()}


def _child_duckdb(data: Path, dump: bool) -> dict[str, Any]:
    lib = _libraries()
    paths = _customer_files(data)
    with _Clock() as clock:
        con = lib.duckdb.connect()
        cur = con.cursor()
        totals, contract = _duckdb_path(lib, cur, paths)
    peak = peak_memory()
    rules = dict(
        cur.execute("SELECT rule, count(*) FROM stage_quarantine GROUP BY rule").fetchall()
    )
    clean_rows = cur.execute("SELECT count(*) FROM stage_clean").fetchone()[0]
    if dump:
        cur.execute(f"COPY stage_clean TO '{data / 'duckdb_clean.parquet'}'")
        cur.execute(
            "COPY (SELECT batch_id, row_number, rule FROM stage_quarantine) "
            f"TO '{data / 'duckdb_quarantine.parquet'}'"
        )
    plumbline = lib.Contract.from_json((data / "contract.json").read_text(encoding="utf-8"))
    return {
        **clock.result(),
        **peak,
        "totals": totals,
        "rules": rules,
        "output_rows": clean_rows,
        "contract_matches": contract == plumbline,
        "pii_suspects": sorted(
            [bid, col, kind]
            for bid, col, kind in cur.execute(
                "SELECT batch_id, column_name, kind FROM stage_pii"
            ).fetchall()
        ),
        "threads": cur.execute("SELECT current_setting('threads')").fetchone()[0],
        "memory_limit": cur.execute("SELECT current_setting('memory_limit')").fetchone()[0],
    }


def _child_pandas(data: Path, dump: bool) -> dict[str, Any]:
    lib = _libraries()
    paths = _customer_files(data)
    contract = lib.Contract.from_json((data / "contract.json").read_text(encoding="utf-8"))
    with _Clock() as clock:
        clean, quarantine, totals, inferred, suspects = lib.clean_pandas.run(
            paths, lib.DatasetSettings(), contract
        )
    peak = peak_memory()
    if dump:
        clean.to_parquet(data / "pandas_clean.parquet")
        quarantine[["batch_id", "row_number", "rule"]].to_parquet(
            data / "pandas_quarantine.parquet"
        )
    return {
        **clock.result(),
        **peak,
        "totals": totals,
        "rules": {k: int(v) for k, v in quarantine["rule"].value_counts().items()},
        "output_rows": len(clean),
        "contract_matches": inferred == contract,
        "contract_diff": _contract_diff(contract, inferred),
        "pii_suspects": sorted([bid, col, kind] for bid, col, kind in suspects),
    }


def _contract_diff(plumbline: Any, pandas: Any) -> dict[str, Any]:
    """Contract fields where pandas' profile would have inferred something else."""
    a, b = json.loads(plumbline.to_json()), json.loads(pandas.to_json())
    return {k: {"plumbline": a[k], "pandas": b[k]} for k in a if a[k] != b.get(k)}


def _child_verify(data: Path, dump: bool) -> dict[str, Any]:
    """Row-level differences between the outputs the first runs dumped."""
    import duckdb

    con = duckdb.connect()
    files = {
        (kind, side): f"'{data / f'{side}_{kind}.parquet'}'"
        for kind in ("clean", "quarantine")
        for side in IMPLEMENTATIONS
    }
    columns = [r[0] for r in con.execute(f"DESCRIBE {files['clean', 'duckdb']}").fetchall()]
    pandas_columns = [r[0] for r in con.execute(f"DESCRIBE {files['clean', 'pandas']}").fetchall()]
    # pandas has no DATE dtype: its month start is a timestamp.
    select = {
        "clean": ", ".join(f'CAST("{c}" AS DATE)' if c == "_period" else f'"{c}"' for c in columns),
        "quarantine": "batch_id, row_number, rule",
    }
    found: dict[str, Any] = {"column_mismatch": sorted(set(columns) ^ set(pandas_columns))}
    for kind in ("clean", "quarantine"):
        for side, other in (IMPLEMENTATIONS, IMPLEMENTATIONS[::-1]):
            found[f"{kind}_only_in_{side}"] = con.execute(
                f"SELECT count(*) FROM (SELECT {select[kind]} FROM {files[kind, side]} "
                f"EXCEPT ALL SELECT {select[kind]} FROM {files[kind, other]})"
            ).fetchone()[0]
    found["quarantine_examples"] = con.execute(
        " UNION ALL ".join(
            f"(SELECT '{side}' AS side, * FROM (SELECT batch_id, row_number, rule FROM "
            f"{files['quarantine', side]} EXCEPT ALL SELECT batch_id, row_number, rule FROM "
            f"{files['quarantine', other]}) LIMIT 3)"
            for side, other in (IMPLEMENTATIONS, IMPLEMENTATIONS[::-1])
        )
    ).fetchall()
    return found


def _child_profile(data: Path, dump: bool) -> dict[str, Any]:
    """The DuckDB path once more with every statement timed."""
    lib = _libraries()
    times: dict[str, list[float]] = {}
    started = time.perf_counter()
    cur = _TimedCursor(lib.duckdb.connect().cursor(), times)
    _duckdb_path(lib, cur, _customer_files(data))
    total = time.perf_counter() - started
    ranked = sorted(times.items(), key=lambda kv: -kv[1][1])
    return {"seconds": total, "statements": [[sql, n, s] for sql, (n, s) in ranked]}


CHILDREN: dict[str, Callable[[Path, bool], dict[str, Any]]] = {
    "baseline": _child_baseline,
    "duckdb": _child_duckdb,
    "pandas": _child_pandas,
    "verify": _child_verify,
    "profile": _child_profile,
}


# -- parent ----------------------------------------------------------------------------------
def _spawn(mode: str, data: Path, *extra: str) -> dict[str, Any]:
    """Run this script as a fresh child in ``mode``; returns the JSON it printed."""
    done = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--data", str(data), *extra],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"child {mode!r} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _summary(runs: list[dict[str, Any]], rows: int, baseline_mb: float) -> dict[str, float]:
    seconds = [r["seconds"] for r in runs]
    peak = statistics.median(r["ru_maxrss_mb"] for r in runs)
    median = statistics.median(seconds)
    return {
        "median_s": median,
        "min_s": min(seconds),
        "max_s": max(seconds),
        "rows_per_s": rows / median,
        "peak_mb": peak,
        "peak_max_mb": max(r["ru_maxrss_mb"] for r in runs),
        "above_baseline_mb": peak - baseline_mb,
        "vmhwm_mb": statistics.median(r["vmhwm_mb"] for r in runs),
        "median_cpu_s": statistics.median(r["cpu_s"] for r in runs),
        "max_load_1min": max(r["load_1min"] for r in runs),
    }


def _print_results(
    stats: dict[str, dict[str, float]], baseline: dict[str, float], repeat: int
) -> None:
    _write(f"\nvalidate + clean, {repeat} runs each (median, min-max), one fresh process per run")
    _write(
        f"{'implementation':<16}{'median s':>10}{'min-max s':>16}{'rows/s':>12}{'CPU s':>8}"
        f"{'peak RSS MB':>13}{'above imports MB':>18}"
    )
    for name in IMPLEMENTATIONS:
        s = stats[name]
        _write(
            f"{name:<16}{s['median_s']:>10.2f}{s['min_s']:>8.2f}-{s['max_s']:<7.2f}"
            f"{s['rows_per_s']:>12,.0f}{s['median_cpu_s']:>8.1f}{s['peak_mb']:>13.0f}"
            f"{s['above_baseline_mb']:>18.0f}"
        )
    _write(
        f"{'imports only':<16}{'':>10}{'':>16}{'':>12}{'':>8}{baseline['peak_mb']:>13.0f}{0:>18.0f}"
    )
    _write(
        "(CPU s: user + system seconds of the child, all threads; highest 1-minute load "
        "average at a run's start: "
        + ", ".join(f"{n} {stats[n]['max_load_1min']:.1f}" for n in IMPLEMENTATIONS)
        + ")"
    )
    d, p = stats["duckdb"], stats["pandas"]
    speedup = p["median_s"] / d["median_s"]
    memory = p["above_baseline_mb"] / d["above_baseline_mb"]
    _write(
        f"ratio pandas/duckdb: time {speedup:.2f}x, peak RSS {p['peak_mb'] / d['peak_mb']:.2f}x "
        f"(above imports {memory:.2f}x)"
    )
    faster = "met" if speedup >= GOAL_SPEEDUP else "NOT met"
    _write(
        f"goal: duckdb >= {GOAL_SPEEDUP:.0f}x faster: {faster}; lower peak memory: "
        f"{'met' if memory > 1 else 'NOT met'}"
    )
    drift = [
        f"{n} ru_maxrss {stats[n]['peak_mb']:.0f} vs VmHWM {stats[n]['vmhwm_mb']:.0f} MB"
        for n in IMPLEMENTATIONS
        if abs(stats[n]["peak_mb"] - stats[n]["vmhwm_mb"]) > 5
    ]
    if drift:
        _write(
            "warning: ru_maxrss disagrees with VmHWM (parent RSS leaking in?): " + "; ".join(drift)
        )


def _print_equivalence(first: dict[str, dict[str, Any]], rows: dict[str, Any]) -> list[str]:
    """Print the counts of both paths side by side; returns the lines that differ."""
    _write("\nequivalence (first run of each)")
    _write(f"{'count':<22}{'duckdb':>10}{'pandas':>10}{'diff':>8}")
    differ = []
    lines = [(k, first["duckdb"]["totals"][k], first["pandas"]["totals"][k]) for k in REPORT_FIELDS]
    lines.insert(3, ("", None, None))
    for pos, rule in enumerate(RULES, start=4):
        lines.insert(
            pos,
            (
                f"  {rule}",
                first["duckdb"]["rules"].get(rule, 0),
                first["pandas"]["rules"].get(rule, 0),
            ),
        )
    for label, d, p in lines:
        if d is None:
            continue
        mark = "" if d == p else "  <-"
        if d != p:
            differ.append(label.strip())
        _write(f"{label:<22}{d:>10,}{p:>10,}{p - d:>+8,}{mark}")
    d_rows, p_rows = first["duckdb"]["output_rows"], first["pandas"]["output_rows"]
    _write(f"{'output rows':<22}{d_rows:>10,}{p_rows:>10,}{p_rows - d_rows:>+8,}")
    _write(
        "row level: clean rows only in duckdb {clean_only_in_duckdb}, only in pandas "
        "{clean_only_in_pandas}; quarantined (batch, row, rule) only in duckdb "
        "{quarantine_only_in_duckdb}, only in pandas {quarantine_only_in_pandas}".format(**rows)
    )
    if rows["column_mismatch"]:
        _write(f"columns in one output only: {rows['column_mismatch']}")
    for example in rows["quarantine_examples"]:
        _write(f"  quarantine difference: {example}")
    _write(
        "contract: DuckDB child inferred Plumbline's contract: "
        f"{first['duckdb']['contract_matches']}; pandas profile infers the same: "
        f"{first['pandas']['contract_matches']}"
    )
    pii = {side: first[side]["pii_suspects"] for side in IMPLEMENTATIONS}
    _write(
        f"PII suspects (batch, column, kind): duckdb {len(pii['duckdb'])}, pandas "
        f"{len(pii['pandas'])}, the same: {pii['duckdb'] == pii['pandas']}"
    )
    if pii["duckdb"] != pii["pandas"]:
        differ.append("pii_suspects")
    if first["pandas"]["contract_diff"]:
        _write(
            f"  contract fields pandas would infer differently: {first['pandas']['contract_diff']}"
        )
    return differ


def _print_profile(profile: dict[str, Any], top: int = 15) -> None:
    total = profile["seconds"]
    _write(f"\nDuckDB path, time per SQL statement (one profiled run, {total:.1f} s)")
    _write(f"{'total s':>8}{'share':>7}{'calls':>6}{'ms/call':>9}  statement")
    for sql, calls, seconds in profile["statements"][:top]:
        _write(
            f"{seconds:>8.2f}{seconds / total:>7.1%}{calls:>6}{1000 * seconds / calls:>9.1f}  "
            f"{sql[:150]}"
        )
    timed = sum(s for _, _, s in profile["statements"])
    _write(f"all {len(profile['statements'])} statements: {timed:.1f} s of {total:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=42_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--sql-profile", choices=("auto", "always", "never"), default="auto")
    parser.add_argument("--child", choices=[*CHILDREN, "setup"], help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--dump", action="store_true", help=argparse.SUPPRESS)
    add_json_argument(parser)
    args = parser.parse_args()
    if args.child == "setup":
        result = _child_setup(args.data, args.seed, args.customers, args.months)
        _write(json.dumps(result))
        return
    if args.child:
        _write(json.dumps(CHILDREN[args.child](args.data, args.dump), default=str))
        return

    cpus = os.cpu_count()
    _write(
        f"machine: {cpus} CPUs ({len(os.sched_getaffinity(0))} usable), {platform.platform()}, "
        f"Python {platform.python_version()}, duckdb {version('duckdb')}, pandas "
        f"{version('pandas')}, numpy {version('numpy')}, pyarrow {version('pyarrow')}"
    )
    with tempfile.TemporaryDirectory(prefix="bench_clean_") as tmp:
        data = Path(tmp)
        started = time.perf_counter()
        setup = _spawn(
            "setup",
            data,
            "--customers",
            str(args.customers),
            "--months",
            str(args.months),
            "--seed",
            str(args.seed),
        )
        _write(
            f"data: {setup['files']} demo customers files, {setup['bytes'] / 1e6:.0f} MB "
            f"(customers={args.customers}, months={args.months}, seed={args.seed}), built in "
            f"{time.perf_counter() - started:.1f} s"
        )
        _write(f"code: the pipeline package in {setup['code']}")
        runs: dict[str, list[dict[str, Any]]] = {
            name: [] for name in [*IMPLEMENTATIONS, "baseline"]
        }
        for rep in range(args.repeat):
            order = IMPLEMENTATIONS if rep % 2 == 0 else IMPLEMENTATIONS[::-1]
            for name in ("baseline", *order):
                result = _spawn(name, data, *(["--dump"] if rep == 0 else []))
                runs[name].append(result)
            _write(
                f"run {rep + 1}/{args.repeat} ({' then '.join(order)}): "
                + ", ".join(
                    f"{n} {runs[n][-1]['seconds']:.2f} s (CPU {runs[n][-1]['cpu_s']:.1f} s, "
                    f"load {runs[n][-1]['load_1min']:.1f}) {runs[n][-1]['ru_maxrss_mb']:.0f} MB"
                    for n in order
                )
            )
        rows = runs["duckdb"][0]["totals"]["rows_in"]
        threads = runs["duckdb"][0]["threads"]
        _write(
            f"threads: DuckDB default threads = {threads} (memory_limit "
            f"{runs['duckdb'][0]['memory_limit']}); pandas single-threaded (C CSV parser, "
            f"numpy and pyarrow string kernels); both processes see all {cpus} CPUs"
        )
        _write(f"rows validated and cleaned per run: {rows:,}")
        base = {"peak_mb": statistics.median(r["ru_maxrss_mb"] for r in runs["baseline"])}
        stats = {n: _summary(runs[n], rows, base["peak_mb"]) for n in IMPLEMENTATIONS}
        _print_results(stats, base, args.repeat)
        first = {n: runs[n][0] for n in IMPLEMENTATIONS}
        differ = _print_equivalence(first, _spawn("verify", data))
        if differ:
            _write(f"counts differ: {', '.join(differ)}")
        speedup = stats["pandas"]["median_s"] / stats["duckdb"]["median_s"]
        if args.sql_profile == "always" or (args.sql_profile == "auto" and speedup < GOAL_SPEEDUP):
            profile = _spawn("profile", data)
            _print_profile(profile)
    _write(
        json.dumps(
            {
                "rows": rows,
                "baseline_mb": base["peak_mb"],
                **{n: stats[n] for n in IMPLEMENTATIONS},
                "speedup_pandas_over_duckdb": speedup,
                "counts_differ": differ,
            }
        )
    )
    write_json(
        args.json,
        {
            "bench": "clean",
            "customers": args.customers,
            "months": args.months,
            "repeat": args.repeat,
            "rows": rows,
            "baseline_mb": base["peak_mb"],
            "seconds": {n: spread([r["seconds"] for r in runs[n]]) for n in IMPLEMENTATIONS},
            "peak_mb": {n: spread([r["ru_maxrss_mb"] for r in runs[n]]) for n in IMPLEMENTATIONS},
            "summary": stats,
            "speedup_pandas_over_duckdb": speedup,
            "counts_differ": differ,
        },
    )


if __name__ == "__main__":
    main()
