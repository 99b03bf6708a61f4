"""The Data page's tables: batches, schema changes, the data contract and PII warnings.

Every value from the warehouse is passed to Dash as a plain string child, which React renders
as text: file names, messages and category values can never become markup.
"""

from __future__ import annotations

from collections.abc import Collection

import dash_bootstrap_components as dbc
import pandas as pd
from dash import html

from app.components.empty import empty_state
from app.figures.formatting import format_count, format_pct, is_missing
from pipeline.warehouse import reads_data as reads

BATCH_BADGE = {"accepted": "success", "rejected": "danger", "pending": "info"}
ACTION_BADGE = {"warned": "warning", "rows_rejected": "danger", "batch_rejected": "dark"}
PII_WORDS = {"email": "email addresses", "phone": "phone numbers", "name": "personal names"}
TYPE_WORDS = {
    "VARCHAR": "text",
    "DOUBLE": "number",
    "FLOAT": "number",
    "BIGINT": "integer",
    "INTEGER": "integer",
    "TIMESTAMP": "timestamp",
    "DATE": "date",
    "BOOLEAN": "true/false",
}
MAX_CATEGORIES_SHOWN = 8
SCROLL = {"maxHeight": "460px", "overflowY": "auto"}


def _badge(text: str, colour: str) -> dbc.Badge:
    return dbc.Badge(text, color=colour, pill=True, class_name="status-badge")


def _stamp(value: object) -> str:
    if is_missing(value):
        return "—"
    return pd.Timestamp(value).strftime("%Y-%m-%d %H:%M") + " UTC"  # type: ignore[arg-type]


def _header(names: list[str]) -> html.Thead:
    return html.Thead(html.Tr([html.Th(n) for n in names]))


def _num(value: object) -> html.Td:
    return html.Td(format_count(value), className="text-end")  # type: ignore[arg-type]


def _table(
    header: list[str], rows: list[html.Tr], table_id: str | None = None, scroll: bool = True
) -> html.Div:
    kwargs = {"id": table_id} if table_id else {}
    return html.Div(
        dbc.Table(
            [_header(header), html.Tbody(rows)],
            hover=True,
            size="sm",
            class_name="mb-0 align-middle data-table",
            **kwargs,
        ),
        style=SCROLL if scroll else None,
        className="table-responsive",
    )


def batches_table(batches: pd.DataFrame, table_id: str | None = None) -> html.Div | dbc.Card:
    """One row per batch, newest first: file, arrival, status and cleaning counts.

    A rejected file shows the reason in words under its name.
    """
    if batches.empty:
        return empty_state("No batches yet", "No file has been ingested.", tone="secondary")
    header = [
        "Batch",
        "File",
        "Arrived",
        "Status",
        "Rows in",
        "Accepted",
        "Quarantined",
        "Duplicates removed",
        "Text normalised",
        "Missing imputed",
        "Outliers",
        "Labels",
    ]
    rows = []
    for _, b in batches.sort_values("batch_id", ascending=False).iterrows():
        status = str(b["status"])
        name: list = [html.Div(str(b["file_name"]), className="text-break")]
        if status == "rejected" and not is_missing(b["message"]):
            name.append(html.Div(str(b["message"]), className="small text-danger error-text"))
        rows.append(
            html.Tr(
                [
                    html.Td(f"#{int(b['batch_id'])}"),
                    html.Td(name),
                    html.Td(_stamp(b["arrived_at"]), className="text-nowrap"),
                    html.Td(_badge(status, BATCH_BADGE.get(status, "secondary"))),
                    _num(b["rows_in"]),
                    _num(b["rows_accepted"]),
                    _num(b["rows_quarantined"]),
                    _num(b["duplicates_removed"]),
                    _num(b["text_normalised"]),
                    _num(b["missing_imputed"]),
                    _num(b["outliers_handled"]),
                    _num(b["labels_applied"]),
                ],
                className=f"batch-row batch-{status}",
            )
        )
    return _table(header, rows, table_id)


