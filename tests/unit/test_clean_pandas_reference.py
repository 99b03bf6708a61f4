"""The cleaning benchmark's pandas reference finds the PII suspects the warehouse's scan finds.

``benchmarks/_clean_pandas.py`` must do the same steps as the DuckDB path for the benchmark's
ratio to mean anything; the demo's files flag no suspect, so this checks the PII scan on a file
that has some: e-mails, phone numbers and names mixed with values that are not, null tokens and
blanks, in the first sample rows and after them.
"""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest

from benchmarks import _clean_pandas
from pipeline.warehouse import cleaning, pii_scan

ROWS = [
    # id, contact (e-mails), tel (phones), person (names), note (free text), plan
    ["C1", "ana@example.com", "+1 555 010 1234", "Ana Lima", "called twice", "Basic"],
    ["C2", "bo@example.org", "555-010-9876", "Bo Chen", "N/A", "Premium"],
    ["C3", "not an email", "12345", "bo chen", "", "basic"],
    ["C4", "cy@example.co.uk", "(555) 010-4444", "Cy O'Neil", "Ana Lima", "Basic"],
    ["C5", "n/a", "+44 20 7946 0018", "Di Park-Lee", "x", "Premium"],
    ["C6", "ed@example.com", "phone me", "Ed", "Ed Woods", "Basic"],
    ["C7", "", "555 010 7777", "Fay Nunes", "-", "Basic"],
]


def _write(path: Path, rows: list[list[str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "contact", "tel", "person", "note", "plan"])
        writer.writerows(rows)


@pytest.mark.parametrize("sample_rows", [5000, 4])
def test_pandas_reference_flags_the_same_pii_suspects_as_the_warehouse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sample_rows: int
) -> None:
    monkeypatch.setattr(pii_scan, "SAMPLE_ROWS", sample_rows)
    monkeypatch.setattr(_clean_pandas, "SAMPLE_ROWS", sample_rows)
    path = tmp_path / "people.csv"
    _write(path, ROWS)
    cur = duckdb.connect()
    columns = cleaning.stage_file(cur, str(path), ".csv")
    warehouse = pii_scan.scan_for_pii(cur, 1, columns, {"id"})

    pandas = _clean_pandas.pii_suspects(_clean_pandas.read_raw(path), {"id"})

    assert [(c, k) for c, k, _ in pandas] == [(c, k) for c, k, _ in warehouse]
    assert [s for _, _, s in pandas] == pytest.approx([s for _, _, s in warehouse])
    kinds = {c: k for c, k, _ in warehouse}
    assert {k: kinds.get(k) for k in ("contact", "tel", "person", "plan")} == {
        "contact": "email",
        "tel": "phone",
        "person": "name",
        "plan": None,
    }
