"""``flask send-event-reminders``: the day before, once, never after the start,
never for a cancelled place or event; times in the structure's own zone."""

from __future__ import annotations

import contextvars
from datetime import timedelta

from sqlalchemy import select

from tests.factories import make_member, make_tenant
from tests.scheduling.factories import enrol_in, local_time, make_event, make_room
from volunteer_platform.db import utcnow
from volunteer_platform.extensions import db
from volunteer_platform.scheduling import enrolment as enrolments
from volunteer_platform.scheduling import services
from volunteer_platform.scheduling.cli import send_event_reminders_command
from volunteer_platform.scheduling.models import Enrolment


def run_reminders(app):
    """Run the command as cron does: outside any request (and outside the
    request context that pytest-flask keeps pushed during a test)."""
    db.session.commit()
    result = contextvars.Context().run(app.test_cli_runner().invoke, send_event_reminders_command)
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def reminders(outbox):
    return [e for e in outbox() if e.subject.startswith("Rappel")]


def shift_in(tenant, hours, *, title="Permanence", capacity=3, **kwargs):
    starts_at = (utcnow() + timedelta(hours=hours)).replace(second=0, microsecond=0)
    return make_event(tenant, "shift", starts_at, title=title, capacity=capacity, **kwargs)


def test_people_are_reminded_once_the_day_before(app, outbox, tenant_a, volunteer_a):
    tenant_a.contact_phone = "03 21 00 00 01"
    db.session.commit()
    room = make_room(tenant_a, name="Salle Jean Jaurès")
    tomorrow = shift_in(tenant_a, 20, title="Permanence CAF", room=room, what_to_bring="Votre badge")
    enrol_in(tomorrow, volunteer_a)
    later = shift_in(tenant_a, 30, title="Permanence d'après-demain")
    enrol_in(later, make_member(tenant_a, "volunteer", email="later@example.org"))

    result = run_reminders(app)

    assert "queued: 1" in result.output
    [email] = reminders(outbox)
    assert email.to_address == "vol-a@example.org"
    assert email.subject.startswith("Rappel : Permanence CAF")
    body = email.body_text
    assert body.startswith("Bonjour Victor,")
    assert "Salle Jean Jaurès" in body and "Votre badge" in body and "03 21 00 00 01" in body
    assert f"http://testserver.example/structure-a/agenda/events/{tomorrow.id}" in body
    db.session.rollback()
    place = db.session.scalars(select(Enrolment).where(Enrolment.event_id == tomorrow.id)).one()
    assert place.reminder_sent_at is not None

    run_reminders(app)
    assert len(reminders(outbox)) == 1


def test_no_reminder_after_the_start_nor_for_cancelled_places_or_events(app, outbox, tenant_a, volunteer_a):
    started = make_event(tenant_a, "shift", utcnow() - timedelta(minutes=30), capacity=2)
    enrol_in(started, volunteer_a, now=utcnow() - timedelta(days=1))

    cancelled_place = shift_in(tenant_a, 10)
    left = make_member(tenant_a, "volunteer", email="left@example.org")
    place = enrol_in(cancelled_place, left)
    enrolments.cancel(place, now=utcnow(), by=left, as_coordinator=True)
    db.session.commit()

    cancelled_event = shift_in(tenant_a, 12)
    enrol_in(cancelled_event, make_member(tenant_a, "volunteer", email="told@example.org"))
    services.cancel_event(cancelled_event, now=utcnow())
    db.session.commit()

    waitlisted = shift_in(tenant_a, 14, capacity=1)
    enrol_in(waitlisted, make_member(tenant_a, "volunteer", email="seated@example.org"))
    enrol_in(waitlisted, make_member(tenant_a, "volunteer", email="waiting@example.org"))

    run_reminders(app)

    assert [e.to_address for e in reminders(outbox)] == ["seated@example.org"]


def test_the_reminder_gives_the_time_of_the_structure_not_of_the_server(app, outbox):
    martinique = make_tenant(slug="fort-de-france", name="CCAS de Fort-de-France", timezone="America/Martinique")
    person = make_member(martinique, "volunteer", full_name="Léa Joseph", email="lea@example.org")
    starts_at = local_time(martinique, 1, 9, 30)  # 9:30 in Martinique is 13:30 UTC, 15:30 in Paris
    if starts_at - utcnow() > timedelta(hours=24):
        starts_at -= timedelta(days=1)
    if starts_at <= utcnow():
        starts_at += timedelta(days=1)
    event = make_event(martinique, "shift", starts_at, ends_at=starts_at + timedelta(hours=2), capacity=2,
                       title="Permanence numérique")
    enrol_in(event, person)

    run_reminders(app)

    [email] = reminders(outbox)
    assert "à 09:30" in email.subject
    assert "de 09:30 à 11:30" in email.body_text
    assert "13:30" not in email.body_text and "15:30" not in email.body_text


def test_people_are_told_when_an_event_is_cancelled(app, outbox, tenant_a, volunteer_a):
    event = make_event(tenant_a, "shift", local_time(tenant_a, 3, 14), capacity=2, title="Permanence du samedi")
    enrol_in(event, volunteer_a)
    enrolments.notify_event_cancelled(services.cancel_event(event, now=utcnow()), now=utcnow(),
                                      base_url="http://testserver.example")
    db.session.commit()

    [email] = [e for e in outbox() if e.subject.startswith("Annulé")]
    assert email.to_address == "vol-a@example.org"
    assert "Permanence du samedi" in email.subject
    assert "Cet événement est annulé" in email.body_text and "de 14:00 à 16:00" in email.body_text
