"""Signing in and out through the real forms: answers, redirects, sessions, remember me."""

import re

import pytest
from sqlalchemy import select

from tests.factories import PASSWORD, is_signed_in, make_member, page_text, sign_in
from volunteer_platform.auth import services
from volunteer_platform.auth.models import User
from volunteer_platform.extensions import db

INCORRECT = "Adresse e-mail ou mot de passe incorrect."


def test_login_with_right_password_opens_the_structure(client, tenant_a):
    user = make_member(tenant_a, "volunteer", email="marie@example.org")
    response = client.post("/login", data={"email": "Marie@Example.org ", "password": PASSWORD})
    assert response.status_code == 302
    home = client.get("/", follow_redirects=True)
    assert home.status_code == 200
    assert tenant_a.name in home.get_data(as_text=True)
    assert user.first_name in home.get_data(as_text=True)


def test_wrong_password_and_unknown_address_get_the_same_answer(client, tenant_a):
    make_member(tenant_a, "volunteer", email="marie@example.org")
    wrong = client.post("/login", data={"email": "marie@example.org", "password": "not-the-password"})
    unknown = client.post("/login", data={"email": "nobody@example.org", "password": "not-the-password"})
    assert wrong.status_code == unknown.status_code == 422
    message = "Adresse e-mail ou mot de passe incorrect."
    assert message in wrong.get_data(as_text=True)
    assert message in unknown.get_data(as_text=True)
    assert client.get("/account").status_code == 302  # still signed out


# --- more on signing in --------------------------------------------------------------


def test_login_page_is_in_french(client, app):
    response = client.get("/login")
    assert response.status_code == 200
    text = page_text(response)
    assert "Se connecter" in text and "Mot de passe oublié ?" in text
    assert "Rester connecté sur cet appareil" in text


def test_login_records_the_time_of_the_login(client, tenant_a):
    user = make_member(tenant_a, "volunteer", email="marie@example.org")
    assert user.last_login_at is None
    sign_in(client, "marie@example.org")
    assert db.session.scalars(select(User.last_login_at).where(User.id == user.id)).one() is not None


def test_wrong_password_and_unknown_address_pages_are_identical(client, tenant_a):
    make_member(tenant_a, "volunteer", email="marie@example.org")
    wrong = sign_in(client, "marie@example.org", "not-the-password")
    unknown = sign_in(client, "nobody@example.org", "not-the-password")
    # Apart from the address typed back into the form (and the time-stamped CSRF
    # tokens), the two pages are the same.
    assert wrong.status_code == unknown.status_code == 422

    def comparable(response, email):
        return re.sub(r'name="csrf_token" value="[^"]*"', "", page_text(response).replace(email, "@"))

    assert comparable(wrong, "marie@example.org") == comparable(unknown, "nobody@example.org")


def test_deactivated_account_cannot_sign_in(client, tenant_a):
    make_member(tenant_a, "volunteer", email="parti@example.org", is_active=False)
    response = sign_in(client, "parti@example.org")
    assert response.status_code == 422
    assert INCORRECT in page_text(response)
    assert not is_signed_in(client)


def test_empty_form_shows_french_field_errors(client, app):
    response = client.post("/login", data={"email": "pas-une-adresse", "password": ""})
    assert response.status_code == 422
    text = page_text(response)
    assert "Saisissez une adresse e-mail valide" in text
    assert "Ce champ est obligatoire." in text
    assert not is_signed_in(client)


def test_a_protected_page_sends_to_login_and_back(client, tenant_a):
    make_member(tenant_a, "volunteer", email="marie@example.org")
    response = client.get("/account")
    assert response.status_code == 302
    assert response.location.startswith("/login?next=")
    login_page = client.get(response.location)
    assert "Connectez-vous pour accéder à cette page." in page_text(login_page)
    back = client.post(response.location, data={"email": "marie@example.org", "password": PASSWORD})
    assert back.status_code == 302
    assert back.location == "/account"


def test_next_path_on_the_site_is_honoured(client, tenant_a):
    make_member(tenant_a, "volunteer", email="marie@example.org")
    response = sign_in(client, "marie@example.org", next="/structure-a/?tab=1")
    assert response.status_code == 302
    assert response.location == "/structure-a/?tab=1"


@pytest.mark.parametrize(
    "target",
    ["//evil.example", "https://evil.example", "/\\evil", "http://evil.example/x", "\\\\evil",
     "/\t/evil.example", "javascript:alert(1)", "evil.example"],
)
def test_next_to_another_site_is_refused(client, tenant_a, target):
    make_member(tenant_a, "volunteer", email="marie@example.org")
    response = sign_in(client, "marie@example.org", next=target)
    assert response.status_code == 302
    assert response.location == "/"
    assert is_signed_in(client)


def test_signing_in_starts_a_new_session(client, tenant_a):
    make_member(tenant_a, "volunteer", email="marie@example.org")
    with client.session_transaction() as session:
        session["planted"] = "by-an-attacker"
        session["locale"] = "en"
    before = client.get_cookie("session").value

    sign_in(client, "marie@example.org")

    after = client.get_cookie("session").value
    assert after != before
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["locale"] == "en"  # the chosen language survives
        assert session["_user_id"]


