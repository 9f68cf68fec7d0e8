"""Feeds over HTTP: headers, conditional requests, tokens, access, isolation,
query counts, logs; and the subscription boxes of the pages."""

from __future__ import annotations

import logging
import re
import threading
import urllib.request
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from tests.calendars.factories import (
    by_uid,
    issue_token,
    make_series,
    next_october_change,
    parse,
    vevents,
)
from tests.factories import make_site, page_text
from tests.scheduling.factories import enrol_in, local_time, make_event, make_room
from volunteer_platform.calendars.models import CalendarToken
from volunteer_platform.db import utcnow
from volunteer_platform.extensions import db
from volunteer_platform.scheduling import services as scheduling
from volunteer_platform.scheduling.models import Room
from volunteer_platform.tenants.models import Membership

CALENDAR = "text/calendar; charset=utf-8"


@pytest.fixture
def agenda_a(tenant_a, coordinator_a, volunteer_a):
    """Structure A: a public workshop with a volunteer enrolled, a shift led
    by the coordinator, a workshop at another site; contact details set."""
    tenant_a.contact_email = "contact@structure-a.example"
    tenant_a.contact_phone = "03 21 00 00 00"
    db.session.commit()
    site = make_site(tenant_a, name="Maison France Services", address="12 rue de la République",
                     access_notes="Entrée par la cour")
    room = make_room(tenant_a, site, name="Salle numérique")
    other_site = make_site(tenant_a, name="Annexe du Faubourg")
    other_room = make_room(tenant_a, other_site, name="Salle annexe")
    workshop = make_event(tenant_a, "workshop", local_time(tenant_a, 3, 14), room=room, capacity=8,
                          title="Atelier : mes démarches CAF", what_to_bring="Votre numéro d'allocataire",
                          trainer=coordinator_a)
    enrol_in(workshop, volunteer_a)
    shift = make_event(tenant_a, "shift", local_time(tenant_a, 4, 9), room=room, capacity=2,
                       title="Permanence d'accueil", trainer=coordinator_a)
    elsewhere = make_event(tenant_a, "workshop", local_time(tenant_a, 5, 10), room=other_room,
                           title="Atelier à l'annexe")
    return {"site": site, "room": room, "other_site": other_site, "workshop": workshop, "shift": shift,
            "elsewhere": elsewhere}


def summaries(response) -> set[str]:
    return {str(e["SUMMARY"]) for e in vevents(parse(response))}


# --- public feeds -------------------------------------------------------------------------------


