"""The database layer: migrations, SQLite locking, UTC datetimes."""

from __future__ import annotations

import contextvars
import sqlite3
import threading
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import StatementError

from tests.conftest import build_app
from tests.factories import make_tenant
from volunteer_platform.extensions import db
from volunteer_platform.tenants.models import Tenant

APP_TABLES = {"tenant", "site", "user_account", "membership", "invitation", "password_reset",
              "outbox_email"}


@pytest.fixture
def scratch_database_url(database_url, tmp_path):
    """An empty database of the same kind as the suite's, dropped afterwards."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'scratch.sqlite3'}"
        return
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS vp_scratch"))
        conn.execute(text("CREATE DATABASE vp_scratch"))
    try:
        yield url.set(database="vp_scratch").render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text("DROP DATABASE IF EXISTS vp_scratch WITH (FORCE)"))
        admin.dispose()


def _diff(connection):
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, db.metadata)


def test_migrations_upgrade_downgrade_upgrade_and_match_the_models(scratch_database_url):
    app = build_app(scratch_database_url)
    with app.app_context():
        flask_migrate.upgrade()
        assert APP_TABLES <= set(inspect(db.engine).get_table_names())

        flask_migrate.downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) - {"alembic_version"} == set()

        flask_migrate.upgrade()
        with db.engine.connect() as connection:
            assert _diff(connection) == []
        db.session.remove()
        db.engine.dispose()


def test_sqlite_runs_in_wal_mode_with_foreign_keys_and_a_busy_timeout(tmp_path):
    app = build_app(f"sqlite:///{tmp_path / 'pragmas.sqlite3'}")
    with app.app_context(), db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 15000
    with app.app_context():
        db.engine.dispose()


def _other_writer_can_begin(path) -> bool:
    other = sqlite3.connect(path, timeout=0.05, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError as exc:
        assert "locked" in str(exc)
        return False
    finally:
        other.close()


def test_sqlite_transactions_take_the_write_lock_at_begin(tmp_path):
    """Outside read-only requests, a transaction locks the database before its
    first read — so a read-check-write (capacity) cannot interleave."""
    path = tmp_path / "lock.sqlite3"
    app = build_app(f"sqlite:///{path}")
    with app.app_context():
        flask_migrate.upgrade()
    results: dict[str, bool] = {}

    def in_a_command():  # no request: like a service called by a POST or a command
        with app.app_context():
            db.session.scalars(select(Tenant)).all()  # only a read so far
            results["during"] = _other_writer_can_begin(path)
            db.session.rollback()
            results["after"] = _other_writer_can_begin(path)

    thread = threading.Thread(target=in_a_command)
    thread.start()
    thread.join()
    assert results == {"during": False, "after": True}

    def in_a_get_request():
        with app.test_request_context("/", method="GET"):
            db.session.scalars(select(Tenant)).all()
            results["get"] = _other_writer_can_begin(path)
            db.session.rollback()

    contextvars.Context().run(in_a_get_request)
    assert results["get"] is True  # readers do not queue behind writers
    with app.app_context():
        db.engine.dispose()


def test_datetimes_are_stored_in_utc_and_read_back_aware(app):
    paris = datetime(2026, 3, 29, 14, 0, tzinfo=ZoneInfo("Europe/Paris"))  # the day DST starts
    tenant = make_tenant(created_at=paris)
    db.session.expire_all()
    stored = db.session.get(Tenant, tenant.id).created_at
    assert stored.tzinfo is not None
    assert stored.utcoffset().total_seconds() == 0
    assert stored == datetime(2026, 3, 29, 12, 0, tzinfo=UTC)


def test_naive_datetimes_are_refused(app):
    db.session.add(Tenant(slug="naive", name="Naïve", kind="ccas", timezone="Europe/Paris",
                          created_at=datetime(2026, 1, 1, 12, 0)))
    with pytest.raises(StatementError, match="naive"):
        db.session.flush()
    db.session.rollback()
