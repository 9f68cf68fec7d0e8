"""Rules for surveys, self-assessments, activity reports and volunteering attestations.

Views call these; they raise ``DomainError`` subclasses (nothing changed)
and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, select

from volunteer_platform.auth.models import User
from volunteer_platform.errors import Conflict, Forbidden, NotFound, ValidationFailed
from volunteer_platform.extensions import db
from volunteer_platform.impact import metrics
from volunteer_platform.impact.models import (
    CONFIDENCE_MAX,
    SATISFIED_FROM,
    ActivityReport,
    ActivityReportTheme,
    AssessmentStage,
    HelpTheme,
    SelfAssessment,
    SurveyResponse,
    VolunteeringAttestation,
)
from volunteer_platform.notifications.services import queue_templated_email
from volunteer_platform.scheduling.models import (
    Attendance,
    Enrolment,
    EnrolmentStatus,
    Event,
    EventKind,
    EventStatus,
)
from volunteer_platform.signals import attendance_marked
from volunteer_platform.tenants.models import Membership, Role, Tenant
from volunteer_platform.training.models import CompetenceArea, ModuleVersion, Path, PathCompletion
from volunteer_platform.training.services import new_attestation_code

COMMENT_MAX = 2000
#: Per-session survey results are shown from this many answers, so nobody's answer can be told apart.
SURVEY_RESULTS_MIN_ANSWERS = 3
#: Surveys and activity reports can be filled in for this long after the event.
ANSWER_WINDOW = timedelta(days=60)
#: Longest period one volunteering attestation covers.
ATTESTATION_MAX_DAYS = 3 * 366


def _enrolment(event: Event, user: User) -> Enrolment | None:
    return db.session.scalars(
        select(Enrolment).where(Enrolment.event_id == event.id, Enrolment.user_id == user.id)
    ).one_or_none()


# --- satisfaction survey after a training session ------------------------------------------


def check_can_answer_survey(event: Event, user: User, *, now: datetime) -> None:
    """Only the people marked present at a training session that has started may answer."""
    if event.kind is not EventKind.TRAINING_SESSION or event.status is EventStatus.CANCELLED:
        raise NotFound(_l("Il n'y a pas de questionnaire pour cet événement."))
    enrolment = _enrolment(event, user)
    if enrolment is None or enrolment.status is not EnrolmentStatus.CONFIRMED \
            or enrolment.attendance is not Attendance.PRESENT:
        raise Forbidden(_l("Le questionnaire est réservé aux personnes présentes à la session."))
    if event.starts_at > now:
        raise Conflict(_l("Le questionnaire s'ouvre une fois la session commencée."))
    if now > event.ends_at + ANSWER_WINDOW:
        raise Conflict(_l("Le questionnaire de cette session est clos."))


def survey_answer_of(event: Event, user: User) -> SurveyResponse | None:
    return db.session.scalars(
        select(SurveyResponse).where(SurveyResponse.event_id == event.id, SurveyResponse.user_id == user.id)
    ).one_or_none()


def answer_survey(
    event: Event, user: User, *, satisfaction: int, more_able_to_help: bool, at_ease_with_computer: bool,
    comment: str, now: datetime,
) -> SurveyResponse:
    check_can_answer_survey(event, user, now=now)
    if survey_answer_of(event, user) is not None:
        raise Conflict(_l("Vous avez déjà répondu à ce questionnaire. Merci !"))
    if satisfaction not in range(1, 6):
        raise ValidationFailed(_l("Choisissez une note de 1 à 5."), field="satisfaction")
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise ValidationFailed(_l("Le commentaire est trop long (%(max)d caractères au plus).", max=COMMENT_MAX),
                               field="comment")
    response = SurveyResponse(
        tenant_id=event.tenant_id, event_id=event.id, user_id=user.id, satisfaction=satisfaction,
        more_able_to_help=more_able_to_help, at_ease_with_computer=at_ease_with_computer,
        comment=comment, submitted_at=now,
    )
    db.session.add(response)
    db.session.flush()  # the unique (event, user) key refuses a double submission that raced us
    return response


def pending_surveys(user: User, tenant: Tenant, *, now: datetime) -> list[Event]:
    """Sessions this person attended, still open for the survey and not yet answered."""
    answered = select(SurveyResponse.event_id).where(SurveyResponse.user_id == user.id)
    return list(db.session.scalars(
        select(Event)
        .join(Enrolment, and_(Enrolment.event_id == Event.id, Enrolment.tenant_id == Event.tenant_id))
        .where(
            Event.tenant_id == tenant.id, Event.kind == EventKind.TRAINING_SESSION,
            Event.status == EventStatus.SCHEDULED, Event.starts_at <= now, Event.ends_at >= now - ANSWER_WINDOW,
            Enrolment.user_id == user.id, Enrolment.status == EnrolmentStatus.CONFIRMED,
            Enrolment.attendance == Attendance.PRESENT, Event.id.not_in(answered),
        )
        .order_by(Event.starts_at.desc())
    ))


@dataclass
class SurveyResults:
    """A session's answers, aggregated. Comments without names, in no telling order."""

    answers: int
    attendees: int
    figures: metrics.Figures
    comments: list[str]

    @property
    def shown(self) -> bool:
        return self.answers >= SURVEY_RESULTS_MIN_ANSWERS


