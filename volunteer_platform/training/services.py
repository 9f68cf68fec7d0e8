"""Training rules: authoring and versioning, learning, completion,
qualifications and attestations.

Functions take plain values and the objects they act on, flush, and raise
``errors`` exceptions; the caller commits. ``tenant`` is the structure the
action happens in; ``None`` stands for the association (shared catalogue).
"""

from __future__ import annotations

import base64
import logging
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from volunteer_platform.auth.models import User
from volunteer_platform.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from volunteer_platform.extensions import db
from volunteer_platform.signals import member_joined
from volunteer_platform.tenants.models import Membership, Role, Tenant
from volunteer_platform.training import queries
from volunteer_platform.training.models import (
    Assignment,
    Attestation,
    AwardSource,
    CatalogueStatus,
    Choice,
    CompetenceArea,
    InPersonAttendance,
    Lesson,
    LessonProgress,
    LessonResource,
    Level,
    Module,
    ModuleCompletion,
    ModuleVersion,
    Path,
    PathCompletion,
    PathStep,
    Qualification,
    QualificationAward,
    Question,
    QuestionKind,
    QuizAttempt,
    TrainingSettings,
)

_log = logging.getLogger(__name__)

REMINDER_BEFORE = timedelta(days=30)
ATTESTATION_CODE_BYTES = 15  # 120 random bits, 24 base32 characters


# --- ownership -------------------------------------------------------------------


def check_can_author(owner_tenant_id: int | None, tenant: Tenant | None) -> None:
    """Authors edit only their own catalogue: the association the shared one,
    a structure its own modules."""
    if owner_tenant_id != (tenant.id if tenant is not None else None):
        raise Forbidden(_l("Vous ne pouvez pas modifier ce contenu : il appartient au catalogue commun."))


# --- qualifications ------------------------------------------------------------------


def create_qualification(
    tenant: Tenant | None, *, name: str, description: str | None = None,
    validity_months: int | None = None, now: datetime,
) -> Qualification:
    if validity_months is not None and validity_months <= 0:
        raise ValidationFailed(_l("La durée de validité doit être positive."), field="validity_months")
    qualification = Qualification(
        tenant_id=tenant.id if tenant else None, name=name.strip(),
        description=(description or "").strip() or None, validity_months=validity_months,
        created_at=now,
    )
    db.session.add(qualification)
    db.session.flush()
    return qualification


# --- authoring ----------------------------------------------------------------------


@dataclass
class VersionFields:
    title: str
    competence_area: CompetenceArea
    level: Level
    summary: str = ""
    objectives: str = ""
    duration_minutes: int = 60
    pass_mark: int = 80
    requires_attendance: bool = False
    qualification_id: int | None = None


def _apply_fields(version: ModuleVersion, fields: VersionFields, tenant: Tenant | None) -> None:
    if not fields.title.strip():
        raise ValidationFailed(_l("Le titre est obligatoire."), field="title")
    if not 0 <= fields.pass_mark <= 100:
        raise ValidationFailed(_l("Le seuil de réussite est un pourcentage entre 0 et 100."), field="pass_mark")
    if fields.duration_minutes <= 0:
        raise ValidationFailed(_l("La durée doit être positive."), field="duration_minutes")
    if fields.qualification_id is not None:
        queries.get_visible(Qualification, fields.qualification_id, tenant)
    version.title = fields.title.strip()
    version.summary = fields.summary.strip()
    version.objectives = fields.objectives.strip()
    version.competence_area = CompetenceArea(fields.competence_area)
    version.level = Level(fields.level)
    version.duration_minutes = fields.duration_minutes
    version.pass_mark = fields.pass_mark
    version.requires_attendance = fields.requires_attendance
    version.qualification_id = fields.qualification_id


def create_module(tenant: Tenant | None, fields: VersionFields, *, now: datetime) -> Module:
    """A new module in ``tenant``'s catalogue (the shared one for None), as a draft."""
    module = Module(tenant_id=tenant.id if tenant else None, status=CatalogueStatus.DRAFT, created_at=now)
    db.session.add(module)
    db.session.flush()
    version = ModuleVersion(module_id=module.id, number=1, created_at=now)
    _apply_fields(version, fields, tenant)
    db.session.add(version)
    db.session.flush()
    return module


