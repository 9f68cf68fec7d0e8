"""Events and series: creating, editing and cancelling them without conflicts.

Rules (each raises a domain error and changes nothing):
- a room, a kit or a trainer is in one event at a time (back-to-back is fine,
  cancelled events block nothing); trainers are checked across structures;
- an event fits its room: capacity, opening hours, no closure;
- a series is checked occurrence by occurrence before anything is saved;
  conflicting dates can be skipped on request.

On PostgreSQL the ``booking`` table's exclusion constraint makes the rule hold
under concurrent requests (a race ends in IntegrityError, turned into
Conflict); on SQLite the write lock taken at BEGIN serialises writers.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import format_datetime
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from volunteer_platform.auth.models import User
from volunteer_platform.errors import Conflict, ValidationFailed
from volunteer_platform.extensions import db
from volunteer_platform.scheduling import recurrence
from volunteer_platform.scheduling.models import (
    Booking,
    Closure,
    Enrolment,
    EnrolmentStatus,
    Event,
    EventKind,
    EventKit,
    EventSeries,
    EventStatus,
    Kit,
    Room,
)
from volunteer_platform.tenants.models import Membership, Role, Tenant
from volunteer_platform.tenants.scoping import get_in_tenant
from volunteer_platform.training import queries as training_queries
from volunteer_platform.training.models import Module, Qualification

MAX_EVENT_DURATION = timedelta(hours=12)


class ConflictList(Conflict):
    """Several problems at once (one per line), e.g. for an event or a series."""

    def __init__(self, problems: list[str], *, occurrences: list[OccurrenceCheck] | None = None) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems
        self.occurrences = occurrences or []


@dataclass
class EventFields:
    """What a coordinator sets on an event (times are aware datetimes)."""

    kind: EventKind
    title: str
    starts_at: datetime
    ends_at: datetime
    room_id: int | None = None
    trainer_id: int | None = None
    module_id: int | None = None
    capacity: int | None = None
    required_qualification_id: int | None = None
    description: str = ""
    what_to_bring: str = ""
    kit_ids: list[int] = field(default_factory=list)


# --- checks -------------------------------------------------------------------------


def _check_shape(tenant: Tenant, f: EventFields) -> None:
    """Field rules that do not depend on other events (ValidationFailed on a field)."""
    if not f.title.strip():
        raise ValidationFailed(_l("Le titre est obligatoire."), field="title")
    if f.starts_at.tzinfo is None or f.ends_at.tzinfo is None:
        raise ValueError("event times must be aware")
    if f.ends_at <= f.starts_at:
        raise ValidationFailed(_l("La fin doit être après le début."), field="ends_at")
    if f.ends_at - f.starts_at > MAX_EVENT_DURATION:
        raise ValidationFailed(_l("Un événement dure au plus 12 heures."), field="ends_at")
    if f.capacity is not None and f.capacity < 1:
        raise ValidationFailed(_l("Le nombre de places doit être d'au moins 1."), field="capacity")
    kind = EventKind(f.kind)
    if kind in (EventKind.TRAINING_SESSION, EventKind.SHIFT) and not f.capacity:
        raise ValidationFailed(_l("Indiquez le nombre de places."), field="capacity")
    if kind is EventKind.TRAINING_SESSION:
        if f.module_id is None:
            raise ValidationFailed(_l("Choisissez le module de formation."), field="module_id")
        if f.trainer_id is None:
            raise ValidationFailed(_l("Choisissez le formateur ou la formatrice."), field="trainer_id")
    if kind is EventKind.BOOKING and f.room_id is None:
        raise ValidationFailed(_l("Choisissez la salle à réserver."), field="room_id")
    if f.module_id is not None:
        training_queries.get_visible(Module, f.module_id, tenant)
    if f.required_qualification_id is not None:
        training_queries.get_visible(Qualification, f.required_qualification_id, tenant)
    if f.trainer_id is not None:
        is_trainer = db.session.scalars(
            select(Membership.id).where(
                Membership.tenant_id == tenant.id, Membership.user_id == f.trainer_id,
                Membership.is_active.is_(True), Membership.role.in_([Role.TRAINER, Role.COORDINATOR]),
            )
        ).first()
        if is_trainer is None:
            raise ValidationFailed(_l("Cette personne n'est pas formatrice dans la structure."), field="trainer_id")


def _when(moment: datetime) -> str:
    return format_datetime(moment, "EEEE d MMMM y HH:mm")


def _overlapping(resource: str, starts_at: datetime, ends_at: datetime, exclude_event_ids: set[int]) -> list[Event]:
    return [event for event, _start, _end in _bookings_during(resource, starts_at, ends_at, exclude_event_ids)]


def _bookings_during(resource: str, starts_at: datetime, ends_at: datetime,
                     exclude_event_ids: set[int]) -> list[tuple[Event, datetime, datetime]]:
    """The resource's active bookings overlapping [starts_at, ends_at): (event, start, end),
    by start. One indexed query (``ix_booking_resource_time``)."""
    stmt = (
        select(Event, Booking.starts_at, Booking.ends_at)
        .join(Booking, Booking.event_id == Event.id)
        .where(
            Booking.resource == resource,
            Booking.is_active.is_(True),
            Booking.starts_at < ends_at,
            Booking.ends_at > starts_at,
        )
        .order_by(Booking.starts_at, Event.id)
    )
    if exclude_event_ids:
        stmt = stmt.where(Booking.event_id.not_in(exclude_event_ids))
    return [tuple(row) for row in db.session.execute(stmt)]


def _during(rows: list, f: EventFields) -> list:
    """The rows (``(thing, start, end)``) that overlap ``f``'s time."""
    return [row for row in rows if row[1] < f.ends_at and row[2] > f.starts_at]


