"""One customer on the Explain page: the riskiest list, the search, the explanation, what-if.

The callbacks of the page's "One customer" and "What if?" cards, apart from the page module so
each stays short (registered when :mod:`app.pages.explain` imports this module). The local
explanation is computed on demand by the services' ``LocalExplanations`` (cached per version
and customer); the builders live in :mod:`app.pages._explain_local`.
"""

from __future__ import annotations

from typing import Any

from dash import ALL, Input, Output, State, callback, html, no_update

from app.answer_cache import cached_answer
from app.auth import Role, requires
from app.pages import _explain_local as local
from app.pages._explain_layout import WHATIF_FIELD, Ids
from app.pages._explain_state import choose_version, parse_entity
from app.services import services
from pipeline.local_explain import ExplainError
from pipeline.warehouse import reads_explain
from pipeline.warehouse.models import latest_contract

RISKIEST = 20
SUGGESTIONS = 20


@callback(
    Output(Ids.RISKIEST, "rowData"),
    Input(Ids.STORE, "data"),
)
@requires(Role.ANALYST)
@cached_answer
def update_riskiest(data: dict | None) -> list[dict[str, Any]]:
    """The riskiest customers of the latest scored month."""
    return local.riskiest_rows(reads_explain.riskiest(services().warehouse, RISKIEST))


@callback(
    Output(Ids.SUGGESTIONS, "children"),
    Input(Ids.SEARCH, "value"),
)
@requires(Role.ANALYST)
@cached_answer
def suggest(text: str | None) -> list[html.Option]:
    """Scored customer ids starting with what was typed (the latest month)."""
    prefix = parse_entity(text)
    if prefix is None:
        return []
    found = reads_explain.find_entities(services().warehouse, prefix, SUGGESTIONS)
    return [html.Option(value=e) for e in found]


@callback(
    Output(Ids.ENTITY, "data"),
    Input(Ids.SEARCH, "n_submit"),
    Input(Ids.SEARCH_BUTTON, "n_clicks"),
    State(Ids.SEARCH, "value"),
    prevent_initial_call=True,
)
@requires(Role.ANALYST)
def search_entity(n_submit: int | None, n_clicks: int | None, text: str | None) -> Any:
    """The customer whose id was typed (Enter or the Explain button)."""
    entity = parse_entity(text)
    return no_update if entity is None else entity


@callback(
    Output(Ids.ENTITY, "data", allow_duplicate=True),
    Output(Ids.SEARCH, "value"),
    Input(Ids.RISKIEST, "cellClicked"),
    prevent_initial_call=True,
)
@requires(Role.ANALYST)
def pick_entity(cell: dict | None) -> tuple[Any, Any]:
    """The customer of a clicked row of the riskiest list (also written into the search box)."""
    entity = parse_entity((cell or {}).get("rowId"))
    return (no_update, no_update) if entity is None else (entity, entity)


@callback(
    output={
        "local": Output(Ids.LOCAL, "children"),
        "form": Output(Ids.WHATIF_FORM, "children"),
        "button": Output(Ids.WHATIF_BUTTON, "disabled"),
        "result": Output(Ids.WHATIF_RESULT, "children"),
    },
    inputs={
        "entity": Input(Ids.ENTITY, "data"),
        "version": Input(Ids.VERSION, "value"),
        "data": State(Ids.STORE, "data"),
    },
)
@requires(Role.ANALYST)
def explain_customer(entity: object, version: object, data: dict | None) -> dict[str, Any]:
    """The customer's waterfall and sentences, and the what-if form filled with their values."""
    entity_ = parse_entity(entity)
    v = choose_version(version, data)
    idle = {"form": no_update, "button": True, "result": None}
    if entity_ is None or v is None:
        hint = "Search for a customer id or click one of the riskiest customers."
        return idle | {"local": html.Div(hint, className="text-muted")}
    svc = services()
    try:
        result = svc.explanations().explain(v, entity_)
    except ExplainError as error:
        return idle | {
            "local": local.problem(
                f"Customer {entity_} cannot be explained with v{v}:",
                str(error),
                "Check the id (ids of the latest scored month are suggested as you type).",
            ),
            "form": html.Div(
                "Choose a customer above to fill in the form.", className="text-muted"
            ),
        }
    contract = latest_contract(svc.warehouse)
    served = reads_explain.served(svc.warehouse, entity_)
    return {
        "local": local.result_view(result, served),
        "form": None if contract is None else local.whatif_form(result, contract),
        "button": contract is None,
        "result": None,
    }


@callback(
    Output(Ids.WHATIF_RESULT, "children", allow_duplicate=True),
    Input(Ids.WHATIF_BUTTON, "n_clicks"),
    State({"type": WHATIF_FIELD, "feature": ALL}, "value"),
    State({"type": WHATIF_FIELD, "feature": ALL}, "id"),
    State(Ids.ENTITY, "data"),
    State(Ids.VERSION, "value"),
    State(Ids.STORE, "data"),
    prevent_initial_call=True,
)
@requires(Role.ANALYST)
def recompute(
    n_clicks: int | None,
    values: list[Any],
    ids: list[dict],
    entity: object,
    version: object,
    data: dict | None,
) -> Any:
    """Explain the customer again with the changed values, beside the original."""
    entity_ = parse_entity(entity)
    v = choose_version(version, data)
    if entity_ is None or v is None:
        return no_update
    svc = services()
    contract = latest_contract(svc.warehouse)
    try:
        before = svc.explanations().explain(v, entity_)
    except ExplainError as error:
        return local.problem(f"Customer {entity_} cannot be explained with v{v}:", str(error))
    if contract is None:
        return no_update
    edits = local.edits_from_form(before, contract, values or [], ids or [])
    if not edits:
        return local.problem(
            "Nothing changed:", "every value is still the customer's own", "Edit a value first."
        )
    try:
        after = svc.explanations().explain(v, entity_, before.period, edits)
    except ExplainError as error:
        return local.problem(
            "The what-if values were not accepted:",
            str(error),
            "Correct the values named and press Recompute again.",
        )
    return local.whatif_view(before, after, edits)
