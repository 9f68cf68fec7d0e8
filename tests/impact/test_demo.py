"""seed-demo's history for the impact dashboards: eight months of shifts and
training sessions with attendance, survey answers, activity reports and
self-assessments — showing trends on the dashboards, keeping every rule, and
without filling the outbox."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from sqlalchemy import and_, func, or_, select

from volunteer_platform.db import utcnow
from volunteer_platform.demo import seed_demo
from volunteer_platform.extensions import db
from volunteer_platform.impact import metrics
from volunteer_platform.impact.models import (
    ActivityReport,
    AssessmentStage,
    HelpTheme,
    SelfAssessment,
    SurveyResponse,
)
from volunteer_platform.impact.services import ANSWER_WINDOW
from volunteer_platform.scheduling.models import (
    Attendance,
    Enrolment,
    EnrolmentStatus,
    Event,
    EventKind,
)
from volunteer_platform.tenants.models import Membership
from volunteer_platform.training.models import PathCompletion

SLUGS = {"ccas-bethune", "passerelle-lens", "mairie-roubaix"}


def seed(app) -> tuple[datetime, date, str]:
    now = utcnow()
    seed_demo(password="demo-password-for-tests")
    db.session.commit()
    zone = app.config["DEFAULT_TIMEZONE"]
    return now, now.astimezone(ZoneInfo(zone)).date(), zone


def test_the_dashboards_show_eight_months_of_trends_out_of_the_box(app):
    _now, today, zone = seed(app)
    board = metrics.dashboard(metrics.Period.last_months(today, 7, zone), now=utcnow())

    # The six whole months before this one (this one may have just begun).
    months = board.months[:-1]
    assert len(months) == 6
    for month in months:
        assert month.figures.sessions_held > 0, month.first_day
        assert month.figures.volunteer_hours > 0, month.first_day
        assert month.figures.shifts_offered > 0 and month.figures.people_helped > 0, month.first_day
    # ...and they move from month to month.
    assert len({m.figures.sessions_held for m in months}) > 1
    assert len({m.figures.volunteer_hours for m in months}) > 1
    assert len({round(m.figures.attendance_rate, 3) for m in months}) > 1
    assert len({round(m.figures.fill_rate, 3) for m in months}) > 1
    # People joined along the way, not all on the day of the seed.
    assert sum(m.figures.new_volunteers for m in months) >= 3
    assert len({m.figures.active_volunteers for m in months}) > 1

    assert {s.tenant.slug for s in board.structures} == SLUGS
    for structure in board.structures:
        f, slug = structure.figures, structure.tenant.slug
        assert f.survey_answers >= 5 and f.people_helped > 0, slug
        assert 0.7 <= f.satisfaction_rate <= 1, slug
        assert 0.7 <= f.more_able_rate <= 1, slug
        assert 0.6 <= f.at_ease_rate < 1, slug
        assert f.sessions_held >= 3 and 0.6 <= f.attendance_rate < 1, slug  # a few absent
        assert 0.5 <= f.fill_rate <= 1, slug
        assert f.volunteer_hours > 0, slug
    # Structures differ from one another.
    assert len({s.figures.sessions_held for s in board.structures}) > 1
    assert len({round(s.figures.fill_rate, 3) for s in board.structures}) > 1
    # The national figures are in the association's usual range.
    assert 0.8 <= board.total.satisfaction_rate <= 1
    assert 0.8 <= board.total.more_able_rate <= 1
    assert 0.65 <= board.total.at_ease_rate <= 0.95

    # People mostly come for online procedures and e-mail.
    by_theme = board.people_by_theme
    assert set(sorted(by_theme, key=by_theme.get, reverse=True)[:2]) == {HelpTheme.ONLINE_PROCEDURES, HelpTheme.EMAIL}
    assert len(by_theme) >= 6

    # The history begins about eight months ago.
    first = db.session.scalar(select(func.min(Event.starts_at))).astimezone(ZoneInfo(zone)).date()
    assert today - relativedelta(months=8) <= first <= today - relativedelta(months=7)

    # Self-assessments give a confidence gain for the paths finished in the last year.
    year = metrics.dashboard(metrics.Period.last_months(today, 12, zone), now=utcnow())
    assert year.confidence
    people = sum(c.people for c in year.confidence)
    assert sum(c.people * c.gain for c in year.confidence) / people > 0


def test_the_history_keeps_the_rules_and_leaves_the_outbox_nearly_empty(app, outbox):
    now, _today, _zone = seed(app)
    present = and_(Enrolment.status == EnrolmentStatus.CONFIRMED, Enrolment.attendance == Attendance.PRESENT)

    # Survey answers: only from people marked present at that training session.
    answers = db.session.scalar(select(func.count(SurveyResponse.id)))
    assert answers >= 30
    from_attendees = db.session.scalar(
        select(func.count(SurveyResponse.id))
        .join(Event, and_(Event.id == SurveyResponse.event_id, Event.tenant_id == SurveyResponse.tenant_id))
        .join(Enrolment, and_(Enrolment.event_id == SurveyResponse.event_id,
                              Enrolment.user_id == SurveyResponse.user_id))
        .where(present, Event.kind == EventKind.TRAINING_SESSION)
    )
    assert from_attendees == answers
    # Activity reports: only by volunteers confirmed on that shift and not marked absent or excused.
    reports = db.session.scalar(select(func.count(ActivityReport.id)))
    assert reports >= 50
    by_volunteers_there = db.session.scalar(
        select(func.count(ActivityReport.id))
        .join(Event, and_(Event.id == ActivityReport.event_id, Event.tenant_id == ActivityReport.tenant_id))
        .join(Enrolment, and_(Enrolment.event_id == ActivityReport.event_id,
                              Enrolment.user_id == ActivityReport.user_id))
        .where(Event.kind == EventKind.SHIFT, Enrolment.status == EnrolmentStatus.CONFIRMED,
               or_(Enrolment.attendance.is_(None), Enrolment.attendance == Attendance.PRESENT))
    )
    assert by_volunteers_there == reports
    # ...given after the event started, within the answer window, never in the future.
    for submitted_at, starts_at, ends_at in db.session.execute(
        select(SurveyResponse.submitted_at, Event.starts_at, Event.ends_at)
        .join(Event, Event.id == SurveyResponse.event_id)
        .union_all(select(ActivityReport.submitted_at, Event.starts_at, Event.ends_at)
                   .join(Event, Event.id == ActivityReport.event_id))
    ):
        assert starts_at <= submitted_at <= min(ends_at + ANSWER_WINDOW, now + relativedelta(minutes=5))

    # Attendance only on events that have started, and on confirmed places.
    assert not db.session.scalar(
        select(func.count(Enrolment.id)).join(Event, Event.id == Enrolment.event_id)
        .where(Enrolment.attendance.is_not(None),
               or_(Event.starts_at > now, Enrolment.status != EnrolmentStatus.CONFIRMED))
    )
    # Nobody took a place before joining the structure.
    assert not db.session.scalar(
        select(func.count(Enrolment.id))
        .join(Membership, and_(Membership.tenant_id == Enrolment.tenant_id, Membership.user_id == Enrolment.user_id))
        .where(Enrolment.created_at < Membership.created_at)
    )

    # Self-assessments: start and end for each path finished, the end after it was finished.
    finished = {(c.user_id, c.path_id): c.completed_at for c in db.session.scalars(select(PathCompletion))}
    levels: dict[tuple[int, int, AssessmentStage], list[int]] = defaultdict(list)
    moments: dict[tuple[int, int, AssessmentStage], datetime] = {}
    for row in db.session.scalars(select(SelfAssessment)):
        levels[row.user_id, row.path_id, row.stage].append(row.confidence)
        moments[row.user_id, row.path_id, row.stage] = row.submitted_at
    assert finished and {(u, p) for u, p, _stage in levels} == set(finished)
    for (user_id, path_id), completed_at in finished.items():
        start = (user_id, path_id, AssessmentStage.START)
        end = (user_id, path_id, AssessmentStage.END)
        assert len(levels[start]) == len(levels[end]) >= 1
        assert moments[start] < completed_at <= moments[end] <= now + relativedelta(minutes=5)
    starts = [v for (_u, _p, stage), values in levels.items() if stage is AssessmentStage.START for v in values]
    ends = [v for (_u, _p, stage), values in levels.items() if stage is AssessmentStage.END for v in values]
    assert sum(ends) / len(ends) > sum(starts) / len(starts)

    # Building the past queued no e-mail for it: attendees count as invited to the
    # survey when their attendance was taken, months ago, not now.
    assert len(outbox()) < 50
    assert not db.session.scalar(
        select(func.count(Enrolment.id)).join(Event, Event.id == Enrolment.event_id)
        .where(Event.kind == EventKind.TRAINING_SESSION, Enrolment.attendance == Attendance.PRESENT,
               Enrolment.survey_invited_at.is_(None))
    )