def problems_for(
    tenant: Tenant, f: EventFields, *, exclude_event_ids: set[int] = frozenset()
) -> list[str]:
    """Every reason why this event cannot take place as described (empty: fine)."""
    return problems_for_each(tenant, [f], exclude_event_ids=exclude_event_ids)[0]


def problems_for_each(
    tenant: Tenant, occurrences: list[EventFields], *, exclude_event_ids: set[int] = frozenset()
) -> list[list[str]]:
    """``problems_for`` of occurrences that share their room, equipment and
    trainer (a series), in a fixed number of queries: each resource's bookings,
    closures and external busy times are read once for the whole span of the
    occurrences (one room's or person's, a year at most), then matched to each
    occurrence here."""
    if not occurrences:
        return []
    first = occurrences[0]
    if any((f.room_id, list(f.kit_ids), f.trainer_id) != (first.room_id, list(first.kit_ids), first.trainer_id)
           for f in occurrences):
        raise ValueError("occurrences must share their room, equipment and trainer")
    span_start = min(f.starts_at for f in occurrences)
    span_end = max(f.ends_at for f in occurrences)
    problems: list[list[str]] = [[] for _f in occurrences]
    room = None
    if first.room_id is not None:
        room = get_in_tenant(Room, first.room_id, tenant)
        closures = _closures_during(tenant, room, span_start, span_end)
        taken = _bookings_during(f"room:{room.id}", span_start, span_end, exclude_event_ids)
        for f, found in zip(occurrences, problems, strict=True):
            if not room.is_active:
                found.append(str(_l("La salle « %(room)s » n'est plus utilisée.", room=room.name)))
            if f.capacity is not None and f.capacity > room.capacity:
                found.append(str(_l("La salle « %(room)s » n'a que %(n)s places.", room=room.name,
                                    n=room.capacity)))
            found += _room_time_problems(tenant, room, f.starts_at, f.ends_at, closures)
            for other, _start, _end in _during(taken, f):
                found.append(str(_l("La salle « %(room)s » est déjà prise : %(title)s (%(when)s).",
                                    room=room.name, title=other.title, when=_when(other.starts_at))))
    for kit_id in first.kit_ids:
        kit = get_in_tenant(Kit, kit_id, tenant)
        reserved = _bookings_during(f"kit:{kit.id}", span_start, span_end, exclude_event_ids)
        for f, found in zip(occurrences, problems, strict=True):
            for other, _start, _end in _during(reserved, f):
                found.append(str(_l("Le matériel « %(kit)s » est déjà réservé : %(title)s (%(when)s).",
                                    kit=kit.name, title=other.title, when=_when(other.starts_at))))
    if first.trainer_id is not None:
        busy = _bookings_during(f"person:{first.trainer_id}", span_start, span_end, exclude_event_ids)
        for f, found in zip(occurrences, problems, strict=True):
            for other, _start, _end in _during(busy, f):
                # Another structure's event: say that the trainer is busy, not what they do there.
                what = (other.title if other.tenant_id == tenant.id
                        else str(_l("un engagement dans une autre structure")))
                found.append(str(_l("Le formateur ou la formatrice est déjà occupé(e) : %(what)s (%(when)s).",
                                    what=what, when=_when(other.starts_at))))
    for found, external in zip(problems, _external_busy_problems_each(tenant, occurrences, room), strict=True):
        found += external
    return problems


def _closures_during(tenant: Tenant, room: Room, starts_at: datetime, ends_at: datetime) -> list[Closure]:
    """The closures of the room or its site during [starts_at, ends_at) (in local days)."""
    zone = tenant.timezone
    return list(db.session.scalars(
        select(Closure).where(
            Closure.tenant_id == tenant.id,
            (Closure.room_id == room.id) | (Closure.site_id == room.site_id),
            Closure.starts_on <= recurrence.utc_to_local(ends_at, zone).date(),
            Closure.ends_on >= recurrence.utc_to_local(starts_at, zone).date(),
        ).order_by(Closure.starts_on, Closure.id)
    ))


def _room_time_problems(tenant: Tenant, room: Room, starts_at: datetime, ends_at: datetime,
                        closures: list[Closure]) -> list[str]:
    """Outside the room's opening hours, or during one of ``closures`` (``_closures_during``)."""
    zone = tenant.timezone
    start_local = recurrence.utc_to_local(starts_at, zone)
    end_local = recurrence.utc_to_local(ends_at, zone)
    problems = []
    if room.opening_hours:
        fits = start_local.date() == end_local.date() and any(
            hours.weekday == start_local.weekday()
            and hours.opens_at <= start_local.time()
            and end_local.time() <= hours.closes_at
            for hours in room.opening_hours
        )
        if not fits:
            problems.append(str(_l("La salle « %(room)s » est fermée à ce moment-là (voir ses horaires).",
                                   room=room.name)))
    for closure in closures:
        if closure.starts_on <= end_local.date() and closure.ends_on >= start_local.date():
            problems.append(str(_l("Fermeture du %(start)s au %(end)s : %(reason)s.",
                                   start=closure.starts_on.strftime("%d/%m/%Y"),
                                   end=closure.ends_on.strftime("%d/%m/%Y"), reason=closure.reason)))
    return problems


