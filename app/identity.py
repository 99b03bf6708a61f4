"""Who is acting: the name recorded with promotions, rollbacks and retrains.

Until accounts exist (issue 7) every visitor is anonymous, so the record names the client
address, which is honest about what is known.
"""

from __future__ import annotations

import flask


def current_actor() -> str:
    """The acting person's name as recorded in the audit columns."""
    if flask.has_request_context():
        return f"anonymous ({flask.request.remote_addr or 'unknown address'})"
    return "anonymous (no request)"
