"""The effective settings as flat ``section.key`` values, and their changes in the audit trail.

Each start of ``plumbline serve`` calls :func:`record_settings_change`: it compares the
settings now in force with the snapshot kept in the last ``settings.change`` event and, when
something differs, appends a new event naming the changed keys, with the new snapshot as its
detail. Secret values never reach the trail: each is replaced by a keyed fingerprint, so a new
secret shows as changed without its value (or a hash that could be guessed from) being stored.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel, SecretStr
from pydantic_core import to_jsonable_python

from pipeline.secret_files import owner_secret
from pipeline.settings import Settings
from pipeline.warehouse import Warehouse
from pipeline.warehouse import audit as audit_store

log = logging.getLogger(__name__)

ACTION = "settings.change"
ACTOR = "plumbline (start)"
FIRST_START = "first start"
KEY_FILE = "settings_fingerprint_key"
# Not a SecretStr, but a webhook address usually carries its token in the path or query.
SENSITIVE = frozenset({"monitoring.webhook_url"})


@dataclass(frozen=True)
class Entry:
    """One effective setting: its dotted key, value, whether it is secret, and what it does."""

    key: str
    value: Any
    secret: bool
    description: str | None


def entries(model: BaseModel, prefix: str = "") -> Iterator[Entry]:
    """Every leaf setting of ``model`` in declaration order, nested models flattened.

    Values are as stored (a ``SecretStr`` stays one; lists and dicts stay whole).
    """
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        key = f"{prefix}{name}"
        if isinstance(value, BaseModel):
            yield from entries(value, f"{key}.")
        else:
            secret = key in SENSITIVE or _holds_secret(field.annotation)
            yield Entry(key, value, secret, field.description)


def _holds_secret(annotation: Any) -> bool:
    # ``SecretStr | None`` is secret even while it is None.
    if annotation is SecretStr:
        return True
    return any(_holds_secret(arg) for arg in get_args(annotation))


def _secret_text(value: Any) -> str:
    return value.get_secret_value() if isinstance(value, SecretStr) else str(value)


def fingerprint_key(secrets_dir: Path) -> bytes:
    """The data dir's key for fingerprints of secrets, created owner-only on first use.

    Keyed, so that a fingerprint in the audit trail cannot be checked against guessed
    passwords by someone who reads the trail (or its CSV export) but not the data dir.
    """
    return bytes.fromhex(owner_secret(secrets_dir, KEY_FILE))


def fingerprint(value: Any, key: bytes) -> str | None:
    """``"hmac-sha256:<16 hex>"`` of a secret's value; None when it is not set."""
    if value is None:
        return None
    digest = hmac.new(key, _secret_text(value).encode(), hashlib.sha256).hexdigest()
    return f"hmac-sha256:{digest[:16]}"


def snapshot(settings: Settings, key: bytes) -> dict[str, Any]:
    """The effective settings as ``{dotted key: JSON value}``, secrets as fingerprints."""
    return {
        e.key: fingerprint(e.value, key) if e.secret else to_jsonable_python(e.value)
        for e in entries(settings)
    }


def changed_keys(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Keys whose value differs, sorted; a key missing on one side counts as None there (so
    a new setting that is not set, after an upgrade, is no change)."""
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


def last_snapshot(wh: Warehouse) -> dict[str, Any] | None:
    """The snapshot kept in the newest ``settings.change`` event, or None before the first."""
    events = audit_store.list_events(wh, action=ACTION, limit=1)
    if events.empty:
        return None
    try:
        found = json.loads(events["detail"].iloc[0] or "")
    except (TypeError, ValueError):
        log.warning("the last settings.change event holds no readable snapshot; starting anew")
        return None
    return found if isinstance(found, dict) else None


def record_settings_change(settings: Settings, wh: Warehouse) -> list[str]:
    """Write a ``settings.change`` event when the settings differ from the last start's.

    Returns the changed keys (every key on the first start); an empty list, and no event,
    when nothing changed. The event's target names the changed keys (``first start`` the
    first time) and its detail holds the whole snapshot, read back on the next start.
    """
    now = snapshot(settings, fingerprint_key(settings.secrets_dir))
    before = last_snapshot(wh)
    changed = sorted(now) if before is None else changed_keys(before, now)
    if not changed:
        return []
    target = FIRST_START if before is None else ", ".join(changed)
    detail = json.dumps(now, sort_keys=True, ensure_ascii=True)
    audit_store.record(wh, audit_store.AuditEvent(ACTOR, ACTION, "ok", target, detail))
    log.info("settings changed since the last start: %s", target)
    return changed
