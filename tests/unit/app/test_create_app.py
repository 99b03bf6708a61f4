"""create_app: pages from the registry, local assets, callbacks in every app built."""

from __future__ import annotations

import dash

from app import ASSETS_DIR, create_app, page_module_names
from pipeline.accounts import Role
from tests.auth import acting_as, ensure_users, logged_in_client


def client(app: dash.Dash):
    ensure_users(app_services_warehouse())
    return logged_in_client(app.server, "admin")


def app_services_warehouse():
    from app.services import services

    return services().warehouse


def dependencies(app: dash.Dash) -> list[dict]:
    return client(app).get("/_dash-dependencies").get_json()


def test_pages_are_registered_with_their_paths_and_names(app):
    pages = {p["module"]: (p["path"], p["name"]) for p in dash.page_registry.values()}
    assert pages["app.pages.overview"] == ("/", "Overview")
    assert pages["app.pages.data"] == ("/data", "Data")
    assert pages["app.pages.models"] == ("/models", "Model review")
    assert pages["app.pages.explain"] == ("/explain", "Explain")
    assert pages["app.pages.monitor"] == ("/monitor", "Monitor")
    assert pages["app.pages.runs"] == ("/runs", "Runs")
    assert page_module_names() == [
        "app.pages.audit",
        "app.pages.data",
        "app.pages.explain",
        "app.pages.models",
        "app.pages.monitor",
        "app.pages.overview",
        "app.pages.runs",
        "app.pages.settings",
        "app.pages.users",
    ]


def _nav(app, ui, role):
    with acting_as(app.server, role):
        layout = app.layout()
    links = ui.find_all(layout, lambda c: type(c).__name__ == "NavLink")
    return [(link.children, link.href) for link in links], layout


def test_the_navbar_is_built_from_the_registry_for_the_users_role(app, ui):
    analyst_links, layout = _nav(app, ui, Role.ANALYST)
    assert analyst_links == [
        ("Overview", "/"),
        ("Data", "/data"),
        ("Model review", "/models"),
        ("Explain", "/explain"),
        ("Monitor", "/monitor"),
        ("Runs", "/runs"),
    ]
    assert "demo data" in ui.texts(layout)
    assert "ana" in ui.texts(layout)  # who is logged in, beside the Log out button
    assert _nav(app, ui, Role.EXECUTIVE)[0] == [("Overview", "/")]
    admin_links = _nav(app, ui, Role.ADMIN)[0]
    assert admin_links[: len(analyst_links)] == analyst_links
    assert _nav(app, ui, None)[0] == []


def test_assets_are_local_and_no_cdn_is_used(app):
    assert app.config.assets_folder == str(ASSETS_DIR)
    assert (ASSETS_DIR / "plumbline.css").is_file()
    assert app.config.external_stylesheets == []
    assert app.config.suppress_callback_exceptions is False
    html = client(app).get("/").get_data(as_text=True)
    assert "plumbline.css" in html and "00-bootstrap-flatly.min.css" in html
    assert "cdn" not in html.lower()


def test_every_app_built_in_one_process_gets_all_page_callbacks(settings, warehouse, start_run):
    first = create_app(settings, warehouse, start_run)
    served = dependencies(first)  # Dash empties its global callback list on first request
    second = create_app(settings, warehouse, start_run)
    again = dependencies(second)
    ours = {d["output"] for d in served if "overview" in d["output"] or "runs" in d["output"]}
    assert len(ours) == 11
    assert ours <= {d["output"] for d in again}
    assert len(again) == len(served)


def test_pages_render_through_the_router(app):
    browser = client(app)
    deps = browser.get("/_dash-dependencies").get_json()
    router = next(d for d in deps if d["output"].startswith(".._pages_content"))
    body = {
        "output": router["output"],
        "outputs": [
            {"id": "_pages_content", "property": "children"},
            {"id": "_pages_store", "property": "data"},
        ],
        "inputs": [
            {"id": "_pages_location", "property": "pathname", "value": "/"},
            {"id": "_pages_location", "property": "search", "value": "?segment=plan&value=Basic"},
        ],
        "changedPropIds": ["_pages_location.pathname"],
        "state": [],
    }
    response = browser.post("/_dash-update-component", json=body)
    assert response.status_code == 200
    assert "Customer churn overview" in response.get_data(as_text=True)
    body["inputs"][0]["value"] = "/runs"
    response = browser.post("/_dash-update-component", json=body)
    assert response.status_code == 200
    assert "Pipeline runs" in response.get_data(as_text=True)


def test_request_bodies_beyond_the_upload_limit_are_refused(app) -> None:
    limit = app.server.config["MAX_CONTENT_LENGTH"]
    response = app.server.test_client().post(
        "/_dash-update-component", data=b"x" * (limit + 1), content_type="application/json"
    )
    assert response.status_code == 413