def _version_copy(source: ModuleVersion, *, module_id: int, number: int, now: datetime) -> ModuleVersion:
    """A new draft version of ``module_id`` with ``source``'s details and content."""
    version = ModuleVersion(
        module_id=module_id, number=number, created_at=now, title=source.title, summary=source.summary,
        objectives=source.objectives, competence_area=source.competence_area, level=source.level,
        duration_minutes=source.duration_minutes, pass_mark=source.pass_mark,
        requires_attendance=source.requires_attendance, qualification_id=source.qualification_id,
    )
    db.session.add(version)
    _copy_content(source, version)
    return version


def _copy_content(source: ModuleVersion, target: ModuleVersion) -> None:
    for lesson in source.lessons:
        copy = Lesson(position=lesson.position, title=lesson.title, body=lesson.body)
        target.lessons.append(copy)
        for resource in lesson.resources:
            copy.resources.append(
                LessonResource(title=resource.title, filename=resource.filename,
                               content_type=resource.content_type, size=resource.size,
                               data=resource.data)
            )
    for question in source.questions:
        q = Question(position=question.position, prompt=question.prompt, kind=question.kind,
                     feedback=question.feedback)
        target.questions.append(q)
        for choice in question.choices:
            q.choices.append(Choice(position=choice.position, text=choice.text, is_correct=choice.is_correct))


def editable_version(module: Module, tenant: Tenant | None, *, now: datetime) -> ModuleVersion:
    """The draft to edit: the existing draft, or a new version copied from the
    latest published one (which stays untouched for those who completed it)."""
    check_can_author(module.tenant_id, tenant)
    if module.status is CatalogueStatus.ARCHIVED:
        raise Conflict(_l("Ce module est archivé : réactivez-le avant de le modifier."))
    draft = queries.draft_version(module)
    if draft is not None:
        return draft
    published = queries.latest_published_version(module)
    assert published is not None  # a module always has a draft or a published version
    draft = _version_copy(published, module_id=module.id, number=published.number + 1, now=now)
    db.session.flush()
    return draft


def _require_draft(version: ModuleVersion) -> None:
    if not version.is_draft:
        raise Conflict(_l("Une version publiée ne se modifie pas : modifiez le module pour en créer une nouvelle."))


def update_version(version: ModuleVersion, fields: VersionFields, tenant: Tenant | None) -> None:
    check_can_author(version.module.tenant_id, tenant)
    _require_draft(version)
    _apply_fields(version, fields, tenant)
    db.session.flush()


def _next_position(items: Iterable[Lesson | Question]) -> int:
    return max((item.position for item in items), default=0) + 1


def add_lesson(version: ModuleVersion, tenant: Tenant | None, *, title: str, body: str) -> Lesson:
    check_can_author(version.module.tenant_id, tenant)
    _require_draft(version)
    if not title.strip():
        raise ValidationFailed(_l("Le titre est obligatoire."), field="title")
    last = max(version.lessons, key=lambda lesson: lesson.position, default=None)
    if last is not None and (last.title, last.body) == (title.strip(), body):
        return last  # the form sent twice (a double click, a reload): it takes effect once
    lesson = Lesson(position=_next_position(version.lessons), title=title.strip(), body=body)
    version.lessons.append(lesson)
    db.session.flush()
    return lesson


def update_lesson(lesson: Lesson, tenant: Tenant | None, *, title: str, body: str) -> None:
    check_can_author(lesson.version.module.tenant_id, tenant)
    _require_draft(lesson.version)
    if not title.strip():
        raise ValidationFailed(_l("Le titre est obligatoire."), field="title")
    lesson.title = title.strip()
    lesson.body = body
    db.session.flush()


def delete_lesson(lesson: Lesson, tenant: Tenant | None) -> None:
    check_can_author(lesson.version.module.tenant_id, tenant)
    _require_draft(lesson.version)
    lesson.version.lessons.remove(lesson)
    db.session.flush()


def move(item: Lesson | Question, siblings: list, offset: int) -> None:
    """Swap ``item`` with its neighbour (``offset`` -1: up, +1: down), then renumber."""
    ordered = sorted(siblings, key=lambda x: (x.position, x.id))
    index = ordered.index(item)
    target = index + offset
    if 0 <= target < len(ordered):
        ordered[index], ordered[target] = ordered[target], ordered[index]
    for position, element in enumerate(ordered, start=1):
        element.position = position
    db.session.flush()


def move_lesson(lesson: Lesson, tenant: Tenant | None, offset: int) -> None:
    check_can_author(lesson.version.module.tenant_id, tenant)
    _require_draft(lesson.version)
    move(lesson, lesson.version.lessons, offset)


