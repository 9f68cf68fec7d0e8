"""Enrolment pages under ``/<tenant_slug>/agenda``: the open sessions and
shifts with one-step sign-up, my enrolments and hours, the enrolment panel of
an event page (``_event_panel.html`` with ``event_panel_data``), coordinators
enrolling or removing someone, the attendance sheet, and under-staffed shifts.

Thin views: each calls one service of ``scheduling.enrolment`` and commits.
A refusal (full, too late, missing qualification, another commitment…) is a
French message with its 4xx, on the page the person came from when it is one
of these lists, else on a short page with a link back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

import babel.dates
from flask import (
    abort,
    current_app,
    flash,
    g,
    has_request_context,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import MultiDict

from volunteer_platform.auth.models import User
from volunteer_platform.auth.permissions import has_role, require_role
from volunteer_platform.auth.views import safe_next
from volunteer_platform.db import utcnow
from volunteer_platform.errors import DomainError, NotFound
from volunteer_platform.extensions import db
from volunteer_platform.forms import ActionForm
from volunteer_platform.paging import Pager, page_count, page_number
from volunteer_platform.scheduling import enrolment as enrolments
from volunteer_platform.scheduling import recurrence, services
from volunteer_platform.scheduling.enrolment import CapacityReached, EventPlaces
from volunteer_platform.scheduling.forms.enrolment import (
    EnrolMemberForm,
    OpenEventsFilterForm,
    attendance_form,
)
from volunteer_platform.scheduling.models import Attendance, Enrolment, EnrolmentStatus, Event, Room
from volunteer_platform.scheduling.views import bp
from volunteer_platform.tenants.models import Role
from volunteer_platform.tenants.scoping import get_in_tenant_or_404, tenant_select
from volunteer_platform.training.forms.coordination import local_today
from volunteer_platform.training.models import Qualification

COORDINATOR, TRAINER = Role.COORDINATOR, Role.TRAINER
ANY_MEMBER = tuple(Role)
EVENT_PAGE_RULE = "/<tenant_slug>/agenda/events/<int:event_id>"
MEMBER_FORM_PREFIX = "enrol"


def _me() -> User:
    return current_user._get_current_object()


def _event_or_404(event_id: int) -> Event:
    return get_in_tenant_or_404(Event, event_id, g.tenant)


def _base_url() -> str:
    return current_app.config["BASE_URL"]


def _event_page_endpoint() -> str | None:
    for rule in current_app.url_map.iter_rules():
        if rule.rule == EVENT_PAGE_RULE and "GET" in (rule.methods or ()):
            return rule.endpoint
    return None


def event_url(event_id: int, endpoint: str | None = None) -> str:
    """The agenda's page of an event (the same address the e-mails link to).
    ``endpoint``: ``_event_page_endpoint()``, when a page links to many events."""
    endpoint = endpoint or _event_page_endpoint()
    if endpoint is not None:
        return url_for(endpoint, event_id=event_id)
    return f"{request.script_root}/{g.tenant.slug}/agenda/events/{event_id}"


def hours_text(hours: float) -> str:
    """12.5 → "12,5 h" (French decimals)."""
    return _("%(n)s h", n=format_decimal(round(hours, 1), format="#,##0.#"))


@bp.app_template_filter("in_zone")
def in_zone(moment: datetime, zone: str, pattern: str = "EEEE d MMMM y HH:mm") -> str:
    """A UTC moment in a structure's time zone, in the current language.

    For e-mails: outside a request (a cron command) Flask-Babel's filters use
    the default zone, not the structure's.
    """
    locale = get_locale() or current_app.config.get("BABEL_DEFAULT_LOCALE", "fr")
    return babel.dates.format_datetime(moment, pattern, tzinfo=ZoneInfo(zone), locale=locale)


# --- refusals ---------------------------------------------------------------------------------


def _next_url() -> str | None:
    return safe_next(request.form.get("next"))


def _refused(error: DomainError, next_url: str | None) -> Any:
    """Show a service's refusal (nothing was saved) with its 4xx."""
    if isinstance(error, NotFound):
        abort(404)
    message = str(error.message)
    if isinstance(error, CapacityReached):
        message += " " + _("Vous pouvez vous inscrire sur la liste d'attente.")
    flash(message, "error")
    return _back_with_status(next_url, error.status_code)


