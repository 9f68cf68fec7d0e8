"""The dashboards' figures, aggregated in SQL.

Every figure is computed by a query grouped by structure (and, for trends, by
month), so the dashboard of all structures runs the same fixed number of
queries whether the network has 3 structures or 3,000. Totals add up the
per-structure rows, except head counts of people, which have their own query
(a volunteer of two structures is one person in the total).

The pages read these figures through ``aggregates``, which stores them per
structure and day with the same queries (grouped by structure and day) and
adds them up; computing them here on each view took ~10–17 s of SQL on a
national network (bench/README.md).

Periods are calendar days in the association's time zone (``DEFAULT_TIMEZONE``,
Europe/Paris): a structure's figures are the same on its own dashboard and on
the national one. Months for the trends are cut in that zone too; their UTC
bounds are computed here and joined in as a derived table of literal rows,
which works the same on SQLite and PostgreSQL (neither has to know about time zones).

Definitions (shown to users on the dashboard page):

- *active volunteers*: volunteers who, in the period, took part in an event
  (confirmed and not marked absent) or completed a module;
- *new volunteers*: volunteer memberships created in the period;
- *sessions held*: training sessions not cancelled, started in the period and
  already over; *attendance rate*: present / attendance recorded on them;
- *shifts*: help-desk shifts not cancelled, started in the period; *fill rate*:
  confirmed places / places offered;
- *volunteer hours*: the duration of every shift or workshop a volunteer took
  part in (marked present, or filed an activity report);
- *people helped*: the counts of the activity reports of shifts in the period;
- *satisfaction*: survey answers of sessions in the period scoring 4 or 5 out
  of 5; *gained skills*: answers "I feel more able to help someone";
- *confidence gain*: per competence area, average end-of-path confidence minus
  the same people's start-of-path confidence, for paths finished in the period.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    Integer,
    Select,
    and_,
    cast,
    distinct,
    func,
    literal,
    or_,
    select,
    union,
    union_all,
)
from sqlalchemy.orm import aliased

from volunteer_platform.db import UTCDateTime
from volunteer_platform.extensions import db
from volunteer_platform.impact.models import (
    SATISFIED_FROM,
    ActivityReport,
    ActivityReportTheme,
    AssessmentStage,
    HelpTheme,
    SelfAssessment,
    SurveyResponse,
)
from volunteer_platform.scheduling.models import (
    Attendance,
    Enrolment,
    EnrolmentStatus,
    Event,
    EventKind,
    EventStatus,
)
from volunteer_platform.tenants.models import Membership, Role, Tenant, TenantKind
from volunteer_platform.training.models import (
    CompetenceArea,
    ModuleCompletion,
    PathCompletion,
    QualificationAward,
)

#: A qualification "expires soon" when it ends within this many days after the period.
EXPIRING_WITHIN = timedelta(days=60)

#: Kinds of event whose hours count as volunteering (training sessions are training).
VOLUNTEERING_KINDS = (EventKind.SHIFT, EventKind.WORKSHOP)


# --- periods --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Calendar days ``start`` to ``end`` inclusive, in ``zone``."""

    start: date
    end: date
    zone: str

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise ValueError("a period starts before it ends")

    @property
    def starts_at(self) -> datetime:
        return datetime.combine(self.start, time(), ZoneInfo(self.zone)).astimezone(ZoneInfo("UTC"))

    @property
    def ends_at(self) -> datetime:
        """Exclusive UTC end: midnight after the last day."""
        return datetime.combine(self.end + timedelta(days=1), time(), ZoneInfo(self.zone)).astimezone(ZoneInfo("UTC"))

    def months(self) -> list[Month]:
        """The calendar months the period touches, each cut to the period."""
        result: list[Month] = []
        first = self.start.replace(day=1)
        while first <= self.end:
            following = (first + timedelta(days=32)).replace(day=1)
            start = max(first, self.start)
            end = min(following - timedelta(days=1), self.end)
            result.append(Month(first, Period(start, end, self.zone)))
            first = following
        return result

    def days(self) -> list[Period]:
        """Each day of the period, as a period of its own."""
        return [Period(self.start + timedelta(days=i), self.start + timedelta(days=i), self.zone)
                for i in range((self.end - self.start).days + 1)]

    @classmethod
    def last_months(cls, today: date, count: int, zone: str) -> Period:
        """The ``count`` whole months before ``today``'s month, plus this month so far."""
        first = today.replace(day=1)
        for _ in range(count - 1):
            first = (first - timedelta(days=1)).replace(day=1)
        return cls(first, today, zone)


