"""``GET /metrics``: Prometheus text format, from the warehouse at scrape time and from the
web server's own request timings.

From the warehouse (read when scraped, nothing is kept in between):

- ``plumbline_warehouse_up``: 1, or 0 when the warehouse could not be read (then nothing else
  from it is reported in that scrape).
- ``plumbline_runs{status}``: runs by status (a gauge: a run moves from running to another).
- ``plumbline_step_duration_seconds{step}``: summary (count and sum) of finished steps'
  durations; ``plumbline_step_last_duration_seconds{step}``: the latest one.
- ``plumbline_step_rows_in_total{step}``: rows the finished steps took in.
- ``plumbline_alerts_active{severity}``: open, acknowledged and muted alerts.
- ``plumbline_champion_version``: the champion's version, 0 before the first one.

From the requests (a histogram in this app's own registry, so several apps in one process
never share series): ``plumbline_answer_cache_lookups_total{outcome}`` (hit or miss of the
cache of callback answers, app/answer_cache.py), ``plumbline_answer_cache_bytes`` and
``plumbline_answer_cache_answers``, and ``plumbline_request_duration_seconds{page, kind}``
where ``kind`` is

- ``callback``: a Dash callback POST; ``page`` is the registered path of the page whose module
  (or ``_<page>_*`` helper module) defines the callback.
- ``layout``: Dash's page-routing callback, which renders a page's layout; ``page`` is the
  page asked for.
- ``page``: a GET of a page; ``page`` is its registered path.
- ``other``: anything else (assets, Dash's JSON routes, login, health, metrics).

Labels only ever take registered page paths, ``other`` or these kinds: never raw paths or
query strings, so the number of series stays bounded whatever clients send. The hooks do no
warehouse access. When ``settings.web.metrics_token`` is set, the endpoint asks for
``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import inspect
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import dash
import flask
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
    SummaryMetricFamily,
)

from app.answer_cache import EXTENSION as ANSWER_CACHE
from app.answer_cache import AnswerCache
from app.auth.gate import bearer_matches
from app.ops.health import answer_first
from pipeline.settings import Settings
from pipeline.warehouse import Warehouse, runs
from pipeline.warehouse.alerts import ACTIVE, SEVERITIES
from pipeline.warehouse.models import current_aliases

log = logging.getLogger(__name__)

ENDPOINT = "plumbline_metrics"
OTHER = "other"
# Callbacks range from a few ms (a filter) to tens of seconds (an upload preview).
REQUEST_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_STARTED = "plumbline_request_started"
_ROUTER = ("router", "")  # cache marker: Dash's page-routing callback
_LOCATION_ID = "_pages_location"  # the dcc.Location of dash.page_container


# -- reads (the only SQL here; all aggregates over small tables) --------------------------------


def runs_by_status(wh: Warehouse) -> dict[str, int]:
    """Number of runs per status."""
    return {s: int(n) for s, n in wh.rows("SELECT status, count(*) FROM runs GROUP BY status")}


def step_totals(wh: Warehouse) -> list[tuple[str, int, float, int, float | None]]:
    """Per step of finished runs: (step, timed count, seconds sum, rows_in sum, last seconds).

    "Finished" means not running; a step interrupted by a crash has no duration and counts
    for rows only.
    """
    rows = wh.rows(
        "SELECT step, count(duration_s), coalesce(sum(duration_s), 0), "
        "coalesce(sum(rows_in), 0), "
        "arg_max(duration_s, finished_at) FILTER (WHERE duration_s IS NOT NULL) "
        "FROM run_steps WHERE status <> 'running' GROUP BY step ORDER BY step"
    )
    return [
        (step, int(n), float(total), int(rows_in), None if last is None else float(last))
        for step, n, total, rows_in, last in rows
    ]


def active_alerts(wh: Warehouse) -> dict[str, int]:
    """Number of active (open, acknowledged or muted) alerts per severity."""
    found = wh.rows(
        "SELECT severity, count(*) FROM alerts WHERE list_contains(?, status) GROUP BY severity",
        [list(ACTIVE)],
    )
    return {s: int(n) for s, n in found}


class WarehouseCollector:
    """A Prometheus collector that reads the warehouse each time it is scraped."""

    def __init__(self, wh: Warehouse) -> None:
        self.wh = wh

    def collect(self) -> Iterator[Metric]:
        """The warehouse metrics (see the module docstring)."""
        try:
            statuses = runs_by_status(self.wh)
            steps = step_totals(self.wh)
            alerts = active_alerts(self.wh)
            champion = current_aliases(self.wh).get("champion")
        except Exception as error:  # a scrape must answer even when the warehouse cannot
            log.warning("metrics: the warehouse could not be read: %s", error)
            yield GaugeMetricFamily(
                "plumbline_warehouse_up", "1 when the warehouse could be read", value=0
            )
            return
        yield GaugeMetricFamily(
            "plumbline_warehouse_up", "1 when the warehouse could be read", value=1
        )

        family = GaugeMetricFamily(
            "plumbline_runs", "Pipeline runs in the warehouse, by status", labels=["status"]
        )
        for status in sorted(set(runs.RUN_STATUSES) | set(statuses)):
            family.add_metric([status], statuses.get(status, 0))
        yield family

        durations = SummaryMetricFamily(
            "plumbline_step_duration_seconds",
            "Durations of finished pipeline steps",
            labels=["step"],
        )
        last = GaugeMetricFamily(
            "plumbline_step_last_duration_seconds",
            "Duration of each step's latest finished run",
            labels=["step"],
        )
        rows = CounterMetricFamily(
            "plumbline_step_rows_in", "Rows taken in by finished pipeline steps", labels=["step"]
        )
        for step, count, seconds, rows_in, latest in steps:
            durations.add_metric([step], count, seconds)
            if latest is not None:
                last.add_metric([step], latest)
            rows.add_metric([step], rows_in)
        yield durations
        yield last
        yield rows

        family = GaugeMetricFamily(
            "plumbline_alerts_active",
            "Open, acknowledged or muted alerts, by severity",
            labels=["severity"],
        )
        for severity in sorted(set(SEVERITIES) | set(alerts)):
            family.add_metric([severity], alerts.get(severity, 0))
        yield family

        yield GaugeMetricFamily(
            "plumbline_champion_version",
            "Model version the champion alias points at; 0 before the first champion",
            value=champion or 0,
        )


class AnswerCacheCollector:
    """Hits, misses and size of the app's cache of callback answers (app/answer_cache.py)."""

    def __init__(self, cache: AnswerCache) -> None:
        self.cache = cache

    def collect(self) -> Iterator[Metric]:
        """The cache metrics, as of now."""
        lookups = CounterMetricFamily(
            "plumbline_answer_cache_lookups",
            "Cached callbacks' lookups, answered from memory (hit) or computed (miss)",
            labels=["outcome"],
        )
        lookups.add_metric(["hit"], self.cache.hits)
        lookups.add_metric(["miss"], self.cache.misses)
        yield lookups
        yield GaugeMetricFamily(
            "plumbline_answer_cache_bytes", "Bytes of answers kept", value=self.cache.size_bytes
        )
        yield GaugeMetricFamily(
            "plumbline_answer_cache_answers", "Answers kept", value=len(self.cache)
        )