# --- bookings ------------------------------------------------------------------------------


def _resources(event: Event, kit_ids: list[int]) -> list[str]:
    resources = []
    if event.room_id is not None:
        resources.append(f"room:{event.room_id}")
    resources += [f"kit:{k}" for k in kit_ids]
    if event.trainer_id is not None:
        resources.append(f"person:{event.trainer_id}")
    return resources


def _write_bookings(event: Event, kit_ids: list[int]) -> None:
    """Rewrite what the event occupies (room, kits, trainer) and move its
    participants' bookings with it."""
    db.session.execute(
        Booking.__table__.delete().where(Booking.event_id == event.id, Booking.enrolment_id.is_(None))
    )
    db.session.execute(
        update(Booking).where(Booking.event_id == event.id, Booking.enrolment_id.is_not(None))
        .values(starts_at=event.starts_at, ends_at=event.ends_at)
    )
    db.session.execute(EventKit.__table__.delete().where(EventKit.event_id == event.id))
    for kit_id in kit_ids:
        db.session.add(EventKit(tenant_id=event.tenant_id, event_id=event.id, kit_id=kit_id))
    # No query between adding the bookings and flush_bookings(): an autoflush
    # would raise the exclusion violation outside the savepoint that translates it.
    if event.status is EventStatus.SCHEDULED:
        for resource in _resources(event, kit_ids):
            db.session.add(Booking(event_id=event.id, resource=resource, starts_at=event.starts_at,
                                   ends_at=event.ends_at))
    flush_bookings()


def flush_bookings() -> None:
    """Flush, turning a PostgreSQL exclusion violation (a race) into a Conflict."""
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as error:
        if "booking_no_overlap" in str(error.orig):
            raise Conflict(_l("Quelqu'un vient de réserver la même salle, le même matériel ou la même "
                              "personne à ce moment-là. Vérifiez l'agenda et réessayez.")) from None
        raise


# --- single events ---------------------------------------------------------------------------


def _apply(event: Event, f: EventFields) -> None:
    event.kind = EventKind(f.kind)
    event.title = f.title.strip()
    event.description = f.description.strip()
    event.what_to_bring = f.what_to_bring.strip()
    event.starts_at, event.ends_at = f.starts_at, f.ends_at
    event.room_id, event.trainer_id, event.module_id = f.room_id, f.trainer_id, f.module_id
    event.capacity = f.capacity
    event.required_qualification_id = f.required_qualification_id


def new_uid() -> str:
    return f"{uuid.uuid4()}@aidants-numeriques"


def create_event(tenant: Tenant, f: EventFields, *, created_by: User | None, now: datetime) -> Event:
    """Create one event; raises ValidationFailed or ConflictList (nothing saved)."""
    _check_shape(tenant, f)
    problems = problems_for(tenant, f)
    if problems:
        raise ConflictList(problems)
    event = Event(tenant_id=tenant.id, uid=new_uid(), created_by_id=created_by.id if created_by else None,
                  created_at=now, updated_at=now)
    _apply(event, f)
    db.session.add(event)
    db.session.flush()
    _write_bookings(event, f.kit_ids)
    return event


def fields_of(event: Event) -> EventFields:
    return EventFields(
        kind=event.kind, title=event.title, starts_at=event.starts_at, ends_at=event.ends_at,
        room_id=event.room_id, trainer_id=event.trainer_id, module_id=event.module_id,
        capacity=event.capacity, required_qualification_id=event.required_qualification_id,
        description=event.description, what_to_bring=event.what_to_bring,
        kit_ids=[k.id for k in event.kits],
    )


def _significant_change(event: Event, f: EventFields) -> bool:
    """Time or place changed: calendars must see a new SEQUENCE."""
    return (event.starts_at, event.ends_at, event.room_id) != (f.starts_at, f.ends_at, f.room_id)


def update_event(event: Event, f: EventFields, *, now: datetime) -> None:
    """Edit one event. Confirmed participants above a reduced capacity keep their place."""
    if event.is_cancelled:
        raise Conflict(_l("Cet événement est annulé : il ne peut plus être modifié."))
    _check_shape(event_tenant(event), f)
    problems = problems_for(event_tenant(event), f, exclude_event_ids={event.id})
    problems += _participant_problems(event, f)
    if problems:
        raise ConflictList(problems)
    if _significant_change(event, f):
        event.sequence += 1
        _series_changed(event, now)
    _apply(event, f)
    event.updated_at = now
    if event.series_id is not None:
        event.is_exception = True
    db.session.flush()
    _write_bookings(event, f.kit_ids)


def _participant_problems(event: Event, f: EventFields) -> list[str]:
    """Moving an event must not double-book its confirmed participants."""
    if (f.starts_at, f.ends_at) == (event.starts_at, event.ends_at):
        return []
    problems = []
    for enrolment in db.session.scalars(
        select(Enrolment).where(Enrolment.event_id == event.id, Enrolment.status == EnrolmentStatus.CONFIRMED)
    ):
        if _overlapping(f"person:{enrolment.user_id}", f.starts_at, f.ends_at, {event.id}):
            problems.append(str(_l("%(name)s a déjà un engagement à ce nouvel horaire.",
                                   name=enrolment.user.full_name)))
    return problems


