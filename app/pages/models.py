"""Model review: the analyst's page. Which model serves, how versions compare, and promotion.

Sections: the version list with aliases, metrics and the gate's decision; the metric trend and
the alias history; a side-by-side comparison of two versions A and B (metric table with deltas,
ROC, PR, calibration and gain curves, confusion matrices, per-segment metrics, the gate's
decision about B); a threshold slider with precision, recall, contacts and profit; lineage; model
cards; and promote / roll back, which start a promotion run and show its outcome when it ends.
``/models?a=6&b=7`` restores a comparison.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, State, callback, dcc, html, no_update

from app.answer_cache import cached_answer
from app.auth import Role, requires
from app.components.polling import (
    shown,
    visibility_outputs,
    waiting,
    waiting_page,
)
from app.figures import models as figures
from app.figures import spec
from app.figures.formatting import is_missing
from app.pages import _models_compare as compare
from app.pages import _models_fairness as fairness
from app.pages import _models_lineage as lineage
from app.pages import _models_promotion  # noqa: F401  (registers promote/rollback callbacks)
from app.pages._models_layout import (
    Ids,
    card,
    compare_section,
    history_rows,
    loading,
    modals,
    registry_section,
    threshold_section,
    version_rows,
)
from app.pages._models_state import (
    alert_banner,
    follow,
    load_state,
    parse_pair,
    parse_version,
    query_string,
    summary_text,
    version_options,
    waiting_card,
)
from app.services import services
from pipeline.warehouse import reads_models as reads

dash.register_page(
    __name__,
    path="/models",
    name="Model review",
    title="Plumbline · Model review",
    order=7,
    role=Role.ANALYST,
    cached=True,  # its layout reads only the warehouse: app/answer_cache.py
)

RUN_POLL_MS = 1_500  # following a promotion run the user started
GRID_STEP = 0.005  # the stored threshold grid; the slider moves on it
# The curves' long y-axis titles need about 320 px of plot height besides the legend below;
# in a half-width column less makes them run into the chart title.
CURVE_HEIGHT = 520
GRAPH_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "modeBarButtonsToRemove": ["lasso2d", "select2d"],
}


def _graph(figure: Any, min_height: int = 0) -> dcc.Graph:
    # A fixed height from the figure keeps the two-column grid aligned while charts load.
    height = max(spec.height(figure) or 440, min_height)
    figure["layout"]["height"] = height
    return dcc.Graph(figure=figure, config=GRAPH_CONFIG, style={"height": f"{height}px"})


def _on_grid(value: object) -> float:
    return round(round(float(value) / GRID_STEP) * GRID_STEP, 3)  # type: ignore[arg-type]


def layout(a: object = None, b: object = None, **kwargs: Any) -> html.Div:
    """The page; ``a`` and ``b`` (from ``?a=6&b=7``) choose the compared versions."""
    svc = services()
    state = load_state(svc)
    a_, b_ = parse_pair({"a": a, "b": b}, state)
    options = version_options(state.versions)
    row = state.versions[state.versions["version"] == b_]
    threshold = svc.settings.dataset.decision_threshold
    if len(row) and not is_missing(row["threshold"].iloc[0]):
        threshold = float(row["threshold"].iloc[0])
    return waiting_page(
        Ids,
        state.ready,
        title="Model review",
        lines=[
            html.Div(summary_text(state), id=Ids.SUMMARY, className="freshness small text-muted")
        ],
        stores=[
            dcc.Interval(id=Ids.RUN_POLL, interval=RUN_POLL_MS, disabled=True),
            dcc.Store(id=Ids.STORE, data=state.as_store()),
            dcc.Store(id=Ids.REFRESH),
            dcc.Store(id=Ids.ACTION),
            dcc.Store(id=Ids.RUN),
        ],
        notices=[html.Div(alert_banner(state), id=Ids.ALERTS)],
        waiting_card=lambda: waiting_card(svc),
        body=[
            *registry_section(options, b_),
            *compare_section(options, a_, b_),
            fairness.fairness_card(),
            threshold_section(_on_grid(threshold)),
            card(
                "Lineage of A and B",
                "Where each version came from: code, data batches, settings, time "
                "spent and library versions. Highlighted rows differ.",
                loading(Ids.LINEAGE, 300),
                class_name="mb-4",
            ),
        ],
        after=modals(),
        class_name="models-page",
    )


# -- registry --------------------------------------------------------------------------------


@callback(
    Output(Ids.VERSIONS, "rowData"),
    Output(Ids.TREND, "children"),
    Output(Ids.HISTORY, "rowData"),
    Output(Ids.ALERTS, "children"),
    Input(Ids.STORE, "data"),
)
@requires(Role.ANALYST)
@cached_answer
def update_registry(data: dict | None) -> tuple[list, Any, list, list]:
    """The version list, the metric trend, the alias history and the refused-artefact banner."""
    state = load_state(services())
    trend = _graph(figures.metric_trend(state.versions)) if state.ready else None
    return (
        version_rows(state.versions),
        trend,
        history_rows(state.history),
        alert_banner(state),
    )


@callback(
    Output(Ids.B, "value", allow_duplicate=True),
    Input(Ids.VERSIONS, "cellClicked"),
    State(Ids.STORE, "data"),
    prevent_initial_call=True,
)
@requires(Role.ANALYST)
@cached_answer
def compare_clicked(cell: dict | None, data: dict | None) -> Any:
    """A click on a version's row makes it B."""
    version = parse_version((cell or {}).get("rowId"), (data or {}).get("versions") or [])
    return no_update if version is None else version


