"""Validate and clean raw batches in DuckDB: rejection, profiling, quarantine rules, labels."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from pipeline.contract import Contract, infer_contract
from pipeline.settings import DatasetSettings
from pipeline.warehouse import cleaning
from pipeline.warehouse.cleaning import BatchRejected, CleanReport

HEADER = "customer_id,snapshot_month,email,region,monthly_charges,churned"


@pytest.fixture
def cur() -> Iterator[duckdb.DuckDBPyConnection]:
    """A cursor of an in-memory DuckDB with the run's staging tables."""
    con = duckdb.connect()
    cursor = con.cursor()
    cleaning.ensure_staging(cursor)
    yield cursor
    cursor.close()
    con.close()


@pytest.fixture
def dataset() -> DatasetSettings:
    return DatasetSettings(
        source="/srv/exports/*.csv",
        entity_id="customer_id",
        event_time="snapshot_month",
        target="churned",
        value="monthly_charges",
        segments=["region"],
        pii=["name", "email", "phone"],
    )


@pytest.fixture
def contract() -> Contract:
    """The contract a first batch of HEADER's shape would give."""
    return Contract(
        entity_id="customer_id",
        event_time="snapshot_month",
        target="churned",
        numeric=["monthly_charges"],
        categorical=["region"],
        ranges={"monthly_charges": [0.0, 100.0]},
        categories={"region": ["North", "South"]},
        dropped=["email"],
    )


def _csv(tmp_path: Path, text: str, name: str = "batch.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _clean(
    cur: duckdb.DuckDBPyConnection, tmp_path: Path, rows: str, contract: Contract
) -> CleanReport:
    path = _csv(tmp_path, f"{HEADER}\n{rows}")
    columns = cleaning.stage_file(cur, str(path), ".csv")
    return cleaning.clean_data_batch(cur, 7, columns, contract)


def _clean_rows(cur: duckdb.DuckDBPyConnection) -> dict[str, tuple]:
    """customer_id -> (region, monthly_charges) of the accepted rows."""
    rows = cur.execute("SELECT customer_id, region, monthly_charges FROM stage_clean").fetchall()
    ids = [r[0] for r in rows]
    assert len(ids) == len(set(ids)), f"an entity was accepted twice: {ids}"
    return {r[0]: (r[1], r[2]) for r in rows}


def _quarantine(cur: duckdb.DuckDBPyConnection) -> list[tuple[int, str, dict]]:
    """(row number in file, rule, record) of every quarantined row, in file order."""
    rows = cur.execute(
        "SELECT row_number, rule, record FROM stage_quarantine ORDER BY row_number"
    ).fetchall()
    return [(r[0], r[1], json.loads(r[2])) for r in rows]


# -- stage_file --------------------------------------------------------------------------------
def test_stage_file_returns_the_header_columns(cur, tmp_path: Path) -> None:
    path = _csv(tmp_path, f"{HEADER}\nc1,2024-01-01,a@x,North,10,0\n")
    assert cleaning.stage_file(cur, str(path), ".csv") == HEADER.split(",")
    assert cur.execute("SELECT count(*) FROM stage_raw").fetchone()[0] == 1


def test_empty_file_is_rejected(cur, tmp_path: Path) -> None:
    path = _csv(tmp_path, "")
    with pytest.raises(BatchRejected):
        cleaning.stage_file(cur, str(path), ".csv")


def test_unparsable_file_is_rejected_with_the_parser_reason(cur, tmp_path: Path) -> None:
    path = tmp_path / "garbage.csv"
    path.write_bytes(bytes(range(256)) * 20)
    with pytest.raises(BatchRejected, match="cannot parse the file: .+"):
        cleaning.stage_file(cur, str(path), ".csv")


def test_parquet_that_is_not_parquet_is_rejected(cur, tmp_path: Path) -> None:
    path = _csv(tmp_path, f"{HEADER}\nc1,2024-01-01,a@x,North,10,0\n", name="batch.parquet")
    with pytest.raises(BatchRejected, match="cannot parse the file"):
        cleaning.stage_file(cur, str(path), ".parquet")


def test_header_with_an_injection_like_name_is_rejected(cur, tmp_path: Path) -> None:
    path = _csv(tmp_path, 'customer_id,"x""; DROP TABLE t; --"\nc1,2\n')
    with pytest.raises(BatchRejected, match="column name .* is not usable; rename it"):
        cleaning.stage_file(cur, str(path), ".csv")


