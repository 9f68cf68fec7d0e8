"""The audit log: who viewed, exported or changed personal data, roles and memberships.

An entry keeps the actor's and the subject's names as they were (``*_label``),
so the log reads the same after an account is gone; anonymising a person
blanks their name here too. Entries older than a year are purged
(``flask apply-retention``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from volunteer_platform.db import utcnow
from volunteer_platform.extensions import db
from volunteer_platform.tenants.models import Tenant

#: What an entry records; the key is stored, the label shown.
AUDIT_ACTIONS = {
    "person.viewed": _l("Consultation des données d'une personne"),
    "members.listed": _l("Consultation de la liste des membres"),
    "export.downloaded": _l("Export de données personnelles"),
    "data.exported": _l("Téléchargement de ses propres données"),
    "member.invited": _l("Invitation envoyée"),
    "member.changed": _l("Rôle ou lieu modifié"),
    "member.deactivated": _l("Membre désactivé"),
    "member.reactivated": _l("Membre réactivé"),
    "member.anonymised": _l("Membre anonymisé"),
    "account.erased": _l("Compte supprimé à la demande de la personne"),
    "retention.anonymised": _l("Compte anonymisé (durée de conservation dépassée)"),
    "retention.warned": _l("Avertissement avant anonymisation envoyé"),
    "coordinator.invited": _l("Coordinateur ou coordinatrice invité(e) par l'association"),
}


class AuditEntry(db.Model):
    __tablename__ = "audit_entry"
    __table_args__ = (
        Index("ix_audit_entry_tenant_at", "tenant_id", "at"),
        Index("ix_audit_entry_at", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    actor_label: Mapped[str] = mapped_column(String(250))
    actor_is_supervisor: Mapped[bool] = mapped_column(default=False)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(64))
    subject_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    subject_label: Mapped[str] = mapped_column(String(250), default="")
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    tenant: Mapped[Tenant | None] = relationship(lazy="joined")

    @property
    def action_label(self) -> str:
        return str(AUDIT_ACTIONS.get(self.action, self.action))
