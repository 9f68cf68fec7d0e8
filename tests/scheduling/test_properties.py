"""Property-based tests (hypothesis) of the scheduling rules, against the real
services and database: overlaps, recurrence across daylight saving, capacity.

Each test commits what does not change between examples (structures, rooms,
people) once; each generated example then works inside the test's open
transaction — the services only flush — and is rolled back at its end, so
every example starts from the same clean state (``one_example`` checks it).
The generated decisions are compared with a small model written here
(intervals that overlap, ``dateutil.rrule`` for recurrences, a FIFO waitlist).

``database=None``: hypothesis keeps no database of failing examples (it may
still cache constants in ``.hypothesis/``, which ignores itself in git); a
failure prints its minimal example.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise

import pytest
from dateutil import rrule as du
from dateutil import tz as du_tz
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.factories import make_member, make_membership, make_tenant
from tests.scheduling.factories import make_room
from volunteer_platform.auth.models import User
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
    EventSeries,
)
from volunteer_platform.scheduling.recurrence import Frequency, Rule
from volunteer_platform.tenants.models import Tenant

PARIS = "Europe/Paris"
PARIS_TZ = du_tz.gettz(PARIS)  # dateutil's own zone: an oracle independent of zoneinfo
NOW = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
GRID_START = datetime(2026, 9, 7, 0, 0, tzinfo=UTC)  # a Monday; 7 days of 15-minute steps
QUARTER = timedelta(minutes=15)
SPRING_CHANGE, AUTUMN_CHANGE = date(2026, 3, 29), date(2026, 10, 25)  # Europe/Paris, 2026


def property_settings(max_examples: int) -> settings:
    return settings(max_examples=max_examples, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@contextmanager
def one_example() -> Iterator[None]:
    """Run one generated example in the test's transaction and roll it back."""
    db.session.rollback()
    assert db.session.scalar(select(func.count(Event.id))) == 0, "an earlier example left events behind"
    try:
        yield
    finally:
        db.session.rollback()


def overlaps(a: tuple[datetime, datetime], b: tuple[datetime, datetime]) -> bool:
    """[start, end) intervals: touching ends do not overlap."""
    return a[0] < b[1] and b[0] < a[1]


# --- 1. overlaps ------------------------------------------------------------------------------

# A slot: a start on the 7-day grid in 15-minute steps and a duration of 15 min to 6 h
# (often within the first eight hours, so that events meet and clash).
slots = st.tuples(st.one_of(st.integers(0, 7 * 96 - 1), st.integers(0, 31)), st.integers(1, 24)).map(
    lambda s: (GRID_START + s[0] * QUARTER, GRID_START + (s[0] + s[1]) * QUARTER)
)
# Operations on one room: create an event in a slot, or cancel the n-th event still standing.
room_operations = st.lists(
    st.one_of(slots.map(lambda s: ("create", s)), st.integers(0, 20).map(lambda n: ("cancel", n))),
    min_size=2, max_size=14,
)


def _active_room_bookings(room_id: int) -> list[tuple[datetime, datetime]]:
    return sorted(tuple(row) for row in db.session.execute(
        select(Booking.starts_at, Booking.ends_at).where(Booking.resource == f"room:{room_id}",
                                                          Booking.is_active.is_(True))
    ))


