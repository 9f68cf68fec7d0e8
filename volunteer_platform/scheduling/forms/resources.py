"""Forms of the coordinator's resource pages: rooms, opening hours, closures,
kits and the enrolment rules.

Choices come from the structure's own rows (``tenant=``); the services check
the rules again (capacity, unique names, the structure's own site or room).
"""

from __future__ import annotations

from datetime import time
from itertools import pairwise
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from volunteer_platform.extensions import db
from volunteer_platform.forms import REQUIRED, strip_filter
from volunteer_platform.scheduling.models import EQUIPMENT_LABELS, Room
from volunteer_platform.scheduling.services import MAX_ROOM_CAPACITY
from volunteer_platform.tenants.models import Site, Tenant
from volunteer_platform.tenants.scoping import tenant_select
from volunteer_platform.tenants.services import sites_of

INVALID_NUMBER = _l("Saisissez un nombre entier, par exemple 12.")
INVALID_DATE = _l("Saisissez une date valide, par exemple 15/09/2026.")
INVALID_TIME = _l("Saisissez une heure valide, par exemple 09:30.")

WEEKDAY_NAMES = (
    _l("Lundi"), _l("Mardi"), _l("Mercredi"), _l("Jeudi"), _l("Vendredi"), _l("Samedi"), _l("Dimanche"),
)
SLOTS = (1, 2)  # up to two opening intervals a day (morning and afternoon)


