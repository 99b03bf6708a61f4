"""Malformed input files: the app stays up, nothing is lost, and every message says what to do.

Each case first has a good reference file ingested (so a data contract exists), then ingests
one file from :mod:`tests.integration.corpus` with the ingest, validate and clean steps, and
reads what the warehouse recorded. :meth:`Lab.ingest` checks the invariants every case shares:
the run does not fail, the raw copy is byte-identical to the input, and an accepted batch
accounts for every row (``rows_in == accepted + quarantined``).
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from pipeline.runner import Runner
from pipeline.settings import Settings, load_settings
from pipeline.warehouse import Warehouse
from pipeline.warehouse import batches as batch_store
from tests.integration import corpus

# Phrases that tell a person what to do about a problem.
ADVICE = ("send ", "re-send", "rename", "change the setting", "check the", "fix ", "add it")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _advises(message: str | None, *also: str) -> bool:
    text = (message or "").lower()
    return any(phrase in text for phrase in (*ADVICE, *also))


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("PLUMBLINE_")}


@dataclass
class Ingested:
    """What one ingest run did with one file."""

    path: Path
    run_id: int
    batch_id: int | None  # None when the file was not registered as a batch
    report: dict[str, Any] | None
    ingest_detail: dict[str, Any]

    @property
    def status(self) -> str | None:
        return self.report["status"] if self.report else None

    @property
    def message(self) -> str:
        return str(self.report["message"] or "") if self.report else ""


class Lab:
    """A data dir with the reference batch ingested, its warehouse and a runner."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.wh = Warehouse(settings.warehouse_path)
        self.runner = Runner(settings, self.wh)

    def close(self) -> None:
        self.runner.shutdown()
        self.wh.close()

    def ingest(self, path: Path) -> Ingested:
        """Ingest ``path`` and check the invariants every malformed input must keep."""
        digest = _sha256(path)
        known_before = batch_store.batch_by_hash(self.wh)
        request, reason = self.runner.run_now(
            "test", None, steps=("ingest", "validate", "clean"), paths=[path]
        )
        # (a) the app stays up: the run itself does not fail, whatever the file holds
        assert request.started, request.message
        assert reason is None, f"the run failed on {path.name}: {reason}"
        assert _sha256(path) == digest, "ingest changed the input file"
        detail = json.loads(
            self.wh.scalar(
                "SELECT detail FROM run_steps WHERE run_id = ? AND step = 'ingest'",
                [request.run_id],
            )
        )
        known = batch_store.batch_by_hash(self.wh)
        if digest not in known or digest in known_before:
            return Ingested(path, request.run_id, None, None, detail)
        batch_id = known[digest][0]
        report = batch_store.batch_reports(self.wh, [batch_id])[batch_id]
        # (b) nothing is lost: a byte-identical copy in the raw layer ...
        stored = Path(
            self.wh.scalar("SELECT stored_path FROM raw_batches WHERE batch_id = ?", [batch_id])
        )
        assert stored.parent == self.settings.raw_dir
        assert _sha256(stored) == digest, "the raw copy differs from the input"
        assert report["status"] in ("accepted", "rejected"), report
        if report["status"] == "accepted":
            # ... and every row accepted or quarantined, none dropped silently
            assert report["rows_in"] == report["accepted"] + report["quarantined"], report
            assert report["quarantined"] == len(self.quarantine(batch_id))
        else:
            # (c) a rejection names the file
            assert report["message"].startswith(f"{path.name}: "), report["message"]
        return Ingested(path, request.run_id, batch_id, report, detail)

    def quarantine(self, batch_id: int) -> list[tuple[int, str, str, str | None]]:
        """(row number, rule, reason, record) of a batch's quarantined rows, by row number."""
        return self.wh.rows(
            "SELECT row_number, rule, reason, record FROM quarantine WHERE batch_id = ? "
            "ORDER BY row_number",
            [batch_id],
        )

    def schema_changes(self, batch_id: int) -> list[tuple[str, str | None, str, str]]:
        """(kind, column name, message, action) recorded for a batch."""
        return self.wh.rows(
            "SELECT kind, column_name, message, action FROM schema_changes WHERE batch_id = ?",
            [batch_id],
        )

    def clean(self, batch_id: int, *columns: str) -> list[tuple]:
        """The batch's rows in ``clean_rows`` (given columns, by customer id)."""
        select = ", ".join(f'"{c}"' for c in columns)
        return self.wh.rows(
            f"SELECT {select} FROM clean_rows WHERE _batch_id = ? ORDER BY customer_id",
            [batch_id],
        )


