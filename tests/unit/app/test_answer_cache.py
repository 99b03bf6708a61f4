"""Answers of read-only callbacks are computed once per warehouse state and role, then served
from memory; a write, another role, the clock or an error keeps them from being reused."""

from __future__ import annotations

import inspect
import re
import threading
from typing import Any

import dash
import pytest

from app import answer_cache
from app.answer_cache import Answer, AnswerCache, check_marks, is_cached
from app.auth import requires
from pipeline.accounts import Role
from pipeline.warehouse import Warehouse
from tests.auth import callback_request, ensure_users, logged_in_client, router_body

STATE = (1, "2026-11-27")


# -- the store -----------------------------------------------------------------------------


def test_a_stored_answer_is_found_again_for_the_same_state_and_key() -> None:
    cache = AnswerCache()
    assert cache.lookup(STATE, "k") is None  # a miss claims the key
    cache.store(STATE, "k", Answer(b"answer", "application/json"))
    cache.release(STATE, "k")
    assert cache.lookup(STATE, "k") == Answer(b"answer", "application/json")
    assert cache.lookup(STATE, "k", {"progress": 9}) is not None  # it read no run progress
    assert (cache.hits, cache.misses) == (2, 1)


def test_an_answer_that_read_run_progress_is_a_miss_once_a_run_moved_on() -> None:
    cache = AnswerCache()
    _put(cache, "k", b"step 2 of 6", read=(("progress", 4),))
    assert cache.lookup(STATE, "k", {"progress": 4, "intake": 7}) is not None
    assert cache.lookup(STATE, "k", {"progress": 5, "intake": 7}) is None
    assert "k" not in cache and cache.size_bytes == 0


def test_a_new_warehouse_state_empties_the_cache() -> None:
    cache = AnswerCache()
    _put(cache, "k", b"old")
    assert cache.lookup((2, "2026-11-27"), "k") is None
    assert len(cache) == 0 and cache.size_bytes == 0


def test_an_answer_computed_for_an_older_state_is_not_kept() -> None:
    cache = AnswerCache()
    cache.lookup(STATE, "k")
    cache.lookup((2, "2026-11-27"), "other")  # a write happened meanwhile
    cache.store(STATE, "k", Answer(b"stale", "application/json"))
    assert len(cache) == 0


def _put(cache: AnswerCache, key: str, body: bytes, read: tuple = ()) -> None:
    cache.lookup(STATE, key)
    cache.store(STATE, key, Answer(body, "application/json", read))
    cache.release(STATE, key)


def test_the_least_recently_used_answers_go_when_the_byte_budget_is_spent() -> None:
    cache = AnswerCache(max_bytes=10)
    _put(cache, "a", b"1234")
    _put(cache, "b", b"1234")
    assert cache.lookup(STATE, "a") is not None  # "a" is now used more recently than "b"
    _put(cache, "c", b"1234")
    assert "b" not in cache and "a" in cache and "c" in cache
    assert cache.size_bytes == 8
    _put(cache, "big", b"x" * 11)  # larger than the whole budget
    assert "big" not in cache and cache.size_bytes == 8


def test_concurrent_misses_wait_for_the_first_answer_instead_of_computing_it_again() -> None:
    cache = AnswerCache()
    assert cache.lookup(STATE, "k") is None  # this request computes
    got: list[Any] = []
    waiter = threading.Thread(target=lambda: got.append(cache.lookup(STATE, "k")))
    waiter.start()
    waiter.join(0.2)
    assert waiter.is_alive()  # waiting for the claim, not computing
    cache.store(STATE, "k", Answer(b"once", "application/json"))
    cache.release(STATE, "k")
    waiter.join(5)
    assert got == [Answer(b"once", "application/json")]


def test_a_waiter_computes_itself_when_the_first_request_brought_no_answer() -> None:
    cache = AnswerCache(wait_seconds=5)
    cache.lookup(STATE, "k")
    got: list[Any] = []
    waiter = threading.Thread(target=lambda: got.append(cache.lookup(STATE, "k")))
    waiter.start()
    cache.release(STATE, "k")  # the first one failed: nothing stored
    waiter.join(5)
    assert got == [None]