class WholeNumberField(IntegerField):
    """An integer field whose refusal of "beaucoup" or "12,5" is this page's French message."""

    def process_formdata(self, valuelist: list[str]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError(str(INVALID_NUMBER)) from error


def at_most(high: int, message: Any) -> Any:
    """Like NumberRange(max=…), but silent when the value is not a number at all
    (already said). The lower bound is the service's rule (its own message)."""

    def check(form: Any, field: Any) -> None:
        if field.data is not None and field.data > high:
            raise ValidationError(str(message))

    return check


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def site_label(site: Site) -> str:
    return site.name if site.is_active else str(_l("%(name)s (lieu fermé)", name=site.name))


# --- rooms ---------------------------------------------------------------------------------


class RoomForm(FlaskForm):
    site_id = SelectField(_l("Lieu"), validators=[InputRequired(REQUIRED)])
    name = StringField(
        _l("Nom de la salle"),
        description=_l("Par exemple : Salle informatique, Bureau 2."),
        filters=[strip_filter],
        validators=[DataRequired(REQUIRED), Length(max=200)],
    )
    capacity = WholeNumberField(
        _l("Nombre de places"),
        description=_l("Le nombre de personnes que la salle peut accueillir."),
        validators=[InputRequired(INVALID_NUMBER),
                    at_most(MAX_ROOM_CAPACITY, _l("Une salle compte au plus %(n)s places.", n=MAX_ROOM_CAPACITY))],
        render_kw={"inputmode": "numeric", "min": 1, "max": MAX_ROOM_CAPACITY},
    )
    equipment = MultiCheckboxField(_l("Équipement"))
    is_active = BooleanField(
        _l("Salle utilisée"),
        description=_l("Décochez si la salle n'est plus utilisée : on ne pourra plus la réserver."),
        default=True,
    )

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        sites = sites_of(tenant)
        self.site_id.choices = [("", _l("Choisissez un lieu"))] + [(str(s.id), site_label(s)) for s in sites]
        self.equipment.choices = [(e.value, label) for e, label in EQUIPMENT_LABELS.items()]


# --- opening hours ---------------------------------------------------------------------------


def hours_field_name(weekday: int, slot: int, which: str) -> str:
    """``d0_opens1``: Monday's first interval, opening time."""
    return f"d{weekday}_{which}{slot}"


class OpeningHoursForm(FlaskForm):
    """Up to two intervals per weekday; an empty interval means closed.

    The form checks each interval's shape (both times, opening before closing,
    no overlap within a day) to show errors beside the times; the service
    checks the same rules again.
    """

    def intervals(self) -> list[tuple[int, time, time]]:
        result = []
        for weekday in range(7):
            for slot in SLOTS:
                opens = self[hours_field_name(weekday, slot, "opens")].data
                closes = self[hours_field_name(weekday, slot, "closes")].data
                if opens is not None and closes is not None:
                    result.append((weekday, opens, closes))
        return result

    def fill(self, room: Room) -> None:
        """Show a room's saved hours (the first two intervals of each day)."""
        used: dict[int, int] = {}
        for hours in room.opening_hours:
            slot = used.get(hours.weekday, 0) + 1
            if slot > len(SLOTS):
                continue
            used[hours.weekday] = slot
            self[hours_field_name(hours.weekday, slot, "opens")].data = hours.opens_at
            self[hours_field_name(hours.weekday, slot, "closes")].data = hours.closes_at

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        for weekday in range(7):
            filled = []
            for slot in SLOTS:
                opens = self[hours_field_name(weekday, slot, "opens")]
                closes = self[hours_field_name(weekday, slot, "closes")]
                if opens.errors or closes.errors:
                    ok = False
                    continue
                if opens.data is None and closes.data is None:
                    continue
                if opens.data is None:
                    opens.errors.append(str(_l("Indiquez aussi l'heure d'ouverture.")))
                elif closes.data is None:
                    closes.errors.append(str(_l("Indiquez aussi l'heure de fermeture.")))
                elif closes.data <= opens.data:
                    closes.errors.append(str(_l("L'heure de fermeture doit être après l'heure d'ouverture.")))
                else:
                    filled.append((opens.data, closes.data, opens))
                    continue
                ok = False
            filled.sort(key=lambda item: item[0])
            for (_o1, closes1, _f1), (opens2, _c2, field2) in pairwise(filled):
                if opens2 < closes1:
                    field2.errors.append(str(_l("Les deux plages horaires du même jour se chevauchent.")))
                    ok = False
        return ok


def _add_hours_fields() -> None:
    for weekday, day in enumerate(WEEKDAY_NAMES):
        for slot in SLOTS:
            period = _l("1re plage") if slot == 1 else _l("2e plage")
            for which, label in (("opens", _l("ouverture")), ("closes", _l("fermeture"))):
                setattr(OpeningHoursForm, hours_field_name(weekday, slot, which), TimeField(
                    _l("%(day)s, %(period)s : %(what)s", day=day, period=period, what=label),
                    validators=[Optional()],
                    # The time picker sends 09:30; typed by hand, 9h30 and 9h are understood.
                    format=["%H:%M", "%H:%M:%S", "%Hh%M", "%Hh"],
                    invalid_value_message=INVALID_TIME,
                    render_kw={"step": 300},
                ))


_add_hours_fields()


# --- closures --------------------------------------------------------------------------------


def date_field(label: Any, *, description: Any = None) -> DateField:
    return DateField(
        label,
        description=description,
        validators=[InputRequired(REQUIRED)],
        # The date picker sends ISO dates; without one people type the French way.
        format=["%Y-%m-%d", "%d/%m/%Y"],
        invalid_value_message=INVALID_DATE,
    )


class ClosureForm(FlaskForm):
    place = SelectField(
        _l("Ce qui ferme"),
        description=_l("Un lieu entier (toutes ses salles) ou une seule salle."),
        validators=[InputRequired(REQUIRED)],
    )
    starts_on = date_field(_l("Premier jour de fermeture"), description=_l("Par exemple 22/12/2026."))
    ends_on = date_field(_l("Dernier jour de fermeture (inclus)"), description=_l("Par exemple 02/01/2027."))
    reason = StringField(
        _l("Raison"),
        description=_l("Par exemple : vacances de Noël, travaux."),
        filters=[strip_filter],
        validators=[DataRequired(REQUIRED), Length(max=200)],
    )

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sites = sites = sites_of(tenant)
        self.rooms = rooms = list(db.session.scalars(
            tenant_select(Room, tenant).order_by(Room.site_id, Room.name)
        ))
        site_names = {s.id: s.name for s in sites}
        self.place.choices = (
            [("", _l("Choisissez un lieu ou une salle"))]
            + [(f"site:{s.id}", _l("Tout le lieu « %(name)s »", name=s.name)) for s in sites]
            + [(f"room:{r.id}", _l("Salle « %(room)s » (%(site)s)", room=r.name, site=site_names.get(r.site_id, "")))
               for r in rooms]
        )

    def site_and_room(self) -> tuple[int | None, int | None]:
        kind, _sep, ident = (self.place.data or "").partition(":")
        return (int(ident), None) if kind == "site" else (None, int(ident))


# --- kits -----------------------------------------------------------------------------------


class KitForm(FlaskForm):
    name = StringField(
        _l("Nom du matériel"),
        description=_l("Par exemple : Valise de 8 tablettes, Clé 4G."),
        filters=[strip_filter],
        validators=[DataRequired(REQUIRED), Length(max=200)],
    )
    description = TextAreaField(
        _l("Description (facultatif)"),
        description=_l("Ce qu'il contient, où le trouver, à qui le rendre."),
        filters=[strip_filter],
        validators=[Optional(), Length(max=2000)],
        render_kw={"rows": 3},
    )
    is_active = BooleanField(
        _l("Matériel disponible"),
        description=_l("Décochez s'il est perdu, en panne ou donné : on ne pourra plus le réserver."),
        default=True,
    )


# --- enrolment rules ------------------------------------------------------------------------


class EnrolmentRulesForm(FlaskForm):
    signup_horizon_days = IntegerField(
        _l("Inscription possible jusqu'à combien de jours à l'avance ?"),
        description=_l("Entre 1 et 366 jours. Par exemple 60 : on peut s'inscrire deux mois à l'avance."),
        validators=[InputRequired(INVALID_NUMBER)],
        render_kw={"inputmode": "numeric", "min": 1, "max": 366},
    )
    cancellation_deadline_hours = IntegerField(
        _l("Annulation possible jusqu'à combien d'heures avant ?"),
        description=_l("Entre 0 et 336 heures. Plus tard, seul un coordinateur peut annuler l'inscription, "
                       "et l'annulation tardive est notée."),
        validators=[InputRequired(INVALID_NUMBER)],
        render_kw={"inputmode": "numeric", "min": 0, "max": 336},
    )

