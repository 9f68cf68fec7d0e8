"""The association's pages: every structure, creating one, naming its coordinator."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from volunteer_platform.auth.permissions import require_supervisor
from volunteer_platform.auth.services import invite
from volunteer_platform.db import utcnow
from volunteer_platform.errors import DomainError
from volunteer_platform.extensions import db
from volunteer_platform.forms import ActionForm, apply_domain_error
from volunteer_platform.supervision import services
from volunteer_platform.supervision.forms import CoordinatorForm, NewStructureForm
from volunteer_platform.tenants.models import TENANT_KIND_LABELS, Role, Tenant, TenantKind
from volunteer_platform.tenants.services import set_tenant_active

bp = Blueprint("supervision", __name__, url_prefix="/supervision")


def _ttl() -> timedelta:
    return timedelta(days=current_app.config["INVITATION_TTL_DAYS"])


@bp.get("/")
@require_supervisor
def index() -> Any:
    kind_value = request.args.get("kind") or None
    kind = TenantKind(kind_value) if kind_value in TenantKind._value2member_map_ else None
    return render_template(
        "supervision/index.html",
        rows=services.structures_overview(kind=kind),
        kind=kind,
        kinds=TENANT_KIND_LABELS,
    )


@bp.route("/structures/new", methods=["GET", "POST"])
@require_supervisor
def structure_new() -> Any:
    form = NewStructureForm()
    if request.method == "GET":
        form.timezone.data = current_app.config["DEFAULT_TIMEZONE"]
    if form.validate_on_submit():
        try:
            tenant, invitation = services.create_structure(
                slug=form.slug.data,
                name=form.name.data,
                kind=TenantKind(form.kind.data),
                timezone=form.timezone.data,
                region=form.region.data,
                contact_email=form.contact_email.data,
                contact_phone=form.contact_phone.data,
                coordinator_email=form.coordinator_email.data,
                invited_by=current_user._get_current_object(),
                now=utcnow(),
                invitation_ttl=_ttl(),
                base_url=current_app.config["BASE_URL"],
            )
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            db.session.commit()
            flash(
                _("La structure « %(name)s » a été créée et une invitation envoyée à %(email)s.",
                  name=tenant.name, email=invitation.email),
                "success",
            )
            return redirect(url_for("supervision.structure", tenant_id=tenant.id))
    return render_template("supervision/structure_new.html", form=form), 422 if form.errors else 200


def _structure_or_404(tenant_id: int) -> Tenant:
    return db.get_or_404(Tenant, tenant_id)  # Tenant is the tenant itself, not tenant-owned


def _structure_page(tenant: Tenant, form: CoordinatorForm, status: int = 200) -> Any:
    now = utcnow()
    return render_template(
        "supervision/structure.html",
        tenant=tenant,
        coordinators=services.coordinators_of(tenant),
        pending=services.pending_coordinator_invitations(tenant, now=now),
        form=form,
        action_form=ActionForm(),
    ), status


@bp.get("/structures/<int:tenant_id>")
@require_supervisor
def structure(tenant_id: int) -> Any:
    return _structure_page(_structure_or_404(tenant_id), CoordinatorForm())


@bp.post("/structures/<int:tenant_id>/coordinators")
@require_supervisor
def structure_invite_coordinator(tenant_id: int) -> Any:
    tenant = _structure_or_404(tenant_id)
    form = CoordinatorForm()
    if form.validate_on_submit():
        try:
            invitation, _token = invite(
                tenant,
                form.email.data,
                Role.COORDINATOR,
                invited_by=current_user._get_current_object(),
                now=utcnow(),
                ttl=_ttl(),
                base_url=current_app.config["BASE_URL"],
            )
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            db.session.commit()
            flash(_("Invitation envoyée à %(email)s.", email=invitation.email), "success")
            return redirect(url_for("supervision.structure", tenant_id=tenant.id))
    return _structure_page(tenant, form, 422)


@bp.post("/structures/<int:tenant_id>/active")
@require_supervisor
def structure_set_active(tenant_id: int) -> Any:
    tenant = _structure_or_404(tenant_id)
    if ActionForm().validate_on_submit():
        active = request.form.get("active") == "1"
        set_tenant_active(tenant, active)
        db.session.commit()
        flash(
            _("La structure « %(name)s » est de nouveau active.", name=tenant.name)
            if active
            else _("La structure « %(name)s » a été désactivée. Ses données sont conservées.",
                   name=tenant.name),
            "success",
        )
    return redirect(url_for("supervision.structure", tenant_id=tenant.id))