def schema_changes_table(changes: pd.DataFrame) -> html.Div | dbc.Card:
    """Schema changes newest first, each with its sentence and what the pipeline did."""
    if changes.empty:
        return empty_state(
            "No schema changes",
            "Every batch so far had the columns and types of the data contract.",
            tone="secondary",
        )
    rows = [
        html.Tr(
            [
                html.Td(_stamp(c["detected_at"]), className="text-nowrap"),
                html.Td(
                    "—" if is_missing(c["file_name"]) else str(c["file_name"]),
                    className="text-nowrap",
                ),
                html.Td(str(c["kind"]).replace("_", " ")),
                html.Td("—" if is_missing(c["column_name"]) else str(c["column_name"])),
                html.Td(str(c["message"]), className="error-text"),
                html.Td(
                    _badge(
                        str(c["action"]).replace("_", " "),
                        ACTION_BADGE.get(str(c["action"]), "secondary"),
                    )
                ),
            ]
        )
        for _, c in changes.iterrows()
    ]
    return _table(["Detected", "File", "Change", "Column", "What happened", "Action"], rows)


def _allowed(info: reads.ContractInfo, column: str) -> str:
    contract = info.contract
    if column in contract.ranges:
        low, high = contract.ranges[column]
        return f"{low:,.4g} to {high:,.4g}"
    if column in contract.categories:
        cats = [str(c) for c in contract.categories[column]]
        shown = ", ".join(cats[:MAX_CATEGORIES_SHOWN])
        more = len(cats) - MAX_CATEGORIES_SHOWN
        return shown + (f" (+{more} more)" if more > 0 else "")
    return "—"


def _roles(info: reads.ContractInfo) -> list[tuple[str, str]]:
    c = info.contract
    roles = [(c.entity_id, "entity id"), (c.event_time, "event time"), (c.target, "target")]
    roles += [(name, "categorical feature") for name in c.categorical]
    roles += [(name, "numeric feature") for name in c.numeric]
    roles += [(name, "dropped") for name in c.dropped]
    return roles


def contract_table(
    info: reads.ContractInfo | None, types: dict[str, str], suspects: pd.DataFrame
) -> html.Div | dbc.Card:
    """The current contract: version, then each column's role, stored type and allowed values.

    ``types`` are ``clean_rows``' column types; suspected PII columns are flagged.
    """
    if info is None:
        return empty_state(
            "No data contract yet",
            "The contract is inferred from the first accepted batch: which columns are keys, "
            "features or dropped, their types and allowed values.",
            tone="secondary",
        )
    names, kinds = suspects["column_name"].astype(str), suspects["kind"].astype(str)
    flagged = dict(zip(names, kinds, strict=True))
    rows = []
    for column, role in _roles(info):
        if role == "target":
            kind = "0/1 label (labels table)"
        elif role == "dropped":
            kind = "not stored"
        else:
            kind = TYPE_WORDS.get(types.get(column, ""), types.get(column, "—").lower() or "—")
        if role == "dropped":
            allowed = "configured PII or free text; never stored"
        elif column in flagged:
            allowed = "hidden: the values look like personal data"
        else:
            allowed = _allowed(info, column)
        name: list = [html.Span(column)]
        if column in flagged:
            name.append(_badge(f"looks like {flagged[column]}", "warning"))
        rows.append(
            html.Tr(
                [
                    html.Td(name, className="text-nowrap"),
                    html.Td(role),
                    html.Td(kind),
                    html.Td(allowed, className="text-break"),
                ]
            )
        )
    created = _stamp(info.created_at)
    return html.Div(
        [
            html.Div(
                f"Version {info.version}, inferred {created}"
                + (f" from batch #{info.batch_id}" if info.batch_id is not None else ""),
                className="small text-muted mb-2",
            ),
            _table(["Column", "Role", "Type", "Allowed values"], rows, scroll=False),
        ]
    )


def pii_alerts(suspects: pd.DataFrame, configured: Collection[str]) -> list[dbc.Alert]:
    """One warning per column that looks like personal data but is not configured as PII."""
    known = {c.lower() for c in configured}
    alerts = []
    for _, s in suspects.iterrows():
        column = str(s["column_name"])
        if column.lower() in known:
            continue
        what = PII_WORDS.get(str(s["kind"]), f"{s['kind']} values")
        where = "" if is_missing(s["file_name"]) else f" (seen in {s['file_name']})"
        alerts.append(
            dbc.Alert(
                [
                    html.Strong("Possible personal data: "),
                    f"column '{column}' looks like {what} in {format_pct(s['share'], 0)} of rows"
                    f"{where} but is not configured as PII; add it to dataset.pii. Its values are "
                    "masked on this page.",
                ],
                color="warning",
                class_name="pii-alert py-2 mb-2",
            )
        )
    return alerts
