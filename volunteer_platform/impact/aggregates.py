"""The dashboards' figures kept ready: per structure and per day, refreshed by a command.

Computed on each view, the association's dashboard aggregated a year of the whole
network (a million events, half a million places) in 23 queries: ~10–17 s of SQL
per view on the national benchmark data (bench/README.md). Most of its figures are
*additive*: a period's count is the sum of its days', the network's the sum of
its structures'. So they are stored once per (structure, day) — the day in the
association's zone, ``DEFAULT_TIMEZONE``, as periods are — by the same queries as
``metrics`` (its ``_Grouping`` by structure and day), and summed at read time:

- ``ImpactFigures`` rows per (structure, day), plus one row per (structure, month)
  adding up that month's days (``is_month``), so a year reads ~12 rows a
  structure, and day rows only for the months a period cuts;
- ``ImpactThemeFigures``: people helped per (structure, day or month, theme);
- ``ImpactConfidence``: per (structure, day or month, competence area), the
  end-of-path self-assessments having a start, and the sums of both confidences
  (averages and gain are sums over the count);
- ``ImpactActivity``: who was active per (structure, day, person), and whether
  they are one of its volunteers. Distinct people do not add up (someone active
  in two structures, or on two days, is one person), so this table keeps the
  people and the dashboard counts them distinct in SQL — exact, from ~280,000
  narrow rows a year (a partial index of volunteers' rows) instead of joining
  the places and the events.

Still read live, being neither additive nor slow: new volunteers in the total
(someone who joined two structures is one person) and qualifications held and
expiring (taken at the refresh time, as everything else).

Freshness. Figures change when a row behind them changes — an event, a place,
an attendance, a report, a survey answer, a membership, a completion, a
self-assessment — whatever day it belongs to (attendance is marked after the
event, a report filed days later). The session events of ``changes`` (shared
with the feeds' change stamps) note the (structure, day) of every such row added, changed or deleted through the ORM
(and the (structure, person) of a membership: is that person a volunteer
there?), and the commit writes them to ``ImpactPending`` (append-only: no row
lock shared by writers). A bulk ``update()``/``delete()`` of those tables notes
every day of the structure its WHERE names (``tenant_id == n``), or else
"everything" (the app does none but privacy erasure's deactivation of
memberships, which no figure reads; the benchmark deletes its shifts of one
structure). Time alone changes one figure: a session counts as held once over,
so each refresh also recomputes every structure's days since the previous one.

``flask impact-refresh`` (cron, every ten minutes) recomputes the noted days and
the months holding them (~2 s on the national data when little changed), then
deletes the notes it read; ``--full`` rebuilds everything (~2 min nationally;
after writing rows around the ORM, e.g. the benchmark generator's COPY). It is
the only writer of these tables; two runs wait for each other (a PostgreSQL
advisory lock).

Reading: ``dashboard`` returns what ``metrics.dashboard`` returned at the last
refresh, figure for figure (``tests/impact/test_aggregates.py`` compares them
on the hand-computed data, months cut by the period and the change of time
included), with ``generated_at`` = the refresh time, which the page shows
("Chiffres arrêtés le …"). Until a first refresh (a new installation, the
tests), or if the zone changed since, it computes live. Each process keeps the
last few dashboards it computed, keyed by the refresh time: read again before the
next refresh, one costs two queries.

Why not a cache of whole pages alone, or refreshing on write? A cache still
computes each filter set for 10–17 s once; refreshing on write would put the
recomputation in every sign-up's transaction. Stored figures plus a refresh keep
every filter set under a second and the writes as they were.
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    and_,
    case,
    delete,
    distinct,
    func,
    insert,
    inspect,
    literal,
    or_,
    select,
    text,
    true,
    tuple_,
    update,
)
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, aliased, mapped_column
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import BinaryExpression, BindParameter, BooleanClauseList

from volunteer_platform.auth.models import User
from volunteer_platform.changes import Watcher, loaded, watch
from volunteer_platform.db import enum_column
from volunteer_platform.extensions import db
from volunteer_platform.impact import metrics
from volunteer_platform.impact.metrics import (
    Dashboard,
    Figures,
    MonthFigures,
    Period,
    StructureFigures,
)
from volunteer_platform.impact.models import (
    ActivityReport,
    ActivityReportTheme,
    AssessmentStage,
    HelpTheme,
    SelfAssessment,
    SurveyResponse,
)
from volunteer_platform.scheduling.models import Enrolment, Event
from volunteer_platform.tenants.models import Membership, Role, Tenant, TenantKind
from volunteer_platform.training.models import CompetenceArea, ModuleCompletion, PathCompletion

#: The additive figures stored per day (``Figures`` fields; volunteer hours are stored in seconds).
COUNTS = (
    "new_volunteers", "modules_completed", "paths_completed", "sessions_held", "attendance_present",
    "attendance_recorded", "shifts_offered", "places_offered", "places_filled", "people_helped",
    "survey_answers", "survey_satisfied", "survey_more_able", "survey_at_ease", "satisfaction_sum",
)


# --- tables ---------------------------------------------------------------------------------------


class ImpactFigures(db.Model):
    """A structure's additive figures for one day, or (``is_month``) one whole month,
    ``day`` being then its first day."""

    __tablename__ = "impact_figures"
    __table_args__ = (Index("ix_impact_figures_span", "is_month", "day"),)

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), primary_key=True)
    is_month: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    new_volunteers: Mapped[int] = mapped_column(default=0)
    modules_completed: Mapped[int] = mapped_column(default=0)
    paths_completed: Mapped[int] = mapped_column(default=0)
    sessions_held: Mapped[int] = mapped_column(default=0)
    attendance_present: Mapped[int] = mapped_column(default=0)
    attendance_recorded: Mapped[int] = mapped_column(default=0)
    shifts_offered: Mapped[int] = mapped_column(default=0)
    places_offered: Mapped[int] = mapped_column(default=0)
    places_filled: Mapped[int] = mapped_column(default=0)
    volunteer_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    people_helped: Mapped[int] = mapped_column(default=0)
    survey_answers: Mapped[int] = mapped_column(default=0)
    survey_satisfied: Mapped[int] = mapped_column(default=0)
    survey_more_able: Mapped[int] = mapped_column(default=0)
    survey_at_ease: Mapped[int] = mapped_column(default=0)
    satisfaction_sum: Mapped[int] = mapped_column(default=0)


class ImpactThemeFigures(db.Model):
    """People helped by a structure on one theme, for one day or (``is_month``) one month."""

    __tablename__ = "impact_theme_figures"
    __table_args__ = (Index("ix_impact_theme_figures_span", "is_month", "day"),)

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), primary_key=True)
    is_month: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    theme: Mapped[HelpTheme] = mapped_column(enum_column(HelpTheme, "help_theme"), primary_key=True)
    people: Mapped[int] = mapped_column(default=0)


class ImpactActivity(db.Model):
    """Someone active for a structure on a day (``metrics._activity``); whether they are
    one of its volunteers is kept up to date by the refresh (memberships are noted too)."""

    __tablename__ = "impact_activity"
    # Partial: the dashboards count volunteers only, and read them from the index alone.
    __table_args__ = (Index("ix_impact_activity_day", "day", "tenant_id", "user_id",
                            postgresql_where=text("is_volunteer"), sqlite_where=text("is_volunteer")),)

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    is_volunteer: Mapped[bool] = mapped_column(Boolean)


class ImpactConfidence(db.Model):
    """End-of-path self-assessments submitted to a structure on one day or (``is_month``)
    in one month, per area: how many had a start, the sum of their start and end
    confidence (``metrics._confidence``; averages are sums over ``people``)."""

    __tablename__ = "impact_confidence"
    __table_args__ = (Index("ix_impact_confidence_span", "is_month", "day"),)

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), primary_key=True)
    is_month: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    area: Mapped[CompetenceArea] = mapped_column(enum_column(CompetenceArea, "assessment_area"), primary_key=True)
    people: Mapped[int] = mapped_column(default=0)
    start_sum: Mapped[int] = mapped_column(default=0)
    end_sum: Mapped[int] = mapped_column(default=0)


class ImpactPending(db.Model):
    """A day whose figures changed since the last refresh: (structure, day); a
    structure's every day when ``day`` is empty; everything when both are; with
    ``user_id``, a membership changed (is that person a volunteer there?)."""

    __tablename__ = "impact_pending"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"))
    day: Mapped[date | None] = mapped_column(Date)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))


class ImpactRefresh(db.Model):
    """The one row saying when the figures were last refreshed, and in which zone."""

    __tablename__ = "impact_refresh"

    id: Mapped[int] = mapped_column(primary_key=True)
    refreshed_at: Mapped[datetime]
    zone: Mapped[str] = mapped_column(String(64))


# --- noting what changed ----------------------------------------------------------------------------

_EVERYTHING = (None, None)


def _zone() -> str:
    return current_app.config["DEFAULT_TIMEZONE"] if has_app_context() else "Europe/Paris"


def _start() -> dict[str, set[Any]]:
    """A transaction's notes: (structure, moment) days, event, report and person ids, path starts."""
    return {name: set() for name in ("days", "events", "reports", "people", "starts")}


