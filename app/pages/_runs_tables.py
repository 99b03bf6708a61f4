"""The Runs page's tables: the run history, a run's steps, and what each step says in words."""

from __future__ import annotations

import json
from typing import Any

import dash_bootstrap_components as dbc
import pandas as pd
from dash import dcc, html

from app.answer_cache import depends_on_clock
from app.components.empty import empty_state
from app.figures.formatting import format_count, format_duration, is_missing
from pipeline.warehouse import utcnow

ERROR_PREVIEW = 160

STATUS_BADGE = {
    "running": "info",
    "succeeded": "success",
    "failed": "danger",
    "cancelled": "secondary",  # someone chose to stop it: not an error, and nothing published
    "skipped": "secondary",
}


def status_badge(status: str) -> dbc.Badge:
    """A coloured pill for a run or step status."""
    return dbc.Badge(
        status, color=STATUS_BADGE.get(status, "secondary"), pill=True, class_name="status-badge"
    )


def timestamp(value: object) -> str:
    """``2024-05-02 12:03:00 UTC``, or a dash when missing."""
    if is_missing(value):
        return "—"
    return pd.Timestamp(value).strftime("%Y-%m-%d %H:%M:%S") + " UTC"  # type: ignore[arg-type]


def elapsed_s(started_at: object) -> float:
    """Seconds since ``started_at`` (naive UTC), never negative."""
    depends_on_clock()  # an answer showing this is not cached
    return max(0.0, (utcnow() - pd.Timestamp(started_at)).total_seconds())  # type: ignore[arg-type]


def error_text(error: object, *, cancelled: bool = False) -> html.Span:
    """An error's first line, shortened; the whole text is in the tooltip. A cancelled run's
    "cancelled by ..." is not an error, so it is not red."""
    text = str(error).strip()
    first = text.splitlines()[0] if text else ""
    short = first if len(first) <= ERROR_PREVIEW else first[: ERROR_PREVIEW - 1] + "…"
    colour = "text-muted" if cancelled else "text-danger"
    return html.Span(short, title=text, className=f"{colour} error-text")


def cancelling_by(run: pd.Series) -> str | None:
    """Who asked a running run to stop, or None."""
    if run["status"] != "running":
        return None
    who = run.get("cancel_requested_by")
    return None if is_missing(who) else str(who)


def _run_duration(run: pd.Series) -> str:
    if run["status"] == "running":
        return "in progress"  # the live card above counts its seconds
    return format_duration(run["duration_s"])


def _step_or_error(run: pd.Series) -> Any:
    if run["status"] == "running":
        step = run["current_step"]
        doing = html.Span(["running ", html.Strong(step)]) if not is_missing(step) else "starting"
        who = cancelling_by(run)
        if who is None:
            return doing
        return html.Span([doing, html.Span(f" · cancelling (asked by {who})", className="ms-1")])
    if not is_missing(run["error"]):
        return error_text(run["error"], cancelled=run["status"] == "cancelled")
    return html.Span("—", className="text-muted")


def history_table(runs: pd.DataFrame) -> Any:
    """The run history, newest first; each id opens that run's steps."""
    if runs.empty:
        return empty_state(
            "No runs yet",
            "The pipeline has not run in this data directory yet.",
            "The scheduler starts runs on its own; “Retrain now” starts one immediately.",
            tone="secondary",
        )
    header = html.Thead(
        html.Tr(
            [
                html.Th(h)
                for h in ("Run", "Trigger", "By", "Status", "Started", "Duration", "Step / error")
            ]
        )
    )
    rows = [
        html.Tr(
            [
                html.Td(dcc.Link(f"#{int(r['run_id'])}", href=f"/runs?run={int(r['run_id'])}")),
                html.Td(r["trigger"]),
                html.Td("—" if is_missing(r["triggered_by"]) else r["triggered_by"]),
                html.Td(status_badge(r["status"])),
                html.Td(timestamp(r["started_at"]), className="text-nowrap"),
                html.Td(_run_duration(r), className="text-nowrap"),
                html.Td(_step_or_error(r)),
            ]
        )
        for _, r in runs.iterrows()
    ]
    return dbc.Table(
        [header, html.Tbody(rows)],
        hover=True,
        size="sm",
        responsive=True,
        class_name="mb-0 align-middle",
    )


