"""Forms of the "Mon bénévolat" page: the period to look at, and the request
for an attestation of that period.

WTForms checks the shape (two real dates); the rules of a period (in order,
over, three years at most) are the service's, ``check_volunteering_period``.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField
from wtforms.validators import InputRequired

from volunteer_platform.forms import REQUIRED

INVALID_DATE = _l("Saisissez une date valide, par exemple 15/09/2026.")
DATE_HINT = _l("Par exemple : 15/09/2026.")


def _date_field(label: Any) -> DateField:
    return DateField(
        label,
        description=DATE_HINT,
        validators=[InputRequired(REQUIRED)],
        # The browser's date picker sends ISO dates; without one, people type the French way.
        format=["%Y-%m-%d", "%d/%m/%Y"],
        invalid_value_message=INVALID_DATE,
    )


class VolunteeringPeriodForm(FlaskForm):
    """The period whose figures the page shows (a GET form: no CSRF token, nothing changes)."""

    class Meta:
        csrf = False

    start = _date_field(_l("Du"))
    end = _date_field(_l("Au (inclus)"))


class IssueVolunteeringAttestationForm(FlaskForm):
    """Ask for the attestation of the period shown (its dates travel as hidden fields)."""

    start = _date_field(_l("Du"))
    end = _date_field(_l("Au (inclus)"))
