"""Data: the analyst's page. What arrived, what was kept, how the data looks and what was rejected.

Sections: batches and their cleaning counts; missing values per column and batch; schema
changes, the data contract and PII warnings; exploration of one feature (reference window
against the latest period) with target rates and correlations; and the quarantine, browsable
and downloadable. ``/data?feature=usage_gb&batch=12&rule=invalid_number`` restores the choices.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, callback, dcc, html, no_update

from app.answer_cache import cached_answer
from app.auth import Role, requires
from app.components.empty import empty_state
from app.components.freshness import freshness_line
from app.components.polling import (
    shown,
    visibility_outputs,
    waiting,
    waiting_page,
)
from app.figures import data as figures
from app.figures.formatting import is_missing
from app.pages import _data_quarantine as quarantine
from app.pages import _data_tables as tables
from app.pages import _data_upload as upload  # also registers the upload card's callbacks
from app.pages._data_layout import Ids, body, feature_options, options
from app.pages._data_state import (
    ALL,
    Choices,
    load_data_state,
    parse_choices,
    period_text,
    query_string,
    waiting_card,
    windows_text,
)
from app.services import services
from pipeline.contract import Contract
from pipeline.warehouse import Warehouse
from pipeline.warehouse import reads_data as reads

dash.register_page(
    __name__,
    path="/data",
    name="Data",
    title="Plumbline · Data",
    order=5,
    role=Role.ANALYST,
    cached=True,  # its layout reads only the warehouse: app/answer_cache.py
)

GRAPH_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "modeBarButtonsToRemove": ["lasso2d", "select2d"],
}


def layout(**kwargs: Any) -> html.Div:
    """The page; ``kwargs`` are the URL query values (``feature``, ``batch``, ``rule``)."""
    svc = services()
    state = load_data_state(svc)
    choices = parse_choices(kwargs, state, svc.settings.dataset.value)
    info = reads.latest_contract(svc.warehouse)
    contract = info.contract if info else None
    return waiting_page(
        Ids,
        state.ready,
        title="Data: what arrived and what was kept",
        lines=[freshness_line(state.freshness, Ids.FRESHNESS)],
        stores=[dcc.Store(id=Ids.STORE, data=state.as_store())],
        notices=[upload.upload_card(svc.settings)],
        waiting_card=lambda: waiting_card(svc),
        body=body(state, choices, contract),
        class_name="data-page",
    )


# -- callbacks -------------------------------------------------------------------------------


def _contract() -> Contract | None:
    info = reads.latest_contract(services().warehouse)
    return info.contract if info else None


def _graph(figure: Any) -> dcc.Graph:
    return dcc.Graph(figure=figure, config=GRAPH_CONFIG)


@callback(
    Output(Ids.BATCH_CHART, "children"),
    Output(Ids.BATCH_TABLE, "children"),
    Output(Ids.MISSING, "children"),
    Input(Ids.STORE, "data"),
)
@requires(Role.ANALYST)
@cached_answer
def update_batches(data: dict | None) -> tuple[Any, Any, Any]:
    """The batches chart and table, and the missing-value heatmap."""
    wh = services().warehouse
    batches = reads.batches(wh)
    if batches.empty:
        return None, None, None
    missing = reads.missing_by_column(wh)
    heatmap: Any = (
        _graph(figures.missing_heatmap(missing))
        if len(missing)
        else empty_state(
            "No per-column statistics yet",
            "The pipeline records missing values per column for each batch it cleans; batches "
            "cleaned before this was switched on have none.",
            "The next batch fills this in.",
            tone="secondary",
        )
    )
    return _graph(figures.batch_rows_figure(batches)), tables.batches_table(batches), heatmap


@callback(
    Output(Ids.SCHEMA, "children"),
    Output(Ids.CONTRACT, "children"),
    Output(Ids.PII, "children"),
    Input(Ids.STORE, "data"),
)
@requires(Role.ANALYST)
@cached_answer
def update_schema(data: dict | None) -> tuple[Any, Any, Any]:
    """Schema changes, the current contract and warnings about unconfigured PII."""
    svc = services()
    wh = svc.warehouse
    suspects = reads.pii_suspects(wh)
    configured = {c.lower() for c in svc.settings.dataset.pii}
    open_suspects = suspects[~suspects["column_name"].str.lower().isin(configured)]
    return (
        tables.schema_changes_table(reads.schema_changes(wh)),
        tables.contract_table(reads.latest_contract(wh), reads.clean_columns(wh), open_suspects),
        tables.pii_alerts(open_suspects, svc.settings.dataset.pii),
    )


@dataclass(frozen=True)
class _Explore:
    """What the exploration callbacks share: the contract, windows and the checked feature."""

    wh: Warehouse
    contract: Contract
    windows: reads.Windows
    feature: str
    kind: str

    @property
    def reference(self) -> str:
        return period_text(self.windows.reference_from, self.windows.reference_to)


def _explore(feature: object) -> _Explore | dbc.Card:
    """The exploration context, or the card explaining why there is nothing to draw."""
    wh = services().warehouse
    info = reads.latest_contract(wh)
    windows = reads.comparison_windows(wh)
    if info is None or windows is None:
        return empty_state(
            "Nothing to explore yet",
            "No batch has been accepted, so there is no cleaned data.",
            "This fills in after the first accepted batch.",
            tone="secondary",
        )
    hidden = reads.masked_fields(wh, services().settings.dataset.pii)
    try:
        reads.checked_column(feature, info.contract, reads.clean_columns(wh))
        if str(feature).lower() in hidden:
            raise reads.UnknownColumnError(f"{feature!r} looks like personal data")
    except reads.UnknownColumnError:
        return empty_state(
            "Choose a feature",
            f"“{feature}” is not a feature of the data contract that can be shown here "
            "(columns that look like personal data are left out).",
            "Pick one from the list.",
            tone="warning",
        )
    name = str(feature)
    return _Explore(wh, info.contract, windows, name, reads.feature_kind(info.contract, name))


@callback(
    Output(Ids.DISTRIBUTION, "children"),
    Output(Ids.WINDOWS, "children"),
    Input(Ids.FEATURE, "value"),
    Input(Ids.STORE, "data"),
)
@requires(Role.ANALYST)
@cached_answer
def update_distribution(feature: str | None, data: dict | None) -> tuple[Any, Any]:
    """One feature's distribution: the reference window against the latest period."""
    ctx = _explore(feature)
    if not isinstance(ctx, _Explore):
        windows = reads.comparison_windows(services().warehouse)
        return ctx, windows_text(windows) if windows else None
    wh, contract, windows, name = ctx.wh, ctx.contract, ctx.windows, ctx.feature
    latest = period_text(windows.latest)
    if ctx.kind == "categorical":
        shares = reads.category_shares(wh, contract, name, windows)
        figure = figures.category_distribution_figure(shares, name, ctx.reference, latest)
        return _graph(figure), windows_text(windows)
    profile = reads.numeric_profile(wh, contract, name, windows)
    if profile["low"] is None:
        edges: list[float] = [0.0, 1.0]
        histogram = pd.DataFrame({"window": [], "bin": [], "rows": [], "share": []})
    else:
        edges = reads.histogram_edges(
            profile["core_low"], profile["core_high"], profile["integers"]
        )
        histogram = reads.numeric_histogram(wh, contract, name, windows, edges)
    figure = figures.numeric_distribution_figure(histogram, edges, name, ctx.reference, latest)
    return _graph(figure), windows_text(windows)


