"""The Data page: reads checked against pandas, figures, callbacks, and the safety rules.

Safety rules: a column name reaches SQL only if the data contract names it; quarantined values of
suspected PII never leave DuckDB; every exported or displayed cell that a spreadsheet would run
as a formula is neutralised; data-derived text is never rendered as markup.
"""

from __future__ import annotations

import csv
import importlib
import io
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from dash import dcc, no_update

from app.figures import data as figures
from app.pages import _data_quarantine as quarantine
from pipeline.warehouse import Warehouse
from pipeline.warehouse import reads_data as reads
from tests.unit.app.data_conftest_helpers import (
    CONTRACT,
    HOSTILE,
    REJECTION,
    latest,
    reference,
    write_data_world,
)


@pytest.fixture
def data_wh(empty_warehouse: Warehouse) -> tuple[Warehouse, pd.DataFrame]:
    """The data world in a temporary warehouse, and the clean rows behind it."""
    frame = write_data_world(empty_warehouse)
    return empty_warehouse, frame


@pytest.fixture
def wh(data_wh) -> Warehouse:
    return data_wh[0]


@pytest.fixture
def frame(data_wh) -> pd.DataFrame:
    return data_wh[1]


@pytest.fixture
def windows(wh) -> reads.Windows:
    return reads.comparison_windows(wh)


@pytest.fixture
def data_page(make_app, wh):
    """The Data page module over the data world (the app must exist before the import)."""
    make_app(wh)
    return importlib.import_module("app.pages.data")


# -- reads against pandas ----------------------------------------------------------------------


def test_batches_carry_their_cleaning_counts_and_the_rejection_reason(wh):
    batches = reads.batches(wh)
    assert list(batches["batch_id"]) == [1, 2, 3, 4, 5, 6]
    first = batches.iloc[0]
    assert (first["rows_accepted"], first["rows_quarantined"], first["missing_imputed"]) == (
        60,
        4,
        5,
    )
    rejected = batches[batches["status"] == "rejected"].iloc[0]
    assert rejected["message"] == REJECTION
    assert pd.isna(rejected["rows_accepted"])  # no statistics for a rejected file
    assert rejected["rows_in"] == 62  # the raw row count still shows


def test_the_signature_changes_when_a_file_arrives_or_results_are_written(wh):
    before = reads.data_signature(wh)
    assert reads.data_signature(wh) == before
    wh.execute("UPDATE raw_batches SET status = 'pending' WHERE batch_id = 6", scope="intake")
    pending = reads.data_signature(wh)
    assert pending != before
    wh.execute("DELETE FROM quarantine WHERE batch_id = 1")
    assert reads.data_signature(wh) != pending


def test_missing_shares_are_missing_over_rows_per_column_and_batch(wh):
    missing = reads.missing_by_column(wh)
    row = missing[(missing["batch_id"] == 4) & (missing["column_name"] == "tenure_months")]
    assert row["share"].iloc[0] == pytest.approx(8 / 60)
    assert row["file_name"].iloc[0] == "customers_2024-03.csv"
    assert list(missing["batch_id"].unique()) == [1, 2, 4, 6]


def test_the_reference_is_the_champions_training_window(windows):
    assert windows == reads.Windows(date(2024, 1, 1), date(2024, 2, 1), date(2024, 4, 1), 1)


def test_without_a_model_the_reference_is_the_first_period(empty_warehouse):
    write_data_world(empty_warehouse, champion=False)
    found = reads.comparison_windows(empty_warehouse)
    assert (found.reference_from, found.reference_to, found.latest, found.model_version) == (
        date(2024, 1, 1),
        date(2024, 1, 1),
        date(2024, 4, 1),
        None,
    )


def test_before_any_clean_data_there_is_nothing_to_compare(empty_warehouse):
    assert reads.comparison_windows(empty_warehouse) is None
    assert reads.latest_contract(empty_warehouse) is None


