"""One status report for `plumbline status` and the server's /api/status."""

from __future__ import annotations

from typing import Any

from pipeline.settings import Settings
from pipeline.warehouse import Warehouse, models, runs


def _text(value: Any) -> str | None:
    """A text column's value, or None when missing (pandas gives NaN for missing strings)."""
    return value if isinstance(value, str) else None


def collect_status(settings: Settings, wh: Warehouse) -> dict[str, Any]:
    """Warehouse path and size, the champion and its metrics, and the latest runs."""
    champion = models.champion(wh)
    recent = runs.recent_runs(wh, limit=5)
    last_runs = [
        {
            "run_id": int(r.run_id),
            "trigger": r.trigger,
            "status": r.status,
            "started_at": r.started_at.isoformat(timespec="seconds") if r.started_at else None,
            "duration_s": None if r.duration_s != r.duration_s else round(float(r.duration_s), 2),
            "current_step": _text(r.current_step),
            "error": _text(r.error),
            "cancel_requested_by": _text(r.cancel_requested_by),
        }
        for r in recent.itertuples()
    ]
    return {
        "data_dir": str(settings.data_dir.resolve()),
        "warehouse": {"path": str(wh.path.resolve()), "size_bytes": wh.size_bytes()},
        "source": settings.dataset.source,
        "champion": None
        if champion is None
        else {
            "version": champion["version"],
            "created_at": champion["created_at"].isoformat(timespec="seconds"),
            "metrics": {
                k: round(float(champion[k]), 4) for k in ("roc_auc", "pr_auc", "brier", "log_loss")
            },
        },
        "runs": last_runs,
        "batches": int(wh.scalar("SELECT count(*) FROM raw_batches") or 0),
        "predictions": int(wh.scalar("SELECT count(*) FROM predictions") or 0),
    }


def format_status(status: dict[str, Any]) -> str:
    """The status report as lines for a terminal."""
    size_mb = status["warehouse"]["size_bytes"] / 1e6
    lines = [
        f"warehouse   {status['warehouse']['path']} ({size_mb:.1f} MB)",
        f"source      {status['source']}",
        f"batches     {status['batches']}   predictions {status['predictions']:,}",
    ]
    champ = status["champion"]
    if champ is None:
        lines.append("champion    none yet (no model has been trained)")
    else:
        m = champ["metrics"]
        lines.append(
            f"champion    v{champ['version']} (trained {champ['created_at']}): ROC AUC "
            f"{m['roc_auc']:.3f}, PR AUC {m['pr_auc']:.3f}, Brier {m['brier']:.4f}, "
            f"log loss {m['log_loss']:.4f}"
        )
    lines.append("last runs")
    if not status["runs"]:
        lines.append("  none yet")
    for r in status["runs"]:
        extra = r["error"] or (f"at {r['current_step']}" if r["current_step"] else "")
        if r["status"] == "running" and r.get("cancel_requested_by"):
            extra = f"{extra}, cancelling (asked by {r['cancel_requested_by']})".lstrip(", ")
        duration = f"{r['duration_s']:.1f}s" if r["duration_s"] is not None else "-"
        lines.append(
            f"  #{r['run_id']:<4} {r['status']:<9} {r['trigger']:<10} {r['started_at']}  "
            f"{duration:>8}  {extra}"
        )
    return "\n".join(lines)
