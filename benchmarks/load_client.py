"""Simulated users against a live `plumbline serve`: log in, load pages, change filters.

Each user is a thread with its own keep-alive connection and cookies (stdlib only). It logs in
once through the login form (GET /login, the hidden ``csrf`` input, POST /login), then loops
with 1-3 s of think time over what a browser does:

- a page load: GET the page's HTML, GET /_dash-layout and /_dash-dependencies, POST Dash's page
  router callback with the pathname, then POST the page's initial callbacks (those the renderer
  fires: not ``prevent_initial_call``, outputs and inputs present), with the values the routed
  layout holds;
- a filter change on the page shown: pick another option of one of its selects (the
  Overview's segment, breakdown or month, the Monitor's segment or metric) and POST every
  callback that input drives, then the callbacks their outputs drive (one more level), as the
  renderer chains them; on the Runs page the change is its 2-second poll.

Callback bodies are built from the server's own /_dash-dependencies, so the client follows the
app as it changes. Every request is timed; an error is any status other than 2xx (204 is Dash's
PreventUpdate, so it counts as success) or an exception. The report gives p50/p95/p99 by kind
and overall (logins excluded: they are argon2 hashes, timed separately), errors, requests/s.

    python benchmarks/load_client.py --url http://127.0.0.1:8050 --users 50 --seconds 300 \
        --password "$PLUMBLINE_ADMIN_PASSWORD" [--username admin] [--json out.json]
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import random
import re
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("load_client")

ROUTER = ".._pages_content.children..._pages_store.data.."
PAGES = ["/", "/monitor", "/runs", "/models", "/explain", "/data"]
# Which page each user favours: an executive-heavy mix, as the app's audience is.
PAGE_WEIGHTS = [5, 3, 2, 1, 1, 1]
# The selects a person changes on each page ("component-id", "property").
FILTERS: dict[str, list[tuple[str, str]]] = {
    "/": [("overview-segment", "value"), ("overview-by", "value"), ("overview-from", "value")],
    "/monitor": [("monitor-segment", "value"), ("monitor-metric", "value")],
    "/runs": [("runs-tick", "n_intervals")],
}
RETRAIN_OUTPUT = "runs-retrain-alert.children"
CSRF = re.compile(r'name="csrf" value="([^"]*)"')
STARTED = re.compile(r"Run #\d+ started")
KINDS = ("page", "layout", "route", "initial", "filter", "poll")


@dataclass(frozen=True)
class Sample:
    """One timed request: its kind, what it hit, when it started, seconds taken, outcome."""

    kind: str
    target: str
    started: float
    seconds: float
    status: int
    error: str | None = None


@dataclass
class Recorder:
    """Thread-safe store of samples."""

    samples: list[Sample] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, sample: Sample) -> None:
        with self.lock:
            self.samples.append(sample)

    def snapshot(self) -> list[Sample]:
        with self.lock:
            return list(self.samples)


class Session:
    """One user's HTTP/1.1 keep-alive connection and cookie jar."""

    def __init__(self, url: str, recorder: Recorder | None, timeout: float = 60.0):
        parts = urllib.parse.urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.timeout = timeout
        self.recorder = recorder
        self.cookies: dict[str, str] = {}
        self.conn: http.client.HTTPConnection | None = None

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(
        self,
        method: str,
        path: str,
        kind: str,
        target: str = "",
        body: bytes | None = None,
        content_type: str | None = None,
    ) -> tuple[int, bytes]:
        """Send one request, record it, and return (status, body); status 0 on an exception."""
        headers = {"Accept": "*/*"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if content_type:
            headers["Content-Type"] = content_type
        started = time.monotonic()
        status, data, error = 0, b"", None
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            data = response.read()
            status = response.status
            for header in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = header.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
            if response.will_close:
                self.close()
            redirect_ok = kind == "login" and status == 302
            if not (200 <= status < 300 or redirect_ok):
                error = f"HTTP {status}: {data[:200].decode('utf-8', 'replace')}"
        except (OSError, http.client.HTTPException) as exc:
            error = f"{type(exc).__name__}: {exc}"
            self.close()
        seconds = time.monotonic() - started
        if self.recorder is not None:
            self.recorder.add(Sample(kind, target or path, started, seconds, status, error))
        return status, data

    def login(self, username: str, password: str) -> None:
        """Log in through the form; raises RuntimeError when the server refuses."""
        status, page = self.request("GET", "/login", "login")
        match = CSRF.search(page.decode("utf-8", "replace"))
        if status != 200 or match is None:
            raise RuntimeError(f"GET /login answered {status} without a csrf field")
        form = urllib.parse.urlencode(
            {"username": username, "password": password, "csrf": match.group(1), "next": "/"}
        ).encode()
        status, body = self.request(
            "POST", "/login", "login", body=form, content_type="application/x-www-form-urlencoded"
        )
        if status != 302:
            raise RuntimeError(f"POST /login answered {status}: {body[:200]!r}")


# -- Dash plumbing -----------------------------------------------------------------------------


def _parts(output: str) -> list[tuple[str, str]]:
    """(component id, property) of each output of a callback's output string."""
    names = output[2:-2].split("...") if output.startswith("..") else [output]
    return [tuple(name.rsplit(".", 1)) for name in names]  # type: ignore[misc]


def _plain(prop: str) -> str:
    """A property without Dash's ``@hash`` suffix for duplicate outputs."""
    return prop.split("@", 1)[0]


class Callbacks:
    """The app's server-side callbacks from /_dash-dependencies, indexed by what drives them."""

    def __init__(self, dependencies: list[dict[str, Any]]):
        self.specs = [
            d
            for d in dependencies
            if not d.get("clientside_function")
            and not d.get("no_output")
            and not d["output"].lstrip(".").startswith("{")
            and all(isinstance(i["id"], str) for i in d.get("inputs", []) + d.get("state", []))
        ]
        self.by_output = {d["output"]: d for d in self.specs}

    def driven_by(self, key: tuple[str, str]) -> list[dict[str, Any]]:
        return [d for d in self.specs if any((i["id"], i["property"]) == key for i in d["inputs"])]

    def initial(self, present: set[str]) -> list[dict[str, Any]]:
        """Callbacks the renderer fires when a layout with components ``present`` appears."""
        found = []
        for d in self.specs:
            if d["output"] == ROUTER or d.get("prevent_initial_call"):
                continue
            outputs = {cid for cid, _ in _parts(d["output"])}
            inputs = {i["id"] for i in d["inputs"]}
            if outputs <= present and inputs <= present:
                found.append(d)
        return found

    @staticmethod
    def body(spec: dict[str, Any], props: dict[tuple[str, str], Any], changed: list[str]) -> bytes:
        def items(deps: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return [
                {
                    "id": d["id"],
                    "property": d["property"],
                    "value": props.get((d["id"], d["property"])),
                }
                for d in deps
            ]

        output = spec["output"]
        outputs = [{"id": cid, "property": prop} for cid, prop in _parts(output)]
        return json.dumps(
            {
                "output": output,
                "outputs": outputs if output.startswith("..") else outputs[0],
                "inputs": items(spec["inputs"]),
                "state": items(spec.get("state", [])),
                "changedPropIds": changed,
            }
        ).encode()


def router_body(pathname: str, search: str = "") -> dict[str, Any]:
    """The body a browser posts to Dash's page router to open ``pathname``."""
    return {
        "output": ROUTER,
        "outputs": [
            {"id": "_pages_content", "property": "children"},
            {"id": "_pages_store", "property": "data"},
        ],
        "inputs": [
            {"id": "_pages_location", "property": "pathname", "value": pathname},
            {"id": "_pages_location", "property": "search", "value": search},
        ],
        "changedPropIds": ["_pages_location.pathname"],
        "state": [],
    }


def _components(node: Any) -> Iterator[dict[str, Any]]:
    """Every component dict in a serialised Dash layout tree."""
    if isinstance(node, list):
        for item in node:
            yield from _components(item)
    elif isinstance(node, dict):
        if "props" in node and "type" in node:
            yield node
            node = node["props"]
        for value in node.values():
            if isinstance(value, dict | list):
                yield from _components(value)


def _props_of(tree: Any) -> dict[tuple[str, str], Any]:
    found: dict[tuple[str, str], Any] = {}
    for component in _components(tree):
        props = component["props"]
        cid = props.get("id")
        if isinstance(cid, str):
            found[(cid, "__present__")] = True
            for name, value in props.items():
                if name not in ("children", "id"):
                    found[(cid, name)] = value
    return found


def _option_values(options: Any) -> list[Any]:
    values = []
    for option in options or []:
        values.append(option.get("value") if isinstance(option, dict) else option)
    return [v for v in values if v is not None]


# -- users -------------------------------------------------------------------------------------


class User:
    """One simulated person: logs in once, then loads pages and changes filters until stopped."""

    def __init__(
        self,
        url: str,
        username: str,
        password: str,
        recorder: Recorder,
        stop: threading.Event,
        seed: int,
        think: tuple[float, float] = (1.0, 3.0),
    ):
        self.session = Session(url, recorder)
        self.username, self.password = username, password
        self.stop, self.think = stop, think
        self.random = random.Random(seed)
        self.callbacks: Callbacks | None = None
        self.shell: dict[tuple[str, str], Any] = {}
        self.page: str | None = None
        self.props: dict[tuple[str, str], Any] = {}
        self.failure: str | None = None
        self.ready = threading.Event()  # set once the login was answered

    def run(self) -> None:
        try:
            try:
                self.session.login(self.username, self.password)
            finally:
                self.ready.set()
            while not self.stop.is_set():
                if self.page is None or self.page not in FILTERS or self.random.random() < 0.35:
                    self.load_page(self.random.choices(PAGES, PAGE_WEIGHTS)[0])
                else:
                    self.change_filter()
                self.stop.wait(self.random.uniform(*self.think))
        except Exception as exc:  # a client bug must show in the report, not vanish in a thread
            self.failure = f"{type(exc).__name__}: {exc}"
            log.exception("user %s stopped", self.username)
        finally:
            self.session.close()

    def post_callback(self, spec: dict[str, Any], kind: str, changed: list[str]) -> None:
        body = Callbacks.body(spec, self.props, changed)
        status, data = self.session.request(
            "POST", "/_dash-update-component", kind, spec["output"], body, "application/json"
        )
        if status == 200 and data:
            try:
                response = json.loads(data).get("response", {})
            except ValueError:
                return
            for cid, values in response.items():
                for prop, value in (values or {}).items():
                    self.props[(cid, _plain(prop))] = value

    def load_page(self, path: str) -> None:
        self.session.request("GET", path, "page")
        status, layout = self.session.request("GET", "/_dash-layout", "layout")
        status_deps, deps = self.session.request("GET", "/_dash-dependencies", "layout")
        if status != 200 or status_deps != 200:
            return
        self.callbacks = Callbacks(json.loads(deps))
        self.shell = _props_of(json.loads(layout))
        body = json.dumps(router_body(path)).encode()
        status, routed = self.session.request(
            "POST", "/_dash-update-component", "route", path, body, "application/json"
        )
        if status != 200:
            return
        content = json.loads(routed)["response"]["_pages_content"]["children"]
        self.page = path
        self.props = {**self.shell, **_props_of(content)}
        self.props[("_pages_location", "pathname")] = path
        self.props[("_pages_location", "search")] = ""
        present = {cid for cid, prop in self.props if prop == "__present__"}
        for spec in self.callbacks.initial(present):
            if self.stop.is_set():
                return
            self.post_callback(spec, "initial", [])

    def change_filter(self) -> None:
        assert self.callbacks is not None and self.page is not None
        key = self.random.choice(FILTERS[self.page])
        if key not in self.props and key[1] != "n_intervals":
            return self.load_page(self.page)
        if key[1] == "n_intervals":
            self.props[key] = (self.props.get(key) or 0) + 1
            kind = "poll"
        else:
            choices = _option_values(self.props.get((key[0], "options")))
            others = [c for c in choices if c != self.props.get(key)] or choices
            if not others:
                return None
            self.props[key] = self.random.choice(others)
            kind = "filter"
        changed = [f"{key[0]}.{key[1]}"]
        fired = self.callbacks.driven_by(key)
        for spec in fired:
            self.post_callback(spec, kind, changed)
        # One more level: callbacks driven by what the first ones changed (e.g. the Overview's
        # segment sets the value select, whose change redraws the KPIs).
        outputs = {(cid, _plain(prop)) for spec in fired for cid, prop in _parts(spec["output"])}
        seen = {spec["output"] for spec in fired}
        for out in outputs:
            for spec in self.callbacks.driven_by(out):
                if spec["output"] not in seen and not self.stop.is_set():
                    seen.add(spec["output"])
                    self.post_callback(spec, kind, [f"{out[0]}.{out[1]}"])
        return None


# -- running and reporting ---------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0-1) of ``values`` by linear interpolation; NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _stats(samples: list[Sample]) -> dict[str, Any]:
    seconds = [s.seconds for s in samples] or [0.0]  # an empty window reads as zeros
    return {
        "requests": len(samples),
        "errors": sum(1 for s in samples if s.error),
        "p50_ms": round(percentile(seconds, 0.50) * 1000, 1),
        "p95_ms": round(percentile(seconds, 0.95) * 1000, 1),
        "p99_ms": round(percentile(seconds, 0.99) * 1000, 1),
        "max_ms": round(max(seconds) * 1000, 1),
    }


def summarise(samples: list[Sample], wall_seconds: float, failures: list[str]) -> dict[str, Any]:
    """The report: overall (logins apart) and per kind and per callback latency, errors, rate."""
    measured = [s for s in samples if s.kind != "login"]
    by_kind = {
        kind: _stats([s for s in samples if s.kind == kind])
        for kind in ("login", *KINDS)
        if any(s.kind == kind for s in samples)
    }
    targets = sorted({s.target for s in measured if s.kind in ("initial", "filter", "poll")})
    by_callback = {t: _stats([s for s in measured if s.target == t]) for t in targets}
    errors = [s for s in samples if s.error]
    return {
        "overall": _stats(measured),
        "by_kind": by_kind,
        "by_callback": by_callback,
        "errors": len(errors),
        "error_examples": sorted({f"{s.kind} {s.target}: {s.error}" for s in errors})[:10],
        "user_failures": failures,
        "seconds": round(wall_seconds, 1),
        "requests_per_second": round(len(measured) / wall_seconds, 1) if wall_seconds else 0.0,
    }


def run_load(
    url: str,
    users: int,
    seconds: float,
    password: str,
    username: str = "admin",
    ramp_seconds: float = 5.0,
    seed: int = 1,
    on_window: Callable[[str], object] | None = None,
) -> dict[str, Any]:
    """Run ``users`` simulated users for ``seconds``; the report (see :func:`summarise`).

    Users start ``ramp_seconds`` apart in all; the clock starts once every one has logged in
    and only requests started within the window count (logins are reported apart, under
    ``by_kind.login``). ``on_window("begin")`` and ``on_window("end")`` are called at the
    window's edges (e.g. to read CPU counters).
    """
    recorder = Recorder()
    stop = threading.Event()
    people = [
        User(url, username, password, recorder, stop, seed=seed * 1000 + i) for i in range(users)
    ]
    threads = [
        threading.Thread(target=p.run, name=f"user-{i}", daemon=True) for i, p in enumerate(people)
    ]
    for thread in threads:
        thread.start()
        time.sleep(ramp_seconds / max(users, 1))
    for person in people:  # the clock starts once the argon2 logins are over
        person.ready.wait(timeout=300)
    if on_window is not None:
        on_window("begin")
    begin = time.monotonic()
    stop.wait(seconds)
    stop.set()
    end = time.monotonic()
    if on_window is not None:
        on_window("end")
    for thread in threads:
        thread.join(timeout=120)
    window = [s for s in recorder.snapshot() if s.kind == "login" or begin <= s.started < end]
    failures = [f"{p.username}#{i}: {p.failure}" for i, p in enumerate(people) if p.failure]
    report = summarise(window, end - begin, failures)
    report["users"] = users
    return report


class Retrainer:
    """Keeps a retrain going: POSTs the Runs page's Retrain callback as ``username`` whenever no
    run is active, until stopped. ``started`` counts the runs it started, ``busy_fraction``
    tells how much of the time one was running."""

    def __init__(
        self,
        url: str,
        username: str,
        password: str,
        token: str,
        poll: float = 2.0,
        before_start: Callable[[], object] | None = None,
    ):
        self.url, self.token, self.poll = url, token, poll
        # Called before each retrain, e.g. to land new data (a run trains only on new labels).
        self.before_start = before_start
        self.session = Session(url, None)
        self.session.login(username, password)
        status, deps = self.session.request("GET", "/_dash-dependencies", "layout")
        self.spec = Callbacks(json.loads(deps)).by_output[RETRAIN_OUTPUT]
        self.stop = threading.Event()
        self.started = self.polls = self.busy_polls = 0
        self.answers: list[str] = []
        self.thread = threading.Thread(target=self._loop, name="retrainer", daemon=True)

    def running(self) -> bool:
        return any(r["status"] == "running" for r in self.status().get("runs", []))

    def status(self) -> dict[str, Any]:
        conn = http.client.HTTPConnection(self.session.host, self.session.port, timeout=30)
        try:
            conn.request("GET", "/api/status", headers={"Authorization": f"Bearer {self.token}"})
            response = conn.getresponse()
            return json.loads(response.read()) if response.status == 200 else {}
        finally:
            conn.close()

    @property
    def busy_fraction(self) -> float:
        """The share of its status polls that found a run in progress."""
        return self.busy_polls / self.polls if self.polls else 0.0

    def _loop(self) -> None:
        clicks = 0
        while not self.stop.is_set():
            busy = self.running()
            self.polls += 1
            self.busy_polls += busy
            if not busy:
                if self.before_start is not None:
                    self.before_start()
                clicks += 1
                body = Callbacks.body(
                    self.spec, {("runs-retrain", "n_clicks"): clicks}, ["runs-retrain.n_clicks"]
                )
                status, data = self.session.request(
                    "POST",
                    "/_dash-update-component",
                    "retrain",
                    RETRAIN_OUTPUT,
                    body,
                    "application/json",
                )
                text = data.decode("utf-8", "replace")
                self.answers.append(f"{status} {text[-200:]}")
                if status == 200 and STARTED.search(text):
                    self.started += 1
            self.stop.wait(self.poll)

    def __enter__(self) -> Retrainer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=60)
        self.session.close()


def format_report(report: dict[str, Any]) -> str:
    """The report as a small text table."""
    lines = [
        f"{report['users']} users, {report['seconds']} s, {report['requests_per_second']} req/s, "
        f"{report['errors']} errors",
        f"{'kind':10} {'requests':>8} {'errors':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}",
    ]
    rows = [("overall", report["overall"]), *report["by_kind"].items()]
    for name, s in rows:
        lines.append(
            f"{name:10} {s['requests']:8d} {s['errors']:6d} {s['p50_ms']:8.1f} "
            f"{s['p95_ms']:8.1f} {s['p99_ms']:8.1f}"
        )
    lines += report["error_examples"] + report["user_failures"]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--username", default="admin")
    parser.add_argument("--password", required=True)
    parser.add_argument("--json", help="also write the report to this file")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    report = run_load(args.url, args.users, args.seconds, args.password, args.username)
    sys.stdout.write(format_report(report) + "\n")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(report, out, indent=2)


if __name__ == "__main__":
    main()
