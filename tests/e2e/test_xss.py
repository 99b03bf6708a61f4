"""Data never becomes markup: script-like text in the data stays text on every page.

A demo world is seeded with an XSS corpus before its first run: as category values
(``payment_method``, ``plan`` and the segment ``region``, so they reach segments, drift,
explanations and the model card), as a bad cell the Data page quarantines, and as the name
and a column name of a file the pipeline rejects (its message quotes both). After the run
the corpus goes into alerts and their acknowledgement comments, model alias reasons and
audit events. Then every page is opened, and the places that show such text (the quarantine
grid, the alerts table, the audit trail, the model card) are visited: no payload may run
(``window.__xss`` stays unset, no dialog opens) and the browser may report no
Content-Security-Policy violation (a violation would mean data had become markup).
"""

from __future__ import annotations

import csv
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

import dash
import pytest
from playwright.sync_api import Page, expect

from app import create_app
from app.services import installed
from pipeline.democlock import DemoClock
from pipeline.runner import Runner
from pipeline.warehouse import Warehouse, aliases
from pipeline.warehouse import alerts as alert_store
from pipeline.warehouse import audit as audit_store
from pipeline.warehouse import models as model_store
from tests.auth import ensure_users
from tests.conftest import EVERY_MONTH, SMALL_DEMO
from tests.e2e.conftest import Served, e2e_settings

SCRIPT = "<script>window.__xss=1</script>"
IMG = '<img src=x onerror="window.__xss=1">'
ATTRIBUTE = '" onmouseover="window.__xss=1'
JS_URL = "javascript:alert(1)"
DATA_URL = "data:text/html,<script>window.__xss=1</script>"
MARKDOWN = "[click](javascript:alert(1)) ![x](/x.png)"
CORPUS = [JS_URL, DATA_URL, SCRIPT, IMG, ATTRIBUTE, MARKDOWN]
# The pipeline refuses such a column name, and quotes it (and the file's name) when it does.
COLUMN = "<b onmouseover=alert(1)>perk</b>"
REJECTED_FILE = "customers_<img src=x onerror=window.__xss=1>.csv"
# Existing categories are renamed, so the model still sees as many customers per value.
PAYMENT = {"card": JS_URL, "bank transfer": ATTRIBUTE, "electronic check": IMG}
REGION = {"East": SCRIPT}

