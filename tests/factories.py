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


def make_invitation(tenant: Tenant, email: str | None = None, role: Role | str = Role.VOLUNTEER,
                    *, invited_by: User | None = None, ttl_days: float = 14) -> Any:
    """A pending invitation (its e-mail queued in the outbox, as the real service does)."""
    from volunteer_platform.auth.services import invite

    invitation, _token = invite(
        tenant,
        email or f"invite{next(_counter)}@example.org",
        Role(role),
        invited_by=invited_by,
        now=utcnow(),
        ttl=timedelta(days=ttl_days),
        base_url="http://testserver.example",
    )
    db.session.commit()
    return invitation


def page_text(response: Any) -> str:
    """A response's HTML with entities decoded (so "C'est" matches "C&#39;est")."""
    import html

    return html.unescape(response.get_data(as_text=True))


# --- pages -------------------------------------------------------------------------

_CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_FLASH_RE = re.compile(r'<div class="flash flash-(\w+)"[^>]*>(.*?)</div>', re.DOTALL)


def csrf_token_in(response: Any) -> str:
    """The first CSRF token in a page's forms."""
    match = _CSRF_RE.search(response.get_data(as_text=True))
    assert match, "no csrf_token field in the page"
    return match.group(1)


def flashes_in(response: Any) -> list[tuple[str, str]]:
    """The flash messages shown on a page, as (category, text), entities decoded."""
    import html

    return [(category, html.unescape(text).strip())
            for category, text in _FLASH_RE.findall(response.get_data(as_text=True))]


def sign_in(client: Any, email: str, password: str = PASSWORD, *, remember: bool = False,
            next: str | None = None) -> Any:
    """Sign in through the real login form; returns the POST's response."""
    from urllib.parse import urlencode

    data = {"email": email, "password": password}
    if remember:
        data["remember"] = "y"
    url = "/login" if next is None else "/login?" + urlencode({"next": next})
    return client.post(url, data=data)


def is_signed_in(client: Any) -> bool:
    """Whether ``client`` is signed in (the account page needs a signed-in person)."""
    status = client.get("/account").status_code
    assert status in (200, 302), status
    return status == 200
