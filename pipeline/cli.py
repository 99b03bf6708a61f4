"""The ``plumbline`` command: serve, run, ingest and status."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from pipeline.cli_users import cli_actor
from pipeline.ingest import SourceError, check_source
from pipeline.settings import Settings, SettingsError, load_settings

log = logging.getLogger("plumbline")

EXIT_FAILED = 1
EXIT_USAGE = 2


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _err(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def _audit(
    wh: Any, actor: str, action: str, target: str, failure: str | None, detail: str | None = None
) -> None:
    """Record what a person did from the command line in the audit trail."""
    from pipeline.warehouse import audit as audit_store

    outcome = "ok" if failure is None else "failed"
    text = "; ".join(p for p in (detail, failure) if p) or None
    audit_store.record(wh, audit_store.AuditEvent(actor, action, outcome, target, text))


def _configure_logging(settings: Settings, level: str | None = None) -> None:
    """Log at ``level`` (default: the settings') in the settings' format, secrets redacted."""
    import contextlib

    from pipeline.logs import configure_logging

    secrets = [
        value.get_secret_value()
        for value in (settings.secret_key, settings.admin_password, settings.web.metrics_token)
        if value is not None
    ]
    # The owner-only secrets folder holds the PII salt and the app's own key and token files.
    # Only read what exists: creating them is not logging's job.
    if settings.secrets_dir.is_dir():
        for path in sorted(settings.secrets_dir.iterdir()):
            with contextlib.suppress(OSError, UnicodeDecodeError):
                if path.is_file() and path.stat().st_size <= 4096:
                    value = path.read_text(encoding="utf-8").strip()
                    if len(value) >= 8:  # shorter is no secret, and would garble every line
                        secrets.append(value)
    configure_logging(level or settings.log_level, settings.web.log_format, secrets)


def _settings(args: argparse.Namespace, **overrides: Any) -> Settings:
    try:
        return load_settings(data_dir=args.data_dir, config=args.config, **overrides)
    except SettingsError as error:
        for line in error.problems:
            _err(f"plumbline: {line}")
        raise SystemExit(EXIT_USAGE) from None


def _check_source(settings: Settings) -> None:
    try:
        check_source(settings)
    except SourceError as error:
        _err(f"plumbline: {error}")
        raise SystemExit(EXIT_USAGE) from None


def _acquire(settings: Settings, url: str | None):
    from pipeline.warehouse import DataDirInUse, DataDirLock

    try:
        return DataDirLock(settings.data_dir, url).acquire()
    except DataDirInUse as error:
        _err(f"plumbline: {error}. Stop that process first, or use another --data-dir.")
        raise SystemExit(EXIT_FAILED) from None


def _proxy_options(settings: Settings) -> dict[str, Any]:
    """Behind a reverse proxy, trust its X-Forwarded-* headers, and no one else's."""
    if not settings.web.trusted_proxy:
        return {}
    return {
        "trusted_proxy": settings.web.trusted_proxy,
        "trusted_proxy_count": 1,
        "trusted_proxy_headers": "x-forwarded-for x-forwarded-proto x-forwarded-host",
    }


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the app and run the scheduler in this process, which owns the warehouse."""
    settings = _settings(args, host=args.host, port=args.port)
    _configure_logging(settings)
    _check_source(settings)
    url = f"http://{settings.host}:{settings.port}"
    lock = _acquire(settings, url)

    import waitress

    from app import create_app
    from app.api import register_api
    from app.ops.health import register_health
    from app.ops.metrics import register_metrics
    from pipeline.democlock import DemoClock
    from pipeline.runner import Runner
    from pipeline.scheduler import build_scheduler
    from pipeline.settings_audit import record_settings_change
    from pipeline.warehouse import Warehouse, runs

    wh = Warehouse(settings.warehouse_path)
    runner = scheduler = None
    try:
        _first_admin(settings, wh, url)
        record_settings_change(settings, wh)  # logs which keys changed
        interrupted = runs.mark_interrupted_runs(wh)
        if interrupted:
            log.warning(
                "runs %s were left running by a crash; marked failed (interrupted), or cancelled "
                "where someone had asked",
                interrupted,
            )
        runner = Runner(settings, wh)
        clock = DemoClock(settings, wh) if settings.dataset.is_demo else None
        try:
            app = create_app(settings, wh, runner.start_run, runner.cancel)
        except SettingsError as error:
            for line in error.problems:
                _err(f"plumbline: {line}")
            return EXIT_USAGE
        register_api(app.server, settings, wh)
        scheduler = build_scheduler(settings, runner, clock)
        register_health(app.server, settings, wh, lambda: scheduler.running)
        register_metrics(app, settings, wh)

        def _stop(signum: int, frame: Any) -> None:
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, _stop)
        scheduler.start()
        log.info(
            "Plumbline is serving %s on %s (data dir %s)",
            settings.dataset.source,
            url,
            settings.data_dir.resolve(),
        )
        try:
            waitress.serve(
                app.server,
                host=settings.host,
                port=settings.port,
                threads=8,
                ident="Plumbline",
                clear_untrusted_proxy_headers=True,
                **_proxy_options(settings),
            )
        except OSError as error:
            _err(
                f"plumbline: cannot listen on {url}: {error.strerror or error}; "
                "pick another --port or stop the program using it"
            )
            return EXIT_FAILED
        except KeyboardInterrupt:
            log.info("stopping")
        return 0
    finally:
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=False)
        if runner is not None:
            runner.shutdown(wait=False)
        wh.close()
        lock.release()


def cmd_run(args: argparse.Namespace) -> int:
    """Run the pipeline once now, with a progress bar per step."""
    settings = _settings(args)
    _configure_logging(settings, "WARNING" if not args.verbose else "INFO")
    _check_source(settings)
    lock = _acquire(settings, None)

    from pipeline.democlock import DemoClock
    from pipeline.progress import StepBars
    from pipeline.runner import Runner
    from pipeline.warehouse import Warehouse, runs

    wh = Warehouse(settings.warehouse_path)
    try:
        interrupted = runs.mark_interrupted_runs(wh)
        if interrupted:
            _err(f"runs {interrupted} were left running by a crash; marked failed (interrupted)")
        if settings.dataset.is_demo:
            released = DemoClock(settings, wh).advance()
            if released:
                _out(f"demo clock: released month(s) {released[0]}..{released[-1]}")
        bars = StepBars()
        runner = Runner(settings, wh, hook=bars.hook)
        started = time.perf_counter()
        if args.retrain:
            actor = cli_actor()
            request, reason = runner.run_now("manual", actor)
            _audit(wh, actor, "retrain", f"run #{request.run_id}", reason)
        else:
            request, reason = runner.run_now("cli", None)
        bars.close()
        runner.shutdown()
        if reason is not None:
            _err(f"plumbline: run #{request.run_id} failed: {reason}")
            return EXIT_FAILED
        _out(f"run #{request.run_id} succeeded in {time.perf_counter() - started:.1f} s")
        return 0
    finally:
        wh.close()
        lock.release()


def cmd_ingest(args: argparse.Namespace) -> int:
    """Ingest the given files now; print per file what was accepted, quarantined or rejected."""
    settings = _settings(args)
    _configure_logging(settings, "WARNING")
    try:
        lock = _acquire(settings, None)
    except SystemExit:
        _err(
            f"plumbline: while `serve` runs, copy the files into {settings.landing_dir} "
            "instead: the next scheduled run ingests them"
        )
        raise
    from pipeline import ingest
    from pipeline.ingest import sha256_of
    from pipeline.runner import Runner
    from pipeline.warehouse import Warehouse, runs
    from pipeline.warehouse import batches as batch_store

    paths = [Path(p) for p in args.paths]
    failed = False
    for path in paths:
        if not path.is_file():
            _out(f"{path}: rejected: no such file")
            failed = True
    present = [p for p in paths if p.is_file()]
    for path in ingest.unsupported(present):
        _out(f"{path}: rejected: {ingest.unsupported_message(path)}")
        failed = True
    present = [p for p in present if p not in ingest.unsupported(present)]
    wh = Warehouse(settings.warehouse_path)
    try:
        runs.mark_interrupted_runs(wh)
        before = batch_store.batch_by_hash(wh)
        hashes = {p: sha256_of(p) for p in present}
        runner = Runner(settings, wh)
        request, reason = runner.run_now(
            "ingest", None, steps=("ingest", "validate", "clean"), paths=present
        )
        runner.shutdown()
        if reason is not None:
            _err(f"plumbline: ingest run #{request.run_id} failed: {reason}")
            return EXIT_FAILED
        after = batch_store.batch_by_hash(wh)
        reports = batch_store.batch_reports(
            wh, [after[h][0] for h in hashes.values() if h in after]
        )
        for path in present:
            digest = hashes[path]
            if digest in before:
                batch_id, arrived = before[digest]
                _out(
                    f"{path}: already ingested as batch #{batch_id} on {arrived:%Y-%m-%d %H:%M} "
                    "UTC; not counted twice"
                )
                continue
            report = reports.get(after.get(digest, (None,))[0])
            if report is None:
                _out(f"{path}: rejected: the file could not be read (unsupported type?)")
                failed = True
            elif report["status"] == "rejected":
                message = str(report["message"]).removeprefix(f"{report['file_name']}: ")
                _out(f"{path}: rejected: {message}")
                failed = True
            else:
                _out(_ingest_line(path, report))
    finally:
        wh.close()
        lock.release()
    return EXIT_FAILED if failed else 0


def cmd_reprocess(args: argparse.Namespace) -> int:
    """Re-validate rejected batches (e.g. after fixing the contract or the settings)."""
    settings = _settings(args)
    _configure_logging(settings, "WARNING")
    lock = _acquire(settings, None)
    from pipeline.runner import Runner
    from pipeline.warehouse import Warehouse, runs
    from pipeline.warehouse import batches as batch_store

    wh = Warehouse(settings.warehouse_path)
    failed = False
    try:
        runs.mark_interrupted_runs(wh)
        problems = batch_store.requeue_rejected(wh, args.batch_ids)
        for batch_id, problem in problems.items():
            _out(f"batch #{batch_id}: {problem}")
            failed = True
        ready = [b for b in args.batch_ids if b not in problems]
        if ready:
            runner = Runner(settings, wh)
            request, reason = runner.run_now(
                "reprocess", None, steps=("ingest", "validate", "clean"), paths=[]
            )
            runner.shutdown()
            if reason is not None:
                _err(f"plumbline: reprocess run #{request.run_id} failed: {reason}")
                return EXIT_FAILED
            for batch_id, report in sorted(batch_store.batch_reports(wh, ready).items()):
                if report["status"] == "rejected":
                    failed = True
                    _out(
                        f"batch #{batch_id} ({report['file_name']}): still rejected: "
                        f"{str(report['message']).removeprefix(report['file_name'] + ': ')}"
                    )
                else:
                    _out(_ingest_line(Path(report["file_name"]), report))
    finally:
        wh.close()
        lock.release()
    return EXIT_FAILED if failed else 0


def cmd_promote(args: argparse.Namespace) -> int:
    """Make a version champion by hand (promotion or rollback), with a comment."""
    settings = _settings(args)
    _configure_logging(settings, "WARNING")
    comment = (args.comment or "").strip()
    if len(comment) < 5:
        _err("plumbline: say why in --comment (at least 5 characters); it is kept in the history")
        return EXIT_USAGE
    lock = _acquire(settings, None)

    from pipeline.model_steps import PromotionRequest
    from pipeline.runner import Runner
    from pipeline.warehouse import Warehouse, runs

    wh = Warehouse(settings.warehouse_path)
    try:
        runs.mark_interrupted_runs(wh)
        action = "rollback" if args.rollback else "promote"
        request = PromotionRequest(args.version, cli_actor(), comment, action)
        runner = Runner(settings, wh)
        started, reason = runner.run_now(
            action, request.actor, steps=("promote",), promotion=request
        )
        runner.shutdown()
        _audit(wh, request.actor, action, f"v{args.version}", reason, f"Comment: {comment}")
        if reason is not None:
            _err(f"plumbline: {action} run #{started.run_id} failed: {reason}")
            return EXIT_FAILED
        _out(f"v{args.version} is now the champion (run #{started.run_id})")
        return 0
    finally:
        wh.close()
        lock.release()


def _ingest_line(path: Path, r: dict[str, Any]) -> str:
    rules = ", ".join(f"{rule} {n:,}" for rule, n in r["rules"].items())
    quarantined = f"{r['quarantined'] or 0:,} quarantined" + (f" ({rules})" if rules else "")
    what = "labels" if r["labels"] and r["labels"] == r["accepted"] else "rows"
    return (
        f"{path}: batch #{r['batch_id']}: {r['rows_in'] or 0:,} rows in, "
        f"{r['accepted'] or 0:,} {what} accepted, {quarantined}"
    )


def cmd_status(args: argparse.Namespace) -> int:
    """Print the warehouse, champion and last runs; ``--json`` for scripts."""
    settings = _settings(args)
    from pipeline.status import collect_status, format_status
    from pipeline.warehouse import DataDirInUse, DataDirLock, Warehouse

    if not settings.warehouse_path.exists():
        _err(
            f"plumbline: no warehouse in {settings.data_dir.resolve()} yet; "
            "start `plumbline serve` or `plumbline run` first"
        )
        return EXIT_FAILED
    try:
        lock = DataDirLock(settings.data_dir).acquire()
    except DataDirInUse as busy:
        status = _status_from_server(busy, settings)
        if status is None:
            return EXIT_FAILED
    else:
        try:
            with Warehouse(settings.warehouse_path, read_only=True) as wh:
                status = collect_status(settings, wh)
        finally:
            lock.release()
    _out(json.dumps(status, default=str) if args.json else format_status(status))
    return 0


def _status_from_server(busy: Any, settings: Settings) -> dict | None:
    """While ``serve`` owns the warehouse, ask it over HTTP instead of opening the file."""
    if not busy.url:
        _err(f"plumbline: {busy}; a run is in progress, try again when it ends")
        return None
    try:
        from app.auth.session import local_api_token

        request = urllib.request.Request(
            busy.url + "/api/status",
            headers={"Authorization": f"Bearer {local_api_token(settings)}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())
    except OSError as error:
        _err(f"plumbline: {busy}, and its server at {busy.url} did not answer: {error}")
        return None


def cmd_users(args: argparse.Namespace) -> int:
    """Manage accounts (see :mod:`pipeline.cli_users`)."""
    from pipeline.cli_users import cmd_users as run_users

    return run_users(args, _settings)


def _first_admin(settings: Settings, wh: Any, url: str) -> None:
    """On a warehouse without accounts, create ``admin`` and say how to log in, once."""
    from pipeline.accounts import bootstrap_admin
    from pipeline.warehouse.users import count_users

    if count_users(wh):
        return
    given = settings.admin_password.get_secret_value() if settings.admin_password else None
    if not settings.dataset.is_demo and given is None:
        _err(
            "plumbline: there are no accounts yet: stop here and run `plumbline users add NAME "
            "--role admin`, or set PLUMBLINE_ADMIN_PASSWORD to create `admin` on start"
        )
        raise SystemExit(EXIT_USAGE)
    password = bootstrap_admin(wh, given)
    if given is not None:
        _out(f"first start: log in at {url}/login as admin with PLUMBLINE_ADMIN_PASSWORD")
    else:
        _out(
            f"first start: log in at {url}/login as admin with password {password}\n"
            "  (shown once; add people and change it on the Users page)"
        )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``plumbline`` command."""
    parser = argparse.ArgumentParser(prog="plumbline", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--data-dir",
            type=Path,
            default=None,
            help="runtime data dir (default ./data or PLUMBLINE_DATA_DIR)",
        )
        p.add_argument(
            "--config",
            type=Path,
            default=None,
            help="settings TOML (default <data-dir>/plumbline.toml when present)",
        )

    serve = sub.add_parser("serve", help="serve the web app and run the scheduler")
    common(serve)
    serve.add_argument("--host", default=None, help="interface to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="port (default 8050)")
    serve.set_defaults(func=cmd_serve)

    run = sub.add_parser("run", help="run the pipeline once now")
    common(run)
    run.add_argument("-v", "--verbose", action="store_true", help="log each step's details")
    run.add_argument(
        "--retrain",
        action="store_true",
        help="train a challenger now whatever the retrain policy says (needs new labels)",
    )
    run.set_defaults(func=cmd_run)

    ingest_cmd = sub.add_parser("ingest", help="ingest files now and report each one")
    common(ingest_cmd)
    ingest_cmd.add_argument("paths", nargs="+", help="CSV, Parquet or JSON Lines files")
    ingest_cmd.set_defaults(func=cmd_ingest)

    reprocess = sub.add_parser("reprocess", help="re-validate rejected batches by id")
    common(reprocess)
    reprocess.add_argument("batch_ids", nargs="+", type=int, help="batch ids (see the Data page)")
    reprocess.set_defaults(func=cmd_reprocess)

    promote = sub.add_parser("promote", help="make a model version champion by hand")
    common(promote)
    promote.add_argument("version", type=int, help="model version (see the Model review page)")
    promote.add_argument("--comment", required=True, help="why; kept in the alias history")
    promote.add_argument("--rollback", action="store_true", help="record it as a rollback")
    promote.set_defaults(func=cmd_promote)

    status = sub.add_parser("status", help="warehouse, champion model and last runs")
    common(status)
    status.add_argument("--json", action="store_true", help="print one JSON object")
    status.set_defaults(func=cmd_status)
    from pipeline.cli_users import add_parser as add_users_parser

    add_users_parser(sub, common, cmd_users)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``plumbline`` console script."""
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
