"""`plumbline serve` on the full demo from an empty data dir: time to first KPIs and memory.

Starts the real command on a free port with a short demo tick, samples the RSS of the serve
process (and, separately, of its compute children) every 0.25 s, and reports: seconds until
the first champion is served, RSS after start, RSS idle after the first run, peak RSS of serve
and of serve plus children while runs go on. Baseline in the same run: the RSS of a bare
Python interpreter that imports the same libraries (dash, pandas, sklearn, duckdb), i.e. the
floor any Dash + sklearn process pays before holding any data.

``/api/status`` is read the way ``plumbline status`` reads it: with the bearer token serve
writes to ``data_dir/secrets/api_token``. The demo creates ``admin`` with a random password
on first start, so no ``PLUMBLINE_ADMIN_PASSWORD`` is needed; ``PLUMBLINE_*`` variables of the
calling shell are not passed on, so the demo's settings are only the ones written here.

    python benchmarks/bench_serve.py [--runs 4] [--tick 25] [--customers 42000] [--json PATH]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
from _jsonout import add_json_argument, write_json
from served import free_port, read_status, serve_command

MB = 1024 * 1024


def _write(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def baseline_rss() -> float:
    """RSS in MB of an interpreter that imported the same libraries and nothing else."""
    code = (
        "import dash, dash_bootstrap_components, pandas, sklearn.ensemble, duckdb, "
        "apscheduler, waitress, psutil, os; "
        "print(psutil.Process(os.getpid()).memory_info().rss)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout.strip()) / MB


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=4, help="successful runs to watch")
    parser.add_argument("--tick", type=float, default=25.0, help="demo tick in seconds")
    parser.add_argument("--customers", type=int, default=42_000, help="demo customers a month")
    parser.add_argument("--timeout", type=float, default=900.0, help="give up after seconds")
    add_json_argument(parser)
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        (data / "plumbline.toml").write_text(
            f"[demo]\ntick_seconds = {args.tick}\ncustomers = {args.customers}\n"
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("PLUMBLINE_")}
        log_path = Path(tmp) / "serve.log"
        log = open(log_path, "w", encoding="utf-8")  # noqa: SIM115 - closed in the finally below
        started = time.monotonic()
        proc = subprocess.Popen(
            serve_command(data, port),
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        serve = psutil.Process(proc.pid)
        samples: list[tuple[float, float, float]] = []  # (t, serve MB, serve+children MB)
        first_champion = first_answer = None
        idle_from = 0
        rss_after_start = None
        try:
            while time.monotonic() - started < args.timeout:
                t = time.monotonic() - started
                try:
                    own = serve.memory_info().rss / MB
                    kids = sum(c.memory_info().rss for c in serve.children(recursive=True)) / MB
                except psutil.NoSuchProcess:
                    tail = log_path.read_text(encoding="utf-8", errors="replace")[-3000:]
                    raise SystemExit(f"serve exited early; its output ends:\n{tail}") from None
                samples.append((t, own, own + kids))
                status = read_status(port, data)
                if status and first_answer is None:
                    first_answer, rss_after_start = t, own
                if status and status.get("champion") and first_champion is None:
                    first_champion = t
                    idle_from = len(samples)
                done = [r for r in (status or {}).get("runs", []) if r["status"] == "succeeded"]
                # Two more seconds of samples after the first champion: "after first run".
                if len(done) >= args.runs and first_champion and len(samples) >= idle_from + 8:
                    break
                time.sleep(0.25)
            else:
                raise SystemExit(f"fewer than {args.runs} runs succeeded in {args.timeout:.0f} s")
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
            log.close()
    base = baseline_rss()
    after_first = [s[1] for s in samples[idle_from : idle_from + 8]]
    _write(
        f"first HTTP answer after {first_answer:.1f} s; first champion served after "
        f"{first_champion:.1f} s (goal: KPIs within 90 s)"
    )
    _write(f"RSS serve after start      {rss_after_start:7.0f} MB")
    _write(f"RSS serve after first run  {min(after_first):7.0f} MB")
    _write(f"RSS serve peak ({args.runs} runs)    {max(s[1] for s in samples):7.0f} MB")
    _write(f"RSS serve+children peak    {max(s[2] for s in samples):7.0f} MB")
    _write(
        f"baseline: bare interpreter with the same imports {base:.0f} MB; "
        f"serve peak / baseline = {max(s[1] for s in samples) / base:.2f}"
    )
    write_json(
        args.json,
        {
            "bench": "serve",
            "customers": args.customers,
            "demo_rows": args.customers * 24,
            "runs": args.runs,
            "tick_s": args.tick,
            "first_answer_s": first_answer,
            "first_champion_s": first_champion,
            "rss_after_start_mb": rss_after_start,
            "rss_after_first_run_mb": min(after_first),
            "peak_serve_mb": max(s[1] for s in samples),
            "peak_with_children_mb": max(s[2] for s in samples),
            "baseline_mb": base,
            "samples": len(samples),
        },
    )


if __name__ == "__main__":
    main()
