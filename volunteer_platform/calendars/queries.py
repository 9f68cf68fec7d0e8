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

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, func, literal, or_, select
from sqlalchemy.orm import aliased

from volunteer_platform.auth.models import User
from volunteer_platform.calendars.models import CalendarFeedState, CalendarStamp, CalendarToken
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


# --- what a poll reads before the events ----------------------------------------------------------


@dataclass
class Probe:
    """A structure's feed as a poll first sees it (``probe``)."""

    tenant: Tenant
    stamp: int  # its change stamp (``stamps``)
    reader: User | None = None  # the token's owner (private feeds)
    is_member: bool = False  # … an active member of the structure
    target: Any = None  # the site, room or trainer membership of the structure, if asked and found
    target_user: User | None = None  # the trainer (a membership's person)


@functools.cache
def _probe_statement(with_token: bool, target: type | None) -> Select:
    """``probe``'s statement for one shape of feed, built once: a poll is
    short enough that building the expression each time would show."""
    target_alias = aliased(target) if target is not None else None
    stmt = (
        select(Tenant, func.coalesce(CalendarStamp.version, 0))
        .outerjoin(CalendarStamp, CalendarStamp.tenant_id == Tenant.id)
        .where(Tenant.slug == bindparam("slug"), Tenant.is_active.is_(True))
    )
    if with_token:
        stmt = (
            stmt.add_columns(User, Membership.id)
            .join(CalendarToken, CalendarToken.token_hash == bindparam("token_hash"))
            .join(User, and_(User.id == CalendarToken.user_id, User.is_active.is_(True)))
            .outerjoin(Membership, and_(Membership.tenant_id == Tenant.id, Membership.user_id == User.id,
                                        Membership.is_active.is_(True)))
        )
    if target_alias is not None:
        stmt = stmt.add_columns(target_alias).outerjoin(
            target_alias, and_(target_alias.tenant_id == Tenant.id, target_alias.id == bindparam("target_id")))
        if target is Membership:
            person = aliased(User)
            stmt = stmt.add_columns(person).outerjoin(person, person.id == target_alias.user_id)
    return stmt


def probe(slug: str, *, token_hash: str | None = None, target: type | None = None,
          target_id: int | None = None) -> Probe | None:
    """In one query: the active structure ``slug`` and its change stamp; with
    ``token_hash``, the active person holding that token and whether they are
    an active member; with ``target``, the structure's ``target`` row
    ``target_id`` (a Site, Room or Membership — and a membership's person).
    None when the structure, or the token's person, is not found."""
    stmt = _probe_statement(token_hash is not None, target)
    row = db.session.execute(stmt, {"slug": slug, "token_hash": token_hash, "target_id": target_id}).first()
    if row is None:
        return None
    found = Probe(tenant=row[0], stamp=row[1])
    rest = list(row[2:])
    if token_hash is not None:
        found.reader, found.is_member = rest[0], rest[1] is not None
        rest = rest[2:]
    if target is not None:
        found.target = rest[0]
        found.target_user = rest[1] if target is Membership else None
    return found


@functools.cache
def _reader_statement(own_structures: bool, network: bool) -> Select:
    stmt = (
        select(User)
        .join(CalendarToken, CalendarToken.user_id == User.id)
        .where(CalendarToken.token_hash == bindparam("token_hash"), User.is_active.is_(True))
    )
    if own_structures:
        stmt = (
            stmt.add_columns(Membership.tenant_id, func.coalesce(CalendarStamp.version, 0))
            .outerjoin(Membership, and_(Membership.user_id == User.id, Membership.is_active.is_(True)))
            .outerjoin(CalendarStamp, CalendarStamp.tenant_id == Membership.tenant_id)
            .order_by(Membership.tenant_id)
        )
    elif network:
        stamps = select(func.count(), func.coalesce(func.sum(CalendarStamp.version), 0),
                        func.max(CalendarStamp.tenant_id)).subquery()
        stmt = stmt.add_columns(*stamps.c).join(stamps, literal(True))
    return stmt


def reader_probe(token_hash: str, *, own_structures: bool = False,
                 network: bool = False) -> tuple[User | None, tuple]:
    """In one query: the active person holding the token and the change
    stamps a feed of theirs depends on — ``own_structures``: (structure id,
    stamp) of each structure they are an active member of; ``network``: the
    count, sum and highest structure id of every stamp (stamps are random
    48-bit numbers: their sum changes whenever one is renewed, the count and
    the highest id when a structure is added or deleted). (None, ()) for an
    unknown token."""
    rows = db.session.execute(_reader_statement(own_structures, network), {"token_hash": token_hash}).all()
    if not rows:
        return None, ()
    if own_structures:
        return rows[0][0], tuple((row[1], row[2]) for row in rows if row[1] is not None)
    return rows[0][0], tuple(rows[0][1:])


# --- tokens and feed states ----------------------------------------------------------------------


def token_of(user: User) -> CalendarToken | None:
    return db.session.scalars(select(CalendarToken).where(CalendarToken.user_id == user.id)).one_or_none()


def feed_state(key: str) -> CalendarFeedState | None:
    return db.session.get(CalendarFeedState, key)