@pytest.mark.parametrize("header", ["customer_id,region,region", "customer_id,Region,region"])
def test_header_that_repeats_a_column_is_rejected(cur, tmp_path: Path, header: str) -> None:
    path = _csv(tmp_path, f"{header}\nc1,North,South\n")
    with pytest.raises(BatchRejected, match=r"repeats the column name\(s\) region"):
        cleaning.stage_file(cur, str(path), ".csv")


def test_header_without_rows_is_rejected_when_cleaned(cur, tmp_path: Path, contract) -> None:
    path = _csv(tmp_path, f"{HEADER}\n")
    columns = cleaning.stage_file(cur, str(path), ".csv")
    with pytest.raises(BatchRejected, match="header but no rows"):
        cleaning.clean_data_batch(cur, 1, columns, contract)


# -- profile and contract inference ------------------------------------------------------------
def test_profile_and_contract_classify_columns_and_drop_pii(cur, tmp_path: Path, dataset) -> None:
    path = _csv(
        tmp_path,
        "customer_id,snapshot_month,name,email,region,plan,monthly_charges,tenure,churned\n"
        "c1,2024-01-01,Ann,ann@x.org,North,Basic,10.5,1,0\n"
        "c2,2024-01-01,Bob,bob@x.org,South,Premium,20,12,1\n"
        "c3,2024-01-01,Cy,cy@x.org,North,Basic,N/A,30,0\n"
        "c4,2024-01-01,Di,di@x.org,South,Basic,40,7,1\n",
    )
    columns = cleaning.stage_file(cur, str(path), ".csv")
    profiles = {p.name: p for p in cleaning.profile(cur, columns)}
    charges = profiles["monthly_charges"]
    assert (charges.non_null, charges.numeric_ok) == (3, 3)  # 'N/A' is a null, not text
    assert charges.q_low == pytest.approx(10.5, abs=0.5)
    assert charges.q_high == pytest.approx(40.0, abs=0.5)

    contract = infer_contract(list(profiles.values()), dataset)
    assert sorted(contract.numeric) == ["monthly_charges", "tenure"]
    assert sorted(contract.categorical) == ["plan", "region"]
    assert sorted(contract.dropped) == ["email", "name"]
    for key in ("customer_id", "snapshot_month", "churned"):
        assert key not in contract.features and key not in contract.dropped
    assert contract.categories["plan"] == ["Basic", "Premium"]
    low, high = contract.ranges["monthly_charges"]
    assert low == 0.0 and high > 40.0


def test_canonical_category_is_the_most_frequent_spelling_ignoring_case(
    cur, tmp_path: Path, dataset
) -> None:
    path = _csv(
        tmp_path,
        "customer_id,snapshot_month,region\n"
        "c1,2024-01-01,NORTH\n"
        "c2,2024-01-01,north \n"
        "c3,2024-01-01,North\n"
        "c4,2024-01-01,North\n"
        "c5,2024-01-01,  North\n"
        "c6,2024-01-01,south\n",
    )
    columns = cleaning.stage_file(cur, str(path), ".csv")
    contract = infer_contract(cleaning.profile(cur, columns), dataset)
    assert contract.categories["region"] == ["North", "south"]


# -- clean_data_batch --------------------------------------------------------------------------
def test_null_tokens_become_null(cur, tmp_path: Path, contract) -> None:
    report = _clean(
        cur,
        tmp_path,
        "c1,2024-01-01,a@x,N/A,-,0\n"
        "c2,2024-01-01,b@x,null,null,0\n"
        'c3,2024-01-01,c@x,"",,0\n'
        "c4,2024-01-01,d@x,  NA ,  none ,0\n"
        "c5,2024-01-01,e@x,North,10,0\n",
        contract,
    )
    rows = _clean_rows(cur)
    assert rows == {
        "c1": (None, None),
        "c2": (None, None),
        "c3": (None, None),
        "c4": (None, None),
        "c5": ("North", 10.0),
    }
    assert report.rows_quarantined == 0
    assert report.nulls_found == 8


