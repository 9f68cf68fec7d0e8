"""The impact dashboards and their exports.

- ``impact_national.dashboard`` (``/supervision/impact/``): association staff,
  every structure, filtered by period, kind of structure and region, with a
  comparison of the structures whose names lead to each one's own dashboard;
- ``impact.dashboard`` (``/<tenant_slug>/impact/``): the same page for one
  structure, for its coordinators (and staff, by the drill-down).

The figures come from ``aggregates.dashboard``: the stored figures as of their
last refresh (``flask impact-refresh``), which the page says, or
``metrics.dashboard`` computed live when none were ever stored; a fixed number of
queries either way. Each table is built once here as an ``exports.Table`` and serves
both the page and its CSV and XLSX downloads, so a file always says what the
page says. Charts are inline SVG drawn on the server (no JavaScript), each
followed by its table, which is the accessible alternative.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, numbers
from flask import abort, current_app, g, get_template_attribute, render_template, request, url_for
from flask_babel import format_date, format_datetime, format_decimal, get_locale, ngettext
from flask_babel import gettext as _
from markupsafe import Markup, escape

from volunteer_platform.auth.permissions import require_role, require_supervisor
from volunteer_platform.db import utcnow
from volunteer_platform.exports import Cell, Rate, Table, table_response
from volunteer_platform.impact import aggregates, metrics
from volunteer_platform.impact.forms import DEFAULT_MONTHS, DashboardFilterForm, DashboardFilters
from volunteer_platform.impact.models import HelpTheme
from volunteer_platform.impact.views import bp, national_bp
from volunteer_platform.paging import Pager, page_count, page_number
from volunteer_platform.tenants.models import Role, Tenant

#: File names of the downloads: bilan-<name>-<first day>-<last day>.csv
FILE_STEMS = {
    "summary": "chiffres-cles",
    "structures": "structures",
    "months": "mois",
    "themes": "themes",
    "confidence": "confiance",
}
#: The structure comparison chart shows this many structures (all are in its table).
CHART_STRUCTURES_MAX = 15


# --- figures as text --------------------------------------------------------------------------


@lru_cache(maxsize=65536)
def _number(locale: Locale, kind: str, value: float) -> str:
    """Babel's formatting, remembered: the association's comparison table has
    ~36,000 cells (2,000 structures) but far fewer distinct numbers, and Babel
    takes ~25 µs a number (bench/README.md)."""
    if kind == "percent":
        text = numbers.format_percent(value, locale=locale)
    else:
        text = numbers.format_decimal(value, format="#,##0.#" if kind == "float" else None, locale=locale)
    return escape(text)  # escaped once too, not on each of its cells


def cell_text(value: Cell, locale: Locale | None = None) -> str:
    """A table cell as the page shows it, in the reader's language: "—" when
    there is nothing to compute (a rate of an empty period)."""
    if value is None:
        return "—"
    if isinstance(value, Rate):
        return "—" if value.value is None else _number(locale or get_locale(), "percent", value.value)
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return _number(locale or get_locale(), "int", value)
    if isinstance(value, float):
        return _number(locale or get_locale(), "float", value)
    return str(value)


@bp.app_template_filter("impact_cell")
def _impact_cell(value: Cell) -> str:
    return cell_text(value)


def _is_number(value: Cell) -> bool:
    return isinstance(value, int | float | Rate) and not isinstance(value, bool)


@bp.app_template_filter("impact_is_number")
def _impact_is_number(value: Cell) -> bool:
    return value is None or _is_number(value)


def _hours(value: float) -> str:
    return _("%(hours)s h", hours=format_decimal(value, "#,##0.#"))


def _period_words(period: metrics.Period) -> str:
    return _("du %(start)s au %(end)s", start=format_date(period.start, "long"), end=format_date(period.end, "long"))


def _month_label(first_day: date, period: metrics.Period) -> str:
    """"novembre 2026", or "novembre 2026 (du 1 au 23)" for a month the period cuts."""
    following = (first_day + timedelta(days=32)).replace(day=1)
    start, end = max(first_day, period.start), min(following - timedelta(days=1), period.end)
    label = format_date(first_day, "LLLL y")
    if start == first_day and end == following - timedelta(days=1):
        return label
    return _("%(month)s (du %(first)s au %(last)s)", month=label, first=start.day, last=end.day)


# --- key figures ------------------------------------------------------------------------------


@dataclass
class KeyFigure:
    label: str
    value: Cell
    detail: str = ""


def key_figures(total: metrics.Figures) -> list[KeyFigure]:
    f = total
    answers = f.survey_answers

    def of_answers(count: int) -> str:
        return ngettext("%(count)s réponse sur %(num)d", "%(count)s réponses sur %(num)d", answers, count=count) \
            if answers else _("aucune réponse au questionnaire")

    return [
        KeyFigure(_("Bénévoles actifs"), f.active_volunteers,
                  _("ont participé à une activité ou terminé un module")),
        KeyFigure(_("Nouveaux bénévoles"), f.new_volunteers, _("arrivés sur la période")),
        KeyFigure(_("Modules de formation terminés"), f.modules_completed),
        KeyFigure(_("Parcours de formation terminés"), f.paths_completed),
        KeyFigure(_("Qualifications valides"), f.qualifications_held, _("à la fin de la période")),
        KeyFigure(_("Qualifications qui expirent bientôt"), f.qualifications_expiring,
                  ngettext("dans les %(num)d jours après la fin de la période",
                           "dans les %(num)d jours après la fin de la période", metrics.EXPIRING_WITHIN.days)),
        KeyFigure(_("Sessions de formation tenues"), f.sessions_held),
        KeyFigure(_("Taux de présence aux sessions"), Rate(f.attendance_rate),
                  ngettext("%(present)s présence sur %(num)d notée", "%(present)s présences sur %(num)d notées",
                           f.attendance_recorded, present=f.attendance_present)
                  if f.attendance_recorded else _("aucune présence notée")),
        KeyFigure(_("Permanences proposées"), f.shifts_offered,
                  ngettext("%(num)d place en tout", "%(num)d places en tout", f.places_offered)),
        KeyFigure(_("Taux de remplissage des permanences"), Rate(f.fill_rate),
                  ngettext("%(filled)s place pourvue sur %(num)d", "%(filled)s places pourvues sur %(num)d",
                           f.places_offered, filled=f.places_filled)
                  if f.places_offered else _("aucune place proposée")),
        KeyFigure(_("Heures de bénévolat"), f.volunteer_hours, _("permanences et ateliers")),
        KeyFigure(_("Personnes aidées"), f.people_helped, _("d'après les comptes rendus de permanence")),
        KeyFigure(_("Réponses au questionnaire de fin de session"), answers),
        KeyFigure(_("Satisfaction"), Rate(f.satisfaction_rate),
                  _("%(part)s donnent 4 ou 5 sur 5", part=of_answers(f.survey_satisfied)) if answers
                  else of_answers(0)),
        KeyFigure(_("Se sentent plus capables d'aider quelqu'un"), Rate(f.more_able_rate),
                  of_answers(f.survey_more_able)),
        KeyFigure(_("Se sentent à l'aise avec un ordinateur"), Rate(f.at_ease_rate), of_answers(f.survey_at_ease)),
    ]


# --- tables -----------------------------------------------------------------------------------


@dataclass
class PageTable:
    """One table of the page: its figures (also the download), a total row,
    links on the first cell of each row, and the download links."""

    key: str
    table: Table
    total: list[Cell] | None = None
    links: list[str | None] = field(default_factory=list)
    downloads: dict[str, str] = field(default_factory=dict)

    def cells(self, row: list[Cell]) -> list[tuple[bool, str]]:
        """(is it a number, its text) for each cell of a row after the first: the
        page's ~36,000 cells at national scale, formatted with one locale lookup."""
        locale = get_locale()
        return [(value is None or _is_number(value), cell_text(value, locale)) for value in row[1:]]

    def file_table(self) -> Table:
        rows = self.table.rows + ([self.total] if self.total else [])
        return Table(self.table.title, self.table.header, rows, self.table.subtitle)


