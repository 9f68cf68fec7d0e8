"""The learner's pages, under ``/<tenant_slug>/training``: my training, the
catalogue, a module's overview, the lesson player and its printable view,
lesson files, the quiz and its result, and attestation PDFs.

Every active member of the structure learns. A module is reachable only when
the structure sees it (shared or its own) and it is published; learners follow
its current published version. Prerequisites come from the paths the person
was given here (``queries.missing_prerequisites``).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from volunteer_platform.auth.models import User
from volunteer_platform.auth.permissions import has_role, require_role
from volunteer_platform.db import utcnow
from volunteer_platform.errors import Forbidden, NotFound, ValidationFailed
from volunteer_platform.extensions import db
from volunteer_platform.forms import ActionForm
from volunteer_platform.tenants.models import Role, Tenant
from volunteer_platform.tenants.scoping import get_in_tenant_or_404
from volunteer_platform.training import pdf as attestation_pdfs
from volunteer_platform.training import queries, services
from volunteer_platform.training.forms.learner import (
    UNANSWERED,
    CatalogueFilterForm,
    QuizForm,
    quiz_answers,
)
from volunteer_platform.training.models import (
    Attestation,
    CatalogueStatus,
    Choice,
    Lesson,
    Module,
    ModuleVersion,
    Path,
    QualificationAward,
    Question,
)
from volunteer_platform.training.rendering import render_markdown
from volunteer_platform.training.views import bp

EVERYONE = (Role.COORDINATOR, Role.TRAINER, Role.VOLUNTEER)
EXPIRES_SOON = timedelta(days=30)


def _me() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]


def _today() -> date:
    """Today in the structure's time zone (due dates are local dates)."""
    return services.local_date(g.tenant, utcnow())


def _learning_module(module_id: int) -> tuple[Module, ModuleVersion]:
    """The module and the version learners follow; 404 if the structure does
    not see it or it is not published (a draft, an archived module)."""
    try:
        module = queries.get_visible(Module, module_id, g.tenant)
        version = services.current_version_for_learning(module)
    except NotFound:
        abort(404)
    return module, version


def _lesson_in(version: ModuleVersion, lesson_id: int) -> tuple[Lesson, int]:
    """A lesson of this version and its index; 404 for a lesson of another version."""
    for index, lesson in enumerate(version.lessons):
        if lesson.id == lesson_id:
            return lesson, index
    abort(404)


def _blocked(module: Module, message: str) -> Any:
    """The 403 page of a module whose prerequisites are missing, with links to them."""
    missing = queries.missing_prerequisites(_me(), module, g.tenant)
    versions = queries.current_versions([m.id for m in missing])
    return render_template(
        "training/learner/blocked.html", message=message, missing=[versions[m.id] for m in missing if m.id in versions]
    ), 403


def _prerequisites_refusal(module: Module) -> Any | None:
    try:
        services.check_prerequisites(_me(), module, g.tenant)
    except Forbidden as error:
        return _blocked(module, str(error.message))
    return None


def _objectives(text: str) -> list[str]:
    """Objectives are written one per line (maybe with "-" bullets)."""
    return [line.strip().lstrip("-•*").strip() for line in (text or "").splitlines() if line.strip(" -•*")]


# --- my training -----------------------------------------------------------------------


@dataclass
class AwardLine:
    award: QualificationAward
    state: str  # "valid", "permanent", "expiring", "expired" or "withdrawn"
    source: str


def award_state(award: QualificationAward, now: datetime) -> str:
    if award.withdrawn_at is not None:
        return "withdrawn"
    if award.expires_at is None:
        return "permanent"
    if award.expires_at <= now:
        return "expired"
    if award.expires_at <= now + EXPIRES_SOON:
        return "expiring"
    return "valid"


@dataclass
class NextStep:
    version: ModuleVersion
    lesson: Lesson | None
    url: str
    label: str


