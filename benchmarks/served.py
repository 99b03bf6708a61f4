"""A real `plumbline serve` seen from outside: its command line, a free port, its status.

Shared by the benchmarks (run as scripts from this folder) and the tests that start the real
command (imported as ``benchmarks.served``).
"""

from __future__ import annotations

import json
import socket
import sys
import urllib.request
from pathlib import Path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_command(data_dir: Path, port: int) -> list[str]:
    """The argv of `plumbline serve` on ``data_dir`` and ``port``, with this interpreter."""
    return [
        sys.executable,
        "-m",
        "pipeline.cli",
        "serve",
        "--data-dir",
        str(data_dir),
        "--port",
        str(port),
    ]


def read_status(port: int, data_dir: Path) -> dict | None:
    """The server's /api/status, read the way `plumbline status` does (with the local token
    serve writes to ``data_dir/secrets/api_token``); None until serve answers it."""
    token_file = data_dir / "secrets" / "api_token"
    if not token_file.exists():
        return None
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/status",
        headers={"Authorization": f"Bearer {token_file.read_text().strip()}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as r:
            return json.loads(r.read())
    except OSError:
        return None
