"""Scheduling rules without HTTP: conflicts, rooms, series and daylight saving,
edits and cancellations, enrolment, waitlist, deadlines, qualifications, hours."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from tests.factories import make_member, make_site, make_tenant
from volunteer_platform.errors import Conflict, Forbidden, ValidationFailed
from volunteer_platform.extensions import db
from volunteer_platform.scheduling import enrolment as enrolments
from volunteer_platform.scheduling import recurrence, services
from volunteer_platform.scheduling.models import (
    Attendance,
    Booking,
    Closure,
    Enrolment,
    EnrolmentStatus,
    Event,
    EventKind,
    EventStatus,
    Kit,
    OpeningHours,
    Room,
)
from volunteer_platform.scheduling.recurrence import Frequency, Rule
from volunteer_platform.training import services as training_services
from volunteer_platform.training.models import AwardSource

PARIS = "Europe/Paris"
NOW = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)


def at(day: date, hh: int, mm: int = 0) -> datetime:
    """A local Paris time as aware UTC."""
    return recurrence.local_to_utc(datetime.combine(day, time(hh, mm)), PARIS)


def room_in(tenant, *, capacity=10, hours=None):
    site = make_site(tenant)
    room = Room(tenant_id=tenant.id, site_id=site.id, name=f"Salle {site.id}", capacity=capacity, equipment=[])
    db.session.add(room)
    db.session.flush()
    for weekday, opens, closes in hours or []:
        db.session.add(OpeningHours(room_id=room.id, weekday=weekday, opens_at=opens, closes_at=closes))
    db.session.commit()
    return room


def fields(kind=EventKind.BOOKING, *, start, end, room=None, capacity=None, trainer=None, kits=(), title="Réunion",
           qualification=None):
    return services.EventFields(kind=kind, title=title, starts_at=start, ends_at=end,
                                room_id=room.id if room else None, capacity=capacity,
                                trainer_id=trainer.id if trainer else None, kit_ids=[k.id for k in kits],
                                required_qualification_id=qualification.id if qualification else None)


def shift(tenant, *, day=date(2026, 9, 15), capacity=2, room=None, qualification=None, start=9, end=12):
    event = services.create_event(tenant, fields(EventKind.SHIFT, start=at(day, start), end=at(day, end), room=room,
                                                 capacity=capacity, title="Permanence", qualification=qualification),
                                  created_by=None, now=NOW)
    db.session.commit()
    return event


# --- conflicts ----------------------------------------------------------------------------


def test_a_room_cannot_be_in_two_events_at_once_but_back_to_back_is_fine(app):
    tenant = make_tenant()
    room = room_in(tenant)
    day = date(2026, 9, 10)
    services.create_event(tenant, fields(start=at(day, 9), end=at(day, 11), room=room), created_by=None, now=NOW)
    with pytest.raises(services.ConflictList) as refused:
        services.create_event(tenant, fields(start=at(day, 10), end=at(day, 12), room=room), created_by=None, now=NOW)
    assert "déjà prise" in refused.value.problems[0]
    services.create_event(tenant, fields(start=at(day, 11), end=at(day, 12), room=room), created_by=None, now=NOW)
    services.create_event(tenant, fields(start=at(day, 8), end=at(day, 9), room=room), created_by=None, now=NOW)
    db.session.commit()
    assert db.session.scalar(select(func.count(Event.id))) == 3


def test_cancelled_events_block_nothing(app):
    tenant = make_tenant()
    room = room_in(tenant)
    day = date(2026, 9, 10)
    first = services.create_event(tenant, fields(start=at(day, 9), end=at(day, 11), room=room), created_by=None, now=NOW)
    services.cancel_event(first, now=NOW)
    services.create_event(tenant, fields(start=at(day, 9), end=at(day, 11), room=room), created_by=None, now=NOW)
    db.session.commit()
    assert db.session.get(Event, first.id).status is EventStatus.CANCELLED


def test_kits_conflict_like_rooms(app):
    tenant = make_tenant()
    kit = Kit(tenant_id=tenant.id, name="Valise de 8 tablettes")
    db.session.add(kit)
    db.session.commit()
    day = date(2026, 9, 10)
    workshop = dict(kind=EventKind.WORKSHOP, capacity=8, kits=[kit])
    services.create_event(tenant, fields(start=at(day, 9), end=at(day, 11), **workshop), created_by=None, now=NOW)
    with pytest.raises(services.ConflictList, match="tablettes"):
        services.create_event(tenant, fields(start=at(day, 10), end=at(day, 11), **workshop), created_by=None, now=NOW)


def test_a_trainer_is_checked_across_structures_without_revealing_the_other(app):
    a, b = make_tenant(), make_tenant()
    trainer = make_member(a, "trainer")
    from tests.factories import make_membership
    make_membership(b, trainer, "trainer")
    from tests.training.factories import make_module
    module = make_module(None)
    day = date(2026, 9, 10)
    session_b = fields(EventKind.TRAINING_SESSION, start=at(day, 14), end=at(day, 16), trainer=trainer, capacity=6,
                       title="Secret de B")
    session_b.module_id = module.id
    services.create_event(b, session_b, created_by=None, now=NOW)
    session_a = fields(EventKind.TRAINING_SESSION, start=at(day, 15), end=at(day, 17), trainer=trainer, capacity=6)
    session_a.module_id = module.id
    with pytest.raises(services.ConflictList) as refused:
        services.create_event(a, session_a, created_by=None, now=NOW)
    assert "autre structure" in refused.value.problems[0]
    assert "Secret de B" not in refused.value.problems[0]


def test_capacity_opening_hours_and_closures(app):
    tenant = make_tenant()
    room = room_in(tenant, capacity=8, hours=[(1, time(9), time(12)), (1, time(14), time(17))])  # Tuesdays
    tuesday = date(2026, 9, 15)
    ok = fields(EventKind.SHIFT, start=at(tuesday, 9), end=at(tuesday, 12), room=room, capacity=2)
    assert services.problems_for(tenant, ok) == []
    assert any("8 places" in p for p in services.problems_for(
        tenant, fields(EventKind.WORKSHOP, start=at(tuesday, 9), end=at(tuesday, 11), room=room, capacity=12)))
    over_lunch = fields(start=at(tuesday, 11), end=at(tuesday, 15), room=room)
    assert any("fermée" in p for p in services.problems_for(tenant, over_lunch))
    wednesday = date(2026, 9, 16)
    assert any("fermée" in p for p in services.problems_for(tenant, fields(start=at(wednesday, 9), end=at(wednesday, 10), room=room)))
    db.session.add(Closure(tenant_id=tenant.id, site_id=room.site_id, starts_on=date(2026, 9, 14),
                           ends_on=date(2026, 9, 18), reason="Travaux"))
    db.session.commit()
    assert any("Travaux" in p for p in services.problems_for(tenant, ok))


def test_bad_shapes_are_refused_on_their_field(app):
    tenant = make_tenant()
    day = date(2026, 9, 10)
    with pytest.raises(ValidationFailed) as refused:
        services.create_event(tenant, fields(start=at(day, 11), end=at(day, 10)), created_by=None, now=NOW)
    assert refused.value.field == "ends_at"
    with pytest.raises(ValidationFailed) as refused:
        services.create_event(tenant, fields(EventKind.SHIFT, start=at(day, 9), end=at(day, 10)), created_by=None, now=NOW)
    assert refused.value.field == "capacity"


# --- series and daylight saving ----------------------------------------------------------------


def test_a_weekly_14h_workshop_stays_at_14h_across_the_autumn_change(app):
    tenant = make_tenant()
    first = date(2026, 10, 13)  # a Tuesday; clocks go back on Sunday 25 October 2026
    template = fields(EventKind.WORKSHOP, start=at(first, 14), end=at(first, 16), capacity=8, title="Atelier e-mail")
    series, events = services.create_series(tenant, template, Rule(Frequency.WEEKLY, count=4),
                                            skip_conflicts=False, created_by=None, now=NOW)
    db.session.commit()
    assert [recurrence.utc_to_local(e.starts_at, PARIS).time() for e in events] == [time(14)] * 4
    assert [e.starts_at.hour for e in events] == [12, 12, 13, 13]  # UTC moves instead
    assert series.rrule == "FREQ=WEEKLY;INTERVAL=1;BYDAY=TU;COUNT=4"


def test_monthly_on_the_first_tuesday_until_a_date(app):
    tenant = make_tenant()
    first = date(2026, 11, 3)
    template = fields(EventKind.WORKSHOP, start=at(first, 9, 30), end=at(first, 11), capacity=8)
    _series, events = services.create_series(tenant, template, Rule(Frequency.MONTHLY_BY_WEEKDAY, until=date(2027, 4, 30)),
                                             skip_conflicts=False, created_by=None, now=NOW)
    assert [recurrence.utc_to_local(e.starts_at, PARIS).date() for e in events] == [
        date(2026, 11, 3), date(2026, 12, 1), date(2027, 1, 5), date(2027, 2, 2), date(2027, 3, 2), date(2027, 4, 6)]


def test_series_conflicts_are_listed_per_date_then_can_be_skipped(app):
    tenant = make_tenant()
    room = room_in(tenant)
    first = date(2026, 9, 1)
    services.create_event(tenant, fields(start=at(date(2026, 9, 15), 10), end=at(date(2026, 9, 15), 11), room=room),
                          created_by=None, now=NOW)
    db.session.commit()
    template = fields(start=at(first, 9), end=at(first, 12), room=room, title="Permanence")
    with pytest.raises(services.ConflictList) as refused:
        services.create_series(tenant, template, Rule(Frequency.WEEKLY, count=4), skip_conflicts=False,
                               created_by=None, now=NOW)
    assert [bool(o.problems) for o in refused.value.occurrences] == [False, False, True, False]
    db.session.rollback()
    assert db.session.scalar(select(func.count(Event.id))) == 1  # nothing saved
    series, events = services.create_series(tenant, template, Rule(Frequency.WEEKLY, count=4), skip_conflicts=True,
                                            created_by=None, now=NOW)
    assert len(events) == 3 and series.skipped_dates == ["2026-09-15"]


def _weekly(tenant, count=4, first=date(2026, 9, 1), room=None):
    template = fields(EventKind.WORKSHOP, start=at(first, 14), end=at(first, 16), capacity=8, room=room)
    series, events = services.create_series(tenant, template, Rule(Frequency.WEEKLY, count=count),
                                            skip_conflicts=False, created_by=None, now=NOW)
    db.session.commit()
    return series, events


def test_edit_one_occurrence_following_or_all(app):
    tenant = make_tenant()
    series, events = _weekly(tenant)
    later = services.fields_of(events[1])
    later.starts_at, later.ends_at = at(date(2026, 9, 8), 15), at(date(2026, 9, 8), 17)
    services.update_occurrences(events[1], later, services.Scope.ONE, now=NOW)
    assert events[1].is_exception and events[1].sequence == 1
    assert recurrence.utc_to_local(events[2].starts_at, PARIS).hour == 14

    following = services.fields_of(events[2])
    following.starts_at, following.ends_at = at(date(2026, 9, 15), 10), at(date(2026, 9, 15), 12)
    services.update_occurrences(events[2], following, services.Scope.FOLLOWING, now=NOW)
    db.session.commit()
    assert [recurrence.utc_to_local(e.starts_at, PARIS).hour for e in events] == [14, 15, 10, 10]
    assert events[2].series_id == events[3].series_id != series.id  # split: a new series
    assert "UNTIL=20260914" in db.session.get(type(series), series.id).rrule

    everything = services.fields_of(events[0])
    everything.title = "Atelier renommé"
    services.update_occurrences(events[0], everything, services.Scope.ALL, now=NOW)
    assert {e.title for e in events[:2]} == {"Atelier renommé"}


def test_cancel_following_keeps_the_events_and_cancels_enrolments(app):
    tenant = make_tenant()
    _series, events = _weekly(tenant)
    volunteer = make_member(tenant)
    place = enrolments.enrol(events[3], volunteer, now=NOW)
    cancelled, affected = services.cancel_occurrences(events[2], services.Scope.FOLLOWING, now=NOW)
    db.session.commit()
    assert [e.status for e in events] == [EventStatus.SCHEDULED] * 2 + [EventStatus.CANCELLED] * 2
    assert [e.id for e in affected] == [place.id] and place.status is EnrolmentStatus.CANCELLED
    assert db.session.scalar(select(func.count(Event.id))) == 4


# --- enrolment --------------------------------------------------------------------------------------


def test_capacity_then_waitlist_then_promotion_on_cancellation(app, outbox):
    tenant = make_tenant()
    event = shift(tenant, capacity=1)
    first, second, third = (make_member(tenant) for _ in range(3))
    assert enrolments.enrol(event, first, now=NOW).status is EnrolmentStatus.CONFIRMED
    assert enrolments.enrol(event, second, now=NOW).status is EnrolmentStatus.WAITLISTED
    assert enrolments.enrol(event, third, now=NOW + timedelta(minutes=1)).status is EnrolmentStatus.WAITLISTED
    with pytest.raises(enrolments.CapacityReached):
        enrolments.enrol(event, make_member(tenant), now=NOW, waitlist=False)
    db.session.rollback()
    place = db.session.scalars(select(Enrolment).where(Enrolment.user_id == first.id)).one()
    promoted = enrolments.cancel(place, now=NOW, by=first)
    db.session.commit()
    assert promoted.user_id == second.id and promoted.status is EnrolmentStatus.CONFIRMED
    assert enrolments.confirmed_count(event) == 1
    assert outbox()[-1].to_address == second.email


def test_cancellation_deadline(app):
    tenant = make_tenant()
    event = shift(tenant, capacity=3)
    volunteer, coordinator = make_member(tenant), make_member(tenant, "coordinator")
    place = enrolments.enrol(event, volunteer, now=NOW)
    too_late = event.starts_at - timedelta(hours=23)  # default deadline: 24 h before
    with pytest.raises(Forbidden):
        enrolments.cancel(place, now=too_late, by=volunteer)
    enrolments.cancel(place, now=too_late, by=coordinator, as_coordinator=True)
    assert place.status is EnrolmentStatus.CANCELLED and place.cancelled_late


def test_no_two_overlapping_commitments_across_structures(app):
    a, b = make_tenant(), make_tenant()
    volunteer = make_member(a)
    from tests.factories import make_membership
    make_membership(b, volunteer)
    enrolments.enrol(shift(a), volunteer, now=NOW)
    with pytest.raises(Conflict, match="engagement"):
        enrolments.enrol(shift(b, start=11, end=13), volunteer, now=NOW)
    enrolments.enrol(shift(b, start=12, end=13), volunteer, now=NOW)  # back-to-back


def test_qualification_must_be_valid_at_the_shift_date(app):
    tenant = make_tenant()
    volunteer = make_member(tenant)
    qualification = training_services.create_qualification(None, name="Démarches en ligne", validity_months=24, now=NOW)
    from tests.training.factories import make_module
    make_module(None, title="Accompagner les démarches", qualification=qualification)
    event = shift(tenant, qualification=qualification, day=date(2026, 9, 15))
    with pytest.raises(Forbidden, match="Accompagner les démarches"):
        enrolments.enrol(event, volunteer, now=NOW)
    db.session.rollback()
    # Obtained 24 months before the shift minus one day: expired by the shift.
    training_services.award(tenant, volunteer, qualification, source=AwardSource.EXTERNAL, now=NOW,
                            awarded_at=datetime(2024, 9, 14, 8, 0, tzinfo=UTC))
    with pytest.raises(Forbidden):
        enrolments.enrol(event, volunteer, now=NOW)
    training_services.award(tenant, volunteer, qualification, source=AwardSource.EXTERNAL, now=NOW,
                            awarded_at=datetime(2025, 1, 10, 8, 0, tzinfo=UTC))
    assert enrolments.enrol(event, volunteer, now=NOW).status is EnrolmentStatus.CONFIRMED


def test_signup_horizon_and_past_events(app):
    tenant = make_tenant()
    volunteer = make_member(tenant)
    far = shift(tenant, day=date(2026, 12, 15))
    with pytest.raises(Conflict, match="60 jours"):
        enrolments.enrol(far, volunteer, now=NOW)
    enrolments.enrol(far, volunteer, now=NOW, by_coordinator=True)
    soon = shift(tenant, day=date(2026, 9, 2))
    with pytest.raises(Conflict):
        enrolments.enrol(soon, volunteer, now=soon.starts_at + timedelta(minutes=1))


def test_attendance_and_hours(app):
    tenant = make_tenant()
    volunteer, coordinator = make_member(tenant), make_member(tenant, "coordinator")
    event = shift(tenant, start=9, end=12)
    place = enrolments.enrol(event, volunteer, now=NOW)
    with pytest.raises(Conflict):
        enrolments.mark_attendance(place, Attendance.PRESENT, by=coordinator, now=NOW)
    enrolments.mark_attendance(place, Attendance.PRESENT, by=coordinator, now=event.ends_at)
    db.session.commit()
    hours = enrolments.hours_given(volunteer, start=NOW, end=NOW + timedelta(days=60))
    assert hours.shifts == pytest.approx(3.0) and hours.total == pytest.approx(3.0)


def test_attending_a_session_satisfies_the_modules_attendance(app):
    tenant = make_tenant()
    volunteer, trainer = make_member(tenant), make_member(tenant, "trainer")
    from tests.training.factories import make_module
    from volunteer_platform.training import queries as training_queries
    module = make_module(None, questions=0, requires_attendance=True)
    version = training_queries.latest_published_version(module)
    for lesson in version.lessons:
        training_services.mark_lesson_read(volunteer, lesson, tenant, now=NOW)
    day = date(2026, 9, 10)
    session = fields(EventKind.TRAINING_SESSION, start=at(day, 9), end=at(day, 12), trainer=trainer, capacity=6)
    session.module_id = module.id
    event = services.create_event(tenant, session, created_by=None, now=NOW)
    place = enrolments.enrol(event, volunteer, now=NOW)
    assert training_queries.module_progress(volunteer, version).completed_at is None
    enrolments.mark_attendance(place, Attendance.PRESENT, by=trainer, now=event.ends_at)
    assert training_queries.module_progress(volunteer, version).completed_at is not None


def test_active_bookings_never_overlap_for_a_resource(app):
    """The invariant the exclusion constraint guards, checked on what the services wrote."""
    tenant = make_tenant()
    room = room_in(tenant)
    _weekly(tenant, room=room)
    rows = db.session.execute(select(Booking.resource, Booking.starts_at, Booking.ends_at)
                              .where(Booking.is_active.is_(True))).all()
    for i, (r1, s1, e1) in enumerate(rows):
        for r2, s2, e2 in rows[i + 1:]:
            assert not (r1 == r2 and s1 < e2 and s2 < e1)
