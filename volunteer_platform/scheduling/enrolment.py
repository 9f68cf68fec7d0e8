"""Signing up for sessions and shifts: capacity, waitlist, rules of the
structure, qualification gating; attendance and hours given.

Capacity holds under simultaneous sign-ups: the event row is locked
(``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite the write lock is taken at
BEGIN) before counting the confirmed places, and each confirmed place books
"person:<id>" so the exclusion constraint also refuses overlapping
commitments of one person across structures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from volunteer_platform.auth.models import User
from volunteer_platform.errors import Conflict, Forbidden, ValidationFailed
from volunteer_platform.extensions import db
from volunteer_platform.notifications.services import queue_templated_email
from volunteer_platform.scheduling.models import (
    Attendance,
    Booking,
    Enrolment,
    EnrolmentStatus,
    Event,
    EventKind,
    EventStatus,
    SchedulingSettings,
)
from volunteer_platform.scheduling.services import _overlapping, event_tenant, flush_bookings
from volunteer_platform.signals import attendance_marked
from volunteer_platform.tenants.models import Membership, Tenant
from volunteer_platform.training import queries as training_queries
from volunteer_platform.training import services as training_services
from volunteer_platform.training.models import Module, Path, Qualification

ENROLLABLE = (EventKind.TRAINING_SESSION, EventKind.SHIFT, EventKind.WORKSHOP)


class CapacityReached(Conflict):
    """The event is full (and the waitlist was not asked for)."""


def settings_for(tenant: Tenant) -> SchedulingSettings:
    settings = db.session.get(SchedulingSettings, tenant.id)
    return settings or SchedulingSettings(tenant_id=tenant.id, signup_horizon_days=60,
                                          cancellation_deadline_hours=24)


def update_settings(tenant: Tenant, *, signup_horizon_days: int, cancellation_deadline_hours: int) -> None:
    if not 1 <= signup_horizon_days <= 366:
        raise ValidationFailed(_l("Entre 1 et 366 jours."), field="signup_horizon_days")
    if not 0 <= cancellation_deadline_hours <= 24 * 14:
        raise ValidationFailed(_l("Entre 0 et 336 heures."), field="cancellation_deadline_hours")
    settings = db.session.get(SchedulingSettings, tenant.id)
    if settings is None:
        settings = SchedulingSettings(tenant_id=tenant.id)
        db.session.add(settings)
    settings.signup_horizon_days = signup_horizon_days
    settings.cancellation_deadline_hours = cancellation_deadline_hours
    db.session.flush()


def _lock_event(event: Event) -> Event:
    """Re-read the event with a row lock (PostgreSQL) so counts cannot race."""
    return db.session.scalars(
        select(Event).where(Event.id == event.id).with_for_update().execution_options(populate_existing=True)
    ).one()


def confirmed_count(event: Event) -> int:
    return db.session.scalar(
        select(func.count(Enrolment.id)).where(Enrolment.event_id == event.id,
                                               Enrolment.status == EnrolmentStatus.CONFIRMED)
    ) or 0


def modules_granting(qualification_id: int, tenant: Tenant) -> list[str]:
    """Titles of the published modules (current versions) that grant a qualification."""
    versions = training_queries.published_catalogue(tenant)
    titles = [v.title for v in versions if v.qualification_id == qualification_id]
    paths = db.session.scalars(
        training_queries.visible(Path, tenant).where(Path.qualification_id == qualification_id)
    ).all()
    return titles + [p.title for p in paths]


def check_qualified(user: User, event: Event, tenant: Tenant) -> None:
    """A shift requiring a qualification needs it valid for the whole shift."""
    if event.required_qualification_id is None:
        return
    if training_queries.holds_qualification(user.id, event.required_qualification_id, event.ends_at):
        return
    qualification = db.session.get(Qualification, event.required_qualification_id)
    where = modules_granting(event.required_qualification_id, tenant)
    if where:
        raise Forbidden(_l("Il faut la qualification « %(q)s », valable à la date de la permanence. "
                           "Vous pouvez l'obtenir avec : %(modules)s.", q=qualification.name,
                           modules=", ".join(where)))
    raise Forbidden(_l("Il faut la qualification « %(q)s », valable à la date de la permanence.",
                       q=qualification.name))


def _active_member(user: User, tenant: Tenant) -> bool:
    return db.session.scalars(
        select(Membership.id).where(Membership.tenant_id == tenant.id, Membership.user_id == user.id,
                                    Membership.is_active.is_(True))
    ).first() is not None


def _book_person(enrolment: Enrolment, event: Event) -> None:
    db.session.add(Booking(event_id=event.id, enrolment_id=enrolment.id, resource=f"person:{enrolment.user_id}",
                           starts_at=event.starts_at, ends_at=event.ends_at))
    flush_bookings()


def _busy_elsewhere(user: User, event: Event) -> bool:
    return bool(_overlapping(f"person:{user.id}", event.starts_at, event.ends_at, {event.id}))


def enrol(
    event: Event, user: User, *, now: datetime, waitlist: bool = True, by_coordinator: bool = False,
    base_url: str = "",
) -> Enrolment:
    """Sign ``user`` up for ``event``: a confirmed place if one is free, else
    the waitlist (or CapacityReached when ``waitlist`` is False).

    Refused (Conflict/Forbidden, nothing saved): cancelled or past event,
    beyond the structure's sign-up horizon (unless a coordinator enrols),
    not a member, already signed up, another commitment at the same time,
    missing qualification.
    """
    tenant = event_tenant(event)
    event = _lock_event(event)
    if event.kind not in ENROLLABLE or not event.capacity:
        raise Conflict(_l("On ne s'inscrit pas à cet événement."))
    if event.status is EventStatus.CANCELLED:
        raise Conflict(_l("Cet événement est annulé."))
    if event.starts_at <= now:
        raise Conflict(_l("Cet événement a déjà commencé."))
    settings = settings_for(tenant)
    if not by_coordinator and event.starts_at > now + timedelta(days=settings.signup_horizon_days):
        raise Conflict(_l("Les inscriptions ouvrent %(days)s jours avant la date.", days=settings.signup_horizon_days))
    if not _active_member(user, tenant):
        raise Forbidden(_l("Cette personne n'est pas membre de la structure."))
    enrolment = db.session.scalars(
        select(Enrolment).where(Enrolment.event_id == event.id, Enrolment.user_id == user.id)
    ).one_or_none()
    if enrolment is not None and enrolment.status is not EnrolmentStatus.CANCELLED:
        raise Conflict(_l("Vous êtes déjà inscrit(e).") if not by_coordinator
                       else _l("Cette personne est déjà inscrite."))
    check_qualified(user, event, tenant)
    if _busy_elsewhere(user, event):
        raise Conflict(_l("Vous avez déjà un engagement à ce moment-là.") if not by_coordinator
                       else _l("Cette personne a déjà un engagement à ce moment-là."))
    full = confirmed_count(event) >= event.capacity
    if full and not waitlist:
        raise CapacityReached(_l("C'est complet."))
    if enrolment is None:
        enrolment = Enrolment(tenant_id=tenant.id, event_id=event.id, user_id=user.id)
        db.session.add(enrolment)
    enrolment.created_at = now
    enrolment.cancelled_at = None
    enrolment.cancelled_late = False
    enrolment.cancelled_by_id = None
    enrolment.status = EnrolmentStatus.WAITLISTED if full else EnrolmentStatus.CONFIRMED
    enrolment.confirmed_at = None if full else now
    db.session.flush()
    if not full:
        _book_person(enrolment, event)
    _notify(enrolment, event, "enrolment_confirmed" if not full else "enrolment_waitlisted",
            now=now, base_url=base_url)
    return enrolment


def cancel(
    enrolment: Enrolment, *, now: datetime, by: User, as_coordinator: bool = False, base_url: str = "",
) -> Enrolment | None:
    """Cancel a place. After the structure's deadline only a coordinator may,
    and the cancellation is recorded as late. The first person on the
    waitlist who can come gets the freed seat (returned), with an e-mail."""
    event = _lock_event(enrolment.event)
    if enrolment.status is EnrolmentStatus.CANCELLED:
        raise Conflict(_l("Cette inscription est déjà annulée."))
    if event.ends_at <= now:
        raise Conflict(_l("Cet événement est passé."))
    deadline = event.starts_at - timedelta(hours=settings_for(event_tenant(event)).cancellation_deadline_hours)
    late = now > deadline
    if late and not as_coordinator and enrolment.status is EnrolmentStatus.CONFIRMED:
        raise Forbidden(_l("Il est trop tard pour annuler en ligne : prévenez la personne qui coordonne "
                           "votre structure."))
    was_confirmed = enrolment.status is EnrolmentStatus.CONFIRMED
    enrolment.status = EnrolmentStatus.CANCELLED
    enrolment.cancelled_at = now
    enrolment.cancelled_late = late and was_confirmed
    enrolment.cancelled_by_id = by.id
    db.session.execute(update(Booking).where(Booking.enrolment_id == enrolment.id).values(is_active=False))
    db.session.flush()
    if was_confirmed:
        return promote_waitlist(event, now=now, base_url=base_url)
    return None


def promote_waitlist(event: Event, *, now: datetime, base_url: str = "") -> Enrolment | None:
    """Give free seats to the waitlist, first come first served, skipping
    people who meanwhile got another commitment or lost the qualification."""
    tenant = event_tenant(event)
    promoted = None
    while confirmed_count(event) < (event.capacity or 0) and event.starts_at > now:
        candidates = db.session.scalars(
            select(Enrolment).where(Enrolment.event_id == event.id, Enrolment.status == EnrolmentStatus.WAITLISTED)
            .order_by(Enrolment.created_at, Enrolment.id)
        ).all()
        chosen = None
        for candidate in candidates:
            try:
                check_qualified(candidate.user, event, tenant)
            except Forbidden:
                continue
            if not _busy_elsewhere(candidate.user, event):
                chosen = candidate
                break
        if chosen is None:
            break
        chosen.status = EnrolmentStatus.CONFIRMED
        chosen.confirmed_at = now
        db.session.flush()
        _book_person(chosen, event)
        _notify(chosen, event, "seat_offered", now=now, base_url=base_url)
        promoted = promoted or chosen
    return promoted


def notify_event_cancelled(enrolments: list[Enrolment], *, now: datetime, base_url: str = "") -> None:
    for enrolment in enrolments:
        _notify(enrolment, enrolment.event, "event_cancelled", now=now, base_url=base_url)


def _notify(enrolment: Enrolment, event: Event, template: str, *, now: datetime, base_url: str) -> None:
    user = enrolment.user
    tenant = event_tenant(event)
    link = f"{base_url}/{tenant.slug}/agenda/events/{event.id}"
    queue_templated_email(
        user.email, template, locale=user.locale or "fr", now=now, user=user, event=event, tenant=tenant,
        link=link, attachments=calendar_attachments(enrolment, event, template, locale=user.locale or "fr",
                                                    event_url=link if base_url else None),
    )


def mark_attendance(enrolment: Enrolment, attendance: Attendance, *, by: User, now: datetime) -> None:
    """Record who came. Attending a training session satisfies its module's
    in-person requirement."""
    event = enrolment.event
    if event.starts_at > now:
        raise Conflict(_l("On note les présences une fois l'événement commencé."))
    if enrolment.status is not EnrolmentStatus.CONFIRMED:
        raise Conflict(_l("Cette personne n'était pas inscrite."))
    enrolment.attendance = Attendance(attendance)
    enrolment.attendance_marked_by_id = by.id
    db.session.flush()
    if enrolment.attendance is Attendance.PRESENT and event.kind is EventKind.TRAINING_SESSION and event.module_id:
        module = db.session.get(Module, event.module_id)
        tenant = event_tenant(event)
        local_day = event.starts_at.astimezone(ZoneInfo(tenant.timezone)).date()  # not the UTC date
        training_services.record_attendance(
            tenant, enrolment.user, module, attended_on=local_day, recorded_by=by, now=now
        )
    attendance_marked.send(enrolment, now=now)


@dataclass
class Hours:
    shifts: float
    sessions_attended: float
    sessions_given: float

    @property
    def total(self) -> float:
        return self.shifts + self.sessions_attended + self.sessions_given


def hours_given(user: User, *, start: datetime, end: datetime, tenant: Tenant | None = None) -> Hours:
    """Hours from attended shifts and sessions, and sessions given as trainer, in [start, end)."""
    duration = _duration_expression()
    attended = (
        select(Event.kind, func.coalesce(func.sum(duration), 0))
        .join(Enrolment, Enrolment.event_id == Event.id)
        .where(Enrolment.user_id == user.id, Enrolment.attendance == Attendance.PRESENT,
               Event.status == EventStatus.SCHEDULED, Event.starts_at >= start, Event.starts_at < end)
        .group_by(Event.kind)
    )
    given = select(func.coalesce(func.sum(duration), 0)).where(
        Event.trainer_id == user.id, Event.status == EventStatus.SCHEDULED, Event.kind == EventKind.TRAINING_SESSION,
        Event.starts_at >= start, Event.ends_at <= end,
    )
    if tenant is not None:
        attended = attended.where(Event.tenant_id == tenant.id)
        given = given.where(Event.tenant_id == tenant.id)
    by_kind = {kind: float(seconds) / 3600 for kind, seconds in db.session.execute(attended)}
    return Hours(
        shifts=by_kind.get(EventKind.SHIFT, 0.0) + by_kind.get(EventKind.WORKSHOP, 0.0),
        sessions_attended=by_kind.get(EventKind.TRAINING_SESSION, 0.0),
        sessions_given=float(db.session.scalar(given) or 0) / 3600,
    )


def _duration_expression():
    """Seconds between starts_at and ends_at, in SQL, on both databases."""
    if db.engine.dialect.name == "postgresql":
        return func.extract("epoch", Event.ends_at - Event.starts_at)
    return (func.julianday(Event.ends_at) - func.julianday(Event.starts_at)) * 86400.0


def reminders_due(*, now: datetime) -> list[Enrolment]:
    """Confirmed places on events starting within the next 24 hours, not reminded yet."""
    return list(db.session.scalars(
        select(Enrolment).join(Event, Event.id == Enrolment.event_id)
        .where(Enrolment.status == EnrolmentStatus.CONFIRMED, Enrolment.reminder_sent_at.is_(None),
               Event.status == EventStatus.SCHEDULED, Event.starts_at > now,
               Event.starts_at <= now + timedelta(hours=24))
        .order_by(Event.starts_at)
    ))


# --- reads for the enrolment pages (appended by the enrolment helper) ------------------------
# Each loads what a page shows in a fixed number of queries, whatever the number of events.


def cancellation_deadline(event: Event, settings: SchedulingSettings) -> datetime:
    """After this moment a confirmed place is cancelled only through the coordinator (see ``cancel``)."""
    return event.starts_at - timedelta(hours=settings.cancellation_deadline_hours)


def signup_opens_at(event: Event, settings: SchedulingSettings) -> datetime:
    """Before this moment a volunteer cannot sign up yet (see ``enrol``)."""
    return event.starts_at - timedelta(days=settings.signup_horizon_days)


@dataclass
class EventPlaces:
    """An event with its number of confirmed and waitlisted people."""

    event: Event
    confirmed: int
    waitlisted: int

    @property
    def places_left(self) -> int:
        return max((self.event.capacity or 0) - self.confirmed, 0)

    @property
    def is_full(self) -> bool:
        return self.places_left == 0


def places_of(events: list[Event]) -> list[EventPlaces]:
    """Confirmed and waitlisted counts of ``events``, in one query."""
    counts: dict[tuple[int, EnrolmentStatus], int] = {}
    if events:
        rows = db.session.execute(
            select(Enrolment.event_id, Enrolment.status, func.count(Enrolment.id))
            .where(Enrolment.event_id.in_([e.id for e in events]),
                   Enrolment.status.in_([EnrolmentStatus.CONFIRMED, EnrolmentStatus.WAITLISTED]))
            .group_by(Enrolment.event_id, Enrolment.status)
        )
        counts = {(event_id, EnrolmentStatus(status)): n for event_id, status, n in rows}
    return [EventPlaces(e, counts.get((e.id, EnrolmentStatus.CONFIRMED), 0),
                        counts.get((e.id, EnrolmentStatus.WAITLISTED), 0)) for e in events]


def open_event_keys(
    tenant: Tenant, *, now: datetime, start: datetime, end: datetime, site_id: int | None = None,
    kind: EventKind | None = None, limit: int = 200,
) -> list[Any]:
    """Scheduled sessions, workshops and shifts taking sign-ups, starting in
    [start, end) and not started yet, soonest first: only their id, required
    qualification and end (rows with those attributes), so that a page can
    filter them by qualification and cut them into pages before loading the
    few it shows (``open_events_by_id``)."""
    from sqlalchemy import and_

    from volunteer_platform.scheduling.models import Room

    stmt = (
        select(Event.id, Event.required_qualification_id, Event.ends_at)
        .where(Event.tenant_id == tenant.id, Event.status == EventStatus.SCHEDULED,
               Event.kind.in_([kind] if kind is not None else list(ENROLLABLE)),
               Event.capacity.is_not(None), Event.starts_at > now, Event.starts_at >= start,
               Event.starts_at < end)
        .order_by(Event.starts_at, Event.id)
        .limit(limit)
    )
    if site_id is not None:
        stmt = stmt.join(Room, and_(Room.id == Event.room_id, Room.tenant_id == Event.tenant_id)).where(
            Room.site_id == site_id)
    return list(db.session.execute(stmt))


def open_events_by_id(tenant: Tenant, event_ids: list[int]) -> list[EventPlaces]:
    """The events ``event_ids`` of the structure, in that order, with their
    places; room and site loaded with them (two queries in all)."""
    from sqlalchemy.orm import joinedload

    from volunteer_platform.scheduling.models import Room

    if not event_ids:
        return []
    events = {e.id: e for e in db.session.scalars(
        select(Event).where(Event.tenant_id == tenant.id, Event.id.in_(event_ids))
        .options(joinedload(Event.room).joinedload(Room.site))
    )}
    return places_of([events[i] for i in event_ids if i in events])


def qualified_event_ids(user_id: int, events: list[Event]) -> set[int]:
    """The events among ``events`` the person may take as far as qualifications
    go: none required, or the required one held at the event's end.

    The same rule as ``training.queries.holds_qualification`` (valid, not
    withdrawn, awarded before and not expired at that moment), with one query
    for the person's awards instead of one per event.
    """
    from volunteer_platform.training.models import QualificationAward

    needed = {e.required_qualification_id for e in events if e.required_qualification_id is not None}
    awards: list[tuple[int, datetime, datetime | None]] = []
    if needed:
        awards = [tuple(row) for row in db.session.execute(
            select(QualificationAward.qualification_id, QualificationAward.awarded_at, QualificationAward.expires_at)
            .where(QualificationAward.user_id == user_id, QualificationAward.withdrawn_at.is_(None),
                   QualificationAward.qualification_id.in_(needed))
        )]

    def holds(qualification_id: int, at: datetime) -> bool:
        return any(q == qualification_id and awarded_at <= at and (expires_at is None or expires_at > at)
                   for q, awarded_at, expires_at in awards)

    return {e.id for e in events
            if e.required_qualification_id is None or holds(e.required_qualification_id, e.ends_at)}


def active_enrolments_of(user_id: int, event_ids: list[int]) -> dict[int, Enrolment]:
    """The person's confirmed or waitlisted place on each of ``event_ids`` (by event id)."""
    if not event_ids:
        return {}
    return {e.event_id: e for e in db.session.scalars(
        select(Enrolment).where(Enrolment.user_id == user_id, Enrolment.event_id.in_(event_ids),
                                Enrolment.status.in_([EnrolmentStatus.CONFIRMED, EnrolmentStatus.WAITLISTED]))
    )}