@dataclass
class PathLine:
    progress: queries.PathProgress
    steps: list[tuple[ModuleVersion | None, queries.MatrixCell, bool]] = field(default_factory=list)


def _next_step(user: User, version: ModuleVersion) -> NextStep:
    """Where to go on in a module: the first unread lesson, else the quiz, else its page."""
    progress = queries.module_progress(user, version)
    lesson = progress.next_lesson()
    if lesson is not None:
        url = url_for("training.lesson", module_id=version.module_id, lesson_id=lesson.id)
        label = _("Reprendre") if progress.started else _("Commencer")
    elif version.questions and not progress.passed_quiz:
        url, label = url_for("training.quiz", module_id=version.module_id), _("Faire le quiz")
    else:
        url, label = url_for("training.module", module_id=version.module_id), _("Voir le module")
    return NextStep(version, lesson, url, label)


def _next_module_id(
    user: User, catalogue: dict[int, ModuleVersion], *, in_progress: list[int],
    paths: list[tuple[Path, date | None]], is_completed: Callable[[int], bool], assigned: list[int],
) -> int | None:
    """What's next: the module last worked on (among those started and not
    completed), else the next step of a path (soonest due first, then by
    title), else the first module asked (``assigned``: not completed, outside
    the paths, in the order shown). Only a published module (``catalogue``)."""
    next_module_id = queries.last_module_touched(user, [m for m in in_progress if m in catalogue])
    if next_module_id is not None:
        return next_module_id
    for path, _due_on in sorted(paths, key=lambda p: (p[1] or date.max, p[0].title)):
        todo = [s.module_id for s in path.steps if not is_completed(s.module_id)]
        if todo and todo[0] in catalogue:
            return todo[0]
    todo = [m for m in assigned if m in catalogue]
    return todo[0] if todo else None


def home_next_step(user: User, tenant: Tenant) -> NextStep | None:
    """The next step of ``training_overview`` (the structure's home shows only
    that), from ``queries.learner_standing``: the same choice in about half
    the queries."""
    standing = queries.learner_standing(tenant, user)
    catalogue = {v.module_id: v for v in standing.versions if v.module.status is CatalogueStatus.PUBLISHED}
    in_paths = {step.module_id for path, _due in standing.paths for step in path.steps}
    asked = [v for v in standing.versions if v.module_id in standing.assigned and v.module_id not in in_paths
             and v.module_id not in standing.completed]
    asked.sort(key=lambda v: (standing.assigned[v.module_id] or date.max, v.title))
    next_module_id = _next_module_id(
        user, catalogue,
        in_progress=[v.module_id for v in standing.versions
                     if v.module_id in standing.started and v.module_id not in standing.completed],
        paths=standing.paths,
        is_completed=standing.completed.__contains__,
        assigned=[v.module_id for v in asked],
    )
    return _next_step(user, catalogue[next_module_id]) if next_module_id is not None else None


@dataclass
class Overview:
    """Everything "Ma formation" shows (the home page shows only ``home_next_step``)."""

    next_step: NextStep | None
    paths: list[PathLine]
    assigned: list
    in_progress: list
    completed: list
    catalogue: dict[int, ModuleVersion]
    attestation_of_module: dict
    awards: list[AwardLine]
    attestations: list