# -- comparison ------------------------------------------------------------------------------


class _Pair:
    """Versions A and B with their registry records, chart labels and the comparison."""

    def __init__(self, a: int, b: int):
        wh = services().warehouse
        self.a, self.b = a, b
        self.ra = reads.model_detail(wh, a) or {}
        self.rb = reads.model_detail(wh, b) or {}
        self.label_a = f"A: v{a} ({self.ra.get('alias', 'unknown')})"
        self.label_b = f"B: v{b} ({self.rb.get('alias', 'unknown')})"
        self.cmp = reads.comparison(wh, a, b)

    @property
    def comparable(self) -> bool:
        return bool(self.cmp.get("same_window")) or self.a == self.b


def _pair(a: object, b: object, data: dict | None) -> _Pair | None:
    known = (data or {}).get("versions") or []
    a_, b_ = parse_version(a, known), parse_version(b, known)
    return None if a_ is None or b_ is None else _Pair(a_, b_)


CHOOSE = html.Div("Choose versions A and B above.", className="text-muted")


@callback(
    output={
        "window": Output(Ids.WINDOW, "children"),
        "metrics": Output(Ids.METRICS, "children"),
        "gate": Output(Ids.GATE, "children"),
        "segments": Output(Ids.SEGMENTS, "children"),
        "threshold": Output(Ids.THRESHOLD, "value"),
    },
    inputs={
        "a": Input(Ids.A, "value"),
        "b": Input(Ids.B, "value"),
        "data": Input(Ids.STORE, "data"),
    },
)
@requires(Role.ANALYST)
@cached_answer
def update_comparison(a: object, b: object, data: dict | None) -> dict[str, Any]:
    """Window note, metric table with deltas, the gate's decision about B, segments; the
    threshold slider moves to B's own threshold."""
    p = _pair(a, b, data)
    if p is None:
        return {
            "window": None,
            "metrics": CHOOSE,
            "gate": None,
            "segments": None,
            "threshold": no_update,
        }
    rows = compare.metric_rows(
        compare.evaluation_metrics(p.cmp["a"], p.ra),
        compare.evaluation_metrics(p.cmp["b"], p.rb),
        p.comparable,
    )
    seg_a, seg_b = compare.segment_frames(services().warehouse, p.cmp, p.a, p.b)
    threshold = (p.cmp["b"] or {}).get("threshold")
    if is_missing(threshold):
        threshold = p.rb.get("threshold")
    return {
        "window": compare.window_note(p.cmp, p.a, p.b),
        "metrics": compare.metric_table(rows, p.label_a, p.label_b, p.comparable),
        "gate": compare.gate_block(p.b, p.rb.get("gate")),
        "segments": compare.segment_table(seg_a, seg_b, p.label_a, p.label_b, p.comparable),
        "threshold": no_update if is_missing(threshold) else _on_grid(threshold),
    }