def _figures_header() -> list[str]:
    return [
        _("Bénévoles actifs"), _("Nouveaux bénévoles"), _("Modules terminés"), _("Parcours terminés"),
        _("Qualifications valides"), _("dont expirant bientôt"), _("Sessions tenues"), _("Taux de présence"),
        _("Permanences proposées"), _("Taux de remplissage"), _("Heures de bénévolat"), _("Personnes aidées"),
        _("Réponses au questionnaire"), _("Satisfaction"), _("Plus capables d'aider"),
        _("À l'aise avec un ordinateur"),
    ]


def _figures_row(f: metrics.Figures) -> list[Cell]:
    return [
        f.active_volunteers, f.new_volunteers, f.modules_completed, f.paths_completed, f.qualifications_held,
        f.qualifications_expiring, f.sessions_held, Rate(f.attendance_rate), f.shifts_offered, Rate(f.fill_rate),
        f.volunteer_hours, f.people_helped, f.survey_answers, Rate(f.satisfaction_rate), Rate(f.more_able_rate),
        Rate(f.at_ease_rate),
    ]


def summary_table(d: metrics.Dashboard, subtitle: str) -> PageTable:
    rows: list[list[Cell]] = [[k.label, k.value, k.detail] for k in key_figures(d.total)]
    return PageTable("summary", Table(_("Chiffres clés"), [_("Indicateur"), _("Valeur"), _("Précision")], rows,
                                      subtitle))