def training_overview(user: User, tenant: Tenant) -> Overview:
    """A person's training in a structure, in a fixed number of queries."""
    now = utcnow()
    training = queries.person_training(tenant, user)
    # The published catalogue (``queries.published_catalogue``) is the published
    # part of the versions just read: same current versions, same visibility.
    catalogue = {v.module_id: v for v in training.versions if v.module.status is CatalogueStatus.PUBLISHED}
    cells = {version.module_id: cell for version, cell in training.modules}
    titles = {version.module_id: version for version, _cell in training.modules} | catalogue

    paths = []
    for progress in training.paths:
        line = PathLine(progress)
        for step in progress.path.steps:
            cell = cells.get(step.module_id, queries.NOT_STARTED)
            line.steps.append((titles.get(step.module_id), cell, step.module_id in catalogue))
        paths.append(line)
    in_paths = {step.module_id for line in paths for step in line.progress.path.steps}
    assigned = [(v, c) for v, c in training.modules if c.assigned and v.module_id not in in_paths]
    assigned.sort(key=lambda vc: (vc[1].completed_at is not None, vc[1].due_on or date.max, vc[0].title))
    in_progress = [(v, c) for v, c in training.modules if c.started and c.completed_at is None]
    completed = sorted(
        ((v, c) for v, c in training.modules if c.completed_at is not None),
        key=lambda vc: vc[1].completed_at, reverse=True,  # type: ignore[arg-type, return-value]
    )

    next_module_id = _next_module_id(
        user, catalogue,
        in_progress=[v.module_id for v, _c in in_progress],
        paths=[(line.progress.path, line.progress.due_on) for line in paths],
        is_completed=lambda module_id: cells.get(module_id, queries.NOT_STARTED).completed_at is not None,
        assigned=[v.module_id for v, c in assigned if c.completed_at is None],
    )
    next_step = _next_step(user, catalogue[next_module_id]) if next_module_id is not None else None

    attestation_of_module = {
        a.module_version.module_id: a for a in reversed(training.attestations)
        if a.module_version is not None and a.withdrawn_at is None
    }
    awards = [AwardLine(a, award_state(a, now), training.award_sources.get(a.id, "")) for a in training.awards]
    return Overview(next_step, paths, assigned, in_progress, completed, catalogue, attestation_of_module,
                    awards, training.attestations)


@bp.get("/")
@require_role(*EVERYONE)
def my_training() -> Any:
    """Assigned, in progress and completed modules, what's next, qualifications and attestations."""
    from volunteer_platform.impact.views.participation import assessment_stages_due

    overview = training_overview(_me(), g.tenant)
    return render_template(
        "training/learner/my_training.html",
        assessments_due=assessment_stages_due(_me(), [line.progress.path for line in overview.paths]),
        next_step=overview.next_step, paths=overview.paths, assigned=overview.assigned,
        in_progress=overview.in_progress, completed=overview.completed, catalogue=overview.catalogue,
        attestation_of_module=overview.attestation_of_module, awards=overview.awards,
        attestations=overview.attestations, today=_today(),
    )


# --- catalogue -------------------------------------------------------------------------------


@bp.get("/catalogue")
@require_role(*EVERYONE)
def catalogue() -> Any:
    form = CatalogueFilterForm(formdata=request.args)
    area, level = form.chosen()
    versions = [
        v for v in queries.published_catalogue(g.tenant)
        if (area is None or v.competence_area == area) and (level is None or v.level == level)
    ]
    matrix = queries.progress_matrix(g.tenant, module_ids=[v.module_id for v in versions], user_ids=[_me().id])
    modules = [(v, matrix.cell(current_user.id, v.module_id)) for v in versions]
    return render_template("training/learner/catalogue.html", form=form, modules=modules,
                           filtered=bool(area or level))


# --- a module ----------------------------------------------------------------------------------


@bp.get("/modules/<int:module_id>")
@require_role(*EVERYONE)
def module(module_id: int) -> Any:
    module, version = _learning_module(module_id)
    user = _me()
    progress = queries.module_progress(user, version)
    missing = queries.missing_prerequisites(user, module, g.tenant)
    missing_versions = queries.current_versions([m.id for m in missing])
    return render_template(
        "training/learner/module.html",
        module=module, version=version, progress=progress,
        objectives=_objectives(version.objectives),
        missing=[missing_versions[m.id] for m in missing if m.id in missing_versions],
        next_lesson=progress.next_lesson(),
        attended=queries.has_attended(user, module.id) if version.requires_attendance else False,
        attestation=queries.module_attestation(user, module, g.tenant) if progress.completed_at else None,
    )