def _series_changed(event: Event, now: datetime) -> None:
    """An occurrence moved or was cancelled: in iCal its series gains an EXDATE
    (or loses the date in a room's feed), so the series' SEQUENCE goes up too."""
    if event.series_id is not None and event.series is not None:
        event.series.sequence += 1
        event.series.updated_at = now


def event_tenant(event: Event) -> Tenant:
    return db.session.get(Tenant, event.tenant_id)


def cancel_event(event: Event, *, now: datetime) -> list[Enrolment]:
    """Cancel an event (it stays, marked cancelled); its enrolments are cancelled.

    Returns the enrolments that were active, so that the caller can tell the
    people (see ``enrolment.notify_event_cancelled``).
    """
    if event.is_cancelled:
        raise Conflict(_l("Cet événement est déjà annulé."))
    event.status = EventStatus.CANCELLED
    event.cancelled_at = now
    event.updated_at = now
    event.sequence += 1
    _series_changed(event, now)
    active = list(db.session.scalars(
        select(Enrolment).where(Enrolment.event_id == event.id,
                                Enrolment.status.in_([EnrolmentStatus.CONFIRMED, EnrolmentStatus.WAITLISTED]))
    ))
    for enrolment in active:
        enrolment.status = EnrolmentStatus.CANCELLED
        enrolment.cancelled_at = now
    db.session.execute(update(Booking).where(Booking.event_id == event.id).values(is_active=False))
    db.session.flush()
    return active


# --- series ----------------------------------------------------------------------------------


@dataclass
class OccurrenceCheck:
    local_start: datetime
    starts_at: datetime
    ends_at: datetime
    problems: list[str]


def check_series(
    tenant: Tenant, template: EventFields, rule: recurrence.Rule, *, exclude_event_ids: set[int] = frozenset(),
) -> tuple[str, list[OccurrenceCheck]]:
    """Expand the series and list each occurrence's problems; nothing is saved.

    ``template.starts_at``/``ends_at`` give the first occurrence; later ones keep
    its local time of day and duration.
    """
    _check_shape(tenant, template)
    zone = tenant.timezone
    dtstart_local = recurrence.utc_to_local(template.starts_at, zone)
    try:
        rrule = recurrence.to_rrule(rule, dtstart_local)
    except ValueError:
        raise ValidationFailed(_l("Indiquez une date de fin ou un nombre de séances."), field="until") from None
    if rule.until is not None and rule.until < dtstart_local.date():
        raise ValidationFailed(_l("La date de fin doit être après la première séance."), field="until")
    duration = template.ends_at - template.starts_at
    starts = [(local_start, recurrence.local_to_utc(local_start, zone))
              for local_start in recurrence.expand(rrule, dtstart_local)]
    occurrences = [_shifted(template, starts_at, starts_at + duration) for _local, starts_at in starts]
    problems = problems_for_each(tenant, occurrences, exclude_event_ids=exclude_event_ids)
    checks = [OccurrenceCheck(local_start, f.starts_at, f.ends_at, found)
              for (local_start, _utc), f, found in zip(starts, occurrences, problems, strict=True)]
    if not checks:
        raise ValidationFailed(_l("Cette règle ne donne aucune séance."), field="until")
    return rrule, checks


def _shifted(template: EventFields, starts_at: datetime, ends_at: datetime) -> EventFields:
    f = EventFields(**{**template.__dict__, "kit_ids": list(template.kit_ids)})
    f.starts_at, f.ends_at = starts_at, ends_at
    return f