def test_numeric_histogram_uses_reference_edges_and_matches_pandas(wh, frame, windows):
    profile = reads.numeric_profile(wh, CONTRACT, "monthly_charges", windows)
    ref = reference(frame)["monthly_charges"]
    assert (profile["low"], profile["high"]) == (ref.min(), ref.max())
    edges = reads.histogram_edges(profile["low"], profile["high"], profile["integers"])
    got = reads.numeric_histogram(wh, CONTRACT, "monthly_charges", windows, edges)
    for window, rows in (("reference", reference(frame)), ("latest", latest(frame))):
        values = rows["monthly_charges"].dropna().to_numpy()
        # Values outside the reference's edges are counted in the end bins.
        bins = np.clip(np.floor((values - edges[0]) / (edges[1] - edges[0])), 0, len(edges) - 2)
        want = pd.Series(bins.astype(int)).value_counts(normalize=True).sort_index()
        part = got[(got["window"] == window) & got["bin"].notna()]
        assert dict(zip(part["bin"].astype(int), part["share"], strict=True)) == pytest.approx(
            want.to_dict()
        )
    # Latest charges run higher than the reference: the top bin collects them.
    top = got[(got["window"] == "latest") & (got["bin"] == len(edges) - 2)]["share"].iloc[0]
    assert (
        top > got[(got["window"] == "reference") & (got["bin"] == len(edges) - 2)]["share"].iloc[0]
    )


def test_numeric_histogram_reports_the_missing_share_of_all_rows(wh, frame, windows):
    edges = [0.0, 10.0, 20.0, 30.0]
    got = reads.numeric_histogram(wh, CONTRACT, "tenure_months", windows, edges)
    missing = got[(got["window"] == "reference") & got["bin"].isna()]["share"].iloc[0]
    assert missing == pytest.approx(reference(frame)["tenure_months"].isna().mean())


@pytest.mark.parametrize(
    ("low", "high", "integers", "expected"),
    [
        (0, 5, True, [-0.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5]),  # one bin per whole number
        (0, 100, False, [float(v) for v in range(0, 101, 5)]),
        (3, 3, False, [2.5, 3.5]),
    ],
)
def test_histogram_edges_are_round_and_cover_the_range(low, high, integers, expected):
    edges = reads.histogram_edges(low, high, integers)
    assert edges == pytest.approx(expected)
    assert edges[0] <= low and edges[-1] >= high and len(edges) <= 21


def test_category_shares_match_pandas_missing_included(wh, frame, windows):
    got = reads.category_shares(wh, CONTRACT, "plan", windows)
    for window, rows in (("reference", reference(frame)), ("latest", latest(frame))):
        want = rows["plan"].value_counts(normalize=True, dropna=False)
        part = got[got["window"] == window]
        assert dict(zip(part["category"].fillna("NA"), part["share"], strict=True)) == (
            pytest.approx({("NA" if pd.isna(k) else k): v for k, v in want.items()})
        )
    assert got["category"].iloc[-1] is None or pd.isna(got["category"].iloc[-1])  # missing last


def test_target_rate_by_decile_matches_pandas(wh, frame, windows):
    cuts = reads.decile_edges(wh, CONTRACT, "monthly_charges", windows)
    ref = reference(frame)
    assert len(cuts) == 9
    got = reads.target_rate_by_bin(wh, CONTRACT, "monthly_charges", windows, cuts)
    bins = np.searchsorted(np.array(cuts), ref["monthly_charges"].to_numpy(), side="left")
    want = ref.assign(bin=bins).groupby("bin")["churned"].agg(["mean", "count"])
    assert list(got["bin"]) == list(want.index)
    assert list(got["target_rate"]) == pytest.approx(list(want["mean"]))
    assert list(got["labelled"]) == list(want["count"])
    assert got["rows"].sum() == len(ref)