@bp.get("/modules/<int:module_id>/print")
@require_role(*EVERYONE)
def module_print(module_id: int) -> Any:
    module, version = _learning_module(module_id)
    refusal = _prerequisites_refusal(module)
    if refusal is not None:
        return refusal
    lessons = [(lesson, render_markdown(lesson.body)) for lesson in version.lessons]
    return render_template("training/learner/print.html", module=module, version=version, lessons=lessons)


# --- the lesson player ---------------------------------------------------------------------------


@bp.get("/modules/<int:module_id>/lessons/<int:lesson_id>")
@require_role(*EVERYONE)
def lesson(module_id: int, lesson_id: int) -> Any:
    module, version = _learning_module(module_id)
    lesson, index = _lesson_in(version, lesson_id)
    refusal = _prerequisites_refusal(module)
    if refusal is not None:
        return refusal
    lessons = version.lessons
    progress = queries.module_progress(_me(), version)
    return render_template(
        "training/learner/lesson.html",
        module=module, version=version, lesson=lesson, body=render_markdown(lesson.body),
        number=index + 1, total=len(lessons),
        previous=lessons[index - 1] if index > 0 else None,
        next=lessons[index + 1] if index + 1 < len(lessons) else None,
        is_read=lesson.id in progress.read_lesson_ids, progress=progress,
        has_quiz=bool(version.questions), action_form=ActionForm(),
    )


@bp.post("/modules/<int:module_id>/lessons/<int:lesson_id>/done")
@require_role(*EVERYONE)
def lesson_done(module_id: int, lesson_id: int) -> Any:
    """Mark the lesson read, then go on: the next lesson, a lesson left unread,
    the quiz, or the module's page when it is completed."""
    module, version = _learning_module(module_id)
    lesson, index = _lesson_in(version, lesson_id)
    if not ActionForm().validate_on_submit():
        return redirect(url_for("training.lesson", module_id=module.id, lesson_id=lesson.id))
    user, now = _me(), utcnow()
    try:
        completion = services.mark_lesson_read(user, lesson, g.tenant, now=now)
    except Forbidden as error:
        db.session.rollback()
        return _blocked(module, str(error.message))
    just_completed = completion is not None and completion.completed_at == now
    db.session.commit()
    if just_completed:
        flash(_("Bravo, vous avez terminé le module « %(title)s » ! Votre attestation est prête.",
                title=version.title), "success")
        return redirect(url_for("training.module", module_id=module.id))
    lessons = version.lessons
    if index + 1 < len(lessons):
        return redirect(url_for("training.lesson", module_id=module.id, lesson_id=lessons[index + 1].id))
    progress = queries.module_progress(user, version)
    unread = progress.next_lesson()
    if unread is not None:
        flash(_("Il vous reste des leçons à lire : voici la première."), "info")
        return redirect(url_for("training.lesson", module_id=module.id, lesson_id=unread.id))
    if version.questions and not progress.passed_quiz:
        flash(_("Vous avez lu toutes les leçons. Vérifiez ce que vous avez retenu avec le quiz."), "info")
        return redirect(url_for("training.quiz", module_id=module.id))
    if progress.completed_at is None and version.requires_attendance:
        flash(_("Vous avez tout lu. Pour terminer le module, il reste à participer à la séance en présentiel."),
              "info")
    return redirect(url_for("training.module", module_id=module.id))


