"""What the UI may use from the owner process: settings, the warehouse to read, and start_run.

``create_app`` installs one :class:`Services`; callbacks fetch it with :func:`services`. Tests
install their own (a temporary warehouse, a fake ``start_run``) and call callbacks directly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pipeline.local_explain import LocalExplanations
from pipeline.runner import CancelRequest, RunRequest
from pipeline.settings import Settings
from pipeline.warehouse import Warehouse


@dataclass(frozen=True)
class Services:
    """Everything a page needs from the owner process."""

    settings: Settings
    warehouse: Warehouse
    start_run: Callable[..., RunRequest]
    cancel_run: Callable[[int, str], CancelRequest] | None = None  # Runner.cancel
    local: LocalExplanations | None = None  # local SHAP explanations, cached per process

    def explanations(self) -> LocalExplanations:
        """The local-explanation cache (created on first use for services built in tests)."""
        if self.local is None:
            object.__setattr__(self, "local", LocalExplanations(self.warehouse))
        return self.local  # type: ignore[return-value]


_INSTALLED: dict[str, Services] = {}


def install(svc: Services) -> None:
    """Make ``svc`` the services every callback sees."""
    _INSTALLED["current"] = svc


def installed() -> Services | None:
    """The installed services, or None (tests that serve a second app put the first back)."""
    return _INSTALLED.get("current")


def services() -> Services:
    """The installed services; raises RuntimeError before ``create_app`` ran."""
    try:
        return _INSTALLED["current"]
    except KeyError:
        raise RuntimeError("Plumbline services are not installed; call create_app first") from None
