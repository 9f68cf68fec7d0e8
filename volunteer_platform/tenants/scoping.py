"""The one way to reach tenant-owned rows, and tenant resolution from the URL.

Every query for a ``TenantScoped`` model goes through ``tenant_select`` or
``get_in_tenant_or_404`` so that forgetting the tenant filter is not possible
by accident. Never use ``db.get_or_404`` / ``Session.get`` on such a model.
"""

from __future__ import annotations

from typing import Any, TypeVar

from flask import Blueprint, abort, g
from flask_login import current_user
from sqlalchemy import Select, select

from volunteer_platform.errors import NotFound
from volunteer_platform.extensions import db
from volunteer_platform.tenants.models import Membership, Tenant

M = TypeVar("M")


def tenant_select(model: type[M], tenant: Tenant) -> Select[tuple[M]]:
    """``SELECT model WHERE tenant_id = tenant.id`` — extend it, never drop the filter."""
    return select(model).where(model.tenant_id == tenant.id)  # type: ignore[attr-defined]


def get_in_tenant(model: type[M], ident: Any, tenant: Tenant, *, for_update: bool = False) -> M:
    """Return the row ``ident`` of ``model`` owned by ``tenant``; raise NotFound otherwise.

    A row of another tenant is indistinguishable from a missing row.
    """
    try:
        ident = int(ident)
    except (TypeError, ValueError):
        raise NotFound("not found") from None
    stmt = tenant_select(model, tenant).where(model.id == ident)  # type: ignore[attr-defined]
    if for_update:
        stmt = stmt.with_for_update()
    row = db.session.scalars(stmt).one_or_none()
    if row is None:
        raise NotFound("not found")
    return row


def get_in_tenant_or_404(model: type[M], ident: Any, tenant: Tenant, **kwargs: Any) -> M:
    try:
        return get_in_tenant(model, ident, tenant, **kwargs)
    except NotFound:
        abort(404)


def active_membership(user_id: int, tenant: Tenant) -> Membership | None:
    return db.session.scalars(
        select(Membership).where(
            Membership.tenant_id == tenant.id,
            Membership.user_id == user_id,
            Membership.is_active.is_(True),
        )
    ).one_or_none()


def my_tenants() -> list[tuple[Tenant, Membership]]:
    """The signed-in person's active structures with their membership
    (``services.tenants_of``), read once per request: the tenant prefix and
    the menu's structure switcher both need them. Empty for a visitor."""
    if not current_user.is_authenticated:
        return []
    cached = g.get("_my_tenants")
    if cached is None or cached[0] != current_user.id:
        from volunteer_platform.tenants.services import tenants_of

        cached = g._my_tenants = (current_user.id, tenants_of(current_user))
    return cached[1]


def _tenant_and_membership(slug: str | None) -> tuple[Tenant | None, Membership | None]:
    """The active structure named ``slug`` and the signed-in person's active
    membership of it. For a member, the one query of ``my_tenants`` (which the
    menu reuses) answers both; otherwise (a visitor, association staff, a
    non-member) the structure is looked up by its slug, and there is no
    active membership: ``my_tenants`` lists every active membership of an
    active structure."""
    for tenant, membership in my_tenants():
        if tenant.slug == slug:
            return tenant, membership
    tenant = db.session.scalars(
        select(Tenant).where(Tenant.slug == slug, Tenant.is_active.is_(True))
    ).one_or_none()
    return tenant, None


def register_tenant_prefix(bp: Blueprint) -> None:
    """Resolve ``<tenant_slug>`` in ``bp``'s URLs into ``g.tenant`` and ``g.membership``.

    An unknown or inactive slug is a 404 for everyone. Whether the visitor may
    see the page is decided afterwards by the view's access rule
    (``auth.permissions``), which reads ``g.membership``.
    """

    @bp.url_value_preprocessor
    def _resolve_tenant(_endpoint: str | None, values: dict[str, Any] | None) -> None:
        slug = (values or {}).pop("tenant_slug", None)
        tenant, membership = _tenant_and_membership(slug)
        if tenant is None:
            abort(404)
        g.tenant = tenant
        g.membership = membership

    @bp.url_defaults
    def _add_tenant_slug(endpoint: str, values: dict[str, Any]) -> None:
        if "tenant_slug" not in values and getattr(g, "tenant", None) is not None:
            values["tenant_slug"] = g.tenant.slug
