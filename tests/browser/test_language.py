"""Languages in Chromium: the switch in the header works from any page and is
remembered (in the session, then on the account, so on another device too);
numbers and dates follow the language."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import new_context, sign_in
from tests.browser.world import build_world

pytestmark = pytest.mark.browser


def lang(page) -> str:
    return page.locator("html").get_attribute("lang")


def test_the_language_switch_works_from_any_page_and_is_remembered(browser, live_server):
    world = build_world()
    context = new_context(browser, live_server, "desktop")
    other_device = new_context(browser, live_server, "phone")
    try:
        page = context.new_page()
        page.goto("/privacy")
        assert lang(page) == "fr"
        page.get_by_role("button", name="English").click()
        page.wait_for_load_state()
        assert urlsplit(page.url).path == "/privacy" and lang(page) == "en"  # back on the same page
        sign_in(page, world.coordinator.email)  # chosen before signing in: kept
        page.goto(f"{world.prefix}/agenda/week")
        assert lang(page) == "en"
        assert page.get_by_role("link", name="Calendar").first.is_visible()

        # Numbers: 67 % in French (a narrow no-break space), 67% in English.
        page.goto(f"{world.prefix}/impact/")
        english = page.locator("main").inner_text()
        assert re.search(r"\d%", english) and not re.search(r"\d[\s\u202f\u00a0]%", english)

        # Signed in, the choice is also saved on the account.
        page.goto(f"{world.prefix}/agenda/events/{world.workshop.id}")
        page.get_by_role("button", name="Français").click()
        page.wait_for_load_state()
        assert urlsplit(page.url).path == f"{world.prefix}/agenda/events/{world.workshop.id}"
        assert lang(page) == "fr"
        page.goto(f"{world.prefix}/impact/")
        assert re.search(r"\d[\u202f\u00a0 ]%", page.locator("main").inner_text())

        # Another device follows the account, both ways.
        phone = other_device.new_page()
        phone.set_extra_http_headers({"Accept-Language": "en"})  # the phone itself is set to English
        sign_in(phone, world.coordinator.email)
        assert lang(phone) == "fr"
        phone.get_by_role("button", name="English").click()
        phone.wait_for_load_state()
        assert lang(phone) == "en"
        page.reload()
        assert lang(page) == "en"
    finally:
        context.close()
        other_device.close()