@pytest.fixture(scope="session")
def reference_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir where the good reference file is batch #1 and shaped the data contract."""
    root = tmp_path_factory.mktemp("reference")
    with pytest.MonkeyPatch.context() as patch:
        for key in [k for k in os.environ if k.startswith("PLUMBLINE_")]:
            patch.delenv(key)
        lab = Lab(load_settings(data_dir=root / "data"))
        try:
            done = lab.ingest(corpus.reference(root / "files"))
        finally:
            lab.close()
    assert done.status == "accepted" and done.report["accepted"] == 200, done.report
    return root / "data"


@pytest.fixture
def make_lab(
    reference_data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., Lab]]:
    """Build a :class:`Lab` on a copy of the reference data dir; keywords override settings."""
    for key in [k for k in os.environ if k.startswith("PLUMBLINE_")]:
        monkeypatch.delenv(key)
    data = tmp_path / "data"
    shutil.copytree(reference_data_dir, data)
    labs: list[Lab] = []

    def make(**overrides: Any) -> Lab:
        lab = Lab(load_settings(data_dir=data, **overrides))
        labs.append(lab)
        return lab

    yield make
    for lab in labs:
        lab.close()


@pytest.fixture
def lab(make_lab: Callable[..., Lab]) -> Lab:
    """A :class:`Lab` with default (demo) settings."""
    return make_lab()


@pytest.fixture
def files(tmp_path: Path) -> Path:
    """Where the corpus files of a test are written (outside the data dir)."""
    return tmp_path / "files"


# -- whole-file problems -------------------------------------------------------------------------
def test_an_empty_file_is_rejected_as_empty(lab: Lab, files: Path) -> None:
    done = lab.ingest(corpus.empty(files))
    assert done.status == "rejected"
    assert "the file is empty" in done.message
    assert _advises(done.message)


def test_a_header_only_file_is_rejected_as_having_no_rows(lab: Lab, files: Path) -> None:
    done = lab.ingest(corpus.header_only(files))
    assert done.status == "rejected"
    assert "header but no rows" in done.message
    assert _advises(done.message), done.message


def test_a_semicolon_file_is_read_by_delimiter_detection(lab: Lab, files: Path) -> None:
    done = lab.ingest(corpus.semicolon(files))
    assert done.status == "accepted", done.message
    assert done.report["accepted"] == 20 and done.report["quarantined"] == 0


def test_a_wrong_delimiter_setting_rejects_the_file_naming_the_delimiter_and_setting(
    make_lab: Callable[..., Lab], files: Path
) -> None:
    lab = make_lab(ingest={"csv_delimiter": ","})
    done = lab.ingest(corpus.semicolon(files))
    assert done.status == "rejected", done.report
    assert "customer_id;snapshot_month" in done.message
    assert "';' as its delimiter" in done.message and "ingest.csv_delimiter" in done.message


def test_a_semicolon_file_is_accepted_when_the_delimiter_setting_says_so(
    make_lab: Callable[..., Lab], files: Path
) -> None:
    lab = make_lab(ingest={"csv_delimiter": ";"})
    done = lab.ingest(corpus.semicolon(files))
    assert done.status == "accepted", done.message
    assert done.report["accepted"] == 20 and done.report["quarantined"] == 0


def test_a_header_that_repeats_a_column_name_is_rejected(lab: Lab, files: Path) -> None:
    done = lab.ingest(corpus.duplicated_header(files))
    assert done.status == "rejected"
    assert "repeats the column name" in done.message and "region" in done.message
    assert _advises(done.message, "its own name")


@pytest.mark.parametrize(
    "write", [corpus.february_parquet, corpus.february_jsonl], ids=["parquet", "jsonl"]
)
def test_well_formed_parquet_and_jsonl_files_are_accepted(
    lab: Lab, files: Path, write: Callable[[Path], Path]
) -> None:
    # The control for the Parquet and JSON Lines cases below: the format alone is no problem.
    done = lab.ingest(write(files))
    assert done.status == "accepted", done.message
    assert done.report["accepted"] == 10 and done.report["quarantined"] == 0


def test_a_truncated_parquet_file_is_rejected_and_its_bytes_kept(lab: Lab, files: Path) -> None:
    done = lab.ingest(corpus.truncated_parquet(files))
    assert done.status == "rejected"
    assert "cannot parse the file" in done.message
    assert _advises(done.message), done.message


