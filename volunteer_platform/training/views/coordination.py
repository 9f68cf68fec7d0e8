"""Training pages for coordinators, under ``/<tenant_slug>/training``: the
members × modules progress matrix and its CSV export, one person's training
(qualifications, attestations, in-person attendance), assignments, and the
default path given to new volunteers."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from flask import Response, abort, flash, g, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from volunteer_platform.auth.models import User
from volunteer_platform.auth.permissions import require_role
from volunteer_platform.db import utcnow
from volunteer_platform.errors import NotFound
from volunteer_platform.exports import csv_safe
from volunteer_platform.extensions import db
from volunteer_platform.tenants.models import Membership, Role
from volunteer_platform.tenants.scoping import get_in_tenant_or_404
from volunteer_platform.training import queries, services
from volunteer_platform.training.forms.coordination import (
    AssignForm,
    AttendanceForm,
    DefaultPathForm,
    ExternalQualificationForm,
    MatrixFilterForm,
    WithdrawForm,
    local_today,
)
from volunteer_platform.training.models import (
    Attestation,
    Module,
    ModuleVersion,
    Path,
    Qualification,
    QualificationAward,
    TrainingSettings,
)
from volunteer_platform.training.views import bp
from volunteer_platform.training.views.common import commit_or_show

COORDINATOR = Role.COORDINATOR
Record = TypeVar("Record", QualificationAward, Attestation)


def _visible_or_404(model: Any, ident: Any) -> Any:
    try:
        return queries.get_visible(model, ident, g.tenant)
    except NotFound:
        abort(404)


def _me() -> User:
    return current_user._get_current_object()


# --- the matrix -------------------------------------------------------------------------


def cell_label(cell: queries.MatrixCell, today: date) -> str:
    """A matrix cell in words (the same text on the page and in the CSV)."""
    due = format_date(cell.due_on, "short") if cell.due_on else None
    state = cell.state
    if state == "completed":
        return _("Terminé le %(date)s", date=format_date(cell.completed_at, "short"))
    if state == "in_progress":
        text = (_("En cours (%(percent)s %%), à rendre le %(date)s", percent=cell.percent, date=due)
                if due else _("En cours (%(percent)s %%)", percent=cell.percent))
    elif state == "assigned":
        text = _("Assigné, à rendre le %(date)s", date=due) if due else _("Assigné")
    else:
        return _("Non commencé")
    if cell.due_on is not None and cell.due_on < today:
        text += " " + _("(en retard)")
    return text


@dataclass
class MatrixRow:
    membership: Membership
    cells: list[tuple[queries.MatrixCell, str]]


@dataclass
class Matrix:
    columns: list[ModuleVersion]
    rows: list[MatrixRow]


def _matrix(filters: dict[str, Any]) -> Matrix:
    """Rows, columns and cells for the filters, in a fixed number of queries."""
    tenant = g.tenant
    members = queries.matrix_members(
        tenant, role=filters["role"], site_id=filters["site_id"], search=filters["search"]
    )
    columns = queries.published_catalogue(tenant)
    if filters["area"] is not None:
        columns = [v for v in columns if v.competence_area is filters["area"]]
    progress = queries.progress_matrix(
        tenant, module_ids=[v.module_id for v in columns], user_ids=[m.user_id for m in members]
    )
    if filters["assigned_only"]:
        assigned = progress.assigned_module_ids()
        columns = [v for v in columns if v.module_id in assigned]
    today = local_today(tenant)
    rows = []
    for membership in members:
        cells = [progress.cell(membership.user_id, v.module_id) for v in columns]
        rows.append(MatrixRow(membership, [(cell, cell_label(cell, today)) for cell in cells]))
    return Matrix(columns, rows)


@bp.get("/progress")
@require_role(COORDINATOR)
def progress_matrix() -> Any:
    """Members × modules: who finished, who is under way, who was asked to."""
    filter_form = MatrixFilterForm(request.args, tenant=g.tenant)
    matrix = _matrix(filter_form.cleaned())
    return render_template(
        "training/coordination/progress.html", filter_form=filter_form, matrix=matrix,
        csv_url=url_for("training.progress_csv", **request.args.to_dict(flat=False)),
    )


@bp.get("/progress.csv")
@require_role(COORDINATOR)
def progress_csv() -> Response:
    """The progress matrix as a CSV file, with the page's filters.

    Made for Excel as French users have it: semicolon-separated (in a French
    locale Excel expects ";", the comma being the decimal separator), UTF-8
    with a byte-order mark (without it Excel reads the file as Windows-1252
    and garbles the accents), CRLF line ends. One row per member, one column
    per module (its title in the header row); cells in words, as on the page.
    """
    filter_form = MatrixFilterForm(request.args, tenant=g.tenant)
    matrix = _matrix(filter_form.cleaned())
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    header = [_("Nom"), _("Adresse e-mail"), _("Rôle"), _("Lieu principal")]
    writer.writerow([csv_safe(text) for text in header + [v.title for v in matrix.columns]])
    for row in matrix.rows:
        m = row.membership
        values = [m.user.full_name, m.user.email, m.role.label, m.site.name if m.site else ""]
        writer.writerow([csv_safe(text) for text in values + [label for _cell, label in row.cells]])
    filename = f"progression-formation-{g.tenant.slug}-{local_today(g.tenant).isoformat()}.csv"
    response = Response(("\ufeff" + buffer.getvalue()).encode("utf-8"), content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- one person ---------------------------------------------------------------------------


def _membership_or_404(membership_id: int) -> Membership:
    return get_in_tenant_or_404(Membership, membership_id, g.tenant)


def _person_page(membership: Membership, *, status: int = 200, failed: tuple[str, int, Any] | None = None) -> Any:
    """Render the person page; ``failed`` is the (kind, id, form) submitted with errors,
    shown in place of its blank twin."""
    tenant = g.tenant
    training = queries.person_training(tenant, membership.user)
    award_forms = {
        a.id: WithdrawForm(formdata=None, prefix=f"award-{a.id}") for a in training.awards if a.withdrawn_at is None
    }
    attestation_forms = {
        a.id: WithdrawForm(formdata=None, prefix=f"attestation-{a.id}")
        for a in training.attestations if a.withdrawn_at is None
    }
    attendance_forms = {
        v.module_id: AttendanceForm(formdata=None, prefix=f"attendance-{v.module_id}", tenant=tenant)
        for v in training.attendance_versions if v.module_id not in training.attended_module_ids
    }
    qualification_form = ExternalQualificationForm(formdata=None, prefix="external", tenant=tenant)
    if failed is not None:
        kind, ident, form = failed
        if kind == "qualification":
            qualification_form = form
        else:
            shown = {"award": award_forms, "attestation": attestation_forms, "attendance": attendance_forms}[kind]
            if ident in shown:
                shown[ident] = form
            elif form.errors:  # withdrawn or attended meanwhile (or sent twice): its form is gone, say so
                flash({"award": _("Cette qualification est déjà retirée : rien n'a été modifié."),
                       "attestation": _("Cette attestation est déjà retirée : rien n'a été modifié."),
                       "attendance": _("Cette présence est déjà enregistrée : rien n'a été modifié.")}[kind],
                      "info")
    return render_template(
        "training/coordination/person.html",
        membership=membership, person=membership.user, training=training, now=utcnow(),
        soon=utcnow() + services.REMINDER_BEFORE, qualification_form=qualification_form,
        award_forms=award_forms, attestation_forms=attestation_forms, attendance_forms=attendance_forms,
    ), status


@bp.get("/people/<int:membership_id>")
@require_role(COORDINATOR)
def person(membership_id: int) -> Any:
    """One member's training: modules, paths, qualifications and attestations."""
    return _person_page(_membership_or_404(membership_id))


