"""Feed versions: a poll that finds nothing new reads no event, and every kind
of change a feed shows still reaches it (``calendars/stamps.py``).

Each change is made the way the application makes it (services, or the ORM as
the views do) on a feed whose client already holds the current copy: the
next conditional poll must be a 200 with the change in it, never a 304."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from tests.calendars.factories import issue_token, make_series, next_october_change, parse, vevents
from tests.factories import make_site, make_tenant
from tests.scheduling.factories import enrol_in, local_time, make_event, make_room
from volunteer_platform.calendars import services as calendar_services
from volunteer_platform.calendars.models import CalendarStamp
from volunteer_platform.db import utcnow
from volunteer_platform.extensions import db
from volunteer_platform.scheduling import enrolment as enrolment_services
from volunteer_platform.scheduling import services as scheduling
from volunteer_platform.scheduling.models import Enrolment
from volunteer_platform.tenants.models import Membership


@pytest.fixture
def world(tenant_a, tenant_b, coordinator_a, volunteer_a, coordinator_b):
    site = make_site(tenant_a, name="Maison France Services", address="12 rue de la République")
    room = make_room(tenant_a, site, name="Salle numérique")
    workshop = make_event(tenant_a, "workshop", local_time(tenant_a, 3, 14), room=room, capacity=8,
                          title="Atelier CAF", trainer=coordinator_a)
    enrol_in(workshop, volunteer_a)
    shift = make_event(tenant_a, "shift", local_time(tenant_a, 4, 9), room=room, capacity=2,
                       title="Permanence d'accueil")
    room_b = make_room(tenant_b, name="Salle B")
    make_event(tenant_b, "workshop", local_time(tenant_b, 3, 14), room=room_b, title="Atelier B")
    token = issue_token(volunteer_a)
    return {
        "site": site, "room": room, "workshop": workshop, "shift": shift, "room_b": room_b,
        "tenant_a": tenant_a, "tenant_b": tenant_b, "volunteer": volunteer_a, "token": token,
        "feeds": {
            "public": "/calendars/structure-a/agenda.ics",
            "structure": f"/feeds/{token}/structure-a/agenda.ics",
            "room": f"/feeds/{token}/structure-a/rooms/{room.id}.ics",
            "site": f"/feeds/{token}/structure-a/sites/{site.id}.ics",
            "personal": f"/feeds/{token}/me.ics",
        },
    }


def _held(client, url: str) -> str:
    """Poll ``url`` as a calendar app does and return the ETag it now holds
    (checking that holding it gives a 304)."""
    first = client.get(url)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    return etag


def _text(response) -> str:
    return response.get_data(as_text=True).replace("\r\n ", "")


def _new_workshop(w):
    make_event(w["tenant_a"], "workshop", local_time(w["tenant_a"], 6, 10), room=w["room"], title="Atelier nouveau")


def _retitle(w):
    w["workshop"].title = "Atelier renommé"


def _cancel(w):
    scheduling.cancel_event(w["workshop"], now=utcnow())


def _sign_up(w):
    enrolment_services.enrol(w["shift"], w["volunteer"], now=utcnow())


def _give_up(w):
    place = db.session.scalars(select(Enrolment).where(
        Enrolment.event_id == w["workshop"].id, Enrolment.user_id == w["volunteer"].id)).one()
    enrolment_services.cancel(place, now=utcnow(), by=w["volunteer"])


def _rename_room(w):
    w["room"].name = "Salle Simone Veil"


def _move_site(w):
    w["site"].address = "3 place Simone Veil"


def _new_phone(w):
    w["tenant_a"].contact_phone = "03 99 88 77 66"


def _new_series(w):
    make_series(w["tenant_a"], next_october_change() - timedelta(days=7), room=w["room"], title="Série nouvelle")


def _leave(w):
    membership = db.session.scalars(select(Membership).where(
        Membership.user_id == w["volunteer"].id, Membership.tenant_id == w["tenant_a"].id)).one()
    membership.is_active = False


def _rename_person(w):
    w["volunteer"].full_name = "Renommée Durand"


# (feed, change, what the feed shows afterwards (or no longer shows: "-…"))
CHANGES: list[tuple[str, Callable, str]] = [
    ("structure", _new_workshop, "Atelier nouveau"),
    ("public", _new_workshop, "Atelier nouveau"),
    ("room", _retitle, "Atelier renommé"),
    ("public", _cancel, "STATUS:CANCELLED"),
    ("personal", _cancel, "STATUS:CANCELLED"),
    ("personal", _sign_up, "Permanence d'accueil"),
    ("personal", _give_up, "-Atelier CAF"),
    ("room", _rename_room, "Salle Simone Veil"),
    ("site", _move_site, "3 place Simone Veil"),
    ("public", _new_phone, "03 99 88 77 66"),
    ("room", _new_series, "Série nouvelle"),
    ("personal", _leave, "-Atelier CAF"),
    ("personal", _rename_person, "Renommée"),
]


@pytest.mark.parametrize(("feed", "change", "shown"), CHANGES,
                         ids=[f"{feed}-{change.__name__.strip('_')}" for feed, change, _s in CHANGES])
def test_every_kind_of_change_reaches_a_feed_whose_client_is_up_to_date(client, world, feed, change, shown):
    url = world["feeds"][feed]
    etag = _held(client, url)
    change(world)
    db.session.commit()
    after = client.get(url, headers={"If-None-Match": etag})
    assert after.status_code == 200, f"{feed} still answered 304 after {change.__name__}"
    assert after.headers["ETag"] != etag
    if shown.startswith("-"):
        assert shown[1:] not in _text(after)
    else:
        assert shown in _text(after)
    assert client.get(url, headers={"If-None-Match": after.headers["ETag"]}).status_code == 304


def test_a_change_in_another_structure_leaves_the_feed_at_304(client, world):
    held = {name: _held(client, url) for name, url in world["feeds"].items()}
    world["room_b"].name = "Salle B renommée"
    make_event(world["tenant_b"], "workshop", local_time(world["tenant_b"], 5, 10), room=world["room_b"],
               title="Autre atelier B")
    db.session.commit()
    for name, url in world["feeds"].items():
        assert client.get(url, headers={"If-None-Match": held[name]}).status_code == 304, name


def test_a_poll_that_finds_nothing_new_reads_no_event(client, world, count_queries):
    """A 304, and a full poll of bytes this process has already built, read
    the feed's stamps and state, not its events."""
    url = world["feeds"]["room"]
    etag = _held(client, url)
    for headers in ({"If-None-Match": etag}, {}):
        with count_queries() as queries:
            response = client.get(url, headers=headers)
        assert response.status_code == (304 if headers else 200)
        assert not [q for q in queries if "FROM event" in q], queries
    assert len(vevents(parse(response))) == 2