def structures_table(d: metrics.Dashboard, subtitle: str, links: list[str | None],
                     shown: slice = slice(None)) -> PageTable:
    """Every structure's row (the download), or those of one page (``shown``); the total is the network's."""
    header = [_("Structure"), _("Type"), _("Région"), *_figures_header()]
    rows = [[s.tenant.name, s.tenant.kind.label, s.tenant.region or "", *_figures_row(s.figures)]
            for s in d.structures[shown]]
    total = [_("Ensemble des structures"), "", "", *_figures_row(d.total)]
    return PageTable("structures", Table(_("Comparaison des structures"), header, rows, subtitle), total, links)


def months_table(d: metrics.Dashboard, subtitle: str) -> PageTable:
    header = [_("Mois"), _("Bénévoles actifs"), _("Nouveaux bénévoles"), _("Modules terminés"),
              _("Sessions tenues"), _("Taux de présence"), _("Permanences proposées"), _("Taux de remplissage"),
              _("Heures de bénévolat"), _("Personnes aidées"), _("Réponses au questionnaire"), _("Satisfaction")]
    rows: list[list[Cell]] = []
    for m in d.months:
        f = m.figures
        rows.append([_month_label(m.first_day, d.period), f.active_volunteers, f.new_volunteers,
                     f.modules_completed, f.sessions_held, Rate(f.attendance_rate), f.shifts_offered,
                     Rate(f.fill_rate), f.volunteer_hours, f.people_helped, f.survey_answers,
                     Rate(f.satisfaction_rate)])
    return PageTable("months", Table(_("Évolution mois par mois"), header, rows, subtitle))


def themes_table(d: metrics.Dashboard, subtitle: str) -> PageTable:
    total = sum(d.people_by_theme.values())
    rows: list[list[Cell]] = []
    for theme in HelpTheme:
        people = d.people_by_theme.get(theme, 0)
        rows.append([theme.label, people, Rate(people / total if total else None)])
    return PageTable(
        "themes",
        Table(_("Personnes aidées par thème"), [_("Thème"), _("Personnes aidées"), _("Part")], rows, subtitle),
        [_("Total"), total, Rate(1.0 if total else None)],
    )


def confidence_table(d: metrics.Dashboard, subtitle: str) -> PageTable:
    header = [_("Domaine de compétence"), _("Personnes"), _("Confiance au début (sur 4)"),
              _("Confiance à la fin (sur 4)"), _("Progression (points)")]
    rows: list[list[Cell]] = [
        [c.area.label, c.people, round(c.average_start, 2), round(c.average_end, 2), round(c.gain, 2)]
        for c in d.confidence
    ]
    return PageTable("confidence", Table(_("Progression de la confiance par domaine"), header, rows, subtitle))