def _start_of_local_day(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(g.tenant.timezone))


def _record_of(membership: Membership, model: type[Record], ident: int) -> Record:
    """One of this person's awards or attestations in the structure (404 for anybody else's)."""
    record = get_in_tenant_or_404(model, ident, g.tenant)
    if record.user_id != membership.user_id:
        abort(404)
    return record


def _person_url(membership: Membership) -> str:
    return url_for("training.person", membership_id=membership.id)


def _person_action(membership: Membership, failed: tuple[str, int], form: Any,
                   save: Callable[[], tuple[str, str]]) -> Any:
    """A form posted on the person page: saved then back to the page, or the
    page again with this form and its errors in place of its blank twin."""
    done, status = commit_or_show(form, save)
    return done or _person_page(membership, status=status, failed=(*failed, form))


@bp.post("/people/<int:membership_id>/qualifications")
@require_role(COORDINATOR)
def person_record_qualification(membership_id: int) -> Any:
    """Record a qualification obtained elsewhere (another body, another training)."""
    membership = _membership_or_404(membership_id)
    form = ExternalQualificationForm(prefix="external", tenant=g.tenant)

    def save() -> tuple[str, str]:
        qualification = _visible_or_404(Qualification, form.qualification.data)
        services.record_external_qualification(
            g.tenant, membership.user, qualification,
            obtained_on=_start_of_local_day(form.obtained_on.data), note=form.note.data,
            recorded_by=_me(), now=utcnow(),
        )
        return _("La qualification « %(name)s » a été enregistrée pour %(person)s.",
                 name=qualification.name, person=membership.user.full_name), _person_url(membership)

    return _person_action(membership, ("qualification", 0), form, save)