def survey_results(event: Event) -> SurveyResults:
    responses = list(db.session.scalars(select(SurveyResponse).where(SurveyResponse.event_id == event.id)))
    attendees = db.session.scalar(
        select(db.func.count(Enrolment.id)).where(
            Enrolment.event_id == event.id, Enrolment.attendance == Attendance.PRESENT,
            Enrolment.status == EnrolmentStatus.CONFIRMED,
        )
    ) or 0
    figures = metrics.Figures(
        survey_answers=len(responses),
        survey_satisfied=sum(r.satisfaction >= SATISFIED_FROM for r in responses),
        survey_more_able=sum(r.more_able_to_help for r in responses),
        survey_at_ease=sum(r.at_ease_with_computer for r in responses),
        satisfaction_sum=sum(r.satisfaction for r in responses),
    )
    comments = sorted(r.comment for r in responses if r.comment)  # sorted: the order says nothing of who
    return SurveyResults(len(responses), attendees, figures, comments)


@attendance_marked.connect
def _invite_attendee(enrolment: Enrolment, *, now: datetime, **_: object) -> None:
    """Connected to ``signals.attendance_marked``: attendees get the survey by e-mail."""
    invite_to_survey(enrolment, now=now, base_url=current_app.config["BASE_URL"])


def invite_to_survey(enrolment: Enrolment, *, now: datetime, base_url: str) -> bool:
    """E-mail the survey link to a person just marked present, once, while it is open. True if queued."""
    event = enrolment.event
    if (event.kind is not EventKind.TRAINING_SESSION or enrolment.attendance is not Attendance.PRESENT
            or enrolment.survey_invited_at is not None or now > event.ends_at + ANSWER_WINDOW):
        return False
    tenant = db.session.get(Tenant, event.tenant_id)
    user = enrolment.user
    queue_templated_email(
        user.email, "survey_invitation", locale=user.locale or "fr", now=now, user=user, event=event,
        tenant=tenant, link=f"{base_url}/{tenant.slug}/impact/sessions/{event.id}/survey",
    )
    enrolment.survey_invited_at = now
    db.session.flush()
    return True


# --- self-assessment at the start and end of a path ------------------------------------------


def path_areas(path: Path) -> list[CompetenceArea]:
    """The competence areas a path's modules cover (their published versions), in enum order."""
    from volunteer_platform.training.models import PathStep

    areas = set(db.session.scalars(
        select(ModuleVersion.competence_area)
        .join(PathStep, PathStep.module_id == ModuleVersion.module_id)
        .where(PathStep.path_id == path.id, ModuleVersion.published_at.is_not(None))
    ))
    return [area for area in CompetenceArea if area in areas] or list(CompetenceArea)


def assessment_of(user: User, path: Path, stage: AssessmentStage) -> dict[CompetenceArea, int]:
    rows = db.session.scalars(select(SelfAssessment).where(
        SelfAssessment.user_id == user.id, SelfAssessment.path_id == path.id, SelfAssessment.stage == stage,
    ))
    return {CompetenceArea(r.area): r.confidence for r in rows}


