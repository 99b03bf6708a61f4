"""The card a waiting page shows before its first results: what the newest pipeline run is doing.

Overview, Data, Model review, Explain and Monitor each wait for a different result, but read the
same states from the newest run: none yet, one in progress, the last one failed or was cancelled,
or the last one finished without giving the page anything. Each page supplies its own sentences;
the states, the elapsed time and the error text are worked out here once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import dash_bootstrap_components as dbc
import pandas as pd

from app.answer_cache import depends_on_clock
from app.components.empty import Tone, empty_state
from app.figures.formatting import is_missing


@dataclass(frozen=True)
class Words:
    """One state's card: a title, why there is nothing yet, and what happens next.

    ``reason`` and ``hint`` are ``str.format`` templates. Every state may use ``{why}``; the
    states with a run also ``{run_id}``, ``{elapsed}`` (whole seconds since it started),
    ``{doing}`` ("starting", or the step verb and the step it is at) and ``{error}`` (the failed
    run's error, or "no error recorded").
    """

    title: str
    reason: str
    hint: str
    tone: Tone = "secondary"


# The same for every page: a cancelled run says nothing about the page's own data.
CANCELLED = Words(
    "The last run was cancelled",
    "{why} Run #{run_id} was {error} before it published anything.",
    "The scheduler starts the next run shortly; “Retrain now” on the Runs page starts one now.",
)


def latest_run_card(
    runs: pd.DataFrame,
    *,
    no_run: Words,
    running: Words,
    failed: Words,
    finished: Words | Callable[[int], Words],
    why: str = "",
    step_verb: str = "at step",
    now: datetime | None = None,
) -> dbc.Card:
    """The waiting card told from the newest run in ``runs`` (``recent_runs(wh, 1)``).

    ``finished`` is used when the newest run neither runs nor failed. When its words depend on
    what that run did, give a function of the run id instead: its words are used as they are (not
    as templates, so text read from the run cannot be taken for a field). The running card is
    "info" with a spinner and the failed card "danger", whatever their ``tone``. A cancelled
    run gets :data:`CANCELLED`, its ``{error}`` saying who cancelled it and when. ``now`` (naive
    UTC) defaults to the current time.
    """
    if runs.empty:
        return _card(no_run, why=why)
    run = runs.iloc[0]
    run_id = int(run["run_id"])
    if run["status"] == "running":
        depends_on_clock()  # "running for 12 s": an answer with this card is not cached
        clock = pd.Timestamp(now) if now else pd.Timestamp.now(tz="UTC").tz_localize(None)
        elapsed = max(0, int((clock - pd.Timestamp(run["started_at"])).total_seconds()))
        step = run["current_step"]
        doing = "starting" if is_missing(step) else f"{step_verb} “{step}”"
        fields = {"why": why, "run_id": run_id, "elapsed": elapsed, "doing": doing}
        return _card(running, tone="info", busy=True, **fields)
    if run["status"] == "failed":
        error = "no error recorded" if is_missing(run["error"]) else str(run["error"])
        return _card(failed, tone="danger", why=why, run_id=run_id, error=error)
    if run["status"] == "cancelled":
        error = "cancelled" if is_missing(run["error"]) else str(run["error"])
        return _card(CANCELLED, why=why, run_id=run_id, error=error)
    if callable(finished):
        words = finished(run_id)
        return empty_state(words.title, words.reason, words.hint, tone=words.tone)
    return _card(finished, why=why, run_id=run_id)


def _card(
    words: Words, *, tone: Tone | None = None, busy: bool = False, **fields: object
) -> dbc.Card:
    return empty_state(
        words.title,
        words.reason.format(**fields),
        words.hint.format(**fields),
        tone=tone or words.tone,
        busy=busy,
    )
