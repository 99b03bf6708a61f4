"""Plain JSON endpoints beside the Dash app."""

from __future__ import annotations

import flask

from pipeline.settings import Settings
from pipeline.status import collect_status
from pipeline.warehouse import Warehouse


def register_api(server: flask.Flask, settings: Settings, wh: Warehouse) -> None:
    """Add ``/api/status`` (the same report as ``plumbline status --json``)."""

    def status() -> flask.Response:
        return flask.jsonify(collect_status(settings, wh))

    server.add_url_rule("/api/status", "api_status", status, methods=["GET"])
