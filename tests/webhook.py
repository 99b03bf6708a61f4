"""A local webhook receiver for alert-delivery tests: records each JSON body it is sent."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer


@dataclass
class Receiver:
    """Where the server listens, what it received, and the HTTP status it answers."""

    url: str = ""
    bodies: list = field(default_factory=list)
    status: int = 200


@contextmanager
def receiving() -> Iterator[Receiver]:
    """Serve a receiver on a free local port for the duration of the block."""
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            length = int(self.headers["Content-Length"])
            receiver.bodies.append(json.loads(self.rfile.read(length)))
            self.send_response(receiver.status)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    receiver.url = f"http://127.0.0.1:{server.server_port}/alerts"
    try:
        yield receiver
    finally:
        server.shutdown()