@callback(
    Output(Ids.ROC, "children"),
    Output(Ids.PR, "children"),
    Output(Ids.CALIBRATION, "children"),
    Output(Ids.GAIN, "children"),
    Output(Ids.CONFUSION, "children"),
    Input(Ids.A, "value"),
    Input(Ids.B, "value"),
    Input(Ids.STORE, "data"),
)
@requires(Role.ANALYST)
@cached_answer
def update_curves(a: object, b: object, data: dict | None) -> tuple[Any, ...]:
    """ROC, precision-recall, calibration and gain curves of A and B overlaid, and their
    confusion matrices at each version's decision threshold."""
    p = _pair(a, b, data)
    if p is None:
        return (None,) * 5
    curves, base_rates, thresholds = compare.curve_inputs(p.cmp, p.a, p.b, p.label_a, p.label_b)
    return (
        _graph(figures.roc_overlay(curves), CURVE_HEIGHT),
        _graph(figures.pr_overlay(curves, base_rates), CURVE_HEIGHT),
        _graph(figures.calibration_overlay(curves), CURVE_HEIGHT),
        _graph(figures.gain_overlay(curves), CURVE_HEIGHT),
        _graph(figures.confusion_matrices(curves, thresholds)),
    )


@callback(
    Output(Ids.THRESHOLD_NUMBERS, "children"),
    Output(Ids.PROFIT, "children"),
    Input(Ids.THRESHOLD, "value"),
    Input(Ids.A, "value"),
    Input(Ids.B, "value"),
    Input(Ids.STORE, "data"),
)
@requires(Role.ANALYST)
@cached_answer
def update_threshold(
    threshold: float | None, a: object, b: object, data: dict | None
) -> tuple[Any, Any]:
    """Precision, recall, contacts, churners caught and expected profit of A and B at the
    slider's threshold, and B's expected profit over every threshold."""
    p = _pair(a, b, data)
    if p is None or threshold is None:
        return None, None
    training = services().settings.training
    value, cost = training.value_per_churner, training.contact_cost
    sides = [(p.label_a, "a")] + ([(p.label_b, "b")] if p.b != p.a else [])
    numbers = compare.threshold_numbers(p.cmp, sides, float(threshold), value, cost)
    colour_of = dict(
        zip([p.label_a, p.label_b], compare.colours(p.label_a, p.label_b), strict=True)
    )
    grid = ((p.cmp["b"] or {}).get("curves") or {}).get("grid") or {}
    marks = {
        f"v{p.b} business": p.rb.get("threshold"),
        f"v{p.b} F1": p.rb.get("f1_threshold"),
        "slider": float(threshold),
    }
    figure = figures.profit_curve(grid, value, cost, marks)
    shown = numbers[p.label_a].get("threshold")
    note = (
        html.Div(
            f"Nearest stored threshold: {shown:.3f}. Profit = ${value:,.0f} per churner caught − "
            f"${cost:,.0f} per customer contacted (settings training.value_per_churner and "
            "training.contact_cost).",
            className="small text-muted mt-2",
        )
        if shown is not None
        else None
    )
    return html.Div([compare.threshold_table(numbers, colour_of), note]), _graph(figure)


@callback(
    Output(Ids.LINEAGE, "children"),
    Input(Ids.A, "value"),
    Input(Ids.B, "value"),
    Input(Ids.STORE, "data"),
)
@requires(Role.ANALYST)
@cached_answer
def update_lineage(a: object, b: object, data: dict | None) -> Any:
    """Code, data batches, settings diff, durations and library versions of A and B."""
    known = (data or {}).get("versions") or []
    a_, b_ = parse_version(a, known), parse_version(b, known)
    if a_ is None or b_ is None:
        return CHOOSE
    wh = services().warehouse
    versions = reads.versions(wh)
    alias = dict(zip(versions["version"], versions["alias"], strict=True))
    label_a = f"A: v{a_} ({alias.get(a_, 'unknown')})"
    label_b = f"B: v{b_} ({alias.get(b_, 'unknown')})"
    return lineage.lineage_section(wh, a_, b_, label_a, label_b)


@callback(
    Output(Ids.URL, "search"),
    Input(Ids.A, "value"),
    Input(Ids.B, "value"),
    State(Ids.STORE, "data"),
    prevent_initial_call=True,
)
@requires(Role.ANALYST)
@cached_answer
def write_url(a: object, b: object, data: dict | None) -> str:
    """The compared pair as ``?a=6&b=7`` in the address bar (empty for the defaults)."""
    return query_string(a, b, data)