def create_series(
    tenant: Tenant, template: EventFields, rule: recurrence.Rule, *, skip_conflicts: bool,
    created_by: User | None, now: datetime,
) -> tuple[EventSeries, list[Event]]:
    """Create a recurring event. With conflicts, raise ConflictList (listing
    each date) unless ``skip_conflicts``: then conflicting dates are left out
    (recorded as skipped, i.e. EXDATE)."""
    rrule, checks = check_series(tenant, template, rule)
    bad = [c for c in checks if c.problems]
    if bad and not skip_conflicts:
        raise ConflictList(
            [f"{_when(c.starts_at)} : {'; '.join(c.problems)}" for c in bad], occurrences=checks
        )
    good = [c for c in checks if not c.problems]
    if not good:
        raise ConflictList([str(_l("Aucune date n'est libre pour cette série."))], occurrences=checks)
    zone = tenant.timezone
    series = EventSeries(
        tenant_id=tenant.id, uid=new_uid(), rrule=rrule,
        dtstart_local=recurrence.utc_to_local(template.starts_at, zone),
        duration_minutes=int((template.ends_at - template.starts_at).total_seconds() // 60),
        timezone=zone, skipped_dates=[c.local_start.date().isoformat() for c in bad],
        created_at=now, updated_at=now,
    )
    db.session.add(series)
    db.session.flush()
    events = []
    for check in good:
        event = Event(tenant_id=tenant.id, uid=new_uid(), series_id=series.id,
                      recurrence_local=check.local_start,
                      created_by_id=created_by.id if created_by else None, created_at=now, updated_at=now)
        _apply(event, _shifted(template, check.starts_at, check.ends_at))
        db.session.add(event)
        db.session.flush()
        _write_bookings(event, template.kit_ids)
        events.append(event)
    return series, events


class Scope:
    ONE = "one"
    FOLLOWING = "following"
    ALL = "all"


def series_events(event: Event, scope: str, *, now: datetime) -> list[Event]:
    """The occurrences an action on ``event`` with ``scope`` applies to.

    ``all`` means every occurrence that has not ended yet: the past is history.
    """
    if event.series_id is None or scope == Scope.ONE:
        return [event]
    stmt = select(Event).where(Event.tenant_id == event.tenant_id, Event.series_id == event.series_id,
                               Event.status == EventStatus.SCHEDULED).order_by(Event.starts_at)
    if scope == Scope.FOLLOWING:
        stmt = stmt.where(Event.starts_at >= event.starts_at)
    else:
        stmt = stmt.where(Event.ends_at > now)
    return list(db.session.scalars(stmt))


def update_occurrences(
    event: Event, f: EventFields, scope: str, *, now: datetime,
) -> list[Event]:
    """Edit one occurrence, this and the following ones, or the whole series.

    For several occurrences the change of local time of day and duration is
    applied to each (the date stays), and everything is checked before any
    change is saved.
    """
    if scope == Scope.ONE or event.series_id is None:
        update_event(event, f, now=now)
        return [event]
    tenant = event_tenant(event)
    _check_shape(tenant, f)
    targets = series_events(event, scope, now=now)
    zone = tenant.timezone
    new_start_local = recurrence.utc_to_local(f.starts_at, zone)
    duration = f.ends_at - f.starts_at
    target_ids = {e.id for e in targets}
    planned: list[tuple[Event, EventFields]] = []
    problems: list[str] = []
    for target in targets:
        day = recurrence.utc_to_local(target.starts_at, zone).date()
        starts_at = recurrence.local_to_utc(datetime.combine(day, new_start_local.time()), zone)
        fields = _shifted(f, starts_at, starts_at + duration)
        found = problems_for(tenant, fields, exclude_event_ids=target_ids) + _participant_problems(target, fields)
        problems += [f"{_when(starts_at)} : {p}" for p in found]
        planned.append((target, fields))
    if problems:
        raise ConflictList(problems)
    series = event.series
    if scope == Scope.FOLLOWING and targets and targets[0].id != _first_event_id(event.series_id):
        series = _split_series(event, targets, now=now)
    for target, fields in planned:
        if _significant_change(target, fields):
            target.sequence += 1
        _apply(target, fields)
        target.updated_at = now
        target.is_exception = False
        db.session.flush()
        _write_bookings(target, fields.kit_ids)
    if series is not None:
        series.dtstart_local = datetime.combine(series.dtstart_local.date(), new_start_local.time())
        series.duration_minutes = int(duration.total_seconds() // 60)
        series.updated_at = now
        series.sequence += 1
    db.session.flush()
    return targets


def _first_event_id(series_id: int) -> int | None:
    return db.session.scalars(
        select(Event.id).where(Event.series_id == series_id).order_by(Event.starts_at).limit(1)
    ).first()


def _split_series(event: Event, following: list[Event], *, now: datetime) -> EventSeries:
    """"This and following": end the old series before ``event`` and start a
    new one (its own UID) with the following occurrences."""
    old = event.series
    assert old is not None
    start_local = recurrence.utc_to_local(event.starts_at, old.timezone)
    rule_parts = [p for p in old.rrule.split(";") if not p.startswith(("UNTIL=", "COUNT="))]
    # The new series ends where the old one did: the same UNTIL, or as many
    # dates of the rule as were left (skipped and cancelled ones count in an
    # RRULE's COUNT too, so not just the occurrences that move).
    end = next((p for p in old.rrule.split(";") if p.startswith("UNTIL=")), None)
    if end is None:
        left = sum(1 for s in recurrence.expand(old.rrule, old.dtstart_local) if s.date() >= start_local.date())
        end = f"COUNT={left or len(following)}"
    last = (start_local - timedelta(days=1)).date()
    old.rrule = ";".join(rule_parts + [f"UNTIL={last:%Y%m%d}T235959"])
    old.updated_at, old.sequence = now, old.sequence + 1
    new = EventSeries(
        tenant_id=old.tenant_id, uid=new_uid(), rrule=";".join(rule_parts + [end]),
        dtstart_local=start_local, duration_minutes=old.duration_minutes, timezone=old.timezone,
        skipped_dates=[d for d in old.skipped_dates if d >= start_local.date().isoformat()],
        created_at=now, updated_at=now,
    )
    db.session.add(new)
    db.session.flush()
    for occurrence in following:
        occurrence.series_id = new.id
    db.session.flush()
    return new


def cancel_occurrences(event: Event, scope: str, *, now: datetime) -> tuple[list[Event], list[Enrolment]]:
    """Cancel one occurrence, this and the following ones, or the rest of the series."""
    events = series_events(event, scope, now=now)
    if not events or all(e.is_cancelled for e in events):
        raise Conflict(_l("Cet événement est déjà annulé."))
    enrolments: list[Enrolment] = []
    for target in events:
        if not target.is_cancelled:
            enrolments += cancel_event(target, now=now)
    return events, enrolments


def under_staffed_shifts(tenant: Tenant, *, now: datetime, days: int = 14) -> list[tuple[Event, int]]:
    """Shifts of the coming ``days`` with fewer confirmed volunteers than needed."""
    from sqlalchemy import func

    confirmed = (
        select(Enrolment.event_id, func.count(Enrolment.id).label("n"))
        .where(Enrolment.tenant_id == tenant.id, Enrolment.status == EnrolmentStatus.CONFIRMED)
        .group_by(Enrolment.event_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Event, func.coalesce(confirmed.c.n, 0))
        .outerjoin(confirmed, confirmed.c.event_id == Event.id)
        .where(
            Event.tenant_id == tenant.id, Event.kind == EventKind.SHIFT, Event.status == EventStatus.SCHEDULED,
            Event.starts_at >= now, Event.starts_at < now + timedelta(days=days),
            func.coalesce(confirmed.c.n, 0) < Event.capacity,
        )
        .order_by(Event.starts_at)
    ).all()
    return [(event, n) for event, n in rows]


def local_day_bounds(day: date, zone: str) -> tuple[datetime, datetime]:
    start = recurrence.local_to_utc(datetime.combine(day, datetime.min.time()), zone)
    end = recurrence.local_to_utc(datetime.combine(day + timedelta(days=1), datetime.min.time()), zone)
    return start, end




# --- resources: rooms, opening hours, closures, kits -----------------------------------------
# (the coordinator's resource pages; each raises ValidationFailed on a field or
# NotFound for another structure's site or room, and changes nothing then)

from datetime import time
from itertools import pairwise

from volunteer_platform.scheduling.models import Equipment, OpeningHours
from volunteer_platform.tenants.models import Site


def _name_taken(names: list[str], name: str) -> bool:
    """Names compare without case (and without the difference between ß and ss):
    "Salle informatique" and "SALLE INFORMATIQUE" are the same room to people."""
    wanted = name.casefold()
    return any(other.casefold() == wanted for other in names)


MAX_ROOM_CAPACITY = 1000  # more is a typing mistake (and no integer column holds any number)


def _room_fields(
    tenant: Tenant, room: Room | None, *, site_id: int, name: str, capacity: int, equipment: list[str],
) -> tuple[int, str, int, list[str]]:
    site = get_in_tenant(Site, site_id, tenant)
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_l("Indiquez le nom de la salle."), field="name")
    if len(name) > 200:
        raise ValidationFailed(_l("Le nom compte au plus 200 caractères."), field="name")
    if capacity is None or capacity < 1:
        raise ValidationFailed(_l("La salle doit avoir au moins 1 place."), field="capacity")
    if capacity > MAX_ROOM_CAPACITY:
        raise ValidationFailed(_l("Une salle compte au plus %(n)s places.", n=MAX_ROOM_CAPACITY), field="capacity")
    unknown = [e for e in equipment if e not in Equipment._value2member_map_]
    if unknown:
        raise ValidationFailed(_l("Équipement inconnu."), field="equipment")
    stmt = select(Room.name).where(Room.tenant_id == tenant.id, Room.site_id == site.id)
    if room is not None:
        stmt = stmt.where(Room.id != room.id)
    if _name_taken(list(db.session.scalars(stmt)), name):
        raise ValidationFailed(_l("Ce lieu a déjà une salle nommée « %(name)s ».", name=name), field="name")
    # Keep the order of the list of equipment, whatever the order of the form.
    ordered = [e.value for e in Equipment if e.value in set(equipment)]
    return site.id, name, capacity, ordered


def _flush_named(field_name: str, message: object) -> None:
    """Flush; a unique-name violation (two people saving at once) becomes a field error."""
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise ValidationFailed(message, field=field_name) from None  # type: ignore[arg-type]


def create_room(
    tenant: Tenant, *, site_id: int, name: str, capacity: int, equipment: list[str], is_active: bool = True,
) -> Room:
    """Add a room to one of the structure's sites.

    Rules: the site is the structure's (NotFound otherwise); a name; at least
    one place and at most MAX_ROOM_CAPACITY; known equipment; no other room of that site with the same name
    (case-insensitive). Raises ValidationFailed on the field at fault.
    """
    site_id, name, capacity, equipment = _room_fields(
        tenant, None, site_id=site_id, name=name, capacity=capacity, equipment=equipment)
    room = Room(tenant_id=tenant.id, site_id=site_id, name=name, capacity=capacity, equipment=equipment,
                is_active=is_active)
    db.session.add(room)
    _flush_named("name", _l("Ce lieu a déjà une salle nommée « %(name)s ».", name=name))
    return room


def update_room(
    room: Room, *, site_id: int, name: str, capacity: int, equipment: list[str], is_active: bool,
) -> None:
    """Edit a room, with the rules of ``create_room``. Events already planned keep
    their room; the agenda checks capacity and hours again when they are edited."""
    tenant = db.session.get(Tenant, room.tenant_id)
    site_id, name, capacity, equipment = _room_fields(
        tenant, room, site_id=site_id, name=name, capacity=capacity, equipment=equipment)
    room.site_id, room.name, room.capacity, room.equipment = site_id, name, capacity, equipment
    room.is_active = is_active
    _flush_named("name", _l("Ce lieu a déjà une salle nommée « %(name)s ».", name=name))


def set_opening_hours(room: Room, intervals: list[tuple[int, time, time]]) -> None:
    """Replace a room's opening hours with ``intervals`` (weekday 0 = Monday,
    local opening and closing times). A weekday without interval is closed;
    no interval at all means the room is always open.

    Rules: weekday 0–6; opening before closing; the intervals of one day do not
    overlap (back-to-back is fine). Raises ValidationFailed (field "hours",
    the message names the day) and changes nothing.
    """
    days = [_l("lundi"), _l("mardi"), _l("mercredi"), _l("jeudi"), _l("vendredi"), _l("samedi"), _l("dimanche")]
    by_day: dict[int, list[tuple[time, time]]] = {}
    for weekday, opens_at, closes_at in intervals:
        if weekday not in range(7):
            raise ValueError(f"weekday {weekday} is not 0-6")
        if not opens_at < closes_at:
            raise ValidationFailed(_l("Le %(day)s, l'heure de fermeture doit être après l'heure d'ouverture.",
                                      day=days[weekday]), field="hours")
        by_day.setdefault(weekday, []).append((opens_at, closes_at))
    for weekday, day_intervals in by_day.items():
        day_intervals.sort()
        for (_opens1, closes1), (opens2, _closes2) in pairwise(day_intervals):
            if opens2 < closes1:
                raise ValidationFailed(_l("Le %(day)s, les plages horaires se chevauchent.", day=days[weekday]),
                                       field="hours")
    room.opening_hours = [
        OpeningHours(weekday=weekday, opens_at=opens_at, closes_at=closes_at)
        for weekday in sorted(by_day) for opens_at, closes_at in by_day[weekday]
    ]
    db.session.flush()


def create_closure(
    tenant: Tenant, *, site_id: int | None = None, room_id: int | None = None, starts_on: date, ends_on: date,
    reason: str,
) -> Closure:
    """Close a whole site or one room from ``starts_on`` to ``ends_on`` inclusive.

    Rules: exactly one of site and room, the structure's own (NotFound
    otherwise); the first day not after the last; a reason. Raises
    ValidationFailed on the field at fault. Events already planned then are
    not cancelled: the agenda shows the closure as a problem when they are edited.
    """
    if (site_id is None) == (room_id is None):
        raise ValidationFailed(_l("Choisissez un lieu entier ou une seule salle."), field="place")
    if site_id is not None:
        get_in_tenant(Site, site_id, tenant)
    else:
        get_in_tenant(Room, room_id, tenant)
    if ends_on < starts_on:
        raise ValidationFailed(_l("Le dernier jour doit être le même jour que le premier, ou après."),
                               field="ends_on")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_l("Indiquez la raison de la fermeture."), field="reason")
    if len(reason) > 200:
        raise ValidationFailed(_l("La raison compte au plus 200 caractères."), field="reason")
    same = db.session.scalars(select(Closure).where(
        Closure.tenant_id == tenant.id, Closure.site_id == site_id, Closure.room_id == room_id,  # None: IS NULL
        Closure.starts_on == starts_on, Closure.ends_on == ends_on, Closure.reason == reason,
    ).limit(1)).first()
    if same is not None:  # the form sent twice (a double click, a reload): it takes effect once
        return same
    closure = Closure(tenant_id=tenant.id, site_id=site_id, room_id=room_id, starts_on=starts_on,
                      ends_on=ends_on, reason=reason)
    db.session.add(closure)
    db.session.flush()
    return closure


