"""Forms of the agenda pages: the filters of the week and month views, and
the coordinator's forms to create, edit and cancel events and series.

Dates and times are typed in the structure's local time (HTML date and time
inputs) and turned into aware UTC datetimes here, with
``recurrence.local_to_utc``. Choices come from the structure's own rows and
the catalogue it sees (``tenant=``); the services check the rules again.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import and_, select
from sqlalchemy.orm import contains_eager
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from volunteer_platform.auth.models import User
from volunteer_platform.extensions import db
from volunteer_platform.forms import REQUIRED, strip_filter
from volunteer_platform.scheduling import recurrence
from volunteer_platform.scheduling.models import EVENT_KIND_LABELS, Event, EventKind, Kit, Room
from volunteer_platform.scheduling.services import EventFields, Scope
from volunteer_platform.tenants.models import Membership, Role, Site, Tenant
from volunteer_platform.tenants.scoping import tenant_select
from volunteer_platform.training import queries as training_queries
from volunteer_platform.training.models import Qualification

INVALID_NUMBER = _l("Saisissez un nombre entier, par exemple 12.")
INVALID_DATE = _l("Saisissez une date valide, par exemple 15/09/2026.")
INVALID_TIME = _l("Saisissez une heure valide, par exemple 14:00.")

SCOPE_CHOICES = [
    (Scope.ONE, _l("Cette date")),
    (Scope.FOLLOWING, _l("Cette date et les suivantes")),
    (Scope.ALL, _l("Toute la série")),
]

NO_REPEAT, WEEKLY, MONTHLY = "none", "weekly", "monthly"
REPEAT_CHOICES = [
    (NO_REPEAT, _l("Ne se répète pas")),
    (WEEKLY, _l("Toutes les semaines (ou toutes les N semaines), le même jour")),
    (MONTHLY, _l("Chaque mois, le même jour de la semaine (par exemple le 1er mardi)")),
]
UNTIL, COUNT = "until", "count"
END_CHOICES = [(UNTIL, _l("Jusqu'à une date")), (COUNT, _l("Un nombre de fois"))]


def optional_id(value: Any) -> int | None:
    """A select's value: "" is "none chosen"; anything else must be a number."""
    if value in (None, "", "None"):
        return None
    return int(value)


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def date_field(label: Any, *, required: bool, description: Any = None) -> DateField:
    return DateField(
        label,
        description=description,
        validators=[InputRequired(REQUIRED)] if required else [Optional()],
        # The browser's date picker sends ISO dates; without one, people type the French way.
        format=["%Y-%m-%d", "%d/%m/%Y"],
        invalid_value_message=INVALID_DATE,
    )


