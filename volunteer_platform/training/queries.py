"""Reads of the training domain: what a structure may see, and progress summaries.

Visibility is the tenancy rule of this package: a structure sees the shared
catalogue (``tenant_id IS NULL``) and its own rows, never another structure's.
Every read of modules, paths and qualifications goes through ``visible()``.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import Select, and_, func, literal, or_, select, union_all
from sqlalchemy import null as sa_null
from sqlalchemy.orm import contains_eager, joinedload, selectinload, undefer

from volunteer_platform.auth.models import User
from volunteer_platform.errors import NotFound
from volunteer_platform.extensions import db
from volunteer_platform.tenants.models import Membership, Role, Tenant
from volunteer_platform.training.models import (
    Assignment,
    Attestation,
    CatalogueStatus,
    InPersonAttendance,
    Lesson,
    LessonProgress,
    LessonResource,
    Module,
    ModuleCompletion,
    ModuleVersion,
    Path,
    PathCompletion,
    PathStep,
    Qualification,
    QualificationAward,
    Question,
    QuizAttempt,
)

T = TypeVar("T", Module, Path, Qualification)


def visible(model: type[T], tenant: Tenant | None) -> Select[tuple[T]]:
    """Rows of ``model`` that ``tenant`` may see: shared ones and its own.

    ``tenant=None`` is the association's own view: the shared catalogue only.
    """
    if tenant is None:
        return select(model).where(model.tenant_id.is_(None))
    return select(model).where(or_(model.tenant_id.is_(None), model.tenant_id == tenant.id))


def get_visible(model: type[T], ident: Any, tenant: Tenant | None) -> T:
    try:
        ident = int(ident)
    except (TypeError, ValueError):
        raise NotFound("not found") from None
    row = db.session.scalars(visible(model, tenant).where(model.id == ident)).one_or_none()
    if row is None:
        raise NotFound("not found")
    return row


def latest_published_version(module: Module) -> ModuleVersion | None:
    return db.session.scalars(
        select(ModuleVersion)
        .where(ModuleVersion.module_id == module.id, ModuleVersion.published_at.is_not(None))
        .order_by(ModuleVersion.number.desc())
        .limit(1)
    ).first()


def draft_version(module: Module) -> ModuleVersion | None:
    return db.session.scalars(
        select(ModuleVersion).where(
            ModuleVersion.module_id == module.id, ModuleVersion.published_at.is_(None)
        )
    ).first()


def _current_versions_subquery() -> Any:
    """(module_id, version_id) of each module's latest published version."""
    latest = (
        select(ModuleVersion.module_id, func.max(ModuleVersion.number).label("number"))
        .where(ModuleVersion.published_at.is_not(None))
        .group_by(ModuleVersion.module_id)
        .subquery()
    )
    return (
        select(ModuleVersion.module_id, ModuleVersion.id.label("version_id"))
        .join(latest, and_(latest.c.module_id == ModuleVersion.module_id,
                           latest.c.number == ModuleVersion.number))
        .subquery()
    )


def published_catalogue(tenant: Tenant | None) -> list[ModuleVersion]:
    """The current version of every published module the structure sees, by
    title (for None, the association: the shared catalogue only)."""
    current = _current_versions_subquery()
    stmt = (
        select(ModuleVersion)
        .join(current, current.c.version_id == ModuleVersion.id)
        .join(Module, Module.id == ModuleVersion.module_id)
        .where(Module.status == CatalogueStatus.PUBLISHED)
        .where(visible(Module, tenant).whereclause)
        .options(selectinload(ModuleVersion.module))
        .order_by(ModuleVersion.title)
    )
    return list(db.session.scalars(stmt))


@dataclass
class ModuleProgress:
    """Where a person stands in one module version."""

    version: ModuleVersion
    lessons_total: int
    lessons_read: int
    read_lesson_ids: set[int] = field(default_factory=set)
    best_score: int | None = None
    passed_quiz: bool = False
    completed_at: datetime | None = None  # of any version of the module

    @property
    def percent(self) -> int:
        steps = self.lessons_total + (1 if self.version.questions else 0)
        if self.completed_at is not None or steps == 0:
            return 100 if self.completed_at is not None else 0
        done = self.lessons_read + (1 if self.passed_quiz else 0)
        return round(100 * done / steps)

    @property
    def started(self) -> bool:
        return self.lessons_read > 0 or self.best_score is not None

    def next_lesson(self) -> Lesson | None:
        """Where to resume: the first lesson not read yet."""
        for lesson in self.version.lessons:
            if lesson.id not in self.read_lesson_ids:
                return lesson
        return None


