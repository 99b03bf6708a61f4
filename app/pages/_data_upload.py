"""The Data page's upload card: check a file against the data contract, then queue it.

A file dropped on the card is decoded and staged by :mod:`pipeline.preview` in a private folder
(``work/uploads/<token>``, where ``token`` is random and the only thing the browser keeps),
previewed with :func:`pipeline.preview.preview_file`, and shown. **Accept** moves it into the
landing folder under a new name, where the next run ingests it; **Discard** deletes it. Nothing
reaches the warehouse from here, and staged uploads older than an hour are deleted.

The browser's ``max_size`` only spares it from sending a huge file (and sends nothing at all
for one, see plotly/dash#2638); the server checks the decoded size again. The client's file
name is reduced to a safe base name and never used as a path. Every data-derived text is a
plain string child, never markup.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html

from app.audit import audit
from app.auth import Role, requires
from app.pages._data_layout import card
from app.services import services
from pipeline import preview as previews
from pipeline.ingest import SUPPORTED_SUFFIXES
from pipeline.preview import Preview, RuleCount, preview_file
from pipeline.settings import Settings
from pipeline.warehouse import batches as batch_store
from pipeline.warehouse import reads_data as reads

log = logging.getLogger(__name__)


class UploadIds(StrEnum):
    """Component ids of the Data page's upload card."""

    DROP = "data-upload-drop"
    TOKEN = "data-upload-token"
    RESULT = "data-upload-result"
    ACCEPT = "data-upload-accept"
    DISCARD = "data-upload-discard"


class UploadRefused(ValueError):
    """The upload cannot be previewed; the message says why and what to do."""


# -- decoding ---------------------------------------------------------------------------------


def limit_bytes(settings: Settings) -> int:
    """The largest upload accepted, in bytes (``ingest.max_upload_mb`` MiB)."""
    return int(settings.ingest.max_upload_mb * 1024 * 1024)


def decode_upload(contents: object, limit: int) -> bytes:
    """The bytes of a ``dcc.Upload`` data URL; raises :class:`UploadRefused` above ``limit``.

    The size is estimated from the base64 text before anything is decoded.
    """
    if not isinstance(contents, str) or "," not in contents:
        raise UploadRefused("the upload arrived incomplete; choose the file again")
    header, _, payload = contents.partition(",")
    if not (header.startswith("data:") and header.endswith(";base64")):
        raise UploadRefused("the upload arrived in an unexpected form; choose the file again")
    estimate = len(payload) * 3 // 4 - payload[-2:].count("=")
    if estimate > limit:
        raise UploadRefused(_too_big(estimate, limit))
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise UploadRefused("the upload arrived damaged; choose the file again") from None
    if len(data) > limit:
        raise UploadRefused(_too_big(len(data), limit))
    return data


def _too_big(size: int, limit: int) -> str:
    mib = 1024 * 1024
    shown = f"{size / mib:.1f} MB" if size >= mib // 10 else f"{size / 1024:.1f} KB"
    return (
        f"the file is {shown} and uploads are limited to {limit / mib:.3g} MB (setting "
        "ingest.max_upload_mb); split the file, or copy it into the landing folder of the data "
        "dir instead"
    )


# -- what the card shows ----------------------------------------------------------------------


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def summary_text(preview: Preview) -> str:
    """One line: rows in, and what would be accepted and quarantined."""
    if preview.kind == "labels":
        kept = f"{_count(preview.rows_accepted, 'label')} would be applied"
    else:
        kept = f"{preview.rows_accepted:,} would be accepted"
    return f"{_count(preview.rows_in, 'row')} in: {kept}, {preview.rows_quarantined:,} quarantined."


def _details(preview: Preview) -> str | None:
    parts = []
    if preview.duplicates_removed:
        parts.append(f"{_count(preview.duplicates_removed, 'duplicate')} removed")
    if preview.outliers_nulled:
        parts.append(f"{_count(preview.outliers_nulled, 'out-of-range value')} set to missing")
    if preview.missing_imputed:
        parts.append(f"{_count(preview.missing_imputed, 'missing value')} filled in")
    return ("Cleaning: " + "; ".join(parts) + ".") if parts else None


