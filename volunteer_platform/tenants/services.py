"""Structures, their sites and their members: the rules.

Functions take plain values, flush, and raise ``errors`` exceptions; the
caller commits.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from volunteer_platform.auth.models import User
from volunteer_platform.errors import Conflict, ValidationFailed
from volunteer_platform.extensions import db
from volunteer_platform.tenants.models import Membership, Role, Site, Tenant, TenantKind
from volunteer_platform.tenants.scoping import get_in_tenant, tenant_select

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# First path segments used by the application itself: a structure cannot take them.
RESERVED_SLUGS = frozenset(
    {
        "account", "admin", "agenda", "api", "association", "auth", "calendars", "feeds", "healthz",
        "ical", "invitations", "language", "login", "logout", "me", "password", "static",
        "supervision", "verify", "new", "settings", "help", "about", "robots.txt", "privacy", "readyz",
    }
)


def timezone_choices() -> list[str]:
    return sorted(tz for tz in available_timezones() if "/" in tz and not tz.startswith("Etc/"))


def check_timezone(name: str) -> str:
    # OSError: with the tzdata package, a folder name such as "Europe" raises
    # IsADirectoryError instead of ZoneInfoNotFoundError (Python 3.11 zoneinfo).
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValidationFailed(_l("Fuseau horaire inconnu."), field="timezone") from None
    return name


def check_slug(slug: str, *, exclude_id: int | None = None) -> str:
    slug = slug.strip().lower()
    if not (2 <= len(slug) <= 63) or not SLUG_RE.match(slug):
        raise ValidationFailed(
            _l("L'identifiant ne peut contenir que des lettres minuscules sans accent, des chiffres "
               "et des tirets (2 à 63 caractères)."),
            field="slug",
        )
    if slug in RESERVED_SLUGS:
        raise ValidationFailed(_l("Cet identifiant est réservé : choisissez-en un autre."), field="slug")
    stmt = select(Tenant.id).where(Tenant.slug == slug)
    if exclude_id is not None:
        stmt = stmt.where(Tenant.id != exclude_id)
    if db.session.scalars(stmt).first() is not None:
        raise Conflict(_l("Une structure utilise déjà cet identifiant."), field="slug")
    return slug


def create_tenant(
    *,
    slug: str,
    name: str,
    kind: TenantKind,
    now: datetime,
    timezone: str = "Europe/Paris",
    region: str | None = None,
    contact_email: str | None = None,
    contact_phone: str | None = None,
) -> Tenant:
    tenant = Tenant(
        slug=check_slug(slug),
        name=name.strip(),
        kind=TenantKind(kind),
        timezone=check_timezone(timezone),
        region=(region or "").strip() or None,
        contact_email=(contact_email or "").strip().lower() or None,
        contact_phone=(contact_phone or "").strip() or None,
        created_at=now,
    )
    db.session.add(tenant)
    db.session.flush()
    return tenant


def update_tenant(
    tenant: Tenant,
    *,
    name: str,
    kind: TenantKind,
    timezone: str,
    region: str | None,
    contact_email: str | None,
    contact_phone: str | None,
    retention_years: int | None = None,
) -> None:
    """Edit a structure's details. The slug is its public address and does not change here."""
    tenant.name = name.strip()
    tenant.kind = TenantKind(kind)
    tenant.timezone = check_timezone(timezone)
    tenant.region = (region or "").strip() or None
    tenant.contact_email = (contact_email or "").strip().lower() or None
    tenant.contact_phone = (contact_phone or "").strip() or None
    if retention_years is not None:
        if not 1 <= retention_years <= 10:
            raise ValidationFailed(_l("Choisissez une durée entre 1 et 10 ans."), field="retention_years")
        tenant.retention_years = retention_years
    db.session.flush()


def set_tenant_active(tenant: Tenant, active: bool) -> None:
    """Deactivate (or reactivate) a structure: its pages become 404, its data is kept."""
    tenant.is_active = active
    db.session.flush()


# --- sites ---------------------------------------------------------------------


def _check_site_name(tenant: Tenant, name: str, exclude_id: int | None) -> str:
    name = name.strip()
    # Compared in Python: SQLite's lower() only folds ASCII, so "ÉCOLE" and
    # "école" would differ there. A structure has a handful of sites.
    stmt = tenant_select(Site, tenant).with_only_columns(Site.name)
    if exclude_id is not None:
        stmt = stmt.where(Site.id != exclude_id)
    if any(other.casefold() == name.casefold() for other in db.session.scalars(stmt)):
        raise Conflict(_l("Un lieu porte déjà ce nom dans la structure."), field="name")
    return name