@dataclass(frozen=True)
class Month:
    first_day: date
    period: Period


# --- figures --------------------------------------------------------------------------------


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


@dataclass
class Figures:
    """One structure's figures for a period (or the total of several)."""

    active_volunteers: int = 0
    new_volunteers: int = 0
    modules_completed: int = 0
    paths_completed: int = 0
    qualifications_held: int = 0
    qualifications_expiring: int = 0
    sessions_held: int = 0
    attendance_present: int = 0
    attendance_recorded: int = 0
    shifts_offered: int = 0
    places_offered: int = 0
    places_filled: int = 0
    volunteer_hours: float = 0.0
    people_helped: int = 0
    survey_answers: int = 0
    survey_satisfied: int = 0
    survey_more_able: int = 0
    survey_at_ease: int = 0
    satisfaction_sum: int = 0

    @property
    def attendance_rate(self) -> float | None:
        return _ratio(self.attendance_present, self.attendance_recorded)

    @property
    def fill_rate(self) -> float | None:
        return _ratio(self.places_filled, self.places_offered)

    @property
    def satisfaction_rate(self) -> float | None:
        return _ratio(self.survey_satisfied, self.survey_answers)

    @property
    def more_able_rate(self) -> float | None:
        return _ratio(self.survey_more_able, self.survey_answers)

    @property
    def at_ease_rate(self) -> float | None:
        return _ratio(self.survey_at_ease, self.survey_answers)

    @property
    def average_satisfaction(self) -> float | None:
        return _ratio(self.satisfaction_sum, self.survey_answers)

    def add(self, other: Figures) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


@dataclass
class StructureFigures:
    tenant: Tenant
    figures: Figures
    people_by_theme: dict[HelpTheme, int]


@dataclass
class MonthFigures:
    first_day: date
    figures: Figures


@dataclass
class ConfidenceGain:
    area: CompetenceArea
    people: int
    average_start: float
    average_end: float

    @property
    def gain(self) -> float:
        return self.average_end - self.average_start


@dataclass
class Dashboard:
    period: Period
    structures: list[StructureFigures]
    total: Figures
    people_by_theme: dict[HelpTheme, int]
    months: list[MonthFigures]
    confidence: list[ConfidenceGain]
    generated_at: datetime
    notes: dict[str, Any] = field(default_factory=dict)


# --- queries --------------------------------------------------------------------------------


def _duration_seconds():
    """Seconds between an event's start and end, in SQL, on both databases."""
    if db.engine.dialect.name == "postgresql":
        return func.extract("epoch", Event.ends_at - Event.starts_at)
    return (func.julianday(Event.ends_at) - func.julianday(Event.starts_at)) * 86400.0


def _buckets(periods: list[Period]):
    """A derived table (bucket, bucket_start, bucket_end), one row per period given.

    Written as a UNION ALL of literal rows: SQLite cannot name the columns of
    a ``VALUES`` list in FROM, and this reads the same on both databases.
    """
    rows = [
        select(
            literal(i, Integer).label("bucket"),
            literal(p.starts_at, UTCDateTime()).label("bucket_start"),
            literal(p.ends_at, UTCDateTime()).label("bucket_end"),
        )
        for i, p in enumerate(periods)
    ]
    return union_all(*rows).subquery("buckets")


