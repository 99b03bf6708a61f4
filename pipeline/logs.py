"""Process-wide logging: one stderr handler, text or JSON lines, with personal data redacted.

Every record that reaches the handler, Plumbline's or a library's, passes the redaction filter
first: e-mail addresses, phone-number-like digit runs and the secret values the process knows
(session key, admin password, metrics token, PII salt) become ``[redacted]`` in the message
(after ``%``-formatting, so arguments are covered) and in the exception text.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime

REDACTED = "[redacted]"
TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
TEXT_DATEFMT = "%Y-%m-%dT%H:%M:%S"

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# A digit run of 7+ digits, optionally led by + (or an opening bracket) and broken by spaces,
# dots, hyphens or brackets: "+44 20 7946 0958", "(555) 123-4567", "0612345678". Not inside a
# word (hex digests, ids like C0012345 stay whole). Dates ("2024-05-02", "2024-05") and
# decimals ("0.81234567") are matched first by the ``keep`` branch and left as they are.
_PHONE = re.compile(
    r"(?P<keep>(?:19|20)\d{2}-[01]\d(?:-[0-3]\d)?(?!\d)|\d+\.\d+(?![.\d]))"
    r"|(?<![\w+(])[+(]?\d(?:(?:[ .-]|\) ?| ?\()?\d){6,}(?!\w)"
)

# Handlers this module installed, so that calling configure_logging again replaces them.
_OURS = "plumbline_handler"


def _phone(match: re.Match[str]) -> str:
    return match.group(0) if match.group("keep") else REDACTED


class Redactor:
    """Replaces e-mail addresses, phone-like numbers and known secret values in text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        values = sorted({s for s in secrets if s}, key=len, reverse=True)
        # Longest first, so a secret that contains another is replaced whole.
        self._secrets = re.compile("|".join(map(re.escape, values))) if values else None

    def __call__(self, text: str) -> str:
        """``text`` with every personal or secret value replaced by ``[redacted]``."""
        if self._secrets is not None:
            text = self._secrets.sub(REDACTED, text)
        text = _EMAIL.sub(REDACTED, text)
        return _PHONE.sub(_phone, text)


class RedactionFilter(logging.Filter):
    """A handler filter that redacts a record's final message and exception text in place.

    It formats the message itself (``record.getMessage()``) and clears ``args``, and renders
    the traceback into ``exc_text``, which formatters then print instead of re-rendering it.
    """

    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self.redact = redact
        self._formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact ``record``; always keeps it."""
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a bad %-format: keep what logging would show
            message = f"{record.msg!r} (arguments did not format)"
        record.msg = self.redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC ISO 8601), level, logger, message, exception."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def build_handler(fmt: str = "text", secrets: Iterable[str] = ()) -> logging.Handler:
    """A stderr handler in ``fmt`` ("text" or "json") with the redaction filter installed."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    elif fmt == "text":
        handler.setFormatter(logging.Formatter(TEXT_FORMAT, datefmt=TEXT_DATEFMT))
    else:
        raise ValueError(f"log format must be 'text' or 'json', not {fmt!r}")
    handler.addFilter(RedactionFilter(Redactor(secrets)))
    setattr(handler, _OURS, True)
    return handler


def configure_logging(level: str, fmt: str = "text", secrets: Iterable[str] = ()) -> None:
    """Send every logger's records (via the root logger) to stderr in ``fmt``, redacted.

    Replaces a handler an earlier call installed; handlers others added are left alone.
    An unknown ``level`` name means INFO.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _OURS, False):
            root.removeHandler(handler)
            handler.close()
    root.addHandler(build_handler(fmt, secrets))
    root.setLevel(logging.getLevelNamesMapping().get(level.upper(), logging.INFO))