def waitlist_positions(event_ids: list[int]) -> dict[int, int]:
    """Position (1 = next to get a seat) of every waitlisted enrolment of
    ``event_ids``, by enrolment id, in the order ``promote_waitlist`` follows."""
    if not event_ids:
        return {}
    position = func.row_number().over(partition_by=Enrolment.event_id,
                                      order_by=(Enrolment.created_at, Enrolment.id))
    rows = db.session.execute(
        select(Enrolment.id, position)
        .where(Enrolment.event_id.in_(event_ids), Enrolment.status == EnrolmentStatus.WAITLISTED)
    )
    return {enrolment_id: int(n) for enrolment_id, n in rows}


def participants_of(event: Event) -> tuple[list[Enrolment], list[Enrolment]]:
    """(confirmed places by name, waitlist in order) with their people, in two queries."""
    from sqlalchemy.orm import selectinload

    enrolments = list(db.session.scalars(
        select(Enrolment)
        .where(Enrolment.event_id == event.id,
               Enrolment.status.in_([EnrolmentStatus.CONFIRMED, EnrolmentStatus.WAITLISTED]))
        .options(selectinload(Enrolment.user))
        .order_by(Enrolment.created_at, Enrolment.id)
    ))
    confirmed = sorted((e for e in enrolments if e.status is EnrolmentStatus.CONFIRMED),
                       key=lambda e: e.user.full_name.casefold())
    waitlist = [e for e in enrolments if e.status is EnrolmentStatus.WAITLISTED]
    return confirmed, waitlist