#: What each tracked row's figures depend on (``changes`` loads them before a delete).
_NEEDED = ("tenant_id", "event_id", "report_id", "starts_at", "created_at", "completed_at", "submitted_at",
           "user_id", "path_id", "area", "stage")


def _note(noted: dict[str, set[Any]], session: Session, obj: Any) -> None:
    tenant_id = loaded(obj, "tenant_id")
    if isinstance(obj, Event):
        moments = [loaded(obj, "starts_at"), *inspect(obj).attrs.starts_at.history.deleted]
        noted["days"].update((tenant_id, moment) for moment in moments)
    elif isinstance(obj, Enrolment | ActivityReport | SurveyResponse):
        event_id = loaded(obj, "event_id")
        noted["events" if event_id else "days"].add(event_id or (tenant_id, None))
    elif isinstance(obj, ActivityReportTheme):
        noted["reports"].add(loaded(obj, "report_id"))
    elif isinstance(obj, SelfAssessment):
        if loaded(obj, "stage") == AssessmentStage.END:
            noted["days"].add((tenant_id, loaded(obj, "submitted_at")))
        else:  # counted on the day of the matching end of path, if any
            noted["starts"].add((loaded(obj, "user_id"), loaded(obj, "path_id"), loaded(obj, "area")))
    elif isinstance(obj, User):
        if obj in session.deleted:  # the database empties or deletes their rows
            noted["days"].add(_EVERYTHING)
    elif isinstance(obj, Membership):
        noted["days"].add((tenant_id, loaded(obj, "created_at")))
        noted["people"].add((tenant_id, loaded(obj, "user_id")))
    elif tenant_id is not None:  # a completion in a structure
        noted["days"].add((tenant_id, loaded(obj, "completed_at")))


