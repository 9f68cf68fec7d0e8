"""End-to-end journeys in Chromium, each with the mouse on a desktop and on a phone
viewport, and keyboard only (Tab, Shift+Tab, Enter, Space, arrow keys, typing) on
the desktop viewport — see ``tests/browser/keys.py``.

What is not the point of a journey is seeded with the factories; what is the
point goes through the real pages, forms (CSRF included) and e-mail links
read from the outbox table.
"""

from __future__ import annotations

import json
import re
from datetime import time, timedelta
from itertools import pairwise

import pytest
from sqlalchemy import select

from tests.browser.conftest import last_email_to, link_in_email, screenshot
from tests.browser.keys import Person
from tests.factories import make_member, make_tenant, make_user
from tests.impact.test_participation_services import past_session
from tests.scheduling.factories import enrol_in, local_time, make_event, make_room
from tests.training.factories import complete_module, make_module, make_qualification
from volunteer_platform.extensions import db

pytestmark = [
    pytest.mark.browser,
    # With the mouse at both viewports; keyboard only at the desktop one (the keys are the same on a phone).
    pytest.mark.parametrize(("viewport", "mode"), [("desktop", "mouse"), ("phone", "mouse"), ("desktop", "keyboard")],
                            ids=["desktop", "phone", "desktop-keyboard"]),
]

NEW_PASSWORD = "Un-mot-de-passe-solide-2026!"


@pytest.fixture
def person(page, mode) -> Person:
    return Person(page, mode)


@pytest.fixture
def open_person(open_context, mode):
    """``open_person()`` → another person, on another device, acting the same way (mouse or keyboard)."""
    return lambda **kwargs: Person(open_context(**kwargs), mode)


def expect_flash(page, text: str) -> None:
    flash = page.locator(".flash", has_text=text)
    assert flash.count() >= 1, f"no message {text!r} on {page.url}: {page.locator('main').inner_text()[:500]}"


def accept_invitation(person, email: str, full_name: str) -> None:
    """Open the invitation link of the outbox and create the account."""
    person.goto(link_in_email(last_email_to(email), "/invitations/"))
    person.fill(person.get_by_label("Prénom et nom"), full_name)
    person.fill(person.locator("#password"), NEW_PASSWORD)
    person.fill(person.locator("#confirm"), NEW_PASSWORD)
    person.activate(person.get_by_role("button", name="Créer mon compte et rejoindre la structure"))
    assert "/invitations/" not in person.url, person.locator("main").inner_text()[:500]


# --- a supervisor creates a structure; its coordinator joins and invites a volunteer ---------------


def test_supervisor_creates_a_structure_and_its_coordinator_invites_a_volunteer(person, open_person, viewport):
    make_user(email="sam@example.org", full_name="Sam Supervision", is_supervisor=True)

    person.sign_in("sam@example.org")
    person.goto("/supervision/structures/new")
    person.fill(person.get_by_label("Nom de la structure"), "Espace numérique de Lens")
    person.fill(person.get_by_label("Identifiant dans les adresses web"), "en-lens")
    person.select(person.get_by_label("Type de structure"), index=1)
    person.fill(person.get_by_label("Adresse e-mail du coordinateur ou de la coordinatrice"), "nadia@example.org")
    screenshot(person, "journey-structure-new", viewport)
    person.activate(person.get_by_role("button", name="Créer la structure"))
    assert person.locator("h1").inner_text() == "Espace numérique de Lens"
    assert "nadia@example.org" in person.locator("main").inner_text()  # pending invitation

    coordinator = open_person()
    accept_invitation(coordinator, "nadia@example.org", "Nadia Coordinatrice")
    coordinator.goto("/en-lens/invitations")
    assert coordinator.locator("h1").inner_text() == "Invitations"
    coordinator.fill(coordinator.get_by_label("Adresse e-mail"), "victor@example.org")
    coordinator.select(coordinator.get_by_label("Rôle"), "volunteer")
    coordinator.activate(coordinator.get_by_role("button", name="Envoyer l'invitation"))
    assert coordinator.locator("tbody th", has_text="victor@example.org").count() == 1
    screenshot(coordinator, "journey-invitations", viewport)

    volunteer = open_person()
    accept_invitation(volunteer, "victor@example.org", "Victor Bénévole")
    volunteer.goto("/en-lens/")
    assert volunteer.locator("h1").count() == 1
    assert "Espace numérique de Lens" in volunteer.locator("header").inner_text()


# --- the volunteer: module, quiz, attestation; a shift needing the qualification; the waitlist ------


