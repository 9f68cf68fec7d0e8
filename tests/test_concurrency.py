"""Rules that must hold under simultaneous requests, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import func, select

from tests.factories import make_tenant
from volunteer_platform.auth import services
from volunteer_platform.auth.models import Invitation, User
from volunteer_platform.db import utcnow
from volunteer_platform.errors import DomainError, InvalidToken
from volunteer_platform.extensions import db
from volunteer_platform.tenants.models import Membership, Role


def run_together(app, workers):
    """Start every worker at the same instant, each in its own app context."""
    barrier = threading.Barrier(len(workers))
    results: list[object] = [None] * len(workers)

    def run(index, work):
        with app.app_context():
            barrier.wait()
            try:
                results[index] = work()
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 - the result is inspected below
                db.session.rollback()
                results[index] = exc

    threads = [threading.Thread(target=run, args=(i, w)) for i, w in enumerate(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_an_invitation_link_is_used_once_even_by_simultaneous_clicks(app):
    tenant = make_tenant()
    _invitation, token = services.invite(
        tenant, "new@example.org", Role.VOLUNTEER, invited_by=None, now=utcnow(),
        ttl=timedelta(days=1), base_url="http://x",
    )
    db.session.commit()

    def accept(name):
        return lambda: services.accept_invitation(
            token, now=utcnow(), full_name=name, password="un mot de passe solide"
        )

    results = run_together(app, [accept(f"Personne {i}") for i in range(4)])

    successes = [r for r in results if not isinstance(r, Exception)]
    failures = [r for r in results if isinstance(r, Exception)]
    assert len(successes) == 1, results
    assert all(isinstance(f, (InvalidToken, DomainError)) for f in failures), failures
    db.session.rollback()
    assert db.session.scalar(select(func.count(User.id)).where(User.email == "new@example.org")) == 1
    assert db.session.scalar(select(func.count(Membership.id))) == 1
    assert db.session.scalars(select(Invitation)).one().accepted_at is not None