def rules_table(rules: list[RuleCount]) -> dbc.Table:
    """Quarantine rules with their row counts and the first example's reason."""
    rows = [
        html.Tr(
            [
                html.Td(html.Code(r.rule)),
                html.Td(f"{r.rows:,}", className="text-end"),
                html.Td(
                    f"Row {r.examples[0].row_number:,}: {r.examples[0].reason}"
                    if r.examples
                    else "",
                    className="small",
                ),
            ]
        )
        for r in rules
    ]
    head = html.Thead(
        html.Tr([html.Th("Rule"), html.Th("Rows", className="text-end"), html.Th("Example")])
    )
    return dbc.Table(
        [head, html.Tbody(rows)],
        size="sm",
        bordered=False,
        hover=True,
        class_name="mb-3 upload-rules",
    )


_ACTION_COLOURS = {"warned": "secondary", "rows_rejected": "warning", "batch_rejected": "danger"}


def _findings(preview: Preview) -> html.Div | None:
    if not preview.findings:
        return None
    items = [
        html.Li(
            [
                dbc.Badge(
                    f.kind.replace("_", " "),
                    color="light",
                    text_color="dark",
                    class_name="me-2 border",
                ),
                f.message,
                dbc.Badge(
                    f.action.replace("_", " "),
                    color=_ACTION_COLOURS.get(f.action, "info"),
                    class_name="ms-2",
                ),
            ],
            className="mb-1",
        )
        for f in preview.findings
    ]
    return html.Div(
        [
            html.Div("Schema findings", className="fw-semibold small mb-1"),
            html.Ul(items, className="small mb-3 upload-findings"),
        ]
    )


def _contract_note(preview: Preview) -> dbc.Alert | None:
    c = preview.contract
    if not preview.contract_inferred or c is None:
        return None
    return dbc.Alert(
        f"There is no data contract yet: this file would define it, with "
        f"{_count(len(c.categorical), 'categorical feature')} and "
        f"{_count(len(c.numeric), 'numeric feature')}"
        + (f"; {', '.join(c.dropped)} would be left out." if c.dropped else "."),
        color="info",
        class_name="py-2 small",
    )


def _pii_note(preview: Preview) -> dbc.Alert | None:
    if not preview.pii_suspects:
        return None
    listed = ", ".join(f"{column} ({kind})" for column, kind in preview.pii_suspects)
    return dbc.Alert(
        f"Columns that look like personal data but are not configured as PII: {listed}. Add "
        "them to dataset.pii to keep their values out of the warehouse; their values are hidden "
        "here.",
        color="warning",
        class_name="py-2 small",
    )


def preview_view(preview: Preview, duplicate: tuple[int, Any] | None = None) -> html.Div:
    """The preview as the card shows it: verdict, summary, rules, findings and notes."""
    kind = {"data": "data file", "labels": "labels file"}.get(preview.kind or "", "file")
    title = html.Div(
        [
            html.Span(preview.file_name, className="fw-semibold me-2"),
            dbc.Badge(kind, color="light", text_color="dark", class_name="border"),
        ],
        className="mb-2",
    )
    if preview.rejected is not None:
        verdict = dbc.Alert(
            [html.Strong("The whole file would be rejected: "), preview.rejected],
            color="danger",
            class_name="upload-verdict",
        )
        return html.Div([title, verdict, _findings(preview)])
    parts: list[Any] = [title]
    if duplicate is not None:
        batch_id, arrived = duplicate
        when = f" ({arrived:%Y-%m-%d %H:%M} UTC)" if isinstance(arrived, datetime) else ""
        parts.append(
            dbc.Alert(
                f"This exact file was already received as batch #{batch_id}{when}; the next "
                "run would skip it, so there is nothing to accept.",
                color="warning",
                class_name="upload-verdict",
            )
        )
    elif preview.held is not None:
        parts.append(
            dbc.Alert(
                f"{_count(preview.rows_in, 'row')} in: the run would keep this file for later: "
                f"{preview.held}.",
                color="info",
                class_name="upload-verdict",
            )
        )
    else:
        colour = "warning" if preview.rows_quarantined else "success"
        details = _details(preview)
        parts.append(
            dbc.Alert(
                [
                    html.Div(summary_text(preview), className="fw-semibold upload-summary"),
                    html.Div(details, className="small") if details else None,
                ],
                color=colour,
                class_name="upload-verdict",
            )
        )
    parts += [_contract_note(preview), _pii_note(preview)]
    if preview.rules:
        parts.append(rules_table(preview.rules))
    parts.append(_findings(preview))
    return html.Div(parts)


