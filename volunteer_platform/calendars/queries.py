"""What each feed contains, read in one query whatever its size.

Every feed is "the events matching a condition": a structure's public
workshops, a room's events, a person's commitments… ``feed_rows`` loads them
with their structure, room, site and series in a single SELECT (joins, no lazy
loading afterwards), so a feed of 5 events and one of 5,000 cost the same
number of queries.

Which rows: events that ended less than ``HISTORY`` ago (calendar apps keep
some past) and every occurrence of a series that still has one in that span
(a series is sent whole, as one RRULE); cancelled events only during the 30
days after their cancellation. Both spans are counted from the start of the
day (UTC), so that a feed's rows change with the data and the day, never with
the time of day (a feed's version, see ``stamps``, holds for the whole day).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import aliased

from volunteer_platform.auth.models import User
from volunteer_platform.calendars.models import CalendarFeedState, CalendarToken
from volunteer_platform.extensions import db
from volunteer_platform.scheduling.models import (
    Enrolment,
    EnrolmentStatus,
    Event,
    EventKind,
    EventSeries,
    EventStatus,
    Room,
)
from volunteer_platform.tenants.models import Membership, Site, Tenant

HISTORY = timedelta(days=90)
CANCELLED_KEPT = timedelta(days=30)


@dataclass
class FeedRow:
    event: Event
    tenant: Tenant
    room: Room | None
    site: Site | None
    series: EventSeries | None
    enrolment: Enrolment | None = None  # the reader's place (personal feed)


def feed_rows(match: ColumnElement[bool], *, now: datetime, enrolments_of: int | None = None) -> list[FeedRow]:
    """The events matching ``match`` (a condition on ``Event`` only) that a feed
    shows, by start time, in one query. ``enrolments_of``: also load that
    person's enrolment on each event."""
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    past = today - HISTORY
    series_with_recent = (
        select(Event.series_id)
        .where(match, Event.series_id.is_not(None), Event.ends_at > past)
        .correlate(None)
    )
    shown = or_(
        Event.status == EventStatus.SCHEDULED,
        Event.cancelled_at > today - CANCELLED_KEPT,
    )
    entities: list = [Event, Tenant, Room, Site, EventSeries]
    stmt = (
        select(*entities)
        .join(Tenant, Tenant.id == Event.tenant_id)
        .outerjoin(Room, and_(Room.id == Event.room_id, Room.tenant_id == Event.tenant_id))
        .outerjoin(Site, and_(Site.id == Room.site_id, Site.tenant_id == Room.tenant_id))
        .outerjoin(EventSeries, and_(EventSeries.id == Event.series_id, EventSeries.tenant_id == Event.tenant_id))
        .where(
            Tenant.is_active.is_(True),
            match,
            shown,
            or_(
                and_(Event.series_id.is_(None), Event.ends_at > past),
                Event.series_id.in_(series_with_recent),
            ),
        )
        .order_by(Event.starts_at, Event.id)
    )
    if enrolments_of is not None:
        stmt = stmt.add_columns(Enrolment).outerjoin(
            Enrolment, and_(Enrolment.event_id == Event.id, Enrolment.user_id == enrolments_of)
        )
    rows = []
    for row in db.session.execute(stmt).all():
        enrolment = row[5] if enrolments_of is not None else None
        rows.append(FeedRow(row[0], row[1], row[2], row[3], row[4], enrolment))
    return rows


# --- the conditions ------------------------------------------------------------------------------


def public_workshops(tenant: Tenant, *, site_id: int | None = None) -> ColumnElement[bool]:
    """A structure's public agenda: its workshops ("ateliers numériques"), nothing else."""
    condition = and_(Event.tenant_id == tenant.id, Event.kind == EventKind.WORKSHOP)
    if site_id is not None:
        condition = and_(condition, _at_site(tenant, site_id))
    return condition


def structure_events(
    tenant: Tenant, *, site_id: int | None = None, room_id: int | None = None, trainer_id: int | None = None,
) -> ColumnElement[bool]:
    """Everything in a structure's agenda (members' feeds), optionally one site, room or trainer."""
    condition = Event.tenant_id == tenant.id
    if site_id is not None:
        condition = and_(condition, _at_site(tenant, site_id))
    if room_id is not None:
        condition = and_(condition, Event.room_id == room_id)
    if trainer_id is not None:
        condition = and_(condition, Event.trainer_id == trainer_id)
    return condition


def _at_site(tenant: Tenant, site_id: int) -> ColumnElement[bool]:
    rooms = select(Room.id).where(Room.tenant_id == tenant.id, Room.site_id == site_id)
    return Event.room_id.in_(rooms)


def all_structures() -> ColumnElement[bool]:
    """Association staff: every structure's agenda (active structures only, see ``feed_rows``)."""
    return Event.id.is_not(None)


def commitments(user: User) -> ColumnElement[bool]:
    """A person's commitments in the structures where they are an active member:
    sessions they lead and places confirmed — also places that were confirmed
    when the event itself was cancelled (so the cancellation reaches their
    calendar), but not places they gave up themselves."""
    cancelled_event = aliased(Event)
    places = (
        select(Enrolment.event_id)
        .join(cancelled_event, cancelled_event.id == Enrolment.event_id)
        .where(
            Enrolment.user_id == user.id,
            or_(
                Enrolment.status == EnrolmentStatus.CONFIRMED,
                and_(
                    Enrolment.status == EnrolmentStatus.CANCELLED,
                    Enrolment.confirmed_at.is_not(None),
                    cancelled_event.status == EventStatus.CANCELLED,
                    Enrolment.cancelled_at >= cancelled_event.cancelled_at,
                ),
            ),
        )
    )
    structures = select(Membership.tenant_id).where(
        Membership.user_id == user.id, Membership.is_active.is_(True)
    )
    return and_(
        Event.tenant_id.in_(structures),
        or_(Event.trainer_id == user.id, Event.id.in_(places)),
    )


# --- tokens and feed states ----------------------------------------------------------------------


def token_of(user: User) -> CalendarToken | None:
    return db.session.scalars(select(CalendarToken).where(CalendarToken.user_id == user.id)).one_or_none()


def user_by_token_hash(token_hash: str) -> User | None:
    """The active person whose feed token has this hash (one query)."""
    return db.session.scalars(
        select(User)
        .join(CalendarToken, CalendarToken.user_id == User.id)
        .where(CalendarToken.token_hash == token_hash, User.is_active.is_(True))
    ).one_or_none()


def feed_state(key: str) -> CalendarFeedState | None:
    return db.session.get(CalendarFeedState, key)
