"""``/login`` and ``/logout``: a plain HTML form (no script), throttled and audited."""

from __future__ import annotations

import hmac
import math

import flask

from app.audit import audit
from app.auth.gate import safe_next
from app.auth.session import csrf_token, current_user, log_in, log_out
from app.auth.throttle import LoginThrottle
from app.services import services
from pipeline import accounts
from pipeline.settings import Settings
from pipeline.warehouse import users as user_store

# Autoescaped by Jinja (render_template_string escapes every {{ }}): nothing typed is markup.
PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Plumbline · Log in</title>
<link rel="icon" href="/assets/logo.svg">
<link rel="stylesheet" href="/assets/00-bootstrap-flatly.min.css">
<link rel="stylesheet" href="/assets/plumbline.css">
</head>
<body class="plumbline-login">
<main class="container plumbline-login-box">
  <div class="d-flex align-items-center my-5">
    <img src="/assets/logo.svg" alt="" width="40" height="40" class="me-2">
    <h1 class="h3 mb-0">Plumbline</h1>
  </div>
  {% if message %}<div class="alert alert-{{ tone }}" role="alert">{{ message }}</div>{% endif %}
  <form method="post" action="/login" class="card card-body">
    <input type="hidden" name="csrf" value="{{ csrf }}">
    <input type="hidden" name="next" value="{{ next }}">
    <label class="form-label" for="username">User name</label>
    <input class="form-control mb-3" id="username" name="username" autocomplete="username"
           value="{{ username }}" required autofocus>
    <label class="form-label" for="password">Password</label>
    <input class="form-control mb-4" id="password" name="password" type="password"
           autocomplete="current-password" required>
    <button class="btn btn-primary" type="submit" id="login-submit">Log in</button>
  </form>
  {% if demo %}<p class="text-muted small mt-3">First start of the demo: log in as
  <strong>admin</strong> with the password printed once in the terminal running
  <code>plumbline serve</code> (or the one in PLUMBLINE_ADMIN_PASSWORD).</p>{% endif %}
</main>
</body>
</html>"""


def _page(
    settings: Settings, status: int = 200, message: str = "", tone: str = "danger", **form: str
) -> flask.Response:
    html = flask.render_template_string(
        PAGE,
        message=message,
        tone=tone,
        csrf=csrf_token(),
        next=safe_next(form.get("next") or flask.request.args.get("next")),
        username=form.get("username", ""),
        demo=settings.dataset.is_demo,
    )
    response = flask.make_response(html, status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _csrf_ok() -> bool:
    sent = flask.request.form.get("csrf", "")
    expected = flask.session.get("csrf")
    return isinstance(expected, str) and hmac.compare_digest(sent, expected)


def register_login(server: flask.Flask, settings: Settings) -> LoginThrottle:
    """Add ``/login`` (GET form, POST check) and ``/logout`` (POST) to ``server``."""
    throttle = LoginThrottle(settings.web.login_attempts, settings.web.login_window_minutes * 60)

    def login() -> flask.Response:
        wh = services().warehouse
        if flask.request.method == "GET":
            if current_user(wh) is not None:
                return flask.redirect(safe_next(flask.request.args.get("next")))
            message = "You were logged out." if flask.request.args.get("bye") else ""
            return _page(settings, message=message, tone="info")
        form = flask.request.form
        name = form.get("username", "").strip()[:64]
        keep = {"username": name, "next": form.get("next", "/")}
        if not _csrf_ok():
            return _page(settings, 400, "The form expired; please log in again.", **keep)
        known = user_store.get_user(wh, name) is not None
        target = name if known else "(unknown user)"
        keys = [f"addr:{flask.request.remote_addr}", f"user:{name.lower()}"]
        wait = throttle.wait_seconds(keys)
        if wait > 0:
            audit("login", target=target, outcome="throttled")
            minutes = max(1, math.ceil(wait / 60))
            return _page(
                settings,
                429,
                f"Too many failed attempts: try again in {minutes} minute(s).",
                **keep,
            )
        user = accounts.authenticate(wh, name, form.get("password", ""))
        if user is None:
            throttle.fail(keys)
            audit("login", target=target, outcome="failed")
            return _page(
                settings, 401, "Wrong user name or password, or the account is disabled.", **keep
            )
        throttle.succeed(f"user:{name.lower()}")
        log_in(user.username, user.auth_version)
        audit("login", target=user.username, outcome="ok")
        return flask.redirect(safe_next(form.get("next")))

    def logout() -> flask.Response:
        if flask.request.method == "POST" and _csrf_ok():
            if current_user(services().warehouse) is not None:
                audit("logout")
            log_out()
        return flask.redirect("/login?bye=1")

    server.add_url_rule("/login", "plumbline_login", login, methods=["GET", "POST"])
    server.add_url_rule("/logout", "plumbline_logout", logout, methods=["GET", "POST"])
    return throttle