def test_spelling_variants_map_to_the_contract_category(cur, tmp_path: Path, contract) -> None:
    report = _clean(
        cur,
        tmp_path,
        "c1,2024-01-01,a@x,North,10,0\n"
        "c2,2024-01-01,b@x,north ,10,0\n"
        "c3,2024-01-01,c@x,NORTH,10,0\n"
        "c4,2024-01-01,d@x, sOuTh,10,0\n"
        "c5,2024-01-01,e@x,East,10,0\n"
        "c6,2024-01-01,f@x,east,10,0\n"
        "c7,2024-01-01,g@x,East ,10,0\n",
        contract,
    )
    regions = {k: v[0] for k, v in _clean_rows(cur).items()}
    assert regions == {
        "c1": "North",
        "c2": "North",
        "c3": "North",
        "c4": "South",
        # A new category keeps the batch's most frequent spelling.
        "c5": "East",
        "c6": "East",
        "c7": "East",
    }
    # Rows whose text changed: c2, c3, c4, c6 and c7; c1 and c5 were already canonical.
    assert report.text_normalised == 5
    assert report.rows_quarantined == 0


def test_exact_duplicates_and_repeated_keys_are_quarantined_keeping_the_last_row(
    cur, tmp_path: Path, contract
) -> None:
    report = _clean(
        cur,
        tmp_path,
        "c1,2024-01-01,a@x,North,10,0\n"  # row 1
        "c1,2024-01-01,a@x,North,10,0\n"  # row 2: identical to row 1
        "c2,2024-01-01,b@x,South,20,0\n"  # row 3: superseded by row 5
        "c3,2024-01-01,c@x,South,30,0\n"  # row 4
        "c2,2024-01-01,b@x,South,25,1\n"  # row 5: same key, corrected charges
        "c2,2024-02-01,b@x,South,26,1\n",  # row 6: same entity, another month
        contract,
    )
    assert [(n, rule) for n, rule, _ in _quarantine(cur)] == [
        (2, "exact_duplicate"),
        (3, "duplicate_key"),
    ]
    rows = cur.execute(
        "SELECT customer_id, CAST(snapshot_month AS DATE)::VARCHAR, monthly_charges "
        "FROM stage_clean ORDER BY 1, 2"
    ).fetchall()
    assert rows == [
        ("c1", "2024-01-01", 10.0),
        ("c2", "2024-01-01", 25.0),
        ("c2", "2024-02-01", 26.0),
        ("c3", "2024-01-01", 30.0),
    ]
    assert report.duplicates_removed == 2
    assert (report.rows_in, report.rows_accepted, report.rows_quarantined) == (6, 4, 2)


def test_last_row_of_a_key_wins_even_when_it_repeats_an_earlier_row(
    cur, tmp_path: Path, contract
) -> None:
    _clean(
        cur,
        tmp_path,
        "c1,2024-01-01,a@x,North,11,0\n"
        "c1,2024-01-01,a@x,North,12,0\n"
        "c1,2024-01-01,a@x,North,11,0\n",
        contract,
    )
    assert _clean_rows(cur) == {"c1": ("North", 11.0)}


def test_a_later_row_that_changes_only_the_label_is_not_an_exact_duplicate(
    cur, tmp_path: Path, contract
) -> None:
    _clean(cur, tmp_path, "c1,2024-01-01,a@x,North,10,0\nc1,2024-01-01,a@x,North,10,1\n", contract)
    assert [rule for _, rule, _ in _quarantine(cur)] == ["duplicate_key"]
    assert cur.execute("SELECT label FROM stage_labels").fetchall() == [(1,)]


@pytest.mark.parametrize(
    ("row", "rule"),
    [
        (",2024-01-01,a@x,North,10,0", "missing_key"),
        ("  ,2024-01-01,a@x,North,10,0", "missing_key"),
        ("c9,,a@x,North,10,0", "missing_key"),
        ("c9,N/A,a@x,North,10,0", "missing_key"),
        ("c9,2024-13-45,a@x,North,10,0", "invalid_time"),
        ("c9,last tuesday,a@x,North,10,0", "invalid_time"),
        ("c9,2024-01-01,a@x,North,ten,0", "invalid_number"),
        ("c9,2024-01-01,a@x,North,12abc,0", "invalid_number"),
    ],
)
def test_bad_rows_are_quarantined_with_their_rule(
    cur, tmp_path: Path, contract, row: str, rule: str
) -> None:
    report = _clean(cur, tmp_path, f"c1,2024-01-01,a@x,North,10,0\n{row}\n", contract)
    quarantined = _quarantine(cur)
    assert [(n, r) for n, r, _ in quarantined] == [(2, rule)]
    assert set(_clean_rows(cur)) == {"c1"}
    assert (report.rows_accepted, report.rows_quarantined) == (1, 1)
    reason = cur.execute("SELECT reason FROM stage_quarantine").fetchone()[0]
    assert len(reason) > 20  # a sentence for people, not just the rule name