def module_progress(user: User, version: ModuleVersion) -> ModuleProgress:
    """Progress in a version, in a fixed number of queries whatever its size."""
    lesson_ids = [lesson.id for lesson in version.lessons]
    read = set(
        db.session.scalars(
            select(LessonProgress.lesson_id).where(
                LessonProgress.user_id == user.id, LessonProgress.lesson_id.in_(lesson_ids)
            )
        )
    ) if lesson_ids else set()
    # The best attempt at this version's quiz and the first completion of any
    # version, in one statement (two scalar subqueries).
    attempts = select(QuizAttempt.score, QuizAttempt.passed).where(
        QuizAttempt.user_id == user.id, QuizAttempt.version_id == version.id
    ).subquery()
    best_score, passed, completed_at = db.session.execute(select(
        select(func.max(attempts.c.score)).scalar_subquery(),
        select(func.max(attempts.c.passed.cast(db.Integer))).scalar_subquery(),
        select(func.min(ModuleCompletion.completed_at)).where(
            ModuleCompletion.user_id == user.id, ModuleCompletion.module_id == version.module_id
        ).scalar_subquery(),
    )).one()
    return ModuleProgress(
        version=version,
        lessons_total=len(lesson_ids),
        lessons_read=len(read),
        read_lesson_ids=read,
        best_score=best_score,
        passed_quiz=bool(passed),
        completed_at=completed_at,
    )


def completed_module_ids(user: User, module_ids: list[int] | None = None) -> set[int]:
    stmt = select(ModuleCompletion.module_id).where(ModuleCompletion.user_id == user.id)
    if module_ids is not None:
        stmt = stmt.where(ModuleCompletion.module_id.in_(module_ids))
    return set(db.session.scalars(stmt))


def assigned_paths(user: User, tenant: Tenant) -> list[Path]:
    """Paths assigned to the person by this structure."""
    stmt = (
        select(Path)
        .join(Assignment, Assignment.path_id == Path.id)
        .where(Assignment.user_id == user.id, Assignment.tenant_id == tenant.id)
        .options(selectinload(Path.steps))
        .order_by(Path.title)
    )
    return list(db.session.scalars(stmt).unique())


def missing_prerequisites(user: User, module: Module, tenant: Tenant) -> list[Module]:
    """Modules to complete before this one, from the paths the person follows here.

    In a path, each module requires the ones before it. A module the person
    takes outside any assigned path has no prerequisite.
    """
    paths = [p for p in assigned_paths(user, tenant) if any(s.module_id == module.id for s in p.steps)]
    required: list[int] = []
    for path in paths:
        for step in path.steps:
            if step.module_id == module.id:
                break
            required.append(step.module_id)
    if not required:
        return []
    done = completed_module_ids(user, required)
    missing_ids = [m for m in dict.fromkeys(required) if m not in done]
    if not missing_ids:
        return []
    modules = {m.id: m for m in db.session.scalars(select(Module).where(Module.id.in_(missing_ids)))}
    return [modules[i] for i in missing_ids]


def holds_qualification(user_id: int, qualification_id: int, at: datetime) -> bool:
    """Does the person hold the qualification at ``at``? (valid, not withdrawn, not expired)

    This is the rule scheduling uses to let someone sign up for a shift that
    requires a qualification.
    """
    stmt = select(QualificationAward.id).where(
        QualificationAward.user_id == user_id,
        QualificationAward.qualification_id == qualification_id,
        QualificationAward.withdrawn_at.is_(None),
        QualificationAward.awarded_at <= at,
        or_(QualificationAward.expires_at.is_(None), QualificationAward.expires_at > at),
    ).limit(1)
    return db.session.scalars(stmt).first() is not None