def test_target_rate_by_category_matches_pandas(wh, frame, windows):
    got = reads.target_rate_by_bin(wh, CONTRACT, "region", windows)
    want = reference(frame).groupby("region")["churned"].mean()
    assert dict(zip(got["category"], got["target_rate"], strict=True)) == pytest.approx(
        want.to_dict()
    )


def test_target_rate_by_segment_uses_only_contract_segments(wh, frame, windows):
    got = reads.target_rate_by_segment(
        wh, CONTRACT, ["region", "plan", "contract_type", "tenure_months"], windows
    )
    assert list(dict.fromkeys(got["segment"])) == ["region", "plan"]
    ref = reference(frame)
    for segment in ("region", "plan"):
        want = ref.groupby(segment, dropna=False)["churned"].mean()
        part = got[got["segment"] == segment]
        assert dict(zip(part["value"].fillna("NA"), part["target_rate"], strict=True)) == (
            pytest.approx({("NA" if pd.isna(k) else k): v for k, v in want.items()})
        )


def test_correlations_match_pandas(wh, frame, windows):
    got = reads.numeric_correlations(wh, CONTRACT, windows)
    want = reference(frame)[["tenure_months", "monthly_charges"]].corr().iloc[0, 1]
    pair = got[(got["column_a"] == "tenure_months") & (got["column_b"] == "monthly_charges")]
    assert pair["corr"].iloc[0] == pytest.approx(want)
    assert len(got) == 4  # both orders and the diagonal


@pytest.mark.parametrize(
    "column",
    [
        'plan"; DROP TABLE raw_batches; --',
        "plan; SELECT 1",
        "customer_id",  # a key, not a feature
        "_batch_id",
        "churned",
        "name",  # dropped as PII
        "PLAN",
        None,
        5,
    ],
)
def test_unknown_or_hostile_columns_are_refused(wh, windows, column):
    with pytest.raises(reads.UnknownColumnError):
        reads.numeric_histogram(wh, CONTRACT, column, windows, [0.0, 1.0])  # type: ignore[arg-type]
    with pytest.raises(reads.UnknownColumnError):
        reads.category_shares(wh, CONTRACT, column, windows)  # type: ignore[arg-type]
    assert wh.table_exists("raw_batches")


def test_a_contract_column_missing_from_clean_rows_is_refused(wh, windows):
    CONTRACT.numeric.append("ghost")
    try:
        with pytest.raises(reads.UnknownColumnError):
            reads.decile_edges(wh, CONTRACT, "ghost", windows)
    finally:
        CONTRACT.numeric.remove("ghost")


# -- quarantine: masking, filters, neutralising --------------------------------------------------


def test_quarantined_values_of_pii_suspects_are_masked_in_sql(wh):
    rows, total = reads.quarantine_rows(wh, CONTRACT)
    assert total == 10 and len(rows) == 10
    assert set(rows["contact"]) == {reads.MASK}
    assert not rows.astype(str).apply(lambda c: c.str.contains("secret")).any().any()


def test_configured_pii_is_masked_too(wh):
    rows, _ = reads.quarantine_rows(wh, CONTRACT, configured_pii=["Region"])
    assert set(rows["region"]) == {reads.MASK}


def test_search_never_matches_masked_values(wh):
    assert reads.quarantine_rows(wh, CONTRACT, search="secret3")[1] == 0
    found, total = reads.quarantine_rows(wh, CONTRACT, search="q003")
    assert total == 1 and found["row_number"].iloc[0] == 12
    # LIKE wildcards in the search are taken literally.
    assert reads.quarantine_rows(wh, CONTRACT, search="%")[1] == 0
    found, total = reads.quarantine_rows(wh, CONTRACT, search="_")
    assert total == 1 and found["region"].iloc[0] == "n_e"
    assert reads.quarantine_rows(wh, CONTRACT, search="n_E")[1] == 1


