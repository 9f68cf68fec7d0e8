"""``flask backup`` / ``flask restore``: a restore into a fresh database gives the same data."""

from __future__ import annotations

import uuid
from pathlib import Path

import flask_migrate
import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from tests.conftest import build_app
from tests.factories import make_member, make_tenant
from tests.scheduling.factories import make_event
from volunteer_platform.extensions import db


def run(app, *args: str, **kwargs):
    """Invoke a command of ``app``. Its own app context must be pushed: pytest-flask keeps the
    suite's app current during a test, and ``with_appcontext`` would otherwise use that one."""
    with app.app_context():
        return app.test_cli_runner().invoke(args=list(args), **kwargs)


def snapshot(app) -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order."""
    with app.app_context():
        rows = {}
        for table in db.metadata.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            rows[table.name] = [tuple(r) for r in db.session.execute(select(table).order_by(*order))]
        rows["alembic_version"] = list(db.session.execute(text("SELECT version_num FROM alembic_version")))
        db.session.remove()
        return rows


@pytest.fixture
def fresh_database_url(database_url, tmp_path, is_postgres):
    """An empty database on the same kind of server as the suite's."""
    if not is_postgres:
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    url = make_url(database_url)
    name = f"vp_restore_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_backup_then_restore_into_a_fresh_database_gives_the_same_data(app, tmp_path, fresh_database_url):
    tenant = make_tenant(name="CCAS de Sauvegarde — « accents » œ")
    make_member(tenant, full_name="Zoé Lœuvre")
    make_event(tenant, "workshop", title="Atelier sauvegardé", capacity=8)
    before = snapshot(app)
    assert before["tenant"] and before["event"]

    archive: Path = tmp_path / "backup.dump"
    result = run(app, "backup", str(archive))
    assert result.exit_code == 0, result.output
    assert archive.stat().st_size > 0

    target = build_app(fresh_database_url)
    result = run(target, "restore", "--yes", str(archive))
    assert result.exit_code == 0, result.output
    assert snapshot(target) == before


def test_restore_replaces_what_the_target_had(app, tmp_path, fresh_database_url):
    make_tenant(slug="kept-structure")
    archive = tmp_path / "backup.dump"
    assert run(app, "backup", str(archive)).exit_code == 0

    target = build_app(fresh_database_url)
    with target.app_context():
        flask_migrate.upgrade()
        db.session.remove()
    with target.app_context():
        make_tenant(slug="to-be-replaced")
        db.session.remove()
    assert run(target, "restore", "--yes", str(archive)).exit_code == 0
    slugs = [row[1] for row in snapshot(target)["tenant"]]
    assert slugs == ["kept-structure"]


def test_restore_refuses_a_file_that_is_not_a_backup(app, tmp_path):
    bogus = tmp_path / "bogus.dump"
    bogus.write_bytes(b"not a backup at all")
    result = run(app, "restore", "--yes", str(bogus))
    assert result.exit_code != 0
    assert "backup" in result.output or "failed" in result.output
    assert snapshot(app)["alembic_version"]  # the suite's database is untouched


def test_restore_asks_for_confirmation(app, tmp_path):
    archive = tmp_path / "backup.dump"
    assert run(app, "backup", str(archive)).exit_code == 0
    result = run(app, "restore", str(archive), input="n\n")
    assert result.exit_code != 0 and "Aborted" in result.output