def test_numbers_with_thousands_separators_are_numbers(cur, tmp_path: Path, contract) -> None:
    contract.ranges["monthly_charges"] = [0.0, 10_000.0]
    _clean(cur, tmp_path, 'c1,2024-01-01,a@x,North,"1,234.5",0\n', contract)
    assert _clean_rows(cur) == {"c1": ("North", 1234.5)}


def test_outliers_beyond_the_contract_range_become_null_and_are_counted(
    cur, tmp_path: Path, contract
) -> None:
    report = _clean(
        cur,
        tmp_path,
        "c1,2024-01-01,a@x,North,100,0\n"
        "c2,2024-01-01,b@x,North,100.5,0\n"
        "c3,2024-01-01,c@x,North,-1,0\n"
        "c4,2024-01-01,d@x,North,0,0\n"
        "c5,2024-01-01,e@x,North,99999,0\n",
        contract,
    )
    charges = {k: v[1] for k, v in _clean_rows(cur).items()}
    assert charges == {"c1": 100.0, "c2": None, "c3": None, "c4": 0.0, "c5": None}
    assert report.outliers_nulled == 3
    assert report.rows_quarantined == 0  # outliers lose a value, not the row


MESSY = (
    "c1,2024-01-01,ann@private.org,North,10,0\n"
    "c1,2024-01-01,ann@private.org,North,10,0\n"
    ",2024-01-01,bob@private.org,North,10,0\n"
    "c3,someday,cy@private.org,South,10,1\n"
    "c4,2024-01-01,di@private.org,South,lots,1\n"
    "c5,2024-01-01,ed@private.org,south ,500,yes\n"
    "c6,2024-01-01,fay@private.org,N/A,12,no\n"
    "c6,2024-01-01,fay@private.org,North,13,no\n"
)


def test_every_row_is_either_accepted_or_quarantined(cur, tmp_path: Path, contract) -> None:
    report = _clean(cur, tmp_path, MESSY, contract)
    assert report.rows_in == 8
    assert report.rows_in == report.rows_accepted + report.rows_quarantined
    assert report.rows_accepted == cur.execute("SELECT count(*) FROM stage_clean").fetchone()[0]
    assert report.rows_quarantined == len(_quarantine(cur))
    assert sorted(_clean_rows(cur)) == ["c1", "c5", "c6"]
    assert report.outliers_nulled == 1
    assert report.labels_applied == 3


def test_quarantine_records_never_contain_pii(cur, tmp_path: Path, contract) -> None:
    _clean(cur, tmp_path, MESSY, contract)
    quarantined = _quarantine(cur)
    assert {rule for _, rule, _ in quarantined} == {
        "exact_duplicate",
        "missing_key",
        "invalid_time",
        "invalid_number",
        "duplicate_key",
    }
    text = cur.execute("SELECT string_agg(record, '|') FROM stage_quarantine").fetchone()[0]
    assert "private.org" not in text
    for _, _, record in quarantined:
        assert "email" not in record
        assert "region" in record and "monthly_charges" in record  # the rest is kept to fix


def test_pii_column_first_seen_in_a_later_batch_stays_out_of_quarantine(
    cur, tmp_path: Path, dataset
) -> None:
    first = _csv(tmp_path, f"{HEADER}\nc1,2024-01-01,a@x,North,10,0\n", name="first.csv")
    contract = infer_contract(
        cleaning.profile(cur, cleaning.stage_file(cur, str(first), ".csv")), dataset
    )
    later = _csv(
        tmp_path,
        f"{HEADER},phone\nc1,2024-02-01,a@x,North,10,0,+44 7700 900123\n"
        "c1,2024-02-01,a@x,North,10,0,+44 7700 900123\n",
        name="later.csv",
    )
    columns = cleaning.stage_file(cur, str(later), ".csv")
    cleaning.clean_data_batch(cur, 2, columns, contract)
    records = [record for _, _, record in _quarantine(cur)]
    assert records, "the exact duplicate should have been quarantined"
    assert all("phone" not in record for record in records)