def test_quarantine_filters_by_batch_and_rule_and_caps_the_page(wh):
    rows, total = reads.quarantine_rows(wh, CONTRACT, batch_id=1, rule="exact_duplicate")
    assert (total, list(rows["row_number"])) == (2, [10, 11])
    rows, total = reads.quarantine_rows(wh, CONTRACT, limit=3)
    assert (len(rows), total) == (3, 10)
    assert list(rows["batch_id"]) == [6, 6, 4]  # newest batch first


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1-555", "'+1-555"),
        ("-42", "'-42"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("plain text", "plain text"),
        ("a=b", "a=b"),
        ("", ""),
        (-42, -42),  # numbers are not formulas
        (None, None),
    ],
)
def test_formula_cells_are_neutralised(value, expected):
    assert quarantine.neutralise(value) == expected


def test_the_csv_download_is_neutralised_and_masked(wh):
    rows, _ = reads.quarantine_rows(wh, CONTRACT)
    parsed = list(csv.DictReader(io.StringIO(quarantine.csv_text(rows))))
    assert len(parsed) == 10
    cells = [v for row in parsed for v in row.values() if v]
    for hostile in HOSTILE.values():
        assert hostile not in cells and "'" + hostile in cells
    assert "'=cmd|' /C calc'!A0" in cells
    assert {row["contact"] for row in parsed} == {reads.MASK}
    assert not any(c.startswith(("=", "+", "-", "@")) for c in cells)
    assert "churned" not in parsed[0]  # a field empty in every row is left out


def test_grid_rows_are_neutralised_and_fields_are_positional(wh):
    rows, _ = reads.quarantine_rows(wh, CONTRACT)
    columns, data = quarantine.grid_data(rows)
    assert [c["field"] for c in columns] == [f"c{i}" for i in range(len(columns))]
    headers = [c["headerName"] for c in columns]
    assert headers[:5] == ["Batch", "File", "Row in file", "Rule", "Reason"]
    cells = [v for row in data for v in row.values()]
    assert "'" + HOSTILE["formula"] in cells
    assert not any(isinstance(v, str) and v.startswith(("=", "+", "-", "@")) for v in cells)


# -- figures -----------------------------------------------------------------------------------


def test_plotly_text_from_data_is_escaped():
    assert figures.plain("<b>East</b> & co") == "&lt;b&gt;East&lt;/b&gt; &amp; co"
    assert figures.plain(None) == figures.MISSING_LABEL


def test_batch_rows_figure_has_accepted_and_quarantined_per_batch(wh):
    fig = figures.batch_rows_figure(reads.batches(wh))
    accepted, quarantined, rejected = fig.data
    assert list(accepted.y) == [60, 60, 60, 60, 0, 60]
    assert list(quarantined.y) == [4, 3, 0, 1, 0, 2]
    assert list(rejected.x) == [4]  # broken.csv, fifth in arrival order
    assert fig.layout.xaxis2.ticktext[0] == "customers_2024-01"


def test_batch_axis_thins_labels_when_there_are_many_batches():
    many = pd.DataFrame(
        {
            "batch_id": range(1, 101),
            "file_name": [f"f{i}.csv" for i in range(1, 101)],
            "status": "accepted",
            "rows_accepted": 10,
            "rows_quarantined": 1,
        }
    )
    fig = figures.batch_rows_figure(many)
    assert len(fig.layout.xaxis2.ticktext) <= figures.MAX_TICKS


def test_missing_heatmap_is_column_by_batch(wh):
    fig = figures.missing_heatmap(reads.missing_by_column(wh))
    heat = fig.data[0]
    assert list(heat.y) == ["tenure_months", "plan", "monthly_charges"]
    assert len(heat.x) == 4
    z = dict(zip(heat.y, heat.z, strict=True))
    assert z["plan"][2] == pytest.approx(4 / 60)
    assert "Missing values" in fig.layout.title.text


