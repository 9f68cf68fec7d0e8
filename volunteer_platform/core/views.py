"""Pages that belong to no structure: the home page, the language switch, health."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from volunteer_platform.auth.permissions import public
from volunteer_platform.auth.views import safe_next
from volunteer_platform.db import utcnow
from volunteer_platform.extensions import db, migrate
from volunteer_platform.forms import ActionForm
from volunteer_platform.notifications.models import OutboxEmail, OutboxStatus
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
    """Liveness: the process answers. Touches nothing else (a database outage must not
    make the orchestrator kill every worker)."""
    return {"status": "ok"}


#: Pending e-mails older than this make /readyz say the sender is behind (the cron job may be stopped).
EMAIL_BACKLOG_WARNING = timedelta(minutes=30)


@bp.get("/readyz")
@public
def readyz() -> Any:
    """Readiness: the database answers and its schema is at the migrations' head.

    503 when not ready (the load balancer stops sending traffic). The e-mail
    backlog is reported but does not make the app unready: pages work without it.
    """
    checks: dict[str, Any] = {}
    ready = True
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except SQLAlchemyError as error:
        db.session.rollback()
        current_app.logger.error("readyz: database unreachable: %s", error)
        return {"status": "unavailable", "checks": {"database": "unreachable"}}, 503
    heads = set(ScriptDirectory.from_config(migrate.get_config()).get_heads())
    current = set(MigrationContext.configure(db.session.connection()).get_current_heads())
    checks["migrations"] = {"database": sorted(current), "code": sorted(heads)}
    if current != heads:
        ready = False
        checks["migrations"]["status"] = "pending"
    else:
        checks["migrations"]["status"] = "ok"
    now = utcnow()
    pending, oldest = db.session.execute(
        select(func.count(OutboxEmail.id), func.min(OutboxEmail.created_at)).where(
            OutboxEmail.status == OutboxStatus.PENDING
        )
    ).one()
    failed = db.session.scalar(select(func.count(OutboxEmail.id)).where(OutboxEmail.status == OutboxStatus.FAILED))
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    checks["email"] = {
        "pending": pending,
        "failed": failed,
        "oldest_pending_minutes": int((now - oldest).total_seconds() // 60) if oldest else None,
        "status": "behind" if oldest and now - oldest > EMAIL_BACKLOG_WARNING else "ok",
    }
    db.session.rollback()
    return {"status": "ok" if ready else "unavailable", "checks": checks}, 200 if ready else 503
