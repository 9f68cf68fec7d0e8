"""Shared fixtures: one application per test session, a clean database per test.

The database is real: a SQLite file by default, or the PostgreSQL server named
by ``TEST_DATABASE_URL`` (``make test`` runs the suite on both). Its schema is
built by the Alembic migrations, exactly as in production.

Test client requests run in a fresh ``contextvars`` context, so each request
gets its own application context — its own ``g`` and its own database session
— as in a real server. (pytest-flask keeps a request context pushed during
each test; without this, requests would share the test's ``g`` and session.)
After each request the test's own session ends its transaction, so the next
read sees what the request committed.
"""

from __future__ import annotations

import contextvars
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import flask_migrate
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, text
from sqlalchemy.engine import make_url

from tests.factories import make_membership, make_tenant, make_user
from volunteer_platform import create_app
from volunteer_platform.extensions import db, limiter

TEST_SECRET_KEY = "test-secret-key-" + "x" * 32


class IsolatedClient(FlaskClient):
    def open(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        response = contextvars.Context().run(super().open, *args, **kwargs)
        try:
            has_session = db.session.registry.has()
        except RuntimeError:  # no application context in the test
            has_session = False
        if has_session:
            db.session.rollback()
        return response


def test_environ(database_url: str, **extra: str) -> dict[str, str]:
    """Settings for a test app, independent of the developer's own environment."""
    return {
        "APP_ENV": "testing",
        "SECRET_KEY": TEST_SECRET_KEY,
        "DATABASE_URL": database_url,
        "BASE_URL": "http://testserver.example",
        **extra,
    }


def build_app(database_url: str, **config: Any) -> Flask:
    app = create_app(
        {
            "ENVIRON": test_environ(database_url),
            "TESTING": True,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            **config,
        }
    )
    app.test_client_class = IsolatedClient
    return app


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def is_postgres(database_url: str) -> bool:
    return make_url(database_url).get_backend_name() == "postgresql"


def drop_everything(app: Flask) -> None:
    """Start from an empty database (PostgreSQL keeps data between runs)."""
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "postgresql":
            with engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))


@pytest.fixture(scope="session")
def app(database_url: str) -> Iterator[Flask]:
    app = build_app(database_url)
    drop_everything(app)
    with app.app_context():
        flask_migrate.upgrade()
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_database(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "app" not in request.fixturenames:
        return
    app: Flask = request.getfixturevalue("app")
    try:  # end the test's own transaction first, or its lock would block the clean-up
        db.session.remove()
    except RuntimeError:  # no application context left
        pass
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())
    with app.app_context():
        if limiter.enabled:
            limiter.reset()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client that does not keep request contexts after a request.

    (pytest-flask's own ``client`` enters ``with app.test_client()``, which
    preserves each request's context; our requests run in their own
    ``contextvars`` context, see ``IsolatedClient``.)
    """
    return app.test_client()


# --- data -------------------------------------------------------------------------


@pytest.fixture
def tenant_a(app: Flask):
    return make_tenant(slug="structure-a", name="Structure A")


@pytest.fixture
def tenant_b(app: Flask):
    return make_tenant(slug="structure-b", name="Structure B")


@pytest.fixture
def login_as(client: FlaskClient) -> Callable[..., Any]:
    """Sign ``user`` in on ``client`` without going through the login form."""

    def _login(user: Any, *, on: FlaskClient | None = None) -> Any:
        with (on or client).session_transaction() as session:
            session.clear()
            session["_user_id"] = user.session_token
            session["_fresh"] = True
        return user

    return _login


@pytest.fixture
def coordinator_a(tenant_a):
    return make_membership(tenant_a, make_user(email="coord-a@example.org", full_name="Coralie Alpha"), "coordinator").user


@pytest.fixture
def volunteer_a(tenant_a):
    return make_membership(tenant_a, make_user(email="vol-a@example.org", full_name="Victor Alpha"), "volunteer").user


@pytest.fixture
def coordinator_b(tenant_b):
    return make_membership(tenant_b, make_user(email="coord-b@example.org", full_name="Bérénice Bravo"), "coordinator").user


@pytest.fixture
def supervisor(app: Flask):
    return make_user(email="staff@example.org", full_name="Sam Supervision", is_supervisor=True)


# --- measuring ---------------------------------------------------------------------

_NOT_A_QUERY = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|PRAGMA)", re.IGNORECASE)


@contextmanager
def _count_queries(app: Flask) -> Iterator[list[str]]:
    statements: list[str] = []
    with app.app_context():
        engine = db.engine

    def _record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not _NOT_A_QUERY.match(statement):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", _record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", _record)


@pytest.fixture
def count_queries(app: Flask) -> Callable[[], Any]:
    """``with count_queries() as queries: …`` then ``len(queries)``."""
    return lambda: _count_queries(app)


@pytest.fixture
def outbox(app: Flask) -> Callable[[], list[Any]]:
    """The e-mails queued so far, oldest first."""
    from sqlalchemy import select

    from volunteer_platform.notifications.models import OutboxEmail

    def _outbox() -> list[Any]:
        db.session.rollback()
        return list(db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))

    return _outbox