def _note_bulk(noted: dict[str, set[Any]], state: ORMExecuteState) -> None:
    classes = {mapper.class_ for mapper in state.all_mappers}
    # Privacy erasure deactivates memberships in bulk: no figure reads ``is_active``.
    if state.is_update and classes == {Membership} and _sets_only(state.statement, {"is_active"}):
        return
    tenant_id = _one_structure(state.statement)
    noted["days"].add((tenant_id, None) if tenant_id is not None else _EVERYTHING)


def _sets_only(statement: Any, names: set[str]) -> bool:
    values = getattr(statement, "_values", None) or {}  # the SET clause (no public accessor)
    keys = {getattr(column, "key", column) for column in values}
    return bool(keys) and keys <= names


def _one_structure(statement: Any) -> int | None:
    """The structure a bulk statement is limited to by a top-level ``tenant_id == n``
    (e.g. the benchmark deleting its shifts), if any."""
    where = getattr(statement, "whereclause", None)
    if where is None:
        return None
    terms = where.clauses if isinstance(where, BooleanClauseList) and where.operator is operators.and_ \
        else [where]
    for term in terms:
        if (isinstance(term, BinaryExpression) and term.operator is operators.eq
                and getattr(term.left, "key", None) == "tenant_id" and isinstance(term.right, BindParameter)
                and isinstance(term.right.value, int)):
            return term.right.value
    return None