def test_the_warehouse_generation_counts_committed_writes_by_scope(warehouse: Warehouse) -> None:
    before = warehouse.generation()
    warehouse.execute("CREATE TABLE t (x INTEGER)")
    assert warehouse.generation() == before + 1
    with pytest.raises(RuntimeError), warehouse.transaction() as cur:
        cur.execute("INSERT INTO t VALUES (1)")
        raise RuntimeError("rolled back")
    warehouse.read("SELECT * FROM t")
    assert warehouse.generation() == before + 1
    progress = warehouse.generation("progress")
    warehouse.execute("INSERT INTO t VALUES (2)", scope="progress")
    assert warehouse.generation("progress") == progress + 1
    assert warehouse.generation() == before + 1
    with pytest.raises(ValueError, match="unknown write scope"):
        warehouse.execute("INSERT INTO t VALUES (3)", scope="everything")


def test_a_run_s_steps_its_failure_and_the_audit_trail_are_not_data_writes(
    warehouse: Warehouse,
) -> None:
    from pipeline.warehouse import audit as audit_store
    from pipeline.warehouse import runs

    before = warehouse.generation()
    run_id = runs.create_run(warehouse, "manual", "ana")
    runs.start_step(warehouse, run_id, 1, "ingest")
    runs.finish_step(warehouse, run_id, "ingest", "succeeded", rows_in=1, rows_out=1)
    runs.request_cancel(warehouse, run_id, "ana")
    audit_store.record(warehouse, audit_store.AuditEvent("ana", "retrain", role="analyst"))
    progress = warehouse.generation("progress")
    runs.finish_run(warehouse, run_id, "failed", "boom", {})
    cancelled = runs.create_run(warehouse, "manual", "ana")
    runs.finish_cancelled(warehouse, cancelled, "ana", "cancelled by ana")
    assert warehouse.generation() == before  # the pages' results did not change
    assert warehouse.generation("progress") == progress + 3  # what shows runs did


# -- the marks -------------------------------------------------------------------------------


def test_a_callback_that_changes_state_cannot_be_marked_cached() -> None:
    @requires(Role.ANALYST, action="retrain")
    @answer_cache.cached_answer
    def retrain(n: int) -> str:
        return "started"

    app = dash.Dash(__name__)
    app.callback_map["x.children"] = {"callback": retrain}
    assert is_cached(retrain)
    with pytest.raises(RuntimeError, match="changes state"):
        check_marks(app)


def test_only_read_only_callbacks_of_the_app_are_marked(app) -> None:
    marked = {
        getattr(spec["callback"], "__name__", "")
        for spec in app.callback_map.values()
        if is_cached(spec.get("callback"))
    }
    assert {"update_summary", "update_heatmap", "update_registry", "show_steps"} <= marked
    # Uploads, actions, downloads and the Runs page's live tick are never kept.
    assert not marked & {
        "retrain",
        "cancel",
        "refresh",
        "preview_upload",
        "accept_upload",
        "acknowledge_alert",
        "confirm",
        "download_quarantine",
        "download_card",
        "explain_customer",
        "add_user",
        "update_events",
    }


# -- through the server ----------------------------------------------------------------------


@pytest.fixture
def counted(app, warehouse: Warehouse, monkeypatch):
    """(clients by role, calls): ``calls`` counts the Overview breakdown's computations."""
    from app.pages import overview

    calls: list[Any] = []
    real = overview.breakdown_figure

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(overview, "breakdown_figure", counting)
    ensure_users(warehouse)
    clients = {role: logged_in_client(app.server, name) for role, name in _names().items()}
    return clients, calls


def _names() -> dict[Role, str]:
    return {Role.EXECUTIVE: "erin", Role.ANALYST: "ana"}


def _breakdown(app) -> dict[str, Any]:
    return callback_request(
        app, "update_breakdown", {"overview-to.value": "2024-04", "overview-by.value": "plan"}
    )


def _post(client, body: dict[str, Any]):
    return client.post("/_dash-update-component", json=body)


