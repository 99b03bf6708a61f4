"""What the steps of one run carry between them, and the switch that cancels a run."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pipeline.contract import Contract
from pipeline.warehouse.publish import Publication


class RunFailed(RuntimeError):
    """A step failed; the message is the reason shown to people."""


class RunCancelled(BaseException):
    """A person cancelled the run; the message says who and when.

    A ``BaseException`` (as :class:`asyncio.CancelledError` is) so that the ``except Exception``
    guards inside steps, which keep a run going past a recoverable error, never swallow it.
    """


class Cancellation:
    """The cancel switch of one run: the :class:`~pipeline.runner.Runner` flips it, the run's
    thread checks it before each step and while a compute child works.

    Once the run begins to publish, :meth:`begin_publishing` closes the switch: from then on a
    request is refused, so a run is either published whole or cancelled with nothing published.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._event = threading.Event()
        self.by: str | None = None
        self.at: datetime | None = None
        self.publishing = False

    def request(self, by: str, at: datetime) -> str | None:
        """Ask the run to stop; None when accepted, else "publishing" or "already requested"."""
        with self._lock:
            if self.publishing:
                return "publishing"
            if self._event.is_set():
                return "already requested"
            self.by, self.at = by, at
            self._event.set()
            return None

    @property
    def requested(self) -> bool:
        """Whether someone asked the run to stop."""
        return self._event.is_set()

    @property
    def reason(self) -> str:
        """The run's error once cancelled: "cancelled by ana at 14:03:07 UTC"."""
        at = f" at {self.at:%H:%M:%S} UTC" if self.at is not None else ""
        return f"cancelled by {self.by or 'someone'}{at}"

    def check(self) -> None:
        """Raise :class:`RunCancelled` if someone asked the run to stop."""
        if self._event.is_set():
            raise RunCancelled(self.reason)

    def begin_publishing(self) -> None:
        """Raise :class:`RunCancelled` if asked to stop; otherwise refuse every later request."""
        with self._lock:
            self.check()
            self.publishing = True


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
