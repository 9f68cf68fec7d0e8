"""Form of the external calendars page: attach an .ics address to a room or a trainer.

The choices come from the structure's own rooms and trainers (``tenant=``);
``calendars.external.add_calendar`` checks the rules again.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length

from volunteer_platform.calendars.external import MAX_URL_LENGTH
from volunteer_platform.forms import REQUIRED, strip_filter
from volunteer_platform.scheduling.forms.agenda import room_label, rooms_of, trainers_of
from volunteer_platform.tenants.models import Tenant


class ExternalCalendarForm(FlaskForm):
    target = SelectField(
        _l("Pour quelle salle ou quelle personne"),
        description=_l("Ses événements bloqueront cette salle, ou cette personne, aux mêmes heures."),
        validators=[InputRequired(REQUIRED)],
    )
    name = StringField(
        _l("Nom du calendrier"),
        description=_l("Pour vous y retrouver, par exemple : Réservations de la mairie."),
        filters=[strip_filter],
        validators=[DataRequired(REQUIRED), Length(max=200)],
    )
    url = StringField(
        _l("Adresse du calendrier (.ics)"),
        description=_l("L'adresse iCal à copier dans l'autre agenda : elle commence par https:// ou webcal://."),
        filters=[strip_filter],
        validators=[DataRequired(REQUIRED), Length(max=MAX_URL_LENGTH)],
        render_kw={"inputmode": "url", "autocomplete": "off", "spellcheck": "false"},
    )

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.target.choices = (
            [("", _l("Choisissez une salle ou une personne"))]
            + [(f"room:{r.id}", _l("Salle : %(room)s", room=room_label(r)))
               for r in rooms_of(tenant, active_only=False)]
            + [(f"trainer:{u.id}", _l("Formateur ou formatrice : %(name)s", name=u.full_name))
               for u in trainers_of(tenant)]
        )

    def room_and_trainer(self) -> tuple[int | None, int | None]:
        kind, _sep, ident = (self.target.data or "").partition(":")
        return (int(ident), None) if kind == "room" else (None, int(ident))
