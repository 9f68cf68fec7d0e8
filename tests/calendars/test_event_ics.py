"""One event as an .ics file: the download from the event's page and "Mes
inscriptions", and the attachment of confirmation and cancellation e-mails.
Every file is parsed back with the icalendar library."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from email import policy
from email.parser import BytesParser
from zoneinfo import ZoneInfo

import recurring_ical_events
from icalendar import Calendar
from sqlalchemy import select

from tests.calendars.factories import (
    by_uid,
    issue_token,
    make_series,
    next_october_change,
    parse,
    vevents,
)
from tests.factories import make_member, make_site, page_text
from tests.scheduling.factories import enrol_in, local_time, make_event, make_room
from volunteer_platform.db import utcnow
from volunteer_platform.extensions import db
from volunteer_platform.notifications.services import build_message
from volunteer_platform.scheduling import enrolment as enrolments
from volunteer_platform.scheduling.models import Enrolment, EnrolmentStatus

A = "/structure-a/agenda"
CALENDAR = "text/calendar; charset=utf-8"
PARIS = ZoneInfo("Europe/Paris")


def local_day(tenant, days_ahead: int):
    return utcnow().astimezone(ZoneInfo(tenant.timezone)).date() + timedelta(days=days_ahead)


def workshop(tenant, **fields):
    site = make_site(tenant, name="Maison France Services", address="12 rue de la République")
    room = make_room(tenant, site, name="Salle numérique")
    values = {"room": room, "capacity": 8, "title": "Atelier : mes démarches CAF",
              "what_to_bring": "Votre numéro d'allocataire"}
    values.update(fields)
    return make_event(tenant, "workshop", local_time(tenant, 3, 14), **values)


def assert_crlf(data: bytes) -> None:
    assert data.startswith(b"BEGIN:VCALENDAR\r\n") and data.endswith(b"END:VCALENDAR\r\n")
    assert b"\n" not in data.replace(b"\r\n", b""), "a line ends without CR"


def the_event(cal: Calendar):
    found = vevents(cal)
    assert len(found) == 1, [str(e.get("UID")) for e in found]
    return found[0]


def assert_paris_time(vevent, expected_local: datetime) -> None:
    """DTSTART is a local time with TZID=Europe/Paris (not UTC, not floating)."""
    start = vevent["DTSTART"]
    assert start.params["TZID"] == "Europe/Paris"
    assert start.to_ical().decode() == expected_local.strftime("%Y%m%dT%H%M%S")
    assert vevent.decoded("DTSTART").replace(tzinfo=None) == expected_local


def vtimezones(cal: Calendar) -> list[str]:
    return [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")]


def attachments_of(mail) -> list[dict]:
    return list(mail.attachments or [])


def ics_of(mail) -> Calendar:
    (attachment,) = attachments_of(mail)
    assert attachment["content_type"] == "text/calendar"
    assert attachment["filename"].endswith(".ics")
    data = attachment["content"].encode("utf-8")
    assert_crlf(data)
    return Calendar.from_ical(data)


def mails_to(outbox, address: str) -> list:
    return [m for m in outbox() if m.to_address == address]


# --- the download ---------------------------------------------------------------------------------


def test_a_volunteer_downloads_the_event_as_an_ics_file(client, login_as, tenant_a, volunteer_a):
    event = workshop(tenant_a)
    login_as(volunteer_a)
    response = client.get(f"{A}/events/{event.id}.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == CALENDAR
    day = local_day(tenant_a, 3)
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="atelier-mes-demarches-caf-{day.isoformat()}.ics"')
    assert_crlf(response.data)

    cal = parse(response)
    assert str(cal["METHOD"]) == "PUBLISH" and str(cal["VERSION"]) == "2.0"
    assert "X-WR-CALNAME" not in cal and "REFRESH-INTERVAL" not in cal  # a file to add, not a feed
    assert vtimezones(cal) == ["Europe/Paris"]
    vevent = the_event(cal)
    assert str(vevent["UID"]) == event.uid
    assert_paris_time(vevent, datetime.combine(day, time(14)))
    assert vevent.decoded("DTEND").replace(tzinfo=None) == datetime.combine(day, time(16))
    assert str(vevent["STATUS"]) == "CONFIRMED"
    assert str(vevent["SUMMARY"]) == "Atelier : mes démarches CAF"
    assert "Salle numérique, Maison France Services, 12 rue de la République" in str(vevent["LOCATION"])
    assert "Votre numéro d'allocataire" in str(vevent["DESCRIPTION"])
    assert str(vevent["URL"]) == f"http://testserver.example{A}/events/{event.id}"


def test_the_file_has_the_uid_and_sequence_of_the_feeds(client, login_as, tenant_a, coordinator_a):
    event = workshop(tenant_a)
    # Moved once: SEQUENCE went up; the file and the feed must agree on it.
    from volunteer_platform.scheduling import services as scheduling

    fields = scheduling.EventFields(
        kind=event.kind, title=event.title, starts_at=event.starts_at + timedelta(hours=1),
        ends_at=event.ends_at + timedelta(hours=1), room_id=event.room_id, capacity=event.capacity,
        what_to_bring=event.what_to_bring)
    scheduling.update_event(event, fields, now=utcnow())
    db.session.commit()
    login_as(coordinator_a)
    file_event = the_event(parse(client.get(f"{A}/events/{event.id}.ics")))
    token = issue_token(coordinator_a)
    feed = parse(client.get(f"/feeds/{token}/structure-a/agenda.ics"))
    (in_feed,) = by_uid(feed)[event.uid]
    assert int(file_event["SEQUENCE"]) == int(in_feed["SEQUENCE"]) == 1
    assert file_event.decoded("DTSTART") == in_feed.decoded("DTSTART")
    assert_paris_time(file_event, datetime.combine(local_day(tenant_a, 3), time(15)))


def test_a_series_occurrence_is_that_occurrence_of_the_series_uid(client, login_as, tenant_a, volunteer_a):
    """Across the change to winter time: the occurrence keeps 14:00 local
    time, with the series' UID and a RECURRENCE-ID that the feed's RRULE
    generates — so an app subscribed to the feed does not show it twice."""
    change = next_october_change()
    series, events = make_series(tenant_a, change - timedelta(days=14), count=4, title="Atelier tablette")
    after_change = events[2]  # the day of the change, after it (03:00)
    login_as(volunteer_a)
    response = client.get(f"{A}/events/{after_change.id}.ics")
    assert response.status_code == 200
    day = change
    assert f'filename="atelier-tablette-{day.isoformat()}.ics"' in response.headers["Content-Disposition"]
    cal = parse(response)
    vevent = the_event(cal)
    assert str(vevent["UID"]) == series.uid
    assert "RRULE" not in vevent  # one date, not the whole series
    assert vevent["RECURRENCE-ID"].params["TZID"] == "Europe/Paris"
    assert vevent.decoded("RECURRENCE-ID").replace(tzinfo=None) == datetime.combine(day, time(14))
    assert_paris_time(vevent, datetime.combine(day, time(14)))
    assert vevent.decoded("DTSTART").utcoffset() == timedelta(hours=1)  # winter time
    assert vtimezones(cal) == ["Europe/Paris"]
    standard = [c for c in cal.walk("STANDARD") if c.get("RRULE")]
    assert standard and standard[0].decoded("DTSTART").time() == time(3)  # 03:00 summer time -> 02:00

    token = issue_token(volunteer_a)
    feed = parse(client.get(f"/feeds/{token}/structure-a/agenda.ics"))
    (master,) = by_uid(feed)[series.uid]
    assert int(vevent["SEQUENCE"]) == int(master["SEQUENCE"])
    instances = recurring_ical_events.of(feed).at(day)
    starts = [i.decoded("DTSTART") for i in instances if str(i["UID"]) == series.uid]
    assert starts == [vevent.decoded("RECURRENCE-ID")]


def test_a_cancelled_event_downloads_as_cancelled_with_a_higher_sequence(client, login_as, tenant_a,
                                                                        coordinator_a):
    event = workshop(tenant_a)
    login_as(coordinator_a)
    before = the_event(parse(client.get(f"{A}/events/{event.id}.ics")))
    page = page_text(client.get(f"{A}/events/{event.id}"))
    assert "Ajouter à mon calendrier (.ics)" in page
    assert client.post(f"{A}/events/{event.id}/cancel").status_code == 302
    after = the_event(parse(client.get(f"{A}/events/{event.id}.ics")))
    assert str(after["UID"]) == str(before["UID"]) == event.uid
    assert str(after["STATUS"]) == "CANCELLED"
    assert int(after["SEQUENCE"]) > int(before["SEQUENCE"])
    # No "add" link on a cancelled event's page.
    assert "Ajouter à mon calendrier" not in page_text(client.get(f"{A}/events/{event.id}"))


def test_the_event_page_and_my_enrolments_offer_the_file(client, login_as, tenant_a, volunteer_a):
    event = workshop(tenant_a)
    enrol_in(event, volunteer_a)
    login_as(volunteer_a)
    link = f'href="{A}/events/{event.id}.ics"'
    page = client.get(f"{A}/events/{event.id}")
    assert link in page.get_data(as_text=True)
    assert "Ajouter à mon calendrier (.ics)" in page_text(page)
    mine = client.get(f"{A}/mine")
    assert mine.status_code == 200
    assert link in mine.get_data(as_text=True)
    assert ('Ajouter à mon calendrier (.ics)<span class="visually-hidden"> — Atelier : mes démarches CAF</span>'
            in page_text(mine))


def test_only_members_of_the_events_structure_download_it(client, login_as, tenant_a, tenant_b, volunteer_a,
                                                         coordinator_b):
    ours = workshop(tenant_a)
    theirs = make_event(tenant_b, "workshop", local_time(tenant_b, 3, 10), title="MARQUEUR-B")
    assert client.get(f"{A}/events/{ours.id}.ics").status_code == 302  # anonymous: to the login page

    login_as(volunteer_a)
    response = client.get(f"{A}/events/{theirs.id}.ics")  # B's id under A's prefix
    assert response.status_code == 404 and b"MARQUEUR-B" not in response.data
    assert client.get(f"/structure-b/agenda/events/{theirs.id}.ics").status_code == 404  # not a member of B
    assert client.get(f"{A}/events/999999.ics").status_code == 404

    login_as(coordinator_b)
    assert client.get(f"{A}/events/{ours.id}.ics").status_code == 404
    assert client.get(f"/structure-b/agenda/events/{theirs.id}.ics").status_code == 200


# --- e-mail attachments -----------------------------------------------------------------------------


def test_the_confirmation_email_carries_the_event(tenant_a, volunteer_a, outbox):
    event = workshop(tenant_a)
    place = enrol_in(event, volunteer_a)
    assert place.status is EnrolmentStatus.CONFIRMED
    (mail,) = mails_to(outbox, "vol-a@example.org")
    assert mail.subject.startswith("Inscription confirmée")
    assert attachments_of(mail)[0]["filename"] == (
        f"atelier-mes-demarches-caf-{local_day(tenant_a, 3).isoformat()}.ics")
    cal = ics_of(mail)
    assert str(cal["METHOD"]) == "PUBLISH"
    assert vtimezones(cal) == ["Europe/Paris"]
    vevent = the_event(cal)
    assert str(vevent["UID"]) == event.uid
    assert str(vevent["STATUS"]) == "CONFIRMED"
    assert_paris_time(vevent, datetime.combine(local_day(tenant_a, 3), time(14)))
    assert "Vous êtes inscrit(e)." in str(vevent["DESCRIPTION"])
    assert str(vevent["URL"]) == f"http://testserver.example{A}/events/{event.id}"

    # The message as sent: a text/calendar part in UTF-8, named, with the same bytes (CRLF kept).
    message = BytesParser(policy=policy.default).parsebytes(
        build_message(mail, "noreply@example.org").as_bytes())
    (part,) = list(message.iter_attachments())
    assert part.get_content_type() == "text/calendar"
    assert part.get_filename() == attachments_of(mail)[0]["filename"]
    assert part.get_content_charset() == "utf-8"
    assert part.get_payload(decode=True) == attachments_of(mail)[0]["content"].encode("utf-8")
    assert "Atelier : mes démarches CAF" in part.get_content()


def test_waitlisted_people_get_no_file_and_an_offered_seat_does(tenant_a, volunteer_a, outbox):
    event = workshop(tenant_a, capacity=1)
    first = make_member(tenant_a, "volunteer", email="premiere@example.org")
    place = enrol_in(event, first)
    waiting = enrol_in(event, volunteer_a)
    assert waiting.status is EnrolmentStatus.WAITLISTED
    (waitlisted_mail,) = mails_to(outbox, "vol-a@example.org")
    assert waitlisted_mail.subject and attachments_of(waitlisted_mail) == []

    enrolments.cancel(place, now=utcnow(), by=first, base_url="http://testserver.example")
    db.session.commit()
    assert db.session.get(Enrolment, waiting.id).status is EnrolmentStatus.CONFIRMED
    offered = mails_to(outbox, "vol-a@example.org")[1]
    assert offered.id != waitlisted_mail.id
    vevent = the_event(ics_of(offered))
    assert str(vevent["UID"]) == event.uid and str(vevent["STATUS"]) == "CONFIRMED"


def test_the_cancellation_email_cancels_the_file_it_replaces(client, login_as, tenant_a, coordinator_a,
                                                            volunteer_a, outbox):
    event = workshop(tenant_a, capacity=1)
    enrol_in(event, volunteer_a)
    waiting = make_member(tenant_a, "volunteer", email="attente@example.org")
    enrol_in(event, waiting)
    confirmed = the_event(ics_of(mails_to(outbox, "vol-a@example.org")[0]))

    login_as(coordinator_a)
    assert client.post(f"{A}/events/{event.id}/cancel").status_code == 302
    cancellation = mails_to(outbox, "vol-a@example.org")[-1]
    assert cancellation.subject.startswith("Annulé")
    cancelled = the_event(ics_of(cancellation))
    assert str(cancelled["UID"]) == str(confirmed["UID"]) == event.uid
    assert str(cancelled["STATUS"]) == "CANCELLED"
    assert int(cancelled["SEQUENCE"]) > int(confirmed["SEQUENCE"])
    assert cancelled.decoded("DTSTART") == confirmed.decoded("DTSTART")
    # The person on the waitlist never had the event in a calendar: no file.
    waiting_mails = mails_to(outbox, "attente@example.org")
    assert [m.subject.startswith("Annulé") for m in waiting_mails] == [False, True]
    assert all(attachments_of(m) == [] for m in waiting_mails)


def test_a_series_occurrence_in_emails_keeps_its_recurrence_id(client, login_as, tenant_a, coordinator_a,
                                                              volunteer_a, outbox):
    first_day = local_day(tenant_a, 2)
    series, events = make_series(tenant_a, first_day, count=3, capacity=5, title="Atelier tablette")
    enrol_in(events[1], volunteer_a)
    confirmed = the_event(ics_of(mails_to(outbox, "vol-a@example.org")[0]))
    slot = datetime.combine(first_day + timedelta(days=7), time(14))
    assert str(confirmed["UID"]) == series.uid
    assert confirmed.decoded("RECURRENCE-ID").replace(tzinfo=None) == slot

    login_as(coordinator_a)
    assert client.post(f"{A}/events/{events[1].id}/cancel", data={"scope": "one"}).status_code == 302
    cancelled = the_event(ics_of(mails_to(outbox, "vol-a@example.org")[-1]))
    assert str(cancelled["UID"]) == series.uid
    assert cancelled.decoded("RECURRENCE-ID") == confirmed.decoded("RECURRENCE-ID")
    assert str(cancelled["STATUS"]) == "CANCELLED"
    assert int(cancelled["SEQUENCE"]) > int(confirmed["SEQUENCE"])
    # The other dates are untouched: nobody else was written to.
    assert len(db.session.scalars(select(Enrolment)).all()) == 1
