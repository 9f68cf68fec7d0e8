"""Reads of the training domain: what a structure may see, and progress summaries.

Visibility is the tenancy rule of this package: a structure sees the shared
catalogue (``tenant_id IS NULL``) and its own rows, never another structure's.
Every read of modules, paths and qualifications goes through ``visible()``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import selectinload

from volunteer_platform.auth.models import User
from volunteer_platform.errors import NotFound
from volunteer_platform.extensions import db
from volunteer_platform.tenants.models import Tenant
from volunteer_platform.training.models import (
    Assignment,
    CatalogueStatus,
    Lesson,
    LessonProgress,
    Module,
    ModuleCompletion,
    ModuleVersion,
    Path,
    PathCompletion,
    PathStep,
    Qualification,
    QualificationAward,
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


def published_catalogue(tenant: Tenant) -> list[ModuleVersion]:
    """The current version of every published module the structure sees, by title."""
    current = _current_versions_subquery()
    stmt = (
        select(ModuleVersion)
        .join(current, current.c.version_id == ModuleVersion.id)
        .join(Module, Module.id == ModuleVersion.module_id)
        .where(Module.status == CatalogueStatus.PUBLISHED)
        .where(or_(Module.tenant_id.is_(None), Module.tenant_id == tenant.id))
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
    best = db.session.execute(
        select(func.max(QuizAttempt.score), func.max(QuizAttempt.passed.cast(db.Integer)))
        .where(QuizAttempt.user_id == user.id, QuizAttempt.version_id == version.id)
    ).one()
    completed_at = db.session.scalar(
        select(func.min(ModuleCompletion.completed_at)).where(
            ModuleCompletion.user_id == user.id, ModuleCompletion.module_id == version.module_id
        )
    )
    return ModuleProgress(
        version=version,
        lessons_total=len(lesson_ids),
        lessons_read=len(read),
        read_lesson_ids=read,
        best_score=best[0],
        passed_quiz=bool(best[1]),
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