class _Grouping:
    """By structure (``key`` = tenant id), by month (``key`` = bucket index), or by
    structure and day (``key`` = tenant id, bucket index: what ``aggregates`` stores).

    Every query below is written once against a ``moment`` column (when the
    thing happened) and a ``tenant`` column; the grouping adds the period
    condition and the GROUP BY key.
    """

    def __init__(self, period: Period, tenant_ids: Select, *, by_month: bool = False,
                 by_day: bool = False) -> None:
        self.period = period
        self.tenant_ids = tenant_ids
        self.by_month = by_month
        self.by_day = by_day
        self.buckets = None
        if by_month:
            self.buckets = _buckets([m.period for m in period.months()])
        elif by_day:
            self.buckets = _buckets(period.days())

    @property
    def width(self) -> int:
        """How many columns the key takes at the start of each row."""
        return 2 if self.by_day else 1

    def key(self, tenant_column: Any) -> list[Any]:
        if self.by_day:
            return [tenant_column, self.buckets.c.bucket]
        return [self.buckets.c.bucket if self.by_month else tenant_column]

    def frame(self, stmt: Select, moment: Any, tenant_column: Any) -> Select:
        # The period condition also by month, although the buckets cover exactly the
        # period: PostgreSQL pushes it into subqueries and uses the indexes on the
        # moment, instead of joining every row of the network with every month.
        stmt = stmt.where(tenant_column.in_(self.tenant_ids),
                          moment >= self.period.starts_at, moment < self.period.ends_at)
        if self.buckets is not None:
            stmt = stmt.join(
                self.buckets,
                and_(moment >= self.buckets.c.bucket_start, moment < self.buckets.c.bucket_end),
            )
            return stmt.group_by(*self.key(tenant_column))
        return stmt.group_by(tenant_column)


def _participations():
    """(tenant_id, user_id, event_id, starts_at, seconds) of volunteering done:
    confirmed on a shift or workshop not cancelled and either marked present or
    having filed an activity report for it."""
    report = aliased(ActivityReport)
    return (
        select(
            Event.tenant_id.label("tenant_id"),
            Enrolment.user_id.label("user_id"),
            Event.id.label("event_id"),
            Event.starts_at.label("starts_at"),
            _duration_seconds().label("seconds"),
        )
        .join(Enrolment, and_(Enrolment.event_id == Event.id, Enrolment.tenant_id == Event.tenant_id))
        .outerjoin(report, and_(report.event_id == Event.id, report.user_id == Enrolment.user_id))
        .where(
            Event.kind.in_(VOLUNTEERING_KINDS),
            Event.status == EventStatus.SCHEDULED,
            Enrolment.status == EnrolmentStatus.CONFIRMED,
            or_(Enrolment.attendance == Attendance.PRESENT, report.id.is_not(None)),
        )
        .subquery("participation")
    )


def _activity():
    """(tenant_id, user_id, moment) of what makes a volunteer active: a place on an
    event not cancelled, confirmed and not marked absent, or a module completed."""
    took_part = (
        select(Event.tenant_id.label("tenant_id"), Enrolment.user_id.label("user_id"),
               Event.starts_at.label("moment"))
        .join(Enrolment, and_(Enrolment.event_id == Event.id, Enrolment.tenant_id == Event.tenant_id))
        .where(
            Event.status == EventStatus.SCHEDULED,
            Enrolment.status == EnrolmentStatus.CONFIRMED,
            or_(Enrolment.attendance.is_(None), Enrolment.attendance == Attendance.PRESENT),
        )
    )
    completed = select(
        ModuleCompletion.tenant_id.label("tenant_id"), ModuleCompletion.user_id.label("user_id"),
        ModuleCompletion.completed_at.label("moment"),
    ).where(ModuleCompletion.tenant_id.is_not(None))
    return union(took_part, completed).subquery("activity")


