"""Forgotten password: asking for a link, the e-mail, choosing a new password."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.factories import (
    PASSWORD,
    flashes_in,
    is_signed_in,
    link_in,
    make_member,
    page_text,
    sign_in,
)
from volunteer_platform.auth import services
from volunteer_platform.auth.models import PasswordReset, User
from volunteer_platform.db import utcnow
from volunteer_platform.extensions import db

NEW_PASSWORD = "une phrase de passe neuve"
SENT = ("Si un compte existe pour cette adresse, un e-mail vient d'y être envoyé avec un lien pour "
        "choisir un nouveau mot de passe.")
NO_LONGER_VALID = "Ce lien de réinitialisation n'est plus valable. Faites une nouvelle demande."


def ask_for_link(client, email):
    return client.post("/password/forgot", data={"email": email})


def choose(client, link, password=NEW_PASSWORD, confirm=None):
    return client.post(link, data={"password": password, "confirm": password if confirm is None else confirm})


def stored(user) -> User:
    return db.session.scalars(select(User).where(User.id == user.id)).one()


def resets() -> list[PasswordReset]:
    return list(db.session.scalars(select(PasswordReset).order_by(PasswordReset.id)))


def test_forgot_password_page_is_in_french(client, app):
    response = client.get("/password/forgot")
    assert response.status_code == 200
    assert "Indiquez votre adresse e-mail" in page_text(response)


def test_known_and_unknown_addresses_get_the_same_answer(app, client, tenant_a, outbox):
    make_member(tenant_a, "volunteer", email="marie@example.org", full_name="Marie Curie")
    make_member(tenant_a, "volunteer", email="parti@example.org", is_active=False)
    answers = []
    for email in ("marie@example.org", "nobody@example.org", "parti@example.org"):
        visitor = app.test_client()
        response = ask_for_link(visitor, email)
        page = visitor.get(response.location)
        answers.append((response.status_code, response.location, response.get_data(), flashes_in(page)))
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][:2] == (302, "/login")
    assert answers[0][3] == [("success", SENT)]

    [email] = outbox()  # only the active, known account gets an e-mail
    assert email.to_address == "marie@example.org"
    assert email.subject == "Choisir un nouveau mot de passe"
    assert "Bonjour Marie," in email.body_text
    assert link_in(email.body_text).startswith("/password/reset/")
    assert len(resets()) == 1


def test_the_address_is_matched_whatever_its_case(client, tenant_a, outbox):
    make_member(tenant_a, "volunteer", email="marie@example.org")
    ask_for_link(client, "  MARIE@Example.org ")
    assert [e.to_address for e in outbox()] == ["marie@example.org"]


def test_an_invalid_address_is_a_form_error(client, app, outbox):
    response = ask_for_link(client, "pas-une-adresse")
    assert response.status_code == 422
    assert "Saisissez une adresse e-mail valide" in page_text(response)
    assert outbox() == []


def test_the_link_sets_the_password_and_signs_in(app, client, tenant_a, outbox):
    user = make_member(tenant_a, "volunteer", email="marie@example.org")
    ask_for_link(client, "marie@example.org")
    link = link_in(outbox()[0].body_text)

    page = client.get(link)
    assert page.status_code == 200
    assert "Choisir un nouveau mot de passe" in page_text(page)
    response = choose(client, link)
    assert response.status_code == 302
    assert response.location == "/"
    assert ("success", "Votre mot de passe a été changé. Vous êtes connecté.") in flashes_in(
        client.get("/account")
    )
    assert is_signed_in(client)

    account = stored(user)
    assert account.password_hash.startswith("$argon2id$") and NEW_PASSWORD not in account.password_hash
    assert sign_in(app.test_client(), "marie@example.org", PASSWORD).status_code == 422
    assert sign_in(app.test_client(), "marie@example.org", NEW_PASSWORD).status_code == 302


def test_the_link_works_once(app, client, tenant_a, outbox):
    user = make_member(tenant_a, "volunteer", email="marie@example.org")
    ask_for_link(client, "marie@example.org")
    link = link_in(outbox()[0].body_text)
    choose(client, link)
    hash_after_first_use = stored(user).password_hash

    someone = app.test_client()
    page = someone.get(link)
    assert page.status_code == 410
    assert NO_LONGER_VALID in page_text(page)
    assert choose(someone, link, "un autre mot de passe choisi").status_code == 410
    assert stored(user).password_hash == hash_after_first_use
    assert not is_signed_in(someone)


def test_an_expired_link_is_refused(app, client, tenant_a, outbox):
    user = make_member(tenant_a, "volunteer", email="marie@example.org")
    ask_for_link(client, "marie@example.org")
    link = link_in(outbox()[0].body_text)
    [reset] = resets()
    assert reset.expires_at - reset.created_at == timedelta(minutes=60)
    reset.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()

    assert client.get(link).status_code == 410
    response = choose(client, link)
    assert response.status_code == 410
    assert NO_LONGER_VALID in page_text(response)
    assert stored(user).password_hash == user.password_hash
    assert not is_signed_in(client)


def test_an_unknown_link_is_refused(client, app):
    response = client.get("/password/reset/not-a-real-token")
    assert response.status_code == 410
    assert NO_LONGER_VALID in page_text(response)


def test_using_the_link_ends_the_persons_other_sessions(app, client, tenant_a, outbox):
    make_member(tenant_a, "volunteer", email="marie@example.org")
    old_phone = app.test_client()
    sign_in(old_phone, "marie@example.org", remember=True)
    remembered = app.test_client()
    remembered.set_cookie("remember_token", old_phone.get_cookie("remember_token").value)
    assert is_signed_in(old_phone) and is_signed_in(remembered)

    ask_for_link(client, "marie@example.org")
    choose(client, link_in(outbox()[0].body_text))

    assert is_signed_in(client)
    assert not is_signed_in(old_phone)
    assert not is_signed_in(remembered)


def test_using_one_link_voids_the_other_pending_links(app, client, tenant_a, outbox):
    make_member(tenant_a, "volunteer", email="marie@example.org")
    ask_for_link(client, "marie@example.org")
    ask_for_link(client, "marie@example.org")
    first, second = (link_in(e.body_text) for e in outbox())
    assert first != second

    assert choose(client, second).status_code == 302

    assert app.test_client().get(first).status_code == 410
    assert all(r.used_at is not None for r in resets())


def test_a_short_password_is_refused_and_the_link_still_works(app, client, tenant_a, outbox):
    user = make_member(tenant_a, "volunteer", email="marie@example.org")
    ask_for_link(client, "marie@example.org")
    link = link_in(outbox()[0].body_text)

    response = choose(client, link, "a" * 11)

    assert response.status_code == 422
    assert "Le mot de passe doit contenir au moins 12 caractères." in page_text(response)
    assert stored(user).password_hash == user.password_hash
    assert resets()[0].used_at is None
    assert not is_signed_in(client)
    assert choose(client, link).status_code == 302


def test_a_password_with_surrounding_spaces_is_refused_by_the_rule(app, client, tenant_a, outbox):
    user = make_member(tenant_a, "volunteer", email="marie@example.org")
    ask_for_link(client, "marie@example.org")
    response = choose(client, link_in(outbox()[0].body_text), "  " + "a" * 14)
    assert response.status_code == 422
    assert "Le mot de passe ne doit pas commencer ni finir par un espace." in page_text(response)
    assert stored(user).password_hash == user.password_hash
    assert resets()[0].used_at is None


def test_the_confirmation_must_match(app, client, tenant_a, outbox):
    user = make_member(tenant_a, "volunteer", email="marie@example.org")
    ask_for_link(client, "marie@example.org")
    response = choose(client, link_in(outbox()[0].body_text), confirm="autre chose encore ici")
    assert response.status_code == 422
    assert "Les deux mots de passe ne sont pas identiques." in page_text(response)
    assert stored(user).password_hash == user.password_hash


def test_a_link_stops_working_when_the_account_is_deactivated(app, client, tenant_a, outbox):
    user = make_member(tenant_a, "volunteer", email="marie@example.org")
    ask_for_link(client, "marie@example.org")
    services.set_user_active(user, False)
    db.session.commit()
    link = link_in(outbox()[0].body_text)
    assert client.get(link).status_code == 410
    assert choose(client, link).status_code == 410
    assert stored(user).password_hash == user.password_hash
