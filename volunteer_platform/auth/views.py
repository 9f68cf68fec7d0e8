"""Sign in and out, the account page, invitations and password resets."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from volunteer_platform.auth import services
from volunteer_platform.auth.forms import (
    AcceptInvitationForm,
    ChangePasswordForm,
    ForgotPasswordForm,
    LoginForm,
    ProfileForm,
    ResetPasswordForm,
)
from volunteer_platform.auth.models import User
from volunteer_platform.auth.permissions import public, require_login
from volunteer_platform.db import utcnow
from volunteer_platform.errors import DomainError, InvalidToken
from volunteer_platform.extensions import db, limiter
from volunteer_platform.forms import ActionForm, apply_domain_error

bp = Blueprint("auth", __name__)


def safe_next(target: str | None) -> str | None:
    """Only same-site paths: "/x" yes; "//evil", "https://evil", "\\evil" no."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def start_session(user: User, *, remember: bool) -> None:
    """Sign ``user`` in on a brand-new session (no fixation: nothing carries over)."""
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale
    login_user(user, remember=remember)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10 per minute; 50 per hour", methods=["POST"])
@public
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data, now=utcnow())
        if user is None:
            # Same words whether the address is unknown or the password wrong.
            form.password.errors.append(_("Adresse e-mail ou mot de passe incorrect."))
        else:
            # A language chosen on the way in (the switch works before signing in) is the
            # person's latest choice: keep it on the account, for their other devices too.
            chosen = session.get("locale")
            if chosen in current_app.config["LANGUAGES"]:
                user.locale = chosen
            db.session.commit()
            start_session(user, remember=form.remember.data)
            if chosen in current_app.config["LANGUAGES"]:
                session["locale"] = chosen
            return redirect(safe_next(request.args.get("next")) or url_for("core.home"))
    return render_template("auth/login.html", form=form), 200 if not form.errors else 422


@bp.post("/logout")
@require_login
def logout() -> Any:
    """Sign out here and on every other device."""
    if ActionForm().validate_on_submit():
        services.end_all_sessions(current_user._get_current_object())
        db.session.commit()
        # Clear first: logout_user() leaves a "_remember = clear" mark in the
        # session that makes Flask-Login delete the "remember me" cookie.
        session.clear()
        logout_user()
        flash(_("Vous êtes déconnecté."), "success")
    return redirect(url_for("core.home"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit("5 per minute; 20 per hour", methods=["POST"])
@public
def forgot_password() -> Any:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(
            form.email.data,
            now=utcnow(),
            ttl=timedelta(minutes=current_app.config["PASSWORD_RESET_TTL_MINUTES"]),
            base_url=current_app.config["BASE_URL"],
        )
        db.session.commit()
        flash(
            _("Si un compte existe pour cette adresse, un e-mail vient d'y être envoyé avec un "
              "lien pour choisir un nouveau mot de passe."),
            "success",
        )
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot_password.html", form=form), 200 if not form.errors else 422


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
@public
def reset_password(token: str) -> Any:
    now = utcnow()
    try:
        services.password_reset_from_token(token, now=now)
    except InvalidToken as error:
        return render_template("auth/link_invalid.html", message=error.message), 410
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            user = services.reset_password(token, form.password.data, now=now)
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            db.session.commit()
            start_session(user, remember=False)
            flash(_("Votre mot de passe a été changé. Vous êtes connecté."), "success")
            return redirect(url_for("core.home"))
    return render_template("auth/reset_password.html", form=form), 200 if not form.errors else 422


@bp.route("/invitations/<token>", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
@public
def accept_invitation(token: str) -> Any:
    now = utcnow()
    try:
        invitation = services.invitation_from_token(token, now=now)
    except InvalidToken as error:
        return render_template("auth/link_invalid.html", message=error.message), 410
    existing = services.user_by_email(invitation.email)
    signed_in = current_user._get_current_object() if current_user.is_authenticated else None
    form: Any = ActionForm() if existing is not None else AcceptInvitationForm()
    status = 200
    if signed_in is None or existing is None or signed_in.id == existing.id:
        if form.validate_on_submit():
            try:
                user, membership = services.accept_invitation(
                    token,
                    now=now,
                    signed_in_user=signed_in,
                    full_name=getattr(form, "full_name", None) and form.full_name.data,
                    password=getattr(form, "password", None) and form.password.data,
                )
            except DomainError as error:
                db.session.rollback()
                apply_domain_error(form, error)
                status = error.status_code  # a refusal is a 4xx, not a 200
            else:
                db.session.commit()
                if signed_in is None:
                    start_session(user, remember=False)
                flash(
                    _("Bienvenue ! Vous avez rejoint %(name)s.", name=membership.tenant.name),
                    "success",
                )
                return redirect(url_for("tenants.home", tenant_slug=membership.tenant.slug))
    elif request.method == "POST":
        status = 403  # signed in as another account than the invited one: the page says so
    return render_template(
        "auth/accept_invitation.html",
        form=form,
        invitation=invitation,
        has_account=existing is not None,
        signed_in_as_invitee=signed_in is not None and existing is not None and signed_in.id == existing.id,
        signed_in_as_other=signed_in is not None and (existing is None or signed_in.id != existing.id),
    ), 422 if form.errors else status


@bp.route("/account", methods=["GET", "POST"])
@require_login
def account() -> Any:
    user: User = current_user._get_current_object()
    profile = ProfileForm(prefix="profile", obj=user if request.method == "GET" else None)
    if request.method == "GET":
        profile.locale.data = user.locale or session.get("locale") or "fr"
    password_form = ChangePasswordForm(prefix="password")
    if request.method == "POST" and request.form.get("form") == "profile":
        if profile.validate_on_submit():
            user.full_name = profile.full_name.data
            user.locale = profile.locale.data
            db.session.commit()
            flash(_("Vos informations ont été enregistrées."), "success")
            return redirect(url_for("auth.account"))
    elif request.method == "POST" and request.form.get("form") == "password":
        if password_form.validate_on_submit():
            try:
                services.change_password(
                    user, password_form.current_password.data, password_form.password.data,
                    now=utcnow(),
                )
            except DomainError as error:
                db.session.rollback()
                apply_domain_error(password_form, error)
            else:
                db.session.commit()
                # The rotation signed out every device, this one included: sign back in here.
                start_session(user, remember=False)
                flash(
                    _("Mot de passe changé. Vos autres appareils ont été déconnectés."), "success"
                )
                return redirect(url_for("auth.account"))
    elif request.method == "POST":
        abort(400)
    status = 422 if (profile.errors or password_form.errors) else 200
    return render_template("auth/account.html", profile=profile, password_form=password_form), status