def awards_of(user: User, tenant: Tenant | None = None) -> list[QualificationAward]:
    stmt = (
        select(QualificationAward)
        .where(QualificationAward.user_id == user.id)
        .options(selectinload(QualificationAward.qualification))
        .order_by(QualificationAward.awarded_at.desc())
    )
    if tenant is not None:
        stmt = stmt.where(QualificationAward.tenant_id == tenant.id)
    return list(db.session.scalars(stmt))


def path_completed(user: User, path: Path) -> bool:
    return db.session.scalars(
        select(PathCompletion.id).where(PathCompletion.user_id == user.id, PathCompletion.path_id == path.id)
    ).first() is not None


# --- coordination: the members × modules matrix and one person's training ---------------
# (each read runs a fixed number of queries)


@dataclass(frozen=True)
class MatrixCell:
    """Where one person stands in one module, as a coordinator sees it.

    ``completed_at`` is the first completion of any version of the module;
    ``percent`` and ``started`` are measured on the current published version,
    as the learner's own pages do (see ``ModuleProgress``). ``assigned`` and
    ``due_on`` cover the module asked directly and through an assigned path.
    """

    completed_at: datetime | None = None
    percent: int = 0
    started: bool = False
    best_score: int | None = None
    assigned: bool = False
    due_on: date | None = None

    @property
    def state(self) -> str:
        """"completed", "in_progress", "assigned" or "not_started"."""
        if self.completed_at is not None:
            return "completed"
        if self.started:
            return "in_progress"
        if self.assigned:
            return "assigned"
        return "not_started"


NOT_STARTED = MatrixCell()


@dataclass
class ProgressMatrix:
    cells: dict[tuple[int, int], MatrixCell] = field(default_factory=dict)

    def cell(self, user_id: int, module_id: int) -> MatrixCell:
        return self.cells.get((user_id, module_id), NOT_STARTED)

    def assigned_module_ids(self) -> set[int]:
        return {module_id for (_user, module_id), cell in self.cells.items() if cell.assigned}


