"""Answers of read-only callbacks, kept until what they read changes.

Fifty people reading the same dashboards ask the same questions: the Overview's KPIs for the
latest month, the Monitor's heatmap. A callback marked :func:`cached_answer` promises that its
answer depends only on its inputs, the warehouse's contents and the caller's role: no files, no
in-memory state, no side effects. Its answer is then computed once and served from memory to
everyone with the same role who asks the same question, until something it read is written.
Pages registered with ``cached=True`` promise the same of their layout, so Dash's page-routing
callback answers for them are kept too.

The key is (the warehouse's "data" generation, UTC date, role, the question: SHA-256 of the request
body without the inputs that changed, see :func:`question`). Generations count committed writes by
scope (``pipeline.warehouse.connection.SCOPES``; this process is the warehouse's only writer). A
"data" write (a publication, a promotion) empties the cache. Writes to the tables that change often
without changing results (a run's steps and a failed or cancelled run's end, raw batches arriving,
alerts, the audit trail, accounts) have scopes of their own: an answer is kept with the generations
of the scopes its reads named (the warehouse records them per request) and is a miss once one of
those moved on. So a retrain's step-by-step progress redraws the Runs page and the waiting cards,
not the Overview's KPIs. An answer that reads the clock ("running for 12 s") says so with
:func:`depends_on_clock` and is not kept. The date is in the key because freshness lines write a
time without its date only when it is today.

Only successful answers (HTTP 200) are kept, at most ``max_bytes`` of them, least recently used
dropped first. When several requests miss on the same key at once, the first computes and the
others wait for its answer instead of computing it again (after a run publishes, fifty users
would otherwise all miss together).

The gate (:mod:`app.auth.gate`) has already checked the role when these hooks run.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import dash
import flask

from app.auth.permissions import needed_role
from app.auth.session import current_user
from app.services import services

F = TypeVar("F", bound=Callable[..., Any])

CACHED_MARK = "plumbline_cached"
CALLBACK_PATH = "/_dash-update-component"
LOCATION_ID = "_pages_location"
EXTENSION = "plumbline_answer_cache"
MAX_BYTES = 64 * 2**20
WAIT_SECONDS = 30.0
# What a callback POST says about which input changed; Dash turns it into callback_context.
TRIGGER_FIELDS = frozenset({"changedPropIds", "parsedChangedPropsIds"})
_CLAIM = "plumbline_answer_claim"
_CLOCK = "plumbline_answer_reads_clock"
_READS = "plumbline_answer_reads"


def cached_answer(func: F) -> F:
    """Mark a callback whose answer depends only on its inputs' and states' values, the
    warehouse and the role: not on which input changed (``callback_context``), the clock (see
    :func:`depends_on_clock`), files or memory.

    Put it under ``@requires(...)``. Never on a callback that changes state (an ``action``):
    :func:`install_answer_cache` refuses to start with one.
    """
    setattr(func, CACHED_MARK, True)
    return func


def depends_on_clock() -> None:
    """Say that the answer being computed reads the clock (e.g. "running for 12 s"): it is then
    not kept, even for a cached callback or page. Outside a request this does nothing."""
    if flask.has_request_context():
        setattr(flask.g, _CLOCK, True)


@dataclass(frozen=True)
class Answer:
    """A kept answer: its body and type, and the generations of the scopes other than "data"
    that it read, as (scope, generation) pairs."""

    body: bytes
    mimetype: str
    read: tuple[tuple[str, int], ...] = ()


def is_cached(func: Callable[..., Any] | None) -> bool:
    """Whether ``func`` or a function it wraps is marked with :func:`cached_answer`."""
    while func is not None:
        if getattr(func, CACHED_MARK, False):
            return True
        func = getattr(func, "__wrapped__", None)
    return False


class AnswerCache:
    """Answers by key, for one state of the warehouse at a time; thread-safe.

    ``state`` is what the answers were computed from (data generation, date): a lookup with
    another state empties the cache first. ``generations`` are the current generations of the
    other scopes: a kept answer that read an older one is a miss. A miss claims the key: the
    caller computes the answer, then calls :meth:`store` if it got one and :meth:`release` in
    any case, while other requests for the key wait.
    """

    def __init__(self, max_bytes: int = MAX_BYTES, wait_seconds: float = WAIT_SECONDS) -> None:
        self.max_bytes, self.wait_seconds = max_bytes, wait_seconds
        self._answers: OrderedDict[Hashable, Answer] = OrderedDict()
        self._pending: dict[Hashable, threading.Event] = {}
        self._state: Hashable = None
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0  # lookups answered from memory, and the others

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._answers)

    def __contains__(self, key: object) -> bool:
        return key in self._answers

    def lookup(
        self, state: Hashable, key: Hashable, generations: Mapping[str, int] | None = None
    ) -> Answer | None:
        """The answer for ``key``, or None after claiming it (see the class docstring).

        When another request holds the claim, waits up to ``wait_seconds`` for its answer; if it
        brought none (an error, a timeout), returns None without a claim.
        """
        generations = generations or {}
        with self._lock:
            if state != self._state:
                # Answers of another state are stale (or, for a request that read an older
                # generation, too new): either way they all go.
                self._answers.clear()
                self._bytes = 0
                self._state = state
            found = self._hit(key, generations)
            if found is not None:
                return found
            event = self._pending.get((state, key))
            if event is None:
                self._pending[(state, key)] = threading.Event()
                self.misses += 1
                return None
        event.wait(self.wait_seconds)
        with self._lock:
            found = self._hit(key, generations) if state == self._state else None
            if found is None:
                self.misses += 1
            return found

    def _hit(self, key: Hashable, generations: Mapping[str, int]) -> Answer | None:
        found = self._answers.get(key)
        if found is not None and any(generations.get(s, 0) != g for s, g in found.read):
            self._drop(key)
            found = None
        if found is not None:
            self._answers.move_to_end(key)
            self.hits += 1
        return found

    def _drop(self, key: Hashable) -> None:
        self._bytes -= len(self._answers.pop(key).body)

    def store(self, state: Hashable, key: Hashable, answer: Answer) -> None:
        """Keep ``answer`` for ``key`` if ``state`` is still current and it fits."""
        with self._lock:
            if state != self._state or len(answer.body) > self.max_bytes:
                return
            if key in self._answers:
                self._drop(key)
            self._answers[key] = answer
            self._bytes += len(answer.body)
            while self._bytes > self.max_bytes:
                self._drop(next(iter(self._answers)))

    def release(self, state: Hashable, key: Hashable) -> None:
        """End a claim: the requests waiting for ``key`` look again."""
        with self._lock:
            event = self._pending.pop((state, key), None)
        if event is not None:
            event.set()


def question(body: dict[str, Any]) -> bytes:
    """The key of a callback POST's question: SHA-256 of its body without the inputs that
    changed (``changedPropIds``), in one canonical JSON form. The same values reached by another
    filter, or by a page load instead of a filter change, are the same question: a cached
    callback's answer depends on the values alone (:func:`cached_answer`)."""
    asked = {k: v for k, v in body.items() if k not in TRIGGER_FIELDS}
    text = json.dumps(asked, sort_keys=True, separators=(",", ":"))  # a parsed JSON body
    return hashlib.sha256(text.encode()).digest()


