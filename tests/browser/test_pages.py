"""Every main page, in French and in English, on a desktop and a phone, in Chromium:

- axe-core finds no serious or critical accessibility violation;
- one h1 and no skipped heading level;
- no interface word of the other language (navigation, buttons, labels, legends,
  table headers, hints); dates written in the page's language;
- on the phone, nothing makes the page scroll sideways (wide tables and charts
  scroll inside their own box);
- on the form with errors: the summary is announced, links to the field, and the
  field points to its message.

One test per language and viewport walks the whole list (pages.PAGES) and reports
every problem at once. A screenshot of each page goes to test-artifacts/screenshots/.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import new_context, screenshot, sign_in
from tests.browser.pages import (
    PAGES,
    axe_problems,
    date_problems,
    heading_problems,
    other_language_words,
    reflow_problems,
)
from tests.browser.world import build_world

pytestmark = pytest.mark.browser

LANGUAGES = ["fr", "en"]


def switch_language(page: Any, language: str) -> None:
    """Use the language button of the page header (a POST form), as a person would."""
    label = {"en": "English", "fr": "Français"}[language]
    button = page.locator("form.lang-switch button")
    if button.inner_text().strip() == label:
        button.click()
        page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == language


@pytest.mark.parametrize("language", LANGUAGES)
def test_main_pages_are_accessible_and_in_one_language(browser, live_server, viewport, language):
    world = build_world()
    people = {"volunteer": world.volunteer, "coordinator": world.coordinator, "supervisor": world.supervisor}
    content = world.content()
    failures: list[str] = []
    pages: dict[str, Any] = {}
    contexts = []
    try:
        for spec in PAGES:
            page = pages.get(spec.who)
            if page is None:
                context = new_context(browser, live_server, viewport)
                contexts.append(context)
                page = pages[spec.who] = context.new_page()
                if spec.who == "anonymous":
                    page.goto("/")
                else:
                    sign_in(page, people[spec.who].email)
                switch_language(page, language)
            response = page.goto(spec.path(world))
            assert response is not None and response.status == 200, f"{spec.name}: {response and response.status}"
            if spec.action:
                spec.action(page)
            where = f"[{language} {viewport}] {spec.name} ({page.url.removeprefix(live_server.url)})"
            assert page.locator("html").get_attribute("lang") == language, where
            failures += [f"{where} axe: {p}" for p in axe_problems(page)]
            failures += [f"{where} headings: {p}" for p in heading_problems(page)]
            failures += [f"{where} {language} page: {p}" for p in other_language_words(page, language, content)]
            if viewport == "phone":
                failures += [f"{where} reflow: {p}" for p in reflow_problems(page)]
            if spec.dates:
                failures += [f"{where} dates: {p}" for p in date_problems(page, language, content)]
            screenshot(page, f"{spec.name}-{language}", viewport)
    finally:
        for context in contexts:
            context.close()
    assert not failures, "\n".join(failures)


def test_the_page_checks_catch_what_they_look_for(browser):
    """The checks above can fail: on a page made wrong on purpose, each one reports."""
    page = browser.new_page()
    try:
        page.set_content(
            '<html lang="en"><head><title>Broken</title></head><body><main>'
            "<h1>One</h1><h1>Two</h1><h2>Part</h2><h4>Too deep</h4>"
            '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">'
            "<p>Rendez-vous lundi 2 march</p>"
            "<form><label>Mot de passe <input type=password></label><button>Se connecter</button></form>"
            "</main></body></html>"
        )
        assert any(p.startswith("image-alt") for p in axe_problems(page))
        headings = heading_problems(page)
        assert any("2 h1" in p for p in headings) and any("h2 followed by h4" in p for p in headings)
        assert other_language_words(page, "en")  # French labels and buttons on an English page
        dates = date_problems(page, "en")
        assert any("weekday names in fr" in p for p in dates)
        assert any("without their capital" in p for p in dates)
    finally:
        page.close()