class FrenchTimeField(TimeField):
    """A time typed "14:00" (the browser's picker), "14:00:00" or "14h00"."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("format", ["%H:%M", "%H:%M:%S", "%Hh%M", "%Hh"])
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist: list[str]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError(str(INVALID_TIME)) from error


class FrenchIntegerField(IntegerField):
    def process_formdata(self, valuelist: list[str]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError(str(INVALID_NUMBER)) from error


def room_label(room: Room) -> str:
    label = f"{room.name} — {room.site.name}"
    return label if room.is_active else str(_l("%(room)s (plus utilisée)", room=label))


def rooms_of(tenant: Tenant, *, active_only: bool) -> list[Room]:
    stmt = (
        tenant_select(Room, tenant)
        .join(Site, and_(Site.id == Room.site_id, Site.tenant_id == Room.tenant_id))
        .order_by(Site.name, Room.name)
    )
    if active_only:
        stmt = stmt.where(Room.is_active.is_(True))
    return list(db.session.scalars(stmt.options(contains_eager(Room.site))))  # the site from the join above


def trainers_of(tenant: Tenant) -> list[User]:
    """Active members who may lead a session: trainers (and coordinators, who often do)."""
    return list(db.session.scalars(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.tenant_id == tenant.id, Membership.is_active.is_(True),
               Membership.role.in_([Role.TRAINER, Role.COORDINATOR]))
        .order_by(User.full_name)
    ))


# --- the agenda's filters ---------------------------------------------------------------------


class AgendaFilterForm(FlaskForm):
    """Filters of the week and month views, read from the query string (GET, no CSRF)."""

    class Meta:
        csrf = False

    site = SelectField(_l("Lieu"), validators=[Optional()])
    room = SelectField(_l("Salle"), validators=[Optional()])
    trainer = SelectField(_l("Formateur ou formatrice"), validators=[Optional()])

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        rooms = rooms_of(tenant, active_only=False)
        self.site.choices = [("", _l("Tous les lieux"))] + [
            (str(s.id), s.name) for s in db.session.scalars(tenant_select(Site, tenant).order_by(Site.name))
        ]
        self.room.choices = [("", _l("Toutes les salles"))] + [(str(r.id), room_label(r)) for r in rooms]
        self.trainer.choices = [("", _l("Tout le monde"))] + [(str(u.id), u.full_name) for u in trainers_of(tenant)]

    def cleaned(self) -> dict[str, int | None]:
        """The valid filters as ids; an unknown value in the address counts as "all"."""
        self.validate()

        def value(field: SelectField) -> int | None:
            return int(field.data) if field.data and not field.errors else None

        return {"site_id": value(self.site), "room_id": value(self.room), "trainer_id": value(self.trainer)}


# --- creating and editing events -----------------------------------------------------------


class EventForm(FlaskForm):
    """What every event has; ``NewEventForm`` adds the repeat section, ``EditEventForm`` the scope."""

    kind = SelectField(
        _l("Type d'événement"), choices=[(k.value, label) for k, label in EVENT_KIND_LABELS.items()],
        validators=[InputRequired(REQUIRED)],
    )
    title = StringField(
        _l("Titre"), description=_l("Par exemple : Atelier « Mes démarches en ligne »."),
        filters=[strip_filter], validators=[DataRequired(REQUIRED), Length(max=200)],
    )
    description = TextAreaField(
        _l("Description (facultatif)"), filters=[strip_filter], validators=[Optional(), Length(max=4000)],
        render_kw={"rows": 4},
    )
    what_to_bring = TextAreaField(
        _l("À apporter (facultatif)"),
        description=_l("Par exemple : votre téléphone chargé, vos identifiants France Connect."),
        filters=[strip_filter], validators=[Optional(), Length(max=2000)], render_kw={"rows": 2},
    )
    day = date_field(_l("Date"), required=True, description=_l("Par exemple 15/09/2026."))
    starts_at = FrenchTimeField(_l("Heure de début"), validators=[InputRequired(INVALID_TIME)])
    ends_at = FrenchTimeField(_l("Heure de fin"), validators=[InputRequired(INVALID_TIME)])
    room_id = SelectField(
        _l("Salle"), description=_l("Facultatif, sauf pour une réservation de salle."),
        coerce=optional_id, validators=[Optional()],
    )
    kit_ids = MultiCheckboxField(_l("Matériel à emporter"), coerce=int, validators=[Optional()])
    trainer_id = SelectField(
        _l("Formateur ou formatrice"), description=_l("Obligatoire pour une session de formation."),
        coerce=optional_id, validators=[Optional()],
    )
    module_id = SelectField(
        _l("Module de formation"), description=_l("Seulement pour une session de formation."),
        coerce=optional_id, validators=[Optional()],
    )
    capacity = FrenchIntegerField(
        _l("Nombre de places"),
        description=_l("Pour une permanence : le nombre de bénévoles nécessaires. "
                       "Obligatoire pour une session de formation et une permanence."),
        validators=[Optional(), NumberRange(min=1, max=500, message=_l("Entre 1 et 500."))],
        render_kw={"inputmode": "numeric", "min": 1},
    )
    required_qualification_id = SelectField(
        _l("Qualification exigée"), description=_l("Seulement pour une permanence."),
        coerce=optional_id, validators=[Optional()],
    )

    def __init__(self, *args: Any, tenant: Tenant, event: Event | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._tenant = tenant
        rooms = rooms_of(tenant, active_only=False)
        current_room = event.room_id if event is not None else None
        self.room_id.choices = [("", _l("Aucune salle"))] + [
            (r.id, room_label(r)) for r in rooms if r.is_active or r.id == current_room
        ]
        current_kits = {k.id for k in event.kits} if event is not None else set()
        self.kit_ids.choices = [
            (k.id, k.name) for k in db.session.scalars(tenant_select(Kit, tenant).order_by(Kit.name))
            if k.is_active or k.id in current_kits
        ]
        self.trainer_id.choices = [("", _l("Personne"))] + [(u.id, u.full_name) for u in trainers_of(tenant)]
        self.module_id.choices = [("", _l("Aucun module"))] + [
            (v.module_id, v.title) for v in training_queries.published_catalogue(tenant)
        ]
        qualifications = db.session.scalars(
            training_queries.visible(Qualification, tenant).order_by(Qualification.name)
        )
        self.required_qualification_id.choices = [("", _l("Aucune"))] + [(q.id, q.name) for q in qualifications]

    def load(self, event: Event) -> None:
        """Fill the fields from an event (local date and times)."""
        zone = self._tenant.timezone
        start = recurrence.utc_to_local(event.starts_at, zone)
        end = recurrence.utc_to_local(event.ends_at, zone)
        self.kind.data = event.kind.value
        self.title.data = event.title
        self.description.data = event.description
        self.what_to_bring.data = event.what_to_bring
        self.day.data = start.date()
        self.starts_at.data = start.time()
        self.ends_at.data = end.time()
        self.room_id.data = event.room_id
        self.kit_ids.data = [k.id for k in event.kits]
        self.trainer_id.data = event.trainer_id
        self.module_id.data = event.module_id
        self.capacity.data = event.capacity
        self.required_qualification_id.data = event.required_qualification_id

    def event_fields(self) -> EventFields:
        """The event as the services take it. The module only counts for a
        training session, the qualification only for a shift."""
        zone = self._tenant.timezone
        kind = EventKind(self.kind.data)
        day = self.day.data
        return EventFields(
            kind=kind,
            title=self.title.data or "",
            starts_at=recurrence.local_to_utc(datetime.combine(day, self.starts_at.data), zone),
            ends_at=recurrence.local_to_utc(datetime.combine(day, self.ends_at.data), zone),
            room_id=self.room_id.data,
            trainer_id=self.trainer_id.data,
            module_id=self.module_id.data if kind is EventKind.TRAINING_SESSION else None,
            capacity=self.capacity.data,
            required_qualification_id=self.required_qualification_id.data if kind is EventKind.SHIFT else None,
            description=self.description.data or "",
            what_to_bring=self.what_to_bring.data or "",
            kit_ids=list(self.kit_ids.data or []),
        )


class NewEventForm(EventForm):
    repeat = RadioField(_l("L'événement se répète-t-il ?"), choices=REPEAT_CHOICES, default=NO_REPEAT,
                        validators=[InputRequired(REQUIRED)])
    interval = FrenchIntegerField(
        _l("Toutes les combien de semaines ?"),
        description=_l("1 : chaque semaine ; 2 : une semaine sur deux. Pour une répétition chaque semaine."),
        default=1, validators=[Optional(), NumberRange(min=1, max=52, message=_l("Entre 1 et 52."))],
        render_kw={"inputmode": "numeric", "min": 1},
    )
    end_mode = RadioField(_l("Fin de la répétition"), choices=END_CHOICES, default=COUNT,
                          validators=[Optional()])
    until = date_field(_l("Dernière date"), required=False, description=_l("Par exemple 15/12/2026."))
    count = FrenchIntegerField(
        _l("Nombre de fois en tout"),
        description=_l("En comptant la première date."),
        validators=[Optional(), NumberRange(min=2, max=recurrence.MAX_OCCURRENCES,
                                            message=_l("Entre 2 et %(n)s.", n=recurrence.MAX_OCCURRENCES))],
        render_kw={"inputmode": "numeric", "min": 2},
    )
    skip_conflicts = BooleanField(_l("Créer quand même en sautant les dates en conflit"))

    def repeats(self) -> bool:
        return self.repeat.data in (WEEKLY, MONTHLY)

    def validate(self, extra_validators: Any = None) -> bool:
        """A repeat needs its end: a last date or a number of times. (Checked
        here: an empty optional field skips its own validators.)"""
        valid = super().validate(extra_validators)
        if self.repeats():
            if self.end_mode.data == UNTIL:
                missing, message = self.until, _l("Indiquez la dernière date.")
            else:
                missing, message = self.count, _l("Indiquez le nombre de fois.")
            if missing.data is None and not missing.errors:
                missing.errors = [*missing.errors, message]
                self._errors = None  # the errors summary is cached
                valid = False
        return valid

    def rule(self) -> recurrence.Rule | None:
        """The repeat rule chosen, or None for a single event."""
        if not self.repeats():
            return None
        until: date | None = self.until.data if self.end_mode.data == UNTIL else None
        return recurrence.Rule(
            frequency=recurrence.Frequency.WEEKLY if self.repeat.data == WEEKLY
            else recurrence.Frequency.MONTHLY_BY_WEEKDAY,
            interval=(self.interval.data or 1) if self.repeat.data == WEEKLY else 1,
            until=until,
            count=None if until is not None else self.count.data,
        )


class EditEventForm(EventForm):
    scope = RadioField(_l("Quelles dates modifier ?"), choices=SCOPE_CHOICES, default=Scope.ONE, validators=[Optional()])

    def __init__(self, *args: Any, tenant: Tenant, event: Event, **kwargs: Any) -> None:
        super().__init__(*args, tenant=tenant, event=event, **kwargs)
        self._event = event

    def chosen_scope(self) -> str:
        return self.scope.data if self._event.series_id is not None and self.scope.data else Scope.ONE

    def validate_day(self, field: DateField) -> None:
        if field.data is None or self.chosen_scope() == Scope.ONE:
            return
        original = recurrence.utc_to_local(self._event.starts_at, self._tenant.timezone).date()
        if field.data != original:
            raise ValidationError(_l("Pour plusieurs dates, seuls l'horaire et les détails changent : "
                                     "pour changer le jour, choisissez « Cette date »."))


class CancelEventForm(FlaskForm):
    scope = RadioField(_l("Quelles dates annuler ?"), choices=SCOPE_CHOICES, default=Scope.ONE, validators=[Optional()])

    def chosen_scope(self, event: Event) -> str:
        return self.scope.data if event.series_id is not None and self.scope.data else Scope.ONE
