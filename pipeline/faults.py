"""Named fault points, for crash tests only.

``plumbline serve`` or ``plumbline run`` arms one point from the setting ``fault_point``
(env ``PLUMBLINE_FAULT_POINT``). When the code reaches that point the process kills itself with
SIGKILL, exactly like ``kill -9``: no ``finally`` blocks, no rollback, no clean shutdown. Tests
then restart and check the warehouse is consistent. Unarmed, a point costs a dict lookup.

A point may sit in code that runs in a compute child (``registry.partial_written``, inside the
artefact write). Children are spawned, so they import this module unarmed: :func:`arm` also
leaves the point in the environment they inherit. Reached in a child, a point kills the owner
process first, then the child: a ``kill -9`` of the pipeline takes its children with it
(``PR_SET_PDEATHSIG``), so this is the crash the point stands for.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal

log = logging.getLogger(__name__)

POINTS = (
    "step.ingest.done",
    "step.validate.done",
    "step.clean.done",
    "step.train.done",
    "registry.partial_written",  # in the training child: the artefact's temp file, not renamed
    "step.score.done",
    "step.monitor.done",
    "step.promote.done",
    "publish.model_written",
    "publish.aliases_written",
    "publish.before_commit",
    "publish.committed",
)

_ARMED: dict[str, str | None] = {"point": None}
# Not PLUMBLINE_-prefixed: the settings must not read it back as a setting.
_CHILD_ENV = "_PLUMBLINE_ARMED_FAULT"


def arm(point: str | None) -> None:
    """Make the process die at ``point`` (None disarms)."""
    if point is not None and point not in POINTS:
        raise ValueError(f"unknown fault point {point!r}; known: {', '.join(POINTS)}")
    _ARMED["point"] = point
    if point is None:
        os.environ.pop(_CHILD_ENV, None)
    else:
        os.environ[_CHILD_ENV] = point


def _armed() -> str | None:
    armed = _ARMED["point"]
    if armed is None and multiprocessing.parent_process() is not None:
        return os.environ.get(_CHILD_ENV)
    return armed


def point(name: str) -> None:
    """Die here with SIGKILL if this point is armed (in a compute child: the owner, then it)."""
    if _armed() == name:
        log.warning("fault point %s reached: killing the process", name)
        parent = multiprocessing.parent_process()
        if parent is not None:
            os.kill(parent.pid, signal.SIGKILL)
        os.kill(os.getpid(), signal.SIGKILL)
