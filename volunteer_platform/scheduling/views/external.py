"""The coordinator's external calendars, under ``/<tenant_slug>/agenda/external-calendars``:
the .ics addresses whose events make a room or a trainer busy (see
``calendars.external``), with each one's status, last successful import and
last error; adding, suspending, removing one, and "Actualiser maintenant".

Also ``week_busy``, the imported busy times shown greyed in the week view.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from volunteer_platform.auth.permissions import has_role, require_role
from volunteer_platform.calendars import external
from volunteer_platform.calendars.external import ExternalCalendar, Outcome
from volunteer_platform.db import utcnow
from volunteer_platform.errors import DomainError, NotFound
from volunteer_platform.extensions import db, limiter
from volunteer_platform.forms import ActionForm, apply_domain_error, form_status
from volunteer_platform.scheduling import services
from volunteer_platform.scheduling.forms.external import ExternalCalendarForm
from volunteer_platform.scheduling.views import bp
from volunteer_platform.tenants.models import Role
from volunteer_platform.tenants.scoping import get_in_tenant_or_404

COORDINATOR = Role.COORDINATOR


def _list_url() -> str:
    return url_for("scheduling.external_calendars")


@bp.route("/external-calendars", methods=["GET", "POST"])
@limiter.limit("30 per hour", methods=["POST"])
@require_role(COORDINATOR)
def external_calendars() -> Any:
    """The structure's external calendars and the form to add one."""
    form = ExternalCalendarForm(tenant=g.tenant)
    if request.method == "GET":
        for kind in ("room", "trainer"):
            if request.args.get(kind, "").isdigit():
                form.target.data = f"{kind}:{request.args[kind]}"
    refusal: DomainError | None = None
    if form.validate_on_submit():
        room_id, trainer_id = form.room_and_trainer()
        try:
            calendar = external.add_calendar(g.tenant, name=form.name.data, url=form.url.data, room_id=room_id,
                                             trainer_id=trainer_id, now=utcnow())
        except DomainError as error:
            db.session.rollback()
            if isinstance(error, NotFound):
                abort(404)
            apply_domain_error(form, error)
            refusal = error
        else:
            db.session.commit()
            flash(_("Le calendrier « %(name)s » est ajouté. Il sera importé au prochain passage automatique ; "
                    "pour l'importer tout de suite, choisissez « Actualiser maintenant ».", name=calendar.name),
                  "success")
            return redirect(_list_url())
    return render_template(
        "scheduling/external/calendars.html", form=form, rows=external.calendars_of(g.tenant),
        action_form=ActionForm(),
    ), form_status(form, refusal)


@bp.post("/external-calendars/<int:calendar_id>/refresh")
@limiter.limit("30 per hour")
@require_role(COORDINATOR)
def external_calendar_refresh(calendar_id: int) -> Any:
    """Fetch the calendar now. No transaction is open while waiting for its server."""
    calendar = get_in_tenant_or_404(ExternalCalendar, calendar_id, g.tenant)
    if not ActionForm().validate_on_submit():
        return redirect(_list_url())
    feed = external.feed_request(calendar, g.tenant, now=utcnow())
    db.session.commit()
    config = current_app.config
    result = external.fetch(
        feed, now=utcnow(), timeout=float(config.get("EXTERNAL_CALENDARS_TIMEOUT", external.TIMEOUT_SECONDS)),
        allow_private_hosts=bool(config.get("EXTERNAL_CALENDARS_ALLOW_PRIVATE_HOSTS", False)),
    )
    calendar = get_in_tenant_or_404(ExternalCalendar, calendar_id, g.tenant, for_update=True)  # removed meanwhile?
    external.record(calendar, result, now=utcnow())
    name = calendar.name
    db.session.commit()
    if result.outcome is Outcome.IMPORTED:
        flash(_("Le calendrier « %(name)s » est importé : %(n)s créneau(x) occupé(s).", name=name,
                n=len(result.slots)), "success")
    elif result.outcome is Outcome.NOT_MODIFIED:
        flash(_("Le calendrier « %(name)s » n'a pas changé depuis le dernier import.", name=name), "success")
    else:
        flash(_("Le calendrier « %(name)s » n'a pas pu être importé : %(error)s Les créneaux importés "
                "auparavant sont gardés.", name=name, error=str(result.error)), "error")
    return redirect(_list_url())


@bp.post("/external-calendars/<int:calendar_id>/active")
@require_role(COORDINATOR)
def external_calendar_active(calendar_id: int) -> Any:
    """Suspend the calendar (its busy times stop blocking) or resume it."""
    calendar = get_in_tenant_or_404(ExternalCalendar, calendar_id, g.tenant)
    if ActionForm().validate_on_submit():
        is_active = request.form.get("active") == "1"
        external.set_active(calendar, is_active)
        db.session.commit()
        flash(_("Le calendrier « %(name)s » bloque de nouveau les réservations.", name=calendar.name) if is_active
              else _("Le calendrier « %(name)s » est suspendu : il ne bloque plus rien.", name=calendar.name),
              "success")
    return redirect(_list_url())


@bp.post("/external-calendars/<int:calendar_id>/delete")
@require_role(COORDINATOR)
def external_calendar_delete(calendar_id: int) -> Any:
    """Remove the calendar and its busy times."""
    calendar = get_in_tenant_or_404(ExternalCalendar, calendar_id, g.tenant)
    if ActionForm().validate_on_submit():
        name = calendar.name
        external.remove_calendar(calendar)
        db.session.commit()
        flash(_("Le calendrier « %(name)s » est retiré.", name=name), "success")
    return redirect(_list_url())


# --- the week view -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DayBusy:
    """An imported busy time cut to one day of the week view."""

    starts_at: datetime
    ends_at: datetime
    place: str
    all_day: bool


def week_busy(days: list[date], keep: dict[str, int]) -> dict[date, list[DayBusy]]:
    """The imported busy times of each local day of ``days``, cut to that day,
    for the agenda's filters (``keep``: "site", "room", "trainer"). Trainers'
    busy times are for coordinators only. One query."""
    zone = g.tenant.timezone
    bounds = [services.local_day_bounds(day, zone) for day in days]
    slots = external.busy_between(
        g.tenant, start=bounds[0][0], end=bounds[-1][1], site_id=keep.get("site"), room_id=keep.get("room"),
        trainer_id=keep.get("trainer"), include_trainers=has_role(COORDINATOR),
    )
    by_day: dict[date, list[DayBusy]] = defaultdict(list)
    for day, (day_start, day_end) in zip(days, bounds, strict=True):
        for slot in slots:
            if slot.starts_at < day_end and slot.ends_at > day_start:
                starts_at, ends_at = max(slot.starts_at, day_start), min(slot.ends_at, day_end)
                by_day[day].append(DayBusy(starts_at, ends_at, slot.place,
                                           all_day=(starts_at, ends_at) == (day_start, day_end)))
    return dict(by_day)
