"""Previewing a file says what ingesting it would do, and keeps nothing."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from pipeline.contract import Contract
from pipeline.flow import STEPS as ALL_STEPS
from pipeline.ingest import sha256_of
from pipeline.preview import MASK, mask_text, preview_file
from pipeline.runner import Runner
from pipeline.settings import Settings, load_settings
from pipeline.warehouse import Warehouse, models
from pipeline.warehouse import batches as batch_store
from tests.integration import corpus

STEPS = ALL_STEPS[:3]  # ingest, validate, clean: what decides a file's fate

HEADER = "customer_id,snapshot_month,plan,region,contact,tenure_months,monthly_charges,name"
GOOD_ROWS = [
    "C1,2024-01-01,Basic,North,a@example.com,3,20.5,Ann Lee",
    "C2,2024-01-01,Premium,South,b@example.com,5,30,Bob Ray",
    "C3,2024-01-01,Basic,North,c@example.com,7,41,Cy Doe",
    "C4,2024-01-01,Premium,North,d@example.com,9,55,Di Po",
]
CONTRACT = Contract(
    entity_id="customer_id",
    event_time="snapshot_month",
    target="churned",
    numeric=["tenure_months", "monthly_charges"],
    categorical=["plan", "region", "contact"],
    ranges={"tenure_months": [0.0, 100.0], "monthly_charges": [0.0, 500.0]},
    categories={
        "plan": ["Basic", "Premium"],
        "region": ["North", "South"],
        "contact": ["a@example.com", "b@example.com", "c@example.com", "d@example.com"],
    },
    dropped=["name"],
)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Default dataset settings (customer_id, snapshot_month, churned) in a fresh data dir."""
    return load_settings(data_dir=tmp_path / "data")


@pytest.fixture
def uploads(tmp_path: Path) -> Path:
    folder = tmp_path / "uploads"
    folder.mkdir()
    return folder


def _csv(folder: Path, name: str, lines: list[str]) -> Path:
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_clean_file_would_be_accepted_whole(settings, uploads) -> None:
    preview = preview_file(_csv(uploads, "good.csv", [HEADER, *GOOD_ROWS]), settings, CONTRACT)
    assert preview.acceptable and preview.kind == "data"
    assert (preview.rows_in, preview.rows_accepted, preview.rows_quarantined) == (4, 4, 0)
    assert preview.rules == []
    assert not preview.contract_inferred


def test_bad_rows_are_counted_by_rule_with_at_most_five_example_reasons(settings, uploads) -> None:
    bad_numbers = [f"X{i},2024-01-01,Basic,North,a@example.com,3,abc{i},N N" for i in range(7)]
    lines = [
        HEADER,
        *GOOD_ROWS,
        *bad_numbers,
        ",2024-01-01,Basic,North,a@example.com,3,20,N N",  # no customer id
        GOOD_ROWS[0],  # an exact copy of row 2
    ]
    preview = preview_file(_csv(uploads, "mixed.csv", lines), settings, CONTRACT)
    counts = {r.rule: r.rows for r in preview.rules}
    assert counts == {"invalid_number": 7, "missing_key": 1, "exact_duplicate": 1}
    assert preview.rows_in == 13
    assert preview.rows_accepted == 4 and preview.rows_quarantined == 9
    invalid = next(r for r in preview.rules if r.rule == "invalid_number")
    assert len(invalid.examples) == 5
    assert [e.row_number for e in invalid.examples] == [5, 6, 7, 8, 9]
    assert "not a number: monthly_charges = abc0" in invalid.examples[0].reason
    # Records are allow-listed: configured PII (name) never appears.
    assert "name" not in invalid.examples[0].record
    assert invalid.examples[0].record["customer_id"] == "X0"


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("empty.csv", b"", "the file is empty"),
        ("header.csv", (HEADER + "\n").encode(), "header but no rows"),
        ("noise.csv", bytes(range(256)) * 40, "cannot parse the file"),
        ("prose.csv", b"Dear team\nplease find attached\n", "no column 'customer_id'"),
        ("broken.parquet", b"PAR1 this is not parquet", "Parquet file is damaged"),
        ("notes.txt", b"hello", "unsupported file type"),
    ],
)
def test_an_unusable_file_is_rejected_whole_with_its_reason(
    settings, uploads, name, content, expected
) -> None:
    path = uploads / name
    path.write_bytes(content)
    preview = preview_file(path, settings, CONTRACT)
    assert not preview.acceptable
    assert expected in (preview.rejected or "")
    assert preview.rows_accepted == 0


