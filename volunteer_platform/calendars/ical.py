"""iCalendar (RFC 5545) documents built from plain data — pure functions.

Nothing here reads the database, the clock or the request: the same feed
data always gives the same bytes, which is what lets calendar apps (and our
ETag) see that nothing changed. Everything time-related comes from the data:

- UID, SEQUENCE, DTSTAMP and LAST-MODIFIED are the database's (the last change),
  never "now" nor a random UID per request (the icalendar library's ``new()``
  helpers would do that by default, so they are not used);
- times are local times with a TZID (never floating, never converted to UTC),
  and every TZID used gets a VTIMEZONE;
- a series is one VEVENT with an RRULE (its UNTIL in UTC, as RFC 5545 requires
  with a TZID), EXDATEs for removed occurrences and RECURRENCE-ID overrides
  for edited ones, all in the zone of its DTSTART.

The VTIMEZONE is generated here from the zoneinfo transitions rather than by
``Timezone.from_tzid``: icalendar 7 writes the spring onset at the wall-clock
time *after* the change (03:00 for Europe/Paris) while RFC 5545 reads DTSTART
in the TZOFFSETFROM offset (02:00), which puts the change one hour late.
``tests/calendars/test_ical.py`` compares ours with zoneinfo every half hour.

CRLF line endings, escaping and line folding are left to the library.
"""

from __future__ import annotations

import calendar as _calendar
import functools
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Timezone, TimezoneDaylight, TimezoneStandard, vDuration, vRecur
from icalendar import Event as VEvent

PRODID = "-//Aidants numériques//Agendas//FR"
REFRESH = timedelta(hours=1)
WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
EMPTY_FEED_YEAR = 2020


@dataclass(frozen=True)
class CalendarEvent:
    """One VEVENT. ``start``/``end`` (and ``recurrence_id``) are naive local
    times in ``timezone``; ``changed_at`` is the aware UTC time of the last
    change, written as DTSTAMP and LAST-MODIFIED."""

    uid: str
    summary: str
    start: datetime
    end: datetime
    timezone: str
    changed_at: datetime
    sequence: int = 0
    is_cancelled: bool = False
    created_at: datetime | None = None
    location: str = ""
    description: str = ""
    url: str | None = None
    categories: tuple[str, ...] = ()
    recurrence_id: datetime | None = None  # an override: the original start of the occurrence


@dataclass(frozen=True)
class CalendarSeries:
    """A recurring event: the master (its start is the series' first start),
    the rule as stored (UNTIL in local time), the removed occurrences and the
    edited ones (each with ``recurrence_id`` set)."""

    master: CalendarEvent
    rrule: str
    exdates: tuple[datetime, ...] = ()
    overrides: tuple[CalendarEvent, ...] = ()
    last_start: datetime | None = None  # the last occurrence (local), for the VTIMEZONE's span


@dataclass(frozen=True)
class CalendarFeed:
    name: str
    timezone: str  # X-WR-TIMEZONE: the zone the calendar is "in"
    events: tuple[CalendarEvent, ...] = ()
    series: tuple[CalendarSeries, ...] = ()
    description: str = ""
    url: str | None = None
    refresh: timedelta = field(default=REFRESH)


# --- recurrence rules ---------------------------------------------------------------------------


def rrule_for_export(rrule: str, zone: str) -> str:
    """The stored rule with its UNTIL moved to UTC ("...Z").

    The scheduling domain writes UNTIL as the local end of the last day
    ("20261231T235959") because it expands with a naive local DTSTART; RFC 5545
    wants UTC whenever DTSTART has a TZID. A date-only UNTIL means the end of
    that local day. COUNT and the other parts are kept as they are.
    """
    parts = []
    for part in rrule.split(";"):
        name, _, value = part.partition("=")
        if name.upper() == "UNTIL" and not value.endswith("Z"):
            if "T" in value:
                local = datetime.strptime(value, "%Y%m%dT%H%M%S")
            else:
                local = datetime.combine(datetime.strptime(value, "%Y%m%d").date(), time(23, 59, 59))
            value = _to_utc(local, zone).strftime("%Y%m%dT%H%M%SZ")
        parts.append(f"{name.upper()}={value}")
    return ";".join(parts)


def _to_utc(local: datetime, zone: str) -> datetime:
    # fold=0: a time repeated in autumn is the first one, as RFC 5545 says.
    return local.replace(tzinfo=ZoneInfo(zone), fold=0).astimezone(UTC)


# --- time zones ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Transition:
    at: datetime  # aware UTC
    offset_from: timedelta
    offset_to: timedelta
    is_dst: bool  # after the change
    name: str  # after the change

    @property
    def onset(self) -> datetime:
        """The local wall-clock time of the change, read in the offset before it (RFC 5545)."""
        return (self.at + self.offset_from).replace(tzinfo=None)