def _back_with_status(next_url: str | None, status: int) -> Any:
    if next_url:
        parts = urlsplit(next_url)
        if parts.path == url_for("scheduling.open_events"):
            return _open_events_page(MultiDict(parse_qsl(parts.query)), next_url=next_url, status=status)
        if parts.path == url_for("scheduling.my_enrolments"):
            return _my_enrolments_page(status=status)
    back = next_url or url_for("scheduling.open_events")
    return render_template("scheduling/enrolment/refused.html", back_url=back), status


# --- open sessions and shifts ---------------------------------------------------------------


@dataclass
class OpenCard:
    places: EventPlaces
    mine: Enrolment | None
    position: int | None
    is_qualified: bool
    qualification_name: str | None
    opens_at: datetime
    when: str  # "lundi 2 mars, de 14:00 à 16:00", in the structure's zone
    url: str  # the event's page
    enrol_url: str

    @property
    def event(self) -> Event:
        return self.places.event


def _qualification_names(events: list[Event]) -> dict[int, str]:
    ids = {e.required_qualification_id for e in events if e.required_qualification_id is not None}
    if not ids:
        return {}
    return dict(db.session.execute(select(Qualification.id, Qualification.name).where(Qualification.id.in_(ids))).all())


OPEN_PAGE_SIZE = 20  # cards per page of the open list


class _DayLabels:
    """Local day and times of events, each day's label formatted once (Babel's
    date formatting is the costly part of a card)."""

    def __init__(self, zone: str) -> None:
        self.zone = ZoneInfo(zone)
        self.locale = get_locale()
        self.days: dict[Any, str] = {}

    def when(self, event: Event) -> str:
        starts, ends = event.starts_at.astimezone(self.zone), event.ends_at.astimezone(self.zone)
        day = self.days.get(starts.date())
        if day is None:
            day = self.days[starts.date()] = babel.dates.format_date(starts.date(), "EEEE d MMMM", locale=self.locale)
        return day + ", " + _("de %(start)s à %(end)s", start=starts.strftime("%H:%M"), end=ends.strftime("%H:%M"))


def _open_events_page(args: MultiDict, *, next_url: str | None = None, status: int = 200) -> Any:
    tenant, me, now = g.tenant, _me(), utcnow()
    form = OpenEventsFilterForm(args, tenant=tenant)
    filters = form.cleaned(local_today(tenant))
    # Light rows first (id, qualification, end): filter them and cut the page, then
    # load and show only that page's events.
    keys = enrolments.open_event_keys(tenant, now=now, start=filters.start, end=filters.end,
                                      site_id=filters.site_id, kind=filters.kind)
    qualified = enrolments.qualified_event_ids(me.id, keys)
    if filters.qualified_only:
        keys = [k for k in keys if k.id in qualified]
    pages = page_count(len(keys), OPEN_PAGE_SIZE)
    page = min(page_number(args), pages)
    shown = keys[(page - 1) * OPEN_PAGE_SIZE:page * OPEN_PAGE_SIZE]
    rows = enrolments.open_events_by_id(tenant, [k.id for k in shown])
    mine = enrolments.active_enrolments_of(me.id, [r.event.id for r in rows])
    positions = enrolments.waitlist_positions(
        [event_id for event_id, e in mine.items() if e.status is EnrolmentStatus.WAITLISTED])
    names = _qualification_names([r.event for r in rows])
    settings = enrolments.settings_for(tenant)
    labels, endpoint = _DayLabels(tenant.timezone), _event_page_endpoint()
    cards = []
    for row in rows:
        event = row.event
        place = mine.get(event.id)
        cards.append(OpenCard(
            places=row, mine=place, position=positions.get(place.id) if place else None,
            is_qualified=event.id in qualified,
            qualification_name=names.get(event.required_qualification_id),
            opens_at=enrolments.signup_opens_at(event, settings),
            when=labels.when(event),
            url=event_url(event.id, endpoint),
            enrol_url=url_for("scheduling.enrol", event_id=event.id),
        ))
    pager = Pager.of(page, pages, args, "scheduling.open_events")
    # One token for every sign-up button (what ActionForm's hidden field holds).
    csrf = generate_csrf() if current_app.config.get("WTF_CSRF_ENABLED", True) else None
    return render_template(
        "scheduling/enrolment/open_events.html", form=form, filters=filters, cards=cards, total=len(keys),
        pager=pager, now=now, csrf=csrf, next_url=next_url or request.full_path.rstrip("?"),
    ), status


@bp.get("/open")
@require_role(*ANY_MEMBER)
def open_events() -> Any:
    """Upcoming sessions, workshops and shifts taking sign-ups, with one-step sign-up."""
    return _open_events_page(request.args)