def test_volunteer_trains_then_signs_up_for_a_shift_cancels_and_the_waitlist_gets_the_seat(
        person, open_person, viewport):
    tenant = make_tenant(slug="maison", name="Maison solidaire")
    make_member(tenant, "coordinator", email="coralie@example.org", full_name="Coralie Martin")
    qualification = make_qualification(tenant, name="Accueil numérique")
    module = make_module(tenant, title="Créer une adresse e-mail", lessons=2, questions=2,
                         qualification=qualification)
    room = make_room(tenant, capacity=6, name="Salle informatique")
    shift = make_event(tenant, "shift", local_time(tenant, 3, 9), title="Permanence du jeudi", capacity=1,
                       qualification=qualification, room=room)
    waiting = make_member(tenant, "volunteer", email="awa@example.org", full_name="Awa Diallo")
    complete_module(waiting, module, tenant)

    # The coordinator invites Victor; he creates his account from the e-mail's link.
    person.sign_in("coralie@example.org")
    person.goto("/maison/invitations")
    person.fill(person.get_by_label("Adresse e-mail"), "victor@example.org")
    person.activate(person.get_by_role("button", name="Envoyer l'invitation"))
    expect_flash(person, "victor@example.org")
    victor = open_person()
    accept_invitation(victor, "victor@example.org", "Victor Bénévole")

    # The module: lessons, then the quiz.
    victor.goto(f"/maison/training/modules/{module.id}")
    screenshot(victor, "journey-module", viewport)
    victor.activate(victor.get_by_role("link", name="Commencer"))
    for _ in range(2):
        victor.activate(victor.get_by_role("button", name="J'ai terminé cette leçon"))
    if "/quiz" not in victor.url:
        victor.goto(f"/maison/training/modules/{module.id}/quiz")
    screenshot(victor, "journey-quiz", viewport)
    victor.check(victor.get_by_label("Choix A1"))
    victor.check(victor.get_by_label("Choix A2"))
    victor.activate(victor.get_by_role("button", name="Valider mes réponses"))
    assert victor.locator("h1").inner_text() == "Résultat du quiz"
    assert victor.get_by_text("Quiz réussi, bravo !").count() == 1
    screenshot(victor, "journey-quiz-result", viewport)

    # The qualification shows on "Ma formation"; the attestation downloads from the module's page.
    victor.activate(victor.get_by_role("link", name="Ma formation").first)
    assert victor.locator("#qualifications-title ~ * th", has_text="Accueil numérique").count() == 1
    victor.goto(f"/maison/training/modules/{module.id}")
    with victor.expect_download() as download_info:
        victor.activate(victor.get_by_role("link", name="Télécharger mon attestation (PDF)"), navigates=False)
    download = download_info.value
    assert download.suggested_filename.endswith(".pdf")
    with open(download.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"

    # The shift requires the qualification he now holds: he signs up…
    victor.goto("/maison/agenda/open")
    card = victor.locator(".card", has_text="Permanence du jeudi")
    victor.activate(card.get_by_role("button", name=re.compile("Je m'inscris")))
    expect_flash(victor, "Permanence du jeudi")
    # …the only seat is taken, so Awa joins the waitlist…
    db.session.rollback()  # a fresh snapshot, after the server's commits
    enrol_in(shift, waiting)
    db.session.rollback()
    # …and he cancels: Awa gets the seat.
    victor.goto(f"/maison/agenda/events/{shift.id}")
    assert victor.get_by_text("Vous êtes inscrit(e).").count() == 1
    victor.activate(victor.get_by_role("button", name="Annuler mon inscription"))
    assert victor.get_by_role("button", name="Je m'inscris").count() == 0  # the seat went to Awa
    screenshot(victor, "journey-shift-cancelled", viewport)

    awa = open_person()
    awa.sign_in("awa@example.org")
    awa.goto(f"/maison/agenda/events/{shift.id}")
    assert awa.get_by_text("Vous êtes inscrit(e).").count() == 1
    assert "Permanence du jeudi" in last_email_to("awa@example.org")


# --- a trainer marks attendance; the attendee answers the survey -----------------------------------


def test_trainer_marks_attendance_and_the_attendee_answers_the_survey(person, open_person, viewport):
    from volunteer_platform.impact.models import SurveyResponse

    tenant = make_tenant(slug="maison", name="Maison solidaire")
    trainer = make_member(tenant, "trainer", email="theo@example.org", full_name="Théo Formateur")
    attendee = make_member(tenant, "volunteer", email="awa@example.org", full_name="Awa Diallo")
    session = past_session(tenant, trainer=trainer, title="Séance : la messagerie")
    enrol_in(session, attendee, now=session.starts_at - timedelta(days=2))

    person.sign_in("theo@example.org")
    person.goto(f"/maison/agenda/events/{session.id}")
    person.activate(person.get_by_role("link", name="Feuille de présence"))
    person.check(person.locator("fieldset", has_text="Awa Diallo").get_by_label("Présent"))
    screenshot(person, "journey-attendance", viewport)
    person.activate(person.get_by_role("button", name="Enregistrer les présences"))
    expect_flash(person, "Présences enregistrées")

    awa = open_person()
    awa.sign_in("awa@example.org")
    awa.goto(link_in_email(last_email_to("awa@example.org"), "/survey"))
    awa.check(awa.get_by_label("Très satisfait"))
    awa.check(awa.locator("fieldset", has_text="plus capable").get_by_label("Oui"))
    awa.check(awa.locator("fieldset", has_text="à l'aise").get_by_label("Non"))
    awa.fill(awa.get_by_label("Un commentaire ? (facultatif)"), "Très clair, merci.")
    screenshot(awa, "journey-survey", viewport)
    awa.activate(awa.get_by_role("button", name="Envoyer mon avis"))
    db.session.rollback()
    answers = db.session.scalars(select(SurveyResponse)).all()
    assert [(a.satisfaction, a.more_able_to_help, a.at_ease_with_computer) for a in answers] == [(5, True, False)]


# --- a coordinator creates a weekly workshop series and copies its feed address --------------------


def test_coordinator_creates_a_weekly_series_and_copies_the_feed_address(person, browser_context, viewport):
    tenant = make_tenant(slug="maison", name="Maison solidaire")
    make_member(tenant, "coordinator", email="coralie@example.org", full_name="Coralie Martin")
    make_room(tenant, capacity=10, name="Salle informatique")
    day = (local_time(tenant, 7, 12)).date()

    person.sign_in("coralie@example.org")
    person.goto("/maison/agenda/events/new")
    person.select(person.get_by_label("Type d'événement"), "workshop")
    person.fill(person.get_by_label("Titre"), "Atelier démarches en ligne")
    person.fill_date(person.get_by_label("Date", exact=True), day)
    person.fill_time(person.get_by_label("Heure de début"), time(14, 0))
    person.fill_time(person.get_by_label("Heure de fin"), time(16, 0))
    person.fill(person.get_by_label("Nombre de places"), "8")
    person.check(person.get_by_label(re.compile("^Toutes les semaines")))
    person.check(person.get_by_label("Un nombre de fois"))
    person.fill(person.get_by_label("Nombre de fois en tout"), "4")
    person.activate(person.get_by_role("button", name=re.compile("Créer|Enregistrer|Ajouter")).last)
    expect_flash(person, "Atelier démarches en ligne")
    assert "Série" in person.locator("main").inner_text()

    person.goto(f"/maison/agenda/week?date={day.isoformat()}")
    feed = person.locator("input.feed-url").first
    assert feed.is_visible()
    screenshot(person, "journey-feed", viewport)
    # Copy it as a person would: focus the field (Tab with the keyboard), select all, copy.
    browser_context.grant_permissions(["clipboard-read", "clipboard-write"])
    if person.keyboard_only:
        person.tab_to(feed)
    else:
        feed.focus()
    person.keyboard.press("ControlOrMeta+A")
    person.keyboard.press("ControlOrMeta+C")
    copied = person.evaluate("navigator.clipboard.readText()")
    assert copied == feed.input_value() and copied.endswith(".ics")

    ics = person.request.get(copied)
    assert ics.ok and ics.headers["content-type"].startswith("text/calendar")
    import recurring_ical_events
    from icalendar import Calendar

    calendar = Calendar.from_ical(ics.body())
    dates = recurring_ical_events.of(calendar).between(day - timedelta(days=1), day + timedelta(days=60))
    starts = sorted(e["DTSTART"].dt for e in dates if str(e["SUMMARY"]) == "Atelier démarches en ligne")
    assert len(starts) == 4, starts  # the four dates of the series, a week apart, at 14:00 local time
    assert all(later - earlier == timedelta(weeks=1) for earlier, later in pairwise(starts))
    assert {(s.hour, s.minute) for s in starts} == {(14, 0)}


# --- a person downloads their personal data --------------------------------------------------------


def test_a_person_downloads_their_personal_data(person, viewport):
    tenant = make_tenant(slug="maison", name="Maison solidaire")
    make_member(tenant, "volunteer", email="victor@example.org", full_name="Victor Bénévole")

    person.sign_in("victor@example.org")
    person.goto("/account")
    person.activate(person.get_by_role("link", name=re.compile("données")).first)
    assert person.url.endswith("/account/data")
    with person.expect_download() as download_info:
        person.activate(person.get_by_role("link", name="Télécharger (JSON, pour un programme)"), navigates=False)
    download = download_info.value
    assert download.suggested_filename.endswith(".json")
    with open(download.path(), encoding="utf-8") as fh:
        data = json.load(fh)
    assert "victor@example.org" in json.dumps(data, ensure_ascii=False)
    assert "Victor Bénévole" in json.dumps(data, ensure_ascii=False)