def test_empty_frames_give_an_explaining_annotation():
    empty = pd.DataFrame(columns=["batch_id", "file_name", "column_name", "share"])
    assert figures.missing_heatmap(empty).data == ()
    assert "No per-column" in figures.missing_heatmap(empty).layout.annotations[0].text


def test_distribution_figures_show_shares_of_both_windows(wh, windows):
    edges = [0.0, 50.0, 100.0, 150.0, 200.0]
    histogram = reads.numeric_histogram(wh, CONTRACT, "monthly_charges", windows, edges)
    fig = figures.numeric_distribution_figure(
        histogram, edges, "monthly_charges", "Jan – Feb", "Apr"
    )
    ref, new = fig.data
    assert isinstance(ref, go.Bar) and isinstance(new, go.Scatter)
    assert sum(ref.y) == pytest.approx(1.0) and sum(new.y[1:-1]) == pytest.approx(1.0)
    assert (new.x[0], new.x[-1]) == (0.0, 200.0)  # the outline spans the outer edges
    assert list(ref.x) == [25.0, 75.0, 125.0, 175.0]
    shares = reads.category_shares(wh, CONTRACT, "region", windows)
    fig = figures.category_distribution_figure(shares, "region", "Jan – Feb", "Apr")
    assert "&lt;b&gt;East&lt;/b&gt;" in fig.data[0].x
    assert "<b>East</b>" not in fig.data[0].x


def test_target_rate_figures_plot_rates_with_the_overall_line(wh, windows):
    rates = reads.target_rate_by_segment(wh, CONTRACT, ["region", "plan"], windows)
    fig = figures.segment_rate_figure(rates, "churned", "Jan 2024 – Feb 2024")
    segments = dict.fromkeys(label.split(":")[0] for label in fig.data[0].y)
    assert list(segments) == ["region", "plan"]
    assert list(fig.data[0].x) == pytest.approx(list(rates["target_rate"]))
    assert "region: &lt;b&gt;East&lt;/b&gt;" in fig.data[0].y
    assert "churned = 1 by segment" in fig.layout.title.text
    assert fig.layout.shapes  # the dashed overall rate
    unlabelled = rates.assign(labelled=0)
    assert fig.data and figures.segment_rate_figure(unlabelled, "churned", "x").data == ()


def test_correlation_figure_is_symmetric_with_unit_diagonal(wh, windows):
    fig = figures.correlation_figure(reads.numeric_correlations(wh, CONTRACT, windows), "Jan")
    z = np.array(fig.data[0].z, dtype=float)
    assert np.allclose(z, z.T) and np.allclose(np.diag(z), 1.0)


def test_end_bins_say_they_hold_the_values_beyond():
    assert figures.bin_labels([0.0, 10.0, 20.0, 30.0]) == ["≤ 10", "10 – 20", "> 20"]


def test_a_long_tail_does_not_set_the_histogram_range(wh, windows):
    # 1 absurd value among 1,200 reference rows: the top 0.5% must not include it.
    wh.execute(
        "INSERT INTO clean_rows SELECT c.* FROM clean_rows c, range(9) WHERE _period < ?",
        ["2024-03-01"],
    )
    wh.execute(
        "UPDATE clean_rows SET monthly_charges = 5000 WHERE rowid = "
        "(SELECT min(rowid) FROM clean_rows WHERE _period = '2024-01-01')"
    )
    profile = reads.numeric_profile(wh, CONTRACT, "monthly_charges", windows)
    assert profile["high"] == 5000 and profile["core_high"] < 200


def test_decile_labels_read_as_ranges():
    assert figures.decile_labels([10.0, 20.5]) == ["≤ 10", "10 – 20.5", "> 20.5"]


# -- the page and its callbacks ------------------------------------------------------------------