def test_a_parquet_file_with_another_schema_is_handled_with_the_changes_described(
    lab: Lab, files: Path
) -> None:
    done = lab.ingest(corpus.other_schema_parquet(files))
    changes = lab.schema_changes(done.batch_id)
    described = {(kind, column) for kind, column, _, _ in changes}
    if done.status == "accepted":
        assert done.report["accepted"] == 10, done.report
        assert ("new_column", "loyalty_points") in described, changes
        for gone in ("contract_type", "usage_gb", "support_tickets", "payment_method"):
            assert ("missing_column", gone) in described, changes
    else:
        assert "loyalty_points" in done.message or described, done.message


def test_a_jsonl_file_with_a_broken_line_names_the_line(lab: Lab, files: Path) -> None:
    done = lab.ingest(corpus.broken_jsonl(files))
    if done.status == "accepted":
        malformed = [q for q in lab.quarantine(done.batch_id) if q[1] == "malformed_line"]
        assert [q[0] for q in malformed] == [2], malformed
        assert "line 2" in malformed[0][2] and _advises(malformed[0][2])
        assert done.report["accepted"] == 2
    else:
        assert "line 2" in done.message, done.message
        assert _advises(done.message), done.message


def test_an_unsupported_file_type_is_not_ingested_and_the_run_says_so(
    lab: Lab, files: Path
) -> None:
    path = corpus.xlsx(files)
    batches = lab.wh.scalar("SELECT count(*) FROM raw_batches")
    done = lab.ingest(path)
    assert done.batch_id is None, f"{path.name} was registered as a batch: {done.report}"
    assert lab.wh.scalar("SELECT count(*) FROM raw_batches") == batches
    # The run record is the only place an in-process ingest can tell people why.
    assert path.name in json.dumps(done.ingest_detail), done.ingest_detail


# -- line and field problems ---------------------------------------------------------------------
def test_a_line_with_too_many_fields_is_quarantined_with_its_line_number(
    lab: Lab, files: Path
) -> None:
    done = lab.ingest(corpus.ragged(files))
    assert done.status == "accepted"
    assert done.report["accepted"] == 9 and done.report["rules"] == {"malformed_line": 1}
    ((row, rule, reason, _),) = lab.quarantine(done.batch_id)
    assert (row, rule) == (corpus.RAGGED_LINE, "malformed_line")
    assert f"line {corpus.RAGGED_LINE}" in reason and _advises(reason)


# Slow: parsing a 50 MB line takes DuckDB ~16 s, most of it before it gives up on the line.
@pytest.mark.slow
def test_a_50_mb_single_line_is_set_aside_without_exhausting_memory(lab: Lab, files: Path) -> None:
    path = corpus.big_line(files)
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    done = lab.ingest(path)
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before) / 1024
    assert grown_mib < 1024, f"peak memory grew by {grown_mib:.0f} MiB for a 50 MB line"
    if done.status == "accepted":
        assert done.report["accepted"] == 2, done.report
        ((row, rule, reason, record),) = lab.quarantine(done.batch_id)
        assert (row, rule) == (3, "malformed_line")
        assert "line 3" in reason and ("line size" in reason or "maximum" in reason), reason
        assert record is None or len(record) < 10_000, "the 50 MB field was copied"
    else:
        assert "line 3" in done.message or "size" in done.message, done.message
        assert _advises(done.message), done.message


def test_text_in_a_numeric_column_quarantines_the_row_naming_that_column(
    lab: Lab, files: Path
) -> None:
    done = lab.ingest(corpus.wrong_types(files))
    assert done.status == "accepted"
    assert done.report["accepted"] == 8 and done.report["rules"] == {"invalid_number": 2}
    quarantined = lab.quarantine(done.batch_id)
    assert [q[0] for q in quarantined] == [3, 7]  # data rows 3 and 7
    for _, rule, reason, record in quarantined:
        assert rule == "invalid_number"
        assert json.loads(record)["tenure_months"] == "abc"
        # The reason must say which column is wrong, not list every numeric column.
        assert "tenure_months" in reason and "usage_gb" not in reason, reason
        assert _advises(reason), reason


def test_latin1_text_is_read_as_the_same_characters(lab: Lab, files: Path) -> None:
    done = lab.ingest(corpus.latin1(files))
    assert done.status == "accepted", done.message
    assert done.report["accepted"] == 10
    values = set(lab.clean(done.batch_id, "region", "payment_method"))
    assert values == {("Zürich", "Chèque")}


def test_a_utf8_bom_is_not_part_of_the_first_column_name(lab: Lab, files: Path) -> None:
    done = lab.ingest(corpus.utf8_bom(files))
    assert done.status == "accepted", done.message
    assert done.report["accepted"] == 10
    ids = [r[0] for r in lab.clean(done.batch_id, "customer_id")]
    assert ids == [f"C{i:05d}" for i in range(10)]
    assert not [c for c in lab.schema_changes(done.batch_id) if "\ufeff" in str(c)]