def _insert_pending(session: Session, noted: dict[str, set[Any]]) -> None:
    days = set(noted["days"])
    events = {i for i in noted["events"] if i is not None}
    reports = {i for i in noted["reports"] if i is not None}
    if reports:
        events.update(session.scalars(select(ActivityReport.event_id).where(ActivityReport.id.in_(reports))))
    starts = {key for key in noted["starts"] if None not in key}
    if starts:
        s = SelfAssessment
        days.update(session.execute(select(s.tenant_id, s.submitted_at).where(
            s.stage == AssessmentStage.END, tuple_(s.user_id, s.path_id, s.area).in_(sorted(starts)))))
    known = []
    for event_id in events:
        obj = session.identity_map.get(Session.identity_key(Event, event_id))
        if obj is not None and loaded(obj, "starts_at") is not None:
            days.add((loaded(obj, "tenant_id"), loaded(obj, "starts_at")))
            known.append(event_id)
    unknown = events.difference(known)
    if unknown:  # an event deleted in this transaction is gone, but noted itself
        days.update(session.execute(select(Event.tenant_id, Event.starts_at).where(Event.id.in_(unknown))))
    zone = ZoneInfo(_zone())
    rows = {
        (tenant_id, moment.astimezone(zone).date() if moment is not None else None)
        for tenant_id, moment in days
        if tenant_id is not None or moment is None
    }
    if _EVERYTHING in rows:
        rows = {_EVERYTHING}
    people = {(t, u) for t, u in noted["people"] if t is not None and u is not None}
    if rows or people:
        session.execute(insert(ImpactPending), [{"tenant_id": t, "day": d, "user_id": None}
                                                for t, d in sorted(rows, key=repr)]
                        + [{"tenant_id": t, "day": None, "user_id": u} for t, u in sorted(people)])


_TRACKED: tuple[type, ...] = (Event, Enrolment, ActivityReport, ActivityReportTheme, SurveyResponse, Membership,
                              ModuleCompletion, PathCompletion, SelfAssessment, User)

watch(Watcher("impact figures", _TRACKED, start=_start, note=_note, note_bulk=_note_bulk, write=_insert_pending,
              needed=_NEEDED))


# --- refreshing -------------------------------------------------------------------------------------


@dataclass
class RefreshReport:
    full: bool
    days: int  # (structure-set, day) spans recomputed, counted in days
    pending: int  # notes used


def _month_of(day: date) -> Period:
    following = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
    return Period(day.replace(day=1), following - timedelta(days=1), "UTC")


def _extent(zone: str) -> tuple[date, date] | None:
    """First and last day anything stored happened on."""
    moments = [
        m for stmt in (
            select(func.min(Event.starts_at), func.max(Event.starts_at)),
            select(func.min(Membership.created_at), func.max(Membership.created_at)),
            select(func.min(ModuleCompletion.completed_at), func.max(ModuleCompletion.completed_at)),
            select(func.min(PathCompletion.completed_at), func.max(PathCompletion.completed_at)),
        ) for m in db.session.execute(stmt).one() if m is not None
    ]
    if not moments:
        return None
    tz = ZoneInfo(zone)
    return min(moments).astimezone(tz).date(), max(moments).astimezone(tz).date()


def _tenant_ids(ids: set[int] | None) -> Any:
    return select(Tenant.id) if ids is None else select(Tenant.id).where(Tenant.id.in_(sorted(ids)))


