"""Partner structures (tenants), their sites, and who belongs to them."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, ForeignKeyConstraint, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from volunteer_platform.db import TenantScoped, enum_column, tenant_table_args, utcnow
from volunteer_platform.extensions import db

if TYPE_CHECKING:
    from volunteer_platform.auth.models import User


class TenantKind(enum.StrEnum):
    CCAS = "ccas"
    POINT_PASSERELLE = "point_passerelle"
    TOWN_HALL = "town_hall"
    ASSOCIATION = "association"
    OTHER = "other"

    @property
    def label(self) -> str:
        return str(TENANT_KIND_LABELS[self])


TENANT_KIND_LABELS = {
    TenantKind.CCAS: _l("CCAS (centre communal d'action sociale)"),
    TenantKind.POINT_PASSERELLE: _l("Point Passerelle"),
    TenantKind.TOWN_HALL: _l("Mairie"),
    TenantKind.ASSOCIATION: _l("Association"),
    TenantKind.OTHER: _l("Autre"),
}


class Role(enum.StrEnum):
    """A person's role inside one structure. Association staff are not a role
    inside a structure: see ``User.is_supervisor``."""

    COORDINATOR = "coordinator"
    TRAINER = "trainer"
    VOLUNTEER = "volunteer"

    @property
    def label(self) -> str:
        return str(ROLE_LABELS[self])


ROLE_LABELS = {
    Role.COORDINATOR: _l("Coordinateur ou coordinatrice"),
    Role.TRAINER: _l("Formateur ou formatrice"),
    Role.VOLUNTEER: _l("Bénévole"),
}


class Tenant(db.Model):
    """A partner structure (CCAS, Point Passerelle, town hall, association…)."""

    __tablename__ = "tenant"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[TenantKind] = mapped_column(enum_column(TenantKind, "tenant_kind"))
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Paris")
    region: Mapped[str | None] = mapped_column(String(100))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Accounts without activity for this long are anonymised (privacy/services.py).
    retention_years: Mapped[int] = mapped_column(default=3, server_default="3")

    sites: Mapped[list[Site]] = relationship(
        back_populates="tenant", order_by="Site.name", passive_deletes=True
    )

    def __repr__(self) -> str:
        return f"<Tenant {self.slug}>"


class Site(TenantScoped, db.Model):
    """A place where a structure works (a help desk, a branch, a town-hall annex)."""

    __tablename__ = "site"
    __table_args__ = tenant_table_args(UniqueConstraint("tenant_id", "name"))

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300))
    postal_code: Mapped[str] = mapped_column(String(10))
    city: Mapped[str] = mapped_column(String(120))
    access_notes: Mapped[str | None] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    tenant: Mapped[Tenant] = relationship(back_populates="sites")

    @property
    def full_address(self) -> str:
        return f"{self.address}, {self.postal_code} {self.city}"


class Membership(TenantScoped, db.Model):
    """A person's place in a structure: a role, an optional home site, active or not."""

    __tablename__ = "membership"
    __table_args__ = tenant_table_args(
        UniqueConstraint("tenant_id", "user_id"),
        # Composite key: the home site must belong to the same structure.
        ForeignKeyConstraint(["tenant_id", "site_id"], ["site.tenant_id", "site.id"]),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(enum_column(Role, "membership_role"))
    site_id: Mapped[int | None] = mapped_column()
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    tenant: Mapped[Tenant] = relationship()
    user: Mapped[User] = relationship(back_populates="memberships")
    site: Mapped[Site | None] = relationship(
        primaryjoin="and_(Membership.site_id == Site.id, Membership.tenant_id == Site.tenant_id)",
        foreign_keys="[Membership.site_id]",
        viewonly=True,
    )