def test_layout_restores_choices_from_the_query_string(data_page):
    ids = data_page.Ids
    view = data_page.layout(feature="region", batch="2", rule="invalid_number")
    assert view[ids.FEATURE].value == "region"
    assert view[ids.Q_BATCH].value == "2"
    assert view[ids.Q_RULE].value == "invalid_number"
    assert view[ids.BODY].hidden is False


@pytest.mark.parametrize(
    "query",
    [
        {"feature": 'plan"; DROP TABLE labels; --'},
        {"feature": "customer_id"},
        {"feature": ["plan", "region"]},
        {"batch": "99"},
        {"batch": "1 OR 1=1"},
        {"rule": "nope"},
        {"utm_source": "mail"},
    ],
)
def test_unknown_query_values_fall_back_to_the_defaults(data_page, query, wh):
    ids = data_page.Ids
    view = data_page.layout(**query)
    assert view[ids.FEATURE].value == "monthly_charges"  # settings.dataset.value
    assert (view[ids.Q_BATCH].value, view[ids.Q_RULE].value) == ("*", "*")
    assert wh.table_exists("labels")


def test_batches_section_shows_real_counts_and_the_rejection(data_page, ui):
    chart, table, heatmap = data_page.update_batches(None)
    text = ui.texts(table)
    assert "customers_2024-04.csv" in text and REJECTION in text
    rows = ui.by_class(table, "batch-row")
    assert ui.texts(rows[0]).split()[:9] == [
        "#6",
        "customers_2024-04.csv",
        "2024-05-02",
        "09:00",
        "UTC",
        "accepted",
        "62",
        "60",
        "2",
    ]
    assert isinstance(chart, dcc.Graph) and isinstance(heatmap, dcc.Graph)


def test_schema_section_lists_changes_contract_and_pii_warning(data_page, ui):
    schema, contract, alerts = data_page.update_schema(None)
    assert "broken.csv has no column 'customer_id'." in ui.texts(schema)
    assert "batch rejected" in ui.texts(schema)
    text = ui.texts(contract)
    assert "Version 1" in text and "0 to 400" in text and "looks like email" in text
    assert "Basic, Premium" in text
    (alert,) = alerts
    assert (
        "column 'contact' looks like email addresses in 98% of rows (seen in "
        "customers_2024-03.csv) but is not configured as PII; add it to dataset.pii"
    ) in ui.texts(alert)


def test_configuring_a_suspect_as_pii_silences_its_warning(data_page, settings):
    settings.dataset.pii.append("contact")
    try:
        assert data_page.update_schema(None)[2] == []
    finally:
        settings.dataset.pii.remove("contact")


def test_exploration_draws_the_chosen_feature(data_page, frame):
    distribution, note = data_page.update_distribution("monthly_charges", None)
    assert "Distribution of monthly_charges" in distribution.figure.layout.title.text
    assert "Jan 2024 – Feb 2024" in note and "model v1" in note and "Apr 2024" in note
    rate = data_page.update_feature_rate("monthly_charges", None).figure
    assert "Rate of churned = 1 by monthly_charges" in rate.layout.title.text
    assert list(rate.data[0].x)[0].startswith("≤ ")  # decile bins, lowest first
    overall = reference(frame)["churned"].mean()
    assert rate.layout.shapes[0].y0 == pytest.approx(overall)
    distribution, _ = data_page.update_distribution("plan", None)
    assert distribution.figure.layout.barmode == "group"
    rate = data_page.update_feature_rate("plan", None).figure
    assert "(missing)" in rate.data[0].x


def test_columns_that_look_like_personal_data_are_never_explored(data_page, ui):
    view = data_page.layout(feature="contact")
    options = [o["value"] for o in view[data_page.Ids.FEATURE].options]
    assert "contact" not in options and view[data_page.Ids.FEATURE].value == "monthly_charges"
    card, _ = data_page.update_distribution("contact", None)
    assert "Choose a feature" in ui.texts(card)
    assert data_page.update_feature_rate("contact", None) is None
    contract = ui.texts(data_page.update_schema(None)[1])
    assert "@example.com" not in contract and "hidden: the values look like personal" in contract


