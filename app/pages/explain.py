"""Explain: why the model predicts what it predicts, for analysts, one model version at a time.

Sections: global importance (mean |SHAP| in probability points) and the summary of every
feature's effects, both read from the explanation stored when the version was trained (or when
the champion scored a month); dependence of one feature's effect on its value; one customer's
prediction as a waterfall with sentences, computed on demand, and a what-if form to recompute
it with changed values; fairness by group. ``/explain?v=7&entity=C00042&feature=tenure_months``
restores a view.
"""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html, no_update

from app.answer_cache import cached_answer
from app.auth import Role, requires
from app.components.empty import empty_state
from app.components.polling import (
    shown,
    visibility_outputs,
    waiting,
    waiting_page,
)
from app.figures import explain as figures
from app.figures import spec
from app.pages import _explain_customer  # noqa: F401  (registers the one-customer callbacks)
from app.pages import _models_fairness as fairness
from app.pages._explain_layout import (
    Ids,
    card,
    controls,
    dependence_card,
    fairness_card,
    graph,
    loading,
    local_card,
    whatif_card,
)
from app.pages._explain_state import (
    choose_version,
    load_state,
    no_explanation_reason,
    parse_choice,
    parse_entity,
    query_string,
    scope_label,
    scope_options,
    summary_text,
    version_label,
)
from app.pages._models_state import version_options, waiting_card
from app.services import services
from pipeline.warehouse import reads_explain

dash.register_page(
    __name__,
    path="/explain",
    name="Explain",
    title="Plumbline · Explain",
    order=8,
    role=Role.ANALYST,
    cached=True,  # its layout reads only the warehouse: app/answer_cache.py
)


def _features(version: int | None, scope: str | None) -> list[str]:
    """The explained features of ``version`` on ``scope``, strongest first."""
    if version is None or scope is None:
        return []
    return figures.feature_order(reads_explain.importance(services().warehouse, version, scope))


def _feature_options(features: list[str]) -> list[dict[str, str]]:
    return [{"label": f, "value": f} for f in features]


def _scopes(version: int | None) -> list[str]:
    return [] if version is None else reads_explain.scopes(services().warehouse, version)


def _url_defaults(default: int | None) -> dict[str, Any]:
    """What a bare ``/explain`` shows: the default version, its first scope, its strongest
    feature. The address leaves out what equals these."""
    scopes = _scopes(default)
    scope = scopes[0] if scopes else None
    return {
        "version": default,
        "scope": scope,
        "feature": next(iter(_features(default, scope)), None),
    }


def layout(
    v: object = None,
    scope: object = None,
    entity: object = None,
    feature: object = None,
    **kwargs: Any,
) -> html.Div:
    """The page; ``?v=7&scope=holdout&entity=C00042&feature=tenure_months`` restore a view."""
    svc = services()
    state = load_state(svc)
    version = choose_version(v, state.as_store([]))
    scopes = _scopes(version)
    scope_ = parse_choice(scope, scopes)
    features = _features(version, scope_)
    feature_ = parse_choice(feature, features)
    row = state.row(version)
    entity_ = parse_entity(entity)
    store = state.as_store(scopes) | {"url": _url_defaults(state.default)}
    return waiting_page(
        Ids,
        state.ready,
        title="Explain",
        lines=[
            html.Div(
                summary_text(svc, version, scope_, row),
                id=Ids.SUMMARY,
                className="freshness small text-muted",
            )
        ],
        stores=[dcc.Store(id=Ids.STORE, data=store), dcc.Store(id=Ids.ENTITY, data=entity_)],
        waiting_card=lambda: waiting_card(svc),
        body=[
            controls(
                version_options(state.versions),
                version,
                scope_options(scopes, row),
                scope_,
            ),
            loading(Ids.GLOBAL, 520),  # see CHARTS_ROOM
            dependence_card(_feature_options(features), feature_),
            local_card(entity_),
            whatif_card(),
            fairness_card(),
        ],
        class_name="explain-page",
    )


# -- version and scope ------------------------------------------------------------------------