@bp.post("/events/<int:event_id>/enrol")
@require_role(*ANY_MEMBER)
def enrol(event_id: int) -> Any:
    """Sign myself up: a place if one is free; the waitlist when asked for."""
    event = _event_or_404(event_id)
    next_url = _next_url()
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    title, starts_at = event.title, event.starts_at
    try:
        place = enrolments.enrol(event, _me(), now=utcnow(), waitlist=request.form.get("waitlist") == "1",
                                 base_url=_base_url())
    except DomainError as error:
        db.session.rollback()
        return _refused(error, next_url)
    place_id, confirmed = place.id, place.status is EnrolmentStatus.CONFIRMED
    position = None if confirmed else enrolments.waitlist_positions([event.id]).get(place_id)
    db.session.commit()
    when = _("%(day)s à %(time)s", day=_local(starts_at, "EEEE d MMMM"), time=_local(starts_at, "HH:mm"))
    if confirmed:
        flash(_("C'est noté : vous êtes inscrit(e) à « %(title)s », %(when)s. Un e-mail de confirmation "
                "vous a été envoyé.", title=title, when=when), "success")
    else:
        flash(_("« %(title)s » est complet : vous êtes sur la liste d'attente (position %(n)s). Si une "
                "place se libère, elle vous est donnée et vous recevez un e-mail.", title=title, n=position),
              "success")
    return redirect(next_url or url_for("scheduling.my_enrolments"))


def _local(moment: datetime, pattern: str) -> str:
    return in_zone(moment, g.tenant.timezone, pattern)


@bp.post("/events/<int:event_id>/unenrol")
@require_role(*ANY_MEMBER)
def cancel_enrolment(event_id: int) -> Any:
    """Cancel my place or leave the waitlist (before the structure's deadline)."""
    event = _event_or_404(event_id)
    next_url = _next_url()
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    me = _me()
    place = db.session.scalars(
        tenant_select(Enrolment, g.tenant).where(
            Enrolment.event_id == event.id, Enrolment.user_id == me.id,
            Enrolment.status.in_([EnrolmentStatus.CONFIRMED, EnrolmentStatus.WAITLISTED]))
    ).one_or_none()
    if place is None:
        abort(404)
    title, was_waitlisted = event.title, place.status is EnrolmentStatus.WAITLISTED
    try:
        enrolments.cancel(place, now=utcnow(), by=me, base_url=_base_url())
    except DomainError as error:
        db.session.rollback()
        return _refused(error, next_url)
    db.session.commit()
    if was_waitlisted:
        flash(_("Vous avez quitté la liste d'attente de « %(title)s ».", title=title), "success")
    else:
        flash(_("Votre inscription à « %(title)s » est annulée. Merci d'avoir prévenu.", title=title), "success")
    return redirect(next_url or url_for("scheduling.my_enrolments"))


# --- coordinators: enrol or remove someone ---------------------------------------------------


@bp.post("/events/<int:event_id>/enrol-member")
@require_role(COORDINATOR)
def enrol_member(event_id: int) -> Any:
    """A coordinator signs a member up (also beyond the sign-up horizon)."""
    event = _event_or_404(event_id)
    next_url = _next_url() or event_url(event.id)
    form = EnrolMemberForm(tenant=g.tenant, prefix=MEMBER_FORM_PREFIX)
    if not form.validate_on_submit():
        flash(_("Choisissez la personne à inscrire dans la liste."), "error")
        return _back_with_status(next_url, 422)
    person = db.session.get(User, form.user_id())
    if person is None:
        abort(404)
    name, title = person.full_name, event.title
    try:
        place = enrolments.enrol(event, person, now=utcnow(), by_coordinator=True, base_url=_base_url())
    except DomainError as error:
        db.session.rollback()
        return _refused(error, next_url)
    confirmed = place.status is EnrolmentStatus.CONFIRMED
    db.session.commit()
    if confirmed:
        flash(_("%(name)s est inscrit(e) à « %(title)s » et reçoit un e-mail de confirmation.",
                name=name, title=title), "success")
    else:
        flash(_("« %(title)s » est complet : %(name)s est sur la liste d'attente.", name=name, title=title),
              "success")
    return redirect(next_url)


