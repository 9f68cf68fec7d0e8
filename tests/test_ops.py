"""Operations: liveness and readiness probes, the generic error page."""

from __future__ import annotations

import html
import logging
from datetime import timedelta

import flask_migrate

from tests.conftest import build_app
from volunteer_platform.auth.permissions import public
from volunteer_platform.db import utcnow
from volunteer_platform.extensions import db
from volunteer_platform.notifications.services import queue_email


def test_healthz_answers_without_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_checks_database_migrations_and_email_backlog(app, client):
    ready = client.get("/readyz")
    assert ready.status_code == 200
    body = ready.get_json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["migrations"]["status"] == "ok"
    assert body["checks"]["migrations"]["database"] == body["checks"]["migrations"]["code"]
    assert body["checks"]["email"] == {"pending": 0, "failed": 0, "oldest_pending_minutes": None, "status": "ok"}

    with app.app_context():
        queue_email("a@example.org", "Sujet", "Corps", now=utcnow() - timedelta(hours=2))
        db.session.commit()
    behind = client.get("/readyz")
    assert behind.status_code == 200  # pages work without e-mail: still ready, but reported
    email = behind.get_json()["checks"]["email"]
    assert email["pending"] == 1 and email["status"] == "behind" and email["oldest_pending_minutes"] >= 119


def test_readyz_is_503_while_migrations_are_pending(tmp_path):
    stale = build_app(f"sqlite:///{tmp_path / 'stale.sqlite3'}")
    with stale.app_context():
        flask_migrate.upgrade(revision="0006_external_calendars")
    response = stale.test_client().get("/readyz")
    assert response.status_code == 503
    migrations = response.get_json()["checks"]["migrations"]
    assert migrations["status"] == "pending"
    assert migrations["database"] == ["0006_external_calendars"]


def test_readyz_is_503_when_the_database_is_unreachable(tmp_path):
    gone = build_app(f"sqlite:///{tmp_path / 'missing-dir' / 'db.sqlite3'}")
    response = gone.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "checks": {"database": "unreachable"}}


def test_a_crash_shows_a_french_page_with_an_incident_id_and_logs_the_traceback(database_url, caplog):
    probe = build_app(database_url, PROPAGATE_EXCEPTIONS=False)

    def explode():
        raise RuntimeError("secret internal detail")

    probe.add_url_rule("/__explode", "explode", public(explode))
    with caplog.at_level(logging.ERROR):
        response = probe.test_client().get("/__explode")
    assert response.status_code == 500
    page = html.unescape(response.get_data(as_text=True))
    incident = response.headers["X-Incident-Id"]
    assert "Erreur du serveur" in page and "Rien n'a été enregistré" in page
    assert incident in page
    assert "secret internal detail" not in page and "Traceback" not in page
    logged = [r for r in caplog.records if incident in r.getMessage()]
    assert logged and logged[0].exc_info[0] is RuntimeError
