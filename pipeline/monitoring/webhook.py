"""Alert delivery to a webhook: one JSON POST per run with the alerts it raised.

Standard library only (``urllib``): one small POST does not justify an HTTP client dependency.
:func:`post` never raises; it returns what happened, which is stored on the alerts.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from typing import Any

import pandas as pd

log = logging.getLogger(__name__)


def payload(raised: pd.DataFrame, run_id: int) -> dict[str, Any]:
    """The JSON body: the run and each raised alert (id, severity, kind, subject, message)."""
    items = []
    for a in raised.itertuples(index=False):
        items.append(
            {
                "id": int(a.alert_id),
                "severity": a.severity,
                "kind": a.kind,
                "subject": a.subject,
                "message": a.message,
                "period": None if pd.isna(a.period) else f"{pd.Timestamp(a.period):%Y-%m}",
                "raised_at": pd.Timestamp(a.raised_at).isoformat(),
            }
        )
    worst = max((i["severity"] for i in items), key=("info", "warning", "critical").index)
    summary = f"Plumbline run #{run_id}: {len(items)} new alert(s), worst {worst}"
    return {"text": summary, "run_id": run_id, "alerts": items}


def post(url: str, body: dict[str, Any], timeout: float) -> str:
    """POST ``body`` as JSON; returns "delivered (HTTP 200)" or "failed: <why>"."""
    data = json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (http(s) URL checked by settings)
            return f"delivered (HTTP {response.status})"
    except urllib.error.HTTPError as error:
        outcome = f"failed: HTTP {error.code} {error.reason}"
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        reason = getattr(error, "reason", error)
        outcome = f"failed: {reason}"
    except Exception as error:  # a webhook must never break a run
        outcome = f"failed: {type(error).__name__}: {error}"
    log.warning("alert webhook %s: %s", url, outcome)
    return outcome