@bp.post("/events/<int:event_id>/enrolments/<int:enrolment_id>/remove")
@require_role(COORDINATOR)
def remove_participant(event_id: int, enrolment_id: int) -> Any:
    """A coordinator removes someone; after the deadline it is recorded as a late cancellation."""
    event = _event_or_404(event_id)
    place = get_in_tenant_or_404(Enrolment, enrolment_id, g.tenant)
    if place.event_id != event.id:
        abort(404)
    next_url = _next_url() or event_url(event.id)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    name, title = place.user.full_name, event.title
    try:
        promoted = enrolments.cancel(place, now=utcnow(), by=_me(), as_coordinator=True, base_url=_base_url())
    except DomainError as error:
        db.session.rollback()
        return _refused(error, next_url)
    late, promoted_name = place.cancelled_late, promoted.user.full_name if promoted else None
    db.session.commit()
    message = _("%(name)s ne fait plus partie de « %(title)s ».", name=name, title=title)
    if late:
        message += " " + _("L'annulation est tardive : elle est enregistrée comme telle.")
    if promoted_name:
        message += " " + _("%(name)s, premier(e) sur la liste d'attente, prend la place et reçoit un e-mail.",
                           name=promoted_name)
    flash(message, "success")
    return redirect(next_url)


# --- the panel of an event page -----------------------------------------------------------------


@dataclass
class EventPanel:
    """What ``_event_panel.html`` shows to one person about one event."""

    event: Event
    places: EventPlaces
    mine: Enrolment | None
    my_position: int | None
    state: str  # "open", "full" (waitlist), "not_yet", "started", "cancelled"
    opens_at: datetime
    deadline: datetime
    too_late_to_cancel: bool
    is_trainer: bool
    can_manage: bool  # coordinators and the event's trainer: the participants list
    is_coordinator: bool
    can_remove: bool  # coordinators, until the event is over
    confirmed: list[Enrolment]
    waitlist: list[Enrolment]
    shared_first_names: list[str]
    action_form: ActionForm
    member_form: EnrolMemberForm | None
    attendance_open: bool
    next_url: str


@bp.app_template_global()
def event_panel_data(event: Event, user: Any) -> EventPanel | None:
    """Data of the enrolment panel of an event page, in a fixed number of queries
    (participants and their names, the rules, and for coordinators the members)."""
    if not getattr(user, "is_authenticated", False) or event.kind not in enrolments.ENROLLABLE \
            or not event.capacity:
        return None
    now = utcnow()
    confirmed, waitlist = enrolments.participants_of(event)
    mine = next((e for e in confirmed + waitlist if e.user_id == user.id), None)
    settings = enrolments.settings_for(enrolments.event_tenant(event))
    places = EventPlaces(event, len(confirmed), len(waitlist))
    opens_at = enrolments.signup_opens_at(event, settings)
    deadline = enrolments.cancellation_deadline(event, settings)
    if event.is_cancelled:
        state = "cancelled"
    elif event.starts_at <= now:
        state = "started"
    elif now < opens_at:
        state = "not_yet"
    else:
        state = "full" if places.is_full else "open"
    is_coordinator = has_role(COORDINATOR)
    is_trainer = event.trainer_id == user.id
    can_manage = is_coordinator or is_trainer
    shared: list[str] = []
    if not can_manage and mine is not None and mine.status is EnrolmentStatus.CONFIRMED:
        shared = [e.user.first_name for e in confirmed if e.user_id != user.id]
    member_form = None
    if is_coordinator and state in ("open", "full", "not_yet"):
        taken = {e.user_id for e in confirmed + waitlist}
        member_form = EnrolMemberForm(formdata=None, tenant=enrolments.event_tenant(event), exclude_user_ids=taken,
                                      prefix=MEMBER_FORM_PREFIX)
    return EventPanel(
        event=event, places=places, mine=mine,
        my_position=(waitlist.index(mine) + 1) if mine is not None and mine in waitlist else None,
        state=state, opens_at=opens_at, deadline=deadline, too_late_to_cancel=now > deadline,
        is_trainer=is_trainer, can_manage=can_manage, is_coordinator=is_coordinator,
        can_remove=is_coordinator and not event.is_cancelled and event.ends_at > now,
        confirmed=confirmed if can_manage else [], waitlist=waitlist if can_manage else [],
        shared_first_names=shared, action_form=ActionForm(formdata=None), member_form=member_form,
        attendance_open=can_manage and not event.is_cancelled and event.starts_at <= now,
        next_url=request.path if has_request_context() else "",
    )


# --- my enrolments ----------------------------------------------------------------------------------


@dataclass
class UpcomingRow:
    enrolment: Enrolment
    position: int | None
    deadline: datetime
    has_started: bool
    too_late_to_cancel: bool

    @property
    def event(self) -> Event:
        return self.enrolment.event


