"""Feed data from the scheduling domain, read back as calendar apps read it:
series across daylight-saving changes, removed and edited occurrences,
SEQUENCE, cancelled events, personal commitments, and the feed tokens."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, time, timedelta

import recurring_ical_events
from flask import current_app
from icalendar import Calendar
from sqlalchemy import select

from tests.calendars.factories import (
    PARIS,
    by_uid,
    issue_token,
    make_series,
    next_october_change,
    paris,
    vevents,
)
from tests.factories import make_membership, make_tenant, make_user
from tests.scheduling.factories import enrol_in, local_time, make_event, make_room
from volunteer_platform.calendars import queries, services
from volunteer_platform.calendars.models import CalendarToken
from volunteer_platform.calendars.services import FeedSpec
from volunteer_platform.db import utcnow
from volunteer_platform.extensions import db
from volunteer_platform.scheduling import services as scheduling
from volunteer_platform.tenants.models import Membership, Role


def feed(match, *, now=None, reader=None, name="Test") -> Calendar:
    rows = queries.feed_rows(match, now=now or utcnow(), enrolments_of=reader.id if reader else None)
    spec = FeedSpec(name=name, timezone="Europe/Paris", reader_id=reader.id if reader else None,
                    event_url=lambda slug, event_id: f"https://x.example/{slug}/agenda/events/{event_id}")
    return Calendar.from_ical(services.feed_bytes(rows, spec))


def occurrences(cal: Calendar, start: date, days: int = 70) -> list:
    found = recurring_ical_events.of(cal).between(start - timedelta(days=1), start + timedelta(days=days))
    return sorted(found, key=lambda e: e["DTSTART"].dt)


def reload(model, ident):
    db.session.rollback()
    return db.session.get(model, ident)


# --- series ---------------------------------------------------------------------------------------


def test_a_weekly_series_across_the_october_change_stays_at_14h_local(app, tenant_a):
    change = next_october_change()  # a Sunday
    first = change - timedelta(days=19)  # a Tuesday, three weeks before
    series, events = make_series(tenant_a, first, count=6)
    cal = feed(queries.structure_events(tenant_a))
    (master,) = vevents(cal)
    assert str(master["UID"]) == series.uid
    assert master["DTSTART"].params["TZID"] == "Europe/Paris"
    assert master["RRULE"]["FREQ"] == ["WEEKLY"] and master["RRULE"]["COUNT"] == [6]
    found = occurrences(cal, first)
    assert len(found) == 6
    for occurrence in found:
        local = occurrence["DTSTART"].dt.astimezone(PARIS)
        assert (local.hour, local.minute, local.weekday()) == (14, 0, 1)
    utc_hours = [o["DTSTART"].dt.astimezone(UTC).hour for o in found]
    assert utc_hours == [12, 12, 12, 13, 13, 13]  # summer time, then winter time
    # …the very times stored for each occurrence.
    assert [o["DTSTART"].dt.astimezone(UTC) for o in found] == [e.starts_at for e in events]


def test_a_series_until_a_date_has_its_until_in_utc(app, tenant_a):
    change = next_october_change()
    first = change - timedelta(days=19)
    last = change + timedelta(days=16)
    make_series(tenant_a, first, until=last)
    (master,) = vevents(feed(queries.structure_events(tenant_a)))
    until = master["RRULE"]["UNTIL"][0]
    assert until.tzinfo is not None and until.utcoffset() == timedelta(0)
    assert until == datetime.combine(last, time(23, 59, 59), PARIS).astimezone(UTC)
    assert b"Z" in master["RRULE"].to_ical().split(b"UNTIL=")[1]


def test_skipped_and_cancelled_dates_are_exdates_and_an_edited_one_an_override(app, tenant_a):
    room = make_room(tenant_a, name="Salle Jaurès")
    first = next_october_change() - timedelta(days=19)
    day = [first + timedelta(weeks=i) for i in range(6)]
    scheduling.create_closure(tenant_a, room_id=room.id, starts_on=day[1], ends_on=day[1], reason="Travaux")
    db.session.commit()
    series, events = make_series(tenant_a, first, room=room, skip_conflicts=True)
    assert series.skipped_dates == [day[1].isoformat()] and len(events) == 5
    scheduling.cancel_event(events[1], now=utcnow())  # day[2]
    moved = scheduling.fields_of(events[2])  # day[3], after the change of time: 16:00 instead of 14:00
    moved.starts_at, moved.ends_at = paris(day[3], 16), paris(day[3], 18)
    scheduling.update_occurrences(events[2], moved, scheduling.Scope.ONE, now=utcnow())
    db.session.commit()

    cal = feed(queries.structure_events(tenant_a))
    (uid, components), = by_uid(cal).items()
    assert uid == series.uid
    master, override = sorted(components, key=lambda c: "RECURRENCE-ID" in c)
    assert master["EXDATE"].params["TZID"] == master["DTSTART"].params["TZID"] == "Europe/Paris"
    assert [d.dt for d in master["EXDATE"].dts] == [datetime.combine(d, time(14), PARIS) for d in (day[1], day[2])]
    assert override["RECURRENCE-ID"].params["TZID"] == "Europe/Paris"
    assert override["RECURRENCE-ID"].dt == datetime.combine(day[3], time(14), PARIS)
    assert override["DTSTART"].dt == datetime.combine(day[3], time(16), PARIS)

    found = [(o["DTSTART"].dt.date(), o["DTSTART"].dt.astimezone(PARIS).hour) for o in occurrences(cal, first)]
    assert found == [(day[0], 14), (day[3], 16), (day[4], 14), (day[5], 14)]


def test_this_and_following_gives_two_series_that_cover_every_occurrence(app, tenant_a):
    room = make_room(tenant_a)
    first = next_october_change() - timedelta(days=19)
    day = [first + timedelta(weeks=i) for i in range(6)]
    scheduling.create_closure(tenant_a, room_id=room.id, starts_on=day[4], ends_on=day[4], reason="Fermé")
    db.session.commit()
    _series, events = make_series(tenant_a, first, room=room, skip_conflicts=True)  # day[4] skipped
    later = scheduling.fields_of(events[2])
    later.starts_at, later.ends_at = paris(day[2], 10), paris(day[2], 12)
    scheduling.update_occurrences(events[2], later, scheduling.Scope.FOLLOWING, now=utcnow())
    db.session.commit()

    cal = feed(queries.structure_events(tenant_a))
    assert len(by_uid(cal)) == 2  # two series, no occurrence left out of both rules
    found = [(o["DTSTART"].dt.date(), o["DTSTART"].dt.astimezone(PARIS).hour) for o in occurrences(cal, first)]
    assert found == [(day[0], 14), (day[1], 14), (day[2], 10), (day[3], 10), (day[5], 10)]


def test_sequence_goes_up_when_time_place_or_status_changes(app, tenant_a):
    room, other_room = make_room(tenant_a), make_room(tenant_a)
    event = make_event(tenant_a, "workshop", local_time(tenant_a, 5, 10), room=room)

    def sequence() -> int:
        (component,) = vevents(feed(queries.structure_events(tenant_a)))
        return component["SEQUENCE"]

    assert sequence() == 0
    fields = scheduling.fields_of(event)
    fields.starts_at += timedelta(hours=1)
    fields.ends_at += timedelta(hours=1)
    scheduling.update_event(event, fields, now=utcnow())
    db.session.commit()
    assert sequence() == 1
    fields = scheduling.fields_of(event)
    fields.room_id = other_room.id
    scheduling.update_event(event, fields, now=utcnow())
    db.session.commit()
    assert sequence() == 2
    fields = scheduling.fields_of(event)
    fields.title = "Nouveau titre"  # not a change of time, place or status
    scheduling.update_event(event, fields, now=utcnow())
    db.session.commit()
    assert sequence() == 2
    scheduling.cancel_event(event, now=utcnow())
    db.session.commit()
    assert sequence() == 3


def test_cancelling_an_occurrence_raises_the_series_sequence(app, tenant_a):
    _series, events = make_series(tenant_a, next_october_change() - timedelta(days=19))
    (master,) = vevents(feed(queries.structure_events(tenant_a)))
    before = master["SEQUENCE"]
    scheduling.cancel_event(events[3], now=utcnow())
    db.session.commit()
    (master,) = vevents(feed(queries.structure_events(tenant_a)))
    assert master["SEQUENCE"] > before
    assert len(master["EXDATE"].dts) == 1


def test_dtstamp_and_last_modified_are_the_last_change_not_the_time_of_the_request(app, tenant_a):
    event = make_event(tenant_a, "workshop", local_time(tenant_a, 3, 14))
    first = vevents(feed(queries.structure_events(tenant_a), now=utcnow()))[0]
    second = vevents(feed(queries.structure_events(tenant_a), now=utcnow() + timedelta(hours=5)))[0]
    assert first["DTSTAMP"].dt == second["DTSTAMP"].dt == first["LAST-MODIFIED"].dt
    assert first["DTSTAMP"].dt == event.updated_at.replace(microsecond=0)
    assert str(first["UID"]) == str(second["UID"]) == event.uid


# --- cancelled events -------------------------------------------------------------------------------


def test_a_cancelled_event_stays_30_days_with_status_cancelled_then_leaves(app, tenant_a):
    event = make_event(tenant_a, "workshop", local_time(tenant_a, 40, 14), title="Atelier smartphone")
    scheduling.cancel_event(event, now=utcnow())
    db.session.commit()
    (component,) = vevents(feed(queries.structure_events(tenant_a)))
    assert str(component["STATUS"]) == "CANCELLED"
    assert str(component["UID"]) == event.uid
    assert "Atelier smartphone" in str(component["SUMMARY"]) and "Annulé" in str(component["SUMMARY"])
    assert vevents(feed(queries.structure_events(tenant_a), now=utcnow() + timedelta(days=29)))
    assert vevents(feed(queries.structure_events(tenant_a), now=utcnow() + timedelta(days=31))) == []


def test_a_series_cancelled_whole_is_sent_cancelled(app, tenant_a):
    series, events = make_series(tenant_a, next_october_change() - timedelta(days=19), count=3)
    scheduling.cancel_occurrences(events[0], scheduling.Scope.ALL, now=utcnow())
    db.session.commit()
    (master,) = vevents(feed(queries.structure_events(tenant_a)))
    assert str(master["UID"]) == series.uid
    assert str(master["STATUS"]) == "CANCELLED"
    assert vevents(feed(queries.structure_events(tenant_a), now=utcnow() + timedelta(days=31))) == []


# --- personal feed ----------------------------------------------------------------------------------


def test_a_personal_feed_has_places_and_sessions_led_in_every_structure_and_nothing_else(app, tenant_a, tenant_b):
    person = make_user(full_name="Paula Personne", email="paula@example.org")
    other = make_user(full_name="Olivier Autre", email="olivier@example.org")
    make_membership(tenant_a, person, Role.VOLUNTEER)
    make_membership(tenant_a, other, Role.VOLUNTEER)
    make_membership(tenant_b, person, Role.COORDINATOR)
    gone = make_tenant(slug="structure-quittee", name="Structure quittée")
    make_membership(gone, person, Role.VOLUNTEER)

    confirmed = make_event(tenant_a, "workshop", local_time(tenant_a, 3, 10), capacity=5, title="Place confirmée")
    enrol_in(confirmed, person)
    full = make_event(tenant_a, "workshop", local_time(tenant_a, 4, 10), capacity=1, title="Liste d'attente")
    enrol_in(full, other)
    enrol_in(full, person)  # waitlisted
    given_up = make_event(tenant_a, "workshop", local_time(tenant_a, 5, 10), capacity=5, title="Place rendue")
    place = enrol_in(given_up, person)
    from volunteer_platform.scheduling import enrolment

    enrolment.cancel(place, now=utcnow(), by=person)
    called_off = make_event(tenant_a, "workshop", local_time(tenant_a, 6, 10), capacity=5, title="Atelier annulé")
    enrol_in(called_off, person)
    scheduling.cancel_event(called_off, now=utcnow())
    db.session.commit()
    led = make_event(tenant_b, "workshop", local_time(tenant_b, 7, 10), trainer=person, title="Séance animée")
    make_event(tenant_b, "workshop", local_time(tenant_b, 8, 10), title="Sans rapport")
    left = make_event(gone, "workshop", local_time(gone, 9, 10), capacity=5, title="Structure quittée")
    enrol_in(left, person)
    db.session.scalars(select(Membership).where(Membership.tenant_id == gone.id)).one().is_active = False
    db.session.commit()

    cal = feed(queries.commitments(person), reader=person)
    titles = {str(e["SUMMARY"]): e for e in vevents(cal)}
    assert set(titles) == {"Place confirmée", "Annulé : Atelier annulé", "Séance animée"}
    assert str(titles["Annulé : Atelier annulé"]["STATUS"]) == "CANCELLED"
    assert "Vous êtes inscrit(e)." in str(titles["Place confirmée"]["DESCRIPTION"])
    assert "Vous étiez inscrit(e)." in str(titles["Annulé : Atelier annulé"]["DESCRIPTION"])
    assert "Vous animez cette séance." in str(titles["Séance animée"]["DESCRIPTION"])
    text = cal.to_ical().decode()
    assert "Olivier" not in text and "olivier@example.org" not in text
    assert {str(e["UID"]) for e in vevents(cal)} == {confirmed.uid, called_off.uid, led.uid}


# --- tokens -----------------------------------------------------------------------------------------


def test_a_feed_token_has_256_random_bits_and_only_its_hash_is_stored(app):
    person = make_user()
    token = issue_token(person)
    assert len(token) == 43 and services.TOKEN_RE.match(token)  # 32 bytes, base64url
    row = db.session.scalars(select(CalendarToken).where(CalendarToken.user_id == person.id)).one()
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in (row.key, row.token_hash)
    assert services.user_for_token(token).id == person.id
    assert issue_token(make_user()) != token


def test_regenerating_replaces_the_token_and_revoking_ends_it(app):
    person = make_user()
    old = issue_token(person)
    new = issue_token(person)
    assert new != old
    assert services.user_for_token(old) is None
    assert services.user_for_token(new).id == person.id
    assert services.current_token(person, secret_key=current_app.config["SECRET_KEY"]) == new
    assert services.revoke_token(person) is True
    db.session.commit()
    assert services.user_for_token(new) is None
    assert services.current_token(person, secret_key=current_app.config["SECRET_KEY"]) is None


def test_the_token_cannot_be_rebuilt_without_the_secret_key(app):
    person = make_user()
    token = issue_token(person)
    assert services.current_token(person, secret_key="another-secret-key-" + "y" * 32) is None
    assert services.current_token(person, secret_key=current_app.config["SECRET_KEY"]) == token


def test_tokens_of_inactive_people_and_malformed_tokens_open_nothing(app):
    person = make_user()
    token = issue_token(person)
    for wrong in ("", "x", token[:-1], token + "A", token.upper() if token != token.upper() else token.lower(),
                  "../" + token[3:]):
        assert services.user_for_token(wrong) is None, wrong
    person.is_active = False
    db.session.commit()
    assert services.user_for_token(token) is None

