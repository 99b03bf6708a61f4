"""`plumbline serve` on the full demo from an empty data dir: time to first KPIs and memory.

Starts the real command on a free port with a short demo tick, samples the RSS of the serve
process (and, separately, of its compute children) every 0.25 s, and reports: seconds until
the first champion is served, RSS after start, RSS idle after the first run, peak RSS of serve
and of serve plus children while runs go on. Baseline in the same run: the RSS of a bare
Python interpreter that imports the same libraries (dash, pandas, sklearn, duckdb), i.e. the
floor any Dash + sklearn process pays before holding any data.

    python benchmarks/bench_serve.py [--runs 4] [--tick 25]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil

MB = 1024 * 1024


def _write(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _status(port: int) -> dict | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=5) as r:
            return json.loads(r.read())
    except OSError:
        return None


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
    args = parser.parse_args()
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        (data / "plumbline.toml").write_text(f"[demo]\ntick_seconds = {args.tick}\n")
        started = time.monotonic()
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pipeline.cli",
                "serve",
                "--data-dir",
                str(data),
                "--port",
                str(port),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        serve = psutil.Process(proc.pid)
        samples: list[tuple[float, float, float]] = []  # (t, serve MB, serve+children MB)
        first_champion = first_answer = None
        idle_from = 0
        rss_after_start = None
        try:
            while time.monotonic() - started < 900:
                t = time.monotonic() - started
                try:
                    own = serve.memory_info().rss / MB
                    kids = sum(c.memory_info().rss for c in serve.children(recursive=True)) / MB
                except psutil.NoSuchProcess:
                    raise SystemExit("serve exited early") from None
                samples.append((t, own, own + kids))
                status = _status(port)
                if status and first_answer is None:
                    first_answer, rss_after_start = t, own
                if status and status.get("champion") and first_champion is None:
                    first_champion = t
                    idle_from = len(samples)
                done = [r for r in (status or {}).get("runs", []) if r["status"] == "succeeded"]
                if len(done) >= args.runs:
                    break
                time.sleep(0.25)
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
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


if __name__ == "__main__":
    main()