def progress_matrix(tenant: Tenant, *, module_ids: list[int], user_ids: list[int]) -> ProgressMatrix:
    """Progress of ``user_ids`` in ``module_ids``, aggregated in SQL: five
    queries whatever the number of people and modules (none when either list
    is empty).

    Modules the structure may not see are left out (their cells read "not
    started"); assignments are this structure's only.
    """
    module_ids, user_ids = list(dict.fromkeys(module_ids)), list(dict.fromkeys(user_ids))
    if not module_ids or not user_ids:
        return ProgressMatrix()
    current = _current_versions_subquery()
    lesson_count = (
        select(func.count(Lesson.id)).where(Lesson.version_id == current.c.version_id).scalar_subquery()
    )
    question_count = (
        select(func.count(Question.id)).where(Question.version_id == current.c.version_id).scalar_subquery()
    )
    # 1. The current version of each module, with its number of lessons and questions.
    versions = {
        module_id: (version_id, lessons, questions)
        for module_id, version_id, lessons, questions in db.session.execute(
            select(current.c.module_id, current.c.version_id, lesson_count, question_count)
            .join(Module, Module.id == current.c.module_id)
            .where(current.c.module_id.in_(module_ids))
            .where(or_(Module.tenant_id.is_(None), Module.tenant_id == tenant.id))
        )
    }
    if not versions:
        return ProgressMatrix()
    module_ids = list(versions)
    module_of_version = {version_id: module_id for module_id, (version_id, _l, _q) in versions.items()}
    # 2. Lessons read per person in each current version.
    read = {
        (user_id, module_of_version[version_id]): count
        for user_id, version_id, count in db.session.execute(
            select(LessonProgress.user_id, Lesson.version_id, func.count(LessonProgress.id))
            .join(Lesson, Lesson.id == LessonProgress.lesson_id)
            .where(LessonProgress.user_id.in_(user_ids), Lesson.version_id.in_(list(module_of_version)))
            .group_by(LessonProgress.user_id, Lesson.version_id)
        )
    }
    # 3. Quiz attempts per person and version: best score (any version) and
    #    whether the current version's quiz was passed or tried.
    best_score: dict[tuple[int, int], int] = {}
    tried_current: set[tuple[int, int]] = set()
    passed_current: set[tuple[int, int]] = set()
    for user_id, module_id, version_id, score, passed in db.session.execute(
        select(QuizAttempt.user_id, ModuleVersion.module_id, QuizAttempt.version_id,
               func.max(QuizAttempt.score), func.max(QuizAttempt.passed.cast(db.Integer)))
        .join(ModuleVersion, ModuleVersion.id == QuizAttempt.version_id)
        .where(QuizAttempt.user_id.in_(user_ids), ModuleVersion.module_id.in_(module_ids))
        .group_by(QuizAttempt.user_id, ModuleVersion.module_id, QuizAttempt.version_id)
    ):
        key = (user_id, module_id)
        best_score[key] = max(score, best_score.get(key, score))
        if module_of_version.get(version_id) == module_id:
            tried_current.add(key)
            if passed:
                passed_current.add(key)
    # 4. First completion of any version of each module.
    completed = {
        (user_id, module_id): at
        for user_id, module_id, at in db.session.execute(
            select(ModuleCompletion.user_id, ModuleCompletion.module_id, func.min(ModuleCompletion.completed_at))
            .where(ModuleCompletion.user_id.in_(user_ids), ModuleCompletion.module_id.in_(module_ids))
            .group_by(ModuleCompletion.user_id, ModuleCompletion.module_id)
        )
    }
    # 5. This structure's assignments, of the module itself or of a path containing it;
    #    the earliest due date wins.
    assigned_module = func.coalesce(Assignment.module_id, PathStep.module_id)
    assigned = {
        (user_id, module_id): due_on
        for user_id, module_id, due_on in db.session.execute(
            select(Assignment.user_id, assigned_module, func.min(Assignment.due_on))
            .outerjoin(PathStep, PathStep.path_id == Assignment.path_id)
            .where(Assignment.tenant_id == tenant.id, Assignment.user_id.in_(user_ids),
                   assigned_module.in_(module_ids))
            .group_by(Assignment.user_id, assigned_module)
        )
    }
    cells: dict[tuple[int, int], MatrixCell] = {}
    for key in set(read) | set(best_score) | set(completed) | set(assigned):
        _user_id, module_id = key
        _version_id, lessons, questions = versions[module_id]
        lessons_read = read.get(key, 0)
        steps = lessons + (1 if questions else 0)
        if key in completed:
            percent = 100
        elif steps:
            percent = round(100 * (lessons_read + (1 if key in passed_current else 0)) / steps)
        else:
            percent = 0
        cells[key] = MatrixCell(
            completed_at=completed.get(key),
            percent=percent,
            started=lessons_read > 0 or key in tried_current,
            best_score=best_score.get(key),
            assigned=key in assigned,
            due_on=assigned.get(key),
        )
    return ProgressMatrix(cells)


def matrix_members(
    tenant: Tenant, *, role: Role | None = None, site_id: int | None = None, search: str = "",
) -> list[Membership]:
    """Active members of the structure, by name, with their account and home site
    (one query). ``search`` matches the name or e-mail address, ignoring case and
    accents — compared in Python, as SQLite's lower() folds ASCII only."""
    stmt = (
        select(Membership)
        .where(Membership.tenant_id == tenant.id, Membership.is_active.is_(True))
        .join(User, User.id == Membership.user_id)
        .options(joinedload(Membership.user), joinedload(Membership.site))
        .order_by(func.lower(User.full_name), User.id)
    )
    if role is not None:
        stmt = stmt.where(Membership.role == role)
    if site_id is not None:
        stmt = stmt.where(Membership.site_id == site_id)
    members = list(db.session.scalars(stmt).unique())
    needle = _folded(search)
    if needle:
        members = [m for m in members if needle in _folded(m.user.full_name) or needle in _folded(m.user.email)]
    return members


