"""Accounts from the command line, the first admin, and the secret key outside demo mode."""

from __future__ import annotations

import subprocess
from pathlib import Path

from benchmarks.served import free_port
from pipeline import accounts
from pipeline.warehouse import Warehouse
from pipeline.warehouse import audit as audit_store
from tests.integration.test_cli import PLUMBLINE, _env


def _cli(*args: str, stdin: str | None = None, env: dict | None = None, timeout: float = 60):
    return subprocess.run(
        [*PLUMBLINE, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env or _env(),
        input=stdin,
    )


def test_users_add_list_disable_enable_and_each_is_audited(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    added = _cli("users", "add", "alice", "--role", "analyst", "--data-dir", data)
    assert added.returncode == 0, added.stderr
    password = added.stdout.split("password (shown once, pass it on securely): ")[1].strip()
    typed = _cli(
        "users",
        "add",
        "bob",
        "--role",
        "executive",
        "--password-stdin",
        "--data-dir",
        data,
        stdin="a long enough password\n",
    )
    assert typed.returncode == 0 and "password" not in typed.stdout
    again = _cli("users", "add", "alice", "--role", "admin", "--data-dir", data)
    assert again.returncode == 1 and "exists already" in again.stderr
    short = _cli(
        "users",
        "add",
        "carol",
        "--role",
        "analyst",
        "--password-stdin",
        "--data-dir",
        data,
        stdin="short\n",
    )
    assert short.returncode == 1 and "at least 10 characters" in short.stderr
    assert _cli("users", "disable", "alice", "--data-dir", data).returncode == 0
    listing = _cli("users", "list", "--data-dir", data).stdout
    assert "alice" in listing and "disabled" in listing and "bob" in listing
    assert "$argon2" not in listing  # hashes never leave the accounts module
    with Warehouse(Path(data) / "warehouse.duckdb") as wh:
        assert accounts.authenticate(wh, "alice", password) is None  # disabled
    assert _cli("users", "enable", "alice", "--data-dir", data).returncode == 0
    with Warehouse(Path(data) / "warehouse.duckdb") as wh:
        assert accounts.authenticate(wh, "alice", password) is not None
        assert accounts.authenticate(wh, "bob", "a long enough password") is not None
        events = audit_store.list_events(wh)
        assert audit_store.verify_chain(wh) is None
    assert events["action"].tolist()[::-1] == [
        "user.add",
        "user.add",
        "user.disable",
        "user.enable",
    ]
    assert events["actor"].str.endswith("(command line)").all()


def test_outside_the_demo_serve_refuses_without_a_secret_key(tmp_path: Path) -> None:
    source = tmp_path / "customers.csv"
    source.write_text("customer_id,snapshot_month,churned\nC1,2024-01-01,0\n")
    env = _env() | {
        "PLUMBLINE_DATASET__SOURCE": str(source),
        "PLUMBLINE_ADMIN_PASSWORD": "first admin password",
    }
    result = _cli(
        "serve", "--data-dir", str(tmp_path / "data"), "--port", str(free_port()), env=env
    )
    assert result.returncode == 2
    assert "no secret key: set PLUMBLINE_SECRET_KEY" in result.stderr


def test_outside_the_demo_serve_refuses_without_any_account(tmp_path: Path) -> None:
    source = tmp_path / "customers.csv"
    source.write_text("customer_id,snapshot_month,churned\nC1,2024-01-01,0\n")
    env = _env() | {
        "PLUMBLINE_DATASET__SOURCE": str(source),
        "PLUMBLINE_SECRET_KEY": "x" * 40,
    }
    result = _cli(
        "serve", "--data-dir", str(tmp_path / "data"), "--port", str(free_port()), env=env
    )
    assert result.returncode == 2
    assert "plumbline users add NAME --role admin" in result.stderr


def test_while_serve_runs_users_commands_point_to_the_users_page(tmp_path: Path) -> None:
    from pipeline.warehouse import DataDirLock

    data = tmp_path / "data"
    data.mkdir()
    held = DataDirLock(data, "http://127.0.0.1:8123").acquire()  # as serve holds it
    try:
        result = _cli("users", "add", "dora", "--role", "analyst", "--data-dir", str(data))
    finally:
        held.release()
    assert result.returncode == 1
    assert "manage accounts on its Users page at http://127.0.0.1:8123/users" in result.stderr
