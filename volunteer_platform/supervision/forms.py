"""Forms of the association's pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length, Regexp

from volunteer_platform.auth.forms import email_field
from volunteer_platform.forms import REQUIRED, strip_filter
from volunteer_platform.tenants.forms import TenantDetailsForm


class NewStructureForm(TenantDetailsForm):
    retention_years = None  # a new structure starts with the default; its coordinators may change it
    slug = StringField(
        _l("Identifiant dans les adresses web"),
        description=_l("Lettres minuscules sans accent, chiffres et tirets, par exemple ccas-bethune."),
        filters=[strip_filter, lambda v: v.lower() if isinstance(v, str) else v],
        validators=[
            DataRequired(REQUIRED),
            Length(min=2, max=63),
            Regexp(
                r"^[a-z0-9]+(?:-[a-z0-9]+)*$",
                message=_l("Seulement des lettres minuscules sans accent, des chiffres et des tirets."),
            ),
        ],
        render_kw={"spellcheck": "false", "autocapitalize": "none"},
    )
    coordinator_email = email_field(_l("Adresse e-mail du coordinateur ou de la coordinatrice"))


class CoordinatorForm(FlaskForm):
    email = email_field(_l("Adresse e-mail du coordinateur ou de la coordinatrice"))
