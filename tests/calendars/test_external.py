"""Import of external busy times: .ics feeds of rooms and trainers served by a
local HTTP server (good, malformed, 500, too large, slow, unreachable, 304
with ETag), what is stored and kept, the coordinator's page, bookings refused
in a busy slot, the greyed week view, tenant isolation and the command."""

from __future__ import annotations

import socket
import threading
import time as clock
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from tests.factories import make_membership, make_user, page_text
from tests.scheduling.factories import make_room
from volunteer_platform.calendars import external
from volunteer_platform.calendars.external import (
    ExternalBusy,
    ExternalCalendar,
    ExternalCalendarStatus,
)
from volunteer_platform.calendars.external_cli import import_external_calendars_command
from volunteer_platform.db import utcnow
from volunteer_platform.extensions import db
from volunteer_platform.scheduling import recurrence, services
from volunteer_platform.scheduling.models import EventKind
from volunteer_platform.scheduling.services import ConflictList, EventFields
from volunteer_platform.tenants.models import Membership, Tenant

A = "/structure-a/agenda"
B = "/structure-b/agenda"
PARIS = "Europe/Paris"
SECRET_TITLE = "Conseil municipal HUIS-CLOS"


# --- the feeds -----------------------------------------------------------------------------------


def first_monday() -> date:
    """The first Monday at least two days from today in Paris."""
    today = utcnow().astimezone(ZoneInfo(PARIS)).date() + timedelta(days=2)
    return today + timedelta(days=(7 - today.weekday()) % 7)


def paris(day: date, hour: int, minute: int = 0) -> datetime:
    return recurrence.local_to_utc(datetime.combine(day, time(hour, minute)), PARIS)


def stamp(day: date, hour: int, minute: int = 0) -> str:
    return f"{day:%Y%m%d}T{hour:02d}{minute:02d}00"


VTIMEZONE = (
    "BEGIN:VTIMEZONE\r\nTZID:Europe/Paris\r\n"
    "BEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\nDTSTART:19700329T020000\r\n"
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\n"
    "BEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\nDTSTART:19701025T030000\r\n"
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
)


def vevent(uid: str, *lines: str) -> str:
    return "BEGIN:VEVENT\r\n" + f"UID:{uid}\r\nDTSTAMP:20260101T000000Z\r\n" + "".join(
        line + "\r\n" for line in lines) + "END:VEVENT\r\n"


def ics_document(*events: str) -> bytes:
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Mairie//Reservations des salles//FR\r\n" + VTIMEZONE
            + "".join(events) + "END:VCALENDAR\r\n").encode()


def good_feed(monday: date) -> bytes:
    """A weekly meeting (6 Mondays 10:00–11:00, the 2nd removed, the 3rd moved
    to 14:00–15:30), an all-day event on Thursday, one in UTC on Friday, and a
    free event and a cancelled one that block nothing."""
    tz = "TZID=Europe/Paris"
    return ics_document(
        vevent("conseil@mairie", f"DTSTART;{tz}:{stamp(monday, 10)}", f"DTEND;{tz}:{stamp(monday, 11)}",
               "RRULE:FREQ=WEEKLY;COUNT=6", f"EXDATE;{tz}:{stamp(monday + timedelta(days=7), 10)}",
               f"SUMMARY:{SECRET_TITLE}", "LOCATION:Salle du conseil", "DESCRIPTION:Ordre du jour confidentiel"),
        vevent("conseil@mairie", f"RECURRENCE-ID;{tz}:{stamp(monday + timedelta(days=14), 10)}",
               f"DTSTART;{tz}:{stamp(monday + timedelta(days=14), 14)}",
               f"DTEND;{tz}:{stamp(monday + timedelta(days=14), 15, 30)}", f"SUMMARY:{SECRET_TITLE} (déplacé)"),
        vevent("libre@mairie", f"DTSTART;{tz}:{stamp(monday + timedelta(days=1), 9)}",
               f"DTEND;{tz}:{stamp(monday + timedelta(days=1), 12)}", "TRANSP:TRANSPARENT", "SUMMARY:Libre"),
        vevent("annule@mairie", f"DTSTART;{tz}:{stamp(monday + timedelta(days=2), 9)}",
               f"DTEND;{tz}:{stamp(monday + timedelta(days=2), 12)}", "STATUS:CANCELLED", "SUMMARY:Annulé"),
        vevent("journee@mairie", f"DTSTART;VALUE=DATE:{monday + timedelta(days=3):%Y%m%d}", "SUMMARY:Ménage"),
        vevent("utc@mairie", f"DTSTART:{stamp(monday + timedelta(days=4), 8)}Z",
               f"DTEND:{stamp(monday + timedelta(days=4), 9)}Z", "SUMMARY:Visite"),
    )