def commitments_of(
    user: User, tenant: Tenant, *, now: datetime, past_since: datetime, past_limit: int = 50,
) -> tuple[list[Enrolment], list[Enrolment]]:
    """A person's places in one structure: (upcoming or under way, confirmed or
    waitlisted, soonest first; past confirmed places since ``past_since``,
    latest first), events, rooms and sites loaded."""
    from sqlalchemy.orm import contains_eager

    from volunteer_platform.scheduling.models import Room

    def base():
        return (
            select(Enrolment)
            .join(Enrolment.event)
            .where(Enrolment.tenant_id == tenant.id, Enrolment.user_id == user.id,
                   Event.status == EventStatus.SCHEDULED)
            .options(contains_eager(Enrolment.event).selectinload(Event.room).selectinload(Room.site))
        )

    upcoming = list(db.session.scalars(
        base().where(Enrolment.status.in_([EnrolmentStatus.CONFIRMED, EnrolmentStatus.WAITLISTED]),
                     Event.ends_at > now)
        .order_by(Event.starts_at, Event.id)
    ))
    past = list(db.session.scalars(
        base().where(Enrolment.status == EnrolmentStatus.CONFIRMED, Event.ends_at <= now,
                     Event.starts_at >= past_since)
        .order_by(Event.starts_at.desc(), Event.id.desc())
        .limit(past_limit)
    ))
    return upcoming, past


