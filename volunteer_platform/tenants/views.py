"""A structure's own pages, under ``/<tenant_slug>/``: home, details, sites,
members and invitations."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload

from volunteer_platform.auth import services as auth_services
from volunteer_platform.auth.models import Invitation
from volunteer_platform.auth.permissions import has_role, require_role
from volunteer_platform.db import utcnow
from volunteer_platform.errors import DomainError
from volunteer_platform.extensions import db, limiter
from volunteer_platform.forms import ActionForm, apply_domain_error, form_status
from volunteer_platform.tenants import services
from volunteer_platform.tenants.forms import InvitationForm, MemberForm, SiteForm, TenantDetailsForm
from volunteer_platform.tenants.models import Membership, Role, Site
from volunteer_platform.tenants.scoping import (
    get_in_tenant_or_404,
    register_tenant_prefix,
    tenant_select,
)

bp = Blueprint("tenants", __name__, url_prefix="/<tenant_slug>")
register_tenant_prefix(bp)

EVERYONE = (Role.COORDINATOR, Role.TRAINER, Role.VOLUNTEER)
COORDINATOR = Role.COORDINATOR



@bp.get("/")
@require_role(*EVERYONE)
def home() -> Any:
    """The structure's home: what is next for me; the figures for a coordinator."""
    counts = None
    if has_role(COORDINATOR):
        counts = services.tenant_counts(g.tenant)
        counts["invitations"] = auth_services.pending_invitation_count(g.tenant, now=utcnow())
    # The structure's home shows the person's next training step ("what's next"),
    # and what they still have to fill in (surveys, shift reports, self-assessments).
    from volunteer_platform.impact.views.participation import todo_for
    from volunteer_platform.training.views.learner import home_next_step

    me = current_user._get_current_object()
    next_step = home_next_step(me, g.tenant) if g.membership is not None else None
    todo = todo_for(me, g.tenant, now=utcnow()) if g.membership is not None else []
    return render_template("tenants/home.html", counts=counts, next_step=next_step, todo=todo)


# --- details ---------------------------------------------------------------------


@bp.route("/structure", methods=["GET", "POST"])
@require_role(COORDINATOR)
def details() -> Any:
    tenant = g.tenant
    form = TenantDetailsForm(obj=tenant)
    if request.method == "GET":
        form.kind.data = tenant.kind.value
    if form.validate_on_submit():
        try:
            services.update_tenant(
                tenant,
                name=form.name.data,
                kind=form.kind.data,
                timezone=form.timezone.data,
                region=form.region.data,
                contact_email=form.contact_email.data,
                contact_phone=form.contact_phone.data,
                retention_years=form.retention_years.data,
            )
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            db.session.commit()
            flash(_("Les informations de la structure ont été enregistrées."), "success")
            return redirect(url_for("tenants.details"))
    return render_template("tenants/details.html", form=form), form_status(form)


# --- sites -------------------------------------------------------------------------


@bp.get("/sites")
@require_role(COORDINATOR)
def sites() -> Any:
    return render_template("tenants/sites.html", sites=services.sites_of(g.tenant))


@bp.route("/sites/new", methods=["GET", "POST"])
@require_role(COORDINATOR)
def site_new() -> Any:
    form = SiteForm()
    del form.is_active  # a new site is active
    if form.validate_on_submit():
        try:
            site = services.create_site(
                g.tenant,
                name=form.name.data,
                address=form.address.data,
                postal_code=form.postal_code.data,
                city=form.city.data,
                access_notes=form.access_notes.data,
            )
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            db.session.commit()
            flash(_("Le lieu « %(name)s » a été ajouté.", name=site.name), "success")
            return redirect(url_for("tenants.sites"))
    return render_template("tenants/site_form.html", form=form, site=None), form_status(form)


@bp.route("/sites/<int:site_id>", methods=["GET", "POST"])
@require_role(COORDINATOR)
def site_edit(site_id: int) -> Any:
    site = get_in_tenant_or_404(Site, site_id, g.tenant)
    form = SiteForm(obj=site)
    if form.validate_on_submit():
        try:
            services.update_site(
                site,
                name=form.name.data,
                address=form.address.data,
                postal_code=form.postal_code.data,
                city=form.city.data,
                access_notes=form.access_notes.data,
                is_active=form.is_active.data,
            )
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            db.session.commit()
            flash(_("Le lieu « %(name)s » a été enregistré.", name=site.name), "success")
            return redirect(url_for("tenants.sites"))
    return render_template("tenants/site_form.html", form=form, site=site), form_status(form)


# --- members -----------------------------------------------------------------------