def _my_enrolments_page(*, status: int = 200) -> Any:
    tenant, me, now = g.tenant, _me(), utcnow()
    upcoming, past = enrolments.commitments_of(me, tenant, now=now, past_since=now - timedelta(days=365))
    positions = enrolments.waitlist_positions(
        [e.event_id for e in upcoming if e.status is EnrolmentStatus.WAITLISTED])
    settings = enrolments.settings_for(tenant)
    rows = []
    for place in upcoming:
        deadline = enrolments.cancellation_deadline(place.event, settings)
        rows.append(UpcomingRow(
            enrolment=place, position=positions.get(place.id), deadline=deadline,
            has_started=place.event.starts_at <= now,
            too_late_to_cancel=place.status is EnrolmentStatus.CONFIRMED and now > deadline,
        ))
    year = local_today(tenant).year
    hours = enrolments.hours_given(
        me, start=recurrence.local_to_utc(datetime(year, 1, 1), tenant.timezone),
        end=recurrence.local_to_utc(datetime(year + 1, 1, 1), tenant.timezone), tenant=tenant,
    )
    return render_template(
        "scheduling/enrolment/mine.html",
        confirmed=[r for r in rows if r.enrolment.status is EnrolmentStatus.CONFIRMED],
        waitlisted=[r for r in rows if r.enrolment.status is EnrolmentStatus.WAITLISTED],
        past=past, hours=hours, year=year, hours_text=hours_text, action_form=ActionForm(formdata=None),
        event_url=event_url, Attendance=Attendance,
    ), status


@bp.get("/mine")
@require_role(*ANY_MEMBER)
def my_enrolments() -> Any:
    """My places to come, my waitlists, what I did, and my hours this year."""
    return _my_enrolments_page()


# --- attendance ---------------------------------------------------------------------------------------


@bp.route("/events/<int:event_id>/attendance", methods=["GET", "POST"])
@require_role(COORDINATOR, TRAINER)
def attendance(event_id: int) -> Any:
    """The attendance sheet (the event's trainer or a coordinator), once the event has started."""
    event = _event_or_404(event_id)
    me = _me()
    if not has_role(COORDINATOR) and event.trainer_id != me.id:
        abort(403)
    now = utcnow()
    confirmed, _waitlist = enrolments.participants_of(event)
    is_open = not event.is_cancelled and event.starts_at <= now
    form = attendance_form(confirmed) if is_open else None
    status = 200
    if request.method == "POST":
        if form is None:
            flash(_("Cet événement est annulé.") if event.is_cancelled
                  else _("On note les présences une fois l'événement commencé."), "error")
            status = 409
        elif form.validate_on_submit():
            try:
                marked = 0
                for place, value in form.chosen():
                    if place.attendance is None or place.attendance.value != value:
                        enrolments.mark_attendance(place, Attendance(value), by=me, now=now)
                    marked += 1
            except DomainError as error:
                db.session.rollback()
                flash(str(error.message), "error")
                return _attendance_page(event, confirmed, form, status=error.status_code)
            db.session.commit()
            flash(_("Présences enregistrées pour %(n)s personne(s) sur %(total)s.", n=marked, total=len(confirmed)),
                  "success")
            return redirect(url_for("scheduling.attendance", event_id=event.id))
        else:
            status = 422
    return _attendance_page(event, confirmed, form, status=status)


def _attendance_page(event: Event, confirmed: list[Enrolment], form: Any, *, status: int) -> Any:
    return render_template(
        "scheduling/enrolment/attendance.html", event=event, confirmed=confirmed, form=form,
        event_url=event_url,
    ), status


# --- under-staffed shifts ---------------------------------------------------------------------------


@bp.get("/understaffed")
@require_role(COORDINATOR)
def understaffed() -> Any:
    """Shifts of the coming two weeks that still need volunteers."""
    rows = services.under_staffed_shifts(g.tenant, now=utcnow(), days=14)
    room_ids = {event.room_id for event, _n in rows if event.room_id is not None}
    rooms = {room.id: room for room in db.session.scalars(
        tenant_select(Room, g.tenant).where(Room.id.in_(room_ids)).options(selectinload(Room.site))
    )} if room_ids else {}
    shifts = [(event, confirmed, (event.capacity or 0) - confirmed, rooms.get(event.room_id))
              for event, confirmed in rows]
    return render_template("scheduling/enrolment/understaffed.html", shifts=shifts, event_url=event_url)
