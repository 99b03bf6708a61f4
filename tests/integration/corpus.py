"""Malformed input files, written at test time into a given directory.

Each public function writes one file and returns its path. The files are small (except the
50 MB single line) and built from :func:`good_rows`, the same plausible customer rows as the
reference file that shapes the data contract, so each file differs from a good one in exactly
the way its name says.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path

COLUMNS: tuple[str, ...] = (
    "customer_id",
    "snapshot_month",
    "name",
    "email",
    "phone",
    "plan",
    "contract_type",
    "region",
    "tenure_months",
    "monthly_charges",
    "usage_gb",
    "support_tickets",
    "payment_method",
)
LABEL_COLUMNS: tuple[str, ...] = ("customer_id", "snapshot_month", "churned")
PLANS = ("Basic", "Standard", "Premium")
CONTRACTS = ("Monthly", "One year", "Two year")
REGIONS = ("North", "South", "East", "West", "Zürich")
PAYMENTS = ("Card", "Bank transfer", "Direct debit", "Chèque")
REFERENCE_MONTH = "2024-01-01"
MONTH = "2024-02-01"
BIG_LINE_BYTES = 50 * 1024 * 1024


def good_rows(n: int = 20, month: str = MONTH, start: int = 0) -> list[dict[str, str]]:
    """``n`` plausible customer rows for ``month``, ids ``C{start:05d}`` upwards."""
    rows = []
    for i in range(start, start + n):
        rows.append(
            {
                "customer_id": f"C{i:05d}",
                "snapshot_month": month,
                "name": f"Customer {i}",
                "email": f"customer{i}@example.com",
                "phone": f"+44 20 7946 {i % 10000:04d}",
                "plan": PLANS[i % 3],
                "contract_type": CONTRACTS[(i // 3) % 3],
                "region": REGIONS[i % len(REGIONS)],
                "tenure_months": str(1 + (i * 7) % 72),
                "monthly_charges": f"{20 + (i * 13) % 100}.{i % 100:02d}",
                # Up to ~2,000 GB, so 1,234.5 in a later file is plausible, not an outlier.
                "usage_gb": f"{(i * 37) % 2000}.5",
                "support_tickets": str(i % 6),
                "payment_method": PAYMENTS[i % len(PAYMENTS)],
            }
        )
    return rows


def _csv_text(
    rows: Iterable[Sequence[str] | dict[str, str]],
    header: Sequence[str] = COLUMNS,
    delimiter: str = ",",
    newline: str = "\n",
) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=newline)
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(c, "") for c in header] if isinstance(row, dict) else row)
    return buffer.getvalue()


def _write(directory: Path, name: str, data: str | bytes, encoding: str = "utf-8") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_bytes(data.encode(encoding) if isinstance(data, str) else data)
    return path


# -- the good file -------------------------------------------------------------------------------
def reference(directory: Path, rows: int = 200) -> Path:
    """The good reference file: ``rows`` customers of January 2024 (shapes the contract)."""
    return _write(directory, "reference.csv", _csv_text(good_rows(rows, REFERENCE_MONTH)))


def february(directory: Path) -> Path:
    """A good file of February (nothing wrong with it)."""
    return _write(directory, "february.csv", _csv_text(good_rows(10)))


def february_parquet(directory: Path) -> Path:
    """The good February rows as Parquet, every column text as in the CSV."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = good_rows(10)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "february.parquet"
    pq.write_table(pa.table({c: [r[c] for r in rows] for c in COLUMNS}), path)
    return path


def february_jsonl(directory: Path) -> Path:
    """The good February rows as JSON Lines."""
    lines = [json.dumps({c: r[c] for c in COLUMNS}) for r in good_rows(10)]
    return _write(directory, "february.jsonl", "\n".join(lines) + "\n")


# -- whole-file problems -------------------------------------------------------------------------
def empty(directory: Path) -> Path:
    """0 bytes."""
    return _write(directory, "empty.csv", b"")


def header_only(directory: Path) -> Path:
    """A header line and nothing else."""
    return _write(directory, "header_only.csv", _csv_text([]))


def semicolon(directory: Path) -> Path:
    """Every line separated by ';' instead of ','."""
    return _write(directory, "semicolon.csv", _csv_text(good_rows(), delimiter=";"))


