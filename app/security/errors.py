"""Generic error pages: a short message for people, never a traceback; details go to the log.

Callbacks (``/_dash-*``), the JSON API and clients that ask for JSON get
``{"error": "..."}`` (the gate's shape); browsers get a tiny HTML page.
"""

from __future__ import annotations

import html
import logging

import flask
from dash.exceptions import DependencyException, InvalidResourceError
from werkzeug.exceptions import HTTPException, InternalServerError, NotFound

logger = logging.getLogger(__name__)

MESSAGES = {
    400: "The request was not understood.",
    401: "Please log in first.",
    403: "You do not have permission to do this.",
    404: "There is no such page.",
    405: "This address does not accept that kind of request.",
    429: "Too many attempts; wait a little and try again.",
    500: "Something went wrong on the server. The error was logged; try again later.",
}
# Headers of an HTTP error worth keeping (405's Allow, 401's WWW-Authenticate, 429's
# Retry-After); the body, and so its type and length, are ours.
KEPT_HEADERS = ("Allow", "WWW-Authenticate", "Retry-After")

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{status} · Plumbline</title></head>
<body><h1>{status} {name}</h1><p>{message}</p><p><a href="/">Back to Plumbline</a></p></body>
</html>
"""


def wants_json(request: flask.Request) -> bool:
    """True for callbacks, the JSON API, and clients that prefer JSON over HTML."""
    if "/_dash-" in request.path or request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def too_large_message(limit: int | None) -> str:
    """413's message, naming the limit in MB when there is one."""
    if not limit:
        return "The request is larger than the server accepts."
    return f"The request is larger than the {limit / 2**20:.0f} MB limit."


def error_response(status: int, name: str, message: str) -> flask.Response:
    """The JSON or HTML answer for ``status`` with ``message``, as the client prefers."""
    if wants_json(flask.request):
        response = flask.jsonify({"error": message})
    else:
        page = PAGE.format(status=status, name=html.escape(name), message=html.escape(message))
        response = flask.Response(page, mimetype="text/html")
    response.status_code = status
    return response


def install_error_pages(server: flask.Flask) -> None:
    """Register handlers for every HTTP error and for uncaught exceptions on ``server``."""

    def http_error(error: HTTPException) -> flask.Response:
        if error.response is not None:  # abort(response): the caller built the answer
            return error.response
        status = error.code or 500
        if status == 413:
            message = too_large_message(server.config.get("MAX_CONTENT_LENGTH"))
        else:
            message = MESSAGES.get(status, error.name)
        if status >= 500:
            logger.error("%s %s answered %s", flask.request.method, flask.request.path, status)
        response = error_response(status, error.name, message)
        for key, value in error.get_headers():
            if key in KEPT_HEADERS:
                response.headers.add(key, value)
        return response

    def missing_resource(error: Exception) -> flask.Response:
        # An unknown file under /_dash-component-suites/: Dash's own handler echoes the path
        # back as text/html, and an unregistered path would otherwise be a 500.
        return http_error(NotFound())

    def uncaught(error: Exception) -> flask.Response:
        logger.exception(
            "uncaught %s on %s %s",
            type(error).__name__,
            flask.request.method,
            flask.request.path,
        )
        return error_response(500, InternalServerError.name, MESSAGES[500])

    server.register_error_handler(HTTPException, http_error)
    server.register_error_handler(InvalidResourceError, missing_resource)
    server.register_error_handler(DependencyException, missing_resource)
    server.register_error_handler(Exception, uncaught)
