"""One person at one browser page, acting with the mouse or with the keyboard only.

The journeys are written once against :class:`Person`; in ``"mouse"`` mode it
clicks, fills and checks as Playwright does, in ``"keyboard"`` mode it only
presses keys:

* a link, button or field is reached with Tab (or Shift+Tab when it comes
  before the focused element), checking ``document.activeElement`` after each
  press; every element focused on the way must be on screen and show a visible
  focus indicator (an outline of at least 2px or a box-shadow);
* text is typed (Ctrl+A first, so what is typed replaces what was there);
  dates and times are typed digit by digit into their segments, as a person
  does in Chromium's date and time fields;
* links and buttons are activated with Enter, check boxes with Space;
* a radio option is chosen with Space and the arrow keys inside its group;
* a drop-down list is changed with the arrow keys while it is focused;
* a download is started with Enter on the focused link.

Typing an address in the address bar is a keyboard action too, so ``goto``
stays as it is in both modes.
"""

from __future__ import annotations

import re
from datetime import date, time
from typing import Any

from tests.factories import PASSWORD

MODES = ("mouse", "keyboard")
EMAIL_LABEL = re.compile(r"^(Adresse e-mail|E-mail address|Email address)", re.IGNORECASE)
PASSWORD_LABEL = re.compile(r"^(Mot de passe|Password)", re.IGNORECASE)

