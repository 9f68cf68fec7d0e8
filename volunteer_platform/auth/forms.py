"""Forms for signing in, accounts, invitations and password resets."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, InputRequired, Length

from volunteer_platform.auth.services import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from volunteer_platform.forms import INVALID_EMAIL, REQUIRED, strip_filter

PASSWORD_HINT = _l(
    "Au moins %(n)s caractères. Une phrase facile à retenir convient très bien.",
    n=MIN_PASSWORD_LENGTH,
)
PASSWORD_LENGTH = Length(
    min=MIN_PASSWORD_LENGTH,
    max=MAX_PASSWORD_LENGTH,
    message=_l("Le mot de passe doit contenir au moins %(n)s caractères.", n=MIN_PASSWORD_LENGTH),
)
CONFIRM_MATCH = _l("Les deux mots de passe ne sont pas identiques.")


def email_field(label: str | None = None) -> EmailField:
    return EmailField(
        label or _l("Adresse e-mail"),
        filters=[strip_filter],
        validators=[DataRequired(REQUIRED), Email(INVALID_EMAIL, check_deliverability=False),
                    Length(max=254)],
        render_kw={"autocomplete": "email", "inputmode": "email", "spellcheck": "false"},
    )


class LoginForm(FlaskForm):
    email = email_field()
    password = PasswordField(
        _l("Mot de passe"),
        validators=[InputRequired(REQUIRED), Length(max=MAX_PASSWORD_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField(_l("Rester connecté sur cet appareil"))


class ForgotPasswordForm(FlaskForm):
    email = email_field()


class NewPasswordMixin:
    password = PasswordField(
        _l("Nouveau mot de passe"),
        description=PASSWORD_HINT,
        validators=[InputRequired(REQUIRED), PASSWORD_LENGTH],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Confirmez le mot de passe"),
        validators=[InputRequired(REQUIRED), EqualTo("password", CONFIRM_MATCH)],
        render_kw={"autocomplete": "new-password"},
    )


class ResetPasswordForm(NewPasswordMixin, FlaskForm):
    pass


class AcceptInvitationForm(NewPasswordMixin, FlaskForm):
    full_name = StringField(
        _l("Prénom et nom"),
        filters=[strip_filter],
        validators=[DataRequired(REQUIRED), Length(max=200)],
        render_kw={"autocomplete": "name"},
    )


class ChangePasswordForm(NewPasswordMixin, FlaskForm):
    current_password = PasswordField(
        _l("Mot de passe actuel"),
        validators=[InputRequired(REQUIRED), Length(max=MAX_PASSWORD_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )


class ProfileForm(FlaskForm):
    full_name = StringField(
        _l("Prénom et nom"),
        filters=[strip_filter],
        validators=[DataRequired(REQUIRED), Length(max=200)],
        render_kw={"autocomplete": "name"},
    )
    locale = SelectField(
        _l("Langue de l'interface"),
        choices=[("fr", "Français"), ("en", "English")],
        validators=[InputRequired(REQUIRED)],
    )