@callback(
    Output(Ids.FEATURE_RATE, "children"),
    Input(Ids.FEATURE, "value"),
    Input(Ids.STORE, "data"),
)
@requires(Role.ANALYST)
@cached_answer
def update_feature_rate(feature: str | None, data: dict | None) -> Any:
    """The target rate per decile (numeric) or category of the chosen feature."""
    ctx = _explore(feature)
    if not isinstance(ctx, _Explore):
        return None
    if ctx.kind == "numeric":
        cuts = reads.decile_edges(ctx.wh, ctx.contract, ctx.feature, ctx.windows)
        rates = reads.target_rate_by_bin(ctx.wh, ctx.contract, ctx.feature, ctx.windows, cuts)
        bins = figures.decile_labels(cuts)
        labels = [figures.MISSING_LABEL if is_missing(b) else bins[int(b)] for b in rates["bin"]]
    else:
        rates = reads.target_rate_by_bin(ctx.wh, ctx.contract, ctx.feature, ctx.windows)
        labels = list(rates["category"])
    figure = figures.target_rate_figure(
        rates, labels, ctx.feature, ctx.contract.target, ctx.reference
    )
    return _graph(figure)


def _relations_context() -> tuple[Warehouse, Contract, reads.Windows] | None:
    wh = services().warehouse
    info = reads.latest_contract(wh)
    windows = reads.comparison_windows(wh)
    return None if info is None or windows is None else (wh, info.contract, windows)