def upload_card(settings: Settings) -> dbc.Card:
    """The upload card: a drop zone, the preview area, and Accept / Discard."""
    limit_mb = settings.ingest.max_upload_mb
    drop = dcc.Upload(
        id=UploadIds.DROP,
        children=html.Div(
            [
                html.Div(
                    ["Drop a file here or ", html.Span("choose one", className="link-primary"), "."]
                ),
                html.Div(
                    f"CSV, Parquet or JSON Lines, up to {limit_mb:g} MB. The browser does not "
                    "send larger files: copy those into the landing folder instead.",
                    className="small",
                ),
            ]
        ),
        accept=",".join(SUPPORTED_SUFFIXES),
        max_size=limit_bytes(settings),
        multiple=False,
        className="border border-2 rounded-3 p-3 text-center text-muted bg-light",
        style={"borderStyle": "dashed", "cursor": "pointer"},
    )
    buttons = html.Div(
        [
            dbc.Button(
                "Accept and queue",
                id=UploadIds.ACCEPT,
                color="primary",
                size="sm",
                disabled=True,
                class_name="me-2",
            ),
            dbc.Button(
                "Discard",
                id=UploadIds.DISCARD,
                color="primary",
                outline=True,
                size="sm",
                disabled=True,
            ),
        ],
        className="mt-2",
    )
    return card(
        "Upload a file",
        "Check a file against the data contract before it is ingested: nothing is kept until "
        "you accept it, and accepted files are ingested by the next run.",
        [
            dcc.Store(id=UploadIds.TOKEN, storage_type="memory"),
            drop,
            dcc.Loading(
                html.Div(id=UploadIds.RESULT, className="mt-3"), delay_show=300, type="dot"
            ),
            buttons,
        ],
    )


# -- callbacks --------------------------------------------------------------------------------


def _outcome(result: Any, token: str | None = None, ok: bool = False) -> dict[str, Any]:
    return {
        "result": result,
        "token": token,
        "accept_disabled": not ok,
        "discard_disabled": token is None,
    }


def _refusal(message: str) -> dbc.Alert:
    return dbc.Alert(message, color="danger", class_name="upload-refused")