def delete_closure(closure: Closure) -> None:
    """Remove a closure (the site or room is open again on those days)."""
    db.session.delete(closure)
    db.session.flush()


def _kit_fields(tenant: Tenant, kit: Kit | None, *, name: str, description: str | None) -> tuple[str, str | None]:
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_l("Indiquez le nom du matériel."), field="name")
    if len(name) > 200:
        raise ValidationFailed(_l("Le nom compte au plus 200 caractères."), field="name")
    stmt = select(Kit.name).where(Kit.tenant_id == tenant.id)
    if kit is not None:
        stmt = stmt.where(Kit.id != kit.id)
    if _name_taken(list(db.session.scalars(stmt)), name):
        raise ValidationFailed(_l("La structure a déjà du matériel nommé « %(name)s ».", name=name), field="name")
    return name, (description or "").strip() or None


def create_kit(tenant: Tenant, *, name: str, description: str | None = None, is_active: bool = True) -> Kit:
    """Add equipment that travels. Rule: a name not used by another kit of the
    structure (case-insensitive). Raises ValidationFailed on "name"."""
    name, description = _kit_fields(tenant, None, name=name, description=description)
    kit = Kit(tenant_id=tenant.id, name=name, description=description, is_active=is_active)
    db.session.add(kit)
    _flush_named("name", _l("La structure a déjà du matériel nommé « %(name)s ».", name=name))
    return kit