@callback(Output(Ids.SEGMENT_RATE, "children"), Input(Ids.STORE, "data"))
@requires(Role.ANALYST)
@cached_answer
def update_segments(data: dict | None) -> Any:
    """The target rate per value of each configured segment, over the reference window."""
    found = _relations_context()
    if found is None:
        return None
    wh, contract, windows = found
    svc = services()
    hidden = reads.masked_fields(wh, svc.settings.dataset.pii)
    segments = [s for s in svc.settings.dataset.segments if s.lower() not in hidden]
    rates = reads.target_rate_by_segment(wh, contract, segments, windows)
    reference = period_text(windows.reference_from, windows.reference_to)
    return _graph(figures.segment_rate_figure(rates, contract.target, reference))


@callback(Output(Ids.CORRELATION, "children"), Input(Ids.STORE, "data"))
@requires(Role.ANALYST)
@cached_answer
def update_correlation(data: dict | None) -> Any:
    """The correlation heatmap of the numeric features, over the reference window."""
    found = _relations_context()
    if found is None:
        return None
    wh, contract, windows = found
    corr = reads.numeric_correlations(wh, contract, windows)
    reference = period_text(windows.reference_from, windows.reference_to)
    return _graph(figures.correlation_figure(corr, reference))


def _filters(batch: str | None, rule: str | None) -> tuple[int | None, str | None]:
    try:
        batch_id = None if not batch or batch == ALL else int(batch)
    except ValueError:
        batch_id = -1  # matches nothing: a forged value shows an empty grid, not an error
    return batch_id, None if not rule or rule == ALL else rule


def _quarantine_rows(batch: str | None, rule: str | None, search: str | None, limit: int):
    svc = services()
    wh = svc.warehouse
    info = reads.latest_contract(wh)
    batch_id, rule_name = _filters(batch, rule)
    pii = svc.settings.dataset.pii
    frame, total = reads.quarantine_rows(
        wh,
        info.contract if info else None,
        batch_id=batch_id,
        rule=rule_name,
        search=(search or "").strip()[:200] or None,
        limit=limit,
        configured_pii=pii,
    )
    masked = reads.masked_fields(wh, pii) & {
        f.lower() for f in reads.record_fields(info.contract if info else None)
    }
    return frame, total, bool(masked)


@callback(
    Output(Ids.Q_GRID, "columnDefs"),
    Output(Ids.Q_GRID, "rowData"),
    Output(Ids.Q_NOTE, "children"),
    Input(Ids.Q_BATCH, "value"),
    Input(Ids.Q_RULE, "value"),
    Input(Ids.Q_SEARCH, "value"),
    Input(Ids.STORE, "data"),
)
@requires(Role.ANALYST)
@cached_answer
def update_quarantine(
    batch: str | None, rule: str | None, search: str | None, data: dict | None
) -> tuple[list, list, str]:
    """A capped page of quarantined rows for the grid, and what it holds in words."""
    frame, total, masked = _quarantine_rows(batch, rule, search, quarantine.PAGE_LIMIT)
    columns, rows = quarantine.grid_data(frame)
    return columns, rows, quarantine.page_note(len(rows), total, masked)


