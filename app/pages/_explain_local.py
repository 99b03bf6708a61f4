"""One customer on the Explain page: the riskiest list, the waterfall with its sentences, and
the what-if form.

Pure builders over a :class:`pipeline.local_explain.LocalResult` and the data contract: the
chart and the sentences are drawn from the same result, so they always tell the same story.
Only the model's features are ever shown (the result holds nothing else); entity ids are fine.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import dash_bootstrap_components as dbc
import pandas as pd
from dash import dcc, html

from app.figures import explain as figures
from app.figures.formatting import format_month, is_missing
from app.pages._explain_layout import WHATIF_FIELD, graph
from pipeline.contract import Contract
from pipeline.explain.language import format_value
from pipeline.local_explain import LocalResult

MISSING_CHOICE = ""  # the what-if select's value for "no value"
SAME = 1e-9  # number inputs equal to the original within this are "unchanged"


def riskiest_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of the riskiest-customers grid: id, probability, month and the scoring version."""
    return [
        {
            "entity_id": str(r.entity_id),
            "probability": None if is_missing(r.probability) else float(r.probability),
            "month": format_month(r.period),
            "scored_by": f"v{int(r.model_version)}",
        }
        for r in frame.itertuples(index=False)
    ]


def problem(title: str, message: str, hint: str | None = None) -> dbc.Alert:
    """An explanation that could not be given: what was asked, why not, and what to do."""
    body: list[Any] = [html.Strong(title + " "), html.Span(message.rstrip(".") + ".")]
    if hint:
        body.append(html.Div(hint, className="small mt-1"))
    return dbc.Alert(body, color="warning", class_name="mb-0 explain-problem")


def shown_values(result: LocalResult) -> list[str]:
    """The feature values as the sentences write them, so bar labels and sentences agree."""
    return [format_value(result.inputs.get(f)) for f in result.features]


def _sentences(result: LocalResult) -> html.Div:
    return html.Div(
        [
            html.Div("In words", className="small fw-semibold text-muted mb-1"),
            html.Ul(
                [html.Li(s) for s in result.sentences], className="ps-3 mb-0 explain-sentences"
            ),
        ]
    )


def _headline(result: LocalResult) -> html.Div:
    change = 100 * (result.proba - result.base_proba)
    return html.Div(
        [
            html.Span(f"{100 * result.proba:.1f}%", className="fs-3 fw-bold text-primary me-2"),
            html.Span(
                f"churn probability: {abs(change):.1f} points "
                f"{'above' if change >= 0 else 'below'} the base rate of "
                f"{100 * result.base_proba:.1f}%",
                className="text-muted",
            ),
        ],
        className="explain-probability mb-1",
    )


def result_view(
    result: LocalResult, served: Mapping[str, Any] | None, x_range: Sequence[float] | None = None
) -> html.Div:
    """The customer's probability, the waterfall and the sentences, side by side."""
    note = (
        f"Customer {result.entity_id} as of {format_month(result.period)}, explained with "
        f"model v{result.version}."
    )
    if served and not is_missing(served.get("probability")):
        note += (
            f" Served prediction: {100 * float(served['probability']):.1f}% by "
            f"v{int(served['model_version'])}."
        )
    figure = figures.waterfall_figure(
        result.features,
        shown_values(result),
        result.points,
        result.base_proba,
        result.proba,
        f"Why {result.entity_id}'s churn probability is {100 * result.proba:.1f}%",
        x_range,
    )
    return html.Div(
        [
            _headline(result),
            html.Div(note, className="small text-muted mb-2"),
            dbc.Row(
                [
                    dbc.Col(graph(figure), xl=7),
                    dbc.Col(_sentences(result), xl=5, class_name="pt-xl-5"),
                ],
                class_name="g-3",
            ),
        ],
        className="explain-local-result",
    )


# -- what-if ----------------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    if is_missing(value):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _range_text(contract: Contract, feature: str) -> str:
    low, high = contract.ranges.get(feature, [None, None])
    if low is None or high is None:
        return "any number"
    return f"{format_value(float(low))} to {format_value(float(high))}"


