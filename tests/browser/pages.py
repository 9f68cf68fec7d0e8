"""The main pages of the platform, who sees them, and checks run on each one in a real browser:
axe-core (no serious or critical violation), the heading outline, leftover words of the other language."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.browser.world import World

SERIOUS = {"serious", "critical"}


@dataclass(frozen=True)
class PageSpec:
    name: str
    who: str  # "anonymous", "volunteer", "coordinator", "supervisor"
    path: Callable[[World], str]
    #: fills and submits a form to show its errors (the page is then the answer)
    action: Callable[[Any], None] | None = None
    #: the page writes dates: their weekday names must be in the page's language
    dates: bool = False


def _bad_invitation(page: Any) -> None:
    page.locator("#email").fill("pas-une-adresse")
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_load_state()
    # The errors are announced (role=alert), listed with links to their fields, and tied to the field.
    summary = page.locator(".error-summary[role=alert]")
    assert summary.count() == 1, "the form with errors shows no error summary"
    assert summary.locator('a[href="#email"]').count() == 1
    field = page.locator("#email")
    assert field.get_attribute("aria-invalid") == "true"
    described = (field.get_attribute("aria-describedby") or "").split()
    assert any(page.locator(f"#{i}.error-message").count() for i in described), described
    summary.locator('a[href="#email"]').click()
    assert page.evaluate("document.activeElement.id") == "email"


PAGES: list[PageSpec] = [
    PageSpec("login", "anonymous", lambda w: "/login"),
    PageSpec("landing", "anonymous", lambda w: "/"),
    PageSpec("privacy", "anonymous", lambda w: "/privacy"),
    PageSpec("home", "volunteer", lambda w: "/"),
    PageSpec("structure-home", "volunteer", lambda w: f"{w.prefix}/"),
    PageSpec("agenda-week", "volunteer", lambda w: f"{w.prefix}/agenda/week", dates=True),
    PageSpec("open-shifts", "volunteer", lambda w: f"{w.prefix}/agenda/open"),
    PageSpec("event", "volunteer", lambda w: f"{w.prefix}/agenda/events/{w.workshop.id}", dates=True),
    PageSpec("my-training", "volunteer", lambda w: f"{w.prefix}/training/"),
    PageSpec("lesson", "volunteer", lambda w: w.lesson_url()),
    PageSpec("quiz", "volunteer", lambda w: f"{w.prefix}/training/modules/{w.module.id}/quiz"),
    PageSpec("survey", "volunteer", lambda w: f"{w.prefix}/impact/sessions/{w.session.id}/survey"),
    PageSpec("my-volunteering", "volunteer", lambda w: f"{w.prefix}/impact/volunteering"),
    PageSpec("my-agenda", "volunteer", lambda w: "/me/agenda", dates=True),
    PageSpec("my-places", "volunteer", lambda w: f"{w.prefix}/agenda/mine"),
    PageSpec("account", "volunteer", lambda w: "/account"),
    PageSpec("my-data", "volunteer", lambda w: "/account/data"),
    PageSpec("members", "coordinator", lambda w: f"{w.prefix}/members"),
    PageSpec("invitations", "coordinator", lambda w: f"{w.prefix}/invitations"),
    PageSpec("form-errors", "coordinator", lambda w: f"{w.prefix}/invitations", action=_bad_invitation),
    PageSpec("event-coordinator", "coordinator", lambda w: f"{w.prefix}/agenda/events/{w.session.id}"),
    PageSpec("dashboard", "coordinator", lambda w: f"{w.prefix}/impact/"),
    PageSpec("agenda-month", "coordinator", lambda w: f"{w.prefix}/agenda/month"),
    PageSpec("understaffed", "coordinator", lambda w: f"{w.prefix}/agenda/understaffed"),
    PageSpec("progress-matrix", "coordinator", lambda w: f"{w.prefix}/training/progress"),
    PageSpec("rooms", "coordinator", lambda w: f"{w.prefix}/agenda/rooms"),
    PageSpec("closures", "coordinator", lambda w: f"{w.prefix}/agenda/closures"),
    PageSpec("national-dashboard", "supervisor", lambda w: "/supervision/impact/"),
    PageSpec("structures", "supervisor", lambda w: "/supervision/"),
]


def axe_problems(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page, one line per element."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    problems = []
    for violation in results.response["violations"]:
        if violation["impact"] in SERIOUS:
            for node in violation["nodes"]:
                problems.append(f"{violation['id']} ({violation['impact']}): {violation['help']} — "
                                f"{', '.join(map(str, node['target']))}: {node['html'][:160]}")
    return problems


def heading_problems(page: Any) -> list[str]:
    """One h1, and no level skipped going down (h2 → h4)."""
    levels = page.eval_on_selector_all(
        "h1, h2, h3, h4, h5, h6",
        "els => els.filter(e => e.getClientRects().length || e.closest('details'))"
        ".map(e => Number(e.tagName[1]))",
    )
    problems = []
    if levels.count(1) != 1:
        problems.append(f"{levels.count(1)} h1 instead of one (levels {levels})")
    previous = 1
    for level in levels:
        if level > previous + 1:
            problems.append(f"h{previous} followed by h{level} (levels {levels})")
        previous = level
    return problems


#: Frequent words of the interface that must not show in the other language's pages.
FRENCH_WORDS = re.compile(
    r"\b(le|la|les|des|du|vos|votre|mes|mon|ma|une|pour|avec|dans|sur|Enregistrer|Se connecter|"
    r"Se déconnecter|Envoyer|Annuler|Modifier|Rechercher|Valider|Retour|Télécharger|Inscriptions?|"
    r"Agenda de|Mon compte|Ma formation|Mot de passe|Adresse|Oui|Non|Suivant|Précédent|semaine|"
    r"lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|janvier|février|mars|avril|mai|juin|"
    r"juillet|août|septembre|octobre|novembre|décembre)\b"
)
ENGLISH_WORDS = re.compile(
    r"\b(the|and|your|with|Save|Sign in|Sign out|Log in|Submit|Cancel|Edit|Search|Back|Download|"
    r"Next|Previous|Password|Email address|Yes|No|Monday|Tuesday|Wednesday|Thursday|Friday|"
    r"Saturday|Sunday|January|February|March|April|June|July|August|September|October|"
    r"November|December)\b"
)

#: Interface text only: navigation, buttons, labels, legends, headings, table headers,
#: links of the page frame. Content written by people (titles, names) is left out.
UI_TEXT_JS = """() => {
  const picked = new Set();
  const out = [];
  const take = el => { if (picked.has(el)) return; picked.add(el);
    const clone = el.cloneNode(true);
    clone.querySelectorAll('[data-content], [lang]').forEach(c => c.remove());
    const t = (clone.innerText !== undefined ? clone.textContent : '').replace(/\\s+/g, ' ').trim();
    if (t) out.push(t); };
  document.querySelectorAll('header nav a, header nav summary, header button, footer, button, label, legend,'
    + ' th[scope=col], caption, summary, .hint, .skip-link').forEach(take);
  document.querySelectorAll('input[type=submit]').forEach(el => out.push(el.value));
  out.push(document.title);
  return out;
}"""


def ui_texts(page: Any) -> list[str]:
    return page.evaluate(UI_TEXT_JS)


def other_language_words(page: Any, language: str, content: list[str] = ()) -> list[str]:
    """Interface strings of the page that contain words of the other language
    (once the ``content`` people wrote — titles, names — is taken out)."""
    pattern = FRENCH_WORDS if language == "en" else ENGLISH_WORDS
    found = []
    for text in ui_texts(page):
        for written in content:
            text = text.replace(written, "")
        words = {m.group(0) for m in pattern.finditer(text)}
        if words:
            found.append(f"{sorted(words)} in {text[:120]!r}")
    return found


WEEKDAYS = {
    "fr": re.compile(r"\b(lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)\b", re.IGNORECASE),
    "en": re.compile(r"\b(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b", re.IGNORECASE),
}


def date_problems(page: Any, language: str, content: list[str] = ()) -> list[str]:
    """Dates in the main content are written in the page's language (weekday names)."""
    text = page.locator("main").inner_text()
    for written in content:
        text = text.replace(written, "")
    other = "fr" if language == "en" else "en"
    problems = []
    if not WEEKDAYS[language].search(text):
        problems.append(f"no weekday name in {language}")
    wrong = sorted({m.group(0) for m in WEEKDAYS[other].finditer(text)})
    if wrong:
        problems.append(f"weekday names in {other}: {wrong}")
    if language == "en":  # English names of days and months take a capital, wherever they stand
        lower = sorted({m.group(0) for m in ENGLISH_LOWERCASE_DATE.finditer(text)})
        if lower:
            problems.append(f"English day or month names without their capital: {lower}")
    return problems


