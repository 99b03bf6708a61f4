"""``plumbline users add/list/disable/enable``: accounts from the command line.

The warehouse has one writer: while ``plumbline serve`` runs, accounts are managed on its Users
page (admin), and these commands say so instead of waiting.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable

import pandas as pd

from pipeline import accounts
from pipeline.warehouse import audit as audit_store

EXIT_FAILED = 1
EXIT_USAGE = 2


def cli_actor() -> str:
    """How the audit trail names a person acting from the command line."""
    return f"{getpass.getuser()} (command line)"


def _read_password(args: argparse.Namespace) -> tuple[str, bool]:
    """(password, generated): from stdin with --password-stdin, else a generated one."""
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n"), False
    return accounts.generate_password(), True


def _with_warehouse(args: argparse.Namespace, settings_of, work: Callable) -> int:
    from pipeline.warehouse import DataDirInUse, DataDirLock, Warehouse

    settings = settings_of(args)
    try:
        lock = DataDirLock(settings.data_dir).acquire()
    except DataDirInUse as busy:
        where = f" at {busy.url}/users" if busy.url else ""
        sys.stderr.write(
            f"plumbline: {busy}; while it runs, manage accounts on its Users page{where} "
            "(as an admin), or stop it first\n"
        )
        return EXIT_FAILED

    wh = Warehouse(settings.warehouse_path)
    try:
        return work(wh)
    except (accounts.AccountError, accounts.UserExists, accounts.NoSuchUser) as error:
        sys.stderr.write(f"plumbline: {error}\n")
        return EXIT_FAILED
    finally:
        wh.close()
        lock.release()


def cmd_users(args: argparse.Namespace, settings_of) -> int:
    """Run one ``users`` subcommand against the data dir's warehouse."""
    actor = cli_actor()

    def record(action: str, target: str, detail: str | None = None) -> Callable:
        return lambda wh: audit_store.record(
            wh, audit_store.AuditEvent(actor, action, "ok", target, detail)
        )

    def add(wh) -> int:
        password, generated = _read_password(args)
        accounts.add_user(wh, args.name, args.role, password, actor)
        record("user.add", args.name, f"role {args.role}")(wh)
        sys.stdout.write(f"added {args.name} ({args.role})\n")
        if generated:
            sys.stdout.write(f"password (shown once, pass it on securely): {password}\n")
        return 0

    def listing(wh) -> int:
        from pipeline.warehouse.users import list_users

        users = list_users(wh)
        if users.empty:
            sys.stdout.write("no users yet: add one with `plumbline users add NAME --role admin`\n")
        for row in users.itertuples():
            state = "disabled" if row.disabled else "enabled"
            seen = row.last_login_at
            last = "never" if pd.isna(seen) else f"{seen:%Y-%m-%d %H:%M} UTC"
            sys.stdout.write(f"{row.username:24} {row.role:10} {state:9} last login {last}\n")
        return 0

    def switch(disabled: bool) -> Callable:
        def work(wh) -> int:
            accounts.set_disabled(wh, args.name, disabled, actor)
            record("user.disable" if disabled else "user.enable", args.name)(wh)
            sys.stdout.write(f"{args.name} is {'disabled' if disabled else 'enabled'}\n")
            return 0

        return work

    work = {
        "add": add,
        "list": listing,
        "disable": switch(True),
        "enable": switch(False),
    }[args.users_command]
    return _with_warehouse(args, settings_of, work)


def add_parser(sub, common: Callable[[argparse.ArgumentParser], None], func: Callable) -> None:
    """Register ``plumbline users ...`` on the main parser's subcommands."""
    users = sub.add_parser("users", help="add, list, disable or enable accounts")
    users_sub = users.add_subparsers(dest="users_command", required=True)
    add = users_sub.add_parser("add", help="add an account (prints a generated password)")
    common(add)
    add.add_argument("name", help="user name (letters, digits, . _ @ -)")
    add.add_argument(
        "--role", required=True, choices=[r.value for r in accounts.Role], help="what they may do"
    )
    add.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of stdin instead of generating one",
    )
    listing = users_sub.add_parser("list", help="list accounts")
    common(listing)
    for name, text in (("disable", "stop an account logging in"), ("enable", "allow it again")):
        p = users_sub.add_parser(name, help=text)
        common(p)
        p.add_argument("name", help="user name")
    for p in (add, listing, *users_sub.choices.values()):
        p.set_defaults(func=func)