FOCUSED_JS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const s = getComputedStyle(el);
  const r = el.getBoundingClientRect();
  return {
    tag: el.tagName.toLowerCase(), id: el.id, name: el.getAttribute('name') || '', type: el.type || '',
    href: el.getAttribute('href') || '', text: (el.innerText || el.value || '').trim().slice(0, 80),
    ring: (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2) || (s.boxShadow && s.boxShadow !== 'none'),
    shown: r.width > 0 && r.height > 0 && r.right > 0 && r.bottom > 0,
  };
}"""

#: Whether the focus is on one of the elements; otherwise which way to go ("forward" / "backward").
WHERE_JS = """els => {
  const el = document.activeElement;
  if (els.includes(el)) return 'here';
  if (!el || el === document.body || !els.length) return 'forward';
  return (el.compareDocumentPosition(els[0]) & Node.DOCUMENT_POSITION_PRECEDING) ? 'backward' : 'forward';
}"""


class Person:
    """A page driven in ``mode`` ("mouse" or "keyboard"). Other attributes are the page's."""

    def __init__(self, page: Any, mode: str) -> None:
        assert mode in MODES, mode
        self.page = page
        self.mode = mode
        self.keyboard_only = mode == "keyboard"

    def __getattr__(self, name: str) -> Any:  # goto, locator, get_by_role, url, expect_download…
        return getattr(self.page, name)

    # --- reaching an element ---------------------------------------------------------------

    def focused(self) -> dict[str, Any] | None:
        return self.page.evaluate(FOCUSED_JS)

    def tab_to(self, target: Any, *, limit: int = 120) -> dict[str, Any]:
        """Press Tab (or Shift+Tab) until one of ``target``'s elements has the focus.

        Every element focused on the way must be on screen and show a focus ring.
        """
        target.first.wait_for(state="attached")
        key = None
        seen: list[dict[str, Any]] = []
        for _ in range(limit):
            where = target.evaluate_all(WHERE_JS)
            if where == "here":
                element = self.focused()
                assert element is not None
                return element
            # Keep one direction once chosen: Tab wraps round the page, so it always arrives.
            key = key or ("Shift+Tab" if where == "backward" else "Tab")
            self.page.keyboard.press(key)
            element = self.focused()
            if element is None:
                continue
            seen.append(element)
            assert element["shown"], f"focus went to an element that is not on screen: {element}"
            assert element["ring"], f"no visible focus indicator on {element} ({self.page.url})"
        stops = [(e["tag"], e["text"] or e["id"] or e["name"]) for e in seen]
        raise AssertionError(f"{target} not reached with {key} on {self.page.url}; stops were: {stops}")

    # --- acting --------------------------------------------------------------------------

    def activate(self, target: Any, *, navigates: bool = True) -> None:
        """Follow a link or press a button: a click, or Enter on the focused element."""
        if not self.keyboard_only:
            target.click()
            if navigates:
                self.page.wait_for_load_state()
            return
        self.tab_to(target)
        if navigates:
            with self.page.expect_navigation():
                self.page.keyboard.press("Enter")
        else:
            self.page.keyboard.press("Enter")

    def fill(self, target: Any, text: str) -> None:
        """Write ``text`` in a text field (what was there is replaced)."""
        if not self.keyboard_only:
            target.fill(text)
            return
        self.tab_to(target)
        self.page.keyboard.press("ControlOrMeta+A")
        if text:
            self.page.keyboard.type(text)
        else:
            self.page.keyboard.press("Delete")
        assert target.input_value() == text, (target.input_value(), text)

    def fill_date(self, target: Any, day: date) -> None:
        """A date field, typed segment by segment.

        The order of the segments follows Chromium's own language, not the page's
        (day/month/year in French, month/day/year in American English): as a person
        reading the field would, try an order and, if the field shows another date,
        go back to the first segment (Shift+Tab) and type in the other order.
        """
        if not self.keyboard_only:
            target.fill(day.isoformat())
            return
        self.tab_to(target)  # the focus is on the first segment
        for order in ("%d%m%Y", "%m%d%Y", "%Y%m%d"):
            self.page.keyboard.type(day.strftime(order))
            if target.input_value() == day.isoformat():
                break
            for _ in range(2):
                self.page.keyboard.press("Shift+Tab")
        assert target.input_value() == day.isoformat(), target.input_value()

    def fill_time(self, target: Any, at: time) -> None:
        """A time field (24-hour clock): hours then minutes."""
        if not self.keyboard_only:
            target.fill(at.strftime("%H:%M"))
            return
        self.tab_to(target)
        self.page.keyboard.type(at.strftime("%H%M"))
        assert target.input_value() == at.strftime("%H:%M"), target.input_value()

    def check(self, target: Any) -> None:
        """Tick a check box, or choose a radio option (Space, then the arrow keys in its group)."""
        if not self.keyboard_only:
            target.check()
            return
        kind = target.get_attribute("type")
        if kind == "checkbox":
            self.tab_to(target)
            if not target.is_checked():
                self.page.keyboard.press("Space")
        else:
            name = target.get_attribute("name")
            group = target.page.locator(f'input[type=radio][name="{name}"]')
            # Tab enters the group on its checked option (on its first one if none is).
            self.tab_to(group)
            if not group.evaluate_all("els => els.some(e => e.checked)"):
                self.page.keyboard.press("Space")
            for _ in range(group.count()):
                if target.is_checked():
                    break
                self.page.keyboard.press("ArrowDown")  # moves to the next option and chooses it
        assert target.is_checked(), f"{target} is not checked"

    def select(self, target: Any, value: str | None = None, *, index: int | None = None) -> None:
        """Choose an option of a drop-down list (by value or index): arrow keys on the focused list."""
        if not self.keyboard_only:
            target.select_option(value) if index is None else target.select_option(index=index)
            return
        wanted = index if index is not None else target.evaluate(
            "(el, v) => [...el.options].findIndex(o => o.value === v)", value)
        assert wanted >= 0, f"no option {value!r} in {target}"
        self.tab_to(target)
        for _ in range(len(target.evaluate("el => [...el.options]"))):
            current = target.evaluate("el => el.selectedIndex")
            if current == wanted:
                break
            self.page.keyboard.press("ArrowDown" if current < wanted else "ArrowUp")
        assert target.evaluate("el => el.selectedIndex") == wanted, f"{target} not set to {value or index}"

    # --- common steps --------------------------------------------------------------------

    def sign_in(self, email: str, password: str = PASSWORD) -> None:
        """Sign in through the real login form."""
        self.page.goto("/login")
        self.fill(self.page.get_by_label(EMAIL_LABEL), email)
        self.fill(self.page.get_by_label(PASSWORD_LABEL).first, password)
        self.activate(self.page.locator("main form button[type=submit]").first)
        assert "/login" not in self.page.url, f"sign-in failed for {email}: {self.page.url}"