def _folded(text: str | None) -> str:
    decomposed = unicodedata.normalize("NFKD", (text or "").strip().casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@dataclass
class PathProgress:
    path: Path
    modules_done: int
    completed_at: datetime | None
    due_on: date | None

    @property
    def modules_total(self) -> int:
        return len(self.path.steps)

    @property
    def percent(self) -> int:
        if self.completed_at is not None:
            return 100
        return round(100 * self.modules_done / self.modules_total) if self.modules_total else 0


@dataclass
class PersonTraining:
    """One member's training in a structure, for the coordinator's page."""

    modules: list[tuple[ModuleVersion, MatrixCell]]  # started, completed or assigned; by title
    paths: list[PathProgress]
    awards: list[QualificationAward]
    award_sources: dict[int, str]  # award id -> title of the module version or path
    attestations: list[Attestation]
    attended_module_ids: set[int]
    attendance_versions: list[ModuleVersion]  # published modules requiring an in-person session
    versions: list[ModuleVersion] = field(default_factory=list)  # every current version seen, by title


def person_training(tenant: Tenant, user: User) -> PersonTraining:
    """Everything the person page shows, in a fixed number of queries.

    Modules and paths are the ones the structure sees (shared or its own);
    qualifications, attestations and attendance are the ones this structure
    recorded — another structure's records about the person stay private.
    """
    versions = _person_versions(tenant)
    matrix = progress_matrix(tenant, module_ids=[v.module_id for v in versions], user_ids=[user.id])
    modules = [(v, matrix.cell(user.id, v.module_id)) for v in versions]
    modules = [(v, cell) for v, cell in modules if cell.state != "not_started"]
    attendance_versions = [
        v for v in versions if v.requires_attendance and v.module.status is CatalogueStatus.PUBLISHED
    ]
    completed_modules = {v.module_id for v, cell in modules if cell.completed_at is not None}

    path_rows = _assigned_paths(tenant, user)
    path_completions = dict(db.session.execute(
        select(PathCompletion.path_id, PathCompletion.completed_at).where(PathCompletion.user_id == user.id)
    ).all())
    paths = [
        PathProgress(
            path=path,
            modules_done=sum(1 for step in path.steps if step.module_id in completed_modules),
            completed_at=path_completions.get(path.id),
            due_on=due_on,
        )
        for path, due_on in path_rows
    ]

    awards = list(db.session.scalars(
        select(QualificationAward)
        .where(QualificationAward.tenant_id == tenant.id, QualificationAward.user_id == user.id)
        .options(selectinload(QualificationAward.qualification))
        .order_by(QualificationAward.awarded_at.desc(), QualificationAward.id.desc())
    ))
    attestations = list(db.session.scalars(
        select(Attestation)
        .where(Attestation.tenant_id == tenant.id, Attestation.user_id == user.id)
        .options(selectinload(Attestation.module_version), selectinload(Attestation.path))
        .order_by(Attestation.issued_at.desc(), Attestation.id.desc())
    ))
    version_ids = {a.module_version_id for a in awards if a.module_version_id is not None}
    path_ids = {a.path_id for a in awards if a.path_id is not None}
    version_titles = dict(db.session.execute(
        select(ModuleVersion.id, ModuleVersion.title).where(ModuleVersion.id.in_(version_ids))
    ).all()) if version_ids else {}
    path_titles = dict(db.session.execute(
        select(Path.id, Path.title).where(Path.id.in_(path_ids))
    ).all()) if path_ids else {}
    award_sources = {}
    for award in awards:
        if award.module_version_id is not None:
            award_sources[award.id] = version_titles.get(award.module_version_id, "")
        elif award.path_id is not None:
            award_sources[award.id] = path_titles.get(award.path_id, "")
    attended = set(db.session.scalars(
        select(InPersonAttendance.module_id).where(
            InPersonAttendance.tenant_id == tenant.id, InPersonAttendance.user_id == user.id
        )
    ))
    return PersonTraining(modules=modules, paths=paths, awards=awards, award_sources=award_sources,
                          attestations=attestations, attended_module_ids=attended,
                          attendance_versions=attendance_versions, versions=versions)


@dataclass
class LearnerStanding:
    """What decides a person's next step in a structure (the home's "what's
    next"): the facts of ``person_training``'s cells that the choice reads,
    without percentages, scores or records, in four queries."""

    versions: list[ModuleVersion]  # the current version of every non-draft module seen, by title
    started: set[int]  # modules whose current version has a lesson read or its quiz tried
    completed: set[int]  # modules (among those seen) completed in any version
    assigned: dict[int, date | None]  # modules (seen) asked here, directly or by a path: earliest due date
    paths: list[tuple[Path, date | None]]  # paths asked here, with their steps and earliest due date, by title


def _person_versions(tenant: Tenant) -> list[ModuleVersion]:
    """The current version of every non-draft module the structure sees, module loaded, by title."""
    current = _current_versions_subquery()
    return list(db.session.scalars(
        select(ModuleVersion)
        .join(current, current.c.version_id == ModuleVersion.id)
        .join(Module, Module.id == ModuleVersion.module_id)
        .where(Module.status != CatalogueStatus.DRAFT)
        .where(or_(Module.tenant_id.is_(None), Module.tenant_id == tenant.id))
        .options(contains_eager(ModuleVersion.module))  # from the join above: no second query
        .order_by(ModuleVersion.title, ModuleVersion.id)
    ))


def _assigned_paths(tenant: Tenant, user: User) -> list[tuple[Path, date | None]]:
    """Paths this structure asked the person to follow (that it sees), with their steps
    and earliest due date, by title (two queries)."""
    return [tuple(row) for row in db.session.execute(
        select(Path, func.min(Assignment.due_on))
        .join(Assignment, Assignment.path_id == Path.id)
        .where(Assignment.user_id == user.id, Assignment.tenant_id == tenant.id)
        .where(or_(Path.tenant_id.is_(None), Path.tenant_id == tenant.id))
        .group_by(Path.id)
        .options(selectinload(Path.steps))
        .order_by(Path.title)
    ).all()]


def learner_standing(tenant: Tenant, user: User) -> LearnerStanding:
    """A person's standing in the modules the structure sees, by the same rules
    as ``progress_matrix`` (started: on the current version; completed: any
    version; assigned: this structure's assignments, of the module or of a
    path containing it), in four queries whatever the catalogue's size."""
    versions = _person_versions(tenant)
    module_of_version = {v.id: v.module_id for v in versions}
    module_ids = list(module_of_version.values())
    started: set[int] = set()
    completed: set[int] = set()
    assigned: dict[int, date | None] = {}
    if versions:
        # One statement for the three facts: (kind, id, due date) rows.
        no_date = sa_null().cast(db.Date)
        assigned_module = func.coalesce(Assignment.module_id, PathStep.module_id)
        facts = union_all(
            select(literal(1).label("kind"), Lesson.version_id.label("ident"), no_date.label("due_on"))
            .join(LessonProgress, LessonProgress.lesson_id == Lesson.id)
            .where(LessonProgress.user_id == user.id, Lesson.version_id.in_(list(module_of_version)))
            .group_by(Lesson.version_id),
            select(literal(2), QuizAttempt.version_id, no_date)
            .where(QuizAttempt.user_id == user.id, QuizAttempt.version_id.in_(list(module_of_version)))
            .group_by(QuizAttempt.version_id),
            select(literal(3), ModuleCompletion.module_id, no_date)
            .where(ModuleCompletion.user_id == user.id, ModuleCompletion.module_id.in_(module_ids))
            .group_by(ModuleCompletion.module_id),
            select(literal(4), assigned_module, func.min(Assignment.due_on))
            .outerjoin(PathStep, PathStep.path_id == Assignment.path_id)
            .where(Assignment.tenant_id == tenant.id, Assignment.user_id == user.id,
                   assigned_module.in_(module_ids))
            .group_by(assigned_module),
        )
        for kind, ident, due_on in db.session.execute(facts):
            if kind in (1, 2):
                started.add(module_of_version[ident])
            elif kind == 3:
                completed.add(ident)
            else:
                assigned[ident] = due_on
    return LearnerStanding(versions=versions, started=started, completed=completed, assigned=assigned,
                           paths=_assigned_paths(tenant, user))


# --- authoring ---------------------------------------------------------------------------


def owned(model: type[T], owner: Tenant | None) -> Select[tuple[T]]:
    """Rows of ``model`` in ``owner``'s own catalogue (the shared one for None):
    what ``owner`` may author, unlike ``visible`` which adds the shared rows."""
    if owner is None:
        return select(model).where(model.tenant_id.is_(None))
    return select(model).where(model.tenant_id == owner.id)


def authored_modules(owner: Tenant | None) -> list[Module]:
    """``owner``'s own modules with all their versions (two queries)."""
    stmt = owned(Module, owner).options(selectinload(Module.versions)).order_by(Module.created_at.desc())
    return list(db.session.scalars(stmt))


# --- learner pages (fixed numbers of queries) ----------------------------------------------


def current_versions(module_ids: list[int]) -> dict[int, ModuleVersion]:
    """The latest published version of each module, by module id (one query)."""
    ids = list(dict.fromkeys(module_ids))
    if not ids:
        return {}
    current = _current_versions_subquery()
    stmt = (
        select(ModuleVersion)
        .join(current, current.c.version_id == ModuleVersion.id)
        .where(ModuleVersion.module_id.in_(ids))
    )
    return {version.module_id: version for version in db.session.scalars(stmt)}


def with_quiz(version: ModuleVersion) -> ModuleVersion:
    """Load a version's questions with their choices (two queries, whatever their number)."""
    return db.session.scalars(
        select(ModuleVersion)
        .where(ModuleVersion.id == version.id)
        .options(selectinload(ModuleVersion.questions).selectinload(Question.choices))
    ).one()


def has_attended(user: User, module_id: int) -> bool:
    """Was the person's attendance at the module's in-person session recorded?
    (in any structure, as completion counts it — see ``services.complete_if_done``)"""
    return db.session.scalars(
        select(InPersonAttendance.id).where(
            InPersonAttendance.user_id == user.id, InPersonAttendance.module_id == module_id
        ).limit(1)
    ).first() is not None


def module_attestation(user: User, module: Module, tenant: Tenant) -> Attestation | None:
    """The person's latest attestation for any version of the module, issued by this structure."""
    return db.session.scalars(
        select(Attestation)
        .join(ModuleVersion, ModuleVersion.id == Attestation.module_version_id)
        .where(Attestation.tenant_id == tenant.id, Attestation.user_id == user.id,
               ModuleVersion.module_id == module.id)
        .order_by(Attestation.withdrawn_at.is_not(None), Attestation.issued_at.desc(), Attestation.id.desc())
        .limit(1)
    ).first()


def last_module_touched(user: User, module_ids: list[int]) -> int | None:
    """Among ``module_ids``, the module where the person last read a lesson or took the quiz."""
    if not module_ids:
        return None
    read = (
        select(ModuleVersion.module_id.label("module_id"), LessonProgress.completed_at.label("at"))
        .join(Lesson, Lesson.version_id == ModuleVersion.id)
        .join(LessonProgress, LessonProgress.lesson_id == Lesson.id)
        .where(LessonProgress.user_id == user.id, ModuleVersion.module_id.in_(module_ids))
    )
    tried = (
        select(ModuleVersion.module_id.label("module_id"), QuizAttempt.submitted_at.label("at"))
        .join(QuizAttempt, QuizAttempt.version_id == ModuleVersion.id)
        .where(QuizAttempt.user_id == user.id, ModuleVersion.module_id.in_(module_ids))
    )
    both = read.union_all(tried).subquery()
    return db.session.scalars(
        select(both.c.module_id).order_by(both.c.at.desc(), both.c.module_id).limit(1)
    ).first()


def visible_resource(resource_id: Any, tenant: Tenant) -> LessonResource:
    """A lesson's file with its content, if the lesson is in a published version
    of a published module the structure sees (never a draft's file). NotFound otherwise."""
    try:
        ident = int(resource_id)
    except (TypeError, ValueError):
        raise NotFound("not found") from None
    resource = db.session.scalars(
        select(LessonResource)
        .join(Lesson, Lesson.id == LessonResource.lesson_id)
        .join(ModuleVersion, ModuleVersion.id == Lesson.version_id)
        .join(Module, Module.id == ModuleVersion.module_id)
        .where(LessonResource.id == ident, ModuleVersion.published_at.is_not(None),
               Module.status == CatalogueStatus.PUBLISHED,
               or_(Module.tenant_id.is_(None), Module.tenant_id == tenant.id))
        .options(undefer(LessonResource.data))
    ).one_or_none()
    if resource is None:
        raise NotFound("not found")
    return resource


def own_attempt(user: User, attempt_id: int) -> QuizAttempt:
    """One of the person's own quiz attempts (NotFound for anybody else's)."""
    attempt = db.session.scalars(
        select(QuizAttempt).where(QuizAttempt.id == attempt_id, QuizAttempt.user_id == user.id)
    ).one_or_none()
    if attempt is None:
        raise NotFound("not found")
    return attempt