# --- charts (inline SVG) ----------------------------------------------------------------------


@dataclass
class Bar:
    label: str
    text: str  # the value, as written beside the bar
    x: float
    y: float
    width: float
    height: float
    sublabel: str = ""


@dataclass
class BarChart:
    """Geometry of a bar chart, in SVG user units; the template draws it."""

    id: str
    title: str
    description: str
    orientation: str  # "vertical" or "horizontal"
    width: float
    height: float
    bars: list[Bar]
    baseline: float = 0.0


def _description(points: list[tuple[str, str]]) -> str:
    if not points:
        return _("Aucune donnée.")
    return " ; ".join(f"{label} : {text}" for label, text in points) + "."


# Vertical bars: one slot per month.
V_SLOT, V_BAR, V_TOP, V_PLOT, V_BOTTOM, V_LEFT = 52.0, 32.0, 24.0, 160.0, 40.0, 8.0


def vertical_bars(chart_id: str, title: str, points: list[tuple[str, str, float, str]]) -> BarChart:
    """``points``: (label, value text, value, second label line) per bar."""
    top = max((value for _label, _text, value, _sub in points), default=0) or 1
    bars = []
    for i, (label, text, value, sublabel) in enumerate(points):
        height = V_PLOT * value / top
        if value > 0:
            height = max(height, 1.5)  # a small figure stays visible
        bars.append(Bar(label, text, V_LEFT + i * V_SLOT + (V_SLOT - V_BAR) / 2, V_TOP + V_PLOT - height,
                        V_BAR, height, sublabel))
    width = V_LEFT * 2 + V_SLOT * max(len(points), 1)
    return BarChart(chart_id, title, _description([(f"{p[0]} {p[3]}".strip(), p[1]) for p in points]),
                    "vertical", width, V_TOP + V_PLOT + V_BOTTOM, bars, baseline=V_TOP + V_PLOT)


# Horizontal bars: the label on its own line above each bar.
H_WIDTH, H_ROW, H_LABEL, H_BAR, H_VALUE = 600.0, 48.0, 16.0, 20.0, 96.0
H_LABEL_MAX = 70


def horizontal_bars(chart_id: str, title: str, points: list[tuple[str, str, float]],
                    description: str | None = None) -> BarChart:
    top = max((value for _label, _text, value in points), default=0) or 1
    room = H_WIDTH - H_VALUE
    bars = []
    for i, (label, text, value) in enumerate(points):
        width = room * value / top
        if value > 0:
            width = max(width, 1.5)
        short = label if len(label) <= H_LABEL_MAX else label[:H_LABEL_MAX - 1] + "…"
        bars.append(Bar(short, text, 0.0, i * H_ROW + H_LABEL + 6, width, H_BAR))
    return BarChart(chart_id, title, description or _description([(p[0], p[1]) for p in points]),
                    "horizontal", H_WIDTH, max(len(points), 1) * H_ROW + 4, bars)


def month_charts(d: metrics.Dashboard) -> list[BarChart]:
    def points(value_of: Any, text_of: Any) -> list[tuple[str, str, float, str]]:
        result = []
        for i, m in enumerate(d.months):
            year = format_date(m.first_day, "y") if i == 0 or m.first_day.month == 1 else ""
            result.append((format_date(m.first_day, "LLL"), text_of(value_of(m.figures)), value_of(m.figures), year))
        return result

    return [
        vertical_bars("chart-hours", _("Heures de bénévolat par mois"),
                      points(lambda f: f.volunteer_hours, _hours)),
        vertical_bars("chart-sessions", _("Sessions de formation tenues par mois"),
                      points(lambda f: f.sessions_held, cell_text)),
    ]


def structures_chart(d: metrics.Dashboard) -> BarChart:
    ranked = sorted(d.structures, key=lambda s: (-s.figures.volunteer_hours, s.tenant.name))
    shown = ranked[:CHART_STRUCTURES_MAX]
    title = _("Heures de bénévolat par structure")
    if len(ranked) > len(shown):
        title = _("Heures de bénévolat : les %(count)s structures qui en comptent le plus", count=len(shown))
    return horizontal_bars("chart-structures", title,
                           [(s.tenant.name, _hours(s.figures.volunteer_hours), s.figures.volunteer_hours)
                            for s in shown])