def test_a_quoted_newline_stays_inside_its_field(lab: Lab, files: Path) -> None:
    done = lab.ingest(corpus.quoted_newlines(files))
    assert done.status == "accepted", done.message
    assert done.report["accepted"] == 6 and done.report["quarantined"] == 0
    payments = [r[0] for r in lab.clean(done.batch_id, "payment_method")]
    assert payments[::2] == [corpus.QUOTED_NEWLINE] * 3


def test_an_all_empty_column_counts_every_row_as_missing(lab: Lab, files: Path) -> None:
    done = lab.ingest(corpus.all_null_column(files, rows=12))
    assert done.status == "accepted"
    assert done.report["accepted"] == 12
    assert [r[0] for r in lab.clean(done.batch_id, "usage_gb")] == [None] * 12
    per_column = lab.wh.rows(
        "SELECT rows, missing FROM batch_column_stats WHERE batch_id = ? "
        "AND column_name = 'usage_gb'",
        [done.batch_id],
    )
    if per_column:
        assert per_column == [(12, 12)]
    else:  # every other column is filled, so all of the batch's nulls are usage_gb's
        nulls = lab.wh.scalar(
            "SELECT nulls_found FROM batch_stats WHERE batch_id = ?", [done.batch_id]
        )
        assert nulls == 12


def test_crlf_line_endings_are_accepted(lab: Lab, files: Path) -> None:
    done = lab.ingest(corpus.crlf(files))
    assert done.status == "accepted", done.message
    assert done.report["accepted"] == 10 and done.report["quarantined"] == 0
    last_column = {r[0] for r in lab.clean(done.batch_id, "payment_method")}
    assert not any("\r" in v for v in last_column), last_column


def test_formula_like_cells_are_stored_as_plain_text(lab: Lab, files: Path) -> None:
    done = lab.ingest(corpus.formula_cells(files))
    assert done.status == "accepted", done.message
    assert done.report["accepted"] == len(corpus.FORMULAS)
    stored = [r[0] for r in lab.clean(done.batch_id, "payment_method")]
    assert stored == list(corpus.FORMULAS)


def test_numbers_with_thousands_separators_are_parsed(lab: Lab, files: Path) -> None:
    done = lab.ingest(corpus.thousands_separators(files))
    assert done.status == "accepted"
    assert done.report["accepted"] == 5 and done.report["quarantined"] == 0
    assert [r[0] for r in lab.clean(done.batch_id, "usage_gb")] == [1234.5] * 5


# -- schema problems -----------------------------------------------------------------------------
def test_a_missing_column_is_accepted_and_recorded_as_a_schema_change(
    lab: Lab, files: Path
) -> None:
    done = lab.ingest(corpus.missing_column(files))
    assert done.status == "accepted"
    assert done.report["accepted"] == 10
    changes = lab.schema_changes(done.batch_id)
    missing = [c for c in changes if c[:2] == ("missing_column", "usage_gb")]
    assert missing and _advises(missing[0][2]), changes


def test_an_extra_column_is_accepted_and_recorded_as_new(lab: Lab, files: Path) -> None:
    done = lab.ingest(corpus.extra_column(files))
    assert done.status == "accepted"
    assert done.report["accepted"] == 10
    changes = lab.schema_changes(done.batch_id)
    new = [c for c in changes if c[:2] == ("new_column", "loyalty_points")]
    assert new and _advises(new[0][2]), changes


def test_a_renamed_column_is_recorded_with_both_names(lab: Lab, files: Path) -> None:
    done = lab.ingest(corpus.renamed_column(files))
    assert done.status == "accepted", done.message
    changes = lab.schema_changes(done.batch_id)
    renamed = [c for c in changes if c[0] == "renamed_column"]
    assert renamed, changes
    assert "'monthly_charge'" in renamed[0][2] and "'monthly_charges'" in renamed[0][2]
    assert _advises(renamed[0][2]), renamed


def test_an_unseen_category_is_accepted_with_a_warning(lab: Lab, files: Path) -> None:
    done = lab.ingest(corpus.unseen_category(files))
    assert done.status == "accepted"
    assert done.report["accepted"] == 5 and done.report["quarantined"] == 0
    assert ("Atlantis",) in lab.clean(done.batch_id, "region")
    unseen = [c for c in lab.schema_changes(done.batch_id) if c[0] == "unseen_category"]
    assert unseen and unseen[0][1] == "region" and "Atlantis" in unseen[0][2], unseen
    assert unseen[0][3] == "warned"
    assert _advises(unseen[0][2], "add them to the contract"), unseen