def duplicated_header(directory: Path) -> Path:
    """The header names ``region`` twice."""
    header = [*COLUMNS, "region"]
    rows = [[*(r[c] for c in COLUMNS), "Elsewhere"] for r in good_rows(5)]
    return _write(directory, "duplicated_header.csv", _csv_text(rows, header))


def truncated_parquet(directory: Path) -> Path:
    """A valid Parquet file cut in half."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = good_rows(50)
    table = pa.table({c: [r[c] for r in rows] for c in COLUMNS})
    sink = io.BytesIO()
    pq.write_table(table, sink)
    data = sink.getvalue()
    return _write(directory, "truncated.parquet", data[: len(data) // 2])


def other_schema_parquet(directory: Path) -> Path:
    """Parquet with native types (int id, timestamp month), a new column and missing ones."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = good_rows(10)
    table = pa.table(
        {
            "customer_id": pa.array([1000 + i for i in range(len(rows))], pa.int64()),
            "snapshot_month": pa.array([datetime(2024, 2, 1)] * len(rows), pa.timestamp("us")),
            "plan": [r["plan"] for r in rows],
            "region": [r["region"] for r in rows],
            "tenure_months": pa.array([int(r["tenure_months"]) for r in rows], pa.int32()),
            "monthly_charges": [float(r["monthly_charges"]) for r in rows],
            "loyalty_points": pa.array([i * 10 for i in range(len(rows))], pa.int64()),
        }
    )
    path = directory / "other_schema.parquet"
    directory.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return path


def broken_jsonl(directory: Path) -> Path:
    """JSON Lines whose second record is cut off mid-object."""
    rows = good_rows(3)
    lines = [json.dumps({c: r[c] for c in COLUMNS}) for r in (rows[0], rows[2])]
    broken = '{"customer_id": "C00001", "snapshot_month": "2024-02-01", "plan": "Ba'
    return _write(directory, "broken.jsonl", "\n".join([lines[0], broken, lines[1]]) + "\n")