def _active_people(grouping: _Grouping, *, per_key: bool) -> Select:
    """Volunteers active in the period (see the module docstring), counted per key or in all."""
    activity = _activity()
    volunteer = and_(
        Membership.tenant_id == activity.c.tenant_id,
        Membership.user_id == activity.c.user_id,
        Membership.role == Role.VOLUNTEER,
    )
    if per_key:
        stmt = select(*grouping.key(activity.c.tenant_id), func.count(distinct(activity.c.user_id)))
    else:
        stmt = select(func.count(distinct(activity.c.user_id)))
    stmt = stmt.select_from(activity).join(Membership, volunteer)
    if per_key:
        return grouping.frame(stmt, activity.c.moment, activity.c.tenant_id)
    stmt = stmt.where(activity.c.tenant_id.in_(grouping.tenant_ids))
    return stmt.where(activity.c.moment >= grouping.period.starts_at, activity.c.moment < grouping.period.ends_at)


def _new_volunteers(grouping: _Grouping) -> Select:
    stmt = select(*grouping.key(Membership.tenant_id), func.count(Membership.id)).where(
        Membership.role == Role.VOLUNTEER
    )
    return grouping.frame(stmt, Membership.created_at, Membership.tenant_id)


def _completions(grouping: _Grouping) -> Iterable[Select]:
    for model, name in ((ModuleCompletion, "modules_completed"), (PathCompletion, "paths_completed")):
        stmt = select(*grouping.key(model.tenant_id), func.count(model.id)).where(model.tenant_id.is_not(None))
        yield name, grouping.frame(stmt, model.completed_at, model.tenant_id)


def _framed_enrolments(grouping: _Grouping, kind: EventKind) -> list[Any]:
    """Conditions keeping an enrolment subquery to the events the outer query counts
    (the frame's structures and period, one kind): without them it would add up
    every enrolment of the network for one structure's dashboard (bench/README.md)."""
    events = select(Event.id).where(
        Event.tenant_id.in_(grouping.tenant_ids), Event.kind == kind,
        Event.starts_at >= grouping.period.starts_at, Event.starts_at < grouping.period.ends_at,
    )
    return [Enrolment.tenant_id.in_(grouping.tenant_ids), Enrolment.event_id.in_(events)]


def _sessions(grouping: _Grouping, now: datetime) -> Select:
    """Sessions held, and attendance recorded / present on them."""
    enrolments = (
        select(
            Enrolment.event_id.label("event_id"),
            func.count(Enrolment.id).filter(Enrolment.attendance.is_not(None)).label("recorded"),
            func.count(Enrolment.id).filter(Enrolment.attendance == Attendance.PRESENT).label("present"),
        )
        .where(Enrolment.status == EnrolmentStatus.CONFIRMED,
               *_framed_enrolments(grouping, EventKind.TRAINING_SESSION))
        .group_by(Enrolment.event_id)
        .subquery()
    )
    stmt = (
        select(
            *grouping.key(Event.tenant_id),
            func.count(Event.id),
            func.coalesce(func.sum(enrolments.c.present), 0),
            func.coalesce(func.sum(enrolments.c.recorded), 0),
        )
        .outerjoin(enrolments, enrolments.c.event_id == Event.id)
        .where(Event.kind == EventKind.TRAINING_SESSION, Event.status == EventStatus.SCHEDULED,
               Event.ends_at <= now)
    )
    return grouping.frame(stmt, Event.starts_at, Event.tenant_id)


def _shifts(grouping: _Grouping) -> Select:
    confirmed = (
        select(Enrolment.event_id.label("event_id"), func.count(Enrolment.id).label("filled"))
        .where(Enrolment.status == EnrolmentStatus.CONFIRMED, *_framed_enrolments(grouping, EventKind.SHIFT))
        .group_by(Enrolment.event_id)
        .subquery()
    )
    stmt = (
        select(
            *grouping.key(Event.tenant_id),
            func.count(Event.id),
            func.coalesce(func.sum(Event.capacity), 0),
            func.coalesce(func.sum(confirmed.c.filled), 0),
        )
        .outerjoin(confirmed, confirmed.c.event_id == Event.id)
        .where(Event.kind == EventKind.SHIFT, Event.status == EventStatus.SCHEDULED)
    )
    return grouping.frame(stmt, Event.starts_at, Event.tenant_id)


