"""Scheduling pages for coordinators: the structure's resources — rooms and
their opening hours, closures (holidays, works), kits that travel — and the
enrolment rules. Thin views: parse the form, call one service, commit, flash,
redirect; a refusal is shown again with its errors (422)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from volunteer_platform.auth.permissions import require_role
from volunteer_platform.db import utcnow
from volunteer_platform.errors import DomainError, NotFound
from volunteer_platform.extensions import db
from volunteer_platform.forms import ActionForm, apply_domain_error, commit_or_show, form_status
from volunteer_platform.scheduling import enrolment, services
from volunteer_platform.scheduling.forms.resources import (
    SLOTS,
    WEEKDAY_NAMES,
    ClosureForm,
    EnrolmentRulesForm,
    KitForm,
    OpeningHoursForm,
    RoomForm,
    hours_field_name,
)
from volunteer_platform.scheduling.models import Closure, Kit, Room
from volunteer_platform.scheduling.views import bp
from volunteer_platform.tenants.models import Role, Site
from volunteer_platform.tenants.scoping import get_in_tenant_or_404, tenant_select
from volunteer_platform.tenants.services import sites_of

COORDINATOR = Role.COORDINATOR



def _refused(form: Any, error: DomainError) -> DomainError:
    """Undo the request's changes and show the refusal; another structure's
    site or room looks the same as a missing one."""
    db.session.rollback()
    if isinstance(error, NotFound):
        abort(404)
    apply_domain_error(form, error)
    return error


def local_today() -> date:
    return utcnow().astimezone(ZoneInfo(g.tenant.timezone)).date()


def opening_summary(room: Room) -> list[tuple[str, str]]:
    """A room's hours in words, day by day: [("Lundi", "09:00–12:00, 14:00–17:00"), …]."""
    days: dict[int, list[str]] = {}
    for hours in room.opening_hours:
        days.setdefault(hours.weekday, []).append(
            f"{hours.opens_at.strftime('%H:%M')}–{hours.closes_at.strftime('%H:%M')}"
        )
    return [(str(WEEKDAY_NAMES[d]), ", ".join(days[d])) for d in sorted(days)]


# --- rooms ---------------------------------------------------------------------------------


@dataclass
class SiteRooms:
    site: Site
    rooms: list[Room]


@bp.get("/rooms")
@require_role(COORDINATOR)
def rooms() -> Any:
    """The rooms of each site, with their places, equipment, hours and status (three queries)."""
    all_rooms = db.session.scalars(
        tenant_select(Room, g.tenant).options(selectinload(Room.opening_hours)).order_by(Room.name)
    ).all()
    by_site: dict[int, list[Room]] = {}
    for room in all_rooms:
        by_site.setdefault(room.site_id, []).append(room)
    groups = [SiteRooms(site, by_site.get(site.id, [])) for site in sites_of(g.tenant)]
    return render_template("scheduling/resources/rooms.html", groups=groups, opening_summary=opening_summary)


def _room_values(form: RoomForm) -> dict[str, Any]:
    return {
        "site_id": int(form.site_id.data),
        "name": form.name.data,
        "capacity": form.capacity.data,
        "equipment": list(form.equipment.data or []),
        "is_active": bool(form.is_active.data),
    }


@bp.route("/rooms/new", methods=["GET", "POST"])
@require_role(COORDINATOR)
def room_new() -> Any:
    form = RoomForm(tenant=g.tenant)
    if request.method == "GET" and request.args.get("site", "").isdigit():
        form.site_id.data = request.args["site"]
    refusal = None
    if form.validate_on_submit():
        try:
            room = services.create_room(g.tenant, **_room_values(form))
        except DomainError as error:
            refusal = _refused(form, error)
        else:
            db.session.commit()
            flash(_("La salle « %(name)s » a été ajoutée. Indiquez maintenant ses horaires d'ouverture.",
                    name=room.name), "success")
            return redirect(url_for("scheduling.room_hours", room_id=room.id))
    return render_template("scheduling/resources/room_form.html", form=form, room=None), form_status(form, refusal)


@bp.route("/rooms/<int:room_id>", methods=["GET", "POST"])
@require_role(COORDINATOR)
def room_edit(room_id: int) -> Any:
    room = get_in_tenant_or_404(Room, room_id, g.tenant)
    form = RoomForm(tenant=g.tenant, obj=room)

    def save() -> tuple[str, str]:
        services.update_room(room, **_room_values(form))
        return _("La salle « %(name)s » a été enregistrée.", name=room.name), url_for("scheduling.rooms")

    done, status = commit_or_show(form, save)
    if done is not None:
        return done
    return render_template("scheduling/resources/room_form.html", form=form, room=room), status


@bp.route("/rooms/<int:room_id>/hours", methods=["GET", "POST"])
@require_role(COORDINATOR)
def room_hours(room_id: int) -> Any:
    room = get_in_tenant_or_404(Room, room_id, g.tenant)
    form = OpeningHoursForm()
    if request.method == "GET":
        form.fill(room)
    refusal = None
    if form.validate_on_submit():
        try:
            services.set_opening_hours(room, form.intervals())
        except DomainError as error:
            refusal = _refused(form, error)
        else:
            db.session.commit()
            flash(_("Les horaires de la salle « %(name)s » ont été enregistrés.", name=room.name), "success")
            return redirect(url_for("scheduling.rooms"))
    days = [
        (name, [(form[hours_field_name(weekday, slot, "opens")], form[hours_field_name(weekday, slot, "closes")])
                for slot in SLOTS])
        for weekday, name in enumerate(WEEKDAY_NAMES)
    ]
    return render_template(
        "scheduling/resources/room_hours.html", form=form, room=room, days=days,
        summary=opening_summary(room),
    ), form_status(form, refusal)


