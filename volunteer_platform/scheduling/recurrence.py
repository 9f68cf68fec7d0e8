"""Recurrence rules (RFC 5545 RRULE, python-dateutil), expanded in local time.

A series is expanded in the structure's time zone with naive local
datetimes, then each occurrence is attached to the zone and converted to UTC:
a weekly 14:00 workshop stays at 14:00 local time across daylight-saving
changes (its UTC time moves instead).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

MAX_OCCURRENCES = 260  # five years of a weekly event
MAX_SPAN = timedelta(days=2 * 366)


class Frequency(enum.StrEnum):
    WEEKLY = "weekly"  # every N weeks on the start's weekday
    MONTHLY_BY_WEEKDAY = "monthly_by_weekday"  # e.g. the first Tuesday of each month


WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@dataclass(frozen=True)
class Rule:
    frequency: Frequency
    interval: int = 1
    until: date | None = None  # last local date included
    count: int | None = None


def nth_weekday_of_month(day: date) -> int:
    """1 for the first Tuesday of the month…, -1 when it is the last (5th) one."""
    n = (day.day - 1) // 7 + 1
    return -1 if n == 5 else n


def to_rrule(rule: Rule, dtstart_local: datetime) -> str:
    """The RRULE text (without "RRULE:") for ``rule`` starting at ``dtstart_local``.

    UNTIL is written in local time (the end of the last day): the series is
    always expanded with a naive local DTSTART. The iCal export converts it to
    UTC, as RFC 5545 requires with a TZID.
    """
    if rule.interval < 1:
        raise ValueError("interval must be at least 1")
    if (rule.until is None) == (rule.count is None):
        raise ValueError("give either until or count")
    parts = []
    if rule.frequency is Frequency.WEEKLY:
        parts += ["FREQ=WEEKLY", f"INTERVAL={rule.interval}", f"BYDAY={WEEKDAY_CODES[dtstart_local.weekday()]}"]
    else:
        n = nth_weekday_of_month(dtstart_local.date())
        parts += ["FREQ=MONTHLY", f"INTERVAL={rule.interval}",
                  f"BYDAY={n:+d}{WEEKDAY_CODES[dtstart_local.weekday()]}"]
    if rule.count is not None:
        parts.append(f"COUNT={rule.count}")
    else:
        parts.append(f"UNTIL={rule.until:%Y%m%d}T235959")
    return ";".join(parts)


def expand(rrule: str, dtstart_local: datetime, *, skipped: set[date] | frozenset[date] = frozenset()) -> list[datetime]:
    """Naive local start times of the series, in order, without skipped dates.

    At most MAX_OCCURRENCES occurrences and MAX_SPAN after the start.
    """
    limit = dtstart_local + MAX_SPAN
    rule = rrulestr(f"RRULE:{rrule}", dtstart=dtstart_local)
    starts = []
    for start in rule:
        if start > limit or len(starts) >= MAX_OCCURRENCES:
            break
        if start.date() not in skipped:
            starts.append(start)
    return starts


def local_to_utc(local: datetime, zone: str) -> datetime:
    """Attach ``zone`` to a naive local time and convert to UTC.

    As RFC 5545 says: a time that does not exist (skipped at the spring change,
    e.g. 02:30) is read with the offset before the gap (so it lands at 03:30);
    an ambiguous one (autumn) is the first of the two (fold=0).
    """
    return local.replace(tzinfo=ZoneInfo(zone), fold=0).astimezone(UTC)


def utc_to_local(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone)).replace(tzinfo=None)


def combine(day: date, at: time) -> datetime:
    return datetime.combine(day, at)