# -- request labels ----------------------------------------------------------------------------


def registered_pages() -> dict[str, str]:
    """Module name -> path of every page in ``dash.page_registry``."""
    return {module: page["path"] for module, page in dash.page_registry.items()}


def owning_page(module: str, pages: dict[str, str]) -> str | None:
    """The path of the page ``module`` belongs to, or None.

    A page module owns itself; a helper module ``<package>._<page>_<anything>`` (the house
    convention, e.g. ``app.pages._models_actions``) belongs to the page ``<package>.<page>``.
    The longest page name wins, should one page's name start another's.
    """
    if module in pages:
        return pages[module]
    package, _, name = module.rpartition(".")
    if not name.startswith("_"):
        return None
    best: tuple[str, str] | None = None
    for page_module, path in pages.items():
        page_package, _, page_name = page_module.rpartition(".")
        if page_package != package or not name[1:].startswith(page_name + "_"):
            continue
        if best is None or len(page_name) > len(best[0]):
            best = (page_name, path)
    return best[1] if best else None


def _pathname(body: dict[str, Any]) -> str | None:
    for item in body.get("inputs") or []:
        if (
            isinstance(item, dict)
            and item.get("id") == _LOCATION_ID
            and item.get("property") == "pathname"
        ):
            value = item.get("value")
            return value if isinstance(value, str) else None
    return None


