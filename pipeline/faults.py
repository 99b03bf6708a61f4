"""Named fault points, for crash tests only.

``plumbline serve`` or ``plumbline run`` arms one point from the setting ``fault_point``
(env ``PLUMBLINE_FAULT_POINT``). When the code reaches that point the process kills itself with
SIGKILL, exactly like ``kill -9``: no ``finally`` blocks, no rollback, no clean shutdown. Tests
then restart and check the warehouse is consistent. Unarmed, a point costs one dict lookup.
"""

from __future__ import annotations

import logging
import os
import signal

log = logging.getLogger(__name__)

POINTS = (
    "step.ingest.done",
    "step.validate.done",
    "step.clean.done",
    "step.train.done",
    "step.score.done",
    "step.promote.done",
    "publish.model_written",
    "publish.aliases_written",
    "publish.before_commit",
    "publish.committed",
)

_ARMED: dict[str, str | None] = {"point": None}


def arm(point: str | None) -> None:
    """Make the process die at ``point`` (None disarms)."""
    if point is not None and point not in POINTS:
        raise ValueError(f"unknown fault point {point!r}; known: {', '.join(POINTS)}")
    _ARMED["point"] = point


def point(name: str) -> None:
    """Die here with SIGKILL if this point is armed."""
    if _ARMED["point"] == name:
        log.warning("fault point %s reached: killing the process", name)
        os.kill(os.getpid(), signal.SIGKILL)
