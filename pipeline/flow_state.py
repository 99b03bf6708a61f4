"""What the steps of one run carry between them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pipeline.contract import Contract
from pipeline.warehouse.publish import Publication


class RunFailed(RuntimeError):
    """A step failed; the message is the reason shown to people."""


@dataclass
class StepResult:
    """What a step reports: rows in and out and a small detail dict."""

    rows_in: int | None = None
    rows_out: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunState:
    """Data carried between the steps of one run."""

    run_id: int
    pending: list[dict[str, Any]] = field(default_factory=list)
    staged: dict[int, tuple[str, list[str]]] = field(default_factory=dict)  # batch -> kind, cols
    contract: Contract | None = None
    pub: Publication | None = None
    model_since: date | None = None
    champion_checked: bool = False  # the champion's artefact was verified (once per run)
    champion: dict[str, Any] | None = None  # the verified champion, or the fallback
