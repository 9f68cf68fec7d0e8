"""``flask import-external-calendars``: fetch the rooms' and trainers' external
calendars and store their busy times (run it from cron, e.g. every 30 minutes).

Each calendar is handled on its own: what it needs is read and the
transaction ended, the feed is fetched with no lock held, then the calendar
is locked again and the outcome recorded and committed (see
``calendars.external``). A feed that fails keeps its last good copy and gets
its status and message; the command goes on with the next one and always
ends normally. Addresses are not printed (they often hold a private key):
only the calendar's number and host.
"""

from __future__ import annotations

from collections import Counter
from urllib.parse import urlsplit

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale
from sqlalchemy import select

from volunteer_platform.calendars import external
from volunteer_platform.calendars.external import ExternalCalendar, Outcome
from volunteer_platform.db import utcnow
from volunteer_platform.errors import NotFound
from volunteer_platform.extensions import db
from volunteer_platform.tenants.models import Tenant
from volunteer_platform.tenants.scoping import get_in_tenant


def refresh_calendar(calendar_id: int, tenant_id: int, *, timeout: float) -> external.FetchResult | None:
    """Fetch one calendar and record the outcome (two short transactions, the
    network in between). None when the calendar was removed or suspended meanwhile."""
    tenant = db.session.get(Tenant, tenant_id)
    try:
        calendar = get_in_tenant(ExternalCalendar, calendar_id, tenant)
    except NotFound:
        db.session.rollback()
        return None
    request = external.feed_request(calendar, tenant, now=utcnow())
    db.session.commit()  # no transaction (nor SQLite write lock) while waiting for the network
    result = external.fetch(
        request, now=utcnow(), timeout=timeout,
        allow_private_hosts=bool(current_app.config.get("EXTERNAL_CALENDARS_ALLOW_PRIVATE_HOSTS", False)),
    )
    try:
        calendar = get_in_tenant(ExternalCalendar, calendar_id, tenant, for_update=True)
    except NotFound:
        db.session.rollback()
        return None
    if not calendar.is_active:
        db.session.rollback()
        return None
    external.record(calendar, result, now=utcnow())
    db.session.commit()
    return result


@click.command("import-external-calendars")
@click.option("--timeout", type=click.FloatRange(min=0.1, max=120), default=external.TIMEOUT_SECONDS,
              show_default=True, help="Seconds to wait for each calendar's server.")
@with_appcontext
def import_external_calendars_command(timeout: float) -> None:
    """Import the busy times of every active external calendar (rooms and trainers)."""
    rows = db.session.execute(
        select(ExternalCalendar.id, ExternalCalendar.tenant_id, ExternalCalendar.url)
        .join(Tenant, Tenant.id == ExternalCalendar.tenant_id)
        .where(ExternalCalendar.is_active.is_(True), Tenant.is_active.is_(True))
        .order_by(ExternalCalendar.id)
    ).all()
    db.session.commit()
    counts: Counter[str] = Counter()
    for calendar_id, tenant_id, url in rows:
        host = urlsplit(url).hostname or "?"
        try:
            result = refresh_calendar(calendar_id, tenant_id, timeout=timeout)
        except Exception:  # a database hiccup on one calendar must not stop the others
            db.session.rollback()
            current_app.logger.exception("external calendar %s: import failed", calendar_id)
            counts["failed"] += 1
            click.echo(f"calendar {calendar_id} ({host}): failed (unexpected error, see the log)")
            continue
        if result is None:
            counts["skipped"] += 1
            continue
        counts[result.outcome.value] += 1
        if result.outcome is Outcome.IMPORTED:
            click.echo(f"calendar {calendar_id} ({host}): imported, {len(result.slots)} busy times")
        elif result.outcome is Outcome.NOT_MODIFIED:
            click.echo(f"calendar {calendar_id} ({host}): not modified")
        else:
            with force_locale("fr"):
                message = str(result.error)
            click.echo(f"calendar {calendar_id} ({host}): failed: {message}")
    click.echo(
        f"external calendars: {counts['imported']} imported, {counts['not_modified']} not modified, "
        f"{counts['failed']} failed"
    )
