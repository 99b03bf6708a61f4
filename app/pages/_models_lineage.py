"""Lineage of two versions side by side, and each version's model card.

Data batches, the settings diff, durations, library versions and code of A and B, built from
the registry records (:func:`pipeline.warehouse.reads_models.model_detail`); the batches' file
names and row counts come from the named read :func:`reads_models.batches`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import dash_bootstrap_components as dbc
import pandas as pd
from dash import html

from app.figures.formatting import format_count, format_duration, is_missing
from app.pages._models_compare import colours, side_header
from pipeline import model_card
from pipeline.lineage import settings_diff
from pipeline.warehouse import Warehouse
from pipeline.warehouse import reads_models as reads

DURATIONS = [
    ("search", "Hyperparameter search"),
    ("fit", "Final fit"),
    ("calibrate", "Calibration"),
    ("threshold", "Threshold choice"),
]
MAX_SETTING_TEXT = 80


def _lineage(record: Mapping[str, Any] | None) -> dict[str, Any]:
    return dict((record or {}).get("lineage") or {})


def _text(value: object) -> str:
    if is_missing(value) or value == "":
        return "—"
    text = str(value)
    return text if len(text) <= MAX_SETTING_TEXT else text[: MAX_SETTING_TEXT - 1] + "…"


def _month(value: object) -> str:
    return "—" if is_missing(value) else f"{pd.Timestamp(value):%b %Y}"  # type: ignore[arg-type]


def _window(start: object, end: object) -> str:
    """Periods are months: ``"Jun 2023 to Mar 2024"``, or one month."""
    first, last = _month(start), _month(end)
    return first if first == last else f"{first} to {last}"


def _table(head: list[Any], rows: list[list[Any]], class_name: str = "") -> dbc.Table:
    return dbc.Table(
        [
            html.Thead(html.Tr([html.Th(h) for h in head])),
            html.Tbody([html.Tr([html.Td(c) for c in row]) for row in rows]),
        ],
        size="sm",
        responsive=True,
        class_name=f"mb-0 align-middle {class_name}".strip(),
    )


# A pale highlight for rows that differ: Flatly's table-warning is a loud orange, and orange
# already means "B" in every chart and table on the page.
DIFFERS = {"--bs-table-bg": "#fdf6e3", "fontWeight": 600}


def _pair_rows(pairs: list[tuple[str, object, object]], always: tuple[str, ...] = ()) -> list:
    """One row per ``(name, a, b)``; rows that differ are highlighted unless in ``always``
    (things that differ between any two versions, like the training date)."""
    return [
        html.Tr(
            [html.Td(name), html.Td(_text(a)), html.Td(_text(b))],
            style=DIFFERS if a != b and name not in always else None,
            className="differs" if a != b and name not in always else None,
        )
        for name, a, b in pairs
    ]


def _heads(label_a: str, label_b: str, first: str) -> html.Thead:
    colour_a, colour_b = colours(label_a, label_b)
    return html.Thead(
        html.Tr(
            [
                html.Th(first),
                html.Th(side_header(label_a, colour_a)),
                html.Th(side_header(label_b, colour_b)),
            ]
        )
    )


def overview_table(
    ra: Mapping[str, Any], rb: Mapping[str, Any], label_a: str, label_b: str
) -> dbc.Table:
    """Run, dates, data windows, code version, settings hash, seed and artefact of A and B."""
    la, lb = _lineage(ra), _lineage(rb)
    da, db = la.get("data") or {}, lb.get("data") or {}

    def created(r: Mapping[str, Any]) -> str:
        c = r.get("created_at")
        return "—" if is_missing(c) else f"{pd.Timestamp(c):%Y-%m-%d %H:%M} UTC"  # type: ignore[arg-type]

    def artefact(r: Mapping[str, Any]) -> str:
        sha = r.get("sha256") or ""
        return f"{sha[:12]}… ({format_count(r.get('size_bytes'))} bytes)" if sha else "—"

    pairs = [
        ("Trained", created(ra), created(rb)),
        ("Run", f"#{ra.get('run_id')}", f"#{rb.get('run_id')}"),
        ("Algorithm", ra.get("algorithm"), rb.get("algorithm")),
        ("Calibration", ra.get("calibration"), rb.get("calibration")),
        (
            "Data window",
            _window(da.get("window_from"), da.get("window_to")),
            _window(db.get("window_from"), db.get("window_to")),
        ),
        (
            "Training rows",
            format_count(ra.get("train_rows")),
            format_count(rb.get("train_rows")),
        ),
        (
            "Holdout (never trained on)",
            _window(ra.get("holdout_from"), ra.get("holdout_to")),
            _window(rb.get("holdout_from"), rb.get("holdout_to")),
        ),
        ("Code version", la.get("code_version"), lb.get("code_version")),
        (
            "Settings hash",
            (la.get("settings_hash") or "")[:16],
            (lb.get("settings_hash") or "")[:16],
        ),
        ("Random seed", ra.get("seed"), rb.get("seed")),
        ("Artefact (SHA-256)", artefact(ra), artefact(rb)),
    ]
    return dbc.Table(
        [
            _heads(label_a, label_b, "What"),
            html.Tbody(_pair_rows(pairs, always=("Trained", "Run", "Artefact (SHA-256)"))),
        ],
        size="sm",
        responsive=True,
        class_name="mb-0 align-middle lineage-overview",
    )


def durations_table(
    ra: Mapping[str, Any], rb: Mapping[str, Any], label_a: str, label_b: str
) -> dbc.Table:
    """Seconds spent on search, fit, calibration and threshold, and the whole training."""
    dura = _lineage(ra).get("durations") or {}
    durb = _lineage(rb).get("durations") or {}
    rows = [
        html.Tr(
            [
                html.Td(name),
                html.Td(format_duration(dura.get(key))),
                html.Td(format_duration(durb.get(key))),
            ]
        )
        for key, name in DURATIONS
    ]
    rows.append(
        html.Tr(
            [
                html.Td(html.Strong("Training in total")),
                html.Td(html.Strong(format_duration(ra.get("fit_seconds")))),
                html.Td(html.Strong(format_duration(rb.get("fit_seconds")))),
            ]
        )
    )
    return dbc.Table(
        [_heads(label_a, label_b, "Duration"), html.Tbody(rows)],
        size="sm",
        class_name="mb-0 align-middle",
    )


def libraries_table(
    ra: Mapping[str, Any], rb: Mapping[str, Any], label_a: str, label_b: str
) -> dbc.Table:
    """Python and library versions of A and B; rows that differ are highlighted."""
    la = _lineage(ra).get("libraries") or {}
    lb = _lineage(rb).get("libraries") or {}
    names = list(dict.fromkeys([*la, *lb]))
    pairs = [(name, la.get(name), lb.get(name)) for name in names]
    if not pairs:
        pairs = [("(none recorded)", None, None)]
    return dbc.Table(
        [_heads(label_a, label_b, "Library"), html.Tbody(_pair_rows(pairs))],
        size="sm",
        class_name="mb-0 align-middle",
    )


def settings_table(ra: Mapping[str, Any], rb: Mapping[str, Any], a: int, b: int) -> Any:
    """The training settings that differ between A and B (``settings_diff``)."""
    sa, sb = _lineage(ra).get("settings"), _lineage(rb).get("settings")
    if sa is None or sb is None:
        missing = ", ".join(f"v{v}" for v, s in ((a, sa), (b, sb)) if s is None)
        return html.Div(f"No settings were recorded for {missing}.", className="text-muted small")
    diff = settings_diff(sa, sb)
    if not diff:
        return html.Div(
            "Same training settings: nothing that shapes a model changed between them.",
            className="text-muted small settings-same",
        )
    return _table(
        ["Setting", f"v{a} (A)", f"v{b} (B)"],
        [[d["setting"], _text(d["before"]), _text(d["after"])] for d in diff],
        "settings-diff",
    )


def batch_ids(record: Mapping[str, Any]) -> list[int]:
    """Ids of the raw batches a version was trained from, per its lineage."""
    data = _lineage(record).get("data") or {}
    return [int(b["batch_id"]) for b in data.get("batches") or [] if "batch_id" in b]


def batches_table(found: pd.DataFrame, ids_a: list[int], ids_b: list[int], a: int, b: int) -> Any:
    """The raw batches behind A and B: file, kind, rows, arrival, and which version used each."""
    if found.empty and not (ids_a or ids_b):
        return html.Div("No data batches were recorded.", className="text-muted small")
    in_a, in_b = set(ids_a), set(ids_b)
    by_id = {int(r.batch_id): r for r in found.itertuples(index=False)}
    rows = []
    for batch in sorted(in_a | in_b, reverse=True):  # newest first: where A and B differ
        r = by_id.get(batch)
        arrived = "—" if r is None else f"{pd.Timestamp(r.arrived_at):%Y-%m-%d %H:%M}"
        rows.append(
            [
                f"#{batch}",
                "(no longer stored)" if r is None else _text(r.file_name),
                "—" if r is None else _text(r.kind),
                "—" if r is None else format_count(r.row_count),
                arrived,
                "✓" if batch in in_a else "",
                "✓" if batch in in_b else "",
            ]
        )
    only = len(in_a ^ in_b)
    note = (
        "Both versions were trained from the same batches."
        if only == 0
        else f"{only} batch(es) used by only one of them."
    )
    return html.Div(
        [
            html.Div(note, className="small text-muted mb-1"),
            html.Div(
                _table(
                    ["Batch", "File", "Kind", "Rows", "Arrived (UTC)", f"v{a}", f"v{b}"],
                    rows,
                    "lineage-batches",
                ),
                style={"maxHeight": "320px", "overflowY": "auto"},
            ),
        ]
    )


def lineage_section(wh: Warehouse, a: int, b: int, label_a: str, label_b: str) -> Any:
    """Everything the lineage card shows for versions ``a`` and ``b``."""
    ra, rb = reads.model_detail(wh, a), reads.model_detail(wh, b)
    if ra is None or rb is None:
        return html.Div("Choose two existing versions.", className="text-muted")
    ids_a, ids_b = batch_ids(ra), batch_ids(rb)
    found = reads.batches(wh, sorted(set(ids_a) | set(ids_b)))

    def block(title: str, body: Any) -> html.Div:
        return html.Div([html.H6(title, className="mt-3 mb-2"), body])

    return dbc.Row(
        [
            dbc.Col(
                [
                    block("Code, data and artefact", overview_table(ra, rb, label_a, label_b)),
                    block("Settings diff", settings_table(ra, rb, a, b)),
                    block("Library versions", libraries_table(ra, rb, label_a, label_b)),
                ],
                lg=6,
            ),
            dbc.Col(
                [
                    block("Durations", durations_table(ra, rb, label_a, label_b)),
                    block("Data batches", batches_table(found, ids_a, ids_b, a, b)),
                ],
                lg=6,
            ),
        ],
        class_name="g-4",
    )


def card_markdown(wh: Warehouse, version: int, target: str) -> str | None:
    """The model card of ``version`` in markdown, or None if there is no such version."""
    record = reads.model_detail(wh, version)
    if record is None:
        return None
    # Periods are dates; the read hands them over as midnight timestamps.
    for key in ("train_from", "train_to", "holdout_from", "holdout_to"):
        if isinstance(record.get(key), pd.Timestamp):
            record[key] = record[key].date()
    history = reads.alias_history(wh)
    mine = history[history["version"] == version].reset_index(drop=True)
    segments = reads.segment_metrics(wh, version, version)
    return model_card.render(record, segments, mine, target)


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


# The card's own markup: **bold** and `code`. Everything else is text, whatever it holds.
_INLINE = re.compile(r"(\*\*[^*]+\*\*|`[^`]+`)")


def _inline(text: str) -> str | list[Any]:
    """``text`` with the card's **bold** and `code` spans as elements, the rest as plain text."""
    if _INLINE.search(text) is None:
        return text
    out: list[Any] = []
    for i, part in enumerate(_INLINE.split(text)):
        if not part:
            continue
        if i % 2 == 0:
            out.append(part)
        elif part.startswith("**"):
            out.append(html.Strong(part[2:-2]))
        else:
            out.append(html.Code(part[1:-1]))
    return out