def test_events_accepted_in_one_room_never_overlap_and_refused_ones_do(app):
    tenant = make_tenant()
    room_id = make_room(tenant).id
    tenant_id = tenant.id

    @property_settings(50)
    @given(room_operations)
    @example([("create", (GRID_START, GRID_START + QUARTER)), ("create", (GRID_START + QUARTER, GRID_START + 2 * QUARTER)),
              ("create", (GRID_START, GRID_START + 2 * QUARTER))])  # back to back fine; then a clash
    def check(operations):
        with one_example():
            tenant = db.session.get(Tenant, tenant_id)
            standing: list[tuple[Event, tuple[datetime, datetime]]] = []
            refused: list[tuple[datetime, datetime]] = []
            for operation, value in operations:
                if operation == "cancel":
                    if standing:
                        event, _slot = standing.pop(value % len(standing))
                        services.cancel_event(event, now=NOW)
                    continue
                slot = value
                expected_free = not any(overlaps(slot, other) for _e, other in standing)
                f = services.EventFields(kind=EventKind.BOOKING, title="Réunion", starts_at=slot[0], ends_at=slot[1],
                                         room_id=room_id)
                try:
                    event = services.create_event(tenant, f, created_by=None, now=NOW)
                except services.ConflictList as refusal:
                    assert not expected_free, f"{slot} refused but the room was free: {refusal.problems}"
                    assert all("déjà prise" in p for p in refusal.problems), refusal.problems
                    # Every refused event overlaps one the room holds.
                    assert any(overlaps(slot, other) for _e, other in standing)
                    refused.append(slot)
                else:
                    assert expected_free, f"{slot} accepted over {[s for _e, s in standing if overlaps(slot, s)]}"
                    standing.append((event, slot))
                # The room's accepted events never overlap, and the bookings say the same.
                kept = sorted(s for _e, s in standing)
                assert all(a[1] <= b[0] for a, b in pairwise(kept)), kept
                assert _active_room_bookings(room_id) == kept

    check()


# The trainer (a person) works in two rooms of structure A and one of structure B.
trainer_events = st.lists(
    st.tuples(slots, st.integers(0, 2), st.booleans()),  # (slot, room, led by the trainer?)
    min_size=1, max_size=12,
)


def test_a_trainer_and_each_room_are_in_one_event_at_a_time(app):
    tenant_a, tenant_b = make_tenant(), make_tenant()
    trainer = make_member(tenant_a, "trainer")
    make_membership(tenant_b, trainer, "trainer")
    rooms = [(tenant_a.id, make_room(tenant_a).id), (tenant_a.id, make_room(tenant_a).id),
             (tenant_b.id, make_room(tenant_b).id)]
    trainer_id = trainer.id

    @property_settings(50)
    @given(trainer_events)
    @example([((GRID_START, GRID_START + 4 * QUARTER), 0, True),
              ((GRID_START + QUARTER, GRID_START + 2 * QUARTER), 2, True),  # the trainer is busy in A
              ((GRID_START + QUARTER, GRID_START + 2 * QUARTER), 1, False),  # room 1 is free
              ((GRID_START + 4 * QUARTER, GRID_START + 5 * QUARTER), 2, True)])  # back to back
    def check(drawn):
        with one_example():
            accepted: list[tuple[tuple[datetime, datetime], int, bool]] = []
            refused: list[tuple[tuple[datetime, datetime], int, bool]] = []
            for slot, room_index, with_trainer in drawn:
                tenant_id, room_id = rooms[room_index]
                clashes = [(s, r, t) for s, r, t in accepted
                           if overlaps(slot, s) and (r == room_index or (with_trainer and t))]
                f = services.EventFields(kind=EventKind.WORKSHOP, title="Atelier", starts_at=slot[0],
                                         ends_at=slot[1], room_id=room_id,
                                         trainer_id=trainer_id if with_trainer else None)
                try:
                    services.create_event(db.session.get(Tenant, tenant_id), f, created_by=None, now=NOW)
                except services.ConflictList as refusal:
                    assert clashes, f"{slot} in room {room_index} refused with nothing in the way: {refusal.problems}"
                    refused.append((slot, room_index, with_trainer))
                else:
                    assert not clashes, f"{slot} in room {room_index} accepted over {clashes}"
                    accepted.append((slot, room_index, with_trainer))
            led = [s for s, _r, t in accepted if t]
            for i, a in enumerate(accepted):
                for b in accepted[i + 1:]:
                    if a[1] == b[1] or (a[2] and b[2]):
                        assert not overlaps(a[0], b[0]), (a, b)
            for slot, room_index, with_trainer in refused:
                assert any(overlaps(slot, s) and (r == room_index or (with_trainer and t)) for s, r, t in accepted)
            person = sorted(tuple(row) for row in db.session.execute(
                select(Booking.starts_at, Booking.ends_at).where(Booking.resource == f"person:{trainer_id}",
                                                                  Booking.is_active.is_(True))))
            assert person == sorted(led)

    check()