def themes_chart(d: metrics.Dashboard) -> BarChart:
    points = [(theme.label, cell_text(d.people_by_theme.get(theme, 0)), float(d.people_by_theme.get(theme, 0)))
              for theme in HelpTheme]
    return horizontal_bars("chart-themes", _("Personnes aidées par thème"), points)


# --- the pages --------------------------------------------------------------------------------


def _zone() -> str:
    """Periods are days in the association's zone, so a structure's figures
    are the same on its page and on the national one (see ``metrics``)."""
    return current_app.config["DEFAULT_TIMEZONE"]


def _filters(*, national: bool) -> tuple[DashboardFilterForm, DashboardFilters]:
    zone = _zone()
    today = utcnow().astimezone(ZoneInfo(zone)).date()
    form = DashboardFilterForm(request.args, default=metrics.Period.last_months(today, DEFAULT_MONTHS, zone),
                               national=national, regions=metrics.regions() if national else None)
    return form, form.cleaned()


def _subtitle(filters: DashboardFilters, tenant: Tenant | None, now: Any) -> str:
    parts = [tenant.name] if tenant is not None else [_("Toutes les structures")]
    if filters.kind is not None:
        parts.append(_("type : %(kind)s", kind=filters.kind.label))
    if filters.region:
        parts.append(_("région : %(region)s", region=filters.region))
    parts.append(_period_words(filters.period))
    parts.append(_("chiffres du %(moment)s", moment=format_datetime(now, "short")))
    return " · ".join(parts)


def _tables(d: metrics.Dashboard, filters: DashboardFilters, tenant: Tenant | None, *,
            structures: bool = True, shown: slice = slice(None)) -> dict[str, PageTable]:
    subtitle = _subtitle(filters, tenant, d.generated_at)
    tables = {"summary": summary_table(d, subtitle)}
    if tenant is None and structures:
        drill = {"start": filters.period.start.isoformat(), "end": filters.period.end.isoformat()}
        links = [url_for("impact.dashboard", tenant_slug=s.tenant.slug, **drill) if s.tenant.is_active else None
                 for s in d.structures[shown]]
        tables["structures"] = structures_table(d, subtitle, links, shown)
    tables["months"] = months_table(d, subtitle)
    tables["themes"] = themes_table(d, subtitle)
    tables["confidence"] = confidence_table(d, subtitle)
    return tables


def _compute(filters: DashboardFilters, tenant: Tenant | None) -> metrics.Dashboard:
    return aggregates.dashboard(filters.period, now=utcnow(), tenant_id=tenant.id if tenant else None,
                                kind=filters.kind, region=filters.region)


#: The national comparison table as HTML, per process, for stored figures only: its
#: key holds the refresh time, the filters and what the table shows of each structure,
#: so an entry never outlives what it shows. 2,000 rows of 19 cells take ~200 ms to
#: build and render, the rest of the page ~30 ms.
_STRUCTURES_HTML: OrderedDict[tuple[Any, ...], Markup] = OrderedDict()
_STRUCTURES_HTML_SIZE = 16


def _structures_key(d: metrics.Dashboard, filters: DashboardFilters, page: int) -> tuple[Any, ...] | None:
    if not d.notes.get("as_of"):
        return None  # computed live: fresh figures, nothing to keep
    shown = tuple((s.tenant.id, s.tenant.name, s.tenant.slug, s.tenant.kind, s.tenant.region, s.tenant.is_active)
                  for s in d.structures)
    return (d.generated_at, str(get_locale()), tuple(sorted(filters.query_args().items())), page, shown)


#: The comparison table shows this many structures per page; its download has them all.
STRUCTURES_PER_PAGE = 50


