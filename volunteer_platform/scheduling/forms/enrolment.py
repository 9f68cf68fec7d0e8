"""Forms of the enrolment pages: the filters of the open sessions and shifts,
a coordinator enrolling a member, and the attendance sheet.

Choices come from the structure's own rows; the services check the rules
again (membership, capacity, qualification, overlapping commitments).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, RadioField, SelectField
from wtforms.validators import InputRequired, Optional

from volunteer_platform.auth.models import User
from volunteer_platform.extensions import db
from volunteer_platform.forms import REQUIRED
from volunteer_platform.scheduling.enrolment import ENROLLABLE
from volunteer_platform.scheduling.models import ATTENDANCE_LABELS, Enrolment, EventKind
from volunteer_platform.scheduling.services import local_day_bounds
from volunteer_platform.tenants.models import Membership, Tenant
from volunteer_platform.tenants.services import sites_of
from volunteer_platform.training.forms.coordination import date_field

DEFAULT_RANGE_DAYS = 30
MAX_RANGE_DAYS = 366


@dataclass
class OpenEventsFilters:
    start: datetime  # UTC bounds of the chosen local days
    end: datetime
    site_id: int | None
    kind: EventKind | None
    qualified_only: bool
    is_filtered: bool


class OpenEventsFilterForm(FlaskForm):
    """Filters of the open sessions and shifts, read from the query string (GET, no CSRF)."""

    class Meta:
        csrf = False

    kind = SelectField(_l("Type"), validators=[Optional()])
    site = SelectField(_l("Lieu"), validators=[Optional()])
    start = date_field(_l("Du"), required=False)
    end = date_field(_l("Au"), required=False)
    qualified_only = BooleanField(_l("Seulement celles où je suis qualifié(e)"))

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tenant = tenant
        self.kind.choices = [("", _l("Tous les types"))] + [
            (kind.value, kind.label) for kind in ENROLLABLE
        ]
        self.site.choices = [("", _l("Tous les lieux"))] + [
            (str(site.id), site.name) for site in sites_of(tenant, active_only=True)
        ]

    def cleaned(self, today: date) -> OpenEventsFilters:
        """The valid filters; a wrong value in the address counts as "no filter",
        and the period is at most a year (from today for 30 days by default)."""
        self.validate()
        start_day = self.start.data if self.start.data and not self.start.errors else today
        start_day = max(start_day, today)
        end_day = self.end.data if self.end.data and not self.end.errors else None
        if end_day is not None and end_day < start_day:
            self.end.errors = [*self.end.errors, str(_l("La date de fin doit être après la date de début."))]
            end_day = None
        if end_day is None:
            end_day = start_day + timedelta(days=DEFAULT_RANGE_DAYS - 1)
        end_day = min(end_day, start_day + timedelta(days=MAX_RANGE_DAYS - 1))
        zone = self.tenant.timezone
        kind = self.kind.data if self.kind.data and not self.kind.errors else ""
        site = self.site.data if self.site.data and not self.site.errors else ""
        return OpenEventsFilters(
            start=local_day_bounds(start_day, zone)[0],
            end=local_day_bounds(end_day, zone)[1],
            site_id=int(site) if site else None,
            kind=EventKind(kind) if kind else None,
            qualified_only=bool(self.qualified_only.data),
            is_filtered=bool(kind or site or self.qualified_only.data or self.start.data or self.end.data),
        )


class EnrolMemberForm(FlaskForm):
    """A coordinator signs a member up (choices: the structure's active members not signed up yet)."""

    member = SelectField(_l("Personne à inscrire"), validators=[InputRequired(REQUIRED)])

    def __init__(self, *args: Any, tenant: Tenant, exclude_user_ids: set[int] = frozenset(), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        people = db.session.execute(
            select(User.id, User.full_name)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.tenant_id == tenant.id, Membership.is_active.is_(True), User.is_active.is_(True))
            .order_by(User.full_name, User.id)
        ).all()
        self.member.choices = [("", _l("Choisissez une personne"))] + [
            (str(user_id), name) for user_id, name in people if user_id not in exclude_user_ids
        ]

    def user_id(self) -> int:
        return int(self.member.data)


class AttendanceSheetForm(FlaskForm):
    """One group of radio buttons per confirmed participant (fields added by ``attendance_form``)."""

    def person_fields(self) -> list[tuple[Enrolment, RadioField]]:
        return [(enrolment, self[f"person_{enrolment.id}"]) for enrolment in self._enrolments]

    def chosen(self) -> list[tuple[Enrolment, str]]:
        """(enrolment, attendance value) for every person given a choice."""
        return [(enrolment, field.data) for enrolment, field in self.person_fields() if field.data]


def attendance_form(enrolments: list[Enrolment], **kwargs: Any) -> AttendanceSheetForm:
    """The attendance sheet of these confirmed places, pre-filled with what was recorded."""

    class Sheet(AttendanceSheetForm):
        pass

    for enrolment in enrolments:
        setattr(Sheet, f"person_{enrolment.id}", RadioField(
            enrolment.user.full_name,
            choices=[(value.value, label) for value, label in ATTENDANCE_LABELS.items()],
            default=enrolment.attendance.value if enrolment.attendance else None,
            validators=[Optional()],
        ))
    form = Sheet(**kwargs)
    form._enrolments = enrolments
    return form