# --- closures --------------------------------------------------------------------------------


@dataclass
class ClosureRow:
    closure: Closure
    place: str


def _closures_page(form: ClosureForm, status: int) -> Any:
    site_names = {s.id: s.name for s in form.sites}
    room_names = {r.id: (r.name, site_names.get(r.site_id, "")) for r in form.rooms}

    def row(closure: Closure) -> ClosureRow:
        if closure.site_id is not None:
            place = _("Tout le lieu « %(name)s »", name=site_names.get(closure.site_id, ""))
        else:
            room_name, site_name = room_names.get(closure.room_id, ("", ""))
            place = _("Salle « %(room)s » (%(site)s)", room=room_name, site=site_name)
        return ClosureRow(closure, place)

    today = local_today()
    all_closures = db.session.scalars(
        tenant_select(Closure, g.tenant).order_by(Closure.starts_on, Closure.id)
    ).all()
    upcoming = [row(c) for c in all_closures if c.ends_on >= today]
    past = [row(c) for c in reversed(all_closures) if c.ends_on < today]
    return render_template(
        "scheduling/resources/closures.html", form=form, upcoming=upcoming, past=past, today=today,
        action_form=ActionForm(),
    ), status


@bp.route("/closures", methods=["GET", "POST"])
@require_role(COORDINATOR)
def closures() -> Any:
    form = ClosureForm(tenant=g.tenant)
    refusal = None
    if form.validate_on_submit():
        site_id, room_id = form.site_and_room()
        try:
            services.create_closure(
                g.tenant, site_id=site_id, room_id=room_id, starts_on=form.starts_on.data,
                ends_on=form.ends_on.data, reason=form.reason.data,
            )
        except DomainError as error:
            refusal = _refused(form, error)
        else:
            db.session.commit()
            flash(_("La fermeture a été enregistrée."), "success")
            return redirect(url_for("scheduling.closures"))
    return _closures_page(form, form_status(form, refusal))


@bp.post("/closures/<int:closure_id>/delete")
@require_role(COORDINATOR)
def closure_delete(closure_id: int) -> Any:
    closure = get_in_tenant_or_404(Closure, closure_id, g.tenant)
    if ActionForm().validate_on_submit():
        reason = closure.reason
        services.delete_closure(closure)
        db.session.commit()
        flash(_("La fermeture « %(reason)s » a été supprimée.", reason=reason), "success")
    return redirect(url_for("scheduling.closures"))


# --- kits -----------------------------------------------------------------------------------


@bp.route("/kits", methods=["GET", "POST"])
@require_role(COORDINATOR)
def kits() -> Any:
    form = KitForm()
    refusal = None
    if form.validate_on_submit():
        try:
            kit = services.create_kit(g.tenant, name=form.name.data, description=form.description.data,
                                      is_active=bool(form.is_active.data))
        except DomainError as error:
            refusal = _refused(form, error)
        else:
            db.session.commit()
            flash(_("Le matériel « %(name)s » a été ajouté.", name=kit.name), "success")
            return redirect(url_for("scheduling.kits"))
    all_kits = db.session.scalars(tenant_select(Kit, g.tenant).order_by(Kit.is_active.desc(), Kit.name)).all()
    return render_template("scheduling/resources/kits.html", form=form, kits=all_kits), form_status(form, refusal)


@bp.route("/kits/<int:kit_id>", methods=["GET", "POST"])
@require_role(COORDINATOR)
def kit_edit(kit_id: int) -> Any:
    kit = get_in_tenant_or_404(Kit, kit_id, g.tenant)
    form = KitForm(obj=kit)

    def save() -> tuple[str, str]:
        services.update_kit(kit, name=form.name.data, description=form.description.data,
                            is_active=bool(form.is_active.data))
        return _("Le matériel « %(name)s » a été enregistré.", name=kit.name), url_for("scheduling.kits")

    done, status = commit_or_show(form, save)
    if done is not None:
        return done
    return render_template("scheduling/resources/kit_form.html", form=form, kit=kit), status


# --- enrolment rules ------------------------------------------------------------------------


@bp.route("/rules", methods=["GET", "POST"])
@require_role(COORDINATOR)
def rules() -> Any:
    form = EnrolmentRulesForm(obj=enrolment.settings_for(g.tenant))
    refusal = None
    if form.validate_on_submit():
        try:
            enrolment.update_settings(
                g.tenant, signup_horizon_days=form.signup_horizon_days.data,
                cancellation_deadline_hours=form.cancellation_deadline_hours.data,
            )
        except DomainError as error:
            refusal = _refused(form, error)
        else:
            db.session.commit()
            flash(_("Les règles d'inscription ont été enregistrées."), "success")
            return redirect(url_for("scheduling.rules"))
    return render_template("scheduling/resources/rules.html", form=form), form_status(form, refusal)
