"""Flask-Login wiring: the session stores ``User.session_token``, not the id."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from volunteer_platform.auth.models import User
from volunteer_platform.extensions import db, login_manager

login_manager.login_view = "auth.login"
login_manager.login_message = _l("Connectez-vous pour accéder à cette page.")
login_manager.login_message_category = "info"
login_manager.session_protection = "basic"


@login_manager.user_loader
def load_user(session_token: str) -> User | None:
    """Find the person whose current session token this is.

    A rotated token (logout elsewhere, password change, deactivation) finds
    nobody, so the old session or "remember me" cookie is simply signed out.
    """
    if not session_token:
        return None
    return db.session.scalars(
        select(User).where(User.session_token == session_token, User.is_active.is_(True))
    ).one_or_none()