def test_an_email_column_not_configured_as_pii_is_flagged(lab: Lab, files: Path) -> None:
    done = lab.ingest(corpus.pii_contact(files))
    assert done.status == "accepted"
    suspects = lab.wh.rows("SELECT column_name, kind FROM pii_suspects")
    assert ("contact", "email") in suspects, suspects


# -- key, time and label problems ----------------------------------------------------------------
def test_a_third_target_value_is_quarantined_as_an_invalid_label(lab: Lab, files: Path) -> None:
    done = lab.ingest(corpus.third_label(files))
    assert done.status == "accepted"
    assert done.report["labels"] == 4 and done.report["rules"] == {"invalid_label": 2}
    for row, rule, reason, record in lab.quarantine(done.batch_id):
        assert rule == "invalid_label" and json.loads(record)["churned"] == "2"
        assert row in (3, 6)
        assert "churned" in reason, reason


def test_a_repeated_entity_time_key_keeps_the_later_row(lab: Lab, files: Path) -> None:
    done = lab.ingest(corpus.duplicate_key(files))
    assert done.status == "accepted"
    assert done.report["accepted"] == 3 and done.report["rules"] == {"duplicate_key": 1}
    ((row, _, reason, record),) = lab.quarantine(done.batch_id)
    assert row == 2 and "later" in reason
    kept = dict(lab.clean(done.batch_id, "customer_id", "plan"))
    assert kept["C00001"] != json.loads(record)["plan"]


def test_mixed_date_formats_are_parsed_iso_first_then_day_month_year(lab: Lab, files: Path) -> None:
    done = lab.ingest(corpus.mixed_dates(files))
    assert done.status == "accepted"
    assert done.report["rules"] == {}, lab.quarantine(done.batch_id)
    assert lab.clean(done.batch_id, "customer_id", "snapshot_month") == [
        ("C00000", datetime(2024, 1, 1)),
        ("C00001", datetime(2024, 2, 1)),  # 01/02/2024 is day/month/year
        ("C00002", datetime(2024, 3, 1)),
    ]
    noted = [c for c in lab.schema_changes(done.batch_id) if c[1] == "snapshot_month"]
    assert noted and "format" in noted[0][2].lower(), noted
    assert _advises(noted[0][2]), noted


def test_the_same_file_twice_is_ingested_once(lab: Lab, files: Path) -> None:
    path = corpus.february(files)
    first = lab.ingest(path)
    assert first.status == "accepted"
    batches = lab.wh.scalar("SELECT count(*) FROM raw_batches")
    rows = lab.wh.scalar("SELECT count(*) FROM clean_rows")
    again = lab.ingest(path)
    assert again.batch_id is None
    assert again.ingest_detail["already_ingested"] == 1
    assert again.ingest_detail["new_batches"] == 0
    assert lab.wh.scalar("SELECT count(*) FROM raw_batches") == batches
    assert lab.wh.scalar("SELECT count(*) FROM clean_rows") == rows


# -- through the real command line ---------------------------------------------------------------
def _ingest_cli(data: Path, path: Path) -> subprocess.CompletedProcess:
    env = _clean_env()
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "ingest", "--data-dir", str(data), str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


@pytest.mark.parametrize(
    ("write", "exit_code", "phrases"),
    [
        pytest.param(corpus.empty, 1, ["empty.csv: rejected: the file is empty"], id="empty"),
        pytest.param(
            corpus.semicolon,
            0,
            ["semicolon.csv: batch #2: 20 rows in, 20 rows accepted, 0 quarantined"],
            id="semicolon",
        ),
        pytest.param(
            corpus.ragged,
            0,
            ["ragged.csv: batch #2: 10 rows in, 9 rows accepted, 1 quarantined", "malformed_line"],
            id="ragged",
        ),
        pytest.param(
            corpus.xlsx, 1, ["customers.xlsx: rejected:", "unsupported"], id="unsupported-type"
        ),
        pytest.param(
            corpus.reference, 0, ["reference.csv: already ingested as batch #1"], id="twice"
        ),
    ],
)
def test_the_ingest_command_prints_one_line_per_file_and_fails_on_rejection(
    reference_data_dir: Path,
    tmp_path: Path,
    write: Callable[[Path], Path],
    exit_code: int,
    phrases: list[str],
) -> None:
    data = tmp_path / "data"
    shutil.copytree(reference_data_dir, data)
    path = write(tmp_path / "files")
    result = _ingest_cli(data, path)
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith(str(path))]
    assert len(lines) == 1, result.stdout + result.stderr
    for phrase in phrases:
        assert phrase in lines[0], lines[0]
    assert result.returncode == exit_code, result.stdout + result.stderr