@callback(
    output={
        "result": Output(UploadIds.RESULT, "children"),
        "token": Output(UploadIds.TOKEN, "data"),
        "accept_disabled": Output(UploadIds.ACCEPT, "disabled"),
        "discard_disabled": Output(UploadIds.DISCARD, "disabled"),
        "contents": Output(UploadIds.DROP, "contents"),
    },
    inputs={
        "contents": Input(UploadIds.DROP, "contents"),
        "filename": State(UploadIds.DROP, "filename"),
        "token": State(UploadIds.TOKEN, "data"),
    },
    prevent_initial_call=True,
)
@requires(Role.ANALYST, action="upload")
def preview_upload(contents: str | None, filename: str | None, token: str | None) -> dict:
    """Decode the dropped file into a new token folder, preview it and show the result."""
    svc = services()
    settings = svc.settings
    area = previews.upload_area(settings)
    previews.remove_old_uploads(area)
    previews.discard_staged(area, token)  # a new upload replaces the one waiting
    # Clearing the contents keeps the file out of later requests and lets the same file be
    # dropped again.
    out = {"contents": None}
    if contents is None:
        return out | _outcome(None)
    name = previews.safe_name(filename)
    if name is None or Path(name).suffix.lower() not in SUPPORTED_SUFFIXES:
        return out | _outcome(
            _refusal(
                f"“{name or 'the file'}” is not a CSV, Parquet or JSON Lines file; export it as "
                ".csv, .parquet or .jsonl and upload it again"
            )
        )
    try:
        data = decode_upload(contents, limit_bytes(settings))
    except UploadRefused as refused:
        return out | _outcome(_refusal(f"“{name}” cannot be previewed: {refused}"))
    new_token, path = previews.stage_upload(area, name, data)
    wh = svc.warehouse
    info = reads.latest_contract(wh)
    try:
        preview = preview_file(
            path,
            settings,
            info.contract if info else None,
            hide=reads.masked_fields(wh, settings.dataset.pii),
        )
    except Exception:
        previews.discard_staged(area, new_token)  # no half-previewed file left behind
        raise
    duplicate = batch_store.batch_by_hash(wh).get(hashlib.sha256(data).hexdigest())
    ok = preview.acceptable and duplicate is None
    previews.mark_upload(path, ok)
    log.info(
        "upload %s previewed: %d rows in, %d accepted, %d quarantined%s",
        name,
        preview.rows_in,
        preview.rows_accepted,
        preview.rows_quarantined,
        "" if preview.acceptable else ", rejected",
    )
    return out | _outcome(preview_view(preview, duplicate), new_token, ok)


_BUTTON_OUTPUTS = {
    "result": Output(UploadIds.RESULT, "children", allow_duplicate=True),
    "token": Output(UploadIds.TOKEN, "data", allow_duplicate=True),
    "accept_disabled": Output(UploadIds.ACCEPT, "disabled", allow_duplicate=True),
    "discard_disabled": Output(UploadIds.DISCARD, "disabled", allow_duplicate=True),
}


@callback(
    output=_BUTTON_OUTPUTS,
    inputs={
        "n_clicks": Input(UploadIds.ACCEPT, "n_clicks"),
        "token": State(UploadIds.TOKEN, "data"),
    },
    prevent_initial_call=True,
)
@requires(Role.ANALYST, action="upload")
def accept_upload(n_clicks: int | None, token: str | None) -> dict:
    """Move the previewed upload into the landing folder, where the next run ingests it."""
    settings = services().settings
    found = previews.staged_upload(previews.upload_area(settings), token)
    if found is None or not found.ok:
        return _outcome(
            _refusal(
                "Nothing to accept: upload a file and wait for a preview that does not reject "
                "it (previews are kept for an hour)."
            )
        )
    target = previews.queue_upload(found, settings.landing_dir, datetime.now(UTC))
    log.info("upload queued for ingest as %s", target.name)
    audit("upload", target=target.name, detail="accepted after preview; queued for ingest")
    return _outcome(
        dbc.Alert(
            [
                html.Strong("Queued: "),
                f"{found.name} is in the landing folder as {target.name}; the next run ingests "
                "it; start one now from ",
                dcc.Link("Runs", href="/runs", className="alert-link"),
                ".",
            ],
            color="success",
            class_name="upload-queued",
        )
    )


@callback(
    output=_BUTTON_OUTPUTS,
    inputs={
        "n_clicks": Input(UploadIds.DISCARD, "n_clicks"),
        "token": State(UploadIds.TOKEN, "data"),
    },
    prevent_initial_call=True,
)
@requires(Role.ANALYST, action="upload")
def discard_upload(n_clicks: int | None, token: str | None) -> dict:
    """Delete the waiting upload and clear the preview."""
    previews.discard_staged(previews.upload_area(services().settings), token)
    return _outcome(html.Div("Discarded: nothing was kept.", className="small text-muted"))