def _prose(lines: list[str]) -> list[Any]:
    """The card's prose as HTML elements: ``## `` headings, ``- `` lists (one level of
    ``  - `` nesting) and paragraphs.

    Deliberately not ``dcc.Markdown``: the card quotes data (column and category names, file
    names, comments), and markdown would turn ``[x](url)`` or ``![x](url)`` in them into live
    links and images. Here data can only ever be text.
    """
    out: list[Any] = []
    paragraph: list[str] = []
    items: list[html.Li] = []

    def flush() -> None:
        if paragraph:
            out.append(html.P(_inline(" ".join(paragraph)), className="mb-2"))
            paragraph.clear()
        if items:
            out.append(html.Ul(list(items), className="mb-2"))
            items.clear()

    for line in lines:
        if line.startswith("## "):
            flush()
            out.append(html.H6(_inline(line[3:]), className="mt-3 mb-1"))
        elif line.startswith("- "):
            if paragraph:
                flush()
            items.append(html.Li(_inline(line[2:])))
        elif line.startswith("  - ") and items:
            parent = items[-1]
            if not isinstance(parent.children, list):
                parent.children = [parent.children]
            if not (parent.children and isinstance(parent.children[-1], html.Ul)):
                parent.children.append(html.Ul([], className="mb-0"))
            parent.children[-1].children.append(html.Li(_inline(line[4:])))
        elif not line.strip():
            flush()
        else:
            if items:
                flush()
            paragraph.append(line.strip())
    flush()
    return out


def card_for_reading(text: str) -> list[Any]:
    """The card as the dialog shows it: its prose and its tables as HTML elements.

    The title line is left out (it is the dialog's title) and section headings are small (a
    page-sized heading inside a dialog shouts). All text, table cells included, is plain text.
    """
    lines = text.splitlines()
    if lines and lines[0].startswith("# "):
        lines = lines[1:]
    out: list[Any] = []
    prose: list[str] = []
    table: list[str] = []

    def flush() -> None:
        if prose:
            out.extend(_prose(prose))
            prose.clear()
        if table:
            head, rows = _cells(table[0]), [_cells(r) for r in table[2:]]
            out.append(_table(head, rows, "model-card-table mb-3"))
            table.clear()

    for line in lines:
        if line.startswith("|"):
            if prose:
                flush()
            table.append(line)
            continue
        if table:
            flush()
        prose.append(line)
    flush()
    return out


def card_file_name(version: int) -> str:
    """``model-card-v7.md``."""
    return f"model-card-v{version}.md"