@bp.post("/people/<int:membership_id>/awards/<int:award_id>/withdraw")
@require_role(COORDINATOR)
def person_withdraw_award(membership_id: int, award_id: int) -> Any:
    """Withdraw a qualification (its attestations are withdrawn with it)."""
    membership = _membership_or_404(membership_id)
    award = _record_of(membership, QualificationAward, award_id)
    form = WithdrawForm(prefix=f"award-{award.id}")

    def save() -> tuple[str, str]:
        name = award.qualification.name
        services.withdraw_award(award, reason=form.reason.data, now=utcnow())
        return _("La qualification « %(name)s » a été retirée.", name=name), _person_url(membership)

    return _person_action(membership, ("award", award_id), form, save)


@bp.post("/people/<int:membership_id>/attestations/<int:attestation_id>/withdraw")
@require_role(COORDINATOR)
def person_withdraw_attestation(membership_id: int, attestation_id: int) -> Any:
    """Withdraw an attestation: its public verification page then says so."""
    membership = _membership_or_404(membership_id)
    attestation = _record_of(membership, Attestation, attestation_id)
    form = WithdrawForm(prefix=f"attestation-{attestation.id}")

    def save() -> tuple[str, str]:
        code = attestation.code
        services.withdraw_attestation(attestation, reason=form.reason.data, now=utcnow())
        return _("L'attestation %(code)s a été retirée.", code=code), _person_url(membership)

    return _person_action(membership, ("attestation", attestation_id), form, save)


@bp.post("/people/<int:membership_id>/modules/<int:module_id>/attendance")
@require_role(COORDINATOR)
def person_record_attendance(membership_id: int, module_id: int) -> Any:
    """Record that the person attended the in-person session a module requires."""
    membership = _membership_or_404(membership_id)
    module = _visible_or_404(Module, module_id)
    version = queries.latest_published_version(module)
    if version is None or not version.requires_attendance:
        abort(404)
    form = AttendanceForm(prefix=f"attendance-{module.id}", tenant=g.tenant)

    def save() -> tuple[str, str]:
        services.record_attendance(
            g.tenant, membership.user, module, attended_on=form.attended_on.data,
            recorded_by=_me(), now=utcnow(),
        )
        return _("La présence de %(person)s à la séance « %(title)s » a été enregistrée.",
                 person=membership.user.full_name, title=version.title), _person_url(membership)

    return _person_action(membership, ("attendance", module.id), form, save)


# --- assignments and the default path ---------------------------------------------------


@bp.route("/assign", methods=["GET", "POST"])
@require_role(COORDINATOR)
def assign() -> Any:
    """Ask members to follow a module or a path, maybe by a date."""
    form = AssignForm(tenant=g.tenant)
    if request.method == "GET" and request.args.getlist("user"):
        form.members.data = [int(u) for u in request.args.getlist("user") if u.isdigit()]

    def save() -> tuple[str, str]:
        kind, ident = form.target_kind_and_id()
        target = _visible_or_404(Module if kind == "module" else Path, ident)
        users = list(db.session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.tenant_id == g.tenant.id, Membership.is_active.is_(True),
                   User.id.in_(form.chosen_user_ids()))
        ))
        services.assign(
            g.tenant, users, module=target if kind == "module" else None,
            path=target if kind == "path" else None, due_on=form.due_on.data,
            assigned_by=_me(), now=utcnow(),
        )
        title = target.title if kind == "path" else queries.latest_published_version(target).title
        return (_("%(title)s : attribué à %(count)s personne(s).", title=title, count=len(users)),
                url_for("training.assign"))

    done, status = commit_or_show(form, save)
    return done or (render_template("training/coordination/assign.html", form=form), status)


@bp.route("/settings", methods=["GET", "POST"])
@require_role(COORDINATOR)
def settings() -> Any:
    """The structure's default path, given to every new volunteer."""
    current = db.session.get(TrainingSettings, g.tenant.id)
    current_path = current.default_path if current is not None else None
    form = DefaultPathForm(tenant=g.tenant)
    if request.method == "GET":
        form.default_path.data = str(current_path.id) if current_path else ""

    def save() -> tuple[str, str]:
        path = _visible_or_404(Path, form.default_path.data) if form.default_path.data else None
        services.set_default_path(g.tenant, path)
        return (_("Le parcours « %(title)s » sera attribué à chaque nouveau bénévole.", title=path.title)
                if path else _("Aucun parcours ne sera attribué automatiquement aux nouveaux bénévoles."),
                url_for("training.settings"))

    done, status = commit_or_show(form, save)
    return done or (render_template("training/coordination/settings.html", form=form, current_path=current_path),
                    status)
