"""Who may call a view: every view declares it, and one hook enforces it.

Deny by default: a view without a declaration is refused (403) at run time,
and ``tests/test_access_declared.py`` fails on it before that can ship.
The decorators only label the view; ``enforce_access`` (a ``before_request``
hook) decides, after the tenant has been resolved from the URL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import abort, current_app, g, request
from flask_login import current_user

from volunteer_platform.extensions import login_manager
from volunteer_platform.tenants.models import Role

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class AccessRule:
    kind: str  # "public", "login", "supervisor" or "role"
    roles: frozenset[Role] = frozenset()


def _label(rule: AccessRule) -> Callable[[F], F]:
    def decorate(view: F) -> F:
        view.access_rule = rule  # type: ignore[attr-defined]
        return view

    return decorate


def public(view: F) -> F:
    """Anyone, signed in or not."""
    return _label(AccessRule("public"))(view)


def require_login(view: F) -> F:
    """Any signed-in person."""
    return _label(AccessRule("login"))(view)


def require_supervisor(view: F) -> F:
    """Association staff only."""
    return _label(AccessRule("supervisor"))(view)


def require_role(*roles: Role | str) -> Callable[[F], F]:
    """Members of the URL's structure with one of ``roles`` (association staff too).

    A signed-in person who is not an active member of the structure gets a 404,
    as if the structure's pages did not exist; a member with another role gets
    a 403.
    """
    if not roles:
        raise ValueError("require_role needs at least one role")
    return _label(AccessRule("role", frozenset(Role(r) for r in roles)))


def access_rule_of(endpoint: str | None) -> AccessRule | None:
    view = current_app.view_functions.get(endpoint or "")
    return getattr(view, "access_rule", None)


def enforce_access() -> Any:
    if request.endpoint is None or request.endpoint == "static":
        return None  # routing failed (404/405) or a static file
    rule = access_rule_of(request.endpoint)
    if rule is None:
        current_app.logger.error("view %s declares no access rule", request.endpoint)
        abort(403)
    if rule.kind == "public":
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if rule.kind == "login":
        return None
    if rule.kind == "supervisor":
        if not current_user.is_supervisor:
            abort(403)
        return None
    # rule.kind == "role"
    tenant = getattr(g, "tenant", None)
    if tenant is None:  # a role rule on a view outside a tenant prefix: a bug
        current_app.logger.error("view %s uses require_role outside a tenant", request.endpoint)
        abort(403)
    if current_user.is_supervisor:
        return None
    membership = g.membership
    if membership is None:
        # Not a member: answer as for a structure that does not exist, so the
        # error page must not show this one either (its name in the menu).
        g.pop("tenant", None)
        g.pop("membership", None)
        abort(404)
    if membership.role not in rule.roles:
        abort(403)
    return None


def has_role(*roles: Role) -> bool:
    """For templates and views: may the current person act with one of ``roles`` here?"""
    if not current_user.is_authenticated:
        return False
    if current_user.is_supervisor:
        return True
    membership = getattr(g, "membership", None)
    return membership is not None and membership.role in roles
