"""Capacity and double-booking hold under simultaneous requests, on the
file-based SQLite default and on PostgreSQL (threads, each with its own
connection and transaction, released at the same instant)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import func, select

from tests.factories import make_member, make_site, make_tenant
from tests.test_concurrency import run_together
from volunteer_platform.errors import Conflict
from volunteer_platform.extensions import db
from volunteer_platform.scheduling import enrolment as enrolments
from volunteer_platform.scheduling import recurrence, services
from volunteer_platform.scheduling.models import (
    Booking,
    Enrolment,
    EnrolmentStatus,
    Event,
    EventKind,
    Room,
)

NOW = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
DAY = date(2026, 9, 15)


def at(hour: int) -> datetime:
    return recurrence.local_to_utc(datetime.combine(DAY, datetime.min.time()).replace(hour=hour), "Europe/Paris")


def test_exactly_capacity_sign_ups_succeed_the_rest_wait(app):
    tenant = make_tenant()
    event = services.create_event(
        tenant, services.EventFields(kind=EventKind.SHIFT, title="Permanence", starts_at=at(9), ends_at=at(12),
                                     capacity=3), created_by=None, now=NOW)
    people = [make_member(tenant) for _ in range(10)]
    db.session.commit()
    event_id, user_ids = event.id, [p.id for p in people]

    def sign_up(user_id):
        def work():
            from volunteer_platform.auth.models import User
            return enrolments.enrol(db.session.get(Event, event_id), db.session.get(User, user_id), now=NOW,
                                    waitlist=False).status
        return work

    results = run_together(app, [sign_up(u) for u in user_ids])

    confirmed = [r for r in results if r is EnrolmentStatus.CONFIRMED]
    refused = [r for r in results if isinstance(r, enrolments.CapacityReached)]
    assert len(confirmed) == 3 and len(refused) == 7, results
    db.session.rollback()
    assert db.session.scalar(select(func.count(Enrolment.id)).where(
        Enrolment.event_id == event_id, Enrolment.status == EnrolmentStatus.CONFIRMED)) == 3
    assert db.session.scalar(select(func.count(Booking.id)).where(
        Booking.event_id == event_id, Booking.enrolment_id.is_not(None), Booking.is_active.is_(True))) == 3


def test_one_room_booked_twice_at_the_same_time_succeeds_once(app):
    tenant = make_tenant()
    site = make_site(tenant)
    room = Room(tenant_id=tenant.id, site_id=site.id, name="Salle A", capacity=10, equipment=[])
    db.session.add(room)
    db.session.commit()
    tenant_id, room_id = tenant.id, room.id

    def book(title):
        def work():
            from volunteer_platform.tenants.models import Tenant
            return services.create_event(
                db.session.get(Tenant, tenant_id),
                services.EventFields(kind=EventKind.BOOKING, title=title, starts_at=at(10), ends_at=at(11),
                                     room_id=room_id), created_by=None, now=NOW).title
        return work

    results = run_together(app, [book(f"Réunion {i}") for i in range(6)])

    assert len([r for r in results if isinstance(r, str)]) == 1, results
    assert all(isinstance(r, Conflict) for r in results if not isinstance(r, str)), results
    db.session.rollback()
    assert db.session.scalar(select(func.count(Event.id))) == 1