def expected_busy(monday: date) -> list[tuple[datetime, datetime]]:
    week = timedelta(days=7)
    utc_friday = datetime.combine(monday + timedelta(days=4), time(8), tzinfo=ZoneInfo("UTC"))
    slots = [(paris(monday + n * week, 10), paris(monday + n * week, 11)) for n in (0, 3, 4, 5)]
    slots += [
        (paris(monday + 2 * week, 14), paris(monday + 2 * week, 15, 30)),
        (paris(monday + timedelta(days=3), 0), paris(monday + timedelta(days=4), 0)),
        (utc_friday, utc_friday + timedelta(hours=1)),
    ]
    return sorted(slots)


# --- the local server ----------------------------------------------------------------------------


@dataclass
class Feed:
    body: bytes = b""
    status: int = 200
    etag: str | None = None
    last_modified: str | None = None
    content_type: str = "text/calendar; charset=utf-8"
    delay: float = 0.0
    send_length: bool = True
    location: str | None = None


@dataclass
class FeedServer:
    base: str
    feeds: dict[str, Feed] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base + path

    def headers_of_last(self, path: str) -> dict[str, str]:
        return [headers for p, headers in self.requests if p == path][-1]


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    """An HTTP server on 127.0.0.1 (a free port) serving ``feeds`` by path."""
    state = FeedServer(base="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
            feed = state.feeds.get(self.path)
            if feed is None:
                self.send_error(404)
                return
            if feed.delay:
                clock.sleep(feed.delay)
            if feed.location:
                self.send_response(302)
                self.send_header("Location", feed.location)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if feed.etag and self.headers.get("If-None-Match") == feed.etag:
                self.send_response(304)
                self.send_header("ETag", feed.etag)
                self.end_headers()
                return
            self.send_response(feed.status)
            self.send_header("Content-Type", feed.content_type)
            if feed.etag:
                self.send_header("ETag", feed.etag)
            if feed.last_modified:
                self.send_header("Last-Modified", feed.last_modified)
            if feed.send_length:
                self.send_header("Content-Length", str(len(feed.body)))
            self.end_headers()
            try:
                self.wfile.write(feed.body)
            except (BrokenPipeError, ConnectionResetError):  # the client stopped reading (too large)
                pass

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def local_feeds_allowed(app, monkeypatch):
    """The test server is on the loopback address, refused by default."""
    monkeypatch.setitem(app.config, "EXTERNAL_CALENDARS_ALLOW_PRIVATE_HOSTS", True)


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/agenda.ics"


# --- helpers -------------------------------------------------------------------------------------


def add_room_calendar(tenant, room, url: str, name: str = "Réservations de la mairie") -> ExternalCalendar:
    calendar = external.add_calendar(tenant, name=name, url=url, room_id=room.id, now=utcnow())
    db.session.commit()
    return calendar


def add_trainer_calendar(tenant, trainer, url: str, name: str = "Agenda de travail") -> ExternalCalendar:
    calendar = external.add_calendar(tenant, name=name, url=url, trainer_id=trainer.id, now=utcnow())
    db.session.commit()
    return calendar


def refresh(calendar_id: int, *, timeout: float = 5.0, allow_private_hosts: bool = True,
            max_bytes: int = external.MAX_BYTES) -> external.FetchResult:
    """What the command and the button do: read, fetch outside the transaction, record."""
    db.session.rollback()
    calendar = db.session.scalars(select(ExternalCalendar).where(ExternalCalendar.id == calendar_id)).one()
    tenant = calendar_tenant(calendar)
    request = external.feed_request(calendar, tenant, now=utcnow())
    db.session.commit()
    result = external.fetch(request, now=utcnow(), timeout=timeout, allow_private_hosts=allow_private_hosts,
                            max_bytes=max_bytes)
    calendar = db.session.scalars(select(ExternalCalendar).where(ExternalCalendar.id == calendar_id)).one()
    external.record(calendar, result, now=utcnow())
    db.session.commit()
    return result


def calendar_tenant(calendar: ExternalCalendar) -> Tenant:
    return db.session.scalars(select(Tenant).where(Tenant.id == calendar.tenant_id)).one()


def fresh_calendar(calendar_id: int) -> ExternalCalendar | None:
    db.session.rollback()
    return db.session.scalars(select(ExternalCalendar).where(ExternalCalendar.id == calendar_id)).one_or_none()


def busy_rows(calendar_id: int) -> list[ExternalBusy]:
    db.session.rollback()
    return list(db.session.scalars(
        select(ExternalBusy).where(ExternalBusy.external_calendar_id == calendar_id)
        .order_by(ExternalBusy.starts_at, ExternalBusy.ends_at)
    ))


def spans(rows: list[ExternalBusy]) -> list[tuple[datetime, datetime]]:
    return [(row.starts_at, row.ends_at) for row in rows]


def make_trainer(tenant, name: str = "Tania Formatrice"):
    return make_membership(tenant, make_user(full_name=name), "trainer").user


def run_command(app, *args: str):
    result = app.test_cli_runner().invoke(import_external_calendars_command, list(args))
    assert result.exit_code == 0, result.output
    return result.output


# --- importing -----------------------------------------------------------------------------------


def test_a_good_feed_is_stored_as_busy_times_with_its_recurrences_exceptions_and_overrides(
        app, feed_server, tenant_a):
    monday = first_monday()
    feed_server.feeds["/salle.ics"] = Feed(good_feed(monday), etag='"v1"',
                                           last_modified="Mon, 05 Jan 2026 10:00:00 GMT")
    room = make_room(tenant_a, name="Salle du conseil")
    calendar = add_room_calendar(tenant_a, room, feed_server.url("/salle.ics"))
    assert fresh_calendar(calendar.id).status is ExternalCalendarStatus.PENDING

    result = refresh(calendar.id)

    assert result.outcome is external.Outcome.IMPORTED
    assert spans(busy_rows(calendar.id)) == expected_busy(monday)
    stored = fresh_calendar(calendar.id)
    assert stored.status is ExternalCalendarStatus.OK and stored.last_error is None
    assert stored.etag == '"v1"' and stored.last_modified == "Mon, 05 Jan 2026 10:00:00 GMT"
    assert stored.last_success_at is not None and stored.last_download_at is not None
    # Only times are kept: no column holds a title, a place or a description.
    assert {c.name for c in ExternalBusy.__table__.columns} == {
        "id", "tenant_id", "external_calendar_id", "starts_at", "ends_at"}


def test_a_304_keeps_the_busy_times_and_a_changed_feed_replaces_them(app, feed_server, tenant_a):
    monday = first_monday()
    feed = Feed(good_feed(monday), etag='"v1"', last_modified="Mon, 05 Jan 2026 10:00:00 GMT")
    feed_server.feeds["/salle.ics"] = feed
    calendar = add_room_calendar(tenant_a, make_room(tenant_a), feed_server.url("/salle.ics"))
    assert refresh(calendar.id).outcome is external.Outcome.IMPORTED
    assert "if-none-match" not in feed_server.headers_of_last("/salle.ics")
    before = busy_rows(calendar.id)
    first_success = fresh_calendar(calendar.id).last_success_at

    result = refresh(calendar.id)

    assert result.outcome is external.Outcome.NOT_MODIFIED
    sent = feed_server.headers_of_last("/salle.ics")
    assert sent["if-none-match"] == '"v1"'
    assert sent["if-modified-since"] == "Mon, 05 Jan 2026 10:00:00 GMT"
    after = busy_rows(calendar.id)
    assert [r.id for r in after] == [r.id for r in before]  # the very same rows
    stored = fresh_calendar(calendar.id)
    assert stored.status is ExternalCalendarStatus.OK and stored.last_success_at >= first_success

    # The feed changes: only the Thursday remains, and the new ETag is kept.
    feed.body = ics_document(vevent("journee@mairie", f"DTSTART;VALUE=DATE:{monday + timedelta(days=3):%Y%m%d}"))
    feed.etag = '"v2"'
    assert refresh(calendar.id).outcome is external.Outcome.IMPORTED
    assert spans(busy_rows(calendar.id)) == [(paris(monday + timedelta(days=3), 0),
                                               paris(monday + timedelta(days=4), 0))]
    assert fresh_calendar(calendar.id).etag == '"v2"'


def test_a_week_old_download_is_fetched_in_full_to_expand_recurrences_further(app, feed_server, tenant_a):
    feed_server.feeds["/salle.ics"] = Feed(good_feed(first_monday()), etag='"v1"')
    calendar = add_room_calendar(tenant_a, make_room(tenant_a), feed_server.url("/salle.ics"))
    refresh(calendar.id)
    stored = fresh_calendar(calendar.id)
    stored.last_download_at = utcnow() - external.FULL_DOWNLOAD_EVERY - timedelta(minutes=1)
    db.session.commit()

    assert refresh(calendar.id).outcome is external.Outcome.IMPORTED
    assert "if-none-match" not in feed_server.headers_of_last("/salle.ics")


@pytest.mark.parametrize("feed, message", [
    (Feed(b"<html><body>Connectez-vous</body></html>", content_type="text/html"),
     "n'est pas un calendrier au format iCalendar"),
    (Feed(b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nDTSTART:demain\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"),
     "n'est pas un calendrier au format iCalendar"),
    (Feed(b"", status=500), "a répondu par une erreur (HTTP 500)"),
    (Feed(b"BEGIN:VCALENDAR\r\n" + b"X" * (external.MAX_BYTES + 10)), "trop volumineux (plus de 2 Mo)"),
    (Feed(b"BEGIN:VCALENDAR\r\n" + b"X" * (external.MAX_BYTES + 10), send_length=False),
     "trop volumineux (plus de 2 Mo)"),
    (Feed(ics_document(vevent("vite@x", "DTSTART:20260105T100000Z", "DURATION:PT1M", "RRULE:FREQ=MINUTELY"))),
     "toutes les minutes ou secondes"),
], ids=["html", "malformed", "http-500", "too-large", "too-large-without-length", "too-frequent"])
def test_a_bad_feed_keeps_the_last_good_copy_and_records_a_french_error(app, feed_server, tenant_a, feed,
                                                                         message):
    monday = first_monday()
    feed_server.feeds["/salle.ics"] = Feed(good_feed(monday))
    calendar = add_room_calendar(tenant_a, make_room(tenant_a), feed_server.url("/salle.ics"))
    refresh(calendar.id)
    good_copy = spans(busy_rows(calendar.id))
    success_at = fresh_calendar(calendar.id).last_success_at

    feed_server.feeds["/salle.ics"] = feed
    result = refresh(calendar.id)

    assert result.outcome is external.Outcome.FAILED
    assert spans(busy_rows(calendar.id)) == good_copy == expected_busy(monday)
    stored = fresh_calendar(calendar.id)
    assert stored.status is ExternalCalendarStatus.ERROR
    assert message in stored.last_error
    assert stored.last_success_at == success_at and stored.last_fetched_at > success_at


def test_a_slow_server_times_out(app, feed_server, tenant_a):
    feed_server.feeds["/lent.ics"] = Feed(good_feed(first_monday()), delay=1.5)
    calendar = add_room_calendar(tenant_a, make_room(tenant_a), feed_server.url("/lent.ics"))
    started = clock.monotonic()
    result = refresh(calendar.id, timeout=0.3)
    assert clock.monotonic() - started < 1.4
    assert result.outcome is external.Outcome.FAILED
    stored = fresh_calendar(calendar.id)
    assert stored.status is ExternalCalendarStatus.ERROR
    assert stored.last_error == "Le serveur du calendrier n'a pas répondu à temps (plus de 0.3 s)."
    assert busy_rows(calendar.id) == []


def test_an_unreachable_server_and_a_missing_file_are_errors(app, feed_server, tenant_a):
    room = make_room(tenant_a)
    down = add_room_calendar(tenant_a, room, closed_port_url(), name="Serveur arrêté")
    missing = add_room_calendar(tenant_a, room, feed_server.url("/disparu.ics"), name="Fichier disparu")
    refresh(down.id)
    refresh(missing.id)
    assert "injoignable" in fresh_calendar(down.id).last_error
    assert fresh_calendar(missing.id).last_error == "Le serveur du calendrier a répondu par une erreur (HTTP 404)."
    assert busy_rows(down.id) == busy_rows(missing.id) == []


def test_a_redirect_is_followed(app, feed_server, tenant_a):
    monday = first_monday()
    feed_server.feeds["/salle.ics"] = Feed(good_feed(monday))
    feed_server.feeds["/ancienne-adresse"] = Feed(location=feed_server.url("/salle.ics"))
    calendar = add_room_calendar(tenant_a, make_room(tenant_a), feed_server.url("/ancienne-adresse"))
    assert refresh(calendar.id).outcome is external.Outcome.IMPORTED
    assert spans(busy_rows(calendar.id)) == expected_busy(monday)


def test_addresses_on_the_local_network_are_refused_unless_allowed(app, feed_server, tenant_a):
    feed_server.feeds["/salle.ics"] = Feed(good_feed(first_monday()))
    calendar = add_room_calendar(tenant_a, make_room(tenant_a), feed_server.url("/salle.ics"))
    result = refresh(calendar.id, allow_private_hosts=False)
    assert result.outcome is external.Outcome.FAILED
    assert fresh_calendar(calendar.id).last_error == "Cette adresse mène au réseau interne du serveur : elle est refusée."
    assert feed_server.requests == []  # nothing was even sent


# --- bookings ------------------------------------------------------------------------------------


def event_fields(starts_at: datetime, ends_at: datetime, *, room=None, trainer=None) -> EventFields:
    return EventFields(kind=EventKind.BOOKING if trainer is None else EventKind.WORKSHOP, title="Réunion",
                       starts_at=starts_at, ends_at=ends_at, room_id=room.id if room else None,
                       trainer_id=trainer.id if trainer else None)


def test_busy_times_refuse_bookings_of_the_room_in_that_slot_only(app, feed_server, tenant_a):
    monday = first_monday()
    feed_server.feeds["/salle.ics"] = Feed(good_feed(monday))
    room = make_room(tenant_a, name="Salle du conseil")
    calendar = add_room_calendar(tenant_a, room, feed_server.url("/salle.ics"))
    refresh(calendar.id)

    with pytest.raises(ConflictList) as refused:
        services.create_event(tenant_a, event_fields(paris(monday, 10, 30), paris(monday, 12), room=room),
                              created_by=None, now=utcnow())
    db.session.rollback()
    when = f"lundi {monday.day} {_month(monday)} {monday.year}, 10:00–11:00"
    assert refused.value.problems == [
        f"La salle « Salle du conseil » est occupée selon son calendrier externe ({when})."]
    assert SECRET_TITLE not in str(refused.value)
    # Right after the busy time, the week it was removed (EXDATE) and at the moved time's old hour: fine.
    for starts_at in (paris(monday, 11), paris(monday + timedelta(days=7), 10),
                      paris(monday + timedelta(days=14), 10)):
        services.create_event(tenant_a, event_fields(starts_at, starts_at + timedelta(hours=1), room=room),
                              created_by=None, now=utcnow())
    db.session.commit()
    # The moved occurrence and the all-day event block.
    for starts_at in (paris(monday + timedelta(days=14), 15), paris(monday + timedelta(days=3), 18)):
        with pytest.raises(ConflictList):
            services.create_event(tenant_a, event_fields(starts_at, starts_at + timedelta(hours=1), room=room),
                                  created_by=None, now=utcnow())
        db.session.rollback()

    # A suspended calendar blocks nothing.
    external.set_active(fresh_calendar(calendar.id), False)
    db.session.commit()
    services.create_event(tenant_a, event_fields(paris(monday, 10), paris(monday, 11), room=room),
                          created_by=None, now=utcnow())
    db.session.commit()


def _month(day: date) -> str:
    return ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
            "novembre", "décembre"][day.month - 1]


def test_a_trainers_busy_times_refuse_their_sessions_in_every_structure(app, feed_server, tenant_a, tenant_b,
                                                                       client, login_as, coordinator_a):
    monday = first_monday()
    feed_server.feeds["/tania.ics"] = Feed(good_feed(monday))
    tania = make_trainer(tenant_a)
    make_membership(tenant_b, tania, "trainer")
    calendar = add_trainer_calendar(tenant_a, tania, feed_server.url("/tania.ics"))
    refresh(calendar.id)

    for tenant in (tenant_a, tenant_b):
        with pytest.raises(ConflictList) as refused:
            services.create_event(tenant, event_fields(paris(monday, 9), paris(monday, 10, 15), trainer=tania),
                                  created_by=None, now=utcnow())
        db.session.rollback()
        assert len(refused.value.problems) == 1
        assert refused.value.problems[0].startswith(
            "Le formateur ou la formatrice est occupé(e) selon son calendrier externe (lundi")

    # Through the agenda's page: the 422 lists the reason.
    login_as(coordinator_a)
    response = client.post(f"{A}/events/new", data={
        "kind": "workshop", "title": "Atelier", "description": "", "what_to_bring": "",
        "day": monday.isoformat(), "starts_at": "10:30", "ends_at": "11:30", "room_id": "",
        "trainer_id": str(tania.id), "module_id": "", "capacity": "8", "required_qualification_id": "",
        "repeat": "none", "interval": "1", "end_mode": "count", "until": "", "count": "",
    })
    assert response.status_code == 422
    assert "Le formateur ou la formatrice est occupé(e) selon son calendrier externe" in page_text(response)

    # Once Tania has left structure A, A's calendar of her no longer blocks B.
    db.session.rollback()
    membership = db.session.scalars(select(Membership).where(Membership.user_id == tania.id,
                                                             Membership.tenant_id == tenant_a.id)).one()
    membership.is_active = False
    db.session.commit()
    services.create_event(tenant_b, event_fields(paris(monday, 9), paris(monday, 10, 15), trainer=tania),
                          created_by=None, now=utcnow())
    db.session.commit()


# --- pages ---------------------------------------------------------------------------------------


def test_the_week_view_shows_busy_times_greyed_without_their_titles(app, feed_server, tenant_a, client, login_as,
                                                                   coordinator_a, volunteer_a):
    monday = first_monday()
    feed_server.feeds["/salle.ics"] = Feed(good_feed(monday))
    feed_server.feeds["/tania.ics"] = Feed(ics_document(vevent(
        "rdv@tania", f"DTSTART;TZID=Europe/Paris:{stamp(monday + timedelta(days=1), 16)}",
        f"DTEND;TZID=Europe/Paris:{stamp(monday + timedelta(days=1), 17)}", "SUMMARY:Rendez-vous PERSONNEL")))
    room = make_room(tenant_a, name="Salle du conseil")
    tania = make_trainer(tenant_a)
    refresh(add_room_calendar(tenant_a, room, feed_server.url("/salle.ics")).id)
    refresh(add_trainer_calendar(tenant_a, tania, feed_server.url("/tania.ics")).id)

    login_as(coordinator_a)
    response = client.get(f"{A}/week?date={monday.isoformat()}")
    assert response.status_code == 200
    html = page_text(response)
    assert html.count('class="agenda-busy"') == 4  # Monday, Tuesday (Tania), Thursday (all day), Friday
    assert "Occupé (calendrier externe) — Salle du conseil" in html
    assert "10:00 – 11:00" in html and "Toute la journée" in html
    assert "16:00 – 17:00" in html and "Occupé (calendrier externe) — Tania Formatrice" in html
    assert "10:00 – 11:00" in html.split("day-" + (monday + timedelta(days=1)).isoformat())[0]
    assert SECRET_TITLE not in html and "PERSONNEL" not in html and "Libre" not in html

    # Filtered on the room: the room's busy times only.
    html = page_text(client.get(f"{A}/week?date={monday.isoformat()}&room={room.id}"))
    assert html.count('class="agenda-busy"') == 3 and "Tania Formatrice" not in html.split("agenda-week")[1]
    html = page_text(client.get(f"{A}/week?date={monday.isoformat()}&site={room.site_id}"))
    assert html.count('class="agenda-busy"') == 3
    html = page_text(client.get(f"{A}/week?date={monday.isoformat()}&trainer={tania.id}"))
    assert html.count('class="agenda-busy"') == 1 and "— Tania Formatrice" in html

    # Volunteers see the rooms' busy times, not a trainer's.
    login_as(volunteer_a)
    html = page_text(client.get(f"{A}/week?date={monday.isoformat()}"))
    assert html.count('class="agenda-busy"') == 3
    assert "— Tania Formatrice" not in html


def test_the_coordinator_adds_refreshes_suspends_and_removes_a_calendar(app, feed_server, local_feeds_allowed,
                                                                       tenant_a, client, login_as, coordinator_a):
    monday = first_monday()
    feed_server.feeds["/salle.ics"] = Feed(good_feed(monday), etag='"v1"')
    room = make_room(tenant_a, name="Salle du conseil")
    login_as(coordinator_a)

    page = client.get(f"{A}/external-calendars?room={room.id}")
    assert page.status_code == 200
    assert "Aucun calendrier externe pour l'instant." in page_text(page)
    assert f'<option selected value="room:{room.id}">' in page_text(page)

    # A wrong address is refused on its field.
    refused = client.post(f"{A}/external-calendars", data={
        "target": f"room:{room.id}", "name": "Mairie", "url": "ftp://mairie.example/agenda.ics"})
    assert refused.status_code == 422
    assert "L'adresse doit commencer par https:// (ou http://, ou webcal://)." in page_text(refused)

    response = client.post(f"{A}/external-calendars", data={
        "target": f"room:{room.id}", "name": "Réservations de la mairie", "url": feed_server.url("/salle.ics")})
    assert response.status_code == 302
    calendar = db.session.scalars(select(ExternalCalendar)).one()
    assert (calendar.tenant_id, calendar.room_id, calendar.trainer_id) == (tenant_a.id, room.id, None)
    html = page_text(client.get(f"{A}/external-calendars"))
    assert "Réservations de la mairie" in html and "Pas encore importé" in html and "jamais" in html
    assert "Salle « Salle du conseil »" in html and "127.0.0.1" in html

    # "Actualiser maintenant".
    response = client.post(f"{A}/external-calendars/{calendar.id}/refresh", follow_redirects=True)
    assert response.status_code == 200
    html = page_text(response)
    assert "Le calendrier « Réservations de la mairie » est importé : 7 créneau(x) occupé(s)." in html
    assert "À jour" in html and "Créneaux occupés importés" in html
    assert len(busy_rows(calendar.id)) == 7
    html = page_text(client.post(f"{A}/external-calendars/{calendar.id}/refresh", follow_redirects=True))
    assert "n'a pas changé depuis le dernier import" in html

    # The feed breaks: the page shows the status and the French error; busy times stay.
    feed_server.feeds["/salle.ics"] = Feed(b"Ceci n'est pas un calendrier", content_type="text/plain")
    html = page_text(client.post(f"{A}/external-calendars/{calendar.id}/refresh", follow_redirects=True))
    assert "n'a pas pu être importé : Le fichier reçu n'est pas un calendrier au format iCalendar (.ics) valide." in html
    assert "Les créneaux importés auparavant sont gardés." in html
    html = page_text(client.get(f"{A}/external-calendars"))
    assert "En erreur" in html and "Dernière tentative" in html
    assert "Le fichier reçu n'est pas un calendrier au format iCalendar (.ics) valide." in html
    assert len(busy_rows(calendar.id)) == 7

    # Suspend, resume.
    client.post(f"{A}/external-calendars/{calendar.id}/active", data={"active": "0"})
    assert fresh_calendar(calendar.id).is_active is False
    assert "Suspendu : ne bloque rien" in page_text(client.get(f"{A}/external-calendars"))
    client.post(f"{A}/external-calendars/{calendar.id}/active", data={"active": "1"})
    assert fresh_calendar(calendar.id).is_active is True

    # Remove: the calendar and its busy times go.
    calendar_id = calendar.id
    response = client.post(f"{A}/external-calendars/{calendar_id}/delete", follow_redirects=True)
    assert "Le calendrier « Réservations de la mairie » est retiré." in page_text(response)
    assert fresh_calendar(calendar_id) is None and busy_rows(calendar_id) == []


def test_a_trainer_calendar_is_added_with_a_webcal_address(app, tenant_a, client, login_as, coordinator_a):
    tania = make_trainer(tenant_a)
    volunteer = make_membership(tenant_a, make_user(full_name="Valentin Bénévole"), "volunteer").user
    login_as(coordinator_a)
    response = client.post(f"{A}/external-calendars", data={
        "target": f"trainer:{tania.id}", "name": "Agenda de Tania", "url": "webcal://agenda.example.org/t/abc.ics"})
    assert response.status_code == 302
    calendar = db.session.scalars(select(ExternalCalendar)).one()
    assert (calendar.trainer_id, calendar.room_id, calendar.url) == (
        tania.id, None, "https://agenda.example.org/t/abc.ics")
    # The same address twice for Tania, or a volunteer instead of a trainer: refused.
    again = client.post(f"{A}/external-calendars", data={
        "target": f"trainer:{tania.id}", "name": "Encore", "url": "https://agenda.example.org/t/abc.ics"})
    assert again.status_code == 422 and "Ce calendrier est déjà ajouté." in page_text(again)
    not_trainer = client.post(f"{A}/external-calendars", data={
        "target": f"trainer:{volunteer.id}", "name": "Bénévole", "url": "https://agenda.example.org/v.ics"})
    assert not_trainer.status_code == 422
    db.session.rollback()
    assert len(db.session.scalars(select(ExternalCalendar)).all()) == 1


# --- access and isolation ------------------------------------------------------------------------


def test_only_coordinators_reach_the_external_calendars(app, tenant_a, client, login_as, volunteer_a):
    room = make_room(tenant_a)
    calendar = add_room_calendar(tenant_a, room, "https://mairie.example/salle.ics")
    paths = [("GET", f"{A}/external-calendars"), ("POST", f"{A}/external-calendars"),
             ("POST", f"{A}/external-calendars/{calendar.id}/refresh"),
             ("POST", f"{A}/external-calendars/{calendar.id}/active"),
             ("POST", f"{A}/external-calendars/{calendar.id}/delete")]
    for method, path in paths:
        response = client.open(path, method=method)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path
    login_as(volunteer_a)
    for method, path in paths:
        assert client.open(path, method=method).status_code == 403, path
    assert fresh_calendar(calendar.id) is not None


def test_another_structure_cannot_see_or_touch_a_calendar(app, feed_server, local_feeds_allowed, tenant_a,
                                                          tenant_b, client, login_as, coordinator_b):
    feed_server.feeds["/salle.ics"] = Feed(good_feed(first_monday()))
    room_a = make_room(tenant_a, name="Salle MARQUEUR-A")
    calendar = add_room_calendar(tenant_a, room_a, feed_server.url("/salle-MARQUEUR.ics"),
                                 name="Calendrier MARQUEUR-A")
    login_as(coordinator_b)

    html = page_text(client.get(f"{B}/external-calendars"))
    assert "MARQUEUR" not in html
    for action, data in (("refresh", {}), ("active", {"active": "0"}), ("delete", {})):
        assert client.post(f"{B}/external-calendars/{calendar.id}/{action}", data=data).status_code == 404, action
        assert client.post(f"{A}/external-calendars/{calendar.id}/{action}", data=data).status_code == 404, action
    assert client.get(f"{A}/external-calendars").status_code == 404
    # A's room cannot be chosen from B's form.
    response = client.post(f"{B}/external-calendars", data={
        "target": f"room:{room_a.id}", "name": "Piraté", "url": "https://pirate.example/x.ics"})
    assert response.status_code == 422
    stored = fresh_calendar(calendar.id)
    assert stored is not None and stored.is_active and stored.last_fetched_at is None
    assert feed_server.requests == []
    assert len(db.session.scalars(select(ExternalCalendar)).all()) == 1


# --- the command ---------------------------------------------------------------------------------


def test_the_command_imports_every_active_calendar_and_reports_without_crashing(
        app, feed_server, local_feeds_allowed, tenant_a, tenant_b):
    monday = first_monday()
    feed_server.feeds["/salle.ics?cle=SECRET-CLE"] = Feed(good_feed(monday), etag='"v1"')
    feed_server.feeds["/casse.ics"] = Feed(b"n'importe quoi")
    feed_server.feeds["/lent.ics"] = Feed(good_feed(monday), delay=1.5)
    good = add_room_calendar(tenant_a, make_room(tenant_a), feed_server.url("/salle.ics?cle=SECRET-CLE"))
    broken = add_room_calendar(tenant_b, make_room(tenant_b), feed_server.url("/casse.ics"))
    slow = add_trainer_calendar(tenant_a, make_trainer(tenant_a), feed_server.url("/lent.ics"))
    down = add_room_calendar(tenant_b, make_room(tenant_b), closed_port_url())
    suspended = add_room_calendar(tenant_a, make_room(tenant_a), feed_server.url("/salle.ics?cle=SECRET-CLE"),
                                  name="Suspendu")
    external.set_active(fresh_calendar(suspended.id), False)
    db.session.commit()

    output = run_command(app, "--timeout", "0.3")

    assert f"calendar {good.id} (127.0.0.1): imported, 7 busy times" in output
    assert f"calendar {broken.id} (127.0.0.1): failed: Le fichier reçu n'est pas un calendrier" in output
    assert f"calendar {slow.id} (127.0.0.1): failed: Le serveur du calendrier n'a pas répondu à temps" in output
    assert f"calendar {down.id} (127.0.0.1): failed: Le serveur du calendrier est injoignable" in output
    assert "external calendars: 1 imported, 0 not modified, 3 failed" in output
    assert "SECRET-CLE" not in output and f"calendar {suspended.id} " not in output
    assert len(busy_rows(good.id)) == 7 and busy_rows(suspended.id) == []
    assert fresh_calendar(broken.id).status is ExternalCalendarStatus.ERROR
    assert fresh_calendar(suspended.id).status is ExternalCalendarStatus.PENDING

    feed_server.feeds["/casse.ics"] = Feed(good_feed(monday))
    output = run_command(app, "--timeout", "0.3")
    assert f"calendar {good.id} (127.0.0.1): not modified" in output
    assert f"calendar {broken.id} (127.0.0.1): imported, 7 busy times" in output
    assert "external calendars: 1 imported, 1 not modified, 2 failed" in output
    assert fresh_calendar(broken.id).status is ExternalCalendarStatus.OK
