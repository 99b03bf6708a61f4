"""A real `plumbline serve` from an empty data dir: the admin password is printed once, the
first login works, and the Overview waits, then fills in."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import expect

from benchmarks.served import free_port, serve_command
from tests.conftest import SMALL_DEMO

A_COUNT = re.compile(r"^\d{1,3}(,\d{3})*$")


def _printed_password(server: subprocess.Popen, seconds: float = 60) -> str:
    """The first admin's password from serve's terminal output."""
    found: list[str] = []

    def read() -> None:
        for line in server.stdout:  # type: ignore[union-attr]
            match = re.search(r"as admin with password (\S+)", line)
            if match:
                found.append(match.group(1))
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(seconds)
    assert found, "serve did not print the first admin's password"
    return found[0]


def test_first_start_prints_a_password_then_the_overview_fills_in(
    browser, small_settings, console_errors
) -> None:
    data = small_settings.data_dir
    (data / "plumbline.toml").write_text(
        "[demo]\n" + "".join(f"{k} = {v}\n" for k, v in SMALL_DEMO.items())
    )
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLUMBLINE_")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    server = subprocess.Popen(
        serve_command(data, port),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
        start_new_session=True,
    )
    try:
        url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                time.sleep(0.2)
        password = _printed_password(server)
        page = browser.new_page()  # no cookie: a new visitor
        page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
        page.goto(url)
        expect(page).to_have_url(re.compile(r"/login\?next=%2F$"))
        page.fill("#username", "admin")
        page.fill("#password", password)
        page.click("#login-submit")
        expect(page.locator("#navbar-user")).to_have_text("admin")
        # Either the first run is still going, or it already finished: never an empty chart.
        waiting = page.get_by_text("fills in by itself")
        tiles = page.locator(".kpi-tile", has_text="Customers scored")
        expect(waiting.or_(tiles)).to_be_visible(timeout=30_000)
        expect(tiles.locator(".kpi-value")).to_have_text(A_COUNT, timeout=120_000)
        assert console_errors == []
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
