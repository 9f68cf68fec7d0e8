"""Impact: what the programme achieves, as the association reports it to its
partners and funders.

- ``SurveyResponse``: after a training session, each attendee's short survey
  (satisfaction 1–5, "more able to help someone", "at ease with a computer",
  a comment). One per person and session. Shown only aggregated.
- ``SelfAssessment``: a volunteer's confidence per competence area when they
  start a learning path and when they finish it; the dashboards show the gain.
- ``ActivityReport`` / ``ActivityReportTheme``: after a help-desk shift, each
  volunteer on it records how long they helped and how many people, by theme.
  Anonymous counts only: nothing about the people helped is stored.
- ``VolunteeringAttestation``: a PDF attestation of a person's volunteering for
  a period (hours, shifts, trainings), issued in the structure's name, with a
  code anyone can check on the public verification page.
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
    ForeignKeyConstraint,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from volunteer_platform.auth.models import User
from volunteer_platform.db import TenantScoped, enum_column, tenant_table_args, utcnow
from volunteer_platform.extensions import db
from volunteer_platform.training.models import CompetenceArea


class HelpTheme(enum.StrEnum):
    """What people came to the help desk for."""

    EMAIL = "email"
    ONLINE_PROCEDURES = "online_procedures"
    JOB_SEARCH = "job_search"
    HEALTH = "health"
    BANKING = "banking"
    HOUSING = "housing"
    SMARTPHONE = "smartphone"
    OTHER = "other"

    @property
    def label(self) -> str:
        return str(HELP_THEME_LABELS[self])


HELP_THEME_LABELS = {
    HelpTheme.EMAIL: _l("Messagerie (adresse e-mail, courriels)"),
    HelpTheme.ONLINE_PROCEDURES: _l("Démarches en ligne (CAF, impôts, ANTS…)"),
    HelpTheme.JOB_SEARCH: _l("Recherche d'emploi (CV, France Travail)"),
    HelpTheme.HEALTH: _l("Santé (Ameli, rendez-vous médicaux)"),
    HelpTheme.BANKING: _l("Banque en ligne"),
    HelpTheme.HOUSING: _l("Logement"),
    HelpTheme.SMARTPHONE: _l("Smartphone et tablette"),
    HelpTheme.OTHER: _l("Autre"),
}


class AssessmentStage(enum.StrEnum):
    START = "start"
    END = "end"

    @property
    def label(self) -> str:
        return str(ASSESSMENT_STAGE_LABELS[self])


ASSESSMENT_STAGE_LABELS = {
    AssessmentStage.START: _l("Au début du parcours"),
    AssessmentStage.END: _l("À la fin du parcours"),
}

#: Confidence scale of the self-assessment, 1 (not at all) to 4 (fully).
CONFIDENCE_LABELS = {
    1: _l("Pas du tout à l'aise"),
    2: _l("Un peu à l'aise"),
    3: _l("Plutôt à l'aise"),
    4: _l("Tout à fait à l'aise"),
}
CONFIDENCE_MAX = 4

#: Satisfaction scale of the session survey, 1 (very dissatisfied) to 5 (very satisfied).
SATISFACTION_LABELS = {
    1: _l("Pas du tout satisfait"),
    2: _l("Peu satisfait"),
    3: _l("Moyennement satisfait"),
    4: _l("Satisfait"),
    5: _l("Très satisfait"),
}
#: A response counts as "satisfied" from this score up (4 and 5 on 1–5).
SATISFIED_FROM = 4


class SurveyResponse(TenantScoped, db.Model):
    """One attendee's answer to the survey after a training session."""

    __tablename__ = "survey_response"
    __table_args__ = tenant_table_args(
        ForeignKeyConstraint(["tenant_id", "event_id"], ["event.tenant_id", "event.id"], ondelete="CASCADE"),
        UniqueConstraint("event_id", "user_id"),
        CheckConstraint("satisfaction BETWEEN 1 AND 5", name="satisfaction_range"),
        Index("ix_survey_response_tenant_submitted", "tenant_id", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column()
    # Who answered, only to allow one answer each; never shown next to the answer.
    # SET NULL: erasing an account keeps the anonymous answer in the statistics.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    satisfaction: Mapped[int] = mapped_column()
    more_able_to_help: Mapped[bool] = mapped_column()
    at_ease_with_computer: Mapped[bool] = mapped_column()
    comment: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)


class SelfAssessment(TenantScoped, db.Model):
    """A volunteer's confidence (1–4) in one competence area, at the start or end of a path."""

    __tablename__ = "self_assessment"
    __table_args__ = tenant_table_args(
        UniqueConstraint("user_id", "path_id", "stage", "area"),
        CheckConstraint("confidence BETWEEN 1 AND 4", name="confidence_range"),
        Index("ix_self_assessment_tenant_submitted", "tenant_id", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    path_id: Mapped[int] = mapped_column(ForeignKey("learning_path.id", ondelete="CASCADE"))
    stage: Mapped[AssessmentStage] = mapped_column(enum_column(AssessmentStage, "assessment_stage"))
    area: Mapped[CompetenceArea] = mapped_column(enum_column(CompetenceArea, "assessment_area"))
    confidence: Mapped[int] = mapped_column()
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)


class ActivityReport(TenantScoped, db.Model):
    """What one volunteer did on one help-desk shift: how long, how many people, by theme."""

    __tablename__ = "activity_report"
    __table_args__ = tenant_table_args(
        ForeignKeyConstraint(["tenant_id", "event_id"], ["event.tenant_id", "event.id"], ondelete="CASCADE"),
        UniqueConstraint("event_id", "user_id"),
        CheckConstraint("minutes >= 0 AND minutes <= 1440", name="minutes_range"),
        Index("ix_activity_report_tenant_event", "tenant_id", "event_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column()
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    minutes: Mapped[int] = mapped_column()
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    themes: Mapped[list[ActivityReportTheme]] = relationship(
        back_populates="report", cascade="all, delete-orphan", passive_deletes=True,
        order_by="ActivityReportTheme.theme",
    )

    @property
    def people_helped(self) -> int:
        return sum(t.people for t in self.themes)

    def people_by_theme(self) -> dict[HelpTheme, int]:
        return {HelpTheme(t.theme): t.people for t in self.themes}


class ActivityReportTheme(db.Model):
    """How many people a report counts for one theme (each person once, in their main theme)."""

    __tablename__ = "activity_report_theme"
    __table_args__ = (
        UniqueConstraint("report_id", "theme"),
        CheckConstraint("people > 0 AND people <= 500", name="people_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("activity_report.id", ondelete="CASCADE"), index=True)
    theme: Mapped[HelpTheme] = mapped_column(enum_column(HelpTheme, "help_theme"))
    people: Mapped[int] = mapped_column()

    report: Mapped[ActivityReport] = relationship(back_populates="themes")


class VolunteeringAttestation(TenantScoped, db.Model):
    """An attestation of volunteering for a period, issued in a structure's name.

    The figures are frozen at issue (``figures``), so the PDF and the public
    verification page say the same thing later, whatever happens to the data.
    """

    __tablename__ = "volunteering_attestation"
    __table_args__ = tenant_table_args(
        CheckConstraint("period_start <= period_end", name="ordered_period"),
        Index("ix_volunteering_attestation_user", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    holder_name: Mapped[str] = mapped_column(String(200))  # as printed; blanked on anonymisation
    period_start: Mapped[date] = mapped_column()
    period_end: Mapped[date] = mapped_column()  # inclusive
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)
    signatory_name: Mapped[str] = mapped_column(String(200))
    signatory_role: Mapped[str] = mapped_column(String(200))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column()

    user: Mapped[User | None] = relationship()