def assessment_due(user: User, path: Path) -> AssessmentStage | None:
    """Which self-assessment this person should give now for this path, if any:
    the start one before they finish it, the end one once they have."""
    start = assessment_of(user, path, AssessmentStage.START)
    finished = db.session.scalars(select(PathCompletion.id).where(
        PathCompletion.user_id == user.id, PathCompletion.path_id == path.id
    )).first() is not None
    if not finished:
        return None if start else AssessmentStage.START
    if not assessment_of(user, path, AssessmentStage.END):
        return AssessmentStage.END
    return None


def record_assessment(
    tenant: Tenant, user: User, path: Path, stage: AssessmentStage, answers: dict[CompetenceArea, int],
    *, now: datetime,
) -> list[SelfAssessment]:
    """Store one confidence per area of the path. Each stage is answered once."""
    expected = path_areas(path)
    if stage is AssessmentStage.END and assessment_due(user, path) is not AssessmentStage.END:
        raise Conflict(_l("Ce bilan se remplit une fois le parcours terminé, et une seule fois."))
    if assessment_of(user, path, stage):
        raise Conflict(_l("Vous avez déjà rempli ce bilan. Merci !"))
    for area in expected:
        value = answers.get(area)
        if value is None or not 1 <= value <= CONFIDENCE_MAX:
            raise ValidationFailed(_l("Répondez pour chaque domaine."), field=f"area_{area.value}")
    rows = [
        SelfAssessment(tenant_id=tenant.id, user_id=user.id, path_id=path.id, stage=stage, area=area,
                       confidence=answers[area], submitted_at=now)
        for area in expected
    ]
    db.session.add_all(rows)
    db.session.flush()
    return rows


# --- activity report after a help-desk shift -----------------------------------------------


def check_can_report(event: Event, user: User, *, now: datetime) -> None:
    """Volunteers confirmed on a shift (and not marked absent) report once it has started."""
    if event.kind is not EventKind.SHIFT or event.status is EventStatus.CANCELLED:
        raise NotFound(_l("On ne fait un compte rendu que pour une permanence."))
    enrolment = _enrolment(event, user)
    if enrolment is None or enrolment.status is not EnrolmentStatus.CONFIRMED \
            or enrolment.attendance in (Attendance.ABSENT, Attendance.EXCUSED):
        raise Forbidden(_l("Seules les personnes qui ont tenu la permanence en font le compte rendu."))
    if event.starts_at > now:
        raise Conflict(_l("Le compte rendu se remplit une fois la permanence commencée."))
    if now > event.ends_at + ANSWER_WINDOW:
        raise Conflict(_l("Le compte rendu de cette permanence est clos."))


def report_of(event: Event, user: User) -> ActivityReport | None:
    return db.session.scalars(
        select(ActivityReport).where(ActivityReport.event_id == event.id, ActivityReport.user_id == user.id)
    ).one_or_none()