def _recompute(period: Period, ids: set[int] | None, now: datetime) -> None:
    """Recompute the days of ``period`` (within one month) for these structures (None:
    all), then their month's total rows."""
    tenant_ids = _tenant_ids(ids)
    grouping = metrics._Grouping(period, tenant_ids, by_day=True)
    per_day: dict[tuple[int, int], Figures] = {}
    themes: dict[tuple[int, int], dict[HelpTheme, int]] = {}
    seconds: dict[tuple[int, int], float] = {}
    metrics._collect(grouping, now, per_day, themes, seconds=seconds)
    days = [d.start for d in period.days()]

    activity = metrics._activity()
    buckets = grouping.buckets
    volunteer = and_(Membership.tenant_id == activity.c.tenant_id, Membership.user_id == activity.c.user_id,
                     Membership.role == Role.VOLUNTEER)
    active = db.session.execute(
        select(activity.c.tenant_id, buckets.c.bucket, activity.c.user_id, Membership.id.is_not(None)).distinct()
        .select_from(activity)
        .join(buckets, and_(activity.c.moment >= buckets.c.bucket_start, activity.c.moment < buckets.c.bucket_end))
        .outerjoin(Membership, volunteer)
        .where(activity.c.tenant_id.in_(tenant_ids), activity.c.moment >= period.starts_at,
               activity.c.moment < period.ends_at)
    ).all()

    start, end = aliased(SelfAssessment), aliased(SelfAssessment)
    confidence = db.session.execute(
        select(end.tenant_id, buckets.c.bucket, end.area, func.count(end.id), func.sum(start.confidence),
               func.sum(end.confidence))
        .join(start, and_(start.user_id == end.user_id, start.path_id == end.path_id, start.area == end.area,
                          start.stage == AssessmentStage.START))
        .join(buckets, and_(end.submitted_at >= buckets.c.bucket_start, end.submitted_at < buckets.c.bucket_end))
        .where(end.stage == AssessmentStage.END, end.user_id.is_not(None), end.tenant_id.in_(tenant_ids),
               end.submitted_at >= period.starts_at, end.submitted_at < period.ends_at)
        .group_by(end.tenant_id, buckets.c.bucket, end.area)
    ).all()

    month = _month_of(period.start)
    for model in (ImpactFigures, ImpactThemeFigures, ImpactConfidence):
        db.session.execute(delete(model).where(
            model.tenant_id.in_(tenant_ids),
            or_(and_(model.is_month.is_(False), model.day >= period.start, model.day <= period.end),
                and_(model.is_month.is_(True), model.day == month.start)),
        ).execution_options(synchronize_session=False))
    db.session.execute(delete(ImpactActivity).where(
        ImpactActivity.tenant_id.in_(tenant_ids), ImpactActivity.day >= period.start,
        ImpactActivity.day <= period.end,
    ).execution_options(synchronize_session=False))

    figure_rows = [
        {"tenant_id": tenant, "is_month": False, "day": days[bucket],
         "volunteer_seconds": seconds.get((tenant, bucket), 0.0),
         **{name: getattr(f, name) for name in COUNTS}}
        for (tenant, bucket), f in per_day.items()
    ]
    theme_rows = [
        {"tenant_id": tenant, "is_month": False, "day": days[bucket], "theme": theme, "people": people}
        for (tenant, bucket), by_theme in themes.items() for theme, people in by_theme.items()
    ]
    activity_rows = [{"tenant_id": t, "day": days[b], "user_id": u, "is_volunteer": bool(v)}
                     for t, b, u, v in active if u is not None]
    confidence_rows = [
        {"tenant_id": t, "is_month": False, "day": days[b], "area": area, "people": people,
         "start_sum": int(start_sum), "end_sum": int(end_sum)}
        for t, b, area, people, start_sum, end_sum in confidence
    ]
    for model, rows in ((ImpactFigures, figure_rows), (ImpactThemeFigures, theme_rows),
                        (ImpactActivity, activity_rows), (ImpactConfidence, confidence_rows)):
        if rows:
            db.session.execute(insert(model), rows)

    # The month's total rows, from its day rows (all of them, not only the days just redone).
    in_month = and_(ImpactFigures.is_month.is_(False), ImpactFigures.day >= month.start,
                    ImpactFigures.day <= month.end, ImpactFigures.tenant_id.in_(tenant_ids))
    columns = ["tenant_id", "is_month", "day", "volunteer_seconds", *COUNTS]
    db.session.execute(insert(ImpactFigures).from_select(columns, select(
        ImpactFigures.tenant_id, literal(True), literal(month.start, Date()),
        func.sum(ImpactFigures.volunteer_seconds),
        *[func.sum(getattr(ImpactFigures, name)) for name in COUNTS],
    ).where(in_month).group_by(ImpactFigures.tenant_id)))
    t = ImpactThemeFigures
    db.session.execute(insert(t).from_select(["tenant_id", "is_month", "day", "theme", "people"], select(
        t.tenant_id, literal(True), literal(month.start, Date()), t.theme, func.sum(t.people),
    ).where(t.is_month.is_(False), t.day >= month.start, t.day <= month.end, t.tenant_id.in_(tenant_ids))
        .group_by(t.tenant_id, t.theme)))
    c = ImpactConfidence
    db.session.execute(insert(c).from_select(
        ["tenant_id", "is_month", "day", "area", "people", "start_sum", "end_sum"],
        select(c.tenant_id, literal(True), literal(month.start, Date()), c.area, func.sum(c.people),
               func.sum(c.start_sum), func.sum(c.end_sum))
        .where(c.is_month.is_(False), c.day >= month.start, c.day <= month.end, c.tenant_id.in_(tenant_ids))
        .group_by(c.tenant_id, c.area)))


