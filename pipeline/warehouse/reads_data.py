"""Named reads behind the web UI's Data page; the only SQL the Data page runs.

The page describes what the pipeline received and kept: raw batches and their cleaning counts,
per-column missing values, schema changes, the data contract, PII suspects, distributions of the
cleaned data (``clean_rows``) and the quarantine.

A column name reaches SQL only after :func:`checked_column` found it among the latest data
contract's columns *and* the real columns of ``clean_rows``, and then only through
:func:`quote_ident`; every value is a bound parameter. Everything is aggregated in DuckDB; the
only raw rows that leave it are a bounded page of the quarantine, whose values in columns that
look like PII are masked inside the query.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd

from pipeline.contract import Contract
from pipeline.warehouse.connection import Warehouse, quote_ident

CLEAN_TABLE = "clean_rows"
MASK = "•••"
QUARANTINE_FIXED = ["batch_id", "file_name", "row_number", "rule", "reason"]
MAX_CORRELATED = 20  # at most 190 pairs in one aggregate query


class UnknownColumnError(ValueError):
    """A column that is not in the latest data contract (or not in ``clean_rows``)."""


@dataclass(frozen=True)
class ContractInfo:
    """The latest data contract and when it was made."""

    version: int
    created_at: datetime
    batch_id: int | None
    contract: Contract


@dataclass(frozen=True)
class Windows:
    """The periods the exploration compares: the reference window against the latest period.

    The reference is the champion's training window, or the first period when there is no
    champion; ``model_version`` is the champion's version or None.
    """

    reference_from: date
    reference_to: date
    latest: date
    model_version: int | None


# -- contract and allow-list ------------------------------------------------------------------


def latest_contract(wh: Warehouse) -> ContractInfo | None:
    """The newest data contract, or None before the first accepted batch."""
    found = wh.rows(
        "SELECT version, created_at, batch_id, contract FROM data_contract "
        "ORDER BY version DESC LIMIT 1"
    )
    if not found:
        return None
    version, created_at, batch_id, text = found[0]
    return ContractInfo(int(version), created_at, batch_id, Contract.from_json(text))


def contract_columns(contract: Contract) -> list[str]:
    """Every column the contract names: keys, target, categorical then numeric features."""
    names = [contract.entity_id, contract.event_time, contract.target, *contract.features]
    return list(dict.fromkeys(names))


def feature_kind(contract: Contract, column: str) -> str:
    """``"numeric"`` or ``"categorical"``; :class:`UnknownColumnError` for anything else."""
    if column in contract.numeric:
        return "numeric"
    if column in contract.categorical:
        return "categorical"
    raise UnknownColumnError(f"{column!r} is not a feature of the data contract")


def clean_columns(wh: Warehouse) -> dict[str, str]:
    """Column name -> DuckDB type of ``clean_rows``; empty before the first accepted batch."""
    return wh.columns(CLEAN_TABLE)


def checked_column(column: object, contract: Contract, actual: Collection[str]) -> str:
    """``column`` quoted for SQL, or :class:`UnknownColumnError`.

    Accepted only if the contract names it as a feature and ``clean_rows`` (``actual``) has it.
    """
    if not isinstance(column, str) or column not in contract.features or column not in actual:
        raise UnknownColumnError(f"{column!r} is not a feature column of the data contract")
    return quote_ident(column)


# -- batches ----------------------------------------------------------------------------------


def batches(wh: Warehouse) -> pd.DataFrame:
    """Every raw batch with its cleaning counts, oldest first.

    Columns: ``batch_id``, ``file_name``, ``kind``, ``arrived_at``, ``status`` (pending,
    accepted, rejected), ``message`` (why a file was rejected, in words), ``period_min``,
    ``period_max``, ``rows_in``, ``rows_accepted``, ``rows_quarantined``,
    ``duplicates_removed``, ``text_normalised``, ``nulls_found``, ``missing_imputed``,
    ``outliers_handled``, ``labels_applied``. Counts are NA for a batch without statistics
    (pending or rejected before cleaning).
    """
    return wh.read(
        "SELECT b.batch_id, b.file_name, b.kind, b.arrived_at, b.status, b.message, "
        "s.period_min, s.period_max, coalesce(s.rows_in, b.row_count) AS rows_in, "
        "s.rows_accepted, s.rows_quarantined, s.duplicates_removed, s.text_normalised, "
        "s.nulls_found, s.missing_imputed, s.outliers_handled, s.labels_applied "
        "FROM raw_batches b LEFT JOIN batch_stats s USING (batch_id) ORDER BY b.batch_id"
    )


def missing_by_column(wh: Warehouse) -> pd.DataFrame:
    """Share of missing values per column per batch, from ``batch_column_stats``.

    Columns: ``batch_id``, ``file_name``, ``period_min``, ``column_name``, ``rows``,
    ``missing``, ``imputed``, ``outliers``, ``share`` (missing / rows; NaN for 0 rows).
    Ordered by batch id, then column name.
    """
    return wh.read(
        "SELECT c.batch_id, b.file_name, s.period_min, c.column_name, c.rows, c.missing, "
        "c.imputed, c.outliers, c.missing / nullif(c.rows, 0) AS share "
        "FROM batch_column_stats c LEFT JOIN raw_batches b USING (batch_id) "
        "LEFT JOIN batch_stats s USING (batch_id) ORDER BY c.batch_id, c.column_name"
    )


def schema_changes(wh: Warehouse, limit: int = 500) -> pd.DataFrame:
    """The newest ``limit`` schema changes, newest first.

    Columns: ``detected_at``, ``batch_id``, ``file_name``, ``kind``, ``column_name``,
    ``message`` (a sentence), ``action`` (warned, rows_rejected, batch_rejected).
    """
    return wh.read(
        "SELECT c.detected_at, c.batch_id, b.file_name, c.kind, c.column_name, c.message, "
        "c.action FROM schema_changes c LEFT JOIN raw_batches b USING (batch_id) "
        "ORDER BY c.detected_at DESC, c.batch_id DESC LIMIT ?",
        [limit],
    )


def pii_suspects(wh: Warehouse) -> pd.DataFrame:
    """Columns that look like personal data but are not configured as PII.

    Columns: ``column_name``, ``kind`` (email, phone, name), ``share`` (fraction of the
    batch's values that look like it), ``batch_id``, ``file_name``, ``detected_at``.
    """
    return wh.read(
        "SELECT p.column_name, p.kind, p.share, p.batch_id, b.file_name, p.detected_at "
        "FROM pii_suspects p LEFT JOIN raw_batches b USING (batch_id) ORDER BY p.column_name"
    )


def batch_count(wh: Warehouse) -> int:
    """How many files have arrived (raw batches in any status)."""
    return int(wh.scalar("SELECT count(*) FROM raw_batches") or 0)


def data_signature(wh: Warehouse) -> str:
    """A short text that changes whenever anything this page shows may have changed.

    Counting eleven tables takes ~20 ms, so it is counted again only after a write to the
    results or to the raw batches."""
    row = wh.kept(
        "data.signature",
        ("intake",),
        lambda: wh.rows(
            "SELECT (SELECT count(*) FROM raw_batches), (SELECT max(batch_id) FROM raw_batches), "
            "(SELECT count(*) FROM raw_batches WHERE status = 'pending'), "
            "(SELECT count(*) FROM batch_stats), (SELECT count(*) FROM batch_column_stats), "
            "(SELECT max(version) FROM data_contract), (SELECT count(*) FROM schema_changes), "
            "(SELECT count(*) FROM pii_suspects), (SELECT count(*) FROM quarantine), "
            "(SELECT version FROM model_aliases WHERE alias = 'champion'), "
            "(SELECT count(*) FROM labels)"
        )[0],
    )
    return ":".join("-" if v is None else str(v) for v in row)


# -- exploration of clean_rows ----------------------------------------------------------------


def comparison_windows(wh: Warehouse) -> Windows | None:
    """The reference window and latest period of ``clean_rows``; None before any clean data."""
    if not clean_columns(wh):
        return None
    first, latest = wh.rows(f"SELECT min(_period), max(_period) FROM {CLEAN_TABLE}")[0]
    if latest is None:
        return None
    champion = wh.rows(
        "SELECT m.version, m.train_from, m.train_to FROM model_aliases a "
        "JOIN models m ON m.version = a.version WHERE a.alias = 'champion'"
    )
    if champion and champion[0][2] is not None:
        version, train_from, train_to = champion[0]
        return Windows(train_from or train_to, train_to, latest, int(version))
    return Windows(first, first, latest, None)


def _windowed(column_sql: str, windows: Windows) -> tuple[str, list[object]]:
    """SQL of ``(window, x)`` rows for the reference window and the latest period."""
    sql = (
        f"SELECT 'reference' AS \"window\", {column_sql} AS x FROM {CLEAN_TABLE} "
        "WHERE _period BETWEEN ? AND ? "
        f"UNION ALL SELECT 'latest' AS \"window\", {column_sql} AS x FROM {CLEAN_TABLE} "
        "WHERE _period = ?"
    )
    return sql, [windows.reference_from, windows.reference_to, windows.latest]


def numeric_profile(wh: Warehouse, contract: Contract, column: str, windows: Windows) -> dict:
    """Reference-window summary of a numeric feature, for fixing histogram bin edges.

    Keys: ``low``, ``high`` (None when the window has no values), ``core_low``, ``core_high``
    (approximate 0.5% and 99.5% quantiles: the range worth drawing, so a long tail does not
    squash the histogram), ``integers`` (every value is a whole number), ``rows``, ``missing``.
    """
    col = checked_column(column, contract, clean_columns(wh))
    low, high, core, integers, rows, missing = wh.rows(
        f"SELECT min({col}), max({col}), approx_quantile({col}, [0.005, 0.995]), "
        f"coalesce(bool_and({col} = round({col})), false), count(*), count(*) - count({col}) "
        f"FROM {CLEAN_TABLE} WHERE _period BETWEEN ? AND ?",
        [windows.reference_from, windows.reference_to],
    )[0]
    core_low, core_high = (core or [low, high])[:2] if low is not None else (None, None)
    return {
        "low": low,
        "high": high,
        "core_low": low if core_low is None else max(float(core_low), float(low)),
        "core_high": high if core_high is None else min(float(core_high), float(high)),
        "integers": integers,
        "rows": rows,
        "missing": missing,
    }


def histogram_edges(low: float, high: float, integers: bool, max_bins: int = 20) -> list[float]:
    """Bin edges covering ``[low, high]`` in at most ``max_bins`` bins of a round width.

    Whole-number data gets whole-number widths, so a count 0..10 gets one bin per value.
    """
    span = float(high) - float(low)
    if span <= 0:
        return [float(low) - 0.5, float(low) + 0.5]
    raw = span / max_bins
    magnitude = 10 ** math.floor(math.log10(raw))
    width = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    if integers:
        width = max(1.0, float(math.ceil(width)))
        start = math.floor(low) - 0.5
    else:
        start = math.floor(low / width) * width
    edges = [start]
    while edges[-1] < high or len(edges) < 2:
        edges.append(round(edges[-1] + width, 12))
    return edges


def numeric_histogram(
    wh: Warehouse, contract: Contract, column: str, windows: Windows, edges: Sequence[float]
) -> pd.DataFrame:
    """Counts of a numeric feature per bin, for the reference window and the latest period.

    ``edges`` are fixed from the reference (:func:`histogram_edges`); values outside them are
    counted in the first or last bin. Columns: ``window`` ("reference" or "latest"), ``bin``
    (0-based; NA for missing values), ``rows``, ``share`` (of the window's non-missing rows;
    for the missing row, of all the window's rows).
    """
    col = checked_column(column, contract, clean_columns(wh))
    bins = len(edges) - 1
    start, width = float(edges[0]), float(edges[1]) - float(edges[0])
    source, params = _windowed(col, windows)
    # least/greatest skip NULLs, so a missing value needs its own branch to stay missing.
    return wh.read(
        "WITH v AS (" + source + "), b AS ("
        '  SELECT "window", CASE WHEN x IS NOT NULL THEN '
        "  CAST(least(greatest(floor((x - ?) / ?), 0), ?) AS INTEGER) END AS bin, "
        "  count(*) AS rows FROM v GROUP BY ALL) "
        'SELECT "window", bin, rows, '
        'rows / sum(rows) OVER (PARTITION BY "window", bin IS NULL) AS share '
        'FROM b ORDER BY "window" DESC, bin NULLS LAST',
        [*params, start, width, bins - 1],
    ).assign(share=lambda f: _fix_missing_share(f))


def _fix_missing_share(frame: pd.DataFrame) -> pd.Series:
    # The window function above gives the missing row a share of itself (1.0); rescale it to
    # a share of all the window's rows.
    totals = frame.groupby("window")["rows"].transform("sum")
    return frame["share"].where(frame["bin"].notna(), frame["rows"] / totals)


def category_shares(
    wh: Warehouse, contract: Contract, column: str, windows: Windows
) -> pd.DataFrame:
    """Rows per category of a categorical feature, reference window against latest period.

    Columns: ``window``, ``category`` (None for missing), ``rows``, ``share`` (of the window's
    rows, missing included). Largest reference categories first.
    """
    col = checked_column(column, contract, clean_columns(wh))
    source, params = _windowed(f"CAST({col} AS VARCHAR)", windows)
    found = wh.read(
        'WITH c AS (SELECT "window", x AS category, count(*) AS rows FROM (' + source + ") "
        'GROUP BY ALL) SELECT "window", category, rows, '
        'rows / sum(rows) OVER (PARTITION BY "window") AS share FROM c',
        params,
    )
    # Largest reference categories first, categories new in the latest period after them,
    # missing values last.
    reference = dict(
        zip(*found.loc[found["window"] == "reference", ["category", "rows"]].T.values, strict=True)
    )
    order = [
        (c is None or c != c, -reference.get(c, 0), str(c), w != "reference")
        for c, w in zip(found["category"], found["window"], strict=True)
    ]
    ranked = sorted(range(len(found)), key=order.__getitem__)
    return found.iloc[ranked].reset_index(drop=True)


def _labelled_source(contract: Contract, windows: Windows) -> tuple[str, list[object]]:
    """FROM clause of reference-window clean rows joined to their labels (``l.label``)."""
    e, t = quote_ident(contract.entity_id), quote_ident(contract.event_time)
    # Both periods are the month of the same event time, so the extra equality changes no
    # match; it gives the hash join a cheap first key and makes it markedly faster.
    sql = (
        f"FROM {CLEAN_TABLE} c LEFT JOIN labels l ON l.period = c._period "
        f"AND l.entity_id = CAST(c.{e} AS VARCHAR) "
        f"AND l.event_time = c.{t} AND l.period BETWEEN ? AND ? "
        "WHERE c._period BETWEEN ? AND ?"
    )
    span = [windows.reference_from, windows.reference_to]
    return sql, [*span, *span]


def decile_edges(wh: Warehouse, contract: Contract, column: str, windows: Windows) -> list[float]:
    """The distinct deciles (10%..90%) of a numeric feature in the reference window, ascending.

    Approximate (t-digest): exact quantiles sort the whole window, several times slower, and
    cut points only need to be close. Whole-number columns get whole-number cut points.
    """
    col = checked_column(column, contract, clean_columns(wh))
    found, integers = wh.rows(
        f"SELECT approx_quantile({col}, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]), "
        f"coalesce(bool_and({col} = round({col})), false) "
        f"FROM {CLEAN_TABLE} WHERE _period BETWEEN ? AND ?",
        [windows.reference_from, windows.reference_to],
    )[0]
    values = [float(v) for v in (found or []) if v is not None]
    return sorted({float(round(v)) if integers else v for v in values})


def target_rate_by_bin(
    wh: Warehouse, contract: Contract, column: str, windows: Windows, edges: Sequence[float] = ()
) -> pd.DataFrame:
    """Target rate per bin of a feature over the reference window (labels joined on key).

    Numeric features are cut at ``edges`` (from :func:`decile_edges`): bin *i* holds values
    above edge *i-1* and up to edge *i*. Categorical features use their categories.
    Columns: ``bin`` (0-based for numeric; NA for missing values or categorical), ``category``
    (None for numeric or missing), ``rows``, ``labelled`` (rows whose label arrived),
    ``target_rate`` (mean label of those; NaN without labels).
    """
    col = checked_column(column, contract, clean_columns(wh))
    source, params = _labelled_source(contract, windows)
    if feature_kind(contract, column) == "numeric":
        # A CASE ladder with bound edges is twice as fast as a list lambda per row.
        steps = "".join(f" WHEN c.{col} <= ? THEN {i}" for i in range(len(edges)))
        key = f"CASE WHEN c.{col} IS NULL THEN NULL{steps} ELSE {len(edges)} END"
        select = f"CAST({key} AS INTEGER) AS bin, CAST(NULL AS VARCHAR) AS category"
        key_params: list[object] = [float(e) for e in edges]
        order = "bin NULLS LAST"
    else:
        select = f"CAST(NULL AS INTEGER) AS bin, CAST(c.{col} AS VARCHAR) AS category"
        key_params = []
        order = "rows DESC, category NULLS LAST"
    return wh.read(
        f"SELECT {select}, count(*) AS rows, count(l.label) AS labelled, "
        f"avg(l.label) AS target_rate {source} GROUP BY ALL ORDER BY {order}",
        [*key_params, *params],
    )


def target_rate_by_segment(
    wh: Warehouse, contract: Contract, segments: Sequence[str], windows: Windows
) -> pd.DataFrame:
    """Target rate per value of each segment column over the reference window, in one scan.

    Only segments that are categorical features of the contract (and in ``clean_rows``) are
    used. Columns: ``segment`` (column name), ``value`` (None for missing), ``rows``,
    ``labelled``, ``target_rate``. Ordered by segment (configured order), then rows.
    """
    actual = clean_columns(wh)
    usable = [s for s in segments if s in contract.categorical and s in actual]
    if not usable:
        return pd.DataFrame(
            {
                "segment": pd.Series(dtype="object"),
                "value": pd.Series(dtype="object"),
                "rows": pd.Series(dtype="int64"),
                "labelled": pd.Series(dtype="int64"),
                "target_rate": pd.Series(dtype="float64"),
            }
        )
    cols = [checked_column(s, contract, actual) for s in usable]
    source, params = _labelled_source(contract, windows)
    which = " ".join(f"WHEN grouping(c.{q}) = 0 THEN {i}" for i, q in enumerate(cols))
    value = " ".join(f"WHEN grouping(c.{q}) = 0 THEN CAST(c.{q} AS VARCHAR)" for q in cols)
    sets = ", ".join(f"(c.{q})" for q in cols)
    found = wh.read(
        f"SELECT CASE {which} END AS position, CASE {value} END AS value, count(*) AS rows, "
        f"count(l.label) AS labelled, avg(l.label) AS target_rate {source} "
        f"GROUP BY GROUPING SETS ({sets}) ORDER BY position, rows DESC, value NULLS LAST",
        params,
    )
    found.insert(0, "segment", [usable[int(p)] for p in found.pop("position")])
    return found


def numeric_correlations(wh: Warehouse, contract: Contract, windows: Windows) -> pd.DataFrame:
    """Pearson correlation of every pair of numeric features over the reference window.

    At most the first :data:`MAX_CORRELATED` numeric features. Columns: ``column_a``,
    ``column_b`` (both orders, and each column with itself), ``corr`` (NaN when undefined).
    """
    actual = clean_columns(wh)
    names = [c for c in contract.numeric if c in actual][:MAX_CORRELATED]
    pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1 :]]
    values: list[object] = []
    if pairs:
        terms = ", ".join(
            f"corr({checked_column(a, contract, actual)}, {checked_column(b, contract, actual)})"
            for a, b in pairs
        )
        values = list(
            wh.rows(
                f"SELECT {terms} FROM {CLEAN_TABLE} WHERE _period BETWEEN ? AND ?",
                [windows.reference_from, windows.reference_to],
            )[0]
        )
    found = {(a, a): 1.0 for a in names}
    for (a, b), v in zip(pairs, values, strict=True):
        found[(a, b)] = found[(b, a)] = math.nan if v is None else float(v)
    return pd.DataFrame(
        [(a, b, found[(a, b)]) for a in names for b in names],
        columns=["column_a", "column_b", "corr"],
    )


# -- quarantine -------------------------------------------------------------------------------


def quarantine_rules(wh: Warehouse) -> pd.DataFrame:
    """Quarantine rules with their row counts, most rows first. Columns: ``rule``, ``rows``."""
    return wh.read("SELECT rule, count(*) AS rows FROM quarantine GROUP BY 1 ORDER BY 2 DESC, 1")


def quarantine_batches(wh: Warehouse) -> pd.DataFrame:
    """Batches that have quarantined rows, newest first.

    Columns: ``batch_id``, ``file_name``, ``rows``.
    """
    return wh.read(
        "SELECT q.batch_id, b.file_name, count(*) AS rows FROM quarantine q "
        "LEFT JOIN raw_batches b USING (batch_id) GROUP BY ALL ORDER BY q.batch_id DESC"
    )


def record_fields(contract: Contract | None) -> list[str]:
    """Names of the raw-row fields shown for a quarantined row: the contract's columns."""
    return contract_columns(contract) if contract is not None else []


def masked_fields(wh: Warehouse, configured_pii: Collection[str] = ()) -> set[str]:
    """Column names whose values must never leave the warehouse: PII suspects and configured
    PII (compared case-insensitively, as the contract does)."""
    suspects = {str(r[0]) for r in wh.rows("SELECT column_name FROM pii_suspects")}
    return {s.lower() for s in suspects | set(configured_pii)}


def _quarantine_filter(
    batch_id: int | None, rule: str | None, search: str | None, searchable: list[str]
) -> tuple[str, list[object]]:
    where, params = [], []
    if batch_id is not None:
        where.append("q.batch_id = ?")
        params.append(int(batch_id))
    if rule:
        where.append("q.rule = ?")
        params.append(rule)
    if search:
        # Masked fields are left out of the search, so it cannot be used to probe PII.
        where.append(f"concat_ws(' ', {', '.join(['q.reason', *searchable])}) ILIKE ? ESCAPE '\\'")
        pattern = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params.append(f"%{pattern}%")
    return (" WHERE " + " AND ".join(where)) if where else "", params


def quarantine_rows(
    wh: Warehouse,
    contract: Contract | None,
    *,
    batch_id: int | None = None,
    rule: str | None = None,
    search: str | None = None,
    limit: int = 5_000,
    configured_pii: Collection[str] = (),
) -> tuple[pd.DataFrame, int]:
    """Up to ``limit`` quarantined rows matching the filters, and how many match in all.

    ``search`` matches (case-insensitively, as plain text) the reason or any unmasked field.
    Columns: ``batch_id``, ``file_name``, ``row_number``, ``rule``, ``reason``, then one text
    column per :func:`record_fields` name (a field clashing with a fixed column gets
    `` (row)`` appended). Values of PII suspects and configured PII are replaced by
    :data:`MASK` in SQL, so they never reach Python. Newest batch first, then row number.
    """
    fields = record_fields(contract)
    masked = masked_fields(wh, configured_pii)
    paths = [f'$."{f}"' for f in fields]
    extracted = [f"json_extract_string(q.record, ${i + 1})" for i in range(len(fields))]
    shown = [
        f"CASE WHEN {x} IS NULL THEN NULL ELSE '{MASK}' END" if f.lower() in masked else x
        for f, x in zip(fields, extracted, strict=True)
    ]
    searchable = [x for f, x in zip(fields, extracted, strict=True) if f.lower() not in masked]
    where, where_params = _quarantine_filter(batch_id, rule, search, searchable)
    # Positional $n parameters: the JSON paths first, then the filters, then the limit.
    n = len(paths)
    where = _renumber(where, n)
    values = "".join(f", {s} AS v{i}" for i, s in enumerate(shown))
    frame = wh.read(
        "SELECT q.batch_id, b.file_name, q.row_number, q.rule, q.reason"
        f"{values}, count(*) OVER () AS _total "
        f"FROM quarantine q LEFT JOIN raw_batches b USING (batch_id){where} "
        f"ORDER BY q.batch_id DESC, q.row_number LIMIT ${n + len(where_params) + 1}",
        [*paths, *where_params, int(limit)],
    )
    counts = frame.pop("_total")
    total = int(counts.iloc[0]) if len(counts) else 0
    names = [f"{f} (row)" if f in QUARANTINE_FIXED else f for f in fields]
    frame.columns = [*QUARANTINE_FIXED, *names]
    return frame, total


def _renumber(where: str, offset: int) -> str:
    """Turn the filter's ``?`` placeholders into ``$n`` numbered after ``offset``."""
    parts = where.split("?")
    out = parts[0]
    for i, part in enumerate(parts[1:]):
        out += f"${offset + i + 1}" + part
    return out
