"""Forms for a structure's details, sites, members and invitations."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
)

from volunteer_platform.auth.forms import email_field
from volunteer_platform.forms import INVALID_EMAIL, REQUIRED, strip_filter
from volunteer_platform.tenants.models import ROLE_LABELS, TENANT_KIND_LABELS, Role, Tenant
from volunteer_platform.tenants.services import sites_of, timezone_choices


def role_choices() -> list[tuple[str, str]]:
    return [(role.value, label) for role, label in ROLE_LABELS.items()]


class TenantDetailsForm(FlaskForm):
    name = StringField(
        _l("Nom de la structure"),
        filters=[strip_filter],
        validators=[DataRequired(REQUIRED), Length(max=200)],
    )
    kind = SelectField(_l("Type de structure"), validators=[InputRequired(REQUIRED)])
    timezone = SelectField(_l("Fuseau horaire"), validators=[InputRequired(REQUIRED)])
    region = StringField(
        _l("Région"), filters=[strip_filter], validators=[Optional(), Length(max=100)]
    )
    contact_email = EmailField(
        _l("Adresse e-mail de contact"),
        filters=[strip_filter],
        validators=[Optional(), Email(INVALID_EMAIL, check_deliverability=False), Length(max=254)],
        render_kw={"autocomplete": "email", "inputmode": "email"},
    )
    contact_phone = TelField(
        _l("Téléphone de contact"),
        filters=[strip_filter],
        validators=[
            Optional(),
            Length(max=40),
            Regexp(r"^[0-9+ ().-]{6,40}$", message=_l("Saisissez un numéro de téléphone, par exemple 03 21 00 00 00.")),
        ],
        render_kw={"autocomplete": "tel"},
    )
    retention_years = IntegerField(
        _l("Conservation des comptes inactifs (en années)"),
        description=_l("Un compte sans connexion depuis cette durée est anonymisé, après un e-mail "
                       "d'avertissement un mois avant. 3 ans par défaut, comme le recommande la CNIL."),
        validators=[InputRequired(REQUIRED), NumberRange(min=1, max=10, message=_l("Choisissez une durée entre 1 et 10 ans."))],
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = [(k.value, label) for k, label in TENANT_KIND_LABELS.items()]
        self.timezone.choices = [(tz, tz) for tz in timezone_choices()]


class SiteForm(FlaskForm):
    name = StringField(
        _l("Nom du lieu"), filters=[strip_filter], validators=[DataRequired(REQUIRED), Length(max=200)]
    )
    address = StringField(
        _l("Adresse"),
        filters=[strip_filter],
        validators=[DataRequired(REQUIRED), Length(max=300)],
        render_kw={"autocomplete": "street-address"},
    )
    postal_code = StringField(
        _l("Code postal"),
        filters=[strip_filter],
        validators=[
            DataRequired(REQUIRED),
            Regexp(r"^[0-9]{5}$", message=_l("Le code postal compte 5 chiffres, par exemple 62400.")),
        ],
        render_kw={"autocomplete": "postal-code", "inputmode": "numeric"},
    )
    city = StringField(
        _l("Ville"), filters=[strip_filter], validators=[DataRequired(REQUIRED), Length(max=120)]
    )
    access_notes = TextAreaField(
        _l("Accès et accessibilité"),
        description=_l("Étage, ascenseur, accès en fauteuil, transports… (facultatif)"),
        filters=[strip_filter],
        validators=[Optional(), Length(max=2000)],
    )
    is_active = BooleanField(_l("Lieu en activité"), default=True)


class MemberForm(FlaskForm):
    role = SelectField(_l("Rôle"), choices=role_choices, validators=[InputRequired(REQUIRED)])
    site_id = SelectField(_l("Lieu principal"), coerce=str, validators=[Optional()])

    def __init__(self, *args: object, tenant: Tenant, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.site_id.choices = [("", _l("Aucun"))] + [
            (str(site.id), site.name) for site in sites_of(tenant)
        ]


class InvitationForm(FlaskForm):
    email = email_field(_l("Adresse e-mail de la personne à inviter"))
    role = SelectField(
        _l("Rôle dans la structure"),
        choices=role_choices,
        default=Role.VOLUNTEER.value,
        validators=[InputRequired(REQUIRED)],
    )
