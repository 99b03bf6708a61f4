"""Run every benchmark, each in its own process, and write one markdown report.

    python benchmarks/run_all.py [--quick] [--out benchmarks/results/report-YYYY-MM-DD.md]

Each benchmark runs as a subprocess (so memory and imports do not leak from one to the next)
with arguments chosen per size, and writes its results with ``--json PATH``. Every figure in
the report is set against a baseline the benchmark measured in the same run. The report, the
JSON files and each benchmark's output (``.log``) are written as the run goes, so a failed or
interrupted run still leaves what it measured: the raw files go to a folder named like the
report without ``.md``.

The default command is sized to finish in under 30 minutes on a 2-core machine; sizes it
leaves out (the 5M-row pipeline, the Explain page at 10M rows) are named in the report with
the option that adds them. ``--quick`` runs small sizes with few repeats (3-5 minutes) to
check the wiring; its figures are not the product's, and its report is named
``report-YYYY-MM-DD-quick.md`` so it never replaces the day's report.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import psutil
from _report import SECTIONS, render

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
EVIDENTLY_PYTHON = HERE / ".venv-evidently" / "bin" / "python"
LIBRARIES = (
    "plumbline",
    "duckdb",
    "pandas",
    "numpy",
    "pyarrow",
    "scikit-learn",
    "shap",
    "scipy",
    "dash",
    "plotly",
    "psutil",
)
DEMO_MONTHS = 24  # the demo world's months: demo rows = customers x 24
MIN_CUSTOMERS = 500  # DemoSettings.customers' lower bound


@dataclass
class Job:
    """One benchmark process: its section, a file-safe key, the size label and its argv."""

    section: str
    key: str
    size: str
    script: str
    args: list[str]
    timeout_s: float = 1200.0
    meta: dict[str, Any] = field(default_factory=dict)

    def argv(self, raw: Path) -> list[str]:
        return [sys.executable, str(HERE / self.script), *self.args, "--json", str(self.json(raw))]

    def json(self, raw: Path) -> Path:
        return raw / f"{self.key}.json"

    def log(self, raw: Path) -> Path:
        return raw / f"{self.key}.log"


def _rows_label(rows: int) -> str:
    for unit, size in (("M", 1_000_000), ("k", 1_000)):
        if rows >= size:
            return f"{rows / size:g}{unit}"
    return str(rows)


def _customers(rows: int, months: int) -> int:
    return max(MIN_CUSTOMERS, round(rows / months))


def plan(args: argparse.Namespace) -> list[Job]:
    """The benchmark processes of this run, in the order they run."""
    quick = args.quick
    jobs: list[Job] = []

    # Pipeline: one demo world per size; each monthly run ingests one month and trains on the
    # training window, so the per-step rows in show what each step really touched.
    for rows in args.pipeline_rows:
        customers = _customers(rows, DEMO_MONTHS)
        runs = 1 if quick else (3 if rows <= 1_000_000 else 1)
        jobs.append(
            Job(
                "pipeline",
                f"pipeline-{_rows_label(rows)}",
                _rows_label(rows),
                "bench_pipeline.py",
                ["--customers", str(customers), "--months", str(runs)],
                timeout_s=3600,
            )
        )

    # Pages whose data grow with prediction rows: serving facts / clean rows of 24 months.
    for bench, page, repeat in (
        ("bench_overview.py", "overview", 30),
        ("bench_data_page.py", "data_page", 20),
    ):
        for rows in args.page_rows:
            big = rows >= 5_000_000
            jobs.append(
                Job(
                    "pages",
                    f"{page}-{_rows_label(rows)}",
                    _rows_label(rows),
                    bench,
                    [
                        "--customers",
                        str(_customers(rows, DEMO_MONTHS)),
                        "--periods",
                        str(DEMO_MONTHS),
                        "--repeat",
                        str(5 if quick else (8 if big else repeat)),
                    ],
                    meta={"page": page},
                )
            )
    # Explain page: a real pipeline run over 10 demo months, then its callbacks.
    for rows in args.explain_page_rows:
        jobs.append(
            Job(
                "pages",
                f"explain_page-{_rows_label(rows)}",
                _rows_label(rows),
                "bench_explain_page.py",
                [
                    "--customers",
                    str(_customers(rows, 10)),
                    "--repeat",
                    str(5 if quick else (20 if rows <= 100_000 else 10)),
                ],
                timeout_s=1800,
                meta={"page": "explain_page"},
            )
        )
    # Monitor and Model review read only aggregates (drift cells, evaluations), whose size does
    # not grow with prediction rows: one size each, the number of months / versions stated.
    jobs.append(
        Job(
            "pages",
            "monitor_page",
            "12 months" if quick else "24 months",
            "bench_monitor_page.py",
            ["--periods", "12" if quick else "24", "--repeat", "5" if quick else "20"],
            meta={"page": "monitor_page"},
        )
    )
    jobs.append(
        Job(
            "pages",
            "models_page",
            "20 versions" if quick else "200 versions",
            "bench_models_page.py",
            ["--versions", "20" if quick else "200", "--repeat", "5" if quick else "20"],
            meta={"page": "models_page"},
        )
    )

    drift_rows = ["20000"] if quick else ["100000", "1000000"]
    jobs.append(
        Job(
            "drift",
            "drift",
            ", ".join(_rows_label(int(r)) for r in drift_rows),
            "bench_drift.py",
            [
                "--rows",
                *drift_rows,
                "--repeat",
                "2" if quick else "5",
                "--evidently-repeat",
                "1" if quick else "3",
                "--evidently-python",
                str(EVIDENTLY_PYTHON),
            ],
            timeout_s=2400,
            meta={"evidently": EVIDENTLY_PYTHON.exists()},
        )
    )
    clean = ["--customers", "2000", "--months", "6", "--repeat", "1"] if quick else []
    jobs.append(
        Job(
            "clean",
            "clean",
            "",
            "bench_clean.py",
            [*(clean or ["--customers", "42000", "--months", "24", "--repeat", "3"])],
            meta={},
        )
    )
    jobs.append(
        Job(
            "explain",
            "explain",
            "",
            "bench_explain.py",
            ["--customers", "1000", "--repeats", "1", "--sample-rows", "2000"]
            if quick
            else ["--customers", "8000", "--repeats", "3"],
        )
    )
    for rows in args.serve_rows:
        customers = _customers(rows, DEMO_MONTHS)
        jobs.append(
            Job(
                "serve",
                f"serve-{_rows_label(rows)}",
                _rows_label(rows),
                "bench_serve.py",
                [
                    "--customers",
                    str(customers),
                    "--runs",
                    "1" if quick else "2",
                    "--tick",
                    "5" if quick or customers < 10_000 else "25",
                    "--timeout",
                    "600" if quick else "1200",
                ],
                timeout_s=1500,
            )
        )
    if args.only:
        jobs = [j for j in jobs if j.section in args.only]
    return jobs


def machine() -> dict[str, Any]:
    """CPU model and count, RAM, OS, Python and key library versions of this machine."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    os_name = platform.platform()
    try:
        release = Path("/etc/os-release").read_text(encoding="utf-8")
        pretty = [ln.split("=", 1)[1].strip('"') for ln in release.splitlines() if "PRETTY" in ln]
        if pretty:
            os_name = f"{pretty[0]} ({platform.platform()})"
    except OSError:
        pass
    libraries = {}
    for name in LIBRARIES:
        try:
            libraries[name] = version(name)
        except PackageNotFoundError:
            libraries[name] = "not installed"
    if EVIDENTLY_PYTHON.exists():
        code = "import importlib.metadata as m; print(m.version('evidently'), m.version('pandas'))"
        done = subprocess.run(
            [str(EVIDENTLY_PYTHON), "-c", code], capture_output=True, text=True, check=False
        )
        if done.returncode == 0:
            ev, ev_pandas = done.stdout.split()
            libraries["evidently (own venv)"] = f"{ev} (with pandas {ev_pandas})"
    else:
        libraries["evidently (own venv)"] = "missing"
    git = subprocess.run(
        ["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
        check=False,
    )
    return {
        "cpu": cpu,
        "cpus_logical": psutil.cpu_count(logical=True),
        "cpus_physical": psutil.cpu_count(logical=False),
        "cpus_usable": len(os.sched_getaffinity(0)),
        "ram_gib": psutil.virtual_memory().total / 2**30,
        "ram_available_gib": psutil.virtual_memory().available / 2**30,
        "os": os_name,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "libraries": libraries,
        "code": git.stdout.strip() or "unknown",
        "load_at_start": os.getloadavg(),
    }


def _stop(proc: subprocess.Popen) -> None:
    """SIGINT to the benchmark's group (its ``finally`` blocks stop what it started), then
    SIGKILL to the group after 30 s."""
    try:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass


def run_job(job: Job, raw: Path) -> dict[str, Any]:
    """Run one benchmark; returns its JSON, or ``{"error": ...}`` with the output's tail."""
    argv = job.argv(raw)
    job.json(raw).unlink(missing_ok=True)  # never report an earlier run's figures
    started = time.monotonic()
    with open(job.log(raw), "w", encoding="utf-8") as log:
        log.write("$ " + shlex.join(argv) + "\n")
        log.flush()
        # Its own process group, so a timeout or Ctrl-C stops the benchmark's children too.
        proc = subprocess.Popen(
            argv, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        code: int | None
        try:
            code = proc.wait(timeout=job.timeout_s)
        except subprocess.TimeoutExpired:
            _stop(proc)
            code = None
        except KeyboardInterrupt:
            _stop(proc)
            raise
    seconds = time.monotonic() - started
    command = shlex.join(["python", f"benchmarks/{job.script}", *job.args])
    result: dict[str, Any] = {"wall_s": seconds, "command": command, "exit": code}
    path = job.json(raw)
    if path.exists():
        result["data"] = json.loads(path.read_text(encoding="utf-8"))
    if code is None:
        result["error"] = f"stopped after {job.timeout_s:.0f} s (timeout)"
    elif "data" not in result:
        tail = job.log(raw).read_text(encoding="utf-8", errors="replace").splitlines()[-12:]
        result["error"] = f"exit {code}, no results; last lines:\n" + "\n".join(tail)
    elif code != 0:
        # The page benchmarks exit 1 when a callback misses its goal: the figures still count.
        result["note"] = f"exit {code} (a goal was missed; the figures are in the table)"
    return result


def _default_out(quick: bool) -> Path:
    """``results/report-YYYY-MM-DD.md``; ``-quick`` before ``.md`` for a quick run, so a quick
    check never overwrites the day's report."""
    day = datetime.now(UTC).date().isoformat()
    return HERE / "results" / f"report-{day}{'-quick' if quick else ''}.md"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks, write the report; 1 if any benchmark failed."""
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, few repeats (~5 min)")
    parser.add_argument("--out", type=Path, default=None, help="report path (.md)")
    parser.add_argument(
        "--pipeline-rows",
        type=int,
        nargs="+",
        default=None,
        metavar="N",
        help="demo rows (customers x 24 months) of the pipeline runs; default 100000 1000000 "
        "(add 5000000 for the 5M size, about 8-10 more minutes on 2 cores)",
    )
    parser.add_argument(
        "--page-rows",
        type=int,
        nargs="+",
        default=None,
        metavar="N",
        help="prediction rows for the Overview and Data pages; default 100000 1000000 10000000",
    )
    parser.add_argument(
        "--explain-page-rows",
        type=int,
        nargs="+",
        default=None,
        metavar="N",
        help="demo rows (customers x 10 months, a real pipeline run) for the Explain page; "
        "default 100000 1000000",
    )
    parser.add_argument(
        "--serve-rows",
        type=int,
        nargs="+",
        default=None,
        metavar="N",
        help="demo rows (customers x 24 months) for `plumbline serve`; default 100000 1000000",
    )
    parser.add_argument("--only", nargs="+", choices=SECTIONS, help="run only these sections")
    args = parser.parse_args(argv)
    defaults = {
        "pipeline_rows": ([24_000, 48_000], [100_000, 1_000_000]),
        "page_rows": ([50_000, 500_000], [100_000, 1_000_000, 10_000_000]),
        "explain_page_rows": ([10_000], [100_000, 1_000_000]),
        "serve_rows": ([24_000], [100_000, 1_000_000]),
    }
    for name, (quick, full) in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else full)

    out = (args.out or _default_out(args.quick)).resolve()
    if out.suffix != ".md":
        parser.error(f"--out {out}: the report is markdown, give a path ending in .md")
    raw = out.with_suffix("")
    raw.mkdir(parents=True, exist_ok=True)
    command = shlex.join(["python", "benchmarks/run_all.py", *sys.argv[1:]])
    jobs = plan(args)
    state: dict[str, Any] = {
        "command": command,
        "quick": args.quick,
        "started": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
        "finished": None,
        "machine": machine(),
        "sizes": {name: getattr(args, name) for name in defaults},
        "evidently_python": str(EVIDENTLY_PYTHON.relative_to(ROOT)),
        "evidently_present": EVIDENTLY_PYTHON.exists(),
        "raw": str(raw.relative_to(ROOT) if raw.is_relative_to(ROOT) else raw),
        "jobs": [],
        "pending": [f"{j.key}" for j in jobs],
    }
    started = time.monotonic()
    failed = 0
    for number, job in enumerate(jobs, start=1):
        sys.stdout.write(f"[{number}/{len(jobs)}] {job.key}: {job.script} {' '.join(job.args)}\n")
        sys.stdout.flush()
        result = run_job(job, raw)
        failed += "error" in result
        state["jobs"].append(
            {"section": job.section, "key": job.key, "size": job.size, **job.meta, **result}
        )
        state["pending"].remove(job.key)
        state["elapsed_s"] = time.monotonic() - started
        sys.stdout.write(
            f"    {result['wall_s']:.0f} s"
            + (f", FAILED: {result['error'].splitlines()[0]}" if "error" in result else "")
            + "\n"
        )
        out.write_text(render(state), encoding="utf-8")
    state["finished"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    state["elapsed_s"] = time.monotonic() - started
    state["load_at_end"] = os.getloadavg()
    out.write_text(render(state), encoding="utf-8")
    (raw / "run.json").write_text(json.dumps(state, indent=2, default=str) + "\n")
    sys.stdout.write(f"report: {out} ({state['elapsed_s'] / 60:.1f} min)\n")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