# --- 2. recurrence ----------------------------------------------------------------------------

WEEKDAYS = (du.MO, du.TU, du.WE, du.TH, du.FR, du.SA, du.SU)
DU_FREQ = {"daily": du.DAILY, "weekly": du.WEEKLY, "monthly": du.MONTHLY}

# Start dates across 2026, often within a few weeks before a daylight-saving change.
start_dates = st.one_of(
    st.dates(date(2026, 1, 1), date(2026, 12, 31)),
    st.integers(-45, 3).map(lambda d: SPRING_CHANGE + timedelta(days=d)),
    st.integers(-45, 3).map(lambda d: AUTUMN_CHANGE + timedelta(days=d)),
)
# Local start times on a 15-minute grid, often between 02:00 and 03:00 (skipped in spring, twice in autumn).
local_times = st.one_of(st.integers(0, 95), st.integers(8, 11)).map(lambda q: time(q // 4, q % 4 * 15))


def nth_of_month(day: date) -> int:
    """Which of its weekday in the month ``day`` is: 1…4, or -1 for a fifth (the last)."""
    n = (day.day - 1) // 7 + 1
    return -1 if n == 5 else n


def oracle(frequency: str, dtstart: datetime, interval: int, *, count: int | None = None,
           until: date | None = None) -> list[datetime]:
    """The naive local starts that ``dateutil.rrule`` gives, capped like the application
    (MAX_SPAN after the start, MAX_OCCURRENCES)."""
    byweekday = None
    if frequency == "weekly":
        byweekday = WEEKDAYS[dtstart.weekday()]
    elif frequency == "monthly":
        byweekday = WEEKDAYS[dtstart.weekday()](nth_of_month(dtstart.date()))
    starts = list(du.rrule(DU_FREQ[frequency], dtstart=dtstart, interval=interval, count=count,
                           until=datetime.combine(until, time(23, 59, 59)) if until else None, byweekday=byweekday))
    return [s for s in starts if s <= dtstart + recurrence.MAX_SPAN][:recurrence.MAX_OCCURRENCES]


def expected_utc(local: datetime) -> datetime:
    """RFC 5545 reading of a local time, computed with dateutil: a time skipped in spring
    moves forward by the gap; an ambiguous one in autumn is the first (summer time)."""
    aware = local.replace(tzinfo=PARIS_TZ, fold=0)
    if not du_tz.datetime_exists(aware):
        aware = du_tz.resolve_imaginary(aware)
    return aware.astimezone(UTC)


def check_occurrences(starts: list[datetime], dtstart: datetime) -> None:
    """Same local wall-clock time (unless skipped by the spring change), strictly increasing."""
    assert all(s.time() == dtstart.time() for s in starts)
    assert all(a < b for a, b in pairwise(starts))
    utc = [recurrence.local_to_utc(s, PARIS) for s in starts]
    assert all(a < b for a, b in pairwise(utc))
    for local, moment in zip(starts, utc, strict=True):
        assert moment == expected_utc(local), local
        back = recurrence.utc_to_local(moment, PARIS)
        if du_tz.datetime_exists(local, tz=PARIS_TZ):
            assert back == local  # e.g. 14:00 stays 14:00 in winter and in summer
        else:  # 02:30 on the spring change does not exist: 03:30
            assert back == local + timedelta(hours=1)


rules = st.tuples(
    st.sampled_from(["daily", "weekly", "monthly"]), st.integers(1, 3), st.integers(1, 30),
    start_dates, local_times,
)


@property_settings(200)
@given(rule=rules, data=st.data())
@example(rule=("daily", 1, 5, date(2026, 3, 27), time(2, 30)), data=None)  # 2:30 does not exist on the 29th
@example(rule=("weekly", 1, 3, date(2026, 10, 18), time(2, 30)), data=None)  # 2:30 happens twice on the 25th
@example(rule=("weekly", 2, 10, date(2026, 3, 1), time(14, 0)), data=None)
def test_recurrences_keep_their_local_time_across_daylight_saving(rule, data):
    frequency, interval, count, day, at = rule
    dtstart = datetime.combine(day, at)
    if frequency == "daily":  # the forms offer weekly and monthly; the expansion takes any RRULE
        rrule_text = f"FREQ=DAILY;INTERVAL={interval};COUNT={count}"
    else:
        kind = Frequency.WEEKLY if frequency == "weekly" else Frequency.MONTHLY_BY_WEEKDAY
        rrule_text = recurrence.to_rrule(Rule(kind, interval=interval, count=count), dtstart)
    expected = oracle(frequency, dtstart, interval, count=count)
    skipped = data.draw(st.frozensets(st.sampled_from([s.date() for s in expected]))) if data else frozenset()

    starts = recurrence.expand(rrule_text, dtstart, skipped=skipped)

    assert starts == [s for s in expected if s.date() not in skipped]
    if frequency != "monthly":  # 30 weeks × 3 stays within MAX_SPAN; 30 months × 3 does not
        assert len(starts) == count - len(skipped)
    check_occurrences(starts, dtstart)
    if frequency == "weekly":
        assert {s.weekday() for s in starts} <= {day.weekday()}
    if frequency == "monthly":
        n = nth_of_month(day)
        for s in starts:
            assert s.weekday() == day.weekday()
            assert nth_of_month(s.date()) == n if n > 0 else (s + timedelta(days=7)).month != s.month


@property_settings(100)
@given(frequency=st.sampled_from([Frequency.WEEKLY, Frequency.MONTHLY_BY_WEEKDAY]), interval=st.integers(1, 3),
       day=start_dates, at=local_times, last=st.integers(0, 300))
def test_recurrences_until_a_date_include_that_whole_day(frequency, interval, day, at, last):
    dtstart = datetime.combine(day, at)
    until = day + timedelta(days=last)
    starts = recurrence.expand(recurrence.to_rrule(Rule(frequency, interval=interval, until=until), dtstart), dtstart)
    name = "weekly" if frequency is Frequency.WEEKLY else "monthly"
    assert starts == oracle(name, dtstart, interval, until=until)
    assert starts[0] == dtstart and starts[-1].date() <= until
    check_occurrences(starts, dtstart)


def test_a_series_made_by_the_service_stores_each_occurrence_as_an_event(app):
    tenant = make_tenant(timezone=PARIS)
    tenant_id, room_id = tenant.id, make_room(tenant).id

    @property_settings(25)
    @given(frequency=st.sampled_from([Frequency.WEEKLY, Frequency.MONTHLY_BY_WEEKDAY]), interval=st.integers(1, 3),
           count=st.integers(1, 30), day=start_dates, at=local_times, quarters=st.integers(1, 24), data=st.data())
    @example(frequency=Frequency.WEEKLY, interval=1, count=6, day=date(2026, 3, 15), at=time(2, 30), quarters=4,
             data=None)
    @example(frequency=Frequency.WEEKLY, interval=1, count=4, day=date(2026, 10, 11), at=time(2, 0), quarters=6,
             data=None)
    def check(frequency, interval, count, day, at, quarters, data):
        with one_example():
            tenant = db.session.get(Tenant, tenant_id)
            starts_at = recurrence.local_to_utc(datetime.combine(day, at), PARIS)
            duration = quarters * QUARTER
            dtstart = recurrence.utc_to_local(starts_at, PARIS)  # what the service expands from
            name = "weekly" if frequency is Frequency.WEEKLY else "monthly"
            planned = oracle(name, dtstart, interval, count=count)
            # Some dates are already taken in the room: the series skips them (EXDATE).
            blocked = set()
            if data is not None and len(planned) > 1:
                blocked = data.draw(st.sets(st.sampled_from(planned[1:]), max_size=len(planned) - 1))
            for local in blocked:
                blocker = recurrence.local_to_utc(local, PARIS)
                services.create_event(tenant, services.EventFields(
                    kind=EventKind.BOOKING, title="Déjà là", starts_at=blocker, ends_at=blocker + QUARTER,
                    room_id=room_id), created_by=None, now=NOW)
            template = services.EventFields(kind=EventKind.WORKSHOP, title="Atelier", starts_at=starts_at,
                                            ends_at=starts_at + duration, room_id=room_id)

            series, created = services.create_series(tenant, template, Rule(frequency, interval=interval, count=count),
                                                     skip_conflicts=True, created_by=None, now=NOW)

            expected = [s for s in planned if s not in blocked]
            events = list(db.session.scalars(
                select(Event).where(Event.series_id == series.id).order_by(Event.starts_at)))
            assert [e.id for e in events] == [e.id for e in created]
            assert [e.recurrence_local for e in events] == expected
            if frequency is Frequency.WEEKLY:
                assert len(events) == count - len(blocked)
            assert [e.starts_at for e in events] == [expected_utc(s) for s in expected]
            assert all(e.ends_at - e.starts_at == duration for e in events)
            check_occurrences([e.recurrence_local for e in events], dtstart)
            stored = db.session.get(EventSeries, series.id)
            assert stored.dtstart_local == dtstart and stored.duration_minutes == quarters * 15
            assert sorted(stored.skipped_dates) == sorted(s.date().isoformat() for s in blocked)
            assert recurrence.expand(stored.rrule, stored.dtstart_local,
                                     skipped={date.fromisoformat(d) for d in stored.skipped_dates}) == expected
            booked = db.session.scalar(select(func.count(Booking.id)).where(
                Booking.resource == f"room:{room_id}", Booking.is_active.is_(True)))
            assert booked == len(events) + len(blocked)

    check()


# --- 3. capacity --------------------------------------------------------------------------------

PEOPLE = 6
EVENT_START = datetime(2026, 9, 15, 9, 0, tzinfo=UTC)  # two weeks after NOW: every cancellation is early

enrolment_operations = st.lists(
    st.tuples(st.sampled_from(["enrol", "enrol", "enrol", "enrol_no_waitlist", "coordinator_enrols",
                               "cancel", "cancel", "coordinator_cancels"]),  # sign-ups more often
              st.integers(0, PEOPLE - 1)),
    min_size=6, max_size=25,
)


def _state(event_id: int) -> tuple[set[int], list[int]]:
    """(confirmed people, waitlist in the order promote_waitlist follows), from the database."""
    rows = db.session.execute(
        select(Enrolment.user_id, Enrolment.status).where(Enrolment.event_id == event_id)
        .order_by(Enrolment.created_at, Enrolment.id)
    ).all()
    return ({u for u, s in rows if s is EnrolmentStatus.CONFIRMED},
            [u for u, s in rows if s is EnrolmentStatus.WAITLISTED])


def test_capacity_and_waitlist_hold_whatever_the_sign_ups_and_cancellations(app):
    tenant = make_tenant()
    coordinator = make_member(tenant, "coordinator")
    people = [make_member(tenant).id for _ in range(PEOPLE)]
    tenant_id, coordinator_id = tenant.id, coordinator.id

    @property_settings(50)
    @given(capacity=st.one_of(st.integers(1, 6), st.integers(1, 3)), operations=enrolment_operations)
    @example(capacity=1, operations=[("enrol", 0), ("enrol", 1), ("enrol", 2), ("cancel", 0), ("cancel", 1)])
    @example(capacity=1, operations=[("enrol", 0), ("enrol", 1), ("enrol", 2), ("cancel", 0), ("enrol", 0),
                                     ("cancel", 1)])  # 0 came back after 2: 2 is first
    def check(capacity, operations):
        with one_example():
            tenant = db.session.get(Tenant, tenant_id)
            coordinator = db.session.get(User, coordinator_id)
            event = services.create_event(tenant, services.EventFields(
                kind=EventKind.SHIFT, title="Permanence", starts_at=EVENT_START, ends_at=EVENT_START + timedelta(hours=3),
                capacity=capacity), created_by=None, now=NOW)
            confirmed: set[int] = set()
            waitlist: list[int] = []
            for step, (operation, index) in enumerate(operations):
                now = NOW + timedelta(minutes=step)  # people act one after the other
                user = db.session.get(User, people[index])
                before = _state(event.id)
                if operation in ("enrol", "enrol_no_waitlist", "coordinator_enrols"):
                    with_waitlist = operation != "enrol_no_waitlist"
                    if user.id in confirmed or user.id in waitlist:
                        with pytest.raises(Conflict) as refused:
                            enrolments.enrol(event, user, now=now, waitlist=with_waitlist,
                                             by_coordinator=operation == "coordinator_enrols")
                        assert not isinstance(refused.value, enrolments.CapacityReached)
                        assert _state(event.id) == before
                    elif len(confirmed) >= capacity and not with_waitlist:
                        with pytest.raises(enrolments.CapacityReached):
                            enrolments.enrol(event, user, now=now, waitlist=False)
                        assert _state(event.id) == before
                    else:
                        place = enrolments.enrol(event, user, now=now, waitlist=with_waitlist,
                                                 by_coordinator=operation == "coordinator_enrols")
                        if len(confirmed) < capacity:
                            assert place.status is EnrolmentStatus.CONFIRMED
                            confirmed.add(user.id)
                        else:
                            assert place.status is EnrolmentStatus.WAITLISTED
                            waitlist.append(user.id)
                else:
                    place = db.session.scalars(select(Enrolment).where(
                        Enrolment.event_id == event.id, Enrolment.user_id == user.id)).one_or_none()
                    if place is None:
                        continue  # nothing to cancel
                    by_coordinator = operation == "coordinator_cancels"
                    if place.status is EnrolmentStatus.CANCELLED:
                        with pytest.raises(Conflict):
                            enrolments.cancel(place, now=now, by=coordinator if by_coordinator else user,
                                              as_coordinator=by_coordinator)
                        assert _state(event.id) == before
                        continue
                    promoted = enrolments.cancel(place, now=now, by=coordinator if by_coordinator else user,
                                                 as_coordinator=by_coordinator)
                    if user.id in confirmed:
                        confirmed.remove(user.id)
                        if waitlist:  # the first waitlisted person takes the freed seat
                            first = waitlist.pop(0)
                            confirmed.add(first)
                            assert promoted is not None and promoted.user_id == first
                        else:
                            assert promoted is None
                    else:
                        waitlist.remove(user.id)
                        assert promoted is None

                db_confirmed, db_waitlist = _state(event.id)
                assert len(db_confirmed) <= capacity
                assert enrolments.confirmed_count(event) == len(db_confirmed)
                assert (db_confirmed, db_waitlist) == (confirmed, waitlist), (operation, index)
                # Nobody holds two active places on the event.
                active = db.session.execute(
                    select(Enrolment.user_id, func.count(Enrolment.id)).where(
                        Enrolment.event_id == event.id,
                        Enrolment.status.in_([EnrolmentStatus.CONFIRMED, EnrolmentStatus.WAITLISTED]))
                    .group_by(Enrolment.user_id)).all()
                assert all(n == 1 for _u, n in active)
                # A seat is a booking of the person; the waitlist books nothing.
                seats = sorted(db.session.scalars(select(Booking.resource).where(
                    Booking.event_id == event.id, Booking.enrolment_id.is_not(None), Booking.is_active.is_(True))))
                assert seats == sorted(f"person:{u}" for u in confirmed)
                positions = enrolments.waitlist_positions([event.id])
                by_person = {db.session.get(Enrolment, e).user_id: n for e, n in positions.items()}
                assert by_person == {u: i + 1 for i, u in enumerate(waitlist)}

    check()