def update_kit(kit: Kit, *, name: str, description: str | None, is_active: bool) -> None:
    """Edit a kit, with the rules of ``create_kit``."""
    tenant = db.session.get(Tenant, kit.tenant_id)
    kit.name, kit.description = _kit_fields(tenant, kit, name=name, description=description)
    kit.is_active = is_active
    _flush_named("name", _l("La structure a déjà du matériel nommé « %(name)s ».", name=kit.name))


# --- agenda reads (agenda helper) ----------------------------------------------------------


def agenda_events(
    tenant: Tenant, *, start: datetime, end: datetime, site_id: int | None = None, room_id: int | None = None,
    trainer_id: int | None = None,
) -> list[tuple[Event, int]]:
    """The structure's events starting in [start, end), cancelled ones
    included, by start time, each with its number of confirmed places.

    Filters: the room's site, the room, the trainer. One query whatever the
    number of events: their counts, rooms, sites and trainers are joined
    (each a many-to-one: one row per event).
    """
    from sqlalchemy import and_, func
    from sqlalchemy.orm import joinedload

    confirmed = (
        select(Enrolment.event_id, func.count(Enrolment.id).label("n"))
        .where(Enrolment.tenant_id == tenant.id, Enrolment.status == EnrolmentStatus.CONFIRMED)
        .group_by(Enrolment.event_id)
        .subquery()
    )
    stmt = (
        select(Event, func.coalesce(confirmed.c.n, 0))
        .outerjoin(confirmed, confirmed.c.event_id == Event.id)
        .where(Event.tenant_id == tenant.id, Event.starts_at >= start, Event.starts_at < end)
        .options(joinedload(Event.room).joinedload(Room.site), joinedload(Event.trainer))
        .order_by(Event.starts_at, Event.id)
    )
    if site_id is not None:
        stmt = stmt.join(Room, and_(Room.id == Event.room_id, Room.tenant_id == Event.tenant_id)).where(
            Room.site_id == site_id
        )
    if room_id is not None:
        stmt = stmt.where(Event.room_id == room_id)
    if trainer_id is not None:
        stmt = stmt.where(Event.trainer_id == trainer_id)
    return [(event, int(n)) for event, n in db.session.execute(stmt).all()]


