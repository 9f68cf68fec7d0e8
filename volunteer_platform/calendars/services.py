"""Calendar feeds: the secret feed tokens, and turning events into feed data.

Rules:
- a person has at most one feed token; it opens all their private feeds and
  only what they may see when the feed is read (membership, role, staff);
- the token has 256 random bits and is never stored: only its SHA-256 (to
  find it) and the random key it is derived from with the application's
  secret (see ``models.CalendarToken``);
- feed data are built from the database only (UIDs, SEQUENCE and change times
  are the rows'), so that the same data give the same bytes; a series is
  sent as one recurring event (``series_items``);
- a feed shows no other person's name or contact: "who to contact" is the
  structure's own address and phone.

No Flask request here: the view passes the secret key, the clock and a
function that makes an event's address.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path

from dateutil.rrule import rrulestr
from flask_babel import gettext as _

from volunteer_platform.auth.models import User
from volunteer_platform.auth.services import hash_token
from volunteer_platform.calendars import ical, queries
from volunteer_platform.calendars.models import CalendarFeedState, CalendarToken
from volunteer_platform.calendars.queries import FeedRow
from volunteer_platform.extensions import db
from volunteer_platform.scheduling import recurrence
from volunteer_platform.scheduling.models import EnrolmentStatus, EventSeries, EventStatus

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")


# --- tokens -------------------------------------------------------------------------------------


def _derive(key: str, secret_key: str) -> str:
    digest = hmac.new(secret_key.encode(), f"calendar-feed:{key}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def issue_token(user: User, *, secret_key: str, now: datetime) -> str:
    """Give ``user`` a new feed token (replacing any previous one: its
    addresses stop working) and return it."""
    key = secrets.token_hex(32)
    token = _derive(key, secret_key)
    row = queries.token_of(user)
    if row is None:
        row = CalendarToken(user_id=user.id)
        db.session.add(row)
    row.key, row.token_hash, row.created_at = key, hash_token(token), now
    db.session.flush()
    return token


def revoke_token(user: User) -> bool:
    """Delete ``user``'s feed token: every private feed address stops working.
    Returns whether there was one."""
    row = queries.token_of(user)
    if row is None:
        return False
    db.session.delete(row)
    db.session.flush()
    return True


def current_token(user: User, *, secret_key: str) -> str | None:
    """``user``'s working feed token, or None (none issued, or issued under
    another secret key: then it must be regenerated)."""
    row = queries.token_of(user)
    if row is None:
        return None
    token = _derive(row.key, secret_key)
    return token if hmac.compare_digest(hash_token(token), row.token_hash) else None


def token_hash(token: str) -> str | None:
    """How a well-formed feed token is looked up (None for anything else)."""
    return hash_token(token) if TOKEN_RE.match(token or "") else None


def user_for_token(token: str) -> User | None:
    """The active person this feed token belongs to; None for anything else."""
    hashed = token_hash(token)
    return None if hashed is None else queries.reader_probe(hashed)[0]


# --- feed states (ETag and Last-Modified) ---------------------------------------------------------


def etag_of(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:40]


def feed_changed_at(key: str, etag: str, *, version: str | None = None, now: datetime) -> datetime:
    """When feed ``key`` started sending the bytes whose hash is ``etag``
    (and note that they are those of ``version``).

    Recorded the first time new bytes are seen, one second at least after
    the previous change, so a client holding an older copy never gets a 304.
    """
    state = queries.feed_state(key)
    if state is not None and state.etag == etag:
        if state.version != version:
            state.version = version
            db.session.flush()
        return state.changed_at
    changed_at = now.replace(microsecond=0)
    if state is None:
        db.session.add(CalendarFeedState(key=key, etag=etag, changed_at=changed_at, version=version))
    else:
        changed_at = max(changed_at, state.changed_at + timedelta(seconds=1))
        state.etag, state.changed_at, state.version = etag, changed_at, version
    db.session.flush()
    return changed_at


# --- feed data ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedSpec:
    """What a feed is, beyond its events."""

    name: str
    timezone: str
    description: str = ""
    event_url: Callable[[str, int], str] | None = None  # (structure slug, event id) -> address
    reader_id: int | None = None  # a personal feed: say whether they lead or take part
    show_structure: bool = False  # several structures: name each event's


def _location(row: FeedRow) -> str:
    parts = []
    if row.room is not None:
        parts.append(row.room.name)
    if row.site is not None:
        parts += [row.site.name, row.site.full_address]
    return ", ".join(parts)


def _description(row: FeedRow, spec: FeedSpec) -> str:
    event, tenant = row.event, row.tenant
    blocks = []
    if event.status is EventStatus.CANCELLED:
        blocks.append(_("Cet événement est annulé."))
    if event.description:
        blocks.append(event.description)
    if event.what_to_bring:
        blocks.append(_("À apporter : %(what)s", what=event.what_to_bring))
    if row.site is not None and row.site.access_notes:
        blocks.append(_("Accès : %(notes)s", notes=row.site.access_notes))
    if spec.reader_id is not None:
        if event.trainer_id == spec.reader_id:
            blocks.append(_("Vous animez cette séance."))
        elif row.enrolment is not None and row.enrolment.status is EnrolmentStatus.CONFIRMED:
            blocks.append(_("Vous êtes inscrit(e)."))
        elif row.enrolment is not None:  # a place cancelled with the event
            blocks.append(_("Vous étiez inscrit(e)."))
    contact = " — ".join(x for x in (tenant.name, tenant.contact_email, tenant.contact_phone) if x)
    blocks.append(_("Contact : %(contact)s", contact=contact))
    return "\n\n".join(blocks)


def _summary(row: FeedRow, spec: FeedSpec) -> str:
    title = row.event.title
    if spec.show_structure:
        title = f"{title} ({row.tenant.name})"
    if row.event.status is EventStatus.CANCELLED:
        title = _("Annulé : %(title)s", title=title)
    return title


def _changed_at(row: FeedRow) -> datetime:
    """The last change of what the row shows: the event, or the reader's own place."""
    moments = [row.event.updated_at]
    if row.enrolment is not None:
        moments += [m for m in (row.enrolment.created_at, row.enrolment.confirmed_at,
                                row.enrolment.cancelled_at) if m is not None]
    return max(moments)


