"""Scheduling factories: rooms, kits and events built through the real services."""

from __future__ import annotations

from tests.factories import make_site
from volunteer_platform.extensions import db
from volunteer_platform.scheduling import services

# --- rooms and kits (resources helper) ---------------------------------------------------------


def make_room(tenant, site=None, capacity=12, hours=None, *, name=None, equipment=(), is_active=True):
    """A room built through the real services; ``hours`` is a list of
    (weekday, opens time, closes time), None for a room always open."""
    site = site or make_site(tenant)
    room = services.create_room(tenant, site_id=site.id, name=name or f"Salle du lieu {site.id}",
                                capacity=capacity, equipment=list(equipment), is_active=is_active)
    if hours:
        services.set_opening_hours(room, list(hours))
    db.session.commit()
    return room


def make_kit(tenant, name=None, *, description=None, is_active=True):
    kit = services.create_kit(tenant, name=name or f"Valise de tablettes {tenant.id}",
                              description=description, is_active=is_active)
    db.session.commit()
    return kit


# --- events (agenda helper) ----------------------------------------------------------------------


def make_event(tenant, kind="workshop", starts_at=None, *, ends_at=None, title=None, room=None, trainer=None,
               module=None, capacity=None, qualification=None, kits=(), description="", what_to_bring=""):
    """One event built through ``services.create_event`` (two hours long unless
    ``ends_at`` is given; tomorrow at 12:00 UTC unless ``starts_at`` is)."""
    from datetime import timedelta

    from volunteer_platform.db import utcnow
    from volunteer_platform.scheduling.models import EventKind

    if starts_at is None:
        starts_at = (utcnow() + timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)
    kind = EventKind(kind)
    fields = services.EventFields(
        kind=kind, title=title or f"{kind.label} du {starts_at:%d/%m}", starts_at=starts_at,
        ends_at=ends_at or starts_at + timedelta(hours=2), room_id=room.id if room else None,
        trainer_id=trainer.id if trainer else None, module_id=module.id if module else None,
        capacity=capacity, required_qualification_id=qualification.id if qualification else None,
        description=description, what_to_bring=what_to_bring, kit_ids=[k.id for k in kits],
    )
    event = services.create_event(tenant, fields, created_by=None, now=utcnow())
    db.session.commit()
    return event


# --- enrolments (enrolment helper) ----------------------------------------------------------------


def local_time(tenant, days_ahead, hour, minute=0):
    """Aware UTC for ``hour:minute`` local time in ``tenant``'s zone, ``days_ahead`` days from today there."""
    from datetime import datetime, time, timedelta
    from zoneinfo import ZoneInfo

    from volunteer_platform.db import utcnow
    from volunteer_platform.scheduling import recurrence

    today = utcnow().astimezone(ZoneInfo(tenant.timezone)).date()
    return recurrence.local_to_utc(datetime.combine(today + timedelta(days=days_ahead), time(hour, minute)),
                                   tenant.timezone)


def enrol_in(event, user, *, now=None, waitlist=True, by_coordinator=False):
    """``user`` signs up for ``event`` through ``enrolment.enrol`` (``now``: when,
    e.g. before a past event started)."""
    from volunteer_platform.db import utcnow
    from volunteer_platform.scheduling import enrolment

    place = enrolment.enrol(event, user, now=now or utcnow(), waitlist=waitlist, by_coordinator=by_coordinator,
                            base_url="http://testserver.example")
    db.session.commit()
    return place


def set_enrolment_rules(tenant, *, signup_horizon_days=60, cancellation_deadline_hours=24):
    from volunteer_platform.scheduling import enrolment

    enrolment.update_settings(tenant, signup_horizon_days=signup_horizon_days,
                              cancellation_deadline_hours=cancellation_deadline_hours)
    db.session.commit()
