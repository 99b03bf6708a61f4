"""Clean label batches (entity id, event time, target) into TEMP ``stage_labels``, all batches
of a staged table at once; rows that cannot be labels go to the quarantine with their rule."""

from __future__ import annotations

import duckdb

from pipeline.contract import Contract
from pipeline.warehouse.clean_common import (
    DATE_FORMATS,
    FALSE_LABELS,
    NULL_TOKENS,
    TRUE_LABELS,
    BatchRejected,
    CleanReport,
    Staged,
    clean_text,
    event_time_sql,
    no_rows_message,
    quarantine_malformed,
    quarantined_counts,
    record_sql,
    sql_params,
)


def clean_label_batches(
    cur: duckdb.DuckDBPyConnection, staged: Staged, contract: Contract
) -> dict[int, CleanReport | BatchRejected]:
    """Stage the labels of every batch of ``staged`` into ``stage_labels``; per batch, the
    report or why the batch was rejected (then nothing of it is staged)."""
    results: dict[int, CleanReport | BatchRejected] = {}
    active = []
    for b in staged.batches:
        if b.rows == 0:
            results[b.batch_id] = BatchRejected(no_rows_message(cur, staged, b))
        else:
            active.append(b)
    if not active:
        return results
    params = {
        "tokens": NULL_TOKENS,
        "t": TRUE_LABELS,
        "f": FALSE_LABELS,
        "formats": DATE_FORMATS,
        **staged.file_params(active),
    }
    e, t, y = (clean_text(c) for c in (contract.entity_id, contract.event_time, contract.target))
    sql = (
        "CREATE OR REPLACE TEMP TABLE clean_labels AS SELECT file, _pos, _row, entity, "
        "event_time, _label, _label_text, CASE WHEN entity IS NULL OR _time_text IS NULL "
        "THEN 'missing_key' "
        "WHEN event_time IS NULL THEN 'invalid_time' WHEN _label_text IS NULL THEN "
        "'missing_label' WHEN _label IS NULL THEN 'invalid_label' END AS _rule FROM ("
        f"SELECT *, {event_time_sql('_time_text')} AS event_time, "
        "CASE WHEN list_contains($t, lower(_label_text)) THEN 1 "
        "WHEN list_contains($f, lower(_label_text)) THEN 0 END AS _label FROM ("
        "SELECT _staged_file AS file, rowid AS _pos, "
        "rowid - list_extract($offsets, _staged_file + 1) + 1 AS _row, "
        f"CAST({e} AS VARCHAR) AS entity, {t} AS _time_text, {y} AS _label_text "
        f"FROM {staged.table} WHERE list_extract($bids, _staged_file + 1) IS NOT NULL))"
    )
    cur.execute(sql, sql_params(sql, params))
    # The last row of a repeated key wins; the earlier ones are duplicates.
    cur.execute(
        "UPDATE clean_labels SET _rule = 'duplicate_key' FROM (SELECT file, entity, event_time, "
        "max(_row) AS last FROM clean_labels WHERE _rule IS NULL GROUP BY ALL "
        "HAVING count(*) > 1) k WHERE clean_labels._rule IS NULL AND clean_labels.file = k.file "
        "AND clean_labels.entity = k.entity AND clean_labels.event_time = k.event_time "
        "AND clean_labels._row < k.last"
    )
    quarantine_malformed(cur, staged, params)
    record = record_sql(cur, contract, staged.table, staged.loaded)
    sql = (
        "INSERT INTO stage_quarantine SELECT list_extract($bids, t.file + 1), t._row, t._rule, "
        "CASE t._rule WHEN 'missing_key' THEN 'the entity id or event time is missing' "
        "WHEN 'invalid_time' THEN 'the event time is not a date or timestamp' "
        "WHEN 'missing_label' THEN 'the target is empty; send the label when it is known' "
        "WHEN 'duplicate_key' THEN 'a later row in the file gives a label for the same entity "
        f"id and event time' ELSE 'the target {contract.target} = ' || "
        "coalesce(t._label_text, '') || ' is not binary: use 0/1, yes/no or true/false' END, "
        f"{record} FROM clean_labels t JOIN {staged.table} s ON s.rowid = t._pos "
        "WHERE t._rule IS NOT NULL"
    )
    cur.execute(sql, sql_params(sql, params))
    sql = (
        "INSERT INTO stage_labels SELECT entity, event_time, "
        "CAST(date_trunc('month', event_time) AS DATE), _label, "
        "list_extract($bids, file + 1), _row FROM clean_labels WHERE _rule IS NULL"
    )
    cur.execute(sql, sql_params(sql, params))
    counts = {
        f: (parsed, labels, dups)
        for f, parsed, labels, dups in cur.execute(
            "SELECT file, count(*), count(*) FILTER (WHERE _rule IS NULL), "
            "count(*) FILTER (WHERE _rule = 'duplicate_key') FROM clean_labels GROUP BY file"
        ).fetchall()
    }
    cur.execute("DROP TABLE clean_labels")
    quarantined = quarantined_counts(cur, [b.batch_id for b in active])
    for b in active:
        parsed, labels, dups = counts[b.file]
        rows_in = parsed + b.malformed
        q = quarantined.get(b.batch_id, 0)
        results[b.batch_id] = CleanReport(rows_in, labels, q, dups, 0, 0, 0, labels)
    return results
