"""The data contract as an editable TOML file in the data dir.

Plumbline writes ``contract.toml`` whenever it stores a contract version. A user may edit it
(widen a range, add a category, change a column's role); the next run reads the file, checks
it, and stores it as a new version. An invalid edit is refused with one line per problem and
the previous contract stays in force.
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from pathlib import Path

from pipeline.contract import Contract

FILE_NAME = "contract.toml"
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_ ]{0,62}")


class ContractFileError(ValueError):
    """The edited contract is invalid; ``problems`` has one line per problem."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def _string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _array(values: list) -> str:
    return (
        "[" + ", ".join(_string(v) if isinstance(v, str) else repr(float(v)) for v in values) + "]"
    )


def _key(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z0-9_]+", name) else _string(name)


def to_toml(contract: Contract, version: int, created: str) -> str:
    """The contract as TOML text with a header explaining how to edit it."""
    lines = [
        f"# Plumbline data contract, version {version} ({created}).",
        "# Edit and save this file: the next run checks it and stores it as a new version.",
        "# numeric columns: range = [low, high] (values outside are violations), median",
        "# (used by cleaning.missing = 'impute'); categorical columns: the allowed categories",
        "# and the mode. 'dropped' columns (PII, free text) are never used by the model.",
        "",
        f"entity_id = {_string(contract.entity_id)}",
        f"event_time = {_string(contract.event_time)}",
        f"target = {_string(contract.target)}",
        f"dropped = {_array(contract.dropped)}",
    ]
    for col in contract.numeric:
        lines += ["", f"[numeric.{_key(col)}]"]
        if col in contract.ranges:
            lines.append(f"range = {_array(contract.ranges[col])}")
        if col in contract.medians:
            lines.append(f"median = {float(contract.medians[col])!r}")
    for col in contract.categorical:
        lines += ["", f"[categorical.{_key(col)}]"]
        lines.append(f"categories = {_array(contract.categories.get(col, []))}")
        if col in contract.modes:
            lines.append(f"mode = {_string(contract.modes[col])}")
    return "\n".join(lines) + "\n"


def from_toml(text: str) -> Contract:
    """Parse and check an edited contract; raises :class:`ContractFileError`."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ContractFileError([f"not valid TOML: {error}"]) from None
    problems: list[str] = []
    keys = {}
    for key in ("entity_id", "event_time", "target"):
        value = data.get(key)
        if not isinstance(value, str) or not _IDENT.fullmatch(value):
            problems.append(f'{key} must be a column name, e.g. {key} = "customer_id"')
        keys[key] = value
    dropped = data.get("dropped", [])
    if not isinstance(dropped, list) or not all(isinstance(d, str) for d in dropped):
        problems.append('dropped must be a list of column names, e.g. dropped = ["email"]')
        dropped = []
    numeric, ranges, medians = _numeric(data.get("numeric", {}), problems)
    categorical, categories, modes = _categorical(data.get("categorical", {}), problems)
    both = set(numeric) & set(categorical)
    if both:
        problems.append(f"columns {sorted(both)} are both numeric and categorical; keep one")
    for name in [*numeric, *categorical, *dropped]:
        if not _IDENT.fullmatch(name):
            problems.append(f"{name!r} is not a usable column name")
    if problems:
        raise ContractFileError(problems)
    return Contract(
        keys["entity_id"],
        keys["event_time"],
        keys["target"],
        numeric=numeric,
        categorical=categorical,
        ranges=ranges,
        categories=categories,
        dropped=list(dropped),
        medians=medians,
        modes=modes,
    )


def _numeric(section: object, problems: list[str]) -> tuple[list, dict, dict]:
    names, ranges, medians = [], {}, {}
    if not isinstance(section, dict):
        problems.append("[numeric] must hold one table per column")
        return names, ranges, medians
    for name, spec in section.items():
        names.append(name)
        spec = spec if isinstance(spec, dict) else {}
        if "range" in spec:
            r = spec["range"]
            ok = (
                isinstance(r, list)
                and len(r) == 2
                and all(isinstance(v, int | float) and math.isfinite(v) for v in r)
                and r[0] < r[1]
            )
            if ok:
                ranges[name] = [float(r[0]), float(r[1])]
            else:
                problems.append(
                    f"numeric.{name}.range must be [low, high] with low < high, e.g. [0, 500]"
                )
        if "median" in spec:
            if isinstance(spec["median"], int | float):
                medians[name] = float(spec["median"])
            else:
                problems.append(f"numeric.{name}.median must be a number")
    return names, ranges, medians


def _categorical(section: object, problems: list[str]) -> tuple[list, dict, dict]:
    names, categories, modes = [], {}, {}
    if not isinstance(section, dict):
        problems.append("[categorical] must hold one table per column")
        return names, categories, modes
    for name, spec in section.items():
        names.append(name)
        spec = spec if isinstance(spec, dict) else {}
        values = spec.get("categories", [])
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            problems.append(f"categorical.{name}.categories must be a list of strings")
            values = []
        categories[name] = values
        if "mode" in spec:
            modes[name] = str(spec["mode"])
    return names, categories, modes


def write(path: Path, contract: Contract, version: int, created: str) -> None:
    """Write the contract file atomically."""
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(to_toml(contract, version, created), encoding="utf-8")
    partial.replace(path)


def edited(path: Path, current: Contract | None) -> Contract | None:
    """The file's contract when it differs from ``current``; None when unchanged or absent.

    Raises :class:`ContractFileError` when the file was edited into something invalid.
    """
    if not path.is_file():
        return None
    candidate = from_toml(path.read_text(encoding="utf-8"))
    if current is not None and candidate.to_json() == current.to_json():
        return None
    return candidate
