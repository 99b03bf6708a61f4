"""Alerts are raised once per subject, acknowledged or muted with a comment, and delivered to a
webhook without a failing webhook ever breaking anything."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from pipeline.monitoring import webhook
from pipeline.warehouse import alerts
from pipeline.warehouse.alerts import AlertActionError, AlertDraft
from pipeline.warehouse.connection import utcnow

DRAFT = AlertDraft("warning", "feature_drift", "charges in region South", "moved", date(2025, 6, 1))


def _write(wh, drafts, clears=None, run_id=1):
    with wh.transaction() as cur:
        return alerts.write_drafts(cur, drafts, run_id, clears)


def _status(wh, alert_id):
    return wh.scalar("SELECT status FROM alerts WHERE alert_id = ?", [alert_id])


def test_a_lasting_condition_is_one_alert_even_when_acknowledged(warehouse) -> None:
    [first] = _write(warehouse, [DRAFT])
    assert _write(warehouse, [DRAFT]) == []
    alerts.acknowledge(warehouse, first, "ana", "looking at the South price change")
    assert _write(warehouse, [DRAFT]) == []
    row = alerts.list_alerts(warehouse).iloc[0]
    assert (row.status, row.handled_by, row.comment) == (
        "acknowledged", "ana", "looking at the South price change",
    )  # fmt: skip


def test_a_cleared_condition_resolves_and_a_new_one_raises_again(warehouse) -> None:
    [first] = _write(warehouse, [DRAFT])
    _write(warehouse, [], [(DRAFT.kind, DRAFT.subject, "cleared: not seen in 2025-07")])
    assert _status(warehouse, first) == "resolved"
    [second] = _write(warehouse, [DRAFT])
    assert second != first


def test_a_mute_silences_until_it_ends(warehouse) -> None:
    [first] = _write(warehouse, [DRAFT])
    alerts.mute(warehouse, first, "ana", "known, pricing team on it", utcnow() + timedelta(days=7))
    assert _write(warehouse, [DRAFT]) == []
    warehouse.execute(
        "UPDATE alerts SET muted_until = ? WHERE alert_id = ?",
        [utcnow() - timedelta(seconds=1), first],
    )
    [again] = _write(warehouse, [DRAFT])
    assert _status(warehouse, first) == "resolved" and again != first


@pytest.mark.parametrize(
    ("action", "args", "message"),
    [
        ("acknowledge", ("ana", ""), "write a comment"),
        ("acknowledge", ("ana", "x" * 1001), "longer than 1,000"),
        ("mute", ("ana", "known issue", utcnow() - timedelta(days=1)), "end in the future"),
    ],
)
def test_handling_needs_a_comment_and_a_future_end(warehouse, action, args, message) -> None:
    [first] = _write(warehouse, [DRAFT])
    with pytest.raises(AlertActionError, match=message):
        getattr(alerts, action)(warehouse, first, *args)
    assert _status(warehouse, first) == "open"


def test_unknown_and_resolved_alerts_cannot_be_handled(warehouse) -> None:
    with pytest.raises(AlertActionError, match="no alert #99"):
        alerts.acknowledge(warehouse, 99, "ana", "seen it")
    [first] = _write(warehouse, [DRAFT])
    alerts.resolve(warehouse, DRAFT.kind, DRAFT.subject, "ana", "fixed upstream")
    with pytest.raises(AlertActionError, match="already resolved"):
        alerts.mute(warehouse, first, "ana", "too late")


def test_the_webhook_receives_the_raised_alerts(warehouse, webhook_receiver) -> None:
    ids = _write(warehouse, [DRAFT, AlertDraft("critical", "realised_drop", "ROC AUC", "down")])
    raised = alerts.list_alerts(warehouse)
    outcome = webhook.post(webhook_receiver.url, webhook.payload(raised, 7), timeout=5)
    assert outcome == "delivered (HTTP 200)"
    [body] = webhook_receiver.bodies
    assert body["run_id"] == 7 and body["text"].endswith("2 new alert(s), worst critical")
    assert {a["id"] for a in body["alerts"]} == set(ids)
    assert {a["period"] for a in body["alerts"]} == {"2025-06", None}


def test_a_failing_webhook_returns_why_and_never_raises(warehouse, webhook_receiver) -> None:
    _write(warehouse, [DRAFT])
    body = webhook.payload(alerts.list_alerts(warehouse), 1)
    webhook_receiver.status = 500
    assert webhook.post(webhook_receiver.url, body, timeout=5).startswith("failed: HTTP 500")
    closed = "http://127.0.0.1:9/nothing-listens-here"
    assert webhook.post(closed, body, timeout=2).startswith("failed: ")
