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
from dash import _callback as dash_callbacks
from dash import html

from app.components.navbar import navbar
from app.services import Services, install
from pipeline.runner import RunRequest
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
    for name in page_module_names():
        module = importlib.import_module(name)
        page = dash.page_registry.get(name)
        if page is not None and "layout" not in page:
            page["layout"] = module.layout


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


def _shell(app: dash.Dash, settings: Settings) -> html.Div:
    badge = "demo data" if settings.dataset.is_demo else None
    return html.Div(
        [
            navbar(app.get_asset_url("logo.svg"), badge=badge),
            dbc.Container(dash.page_container, fluid=True, class_name="plumbline-main pb-5"),
        ]
    )


def create_app(
    settings: Settings,
    warehouse: Warehouse,
    start_run: Callable[[str, str | None], RunRequest],
) -> dash.Dash:
    """The Plumbline Dash app, reading ``warehouse`` and starting runs through ``start_run``.

    Installs the :class:`~app.services.Services` every callback uses. Safe to call more than
    once per process; the latest call's services are the ones callbacks see.
    """
    install(Services(settings=settings, warehouse=warehouse, start_run=start_run))
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
    # An upload arrives base64-encoded inside a callback body (4/3 of the file) with some JSON
    # around it; anything bigger is refused by Flask before it is read into memory.
    limit = int(settings.ingest.max_upload_mb * 1.4 * 2**20) + 2**20
    app.server.config["MAX_CONTENT_LENGTH"] = limit
    return app
