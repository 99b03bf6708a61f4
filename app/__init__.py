"""Plumbline's web UI: a Dash app that reads the warehouse and asks the owner process for runs.

Build it with :func:`create_app`; importing this package has no side effects.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dash
import dash_bootstrap_components as dbc
import flask
from dash import _callback as dash_callbacks
from dash import dcc, html

from app.answer_cache import install_answer_cache
from app.auth import session
from app.auth.gate import guard_layout, install_gate, page_role, pages_for
from app.auth.login_page import register_login
from app.auth.skeleton import install_skeleton
from app.components.navbar import navbar, user_menu
from app.security import install_security
from app.services import Services, install, services
from pipeline.accounts import Role
from pipeline.runner import CancelRequest, RunRequest
from pipeline.settings import Settings
from pipeline.warehouse import Warehouse

ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets"
PAGES_PACKAGE = "app.pages"

# Callbacks declared with ``@dash.callback`` in our modules, keyed by callback id:
# (spec sent to the browser, dispatch entry). See _claim_callbacks for why we keep them.
_CALLBACKS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}


def page_module_names() -> list[str]:
    """Modules of ``app/pages`` that are pages; ``_``-prefixed helpers are skipped."""
    package = importlib.import_module(PAGES_PACKAGE)
    return sorted(
        f"{PAGES_PACKAGE}.{info.name}"
        for info in pkgutil.iter_modules(package.__path__)
        if not info.name.startswith("_")
    )


def _import_pages() -> None:
    # With pages_folder="" Dash imports nothing itself: we import the pages as ordinary modules,
    # which works from an installed package. Their register_page needs an app to exist, so this
    # runs after Dash(...). Dash attaches `layout` only for modules it imported from a pages
    # folder, so attach it here the same way. A second app in the process finds the modules
    # already imported and the global registry already filled.
    # Each layout is wrapped so that it renders only for the page's role: the gate lets Dash's
    # page-routing callback through, and a crafted pathname must not open a page anyway.
    for name in page_module_names():
        module = importlib.import_module(name)
        page = dash.page_registry.get(name)
        if page is not None and not getattr(page.get("layout"), "plumbline_guarded", False):
            page["layout"] = guard_layout(module.layout, page_role(page), _refusal)


_ROLE_WORDS = {
    Role.EXECUTIVE: "everyone with an account",
    Role.ANALYST: "analysts and admins",
    Role.ADMIN: "admins",
}


def _refusal(user: session.SessionUser | None, role: Role) -> dbc.Alert:
    """What a person sees on a page their role may not open."""
    if user is None:
        return dbc.Alert(
            ["Log in to see this page: ", dcc.Link("log in", href="/login")], color="warning"
        )
    return dbc.Alert(
        [
            f"This page is for {_ROLE_WORDS[role]}. You are logged in as {user.username} "
            f"({user.role}); ask an admin if you need it. ",
            dcc.Link("Back to the Overview", href="/"),
        ],
        color="warning",
        class_name="page-refused",
    )


def _claim_callbacks() -> list[tuple[dict[str, Any], dict[str, Any]]]:
    # `@dash.callback` stores callbacks in process-wide lists that Dash moves into the *first*
    # app serving a request and then clears, and our modules are imported only once per
    # process. So a second app (tests, or a restart in-process) would get no callbacks, and
    # re-registering would raise DuplicateCallback. We move ours out of the global lists once
    # and give every app its own copy.
    for spec in list(dash_callbacks.GLOBAL_CALLBACK_LIST):
        callback_id = spec["output"]
        entry = dash_callbacks.GLOBAL_CALLBACK_MAP.get(callback_id)
        func = (entry or {}).get("callback")
        if func is None or not getattr(func, "__module__", "").startswith(f"{__name__}."):
            continue
        _CALLBACKS[callback_id] = (spec, entry)  # type: ignore[assignment]
        dash_callbacks.GLOBAL_CALLBACK_LIST.remove(spec)
        del dash_callbacks.GLOBAL_CALLBACK_MAP[callback_id]
    return list(_CALLBACKS.values())


def _unguarded_layouts(app: dash.Dash) -> Callable[[], list[Any]]:
    def layouts() -> list[Any]:
        pages = [p["layout"].__wrapped__() for p in dash.page_registry.values()]
        return [*pages, app.layout()]

    return layouts


def _shell(app: dash.Dash, settings: Settings) -> Callable[[], html.Div]:
    badge = "demo data" if settings.dataset.is_demo else None

    def shell() -> html.Div:
        # Built per request: the navigation shows only the pages the user's role may open.
        user = session.current_user(services().warehouse)
        menu = None
        if user is not None and flask.has_request_context():
            menu = user_menu(user.username, user.role.value, session.csrf_token())
        return html.Div(
            [
                navbar(
                    app.get_asset_url("logo.svg"),
                    pages=pages_for(user.role if user else None),
                    badge=badge,
                    user=menu,
                ),
                dbc.Container(dash.page_container, fluid=True, class_name="plumbline-main pb-5"),
            ]
        )

    return shell


def create_app(
    settings: Settings,
    warehouse: Warehouse,
    start_run: Callable[[str, str | None], RunRequest],
    cancel_run: Callable[[int, str], CancelRequest] | None = None,
) -> dash.Dash:
    """The Plumbline Dash app, reading ``warehouse``, starting runs through ``start_run`` and
    cancelling them through ``cancel_run``.

    Installs the :class:`~app.services.Services` every callback uses. Safe to call more than
    once per process; the latest call's services are the ones callbacks see. Raises
    :class:`~pipeline.settings.SettingsError` outside demo mode when no secret key is set.
    """
    install(
        Services(settings=settings, warehouse=warehouse, start_run=start_run, cancel_run=cancel_run)
    )
    app = dash.Dash(
        __name__,
        use_pages=True,
        pages_folder="",
        assets_folder=str(ASSETS_DIR),
        title="Plumbline",
        update_title=None,  # the Runs page polls every 2 s; no flickering "Updating..." title
        external_stylesheets=[],  # no CDN: Plumbline must work without internet
        serve_locally=True,
    )
    _import_pages()
    for spec, entry in _claim_callbacks():
        app.callback_map[spec["output"]] = dict(entry)
        app._callback_list.append(dict(spec))  # private, but see _claim_callbacks
    app.layout = _shell(app, settings)
    install_skeleton(app, _unguarded_layouts(app))
    # An upload arrives base64-encoded inside a callback body (4/3 of the file) with some JSON
    # around it; anything bigger is refused by Flask before it is read into memory.
    limit = int(settings.ingest.max_upload_mb * 1.4 * 2**20) + 2**20
    app.server.config["MAX_CONTENT_LENGTH"] = limit
    session.configure(app.server, settings)
    install_gate(app, session.local_api_token(settings))
    install_answer_cache(app)
    register_login(app.server, settings)
    install_security(app, settings)
    return app
