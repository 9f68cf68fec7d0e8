"""Rules of the survey after a training session, the path self-assessment and the
shift activity report (``impact.services``), and the participation helpers the
pages share (the "À compléter" list, the self-assessments due)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import g
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from tests.factories import make_member, make_membership
from tests.scheduling.factories import enrol_in, make_event
from tests.training.factories import assign_to, complete_module, make_module, make_path
from volunteer_platform.db import utcnow
from volunteer_platform.errors import Conflict, Forbidden, NotFound, ValidationFailed
from volunteer_platform.extensions import db
from volunteer_platform.impact import services
from volunteer_platform.impact.models import (
    ActivityReport,
    ActivityReportTheme,
    AssessmentStage,
    HelpTheme,
    SelfAssessment,
    SurveyResponse,
)
from volunteer_platform.impact.views.participation import assessment_stages_due, todo_for
from volunteer_platform.notifications.models import OutboxEmail
from volunteer_platform.scheduling import enrolment as enrolments
from volunteer_platform.scheduling.models import Attendance, Enrolment
from volunteer_platform.tenants.models import Role
from volunteer_platform.training.models import CompetenceArea

# --- helpers (also used by test_participation_views) ----------------------------------------------


def session_module():
    return make_module(None, title="Utiliser sa messagerie", lessons=1, questions=0)


def past_session(tenant, *, hours_ago=3, trainer=None, title="Séance : la messagerie", module=None, **kwargs):
    """A training session that started ``hours_ago`` hours ago (two hours long)."""
    starts_at = utcnow() - timedelta(hours=hours_ago)
    trainer = trainer or make_member(tenant, "trainer")
    return make_event(tenant, "training_session", starts_at, title=title, trainer=trainer, capacity=10,
                      module=module or session_module(), **kwargs)


def past_shift(tenant, *, hours_ago=4, hours=3, title="Permanence du mardi", **kwargs):
    starts_at = utcnow() - timedelta(hours=hours_ago)
    return make_event(tenant, "shift", starts_at, ends_at=starts_at + timedelta(hours=hours), title=title,
                      capacity=4, **kwargs)


def place_of(event, user) -> Enrolment:
    return db.session.scalars(
        select(Enrolment).where(Enrolment.event_id == event.id, Enrolment.user_id == user.id)).one()


def attend(event, user, attendance=Attendance.PRESENT, *, by):
    """``user`` signed up before the event and was marked ``attendance`` on the sheet."""
    enrol_in(event, user, now=event.starts_at - timedelta(days=2))
    enrolments.mark_attendance(place_of(event, user), attendance, by=by, now=utcnow())
    db.session.commit()
    return user


def answer(event, user, satisfaction=4, *, more_able=True, at_ease=True, comment=""):
    response = services.answer_survey(event, user, satisfaction=satisfaction, more_able_to_help=more_able,
                                      at_ease_with_computer=at_ease, comment=comment, now=utcnow())
    db.session.commit()
    return response


def count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


def survey_emails(address: str) -> list[OutboxEmail]:
    db.session.rollback()
    return [e for e in db.session.scalars(select(OutboxEmail).where(OutboxEmail.to_address == address))
            if "/impact/sessions/" in e.body_text]


@pytest.fixture
def trainer_a(tenant_a):
    return make_member(tenant_a, "trainer", full_name="Théa Formatrice", email="thea@example.org")


# --- the survey ------------------------------------------------------------------------------------------


def test_only_people_marked_present_may_answer(tenant_a, trainer_a, volunteer_a):
    session = past_session(tenant_a, trainer=trainer_a)
    present = attend(session, volunteer_a, by=trainer_a)
    absent = attend(session, make_member(tenant_a), Attendance.ABSENT, by=trainer_a)
    excused = attend(session, make_member(tenant_a), Attendance.EXCUSED, by=trainer_a)
    unmarked = make_member(tenant_a)
    enrol_in(session, unmarked, now=session.starts_at - timedelta(days=2))
    stranger = make_member(tenant_a)

    for user in (absent, excused, unmarked, stranger, trainer_a):
        with pytest.raises(Forbidden):
            services.check_can_answer_survey(session, user, now=utcnow())
        with pytest.raises(Forbidden):
            answer(session, user)
    db.session.rollback()
    assert count(SurveyResponse) == 0

    services.check_can_answer_survey(session, present, now=utcnow())
    response = answer(session, present, 5, comment="  Très clair.  ")
    assert (response.satisfaction, response.comment, response.tenant_id) == (5, "Très clair.", tenant_a.id)


def test_one_answer_each_and_the_database_refuses_a_second(tenant_a, trainer_a, volunteer_a):
    session = past_session(tenant_a, trainer=trainer_a)
    attend(session, volunteer_a, by=trainer_a)
    answer(session, volunteer_a)
    with pytest.raises(Conflict):
        answer(session, volunteer_a, 1)
    db.session.rollback()
    db.session.add(SurveyResponse(tenant_id=tenant_a.id, event_id=session.id, user_id=volunteer_a.id,
                                  satisfaction=1, more_able_to_help=False, at_ease_with_computer=False))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    assert count(SurveyResponse) == 1


def test_the_survey_opens_at_the_start_and_closes_after_the_window(tenant_a, trainer_a, volunteer_a):
    later = make_event(tenant_a, "training_session", utcnow() + timedelta(days=1), capacity=5,
                       module=session_module(), trainer=trainer_a)
    enrol_in(later, volunteer_a)
    place_of(later, volunteer_a).attendance = Attendance.PRESENT  # as if marked in advance
    db.session.commit()
    with pytest.raises(Conflict):
        services.check_can_answer_survey(later, volunteer_a, now=utcnow())

    old = past_session(tenant_a, hours_ago=24 * 70)
    enrol_in(old, volunteer_a, now=old.starts_at - timedelta(days=1))
    enrolments.mark_attendance(place_of(old, volunteer_a), Attendance.PRESENT, by=trainer_a,
                               now=old.ends_at + timedelta(hours=1))
    db.session.commit()
    services.check_can_answer_survey(old, volunteer_a, now=old.ends_at + services.ANSWER_WINDOW)
    with pytest.raises(Conflict):
        services.check_can_answer_survey(old, volunteer_a, now=utcnow())


@pytest.mark.parametrize("kind", ["workshop", "shift"])
def test_only_training_sessions_have_a_survey(tenant_a, trainer_a, volunteer_a, kind):
    event = make_event(tenant_a, kind, utcnow() - timedelta(hours=3), capacity=5)
    attend(event, volunteer_a, by=trainer_a)
    with pytest.raises(NotFound):
        services.check_can_answer_survey(event, volunteer_a, now=utcnow())


def test_answers_are_validated(tenant_a, trainer_a, volunteer_a):
    session = past_session(tenant_a)
    attend(session, volunteer_a, by=trainer_a)
    for bad in (0, 6):
        with pytest.raises(ValidationFailed) as refused:
            answer(session, volunteer_a, bad)
        assert refused.value.field == "satisfaction"
    with pytest.raises(ValidationFailed) as refused:
        answer(session, volunteer_a, comment="x" * (services.COMMENT_MAX + 1))
    assert refused.value.field == "comment"
    db.session.rollback()
    assert count(SurveyResponse) == 0


def test_results_are_aggregated_and_shown_from_three_answers(tenant_a, trainer_a):
    session = past_session(tenant_a, trainer=trainer_a)
    people = [attend(session, make_member(tenant_a), by=trainer_a) for _ in range(4)]
    attend(session, make_member(tenant_a), Attendance.ABSENT, by=trainer_a)

    answer(session, people[0], 5, more_able=True, at_ease=False, comment="Zut, trop court")
    answer(session, people[1], 2, more_able=False, at_ease=False)
    results = services.survey_results(session)
    assert (results.answers, results.attendees, results.shown) == (2, 4, False)

    answer(session, people[2], 4, more_able=True, at_ease=True, comment="Animatrice patiente")
    results = services.survey_results(session)
    assert (results.answers, results.attendees, results.shown) == (3, 4, True)
    figures = results.figures
    assert figures.satisfaction_rate == pytest.approx(2 / 3)  # 5 and 4 are "satisfied", 2 is not
    assert figures.average_satisfaction == pytest.approx(11 / 3)
    assert figures.more_able_rate == pytest.approx(2 / 3)
    assert figures.at_ease_rate == pytest.approx(1 / 3)
    assert results.comments == ["Animatrice patiente", "Zut, trop court"]  # sorted, not in answer order


def test_attendees_are_invited_by_email_once(tenant_a, trainer_a, volunteer_a):
    session = past_session(tenant_a, trainer=trainer_a, title="Séance : les démarches")
    attend(session, volunteer_a, by=trainer_a)
    emails = survey_emails(volunteer_a.email)
    assert len(emails) == 1
    assert f"/structure-a/impact/sessions/{session.id}/survey" in emails[0].body_text
    assert "anonymes" in emails[0].body_text

    place = place_of(session, volunteer_a)
    for again in (Attendance.ABSENT, Attendance.PRESENT):
        enrolments.mark_attendance(place, again, by=trainer_a, now=utcnow())
    db.session.commit()
    assert len(survey_emails(volunteer_a.email)) == 1

    absent = attend(session, make_member(tenant_a), Attendance.ABSENT, by=trainer_a)
    shift = past_shift(tenant_a)
    on_shift = attend(shift, make_member(tenant_a), by=trainer_a)
    assert survey_emails(absent.email) == [] and survey_emails(on_shift.email) == []


def test_pending_surveys_are_the_attended_unanswered_open_sessions(tenant_a, tenant_b, trainer_a, volunteer_a):
    answered = past_session(tenant_a, title="Déjà répondu")
    pending = past_session(tenant_a, hours_ago=30, title="À répondre")
    missed = past_session(tenant_a, hours_ago=50, title="Absent")
    for session in (answered, pending):
        attend(session, volunteer_a, by=trainer_a)
    attend(missed, volunteer_a, Attendance.ABSENT, by=trainer_a)
    answer(answered, volunteer_a)
    theirs = past_session(tenant_b, hours_ago=100, title="Ailleurs")
    make_membership(tenant_b, volunteer_a, Role.VOLUNTEER)
    attend(theirs, volunteer_a, by=trainer_a)

    assert [e.title for e in services.pending_surveys(volunteer_a, tenant_a, now=utcnow())] == ["À répondre"]


# --- the shift report --------------------------------------------------------------------------------------


def test_only_the_volunteers_of_the_shift_report_once_it_started(tenant_a, trainer_a, volunteer_a):
    shift = past_shift(tenant_a)
    attend(shift, volunteer_a, by=trainer_a)
    unmarked = make_member(tenant_a)
    enrol_in(shift, unmarked, now=shift.starts_at - timedelta(days=1))
    absent = attend(shift, make_member(tenant_a), Attendance.ABSENT, by=trainer_a)
    stranger = make_member(tenant_a)

    services.check_can_report(shift, volunteer_a, now=utcnow())
    services.check_can_report(shift, unmarked, now=utcnow())  # attendance not taken yet: they were there
    for user in (absent, stranger):
        with pytest.raises(Forbidden):
            services.save_report(shift, user, minutes=60, people_by_theme={}, now=utcnow())

    coming = make_event(tenant_a, "shift", utcnow() + timedelta(days=1), capacity=3)
    enrol_in(coming, volunteer_a)
    with pytest.raises(Conflict):
        services.save_report(coming, volunteer_a, minutes=60, people_by_theme={}, now=utcnow())
    session = past_session(tenant_a, hours_ago=30)
    attend(session, volunteer_a, by=trainer_a)
    with pytest.raises(NotFound):
        services.check_can_report(session, volunteer_a, now=utcnow())
    db.session.rollback()
    assert count(ActivityReport) == 0


def test_a_report_is_saved_then_corrected_in_place(tenant_a, trainer_a, volunteer_a):
    shift = past_shift(tenant_a, hours=3)
    attend(shift, volunteer_a, by=trainer_a)
    services.save_report(shift, volunteer_a, minutes=150,
                         people_by_theme={HelpTheme.EMAIL: 2, HelpTheme.HEALTH: 1, HelpTheme.OTHER: 0},
                         now=utcnow())
    db.session.commit()
    report = services.report_of(shift, volunteer_a)
    assert (report.minutes, report.people_helped) == (150, 3)
    assert report.people_by_theme() == {HelpTheme.EMAIL: 2, HelpTheme.HEALTH: 1}  # no row for a zero

    services.save_report(shift, volunteer_a, minutes=180, people_by_theme={HelpTheme.BANKING: 4}, now=utcnow())
    db.session.commit()
    assert count(ActivityReport) == 1 and count(ActivityReportTheme) == 1
    report = services.report_of(shift, volunteer_a)
    assert (report.minutes, report.people_by_theme()) == (180, {HelpTheme.BANKING: 4})
    assert services.shifts_to_report(volunteer_a, tenant_a, now=utcnow()) == []


@pytest.mark.parametrize(("minutes", "people", "field"), [
    (-1, {}, "minutes"),
    (3 * 60 + 121, {}, "minutes"),  # the shift plus two hours at most
    (60, {HelpTheme.HOUSING: 501}, "theme_housing"),
    (60, {HelpTheme.SMARTPHONE: -2}, "theme_smartphone"),
])
def test_report_values_are_validated(tenant_a, trainer_a, volunteer_a, minutes, people, field):
    shift = past_shift(tenant_a, hours=3)
    attend(shift, volunteer_a, by=trainer_a)
    with pytest.raises(ValidationFailed) as refused:
        services.save_report(shift, volunteer_a, minutes=minutes, people_by_theme=people, now=utcnow())
    assert refused.value.field == field
    db.session.rollback()
    assert count(ActivityReport) == 0


# --- the self-assessment -----------------------------------------------------------------------------------


@pytest.fixture
def path_a(tenant_a):
    modules = [make_module(None, title="Messagerie", lessons=1, questions=0, area=CompetenceArea.COMMUNICATION),
               make_module(None, title="Sécurité", lessons=1, questions=0, area=CompetenceArea.SAFETY)]
    return make_path(None, modules, title="Parcours aidant"), modules


def test_one_self_assessment_per_stage_with_every_area_of_the_path(tenant_a, volunteer_a, path_a):
    path, modules = path_a
    assert services.path_areas(path) == [CompetenceArea.COMMUNICATION, CompetenceArea.SAFETY]
    assert services.assessment_due(volunteer_a, path) is AssessmentStage.START

    with pytest.raises(ValidationFailed) as refused:
        services.record_assessment(tenant_a, volunteer_a, path, AssessmentStage.START,
                                   {CompetenceArea.COMMUNICATION: 2}, now=utcnow())
    assert refused.value.field == "area_safety"
    with pytest.raises(ValidationFailed):
        services.record_assessment(tenant_a, volunteer_a, path, AssessmentStage.START,
                                   {CompetenceArea.COMMUNICATION: 2, CompetenceArea.SAFETY: 5}, now=utcnow())
    with pytest.raises(Conflict):  # the end one waits for the path to be completed
        services.record_assessment(tenant_a, volunteer_a, path, AssessmentStage.END,
                                   {CompetenceArea.COMMUNICATION: 3, CompetenceArea.SAFETY: 3}, now=utcnow())
    db.session.rollback()
    assert count(SelfAssessment) == 0

    start = {CompetenceArea.COMMUNICATION: 2, CompetenceArea.SAFETY: 1}
    services.record_assessment(tenant_a, volunteer_a, path, AssessmentStage.START, start, now=utcnow())
    db.session.commit()
    assert services.assessment_of(volunteer_a, path, AssessmentStage.START) == start
    assert services.assessment_due(volunteer_a, path) is None
    with pytest.raises(Conflict):
        services.record_assessment(tenant_a, volunteer_a, path, AssessmentStage.START, start, now=utcnow())

    for module in modules:
        complete_module(volunteer_a, module, tenant_a)
    assert services.assessment_due(volunteer_a, path) is AssessmentStage.END
    services.record_assessment(tenant_a, volunteer_a, path, AssessmentStage.END,
                               {CompetenceArea.COMMUNICATION: 4, CompetenceArea.SAFETY: 3}, now=utcnow())
    db.session.commit()
    assert services.assessment_due(volunteer_a, path) is None
    assert count(SelfAssessment) == 4


def test_the_batch_of_assessments_due_follows_the_service_rule(tenant_a, volunteer_a):
    def path_of(title, area):
        module = make_module(None, title=title, lessons=1, questions=0, area=area)
        return make_path(None, [module], title=f"Parcours {title}"), module

    fresh, _m = path_of("Neuf", CompetenceArea.INFORMATION)
    started, _m = path_of("Commencé", CompetenceArea.SAFETY)
    finished, finished_module = path_of("Fini", CompetenceArea.COMMUNICATION)
    closed, closed_module = path_of("Clos", CompetenceArea.CONTENT_CREATION)
    services.record_assessment(tenant_a, volunteer_a, started, AssessmentStage.START,
                               {CompetenceArea.SAFETY: 2}, now=utcnow())
    complete_module(volunteer_a, finished_module, tenant_a)
    complete_module(volunteer_a, closed_module, tenant_a)
    services.record_assessment(tenant_a, volunteer_a, closed, AssessmentStage.END,
                               {CompetenceArea.CONTENT_CREATION: 4}, now=utcnow())
    db.session.commit()

    paths = [fresh, started, finished, closed]
    expected = {p.id: services.assessment_due(volunteer_a, p) for p in paths}
    assert expected == {fresh.id: AssessmentStage.START, started.id: None, finished.id: AssessmentStage.END,
                        closed.id: None}
    assert assessment_stages_due(volunteer_a, paths) == {k: v for k, v in expected.items() if v is not None}
    assert assessment_stages_due(volunteer_a, []) == {}


# --- the "À compléter" list --------------------------------------------------------------------------------


def test_the_todo_list_gathers_surveys_reports_and_assessments(app, tenant_a, tenant_b, trainer_a, volunteer_a,
                                                                count_queries):
    g.tenant = tenant_a  # the list's links are built for the structure's pages
    assert todo_for(volunteer_a, tenant_a, now=utcnow()) == []
    session = past_session(tenant_a, title="Séance smartphone")
    attend(session, volunteer_a, by=trainer_a)
    shift = past_shift(tenant_a, hours_ago=30, title="Permanence de la mairie")
    attend(shift, volunteer_a, by=trainer_a)
    module = make_module(None, title="Premiers pas", lessons=1, questions=0)
    assign_to(tenant_a, volunteer_a, path=make_path(None, [module], title="Parcours donné"))
    done_module = make_module(None, title="Déjà fait", lessons=1, questions=0)
    make_path(None, [done_module], title="Parcours terminé")
    complete_module(volunteer_a, done_module, tenant_a)
    make_path(None, [make_module(None, title="Autre", lessons=1)], title="Parcours jamais donné")
    own_b = make_path(tenant_b, [make_module(tenant_b, title="Module de B", lessons=1)], title="Parcours de B")
    make_membership(tenant_b, volunteer_a, Role.VOLUNTEER)
    assign_to(tenant_b, volunteer_a, path=own_b)

    db.session.refresh(volunteer_a), db.session.refresh(tenant_a)  # loaded before counting
    with count_queries() as queries:
        items = todo_for(volunteer_a, tenant_a, now=utcnow())
    assert [(i.kind, i.title) for i in items] == [
        ("survey", "Séance smartphone"), ("report", "Permanence de la mairie"),
        ("assessment_start", "Parcours donné"), ("assessment_end", "Parcours terminé"),
    ]
    assert items[0].url == f"/structure-a/impact/sessions/{session.id}/survey"
    assert items[0].moment == session.starts_at and items[3].moment is not None
    assert len(queries) <= 5

    for i in range(3):  # more of everything: the same queries
        attend(past_session(tenant_a, title=f"Séance {i}", hours_ago=50 + 3 * i), volunteer_a, by=trainer_a)
        m = make_module(None, title=f"Module {i}", lessons=1, questions=0)
        assign_to(tenant_a, volunteer_a, path=make_path(None, [m], title=f"Parcours {i}"))
    db.session.refresh(volunteer_a), db.session.refresh(tenant_a)
    with count_queries() as more:
        assert len(todo_for(volunteer_a, tenant_a, now=utcnow())) == 10
    assert len(more) == len(queries)