def test_an_old_session_cookie_does_not_become_signed_in(app, client, tenant_a):
    # The cookie held before the login (e.g. planted by someone else) stays anonymous.
    make_member(tenant_a, "volunteer", email="marie@example.org")
    client.get("/login")
    with client.session_transaction() as session:
        session["planted"] = "x"
    old_cookie = client.get_cookie("session").value
    sign_in(client, "marie@example.org")
    attacker = app.test_client()
    attacker.set_cookie("session", old_cookie)
    assert not is_signed_in(attacker)
    assert is_signed_in(client)


def test_without_remember_me_no_remember_cookie_is_set(client, tenant_a):
    make_member(tenant_a, "volunteer", email="marie@example.org")
    sign_in(client, "marie@example.org")
    assert client.get_cookie("remember_token") is None


def test_remember_me_keeps_the_person_signed_in_without_the_session_cookie(app, client, tenant_a):
    make_member(tenant_a, "volunteer", email="marie@example.org")
    sign_in(client, "marie@example.org", remember=True)
    remember = client.get_cookie("remember_token")
    assert remember is not None and remember.http_only

    browser_reopened = app.test_client()
    browser_reopened.set_cookie("remember_token", remember.value)
    assert browser_reopened.get_cookie("session") is None
    response = browser_reopened.get("/account")
    assert response.status_code == 200
    assert "marie@example.org" in page_text(response)


def test_logout_signs_out_and_says_so(client, tenant_a):
    make_member(tenant_a, "volunteer", email="marie@example.org")
    sign_in(client, "marie@example.org")
    response = client.post("/logout", follow_redirects=True)
    assert response.status_code == 200
    assert "Vous êtes déconnecté." in page_text(response)
    assert not is_signed_in(client)


def test_logout_is_a_post_only(client, tenant_a):
    make_member(tenant_a, "volunteer", email="marie@example.org")
    sign_in(client, "marie@example.org")
    response = client.get("/logout", follow_redirects=True)
    assert 400 <= response.status_code < 500
    assert is_signed_in(client)


def test_logout_ends_the_persons_other_sessions(app, client, tenant_a):
    user = make_member(tenant_a, "volunteer", email="marie@example.org")
    phone = app.test_client()
    sign_in(client, "marie@example.org")
    sign_in(phone, "marie@example.org")
    assert is_signed_in(client) and is_signed_in(phone)
    old_token = user.session_token

    client.post("/logout")

    assert not is_signed_in(phone)
    assert not is_signed_in(client)
    assert db.session.scalars(select(User.session_token).where(User.id == user.id)).one() != old_token


def test_logout_also_ends_remembered_devices_and_clears_the_remember_cookie(app, client, tenant_a):
    make_member(tenant_a, "volunteer", email="marie@example.org")
    sign_in(client, "marie@example.org", remember=True)
    tablet = app.test_client()
    tablet.set_cookie("remember_token", client.get_cookie("remember_token").value)
    assert is_signed_in(tablet)

    client.post("/logout")

    assert client.get_cookie("remember_token") is None
    fresh = app.test_client()  # the tablet with its session cookie expired
    fresh.set_cookie("remember_token", tablet.get_cookie("remember_token").value)
    assert not is_signed_in(fresh)
    assert not is_signed_in(tablet)


def test_other_people_stay_signed_in_when_someone_logs_out(app, client, tenant_a):
    make_member(tenant_a, "volunteer", email="marie@example.org")
    make_member(tenant_a, "volunteer", email="paul@example.org")
    other = app.test_client()
    sign_in(client, "marie@example.org")
    sign_in(other, "paul@example.org")
    client.post("/logout")
    assert is_signed_in(other)


def test_deactivation_ends_sessions_and_remembered_devices(app, client, tenant_a):
    user = make_member(tenant_a, "volunteer", email="marie@example.org")
    sign_in(client, "marie@example.org", remember=True)
    remembered = app.test_client()
    remembered.set_cookie("remember_token", client.get_cookie("remember_token").value)
    assert is_signed_in(client) and is_signed_in(remembered)

    services.set_user_active(user, False)
    db.session.commit()

    assert not is_signed_in(client)
    assert not is_signed_in(remembered)
    response = sign_in(app.test_client(), "marie@example.org")
    assert response.status_code == 422


def test_a_reactivated_account_signs_in_again_but_old_sessions_stay_closed(app, client, tenant_a):
    user = make_member(tenant_a, "volunteer", email="marie@example.org")
    sign_in(client, "marie@example.org")
    services.set_user_active(user, False)
    db.session.commit()
    services.set_user_active(db.session.get(User, user.id), True)
    db.session.commit()

    assert not is_signed_in(client)
    again = app.test_client()
    assert sign_in(again, "marie@example.org").status_code == 302
    assert is_signed_in(again)


def test_signed_in_person_visiting_login_goes_home(client, tenant_a):
    make_member(tenant_a, "volunteer", email="marie@example.org")
    sign_in(client, "marie@example.org")
    response = client.get("/login")
    assert response.status_code == 302
    assert response.location == "/"
