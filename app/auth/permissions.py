"""Which role each callback needs: declared next to the callback, checked by the gate.

Put ``@requires(Role.ANALYST)`` directly under ``@callback(...)``. The function is returned
unchanged (tests still call it as a plain function); Dash's wrapper copies the marks. A
callback without a mark is refused to everyone: deny by default. ``action`` names a callback
that changes state, so that a refused attempt is written to the audit trail.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pipeline.accounts import Role

F = TypeVar("F", bound=Callable[..., Any])

ROLE_MARK = "plumbline_role"
ACTION_MARK = "plumbline_action"


def requires(role: Role, *, action: str | None = None) -> Callable[[F], F]:
    """Mark a callback as allowed for ``role`` and above; ``action`` if it changes state."""

    def mark(func: F) -> F:
        setattr(func, ROLE_MARK, role)
        setattr(func, ACTION_MARK, action)
        return func

    return mark


def needed_role(func: Callable[..., Any] | None) -> tuple[Role | None, str | None]:
    """(role, action) declared on ``func`` or the functions it wraps; (None, None) if none."""
    while func is not None:
        role = getattr(func, ROLE_MARK, None)
        if role is not None:
            return role, getattr(func, ACTION_MARK, None)
        func = getattr(func, "__wrapped__", None)
    return None, None