def test_missing_entity_id_column_rejects_the_batch_naming_the_column(
    cur, tmp_path: Path, contract
) -> None:
    path = _csv(tmp_path, "client,snapshot_month,region\nc1,2024-01-01,North\n")
    columns = cleaning.stage_file(cur, str(path), ".csv")
    with pytest.raises(BatchRejected, match="no column 'customer_id'.*dataset.entity_id") as caught:
        cleaning.clean_data_batch(cur, 1, columns, contract)
    assert "setting" in str(caught.value)


def test_missing_event_time_column_rejects_the_batch_naming_the_column(
    cur, tmp_path: Path, contract
) -> None:
    path = _csv(tmp_path, "customer_id,month,region\nc1,2024-01-01,North\n")
    columns = cleaning.stage_file(cur, str(path), ".csv")
    with pytest.raises(BatchRejected, match="no column 'snapshot_month'.*dataset.event_time"):
        cleaning.clean_data_batch(cur, 1, columns, contract)


def test_missing_entity_id_message_names_the_setting_key(cur, tmp_path: Path, contract) -> None:
    path = _csv(tmp_path, "client,snapshot_month,region\nc1,2024-01-01,North\n")
    columns = cleaning.stage_file(cur, str(path), ".csv")
    with pytest.raises(BatchRejected, match="dataset.entity_id"):
        cleaning.clean_data_batch(cur, 1, columns, contract)


# -- clean_label_batch -------------------------------------------------------------------------
def test_label_files_accept_binary_spellings_and_quarantine_the_rest(
    cur, tmp_path: Path, contract
) -> None:
    path = _csv(
        tmp_path,
        "customer_id,snapshot_month,churned\n"
        "c1,2024-01-01,0\n"
        "c2,2024-01-01,1\n"
        "c3,2024-01-01,yes\n"
        "c4,2024-01-01,No\n"
        "c5,2024-01-01,TRUE\n"
        "c6,2024-01-01,false\n"
        "c7,2024-01-01,maybe\n"
        "c8,2024-01-01,\n"
        "c9,2024-01-01, Yes \n",
    )
    cleaning.stage_file(cur, str(path), ".csv")
    report = cleaning.clean_label_batch(cur, 3, contract)
    labels = dict(cur.execute("SELECT entity_id, label FROM stage_labels").fetchall())
    assert labels == {"c1": 0, "c2": 1, "c3": 1, "c4": 0, "c5": 1, "c6": 0, "c9": 1}
    quarantined = [(n, rule) for n, rule, _ in _quarantine(cur)]
    assert quarantined == [(7, "invalid_label"), (8, "missing_label")]
    assert (report.rows_in, report.rows_accepted, report.rows_quarantined) == (9, 7, 2)


def test_label_file_keeps_the_last_label_of_a_repeated_key(cur, tmp_path: Path, contract) -> None:
    path = _csv(
        tmp_path,
        "customer_id,snapshot_month,churned\nc1,2024-01-01,0\nc1,2024-01-01,1\n",
    )
    cleaning.stage_file(cur, str(path), ".csv")
    report = cleaning.clean_label_batch(cur, 3, contract)
    assert cur.execute("SELECT entity_id, label FROM stage_labels").fetchall() == [("c1", 1)]
    assert [(n, rule) for n, rule, _ in _quarantine(cur)] == [(1, "duplicate_key")]
    assert report.rows_in == report.rows_accepted + report.rows_quarantined


def test_absurd_values_in_the_first_batch_do_not_widen_the_plausible_range(
    cur, tmp_path: Path
) -> None:
    rows = "".join(f"c{i},2024-01-01,North,{20 + i % 100}\n" for i in range(300))
    path = _csv(
        tmp_path,
        "customer_id,snapshot_month,region,monthly_charges\n"
        + rows
        + "x1,2024-01-01,North,99999\nx2,2024-01-01,North,99999\n",
    )
    columns = cleaning.stage_file(cur, str(path), ".csv")
    contract = infer_contract(cleaning.profile(cur, columns), DatasetSettings())
    low, high = contract.ranges["monthly_charges"]
    assert low == 0.0 and 200 < high < 99999
    report = cleaning.clean_data_batch(cur, 1, columns, contract)
    assert report.outliers_nulled == 2