def _page(*, national: bool) -> Any:
    form, filters = _filters(national=national)
    tenant = None if national else g.tenant
    d = _compute(filters, tenant)
    pager, shown = None, slice(None)
    if national:
        pages = page_count(len(d.structures), STRUCTURES_PER_PAGE)
        pager = Pager.of(min(page_number(request.args), pages), pages, request.args, "impact_national.dashboard",
                         anchor="dash-h-structures")
        shown = slice((pager.page - 1) * STRUCTURES_PER_PAGE, pager.page * STRUCTURES_PER_PAGE)
    key = _structures_key(d, filters, pager.page) if pager else None
    structures_html = _STRUCTURES_HTML.get(key) if key else None
    tables = _tables(d, filters, tenant, structures=structures_html is None, shown=shown)
    endpoint = "impact_national.export" if national else "impact.export"
    for name, table in tables.items():
        table.downloads = {fmt: url_for(endpoint, table=name, fmt=fmt, **filters.query_args())
                           for fmt in ("csv", "xlsx")}
    if national and structures_html is None:
        page_table = get_template_attribute("impact/_dash_table.html", "page_table")
        structures_html = page_table(tables["structures"],
                                     empty=_("Aucune structure ne correspond à ces critères."))
        if key:
            _STRUCTURES_HTML[key] = structures_html
            while len(_STRUCTURES_HTML) > _STRUCTURES_HTML_SIZE:
                _STRUCTURES_HTML.pop(next(iter(_STRUCTURES_HTML)), None)
    charts = {"months": month_charts(d), "themes": [themes_chart(d)]}
    if national:
        charts["structures"] = [structures_chart(d)]
    return render_template(
        "impact/dashboard.html",
        national=national,
        tenant=tenant,
        form=form,
        filters=filters,
        dashboard=d,
        key_figures=key_figures(d.total),
        tables=tables,
        structures_html=structures_html,
        pager=pager,
        shown_words=(format_decimal(shown.start + 1), format_decimal(min(shown.stop, len(d.structures))),
                     format_decimal(len(d.structures))) if pager else None,
        charts=charts,
        period_words=_period_words(filters.period),
        reset_url=url_for("impact_national.dashboard") if national else url_for("impact.dashboard"),
        page_title=_("Impact du programme — toutes les structures") if national
        else _("Impact — %(name)s", name=tenant.name),
        zone_city=_zone().rsplit("/", 1)[-1].replace("_", " "),
        expiring_days=metrics.EXPIRING_WITHIN.days,
        generated_words=format_datetime(d.generated_at, "short"),
        as_of=bool(d.notes.get("as_of")),
    ), 422 if filters.fell_back else 200


def _export(table: str, fmt: str, *, national: bool) -> Any:
    _form, filters = _filters(national=national)
    if filters.fell_back:  # a hand-made address: never a file of other dates than asked
        abort(400)
    tenant = None if national else g.tenant
    tables = _tables(_compute(filters, tenant), filters, tenant)
    if table not in tables:
        abort(404)
    who = "" if national else f"{tenant.slug}-"
    stem = f"bilan-{who}{FILE_STEMS[table]}-{filters.period.start.isoformat()}-{filters.period.end.isoformat()}"
    return table_response(tables[table].file_table(), fmt, stem)


@national_bp.get("/")
@require_supervisor
def dashboard() -> Any:
    """Every structure's figures for the period, their total, trends and comparison."""
    return _page(national=True)


@national_bp.get("/export/<any(summary, structures, months, themes, confidence):table>.<any(csv, xlsx):fmt>")
@require_supervisor
def export(table: str, fmt: str) -> Any:
    """One table of the association's dashboard as CSV or XLSX, with the page's filters."""
    return _export(table, fmt, national=True)


@bp.get("/", endpoint="dashboard")
@require_role(Role.COORDINATOR)
def structure_dashboard() -> Any:
    """The structure's own figures (staff reach it from the national dashboard)."""
    return _page(national=False)


@bp.get("/export/<any(summary, months, themes, confidence):table>.<any(csv, xlsx):fmt>", endpoint="export")
@require_role(Role.COORDINATOR)
def structure_export(table: str, fmt: str) -> Any:
    """One table of the structure's dashboard as CSV or XLSX, with the page's filters."""
    return _export(table, fmt, national=False)
