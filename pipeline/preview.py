"""Preview a file (what ingesting it would do, keeping nothing); stage and queue uploads.

:func:`preview_file` runs a file through the same steps as the flow's validate and clean steps
(:func:`pipeline.warehouse.cleaning.stage_file`, the flow's own "unusable file" check, the PII
scan, :func:`pipeline.contract.infer_contract` when there is no contract yet, then
:func:`~pipeline.warehouse.cleaning.clean_data_batch` or
:func:`~pipeline.warehouse.cleaning.clean_label_batch`) and reads their TEMP staging tables back.

Exception to "only ``pipeline.warehouse`` opens DuckDB": the preview opens its own scratch
connection, ``duckdb.connect(":memory:")``, never the warehouse file. It lives for one call, its
spill directory is a throw-away temporary directory, and nothing in it is ever persisted: the
warehouse, the data dir and the landing folder are untouched. The few statements here only read
the TEMP tables the cleaning code staged on that connection.

Uploads from the web page wait in ``work/uploads/<token>`` between their preview and being
accepted; :func:`queue_upload` then moves one into the landing folder for the next run.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import shutil
import tempfile
import time
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import duckdb

from pipeline import ingest
from pipeline.contract import Contract, infer_contract
from pipeline.flow import _unusable  # the flow's own rule, so preview and run cannot disagree
from pipeline.settings import Settings
from pipeline.warehouse import cleaning, pii_scan

log = logging.getLogger(__name__)

PREVIEW_BATCH = 0  # batch id used in the scratch tables; real batch ids start at 1
EXAMPLES_PER_RULE = 5
MASK = "•••"
ERROR_CHARS = 300


@dataclass(frozen=True)
class QuarantineExample:
    """One quarantined row: its line in the file, the reason, and its allow-listed fields."""

    row_number: int
    reason: str
    record: dict[str, str | None]


@dataclass(frozen=True)
class RuleCount:
    """How many rows one quarantine rule would take, with a few examples."""

    rule: str
    rows: int
    examples: list[QuarantineExample]


@dataclass(frozen=True)
class Finding:
    """A difference between the file and the data contract, in words."""

    kind: str
    column: str | None
    message: str
    action: str  # warned | rows_rejected | batch_rejected


@dataclass(frozen=True)
class Preview:
    """What ingesting one file would do.

    ``rejected`` holds the reason when the whole file would be rejected; ``held`` when the flow
    would keep it pending (labels before any data). Otherwise ``rows_accepted`` rows would be
    kept and ``rows_quarantined`` set aside, by the ``rules`` listed.
    """

    file_name: str
    kind: Literal["data", "labels"] | None
    columns: list[str] = field(default_factory=list)
    rows_in: int = 0
    rows_accepted: int = 0
    rows_quarantined: int = 0
    duplicates_removed: int = 0
    outliers_nulled: int = 0
    missing_imputed: int = 0
    rules: list[RuleCount] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    pii_suspects: list[tuple[str, str]] = field(default_factory=list)  # (column, kind)
    contract_inferred: bool = False
    contract: Contract | None = None
    rejected: str | None = None
    held: str | None = None

    @property
    def acceptable(self) -> bool:
        """True when ingesting the file would not reject it outright."""
        return self.rejected is None


def preview_file(
    path: Path,
    settings: Settings,
    contract: Contract | None,
    *,
    hide: Collection[str] = (),
) -> Preview:
    """What the next run would do with the file at ``path``, given the current ``contract``.

    With no contract yet, one is inferred from the file as the first data batch would. Values
    of configured PII, of columns in ``hide`` (e.g. the warehouse's PII suspects) and of
    columns of this file that look like personal data are masked in the examples. Raises
    nothing for a bad file: every problem is reported in :attr:`Preview.rejected`.
    """
    name = path.name
    suffix = path.suffix.lower()
    if suffix not in ingest.SUPPORTED_SUFFIXES:
        return Preview(name, None, rejected=ingest.unsupported_message(path))
    with tempfile.TemporaryDirectory(prefix="plumbline-preview-") as spill:
        cur = duckdb.connect(":memory:", config={"temp_directory": spill})
        try:
            return _preview(cur, path, suffix, settings, contract, {h.lower() for h in hide})
        except duckdb.Error as error:
            # The flow would fail the whole run on this file; the message may quote values,
            # so only its type is logged.
            log.warning("preview of an uploaded %s file failed: %s", suffix, type(error).__name__)
            first = (str(error).strip().splitlines() or [type(error).__name__])[0]
            return Preview(
                name,
                None,
                rejected=f"the run would fail on this file: {first[:ERROR_CHARS]}; check that "
                "it is a CSV, Parquet or JSON Lines export of the configured table",
            )
        finally:
            cur.close()


def _preview(
    cur: duckdb.DuckDBPyConnection,
    path: Path,
    suffix: str,
    settings: Settings,
    contract: Contract | None,
    hide: set[str],
) -> Preview:
    name = path.name
    dataset = settings.dataset
    cleaning.ensure_staging(cur)
    try:
        columns = cleaning.stage_file(
            cur, str(path), suffix, settings.ingest.csv_encoding, settings.ingest.csv_delimiter
        )
    except cleaning.BatchRejected as error:
        return Preview(name, None, rejected=str(error))
    # As in Flow._validate: the kind, then the checks that reject a file before cleaning.
    label_cols = {dataset.entity_id, dataset.event_time, dataset.target}
    kind: Literal["data", "labels"] = (
        "labels" if set(columns) <= label_cols and dataset.target in columns else "data"
    )
    count = cur.execute("SELECT count(*) FROM stage_raw").fetchone()[0]
    malformed = cur.execute("SELECT count(*) FROM stage_malformed").fetchone()[0]
    problem = _unusable(columns, count, malformed, dataset)
    if problem:
        return Preview(name, kind, columns, rows_in=count + malformed, rejected=problem)
    suspects: list[tuple[str, str]] = []
    inferred = False
    if kind == "data":
        configured = {p.lower() for p in dataset.pii} | label_cols
        found = pii_scan.scan_for_pii(
            cur, PREVIEW_BATCH, columns, {c for c in columns if c.lower() in configured}
        )
        suspects = [(column, what) for column, what, _share in found]
        if contract is None:
            contract = infer_contract(cleaning.profile(cur, columns), dataset)
            inferred = True
    base = Preview(
        name,
        kind,
        columns,
        rows_in=count + malformed,
        pii_suspects=suspects,
        contract_inferred=inferred,
        contract=contract,
    )
    if contract is None:
        return replace(
            base,
            held="labels arrived before any data; they are kept and will be applied once data "
            "for these entities has been accepted",
        )
    masked = hide | {p.lower() for p in dataset.pii} | {c.lower() for c, _ in suspects}
    try:
        if kind == "labels":
            report = cleaning.clean_label_batch(cur, PREVIEW_BATCH, contract)
        else:
            # No salt: hashed PII values are computed in scratch tables and never shown.
            report = cleaning.clean_data_batch(
                cur, PREVIEW_BATCH, columns, contract, settings.cleaning, None
            )
    except cleaning.BatchRejected as error:
        return replace(base, rejected=str(error), findings=_findings(cur, masked))
    return replace(
        base,
        rows_in=report.rows_in,
        rows_accepted=report.rows_accepted,
        rows_quarantined=report.rows_quarantined,
        duplicates_removed=report.duplicates_removed,
        outliers_nulled=report.outliers_nulled,
        missing_imputed=report.missing_imputed,
        rules=_rules(cur, masked),
        findings=_findings(cur, masked),
    )


def _temp_table_exists(cur: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(
        cur.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = ?", [table]
        ).fetchone()[0]
    )


def _rules(cur: duckdb.DuckDBPyConnection, masked: set[str]) -> list[RuleCount]:
    """Quarantine counts per rule, most rows first, with the first few rows of each."""
    rows = cur.execute(
        "SELECT rule, count(*) AS n, "
        f"list(row_number ORDER BY row_number)[1:{EXAMPLES_PER_RULE}], "
        f"list(reason ORDER BY row_number)[1:{EXAMPLES_PER_RULE}], "
        f"list(record ORDER BY row_number)[1:{EXAMPLES_PER_RULE}] "
        "FROM stage_quarantine WHERE batch_id = ? GROUP BY rule ORDER BY n DESC, rule",
        [PREVIEW_BATCH],
    ).fetchall()
    out = []
    for rule, n, numbers, reasons, records in rows:
        examples = [
            QuarantineExample(int(number), mask_text(str(reason), masked), _record(record, masked))
            for number, reason, record in zip(numbers, reasons, records, strict=True)
        ]
        out.append(RuleCount(str(rule), int(n), examples))
    return out


def _record(text: str | None, masked: set[str]) -> dict[str, str | None]:
    """The allow-listed JSON record of a quarantined row, PII-looking values masked."""
    if not text:
        return {}
    values = json.loads(text)
    return {
        k: (None if v is None else MASK if k.lower() in masked else str(v))
        for k, v in values.items()
    }


def _findings(cur: duckdb.DuckDBPyConnection, masked: set[str]) -> list[Finding]:
    if not _temp_table_exists(cur, "stage_schema_changes"):
        return []
    rows = cur.execute(
        "SELECT kind, column_name, message, action FROM stage_schema_changes WHERE batch_id = ? "
        "ORDER BY rowid",
        [PREVIEW_BATCH],
    ).fetchall()
    return [
        Finding(
            str(kind),
            column,
            _mask_finding(str(message)) if (column or "").lower() in masked else str(message),
            str(action),
        )
        for kind, column, message, action in rows
    ]


# "col = value" pieces as cleaning writes them, up to the next piece, "; " or the end.
_PIECE = r"\b(?P<col>{cols}) = .*?(?=, [A-Za-z_][A-Za-z0-9_ ]* = |; |$)"
_EXAMPLES = re.compile(r"\(e\.g\. .*?\)(?=;|$)")
_UNSEEN = re.compile(r"not seen before: .*?(?=; |$)")


def mask_text(text: str, masked: set[str]) -> str:
    """``text`` with every ``column = value`` of a ``masked`` column shown as ``column = •••``.

    Quarantine reasons name offending values that way (see ``cleaning._offenders``).
    """
    if not masked:
        return text
    cols = "|".join(re.escape(c) for c in sorted(masked, key=len, reverse=True))
    piece = re.compile(_PIECE.format(cols=cols), re.IGNORECASE)
    return piece.sub(lambda m: f"{m.group('col')} = {MASK}", text)


def _mask_finding(message: str) -> str:
    """A schema finding about a masked column without its example values."""
    message = _EXAMPLES.sub(f"(e.g. {MASK})", message)
    return _UNSEEN.sub(f"not seen before ({MASK})", message)


# -- uploads waiting between preview and accept -----------------------------------------------
# One folder per upload under work/uploads, named by a random token; the file keeps its safe
# name and meta.json says whether its preview allows accepting it.

UPLOAD_MAX_AGE_SECONDS = 3600
NAME_CHARS = 80
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{22}$")  # secrets.token_urlsafe(16)
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_META = "meta.json"


def upload_area(settings: Settings) -> Path:
    """The folder holding uploads between preview and accept: one sub-folder per token."""
    return settings.work_dir / "uploads"


def safe_name(filename: object) -> str | None:
    """The client's file name as a safe base name (letters, digits, ``._-``), or None.

    Folders are dropped (``../../etc/passwd.csv`` becomes ``passwd.csv``), other characters
    become ``_``, leading dots go (no hidden files) and the stem is cut to 80 characters.
    """
    if not isinstance(filename, str):
        return None
    base = unicodedata.normalize("NFKC", filename).replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _UNSAFE.sub("_", base).strip("._-")
    if not cleaned:
        return None
    stem, dot, suffix = cleaned.rpartition(".")
    if not dot:
        return cleaned[:NAME_CHARS]
    return f"{stem[:NAME_CHARS].rstrip('._-') or 'upload'}.{suffix[:16]}"


def remove_old_uploads(area: Path, now: float | None = None) -> None:
    """Delete temporary uploads older than an hour."""
    if not area.is_dir():
        return
    cutoff = (now if now is not None else time.time()) - UPLOAD_MAX_AGE_SECONDS
    for entry in area.iterdir():
        try:
            if entry.stat().st_mtime >= cutoff:
                continue
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        except FileNotFoundError:  # another request cleaned it up meanwhile
            continue


@dataclass(frozen=True)
class Staged:
    """An upload waiting in its token folder."""

    folder: Path
    name: str
    ok: bool

    @property
    def path(self) -> Path:
        """The uploaded file."""
        return self.folder / self.name


def staged_upload(area: Path, token: object) -> Staged | None:
    """The upload behind ``token``, or None for an unknown, expired or forged token."""
    if not isinstance(token, str) or not _TOKEN.fullmatch(token):
        return None
    folder = area / token
    try:
        meta = json.loads((folder / _META).read_text(encoding="utf-8"))
    except (FileNotFoundError, NotADirectoryError, ValueError):
        return None
    name = safe_name(meta.get("name"))
    if name is None or name != meta.get("name") or not (folder / name).is_file():
        return None
    return Staged(folder, name, meta.get("ok") is True)


def discard_staged(area: Path, token: object) -> None:
    """Delete the upload behind ``token``, if any (previewed or not)."""
    if isinstance(token, str) and _TOKEN.fullmatch(token):
        shutil.rmtree(area / token, ignore_errors=True)


def stage_upload(area: Path, name: str, data: bytes) -> tuple[str, Path]:
    """Write ``data`` as ``name`` (a :func:`safe_name`) in a new folder named by a random
    token; returns the token and the file. The token is all a browser ever holds."""
    if safe_name(name) != name or name == _META:
        raise ValueError(f"refusing to stage an upload under the unsafe name {name!r}")
    token = secrets.token_urlsafe(16)
    folder = area / token
    folder.mkdir(parents=True, mode=0o700)
    path = folder / name
    path.write_bytes(data)
    return token, path


def mark_upload(path: Path, ok: bool) -> None:
    """Record, next to a staged upload, whether its preview allows accepting it."""
    meta = json.dumps({"name": path.name, "ok": ok})
    (path.parent / _META).write_text(meta, encoding="utf-8")


def queue_upload(found: Staged, landing: Path, now: datetime) -> Path:
    """Move the upload into ``landing`` as ``upload-<UTC time>-<name>``; returns the new path.

    The file is first moved to a hidden name, which ingest skips, then renamed in one step, so
    a run never reads half a file.
    """
    landing.mkdir(parents=True, exist_ok=True)
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = landing / f"upload-{stamp}-{found.name}"
    n = 1
    while target.exists():
        n += 1
        target = landing / f"upload-{stamp}-{n}-{found.name}"
    partial = landing / f".{target.name}.partial"
    shutil.move(found.path, partial)
    os.replace(partial, target)
    shutil.rmtree(found.folder, ignore_errors=True)
    return target