def test_a_labels_file_is_previewed_as_labels(settings, uploads) -> None:
    lines = [
        "customer_id,snapshot_month,churned",
        "C1,2024-01-01,1",
        "C2,2024-01-01,no",
        "C3,2024-01-01,maybe",
    ]
    preview = preview_file(_csv(uploads, "labels.csv", lines), settings, CONTRACT)
    assert preview.kind == "labels" and preview.acceptable
    assert (preview.rows_in, preview.rows_accepted, preview.rows_quarantined) == (3, 2, 1)
    assert [r.rule for r in preview.rules] == ["invalid_label"]


def test_labels_before_any_data_are_held_not_rejected(settings, uploads) -> None:
    path = _csv(uploads, "labels.csv", ["customer_id,snapshot_month,churned", "C1,2024-01-01,1"])
    preview = preview_file(path, settings, None)
    assert preview.acceptable and preview.kind == "labels"
    assert "labels arrived before any data" in (preview.held or "")


def test_without_a_contract_the_file_would_define_one(settings, uploads) -> None:
    preview = preview_file(_csv(uploads, "first.csv", [HEADER, *GOOD_ROWS]), settings, None)
    assert preview.contract_inferred and preview.contract is not None
    assert set(preview.contract.numeric) == {"tenure_months", "monthly_charges"}
    assert "name" in preview.contract.dropped  # configured PII
    assert preview.rows_accepted == 4
    assert preview.pii_suspects == [("contact", "email")]


def test_schema_findings_are_reported(settings, uploads) -> None:
    lines = [
        "customer_id,snapshot_month,plan,region,tenure_months,monthly_charges,extra",
        "C1,2024-01-01,Gold,North,3,900,x",
        "C2,31/01/2024,Basic,North,3,20,y",
    ]
    preview = preview_file(_csv(uploads, "drift.csv", lines), settings, CONTRACT)
    kinds = {f.kind for f in preview.findings}
    assert {
        "missing_column",
        "new_column",
        "unseen_category",
        "out_of_range",
        "mixed_date_formats",
    } <= kinds
    unseen = next(f for f in preview.findings if f.kind == "unseen_category")
    assert unseen.column == "plan" and "'Gold'" in unseen.message


def test_a_reject_batch_policy_rejects_the_file_with_the_finding(tmp_path, uploads) -> None:
    settings = load_settings(
        data_dir=tmp_path / "data", cleaning={"on_violation": {"plan": "reject_batch"}}
    )
    lines = [HEADER, "C1,2024-01-01,Gold,North,a@example.com,3,20,N N"]
    preview = preview_file(_csv(uploads, "gold.csv", lines), settings, CONTRACT)
    assert not preview.acceptable
    assert "'Gold'" in (preview.rejected or "")
    assert "reject_batch" in (preview.rejected or "")


def test_values_of_columns_that_look_like_personal_data_are_masked(tmp_path, uploads) -> None:
    settings = load_settings(
        data_dir=tmp_path / "data", cleaning={"on_violation": {"contact": "reject_row"}}
    )
    lines = [HEADER, *GOOD_ROWS, "C9,2024-01-01,Basic,North,zed@secret.example,3,20,Zed Q"]
    preview = preview_file(_csv(uploads, "pii.csv", lines), settings, CONTRACT)
    assert ("contact", "email") in preview.pii_suspects
    unseen = next(r for r in preview.rules if r.rule == "unseen_category")
    example = unseen.examples[0]
    assert "zed@secret.example" not in example.reason and f"contact = {MASK}" in example.reason
    assert example.record["contact"] == MASK
    finding = next(f for f in preview.findings if f.column == "contact")
    assert "zed@secret.example" not in finding.message


def test_mask_text_hides_only_the_masked_columns_values() -> None:
    reason = "a category not in the data contract: plan = Gold, contact = x@y.z, q; fix it"
    assert mask_text(reason, {"contact"}) == (
        f"a category not in the data contract: plan = Gold, contact = {MASK}; fix it"
    )
    assert mask_text(reason, set()) == reason


def test_a_preview_writes_nothing_to_the_data_dir_or_the_working_folder(
    settings, uploads, tmp_path, monkeypatch
) -> None:
    settings.data_dir.mkdir(parents=True)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)  # DuckDB's default spill folder is relative to the working folder
    path = _csv(uploads, "good.csv", [HEADER, *GOOD_ROWS])
    before = sorted(uploads.iterdir())
    preview_file(path, settings, None)
    preview_file(path, settings, CONTRACT)
    assert list(settings.data_dir.rglob("*")) == []
    assert list(cwd.rglob("*")) == []
    assert sorted(uploads.iterdir()) == before


