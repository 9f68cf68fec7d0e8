from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, PasswordField
from wtforms.validators import DataRequired, InputRequired, NumberRange

from volunteer_platform.privacy.services import RETENTION_YEARS_RANGE


class EraseAccountForm(FlaskForm):
    password = PasswordField(_l("Votre mot de passe, pour confirmer"), validators=[DataRequired(
        message=_l("Indiquez votre mot de passe pour confirmer."))])
    confirm = BooleanField(
        _l("Je comprends que mon compte sera supprimé définitivement et que je ne pourrai plus me connecter."),
        validators=[DataRequired(message=_l("Cochez la case pour confirmer."))],
    )


class RetentionForm(FlaskForm):
    retention_years = IntegerField(
        _l("Durée de conservation des comptes inactifs (en années)"),
        validators=[InputRequired(message=_l("Indiquez un nombre d'années.")),
                    NumberRange(min=RETENTION_YEARS_RANGE.start, max=RETENTION_YEARS_RANGE.stop - 1,
                                message=_l("Choisissez une durée entre 1 et 10 ans."))],
    )
