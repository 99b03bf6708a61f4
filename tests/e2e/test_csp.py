"""Every page renders under the strict Content-Security-Policy with nothing refused.

A violation listener is installed before any page script runs; the browser reports there
anything the policy blocked (an inline script, an eval, a style, a foreign URL). Each page of
the registry is opened as the admin (who may open all of them), and the login page logged out.
"""

from __future__ import annotations

import dash
import pytest
from playwright.sync_api import Browser, Page, expect

RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample || ""}`);
});
"""


def registered_paths() -> list[str]:
    """Paths of every page in Dash's registry (filled once an app exists)."""
    return [page["path"] for page in dash.page_registry.values()]


def _open(page: Page, url: str) -> None:
    page.goto(url)
    page.wait_for_load_state("networkidle")


def _violations(page: Page) -> list[str]:
    return page.evaluate("window.__csp || []")


def test_the_page_response_carries_a_strict_policy(page: Page, live_app) -> None:
    response = page.goto(live_app.url + "/")
    assert response is not None and response.status == 200
    policy = response.headers.get("content-security-policy")
    assert policy, "install_security(app, settings) is not wired into create_app"
    assert "unsafe-eval" not in policy
    script_src = next(d for d in policy.split(";") if d.strip().startswith("script-src"))
    assert "'sha256-" in script_src and "unsafe-inline" not in script_src
    assert response.headers.get("x-frame-options") == "DENY"


def test_every_page_renders_with_no_policy_violation_and_a_quiet_console(
    page: Page, live_app, console_errors: list[str]
) -> None:
    page.add_init_script(RECORD_VIOLATIONS)
    paths = registered_paths()
    assert {"/", "/data", "/models", "/explain", "/monitor", "/runs"} <= set(paths)
    seen: dict[str, list[str]] = {}
    for path in paths:
        _open(page, live_app.url + path)
        # The page's own layout rendered (not a refusal, not Dash's "not found").
        expect(page.locator("#_pages_content > *").first).to_be_visible()
        expect(page.locator(".page-refused")).to_have_count(0)
        seen[path] = _violations(page)
    assert {p: v for p, v in seen.items() if v} == {}
    csp_messages = [m for m in console_errors if "Content Security Policy" in m]
    assert csp_messages == []
    assert console_errors == []


@pytest.mark.parametrize("path", ["/login"])
def test_the_login_page_renders_with_no_policy_violation(
    browser: Browser, live_app, path: str
) -> None:
    context = browser.new_context()  # no session cookie: logged out
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.add_init_script(RECORD_VIOLATIONS)
        _open(page, live_app.url + path)
        expect(page.locator("form")).to_be_visible()
        assert _violations(page) == []
        assert errors == []
    finally:
        context.close()