def _hours(grouping: _Grouping) -> Select:
    p = _participations()
    stmt = select(*grouping.key(p.c.tenant_id), func.coalesce(func.sum(p.c.seconds), 0))
    return grouping.frame(stmt.select_from(p), p.c.starts_at, p.c.tenant_id)


def _people_helped(grouping: _Grouping) -> Select:
    stmt = (
        select(*grouping.key(Event.tenant_id), ActivityReportTheme.theme, func.sum(ActivityReportTheme.people))
        .select_from(ActivityReportTheme)
        .join(ActivityReport, ActivityReport.id == ActivityReportTheme.report_id)
        .join(Event, and_(Event.id == ActivityReport.event_id, Event.tenant_id == ActivityReport.tenant_id))
        .where(Event.status == EventStatus.SCHEDULED)
        .group_by(ActivityReportTheme.theme)
    )
    return grouping.frame(stmt, Event.starts_at, Event.tenant_id)


def _surveys(grouping: _Grouping) -> Select:
    r = SurveyResponse
    stmt = (
        select(
            *grouping.key(r.tenant_id),
            func.count(r.id),
            func.count(r.id).filter(r.satisfaction >= SATISFIED_FROM),
            func.count(r.id).filter(r.more_able_to_help.is_(True)),
            func.count(r.id).filter(r.at_ease_with_computer.is_(True)),
            func.coalesce(func.sum(r.satisfaction), 0),
        )
        .join(Event, and_(Event.id == r.event_id, Event.tenant_id == r.tenant_id))
    )
    return grouping.frame(stmt, Event.starts_at, r.tenant_id)


def _qualifications(period: Period, tenant_ids: Select, now: datetime) -> Select:
    """Qualifications valid at the end of the period (or now, if sooner), and
    those of them ending within EXPIRING_WITHIN after that."""
    at = min(period.ends_at, now)
    a = QualificationAward
    valid = and_(a.withdrawn_at.is_(None), a.awarded_at <= at, or_(a.expires_at.is_(None), a.expires_at > at))
    # One number per (person, qualification); BIGINT, or PostgreSQL's 32-bit integers
    # overflow from user id 2,148 on (found by the national-scale benchmark).
    pair = cast(a.user_id, BigInteger) * 1_000_000 + a.qualification_id
    return (
        select(
            a.tenant_id,
            func.count(distinct(pair)),
            func.count(distinct(pair)).filter(
                a.expires_at <= at + EXPIRING_WITHIN
            ),
        )
        .where(valid, a.tenant_id.in_(tenant_ids))
        .group_by(a.tenant_id)
    )


def _confidence(period: Period, tenant_ids: Select) -> Select:
    start = aliased(SelfAssessment)
    end = aliased(SelfAssessment)
    return (
        select(end.area, func.count(end.id), func.avg(start.confidence), func.avg(end.confidence))
        .join(
            start,
            and_(start.user_id == end.user_id, start.path_id == end.path_id, start.area == end.area,
                 start.stage == AssessmentStage.START),
        )
        .where(
            end.stage == AssessmentStage.END,
            end.user_id.is_not(None),
            end.tenant_id.in_(tenant_ids),
            end.submitted_at >= period.starts_at,
            end.submitted_at < period.ends_at,
        )
        .group_by(end.area)
        .order_by(end.area)
    )


# --- assembling ---------------------------------------------------------------------------


def tenant_selection(*, tenant_id: int | None = None, kind: TenantKind | None = None,
                     region: str | None = None) -> Select:
    """The ids of the structures a dashboard covers, as a subquery."""
    stmt = select(Tenant.id)
    if tenant_id is not None:
        stmt = stmt.where(Tenant.id == tenant_id)
    if kind is not None:
        stmt = stmt.where(Tenant.kind == kind)
    if region:
        stmt = stmt.where(Tenant.region == region)
    return stmt


