"""Calendar test helpers: series built through the real scheduling services,
feed tokens, and reading feeds back with the icalendar library."""

from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from icalendar import Calendar

from volunteer_platform.calendars import services as calendar_services
from volunteer_platform.db import utcnow
from volunteer_platform.extensions import db
from volunteer_platform.scheduling import recurrence
from volunteer_platform.scheduling import services as scheduling
from volunteer_platform.scheduling.models import EventKind

PARIS = ZoneInfo("Europe/Paris")


def last_sunday(year: int, month: int) -> date:
    last = date(year, month, calendar.monthrange(year, month)[1])
    return last - timedelta(days=(last.weekday() - 6) % 7)


def next_october_change() -> date:
    """The next end of summer time in Paris at least three weeks away."""
    today = utcnow().astimezone(PARIS).date()
    year = today.year
    while last_sunday(year, 10) - timedelta(days=21) <= today:
        year += 1
    return last_sunday(year, 10)


def paris(day: date, hour: int, minute: int = 0) -> datetime:
    """Aware UTC for ``hour:minute`` in Paris on ``day``."""
    return recurrence.local_to_utc(datetime.combine(day, time(hour, minute)), "Europe/Paris")


def make_series(tenant, first_day: date, *, count: int = 6, hour: int = 14, kind=EventKind.WORKSHOP, room=None,
                title="Atelier démarches en ligne", description="", what_to_bring="", until: date | None = None,
                skip_conflicts: bool = False, capacity=None, trainer=None, module=None):
    """A weekly series created by ``scheduling.create_series`` (2 hours, local ``hour``)."""
    starts_at = paris(first_day, hour)
    fields = scheduling.EventFields(
        kind=EventKind(kind), title=title, starts_at=starts_at, ends_at=starts_at + timedelta(hours=2),
        room_id=room.id if room else None, description=description, what_to_bring=what_to_bring,
        capacity=capacity, trainer_id=trainer.id if trainer else None, module_id=module.id if module else None,
    )
    rule = recurrence.Rule(recurrence.Frequency.WEEKLY, 1, until=until, count=None if until else count)
    series, events = scheduling.create_series(tenant, fields, rule, skip_conflicts=skip_conflicts, created_by=None,
                                              now=utcnow())
    db.session.commit()
    return series, events


def issue_token(user) -> str:
    token = calendar_services.issue_token(user, secret_key=current_app.config["SECRET_KEY"], now=utcnow())
    db.session.commit()
    return token


def parse(response_or_bytes) -> Calendar:
    data = getattr(response_or_bytes, "data", response_or_bytes)
    return Calendar.from_ical(data)


def vevents(cal: Calendar) -> list:
    return [c for c in cal.walk("VEVENT")]


def by_uid(cal: Calendar) -> dict[str, list]:
    found: dict[str, list] = {}
    for event in vevents(cal):
        found.setdefault(str(event["UID"]), []).append(event)
    return found