@dataclass
class Commitment:
    """One of a person's commitments: an event they are confirmed on or lead."""

    event: Event
    tenant: Tenant
    is_trainer: bool


def commitments_of(user: User, *, start: datetime, end: datetime) -> list[Commitment]:
    """The person's scheduled events overlapping [start, end) in every active
    structure where they are an active member: confirmed places and sessions
    they lead. By start time; one query (events with their structure, room
    and site joined) whatever their number."""
    from sqlalchemy import and_, or_
    from sqlalchemy.orm import joinedload

    enrolled = select(Enrolment.event_id).where(
        Enrolment.user_id == user.id, Enrolment.status == EnrolmentStatus.CONFIRMED
    )
    rows = db.session.execute(
        select(Event, Tenant)
        .join(Tenant, Tenant.id == Event.tenant_id)
        .join(Membership, and_(Membership.tenant_id == Event.tenant_id, Membership.user_id == user.id))
        .where(
            Tenant.is_active.is_(True), Membership.is_active.is_(True),
            Event.status == EventStatus.SCHEDULED, Event.ends_at > start, Event.starts_at < end,
            or_(Event.trainer_id == user.id, Event.id.in_(enrolled)),
        )
        .options(joinedload(Event.room).joinedload(Room.site))
        .order_by(Event.starts_at, Event.id)
    ).all()
    return [Commitment(event, tenant, event.trainer_id == user.id) for event, tenant in rows]


# --- external busy times (calendars imported from elsewhere, see calendars/external.py) --------------


def _busy_span(starts_at: datetime, ends_at: datetime, zone: str) -> str:
    """When a busy time is, in words: the day and both times, or both ends in full over several days."""
    from flask_babel import format_time

    if recurrence.utc_to_local(starts_at, zone).date() == recurrence.utc_to_local(ends_at, zone).date():
        return str(_l("%(day)s, %(start)s–%(end)s", day=format_datetime(starts_at, "EEEE d MMMM y"),
                      start=format_time(starts_at, "HH:mm"), end=format_time(ends_at, "HH:mm")))
    return f"{_when(starts_at)} – {_when(ends_at)}"


def _external_busy_problems_each(tenant: Tenant, occurrences: list[EventFields],
                                 room: Room | None = None) -> list[list[str]]:
    """For each occurrence (sharing room and trainer), the busy times imported
    from the room's or the trainer's external calendars that overlap it, one
    problem each (only their times are known). A trainer's busy times count in
    every structure, as their bookings do. Read once for the whole span."""
    from volunteer_platform.calendars import external

    problems: list[list[str]] = [[] for _f in occurrences]
    if not occurrences:
        return problems
    first, zone = occurrences[0], tenant.timezone
    span_start = min(f.starts_at for f in occurrences)
    span_end = max(f.ends_at for f in occurrences)
    if first.room_id is not None:
        room = room if room is not None and room.id == first.room_id else get_in_tenant(Room, first.room_id, tenant)
        busy = [(b, b.starts_at, b.ends_at) for b in external.room_busy(tenant, room.id, span_start, span_end)]
        for f, found in zip(occurrences, problems, strict=True):
            for _b, start, end in _during(busy, f):
                found.append(str(_l("La salle « %(room)s » est occupée selon son calendrier externe (%(when)s).",
                                    room=room.name, when=_busy_span(start, end, zone))))
    if first.trainer_id is not None:
        busy = [(b, b.starts_at, b.ends_at) for b in external.person_busy(first.trainer_id, span_start, span_end)]
        for f, found in zip(occurrences, problems, strict=True):
            for _b, start, end in _during(busy, f):
                found.append(str(_l("Le formateur ou la formatrice est occupé(e) selon son calendrier externe "
                                    "(%(when)s).", when=_busy_span(start, end, zone))))
    return problems
