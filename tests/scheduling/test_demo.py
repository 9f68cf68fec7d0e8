"""The demo agenda: rooms, kits and closures, and the past three months and
next eight weeks of each demo structure, built through the real services on
top of the demo people and training catalogue."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased, selectinload

from volunteer_platform.auth.models import User
from volunteer_platform.db import utcnow
from volunteer_platform.demo import seed_demo
from volunteer_platform.extensions import db
from volunteer_platform.scheduling import enrolment, recurrence, services
from volunteer_platform.scheduling.demo_content import seed_scheduling_demo
from volunteer_platform.scheduling.models import (
    Attendance,
    Booking,
    Closure,
    Enrolment,
    EnrolmentStatus,
    Event,
    EventKind,
    EventSeries,
    EventStatus,
    Kit,
    Room,
)
from volunteer_platform.tenants.models import Tenant
from volunteer_platform.training import queries as training_queries

SLUGS = ("ccas-bethune", "passerelle-lens", "mairie-roubaix")


def seed() -> tuple[datetime, dict[str, Tenant]]:
    """The whole demo; the agenda is added here until ``seed_demo`` adds it itself."""
    seed_demo(password="demo-password-for-tests")
    now = utcnow()
    tenants = {t.slug: t for t in db.session.scalars(select(Tenant))}
    if not db.session.scalar(select(func.count(Event.id))):
        seed_scheduling_demo(tenants, now=now)
    db.session.commit()
    return now, tenants


def test_each_structure_has_rooms_and_an_agenda_over_three_months_and_eight_weeks(app):
    now, tenants = seed()

    for slug in SLUGS:
        tenant = tenants[slug]
        rooms = list(db.session.scalars(select(Room).where(Room.tenant_id == tenant.id)
                                        .options(selectinload(Room.opening_hours))))
        assert 2 <= len(rooms) <= 3, slug
        assert all(r.capacity >= 3 and r.equipment for r in rooms), slug
        assert any(r.opening_hours for r in rooms), slug
        assert db.session.scalar(select(func.count(Kit.id)).where(Kit.tenant_id == tenant.id)) >= 1, slug
        assert db.session.scalar(select(func.count(Closure.id)).where(Closure.tenant_id == tenant.id)) >= 1, slug

        events = list(db.session.scalars(select(Event).where(Event.tenant_id == tenant.id)))
        past = [e for e in events if now - timedelta(weeks=13) <= e.starts_at < now]
        coming = [e for e in events if now <= e.starts_at < now + timedelta(weeks=8)]
        assert len(past) >= 20 and len(coming) >= 15, slug
        # The scheduling demo spans 13 weeks back; the impact demo adds eight months of history.
        assert all(now - timedelta(weeks=36) <= e.starts_at <= now + timedelta(weeks=9) for e in events), slug
        assert {e.kind for e in events} == set(EventKind), slug
        assert {e.kind for e in coming} >= {EventKind.SHIFT, EventKind.WORKSHOP, EventKind.TRAINING_SESSION}, slug

        # Series, and each keeps its local time of day across the change to winter time.
        assert db.session.scalar(select(func.count(EventSeries.id)).where(EventSeries.tenant_id == tenant.id)) >= 3
        by_series: dict[int, set] = {}
        for event in events:
            if event.series_id is not None:
                by_series.setdefault(event.series_id, set()).add(
                    recurrence.utc_to_local(event.starts_at, tenant.timezone).time())
        assert len(by_series) >= 3 and all(len(times) == 1 for times in by_series.values()), slug
        assert max(len([e for e in events if e.series_id == s]) for s in by_series) >= 15, slug

        # Training sessions of the posture module, given by the structure's trainer.
        trainer = db.session.scalars(select(User).where(User.email == f"formation@{slug}.example.org")).one()
        sessions = [e for e in events if e.kind is EventKind.TRAINING_SESSION]
        assert sessions and all(e.trainer_id == trainer.id and e.module_id is not None for e in sessions), slug
        assert any(e.starts_at < now for e in sessions) and any(e.starts_at > now for e in sessions), slug

        # Coordinators have shifts to fill in the coming two weeks.
        assert services.under_staffed_shifts(tenant, now=now), slug

        # Attendance recorded on every confirmed place of past events (the margin: the
        # demo may have been built a few seconds before ``now``).
        past_places = list(db.session.scalars(
            select(Enrolment).join(Event, Event.id == Enrolment.event_id)
            .where(Event.tenant_id == tenant.id, Event.ends_at <= now - timedelta(minutes=5),
                   Event.status == EventStatus.SCHEDULED,
                   Enrolment.status == EnrolmentStatus.CONFIRMED)
        ))
        assert len(past_places) >= 20, slug
        assert all(p.attendance is not None for p in past_places), slug
        counts = Counter(p.attendance for p in past_places)
        assert counts[Attendance.PRESENT] > len(past_places) * 0.7, slug
        assert counts[Attendance.ABSENT] + counts[Attendance.EXCUSED] >= 1, slug
        # ...and nobody is marked on an event still to come.
        assert not db.session.scalar(
            select(func.count(Enrolment.id)).join(Event, Event.id == Enrolment.event_id)
            .where(Event.tenant_id == tenant.id, Event.starts_at > now, Enrolment.attendance.is_not(None))
        ), slug

    everything = list(db.session.scalars(select(Event)))
    places = enrolment.places_of([e for e in everything if e.starts_at > now and e.status is EventStatus.SCHEDULED])
    assert any(p.is_full and p.waitlisted >= 1 for p in places)
    cancelled = [e for e in everything if e.status is EventStatus.CANCELLED]
    assert len(cancelled) >= 2
    assert any(e.starts_at < now for e in cancelled) and any(e.starts_at > now for e in cancelled)
    assert db.session.scalar(select(func.count(Enrolment.id)).where(Enrolment.cancelled_late.is_(True))) >= 1


def test_the_demo_agenda_keeps_every_scheduling_rule(app):
    _now, tenants = seed()

    # No two active bookings of one room, kit or person overlap (back-to-back is fine).
    a, b = aliased(Booking), aliased(Booking)
    overlaps = db.session.execute(
        select(a.resource, a.event_id, b.event_id)
        .join(b, (a.resource == b.resource) & (a.id < b.id))
        .where(a.is_active.is_(True), b.is_active.is_(True), a.starts_at < b.ends_at, b.starts_at < a.ends_at)
    ).all()
    assert overlaps == []
    assert db.session.scalar(select(func.count(Booking.id)).where(Booking.resource.like("kit:%"))) >= 2
    assert db.session.scalar(
        select(func.count(Booking.id)).join(Event, Event.id == Booking.event_id)
        .where(Booking.is_active.is_(True), Event.status == EventStatus.CANCELLED)
    ) == 0

    events = list(db.session.scalars(
        select(Event).options(selectinload(Event.room).selectinload(Room.opening_hours))
    ))
    zone_of = {t.id: t.timezone for t in tenants.values()}
    for event in events:
        room = event.room
        if room is None:
            continue
        assert (event.capacity or 0) <= room.capacity, event.title
        start = recurrence.utc_to_local(event.starts_at, zone_of[event.tenant_id])
        end = recurrence.utc_to_local(event.ends_at, zone_of[event.tenant_id])
        if room.opening_hours:
            assert start.date() == end.date(), event.title
            assert any(h.weekday == start.weekday() and h.opens_at <= start.time() and end.time() <= h.closes_at
                       for h in room.opening_hours), (event.title, start, room.name)
        if event.status is EventStatus.SCHEDULED:
            closed = db.session.scalar(
                select(func.count(Closure.id)).where(
                    Closure.tenant_id == event.tenant_id,
                    or_(Closure.room_id == room.id, Closure.site_id == room.site_id),
                    Closure.starts_on <= end.date(), Closure.ends_on >= start.date(),
                )
            )
            assert closed == 0, (event.title, start)

    # Places never beyond capacity; qualified volunteers only, on the day of the shift.
    confirmed = Counter(db.session.scalars(
        select(Enrolment.event_id).where(Enrolment.status == EnrolmentStatus.CONFIRMED)
    ))
    by_id = {e.id: e for e in events}
    assert all(n <= (by_id[event_id].capacity or 0) for event_id, n in confirmed.items())
    gated = db.session.execute(
        select(Enrolment.user_id, Event.required_qualification_id, Event.ends_at)
        .join(Event, Event.id == Enrolment.event_id)
        .where(Enrolment.status == EnrolmentStatus.CONFIRMED, Event.required_qualification_id.is_not(None))
    ).all()
    assert len(gated) >= 20
    assert all(training_queries.holds_qualification(user_id, q, ends_at) for user_id, q, ends_at in gated)
    # Several people take these shifts, not just one.
    assert len({user_id for user_id, _q, _e in gated}) >= 4