def _field(feature: str, value: Any, contract: Contract) -> dbc.Col:
    field_id = {"type": WHATIF_FIELD, "feature": feature}
    if feature in contract.categorical:
        current = None if is_missing(value) else str(value)
        allowed = list(contract.categories.get(feature, []))
        if current is not None and current not in allowed:
            allowed.append(current)  # the customer's own value stays choosable
        options = [{"label": "(missing)", "value": MISSING_CHOICE}]
        options += [{"label": c, "value": c} for c in allowed]
        control = dbc.Select(
            id=field_id,
            options=options,
            value=MISSING_CHOICE if current is None else current,
            size="sm",
        )
        hint = f"{len(allowed)} allowed values"
    else:
        # step="any": the browser would otherwise refuse decimals as invalid and send nothing.
        # No min/max either, for the same reason: the contract's range is checked server-side
        # and a value outside it is explained in words.
        control = dcc.Input(
            id=field_id,
            type="number",
            value=_number(value),
            step="any",
            className="form-control form-control-sm",
        )
        hint = f"range {_range_text(contract, feature)}"
    return dbc.Col(
        [
            dbc.Label(feature, class_name="small fw-semibold mb-0"),
            control,
            html.Div(hint, className="small text-muted"),
        ],
        xs=12,
        sm=6,
        lg=3,
        class_name="mb-2",
    )


def whatif_form(result: LocalResult, contract: Contract) -> html.Div:
    """One input per model feature, pre-filled with the customer's values."""
    return html.Div(
        [
            html.Div(
                f"Customer {result.entity_id} ({format_month(result.period)}), model "
                f"v{result.version}: change any values, then Recompute.",
                className="small text-muted mb-2",
            ),
            dbc.Row([_field(f, result.inputs.get(f), contract) for f in result.features]),
        ]
    )


def edits_from_form(
    result: LocalResult, contract: Contract, values: Sequence[Any], ids: Sequence[Mapping]
) -> dict[str, Any]:
    """The form values that differ from the customer's own, as the what-if ``edits``.

    An emptied field means "missing" (``""``); unchanged fields are left out, so the result is
    cached and compared against the original exactly.
    """
    edits: dict[str, Any] = {}
    for value, field_id in zip(values, ids, strict=True):
        feature = field_id.get("feature")
        if feature not in result.inputs:
            continue
        original = result.inputs[feature]
        if feature in contract.categorical:
            before = MISSING_CHOICE if is_missing(original) else str(original)
            after = MISSING_CHOICE if value is None else str(value)
            if after != before:
                edits[feature] = after
            continue
        before_number, after_number = _number(original), _number(value)
        if after_number is None and value not in (None, ""):
            edits[feature] = str(value)  # text the browser let through: the contract says why
        elif before_number is None and after_number is None:
            continue
        elif before_number is None or after_number is None:
            edits[feature] = "" if after_number is None else after_number
        elif abs(after_number - before_number) > SAME:
            edits[feature] = after_number
    return edits


def _edit_text(feature: str, value: Any) -> str:
    return f"{feature} = {'(missing)' if value in ('', None) else format_value(value)}"


def whatif_view(before: LocalResult, after: LocalResult, edits: Mapping[str, Any]) -> html.Div:
    """The new probability and both explanations side by side, on one x range."""
    change = 100 * (after.proba - before.proba)
    x_range = figures.common_range(
        figures.running_totals(before.points, before.base_proba),
        figures.running_totals(after.points, after.base_proba),
    )
    sides = []
    for result, label in ((before, "As it is"), (after, "With the changes")):
        figure = figures.waterfall_figure(
            result.features,
            shown_values(result),
            result.points,
            result.base_proba,
            result.proba,
            f"{label}: {100 * result.proba:.1f}%",
            x_range,
        )
        sides.append(dbc.Col([graph(figure), _sentences(result)], lg=6))
    tone = "text-danger" if change > 0.05 else "text-success" if change < -0.05 else "text-muted"
    return html.Div(
        [
            html.Div(
                [
                    html.Span("What-if: ", className="fw-semibold"),
                    html.Span(
                        f"{100 * before.proba:.1f}% → {100 * after.proba:.1f}% ",
                        className="fs-5 fw-bold explain-whatif-probability",
                    ),
                    html.Span(
                        f"({figures.format_points(change)})", className=f"fw-semibold {tone}"
                    ),
                ]
            ),
            html.Div(
                "Changed: " + "; ".join(_edit_text(f, v) for f, v in edits.items()) + ".",
                className="small text-muted mb-2",
            ),
            dbc.Row(sides, class_name="g-3"),
        ],
        className="mt-3",
    )
