"""Privacy pages: the privacy notice, a person's data (download, erasure), the audit
log of a structure and of the association, anonymising a volunteer who left."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from volunteer_platform.auth.permissions import (
    public,
    require_login,
    require_role,
    require_supervisor,
)
from volunteer_platform.db import utcnow
from volunteer_platform.errors import DomainError
from volunteer_platform.extensions import db
from volunteer_platform.forms import ActionForm, apply_domain_error
from volunteer_platform.privacy import services
from volunteer_platform.privacy.forms import EraseAccountForm
from volunteer_platform.privacy.models import AUDIT_ACTIONS
from volunteer_platform.tenants.models import Membership, Role
from volunteer_platform.tenants.scoping import get_in_tenant_or_404, register_tenant_prefix

bp = Blueprint("privacy", __name__)
tenant_bp = Blueprint("privacy_tenant", __name__, url_prefix="/<tenant_slug>/privacy")
register_tenant_prefix(tenant_bp)


@bp.get("/privacy")
@public
def notice() -> Any:
    return render_template("privacy/notice.html")


def _my_data_page(form: EraseAccountForm, status: int = 200) -> Any:
    return render_template(
        "privacy/my_data.html", form=form, sole_coordinator_of=services.sole_coordinator_of(current_user),
    ), status


@bp.get("/account/data")
@require_login
def my_data() -> Any:
    return _my_data_page(EraseAccountForm())


def _download(content: bytes, filename: str, mimetype: str) -> Response:
    response = Response(content, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/account/data.<any(json, zip):fmt>")
@require_login
def my_data_download(fmt: str) -> Response:
    user = current_user._get_current_object()
    data = services.personal_data(user)
    services.record("data.exported", actor=user, subject=user, details={"format": fmt})
    db.session.commit()
    day = utcnow().date().isoformat()
    if fmt == "json":
        body = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
        return _download(body, f"mes-donnees-{day}.json", "application/json")
    return _download(services.personal_data_zip(data), f"mes-donnees-{day}.zip", "application/zip")


@bp.post("/account/erase")
@require_login
def erase_account() -> Any:
    form = EraseAccountForm()
    if form.validate_on_submit():
        try:
            services.erase_own_account(current_user._get_current_object(), password=form.password.data,
                                       now=utcnow())
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            db.session.commit()
            logout_user()
            flash(_("Votre compte a été supprimé. Vos données personnelles ont été effacées."), "success")
            return redirect(url_for("core.home"))
    return _my_data_page(form, 422)


def _audit_page(tenant_id: int | None) -> Any:
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        page = 1
    action = request.args.get("action") or None
    if action not in AUDIT_ACTIONS:
        action = None
    entries, has_next = services.audit_entries(tenant_id=tenant_id, action=action, page=page)
    return render_template("privacy/audit.html", entries=entries, page=page, has_next=has_next,
                           action=action, actions=AUDIT_ACTIONS, national=tenant_id is None)


@tenant_bp.get("/audit")
@require_role(Role.COORDINATOR)
def audit() -> Any:
    return _audit_page(g.tenant.id)


@bp.get("/supervision/audit")
@require_supervisor
def audit_all() -> Any:
    return _audit_page(None)


@tenant_bp.post("/members/<int:membership_id>/anonymise")
@require_role(Role.COORDINATOR)
def anonymise_member(membership_id: int) -> Any:
    membership = get_in_tenant_or_404(Membership, membership_id, g.tenant)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        services.anonymise_member(membership, by=current_user._get_current_object(), now=utcnow())
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
    else:
        db.session.commit()
        flash(_("La personne a été anonymisée. Ses heures et présences restent dans les statistiques."),
              "success")
    return redirect(url_for("tenants.members"))
