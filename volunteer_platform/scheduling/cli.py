"""``flask send-event-reminders``: remind people of the session or shift they
signed up for, the day before (run it from cron, e.g. every hour).

Each reminder is claimed, queued and marked in its own transaction, after
re-reading the place under a lock with its conditions (still confirmed, not
reminded, event still scheduled and not started): a second run — even one
started at the same time — finds it already marked and sends nothing more,
and nothing is ever sent once the event has started.
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from volunteer_platform.db import utcnow
from volunteer_platform.extensions import db
from volunteer_platform.notifications.services import queue_templated_email
from volunteer_platform.scheduling import enrolment
from volunteer_platform.scheduling.models import Enrolment, EnrolmentStatus, Event, EventStatus
from volunteer_platform.tenants.models import Tenant


def _claim(enrolment_id: int) -> Enrolment | None:
    """The place, locked, if it still needs its reminder (else None)."""
    return db.session.scalars(
        select(Enrolment)
        .join(Event, Event.id == Enrolment.event_id)
        .where(Enrolment.id == enrolment_id, Enrolment.status == EnrolmentStatus.CONFIRMED,
               Enrolment.reminder_sent_at.is_(None), Event.status == EventStatus.SCHEDULED,
               Event.starts_at > utcnow())
        .with_for_update(of=Enrolment, skip_locked=True)
    ).first()


@click.command("send-event-reminders")
@with_appcontext
def send_event_reminders_command() -> None:
    """E-mail the people signed up for events starting within 24 hours (once per place)."""
    now = utcnow()
    enrolment_ids = [place.id for place in enrolment.reminders_due(now=now)]
    db.session.commit()  # end the read; each reminder gets its own transaction
    languages = current_app.config["LANGUAGES"]
    base_url = current_app.config["BASE_URL"]
    sent = 0
    for enrolment_id in enrolment_ids:
        place = _claim(enrolment_id)
        if place is None:  # reminded by a run in parallel, cancelled, or started meanwhile
            db.session.rollback()
            continue
        event = place.event
        tenant = db.session.get(Tenant, event.tenant_id)
        assert tenant is not None
        user = place.user
        queue_templated_email(
            user.email,
            "event_reminder",
            locale=user.locale if user.locale in languages else "fr",
            now=now,
            user=user,
            event=event,
            tenant=tenant,
            link=f"{base_url}/{tenant.slug}/agenda/events/{event.id}",
        )
        place.reminder_sent_at = utcnow()
        db.session.commit()
        sent += 1
    click.echo(f"event reminders queued: {sent}")