def _page_is_cached(app: dash.Dash, pathname: object) -> bool:
    if not isinstance(pathname, str):
        return False
    prefix = app.config.requests_pathname_prefix
    if pathname.startswith(prefix):
        pathname = "/" + pathname[len(prefix) :]
    return any(
        page.get("cached") is True and page.get("path") == pathname
        for page in dash.page_registry.values()
    )


def _router_pathname(body: dict[str, Any]) -> object:
    for item in body.get("inputs") or []:
        if isinstance(item, dict) and (item.get("id"), item.get("property")) == (
            LOCATION_ID,
            "pathname",
        ):
            return item.get("value")
    return None


def answer_is_cached(app: dash.Dash, body: object) -> bool:
    """Whether the callback POST ``body`` asks a cached callback, or routes to a cached page."""
    if not isinstance(body, dict) or not isinstance(body.get("output"), str):
        return False
    entry = app.callback_map.get(body["output"]) or {}
    func = entry.get("callback")
    if is_cached(func):
        return True
    # Dash's page router: the one callback with the location's pathname among its inputs.
    return _page_is_cached(app, _router_pathname(body))


def check_marks(app: dash.Dash) -> None:
    """Refuse a callback marked both cached and state-changing (it would not run again)."""
    for output, entry in app.callback_map.items():
        func = entry.get("callback")
        if is_cached(func) and needed_role(func)[1] is not None:
            raise RuntimeError(f"callback {output} changes state and cannot be @cached_answer")


def install_answer_cache(app: dash.Dash, cache: AnswerCache | None = None) -> AnswerCache:
    """Serve cached answers on ``app.server``; install after the gate. Returns the cache."""
    check_marks(app)
    cache = cache or AnswerCache()

    def answer() -> flask.Response | None:
        request = flask.request
        if request.path != CALLBACK_PATH or request.method != "POST":
            return None
        user = current_user(services().warehouse)
        body = request.get_json(silent=True)
        if user is None or not answer_is_cached(app, body):
            return None
        wh = services().warehouse
        state = (wh.generation("data"), datetime.now(UTC).date())
        generations = wh.generations()
        key = (user.role.value, question(body))
        found = cache.lookup(state, key, generations)
        if found is not None:
            return flask.Response(found.body, 200, mimetype=found.mimetype)
        flask.g.setdefault(_CLAIM, (state, key, generations))
        setattr(flask.g, _READS, wh.record_reads())
        return None

    def keep(response: flask.Response) -> flask.Response:
        claim = flask.g.get(_CLAIM)
        if claim is None or flask.g.get(_CLOCK, False):
            return response
        if response.status_code == 200 and not response.is_streamed:
            state, key, generations = claim
            scopes = sorted(flask.g.get(_READS, set()) - {"data"})
            read = tuple((scope, generations[scope]) for scope in scopes)
            cache.store(state, key, Answer(response.get_data(), response.mimetype, read))
        return response

    def release(_error: BaseException | None) -> None:
        if flask.g.pop(_READS, None) is not None:
            services().warehouse.stop_recording()
        claim = flask.g.pop(_CLAIM, None)
        if claim is not None:
            cache.release(*claim[:2])

    app.server.extensions[EXTENSION] = cache  # read by /metrics
    app.server.before_request(answer)
    # Only the body and its type are kept: the other hooks add their headers to a hit as to
    # any answer.
    app.server.after_request(keep)
    app.server.teardown_request(release)
    return cache
