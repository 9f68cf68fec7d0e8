"""The association's view over every structure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from volunteer_platform.auth.models import Invitation, User
from volunteer_platform.auth.services import invite
from volunteer_platform.extensions import db
from volunteer_platform.tenants.models import Membership, Role, Site, Tenant, TenantKind
from volunteer_platform.tenants.services import create_tenant


@dataclass(frozen=True)
class StructureRow:
    tenant: Tenant
    members: int
    volunteers: int
    coordinators: int
    sites: int


def structures_overview(*, kind: TenantKind | None = None) -> list[StructureRow]:
    """Every structure with its head counts, in one query whatever their number."""
    member_counts = (
        select(
            Membership.tenant_id.label("tenant_id"),
            func.count(Membership.id).label("members"),
            func.count(Membership.id).filter(Membership.role == Role.VOLUNTEER).label("volunteers"),
            func.count(Membership.id).filter(Membership.role == Role.COORDINATOR).label("coordinators"),
        )
        .where(Membership.is_active.is_(True))
        .group_by(Membership.tenant_id)
        .subquery()
    )
    site_counts = (
        select(Site.tenant_id.label("tenant_id"), func.count(Site.id).label("sites"))
        .where(Site.is_active.is_(True))
        .group_by(Site.tenant_id)
        .subquery()
    )
    stmt = (
        select(
            Tenant,
            func.coalesce(member_counts.c.members, 0),
            func.coalesce(member_counts.c.volunteers, 0),
            func.coalesce(member_counts.c.coordinators, 0),
            func.coalesce(site_counts.c.sites, 0),
        )
        .outerjoin(member_counts, member_counts.c.tenant_id == Tenant.id)
        .outerjoin(site_counts, site_counts.c.tenant_id == Tenant.id)
        .order_by(Tenant.is_active.desc(), Tenant.name)
    )
    if kind is not None:
        stmt = stmt.where(Tenant.kind == kind)
    return [StructureRow(*row) for row in db.session.execute(stmt)]


def create_structure(
    *,
    slug: str,
    name: str,
    kind: TenantKind,
    timezone: str,
    region: str | None,
    contact_email: str | None,
    contact_phone: str | None,
    coordinator_email: str,
    invited_by: User,
    now: datetime,
    invitation_ttl: timedelta,
    base_url: str,
) -> tuple[Tenant, Invitation]:
    """Create a structure and invite its first coordinator, in one transaction."""
    tenant = create_tenant(
        slug=slug,
        name=name,
        kind=kind,
        now=now,
        timezone=timezone,
        region=region,
        contact_email=contact_email,
        contact_phone=contact_phone,
    )
    invitation, _token = invite(
        tenant,
        coordinator_email,
        Role.COORDINATOR,
        invited_by=invited_by,
        now=now,
        ttl=invitation_ttl,
        base_url=base_url,
    )
    return tenant, invitation


def coordinators_of(tenant: Tenant) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.tenant_id == tenant.id,
                Membership.role == Role.COORDINATOR,
                Membership.is_active.is_(True),
            )
            .order_by(User.full_name)
        )
    )


def pending_coordinator_invitations(tenant: Tenant, *, now: datetime) -> list[Invitation]:
    return list(
        db.session.scalars(
            select(Invitation).where(
                Invitation.tenant_id == tenant.id,
                Invitation.role == Role.COORDINATOR,
                Invitation.accepted_at.is_(None),
                Invitation.revoked_at.is_(None),
                Invitation.expires_at > now,
            )
        )
    )