# -- model cards -----------------------------------------------------------------------------


@callback(
    Output(Ids.CARD_MODAL, "is_open"),
    Output(Ids.CARD_TITLE, "children"),
    Output(Ids.CARD_BODY, "children"),
    Input(Ids.CARD_OPEN, "n_clicks"),
    State(Ids.CARD_VERSION, "value"),
    State(Ids.STORE, "data"),
    prevent_initial_call=True,
)
@requires(Role.ANALYST)
@cached_answer
def show_card(n_clicks: int | None, version: object, data: dict | None) -> tuple[bool, str, Any]:
    """The chosen version's model card, rendered from markdown in a dialog."""
    v = parse_version(version, (data or {}).get("versions") or [])
    svc = services()
    text = (
        None if v is None else lineage.card_markdown(svc.warehouse, v, svc.settings.dataset.target)
    )
    if v is None or text is None:
        return True, "No such version", "Choose a version from the list."
    return True, f"Model card: churn model v{v}", lineage.card_for_reading(text)


@callback(
    Output(Ids.CARD_DOWNLOAD, "data"),
    Input(Ids.CARD_DOWNLOAD_BUTTON, "n_clicks"),
    Input(Ids.CARD_MODAL_DOWNLOAD, "n_clicks"),
    State(Ids.CARD_VERSION, "value"),
    State(Ids.STORE, "data"),
    prevent_initial_call=True,
)
@requires(Role.ANALYST)
def download_card(
    n_clicks: int | None, modal_clicks: int | None, version: object, data: dict | None
) -> Any:
    """The chosen version's model card as ``model-card-v7.md`` (from the page or the dialog)."""
    v = parse_version(version, (data or {}).get("versions") or [])
    if v is None:
        return no_update
    svc = services()
    text = lineage.card_markdown(svc.warehouse, v, svc.settings.dataset.target)
    if text is None:
        return no_update
    return dcc.send_string(text, lineage.card_file_name(v), type="text/markdown")


# -- polling ---------------------------------------------------------------------------------

_POLL_OUTPUTS = {
    **visibility_outputs(Ids.EMPTY, Ids.BODY, Ids.POLL),
    "summary": Output(Ids.SUMMARY, "children"),
    "a_options": Output(Ids.A, "options"),
    "a": Output(Ids.A, "value"),
    "b_options": Output(Ids.B, "options"),
    "b": Output(Ids.B, "value"),
    "card_options": Output(Ids.CARD_VERSION, "options"),
    "card": Output(Ids.CARD_VERSION, "value"),
    "data": Output(Ids.STORE, "data"),
}


def _or_unchanged(value: Any) -> Any:
    return no_update if value is None else value


@callback(
    output=_POLL_OUTPUTS,
    inputs={
        "tick": Input(Ids.POLL, "n_intervals"),
        "refresh": Input(Ids.REFRESH, "data"),
        "known": State(Ids.STORE, "data"),
        "a": State(Ids.A, "value"),
        "b": State(Ids.B, "value"),
        "card": State(Ids.CARD_VERSION, "value"),
    },
    prevent_initial_call=True,
)
@requires(Role.ANALYST)
@cached_answer
def poll_data(
    tick: int | None, refresh: object, known: dict | None, a: object, b: object, card: object
) -> dict[str, Any]:
    """Notice a new version, an alias change (a promotion) or a refused artefact."""
    svc = services()
    state = load_state(svc)
    unchanged = dict.fromkeys(_POLL_OUTPUTS, no_update)
    if not state.ready:
        return unchanged | waiting(waiting_card(svc)) | {"summary": summary_text(state)}
    known = known or {}
    if known.get("signature") == state.signature:
        return unchanged
    new_a, new_b = state.defaults()
    old_a, old_b = known.get("a"), known.get("b")
    options = version_options(state.versions)
    return {
        **shown(),
        "summary": summary_text(state),
        "a_options": options,
        "a": _or_unchanged(follow(a, old_a, new_a, state.numbers)),
        "b_options": options,
        "b": _or_unchanged(follow(b, old_b, new_b, state.numbers)),
        "card_options": options,
        "card": _or_unchanged(follow(card, old_b, new_b, state.numbers)),
        "data": state.as_store(),
    }
