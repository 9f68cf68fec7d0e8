"""The agenda of a structure, under ``/<tenant_slug>/agenda``: the week and
month views (filtered by site, room or trainer), one event's page, and the
coordinator's pages to create, edit and cancel events and series.

Times are shown in the structure's time zone (Flask-Babel's filters use it in
the structure's pages); the local week and month bounds come from
``services.local_day_bounds`` so that daylight-saving weeks are right.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user

from volunteer_platform.auth.models import User
from volunteer_platform.auth.permissions import require_role
from volunteer_platform.db import utcnow
from volunteer_platform.errors import DomainError, NotFound
from volunteer_platform.extensions import db
from volunteer_platform.forms import apply_domain_error, form_status
from volunteer_platform.scheduling import enrolment, recurrence, services
from volunteer_platform.scheduling.forms.agenda import (
    AgendaFilterForm,
    CancelEventForm,
    EditEventForm,
    NewEventForm,
)
from volunteer_platform.scheduling.models import Event, EventKind, EventStatus
from volunteer_platform.scheduling.services import ConflictList, OccurrenceCheck
from volunteer_platform.scheduling.views import bp
from volunteer_platform.scheduling.views import external as external_views
from volunteer_platform.tenants.models import Role
from volunteer_platform.tenants.scoping import get_in_tenant_or_404, tenant_select
from volunteer_platform.training import queries as training_queries
from volunteer_platform.training.models import Qualification

COORDINATOR = Role.COORDINATOR
ANY_MEMBER = (Role.COORDINATOR, Role.TRAINER, Role.VOLUNTEER)


def _me() -> User:
    return current_user._get_current_object()


def _zone() -> str:
    return g.tenant.timezone


def _today() -> date:
    return utcnow().astimezone(ZoneInfo(_zone())).date()


def _local_day(moment: datetime) -> date:
    return recurrence.utc_to_local(moment, _zone()).date()


YEARS = range(1970, 2200)  # dates in addresses: anything else counts as "today"


def _parse_day(text: str | None) -> date | None:
    try:
        day = date.fromisoformat(text or "")
    except ValueError:
        return None
    return day if day.year in YEARS else None


def _parse_month(text: str | None) -> date | None:
    try:
        first = datetime.strptime(text or "", "%Y-%m").date()
    except ValueError:
        return None
    return first if first.year in YEARS else None


def _event_or_404(event_id: int) -> Event:
    return get_in_tenant_or_404(Event, event_id, g.tenant)



# --- week and month -------------------------------------------------------------------------


def _filtered(start: datetime, end: datetime) -> tuple[AgendaFilterForm, dict[str, Any], dict[date, list]]:
    """The filter form, the filters to keep in links, and the events by local day."""
    form = AgendaFilterForm(request.args, tenant=g.tenant)
    chosen = form.cleaned()
    rows = services.agenda_events(g.tenant, start=start, end=end, **chosen)
    by_day: dict[date, list[tuple[Event, int]]] = defaultdict(list)
    for event, confirmed in rows:
        by_day[_local_day(event.starts_at)].append((event, confirmed))
    keep = {name: value for name, value in
            (("site", chosen["site_id"]), ("room", chosen["room_id"]), ("trainer", chosen["trainer_id"]))
            if value is not None}
    return form, keep, by_day


@bp.get("/")
@bp.get("/week")
@require_role(*ANY_MEMBER)
def week() -> Any:
    """A week of the structure's agenda, day by day (Monday to Sunday)."""
    day = _parse_day(request.args.get("date")) or _today()
    monday = day - timedelta(days=day.weekday())
    days = [monday + timedelta(days=i) for i in range(7)]
    start = services.local_day_bounds(days[0], _zone())[0]
    end = services.local_day_bounds(days[-1], _zone())[1]
    form, keep, by_day = _filtered(start, end)
    return render_template(
        "scheduling/agenda/week.html", filter_form=form, days=[(d, by_day.get(d, [])) for d in days],
        monday=monday, sunday=days[-1], today=_today(), keep=keep,
        busy=external_views.week_busy(days, keep),  # external calendars' busy times, greyed
        previous_url=url_for("scheduling.week", date=(monday - timedelta(days=7)).isoformat(), **keep),
        next_url=url_for("scheduling.week", date=(monday + timedelta(days=7)).isoformat(), **keep),
        today_url=url_for("scheduling.week", **keep),
        month_url=url_for("scheduling.month", date=monday.strftime("%Y-%m"), **keep),
    )


