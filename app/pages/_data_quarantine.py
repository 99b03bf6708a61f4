"""Quarantined rows for the browser and for download: formula-safe, PII already masked.

The read (:func:`reads_data.quarantine_rows`) masks personal data inside DuckDB; this module
makes every text cell safe to open in a spreadsheet and shapes the rows for dash-ag-grid.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from pipeline.warehouse import reads_data as reads

PAGE_LIMIT = 5_000  # rows sent to the grid; narrower filters reach the rest
DOWNLOAD_LIMIT = 50_000  # rows in one CSV download
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
WIDTHS = {"batch_id": 100, "file_name": 200, "row_number": 120, "rule": 160, "reason": 380}
FIXED_HEADERS = {
    "batch_id": "Batch",
    "file_name": "File",
    "row_number": "Row in file",
    "rule": "Rule",
    "reason": "Reason",
}


def neutralise(value: Any) -> Any:
    """A cell that a spreadsheet would run as a formula, prefixed with ``'`` so it stays text.

    Text starting with ``=``, ``+``, ``-`` or ``@`` (and tab or carriage return, which some
    spreadsheets skip before a formula) gets a leading single quote; everything else, including
    numbers, is returned unchanged.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with :func:`neutralise` applied to every text cell and header."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = [neutralise(v) for v in out[column]]
    out.columns = [neutralise(str(c)) for c in out.columns]
    return out


def without_empty_fields(frame: pd.DataFrame) -> pd.DataFrame:
    """Drop record fields that are empty in every row (e.g. the target in a features file)."""
    empty = [c for c in frame.columns[len(reads.QUARANTINE_FIXED) :] if frame[c].isna().all()]
    return frame.drop(columns=empty)


def _cell(value: Any) -> Any:
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        return value
    if hasattr(value, "item"):  # numpy scalars are not JSON
        return value.item()
    return value


def grid_data(frame: pd.DataFrame) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``(columnDefs, rowData)`` for dash-ag-grid.

    Fields are positional (``c0``, ``c1``, ...) so no column name is ever read by the grid as a
    nested path; headers carry the names. Cells are neutralised and rendered as plain text.
    """
    kept = without_empty_fields(frame)
    safe = neutralise_frame(kept)
    names = list(kept.columns)
    columns = []
    for i, name in enumerate(names):
        spec: dict[str, Any] = {
            "field": f"c{i}",
            "headerName": FIXED_HEADERS.get(name, name),
            "width": WIDTHS.get(name, 150),
        }
        if name in ("batch_id", "row_number"):
            spec |= {"filter": "agNumberColumnFilter", "cellDataType": "number"}
        else:
            # Record values stay text: a date-looking string must not become a date filter.
            spec |= {"cellDataType": "text"}
        if name == "reason":
            spec |= {"tooltipField": f"c{i}", "wrapText": True, "autoHeight": True}
        columns.append(spec)
    rows = [
        {f"c{i}": _cell(v) for i, v in enumerate(values)}
        for values in safe.itertuples(index=False, name=None)
    ]
    return columns, rows


def csv_text(frame: pd.DataFrame) -> str:
    """The rows as CSV with readable headers; every text cell neutralised."""
    data = without_empty_fields(frame).rename(columns=FIXED_HEADERS)
    return neutralise_frame(data).to_csv(index=False)


def page_note(shown: int, total: int, masked: bool) -> str:
    """What the grid holds, in words."""
    if total == 0:
        return "No quarantined rows match these filters."
    if shown < total:
        text = (
            f"Showing the first {shown:,} of {total:,} matching rows; choose a batch or rule, or "
            "search, to see the others."
        )
    elif total == 1:
        text = "Showing the one matching row."
    else:
        text = f"Showing all {total:,} matching rows."
    text += " Sort and filter any column in its header."
    if masked:
        text += f" Columns that look like personal data are masked ({reads.MASK})."
    return text