@callback(
    output={
        "scope_options": Output(Ids.SCOPE, "options"),
        "scope": Output(Ids.SCOPE, "value"),
        "scope_style": Output(Ids.SCOPE_COL, "style"),
        "feature_options": Output(Ids.FEATURE, "options"),
        "feature": Output(Ids.FEATURE, "value"),
        "summary": Output(Ids.SUMMARY, "children"),
    },
    inputs={
        "version": Input(Ids.VERSION, "value"),
        "data": Input(Ids.STORE, "data"),
        "scope": State(Ids.SCOPE, "value"),
        "feature": State(Ids.FEATURE, "value"),
    },
    prevent_initial_call=True,
)
@requires(Role.ANALYST)
@cached_answer
def choose_scope(version: object, data: dict | None, scope: object, feature: object) -> dict:
    """The chosen version's scopes and features; the current choices stay when still valid."""
    v = choose_version(version, data)
    scopes = _scopes(v)
    scope_ = parse_choice(scope, scopes)
    features = _features(v, scope_)
    state = load_state(services())
    return {
        "scope_options": scope_options(scopes, state.row(v)),
        "scope": scope_,
        "scope_style": None if len(scopes) > 1 else {"display": "none"},
        "feature_options": _feature_options(features),
        "feature": parse_choice(feature, features),
        "summary": summary_text(services(), v, scope_, state.row(v)),
    }


# -- global explanation -----------------------------------------------------------------------


# The charts' room is kept while they load; an empty state needs none.
CHARTS_ROOM = {"minHeight": "520px"}


@callback(
    Output(Ids.GLOBAL, "children"),
    Output(Ids.GLOBAL, "style"),
    Input(Ids.VERSION, "value"),
    Input(Ids.SCOPE, "value"),
    Input(Ids.STORE, "data"),
)
@requires(Role.ANALYST)
@cached_answer
def update_global(version: object, scope: object, data: dict | None) -> tuple[Any, dict | None]:
    """Global importance and the summary side by side; an empty state when none is stored."""
    v = choose_version(version, data)
    if v is None:
        return None, None
    wh = services().warehouse
    scopes = reads_explain.scopes(wh, v)
    scope_ = parse_choice(scope, scopes)
    row = load_state(services()).row(v)
    if scope_ is None:
        card_ = empty_state(
            f"No explanation stored for v{v}",
            no_explanation_reason(v, row),
            "Choose another version above. The customer explanation and the what-if below "
            "work for any version: they are computed on demand.",
            tone="secondary",
            card_id="explain-no-explanation",
        )
        return html.Div(card_, className="mb-4"), None
    importance = reads_explain.importance(wh, v, scope_)
    points = reads_explain.points(wh, v, scope_)
    subtitle = f"{version_label(row)} · {scope_label(scope_, row)}"
    charts = dbc.Row(
        [
            dbc.Col(
                card(
                    "Global importance",
                    "How much each feature moves the churn probability on average, in "
                    "percentage points. Hover for its share and direction.",
                    graph(figures.importance_figure(importance, subtitle)),
                    class_name="h-100",
                ),
                lg=5,
                class_name="mb-4",
            ),
            dbc.Col(
                card(
                    "Summary: every customer's effects",
                    "One dot per explained customer and feature: right raises churn risk, "
                    "left lowers it; colour is the feature's value.",
                    graph(figures.summary_figure(points, importance, subtitle)),
                    class_name="h-100",
                ),
                lg=7,
                class_name="mb-4",
            ),
        ]
    )
    return charts, CHARTS_ROOM