def test_the_same_question_is_answered_once_until_the_warehouse_changes(
    app, warehouse, counted
) -> None:
    clients, calls = counted
    body = _breakdown(app)
    first = _post(clients[Role.EXECUTIVE], body)
    assert first.status_code == 200 and len(calls) == 1
    again = _post(clients[Role.EXECUTIVE], body)
    assert again.status_code == 200 and again.get_data() == first.get_data()
    assert len(calls) == 1  # from memory
    assert again.headers["Content-Type"] == first.headers["Content-Type"]
    assert "Content-Security-Policy" in again.headers  # a hit gets the security headers too

    warehouse.execute("UPDATE serving_facts SET probability = probability / 2")
    changed = _post(clients[Role.EXECUTIVE], body)
    assert len(calls) == 2 and changed.get_data() != first.get_data()


def test_each_role_gets_answers_computed_for_its_role(app, counted) -> None:
    clients, calls = counted
    body = _breakdown(app)
    _post(clients[Role.EXECUTIVE], body)
    _post(clients[Role.ANALYST], body)
    _post(clients[Role.ANALYST], body)
    assert len(calls) == 2


def test_another_input_value_is_another_question(app, counted) -> None:
    clients, calls = counted
    _post(clients[Role.EXECUTIVE], _breakdown(app))
    other = callback_request(
        app, "update_breakdown", {"overview-to.value": "2024-03", "overview-by.value": "plan"}
    )
    _post(clients[Role.EXECUTIVE], other)
    assert len(calls) == 2


def test_the_same_values_reached_another_way_are_the_same_question(app, counted) -> None:
    clients, calls = counted
    by_filter = _breakdown(app)
    by_filter["changedPropIds"] = ["overview-by.value"]
    _post(clients[Role.EXECUTIVE], by_filter)
    on_load = dict(reversed(list({**by_filter, "changedPropIds": []}.items())))  # keys reordered
    again = _post(clients[Role.EXECUTIVE], on_load)
    assert again.status_code == 200 and len(calls) == 1
    assert answer_cache.question(by_filter) == answer_cache.question(on_load)
    other = {**by_filter, "inputs": [dict(i, value="x") for i in by_filter["inputs"]]}
    assert answer_cache.question(other) != answer_cache.question(by_filter)


_TRIGGER = re.compile(r"callback_context|triggered|\bdash\.ctx\b|import [^\n]*\bctx\b")


def test_no_cached_callback_reads_which_input_changed(app) -> None:
    # The question leaves out which input changed, so a cached answer must not depend on it.
    modules = {
        inspect.getmodule(entry["callback"])
        for entry in app.callback_map.values()
        if is_cached(entry.get("callback"))
    }
    assert modules
    for module in modules:
        found = _TRIGGER.search(inspect.getsource(module))
        assert found is None, f"{module.__name__} reads {found.group(0)!r}"


def test_a_failed_answer_is_not_kept(app, counted, monkeypatch) -> None:
    from app.pages import overview

    clients, calls = counted
    monkeypatch.setattr(overview, "breakdown_figure", _raises)
    body = _breakdown(app)
    assert _post(clients[Role.EXECUTIVE], body).status_code == 500
    monkeypatch.undo()
    clients, calls = counted
    assert _post(clients[Role.EXECUTIVE], body).status_code == 200