def _in_months(first: date, last: date, zone: str) -> Iterable[Period]:
    """``first`` to ``last`` cut at month ends (one recomputation per month)."""
    return (m.period for m in Period(first, last, zone).months())


def refresh(*, now: datetime, full: bool = False) -> RefreshReport:
    """Bring the stored figures up to ``now``: the days noted since the last refresh and
    the days since it (sessions now over), or everything. The caller commits."""
    zone = _zone()
    if db.session.get_bind().dialect.name == "postgresql":
        # One refresh at a time; a second one waits, then finds little left to do.
        db.session.execute(text("SELECT pg_advisory_xact_lock(hashtext('impact-refresh'))"))
    state = db.session.get(ImpactRefresh, 1, populate_existing=True)
    # The notes committed so far, and only those are deleted at the end: one committed
    # meanwhile (even with a smaller id) is left for the next run.
    read = db.session.execute(select(ImpactPending.id, ImpactPending.tenant_id, ImpactPending.day,
                                     ImpactPending.user_id)).all()
    notes = [(t, d) for _i, t, d, u in read if u is None]
    people = sorted({(t, u) for _i, t, _d, u in read if u is not None})
    full = full or state is None or state.zone != zone or any(t is None for t, _d in notes)
    tz = ZoneInfo(zone)
    work: list[tuple[Period, set[int] | None]] = []
    if full:
        for model in (ImpactFigures, ImpactThemeFigures, ImpactActivity, ImpactConfidence):
            db.session.execute(delete(model))
        extent = _extent(zone)
        if extent:
            work += [(p, None) for p in _in_months(*extent, zone)]
    else:
        since = state.refreshed_at.astimezone(tz).date() - timedelta(days=1)
        work += [(p, None) for p in _in_months(since, max(since, now.astimezone(tz).date()), zone)]
        whole_structures = {t for t, d in notes if d is None}
        extent = _extent(zone) if whole_structures else None
        if extent:
            work += [(p, whole_structures) for p in _in_months(*extent, zone)]
        by_month: dict[date, dict[int, list[date]]] = defaultdict(lambda: defaultdict(list))
        for tenant_id, day in notes:
            if day is not None and tenant_id not in whole_structures:
                by_month[day.replace(day=1)][tenant_id].append(day)
        for days_of in by_month.values():
            every = [d for ds in days_of.values() for d in ds]
            work.append((Period(min(every), max(every), zone), set(days_of)))
    if people and not full:
        _recheck_volunteers(people)
    for period, ids in work:
        _recompute(period, ids, now)
    ids = [row[0] for row in read]
    for start in range(0, len(ids), 1000):
        db.session.execute(delete(ImpactPending).where(ImpactPending.id.in_(ids[start:start + 1000])))
    if state is None:
        state = ImpactRefresh(id=1, refreshed_at=now, zone=zone)
        db.session.add(state)
    state.refreshed_at, state.zone = now, zone
    db.session.flush()
    return RefreshReport(full=full, days=sum((p.end - p.start).days + 1 for p, _ids in work),
                         pending=len(notes) + len(people))


def _recheck_volunteers(people: list[tuple[int, int]]) -> None:
    """Whether each (structure, person) noted is one of its volunteers, on every stored day."""
    a = ImpactActivity
    is_volunteer = select(Membership.id).where(
        Membership.tenant_id == a.tenant_id, Membership.user_id == a.user_id, Membership.role == Role.VOLUNTEER,
    ).exists()
    for start in range(0, len(people), 500):
        db.session.execute(
            update(a).where(tuple_(a.tenant_id, a.user_id).in_(people[start:start + 500]))
            .values(is_volunteer=is_volunteer).execution_options(synchronize_session=False)
        )


