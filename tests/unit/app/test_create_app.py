"""create_app: pages from the registry, local assets, callbacks in every app built."""

from __future__ import annotations

import dash

from app import ASSETS_DIR, create_app, page_module_names


def dependencies(app: dash.Dash) -> list[dict]:
    return app.server.test_client().get("/_dash-dependencies").get_json()


def test_pages_are_registered_with_their_paths_and_names(app):
    pages = {p["module"]: (p["path"], p["name"]) for p in dash.page_registry.values()}
    assert pages["app.pages.overview"] == ("/", "Overview")
    assert pages["app.pages.data"] == ("/data", "Data")
    assert pages["app.pages.models"] == ("/models", "Model review")
    assert pages["app.pages.explain"] == ("/explain", "Explain")
    assert pages["app.pages.monitor"] == ("/monitor", "Monitor")
    assert pages["app.pages.runs"] == ("/runs", "Runs")
    assert page_module_names() == [
        "app.pages.data",
        "app.pages.explain",
        "app.pages.models",
        "app.pages.monitor",
        "app.pages.overview",
        "app.pages.runs",
    ]


def test_the_navbar_is_built_from_the_registry(app, ui):
    layout = app.layout
    links = ui.find_all(layout, lambda c: type(c).__name__ == "NavLink")
    assert [(link.children, link.href) for link in links] == [
        ("Overview", "/"),
        ("Data", "/data"),
        ("Model review", "/models"),
        ("Explain", "/explain"),
        ("Monitor", "/monitor"),
        ("Runs", "/runs"),
    ]
    assert "demo data" in ui.texts(layout)


def test_assets_are_local_and_no_cdn_is_used(app):
    assert app.config.assets_folder == str(ASSETS_DIR)
    assert (ASSETS_DIR / "plumbline.css").is_file()
    assert app.config.external_stylesheets == []
    assert app.config.suppress_callback_exceptions is False
    html = app.server.test_client().get("/").get_data(as_text=True)
    assert "plumbline.css" in html and "00-bootstrap-flatly.min.css" in html
    assert "cdn" not in html.lower()


def test_every_app_built_in_one_process_gets_all_page_callbacks(settings, warehouse, start_run):
    first = create_app(settings, warehouse, start_run)
    served = dependencies(first)  # Dash empties its global callback list on first request
    second = create_app(settings, warehouse, start_run)
    again = dependencies(second)
    ours = {d["output"] for d in served if "overview" in d["output"] or "runs" in d["output"]}
    assert len(ours) == 10
    assert ours <= {d["output"] for d in again}
    assert len(again) == len(served)


def test_pages_render_through_the_router(app):
    client = app.server.test_client()
    deps = client.get("/_dash-dependencies").get_json()
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
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code == 200
    assert "Customer churn overview" in response.get_data(as_text=True)
    body["inputs"][0]["value"] = "/runs"
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code == 200
    assert "Pipeline runs" in response.get_data(as_text=True)


def test_request_bodies_beyond_the_upload_limit_are_refused(app) -> None:
    limit = app.server.config["MAX_CONTENT_LENGTH"]
    response = app.server.test_client().post(
        "/_dash-update-component", data=b"x" * (limit + 1), content_type="application/json"
    )
    assert response.status_code == 413
