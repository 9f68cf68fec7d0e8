"""Plain factory functions: each creates what it says, commits, and returns it."""

from __future__ import annotations

import itertools
import re
from datetime import timedelta
from functools import lru_cache
from typing import Any

from volunteer_platform.auth.models import User
from volunteer_platform.auth.services import hash_password, new_session_token
from volunteer_platform.db import utcnow
from volunteer_platform.extensions import db
from volunteer_platform.tenants.models import Membership, Role, Site, Tenant, TenantKind

PASSWORD = "correct-horse-battery"
_counter = itertools.count(1)


@lru_cache(maxsize=1)
def _password_hash() -> str:
    # Hashing costs ~50 ms with Argon2id; every test user shares one hash.
    return hash_password(PASSWORD)


def make_tenant(**fields: Any) -> Tenant:
    n = next(_counter)
    tenant = Tenant(
        slug=fields.pop("slug", f"structure-{n}"),
        name=fields.pop("name", f"Structure {n}"),
        kind=fields.pop("kind", TenantKind.CCAS),
        timezone=fields.pop("timezone", "Europe/Paris"),
        **fields,
    )
    db.session.add(tenant)
    db.session.commit()
    return tenant


def make_site(tenant: Tenant, **fields: Any) -> Site:
    n = next(_counter)
    site = Site(
        tenant_id=tenant.id,
        name=fields.pop("name", f"Lieu {n}"),
        address=fields.pop("address", f"{n} rue de la Paix"),
        postal_code=fields.pop("postal_code", "62400"),
        city=fields.pop("city", "Béthune"),
        **fields,
    )
    db.session.add(site)
    db.session.commit()
    return site


def make_user(**fields: Any) -> User:
    n = next(_counter)
    user = User(
        email=fields.pop("email", f"person{n}@example.org"),
        full_name=fields.pop("full_name", f"Personne {n}"),
        password_hash=fields.pop("password_hash", _password_hash()),
        session_token=new_session_token(),
        created_at=utcnow(),
        **fields,
    )
    db.session.add(user)
    db.session.commit()
    return user


def make_membership(tenant: Tenant, user: User | None = None, role: Role | str = Role.VOLUNTEER,
                    **fields: Any) -> Membership:
    membership = Membership(
        tenant_id=tenant.id, user_id=(user or make_user()).id, role=Role(role), **fields
    )
    db.session.add(membership)
    db.session.commit()
    return membership


def make_member(tenant: Tenant, role: Role | str = Role.VOLUNTEER, **user_fields: Any) -> User:
    user = make_user(**user_fields)
    make_membership(tenant, user, role)
    return user


LINK_RE = re.compile(r"http://testserver\.example(/\S+)")


def link_in(body: str) -> str:
    """The path of the first link to the app in an e-mail body."""
    match = LINK_RE.search(body)
    assert match, f"no link in e-mail: {body!r}"
    return match.group(1)


def later(**delta: float):
    return utcnow() + timedelta(**delta)
