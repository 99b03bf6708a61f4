"""Links built from data: only same-site paths, only for roles that may open them; data in the
model card stays text."""

from __future__ import annotations

import pandas as pd
import pytest
from dash import dcc, html

from app.components.health import health_badge
from app.components.links import data_link, safe_href
from pipeline.accounts import Role
from tests.auth import acting_as

REFUSED = [
    "javascript:alert(1)",
    "JAVASCRIPT:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "java\nscript:alert(1)",
    "\x00javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "//evil.com",
    "//evil.com/runs",
    "/\\evil.com",
    "\\\\evil.com",
    "http://evil",
    "https://evil.example/path",
    "runs?run=1",  # relative to the current path: not ours to guess
    "",
    "/runs\x7f",
    "/runs\u2028",
    "/ runs",
]
ALLOWED = ["/", "/runs", "/runs?run=3", "/explain?v=2&feature=contract_type", "/a/b#c", "/x:y"]


@pytest.mark.parametrize("url", REFUSED)
def test_anything_but_a_same_site_path_is_refused(url: str) -> None:
    assert safe_href(url) is None


@pytest.mark.parametrize("url", ALLOWED)
def test_same_site_paths_with_queries_are_kept_as_they_are(url: str) -> None:
    assert safe_href(url) == url


def test_a_non_string_is_refused() -> None:
    assert safe_href(None) is None  # type: ignore[arg-type]


def test_a_data_link_with_an_unsafe_target_is_plain_text(app) -> None:
    with acting_as(app.server, Role.ADMIN):
        link = data_link("open", "javascript:alert(1)", needed=Role.ANALYST)
    assert isinstance(link, html.Span) and link.children == "open"


# -- role-aware links on the Overview -------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "linked"),
    [(None, False), (Role.EXECUTIVE, False), (Role.ANALYST, True), (Role.ADMIN, True)],
)
def test_the_health_badge_links_to_the_monitor_only_for_those_who_may_open_it(
    app, ui, role, linked
) -> None:
    with acting_as(app.server, role):
        badge = health_badge("watch", "Two features drifted.")
    links = ui.find_all(badge, lambda c: isinstance(c, dcc.Link))
    assert [link.href for link in links] == (["/monitor"] if linked else [])
    assert "Model health: Watch" in ui.texts(badge)
    assert "Two features drifted." in ui.texts(badge)


@pytest.fixture
def drivers(monkeypatch):
    """The champion's drivers as the read returns them, one with a hostile feature name."""
    from pipeline.warehouse import reads_explain

    found = {
        "version": 3,
        "scope": "holdout",
        "drivers": pd.DataFrame(
            {
                "feature": ["contract_type", "x&feature=<script>"],
                "share": [0.4, 0.2],
                "direction": ["month-to-month raises risk", "higher raises risk"],
                "rank": [1, 2],
            }
        ),
    }
    monkeypatch.setattr(reads_explain, "champion_drivers", lambda wh, limit: found)
    return found


@pytest.mark.parametrize(
    ("role", "linked"),
    [(None, False), (Role.EXECUTIVE, False), (Role.ANALYST, True), (Role.ADMIN, True)],
)
def test_drivers_link_to_explain_only_for_analysts_and_admins(
    app, ui, drivers, role, linked
) -> None:
    from app.pages._overview_drivers import drivers_card
    from app.services import services

    with acting_as(app.server, role):
        card = drivers_card(services())
    links = ui.find_all(card, lambda c: isinstance(c, dcc.Link))
    assert "of the model's attention" in ui.texts(card)
    if not linked:
        assert links == []
        assert "explore" not in ui.texts(card)
        return
    assert [link.href for link in links] == [
        "/explain?v=3&feature=contract_type",
        "/explain?v=3&feature=x%26feature%3D%3Cscript%3E",  # the name stays inside its value
    ]


# -- the model card: data is text ---------------------------------------------------------------

HOSTILE_CARD = """# Model card: churn model v3

**Status:** champion · **Run:** #4

## Model
- Features: plan, [click](javascript:alert(1)), ![x](http://evil/x.png)
- Categories: <img src=x onerror=alert(1)>
- Hyperparameters: `{'max_depth': 3}`

## Lineage
- Code: abc
  - batch 1: <script>window.__xss=1</script>.csv `0123456789abcdef`
A paragraph with <b>html</b> and [a link](https://evil.example).

| Segment | Rows |
|---|---|
| plan = [x](javascript:alert(1)) | 10 |
"""


def test_the_model_card_shows_data_as_text_never_as_links_or_markup(app, ui) -> None:
    from app.pages._models_lineage import card_for_reading

    out = card_for_reading(HOSTILE_CARD)
    assert ui.find_all(out, lambda c: isinstance(c, dcc.Markdown)) == []
    assert ui.find_all(out, lambda c: isinstance(c, html.A | html.Img | html.Iframe)) == []
    text = ui.texts(out)
    for shown in (
        "[click](javascript:alert(1))",
        "![x](http://evil/x.png)",
        "<img src=x onerror=alert(1)>",
        "<script>window.__xss=1</script>.csv",
        "<b>html</b>",
        "plan = [x](javascript:alert(1))",
    ):
        assert shown in text, shown
    # The card's own formatting survives: headings, bold, code, lists and tables.
    assert [h.children for h in ui.find_all(out, lambda c: isinstance(c, html.H6))] == [
        "Model",
        "Lineage",
    ]
    assert [s.children for s in ui.find_all(out, lambda c: isinstance(c, html.Strong))] == [
        "Status:",
        "Run:",
    ]
    codes = [c.children for c in ui.find_all(out, lambda c: isinstance(c, html.Code))]
    assert codes == ["{'max_depth': 3}", "0123456789abcdef"]
    assert len(ui.find_all(out, lambda c: isinstance(c, html.Ul))) == 3  # two lists, one nested
    assert len(ui.find_all(out, lambda c: type(c).__name__ == "Table")) == 1
