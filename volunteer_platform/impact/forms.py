"""The dashboards' filters, read from the query string (GET, no CSRF): the
period, and for the association's dashboard the kind of structure and the region.

Nothing is saved, so a wrong value never blocks the page: it is shown with
its error beside the field, and the figures fall back to the default period
(the last twelve months), which the page says in words.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.validators import Optional, ValidationError

from volunteer_platform.impact.metrics import Period
from volunteer_platform.tenants.models import TENANT_KIND_LABELS, TenantKind
from volunteer_platform.training.forms.coordination import DATE_HINT, date_field

#: The default period: this month so far and the eleven before it.
DEFAULT_MONTHS = 12
#: Dates the dashboards accept (the programme's figures start in the 2000s).
EARLIEST = date(2000, 1, 1)
LATEST = date(2099, 12, 31)
#: The longest period one page covers (the monthly trend has one row per month).
LONGEST = timedelta(days=10 * 366)


@dataclass(frozen=True)
class DashboardFilters:
    """What the figures are computed for."""

    period: Period
    kind: TenantKind | None = None
    region: str | None = None
    #: The dates asked for were wrong and ``period`` is the default one.
    fell_back: bool = False

    def query_args(self) -> dict[str, str]:
        """The filters as query-string arguments (for export and drill-down links)."""
        args = {"start": self.period.start.isoformat(), "end": self.period.end.isoformat()}
        if self.kind is not None:
            args["kind"] = self.kind.value
        if self.region:
            args["region"] = self.region
        return args


class DashboardFilterForm(FlaskForm):
    """Period (both dates optional), and on the association's dashboard, kind and region."""

    class Meta:
        csrf = False

    start = date_field(_l("Du"), required=False, description=DATE_HINT)
    end = date_field(_l("Au (inclus)"), required=False, description=DATE_HINT)
    kind = SelectField(_l("Type de structure"), validators=[Optional()])
    region = SelectField(_l("Région"), validators=[Optional()])

    def __init__(self, *args: Any, default: Period, national: bool, regions: list[str] | None = None,
                 **kwargs: Any) -> None:
        kwargs.setdefault("start", default.start)
        kwargs.setdefault("end", default.end)
        super().__init__(*args, **kwargs)
        self.default = default
        self.national = national
        if national:
            self.kind.choices = [("", _l("Tous les types"))] + [
                (kind.value, label) for kind, label in TENANT_KIND_LABELS.items()
            ]
            self.region.choices = [("", _l("Toutes les régions"))] + [(r, r) for r in regions or []]
        else:
            del self.kind
            del self.region

    def validate_end(self, field: Any) -> None:
        start, end = self.start.data, field.data
        if start is not None and end is not None and end < start:
            raise ValidationError(_l("La date de fin doit être le même jour que la date de début ou après."))

    def _in_range(self) -> bool:
        """Dates the figures can be computed for; an error beside the field otherwise."""
        for f in (self.start, self.end):
            if not f.errors and f.data is not None and not EARLIEST <= f.data <= LATEST:
                f.errors.append(str(_l("Choisissez une date entre le %(first)s et le %(last)s.",
                                       first=format_date(EARLIEST, "short"), last=format_date(LATEST, "short"))))
        return not (self.start.errors or self.end.errors)

    def _period(self) -> Period:
        start, end, zone = self.start.data, self.end.data, self.default.zone
        if start is None and end is None:
            return self.default
        if start is None:  # the twelve months up to the chosen end
            return Period.last_months(end, DEFAULT_MONTHS, zone)
        if end is None:  # from the chosen start to today (or that very day, if it is later)
            return Period(start, max(start, self.default.end), zone)
        return Period(start, end, zone)

    def cleaned(self) -> DashboardFilters:
        """The filters to apply. Wrong dates: the default period (``fell_back``);
        an unknown kind or region in the address counts as "all"."""
        self.validate()
        kind: TenantKind | None = None
        region: str | None = None
        if self.national:
            if self.kind.errors:  # an unknown value typed in the address: no filter, no message
                self.kind.errors = []
            elif self.kind.data:
                kind = TenantKind(self.kind.data)
            if self.region.errors:
                self.region.errors = []
            elif self.region.data:
                region = self.region.data
        if not self._in_range():
            return DashboardFilters(self.default, kind, region, fell_back=True)
        period = self._period()
        if period.end - period.start > LONGEST:
            (self.end if self.end.data else self.start).errors.append(
                str(_l("Choisissez une période de dix ans au plus.")))
            return DashboardFilters(self.default, kind, region, fell_back=True)
        return DashboardFilters(period, kind, region)


__all__ = ["DEFAULT_MONTHS", "DashboardFilterForm", "DashboardFilters"]
