"""The markdown report of ``run_all.py``: one table per section, the machine, the command.

Pure rendering: ``render(state)`` turns what ``run_all.py`` collected (each benchmark's
``--json`` output plus wall time and exit status) into markdown. Every figure sits next to the
baseline its benchmark measured in the same run, and the ratio between them.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable
from typing import Any

from _jsonout import spread

SECTIONS = ("pipeline", "pages", "drift", "clean", "explain", "serve")
TITLES = {
    "pipeline": "Pipeline: one monthly batch, per step",
    "pages": "Pages: callback server time",
    "drift": "Drift: Plumbline against Evidently",
    "clean": "Validate + clean: Plumbline (DuckDB) against pandas",
    "explain": "Explanations: SHAP global against shap called directly; local latency",
    "serve": "`plumbline serve`: memory",
}
PAGES = {
    "overview": "Overview",
    "monitor_page": "Monitor",
    "models_page": "Model review",
    "explain_page": "Explain",
    "data_page": "Data",
}
PAGE_ORDER = ("overview", "monitor_page", "models_page", "explain_page", "data_page")


def _num(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "–"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:,.1f}"
    return f"{value:,.{digits}f}"


def _span(s: dict[str, Any], scale: float = 1.0) -> str:
    """``median (min–max)`` of a ``spread`` dict."""
    med, lo, hi = (s[k] * scale for k in ("median", "min", "max"))
    if s.get("n", 2) == 1:
        return _num(med)
    return f"{_num(med)} ({_num(lo)}–{_num(hi)})"


def _ratio(a: float | None, b: float | None) -> str:
    if a is None or not b:
        return "–"
    return f"{a / b:,.1f}×" if a / b >= 10 else f"{a / b:,.2f}×"


def _table(head: list[str], rows: Iterable[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines


def _jobs(state: dict[str, Any], section: str) -> list[dict[str, Any]]:
    return [j for j in state["jobs"] if j["section"] == section]


def _ok(jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [j for j in jobs if "data" in j]


# -- sections --------------------------------------------------------------------------------
STEP_UNITS = {"ingest": "files", "monitor": "drift cells"}  # other steps count rows


def _rows_in(step: str, count: float | None) -> tuple[str, float | None]:
    """The rows-in cell and the row count to divide by (None when it is not rows)."""
    if count is None:
        return "–", None
    unit = STEP_UNITS.get(step)
    if unit:
        return f"{count:,.0f} {unit}", None
    return f"{count:,.0f}", count or None


def _runs(n: int) -> str:
    return f"{n} run" if n == 1 else f"{n} runs"


def _pipeline_rows(d: dict[str, Any], first: dict[str, Any], is_first: bool) -> list[list[str]]:
    size = f"{d['demo_rows']:,} ({d['customers']:,} customers)"
    base = d["baseline"]["median"]
    growth_of = (lambda a, b: "1×") if is_first else _ratio
    rows = []
    for step, s in d["steps"].items():
        counts = [c for c in s.get("runs_rows_in", []) if c is not None]
        label = step
        seconds = s
        if step == "train" and counts and not all(counts):
            trained = [t for t, c in zip(s["runs_s"], s["runs_rows_in"], strict=True) if c]
            label = f"train (retrained in {len(trained)} of {_runs(len(counts))}; those runs)"
            if trained:
                seconds = spread(trained)
            else:
                label = f"train (skipped by the retraining policy: {_runs(len(counts))})"
            counts = [c for c in counts if c] or [0]
        cell, count = _rows_in(step, statistics.median(counts) if counts else None)
        prior = first["steps"].get(step, {}).get("median")
        rows.append(
            [
                size,
                label,
                _span(seconds),
                cell,
                f"{count / seconds['median']:,.0f}" if count and seconds["median"] else "–",
                _ratio(seconds["median"], base),
                growth_of(seconds["median"], prior),
            ]
        )
    rows.append(
        [
            size,
            f"**monthly run, end to end** ({_runs(d['runs'])})",
            _span(d["total"]),
            "",
            "",
            f"**{_ratio(d['total']['median'], base)}**",
            growth_of(d["total"]["median"], first["total"]["median"]),
        ]
    )
    rows.append(
        [
            size,
            "*baseline: read_csv + 1 HGB fit*",
            _span(d["baseline"]),
            "",
            "",
            "1×",
            growth_of(base, first["baseline"]["median"]),
        ]
    )
    train = d.get("first_run_steps", {}).get("train")
    if train and train["rows_in"]:
        prior = first.get("first_run_steps", {}).get("train", {}).get("seconds")
        rows.append(
            [
                size,
                "first run's train (first model, months 1–8)",
                _num(train["seconds"]),
                f"{train['rows_in']:,}",
                f"{train['rows_in'] / train['seconds']:,.0f}",
                _ratio(train["seconds"], base),
                growth_of(train["seconds"], prior),
            ]
        )
    return rows


def _pipeline(state: dict[str, Any], jobs: list[dict[str, Any]]) -> list[str]:
    ok = _ok(jobs)
    lines = [
        "A demo world of *customers × 24 months* rows (the size column) is generated; months "
        "1–8 are released and run once (the first model), then each timed run releases one "
        "month and runs the whole flow on it (ingest, validate, clean, train when the "
        "retraining policy asks for it, score, monitor). *Rows in* is the step's own count "
        "(`run_steps.rows_in`, median): files for ingest, drift cells for monitor, rows "
        "otherwise. Baseline, timed after each run on the same month: `read_csv` of the "
        "month's file plus one default HistGradientBoosting fit on the training window, in one "
        "process. *Growth* is this size's median over the smallest size's.",
        "",
    ]
    if not ok:
        return lines
    first = ok[0]["data"]
    rows = []
    for job in ok:
        rows += _pipeline_rows(job["data"], first, job is ok[0])
    lines += _table(
        ["demo rows", "step", "median s (min–max)", "rows in", "rows/s", "× baseline", "growth"],
        rows,
    )
    lines.append("")
    lines.append(
        "Setup (demo files, months 1–8 released) and first run, s: "
        + "; ".join(
            f"{j['size']}: {_num(j['data']['setup_s'])} + {_num(j['data']['first_run_s'])}"
            for j in ok
        )
    )
    return lines


def _page_table(page: str, jobs: list[dict[str, Any]]) -> list[str]:
    ok = _ok(jobs)
    if not ok:
        return []
    sizes = []
    for j in ok:
        d = j["data"]
        if "scored_rows" in d:
            sizes.append(f"{j['size']} demo rows ({d['scored_rows']:,} scored)")
        elif "rows" in d:
            sizes.append(f"{j['size']} ({d['rows']:,} rows)")
        else:
            sizes.append(j["size"])
    names: list[str] = list(ok[0]["data"]["callbacks"])
    for j in ok[1:]:
        names += [n for n in j["data"]["callbacks"] if n not in names]
    base_names = list(ok[0]["data"]["baselines"])
    # The ratio is against the heaviest baseline measured (a scan of the page's table where the
    # benchmark has one, else SELECT 1).
    ref = base_names[-1]
    head = ["callback"]
    for size in sizes:
        head += [f"{size}: p50 ms (min–max)", "p95 ms", f"× {ref.removeprefix('baseline: ')}"]
    if len(ok) > 1:
        head.append(f"growth p50 {ok[-1]['size']} / {ok[0]['size']}")
    rows = []
    for name in base_names:
        row = [f"*baseline: {name.removeprefix('baseline: ')}*"]
        for j in ok:
            s = j["data"]["baselines"].get(name)
            ref_s = j["data"]["baselines"][ref]
            row += (
                [_span(s), _num(s["p95"]), _ratio(s["median"], ref_s["median"])] if s else ["–"] * 3
            )
        if len(ok) > 1:
            a, b = ok[-1]["data"]["baselines"].get(name), ok[0]["data"]["baselines"].get(name)
            row.append(_ratio(a["median"], b["median"]) if a and b else "–")
        rows.append(row)
    for name in names:
        row = [name]
        for j in ok:
            s = j["data"]["callbacks"].get(name)
            ref_s = j["data"]["baselines"][ref]
            row += (
                [_span(s), _num(s["p95"]), _ratio(s["median"], ref_s["median"])] if s else ["–"] * 3
            )
        if len(ok) > 1:
            a, b = ok[-1]["data"]["callbacks"].get(name), ok[0]["data"]["callbacks"].get(name)
            row.append(_ratio(a["median"], b["median"]) if a and b else "–")
        rows.append(row)
    lines = _table(head, rows)
    worst = max(
        (s["p95"], name, j["size"]) for j in ok for name, s in j["data"]["callbacks"].items()
    )
    lines += ["", f"Worst p95: {_num(worst[0])} ms ({worst[1]}, {worst[2]})."]
    cold = [j for j in ok if "cold_explainer_ms" in j["data"]]
    if cold:
        lines.append(
            "First local explanation of a version (load + verify the artefact, build the "
            "explainer; once per version per process): "
            + "; ".join(f"{j['size']} {_num(j['data']['cold_explainer_ms'])} ms" for j in cold)
            + "."
        )
    return lines


PAGE_NOTES = {
    "overview": "`serving_facts` of 24 months × customers (synthetic scores), every Overview "
    "callback called as a plain function with random filters.",
    "data_page": "`clean_rows` of 24 monthly batches × customers (synthetic), with labels, "
    "batch statistics and ~10k quarantined rows.",
    "explain_page": "A real pipeline run (ingest, clean, train, score, explain) on a demo of "
    "customers × 10 months (the size), of which the run releases 5; *scored* is what it left "
    "in `serving_facts`. The callbacks read the stored explanation (1,000 points a feature) "
    "and explain one customer at a time, so they do not scan the table. Answers are "
    "JSON-encoded as Dash sends them.",
    "monitor_page": "Reads only stored aggregates (drift cells of months × 25 features × 5 "
    "segment views, quality, performance, alerts), which do not grow with prediction rows: "
    "measured at one size, the months stated. Answers are JSON-encoded as Dash sends them.",
    "models_page": "Reads only the registry (versions, evaluations with 201-point curves, "
    "segment metrics), which does not grow with prediction rows: measured at one size, the "
    "versions stated. Answers are JSON-encoded as Dash sends them.",
}


def _pages(state: dict[str, Any], jobs: list[dict[str, Any]]) -> list[str]:
    lines = [
        "Each page's callbacks are called as plain functions in one process after one warm-up "
        "call (server time only: no HTTP, no browser). The baselines are timed in the same "
        "process right after: a bare `SELECT 1` through `Warehouse.read`, and, where the page "
        "reads a table that grows with rows, one grouped scan of that table. *× baseline* "
        "divides a p50 by the last baseline listed.",
    ]
    for page in PAGE_ORDER:
        mine = [j for j in jobs if j.get("page") == page]
        if not mine:
            continue
        lines += ["", f"### {PAGES[page]}", "", PAGE_NOTES[page], ""]
        lines += _page_table(page, mine)
        lines += _failures(mine)
    return lines


def _drift(state: dict[str, Any], jobs: list[dict[str, Any]]) -> list[str]:
    lines = [
        "25 columns (20 numeric, 5 categorical), a reference and a current window of the size "
        "stated; Plumbline's `build_reference` + `drift_by_period` on DuckDB against Evidently's "
        "`Report([DataDriftPreset()])` on the same Parquet files in pandas, each in its own "
        "process (peak RSS is that process's). Evidently runs once at sizes over 200k rows.",
        "",
    ]
    if not state["evidently_present"]:
        lines += [
            f"**Evidently skipped: no interpreter at `{state['evidently_python']}`.** Create it "
            "with `python3.11 -m venv benchmarks/.venv-evidently && "
            "benchmarks/.venv-evidently/bin/pip install -r "
            "benchmarks/evidently-requirements.txt`, then run again. Plumbline's own times "
            "are below without a ratio.",
            "",
        ]
    ok = _ok(jobs)
    if not ok:
        return lines
    rows = []
    for r in ok[0]["data"]["results"]:
        p, e = r["plumbline"], r["evidently"]
        plumb_runs = {
            "median": p["median_s"],
            "min": p["min_s"],
            "max": p["max_s"],
            "n": len(p["runs"]),
        }
        if e:
            ev_runs = e["runs_s"]
            ev = {"median": e["median_s"], "min": min(ev_runs), "max": max(ev_runs)}
            ev["n"] = len(ev_runs)
        rows.append(
            [
                f"{r['rows_per_window']:,}",
                _span(plumb_runs),
                _num(p["median_per_batch_s"]),
                _span(ev) if e else "skipped",
                f"**{_ratio(e['median_s'], p['median_s'])}**" if e else "–",
                _ratio(e["median_s"], p["median_per_batch_s"]) if e else "–",
                f"{p['peak_mb']:,.0f} (imports {p['baseline_mb']:,.0f})",
                f"{e['peak_mb']:,.0f} (imports {e['baseline_mb']:,.0f})" if e else "–",
                _ratio(p["peak_mb"], e["peak_mb"]) if e else "–",
                ", ".join(p["verdicts"]["missed"]) or "none",
                (", ".join(e["verdicts"]["missed"]) or "none") if e else "–",
            ]
        )
    lines += _table(
        [
            "rows / window",
            "Plumbline s (min–max)",
            "Plumbline per batch s (reference stored)",
            "Evidently s (min–max)",
            "speedup",
            "speedup per batch",
            "Plumbline peak MB",
            "Evidently peak MB",
            "memory Plumbline / Evidently",
            "planted drift missed: Plumbline",
            "Evidently",
        ],
        rows,
    )
    return lines


def _clean(state: dict[str, Any], jobs: list[dict[str, Any]]) -> list[str]:
    lines = [
        "The flow's validate and clean steps over the demo's monthly customers files, in a fresh "
        "process per run: Plumbline's DuckDB path as `pipeline/flow.py` calls it against the "
        "same steps in vectorised pandas (`benchmarks/_clean_pandas.py`). The baseline is the "
        "pandas run; a process that only imports the libraries gives the memory floor.",
        "",
    ]
    ok = _ok(jobs)
    if not ok:
        return lines
    d = ok[0]["data"]
    lines[0] += (
        f" {d['customers']:,} customers × {d['months']} months = {d['rows']:,} rows, "
        f"{_runs(d['repeat'])} each."
    )
    rows = []
    pandas = d["seconds"]["pandas"]["median"]
    pandas_mb = d["peak_mb"]["pandas"]["median"]
    for name in ("duckdb", "pandas"):
        s, m = d["seconds"][name], d["peak_mb"][name]
        rows.append(
            [
                "Plumbline (DuckDB)" if name == "duckdb" else "*baseline: pandas*",
                _span(s),
                f"{d['rows'] / s['median']:,.0f}",
                _ratio(pandas, s["median"]) if name == "duckdb" else "1×",
                _span(m),
                f"{m['median'] - d['baseline_mb']:,.0f}",
                _ratio(m["median"], pandas_mb),
            ]
        )
    rows.append(["imports only", "", "", "", _num(d["baseline_mb"]), "0", ""])
    lines += _table(
        [
            "implementation",
            "median s (min–max)",
            "rows/s",
            "speedup vs pandas",
            "peak RSS MB (min–max)",
            "above imports MB",
            "peak / pandas",
        ],
        rows,
    )
    if d["counts_differ"]:
        lines += ["", f"Counts differ between the two: {', '.join(d['counts_differ'])}."]
    else:
        lines += ["", "Both produce the same counts (accepted, quarantined per rule, ...)."]
    return lines


def _explain(state: dict[str, Any], jobs: list[dict[str, Any]]) -> list[str]:
    lines = [
        "At one thread. *global*: `global_explanation` (sampling, SHAP, probability points, "
        "importance, interactions, points table) against the baseline *shap direct*: "
        "`shap.TreeExplainer(estimator).shap_values` (LinearExplainer for the linear model) on "
        "the same already-encoded sample. *local*: one row's explanation + points + story with "
        "an explainer built once, over 100 customers (goal 300 ms).",
        "",
    ]
    ok = _ok(jobs)
    if not ok:
        return lines
    d = ok[0]["data"]
    lines[0] += (
        f" Demo of {d['customers']:,} customers ({d['rows']:,} rows), explained sample "
        f"{d['sample_rows']:,} rows of the holdout month, {_runs(d['repeats'])}."
    )
    rows = []
    for model, m in d["models"].items():
        rows.append(
            [
                model,
                _span(m["global_s"]),
                f"{m['global_rows_per_s']:,.0f}",
                _span(m["direct_s"], 1.0),
                f"{m['direct_rows_per_s']:,.0f}",
                f"**{_ratio(m['global_s']['median'], m['direct_s']['median'])}**",
                _num(m["local_ms"]["median"]),
                _num(m["local_ms"]["p95"]),
                _num(m["local_ms"]["max"]),
            ]
        )
    lines += _table(
        [
            "model",
            "global s (min–max)",
            "global rows/s",
            "shap direct s (min–max)",
            "shap direct rows/s",
            "global / direct",
            "local p50 ms",
            "local p95 ms",
            "local max ms",
        ],
        rows,
    )
    lines += [
        "",
        "The logistic regression's direct SHAP is one matrix product, so its ratio measures the "
        "summaries, not SHAP.",
    ]
    return lines


def _serve(state: dict[str, Any], jobs: list[dict[str, Any]]) -> list[str]:
    lines = [
        "The real `plumbline serve` on an empty data dir with the demo at the size stated "
        "(customers × 24 months), sampled every 0.25 s until the stated number of runs "
        "succeeded. Baseline: a bare interpreter that imports the same libraries (dash, pandas, "
        "sklearn, duckdb, ...), the floor any such process pays before holding data.",
        "",
    ]
    ok = _ok(jobs)
    if not ok:
        return lines
    rows = []
    for j in ok:
        d = j["data"]
        rows.append(
            [
                f"{j['size']} ({d['customers']:,} customers)",
                str(d["runs"]),
                _num(d["first_champion_s"]),
                _num(d["rss_after_start_mb"]),
                _num(d["rss_after_first_run_mb"]),
                f"**{_num(d['peak_serve_mb'])}**",
                _num(d["peak_with_children_mb"]),
                _num(d["baseline_mb"]),
                f"**{_ratio(d['peak_serve_mb'], d['baseline_mb'])}**",
            ]
        )
    lines += _table(
        [
            "demo size",
            "runs watched",
            "first champion after s",
            "RSS after start MB",
            "RSS after first run MB",
            "peak RSS serve MB",
            "peak serve + children MB",
            "baseline MB",
            "peak / baseline",
        ],
        rows,
    )
    return lines


RENDERERS: dict[str, Callable[[dict[str, Any], list[dict[str, Any]]], list[str]]] = {
    "pipeline": _pipeline,
    "pages": _pages,
    "drift": _drift,
    "clean": _clean,
    "explain": _explain,
    "serve": _serve,
}


def _failures(jobs: list[dict[str, Any]]) -> list[str]:
    lines = []
    for j in jobs:
        if "error" in j:
            lines += [
                "",
                f"**{j['key']} failed** ({_num(j['wall_s'])} s): `{j['command']}`",
                "",
                "```",
                j["error"],
                "```",
            ]
        elif "note" in j:
            lines += ["", f"{j['key']}: {j['note']}."]
    return lines


def _machine(m: dict[str, Any]) -> list[str]:
    libs = ", ".join(f"{k} {v}" for k, v in m["libraries"].items())
    load = ", ".join(f"{x:.2f}" for x in m["load_at_start"])
    return _table(
        ["", ""],
        [
            ["CPU", m["cpu"]],
            [
                "CPUs",
                f"{m['cpus_logical']} logical, {m['cpus_physical']} physical, "
                f"{m['cpus_usable']} usable by this process",
            ],
            [
                "RAM",
                f"{m['ram_gib']:.1f} GiB ({m['ram_available_gib']:.1f} GiB available at start)",
            ],
            ["OS", m["os"]],
            ["Python", m["python"]],
            ["libraries", libs],
            ["code", f"`{m['code']}`"],
            ["load average at start (1, 5, 15 min)", load],
        ],
    )


def _size_notes(state: dict[str, Any]) -> list[str]:
    sizes = state["sizes"]
    notes = []
    if state["quick"]:
        notes.append(
            "**Quick mode**: small sizes and few repeats, to check the wiring; these figures "
            "are not the product's. Run without `--quick` for the report."
        )
    if not state["quick"] and max(sizes["pipeline_rows"]) < 5_000_000:
        notes.append(
            "The pipeline is measured at "
            + ", ".join(f"{r:,}" for r in sizes["pipeline_rows"])
            + " demo rows, not 5M: a 5M-row world (208k customers) trains on ~2.5M rows a "
            "month and would take the whole 30-minute budget on 2 cores. Add it with "
            "`--pipeline-rows 100000 1000000 5000000 --only pipeline`."
        )
    if not state["quick"] and max(sizes["explain_page_rows"]) < 10_000_000:
        notes.append(
            "The Explain page runs a real pipeline to get a real model, so it is measured on "
            + ", ".join(f"{r:,}" for r in sizes["explain_page_rows"])
            + " demo rows, not 10M (a million-customer demo); its callbacks read the stored "
            "explanation (1,000 points a feature) and one customer's rows, which do not grow "
            "with the table. Monitor and Model review read only aggregates (see their notes), "
            "so they are measured at one size."
        )
    return notes


def render(state: dict[str, Any]) -> str:
    """The whole report as markdown (also for a run still going or one that failed)."""
    elapsed = state.get("elapsed_s", 0.0)
    status = (
        f"finished {state['finished']} UTC"
        if state["finished"]
        else f"**still running or interrupted**; not yet run: {', '.join(state['pending'])}"
    )
    lines = [
        f"# Plumbline benchmarks, {state['started'][:10]}" + (" (quick)" if state["quick"] else ""),
        "",
        f"Command: `{state['command']}` (from the repository root)  ",
        f"Started {state['started']} UTC, {status}; {elapsed / 60:.1f} min in all.  ",
        f"Raw results and each benchmark's output: `{state['raw']}/`.",
        "",
        "Medians with (min–max) over the runs stated; every ratio is against a baseline "
        "measured in the same run, on the same machine, at the same size.",
        "",
        "## Machine",
        "",
        *_machine(state["machine"]),
    ]
    if "load_at_end" in state:
        lines.append(
            "| load average at end | " + ", ".join(f"{x:.2f}" for x in state["load_at_end"]) + " |"
        )
    notes = _size_notes(state)
    if notes:
        lines += ["", "## Sizes", "", *[f"- {n}" for n in notes]]
    for number, section in enumerate(SECTIONS, start=1):
        jobs = _jobs(state, section)
        if not jobs:
            continue
        wall = sum(j["wall_s"] for j in jobs)
        lines += ["", f"## {number}. {TITLES[section]}", ""]
        try:
            lines += RENDERERS[section](state, jobs)
        except (KeyError, TypeError, ValueError, ZeroDivisionError) as error:
            # A benchmark's JSON changed shape: say so and keep the rest of the report.
            lines.append(
                f"**Could not render this section** ({type(error).__name__}: {error}); "
                "the raw JSON is in the folder named above."
            )
        if section != "pages":
            lines += _failures(jobs)
        lines += [
            "",
            f"<sub>Section wall time {wall / 60:.1f} min. Commands: "
            + "; ".join(f"`{j['command']}`" for j in jobs)
            + "</sub>",
        ]
    times = [(j["key"], j["wall_s"]) for j in state["jobs"]]
    if times:
        lines += ["", "## Wall time per benchmark", ""]
        lines += _table(["benchmark", "s"], [[k, f"{s:,.0f}"] for k, s in times])
    return "\n".join(lines) + "\n"