def _state(zone: ZoneInfo, moment: datetime) -> tuple[timedelta, bool, str]:
    local = moment.astimezone(zone)
    return local.utcoffset() or timedelta(0), bool(local.dst()), local.tzname() or ""


@functools.lru_cache(maxsize=64)
def transitions(zone_name: str, first_year: int, last_year: int) -> tuple[Transition, ...]:
    """The zone's changes of offset (or of DST flag or name) between 1 January
    of ``first_year`` and 31 December of ``last_year``, to the second.

    Kept per process: finding them takes a thousand zone look-ups, once per
    feed built otherwise (a structure's feeds share their zone and years),
    and the zone database does not change under a running process."""
    zone = ZoneInfo(zone_name)
    moment = datetime(first_year, 1, 1, tzinfo=UTC)
    end = datetime(last_year + 1, 1, 1, tzinfo=UTC)
    found = []
    state = _state(zone, moment)
    while moment < end:
        following = moment + timedelta(days=1)
        next_state = _state(zone, following)
        if next_state != state:
            low, high = moment, following  # state(low) == state, state(high) != state
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                middle = middle.replace(microsecond=0)
                if _state(zone, middle) == state:
                    low = middle
                else:
                    high = middle
            after = _state(zone, high)
            found.append(Transition(high, state[0], after[0], after[1], after[2]))
            state = _state(zone, following)
        moment = following
    return tuple(found)


