"""``flask send-qualification-reminders``: warn people a month before a
qualification expires (run it from cron once a day).

Each reminder is claimed, queued and marked in its own transaction, after
re-reading the award under a lock: a second run — even one started at the
same time — finds it already marked and sends nothing more.
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from volunteer_platform.db import utcnow
from volunteer_platform.extensions import db
from volunteer_platform.notifications.services import queue_templated_email
from volunteer_platform.tenants.models import Tenant
from volunteer_platform.training import services
from volunteer_platform.training.models import QualificationAward
from volunteer_platform.training.pdf import local_date


def _claim(award_id: int) -> QualificationAward | None:
    """The award, locked, if it still needs its reminder (else None)."""
    return db.session.scalars(
        select(QualificationAward)
        .where(QualificationAward.id == award_id, QualificationAward.reminder_sent_at.is_(None),
               QualificationAward.withdrawn_at.is_(None))
        .with_for_update(skip_locked=True)
    ).first()


@click.command("send-qualification-reminders")
@with_appcontext
def send_qualification_reminders_command() -> None:
    """E-mail the holders of qualifications that expire within a month (once per award)."""
    now = utcnow()
    award_ids = [award.id for award in services.awards_needing_reminder(now=now)]
    db.session.commit()  # end the read; each reminder gets its own transaction
    languages = current_app.config["LANGUAGES"]
    sent = 0
    for award_id in award_ids:
        award = _claim(award_id)
        if award is None:  # reminded by a run in parallel, or withdrawn meanwhile
            db.session.rollback()
            continue
        tenant = db.session.get(Tenant, award.tenant_id)
        assert tenant is not None and award.expires_at is not None
        user = award.user
        queue_templated_email(
            user.email,
            "qualification_expiry",
            locale=user.locale if user.locale in languages else "fr",
            now=now,
            user=user,
            tenant=tenant,
            qualification=award.qualification,
            expires_on=local_date(award.expires_at, tenant.timezone),
        )
        award.reminder_sent_at = now
        db.session.commit()
        sent += 1
    click.echo(f"qualification reminders queued: {sent}")
