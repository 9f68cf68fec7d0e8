"""Application-wide behaviour: configuration, demo data, headers, languages."""

from __future__ import annotations

import stat

import pytest
from sqlalchemy import func, select

from tests.factories import PASSWORD, make_member
from volunteer_platform.auth.models import User
from volunteer_platform.config import ConfigError, load_config
from volunteer_platform.demo import DEMO_PASSWORD
from volunteer_platform.extensions import db
from volunteer_platform.tenants.models import Membership, Tenant

# --- configuration ---------------------------------------------------------------


def test_development_secret_key_is_generated_once_and_kept_private(tmp_path):
    first = load_config(str(tmp_path), {})
    second = load_config(str(tmp_path), {})
    assert len(first["SECRET_KEY"]) >= 32
    assert first["SECRET_KEY"] == second["SECRET_KEY"]
    key_file = tmp_path / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_default_database_is_a_sqlite_file_in_instance(tmp_path):
    config = load_config(str(tmp_path), {})
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/volunteer_platform.sqlite3"
    assert config["DEFAULT_TIMEZONE"] == "Europe/Paris"


def test_connections_are_tested_before_use_unless_turned_off(tmp_path):
    assert load_config(str(tmp_path), {})["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is True
    off = load_config(str(tmp_path), {"DATABASE_PRE_PING": "false"})
    assert off["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is False


def test_postgres_urls_get_the_psycopg_driver(tmp_path):
    config = load_config(str(tmp_path), {"DATABASE_URL": "postgres://u:p@db/vp"})
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db/vp"


@pytest.mark.parametrize(
    "environ, message",
    [
        ({"APP_ENV": "production", "BASE_URL": "https://x.example"}, "SECRET_KEY must be set"),
        ({"APP_ENV": "production", "SECRET_KEY": "short", "BASE_URL": "https://x"}, "at least 32"),
        ({"APP_ENV": "production", "SECRET_KEY": "k" * 40}, "BASE_URL must be set"),
        ({"APP_ENV": "staging"}, "APP_ENV must be"),
        ({"MAIL_PORT": "smtp"}, "MAIL_PORT"),
    ],
)
def test_production_refuses_to_start_without_its_settings(tmp_path, environ, message):
    with pytest.raises(ConfigError, match=message):
        load_config(str(tmp_path), environ)
    assert not (tmp_path / "secret_key").exists() or environ.get("APP_ENV") != "production"


def test_production_cookies_are_secure(tmp_path):
    config = load_config(
        str(tmp_path), {"APP_ENV": "production", "SECRET_KEY": "k" * 40, "BASE_URL": "https://x"}
    )
    assert config["SESSION_COOKIE_SECURE"] and config["REMEMBER_COOKIE_SECURE"]
    assert config["SESSION_COOKIE_HTTPONLY"] and config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_a_production_response_sets_hsts_and_secure_cookies(database_url, tenant_a):
    from tests.conftest import test_environ as environ_for
    from volunteer_platform import create_app

    production = create_app({
        "ENVIRON": environ_for(database_url, APP_ENV="production", SECRET_KEY="p" * 40,
                               BASE_URL="https://aidants.example.org"),
        "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False,
    })
    make_member(tenant_a, "volunteer", email="prod@example.org")
    client = production.test_client()
    response = client.post("/login", data={"email": "prod@example.org", "password": PASSWORD},
                           base_url="https://aidants.example.org")
    assert response.status_code == 302
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


# --- demo data ---------------------------------------------------------------------


def test_seed_demo_creates_the_documented_structures_and_logins(app, client):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["seed-demo", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert DEMO_PASSWORD in result.output
    assert "benevole-multi@demo.example.org" in result.output

    slugs = set(db.session.scalars(select(Tenant.slug)))
    assert slugs == {"ccas-bethune", "passerelle-lens", "mairie-roubaix"}
    multi = db.session.scalars(select(User).where(User.email == "benevole-multi@demo.example.org")).one()
    assert db.session.scalar(select(func.count()).where(Membership.user_id == multi.id)) == 2
    for slug in slugs:
        for login in ["coordination", "formation", *(f"benevole{i}" for i in range(1, 6))]:
            assert db.session.scalars(select(User.id).where(User.email == f"{login}@{slug}.example.org")).one()

    # A second run on a non-empty database changes nothing.
    again = runner.invoke(args=["seed-demo", "--if-empty"])
    assert again.exit_code == 0 and "already has data" in again.output
    assert db.session.scalar(select(func.count(User.id))) == 1 + 3 * 7 + 1

    # The documented logins work through the real form.
    response = client.post("/login", data={"email": "supervision@demo.example.org", "password": DEMO_PASSWORD})
    assert response.status_code == 302
    assert "Mairie de Roubaix" in client.get("/supervision/").get_data(as_text=True)


# --- HTTP -----------------------------------------------------------------------


def test_security_headers_on_every_page(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]


def test_pages_with_personal_data_are_not_cached(client, login_as, tenant_a):
    login_as(make_member(tenant_a, "coordinator"))
    response = client.get(f"/{tenant_a.slug}/members")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_unknown_page_is_a_french_404(client):
    response = client.get("/this/does/not/exist")
    assert response.status_code == 404
    assert "Page introuvable" in response.get_data(as_text=True)


def test_health_check(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


# --- languages -------------------------------------------------------------------


def test_french_by_default_and_english_from_the_browser(client):
    french = client.get("/login").get_data(as_text=True)
    assert 'lang="fr"' in french and "Mot de passe oublié ?" in french
    english = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(as_text=True)
    assert 'lang="en"' in english and "Forgotten your password?" in english


def test_language_switch_is_remembered_and_saved_on_the_account(client, login_as, tenant_a):
    user = login_as(make_member(tenant_a, "volunteer"))
    response = client.post("/language", data={"language": "en", "next": "/account"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/account")
    assert 'lang="en"' in client.get("/account").get_data(as_text=True)
    db.session.refresh(user)
    assert user.locale == "en"


def test_language_switch_refuses_foreign_redirects(client):
    response = client.post("/language", data={"language": "en", "next": "//evil.example/x"})
    assert response.headers["Location"] == "/"


def test_a_service_refusal_reaching_no_form_is_a_french_page_not_a_500(app, database_url):
    from tests.conftest import build_app
    from volunteer_platform.auth.permissions import public
    from volunteer_platform.errors import Conflict, NotFound

    probe = build_app(database_url)
    probe.add_url_rule("/__not_found", "nf", public(lambda: (_ for _ in ()).throw(NotFound("not found"))))
    probe.add_url_rule("/__conflict", "cf", public(lambda: (_ for _ in ()).throw(Conflict("Déjà pris."))))
    client = probe.test_client()
    missing = client.get("/__not_found")
    assert missing.status_code == 404
    assert "Page introuvable" in missing.get_data(as_text=True)
    assert "not found" not in missing.get_data(as_text=True)
    conflict = client.get("/__conflict")
    assert conflict.status_code == 409
    assert "Déjà pris." in conflict.get_data(as_text=True)