def _zone(row: FeedRow) -> str:
    return row.series.timezone if row.series is not None else row.tenant.timezone


def event_item(row: FeedRow, spec: FeedSpec) -> ical.CalendarEvent:
    """One event as it appears in a feed (in its structure's time zone)."""
    event, zone = row.event, _zone(row)
    return ical.CalendarEvent(
        uid=event.uid,
        summary=_summary(row, spec),
        start=recurrence.utc_to_local(event.starts_at, zone),
        end=recurrence.utc_to_local(event.ends_at, zone),
        timezone=zone,
        changed_at=_changed_at(row),
        sequence=event.sequence,
        is_cancelled=event.status is EventStatus.CANCELLED,
        created_at=event.created_at,
        location=_location(row),
        description=_description(row, spec),
        url=spec.event_url(row.tenant.slug, event.id) if spec.event_url else None,
        categories=(event.kind.label,),
    )


def _slots(series: EventSeries) -> tuple[list[datetime], str]:
    """The series' local starts as its rule gives them (skipped dates
    included), within the limits the scheduling domain expands to, and the
    rule to publish: the stored one, or — when the stored rule goes further
    than those limits (no events exist there) — one that ends at the last slot."""
    limit = series.dtstart_local + recurrence.MAX_SPAN
    slots = []
    truncated = False
    for start in rrulestr(f"RRULE:{series.rrule}", dtstart=series.dtstart_local):
        if start > limit or len(slots) >= recurrence.MAX_OCCURRENCES:
            truncated = True
            break
        slots.append(start)
    rule = series.rrule
    if truncated and slots:
        parts = [p for p in series.rrule.split(";") if not p.upper().startswith(("UNTIL=", "COUNT="))]
        rule = ";".join(parts + [f"UNTIL={slots[-1]:%Y%m%dT%H%M%S}"])
    return slots, rule