ENGLISH_LOWERCASE_DATE = re.compile(
    r"\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday|january|february|march|april|june|july|"
    r"august|september|october|november|december)\b"
)


REFLOW_JS = """() => {
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth <= width + 1) return [];
  const clipped = el => {  // inside a box that scrolls or clips, and that box fits the screen
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      if (getComputedStyle(a).overflowX !== 'visible' && a.getBoundingClientRect().right <= width + 1) {
        // an absolutely positioned element escapes a box that is not its containing block
        return getComputedStyle(el).position !== 'absolute' || a.contains(el.offsetParent) || el.offsetParent === a;
      }
    }
    return false;
  };
  const wide = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.right > width + 1 && r.width > 0 && !clipped(el) && !wide.some(w => w.contains(el))) wide.push(el);
  }
  return wide.slice(0, 5).map(el => `<${el.tagName.toLowerCase()} class="${el.getAttribute('class') || ''}">`
    + ` (right edge ${Math.round(el.getBoundingClientRect().right)}px): ${(el.textContent || '').trim().slice(0, 40)}`);
}"""


def reflow_problems(page: Any) -> list[str]:
    """On a phone, nothing makes the whole page scroll sideways (WCAG 1.4.10): wide
    tables and charts scroll inside their own box."""
    culprits = page.evaluate(REFLOW_JS)
    if not culprits:
        return []
    width = page.evaluate("document.documentElement.scrollWidth")
    return [f"the page is {width}px wide on a {page.viewport_size['width']}px screen: {', '.join(culprits)}"]