def _collect(grouping: _Grouping, now: datetime, target: dict[Any, Figures],
             themes: dict[Any, dict[HelpTheme, int]], *, seconds: dict[Any, float] | None = None) -> None:
    """Run the grouped queries and fill ``target[key]`` (key = tenant id, month
    bucket, or (tenant id, day bucket)). By day (``aggregates``), the active
    volunteers are left out (distinct people do not add up) and the volunteering
    time goes unrounded into ``seconds``."""

    def rows(stmt: Select) -> Iterable[tuple[Any, ...]]:
        for row in db.session.execute(stmt):
            key = tuple(row[:grouping.width]) if grouping.width > 1 else row[0]
            yield key, *row[grouping.width:]

    def figures(key: Any) -> Figures:
        return target.setdefault(key, Figures())

    if not grouping.by_day:
        for key, count in rows(_active_people(grouping, per_key=True)):
            figures(key).active_volunteers = count
    for key, count in rows(_new_volunteers(grouping)):
        figures(key).new_volunteers = count
    for name, stmt in _completions(grouping):
        for key, count in rows(stmt):
            setattr(figures(key), name, count)
    for key, held, present, recorded in rows(_sessions(grouping, now)):
        f = figures(key)
        f.sessions_held, f.attendance_present, f.attendance_recorded = held, int(present), int(recorded)
    for key, offered, places, filled in rows(_shifts(grouping)):
        f = figures(key)
        f.shifts_offered, f.places_offered, f.places_filled = offered, int(places), int(filled)
    for key, total_seconds in rows(_hours(grouping)):
        if seconds is not None:
            seconds[key] = float(total_seconds)
            figures(key)
        else:
            figures(key).volunteer_hours = round(float(total_seconds) / 3600, 2)
    for key, theme, people in rows(_people_helped(grouping)):
        themes.setdefault(key, {})[HelpTheme(theme)] = int(people)
        figures(key).people_helped += int(people)
    for key, answers, satisfied, more_able, at_ease, total in rows(_surveys(grouping)):
        f = figures(key)
        f.survey_answers, f.survey_satisfied = answers, satisfied
        f.survey_more_able, f.survey_at_ease, f.satisfaction_sum = more_able, at_ease, int(total)


def dashboard(period: Period, *, now: datetime, tenant_id: int | None = None,
              kind: TenantKind | None = None, region: str | None = None) -> Dashboard:
    """Every figure of the period for the selected structures, their total and the monthly trend.

    Runs a fixed number of queries (asserted in the tests), whatever the
    number of structures or of rows behind them.
    """
    tenant_ids = tenant_selection(tenant_id=tenant_id, kind=kind, region=region)
    tenants = list(db.session.scalars(
        select(Tenant).where(Tenant.id.in_(tenant_ids)).order_by(Tenant.name)
    ))

    per_tenant: dict[int, Figures] = {}
    themes_per_tenant: dict[int, dict[HelpTheme, int]] = {}
    _collect(_Grouping(period, tenant_ids, by_month=False), now, per_tenant, themes_per_tenant)
    for tenant_key, held, expiring in db.session.execute(_qualifications(period, tenant_ids, now)):
        f = per_tenant.setdefault(tenant_key, Figures())
        f.qualifications_held, f.qualifications_expiring = held, expiring

    per_month: dict[int, Figures] = {}
    _collect(_Grouping(period, tenant_ids, by_month=True), now, per_month, {})

    total = Figures()
    people_by_theme: dict[HelpTheme, int] = defaultdict(int)
    for tenant in tenants:
        total.add(per_tenant.get(tenant.id, Figures()))
        for theme, people in themes_per_tenant.get(tenant.id, {}).items():
            people_by_theme[theme] += people
    # People are counted once in the total even when they volunteer for several structures.
    grouping = _Grouping(period, tenant_ids, by_month=False)
    total.active_volunteers = db.session.scalar(_active_people(grouping, per_key=False)) or 0
    total.new_volunteers = db.session.scalar(
        select(func.count(distinct(Membership.user_id))).where(
            Membership.role == Role.VOLUNTEER, Membership.tenant_id.in_(tenant_ids),
            Membership.created_at >= period.starts_at, Membership.created_at < period.ends_at,
        )
    ) or 0

    confidence = [
        ConfidenceGain(CompetenceArea(area), count, float(avg_start), float(avg_end))
        for area, count, avg_start, avg_end in db.session.execute(_confidence(period, tenant_ids))
    ]
    return Dashboard(
        period=period,
        structures=[
            StructureFigures(t, per_tenant.get(t.id, Figures()), themes_per_tenant.get(t.id, {}))
            for t in tenants
        ],
        total=total,
        people_by_theme=dict(people_by_theme),
        months=[MonthFigures(m.first_day, per_month.get(i, Figures())) for i, m in enumerate(period.months())],
        confidence=confidence,
        generated_at=now,
    )