def create_site(
    tenant: Tenant,
    *,
    name: str,
    address: str,
    postal_code: str,
    city: str,
    access_notes: str | None = None,
) -> Site:
    site = Site(
        tenant_id=tenant.id,
        name=_check_site_name(tenant, name, None),
        address=address.strip(),
        postal_code=postal_code.strip(),
        city=city.strip(),
        access_notes=(access_notes or "").strip() or None,
    )
    db.session.add(site)
    db.session.flush()
    return site


def update_site(
    site: Site,
    *,
    name: str,
    address: str,
    postal_code: str,
    city: str,
    access_notes: str | None,
    is_active: bool,
) -> None:
    site.name = _check_site_name(site.tenant, name, site.id)
    site.address = address.strip()
    site.postal_code = postal_code.strip()
    site.city = city.strip()
    site.access_notes = (access_notes or "").strip() or None
    site.is_active = is_active
    db.session.flush()


def sites_of(tenant: Tenant, *, active_only: bool = False) -> list[Site]:
    stmt = tenant_select(Site, tenant).order_by(Site.name)
    if active_only:
        stmt = stmt.where(Site.is_active.is_(True))
    return list(db.session.scalars(stmt))


# --- members -------------------------------------------------------------------


def members_of(tenant: Tenant) -> list[Membership]:
    """Members with their account and home site, in two queries whatever their number."""
    from sqlalchemy.orm import joinedload

    stmt = (
        tenant_select(Membership, tenant)
        .join(User, User.id == Membership.user_id)
        .options(joinedload(Membership.user), joinedload(Membership.site))
        .order_by(Membership.is_active.desc(), func.lower(User.full_name))
    )
    return list(db.session.scalars(stmt).unique())


def tenant_counts(tenant: Tenant) -> dict[str, int]:
    """Active members, active volunteers and active sites, counted in SQL (two queries)."""
    members, volunteers = db.session.execute(
        select(
            func.count(Membership.id),
            func.count(Membership.id).filter(Membership.role == Role.VOLUNTEER),
        ).where(Membership.tenant_id == tenant.id, Membership.is_active.is_(True))
    ).one()
    sites = db.session.scalar(
        select(func.count(Site.id)).where(Site.tenant_id == tenant.id, Site.is_active.is_(True))
    )
    return {"members": members, "volunteers": volunteers, "sites": sites or 0}


def _active_coordinator_count(tenant: Tenant) -> int:
    return db.session.scalar(
        select(func.count(Membership.id)).where(
            Membership.tenant_id == tenant.id,
            Membership.role == Role.COORDINATOR,
            Membership.is_active.is_(True),
        )
    ) or 0


def _ensure_not_last_coordinator(membership: Membership) -> None:
    if (
        membership.is_active
        and membership.role is Role.COORDINATOR
        and _active_coordinator_count(membership.tenant) <= 1
    ):
        raise Conflict(
            _l("C'est le dernier coordinateur actif de la structure : nommez-en un autre d'abord.")
        )


def update_membership(membership: Membership, *, role: Role, site_id: int | None) -> None:
    """Change a member's role and home site.

    Raises Conflict when it would leave the structure without an active
    coordinator, NotFound when the site is not one of the structure's.
    """
    role = Role(role)
    if role is not membership.role:
        _ensure_not_last_coordinator(membership)
        membership.role = role
    if site_id is not None:
        get_in_tenant(Site, site_id, membership.tenant)
    membership.site_id = site_id
    db.session.flush()


def set_membership_active(membership: Membership, active: bool) -> None:
    """Deactivate (or reactivate) someone in a structure.

    The person keeps their account and their other structures; their open
    sessions lose access to this structure at their next request.
    """
    if not active:
        _ensure_not_last_coordinator(membership)
    membership.is_active = active
    db.session.flush()


def tenants_of(user: User) -> list[tuple[Tenant, Membership]]:
    """The active structures the person belongs to, with their membership, by name."""
    rows = db.session.execute(
        select(Tenant, Membership)
        .join(Membership, Membership.tenant_id == Tenant.id)
        .where(
            Membership.user_id == user.id,
            Membership.is_active.is_(True),
            Tenant.is_active.is_(True),
        )
        .order_by(Tenant.name)
    ).all()
    return [(t, m) for t, m in rows]
