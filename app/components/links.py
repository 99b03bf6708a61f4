"""Links built from data: an allow-list for their targets, and a role check for showing them.

Use :func:`data_link` (a ``dcc.Link``) for any link whose target comes from data. dcc.Link
refuses ``javascript:`` URLs itself, whereas dash-bootstrap-components' NavLink and Button
follow them; :func:`safe_href` refuses them (and every other scheme) before they get there.
"""

from __future__ import annotations

import unicodedata
from typing import Any
from urllib.parse import urlsplit

from dash import dcc, html

from app.identity import acting_user
from pipeline.accounts import Role, allows


def safe_href(url: str) -> str | None:
    """``url`` if it is a path on this site (``/runs?run=3``), else None.

    Refused: any scheme (``javascript:``, ``data:``, ``http:``...), protocol-relative
    ``//host`` and ``/\\host`` (browsers read a backslash as a slash), and URLs holding
    whitespace or control characters, which browsers strip (``java\\tscript:``).
    """
    if not isinstance(url, str) or not url.startswith("/") or url.startswith("//"):
        return None
    if "\\" in url or any(c.isspace() or unicodedata.category(c) == "Cc" for c in url):
        return None
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        return None
    return url


def user_may_open(needed: Role) -> bool:
    """Whether the person of this request has ``needed`` or a higher role (False if nobody)."""
    user = acting_user()
    return user is not None and allows(user.role, needed)


def data_link(children: Any, href: str, *, needed: Role, **kwargs: Any) -> Any:
    """A ``dcc.Link`` to ``href`` when it is safe and the user's role may open it.

    Otherwise ``children`` as plain text in a ``Span`` (same ``className``), so a reader who
    may not follow the link still sees the words.
    """
    target = safe_href(href)
    if target is None or not user_may_open(needed):
        return html.Span(children, className=kwargs.get("className"))
    return dcc.Link(children, href=target, **kwargs)