# --- the event's .ics attached to e-mails (appended for issue 5) -------------------------------


def calendar_attachments(
    enrolment: Enrolment, event: Event, template: str, *, locale: str, event_url: str | None,
) -> list[dict[str, str]] | None:
    """The event's .ics for the e-mails that put it in, or take it out of,
    the person's calendar (see ``calendars.event_file``):

    - a confirmed place ("enrolment_confirmed") or a seat from the waitlist
      ("seat_offered"): the event, METHOD:PUBLISH;
    - a cancelled event ("event_cancelled") for people who had a confirmed
      place, hence the file: the same UID with STATUS:CANCELLED and a higher
      SEQUENCE, so the calendar app updates its copy.

    None otherwise (the waitlist: no place yet, nothing to put in a calendar).
    PUBLISH rather than REQUEST: a REQUEST would make mail clients treat the
    file as a meeting invitation from us, with answers to send back.
    """
    if template == "event_cancelled":
        if enrolment.confirmed_at is None:
            return None
    elif template not in ("enrolment_confirmed", "seat_offered"):
        return None
    from flask_babel import force_locale

    from volunteer_platform.calendars.event_file import event_file

    with force_locale(locale):
        ics = event_file(event, event_url=event_url, reader_id=enrolment.user_id)
    return [ics.attachment()]
