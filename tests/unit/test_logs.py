"""Structured logs: text or JSON lines, with e-mails, phone numbers and secrets redacted."""

from __future__ import annotations

import json
import logging
import os
from datetime import datetime

import pytest

from pipeline import cli
from pipeline.logs import REDACTED, Redactor, configure_logging
from pipeline.pii import SALT_FILE
from pipeline.settings import load_settings

EMAIL = "jane.doe+churn@example.co.uk"
PHONE = "+44 20 7946 0958"
SECRET = "s3cr3t-Token-xyz"


@pytest.fixture(autouse=True)
def restore_root_logger():
    """configure_logging changes the root logger: put it back after each test."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


def _log_everything(logger: logging.Logger) -> None:
    logger.warning("customer %s called from %s", EMAIL, PHONE)
    logger.info("the session key is %s", SECRET)
    try:
        raise ValueError(f"cannot mail {EMAIL} with key {SECRET} or call (555) 123-4567")
    except ValueError:
        logger.exception("upload by %s failed", PHONE)


def _assert_nothing_personal(text: str) -> None:
    for value in (EMAIL, PHONE, SECRET, "(555) 123-4567", "7946", "example.co.uk"):
        assert value not in text


def test_text_logs_redact_emails_phones_and_secrets_in_args_and_tracebacks(capsys):
    configure_logging("INFO", "text", secrets=[SECRET])
    _log_everything(logging.getLogger("plumbline.test"))
    err = capsys.readouterr().err
    _assert_nothing_personal(err)
    assert f"customer {REDACTED} called from {REDACTED}" in err
    assert f"the session key is {REDACTED}" in err
    assert "Traceback (most recent call last)" in err
    assert f"ValueError: cannot mail {REDACTED} with key {REDACTED} or call {REDACTED}" in err
    assert " WARNING plumbline.test: " in err


def test_json_logs_are_one_redacted_object_per_line(capsys):
    configure_logging("INFO", "json", secrets=[SECRET])
    _log_everything(logging.getLogger("plumbline.test"))
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 3
    entries = [json.loads(line) for line in lines]
    _assert_nothing_personal("\n".join(lines))
    first = entries[0]
    assert set(first) == {"time", "level", "logger", "message"}
    assert first["level"] == "WARNING" and first["logger"] == "plumbline.test"
    assert first["message"] == f"customer {REDACTED} called from {REDACTED}"
    assert datetime.fromisoformat(first["time"]).utcoffset().total_seconds() == 0
    failed = entries[2]
    assert failed["level"] == "ERROR" and failed["message"] == f"upload by {REDACTED} failed"
    assert failed["exception"].startswith("Traceback (most recent call last)")
    assert f"with key {REDACTED}" in failed["exception"]


def test_third_party_loggers_are_redacted_too(capsys):
    configure_logging("INFO", "json")
    logging.getLogger("waitress.queue").warning("client %s sent a bad request", EMAIL)
    entry = json.loads(capsys.readouterr().err)
    assert entry["logger"] == "waitress.queue"
    assert entry["message"] == f"client {REDACTED} sent a bad request"


def test_dates_decimals_and_ids_are_left_alone():
    redact = Redactor()
    text = "run #12 took 51.25 s on 2024-05-02 12:03:00 for months 2024-01..2024-06, AUC 0.8123456"
    assert redact(text) == text
    assert redact("customer C0012345, digest a3f51234567890bc") == (
        "customer C0012345, digest a3f51234567890bc"
    )
    assert redact("on 2024-05-02 call 0612345678") == f"on 2024-05-02 call {REDACTED}"
    assert redact("(555) 123-4567 or 555.123.4567") == f"{REDACTED} or {REDACTED}"


def test_configuring_twice_keeps_one_handler_and_the_level(capsys):
    configure_logging("INFO", "text")
    configure_logging("WARNING", "json")
    logging.getLogger("plumbline.test").info("not shown")
    logging.getLogger("plumbline.test").warning("shown")
    lines = capsys.readouterr().err.strip().splitlines()
    assert [json.loads(line)["message"] for line in lines] == ["shown"]


def test_an_unknown_format_is_refused():
    with pytest.raises(ValueError, match="'text' or 'json'"):
        configure_logging("INFO", "xml")


def test_the_command_redacts_the_settings_secrets_and_the_secrets_folder(
    tmp_path, monkeypatch, capsys
):
    for key in [k for k in os.environ if k.startswith("PLUMBLINE_")]:
        monkeypatch.delenv(key)
    settings = load_settings(
        data_dir=tmp_path,
        secret_key="the-session-signing-key",
        admin_password="first-admin-password",
        web={"metrics_token": "scrape-token-123", "log_format": "json"},
    )
    cli._configure_logging(settings, "INFO")
    assert not (settings.secrets_dir / SALT_FILE).exists()  # read when there, never created
    settings.secrets_dir.mkdir(parents=True)
    (settings.secrets_dir / SALT_FILE).write_text("0123abcdsaltsalt\n", encoding="ascii")
    (settings.secrets_dir / "api_token").write_text("local-api-token-42", encoding="ascii")
    cli._configure_logging(settings, "INFO")
    values = [
        "the-session-signing-key",
        "first-admin-password",
        "scrape-token-123",
        "0123abcdsaltsalt",
        "local-api-token-42",
    ]
    logging.getLogger("plumbline").info("values: %s", " ".join(values))
    entry = json.loads(capsys.readouterr().err)
    assert entry["message"] == "values: " + " ".join([REDACTED] * len(values))
