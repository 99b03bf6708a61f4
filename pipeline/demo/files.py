"""Monthly export files of the demo business, and their release into the landing folder.

``build_demo_files`` simulates the business once and writes, per month, the messy customer
snapshot (``customers_YYYY-MM.csv``, no label) and the clean labels (``labels_YYYY-MM.csv``).
``manifest.json`` is written last, so a directory without it, or with one for other arguments,
is a half-built or stale build and ``demo_files_ready`` says so.

``release_month`` then plays the role of the business's export job: month *i* delivers that
month's customers and the labels of month *i - 1*, because whether a customer churned after a
month is only known a month later.
"""

from __future__ import annotations

import filecmp
import json
import logging
import os
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.demo.mess import add_mess
from pipeline.demo.world import DEFAULT_START, month_starts, simulate

logger = logging.getLogger(__name__)

MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = 1
LABEL_COLUMNS: tuple[str, ...] = ("customer_id", "snapshot_month", "churned")
DATE_FORMAT = "%Y-%m-%d"


def month_label(start: date, month_index: int) -> str:
    """Return "YYYY-MM" for the 1-based ``month_index``-th month counting ``start``'s as 1."""
    if month_index < 1:
        raise ValueError(f"month_index counts from 1, got {month_index}")
    months = start.year * 12 + (start.month - 1) + (month_index - 1)
    return f"{months // 12:04d}-{months % 12 + 1:02d}"


def customers_file_name(label: str) -> str:
    """Return the customers file name for month ``label`` ("YYYY-MM")."""
    return f"customers_{label}.csv"


def labels_file_name(label: str) -> str:
    """Return the labels file name for month ``label`` ("YYYY-MM")."""
    return f"labels_{label}.csv"


def _write_atomically(path: Path, write: Callable[[Path], None]) -> Path:
    """Call ``write`` on a hidden temporary name beside ``path``, then rename; return ``path``.

    Readers polling the directory therefore see either no file or the complete file.
    """
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path


def _manifest(seed: int, customers: int, months: int) -> dict[str, Any]:
    """Return the manifest describing a build for these arguments."""
    return {
        "format": MANIFEST_FORMAT,
        "seed": seed,
        "customers": customers,
        "months": months,
        "start": DEFAULT_START.isoformat(),
        "month_labels": [month_label(DEFAULT_START, i) for i in range(1, months + 1)],
    }


def _read_manifest(out_dir: Path) -> dict[str, Any] | None:
    """Return the manifest in ``out_dir``, or None when it is missing or unreadable."""
    try:
        manifest = json.loads((out_dir / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def build_demo_files(out_dir: Path, seed: int, customers: int, months: int) -> list[Path]:
    """Simulate the demo business and write its monthly files into ``out_dir``.

    Returns the paths written: for each month its customers file then its labels file, in
    month order, and ``manifest.json`` last. Customers files carry that month's rows with
    realistic mess and no ``churned`` column; labels files hold ``customer_id``,
    ``snapshot_month`` and ``churned``, clean, one row per customer active that month.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    # A rebuild must not look ready while its files are being replaced.
    (out_dir / MANIFEST_NAME).unlink(missing_ok=True)
    world = simulate(seed=seed, customers=customers, months=months, start=DEFAULT_START)
    # The world is sorted by month, so each month is one contiguous slice (possibly empty).
    starts = month_starts(DEFAULT_START, months + 1).to_numpy()
    bounds = np.searchsorted(world["snapshot_month"].to_numpy(), starts)
    manifest = _manifest(seed, customers, months)
    written: list[Path] = []
    for index, label in enumerate(manifest["month_labels"], start=1):
        snapshot = world.iloc[bounds[index - 1] : bounds[index]]
        # Each month has its own stream, so a month's mess does not depend on the others.
        rng = np.random.default_rng([seed, index])
        messy = add_mess(snapshot.drop(columns="churned"), rng)
        labels = snapshot.loc[:, list(LABEL_COLUMNS)]
        for name, frame in (
            (customers_file_name(label), messy),
            (labels_file_name(label), labels),
        ):
            written.append(
                _write_atomically(
                    out_dir / name,
                    lambda p, f=frame: f.to_csv(p, index=False, date_format=DATE_FORMAT),
                )
            )
    written.append(
        _write_atomically(
            out_dir / MANIFEST_NAME,
            lambda p: p.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8"),
        )
    )
    logger.info("built %d demo months (%d rows) in %s", months, len(world), out_dir)
    return written


def demo_files_ready(out_dir: Path, seed: int, customers: int, months: int) -> bool:
    """Return True when ``out_dir`` holds a complete build for exactly these arguments."""
    manifest = _read_manifest(out_dir)
    expected = _manifest(seed, customers, months)
    if manifest is None or any(manifest.get(k) != v for k, v in expected.items()):
        return False
    return all(
        (out_dir / name).is_file()
        for label in expected["month_labels"]
        for name in (customers_file_name(label), labels_file_name(label))
    )


def release_month(out_dir: Path, landing_dir: Path, month_index: int) -> list[Path]:
    """Copy month ``month_index``'s exports from ``out_dir`` into ``landing_dir``.

    Month *i* (1-based) delivers ``customers`` of month *i* and ``labels`` of month *i - 1*
    (month 1 delivers no labels). Returns the landing paths created by this call: a file
    already landed with the same content is left alone and not returned, so releasing a month
    twice changes nothing.
    """
    manifest = _read_manifest(out_dir)
    if manifest is None or not isinstance(manifest.get("month_labels"), list):
        raise FileNotFoundError(
            f"{out_dir / MANIFEST_NAME} is missing or unreadable: the demo files were not "
            "built completely; run build_demo_files first"
        )
    labels: list[str] = manifest["month_labels"]
    if not 1 <= month_index <= len(labels):
        raise ValueError(
            f"month_index must be between 1 and {len(labels)} for the demo build in {out_dir}, "
            f"got {month_index}"
        )
    sources = [out_dir / customers_file_name(labels[month_index - 1])]
    if month_index > 1:
        sources.append(out_dir / labels_file_name(labels[month_index - 2]))
    landing_dir.mkdir(parents=True, exist_ok=True)
    created: list[Path] = []
    for source in sources:
        target = landing_dir / source.name
        if target.is_file() and filecmp.cmp(source, target, shallow=False):
            continue
        created.append(_write_atomically(target, lambda p, s=source: shutil.copyfile(s, p)))
    logger.info("released demo month %d into %s: %s", month_index, landing_dir, created)
    return created