def save_report(
    event: Event, user: User, *, minutes: int, people_by_theme: dict[HelpTheme, int], now: datetime,
) -> ActivityReport:
    """Create or correct this volunteer's report of the shift."""
    check_can_report(event, user, now=now)
    shift_minutes = int((event.ends_at - event.starts_at).total_seconds() // 60)
    if not 0 <= minutes <= max(shift_minutes, 0) + 120:
        raise ValidationFailed(
            _l("Indiquez une durée entre 0 et %(max)d minutes.", max=shift_minutes + 120), field="minutes"
        )
    counts = {HelpTheme(theme): int(people) for theme, people in people_by_theme.items() if people}
    for theme, people in counts.items():
        if not 0 < people <= 500:
            raise ValidationFailed(_l("Indiquez un nombre de personnes entre 0 et 500."),
                                   field=f"theme_{theme.value}")
    report = report_of(event, user)
    if report is None:
        report = ActivityReport(tenant_id=event.tenant_id, event_id=event.id, user_id=user.id,
                                submitted_at=now, minutes=minutes)
        db.session.add(report)
    report.minutes = minutes
    report.updated_at = now
    report.themes = [ActivityReportTheme(theme=theme, people=people) for theme, people in sorted(counts.items())]
    db.session.flush()
    return report


def shifts_to_report(user: User, tenant: Tenant, *, now: datetime) -> list[Event]:
    """Shifts this person held recently and has not reported yet."""
    reported = select(ActivityReport.event_id).where(ActivityReport.user_id == user.id)
    return list(db.session.scalars(
        select(Event)
        .join(Enrolment, and_(Enrolment.event_id == Event.id, Enrolment.tenant_id == Event.tenant_id))
        .where(
            Event.tenant_id == tenant.id, Event.kind == EventKind.SHIFT, Event.status == EventStatus.SCHEDULED,
            Event.starts_at <= now, Event.ends_at >= now - ANSWER_WINDOW,
            Enrolment.user_id == user.id, Enrolment.status == EnrolmentStatus.CONFIRMED,
            db.or_(Enrolment.attendance.is_(None), Enrolment.attendance == Attendance.PRESENT),
            Event.id.not_in(reported),
        )
        .order_by(Event.starts_at.desc())
    ))


# --- volunteering attestation --------------------------------------------------------------


def signatory_of(tenant: Tenant) -> tuple[str, str]:
    """Who signs in the structure's name: its longest-standing active coordinator."""
    coordinator = db.session.scalars(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.tenant_id == tenant.id, Membership.role == Role.COORDINATOR,
               Membership.is_active.is_(True), User.is_active.is_(True))
        .order_by(Membership.created_at, Membership.id)
    ).first()
    if coordinator is None:
        raise Conflict(_l("Votre structure n'a pas encore de coordinateur ou coordinatrice pour signer "
                          "l'attestation. Contactez-la."))
    return coordinator.full_name, str(Role.COORDINATOR.label)


def check_volunteering_period(start: date, end: date, *, today: date) -> None:
    """An attestation's period: ordered, over by ``today``, three years at most (ValidationFailed)."""
    if start > end:
        raise ValidationFailed(_l("La date de début doit précéder la date de fin."), field="start")
    if end > today:
        raise ValidationFailed(_l("La période ne peut pas finir après aujourd'hui."), field="end")
    if (end - start).days > ATTESTATION_MAX_DAYS:
        raise ValidationFailed(_l("Une attestation couvre au plus trois ans."), field="start")


def issue_volunteering_attestation(
    tenant: Tenant, user: User, *, start: date, end: date, now: datetime, zone: str,
) -> VolunteeringAttestation:
    """Freeze this person's volunteering figures for [start, end] into an attestation."""
    check_volunteering_period(start, end, today=now.astimezone(metrics.ZoneInfo(zone)).date())
    record = metrics.volunteering_of(user.id, tenant.id, metrics.Period(start, end, zone), now=now)
    if not (record.volunteer_hours or record.training_sessions or record.modules_completed):
        raise ValidationFailed(_l("Aucune activité enregistrée sur cette période : choisissez une autre période."),
                               field="start")
    figures = {
        "volunteer_hours": record.volunteer_hours,
        "shifts": record.shifts,
        "training_sessions": record.training_sessions,
        "training_hours": record.training_hours,
        "modules_completed": record.modules_completed,
    }
    # The same request again (a double click, a reload): the attestation already issued, not a twin.
    for existing in db.session.scalars(select(VolunteeringAttestation).where(
        VolunteeringAttestation.tenant_id == tenant.id, VolunteeringAttestation.user_id == user.id,
        VolunteeringAttestation.period_start == start, VolunteeringAttestation.period_end == end,
        VolunteeringAttestation.withdrawn_at.is_(None),
    )):
        if existing.figures == figures:
            return existing
    name, role = signatory_of(tenant)
    attestation = VolunteeringAttestation(
        tenant_id=tenant.id, code=new_attestation_code(), user_id=user.id, holder_name=user.full_name,
        period_start=start, period_end=end, signatory_name=name, signatory_role=role, issued_at=now,
        figures=figures,
    )
    db.session.add(attestation)
    db.session.flush()
    return attestation


def volunteering_attestation_by_code(code: str) -> VolunteeringAttestation:
    normalised = "".join(code.split()).replace("-", "").upper()
    found = db.session.scalars(
        select(VolunteeringAttestation).where(VolunteeringAttestation.code == normalised)
    ).one_or_none()
    if found is None:
        raise NotFound("not found")
    return found