def test_a_full_poll_of_bytes_already_sent_runs_one_statement(client, world, count_queries):
    """Calendar apps that never send If-None-Match get the bytes this process
    built and recorded, with the same Last-Modified, for the probe alone."""
    url = world["feeds"]["room"]
    first = client.get(url)
    with count_queries() as queries:
        again = client.get(url)
    assert again.status_code == 200 and again.data == first.data
    assert again.headers["Last-Modified"] == first.headers["Last-Modified"]
    assert len(queries) == 1, queries


def test_a_full_poll_from_another_process_builds_the_same_bytes(client, world):
    """The process cache is only a cache: without it the feed is built again,
    with the same ETag, and the stored state still answers 304s."""
    url = world["feeds"]["structure"]
    first = client.get(url)
    calendar_services.forget_feeds()  # another worker: nothing cached
    assert client.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    again = client.get(url)
    assert again.status_code == 200 and again.data == first.data
    assert again.headers["ETag"] == first.headers["ETag"]
    assert again.headers["Last-Modified"] == first.headers["Last-Modified"]


def _stamp_of(tenant_id: int) -> int:
    db.session.rollback()
    return db.session.scalar(select(CalendarStamp.version).where(CalendarStamp.tenant_id == tenant_id)) or 0


def _stamp(tenant) -> int:
    return _stamp_of(tenant.id)