def refreshed_at() -> datetime | None:
    """When the stored figures were last brought up to date (None: never, or for another zone)."""
    state = db.session.execute(select(ImpactRefresh.refreshed_at, ImpactRefresh.zone)
                               .where(ImpactRefresh.id == 1)).first()
    return state.refreshed_at if state is not None and state.zone == _zone() else None


# --- reading ----------------------------------------------------------------------------------------


def _whole(month: metrics.Month) -> bool:
    return month.period.start == month.first_day and month.period.end == _month_of(month.first_day).end


def _span(model: Any, period: Period) -> Any:
    """The rows that add up to ``period``: month rows for the whole months, day rows
    for the months it cuts (only its first and last can be)."""
    months = period.months()
    whole = [m.first_day for m in months if _whole(m)]
    parts = [and_(model.is_month.is_(False), model.day >= m.period.start, model.day <= m.period.end)
             for m in months if not _whole(m)]
    if whole:
        parts.append(and_(model.is_month.is_(True), model.day >= whole[0], model.day <= whole[-1]))
    return or_(*parts)


def _sums() -> list[Any]:
    return [func.sum(ImpactFigures.volunteer_seconds), *[func.sum(getattr(ImpactFigures, n)) for n in COUNTS]]


def _figures(row: Iterable[Any]) -> Figures:
    seconds, *counts = row
    f = Figures(**{name: int(value or 0) for name, value in zip(COUNTS, counts, strict=True)})
    f.volunteer_hours = round(float(seconds or 0) / 3600, 2)
    return f


def _month_index(period: Period) -> Any:
    """SQL: the index of the period's month a stored day falls in."""
    firsts = [m.first_day for m in period.months()]
    if len(firsts) == 1:
        return literal(0, Integer)
    return case(*[(ImpactActivity.day < first, i) for i, first in enumerate(firsts[1:])], else_=len(firsts) - 1)


@dataclass
class _Computed:
    """A dashboard's figures, keyed by structure id (what the per-process cache keeps)."""

    per_tenant: dict[int, Figures]
    themes: dict[int, dict[HelpTheme, int]]
    months: list[Figures]
    total: Figures
    people_by_theme: dict[HelpTheme, int]
    confidence: list[metrics.ConfidenceGain]


#: Dashboards computed from the stored figures, per process, keyed by the filters, the
#: structures they select and the refresh time: a new refresh makes new keys, so an
#: entry is never older than the figures it was computed from.
_CACHE: OrderedDict[tuple[Any, ...], _Computed] = OrderedDict()
CACHE_SIZE = 32


def dashboard(period: Period, *, now: datetime, tenant_id: int | None = None, kind: TenantKind | None = None,
              region: str | None = None) -> Dashboard:
    """``metrics.dashboard`` as of the last refresh, read from the stored figures
    (or computed live when nothing was ever stored)."""
    as_of = refreshed_at()
    if as_of is None:
        return metrics.dashboard(period, now=now, tenant_id=tenant_id, kind=kind, region=region)
    tenant_ids = metrics.tenant_selection(tenant_id=tenant_id, kind=kind, region=region)
    tenants = list(db.session.scalars(select(Tenant).where(Tenant.id.in_(tenant_ids)).order_by(Tenant.name)))
    key = (period, as_of, tuple(sorted(t.id for t in tenants)))
    computed = _CACHE.pop(key, None)
    if computed is None:
        filtered = not (tenant_id is None and kind is None and not region)
        computed = _compute(period, as_of, tenants, tenant_ids if filtered else None)
    _CACHE[key] = computed  # (again) the most recently used
    while len(_CACHE) > CACHE_SIZE:
        _CACHE.pop(next(iter(_CACHE)), None)
    return Dashboard(
        period=period,
        structures=[StructureFigures(x, computed.per_tenant.get(x.id, Figures()), computed.themes.get(x.id, {}))
                    for x in tenants],
        total=computed.total,
        people_by_theme=computed.people_by_theme,
        months=[MonthFigures(m.first_day, f) for m, f in zip(period.months(), computed.months, strict=True)],
        confidence=computed.confidence,
        generated_at=as_of,
        notes={"as_of": True},
    )