def _shape(item: ical.CalendarEvent) -> tuple:
    """What calendar apps show of an occurrence (its address aside)."""
    return (item.summary, item.start, item.end, item.location, item.description, item.categories,
            item.is_cancelled)


def series_items(
    series: EventSeries, rows: list[FeedRow], spec: FeedSpec,
) -> tuple[ical.CalendarSeries | None, list[ical.CalendarEvent]]:
    """A series as one recurring event, plus occurrences that fall outside its rule.

    - the master event has the series' UID, first start and rule; it shows
      what most occurrences are (the first occurrence still planned at the
      series' time of day);
    - a date of the rule without a planned occurrence in this feed (skipped,
      cancelled, moved to another room for a room's feed…) is an EXDATE;
    - an occurrence that differs from the master (edited apart: time, room,
      title…) is an override with RECURRENCE-ID = the rule's start that day;
    - when every occurrence in the feed is cancelled, the master itself is
      sent with STATUS:CANCELLED.
    Returns (None, events) when nothing of the series is left to send.
    """
    zone = series.timezone
    duration = timedelta(minutes=series.duration_minutes)
    slots, rule = _slots(series)
    slot_by_day = {slot.date(): slot for slot in slots}
    planned = [r for r in rows if r.event.status is EventStatus.SCHEDULED]
    cancelled = [r for r in rows if r.event.status is EventStatus.CANCELLED]

    def in_rule(row: FeedRow) -> bool:
        original = row.event.recurrence_local or recurrence.utc_to_local(row.event.starts_at, zone)
        return original.date() in slot_by_day

    # A cancelled occurrence on a date of the rule becomes an EXDATE; one
    # outside it (after a split series) is sent as a cancelled event of its own.
    loose = [event_item(r, spec) for r in cancelled if not in_rule(r)]
    by_day: dict[date, tuple[FeedRow, ical.CalendarEvent]] = {}
    for row in planned:
        item = event_item(row, spec)
        original = row.event.recurrence_local or item.start
        if original.date() in slot_by_day and original.date() not in by_day:
            by_day[original.date()] = (row, item)
        else:  # outside the rule (e.g. after a split series): an event of its own
            loose.append(item)
    last_change = max([series.updated_at, *(_changed_at(r) for r in rows)])
    sequence = series.sequence

    if not by_day:
        gone = [r for r in cancelled if in_rule(r)]
        if not gone:
            return None, loose
        template = event_item(gone[0], spec)
        master = replace(
            template, uid=series.uid, start=series.dtstart_local, end=series.dtstart_local + duration,
            timezone=zone, changed_at=last_change, sequence=max(sequence, template.sequence),
            created_at=series.created_at,
        )
        return ical.CalendarSeries(master=master, rrule=rule, last_start=slots[-1] if slots else None), loose

    on_time = [
        (row, item) for day, (row, item) in sorted(by_day.items())
        if item.start == slot_by_day[day] and item.end - item.start == duration
    ]
    _row, template = on_time[0] if on_time else by_day[min(by_day)]
    master = replace(
        template, uid=series.uid, start=series.dtstart_local, end=series.dtstart_local + duration,
        timezone=zone, changed_at=last_change, sequence=sequence, created_at=series.created_at,
    )
    exdates = []
    overrides = []
    for slot in slots:
        found = by_day.get(slot.date())
        if found is None:
            exdates.append(slot)
            continue
        row, item = found
        expected = replace(master, start=slot, end=slot + duration)
        if row.event.is_exception or _shape(item) != _shape(expected):
            overrides.append(replace(
                item, uid=series.uid, recurrence_id=slot, timezone=zone,
                sequence=max(item.sequence, sequence),
            ))
    return ical.CalendarSeries(
        master=master, rrule=rule, exdates=tuple(exdates), overrides=tuple(overrides),
        last_start=slots[-1] if slots else None,
    ), loose