def step_note(detail: object) -> str:
    """What a step says about itself in words, from its recorded detail JSON."""
    if is_missing(detail):
        return ""
    try:
        d = json.loads(str(detail))
    except ValueError:
        return ""
    return note_of(d) if isinstance(d, dict) else ""


def note_of(d: dict[str, Any]) -> str:
    """What a step says about itself in words, from its detail dict."""
    if d.get("skipped"):
        return f"skipped: {d['skipped']}"
    if d.get("monitoring_failed"):
        return f"monitoring failed (predictions published): {d['monitoring_failed']}"
    if "policy" in d:  # the retrain policy's reason, the new version and the gate's decision
        return str(d["policy"])
    if "drift_cells" in d:
        return _monitor_note(d)
    if "decision" in d:
        return f"v{d.get('version')}: {d['decision']}"
    if "quarantined" in d:
        return (
            f"{d.get('accepted', 0):,} accepted, {d['quarantined']:,} quarantined, "
            f"{d.get('duplicates_removed', 0):,} duplicates, "
            f"{d.get('labels', 0):,} labels"
        )
    if "new_batches" in d:
        return f"{d['new_batches']} new file(s), {d.get('already_ingested', 0)} already ingested"
    if d.get("rejected"):
        return f"{d['rejected']} file(s) rejected"
    if "model_version" in d:
        return f"scored {', '.join(d.get('periods', []))} with v{d['model_version']}"
    if "reason" in d:  # a person's promotion or rollback
        return str(d["reason"])
    return ""


def _monitor_note(d: dict) -> str:
    months = ", ".join(d.get("periods", [])) or "no new month"
    drifted = list(d.get("drifted", []))
    text = f"monitored {months}: {len(drifted)} drifted column/segment pair(s)"
    if drifted:
        text += f" ({', '.join(drifted[:3])}{', ...' if len(drifted) > 3 else ''})"
    fired = len(d.get("alerts", []))
    return text + (f"; {fired} alert rule(s) fired" if fired else "")


def _step_duration(step: pd.Series) -> str:
    # A running step says when it began, not for how long: the live card above counts the
    # seconds, and this table stays the same (and cacheable) until the step ends.
    if step["status"] == "running":
        return "since " + pd.Timestamp(step["started_at"]).strftime("%H:%M:%S")  # type: ignore[arg-type]
    return format_duration(step["duration_s"])


def steps_table(steps: pd.DataFrame) -> dbc.Table:
    """Rows in, rows out, duration, status, and the note or error of each step."""
    header = html.Thead(
        html.Tr(
            [
                html.Th(h)
                for h in ("Step", "Status", "Rows in", "Rows out", "Duration", "Notes / error")
            ]
        )
    )
    rows = [
        html.Tr(
            [
                html.Td(s["step"]),
                html.Td(status_badge(s["status"])),
                html.Td(format_count(s["rows_in"]), className="text-end"),
                html.Td(format_count(s["rows_out"]), className="text-end"),
                html.Td(_step_duration(s), className="text-nowrap"),
                html.Td(
                    error_text(s["error"], cancelled=s["status"] == "cancelled")
                    if not is_missing(s["error"])
                    else html.Span(step_note(s.get("detail")), className="small text-muted")
                ),
            ]
        )
        for _, s in steps.sort_values("position").iterrows()
    ]
    return dbc.Table(
        [header, html.Tbody(rows)], size="sm", responsive=True, class_name="mb-0 align-middle"
    )


def run_options(runs: pd.DataFrame) -> list[dict[str, str]]:
    """The run picker's options: "Run #12 · succeeded · 2024-05-02 12:03:00 UTC"."""
    return [
        {
            "label": f"Run #{int(r['run_id'])} · {r['status']} · {timestamp(r['started_at'])}",
            "value": str(int(r["run_id"])),
        }
        for _, r in runs.iterrows()
    ]