RECORD = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample || ""}`);
});
"""


def seed_demo_files(demo_dir: Path) -> None:
    """Rewrite the demo's customer files with the corpus in categories, a column and a cell."""
    for path in sorted(demo_dir.glob("customers_*.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        for i, row in enumerate(rows):
            row["payment_method"] = PAYMENT.get(row["payment_method"], row["payment_method"])
            row["region"] = REGION.get(row["region"], row["region"])
            row["plan"] = row["plan"] if i % 7 else (DATA_URL, MARKDOWN)[i % 2]
        rows[0]["tenure_months"] = IMG  # not a number: quarantined, shown in the Data grid
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)


def seed_warehouse(wh: Warehouse) -> None:
    """The corpus in an alert and its acknowledgement, an alias reason and audit events."""
    for payload in CORPUS:
        alert_id = alert_store.raise_alert(wh, "warning", "drift", payload, f"about {payload}")
        alert_store.acknowledge(wh, alert_id, "admin", f"checked {payload}")
    current = model_store.current_aliases(wh)
    with wh.transaction() as cur:
        aliases.apply(
            cur, aliases.challenger_changes(current["champion"], {}, f"why: {SCRIPT}"), None
        )
        aliases.apply(
            cur,
            aliases.promotion_changes(
                current["champion"], {}, f"because {IMG}", actor=ATTRIBUTE, comment=MARKDOWN
            ),
            None,
        )
    for payload in CORPUS:
        audit_store.record(
            wh,
            audit_store.AuditEvent(
                actor="admin", action="promote", target=payload, detail=payload, role="admin"
            ),
        )


class SeededApp:
    """A served app over a demo world seeded with the corpus, after its first run."""

    def __init__(self, data_dir: Path, demo_files: Path):
        previous = installed()  # the session's live app, put back on close
        shutil.copytree(demo_files, data_dir / "demo")
        seed_demo_files(data_dir / "demo")
        self.settings = e2e_settings(data_dir, demo=SMALL_DEMO, retrain=EVERY_MONTH)
        self.wh = Warehouse(self.settings.warehouse_path)
        ensure_users(self.wh)
        self.runner = Runner(self.settings, self.wh)
        DemoClock(self.settings, self.wh).advance()
        (self.settings.landing_dir / REJECTED_FILE).write_text(
            f"customer_id,snapshot_month,{COLUMN}\nC1,2024-01-01,{SCRIPT}\n", encoding="utf-8"
        )
        _, reason = self.runner.run_now("test")
        assert reason is None, reason
        seed_warehouse(self.wh)
        app = create_app(self.settings, self.wh, self.runner.start_run)
        self._served = Served(app.server, previous)
        self.url = self._served.url

    def close(self) -> None:
        self._served.stop()
        self.runner.shutdown()
        self.wh.close()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory, small_demo_files: Path) -> Iterator[SeededApp]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    live = SeededApp(tmp_path_factory.mktemp("xss") / "data", small_demo_files)
    yield live
    live.close()


@pytest.fixture
def watched(page: Page) -> dict[str, list[str]]:
    """Dialogs opened and console errors seen; CSP violations are kept on ``window.__csp``."""
    seen: dict[str, list[str]] = {"dialogs": [], "errors": []}

    def on_dialog(dialog) -> None:
        seen["dialogs"].append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("console", lambda m: seen["errors"].append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    page.add_init_script(RECORD)
    return seen


def _assert_inert(page: Page, seen: dict[str, list[str]], where: str) -> None:
    # Move the "mouse" over every element at once, so an injected onmouseover would fire.
    page.evaluate(
        "document.querySelectorAll('*').forEach((el) => "
        "el.dispatchEvent(new MouseEvent('mouseover', {bubbles: true})))"
    )
    assert page.evaluate("window.__xss") is None, f"a payload ran on {where}"
    assert seen["dialogs"] == [], f"a dialog opened on {where}"
    assert page.evaluate("window.__csp || []") == [], f"policy violation on {where}"


def _open(page: Page, url: str) -> None:
    page.goto(url)
    page.wait_for_load_state("networkidle")
    expect(page.locator("#_pages_content > *").first).to_be_visible()


def test_the_corpus_is_shown_as_text_on_every_page(page: Page, seeded: SeededApp, watched):
    for path in [p["path"] for p in dash.page_registry.values()]:
        _open(page, seeded.url + path)
        _assert_inert(page, watched, path)
    # The values really reached the pages (as text): the test is not vacuous.
    _open(page, seeded.url + "/data")
    expect(page.get_by_text(COLUMN).first).to_be_attached()  # the rejected file's message
    assert watched["errors"] == []


def test_quarantine_alerts_and_audit_show_the_payloads_as_text(
    page: Page, seeded: SeededApp, watched
) -> None:
    _open(page, seeded.url + "/data")
    grid = page.locator("#data-quarantine-grid")
    expect(grid).to_be_visible()
    expect(grid.get_by_text(IMG).first).to_be_attached()  # the quarantined cell, as text
    _assert_inert(page, watched, "the quarantine grid")

    _open(page, seeded.url + "/monitor")
    expect(page.get_by_text(f"checked {SCRIPT}").first).to_be_attached()
    _assert_inert(page, watched, "the Monitor alerts")

    if any(p["path"] == "/audit" for p in dash.page_registry.values()):
        _open(page, seeded.url + "/audit")
        expect(page.get_by_text(DATA_URL).first).to_be_attached()
        _assert_inert(page, watched, "the audit trail")
    assert watched["errors"] == []


def test_model_review_lineage_and_card_show_the_payloads_as_text(
    page: Page, seeded: SeededApp, watched
) -> None:
    _open(page, seeded.url + "/models")
    _assert_inert(page, watched, "Model review")
    page.locator("#models-card-open").click()
    card = page.locator("#models-card-body")
    expect(card).to_be_visible()
    expect(card.get_by_text(SCRIPT).first).to_be_attached()  # a segment value, as text
    _assert_inert(page, watched, "the model card")
    assert watched["errors"] == []
