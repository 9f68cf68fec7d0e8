"""Keyboard only, in Chromium: the skip link, a visible focus ring on every
element reached with Tab, and a whole journey without a mouse — sign in,
answer the survey of a session from the structure's "À compléter" list,
download one's personal data.

Keys used: Tab, Shift+Tab, Enter and Space; inside a radio group, the arrow
keys (the standard way to move between the options of one group).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from tests.browser.conftest import screenshot
from tests.browser.keys import FOCUSED_JS
from tests.factories import PASSWORD, make_member, make_tenant
from tests.impact.test_participation_services import attend, past_session
from volunteer_platform.extensions import db

pytestmark = pytest.mark.browser


def focused(page: Any) -> dict[str, Any] | None:
    return page.evaluate(FOCUSED_JS)


def tab_to(page: Any, wanted, *, limit: int = 60) -> dict[str, Any]:
    """Press Tab until ``wanted(focused element)``; every stop on the way must show a focus ring."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        element = focused(page)
        if element is None:
            continue
        seen.append(element)
        assert element["shown"], f"focus went to an element that is not on screen: {element}"
        assert element["ring"], f"no visible focus indicator on {element}"
        if wanted(element):
            return element
    raise AssertionError(f"not reached with Tab; stops were: {[(e['tag'], e['text'] or e['id']) for e in seen]}")


def test_skip_link_and_a_journey_without_a_mouse(page, viewport):
    from volunteer_platform.impact.models import SurveyResponse

    tenant = make_tenant(slug="maison", name="Maison solidaire")
    trainer = make_member(tenant, "trainer", email="theo@example.org", full_name="Théo Formateur")
    attendee = make_member(tenant, "volunteer", email="awa@example.org", full_name="Awa Diallo")
    session = past_session(tenant, trainer=trainer, title="Séance : la messagerie", hours_ago=26)
    attend(session, attendee, by=trainer)
    db.session.rollback()

    # The skip link is the first stop, shows up when focused, and moves focus to the content.
    page.goto("/login")
    page.keyboard.press("Tab")
    skip = focused(page)
    assert skip and skip["href"] == "#main" and skip["shown"] and skip["ring"], skip
    screenshot(page, "keyboard-skip-link", viewport)
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"

    # Sign in: from the content, Tab reaches the fields and the button.
    tab_to(page, lambda e: e["id"] == "email")
    page.keyboard.type("awa@example.org")
    tab_to(page, lambda e: e["id"] == "password")
    page.keyboard.type(PASSWORD)
    tab_to(page, lambda e: e["tag"] == "button" and e["type"] == "submit")
    screenshot(page, "keyboard-login-button", viewport)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert urlsplit(page.url).path == "/maison/", page.url

    # The structure's home lists the survey to answer.
    tab_to(page, lambda e: e["href"].endswith(f"/impact/sessions/{session.id}/survey"), limit=80)
    with page.expect_navigation():
        page.keyboard.press("Enter")

    # The survey: three radio groups, a comment, the button.
    tab_to(page, lambda e: e["name"] == "satisfaction")
    page.keyboard.press("Space")  # 1 …
    for _ in range(4):
        page.keyboard.press("ArrowDown")  # … to 5
    tab_to(page, lambda e: e["name"] == "more_able_to_help")
    page.keyboard.press("Space")  # Oui
    tab_to(page, lambda e: e["name"] == "at_ease_with_computer")
    page.keyboard.press("Space")  # Oui
    page.keyboard.press("ArrowDown")  # Non
    tab_to(page, lambda e: e["id"] == "comment")
    page.keyboard.type("Clair et patient.")
    screenshot(page, "keyboard-survey", viewport)
    tab_to(page, lambda e: e["tag"] == "button" and e["type"] == "submit")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    db.session.rollback()
    answers = db.session.scalars(select(SurveyResponse)).all()
    db.session.rollback()
    assert [(a.satisfaction, a.more_able_to_help, a.at_ease_with_computer, a.comment) for a in answers] == [
        (5, True, False, "Clair et patient.")]

    # Personal data: header menu → account → "Gérer mes données" → the JSON download.
    page.goto(urlsplit(page.url).path)  # the thank-you page, focus back at the top
    tab_to(page, lambda e: e["href"] == "/account")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    tab_to(page, lambda e: e["href"] == "/account/data", limit=100)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    tab_to(page, lambda e: e["href"] == "/account/data.json")
    with page.expect_download() as download_info:
        page.keyboard.press("Enter")
    with open(download_info.value.path(), encoding="utf-8") as fh:
        assert "awa@example.org" in json.dumps(json.load(fh))