def test_a_parquet_and_a_json_lines_file_are_previewed_like_csv(settings, uploads) -> None:
    frame = pd.DataFrame(
        {
            "customer_id": ["C1", "C2"],
            "snapshot_month": ["2024-01-01", "2024-01-01"],
            "plan": ["Basic", "Premium"],
            "region": ["North", "South"],
            "tenure_months": [3, 5],
            "monthly_charges": [20.5, 30.0],
        }
    )
    parquet = uploads / "m.parquet"
    frame.to_parquet(parquet)
    jsonl = uploads / "m.jsonl"
    jsonl.write_text(frame.to_json(orient="records", lines=True) + "not json\n")
    assert preview_file(parquet, settings, CONTRACT).rows_accepted == 2
    lines = preview_file(jsonl, settings, CONTRACT)
    assert (lines.rows_in, lines.rows_accepted) == (3, 2)
    assert [r.rule for r in lines.rules] == ["malformed_line"]
    assert os.path.exists(parquet)


def test_columns_the_caller_hides_are_masked_as_well(tmp_path, uploads) -> None:
    settings = load_settings(
        data_dir=tmp_path / "data", cleaning={"on_violation": {"region": "reject_row"}}
    )
    lines = [HEADER, *GOOD_ROWS, "C9,2024-01-01,Basic,Atlantis,a@example.com,3,20,Zed Q"]
    path = _csv(uploads, "hidden.csv", lines)
    preview = preview_file(path, settings, CONTRACT, hide={"Region"})
    (example,) = next(r for r in preview.rules if r.rule == "unseen_category").examples
    assert example.reason.count(MASK) == 1 and "Atlantis" not in example.reason
    assert example.record["region"] == MASK
    assert all("Atlantis" not in f.message for f in preview.findings)
    shown = preview_file(path, settings, CONTRACT)
    assert any("Atlantis" in f.message for f in shown.findings)


# -- the preview agrees with a real run ----------------------------------------------------------

AGREEMENT_CASES = [
    "february",
    "february_parquet",
    "february_jsonl",
    "empty",
    "header_only",
    "semicolon",
    "duplicated_header",
    "truncated_parquet",
    "broken_jsonl",
    "ragged",
    "wrong_types",
    "latin1",
    "missing_column",
    "extra_column",
    "renamed_column",
    "unseen_category",
    "duplicate_key",
    "mixed_dates",
    "third_label",
    "other_schema_parquet",
    "utf8_bom",
    "quoted_newlines",
    "all_null_column",
    "crlf",
    "formula_cells",
    "thousands_separators",
    "pii_contact",
]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory):
    """A warehouse whose contract came from the integration corpus's reference file."""
    root = tmp_path_factory.mktemp("agreement")
    with pytest.MonkeyPatch.context() as patch:
        for key in [k for k in os.environ if k.startswith("PLUMBLINE_")]:
            patch.delenv(key)
        settings = load_settings(data_dir=root / "data")
    wh = Warehouse(settings.warehouse_path)
    runner = Runner(settings, wh)
    _ingest(runner, corpus.reference(root / "files"))
    yield settings, wh, runner, root / "files"
    runner.shutdown()
    wh.close()


def _ingest(runner: Runner, path: Path) -> int:
    request, reason = runner.run_now("test", None, steps=STEPS, paths=[path])
    assert request.started and reason is None, reason
    return request.run_id


@pytest.mark.parametrize("case", AGREEMENT_CASES)
def test_the_preview_says_what_the_run_then_does(lab, case: str) -> None:
    settings, wh, runner, files = lab
    path = getattr(corpus, case)(files / case)
    preview = preview_file(path, settings, models.latest_contract(wh))
    _ingest(runner, path)
    batch_id = batch_store.batch_by_hash(wh)[sha256_of(path)][0]
    report = batch_store.batch_reports(wh, [batch_id])[batch_id]
    if preview.rejected is not None:
        assert report["status"] == "rejected"
        assert report["message"] == f"{path.name}: {preview.rejected}"
        return
    assert report["status"] == "accepted", report["message"]
    assert (preview.rows_in, preview.rows_accepted, preview.rows_quarantined) == (
        report["rows_in"],
        report["accepted"],
        report["quarantined"],
    )
    assert {r.rule: r.rows for r in preview.rules} == report["rules"]
    recorded = wh.rows(
        "SELECT kind, column_name, message, action FROM schema_changes WHERE batch_id = ?",
        [batch_id],
    )
    assert _comparable(preview.findings) == _comparable(recorded)


def _comparable(findings) -> list[tuple]:
    # Unseen categories tied on their row count are listed in no fixed order by the cleaning
    # code, so only the start of that message (the count of values) is compared.
    out = []
    for kind, column, message, action in (
        (f.kind, f.column, f.message, f.action) if hasattr(f, "kind") else f for f in findings
    ):
        if kind == "unseen_category":
            message = message.split(" not seen before")[0]
        out.append((kind, column, message, action))
    return sorted(out)