def xlsx(directory: Path) -> Path:
    """A (minimal) Excel workbook: a zip of XML parts."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as book:
        book.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/'
            '2006/content-types"/>',
        )
        book.writestr(
            "xl/worksheets/sheet1.xml",
            '<worksheet><sheetData><row><c t="inlineStr"><is><t>customer_id</t></is></c>'
            "</row></sheetData></worksheet>",
        )
    return _write(directory, "customers.xlsx", buffer.getvalue())


# -- line and field problems ---------------------------------------------------------------------
RAGGED_LINE = 5  # file line number (the header is line 1)


def ragged(directory: Path) -> Path:
    """Ten rows; the one on file line :data:`RAGGED_LINE` has one field too many."""
    text = _csv_text(good_rows(10)).splitlines(keepends=True)
    text[RAGGED_LINE - 1] = text[RAGGED_LINE - 1].rstrip("\n") + ",surplus\n"
    return _write(directory, "ragged.csv", "".join(text))


def big_line(directory: Path) -> Path:
    """Three rows; the middle one's ``payment_method`` is a single 50 MB field.

    Written in chunks so the test process never holds the 50 MB line as one string.
    """
    rows = good_rows(3)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "big_line.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(_csv_text(rows[:1]))
        middle = dict(rows[1], payment_method="")
        handle.write(_csv_text([middle]).splitlines()[1])  # ends with the empty last field
        chunk = "x" * (1 << 20)
        for _ in range(BIG_LINE_BYTES // len(chunk)):
            handle.write(chunk)
        handle.write("\n")
        handle.write(_csv_text(rows[2:]).split("\n", 1)[1])
    return path


def wrong_types(directory: Path) -> Path:
    """Ten rows; rows 3 and 7 (data rows) hold ``abc`` in ``tenure_months``."""
    rows = good_rows(10)
    for i in (2, 6):
        rows[i]["tenure_months"] = "abc"
    return _write(directory, "wrong_types.csv", _csv_text(rows))


def latin1(directory: Path) -> Path:
    """Latin-1 encoded text: ``Zürich`` regions and ``Chèque`` payments."""
    rows = good_rows(10)
    for r in rows:
        r["region"] = "Zürich"
        r["payment_method"] = "Chèque"
        r["name"] = "Zoë Müller"
    return _write(directory, "latin1.csv", _csv_text(rows), encoding="latin-1")


def utf8_bom(directory: Path) -> Path:
    """UTF-8 with a byte-order mark before ``customer_id``."""
    return _write(directory, "bom.csv", "\ufeff" + _csv_text(good_rows(10)))


QUOTED_NEWLINE = "Bank\ntransfer"


def quoted_newlines(directory: Path) -> Path:
    """``payment_method`` values with a newline inside a quoted field."""
    rows = good_rows(6)
    for r in rows[::2]:
        r["payment_method"] = QUOTED_NEWLINE
    return _write(directory, "quoted_newlines.csv", _csv_text(rows))


def all_null_column(directory: Path, rows: int = 12) -> Path:
    """``usage_gb`` is empty in every row."""
    data = good_rows(rows)
    for r in data:
        r["usage_gb"] = ""
    return _write(directory, "all_null_usage.csv", _csv_text(data))


def crlf(directory: Path) -> Path:
    """Windows line endings."""
    return _write(directory, "crlf.csv", _csv_text(good_rows(10), newline="\r\n"))


FORMULAS = ('=HYPERLINK("http://evil.example","click")', "+1", "@SUM(A1:A9)", "-2+3")


def formula_cells(directory: Path) -> Path:
    """Spreadsheet-formula-looking text in ``payment_method``."""
    rows = good_rows(len(FORMULAS))
    for r, formula in zip(rows, FORMULAS, strict=True):
        r["payment_method"] = formula
    return _write(directory, "formulas.csv", _csv_text(rows))


def thousands_separators(directory: Path) -> Path:
    """``usage_gb`` written as a quoted ``"1,234.50"`` in every row."""
    rows = good_rows(5)
    for r in rows:
        r["usage_gb"] = "1,234.50"
    return _write(directory, "thousands.csv", _csv_text(rows))


# -- schema problems -----------------------------------------------------------------------------
def missing_column(directory: Path) -> Path:
    """No ``usage_gb`` column."""
    header = [c for c in COLUMNS if c != "usage_gb"]
    return _write(directory, "missing_usage.csv", _csv_text(good_rows(10), header))


def extra_column(directory: Path) -> Path:
    """A new ``loyalty_points`` column."""
    rows = good_rows(10)
    for i, r in enumerate(rows):
        r["loyalty_points"] = str(i * 100)
    return _write(directory, "extra_column.csv", _csv_text(rows, [*COLUMNS, "loyalty_points"]))


def renamed_column(directory: Path) -> Path:
    """``monthly_charges`` renamed to ``monthly_charge``."""
    rows = good_rows(10)
    for r in rows:
        r["monthly_charge"] = r.pop("monthly_charges")
    header = ["monthly_charge" if c == "monthly_charges" else c for c in COLUMNS]
    return _write(directory, "renamed_column.csv", _csv_text(rows, header))


def unseen_category(directory: Path) -> Path:
    """One row in region ``Atlantis``, never seen in the reference."""
    rows = good_rows(5)
    rows[1]["region"] = "Atlantis"
    return _write(directory, "unseen_category.csv", _csv_text(rows))


def pii_contact(directory: Path) -> Path:
    """A ``contact`` column full of e-mail addresses, not configured as PII."""
    rows = good_rows(10)
    for r in rows:
        r["contact"] = r["email"]
    header = [c for c in COLUMNS if c != "email"] + ["contact"]
    return _write(directory, "pii_contact.csv", _csv_text(rows, header))


# -- key, time and label problems ----------------------------------------------------------------
def duplicate_key(directory: Path) -> Path:
    """Rows 2 and 4 (data rows) share customer id and month but differ in ``plan``."""
    rows = good_rows(4)
    rows[3] = dict(rows[1], plan="Premium" if rows[1]["plan"] != "Premium" else "Basic")
    return _write(directory, "duplicate_key.csv", _csv_text(rows))


MIXED_DATES = {"C00000": "2024-01-01", "C00001": "01/02/2024", "C00002": "2024/03/01"}


def mixed_dates(directory: Path) -> Path:
    """Three rows whose months are written ISO, day/month/year and year/month/day."""
    rows = good_rows(3)
    for r in rows:
        r["snapshot_month"] = MIXED_DATES[r["customer_id"]]
    return _write(directory, "mixed_dates.csv", _csv_text(rows))


def third_label(directory: Path) -> Path:
    """Labels for January with values 0, 1 and 2."""
    rows = [[f"C{i:05d}", REFERENCE_MONTH, str(i % 3)] for i in range(6)]
    return _write(directory, "labels_third_value.csv", _csv_text(rows, LABEL_COLUMNS))
