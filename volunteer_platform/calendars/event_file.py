"""One event as an .ics file: the "add to my calendar" download and the
attachment of confirmation and cancellation e-mails.

The file is written by the same builders as the feeds (``services.event_item``
for the content, ``ical.build_event_file`` for the bytes) and carries the
event's identity in the feeds: UID, RECURRENCE-ID for a series' occurrence,
SEQUENCE. Calendar apps match events by that identity, so the download, the
confirmation's attachment and the cancellation's all update one event in the
calendar they are imported into instead of adding copies. (Most apps keep a
subscribed feed as a calendar of its own: someone who also subscribes sees
the event in both calendars, as one event with one identity, and a
cancellation reaches both.)

An occurrence of a series is sent as that single occurrence, not as the whole
series: a VEVENT with the series' UID and a RECURRENCE-ID (the rule's start
that day, in the series' zone), which is exactly how the feeds identify it,
as an instance of their RRULE or as an override. That is how iTIP (RFC 5546)
sends one instance to someone who takes part in that instance only (CalDAV
servers store such instances without their master), and it is what the
person signed up for: one date. The whole series would put every week in
their calendar. Its SEQUENCE is the one the feeds give an override (the
higher of the event's and the series'), so a later cancellation (both go up)
always replaces it. An occurrence the feeds send apart from its series
(moved off the rule's dates) keeps its own UID, as there.

Nothing here reads the request: the caller gives the event's address and
who reads (their own place and role are mentioned in the description, as in
their personal feed), and sets the language with ``force_locale``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace

from sqlalchemy import and_, select

from volunteer_platform.calendars import ical, services
from volunteer_platform.calendars.queries import FeedRow
from volunteer_platform.calendars.services import FeedSpec
from volunteer_platform.extensions import db
from volunteer_platform.scheduling import recurrence
from volunteer_platform.scheduling.models import Enrolment, Event, EventSeries, Room
from volunteer_platform.tenants.models import Site, Tenant

CONTENT_TYPE = "text/calendar"  # the outbox's attachment type (the charset is UTF-8 by RFC 5545)
HTTP_CONTENT_TYPE = "text/calendar; charset=utf-8"


@dataclass(frozen=True)
class EventFile:
    filename: str
    content: bytes

    def attachment(self) -> dict[str, str]:
        """As ``notifications.services.queue_email`` takes attachments."""
        return {"filename": self.filename, "content_type": CONTENT_TYPE, "content": self.content.decode("utf-8")}


def event_row(event: Event, *, reader_id: int | None = None) -> FeedRow:
    """The event with its structure, room, site, series (and the reader's
    place) in one query, as a feed reads it — whatever its date or status."""
    stmt = (
        select(Event, Tenant, Room, Site, EventSeries)
        .join(Tenant, Tenant.id == Event.tenant_id)
        .outerjoin(Room, and_(Room.id == Event.room_id, Room.tenant_id == Event.tenant_id))
        .outerjoin(Site, and_(Site.id == Room.site_id, Site.tenant_id == Room.tenant_id))
        .outerjoin(EventSeries, and_(EventSeries.id == Event.series_id, EventSeries.tenant_id == Event.tenant_id))
        .where(Event.id == event.id)
    )
    if reader_id is not None:
        stmt = stmt.add_columns(Enrolment).outerjoin(
            Enrolment, and_(Enrolment.event_id == Event.id, Enrolment.user_id == reader_id)
        )
    row = db.session.execute(stmt).one()
    return FeedRow(row[0], row[1], row[2], row[3], row[4], row[5] if reader_id is not None else None)


def file_item(row: FeedRow, spec: FeedSpec) -> ical.CalendarEvent:
    """The event as the feeds identify it (see the module docstring)."""
    item = services.event_item(row, spec)
    series = row.series
    if series is None:
        return item
    original = row.event.recurrence_local or item.start
    slots, _rule = services._slots(series)  # the dates the feeds' RRULE gives, within the same limits
    slot = next((s for s in slots if s.date() == original.date()), None)
    if slot is None:  # outside the rule: the feeds send it as an event of its own
        return item
    return replace(item, uid=series.uid, recurrence_id=slot, timezone=series.timezone,
                   sequence=max(item.sequence, series.sequence))


def slug(text: str, *, limit: int = 60) -> str:
    """"Atelier : mes démarches CAF" -> "atelier-mes-demarches-caf" (ASCII, for a file name)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return words[:limit].rstrip("-") or "evenement"


def filename_of(event: Event, zone: str) -> str:
    """"<slug of the title>-<local date>.ics"."""
    day = recurrence.utc_to_local(event.starts_at, zone).date()
    return f"{slug(event.title)}-{day.isoformat()}.ics"


def event_file(event: Event, *, event_url: str | None = None, reader_id: int | None = None) -> EventFile:
    """The .ics of one event (METHOD:PUBLISH; STATUS:CANCELLED once cancelled).

    ``event_url``: the absolute address of the event's page (URL property),
    or None; ``reader_id``: the person the file is for (their place or their
    role as trainer is said in the description).
    """
    row = event_row(event, reader_id=reader_id)
    zone = row.series.timezone if row.series is not None else row.tenant.timezone
    spec = FeedSpec(name=row.tenant.name, timezone=zone, reader_id=reader_id,
                    event_url=(lambda _slug, _id: event_url) if event_url else None)
    return EventFile(filename_of(row.event, zone), ical.build_event_file(file_item(row, spec)))