@callback(
    Output(Ids.Q_DOWNLOAD, "data"),
    Input(Ids.Q_DOWNLOAD_BUTTON, "n_clicks"),
    State(Ids.Q_BATCH, "value"),
    State(Ids.Q_RULE, "value"),
    State(Ids.Q_SEARCH, "value"),
    prevent_initial_call=True,
)
@requires(Role.ANALYST)
def download_quarantine(
    n_clicks: int | None, batch: str | None, rule: str | None, search: str | None
) -> dict[str, Any]:
    """The quarantined rows matching the filters as a CSV file (formula-safe, PII masked)."""
    frame, _total, _masked = _quarantine_rows(batch, rule, search, quarantine.DOWNLOAD_LIMIT)
    batch_id, rule_name = _filters(batch, rule)
    parts = ["quarantine"]
    if batch_id is not None:
        parts.append(f"batch{batch_id}")
    if rule_name:
        parts.append("".join(ch for ch in rule_name if ch.isalnum() or ch == "_")[:40])
    return dcc.send_string(quarantine.csv_text(frame), "_".join(parts) + ".csv", type="text/csv")


@callback(
    Output(Ids.URL, "search"),
    Input(Ids.FEATURE, "value"),
    Input(Ids.Q_BATCH, "value"),
    Input(Ids.Q_RULE, "value"),
    State(Ids.STORE, "data"),
    prevent_initial_call=True,
)
@requires(Role.ANALYST)
@cached_answer
def write_url(feature: str | None, batch: str | None, rule: str | None, data: dict | None) -> str:
    """The choices as a query string, pushed to the address bar without reloading."""
    features = (data or {}).get("features") or []
    preferred = services().settings.dataset.value
    return query_string(Choices(feature, batch or ALL, rule or ALL), features, preferred)


_POLL_OUTPUTS = {
    **visibility_outputs(Ids.EMPTY, Ids.BODY, Ids.POLL),
    "freshness": Output(Ids.FRESHNESS, "children"),
    "feature_options": Output(Ids.FEATURE, "options"),
    "feature": Output(Ids.FEATURE, "value"),
    "batch_options": Output(Ids.Q_BATCH, "options"),
    "rule_options": Output(Ids.Q_RULE, "options"),
    "store": Output(Ids.STORE, "data"),
}


@callback(
    output=_POLL_OUTPUTS,
    inputs={
        "tick": Input(Ids.POLL, "n_intervals"),
        "known": State(Ids.STORE, "data"),
        "feature": State(Ids.FEATURE, "value"),
    },
    prevent_initial_call=True,
)
@requires(Role.ANALYST)
@cached_answer
def poll_data(tick: int | None, known: dict | None, feature: str | None) -> dict[str, Any]:
    """Notice new batches, a new contract or model, new schema changes and PII suspects."""
    svc = services()
    state = load_data_state(svc)
    unchanged = dict.fromkeys(_POLL_OUTPUTS, no_update)
    if not state.ready:
        return unchanged | waiting(waiting_card(svc)) | {"freshness": state.freshness}
    if (known or {}).get("signature") == state.signature:
        return unchanged
    choice = parse_choices({"feature": feature}, state, svc.settings.dataset.value)
    return {
        **shown(),
        "freshness": state.freshness,
        "feature_options": feature_options(state.features, _contract()),
        "feature": choice.feature if choice.feature != feature else no_update,
        "batch_options": options(state.quarantine_batches, "All batches"),
        "rule_options": options(state.rules, "All rules"),
        "store": state.as_store(),
    }
