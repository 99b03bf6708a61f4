"""Audit events from the web: the acting user, their role and address are filled in here."""

from __future__ import annotations

import logging

from app.identity import acting_user, client_address, current_actor
from app.services import services
from pipeline.warehouse import audit as audit_store

log = logging.getLogger(__name__)


def audit(
    action: str, *, target: str | None = None, outcome: str = "ok", detail: str | None = None
) -> None:
    """Append an event for the current request's user to the audit trail.

    ``action`` is one of the names in :mod:`pipeline.warehouse.audit`; ``detail`` must not
    hold PII or secrets (comments are fine: they are written by the acting user).
    """
    user = acting_user()
    event = audit_store.AuditEvent(
        actor=current_actor(),
        action=action,
        outcome=outcome,
        target=target,
        detail=detail,
        role=user.role.value if user else None,
        address=client_address(),
    )
    audit_store.record(services().warehouse, event)
    log.info("audit: %s %s %s (%s)", event.actor, action, target or "", outcome)