def test_a_rolled_back_change_renews_no_stamp(world):
    before = _stamp(world["tenant_a"])
    world["room"].name = "Pas enregistré"
    db.session.flush()
    db.session.rollback()
    assert _stamp(world["tenant_a"]) == before
    db.session.commit()  # nothing pending: nothing renewed either
    assert _stamp(world["tenant_a"]) == before


def test_a_change_renews_its_structure_stamp_only(world):
    a, b = _stamp(world["tenant_a"]), _stamp(world["tenant_b"])
    world["room"].name = "Salle 2"
    db.session.commit()
    assert _stamp(world["tenant_a"]) != a
    assert _stamp(world["tenant_b"]) == b


def test_reading_without_changing_renews_nothing(world):
    a = _stamp(world["tenant_a"])
    world["room"].name = world["room"].name  # set to the same value: not a change
    db.session.commit()
    assert _stamp(world["tenant_a"]) == a


def test_a_bulk_update_of_a_feed_table_renews_every_stamp(world, tenant_b):
    a, b = _stamp(world["tenant_a"]), _stamp(tenant_b)
    db.session.execute(update(Membership).where(Membership.user_id == world["volunteer"].id).values(is_active=False))
    db.session.commit()
    assert _stamp(world["tenant_a"]) != a and _stamp(tenant_b) != b


def test_the_all_structures_feed_changes_with_any_structure(client, world, supervisor):
    url = f"/feeds/{issue_token(supervisor)}/all.ics"
    etag = _held(client, url)
    world["room_b"].name = "Salle B2"
    db.session.commit()
    after = client.get(url, headers={"If-None-Match": etag})
    assert after.status_code == 200 and "Salle B2" in _text(after)
    new_structure = make_tenant(slug="structure-n", name="Structure N")
    make_event(new_structure, "workshop", local_time(new_structure, 2, 10), title="Atelier N")
    again = client.get(url, headers={"If-None-Match": after.headers["ETag"]})
    assert again.status_code == 200 and "Atelier N" in _text(again)


def test_a_feed_version_holds_for_a_day_only(world):
    spec = calendar_services.FeedSpec(name="Agenda", timezone="Europe/Paris")
    today = utcnow().date()
    version = calendar_services.feed_version("k", spec, (1, 2), day=today, base_url="https://x")
    assert version == calendar_services.feed_version("k", spec, (1, 2), day=today, base_url="https://x")
    assert version != calendar_services.feed_version("k", spec, (1, 2), day=today + timedelta(days=1),
                                                     base_url="https://x")
    assert version != calendar_services.feed_version("k", spec, (1, 3), day=today, base_url="https://x")


def test_touch_feeds_renews_every_stamp_and_feeds_are_rebuilt(app, client, world):
    etag = _held(client, world["feeds"]["public"])
    ids = world["tenant_a"].id, world["tenant_b"].id
    before = [_stamp_of(i) for i in ids]
    result = app.test_cli_runner().invoke(args=["touch-feeds"])
    assert result.exit_code == 0, result.output
    after = [_stamp_of(i) for i in ids]
    assert after[0] != before[0] and after[1] != before[1]
    assert client.get(world["feeds"]["public"], headers={"If-None-Match": etag}).status_code == 200


def test_the_all_structures_feed_adds_the_largest_stamps_without_overflow(client, world, supervisor):
    """SQLite's sum() raises on a 64-bit overflow: stamps are kept small enough
    for thousands of structures at their largest value."""
    for tenant in (world["tenant_a"], world["tenant_b"], make_tenant(slug="structure-c", name="Structure C")):
        stamp = db.session.get(CalendarStamp, tenant.id)
        stamp.version = (1 << 48) - 1
    db.session.commit()
    response = client.get(f"/feeds/{issue_token(supervisor)}/all.ics")
    assert response.status_code == 200