@bp.get("/resources/<int:resource_id>")
@require_role(*EVERYONE)
def resource_download(resource_id: int) -> Any:
    try:
        resource = queries.visible_resource(resource_id, g.tenant)
    except NotFound:
        abort(404)
    response = send_file(io.BytesIO(resource.data), mimetype=resource.content_type, as_attachment=True,
                         download_name=resource.filename, etag=False, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- the quiz ------------------------------------------------------------------------------------


@bp.route("/modules/<int:module_id>/quiz", methods=["GET", "POST"])
@require_role(*EVERYONE)
def quiz(module_id: int) -> Any:
    """The questions, never their answers: correctness is only shown after submission."""
    module, version = _learning_module(module_id)
    refusal = _prerequisites_refusal(module)
    if refusal is not None:
        return refusal
    version = queries.with_quiz(version)
    if not version.questions:
        abort(404)
    form = QuizForm()
    answers: dict[int, list[int]] = {}
    unanswered: set[int] = set()
    if form.validate_on_submit():
        answers, unanswered = quiz_answers(request.form, version.questions)
        if not unanswered:
            user, now = _me(), utcnow()
            try:
                result = services.submit_quiz(user, version, g.tenant, answers, now=now)
            except Forbidden as error:
                db.session.rollback()
                return _blocked(module, str(error.message))
            except ValidationFailed as error:
                db.session.rollback()
                version = queries.with_quiz(version)
                field_name = error.field or ""
                unanswered = {q.id for q in version.questions if f"q{q.id}" == field_name} or {
                    q.id for q in version.questions}
            else:
                just_completed = result.completion is not None and result.completion.completed_at == now
                db.session.commit()
                if just_completed:
                    flash(_("Bravo, vous avez terminé le module « %(title)s » ! Votre attestation est prête.",
                            title=version.title), "success")
                return redirect(url_for("training.quiz_result", module_id=module.id, attempt_id=result.attempt.id))
    status = 422 if unanswered else 200
    return render_template(
        "training/learner/quiz.html", module=module, version=version, form=form, answers=answers,
        unanswered=[q for q in version.questions if q.id in unanswered], unanswered_ids=unanswered,
        error=UNANSWERED,
    ), status


@dataclass
class QuestionOutcome:
    question: Question
    chosen: list[Choice]
    right_choices: list[Choice]
    is_right: bool


@bp.get("/modules/<int:module_id>/quiz/attempts/<int:attempt_id>")
@require_role(*EVERYONE)
def quiz_result(module_id: int, attempt_id: int) -> Any:
    """The result of one of my attempts: the score and, for each wrong answer,
    the right one and its explanation."""
    user = _me()
    try:
        module = queries.get_visible(Module, module_id, g.tenant)
        attempt = queries.own_attempt(user, attempt_id)
    except NotFound:
        abort(404)
    version = db.session.get(ModuleVersion, attempt.version_id)
    if version is None or version.module_id != module.id:
        abort(404)
    version = queries.with_quiz(version)
    outcomes = []
    for question in version.questions:
        chosen_ids = {int(c) for c in attempt.answers.get(str(question.id), [])}
        right_ids = {c.id for c in question.choices if c.is_correct}
        outcomes.append(QuestionOutcome(
            question=question,
            chosen=[c for c in question.choices if c.id in chosen_ids],
            right_choices=[c for c in question.choices if c.is_correct],
            is_right=chosen_ids == right_ids,
        ))
    progress = queries.module_progress(user, version)
    return render_template(
        "training/learner/quiz_result.html",
        module=module, version=version, attempt=attempt, outcomes=outcomes, progress=progress,
        wrong=sum(1 for o in outcomes if not o.is_right),
        attended=queries.has_attended(user, module.id) if version.requires_attendance else False,
        attestation=queries.module_attestation(user, module, g.tenant) if progress.completed_at else None,
    )


# --- attestations ---------------------------------------------------------------------------------


@bp.get("/attestations/<int:attestation_id>.pdf")
@require_role(*EVERYONE)
def attestation_pdf(attestation_id: int) -> Any:
    """The PDF, for its holder or a coordinator of the issuing structure; 404 for anybody else."""
    attestation = get_in_tenant_or_404(Attestation, attestation_id, g.tenant)
    if attestation.user_id != current_user.id and not has_role(Role.COORDINATOR):
        abort(404)
    data = attestation_pdfs.attestation_pdf(attestation, base_url=current_app.config["BASE_URL"])
    response = send_file(io.BytesIO(data), mimetype="application/pdf", as_attachment=True,
                         download_name=f"attestation-{attestation.code}.pdf", etag=False, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