def _add_months(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@bp.get("/month")
@require_role(*ANY_MEMBER)
def month() -> Any:
    """A month of the structure's agenda: the days that have events."""
    first = _parse_month(request.args.get("date")) or _today().replace(day=1)
    following = _add_months(first, 1)
    start = services.local_day_bounds(first, _zone())[0]
    end = services.local_day_bounds(following, _zone())[0]
    form, keep, by_day = _filtered(start, end)
    return render_template(
        "scheduling/agenda/month.html", filter_form=form, days=sorted(by_day.items()), first=first,
        today=_today(), keep=keep,
        previous_url=url_for("scheduling.month", date=_add_months(first, -1).strftime("%Y-%m"), **keep),
        next_url=url_for("scheduling.month", date=following.strftime("%Y-%m"), **keep),
        today_url=url_for("scheduling.month", **keep),
        week_url=url_for("scheduling.week", date=first.isoformat(), **keep),
    )


# --- one event ----------------------------------------------------------------------------------

WEEKDAY_CODES = recurrence.WEEKDAY_CODES


def _weekday_name(code: str) -> str:
    # 2024-01-01 was a Monday: the locale's name for the weekday.
    return format_date(date(2024, 1, 1) + timedelta(days=WEEKDAY_CODES.index(code)), "EEEE")


def describe_rrule(rrule: str) -> str:
    """A series' rule in words: "Se répète chaque semaine, le mardi, 10 fois en tout."."""
    parts = dict(p.split("=", 1) for p in rrule.split(";") if "=" in p)
    interval = int(parts.get("INTERVAL", "1"))
    byday = parts.get("BYDAY", "")
    if parts.get("FREQ") == "MONTHLY":
        n, code = int(byday[:-2] or "1"), byday[-2:]
        ordinal = {1: _("1er"), 2: _("2e"), 3: _("3e"), 4: _("4e"), -1: _("dernier")}.get(n, str(n))
        text = (_("Se répète chaque mois, le %(n)s %(day)s", n=ordinal, day=_weekday_name(code)) if interval == 1
                else _("Se répète tous les %(i)s mois, le %(n)s %(day)s", i=interval, n=ordinal,
                       day=_weekday_name(code)))
    else:
        day = _weekday_name(byday[-2:]) if byday else ""
        text = (_("Se répète chaque semaine, le %(day)s", day=day) if interval == 1
                else _("Se répète toutes les %(i)s semaines, le %(day)s", i=interval, day=day))
    if "COUNT" in parts:
        text += ", " + _("%(n)s fois en tout", n=parts["COUNT"])
    elif "UNTIL" in parts:
        until = datetime.strptime(parts["UNTIL"][:8], "%Y%m%d").date()
        text += ", " + _("jusqu'au %(date)s", date=format_date(until, "d MMMM y"))
    return text + "."


@bp.get("/events/<int:event_id>")
@require_role(*ANY_MEMBER)
def event(event_id: int) -> Any:
    """Everything about one event; coordinators can edit or cancel it from here."""
    event = _event_or_404(event_id)
    module_title = None
    if event.module_id is not None:
        version = training_queries.current_versions([event.module_id]).get(event.module_id)
        module_title = version.title if version else None
    qualification = (db.session.get(Qualification, event.required_qualification_id)
                     if event.required_qualification_id is not None else None)
    series = event.series
    skipped = [date.fromisoformat(d) for d in series.skipped_dates] if series and series.skipped_dates else []
    return render_template(
        "scheduling/agenda/event.html", event=event, confirmed=enrolment.confirmed_count(event),
        module_title=module_title, qualification=qualification, series=series,
        series_text=describe_rrule(series.rrule) if series else None, skipped=skipped,
        local_day=_local_day(event.starts_at),
    )


# --- creating -----------------------------------------------------------------------------------


def _new_page(form: NewEventForm, *, status: int, checks: list[OccurrenceCheck] | None = None,
              problems: list[str] | None = None) -> Any:
    return render_template(
        "scheduling/agenda/event_form.html", form=form, event=None, checks=checks or [],
        problems=problems or [], all_blocked=bool(checks) and all(c.problems for c in checks),
    ), status


@bp.route("/events/new", methods=["GET", "POST"])
@require_role(COORDINATOR)
def event_new() -> Any:
    """Create an event, or a series. A series with conflicts is listed date by
    date first; the coordinator may then create it without those dates."""
    form = NewEventForm(tenant=g.tenant)
    if request.method == "GET":
        form.day.data = _parse_day(request.args.get("date")) or _today()
        if request.args.get("kind") in EventKind._value2member_map_:
            form.kind.data = request.args["kind"]
    if not form.validate_on_submit():
        return _new_page(form, status=form_status(form))
    fields, rule, now = form.event_fields(), form.rule(), utcnow()
    twin = _same_event(fields)
    if twin is not None:  # the form sent twice (a double click, "back" then "send" again)
        flash(_("Cet événement est déjà dans l'agenda : le formulaire a sans doute été envoyé deux fois. "
                "Rien n'a été ajouté."), "info")
        return redirect(url_for("scheduling.event", event_id=twin.id))
    try:
        if rule is None:
            created = services.create_event(g.tenant, fields, created_by=_me(), now=now)
            count = 1
        else:
            if not form.skip_conflicts.data:
                _rrule, checks = services.check_series(g.tenant, fields, rule)
                if any(c.problems for c in checks):
                    db.session.rollback()
                    return _new_page(form, status=422, checks=checks)
            _series, events = services.create_series(
                g.tenant, fields, rule, skip_conflicts=bool(form.skip_conflicts.data), created_by=_me(), now=now,
            )
            created, count = events[0], len(events)
    except ConflictList as error:
        db.session.rollback()
        if error.occurrences:
            return _new_page(form, status=422, checks=error.occurrences,
                             problems=error.problems if form.skip_conflicts.data else None)
        return _new_page(form, status=422, problems=error.problems)
    except NotFound:
        raise  # a choice that vanished meanwhile: the ordinary 404 page
    except DomainError as error:
        db.session.rollback()
        apply_domain_error(form, error)
        return _new_page(form, status=form_status(form, error))
    db.session.commit()
    if count == 1:
        flash(_("L'événement « %(title)s » est dans l'agenda.", title=created.title), "success")
    else:
        flash(_("La série « %(title)s » est dans l'agenda : %(n)s dates.", title=created.title, n=count), "success")
    return redirect(url_for("scheduling.event", event_id=created.id))


def _same_event(fields: services.EventFields) -> Event | None:
    """A scheduled event of the structure identical to the one (or to the first
    date of the series) being created: same kind, title, times, room and trainer."""

    def same(column: Any, value: Any) -> Any:
        return column.is_(None) if value is None else column == value

    return db.session.scalars(
        tenant_select(Event, g.tenant).where(
            Event.kind == fields.kind, Event.title == fields.title.strip(), Event.starts_at == fields.starts_at,
            Event.ends_at == fields.ends_at, same(Event.room_id, fields.room_id),
            same(Event.trainer_id, fields.trainer_id), Event.status != EventStatus.CANCELLED,
        ).limit(1)
    ).first()


# --- editing ------------------------------------------------------------------------------------


def _refuse_cancelled(event: Event) -> Any:
    flash(_("Cet événement est annulé : il ne peut plus être modifié."), "error")
    return redirect(url_for("scheduling.event", event_id=event.id))


@bp.route("/events/<int:event_id>/edit", methods=["GET", "POST"])
@require_role(COORDINATOR)
def event_edit(event_id: int) -> Any:
    """Edit an event; for a series, this date, this and the following ones, or all."""
    event = _event_or_404(event_id)
    if event.is_cancelled:
        return _refuse_cancelled(event)
    form = EditEventForm(tenant=g.tenant, event=event)
    if request.method == "GET":
        form.load(event)
    problems: list[str] = []
    refusal: DomainError | None = None
    if form.validate_on_submit():
        scope = form.chosen_scope()
        try:
            changed = services.update_occurrences(event, form.event_fields(), scope, now=utcnow())
        except ConflictList as error:
            db.session.rollback()
            problems = error.problems
        except NotFound:
            raise
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
            refusal = error
        else:
            db.session.commit()
            flash(_("L'événement est modifié.") if len(changed) == 1
                  else _("%(n)s dates sont modifiées.", n=len(changed)), "success")
            return redirect(url_for("scheduling.event", event_id=event.id))
    status = 422 if problems else form_status(form, refusal)
    return render_template(
        "scheduling/agenda/event_form.html", form=form, event=event, checks=[], problems=problems,
        all_blocked=False,
    ), status


# --- cancelling ---------------------------------------------------------------------------------


def _cancel_page(event: Event, form: CancelEventForm, *, status: int = 200) -> Any:
    return render_template("scheduling/agenda/cancel.html", event=event, form=form), status


@bp.get("/events/<int:event_id>/cancel")
@require_role(COORDINATOR)
def event_cancel_confirm(event_id: int) -> Any:
    """Ask before cancelling (and, for a series, which dates)."""
    event = _event_or_404(event_id)
    if event.is_cancelled:
        flash(_("Cet événement est déjà annulé."), "info")
        return redirect(url_for("scheduling.event", event_id=event.id))
    return _cancel_page(event, CancelEventForm())


@bp.post("/events/<int:event_id>/cancel")
@require_role(COORDINATOR)
def event_cancel(event_id: int) -> Any:
    """Cancel: the events stay, marked cancelled; the people enrolled get an e-mail."""
    event = _event_or_404(event_id)
    form = CancelEventForm()
    if not form.validate_on_submit():
        return _cancel_page(event, form, status=422)
    now = utcnow()
    try:
        events, enrolments = services.cancel_occurrences(event, form.chosen_scope(event), now=now)
        enrolment.notify_event_cancelled(enrolments, now=now, base_url=current_app.config["BASE_URL"])
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return redirect(url_for("scheduling.event", event_id=event.id))
    db.session.commit()
    cancelled = len(events)
    message = (_("L'événement est annulé.") if cancelled == 1
               else _("%(n)s dates sont annulées.", n=cancelled))
    if enrolments:
        message += " " + _("%(n)s personne(s) inscrite(s) prévenue(s) par e-mail.", n=len(enrolments))
    flash(message, "success")
    return redirect(url_for("scheduling.event", event_id=event.id))