@callback(
    Output(Ids.DEPENDENCE, "children"),
    Output(Ids.DEPENDENCE, "style"),
    Output(Ids.DIRECTION, "children"),
    Input(Ids.VERSION, "value"),
    Input(Ids.SCOPE, "value"),
    Input(Ids.FEATURE, "value"),
    State(Ids.STORE, "data"),
)
@requires(Role.ANALYST)
@cached_answer
def update_dependence(
    version: object, scope: object, feature: object, data: dict | None
) -> tuple[Any, dict | None, Any]:
    """The chosen feature's dependence plot and, in words, the direction of its effect."""
    nothing = html.Div(
        "No stored explanation of this version: nothing to draw.", className="text-muted"
    )
    v = choose_version(version, data)
    wh = services().warehouse
    scopes = [] if v is None else reads_explain.scopes(wh, v)
    scope_ = parse_choice(scope, scopes)
    if v is None or scope_ is None:
        return nothing, None, None
    importance = reads_explain.importance(wh, v, scope_)
    feature_ = parse_choice(feature, figures.feature_order(importance))
    if feature_ is None:
        return nothing, None, None
    row = importance[importance["feature"] == feature_].iloc[0]
    points = reads_explain.points(wh, v, scope_, feature_)
    state_row = load_state(services()).row(v)
    subtitle = f"{version_label(state_row)} · {scope_label(scope_, state_row)}"
    direction = [
        html.Span(f"{feature_}: ", className="fw-semibold"),
        html.Span(
            f"moves churn probability by {float(row['mean_abs_points']):.1f} points on average "
            f"({float(row['share']):.0%} of the model's attention)"
            + (f"; {row['direction']}" if isinstance(row["direction"], str) else "")
            + "."
        ),
    ]
    figure = figures.dependence_figure(points, feature_, subtitle)
    return graph(figure), {"minHeight": f"{spec.height(figure)}px"}, direction


# -- fairness ---------------------------------------------------------------------------------


@callback(
    Output(Ids.FAIRNESS, "children"),
    Input(Ids.VERSION, "value"),
    Input(Ids.STORE, "data"),
)
@requires(Role.ANALYST)
@cached_answer
def update_fairness(version: object, data: dict | None) -> Any:
    """The chosen version's fairness by group: sentences, tables and charts per column."""
    v = choose_version(version, data)
    if v is None:
        return None
    return fairness.section(services().warehouse, v, with_charts=True)


# -- address and polling ----------------------------------------------------------------------


@callback(
    Output(Ids.URL, "search"),
    Input(Ids.VERSION, "value"),
    Input(Ids.SCOPE, "value"),
    Input(Ids.ENTITY, "data"),
    Input(Ids.FEATURE, "value"),
    State(Ids.STORE, "data"),
    prevent_initial_call=True,
)
@requires(Role.ANALYST)
@cached_answer
def write_url(
    version: object, scope: object, entity: object, feature: object, data: dict | None
) -> str:
    """The view as ``?v=7&entity=C00042&feature=tenure_months`` (defaults left out)."""
    data = data or {}
    v = choose_version(version, data)
    defaults = dict(data.get("url") or {})
    if v != defaults.get("version"):
        # another version has its own first scope and strongest feature: keep both explicit
        defaults = {"version": defaults.get("version")}
    return query_string(
        v,
        scope if isinstance(scope, str) else None,
        parse_entity(entity),
        feature if isinstance(feature, str) else None,
        defaults,
    )


_POLL_OUTPUTS = {
    **visibility_outputs(Ids.EMPTY, Ids.BODY, Ids.POLL),
    "options": Output(Ids.VERSION, "options"),
    "version": Output(Ids.VERSION, "value"),
    "data": Output(Ids.STORE, "data"),
}


@callback(
    output=_POLL_OUTPUTS,
    inputs={
        "tick": Input(Ids.POLL, "n_intervals"),
        "known": State(Ids.STORE, "data"),
        "version": State(Ids.VERSION, "value"),
    },
    prevent_initial_call=True,
)
@requires(Role.ANALYST)
@cached_answer
def poll_data(tick: int | None, known: dict | None, version: object) -> dict[str, Any]:
    """Notice the first model, a new version, a promotion or a newly stored explanation."""
    svc = services()
    state = load_state(svc)
    unchanged = dict.fromkeys(_POLL_OUTPUTS, no_update)
    if not state.ready:
        return unchanged | waiting(waiting_card(svc))
    known = known or {}
    current = choose_version(version, {"versions": state.numbers, "default": state.default})
    scopes = _scopes(current)
    if known.get("signature") == state.signature(scopes):
        return unchanged
    # A view on the old default (the champion) follows the new one; a chosen version stays.
    follow = version is None or str(version) == str(known.get("default"))
    chosen = state.default if follow else current
    store = state.as_store(_scopes(chosen)) | {"url": _url_defaults(state.default)}
    return {
        **shown(),
        "options": version_options(state.versions),
        "version": chosen if str(chosen) != str(version) else no_update,
        "data": store,
    }
