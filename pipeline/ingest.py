"""Ingest: find new files, keep a byte-identical copy, and register each one once by hash."""

from __future__ import annotations

import glob
import hashlib
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

from pipeline.settings import Settings

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = (".csv", ".parquet", ".jsonl", ".ndjson")


class SourceError(ValueError):
    """The configured source cannot be read; the message says what to change."""


@dataclass(frozen=True)
class FoundFile:
    """A file seen in the source or landing folder, with its content hash."""

    path: Path
    size_bytes: int
    content_hash: str

    @property
    def suffix(self) -> str:
        """Lower-case file suffix, e.g. ``.csv``."""
        return self.path.suffix.lower()


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file, read in chunks (hashlib releases the GIL on large buffers)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def check_source(settings: Settings) -> None:
    """Raise :class:`SourceError` when a non-demo source cannot possibly exist."""
    source = settings.dataset.source
    if settings.dataset.is_demo:
        return
    if glob.has_magic(source):
        cut = min((i for i in (source.find(ch) for ch in "*?[") if i >= 0), default=len(source))
        prefix = source[:cut]
        parent = Path(prefix) if prefix.endswith(("/", "\\")) else Path(prefix).parent
        if not parent.exists():
            raise SourceError(
                f"source folder {parent} does not exist (setting dataset.source = {source!r}); "
                "create it or point dataset.source at your CSV/Parquet files"
            )
        return
    path = Path(source)
    if not path.exists():
        raise SourceError(
            f"source path {path} does not exist (setting dataset.source = {source!r}); "
            "point dataset.source at a CSV/Parquet file, a folder or a glob such as "
            "'/srv/exports/*.csv', or use 'demo'"
        )


def source_paths(settings: Settings) -> list[Path]:
    """Every candidate file: the configured source (outside demo) and the landing folder."""
    found: list[Path] = []
    if not settings.dataset.is_demo:
        source = settings.dataset.source
        if glob.has_magic(source):
            found += [Path(p) for p in glob.glob(source, recursive=True) if Path(p).is_file()]
        elif Path(source).is_dir():
            found += [p for p in Path(source).iterdir() if p.is_file()]
        elif Path(source).exists():
            found.append(Path(source))
    if settings.landing_dir.is_dir():
        found += [p for p in settings.landing_dir.iterdir() if p.is_file()]
    # Hidden files are partial copies still being written (atomic rename pattern).
    usable = [
        p for p in found if not p.name.startswith(".") and p.suffix.lower() in SUPPORTED_SUFFIXES
    ]
    return sorted(set(usable), key=lambda p: (p.stat().st_mtime_ns, p.name))


def unsupported(paths: list[Path]) -> list[Path]:
    """The paths whose type Plumbline cannot read."""
    return [p for p in paths if p.suffix.lower() not in SUPPORTED_SUFFIXES]


def unsupported_message(path: Path) -> str:
    """Why a file of an unknown type is not ingested, and what to do."""
    return (
        f"unsupported file type {path.suffix or '(none)'!r}; export it as CSV, Parquet or "
        "JSON Lines (.csv, .parquet, .jsonl) and send it again"
    )


def landing_leftovers(settings: Settings) -> list[Path]:
    """Files in the landing folder that are never ingested because of their type."""
    if not settings.landing_dir.is_dir():
        return []
    return [
        p
        for p in settings.landing_dir.iterdir()
        if p.is_file() and not p.name.startswith(".") and p in unsupported([p])
    ]


def scan(paths: list[Path]) -> list[FoundFile]:
    """Hash every path; files that vanish meanwhile are skipped."""
    out = []
    for path in paths:
        try:
            out.append(FoundFile(path, path.stat().st_size, sha256_of(path)))
        except FileNotFoundError:
            log.warning("file %s disappeared before it was read; it will be picked up later", path)
    return out


def keep_copy(found: FoundFile, raw_dir: Path) -> Path:
    """Copy the file byte for byte into the raw layer, named by its hash; returns the copy."""
    raw_dir.mkdir(parents=True, exist_ok=True)
    target = raw_dir / f"{found.content_hash}{found.suffix}"
    if not target.exists():
        partial = raw_dir / f".{target.name}.partial"
        shutil.copyfile(found.path, partial)
        partial.replace(target)
        target.chmod(0o444)
    return target
