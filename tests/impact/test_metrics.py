"""The dashboard figures, checked against values computed by hand on known data.

The data (``network`` fixture), period March–April 2026 in Europe/Paris:

Structure A — volunteers v1, v2, v3 (v4 joins just after the period):
- shift S1, 10 March 14:00–17:00, 2 places: v1 present; v2 unmarked but filed a report
  (e-mail 3 people, online procedures 2) → 6 volunteer hours, 2/2 places;
- shift S2, 5 April 09:00–12:00 (after the clocks changed), 3 places: v1 absent, v3 unmarked
  without report → 0 hours, 2/3 places;
- shift S3, 10 April, cancelled (ignored); shift S4, 2 May (outside the period, v1 present);
- session T1, 20 March 10:00–12:00: v1 present, v2 absent, v3 unmarked;
  session T2, 15 April: v2 and v3 present → 2 sessions, attendance 3 present / 4 recorded;
- survey: v1 on T1 (5, more able, not at ease), v2 on T2 (3, more able, at ease),
  v3 on T2 (4, not more able, at ease);
- v1 completed a module on 25 March; v2 on 1 June (outside);
- qualifications at the end of the period: v1's valid until 15 June (expiring soon), v2's without end;
  v3's withdrawn, v1's other one expired on 1 April → 2 held, 1 expiring;
- self-assessment of v1 on a path: information 1 → 3, communication 2 → 3.

Structure B — v1 is also a volunteer there (joined 2 April): shift 1 April 10:00–11:30, v1 present → 1.5 h.

Structure C — nothing at all.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from tests.factories import make_membership, make_tenant, make_user
from tests.scheduling.factories import make_event
from tests.training.factories import make_module, make_path, make_qualification
from volunteer_platform.db import utcnow
from volunteer_platform.extensions import db
from volunteer_platform.impact import metrics
from volunteer_platform.impact.models import (
    ActivityReport,
    ActivityReportTheme,
    AssessmentStage,
    HelpTheme,
    SelfAssessment,
    SurveyResponse,
)
from volunteer_platform.scheduling import services as scheduling_services
from volunteer_platform.scheduling.models import Attendance, Enrolment, EnrolmentStatus
from volunteer_platform.tenants.models import Role, TenantKind
from volunteer_platform.training.models import (
    AwardSource,
    CompetenceArea,
    ModuleCompletion,
    QualificationAward,
)

PARIS = ZoneInfo("Europe/Paris")
PERIOD = metrics.Period(date(2026, 3, 1), date(2026, 4, 30), "Europe/Paris")


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS).astimezone(ZoneInfo("UTC"))


def enrol(event, user, attendance=None, status=EnrolmentStatus.CONFIRMED):
    db.session.add(Enrolment(tenant_id=event.tenant_id, event_id=event.id, user_id=user.id, status=status,
                             attendance=attendance))
    db.session.commit()


def report(event, user, minutes, **people):
    db.session.add(ActivityReport(
        tenant_id=event.tenant_id, event_id=event.id, user_id=user.id, minutes=minutes,
        themes=[ActivityReportTheme(theme=HelpTheme(theme), people=n) for theme, n in people.items()],
    ))
    db.session.commit()


def survey(event, user, satisfaction, more_able, at_ease):
    db.session.add(SurveyResponse(tenant_id=event.tenant_id, event_id=event.id, user_id=user.id,
                                  satisfaction=satisfaction, more_able_to_help=more_able,
                                  at_ease_with_computer=at_ease, submitted_at=event.ends_at))
    db.session.commit()


def award(tenant, user, qualification, awarded_at, expires_at=None, withdrawn_at=None):
    db.session.add(QualificationAward(tenant_id=tenant.id, user_id=user.id, qualification_id=qualification.id,
                                      source=AwardSource.EXTERNAL, awarded_at=awarded_at, expires_at=expires_at,
                                      withdrawn_at=withdrawn_at))
    db.session.commit()


@pytest.fixture
def network(app):
    a = make_tenant(slug="structure-a", name="A — CCAS", kind=TenantKind.CCAS, region="Hauts-de-France")
    b = make_tenant(slug="structure-b", name="B — Passerelle", kind=TenantKind.POINT_PASSERELLE, region="Occitanie")
    c = make_tenant(slug="structure-c", name="C — Mairie", kind=TenantKind.CCAS, region="Hauts-de-France")
    v1, v2, v3, v4 = (make_user(full_name=name) for name in ("Vera Un", "Vic Deux", "Val Trois", "Vio Quatre"))
    trainer = make_user(full_name="Tom Formateur")
    make_membership(a, v1, created_at=paris(2026, 3, 10, 9, 0))
    make_membership(a, v2, created_at=paris(2026, 2, 15, 9, 0))
    make_membership(a, v3, created_at=paris(2026, 4, 30, 23, 30))  # last half hour of the period, Paris time
    make_membership(a, v4, created_at=paris(2026, 5, 1, 0, 30))  # 30 April 22:30 UTC: outside in Paris
    make_membership(a, trainer, Role.TRAINER, created_at=paris(2026, 1, 5, 9, 0))
    make_membership(b, v1, created_at=paris(2026, 4, 2, 9, 0))

    s1 = make_event(a, "shift", paris(2026, 3, 10, 14, 0), ends_at=paris(2026, 3, 10, 17, 0), capacity=2)
    enrol(s1, v1, Attendance.PRESENT)
    enrol(s1, v2)
    report(s1, v2, 150, email=3, online_procedures=2)
    s2 = make_event(a, "shift", paris(2026, 4, 5, 9, 0), ends_at=paris(2026, 4, 5, 12, 0), capacity=3)
    enrol(s2, v1, Attendance.ABSENT)
    enrol(s2, v3)
    s3 = make_event(a, "shift", paris(2026, 4, 10, 9, 0), ends_at=paris(2026, 4, 10, 12, 0), capacity=2)
    enrol(s3, v2, Attendance.PRESENT)
    scheduling_services.cancel_event(s3, now=utcnow())
    db.session.commit()
    s4 = make_event(a, "shift", paris(2026, 5, 2, 9, 0), ends_at=paris(2026, 5, 2, 12, 0), capacity=2)
    enrol(s4, v1, Attendance.PRESENT)

    module = make_module(a, title="Créer une adresse e-mail")
    t1 = make_event(a, "training_session", paris(2026, 3, 20, 10, 0), ends_at=paris(2026, 3, 20, 12, 0),
                    capacity=8, trainer=trainer, module=module)
    enrol(t1, v1, Attendance.PRESENT)
    enrol(t1, v2, Attendance.ABSENT)
    enrol(t1, v3)
    t2 = make_event(a, "training_session", paris(2026, 4, 15, 10, 0), ends_at=paris(2026, 4, 15, 12, 0),
                    capacity=8, trainer=trainer, module=module)
    enrol(t2, v2, Attendance.PRESENT)
    enrol(t2, v3, Attendance.PRESENT)
    survey(t1, v1, 5, True, False)
    survey(t2, v2, 3, True, True)
    survey(t2, v3, 4, False, True)

    version_id = module.versions[-1].id
    db.session.add_all([
        ModuleCompletion(user_id=v1.id, version_id=version_id, module_id=module.id, tenant_id=a.id,
                         completed_at=paris(2026, 3, 25, 15, 0)),
        ModuleCompletion(user_id=v2.id, version_id=version_id, module_id=module.id, tenant_id=a.id,
                         completed_at=paris(2026, 6, 1, 15, 0)),
    ])
    db.session.commit()

    qualification = make_qualification(a)
    other = make_qualification(a, name="Sécurité numérique")
    award(a, v1, qualification, paris(2026, 1, 1, 9, 0), expires_at=paris(2026, 6, 15, 0, 0))
    award(a, v2, qualification, paris(2026, 2, 1, 9, 0))
    award(a, v3, qualification, paris(2026, 2, 1, 9, 0), withdrawn_at=paris(2026, 3, 1, 9, 0))
    award(a, v1, other, paris(2025, 4, 1, 9, 0), expires_at=paris(2026, 4, 1, 0, 0))

    path = make_path(a, [module])
    for stage, info, comm, when in ((AssessmentStage.START, 1, 2, paris(2026, 3, 1, 9, 0)),
                                    (AssessmentStage.END, 3, 3, paris(2026, 4, 20, 9, 0))):
        db.session.add_all([
            SelfAssessment(tenant_id=a.id, user_id=v1.id, path_id=path.id, stage=stage,
                           area=CompetenceArea.INFORMATION, confidence=info, submitted_at=when),
            SelfAssessment(tenant_id=a.id, user_id=v1.id, path_id=path.id, stage=stage,
                           area=CompetenceArea.COMMUNICATION, confidence=comm, submitted_at=when),
        ])
    # v2 finished after the period: not counted.
    db.session.add_all([
        SelfAssessment(tenant_id=a.id, user_id=v2.id, path_id=path.id, stage=AssessmentStage.START,
                       area=CompetenceArea.INFORMATION, confidence=1, submitted_at=paris(2026, 3, 1, 9, 0)),
        SelfAssessment(tenant_id=a.id, user_id=v2.id, path_id=path.id, stage=AssessmentStage.END,
                       area=CompetenceArea.INFORMATION, confidence=4, submitted_at=paris(2026, 6, 1, 9, 0)),
    ])
    db.session.commit()

    sb = make_event(b, "shift", paris(2026, 4, 1, 10, 0), ends_at=paris(2026, 4, 1, 11, 30), capacity=1)
    enrol(sb, v1, Attendance.PRESENT)
    return {"a": a, "b": b, "c": c, "v1": v1, "v2": v2, "v3": v3}


def figures_of(board: metrics.Dashboard, tenant) -> metrics.Figures:
    return next(row.figures for row in board.structures if row.tenant.id == tenant.id)


def test_structure_figures_match_hand_computed_values(network):
    board = metrics.dashboard(PERIOD, now=utcnow())
    a = figures_of(board, network["a"])
    assert a.active_volunteers == 3
    assert a.new_volunteers == 2  # v1 (10 March) and v3 (30 April 23:30 Paris); not v2 nor v4
    assert a.modules_completed == 1
    assert (a.qualifications_held, a.qualifications_expiring) == (2, 1)
    assert (a.sessions_held, a.attendance_present, a.attendance_recorded) == (2, 3, 4)
    assert a.attendance_rate == pytest.approx(0.75)
    assert (a.shifts_offered, a.places_offered, a.places_filled) == (2, 5, 4)
    assert a.fill_rate == pytest.approx(0.8)
    assert a.volunteer_hours == pytest.approx(6.0)
    assert a.people_helped == 5
    assert (a.survey_answers, a.survey_satisfied, a.survey_more_able, a.survey_at_ease) == (3, 2, 2, 2)
    assert a.satisfaction_rate == pytest.approx(2 / 3)
    assert a.average_satisfaction == pytest.approx(4.0)
    themes = next(row.people_by_theme for row in board.structures if row.tenant.id == network["a"].id)
    assert themes == {HelpTheme.EMAIL: 3, HelpTheme.ONLINE_PROCEDURES: 2}

    b = figures_of(board, network["b"])
    assert (b.active_volunteers, b.new_volunteers, b.volunteer_hours, b.shifts_offered) == (1, 1, 1.5, 1)
    assert b.sessions_held == 0 and b.attendance_rate is None and b.satisfaction_rate is None


def test_a_structure_without_activity_has_a_row_of_zeros(network):
    board = metrics.dashboard(PERIOD, now=utcnow())
    c = figures_of(board, network["c"])
    assert c == metrics.Figures()
    assert c.fill_rate is None and c.attendance_rate is None and c.satisfaction_rate is None


def test_totals_count_a_person_of_two_structures_once(network):
    board = metrics.dashboard(PERIOD, now=utcnow())
    total = board.total
    assert total.active_volunteers == 3  # v1 is active in A and in B
    assert total.new_volunteers == 2  # v1 joined A and B in the period: one new person; v3
    assert total.volunteer_hours == pytest.approx(7.5)
    assert (total.places_offered, total.places_filled) == (6, 5)
    assert total.survey_answers == 3
    assert board.people_by_theme == {HelpTheme.EMAIL: 3, HelpTheme.ONLINE_PROCEDURES: 2}


def test_monthly_trend_cuts_months_in_paris_time(network):
    board = metrics.dashboard(PERIOD, now=utcnow())
    march, april = board.months
    assert (march.first_day, april.first_day) == (date(2026, 3, 1), date(2026, 4, 1))
    assert (march.figures.sessions_held, april.figures.sessions_held) == (1, 1)
    assert (march.figures.volunteer_hours, april.figures.volunteer_hours) == (6.0, 1.5)
    assert (march.figures.new_volunteers, april.figures.new_volunteers) == (1, 2)  # April: v3 in A, v1 in B
    assert (march.figures.survey_answers, april.figures.survey_answers) == (1, 2)
    assert (march.figures.people_helped, april.figures.people_helped) == (5, 0)


def test_confidence_gain_pairs_start_and_end_of_the_same_people(network):
    board = metrics.dashboard(PERIOD, now=utcnow())
    gains = {g.area: g for g in board.confidence}
    assert set(gains) == {CompetenceArea.INFORMATION, CompetenceArea.COMMUNICATION}
    assert (gains[CompetenceArea.INFORMATION].people, gains[CompetenceArea.INFORMATION].gain) == (1, 2.0)
    assert gains[CompetenceArea.COMMUNICATION].gain == pytest.approx(1.0)


def test_empty_period_gives_zeros(network):
    board = metrics.dashboard(metrics.Period(date(2025, 1, 1), date(2025, 1, 31), "Europe/Paris"), now=utcnow())
    assert board.total == metrics.Figures()
    assert all(row.figures.volunteer_hours == 0 for row in board.structures)
    assert board.confidence == [] and board.people_by_theme == {}
    assert [m.figures for m in board.months] == [metrics.Figures()]


def test_one_structure_and_filters(network):
    only_a = metrics.dashboard(PERIOD, now=utcnow(), tenant_id=network["a"].id)
    assert [row.tenant.id for row in only_a.structures] == [network["a"].id]
    assert only_a.total.volunteer_hours == pytest.approx(6.0)
    assert only_a.total.active_volunteers == 3

    ccas = metrics.dashboard(PERIOD, now=utcnow(), kind=TenantKind.CCAS)
    assert {row.tenant.slug for row in ccas.structures} == {"structure-a", "structure-c"}
    occitanie = metrics.dashboard(PERIOD, now=utcnow(), region="Occitanie")
    assert [row.tenant.slug for row in occitanie.structures] == ["structure-b"]
    assert occitanie.total.volunteer_hours == pytest.approx(1.5)
    assert metrics.regions() == ["Hauts-de-France", "Occitanie"]


def test_qualifications_are_counted_at_now_for_a_period_not_over(network):
    # Period running to a day after "now": held/expiring are taken at now, not in the future.
    now = paris(2026, 4, 10, 12, 0)
    board = metrics.dashboard(metrics.Period(date(2026, 4, 1), date(2026, 4, 30), "Europe/Paris"), now=now)
    a = figures_of(board, network["a"])
    assert a.qualifications_held == 2  # v1's other one expired on 1 April
    # Sessions held counts only sessions already over: T2 (15 April) has not happened at "now".
    assert a.sessions_held == 0


def test_volunteering_of_one_person(network):
    record = metrics.volunteering_of(network["v1"].id, network["a"].id, PERIOD, now=utcnow())
    assert (record.volunteer_hours, record.shifts) == (3.0, 1)  # S1 only: absent at S2, S4 outside
    assert (record.training_sessions, record.training_hours) == (1, 2.0)
    assert record.modules_completed == ["Créer une adresse e-mail"]
    v2 = metrics.volunteering_of(network["v2"].id, network["a"].id, PERIOD, now=utcnow())
    assert (v2.volunteer_hours, v2.shifts) == (3.0, 1)  # S1 via the report; S3 was cancelled


def test_query_count_does_not_grow_with_the_number_of_structures(network, count_queries):
    def run() -> int:
        db.session.expire_all()
        with count_queries() as queries:
            metrics.dashboard(PERIOD, now=utcnow())
        return len(queries)

    small = run()
    for i in range(5):
        tenant = make_tenant(slug=f"extra-{i}", name=f"Extra {i}")
        volunteer = make_user()
        make_membership(tenant, volunteer, created_at=paris(2026, 3, 2, 9, 0))
        shift = make_event(tenant, "shift", paris(2026, 3, 3 + i, 9, 0), ends_at=paris(2026, 3, 3 + i, 12, 0),
                           capacity=2)
        enrol(shift, volunteer, Attendance.PRESENT)
        report(shift, volunteer, 120, housing=1)
    assert run() == small


def test_period_months_and_bounds():
    period = metrics.Period(date(2026, 3, 15), date(2026, 5, 10), "Europe/Paris")
    months = period.months()
    assert [(m.period.start, m.period.end) for m in months] == [
        (date(2026, 3, 15), date(2026, 3, 31)), (date(2026, 4, 1), date(2026, 4, 30)),
        (date(2026, 5, 1), date(2026, 5, 10)),
    ]
    # 1 April starts at 22:00 UTC the day before (summer time), 15 March at 23:00 UTC (winter time).
    assert months[1].period.starts_at == datetime(2026, 3, 31, 22, 0, tzinfo=ZoneInfo("UTC"))
    assert period.starts_at == datetime(2026, 3, 14, 23, 0, tzinfo=ZoneInfo("UTC"))
    assert metrics.Period.last_months(date(2026, 11, 23), 12, "Europe/Paris").start == date(2025, 12, 1)
    with pytest.raises(ValueError):
        metrics.Period(date(2026, 5, 1), date(2026, 4, 1), "Europe/Paris")