def _compute(period: Period, as_of: datetime, tenants: list[Tenant], tenant_ids: Any) -> _Computed:
    """The stored figures of ``period`` for these structures (``tenant_ids``: their
    selection, None for the whole network), in 9 queries."""
    f, t, a = ImpactFigures, ImpactThemeFigures, ImpactActivity

    def of(column: Any) -> Any:
        # The whole network: no condition, rather than a semi-join with every structure.
        return true() if tenant_ids is None else column.in_(tenant_ids)

    per_tenant = {row[0]: _figures(row[1:]) for row in db.session.execute(
        select(f.tenant_id, *_sums()).where(_span(f, period), of(f.tenant_id)).group_by(f.tenant_id)
    )}
    themes_per_tenant: dict[int, dict[HelpTheme, int]] = defaultdict(dict)
    for key, theme, people in db.session.execute(
        select(t.tenant_id, t.theme, func.sum(t.people))
        .where(_span(t, period), of(t.tenant_id)).group_by(t.tenant_id, t.theme)
    ):
        if people:
            themes_per_tenant[key][HelpTheme(theme)] = int(people)

    months = period.months()
    index = {(m.first_day.year, m.first_day.month): i for i, m in enumerate(months)}
    per_month = [Figures() for _m in months]
    for day, *sums in db.session.execute(
        select(f.day, *_sums()).where(_span(f, period), of(f.tenant_id)).group_by(f.day)
    ):
        per_month[index[(day.year, day.month)]].add(_figures(sums))

    active = and_(a.day >= period.start, a.day <= period.end, a.is_volunteer.is_(True), of(a.tenant_id))
    for key, count in db.session.execute(
        select(a.tenant_id, func.count(distinct(a.user_id))).where(active).group_by(a.tenant_id)
    ):
        per_tenant.setdefault(key, Figures()).active_volunteers = count
    bucket = _month_index(period)
    for key, count in db.session.execute(
        select(bucket, func.count(distinct(a.user_id))).where(active).group_by(bucket)
    ):
        per_month[key].active_volunteers = count

    selection = metrics.tenant_selection() if tenant_ids is None else tenant_ids
    for key, held, expiring in db.session.execute(metrics._qualifications(period, selection, as_of)):
        fig = per_tenant.setdefault(key, Figures())
        fig.qualifications_held, fig.qualifications_expiring = held, expiring

    total = Figures()
    people_by_theme: dict[HelpTheme, int] = defaultdict(int)
    for tenant in tenants:
        total.add(per_tenant.get(tenant.id, Figures()))
        for theme, people in themes_per_tenant.get(tenant.id, {}).items():
            people_by_theme[theme] += people
    # People are counted once in the total even when they volunteer for several structures.
    total.active_volunteers = db.session.scalar(
        select(func.count(distinct(a.user_id))).where(active)
    ) or 0
    total.new_volunteers = db.session.scalar(
        select(func.count(distinct(Membership.user_id))).where(
            Membership.role == Role.VOLUNTEER, of(Membership.tenant_id),
            Membership.created_at >= period.starts_at, Membership.created_at < period.ends_at,
            Membership.created_at <= as_of,
        )
    ) or 0
    c = ImpactConfidence
    confidence = [
        metrics.ConfidenceGain(CompetenceArea(area), int(people), int(start_sum) / people, int(end_sum) / people)
        for area, people, start_sum, end_sum in db.session.execute(
            select(c.area, func.sum(c.people), func.sum(c.start_sum), func.sum(c.end_sum))
            .where(_span(c, period), of(c.tenant_id)).group_by(c.area).order_by(c.area)
        )
        if people
    ]
    return _Computed(per_tenant, dict(themes_per_tenant), per_month, total, dict(people_by_theme), confidence)


__all__ = ["ImpactActivity", "ImpactFigures", "ImpactPending", "ImpactRefresh", "ImpactThemeFigures",
           "RefreshReport", "dashboard", "refresh", "refreshed_at"]
