"""Login throttling: too many failures from one address, or for one user name, wait a while."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterable


class LoginThrottle:
    """Counts failed logins per key (an address, a user name) in a sliding window."""

    def __init__(self, attempts: int, window_seconds: float, clock=time.monotonic):
        self.attempts = attempts
        self.window = window_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and now - times[0] >= self.window:
            times.popleft()
        return times

    def wait_seconds(self, keys: Iterable[str]) -> float:
        """Seconds until any of ``keys`` may try again (0: go ahead)."""
        now = self._clock()
        with self._lock:
            waits = [
                self.window - (now - times[0])
                for times in (self._recent(k, now) for k in keys)
                if len(times) >= self.attempts
            ]
        return max(waits, default=0.0)

    def fail(self, keys: Iterable[str]) -> None:
        """Count one failed attempt against each key."""
        now = self._clock()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)

    def succeed(self, key: str) -> None:
        """Forget the failures of ``key`` (a user who just logged in)."""
        with self._lock:
            self._failures.pop(key, None)