@bp.get("/members")
@require_role(COORDINATOR)
def members(status: int = 200) -> Any:
    return render_template(
        "tenants/members.html", members=services.members_of(g.tenant), action_form=ActionForm()
    ), status


@bp.route("/members/<int:membership_id>", methods=["GET", "POST"])
@require_role(COORDINATOR)
def member_edit(membership_id: int) -> Any:
    membership = get_in_tenant_or_404(Membership, membership_id, g.tenant)
    form = MemberForm(tenant=g.tenant, obj=membership)
    if request.method == "GET":
        form.role.data = membership.role.value
        form.site_id.data = str(membership.site_id or "")
    refusal: DomainError | None = None
    if form.validate_on_submit():
        try:
            services.update_membership(
                membership,
                role=form.role.data,
                site_id=int(form.site_id.data) if form.site_id.data else None,
            )
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
            refusal = error
        else:
            db.session.commit()
            flash(_("Les changements ont été enregistrés."), "success")
            return redirect(url_for("tenants.members"))
    return render_template(
        "tenants/member_edit.html", form=form, membership=membership, action_form=ActionForm()
    ), form_status(form, refusal)


@bp.post("/members/<int:membership_id>/active")
@require_role(COORDINATOR)
def member_set_active(membership_id: int) -> Any:
    membership = get_in_tenant_or_404(Membership, membership_id, g.tenant)
    active = request.form.get("active") == "1"
    if ActionForm().validate_on_submit():
        try:
            services.set_membership_active(membership, active)
        except DomainError as error:
            db.session.rollback()
            flash(str(error.message), "error")
            return members(status=error.status_code)
        db.session.commit()
        name = membership.user.full_name
        flash(
            _("%(name)s a été réactivé(e).", name=name)
            if active
            else _("%(name)s a été désactivé(e) dans la structure.", name=name),
            "success",
        )
    return redirect(url_for("tenants.members"))


# --- invitations ---------------------------------------------------------------------


def _invitations() -> list[Invitation]:
    stmt = (
        tenant_select(Invitation, g.tenant)
        .options(joinedload(Invitation.invited_by))
        .order_by(Invitation.created_at.desc())
    )
    return list(db.session.scalars(stmt))


@bp.route("/invitations", methods=["GET", "POST"])
@limiter.limit("30 per hour", methods=["POST"])
@require_role(COORDINATOR)
def invitations() -> Any:
    form = InvitationForm()
    if form.validate_on_submit():
        try:
            invitation, _token = auth_services.invite(
                g.tenant,
                form.email.data,
                Role(form.role.data),
                invited_by=current_user._get_current_object(),
                now=utcnow(),
                ttl=timedelta(days=current_app.config["INVITATION_TTL_DAYS"]),
                base_url=current_app.config["BASE_URL"],
            )
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            db.session.commit()
            flash(_("Invitation envoyée à %(email)s.", email=invitation.email), "success")
            return redirect(url_for("tenants.invitations"))
    return _invitations_page(form, form_status(form))


def _invitations_page(form: InvitationForm, status: int) -> Any:
    return render_template(
        "tenants/invitations.html",
        form=form,
        invitations=_invitations(),
        now=utcnow(),
        action_form=ActionForm(),
    ), status


@bp.post("/invitations/<int:invitation_id>/resend")
@limiter.limit("30 per hour")
@require_role(COORDINATOR)
def invitation_resend(invitation_id: int) -> Any:
    invitation = get_in_tenant_or_404(Invitation, invitation_id, g.tenant)
    if ActionForm().validate_on_submit():
        try:
            auth_services.resend_invitation(
                invitation,
                now=utcnow(),
                ttl=timedelta(days=current_app.config["INVITATION_TTL_DAYS"]),
                base_url=current_app.config["BASE_URL"],
            )
        except DomainError as error:
            db.session.rollback()
            flash(str(error.message), "error")
            return _invitations_page(InvitationForm(formdata=None), error.status_code)
        else:
            db.session.commit()
            flash(_("Invitation renvoyée à %(email)s.", email=invitation.email), "success")
    return redirect(url_for("tenants.invitations"))


@bp.post("/invitations/<int:invitation_id>/revoke")
@require_role(COORDINATOR)
def invitation_revoke(invitation_id: int) -> Any:
    invitation = get_in_tenant_or_404(Invitation, invitation_id, g.tenant)
    if ActionForm().validate_on_submit():
        try:
            auth_services.revoke_invitation(invitation, now=utcnow())
        except DomainError as error:
            db.session.rollback()
            flash(str(error.message), "error")
            return _invitations_page(InvitationForm(formdata=None), error.status_code)
        else:
            db.session.commit()
            flash(_("L'invitation de %(email)s a été annulée.", email=invitation.email), "success")
    return redirect(url_for("tenants.invitations"))
