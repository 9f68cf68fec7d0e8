""""Mon agenda", under ``/me``: a person's commitments across all their
structures — places confirmed and sessions they lead — each shown in its
structure's time zone, the coming weeks first, then the past 30 days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, render_template
from flask_login import current_user

from volunteer_platform.auth.permissions import require_login
from volunteer_platform.db import utcnow
from volunteer_platform.scheduling import services
from volunteer_platform.scheduling.views import personal_bp

AHEAD = timedelta(weeks=8)
BEHIND = timedelta(days=30)


@dataclass
class Line:
    commitment: services.Commitment
    starts: datetime  # aware, in the structure's time zone
    ends: datetime
    show_zone: bool  # the structure is not in the platform's usual time zone


def _lines(commitments: list[services.Commitment]) -> list[tuple[date, list[Line]]]:
    """Commitments grouped by their local day (in their own structure's zone)."""
    default_zone = current_app.config["DEFAULT_TIMEZONE"]
    days: dict[date, list[Line]] = {}
    for c in commitments:
        zone = ZoneInfo(c.tenant.timezone)
        starts, ends = c.event.starts_at.astimezone(zone), c.event.ends_at.astimezone(zone)
        days.setdefault(starts.date(), []).append(Line(c, starts, ends, c.tenant.timezone != default_zone))
    return sorted(days.items())


@personal_bp.get("/agenda")
@require_login
def index() -> Any:
    """My commitments in every structure: the coming weeks, then the past 30 days."""
    now = utcnow()
    commitments = services.commitments_of(current_user, start=now - BEHIND, end=now + AHEAD)
    upcoming = [c for c in commitments if c.event.ends_at > now]
    past = [c for c in commitments if c.event.ends_at <= now]
    return render_template(
        "scheduling/agenda/my_agenda.html", upcoming=_lines(upcoming),
        past=list(reversed(_lines(past))), weeks=AHEAD.days // 7,
    )
