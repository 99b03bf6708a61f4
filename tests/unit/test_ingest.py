"""Ingest: hashing, source checks, which files are candidates, and the raw copy."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline import ingest
from pipeline.ingest import FoundFile, SourceError
from pipeline.settings import Settings, load_settings


@pytest.fixture
def with_source(small_settings: Settings) -> Callable[[str], Settings]:
    """Settings like ``small_settings`` but reading ``dataset.source`` from the given path."""

    def make(source: str) -> Settings:
        return load_settings(data_dir=small_settings.data_dir, dataset={"source": source})

    return make


def _write(path: Path, data: bytes = b"customer_id,snapshot_month\nc1,2024-01-01\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_sha256_of_equals_hashlib_across_chunk_boundaries(tmp_path: Path) -> None:
    data = os.urandom(10_000) + b"tail"
    path = _write(tmp_path / "blob.csv", data)
    expected = hashlib.sha256(data).hexdigest()
    assert ingest.sha256_of(path) == expected
    assert ingest.sha256_of(path, chunk=7) == expected
    assert ingest.sha256_of(_write(tmp_path / "empty.csv", b"")) == hashlib.sha256().hexdigest()


# -- check_source ------------------------------------------------------------------------------
def test_demo_source_needs_no_files(small_settings: Settings) -> None:
    assert small_settings.dataset.is_demo
    ingest.check_source(small_settings)  # must not raise


def test_missing_source_path_names_the_setting(with_source, tmp_path: Path) -> None:
    missing = tmp_path / "exports" / "customers.csv"
    with pytest.raises(SourceError, match="dataset.source") as caught:
        ingest.check_source(with_source(str(missing)))
    assert str(missing) in str(caught.value)


def test_glob_in_a_missing_folder_names_the_folder(with_source, tmp_path: Path) -> None:
    pattern = tmp_path / "exports" / "customers_*.csv"
    with pytest.raises(SourceError, match="dataset.source") as caught:
        ingest.check_source(with_source(str(pattern)))
    assert str(tmp_path / "exports") in str(caught.value)


def test_glob_starting_a_missing_folder_is_refused(with_source, tmp_path: Path) -> None:
    pattern = tmp_path / "exports" / "*.csv"
    with pytest.raises(SourceError, match="dataset.source"):
        ingest.check_source(with_source(str(pattern)))


@pytest.mark.parametrize("relative", ["exports/customers.csv", "exports", "exports/*.csv"])
def test_existing_file_folder_or_glob_passes(with_source, tmp_path: Path, relative: str) -> None:
    _write(tmp_path / "exports" / "customers.csv")
    ingest.check_source(with_source(str(tmp_path / relative)))  # must not raise


# -- source_paths ------------------------------------------------------------------------------
def test_source_paths_skip_partial_copies_and_unsupported_files(
    with_source, tmp_path: Path
) -> None:
    exports = tmp_path / "exports"
    settings = with_source(str(exports))
    wanted = [
        _write(exports / "jan.csv"),
        _write(exports / "feb.PARQUET"),
        _write(exports / "mar.jsonl"),
        _write(exports / "apr.ndjson"),
        _write(settings.landing_dir / "labels_jan.csv"),
    ]
    _write(exports / ".may.csv.partial")
    _write(exports / ".jun.csv")
    _write(exports / "notes.txt")
    _write(exports / "backup.csv.gz")
    _write(settings.landing_dir / ".labels_feb.csv")
    _write(exports / "nested" / "deep.csv")  # a folder source is read one level deep
    assert sorted(ingest.source_paths(settings)) == sorted(wanted)


def test_glob_source_and_landing_files_are_both_found(with_source, tmp_path: Path) -> None:
    settings = with_source(str(tmp_path / "exports" / "customers_*.csv"))
    jan = _write(tmp_path / "exports" / "customers_jan.csv")
    _write(tmp_path / "exports" / "orders_jan.csv")
    landed = _write(settings.landing_dir / "customers_feb.csv")
    assert sorted(ingest.source_paths(settings)) == sorted([jan, landed])


def test_glob_source_returns_files_not_folders(with_source, tmp_path: Path) -> None:
    settings = with_source(str(tmp_path / "exports" / "customers_*.csv"))
    jan = _write(tmp_path / "exports" / "customers_jan.csv")
    (tmp_path / "exports" / "customers_archive.csv").mkdir()
    assert ingest.source_paths(settings) == [jan]


def test_demo_reads_only_the_landing_folder(small_settings: Settings) -> None:
    assert ingest.source_paths(small_settings) == []
    landed = _write(small_settings.landing_dir / "labels.csv")
    assert ingest.source_paths(small_settings) == [landed]


def test_source_paths_are_ordered_oldest_first(with_source, tmp_path: Path) -> None:
    settings = with_source(str(tmp_path / "exports"))
    newer = _write(tmp_path / "exports" / "a.csv")
    older = _write(tmp_path / "exports" / "b.csv")
    os.utime(older, ns=(1_000_000_000, 1_000_000_000))
    assert ingest.source_paths(settings) == [older, newer]


# -- keep_copy ---------------------------------------------------------------------------------
def test_kept_copy_is_byte_identical_read_only_and_named_by_hash(tmp_path: Path) -> None:
    data = b"customer_id,snapshot_month\nc1,2024-01-01\n\xef\xbb\xbf odd bytes \x00\n"
    source = _write(tmp_path / "in" / "Customers.CSV", data)
    [found] = ingest.scan([source])
    assert found == FoundFile(source, len(data), hashlib.sha256(data).hexdigest())

    raw = tmp_path / "raw"
    copy = ingest.keep_copy(found, raw)
    assert copy == raw / f"{found.content_hash}.csv"
    assert copy.read_bytes() == data
    assert stat.S_IMODE(copy.stat().st_mode) == 0o444
    assert [p.name for p in raw.iterdir()] == [copy.name]  # no partial file left behind


def test_keeping_the_same_file_twice_is_a_no_op(tmp_path: Path) -> None:
    source = _write(tmp_path / "in" / "jan.csv")
    [found] = ingest.scan([source])
    first = ingest.keep_copy(found, tmp_path / "raw")
    mtime = first.stat().st_mtime_ns
    second = ingest.keep_copy(found, tmp_path / "raw")
    assert second == first
    assert first.stat().st_mtime_ns == mtime
    assert len(list((tmp_path / "raw").iterdir())) == 1


def test_scan_skips_files_that_vanish(tmp_path: Path) -> None:
    present = _write(tmp_path / "a.csv")
    assert [f.path for f in ingest.scan([tmp_path / "gone.csv", present])] == [present]