class RequestLabels:
    """Turns a request into bounded ``(kind, page)`` labels for one Dash app."""

    def __init__(self, app: dash.Dash) -> None:
        self.app = app
        self.pages = registered_pages()
        self._by_key = {path.strip("/"): path for path in self.pages.values()}
        prefix = app.config.routes_pathname_prefix
        self._callback_endpoint = prefix + "_dash-update-component"
        self._page_endpoints = {prefix, prefix + "<path:path>"}
        self._prefix = prefix
        # Output id -> labels (or the router marker). Only ids in app.callback_map are kept,
        # so the cache is as bounded as the app's callbacks.
        self._by_output: dict[str, tuple[str, str]] = {}
        self._lock = threading.Lock()

    def page_of_path(self, path: str, prefix: str | None = None) -> str:
        """The registered page path that ``path`` (under ``prefix``) opens, or ``other``."""
        prefix = self._prefix if prefix is None else prefix
        if path.startswith(prefix):
            path = path[len(prefix) :]
        return self._by_key.get(path.strip("/"), OTHER)

    def for_callback(self, body: Any) -> tuple[str, str]:
        """(kind, page) of a callback POST body."""
        output = body.get("output") if isinstance(body, dict) else None
        if not isinstance(output, str):
            return "callback", OTHER
        with self._lock:
            labels = self._by_output.get(output)
        if labels is None:
            entry = self.app.callback_map.get(output)
            func = (entry or {}).get("callback")
            if func is None:
                return "callback", OTHER
            module = getattr(inspect.unwrap(func), "__module__", "") or ""
            page = owning_page(module, self.pages)
            if page is not None:
                labels = ("callback", page)
            elif module.split(".")[0] == "dash" and _pathname(body) is not None:
                labels = _ROUTER
            else:
                labels = ("callback", OTHER)
            with self._lock:
                self._by_output[output] = labels
        if labels is _ROUTER:
            pathname = _pathname(body)
            prefix = self.app.config.requests_pathname_prefix
            return "layout", OTHER if pathname is None else self.page_of_path(pathname, prefix)
        return labels

    def for_request(self, request: flask.Request, response: flask.Response) -> tuple[str, str]:
        """(kind, page) of a finished request."""
        endpoint = request.endpoint
        if endpoint == self._callback_endpoint and request.method == "POST":
            if response.status_code == 413:  # the body was refused unread; do not read it
                return "callback", OTHER
            try:
                # Already parsed by the gate and by Dash; Flask caches it, so this is free.
                body = request.get_json(silent=True)
            except Exception:  # an unreadable body is labelled, not raised
                body = None
            return self.for_callback(body)
        if endpoint in self._page_endpoints and request.method in ("GET", "HEAD"):
            return "page", self.page_of_path(request.path)
        return OTHER, OTHER


# -- wiring ------------------------------------------------------------------------------------


def register_metrics(app: dash.Dash, settings: Settings, wh: Warehouse) -> None:
    """Add ``GET /metrics`` and the request-timing hooks to ``app.server``.

    Call after :func:`app.create_app` (the pages must be registered) and before serving.
    """
    registry = CollectorRegistry()
    registry.register(WarehouseCollector(wh))
    answers = app.server.extensions.get(ANSWER_CACHE)
    if answers is not None:
        registry.register(AnswerCacheCollector(answers))
    latency = Histogram(
        "plumbline_request_duration_seconds",
        "Time to answer a request, by page and kind",
        ["page", "kind"],
        registry=registry,
        buckets=REQUEST_BUCKETS,
    )
    labels = RequestLabels(app)
    token = settings.web.metrics_token
    expected = token.get_secret_value() if token is not None else None
    server = app.server

    def start() -> None:
        flask.g.setdefault(_STARTED, time.perf_counter())

    def finish(response: flask.Response) -> flask.Response:
        started = flask.g.pop(_STARTED, None)
        if started is not None:
            kind, page = labels.for_request(flask.request, response)
            latency.labels(page=page, kind=kind).observe(time.perf_counter() - started)
        return response

    def metrics() -> flask.Response:
        if expected is not None and not bearer_matches(expected):
            refused = flask.Response("a bearer token is required\n", 401, mimetype="text/plain")
            refused.headers["WWW-Authenticate"] = 'Bearer realm="plumbline metrics"'
            return refused
        response = flask.Response(generate_latest(registry), 200)
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        response.headers["Cache-Control"] = "no-store"
        return response

    server.add_url_rule("/metrics", endpoint=ENDPOINT, view_func=metrics)
    answer_first(server, ENDPOINT, metrics)
    # First in line (before answer_first too), so the time spent in the login gate counts and
    # refused requests are timed as well: a before_request that answers stops the ones after.
    server.before_request_funcs.setdefault(None, []).insert(0, start)
    server.after_request(finish)