def _check_choices(kind: QuestionKind, choices: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
    choices = [(text.strip(), correct) for text, correct in choices if text.strip()]
    if len(choices) < 2:
        raise ValidationFailed(_l("Proposez au moins deux réponses."), field="choices")
    correct = sum(1 for _, ok in choices if ok)
    if kind is QuestionKind.SINGLE and correct != 1:
        raise ValidationFailed(_l("Une question à réponse unique a exactement une bonne réponse."), field="choices")
    if kind is QuestionKind.MULTIPLE and correct < 1:
        raise ValidationFailed(_l("Cochez au moins une bonne réponse."), field="choices")
    return choices


def add_question(
    version: ModuleVersion, tenant: Tenant | None, *, prompt: str, kind: QuestionKind,
    choices: list[tuple[str, bool]], feedback: str = "",
) -> Question:
    check_can_author(version.module.tenant_id, tenant)
    _require_draft(version)
    kind = QuestionKind(kind)
    if not prompt.strip():
        raise ValidationFailed(_l("Écrivez la question."), field="prompt")
    checked = _check_choices(kind, choices)
    last = max(version.questions, key=lambda question: question.position, default=None)
    if last is not None and (last.prompt, last.kind, last.feedback, [(c.text, c.is_correct) for c in last.choices]) \
            == (prompt.strip(), kind, feedback.strip(), list(checked)):
        return last  # the form sent twice (a double click, a reload): it takes effect once
    question = Question(position=_next_position(version.questions), prompt=prompt.strip(), kind=kind,
                        feedback=feedback.strip())
    for position, (text, correct) in enumerate(checked, start=1):
        question.choices.append(Choice(position=position, text=text, is_correct=correct))
    version.questions.append(question)
    db.session.flush()
    return question


def update_question(
    question: Question, tenant: Tenant | None, *, prompt: str, kind: QuestionKind,
    choices: list[tuple[str, bool]], feedback: str = "",
) -> None:
    check_can_author(question.version.module.tenant_id, tenant)
    _require_draft(question.version)
    kind = QuestionKind(kind)
    if not prompt.strip():
        raise ValidationFailed(_l("Écrivez la question."), field="prompt")
    checked = _check_choices(kind, choices)
    question.prompt, question.kind, question.feedback = prompt.strip(), kind, feedback.strip()
    question.choices.clear()
    for position, (text, correct) in enumerate(checked, start=1):
        question.choices.append(Choice(position=position, text=text, is_correct=correct))
    db.session.flush()


def delete_question(question: Question, tenant: Tenant | None) -> None:
    check_can_author(question.version.module.tenant_id, tenant)
    _require_draft(question.version)
    question.version.questions.remove(question)
    db.session.flush()


def move_question(question: Question, tenant: Tenant | None, offset: int) -> None:
    check_can_author(question.version.module.tenant_id, tenant)
    _require_draft(question.version)
    move(question, question.version.questions, offset)


def publish(module: Module, tenant: Tenant | None, *, now: datetime) -> ModuleVersion:
    """Publish the module's draft: it becomes the version new learners follow."""
    check_can_author(module.tenant_id, tenant)
    draft = queries.draft_version(module)
    if draft is None:
        raise Conflict(_l("Il n'y a pas de brouillon à publier."))
    if not draft.lessons:
        raise ValidationFailed(_l("Ajoutez au moins une leçon avant de publier."))
    draft.published_at = now
    module.status = CatalogueStatus.PUBLISHED
    db.session.flush()
    return draft


def set_archived(module: Module, tenant: Tenant | None, archived: bool) -> None:
    """Archive (withdraw from the catalogue) or bring back a module.

    Completions, qualifications and attestations already obtained stay valid.
    """
    check_can_author(module.tenant_id, tenant)
    if archived:
        module.status = CatalogueStatus.ARCHIVED
    else:
        module.status = (
            CatalogueStatus.PUBLISHED if queries.latest_published_version(module) else CatalogueStatus.DRAFT
        )
    db.session.flush()


#: A second copy of the same module this soon after the first is the same request sent twice.
TWIN_WINDOW = timedelta(minutes=2)


def copy_module(module: Module, tenant: Tenant, *, now: datetime) -> Module:
    """Copy a shared module into a structure's own catalogue, to adapt it (a
    structure may keep several copies; a copy requested again within
    ``TWIN_WINDOW`` is the one just made)."""
    if module.tenant_id is not None:
        raise Conflict(_l("Seuls les modules du catalogue commun peuvent être copiés."))
    source = queries.latest_published_version(module)
    if source is None or module.status is not CatalogueStatus.PUBLISHED:
        raise NotFound("not found")
    just_made = db.session.scalars(select(Module).where(
        Module.tenant_id == tenant.id, Module.copied_from_id == module.id, Module.created_at > now - TWIN_WINDOW,
    ).order_by(Module.created_at.desc()).limit(1)).first()
    if just_made is not None:  # the same request again (a double click, a reload): not a second copy
        return just_made
    copy = Module(tenant_id=tenant.id, status=CatalogueStatus.DRAFT, copied_from_id=module.id, created_at=now)
    db.session.add(copy)
    db.session.flush()
    # The shared qualification stays the same: the copy still leads to it.
    _version_copy(source, module_id=copy.id, number=1, now=now)
    db.session.flush()
    return copy


# --- paths -----------------------------------------------------------------------------


def create_path(
    tenant: Tenant | None, *, title: str, description: str = "", module_ids: list[int],
    qualification_id: int | None = None, now: datetime, publish_now: bool = False,
) -> Path:
    if not title.strip():
        raise ValidationFailed(_l("Le titre est obligatoire."), field="title")
    path = Path(tenant_id=tenant.id if tenant else None, title=title.strip(), description=description.strip(),
                created_at=now,
                status=CatalogueStatus.PUBLISHED if publish_now else CatalogueStatus.DRAFT)
    if qualification_id is not None:
        queries.get_visible(Qualification, qualification_id, tenant)
        path.qualification_id = qualification_id
    db.session.add(path)
    db.session.flush()
    set_path_modules(path, tenant, module_ids)
    return path


def set_path_modules(path: Path, tenant: Tenant | None, module_ids: list[int]) -> None:
    """Set the ordered modules of a path (each requires the ones before it)."""
    check_can_author(path.tenant_id, tenant)
    if len(set(module_ids)) != len(module_ids):
        raise ValidationFailed(_l("Un module ne peut figurer qu'une fois dans un parcours."), field="modules")
    if not module_ids:
        raise ValidationFailed(_l("Choisissez au moins un module."), field="modules")
    seen = set(db.session.scalars(
        select(Module.id).where(Module.id.in_(module_ids)).where(queries.visible(Module, tenant).whereclause)
    ))
    if not seen >= set(module_ids):
        raise NotFound("not found")
    path.steps.clear()
    db.session.flush()
    for position, module_id in enumerate(module_ids, start=1):
        path.steps.append(PathStep(module_id=module_id, position=position))
    db.session.flush()


def set_default_path(tenant: Tenant, path: Path | None) -> None:
    if path is not None:
        queries.get_visible(Path, path.id, tenant)
        if path.status is not CatalogueStatus.PUBLISHED:
            raise Conflict(_l("Seul un parcours publié peut être proposé par défaut."), field="default_path")
    settings = db.session.get(TrainingSettings, tenant.id)
    if settings is None:
        settings = TrainingSettings(tenant_id=tenant.id)
        db.session.add(settings)
    settings.default_path_id = path.id if path else None
    db.session.flush()


def local_date(tenant: Tenant, moment: datetime) -> date:
    """The day ``moment`` falls on in the structure's time zone (a due date is a day there)."""
    return moment.astimezone(ZoneInfo(tenant.timezone)).date()


def assign(
    tenant: Tenant, users: list[User], *, module: Module | None = None, path: Path | None = None,
    due_on: date | None = None, assigned_by: User | None, now: datetime,
) -> list[Assignment]:
    """Ask active members of ``tenant`` to follow a published module or path it
    sees, maybe by ``due_on``: once each, asking again only changes the due date.

    Raises ValidationFailed (field ``due_on``) for a due date before today in
    the structure, Conflict for an unpublished target, NotFound for a target
    the structure does not see or someone who is not an active member — always
    before writing anything.
    """
    if (module is None) == (path is None):
        raise ValidationFailed(_l("Choisissez un module ou un parcours."))
    target = module or path
    queries.get_visible(type(target), target.id, tenant)
    if target.status is not CatalogueStatus.PUBLISHED:
        raise Conflict(_l("Seul un contenu publié peut être attribué."))
    if due_on is not None and due_on < local_date(tenant, now):
        raise ValidationFailed(_l("La date limite ne peut pas être dans le passé."), field="due_on")
    users = list({user.id: user for user in users}.values())
    user_ids = [user.id for user in users]
    member_ids = set(db.session.scalars(
        select(Membership.user_id).where(Membership.tenant_id == tenant.id, Membership.is_active.is_(True),
                                         Membership.user_id.in_(user_ids))
    ))
    if not member_ids >= set(user_ids):
        raise NotFound("not found")
    same_target = Assignment.module_id == module.id if module is not None else Assignment.path_id == path.id
    existing = {
        assignment.user_id: assignment
        for assignment in db.session.scalars(
            select(Assignment).where(Assignment.tenant_id == tenant.id, Assignment.user_id.in_(user_ids),
                                     same_target)
        )
    }
    created = []
    for user in users:
        if user.id in existing:
            existing[user.id].due_on = due_on
            continue
        assignment = Assignment(
            tenant_id=tenant.id, user_id=user.id, module_id=module.id if module else None,
            path_id=path.id if path else None, due_on=due_on,
            assigned_by_id=assigned_by.id if assigned_by else None, created_at=now,
        )
        db.session.add(assignment)
        created.append(assignment)
    db.session.flush()
    return created


def assign_default_path(tenant: Tenant, user: User, *, now: datetime) -> Assignment | None:
    """Give a new member the structure's default path, if it has one."""
    settings = db.session.get(TrainingSettings, tenant.id)
    if settings is None or settings.default_path is None:
        return None
    if settings.default_path.status is not CatalogueStatus.PUBLISHED:
        return None
    created = assign(tenant, [user], path=settings.default_path, assigned_by=None, now=now)
    return created[0] if created else None


# --- learning -------------------------------------------------------------------------


def current_version_for_learning(module: Module) -> ModuleVersion:
    if module.status is not CatalogueStatus.PUBLISHED:
        raise NotFound("not found")
    version = queries.latest_published_version(module)
    if version is None:
        raise NotFound("not found")
    return version


def check_prerequisites(user: User, module: Module, tenant: Tenant) -> None:
    missing = queries.missing_prerequisites(user, module, tenant)
    if missing:
        titles = ", ".join(
            (queries.latest_published_version(m) or m.versions[-1]).title for m in missing
        )
        raise Forbidden(_l("Terminez d'abord : %(titles)s.", titles=titles))


def mark_lesson_read(user: User, lesson: Lesson, tenant: Tenant, *, now: datetime) -> ModuleCompletion | None:
    """Record that the person read the lesson; complete the module if that was the last step."""
    check_prerequisites(user, lesson.version.module, tenant)
    exists = db.session.scalars(
        select(LessonProgress.id).where(LessonProgress.user_id == user.id, LessonProgress.lesson_id == lesson.id)
    ).first()
    if exists is None:
        db.session.add(LessonProgress(user_id=user.id, lesson_id=lesson.id, completed_at=now))
        db.session.flush()
    return complete_if_done(user, lesson.version, tenant, now=now)


@dataclass
class QuestionResult:
    question: Question
    chosen: set[int]
    correct: bool


@dataclass
class QuizResult:
    attempt: QuizAttempt
    results: list[QuestionResult]
    completion: ModuleCompletion | None

    @property
    def passed(self) -> bool:
        return self.attempt.passed


def submit_quiz(
    user: User, version: ModuleVersion, tenant: Tenant, answers: Mapping[int, Iterable[int]], *, now: datetime,
) -> QuizResult:
    """Score a quiz attempt, record it, and complete the module if everything is done.

    Every question needs an answer (ValidationFailed otherwise, nothing saved);
    a multiple-answer question is right only with exactly the right choices.
    Retakes are allowed: each attempt is recorded.
    """
    check_prerequisites(user, version.module, tenant)
    if not version.questions:
        raise NotFound("not found")
    results = []
    for question in version.questions:
        valid_ids = {c.id for c in question.choices}
        chosen = {int(c) for c in answers.get(question.id, ())} & valid_ids
        if not chosen or (question.kind is QuestionKind.SINGLE and len(chosen) != 1):
            raise ValidationFailed(_l("Répondez à toutes les questions."), field=f"q{question.id}")
        correct_ids = {c.id for c in question.choices if c.is_correct}
        results.append(QuestionResult(question, chosen, chosen == correct_ids))
    score = round(100 * sum(r.correct for r in results) / len(results))
    attempt = QuizAttempt(
        user_id=user.id, version_id=version.id, score=score, passed=score >= version.pass_mark,
        answers={str(r.question.id): sorted(r.chosen) for r in results}, submitted_at=now,
    )
    db.session.add(attempt)
    db.session.flush()
    completion = complete_if_done(user, version, tenant, now=now) if attempt.passed else None
    return QuizResult(attempt, results, completion)


def record_attendance(
    tenant: Tenant, user: User, module: Module, *, attended_on: date, recorded_by: User | None, now: datetime,
) -> InPersonAttendance:
    """Record that a member attended the in-person session of a module, and
    complete the module if that was the missing step.

    One record per person and module, whichever structure held the session: a
    volunteer of two structures who attends a shared module's session in both
    keeps the first record (the requirement is met once, anywhere).
    """
    queries.get_visible(Module, module.id, tenant)
    attendance = db.session.scalars(
        select(InPersonAttendance).where(
            InPersonAttendance.user_id == user.id, InPersonAttendance.module_id == module.id,
        )
    ).first()
    if attendance is None:
        attendance = InPersonAttendance(tenant_id=tenant.id, user_id=user.id, module_id=module.id,
                                        attended_on=attended_on, recorded_by_id=recorded_by.id if recorded_by else None,
                                        created_at=now)
        db.session.add(attendance)
        db.session.flush()
    version = queries.latest_published_version(module)
    if version is not None:
        complete_if_done(user, version, tenant, now=now)
    return attendance


def complete_if_done(user: User, version: ModuleVersion, tenant: Tenant, *, now: datetime) -> ModuleCompletion | None:
    """Complete the version if every lesson is read, the quiz passed and, when
    required, the in-person session attended. Completion grants the module's
    qualification, an attestation, and may complete paths."""
    existing = db.session.scalars(
        select(ModuleCompletion).where(ModuleCompletion.user_id == user.id, ModuleCompletion.version_id == version.id)
    ).first()
    if existing is not None:
        return existing
    progress = queries.module_progress(user, version)
    if progress.lessons_read < progress.lessons_total:
        return None
    if version.questions and not progress.passed_quiz:
        return None
    if version.requires_attendance and not queries.has_attended(user, version.module_id):
        return None
    completion = ModuleCompletion(user_id=user.id, version_id=version.id, module_id=version.module_id,
                                  tenant_id=tenant.id, completed_at=now)
    db.session.add(completion)
    db.session.flush()
    if version.qualification is not None:
        award(tenant, user, version.qualification, source=AwardSource.MODULE, now=now,
              module_version_id=version.id)
    issue_attestation(tenant, user, module_version=version, now=now)
    _complete_paths(user, version.module_id, tenant, now=now)
    return completion


def _complete_paths(user: User, module_id: int, tenant: Tenant, *, now: datetime) -> None:
    paths = db.session.scalars(
        queries.visible(Path, tenant)
        .join(PathStep, PathStep.path_id == Path.id)
        .where(PathStep.module_id == module_id, Path.status == CatalogueStatus.PUBLISHED)
    ).unique().all()
    for path in paths:
        if queries.path_completed(user, path):
            continue
        needed = {step.module_id for step in path.steps}
        if needed <= queries.completed_module_ids(user, list(needed)):
            db.session.add(PathCompletion(user_id=user.id, path_id=path.id, tenant_id=tenant.id, completed_at=now))
            db.session.flush()
            if path.qualification is not None:
                award(tenant, user, path.qualification, source=AwardSource.PATH, now=now, path_id=path.id)
            issue_attestation(tenant, user, path=path, now=now)


# --- qualifications -------------------------------------------------------------------


def expiry_for(qualification: Qualification, awarded_at: datetime) -> datetime | None:
    if qualification.validity_months is None:
        return None
    return awarded_at + relativedelta(months=qualification.validity_months)


def award(
    tenant: Tenant, user: User, qualification: Qualification, *, source: AwardSource, now: datetime,
    awarded_at: datetime | None = None, module_version_id: int | None = None, path_id: int | None = None,
    note: str | None = None, recorded_by: User | None = None,
) -> QualificationAward:
    awarded_at = awarded_at or now
    record = QualificationAward(
        tenant_id=tenant.id, user_id=user.id, qualification_id=qualification.id, source=source,
        module_version_id=module_version_id, path_id=path_id, awarded_at=awarded_at,
        expires_at=expiry_for(qualification, awarded_at), note=(note or "").strip() or None,
        recorded_by_id=recorded_by.id if recorded_by else None,
    )
    db.session.add(record)
    db.session.flush()
    return record


def record_external_qualification(
    tenant: Tenant, user: User, qualification: Qualification, *, obtained_on: datetime, note: str,
    recorded_by: User, now: datetime,
) -> QualificationAward:
    """A coordinator records a qualification obtained elsewhere (with a note)."""
    queries.get_visible(Qualification, qualification.id, tenant)
    if obtained_on > now:
        raise ValidationFailed(_l("La date d'obtention ne peut pas être dans le futur."), field="obtained_on")
    if not note.strip():
        raise ValidationFailed(_l("Précisez où et comment la qualification a été obtenue."), field="note")
    return award(tenant, user, qualification, source=AwardSource.EXTERNAL, now=now, awarded_at=obtained_on,
                 note=note, recorded_by=recorded_by)


def withdraw_award(award_: QualificationAward, *, reason: str, now: datetime) -> None:
    """Withdraw a qualification; attestations of the same achievement are withdrawn too."""
    if award_.withdrawn_at is not None:
        raise Conflict(_l("Cette qualification a déjà été retirée."))
    if not reason.strip():
        raise ValidationFailed(_l("Indiquez la raison du retrait."), field="reason")
    award_.withdrawn_at = now
    award_.withdrawal_reason = reason.strip()
    related = select(Attestation).where(Attestation.tenant_id == award_.tenant_id,
                                        Attestation.user_id == award_.user_id, Attestation.withdrawn_at.is_(None))
    if award_.module_version_id is not None:
        related = related.where(Attestation.module_version_id == award_.module_version_id)
    elif award_.path_id is not None:
        related = related.where(Attestation.path_id == award_.path_id)
    else:
        related = None
    if related is not None:
        for attestation in db.session.scalars(related):
            attestation.withdrawn_at = now
            attestation.withdrawal_reason = award_.withdrawal_reason
    db.session.flush()


def awards_needing_reminder(*, now: datetime) -> list[QualificationAward]:
    """Valid awards that expire within a month and whose holder was not reminded yet."""
    return list(db.session.scalars(
        select(QualificationAward)
        .where(
            QualificationAward.withdrawn_at.is_(None),
            QualificationAward.reminder_sent_at.is_(None),
            QualificationAward.expires_at.is_not(None),
            QualificationAward.expires_at > now,
            QualificationAward.expires_at <= now + REMINDER_BEFORE,
        )
        .order_by(QualificationAward.expires_at)
    ))


# --- attestations -----------------------------------------------------------------------


def new_attestation_code() -> str:
    """120 random bits in unambiguous upper-case base32 (no 0/O, 1/I confusion)."""
    return base64.b32encode(secrets.token_bytes(ATTESTATION_CODE_BYTES)).decode().rstrip("=")


def issue_attestation(
    tenant: Tenant, user: User, *, now: datetime, module_version: ModuleVersion | None = None,
    path: Path | None = None,
) -> Attestation:
    attestation = Attestation(
        tenant_id=tenant.id, code=new_attestation_code(), user_id=user.id,
        module_version_id=module_version.id if module_version else None,
        path_id=path.id if path else None, issued_at=now,
    )
    db.session.add(attestation)
    db.session.flush()
    return attestation


def withdraw_attestation(attestation: Attestation, *, reason: str, now: datetime) -> None:
    if attestation.withdrawn_at is not None:
        raise Conflict(_l("Cette attestation a déjà été retirée."))
    if not reason.strip():
        raise ValidationFailed(_l("Indiquez la raison du retrait."), field="reason")
    attestation.withdrawn_at = now
    attestation.withdrawal_reason = reason.strip()
    db.session.flush()


def attestation_by_code(code: str) -> Attestation:
    normalised = "".join(code.split()).replace("-", "").upper()
    attestation = db.session.scalars(select(Attestation).where(Attestation.code == normalised)).one_or_none()
    if attestation is None:
        raise NotFound("not found")
    return attestation


# --- authoring: lesson resources, drafts and paths (authoring pages) ------------------

RESOURCE_MAX_BYTES = 5 * 1024 * 1024
RESOURCE_TYPES = {
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".txt": "text/plain",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


def _content_matches(extension: str, data: bytes) -> bool:
    """Does the content look like what the file name says? (a renamed program does not)"""
    if extension == ".pdf":
        return data.startswith(b"%PDF-")
    if extension == ".png":
        return data.startswith(b"\x89PNG\r\n\x1a\n")
    if extension in (".jpg", ".jpeg"):
        return data.startswith(b"\xff\xd8\xff")
    if extension in (".odt", ".docx"):
        return data.startswith(b"PK\x03\x04")  # both are zip archives
    if extension == ".txt":
        return b"\x00" not in data
    return False


def add_resource(
    lesson: Lesson, tenant: Tenant | None, *, title: str, filename: str, data: bytes,
) -> LessonResource:
    """Attach a downloadable file to a lesson of a draft.

    Accepted: PDF, PNG or JPEG images, plain text, ODT or DOCX documents, up to
    5 MB, checked on the content as well as the name. Raises ValidationFailed
    (field ``file``) otherwise.
    """
    check_can_author(lesson.version.module.tenant_id, tenant)
    _require_draft(lesson.version)
    name = "".join(ch for ch in filename.replace("\\", "/").rsplit("/", 1)[-1] if ch.isprintable()).strip()
    extension = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if not data:
        raise ValidationFailed(_l("Le fichier est vide."), field="file")
    if len(data) > RESOURCE_MAX_BYTES:
        raise ValidationFailed(
            _l("Le fichier dépasse la taille maximale de 5 Mo. Réduisez-le puis réessayez."), field="file"
        )
    content_type = RESOURCE_TYPES.get(extension)
    if content_type is None or not _content_matches(extension, data):
        raise ValidationFailed(
            _l("Ce type de fichier n'est pas accepté. Formats possibles : PDF, image PNG ou JPEG, "
               "texte (.txt), document ODT ou DOCX."),
            field="file",
        )
    if len(name) > 200:
        name = name[: 200 - len(extension)] + extension
    resource = LessonResource(title=(title.strip() or name)[:200], filename=name, content_type=content_type,
                              size=len(data), data=data)
    lesson.resources.append(resource)
    db.session.flush()
    return resource


def delete_resource(resource: LessonResource, tenant: Tenant | None) -> None:
    check_can_author(resource.lesson.version.module.tenant_id, tenant)
    _require_draft(resource.lesson.version)
    resource.lesson.resources.remove(resource)
    db.session.flush()


def discard_draft(module: Module, tenant: Tenant | None) -> None:
    """Drop the draft of a module that has a published version (the published
    one stays as it is). A module never published keeps its only draft."""
    check_can_author(module.tenant_id, tenant)
    draft = queries.draft_version(module)
    if draft is None:
        raise Conflict(_l("Il n'y a pas de brouillon à abandonner."))
    if queries.latest_published_version(module) is None:
        raise Conflict(_l("Ce module n'a jamais été publié : son brouillon est sa seule version."))
    db.session.delete(draft)
    db.session.flush()


def update_path(
    path: Path, tenant: Tenant | None, *, title: str, description: str = "", qualification_id: int | None = None,
) -> None:
    check_can_author(path.tenant_id, tenant)
    if not title.strip():
        raise ValidationFailed(_l("Le titre est obligatoire."), field="title")
    if qualification_id is not None:
        queries.get_visible(Qualification, qualification_id, tenant)
    path.title = title.strip()
    path.description = description.strip()
    path.qualification_id = qualification_id
    db.session.flush()


def set_path_status(path: Path, tenant: Tenant | None, status: CatalogueStatus) -> None:
    """Publish, archive or bring back a path to draft.

    A path is published only when every module in it is published (learners
    could not follow it otherwise). Completions and attestations of an archived
    path stay valid.
    """
    check_can_author(path.tenant_id, tenant)
    status = CatalogueStatus(status)
    if status is CatalogueStatus.PUBLISHED:
        if not path.steps:
            raise ValidationFailed(_l("Choisissez au moins un module avant de publier."))
        waiting = [step.module for step in path.steps if step.module.status is not CatalogueStatus.PUBLISHED]
        if waiting:
            titles = ", ".join(
                (queries.latest_published_version(m) or m.versions[-1]).title for m in waiting
            )
            raise Conflict(_l("Ces modules ne sont pas publiés : %(titles)s.", titles=titles))
    path.status = status
    db.session.flush()


# --- onboarding: the default path on joining (appended by the coordination pages) -------------


@member_joined.connect
def give_default_path_on_join(
    tenant: Tenant, *, user: User, membership: Membership, now: datetime, **_extra: object,
) -> Assignment | None:
    """A person who joins a structure as a volunteer gets its default path.

    Connected to ``signals.member_joined`` (sent by ``auth.services.accept_invitation``).
    The default path is "given to every new volunteer" (issue 3): coordinators
    and trainers who join are not assigned it. Runs inside the joining
    transaction. A training refusal must never stop someone from joining: a
    ``DomainError`` (raised by ``assign`` before it writes anything) is logged
    and the person joins without the path.
    """
    if membership.role is not Role.VOLUNTEER:
        return None
    try:
        return assign_default_path(tenant, user, now=now)
    except DomainError as error:
        _log.warning("default path not assigned to user %s in tenant %s: %s", user.id, tenant.id, error.message)
        return None
