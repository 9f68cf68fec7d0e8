"""Real-browser tests: the app served over HTTP on a loopback port, driven by Chromium.

The server is werkzeug's, in a background thread, with its own application
built by ``tests.conftest.build_app`` on the suite's database (so factories
seed what a journey does not exercise, and the clean-up between tests works as
for every other test). CSRF protection is ON there: the browser submits the
real forms, tokens included.

Chromium is Debian's (``/usr/bin/chromium``, or ``CHROMIUM_PATH``), driven by
Playwright's Python package; Playwright's own browser downloads are never used.
Without Chromium (or without the ``playwright`` package) the tests are skipped,
unless ``REQUIRE_BROWSER`` is set: then they fail, so CI cannot go green by
skipping them.

Screenshots go to ``test-artifacts/screenshots/`` (ignored by git).
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.conftest import build_app, test_environ
from tests.factories import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]
#: name -> (width, height, is_mobile)
VIEWPORTS = {"desktop": (1280, 800, False), "phone": (390, 844, True)}
TIMEOUT_MS = 15_000


def _unavailable() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not Path(CHROMIUM).exists():
        return f"Chromium not found at {CHROMIUM} (scripts/install-browser.sh installs it)"
    try:
        import axe_playwright_python  # noqa: F401
        import playwright.sync_api  # noqa: F401
    except ImportError as error:
        return f"{error.name} is not installed (pip install -e '.[browser]')"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = _unavailable()
    if reason is None or os.environ.get("REQUIRE_BROWSER"):
        return  # with REQUIRE_BROWSER, a missing browser fails in the ``browser`` fixture
    skip = pytest.mark.skip(reason=reason)
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(skip)


# --- the server ---------------------------------------------------------------------------------


@dataclass
class LiveServer:
    url: str
    app: Flask

    def absolute(self, path_or_url: str) -> str:
        """A link from an e-mail or a page, made absolute on this server."""
        if path_or_url.startswith("http"):
            return path_or_url
        return self.url + path_or_url


@pytest.fixture(scope="session")
def live_server(app: Flask, database_url: str) -> Iterator[LiveServer]:
    """The app on ``http://127.0.0.1:<free port>``, for the whole session.

    Depends on ``app`` so the schema is migrated first; each test's data is
    removed by the suite's autouse clean-up as usual.
    """
    from werkzeug.serving import WSGIRequestHandler, make_server

    class QuietHandler(WSGIRequestHandler):
        def log_request(self, *args: Any, **kwargs: Any) -> None:  # one line per request is noise here
            pass

    holder: dict[str, Flask] = {}

    def dispatch(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        return holder["app"](environ, start_response)

    server = make_server("127.0.0.1", 0, dispatch, threaded=True, request_handler=QuietHandler)
    base_url = f"http://127.0.0.1:{server.server_port}"
    served = build_app(
        database_url,
        ENVIRON=test_environ(database_url, BASE_URL=base_url),
        WTF_CSRF_ENABLED=True,
    )
    holder["app"] = served
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(url=base_url, app=served)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        with served.app_context():
            from volunteer_platform.extensions import db

            db.engine.dispose()


# --- the browser --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    reason = _unavailable()
    if reason is not None:
        pytest.fail(f"REQUIRE_BROWSER is set but the browser cannot run: {reason}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(params=sorted(VIEWPORTS), ids=sorted(VIEWPORTS))
def viewport(request: pytest.FixtureRequest) -> str:
    return request.param


def new_context(browser: Any, live_server: LiveServer, viewport: str, *, locale: str = "fr-FR") -> Any:
    """A fresh browsing context (own cookies and storage) at ``viewport``."""
    width, height, mobile = VIEWPORTS[viewport]
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": width, "height": height}, is_mobile=mobile,
        has_touch=mobile, locale=locale, timezone_id="Europe/Paris", accept_downloads=True,
    )
    context.set_default_timeout(TIMEOUT_MS)
    return context


@pytest.fixture
def browser_context(browser: Any, live_server: LiveServer, viewport: str) -> Iterator[Any]:
    context = new_context(browser, live_server, viewport)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def page(browser_context: Any) -> Any:
    return browser_context.new_page()


@pytest.fixture
def open_context(browser: Any, live_server: LiveServer, viewport: str) -> Iterator[Callable[..., Any]]:
    """``open_context()`` → a new page in its own context (another person on another device)."""
    contexts: list[Any] = []

    def _open(**kwargs: Any) -> Any:
        context = new_context(browser, live_server, viewport, **kwargs)
        contexts.append(context)
        return context.new_page()

    try:
        yield _open
    finally:
        for context in contexts:
            context.close()


# --- helpers ------------------------------------------------------------------------------------


def sign_in(page: Any, email: str, password: str = PASSWORD) -> None:
    """Sign in through the real login form (French or English labels)."""
    page.goto("/login")
    page.get_by_label(re.compile(r"^(Adresse e-mail|E-mail address|Email address)", re.IGNORECASE)).fill(email)
    page.get_by_label(re.compile(r"^(Mot de passe|Password)", re.IGNORECASE)).first.fill(password)
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_load_state()
    assert "/login" not in page.url, f"sign-in failed for {email}: {page.url}"


def screenshot(page: Any, name: str, viewport: str) -> Path:
    """A full-page screenshot for reviewers: test-artifacts/screenshots/<name>-<viewport>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}-{viewport}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def last_email_to(address: str) -> str:
    """The body of the newest e-mail queued for ``address`` (read from the outbox table).

    The read transaction ends before returning: with SQLite in WAL mode, a test
    that keeps an old snapshot open could not write after the server commits.
    """
    from sqlalchemy import select

    from volunteer_platform.extensions import db
    from volunteer_platform.notifications.models import OutboxEmail

    db.session.rollback()
    body = db.session.scalars(
        select(OutboxEmail.body_text).where(OutboxEmail.to_address == address).order_by(OutboxEmail.id.desc())
    ).first()
    db.session.rollback()
    assert body is not None, f"no e-mail to {address} in the outbox"
    return body


LINK_RE = re.compile(r"https?://[^\s/]+(/\S+)")


def link_in_email(body: str, contains: str = "") -> str:
    """The path of the first link in an e-mail's body (containing ``contains``)."""
    for match in LINK_RE.finditer(body):
        if contains in match.group(1):
            return match.group(1)
    raise AssertionError(f"no link with {contains!r} in e-mail: {body!r}")


def focused_has_visible_indicator(page: Any) -> bool:
    """Whether the focused element shows a focus ring (outline or box-shadow)."""
    return page.evaluate(
        """() => {
            const el = document.activeElement;
            if (!el || el === document.body) return false;
            const s = getComputedStyle(el);
            const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;
            const shadow = s.boxShadow && s.boxShadow !== 'none';
            return outline || shadow;
        }"""
    )
