"""Account pages: my account, password change, CSRF, rate limits, one request = one transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import build_app
from tests.factories import (
    PASSWORD,
    csrf_token_in,
    flashes_in,
    is_signed_in,
    make_member,
    make_user,
    page_text,
    sign_in,
)
from volunteer_platform.auth import services
from volunteer_platform.auth.models import PasswordReset, User
from volunteer_platform.auth.permissions import public
from volunteer_platform.db import utcnow
from volunteer_platform.extensions import db, limiter

NEW_PASSWORD = "une phrase de passe neuve"
TOO_SHORT = "Le mot de passe doit contenir au moins 12 caractères."


def stored(user: User) -> User:
    """The account as the database now has it."""
    return db.session.scalars(select(User).where(User.id == user.id)).one()


def change_password(client, current=PASSWORD, new=NEW_PASSWORD, confirm=None):
    return client.post(
        "/account",
        data={
            "form": "password",
            "password-current_password": current,
            "password-password": new,
            "password-confirm": new if confirm is None else confirm,
        },
    )


# --- account page -----------------------------------------------------------------------


def test_account_page_needs_a_signed_in_person(client, app):
    response = client.get("/account")
    assert response.status_code == 302
    assert response.location.startswith("/login")


def test_account_page_shows_my_details(client, login_as, volunteer_a):
    login_as(volunteer_a)
    response = client.get("/account")
    assert response.status_code == 200
    text = page_text(response)
    assert "Mon compte" in text
    assert "vol-a@example.org" in text
    assert 'value="Victor Alpha"' in text
    assert response.headers["Cache-Control"] == "no-store"


def test_profile_can_be_changed(client, login_as, volunteer_a):
    login_as(volunteer_a)
    response = client.post(
        "/account", data={"form": "profile", "profile-full_name": " Victor Nouveau ", "profile-locale": "en"}
    )
    assert response.status_code == 302
    user = stored(volunteer_a)
    assert (user.full_name, user.locale) == ("Victor Nouveau", "en")


def test_profile_needs_a_name(client, login_as, volunteer_a):
    login_as(volunteer_a)
    response = client.post("/account", data={"form": "profile", "profile-full_name": " ", "profile-locale": "fr"})
    assert response.status_code == 422
    assert "Ce champ est obligatoire." in page_text(response)
    assert stored(volunteer_a).full_name == "Victor Alpha"


def test_password_change_keeps_this_session_and_ends_the_others(app, client, tenant_a):
    user = make_member(tenant_a, "volunteer", email="marie@example.org")
    laptop, phone = client, app.test_client()
    sign_in(laptop, "marie@example.org")
    sign_in(phone, "marie@example.org")

    response = change_password(laptop)
    assert response.status_code == 302
    page = laptop.get(response.location)
    assert page.status_code == 200
    assert ("success", "Mot de passe changé. Vos autres appareils ont été déconnectés.") in flashes_in(page)

    assert is_signed_in(laptop)
    assert not is_signed_in(phone)
    account = stored(user)
    assert account.password_hash.startswith("$argon2id$")
    assert NEW_PASSWORD not in account.password_hash
    assert account.password_changed_at is not None
    assert sign_in(app.test_client(), "marie@example.org", PASSWORD).status_code == 422
    assert sign_in(app.test_client(), "marie@example.org", NEW_PASSWORD).status_code == 302


def test_password_change_ends_remembered_devices(app, client, tenant_a):
    make_member(tenant_a, "volunteer", email="marie@example.org")
    sign_in(client, "marie@example.org", remember=True)
    remembered = app.test_client()
    remembered.set_cookie("remember_token", client.get_cookie("remember_token").value)
    assert is_signed_in(remembered)
    change_password(client)
    assert not is_signed_in(remembered)


def test_password_change_refuses_a_short_password_and_changes_nothing(app, client, tenant_a):
    user = make_member(tenant_a, "volunteer", email="marie@example.org")
    phone = app.test_client()
    sign_in(client, "marie@example.org")
    sign_in(phone, "marie@example.org")
    before = (user.password_hash, user.session_token)

    response = change_password(client, new="a" * 11)

    assert response.status_code == 422
    text = page_text(response)
    assert TOO_SHORT in text
    assert "Le formulaire contient des erreurs" in text
    account = stored(user)
    assert (account.password_hash, account.session_token, account.password_changed_at) == (*before, None)
    assert is_signed_in(phone)


def test_password_change_refuses_a_short_password_even_past_the_form(app, client, tenant_a):
    # The form's length check and the service's rule say the same, in French.
    user = make_member(tenant_a, "volunteer", email="marie@example.org")
    sign_in(client, "marie@example.org")
    response = change_password(client, new=" " + "a" * 14)
    assert response.status_code == 422
    assert "Le mot de passe ne doit pas commencer ni finir par un espace." in page_text(response)
    assert stored(user).password_hash == user.password_hash


def test_password_change_needs_the_current_password(client, tenant_a):
    user = make_member(tenant_a, "volunteer", email="marie@example.org")
    sign_in(client, "marie@example.org")
    response = change_password(client, current="not-the-password")
    assert response.status_code == 422
    assert "Le mot de passe actuel est incorrect." in page_text(response)
    account = stored(user)
    assert (account.password_hash, account.session_token) == (user.password_hash, user.session_token)
    assert is_signed_in(client)


def test_password_change_needs_matching_confirmation(client, tenant_a):
    user = make_member(tenant_a, "volunteer", email="marie@example.org")
    sign_in(client, "marie@example.org")
    response = change_password(client, confirm=NEW_PASSWORD + "!")
    assert response.status_code == 422
    assert "Les deux mots de passe ne sont pas identiques." in page_text(response)
    assert stored(user).password_hash == user.password_hash


def test_password_change_voids_pending_reset_links(client, tenant_a):
    make_member(tenant_a, "volunteer", email="marie@example.org")
    client.post("/password/forgot", data={"email": "marie@example.org"})
    sign_in(client, "marie@example.org")
    change_password(client)
    assert [r.used_at is not None for r in db.session.scalars(select(PasswordReset))] == [True]


def test_unknown_account_form_is_refused(client, login_as, volunteer_a):
    login_as(volunteer_a)
    response = client.post("/account", data={"form": "other", "profile-full_name": "Autre Nom",
                                              "profile-locale": "en"})
    assert response.status_code == 400
    assert "Requête incorrecte" in page_text(response)
    user = stored(volunteer_a)
    assert (user.full_name, user.locale) == ("Victor Alpha", None)


# --- CSRF ------------------------------------------------------------------------------------


@pytest.fixture
def csrf(app, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)


def test_login_without_csrf_token_is_refused_and_signs_nobody_in(csrf, client, tenant_a):
    user = make_member(tenant_a, "volunteer", email="marie@example.org")
    response = sign_in(client, "marie@example.org")
    assert response.status_code == 400
    assert "Formulaire expiré" in page_text(response)
    assert not is_signed_in(client)
    assert stored(user).last_login_at is None


def test_login_with_a_wrong_csrf_token_is_refused(csrf, client, tenant_a):
    make_member(tenant_a, "volunteer", email="marie@example.org")
    client.get("/login")
    response = client.post(
        "/login", data={"email": "marie@example.org", "password": PASSWORD, "csrf_token": "forged"}
    )
    assert response.status_code == 400
    assert not is_signed_in(client)


def test_login_with_the_pages_csrf_token_works(csrf, client, tenant_a):
    make_member(tenant_a, "volunteer", email="marie@example.org")
    page = client.get("/login")
    assert page.status_code == 200
    response = client.post(
        "/login",
        data={"email": "marie@example.org", "password": PASSWORD, "csrf_token": csrf_token_in(page)},
    )
    assert response.status_code == 302
    assert is_signed_in(client)


def test_logout_without_csrf_token_is_refused_and_keeps_the_session(csrf, client, login_as, volunteer_a):
    login_as(volunteer_a)
    response = client.post("/logout")
    assert response.status_code == 400
    assert "Formulaire expiré" in page_text(response)
    assert is_signed_in(client)
    assert stored(volunteer_a).session_token == volunteer_a.session_token


def test_logout_with_the_pages_csrf_token_works(csrf, client, login_as, volunteer_a):
    login_as(volunteer_a)
    page = client.get("/account")
    response = client.post("/logout", data={"csrf_token": csrf_token_in(page)})
    assert response.status_code == 302
    assert not is_signed_in(client)


def test_password_change_without_csrf_token_changes_nothing(csrf, client, login_as, volunteer_a):
    login_as(volunteer_a)
    response = change_password(client)
    assert response.status_code == 400
    assert stored(volunteer_a).password_hash == volunteer_a.password_hash


def test_forgot_password_without_csrf_token_queues_nothing(csrf, client, outbox, volunteer_a):
    response = client.post("/password/forgot", data={"email": volunteer_a.email})
    assert response.status_code == 400
    assert outbox() == []


def test_pages_still_open_with_csrf_protection(csrf, client, login_as, volunteer_a):
    assert client.get("/login").status_code == 200
    assert client.get("/password/forgot").status_code == 200
    login_as(volunteer_a)
    assert client.get("/account").status_code == 200


# --- rate limit -------------------------------------------------------------------------------


@pytest.fixture
def limited_app(app, database_url, monkeypatch):
    """A second app with rate limits on (the database is the session app's).

    The limiter extension is one object shared by both apps: give it back its
    previous state afterwards so that other tests are not rate limited.
    """
    monkeypatch.setattr(limiter, "enabled", limiter.enabled)
    limited = build_app(database_url, RATELIMIT_ENABLED=True)
    with limited.app_context():
        limiter.reset()
    yield limited
    with limited.app_context():
        limiter.reset()
        db.engine.dispose()


def test_the_eleventh_rapid_login_attempt_is_refused_in_french(limited_app, tenant_a):
    make_member(tenant_a, "volunteer", email="marie@example.org")
    client = limited_app.test_client()
    for _ in range(10):
        response = client.post("/login", data={"email": "marie@example.org", "password": "guess-guess-guess"})
        assert response.status_code == 422

    response = client.post("/login", data={"email": "marie@example.org", "password": PASSWORD})

    assert response.status_code == 429
    text = page_text(response)
    assert "Trop de tentatives" in text
    assert "Patientez quelques minutes puis réessayez." in text
    assert "Retry-After" in response.headers
    assert client.get("/account").status_code == 302  # the right password did not get through
    assert client.get("/login").status_code == 200  # reading the page is not limited


# --- one request, one transaction -----------------------------------------------------------


def test_a_request_that_fails_after_queueing_an_email_sends_nothing(app, database_url, outbox):
    """The outbox row is written in the request's transaction: an error rolls it back."""
    make_user(email="marie@example.org")
    probe = build_app(database_url, PROPAGATE_EXCEPTIONS=False)

    @public
    def reset_then_fail():
        from datetime import timedelta

        services.request_password_reset(
            "marie@example.org", now=utcnow(), ttl=timedelta(hours=1), base_url="http://testserver.example"
        )
        db.session.flush()
        raise RuntimeError("something broke after the e-mail was queued")

    probe.add_url_rule("/__probe", "probe", reset_then_fail, methods=["POST"])
    try:
        response = probe.test_client().post("/__probe")
    finally:
        with probe.app_context():
            db.engine.dispose()

    assert response.status_code == 500
    assert "Rien n'a été enregistré." in page_text(response)
    assert outbox() == []
    assert db.session.scalars(select(PasswordReset)).all() == []


def test_a_language_chosen_before_signing_in_is_kept_on_the_account(client, tenant_a):
    from volunteer_platform.auth.models import User

    user = make_member(tenant_a, "volunteer", email="lina@example.org")
    assert user.locale is None
    client.post("/language", data={"language": "en", "next": "/login"})
    response = client.post("/login", data={"email": "lina@example.org", "password": PASSWORD})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).locale == "en"
    assert "My account" in page_text(client.get("/account"))
