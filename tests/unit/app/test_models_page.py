"""The Model review page: version list, comparison, threshold, lineage, cards and promotion.

A small registry of three versions is written straight into a temporary warehouse: v1 (the
first champion, archived), v2 (champion, measured against v1 on its window) and v3 (challenger,
kept by the gate, measured against v2). Metrics and curves come from the real evaluation
functions on synthetic scores, so the numbers the page shows can be checked independently.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
import pytest
from dash import dcc, no_update

from app.components.polling import POLL_READY_MS, POLL_WAITING_MS
from app.figures.formatting import format_money
from pipeline.modeling.evaluation import curves, evaluate, segment_metrics
from pipeline.runner import RunRequest
from pipeline.warehouse import Warehouse, utcnow
from pipeline.warehouse.alerts import raise_alert

T0 = datetime(2024, 4, 2, 9, 0)
VALUE, COST = 300.0, 20.0  # the default training.value_per_churner / contact_cost
ROWS = 400
SEGMENTS = {"region": ["North", "South", "East", "West"], "plan": ["Basic", "Premium"]}
# version -> (signal strength of its scores, decision threshold, holdout month)
VERSIONS = {
    1: (1.0, 0.30, date(2024, 2, 1)),
    2: (1.6, 0.25, date(2024, 3, 1)),
    3: (1.9, 0.20, date(2024, 4, 1)),
}


def _window(month: date, seed: int) -> tuple[np.ndarray, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    y = (rng.uniform(size=ROWS) < 0.2).astype(int)
    segs = pd.DataFrame(
        {col: [values[i % len(values)] for i in range(ROWS)] for col, values in SEGMENTS.items()}
    )
    return y, segs


def _scores(y: np.ndarray, strength: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    logit = -1.6 + strength * (y - 0.2) * 2 + rng.normal(0, 1.0, size=len(y))
    return 1 / (1 + np.exp(-logit))


def _evaluation(version: int, evaluated: int) -> dict[str, Any]:
    """``evaluated``'s metrics, curves and segments on ``version``'s holdout window."""
    month = VERSIONS[version][2]
    y, segs = _window(month, seed=version)
    strength, threshold, _ = VERSIONS[evaluated]
    proba = _scores(y, strength, seed=100 * version + evaluated)
    return {
        "month": month,
        "threshold": threshold,
        "metrics": evaluate(y, proba, threshold, VALUE, COST),
        "curves": curves(y, proba),
        "segments": segment_metrics(segs, y, proba, threshold),
        "y": y,
        "proba": proba,
    }


LIBS = {
    1: {"python": "3.11.7", "scikit-learn": "1.5.0", "pandas": "3.1.1"},
    2: {"python": "3.11.7", "scikit-learn": "1.5.0", "pandas": "3.1.1"},
    3: {"python": "3.11.7", "scikit-learn": "1.6.1", "pandas": "3.1.1"},
}
GATES = {
    1: (True, "v1 is the first usable model (ROC AUC 0.700 on 2024-02); made champion."),
    2: (True, "v2 beat v1 on 2024-03 (ROC AUC 0.800 vs 0.700, +0.100); promoted; v1 archived."),
    3: (False, "v3 did not beat v2 on 2024-04 by the margin; v3 stays challenger; v2 kept."),
}


def _lineage(version: int) -> dict[str, Any]:
    trials = 4 if version < 3 else 8
    return {
        "run_id": version,
        "data": {
            "window_from": "2023-06-01",
            "window_to": str(VERSIONS[version][2]),
            "batches": [
                {"batch_id": b, "kind": "data", "file": f"customers_{b}.csv", "sha256": f"{b:064x}"}
                for b in range(1, version + 2)
            ],
        },
        "settings": {"training": {"search_trials": trials, "seed": 42}, "holdout_periods": 1},
        "settings_hash": f"hash-{trials}",
        "code_version": "git 0123456789ab",
        "libraries": LIBS[version],
        "seed": 42,
        "durations": {"search": 10.0 * version, "fit": 2.0, "calibrate": 0.5, "threshold": 0.1},
        "artefact": {"sha256": "ab" * 32, "size_bytes": 1234},
    }


def _insert_evaluation(cur, version: int, evaluated: int) -> dict[str, Any]:
    ev = _evaluation(version, evaluated)
    cur.execute(
        "INSERT INTO model_evaluations VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            version,
            evaluated,
            ev["month"],
            ev["month"],
            ev["threshold"],
            json.dumps(ev["metrics"]),
            json.dumps(ev["curves"]),
        ],
    )
    for s in ev["segments"]:
        cur.execute(
            "INSERT INTO model_segment_metrics VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [version, evaluated, s["column"], str(s["value"]), s["rows"], s["positives"]]
            + [s[k] for k in ("roc_auc", "pr_auc", "brier", "precision", "recall", "flag_rate")],
        )
    return ev


def write_models_world(wh: Warehouse, versions: int = 3) -> dict[tuple[int, int], dict]:
    """Versions 1..``versions`` with evaluations, segments, lineage, aliases and history."""
    evaluations = {}
    with wh.transaction() as cur:
        for b in range(1, versions + 2):
            cur.execute(
                "INSERT INTO raw_batches VALUES (?, 1, 'csv', ?, 'raw/x', 10, ?, 2000, ?, "
                "'accepted', NULL)",
                [b, f"customers_{b}.csv", f"h{b}", T0 + timedelta(days=b)],
            )
        for v in range(1, versions + 1):
            ev = _insert_evaluation(cur, v, v)
            evaluations[(v, v)] = ev
            if v > 1:
                evaluations[(v, v - 1)] = _insert_evaluation(cur, v, v - 1)
            m = ev["metrics"]
            promote, summary = GATES[v]
            gate = {
                "promote": promote,
                "alias": "champion" if promote else "challenger",
                "summary": summary,
                "checks": [
                    {"check": "no_nan", "passed": True, "sentence": "no missing predictions"},
                    {"check": "margin", "passed": promote, "sentence": f"margin check of v{v}"},
                ],
            }
            cur.execute(
                "INSERT INTO models (version, run_id, created_at, algorithm, artefact_path, "
                "sha256, size_bytes, train_rows, holdout_rows, train_from, train_to, "
                "holdout_from, holdout_to, roc_auc, pr_auc, brier, log_loss, features, params, "
                "fit_seconds, calibration, threshold, f1_threshold, seed, metrics, search, "
                f"lineage, gate) VALUES ({', '.join(['?'] * 28)})",
                [
                    v,
                    v,
                    T0 + timedelta(days=30 * v),
                    "hist_gradient_boosting",
                    f"models/v{v}.skops",
                    "ab" * 32,
                    1234,
                    8000,
                    ROWS,
                    date(2023, 6, 1),
                    date(2024, v, 1),
                    ev["month"],
                    ev["month"],
                    m["roc_auc"],
                    m["pr_auc"],
                    m["brier"],
                    m["log_loss"],
                    json.dumps({"categorical": ["region", "plan"], "numeric": ["tenure"]}),
                    json.dumps({"learning_rate": 0.1}),
                    12.5 + v,
                    "sigmoid",
                    VERSIONS[v][1],
                    0.33,
                    42,
                    json.dumps(m),
                    json.dumps({"trials": []}),
                    json.dumps(_lineage(v)),
                    json.dumps(gate),
                ],
            )
        history = [(1, "champion", 1, GATES[1][1], None, None)]
        if versions >= 2:
            history += [
                (2, "archived", 1, "replaced by v2 as champion", None, None),
                (2, "champion", 2, GATES[2][1], None, None),
            ]
        if versions >= 3:
            history += [(3, "challenger", 3, GATES[3][1], None, None)]
        for run, alias, v, reason, actor, comment in history:
            cur.execute(
                "INSERT INTO alias_history VALUES (?, ?, ?, ?, ?, ?, ?)",
                [alias, v, T0 + timedelta(days=30 * run, seconds=v), reason, actor, comment, run],
            )
        cur.execute(
            "INSERT INTO model_aliases VALUES ('champion', ?, ?, 'gate')",
            [min(versions, 2), T0],
        )
        if versions >= 3:
            cur.execute("INSERT INTO model_aliases VALUES ('challenger', 3, ?, 'gate')", [T0])
    return evaluations


@dataclass
class PromotionStartRun:
    """A fake owner process that records promotion requests (trigger, user, flow kwargs)."""

    active_run: int | None = None
    calls: list[tuple[str, str | None, dict]] = field(default_factory=list)

    def __call__(self, trigger: str, user: str | None, **flow: Any) -> RunRequest:
        self.calls.append((trigger, user, flow))
        if self.active_run is not None:
            return RunRequest(
                False,
                self.active_run,
                f"already running (run #{self.active_run}, started by alice at 09:00:00 UTC)",
            )
        return RunRequest(True, 12, "Run #12 started")


@pytest.fixture
def start_run() -> PromotionStartRun:
    """Overrides the shared fake: promotion calls pass ``steps`` and ``promotion``."""
    return PromotionStartRun()


@pytest.fixture
def world(empty_warehouse: Warehouse) -> dict:
    """The three-version registry; returns the evaluations keyed (window of, evaluated)."""
    return write_models_world(empty_warehouse)


@pytest.fixture
def models_page(make_app, empty_warehouse: Warehouse, world) -> ModuleType:
    """The Model review page module over the three-version registry."""
    make_app(empty_warehouse)
    return importlib.import_module("app.pages.models")


@pytest.fixture
def empty_page(make_app, empty_warehouse: Warehouse) -> ModuleType:
    """The page before any model exists."""
    make_app(empty_warehouse)
    return importlib.import_module("app.pages.models")


@pytest.fixture
def promotion(make_app) -> ModuleType:
    """The promote and rollback callbacks (registered by the page module)."""
    return importlib.import_module("app.pages._models_promotion")


def _store(models_page: ModuleType) -> dict:
    return models_page.layout()[models_page.Ids.STORE].data


# -- registration and version list ------------------------------------------------------------


def test_the_page_sits_between_data_and_runs_in_the_navbar(models_page):
    import dash

    pages = sorted(dash.page_registry.values(), key=lambda p: p["order"])
    names = [p["name"] for p in pages]
    assert names.index("Data") < names.index("Model review") < names.index("Runs")
    assert dash.page_registry["app.pages.models"]["path"] == "/models"


def test_version_list_shows_every_version_with_its_alias_and_metrics(models_page, world):
    rows, trend, history, alerts = models_page.update_registry(_store(models_page))
    assert [(r["version"], r["alias"]) for r in rows] == [
        (3, "challenger"),
        (2, "champion"),
        (1, "archived"),
    ]
    assert rows[1]["roc_auc"] == pytest.approx(world[(2, 2)]["metrics"]["roc_auc"])
    assert rows[0]["threshold"] == 0.2
    assert rows[0]["decision"] == GATES[3][1]
    assert rows[0]["created"] == "2024-07-01 09:00"
    assert rows[0]["holdout"] == "2024-04"
    json.dumps(rows)  # the grid receives plain JSON
    assert isinstance(trend, dcc.Graph)
    assert [t.name for t in trend.figure.data][:3] == ["ROC AUC", "PR AUC", "Brier score"]
    assert alerts == []


def test_alias_history_says_who_was_champion_when_and_why(models_page):
    _, _, history, _ = models_page.update_registry(_store(models_page))
    assert [(h["alias"], h["version"]) for h in history] == [
        ("challenger", 3),
        ("champion", 2),
        ("archived", 1),
        ("champion", 1),
    ]
    assert history[1]["reason"] == GATES[2][1]
    assert {h["by"] for h in history} == {"pipeline"}


def test_dropdowns_are_labelled_and_default_to_champion_against_challenger(models_page, ui):
    layout = models_page.layout()
    a, b = layout[models_page.Ids.A], layout[models_page.Ids.B]
    assert (a.value, b.value) == (2, 3)
    label = a.options[1]["label"]
    assert label.startswith("v2 · champion · ROC AUC 0.")
    assert "3 versions · champion v2" in ui.texts(layout[models_page.Ids.SUMMARY])


def test_the_url_restores_a_pair_and_ignores_unknown_versions(models_page):
    layout = models_page.layout(a="1", b="3")
    assert (layout[models_page.Ids.A].value, layout[models_page.Ids.B].value) == (1, 3)
    layout = models_page.layout(a="99", b="x; DROP TABLE models")
    assert (layout[models_page.Ids.A].value, layout[models_page.Ids.B].value) == (2, 3)
    store = _store(models_page)
    assert models_page.write_url(1, 3, store) == "?a=1&b=3"
    assert models_page.write_url(2, 3, store) == ""


def test_a_click_on_a_version_row_compares_it_as_b(models_page):
    store = _store(models_page)
    assert models_page.compare_clicked({"rowId": "1", "colId": "alias"}, store) == 1
    assert models_page.compare_clicked({"rowId": "42"}, store) is no_update


def test_with_one_version_a_and_b_default_to_it(make_app, empty_warehouse, ui):
    write_models_world(empty_warehouse, versions=1)
    make_app(empty_warehouse)
    models_page = importlib.import_module("app.pages.models")
    layout = models_page.layout()
    assert (layout[models_page.Ids.A].value, layout[models_page.Ids.B].value) == (1, 1)
    out = models_page.update_comparison(1, 1, _store(models_page))
    assert "A and B are the same version (v1)" in ui.texts(out["window"])


# -- comparison ---------------------------------------------------------------------------------


def _metric_cells(table, ui) -> dict[str, list[str]]:
    rows = ui.find_all(table, lambda c: type(c).__name__ == "Tr")[1:]
    return {ui.texts(r.children[0]): r.children for r in rows}


def test_metric_table_shows_deltas_coloured_by_direction(models_page, world, ui):
    out = models_page.update_comparison(2, 3, _store(models_page))
    cells = _metric_cells(out["metrics"], ui)
    a, b = world[(3, 2)]["metrics"], world[(3, 3)]["metrics"]  # both on v3's window
    auc = cells["ROC AUC"]
    assert ui.texts(auc[1]) == f"{a['roc_auc']:.3f}" and ui.texts(auc[2]) == f"{b['roc_auc']:.3f}"
    delta = b["roc_auc"] - a["roc_auc"]
    assert ui.texts(auc[3]).endswith(f"{delta:+.3f}")
    assert "text-success" in auc[3].className  # v3 scores better than v2 on the same rows
    brier = cells["Brier score (lower is better)"]
    better = b["brier"] < a["brier"]
    assert ("text-success" if better else "text-danger") in brier[3].className
    # a volume is never called better or worse
    assert "text-muted" in cells["Flagged share"][3].className
    assert set(cells) >= {"PR AUC", "Log loss (lower is better)", "Lift in the top decile"}
    assert ui.texts(cells["Expected profit on the window"][2]).startswith("$")


def test_reversing_a_and_b_flips_the_colours(models_page, ui):
    forward = _metric_cells(models_page.update_comparison(2, 3, _store(models_page))["metrics"], ui)
    backward = _metric_cells(
        models_page.update_comparison(3, 2, _store(models_page))["metrics"], ui
    )
    assert "text-success" in forward["ROC AUC"][3].className
    assert "text-danger" in backward["ROC AUC"][3].className


def test_small_differences_stay_neutral(models_page):
    compare = importlib.import_module("app.pages._models_compare")
    assert compare.delta_tone(0.0004, True) == "neutral"
    assert compare.delta_tone(-0.0004, False) == "neutral"
    assert compare.delta_tone(0.002, False) == "bad"
    assert compare.delta_tone(0.002, True, comparable=False) == "neutral"


def test_same_window_comparison_names_the_shared_window(models_page, ui):
    out = models_page.update_comparison(2, 3, _store(models_page))
    assert "same labelled window: v3's holdout (Apr 2024)" in ui.texts(out["window"])


def test_versions_measured_apart_get_a_clear_warning_and_no_colours(models_page, ui):
    out = models_page.update_comparison(1, 3, _store(models_page))
    note = ui.texts(out["window"])
    assert "Not directly comparable" in note
    assert "own holdout window" in note
    cells = _metric_cells(out["metrics"], ui)
    assert all("text-muted" in row[3].className for row in cells.values())
    assert "different windows" in ui.texts(out["metrics"])


def test_the_gate_decision_about_b_is_given_in_words(models_page, ui):
    out = models_page.update_comparison(2, 3, _store(models_page))
    text = ui.texts(out["gate"])
    assert GATES[3][1] in text
    assert "kept as challenger by the gate" in text
    assert "✗ margin check of v3" in text


def test_segment_metrics_are_side_by_side_on_the_same_window(models_page, world, ui):
    out = models_page.update_comparison(2, 3, _store(models_page))
    rows = ui.find_all(out["segments"], lambda c: type(c).__name__ == "Tr")[2:]
    assert len(rows) == 6  # 4 regions + 2 plans
    seg_b = {(s["column"], s["value"]): s for s in world[(3, 3)]["segments"]}
    first = [ui.texts(c) for c in rows[0].children]
    assert first[0] == "plan = Basic"
    assert first[1] == f"{seg_b[('plan', 'Basic')]['rows']:,}"
    assert first[4] == f"{seg_b[('plan', 'Basic')]['roc_auc']:.3f}"


def test_the_slider_starts_at_b_threshold(models_page):
    assert models_page.update_comparison(2, 3, _store(models_page))["threshold"] == 0.2
    assert models_page.update_comparison(3, 2, _store(models_page))["threshold"] == 0.25


def test_curves_overlay_a_and_b_in_their_colours(models_page):
    roc, pr, calibration, gain, confusion = models_page.update_curves(2, 3, _store(models_page))
    names = [t.name for t in roc.figure.data]
    assert "A: v2 (champion)" in names and "B: v3 (challenger)" in names
    colours = {t.name: t.line.color for t in roc.figure.data}
    assert colours["A: v2 (champion)"] != colours["B: v3 (challenger)"]
    assert {t.name: t.line.color for t in gain.figure.data}["A: v2 (champion)"] == colours[
        "A: v2 (champion)"
    ]
    assert len(confusion.figure.data) == 2
    assert "threshold 0.2" in " ".join(a.text for a in confusion.figure.layout.annotations)
    for graph in (pr, calibration):
        assert len(graph.figure.data) >= 2


# -- threshold ----------------------------------------------------------------------------------


def _counts(y: np.ndarray, proba: np.ndarray, threshold: float) -> tuple[int, int, int]:
    flagged = proba >= threshold
    return int((flagged & (y == 1)).sum()), int(flagged.sum()), int(y.sum())


def test_threshold_numbers_match_the_scores(models_page, world, ui):
    numbers, profit = models_page.update_threshold(0.3, 2, 3, _store(models_page))
    ev = world[(3, 3)]
    tp, flagged, positives = _counts(ev["y"], ev["proba"], 0.3)
    table = ui.find_all(numbers, lambda c: type(c).__name__ == "Table")[0]
    rows = {
        ui.texts(r.children[0]): [ui.texts(c) for c in r.children[1:]]
        for r in ui.find_all(table, lambda c: type(c).__name__ == "Tr")[1:]
    }
    assert rows["Customers contacted"][1] == f"{flagged:,}"
    assert rows["Churners caught"][1] == f"{tp:,}"
    assert rows["Precision (flagged who churn)"][1] == f"{tp / flagged:.1%}"
    assert rows["Recall (churners caught)"][1] == f"{tp / positives:.1%}"
    assert rows["Expected profit"][1] == format_money(VALUE * tp - COST * flagged)
    assert isinstance(profit, dcc.Graph)
    assert any("slider" in (t.name or "") for t in profit.figure.data)


def test_moving_the_slider_changes_the_numbers(models_page, ui):
    low, _ = models_page.update_threshold(0.1, 2, 3, _store(models_page))
    high, _ = models_page.update_threshold(0.6, 2, 3, _store(models_page))
    assert ui.texts(low) != ui.texts(high)


# -- lineage and model card ---------------------------------------------------------------------


def test_lineage_shows_batches_settings_diff_durations_and_libraries(models_page, ui):
    text = ui.texts(models_page.update_lineage(2, 3, _store(models_page)))
    assert "training.search_trials" in text  # 4 -> 8
    assert "scikit-learn 1.5.0 1.6.1" in text
    assert "customers_4.csv" in text  # only v3 used batch 4
    assert "1 batch(es) used by only one of them" in text
    assert "Hyperparameter search 20.0 s 30.0 s" in text
    assert "git 0123456789ab" in text


def test_model_card_opens_and_downloads_as_markdown(models_page, ui):
    store = _store(models_page)
    is_open, title, shown = models_page.show_card(1, 3, store)
    assert is_open and title == "Model card: churn model v3"
    headings = ui.find_all(shown, lambda c: type(c).__name__ == "H6")
    assert "Intended use" in [h.children for h in headings]  # small headings in the dialog
    tables = ui.find_all(shown, lambda c: type(c).__name__ == "Table")
    assert len(tables) == 3  # metrics, segments, alias history
    assert "region = North" in ui.texts(tables[1])
    download = models_page.download_card(1, None, 3, store)
    assert download["filename"] == "model-card-v3.md"
    body = download["content"]
    assert body.startswith("# Model card: churn model v3\n")
    assert "\n## Intended use\n" in body
    assert "## Segments" in body and "region = North" in body
    assert "from 2023-06-01 to 2024-03-01" in body  # periods as dates, not midnight timestamps
    assert models_page.download_card(None, 1, 99, store) is no_update


# -- promote and roll back ----------------------------------------------------------------------


def test_promote_is_offered_for_b_and_rollback_names_the_former_champion(models_page, promotion):
    out = promotion.update_actions(3, _store(models_page))
    assert (out["promote"], out["promote_disabled"]) == ("Make v3 champion", False)
    assert out["rollback"] == "Roll back to v1" and out["rollback_style"] == {}
    out = promotion.update_actions(2, _store(models_page))
    assert out["promote_disabled"] is True


def test_without_a_former_champion_rollback_is_hidden(make_app, empty_warehouse, promotion):
    write_models_world(empty_warehouse, versions=1)
    make_app(empty_warehouse)
    models_page = importlib.import_module("app.pages.models")
    out = promotion.update_actions(1, _store(models_page))
    assert out["rollback_style"] == {"display": "none"}
    assert out["promote_disabled"] is True


def test_promote_opens_a_confirmation_naming_the_change(models_page, promotion):
    out = promotion.ask_promote(1, 3)
    assert out["open"] is True
    assert out["action"] == {"action": "promote", "version": 3}
    assert out["title"] == "Make v3 champion?"
    assert "v2 is archived" in out["body"]
    assert promotion.ask_promote(1, 2)["open"] is no_update  # already champion
    assert promotion.ask_rollback(1)["action"] == {"action": "rollback", "version": 1}
    assert promotion.cancel(1) is False


def test_promote_without_a_comment_is_refused_and_starts_nothing(models_page, start_run, promotion):
    for comment in (None, "", "   ", "ok"):
        out = promotion.confirm(1, {"action": "promote", "version": 3}, comment)
        assert out["invalid"] is True
        assert "at least 5 characters" in out["feedback"]
        assert out["open"] is no_update and out["run"] is no_update
    assert start_run.calls == []


def test_promote_with_a_comment_starts_a_promotion_run(models_page, start_run, ui, promotion):
    from pipeline.model_steps import PromotionRequest

    out = promotion.confirm(1, {"action": "promote", "version": 3}, "  better recall in South  ")
    [(trigger, user, flow)] = start_run.calls
    assert trigger == "promotion"
    assert flow["steps"] == ("promote",)
    assert flow["promotion"] == PromotionRequest(
        version=3, actor=user, comment="better recall in South", action="promote"
    )
    assert user.startswith("anonymous")
    assert out["open"] is False and out["poll_disabled"] is False
    assert out["run"] == {"run_id": 12, "action": "promote", "version": 3}
    assert "Run #12 started: making v3 champion" in ui.texts(out["alert"])


def test_rollback_starts_a_rollback_run(models_page, start_run, promotion):
    promotion.confirm(1, {"action": "rollback", "version": 1}, "v2 misbehaves in East")
    [(trigger, _, flow)] = start_run.calls
    assert trigger == "rollback" and flow["promotion"].action == "rollback"


def test_already_running_is_shown_and_nothing_is_polled(models_page, start_run, ui, promotion):
    start_run.active_run = 7
    out = promotion.confirm(1, {"action": "promote", "version": 3}, "better recall in South")
    assert "already running (run #7, started by alice at 09:00:00 UTC)" in ui.texts(out["alert"])
    assert out["run"] is no_update and out["poll_disabled"] is no_update
    assert out["open"] is False


PROMOTING_V3 = {"run_id": 12, "action": "promote", "version": 3}


def _add_run(wh: Warehouse, run_id: int, status: str, **values: Any) -> None:
    wh.execute(
        "INSERT INTO runs (run_id, trigger, triggered_by, status, started_at, error, summary) "
        "VALUES (?, 'promotion', 'anonymous', ?, ?, ?, ?)",
        [run_id, status, utcnow(), values.get("error"), values.get("summary")],
    )


def test_a_running_promotion_keeps_polling(models_page, empty_warehouse, ui, promotion):
    _add_run(empty_warehouse, 12, "running")
    alert, finished, refresh = promotion.poll_run(
        1, {"run_id": 12, "action": "promote", "version": 3}
    )
    assert "Run #12 is making v3 champion" in ui.texts(alert)
    assert finished is False and refresh is no_update


def test_a_finished_promotion_shows_its_reason_and_refreshes(
    models_page, empty_warehouse, ui, promotion
):
    summary = {"promote": {"reason": "promoted v3 by anonymous (was v2): better recall"}}
    _add_run(empty_warehouse, 12, "succeeded", summary=json.dumps(summary))
    alert, finished, refresh = promotion.poll_run(
        1, {"run_id": 12, "action": "promote", "version": 3}
    )
    assert alert.color == "success"
    assert "promoted v3 by anonymous (was v2): better recall" in ui.texts(alert)
    assert finished is True and refresh == 12


def test_a_failed_promotion_shows_the_run_error(models_page, empty_warehouse, ui, promotion):
    _add_run(empty_warehouse, 12, "failed", error="promote: v3 cannot be made champion: bad hash")
    alert, finished, _ = promotion.poll_run(1, PROMOTING_V3)
    assert alert.color == "danger"
    assert "v3 cannot be made champion: bad hash" in ui.texts(alert)
    assert finished is True


def test_after_a_promotion_the_defaults_follow_the_new_champion(
    models_page, empty_warehouse, promotion
):
    store = _store(models_page)
    with empty_warehouse.transaction() as cur:
        cur.execute("DELETE FROM model_aliases")
        cur.execute("INSERT INTO model_aliases VALUES ('champion', 3, ?, 'by hand')", [T0])
        cur.execute(
            "INSERT INTO alias_history VALUES ('champion', 3, ?, 'promoted v3', 'bob', "
            "'better recall', 12)",
            [T0 + timedelta(days=400)],
        )
    out = models_page.poll_data(None, 12, store, 2, 3, 3)
    assert out["a"] == 3  # A sat on the old default (the champion): it follows
    assert out["b"] == 2  # B: no challenger now, so the newest other version
    assert out["data"]["a"] == 3
    history = promotion.update_actions(3, out["data"])["history"]
    assert "better recall" in str(history)


# -- alerts and the empty state -----------------------------------------------------------------


def test_a_refused_artefact_raises_a_banner_naming_what_is_served(models_page, empty_warehouse, ui):
    raise_alert(
        empty_warehouse,
        "critical",
        "artefact_refused",
        "v3",
        "Model v3 was refused: its SHA-256 does not match.",
        run_id=5,
    )
    _, _, _, alerts = models_page.update_registry(_store(models_page))
    text = ui.texts(alerts)
    assert "Artefact refused: model v3" in text
    assert "SHA-256 does not match" in text
    assert "The app serves v2 (the current champion) instead" in text
    # the alert is part of the signature: a polling models_page notices it
    assert models_page.poll_data(1, None, {"signature": "old"}, 2, 3, 3)["data"] is not no_update


def test_before_any_model_the_page_explains_why_and_polls(empty_page, ui):
    layout = empty_page.layout()
    assert layout[empty_page.Ids.BODY].hidden is True
    text = ui.texts(layout[empty_page.Ids.EMPTY])
    assert "No model yet: the first model is trained when 2 months of labels have arrived" in text
    assert layout[empty_page.Ids.POLL].interval == POLL_WAITING_MS
    out = empty_page.poll_data(1, None, None, None, None, None)
    assert out["body_hidden"] is True and out["interval"] == POLL_WAITING_MS


def test_the_empty_state_says_what_the_last_run_said_about_training(
    empty_page, empty_warehouse, ui
):
    _add_run(empty_warehouse, 1, "succeeded")
    empty_warehouse.execute(
        "INSERT INTO run_steps (run_id, position, step, status, started_at, detail) "
        "VALUES (1, 4, 'train', 'succeeded', ?, ?)",
        [utcnow(), json.dumps({"skipped": "needs labels from 2 months; has 1"})],
    )
    text = ui.texts(empty_page.poll_data(1, None, None, None, None, None)["empty"])
    assert "needs labels from 2 months; has 1" in text


def test_the_first_model_shows_the_body_on_the_next_poll(empty_page, empty_warehouse):
    store = empty_page.layout()[empty_page.Ids.STORE].data
    write_models_world(empty_warehouse, versions=1)
    out = empty_page.poll_data(1, None, store, None, None, None)
    assert out["body_hidden"] is False and out["empty_hidden"] is True
    assert (out["a"], out["b"]) == (1, 1)
    assert out["interval"] == POLL_READY_MS


def test_a_version_from_before_model_tracking_shows_what_the_registry_has(
    make_app, empty_warehouse, ui
):
    # Registered by an older release: no evaluation, curves, lineage or gate decision.
    empty_warehouse.execute(
        "INSERT INTO models (version, run_id, created_at, algorithm, artefact_path, sha256, "
        "size_bytes, train_rows, holdout_rows, roc_auc, pr_auc, brier, log_loss, features, "
        "params) VALUES (1, 1, ?, 'logistic', 'm', 'x', 1, 100, 40, 0.71, 0.3, 0.1, 0.4, '{}', "
        "'{}')",
        [T0],
    )
    empty_warehouse.execute("INSERT INTO model_aliases VALUES ('champion', 1, ?, 'old')", [T0])
    make_app(empty_warehouse)
    page = importlib.import_module("app.pages.models")
    store = _store(page)
    out = page.update_comparison(1, 1, store)
    assert ui.texts(_metric_cells(out["metrics"], ui)["ROC AUC"][1]) == "0.710"
    assert "No gate decision was recorded for v1" in ui.texts(out["gate"])
    curves = page.update_curves(1, 1, store)
    assert all(len(g.figure.data) <= 1 for g in curves)  # explanatory empty figures
    numbers, profit = page.update_threshold(0.3, 1, 1, store)
    assert "—" in ui.texts(numbers)
    assert "No settings were recorded" in ui.texts(page.update_lineage(1, 1, store))
    assert page.show_card(1, 1, store)[1] == "Model card: churn model v1"
    rows, trend, _, _ = page.update_registry(store)
    assert rows[0]["decision"] is None and rows[0]["threshold"] is None
