"""Training: the module catalogue and its versions, lessons and quizzes,
learning paths, progress, qualifications and attestations.

Ownership: a module, path or qualification with ``tenant_id`` NULL belongs to
the association's shared catalogue, visible to every structure; otherwise it
belongs to that structure alone (see ``training.queries.visible``). Lessons,
questions and choices belong to a module version and are reached only through
it. Records about a person (progress, attempts, completions) belong to the
person, across structures; awards, attestations, assignments and attendance
belong to the structure that issued them (``TenantScoped``).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from volunteer_platform.auth.models import User
from volunteer_platform.db import TenantScoped, enum_column, tenant_table_args, utcnow
from volunteer_platform.extensions import db


class CompetenceArea(enum.StrEnum):
    """The five areas of DigComp 2.2, which the French Pix framework follows."""

    INFORMATION = "information"
    COMMUNICATION = "communication"
    CONTENT_CREATION = "content_creation"
    SAFETY = "safety"
    PROBLEM_SOLVING = "problem_solving"

    @property
    def label(self) -> str:
        return str(COMPETENCE_AREA_LABELS[self])


COMPETENCE_AREA_LABELS = {
    CompetenceArea.INFORMATION: _l("Information et données"),
    CompetenceArea.COMMUNICATION: _l("Communication et collaboration"),
    CompetenceArea.CONTENT_CREATION: _l("Création de contenu"),
    CompetenceArea.SAFETY: _l("Protection et sécurité"),
    CompetenceArea.PROBLEM_SOLVING: _l("Environnement numérique et résolution de problèmes"),
}


class Level(enum.StrEnum):
    BEGINNER = "beginner"
    INTERMEDIATE = "intermediate"
    ADVANCED = "advanced"

    @property
    def label(self) -> str:
        return str(LEVEL_LABELS[self])


LEVEL_LABELS = {
    Level.BEGINNER: _l("Débutant"),
    Level.INTERMEDIATE: _l("Intermédiaire"),
    Level.ADVANCED: _l("Avancé"),
}


class CatalogueStatus(enum.StrEnum):
    DRAFT = "draft"  # never published: only authors see it
    PUBLISHED = "published"
    ARCHIVED = "archived"  # no longer offered; completions and attestations stay valid

    @property
    def label(self) -> str:
        return str(STATUS_LABELS[self])


STATUS_LABELS = {
    CatalogueStatus.DRAFT: _l("Brouillon"),
    CatalogueStatus.PUBLISHED: _l("Publié"),
    CatalogueStatus.ARCHIVED: _l("Archivé"),
}


class QuestionKind(enum.StrEnum):
    SINGLE = "single"
    MULTIPLE = "multiple"


class AwardSource(enum.StrEnum):
    MODULE = "module"
    PATH = "path"
    EXTERNAL = "external"  # obtained elsewhere, recorded by a coordinator


class Qualification(db.Model):
    """A named qualification, e.g. "Accompagnement aux démarches en ligne"."""

    __tablename__ = "qualification"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    validity_months: Mapped[int | None] = mapped_column()  # None: never expires
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        CheckConstraint("validity_months IS NULL OR validity_months > 0", name="validity_positive"),
    )


class Module(db.Model):
    """A module's identity in the catalogue; its content lives in versions."""

    __tablename__ = "module"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    status: Mapped[CatalogueStatus] = mapped_column(
        enum_column(CatalogueStatus, "module_status"), default=CatalogueStatus.DRAFT
    )
    copied_from_id: Mapped[int | None] = mapped_column(ForeignKey("module.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    versions: Mapped[list[ModuleVersion]] = relationship(
        back_populates="module", order_by="ModuleVersion.number", passive_deletes=True
    )

    @property
    def is_shared(self) -> bool:
        return self.tenant_id is None


class ModuleVersion(db.Model):
    """One version of a module's content. Published versions are never edited:
    editing a published module starts a new draft version, so that people who
    completed an old version keep exactly what they completed."""

    __tablename__ = "module_version"
    __table_args__ = (
        UniqueConstraint("module_id", "number"),
        CheckConstraint("pass_mark BETWEEN 0 AND 100", name="pass_mark_percent"),
        CheckConstraint("duration_minutes > 0", name="duration_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("module.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column()
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    objectives: Mapped[str] = mapped_column(Text, default="")
    competence_area: Mapped[CompetenceArea] = mapped_column(
        enum_column(CompetenceArea, "competence_area")
    )
    level: Mapped[Level] = mapped_column(enum_column(Level, "module_level"))
    duration_minutes: Mapped[int] = mapped_column(default=60)
    pass_mark: Mapped[int] = mapped_column(default=80)  # percent of questions right
    requires_attendance: Mapped[bool] = mapped_column(default=False)
    qualification_id: Mapped[int | None] = mapped_column(
        ForeignKey("qualification.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column()  # None: a draft

    module: Mapped[Module] = relationship(back_populates="versions")
    qualification: Mapped[Qualification | None] = relationship()
    lessons: Mapped[list[Lesson]] = relationship(
        back_populates="version", order_by="(Lesson.position, Lesson.id)",
        cascade="all, delete-orphan", passive_deletes=True,
    )
    questions: Mapped[list[Question]] = relationship(
        back_populates="version", order_by="(Question.position, Question.id)",
        cascade="all, delete-orphan", passive_deletes=True,
    )

    @property
    def is_draft(self) -> bool:
        return self.published_at is None


class Lesson(db.Model):
    """A page of a module, written in Markdown (rendered and sanitised on display)."""

    __tablename__ = "lesson"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("module_version.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column()
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")

    version: Mapped[ModuleVersion] = relationship(back_populates="lessons")
    resources: Mapped[list[LessonResource]] = relationship(
        back_populates="lesson", order_by="LessonResource.id",
        cascade="all, delete-orphan", passive_deletes=True,
    )


class LessonResource(db.Model):
    """A downloadable file attached to a lesson (a handout, a checklist)."""

    __tablename__ = "lesson_resource"

    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lesson.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column()
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)

    lesson: Mapped[Lesson] = relationship(back_populates="resources")


class Question(db.Model):
    __tablename__ = "question"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("module_version.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column()
    prompt: Mapped[str] = mapped_column(Text)
    kind: Mapped[QuestionKind] = mapped_column(enum_column(QuestionKind, "question_kind"))
    feedback: Mapped[str] = mapped_column(Text, default="")  # shown after a wrong answer

    version: Mapped[ModuleVersion] = relationship(back_populates="questions")
    choices: Mapped[list[Choice]] = relationship(
        back_populates="question", order_by="(Choice.position, Choice.id)",
        cascade="all, delete-orphan", passive_deletes=True,
    )


class Choice(db.Model):
    __tablename__ = "choice"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column()
    text: Mapped[str] = mapped_column(Text)
    is_correct: Mapped[bool] = mapped_column(default=False)

    question: Mapped[Question] = relationship(back_populates="choices")


class LessonProgress(db.Model):
    """A person has read a lesson."""

    __tablename__ = "lesson_progress"
    __table_args__ = (UniqueConstraint("user_id", "lesson_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lesson.id", ondelete="CASCADE"), index=True)
    completed_at: Mapped[datetime] = mapped_column(default=utcnow)


class QuizAttempt(db.Model):
    """One submitted quiz, with the answers given and the score."""

    __tablename__ = "quiz_attempt"
    __table_args__ = (Index("ix_quiz_attempt_user_version", "user_id", "version_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(ForeignKey("module_version.id", ondelete="CASCADE"))
    score: Mapped[int] = mapped_column()  # percent
    passed: Mapped[bool] = mapped_column()
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)  # {question_id: [choice_id, …]}
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)


class ModuleCompletion(db.Model):
    """A person completed a module version (lessons read, quiz passed, attendance if required)."""

    __tablename__ = "module_completion"
    __table_args__ = (
        UniqueConstraint("user_id", "version_id"),
        # A structure's completions in a period (dashboards; bench/README.md).
        Index("ix_module_completion_tenant_completed", "tenant_id", "completed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("module_version.id", ondelete="CASCADE"))
    module_id: Mapped[int] = mapped_column(ForeignKey("module.id", ondelete="CASCADE"), index=True)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenant.id", ondelete="SET NULL"))
    completed_at: Mapped[datetime] = mapped_column(default=utcnow)

    version: Mapped[ModuleVersion] = relationship()


class Path(db.Model):
    """A learning path ("parcours"): ordered modules, each requiring the previous ones."""

    __tablename__ = "learning_path"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[CatalogueStatus] = mapped_column(
        enum_column(CatalogueStatus, "path_status"), default=CatalogueStatus.DRAFT
    )
    qualification_id: Mapped[int | None] = mapped_column(
        ForeignKey("qualification.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    steps: Mapped[list[PathStep]] = relationship(
        back_populates="path", order_by="PathStep.position",
        cascade="all, delete-orphan", passive_deletes=True,
    )
    qualification: Mapped[Qualification | None] = relationship()


class PathStep(db.Model):
    __tablename__ = "path_step"
    __table_args__ = (UniqueConstraint("path_id", "module_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    path_id: Mapped[int] = mapped_column(ForeignKey("learning_path.id", ondelete="CASCADE"), index=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("module.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column()

    path: Mapped[Path] = relationship(back_populates="steps")
    module: Mapped[Module] = relationship()


class PathCompletion(db.Model):
    __tablename__ = "path_completion"
    __table_args__ = (
        UniqueConstraint("user_id", "path_id"),
        Index("ix_path_completion_tenant_completed", "tenant_id", "completed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    path_id: Mapped[int] = mapped_column(ForeignKey("learning_path.id", ondelete="CASCADE"))
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenant.id", ondelete="SET NULL"))
    completed_at: Mapped[datetime] = mapped_column(default=utcnow)


class TrainingSettings(db.Model):
    """A structure's training choices (the path given to every new volunteer)."""

    __tablename__ = "training_settings"

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), primary_key=True)
    default_path_id: Mapped[int | None] = mapped_column(
        ForeignKey("learning_path.id", ondelete="SET NULL")
    )

    default_path: Mapped[Path | None] = relationship()


class Assignment(TenantScoped, db.Model):
    """A structure asks a person to follow a module or a path, maybe by a date."""

    __tablename__ = "training_assignment"
    __table_args__ = tenant_table_args(
        CheckConstraint(
            "(module_id IS NULL) <> (path_id IS NULL)", name="module_xor_path"
        ),
        Index("ix_training_assignment_user", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    module_id: Mapped[int | None] = mapped_column(ForeignKey("module.id", ondelete="CASCADE"))
    path_id: Mapped[int | None] = mapped_column(ForeignKey("learning_path.id", ondelete="CASCADE"))
    due_on: Mapped[date | None] = mapped_column()
    assigned_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    module: Mapped[Module | None] = relationship()
    path: Mapped[Path | None] = relationship()


class InPersonAttendance(TenantScoped, db.Model):
    """A person attended the in-person session a module requires.

    Recorded by a trainer or coordinator (scheduling will record it from a
    session's attendance sheet).
    """

    __tablename__ = "in_person_attendance"
    __table_args__ = tenant_table_args(UniqueConstraint("user_id", "module_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    module_id: Mapped[int] = mapped_column(ForeignKey("module.id", ondelete="CASCADE"))
    attended_on: Mapped[date] = mapped_column()
    recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class QualificationAward(TenantScoped, db.Model):
    """A person holds a qualification, from a date, maybe until a date."""

    __tablename__ = "qualification_award"
    __table_args__ = tenant_table_args(
        Index("ix_qualification_award_user_qual", "user_id", "qualification_id"),
        Index("ix_qualification_award_expiry", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    qualification_id: Mapped[int] = mapped_column(ForeignKey("qualification.id", ondelete="CASCADE"))
    source: Mapped[AwardSource] = mapped_column(enum_column(AwardSource, "award_source"))
    module_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("module_version.id", ondelete="SET NULL")
    )
    path_id: Mapped[int | None] = mapped_column(ForeignKey("learning_path.id", ondelete="SET NULL"))
    awarded_at: Mapped[datetime] = mapped_column()
    expires_at: Mapped[datetime | None] = mapped_column()
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    withdrawn_at: Mapped[datetime | None] = mapped_column()
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)
    reminder_sent_at: Mapped[datetime | None] = mapped_column()

    qualification: Mapped[Qualification] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])

    def is_valid_at(self, moment: datetime) -> bool:
        return (
            self.withdrawn_at is None
            and self.awarded_at <= moment
            and (self.expires_at is None or moment < self.expires_at)
        )


class Attestation(TenantScoped, db.Model):
    """A completion attestation with a public verification code."""

    __tablename__ = "attestation"
    __table_args__ = tenant_table_args(
        CheckConstraint(
            "(module_version_id IS NULL) <> (path_id IS NULL)", name="module_xor_path"
        ),
        Index("ix_attestation_user", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    # No ON DELETE: content with attestations is archived, never deleted.
    module_version_id: Mapped[int | None] = mapped_column(ForeignKey("module_version.id"))
    path_id: Mapped[int | None] = mapped_column(ForeignKey("learning_path.id"))
    issued_at: Mapped[datetime] = mapped_column()
    withdrawn_at: Mapped[datetime | None] = mapped_column()
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)

    user: Mapped[User] = relationship()
    module_version: Mapped[ModuleVersion | None] = relationship()
    path: Mapped[Path | None] = relationship()