def build_feed(rows: list[FeedRow], spec: FeedSpec) -> ical.CalendarFeed:
    """The feed's data: single events as they are, series as recurring events."""
    events: list[ical.CalendarEvent] = []
    groups: dict[int, tuple[EventSeries, list[FeedRow]]] = {}
    for row in rows:
        if row.series is None:
            events.append(event_item(row, spec))
        else:
            groups.setdefault(row.series.id, (row.series, []))[1].append(row)
    all_series = []
    for series, members in groups.values():
        item, loose = series_items(series, members, spec)
        if item is not None:
            all_series.append(item)
        events += loose
    return ical.CalendarFeed(
        name=spec.name, timezone=spec.timezone, description=spec.description,
        events=tuple(events), series=tuple(all_series),
    )


# Building a feed of thousands of events takes the icalendar library about a
# second, and every subscriber polls every hour: each process keeps the last
# bytes of its recent feeds with the version they were built for
# (``feed_version``), and builds again only when the version changes. Once
# those bytes are recorded in ``CalendarFeedState`` the entry also keeps when
# they were first sent, so a full poll of them (calendar apps that never send
# If-None-Match) answers without a second statement.
_CACHE_BYTES = 32 * 1024 * 1024


@dataclass
class CachedFeed:
    version: str
    body: bytes
    changed_at: datetime | None = None  # Last-Modified, once recorded for ``version``


_cache: OrderedDict[str, CachedFeed] = OrderedDict()
_cache_size = 0  # bytes held
_cache_lock = threading.Lock()

#: Raise when a release changes how feeds are written from the same data, so
#: that no client keeps its old copy (a 304) until the next change of data.
FEED_FORMAT = 2


@functools.cache
def _catalogue_digest() -> str:
    """The compiled translations: a new catalogue changes the feeds' words."""
    digest = hashlib.sha256()
    for path in sorted((Path(__file__).parent.parent / "translations").glob("*/LC_MESSAGES/*.mo")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def feed_version(key: str, spec: FeedSpec, stamps: tuple, *, day: date, base_url: str) -> str:
    """Everything a feed's bytes are made from, but its events: its key (which
    events, in which language), its description, the change stamps of the
    structures it shows (``stamps``), the day (its window moves daily) and the
    release. Equal versions give equal bytes."""
    material = (FEED_FORMAT, _catalogue_digest(), key, spec.name, spec.timezone, spec.description, spec.reader_id,
                spec.show_structure, base_url if spec.event_url else None, day.isoformat(), stamps)
    return hashlib.sha256(repr(material).encode()).hexdigest()[:40]


def cached_feed(cache_key: str, version: str) -> CachedFeed | None:
    """What this process last built for ``cache_key``, if built for ``version``."""
    with _cache_lock:
        cached = _cache.get(cache_key)
        if cached is None or cached.version != version:
            return None
        _cache.move_to_end(cache_key)
        return cached


def keep_feed(cache_key: str, version: str, body: bytes, changed_at: datetime | None = None) -> None:
    """Keep ``body`` as the bytes of ``version``; ``changed_at`` only once it
    is recorded (``feed_changed_at`` committed): the same version always has
    the same bytes, so their recorded date holds while the version does."""
    global _cache_size
    with _cache_lock:
        previous = _cache.pop(cache_key, None)
        if previous is not None:
            _cache_size -= len(previous.body)
        _cache[cache_key] = CachedFeed(version, body, changed_at)
        _cache_size += len(body)
        while _cache_size > _CACHE_BYTES and len(_cache) > 1:
            _key, dropped = _cache.popitem(last=False)
            _cache_size -= len(dropped.body)


def forget_feeds() -> None:
    """Empty this process's cache (what another worker would start with)."""
    global _cache_size
    with _cache_lock:
        _cache.clear()
        _cache_size = 0


def feed_bytes(rows: list[FeedRow], spec: FeedSpec) -> bytes:
    """The feed as bytes."""
    return ical.build_calendar(build_feed(rows, spec))