def test_a_forged_feature_is_refused_with_a_message(data_page, ui, wh):
    forged = 'x"; DROP TABLE clean_rows; --'
    card, _ = data_page.update_distribution(forged, None)
    assert "Choose a feature" in ui.texts(card)
    assert data_page.update_feature_rate(forged, None) is None
    assert wh.table_exists("clean_rows")


def test_relations_show_segments_and_correlations(data_page):
    segments = data_page.update_segments(None)
    # region and plan; contract_type is not in the data
    shown = {label.split(":")[0] for label in segments.figure.data[0].y}
    assert shown == {"region", "plan"}
    corr = data_page.update_correlation(None)
    assert "Correlation" in corr.figure.layout.title.text


def test_quarantine_grid_and_note_follow_the_filters(data_page):
    columns, rows, note = data_page.update_quarantine("1", "invalid_number", None, None)
    assert len(rows) == 2 and note == (
        "Showing all 2 matching rows. Sort and filter any column in its header. Columns that "
        f"look like personal data are masked ({reads.MASK})."
    )
    assert data_page.update_quarantine("abc", "*", None, None)[1] == []  # forged batch: nothing
    _, rows, _ = data_page.update_quarantine("*", "*", None, None)
    assert len(rows) == 10


def test_download_is_the_filtered_quarantine_as_csv(data_page):
    sent = data_page.download_quarantine(1, "2", "*", None)
    assert sent["filename"] == "quarantine_batch2.csv"
    parsed = list(csv.DictReader(io.StringIO(sent["content"])))
    assert [r["Row in file"] for r in parsed] == ["5", "6", "7"]
    assert parsed[0]["customer_id"] == "'" + HOSTILE["formula"]


def test_choices_are_written_to_the_url(data_page):
    store = {"features": ["plan", "region", "contact", "tenure_months", "monthly_charges"]}
    assert data_page.write_url("monthly_charges", "*", "*", store) == ""
    assert data_page.write_url("region", "2", "missing_key", store) == (
        "?feature=region&batch=2&rule=missing_key"
    )


def test_polling_refreshes_only_when_the_data_changed(data_page, wh):
    known = data_page.load_data_state(data_page.services()).as_store()
    assert set(data_page.poll_data(1, known, "region").values()) == {no_update}
    wh.execute("INSERT INTO pii_suspects VALUES ('plan', 'name', 0.5, 6, now())")
    fresh = data_page.poll_data(2, known, "region")
    assert fresh["store"]["signature"] != known["signature"]
    assert fresh["feature"] is no_update  # the user's choice stays


# -- empty states --------------------------------------------------------------------------------


def test_before_any_file_the_page_explains_and_stays_quiet(make_app, empty_warehouse, ui):
    make_app(empty_warehouse)
    page = importlib.import_module("app.pages.data")
    view = page.layout()
    assert view[page.Ids.BODY].hidden is True
    assert "No file has been ingested yet" in ui.texts(view[page.Ids.EMPTY])
    assert page.update_batches(None) == (None, None, None)
    assert "Nothing to explore yet" in ui.texts(page.update_distribution(None, None)[0])
    assert page.update_feature_rate(None, None) is None
    assert (page.update_segments(None), page.update_correlation(None)) == (None, None)
    assert page.update_quarantine("*", "*", None, None)[1] == []
    assert "No data contract yet" in ui.texts(page.update_schema(None)[1])


def test_no_data_text_is_rendered_as_markup():
    sources = [
        Path(figures.__file__),
        *Path(quarantine.__file__).parent.glob("_data_*.py"),
        Path(quarantine.__file__).parent / "data.py",
    ]
    for source in sources:
        text = source.read_text()
        assert "dangerously" not in text and "Markdown" not in text, source.name
