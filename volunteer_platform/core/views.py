"""Pages that belong to no structure: the home page, the language switch, health."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import text

from volunteer_platform.auth.permissions import public
from volunteer_platform.auth.views import safe_next
from volunteer_platform.extensions import db
from volunteer_platform.forms import ActionForm
from volunteer_platform.tenants.services import tenants_of

bp = Blueprint("core", __name__)


@bp.get("/")
@public
def home() -> Any:
    """Visitors: what the platform is. Signed in: my structures (straight to the only one)."""
    if not current_user.is_authenticated:
        return render_template("core/landing.html")
    if current_user.is_supervisor:
        return redirect(url_for("supervision.index"))
    memberships = tenants_of(current_user)
    if len(memberships) == 1:
        return redirect(url_for("tenants.home", tenant_slug=memberships[0][0].slug))
    return render_template("core/home.html", memberships=memberships)


@bp.post("/language")
@public
def set_language() -> Any:
    """Switch the interface language; remembered in the session and on the account."""
    language = request.form.get("language", "")
    back = safe_next(request.form.get("next")) or url_for("core.home")
    if ActionForm().validate_on_submit() and language in current_app.config["LANGUAGES"]:
        session["locale"] = language
        if current_user.is_authenticated:
            current_user.locale = language
            db.session.commit()
    return redirect(back)


@bp.get("/healthz")
@public
def healthz() -> Any:
    db.session.execute(text("SELECT 1"))
    return {"status": "ok"}