def _format_offset(offset: timedelta) -> str:
    seconds = int(offset.total_seconds())
    sign = "+" if seconds >= 0 else "-"
    seconds = abs(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{hours:02d}{minutes:02d}" + (f"{secs:02d}" if secs else "")


def _yearly_rule(onsets: list[datetime], last_year: int) -> str | None:
    """"FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU" when the onsets are the same weekday of
    the same month (the n-th or the last one) at the same time, once a year
    without gap up to ``last_year``; None otherwise."""
    if len(onsets) < 2:
        return None
    first = onsets[0]
    if [o.year for o in onsets] != list(range(first.year, first.year + len(onsets))):
        return None
    if onsets[-1].year != last_year:
        return None  # the rule stopped: the RDATE list says exactly when
    if any((o.month, o.weekday(), o.time()) != (first.month, first.weekday(), first.time()) for o in onsets):
        return None

    def is_last(o: datetime) -> bool:
        return o.day + 7 > _calendar.monthrange(o.year, o.month)[1]

    if all(is_last(o) for o in onsets):
        n = -1
    else:
        ns = {(o.day - 1) // 7 + 1 for o in onsets}
        if len(ns) != 1:
            return None
        n = ns.pop()
    return f"FREQ=YEARLY;BYMONTH={first.month};BYDAY={n}{WEEKDAY_CODES[first.weekday()]}"


def vtimezone(zone_name: str, first_year: int, last_year: int) -> Timezone:
    """A VTIMEZONE for ``zone_name`` valid from 1 January ``first_year`` on.

    Changes that follow a yearly rule up to ``last_year`` (the European "last
    Sunday of March/October") become an open-ended RRULE, as calendar apps
    expect; irregular ones are listed as RDATEs. Each change's DTSTART is the
    local time in the offset before it (02:00 in spring, 03:00 in autumn for
    Europe/Paris).
    """
    last_year = max(last_year, first_year + 2)  # enough years to recognise a yearly rule
    zone = ZoneInfo(zone_name)
    start = datetime(first_year, 1, 1, tzinfo=UTC)
    offset, is_dst, name = _state(zone, start)
    tz = Timezone()
    tz.add("tzid", zone_name)
    # What holds on 1 January of the first year (before the first change).
    initial = TimezoneDaylight() if is_dst else TimezoneStandard()
    initial.add("dtstart", datetime(first_year, 1, 1))
    initial.add("tzoffsetfrom", offset)
    initial.add("tzoffsetto", offset)
    if name:
        initial.add("tzname", name)
    tz.add_component(initial)

    groups: dict[tuple[bool, timedelta, timedelta, str], list[datetime]] = {}
    for change in transitions(zone_name, first_year, last_year):
        groups.setdefault((change.is_dst, change.offset_from, change.offset_to, change.name), []).append(
            change.onset
        )
    for (dst, offset_from, offset_to, tzname), onsets in sorted(groups.items(), key=lambda kv: kv[1][0]):
        component = TimezoneDaylight() if dst else TimezoneStandard()
        component.add("dtstart", onsets[0])
        rule = _yearly_rule(onsets, last_year)
        if rule is not None:
            component.add("rrule", vRecur.from_ical(rule))
        elif len(onsets) > 1:
            component.add("rdate", onsets[1:])
        component.add("tzoffsetfrom", offset_from)
        component.add("tzoffsetto", offset_to)
        if tzname:
            component.add("tzname", tzname)
        tz.add_component(component)
    return tz


# --- events and the calendar --------------------------------------------------------------------


def _local(moment: datetime, zone: str) -> datetime:
    if moment.tzinfo is not None:
        raise ValueError("local times are naive; the zone comes from the event")
    return moment.replace(tzinfo=ZoneInfo(zone))


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("changed_at and created_at must be aware")
    return moment.astimezone(UTC).replace(microsecond=0)


def _vevent(item: CalendarEvent) -> VEvent:
    event = VEvent()
    event.add("uid", item.uid)
    event.add("dtstamp", _utc(item.changed_at))
    event.add("last-modified", _utc(item.changed_at))
    if item.created_at is not None:
        event.add("created", _utc(item.created_at))
    if item.recurrence_id is not None:
        event.add("recurrence-id", _local(item.recurrence_id, item.timezone))
    event.add("dtstart", _local(item.start, item.timezone))
    event.add("dtend", _local(item.end, item.timezone))
    event.add("sequence", item.sequence)
    event.add("status", "CANCELLED" if item.is_cancelled else "CONFIRMED")
    event.add("summary", item.summary)
    if item.location:
        event.add("location", item.location)
    if item.description:
        event.add("description", item.description)
    if item.url:
        event.add("url", item.url)
    if item.categories:
        event.add("categories", list(item.categories))
    return event


def _years(feed: CalendarFeed) -> dict[str, tuple[int, int]]:
    """For each zone used, the first and last year it is needed for."""
    spans: dict[str, tuple[int, int]] = {}

    def note(zone: str, *moments: datetime | None) -> None:
        years = [m.year for m in moments if m is not None]
        low, high = spans.get(zone, (min(years), max(years)))
        spans[zone] = (min(low, *years), max(high, *years))

    for item in feed.events:
        note(item.timezone, item.start, item.end)
    for series in feed.series:
        zone = series.master.timezone
        note(zone, series.master.start, series.master.end, series.last_start, *series.exdates)
        for override in series.overrides:
            note(override.timezone, override.start, override.end, override.recurrence_id)
    return spans


def build_calendar(feed: CalendarFeed) -> bytes:
    """The whole VCALENDAR as bytes (UTF-8, CRLF, folded lines)."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("name", feed.name)
    cal.add("x-wr-calname", feed.name)
    cal.add("x-wr-timezone", feed.timezone)
    if feed.description:
        cal.add("description", feed.description)
        cal.add("x-wr-caldesc", feed.description)
    if feed.url:
        cal.add("url", feed.url)
    cal.add("refresh-interval", feed.refresh, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", vDuration(feed.refresh))
    spans = _years(feed)
    if not spans:
        # RFC 5545 wants at least one component in a calendar: an empty feed
        # carries the VTIMEZONE of its X-WR-TIMEZONE (its yearly rules are open-ended).
        spans = {feed.timezone: (EMPTY_FEED_YEAR, EMPTY_FEED_YEAR)}
    for zone, (first, last) in sorted(spans.items()):
        cal.add_component(vtimezone(zone, first, last))

    entries: list[tuple[tuple, list[VEvent]]] = []
    for item in feed.events:
        entries.append(((_to_utc(item.start, item.timezone), item.uid), [_vevent(item)]))
    for series in feed.series:
        master = _vevent(series.master)
        master.add("rrule", vRecur.from_ical(rrule_for_export(series.rrule, series.master.timezone)))
        if series.exdates:
            master.add("exdate", [_local(d, series.master.timezone) for d in sorted(series.exdates)])
        overrides = [_vevent(o) for o in sorted(series.overrides, key=lambda o: o.recurrence_id)]
        entries.append(((_to_utc(series.master.start, series.master.timezone), series.master.uid),
                        [master, *overrides]))
    for _key, components in sorted(entries, key=lambda entry: entry[0]):
        for component in components:
            cal.add_component(component)
    return cal.to_ical()


def build_event_file(item: CalendarEvent) -> bytes:
    """One event as a file to import ("add to my calendar", an e-mail
    attachment): METHOD:PUBLISH, the VTIMEZONE of its zone and the VEVENT
    written exactly as in the feeds (same UID, SEQUENCE and times).

    No calendar name, refresh interval or TTL: they describe a calendar one
    subscribes to, and an app may then offer to create a separate calendar
    instead of adding the event to the person's own.
    """
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    years = [moment.year for moment in (item.start, item.end, item.recurrence_id) if moment is not None]
    cal.add_component(vtimezone(item.timezone, min(years), max(years)))
    cal.add_component(_vevent(item))
    return cal.to_ical()