def _raises(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("query failed")


def test_an_answer_that_reads_the_clock_is_not_kept(app, counted, monkeypatch) -> None:
    from app.pages import overview

    clients, calls = counted
    counting = overview.breakdown_figure

    def timed(*args: Any, **kwargs: Any) -> Any:
        answer_cache.depends_on_clock()
        return counting(*args, **kwargs)

    monkeypatch.setattr(overview, "breakdown_figure", timed)
    body = _breakdown(app)
    _post(clients[Role.EXECUTIVE], body)
    _post(clients[Role.EXECUTIVE], body)
    assert len(calls) == 2


def test_an_answer_that_read_the_runs_is_recomputed_once_a_run_moves_on(
    app, warehouse, counted, monkeypatch
) -> None:
    from app.pages import overview
    from pipeline.warehouse import audit as audit_store
    from pipeline.warehouse import runs

    clients, calls = counted
    counting = overview.breakdown_figure

    def progress(*args: Any, **kwargs: Any) -> Any:
        runs.recent_runs(warehouse, 1)
        return counting(*args, **kwargs)

    monkeypatch.setattr(overview, "breakdown_figure", progress)
    body = _breakdown(app)
    _post(clients[Role.EXECUTIVE], body)
    audit_store.record(warehouse, audit_store.AuditEvent("ana", "retrain", role="analyst"))
    _post(clients[Role.EXECUTIVE], body)
    assert len(calls) == 1  # it did not read the audit trail
    runs.create_run(warehouse, "manual", "ana")
    _post(clients[Role.EXECUTIVE], body)
    assert len(calls) == 2


def test_an_answer_that_did_not_read_the_runs_outlives_a_run_s_progress(
    app, warehouse, counted
) -> None:
    from pipeline.warehouse import runs

    clients, calls = counted
    body = _breakdown(app)
    _post(clients[Role.EXECUTIVE], body)
    run_id = runs.create_run(warehouse, "manual", "ana")
    runs.start_step(warehouse, run_id, 1, "ingest")
    _post(clients[Role.EXECUTIVE], body)
    assert len(calls) == 1


def test_reads_note_the_scopes_of_the_tables_they_name(warehouse: Warehouse) -> None:
    scopes = warehouse.record_reads()
    warehouse.read("SELECT count(*) FROM RUNS")
    warehouse.scalar("SELECT max(arrived_at) FROM raw_batches")
    warehouse.stop_recording()
    warehouse.read("SELECT * FROM audit_log")  # not recording any more
    assert scopes == {"data", "progress", "intake"}
    declared = warehouse.record_reads()
    warehouse.read("SELECT * FROM runs JOIN alerts ON true", scopes={"data", "alerts"})
    warehouse.stop_recording()
    assert declared == {"data", "alerts"}  # the read said what it depends on


def test_a_kept_read_is_read_again_only_after_a_write_to_its_scopes(warehouse: Warehouse) -> None:
    reads = []

    def alerts() -> int:
        reads.append(1)
        return warehouse.scalar("SELECT count(*) FROM alerts")

    noted = warehouse.record_reads()
    first = warehouse.kept("alerts", ["alerts"], alerts)
    warehouse.stop_recording()
    assert noted == {"data", "alerts"}  # noted like the read it stands for
    warehouse.execute(
        "INSERT INTO runs (run_id, trigger, status, started_at) "
        "SELECT coalesce(max(run_id), 0) + 1, 'manual', 'running', now() FROM runs",
        scope="progress",
    )
    assert warehouse.kept("alerts", ["alerts"], alerts) == first and len(reads) == 1
    warehouse.execute(
        "INSERT INTO alerts (alert_id, severity, kind, message, status, raised_at) "
        "VALUES (9001, 'warning', 'drift', 'm', 'open', now())",
        scope="alerts",
    )
    assert warehouse.kept("alerts", ["alerts"], alerts) == first + 1 and len(reads) == 2
    warehouse.execute("CHECKPOINT")  # a "data" write always counts
    warehouse.kept("alerts", ["alerts"], alerts)
    assert len(reads) == 3


def test_a_page_layout_is_kept_for_cached_pages_only(app, warehouse, monkeypatch) -> None:
    from app.pages import overview, users

    ensure_users(warehouse)
    admin = logged_in_client(app.server, "admin")
    layouts: list[str] = []
    for module in (overview, users):
        real = module.layout

        def counting(*a: Any, _real=real, _name=module.__name__, **kw: Any) -> Any:
            layouts.append(_name)
            return _real(*a, **kw)

        page = dash.page_registry[module.__name__]
        monkeypatch.setattr(page["layout"], "__wrapped__", counting)
        monkeypatch.setitem(page, "layout", _guarded(page, counting))
    for path in ("/", "/", "/users", "/users"):
        response = _post(admin, router_body(path))
        assert response.status_code == 200, response.get_data(as_text=True)
    assert layouts == ["app.pages.overview", "app.pages.users", "app.pages.users"]


def _guarded(page: dict[str, Any], layout: Any) -> Any:
    from app import _refusal
    from app.auth.gate import guard_layout, page_role

    return guard_layout(layout, page_role(page), _refusal)