def test_the_public_agenda_is_a_calendar_of_public_workshops_only(client, agenda_a):
    response = client.get("/calendars/structure-a/agenda.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == CALENDAR
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["ETag"] and response.headers["Last-Modified"]
    assert response.data.startswith(b"BEGIN:VCALENDAR\r\n") and response.data.endswith(b"END:VCALENDAR\r\n")
    cal = parse(response)
    assert str(cal["METHOD"]) == "PUBLISH" and str(cal["VERSION"]) == "2.0"
    assert "Structure A" in str(cal["X-WR-CALNAME"])
    assert summaries(response) == {"Atelier : mes démarches CAF", "Atelier à l'annexe"}
    workshop = by_uid(cal)[agenda_a["workshop"].uid][0]
    assert str(workshop["LOCATION"]) == (
        "Salle numérique, Maison France Services, 12 rue de la République, 62400 Béthune")
    description = str(workshop["DESCRIPTION"])
    assert "À apporter : Votre numéro d'allocataire" in description
    assert "Accès : Entrée par la cour" in description
    assert "contact@structure-a.example" in description and "03 21 00 00 00" in description
    assert cal.get_missing_tzids() == set() and cal.get_used_tzids() == {"Europe/Paris"}


def test_the_public_agenda_holds_no_personal_data(client, agenda_a):
    text = client.get("/calendars/structure-a/agenda.ics").get_data(as_text=True)
    for personal in ("Victor", "vol-a@example.org", "Coralie", "coord-a@example.org", "Alpha"):
        assert personal not in text
    assert "/agenda/events/" not in text  # members' pages: nothing for the public there


def test_a_site_public_feed_has_only_that_site(client, agenda_a, tenant_a):
    response = client.get(f"/calendars/structure-a/sites/{agenda_a['other_site'].id}.ics")
    assert response.status_code == 200
    assert summaries(response) == {"Atelier à l'annexe"}


def test_public_feeds_of_unknown_or_inactive_structures_or_foreign_sites_are_404(client, agenda_a, tenant_b):
    b_site = make_site(tenant_b, name="MARQUEUR-B-SITE")
    assert client.get("/calendars/structure-inconnue/agenda.ics").status_code == 404
    assert client.get(f"/calendars/structure-a/sites/{b_site.id}.ics").status_code == 404
    tenant_b.is_active = False
    db.session.commit()
    assert client.get("/calendars/structure-b/agenda.ics").status_code == 404


# --- stable output, conditional requests --------------------------------------------------------------


def test_two_requests_give_the_same_uids_dtstamps_and_bytes(client, agenda_a):
    first = client.get("/calendars/structure-a/agenda.ics")
    second = client.get("/calendars/structure-a/agenda.ics")
    assert first.data == second.data
    assert first.headers["ETag"] == second.headers["ETag"]
    assert first.headers["Last-Modified"] == second.headers["Last-Modified"]
    stamps = {str(e["UID"]): e["DTSTAMP"].dt for e in vevents(parse(first))}
    assert stamps == {str(e["UID"]): e["DTSTAMP"].dt for e in vevents(parse(second))}
    assert set(stamps) == {agenda_a["workshop"].uid, agenda_a["elsewhere"].uid}


def test_a_matching_etag_gets_a_304_and_a_change_a_200(client, agenda_a):
    first = client.get("/calendars/structure-a/agenda.ics")
    etag = first.headers["ETag"]
    same = client.get("/calendars/structure-a/agenda.ics", headers={"If-None-Match": etag})
    assert same.status_code == 304 and same.data == b""
    assert same.headers["ETag"] == etag
    assert same.headers["Referrer-Policy"] == "no-referrer"
    fields = scheduling.fields_of(agenda_a["workshop"])
    fields.starts_at += timedelta(hours=1)
    fields.ends_at += timedelta(hours=1)
    scheduling.update_event(agenda_a["workshop"], fields, now=utcnow())
    db.session.commit()
    changed = client.get("/calendars/structure-a/agenda.ics", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert by_uid(parse(changed))[agenda_a["workshop"].uid][0]["SEQUENCE"] == 1


def test_if_modified_since_gets_a_304_only_while_nothing_changed(client, agenda_a):
    first = client.get("/calendars/structure-a/agenda.ics")
    since = first.headers["Last-Modified"]
    assert client.get("/calendars/structure-a/agenda.ics",
                      headers={"If-Modified-Since": since}).status_code == 304
    # A change that touches no event's time stamp (a room renamed), in the same second:
    room = db.session.get(Room, agenda_a["room"].id)
    room.name = "Salle Simone Veil"
    db.session.commit()
    changed = client.get("/calendars/structure-a/agenda.ics", headers={"If-Modified-Since": since})
    assert changed.status_code == 200
    assert "Salle Simone Veil" in changed.get_data(as_text=True)
    assert changed.headers["Last-Modified"] != since
    assert client.get("/calendars/structure-a/agenda.ics",
                      headers={"If-Modified-Since": changed.headers["Last-Modified"]}).status_code == 304


def test_an_event_cancelled_stays_in_the_feed_marked_cancelled(client, agenda_a):
    scheduling.cancel_event(agenda_a["elsewhere"], now=utcnow())
    db.session.commit()
    (event,) = by_uid(parse(client.get("/calendars/structure-a/agenda.ics")))[agenda_a["elsewhere"].uid]
    assert str(event["STATUS"]) == "CANCELLED" and event["SEQUENCE"] == 1


def test_a_series_over_http_is_an_rrule_that_expands_at_14h(client, tenant_a):
    import recurring_ical_events

    from tests.calendars.factories import PARIS

    first = next_october_change() - timedelta(days=19)
    series, _events = make_series(tenant_a, first)
    cal = parse(client.get("/calendars/structure-a/agenda.ics"))
    (master,) = by_uid(cal)[series.uid]
    assert "RRULE" in master
    found = recurring_ical_events.of(cal).between(first, first + timedelta(days=60))
    assert len(found) == 6
    assert {e["DTSTART"].dt.astimezone(PARIS).hour for e in found} == {14}
    # The feed's own VTIMEZONE (not the zone looked up by name) gives the same
    # offsets as zoneinfo around that October change.
    (vtimezone,) = cal.walk("VTIMEZONE")
    from_feed = vtimezone.to_tz(lookup_tzid=False)
    moment = datetime.combine(first, time(0), UTC)
    while moment < datetime.combine(first + timedelta(days=42), time(0), UTC):
        assert moment.astimezone(from_feed).utcoffset() == moment.astimezone(PARIS).utcoffset(), moment
        moment += timedelta(minutes=30)


# --- private feeds: tokens and access ------------------------------------------------------------------


def test_private_feeds_answer_to_a_member_token(client, agenda_a, volunteer_a, coordinator_a):
    token = issue_token(volunteer_a)
    membership = db.session.scalars(select(Membership).where(Membership.user_id == coordinator_a.id)).one()
    paths = {
        f"/feeds/{token}/structure-a/agenda.ics": {"Atelier : mes démarches CAF", "Permanence d'accueil",
                                                   "Atelier à l'annexe"},
        f"/feeds/{token}/structure-a/sites/{agenda_a['site'].id}.ics": {"Atelier : mes démarches CAF",
                                                                       "Permanence d'accueil"},
        f"/feeds/{token}/structure-a/rooms/{agenda_a['room'].id}.ics": {"Atelier : mes démarches CAF",
                                                                       "Permanence d'accueil"},
        f"/feeds/{token}/structure-a/trainers/{membership.id}.ics": {"Atelier : mes démarches CAF",
                                                                    "Permanence d'accueil"},
        f"/feeds/{token}/me.ics": {"Atelier : mes démarches CAF (Structure A)"},
    }
    for path, expected in paths.items():
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Content-Type"] == CALENDAR
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert "private" in response.headers["Cache-Control"]
        assert summaries(response) == expected, path
        text = response.get_data(as_text=True)
        assert "coord-a@example.org" not in text and "vol-a@example.org" not in text
    event = by_uid(parse(client.get(f"/feeds/{token}/me.ics")))[agenda_a["workshop"].uid][0]
    assert str(event["URL"]) == f"http://testserver.example/structure-a/agenda/events/{agenda_a['workshop'].id}"


def test_unknown_revoked_and_regenerated_tokens(client, login_as, agenda_a, volunteer_a):
    assert client.get(f"/feeds/{'A' * 43}/me.ics").status_code == 404
    assert client.get("/feeds/pas-un-jeton/me.ics").status_code == 404
    login_as(volunteer_a)
    assert client.post("/account/calendar-feeds/regenerate").status_code == 302
    page = page_text(client.get("/account"))
    old = re.search(r"/feeds/([A-Za-z0-9_-]{43})/me\.ics", page).group(1)
    assert client.get(f"/feeds/{old}/me.ics").status_code == 200
    stored = db.session.scalars(select(CalendarToken).where(CalendarToken.user_id == volunteer_a.id)).one()
    assert old not in (stored.token_hash, stored.key)  # only its hash is kept

    client.post("/account/calendar-feeds/regenerate")
    new = re.search(r"/feeds/([A-Za-z0-9_-]{43})/me\.ics", page_text(client.get("/account"))).group(1)
    assert new != old
    assert client.get(f"/feeds/{old}/me.ics").status_code == 404
    assert client.get(f"/feeds/{old}/structure-a/agenda.ics").status_code == 404
    assert client.get(f"/feeds/{new}/me.ics").status_code == 200

    client.post("/account/calendar-feeds/revoke")
    db.session.rollback()
    assert db.session.scalars(select(CalendarToken).where(CalendarToken.user_id == volunteer_a.id)).first() is None
    assert client.get(f"/feeds/{new}/me.ics").status_code == 404
    assert "/feeds/" not in page_text(client.get("/account"))


def test_the_404_of_a_feed_shows_no_referrer_either(client):
    response = client.get(f"/feeds/{'B' * 43}/me.ics")
    assert response.status_code == 404
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_account_buttons_need_a_signed_in_person(client):
    response = client.post("/account/calendar-feeds/regenerate")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert db.session.scalars(select(CalendarToken)).first() is None


def test_a_token_opens_only_the_structures_of_its_person(client, agenda_a, tenant_b, coordinator_b, volunteer_a):
    b_site = make_site(tenant_b, name="MARQUEUR-B-SITE")
    b_room = make_room(tenant_b, b_site, name="MARQUEUR-B-SALLE")
    make_event(tenant_b, "workshop", local_time(tenant_b, 3, 10), room=b_room, title="MARQUEUR-B-ATELIER")
    b_membership = db.session.scalars(select(Membership).where(Membership.user_id == coordinator_b.id)).one()
    token = issue_token(volunteer_a)
    for path in (
        "/structure-b/agenda.ics", f"/structure-b/sites/{b_site.id}.ics", f"/structure-b/rooms/{b_room.id}.ics",
        f"/structure-b/trainers/{b_membership.id}.ics",
        # B's ids under A's name:
        f"/structure-a/sites/{b_site.id}.ics", f"/structure-a/rooms/{b_room.id}.ics",
        f"/structure-a/trainers/{b_membership.id}.ics",
        "/all.ics",  # association staff only
    ):
        response = client.get(f"/feeds/{token}{path}")
        assert response.status_code == 404, path
        assert "MARQUEUR-B" not in response.get_data(as_text=True)
    for path in ("/me.ics", "/structure-a/agenda.ics"):
        assert "MARQUEUR-B" not in client.get(f"/feeds/{token}{path}").get_data(as_text=True)
    assert "MARQUEUR-B" not in client.get("/calendars/structure-a/agenda.ics").get_data(as_text=True)


def test_a_former_member_token_no_longer_opens_the_structure(client, agenda_a, volunteer_a):
    token = issue_token(volunteer_a)
    assert client.get(f"/feeds/{token}/structure-a/agenda.ics").status_code == 200
    db.session.scalars(select(Membership).where(Membership.user_id == volunteer_a.id)).one().is_active = False
    db.session.commit()
    assert client.get(f"/feeds/{token}/structure-a/agenda.ics").status_code == 404
    assert summaries(client.get(f"/feeds/{token}/me.ics")) == set()


def test_staff_have_an_all_structures_feed(client, agenda_a, tenant_b, supervisor):
    make_event(tenant_b, "workshop", local_time(tenant_b, 3, 10), title="Atelier de B")
    token = issue_token(supervisor)
    response = client.get(f"/feeds/{token}/all.ics")
    assert response.status_code == 200
    assert {"Atelier de B (Structure B)", "Permanence d'accueil (Structure A)"} <= summaries(response)
    assert client.get(f"/feeds/{token}/structure-b/agenda.ics").status_code == 200


# --- a fixed number of queries -------------------------------------------------------------------------


def _fill(tenant, room, n: int, trainer=None) -> None:
    for i in range(n):
        make_event(tenant, "workshop", local_time(tenant, 2 + i // 5, 8 + 2 * (i % 5)), room=room,
                   title=f"Atelier {i}", trainer=trainer)
    make_series(tenant, next_october_change() - timedelta(days=19), room=room)


def test_the_number_of_queries_does_not_grow_with_the_feed(client, count_queries, tenant_a, tenant_b,
                                                         coordinator_a, coordinator_b):
    small_room, big_room = make_room(tenant_a), make_room(tenant_b)
    _fill(tenant_a, small_room, 5, trainer=coordinator_a)
    _fill(tenant_b, big_room, 50, trainer=coordinator_b)
    token_a, token_b = issue_token(coordinator_a), issue_token(coordinator_b)
    counts = {}
    for name, slug, room, token in (("small", "structure-a", small_room, token_a),
                                    ("big", "structure-b", big_room, token_b)):
        for kind, path in (("public", f"/calendars/{slug}/agenda.ics"),
                           ("room", f"/feeds/{token}/{slug}/rooms/{room.id}.ics"),
                           ("personal", f"/feeds/{token}/me.ics")):
            for attempt in ("first", "again"):  # the first one records the feed's state
                with count_queries() as queries:
                    response = client.get(path)
                assert response.status_code == 200
                counts[(name, kind, attempt)] = len(queries)
        assert len(vevents(parse(client.get(f"/calendars/{slug}/agenda.ics")))) in (6, 51)
    for kind in ("public", "room", "personal"):
        for attempt in ("first", "again"):
            assert counts[("small", kind, attempt)] == counts[("big", kind, attempt)], (kind, attempt, counts)
    assert counts[("big", "public", "again")] <= 4


# --- tokens never reach the logs -----------------------------------------------------------------------


def test_feed_tokens_are_masked_in_the_server_request_log(app, caplog, agenda_a, volunteer_a):
    token = issue_token(volunteer_a)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    caplog.set_level(logging.INFO, logger="werkzeug")
    try:
        for path in (f"/feeds/{token}/me.ics", f"/feeds/{token}/structure-a/agenda.ics?x=1"):
            with urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}{path}", timeout=10) as answer:
                assert answer.status == 200
                assert answer.headers["Content-Type"] == CALENDAR
    finally:
        server.shutdown()
        thread.join(timeout=10)
    request_lines = [r.getMessage() for r in caplog.records if r.name == "werkzeug" and "GET" in r.getMessage()]
    assert len(request_lines) == 2
    assert all("/feeds/[token]/" in line for line in request_lines)
    assert token not in caplog.text
    assert all(token not in r.getMessage() for r in caplog.records)


def test_the_log_filter_masks_tokens_in_errors_logged_by_the_application(app, caplog):
    token = "T" * 43
    with caplog.at_level(logging.ERROR, logger=app.logger.name):
        app.logger.error("Exception on /feeds/%s/me.ics [GET]", token)
    assert token not in caplog.text and "/feeds/[token]/me.ics" in caplog.text


# --- the pages offer the feeds --------------------------------------------------------------------------


def test_the_account_page_offers_to_create_then_shows_the_addresses(client, login_as, agenda_a, volunteer_a):
    login_as(volunteer_a)
    page = page_text(client.get("/account"))
    assert "Mes agendas dans mon application de calendrier" in page
    assert "Créer mes adresses d'abonnement" in page
    assert "http://testserver.example/calendars/structure-a/agenda.ics" in page  # the public one, already
    client.post("/account/calendar-feeds/regenerate")
    page = page_text(client.get("/account"))
    token = db.session.scalars(select(CalendarToken).where(CalendarToken.user_id == volunteer_a.id)).one()
    assert token is not None
    assert re.search(r'readonly value="http://testserver\.example/feeds/[A-Za-z0-9_-]{43}/me\.ics"', page)
    assert re.search(r'href="webcal://testserver\.example/feeds/[A-Za-z0-9_-]{43}/me\.ics"', page)
    assert "https://calendar.google.com/calendar/render?cid=webcal" in page
    assert "https://outlook.live.com/calendar/0/addfromweb?url=" in page
    assert "Changer mes adresses privées" in page and "Désactiver mes adresses privées" in page
    assert "Agenda complet de Structure A" in page
    assert "Toutes les structures" not in page  # staff only


def test_the_agenda_week_page_offers_the_public_and_private_feeds(client, login_as, agenda_a, volunteer_a):
    login_as(volunteer_a)
    page = page_text(client.get("/structure-a/agenda/week"))
    assert "S'abonner" in page
    assert "http://testserver.example/calendars/structure-a/agenda.ics" in page
    assert "/feeds/" not in page and "la page Mon compte" in page
    token = issue_token(volunteer_a)
    page = page_text(client.get(f"/structure-a/agenda/week?room={agenda_a['room'].id}"))
    assert f"http://testserver.example/feeds/{token}/structure-a/rooms/{agenda_a['room'].id}.ics" in page
    page = page_text(client.get(f"/structure-a/agenda/month?site={agenda_a['site'].id}"))
    assert f"/feeds/{token}/structure-a/sites/{agenda_a['site'].id}.ics" in page
    assert f"/calendars/structure-a/sites/{agenda_a['site'].id}.ics" in page
    page = page_text(client.get("/me/agenda"))
    assert f"/feeds/{token}/me.ics" in page


def test_a_staff_account_page_offers_the_all_structures_feed(client, login_as, supervisor):
    login_as(supervisor)
    client.post("/account/calendar-feeds/regenerate")
    page = page_text(client.get("/account"))
    assert "Toutes les structures" in page and re.search(r"/feeds/[A-Za-z0-9_-]{43}/all\.ics", page)


def test_feed_urls_of_tenants_have_reserved_prefixes():
    from volunteer_platform.tenants.services import RESERVED_SLUGS

    assert {"calendars", "feeds", "account"} <= RESERVED_SLUGS



def test_concurrent_first_requests_of_a_feed_all_succeed(app, agenda_a):
    """Several subscribers polling a feed nobody read yet all record its state
    at once: the losers of that race still get the feed."""
    barrier = threading.Barrier(4)
    results: list[tuple[int, str]] = []

    def poll() -> None:
        client = app.test_client()
        barrier.wait(timeout=10)
        response = client.get("/calendars/structure-a/agenda.ics")
        results.append((response.status_code, response.headers.get("ETag", "")))

    threads = [threading.Thread(target=poll) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert [status for status, _etag in results] == [200] * 4
    assert len({etag for _status, etag in results}) == 1