def regions() -> list[str]:
    """The regions structures declare, for the filter."""
    return list(db.session.scalars(
        select(Tenant.region).where(Tenant.region.is_not(None), Tenant.region != "").distinct().order_by(Tenant.region)
    ))


# --- one person -------------------------------------------------------------------------------


@dataclass
class VolunteeringRecord:
    """A person's volunteering for one structure over a period (for their attestation)."""

    volunteer_hours: float
    shifts: int
    training_sessions: int
    training_hours: float
    modules_completed: list[str]


def volunteering_of(user_id: int, tenant_id: int, period: Period, *, now: datetime) -> VolunteeringRecord:
    """The same definitions as the dashboards, for one person, in four queries."""
    p = _participations()
    hours, shifts = db.session.execute(
        select(func.coalesce(func.sum(p.c.seconds), 0), func.count(p.c.event_id)).where(
            p.c.user_id == user_id, p.c.tenant_id == tenant_id,
            p.c.starts_at >= period.starts_at, p.c.starts_at < period.ends_at, p.c.starts_at <= now,
        )
    ).one()
    sessions, training_seconds = db.session.execute(
        select(func.count(Event.id), func.coalesce(func.sum(_duration_seconds()), 0))
        .join(Enrolment, and_(Enrolment.event_id == Event.id, Enrolment.tenant_id == Event.tenant_id))
        .where(
            Enrolment.user_id == user_id, Event.tenant_id == tenant_id,
            Event.kind == EventKind.TRAINING_SESSION, Event.status == EventStatus.SCHEDULED,
            Enrolment.status == EnrolmentStatus.CONFIRMED, Enrolment.attendance == Attendance.PRESENT,
            Event.starts_at >= period.starts_at, Event.starts_at < period.ends_at,
        )
    ).one()
    from volunteer_platform.training.models import ModuleVersion  # local: avoids a cycle at import

    titles = list(db.session.scalars(
        select(ModuleVersion.title)
        .join(ModuleCompletion, ModuleCompletion.version_id == ModuleVersion.id)
        .where(
            ModuleCompletion.user_id == user_id, ModuleCompletion.tenant_id == tenant_id,
            ModuleCompletion.completed_at >= period.starts_at, ModuleCompletion.completed_at < period.ends_at,
        )
        .order_by(ModuleCompletion.completed_at)
    ))
    return VolunteeringRecord(
        volunteer_hours=round(float(hours) / 3600, 2),
        shifts=int(shifts),
        training_sessions=int(sessions),
        training_hours=round(float(training_seconds) / 3600, 2),
        modules_completed=titles,
    )


__all__ = [
    "ConfidenceGain", "Dashboard", "Figures", "MonthFigures", "Period", "StructureFigures",
    "VolunteeringRecord", "dashboard", "regions", "tenant_selection", "volunteering_of",
]

