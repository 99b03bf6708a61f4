"""Lineage of a model: code version, library versions, and the settings that shaped it."""

from __future__ import annotations

import functools
import hashlib
import json
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from pipeline.settings import Settings

REPO_ROOT = Path(__file__).resolve().parent.parent

LIBRARIES = ("scikit-learn", "numpy", "pandas", "duckdb", "skops", "pyarrow", "scipy")

# The settings sections that change what a model learns; host, port or log level do not.
TRAINING_SETTINGS = ("dataset", "cleaning", "training", "holdout_periods", "train_window_periods")


@functools.cache
def code_version() -> str:
    """The git commit of the running code (with "+dirty" when edited), else the package version."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
        dirty = ""
    if len(commit) == 40:
        return f"git {commit[:12]}" + ("+dirty" if dirty else "")
    try:
        return f"plumbline {metadata.version('plumbline')}"
    except metadata.PackageNotFoundError:
        return "unknown"


@functools.cache
def library_versions() -> dict[str, str]:
    """Versions of Python and the libraries a model depends on."""
    out = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def training_settings(settings: Settings) -> dict[str, Any]:
    """The settings that shape a model, as plain JSON-able data."""
    dumped = settings.model_dump(mode="json")
    return {key: dumped[key] for key in TRAINING_SETTINGS}


def settings_hash(values: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of ``values`` (key order does not matter)."""
    text = json.dumps(values, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def settings_diff(old: dict[str, Any], new: dict[str, Any], prefix: str = "") -> list[dict]:
    """Leaf-level differences between two settings dicts: ``{"setting", "before", "after"}``."""
    out: list[dict] = []
    for key in sorted(set(old) | set(new)):
        name = f"{prefix}{key}"
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            out += settings_diff(a, b, f"{name}.")
        elif a != b:
            out.append({"setting": name, "before": a, "after": b})
    return out