# -- fast paths give the same answers --------------------------------------------------------
TRICKY_TEXT = [
    "North",
    "C0014268",
    "2024-01-01",
    "91.79",
    "1,234.5",
    "-5",
    " Basic",
    "Basic ",
    "\tBasic",
    "Basic\t",
    "",
    " ",
    "N/A",
    "n/a",
    "NA",
    "na",
    "nan",
    "NaN",
    "None",
    "NULL",
    "MISSING",
    "missing ",
    "M\u0130SSING",  # dotted capital I lower-cases to 'i'
    "?",
    "-",
    "--",
    "\u212a",  # Kelvin sign
    "\u00a0N/A\u00a0",
    "\u3000East",
    "East\u2003",
    "Ba\u0301sic",  # decomposed accent: NFC composes it
    "Zo\u00eb",
    "\ufeffWest",
    None,
]


def test_plain_values_skip_cleaning_without_changing_any_result(cur) -> None:
    values = cur.execute(
        f"SELECT list({cleaning.clean_text_sql('v')} ORDER BY i), "
        f"list({cleaning.cleaned_text_sql('v')} ORDER BY i) "
        "FROM (SELECT unnest($v) AS v, unnest(range(len($v))) AS i)",
        {"v": TRICKY_TEXT, "tokens": cleaning.NULL_TOKENS},
    ).fetchone()
    assert values[0] == values[1]
    assert values[0][:4] == ["North", "C0014268", "2024-01-01", "91.79"]


def test_no_null_token_reads_as_a_number_but_nan() -> None:
    # Numbers that read as plain text are taken as they are: that is exact only because no
    # null token but 'nan' (which starts like a token and so is never plain) is a number.
    con = duckdb.connect()
    numbers = [
        t
        for t in cleaning.NULL_TOKENS
        if con.execute("SELECT TRY_CAST(? AS DOUBLE)", [t]).fetchone()[0] is not None
    ]
    assert numbers == ["nan"]


def test_numbers_with_spaces_or_tokens_count_as_normalised_text(
    cur, tmp_path: Path, contract
) -> None:
    report = _clean(
        cur,
        tmp_path,
        "c1,2024-01-01,a@x,North,10,0\n"
        "c2,2024-01-01,b@x,North, 10,0\n"
        "c3,2024-01-01,c@x,North,NaN,0\n"
        'c4,2024-01-01,d@x,North,"1,000",0\n'
        "c5,2024-01-01,e@x,North,-5,0\n",
        contract,
    )
    rows = _clean_rows(cur)
    assert {k: v[1] for k, v in rows.items()} == {
        "c1": 10.0,
        "c2": 10.0,
        "c3": None,
        # 1,000 and -5 are outside the contract's range 0 to 100.
        "c4": None,
        "c5": None,
    }
    # c2 lost its space and c3's token became missing; c1, c4 and c5 are unchanged text.
    assert report.text_normalised == 2
    assert report.outliers_nulled == 2


def test_pii_suspects_are_measured_on_each_batchs_first_rows(cur, tmp_path: Path) -> None:
    from pipeline.warehouse import pii_scan

    head = "customer_id,snapshot_month,contact,note\n"
    first = "".join(f"c{i},2024-01-01,user{i}@example.com,Anna Berg\n" for i in range(5))
    later = "".join(f"d{i},2024-01-01,n/a,\n" for i in range(pii_scan.SAMPLE_ROWS))
    batches = [
        (1, str(_csv(tmp_path, head + first + later, "one.csv")), ".csv"),
        (2, str(_csv(tmp_path, head + later + first, "two.csv")), ".csv"),
    ]
    staged, rejected = cleaning.stage_batches(cur, batches)
    assert not rejected and len(staged) == 1 and len(staged[0].batches) == 2
    found = pii_scan.scan_staged(cur, staged[0], {"customer_id", "snapshot_month"})
    # Batch 1's sample holds the e-mails and names (null tokens do not count); batch 2's
    # first rows hold only tokens.
    assert found == {1: [("contact", "email", 1.0), ("note", "name", 1.0)], 2: []}
