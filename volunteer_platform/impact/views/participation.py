"""What members fill in, under ``/<tenant_slug>/impact``: the survey after a
training session, the self-assessment at the start and end of a learning path,
and the activity report after a help-desk shift.

Also the pieces other pages show, each in a fixed number of queries: the
"À compléter" list of the structure's home (``todo_for``), the self-assessment
prompts of "Ma formation" (``assessment_stages_due``), and on an event page the
participant's survey or report link and, for the trainer and the coordination,
the session's survey results (``impact_event_participation``, a template global).

Survey answers are anonymous: results are only ever shown aggregated, from
``services.SURVEY_RESULTS_MIN_ANSWERS`` answers, and never with a name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import format_decimal, format_percent
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from volunteer_platform.auth.models import User
from volunteer_platform.auth.permissions import has_role, require_role
from volunteer_platform.db import utcnow
from volunteer_platform.errors import Conflict, DomainError, NotFound
from volunteer_platform.extensions import db
from volunteer_platform.forms import apply_domain_error, form_status
from volunteer_platform.impact import services
from volunteer_platform.impact.forms_participation import ReportForm, SurveyForm, assessment_form
from volunteer_platform.impact.models import (
    CONFIDENCE_LABELS,
    AssessmentStage,
    HelpTheme,
    SelfAssessment,
)
from volunteer_platform.impact.views import bp
from volunteer_platform.scheduling.models import Event, EventKind
from volunteer_platform.tenants.models import Role, Tenant
from volunteer_platform.tenants.scoping import get_in_tenant_or_404
from volunteer_platform.training import queries as training_queries
from volunteer_platform.training.models import (
    Assignment,
    CatalogueStatus,
    CompetenceArea,
    Path,
    PathCompletion,
)

ANY_MEMBER = (Role.VOLUNTEER, Role.TRAINER, Role.COORDINATOR)

ALREADY_ANSWERED = _l("Vous avez déjà répondu à ce questionnaire. Merci !")
ALREADY_ASSESSED = _l("Vous avez déjà rempli ce bilan. Merci !")
END_NOT_YET = _l("Ce bilan se remplit une fois le parcours terminé, et une seule fois.")


def _me() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]


def _event_or_404(event_id: int) -> Event:
    return get_in_tenant_or_404(Event, event_id, g.tenant)


def _minutes_of(event: Event) -> int:
    return max(int((event.ends_at - event.starts_at).total_seconds() // 60), 0)


# --- survey after a training session ------------------------------------------------------------------


@bp.route("/sessions/<int:event_id>/survey", methods=["GET", "POST"])
@require_role(*ANY_MEMBER)
def survey(event_id: int) -> Any:
    """The anonymous survey, for the people marked present; answered once."""
    event, me, now = _event_or_404(event_id), _me(), utcnow()
    if services.survey_answer_of(event, me) is not None:
        if request.method == "POST":  # a second click on "Envoyer"
            flash(str(ALREADY_ANSWERED), "info")
            return redirect(url_for("impact.survey", event_id=event.id))
        return render_template("impact/survey.html", event=event, form=None)
    services.check_can_answer_survey(event, me, now=now)  # refused: the error page with the reason
    form = SurveyForm()
    if form.validate_on_submit():
        try:
            services.answer_survey(event, me, now=now, **form.answers())
            db.session.commit()
        except (Conflict, IntegrityError):
            db.session.rollback()
            if services.survey_answer_of(event, me) is None:  # refused for another reason
                raise
            flash(str(ALREADY_ANSWERED), "info")  # a double submission that raced the first one
            return redirect(url_for("impact.survey", event_id=event.id))
        except DomainError as error:
            db.session.rollback()
            if not error.field:
                raise
            apply_domain_error(form, error)
        else:
            flash(_("Merci ! Votre réponse est enregistrée."), "success")
            return redirect(url_for("impact.survey", event_id=event.id))
    return render_template("impact/survey.html", event=event, form=form), form_status(form)


# --- self-assessment at the start and end of a learning path --------------------------------------------


def _path_or_404(path_id: int) -> Path:
    """A path the structure sees (shared or its own) and that has been published."""
    try:
        path = training_queries.get_visible(Path, path_id, g.tenant)
    except NotFound:
        abort(404)
    if path.status is CatalogueStatus.DRAFT:
        abort(404)
    return path


def _assessment_page(path: Path, stage: AssessmentStage, form: Any,
                     answers: dict[CompetenceArea, int] | None = None) -> Any:
    given = [(area, answers[area]) for area in CompetenceArea if area in (answers or {})]
    return render_template("impact/assessment.html", path=path, stage=stage, form=form, answers=given,
                           confidence_labels=CONFIDENCE_LABELS)


@bp.route("/paths/<int:path_id>/assessment/start", methods=["GET", "POST"], defaults={"stage": "start"})
@bp.route("/paths/<int:path_id>/assessment/end", methods=["GET", "POST"], defaults={"stage": "end"})
@require_role(*ANY_MEMBER)
def assessment(path_id: int, stage: str) -> Any:
    """How at ease one feels in each competence area of the path, before (``start``)
    and after (``end``, once the path is completed). Answered once per stage."""
    stage_ = AssessmentStage(stage)  # only the two routes above lead here
    path, me = _path_or_404(path_id), _me()
    done = services.assessment_of(me, path, stage_)
    if done:
        if request.method == "POST":
            flash(str(ALREADY_ASSESSED), "info")
            return redirect(url_for("impact.assessment", path_id=path.id, stage=stage_.value))
        return _assessment_page(path, stage_, None, done)
    if stage_ is AssessmentStage.END and services.assessment_due(me, path) is not AssessmentStage.END:
        raise Conflict(END_NOT_YET)
    form = assessment_form(services.path_areas(path))
    if form.validate_on_submit():
        try:
            services.record_assessment(g.tenant, me, path, stage_, form.answers(), now=utcnow())
            db.session.commit()
        except (Conflict, IntegrityError):
            db.session.rollback()
            if not services.assessment_of(me, path, stage_):
                raise
            flash(str(ALREADY_ASSESSED), "info")
            return redirect(url_for("impact.assessment", path_id=path.id, stage=stage_.value))
        except DomainError as error:
            db.session.rollback()
            if not error.field:
                raise
            apply_domain_error(form, error)
        else:
            flash(_("Merci ! Bonne formation.") if stage_ is AssessmentStage.START
                  else _("Merci ! Vos réponses montrent le chemin parcouru."), "success")
            return redirect(url_for("training.my_training"))
    return _assessment_page(path, stage_, form), form_status(form)


def assessment_stages_due(user: User, paths: list[Path]) -> dict[int, AssessmentStage]:
    """For each of these paths, the self-assessment due now, if any — the rule of
    ``services.assessment_due`` for many paths in two queries."""
    ids = [p.id for p in paths]
    if not ids:
        return {}
    finished = set(db.session.scalars(select(PathCompletion.path_id).where(
        PathCompletion.user_id == user.id, PathCompletion.path_id.in_(ids))))
    answered = {(path_id, AssessmentStage(stage)) for path_id, stage in db.session.execute(
        select(SelfAssessment.path_id, SelfAssessment.stage).distinct().where(
            SelfAssessment.user_id == user.id, SelfAssessment.path_id.in_(ids)))}
    due: dict[int, AssessmentStage] = {}
    for path_id in ids:
        if path_id in finished:
            if (path_id, AssessmentStage.END) not in answered:
                due[path_id] = AssessmentStage.END
        elif (path_id, AssessmentStage.START) not in answered:
            due[path_id] = AssessmentStage.START
    return due


# --- activity report after a shift -------------------------------------------------------------------


@bp.route("/shifts/<int:event_id>/report", methods=["GET", "POST"])
@require_role(*ANY_MEMBER)
def report(event_id: int) -> Any:
    """What a volunteer on the shift did: time spent and people helped by theme.
    Counts only, nothing about the people helped. Can be corrected afterwards."""
    event, me, now = _event_or_404(event_id), _me(), utcnow()
    services.check_can_report(event, me, now=now)  # refused: the error page with the reason
    saved = services.report_of(event, me)
    if saved is not None:
        initial = {"minutes": saved.minutes} | {f"theme_{t.value}": 0 for t in HelpTheme} | {
            f"theme_{t.value}": n for t, n in saved.people_by_theme().items()}
    else:
        initial = {"minutes": _minutes_of(event)}
    form = ReportForm(data=initial)
    if form.validate_on_submit():
        try:
            services.save_report(event, me, minutes=form.minutes.data, people_by_theme=form.people_by_theme(),
                                 now=now)
            db.session.commit()
        except IntegrityError:  # two first reports at once: the other one was kept
            db.session.rollback()
            flash(_("Votre compte rendu venait d'être enregistré : vérifiez-le ci-dessous."), "info")
            return redirect(url_for("impact.report", event_id=event.id))
        except DomainError as error:
            db.session.rollback()
            if not error.field:
                raise
            apply_domain_error(form, error)
        else:
            flash(_("Merci ! Votre compte rendu est enregistré. Vous pouvez le corriger ici si besoin."), "success")
            return redirect(url_for("impact.report", event_id=event.id))
    return render_template("impact/report.html", event=event, form=form, saved=saved,
                           shift_minutes=_minutes_of(event)), form_status(form)


# --- the "À compléter" list of the structure's home -----------------------------------------------------


@dataclass
class TodoItem:
    kind: str  # "survey", "report", "assessment_start" or "assessment_end"
    title: str
    url: str
    moment: datetime | None  # the event's start, or when the path was completed


def _followed_paths(user: User, tenant: Tenant) -> list[tuple[Path, datetime | None]]:
    """Paths this structure gave the person or that they completed here (with when), published ones."""
    assigned = select(Assignment.path_id).where(
        Assignment.tenant_id == tenant.id, Assignment.user_id == user.id, Assignment.path_id.is_not(None))
    completed = select(PathCompletion.path_id).where(
        PathCompletion.tenant_id == tenant.id, PathCompletion.user_id == user.id)
    return [(path, completed_at) for path, completed_at in db.session.execute(
        training_queries.visible(Path, tenant)
        .add_columns(PathCompletion.completed_at)
        .outerjoin(PathCompletion, (PathCompletion.path_id == Path.id) & (PathCompletion.user_id == user.id))
        .where(Path.status != CatalogueStatus.DRAFT, or_(Path.id.in_(assigned), Path.id.in_(completed)))
        .order_by(Path.title, Path.id)
    )]


def todo_for(user: User, tenant: Tenant, *, now: datetime) -> list[TodoItem]:
    """What the person still has to fill in here: surveys, shift reports, self-assessments
    (five queries, whatever their number)."""
    items = [TodoItem("survey", e.title, url_for("impact.survey", event_id=e.id), e.starts_at)
             for e in services.pending_surveys(user, tenant, now=now)]
    items += [TodoItem("report", e.title, url_for("impact.report", event_id=e.id), e.starts_at)
              for e in services.shifts_to_report(user, tenant, now=now)]
    paths = _followed_paths(user, tenant)
    due = assessment_stages_due(user, [path for path, _completed_at in paths])
    for path, completed_at in paths:
        stage = due.get(path.id)
        if stage is not None:
            items.append(TodoItem(
                f"assessment_{stage.value}", path.title,
                url_for("impact.assessment", path_id=path.id, stage=stage.value),
                completed_at if stage is AssessmentStage.END else None,
            ))
    return items


# --- on an event page: the participant's link, the session's results -----------------------------------


@dataclass
class ResultLine:
    label: str
    value: str


@dataclass
class EventParticipation:
    survey_url: str | None = None  # the participant may answer the survey
    survey_answered: bool = False
    report_url: str | None = None  # the volunteer may write (or correct) the shift's report
    report_saved: bool = False
    results: services.SurveyResults | None = None  # only for the trainer and the coordination
    lines: list[ResultLine] | None = None


def _percent(ratio: float | None) -> str:
    return format_percent(ratio or 0)


def _result_lines(results: services.SurveyResults) -> list[ResultLine]:
    figures = results.figures
    return [
        ResultLine(_("Satisfaits ou très satisfaits"), _percent(figures.satisfaction_rate)),
        ResultLine(_("Note moyenne"), _("%(note)s sur 5", note=format_decimal(figures.average_satisfaction or 0,
                                                                               "0.0"))),
        ResultLine(_("Se sentent plus capables d'aider quelqu'un"), _percent(figures.more_able_rate)),
        ResultLine(_("Se sentent à l'aise avec un ordinateur"), _percent(figures.at_ease_rate)),
    ]


@bp.app_template_global()
def impact_event_participation(event: Event, user: Any) -> EventParticipation | None:
    """What an event page shows about surveys and reports (a few queries)."""
    if not getattr(user, "is_authenticated", False) or event.is_cancelled \
            or event.kind not in (EventKind.TRAINING_SESSION, EventKind.SHIFT):
        return None
    now = utcnow()
    if event.starts_at > now:
        return None
    shown = EventParticipation()
    if event.kind is EventKind.TRAINING_SESSION:
        if services.survey_answer_of(event, user) is not None:
            shown.survey_answered = True
        else:
            try:
                services.check_can_answer_survey(event, user, now=now)
            except DomainError:
                pass
            else:
                shown.survey_url = url_for("impact.survey", event_id=event.id)
        if has_role(Role.COORDINATOR) or event.trainer_id == user.id:
            shown.results = services.survey_results(event)
            shown.lines = _result_lines(shown.results) if shown.results.shown else []
    else:
        try:
            services.check_can_report(event, user, now=now)
        except DomainError:
            pass
        else:
            shown.report_url = url_for("impact.report", event_id=event.id)
            shown.report_saved = services.report_of(event, user) is not None
    return shown
