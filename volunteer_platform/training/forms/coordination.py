"""Forms of the coordinator's training pages: matrix filters, one person's
qualifications, attestations and attendance, assignments and the default path.

Choices come from the structure's own rows and the catalogue it sees; the
services check the rules again (visibility, published status, membership).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    SearchField,
    SelectField,
    SelectMultipleField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from volunteer_platform.db import utcnow
from volunteer_platform.extensions import db
from volunteer_platform.forms import REQUIRED, strip_filter
from volunteer_platform.tenants.models import ROLE_LABELS, Role, Tenant
from volunteer_platform.tenants.services import sites_of
from volunteer_platform.training import queries, services
from volunteer_platform.training.models import (
    COMPETENCE_AREA_LABELS,
    CatalogueStatus,
    CompetenceArea,
    Path,
    Qualification,
)

INVALID_DATE = _l("Saisissez une date valide, par exemple 15/09/2026.")
DATE_HINT = _l("Par exemple 15/09/2026.")


def local_today(tenant: Tenant) -> date:
    """Today in the structure's time zone (a due date is a day there)."""
    return services.local_date(tenant, utcnow())


def date_field(label: Any, *, required: bool, description: Any = None) -> DateField:
    return DateField(
        label,
        description=description,
        validators=[InputRequired(REQUIRED)] if required else [Optional()],
        # The browser's date picker sends ISO dates; without one (old browsers),
        # people type the French way, as the hint shows.
        format=["%Y-%m-%d", "%d/%m/%Y"],
        invalid_value_message=INVALID_DATE,
    )


# --- the matrix ----------------------------------------------------------------------


class MatrixFilterForm(FlaskForm):
    """Filters of the progress matrix, read from the query string (GET, no CSRF)."""

    class Meta:
        csrf = False

    q = SearchField(_l("Nom ou adresse e-mail"), filters=[strip_filter], validators=[Optional(), Length(max=100)])
    role = SelectField(_l("Rôle"), validators=[Optional()])
    site = SelectField(_l("Lieu principal"), validators=[Optional()])
    area = SelectField(_l("Domaine de compétence"), validators=[Optional()])
    assigned_only = BooleanField(
        _l("Seulement les modules attribués"),
        description=_l("Les modules attribués à au moins une des personnes affichées."),
    )

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.role.choices = [("", _l("Tous les rôles"))] + [(role.value, label) for role, label in ROLE_LABELS.items()]
        self.site.choices = [("", _l("Tous les lieux"))] + [(str(site.id), site.name) for site in sites_of(tenant)]
        self.area.choices = [("", _l("Tous les domaines"))] + [
            (area.value, label) for area, label in COMPETENCE_AREA_LABELS.items()
        ]

    def cleaned(self) -> dict[str, Any]:
        """The valid filters; an unknown value in the address counts as "all"."""
        self.validate()
        role = self.role.data if not self.role.errors else ""
        site = self.site.data if not self.site.errors else ""
        area = self.area.data if not self.area.errors else ""
        return {
            "search": (self.q.data or "") if not self.q.errors else "",
            "role": Role(role) if role else None,
            "site_id": int(site) if site else None,
            "area": CompetenceArea(area) if area else None,
            "assigned_only": bool(self.assigned_only.data),
        }


# --- one person's page ------------------------------------------------------------------


class ExternalQualificationForm(FlaskForm):
    qualification = SelectField(_l("Qualification"), validators=[InputRequired(REQUIRED)])
    obtained_on = date_field(_l("Date d'obtention"), required=True, description=DATE_HINT)
    note = TextAreaField(
        _l("Où et comment a-t-elle été obtenue ?"),
        description=_l("Par exemple : formation PIX Pro suivie à la médiathèque en mars 2025."),
        filters=[strip_filter],
        validators=[DataRequired(REQUIRED), Length(max=2000)],
    )

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        visible = queries.visible(Qualification, tenant).order_by(Qualification.name)
        self.qualification.choices = [("", _l("Choisissez une qualification"))] + [
            (str(q.id), q.name) for q in db.session.scalars(visible)
        ]


class WithdrawForm(FlaskForm):
    """Withdraw a qualification or an attestation: the reason is kept and shown."""

    reason = TextAreaField(
        _l("Raison du retrait"),
        filters=[strip_filter],
        validators=[DataRequired(REQUIRED), Length(max=1000)],
        render_kw={"rows": 2},
    )


class AttendanceForm(FlaskForm):
    attended_on = date_field(_l("Date de la séance"), required=True, description=DATE_HINT)

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._tenant = tenant

    def validate_attended_on(self, field: DateField) -> None:
        if field.data is not None and field.data > local_today(self._tenant):
            raise ValidationError(_l("La date de la séance ne peut pas être dans le futur."))


# --- assignments and the default path ----------------------------------------------------


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class AssignForm(FlaskForm):
    target = SelectField(_l("Module ou parcours à suivre"), validators=[InputRequired(REQUIRED)])
    all_volunteers = BooleanField(
        _l("Tous les bénévoles actifs de la structure"),
        description=_l("Cochez cette case pour n'avoir à cocher personne dans la liste."),
    )
    members = MultiCheckboxField(_l("Personnes"), coerce=int)
    due_on = date_field(
        _l("À terminer au plus tard le (facultatif)"), required=False,
        description=_l("Laissez vide s'il n'y a pas de date limite. Par exemple 15/09/2026."),
    )

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        paths = db.session.scalars(
            queries.visible(Path, tenant).where(Path.status == CatalogueStatus.PUBLISHED).order_by(Path.title)
        )
        self.target.choices = (
            [("", _l("Choisissez un module ou un parcours"))]
            + [(f"path:{p.id}", _l("Parcours : %(title)s", title=p.title)) for p in paths]
            + [(f"module:{v.module_id}", _l("Module : %(title)s", title=v.title))
               for v in queries.published_catalogue(tenant)]
        )
        self.member_rows = queries.matrix_members(tenant)
        self.volunteer_ids = [m.user_id for m in self.member_rows if m.role is Role.VOLUNTEER]
        self.members.choices = [
            (m.user_id, f"{m.user.full_name} ({m.role.label})") for m in self.member_rows
        ]

    def validate_members(self, field: MultiCheckboxField) -> None:
        if not field.data and not self.all_volunteers.data:
            raise ValidationError(_l("Cochez au moins une personne, ou « tous les bénévoles »."))
        if self.all_volunteers.data and not field.data and not self.volunteer_ids:
            raise ValidationError(_l("La structure n'a aucun bénévole actif."))

    def target_kind_and_id(self) -> tuple[str, int]:
        kind, _sep, ident = self.target.data.partition(":")
        return kind, int(ident)

    def chosen_user_ids(self) -> list[int]:
        ids = list(self.members.data or [])
        if self.all_volunteers.data:
            ids += self.volunteer_ids
        return list(dict.fromkeys(ids))


class DefaultPathForm(FlaskForm):
    default_path = SelectField(
        _l("Parcours proposé à chaque nouveau bénévole"),
        description=_l("Il lui est attribué automatiquement quand il rejoint la structure."),
        validators=[Optional()],
    )

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        paths = db.session.scalars(
            queries.visible(Path, tenant).where(Path.status == CatalogueStatus.PUBLISHED).order_by(Path.title)
        )
        self.default_path.choices = [("", _l("Aucun parcours par défaut"))] + [
            (str(p.id), p.title) for p in paths
        ]
