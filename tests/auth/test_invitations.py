"""Invitations through the pages: the coordinator invites, the e-mail goes out, the person joins."""

from __future__ import annotations

import hashlib
import html
import re
from datetime import timedelta

from sqlalchemy import select, text

from tests.factories import (
    PASSWORD,
    flashes_in,
    is_signed_in,
    link_in,
    make_member,
    make_membership,
    make_user,
    page_text,
    sign_in,
)
from volunteer_platform.auth.models import Invitation, User
from volunteer_platform.db import utcnow
from volunteer_platform.extensions import db
from volunteer_platform.tenants.models import Membership, Role

NEW_PASSWORD = "une phrase de passe neuve"
NO_LONGER_VALID = "Ce lien d'invitation n'est plus valable. Demandez une nouvelle invitation."


def invite(client, email, role="volunteer", slug="structure-a"):
    return client.post(f"/{slug}/invitations", data={"email": email, "role": role})


def invitation_link(outbox, index=-1) -> str:
    return link_in(outbox()[index].body_text)


def accept(client, link, full_name="Nora Neuve", password=NEW_PASSWORD, confirm=None):
    return client.post(
        link, data={"full_name": full_name, "password": password,
                    "confirm": password if confirm is None else confirm},
    )


def invitations() -> list[Invitation]:
    return list(db.session.scalars(select(Invitation).order_by(Invitation.id)))


def users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.id)))


def membership_of(user_id, tenant) -> Membership | None:
    return db.session.scalars(
        select(Membership).where(Membership.user_id == user_id, Membership.tenant_id == tenant.id)
    ).one_or_none()


# --- inviting -------------------------------------------------------------------------------


def test_only_coordinators_may_invite(app, client, login_as, tenant_a, volunteer_a, coordinator_b, outbox):
    login_as(volunteer_a)
    assert client.get("/structure-a/invitations").status_code == 403
    assert invite(client, "new@example.org").status_code == 403
    login_as(coordinator_b)
    assert invite(client, "new@example.org").status_code == 404
    assert invitations() == [] and outbox() == []


def test_coordinator_invites_and_the_email_goes_out(client, login_as, tenant_a, coordinator_a, outbox):
    login_as(coordinator_a)
    response = invite(client, " New@Example.org ", "trainer")
    assert response.status_code == 302
    assert response.location == "/structure-a/invitations"

    page = client.get(response.location)
    assert ("success", "Invitation envoyée à new@example.org.") in flashes_in(page)
    assert "new@example.org" in page_text(page) and "En attente" in page_text(page)

    [invitation] = invitations()
    assert (invitation.email, invitation.role, invitation.invited_by_id) == ("new@example.org", Role.TRAINER, coordinator_a.id)
    [email] = outbox()
    assert email.to_address == "new@example.org"
    assert email.subject == "Invitation à rejoindre Structure A"
    assert "Coralie Alpha vous invite à rejoindre Structure A" in email.body_text
    assert "ne fonctionne qu'une fois" in email.body_text
    assert invitation_link(outbox).startswith("/invitations/")


def test_the_token_is_stored_only_as_its_sha256(client, login_as, tenant_a, coordinator_a, outbox):
    login_as(coordinator_a)
    invite(client, "new@example.org")
    token = invitation_link(outbox).rsplit("/", 1)[1]
    [invitation] = invitations()
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()

    # Nowhere in the database but in the queued e-mail itself (which must carry it).
    for table in db.metadata.sorted_tables:
        if table.name == "outbox_email":
            continue
        for row in db.session.execute(select(table)):
            assert all(token not in str(value) for value in row), table.name


def test_new_person_creates_an_account_and_joins_with_the_chosen_role(
    app, client, login_as, tenant_a, coordinator_a, outbox
):
    login_as(coordinator_a)
    invite(client, "new@example.org", "trainer")
    link = invitation_link(outbox)
    invitee = app.test_client()

    page = invitee.get(link)
    assert page.status_code == 200
    text_ = page_text(page)
    assert "Rejoindre Structure A" in text_
    assert "Formateur ou formatrice" in text_
    assert "Créez votre compte pour l'adresse new@example.org." in text_

    response = accept(invitee, link, full_name="  Nora Neuve ")
    assert response.status_code == 302
    assert response.location == "/structure-a/"
    home = invitee.get(response.location)
    assert home.status_code == 200
    assert ("success", "Bienvenue ! Vous avez rejoint Structure A.") in flashes_in(home)

    user = db.session.scalars(select(User).where(User.email == "new@example.org")).one()
    assert user.full_name == "Nora Neuve"
    assert user.password_hash.startswith("$argon2id$") and NEW_PASSWORD not in user.password_hash
    membership = membership_of(user.id, tenant_a)
    assert (membership.role, membership.is_active) == (Role.TRAINER, True)
    [invitation] = invitations()
    assert invitation.accepted_at is not None and invitation.accepted_by_id == user.id
    assert sign_in(app.test_client(), "new@example.org", NEW_PASSWORD).status_code == 302


def test_the_link_works_once(app, client, login_as, tenant_a, coordinator_a, outbox):
    login_as(coordinator_a)
    invite(client, "new@example.org")
    link = invitation_link(outbox)
    invitee = app.test_client()
    accept(invitee, link)
    user = db.session.scalars(select(User).where(User.email == "new@example.org")).one()
    hash_before = user.password_hash

    someone_else = app.test_client()
    page = someone_else.get(link)
    assert page.status_code == 410
    assert NO_LONGER_VALID in page_text(page)
    again = accept(someone_else, link, full_name="Pirate", password="pirate-password-123")
    assert again.status_code == 410

    assert [u.email for u in users()] == ["coord-a@example.org", "new@example.org"]
    account = db.session.scalars(select(User).where(User.email == "new@example.org")).one()
    assert (account.full_name, account.password_hash) == ("Nora Neuve", hash_before)
    assert not is_signed_in(someone_else)


def test_an_expired_link_is_refused(app, client, login_as, tenant_a, coordinator_a, outbox):
    login_as(coordinator_a)
    invite(client, "new@example.org")
    link = invitation_link(outbox)
    [invitation] = invitations()
    invitation.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()

    invitee = app.test_client()
    page = invitee.get(link)
    assert page.status_code == 410
    assert NO_LONGER_VALID in page_text(page)
    assert accept(invitee, link).status_code == 410
    assert db.session.scalars(select(User).where(User.email == "new@example.org")).first() is None
    listing = client.get("/structure-a/invitations")
    assert "Expirée" in page_text(listing)


def test_an_unknown_link_is_refused(client, app):
    response = client.get("/invitations/not-a-real-token")
    assert response.status_code == 410
    assert NO_LONGER_VALID in page_text(response)


def test_a_revoked_link_is_refused(app, client, login_as, tenant_a, coordinator_a, outbox):
    login_as(coordinator_a)
    invite(client, "new@example.org")
    link = invitation_link(outbox)
    [invitation] = invitations()

    response = client.post(f"/structure-a/invitations/{invitation.id}/revoke")
    assert response.status_code == 302
    page = client.get(response.location)
    assert ("success", "L'invitation de new@example.org a été annulée.") in flashes_in(page)
    assert "Annulée" in page_text(page)

    invitee = app.test_client()
    assert invitee.get(link).status_code == 410
    assert accept(invitee, link).status_code == 410
    assert db.session.scalars(select(User).where(User.email == "new@example.org")).first() is None


def test_an_accepted_invitation_cannot_be_revoked(app, client, login_as, tenant_a, coordinator_a, outbox):
    login_as(coordinator_a)
    invite(client, "new@example.org")
    accept(app.test_client(), invitation_link(outbox))
    [invitation] = invitations()
    response = client.post(f"/structure-a/invitations/{invitation.id}/revoke")
    assert response.status_code == 409
    assert "Cette invitation a déjà été acceptée." in page_text(response)
    assert invitations()[0].revoked_at is None


def test_resend_gives_a_new_link_and_the_old_one_stops_working(app, client, login_as, tenant_a, coordinator_a, outbox):
    login_as(coordinator_a)
    invite(client, "new@example.org")
    old_link = invitation_link(outbox)
    [invitation] = invitations()

    response = client.post(f"/structure-a/invitations/{invitation.id}/resend")
    assert response.status_code == 302
    assert ("success", "Invitation renvoyée à new@example.org.") in flashes_in(client.get(response.location))

    assert len(outbox()) == 2
    new_link = invitation_link(outbox)
    assert new_link != old_link
    assert invitations()[0].send_count == 2
    invitee = app.test_client()
    assert invitee.get(old_link).status_code == 410
    assert accept(invitee, old_link).status_code == 410
    assert invitee.get(new_link).status_code == 200
    assert accept(invitee, new_link).status_code == 302
    assert membership_of(users()[-1].id, tenant_a) is not None


def test_resending_a_revoked_invitation_is_refused(client, login_as, tenant_a, coordinator_a, outbox):
    login_as(coordinator_a)
    invite(client, "new@example.org")
    [invitation] = invitations()
    client.post(f"/structure-a/invitations/{invitation.id}/revoke")
    response = client.post(f"/structure-a/invitations/{invitation.id}/resend")
    assert response.status_code == 409
    assert "Cette invitation n'est plus active : elle ne peut pas être renvoyée." in page_text(response)
    assert len(outbox()) == 1


def test_resending_an_old_invitation_while_a_newer_one_is_pending_is_refused(
    client, login_as, tenant_a, coordinator_a, outbox
):
    login_as(coordinator_a)
    invite(client, "new@example.org", "coordinator")
    [old] = invitations()
    old.expires_at = utcnow() - timedelta(days=1)
    db.session.commit()
    invite(client, "new@example.org", "volunteer")
    assert len(invitations()) == 2

    response = client.post(f"/structure-a/invitations/{old.id}/resend")

    assert response.status_code == 409
    assert "Une invitation est déjà en attente pour cette adresse" in page_text(response)
    assert len(outbox()) == 2
    assert invitations()[0].send_count == 1


def test_another_structures_invitation_cannot_be_touched(client, login_as, tenant_a, tenant_b, coordinator_a,
                                                         coordinator_b, outbox):
    login_as(coordinator_b)
    invite(client, "new@example.org", slug="structure-b")
    [theirs] = invitations()
    login_as(coordinator_a)
    assert client.post(f"/structure-a/invitations/{theirs.id}/resend").status_code == 404
    assert client.post(f"/structure-a/invitations/{theirs.id}/revoke").status_code == 404
    assert "new@example.org" not in page_text(client.get("/structure-a/invitations"))
    assert invitations()[0].revoked_at is None and len(outbox()) == 1


# --- refused invitations ---------------------------------------------------------------------


def test_inviting_an_active_member_is_a_form_error(client, login_as, tenant_a, coordinator_a, volunteer_a, outbox):
    login_as(coordinator_a)
    response = invite(client, "VOL-A@example.org", "coordinator")
    assert response.status_code == 422
    text_ = page_text(response)
    assert "Cette personne est déjà membre de la structure." in text_
    assert "Le formulaire contient des erreurs" in text_
    assert invitations() == []
    assert outbox() == []  # the refused request queued nothing
    assert membership_of(volunteer_a.id, tenant_a).role is Role.VOLUNTEER


def test_a_duplicate_pending_invitation_is_a_form_error(client, login_as, tenant_a, coordinator_a, outbox):
    login_as(coordinator_a)
    invite(client, "new@example.org")
    response = invite(client, "NEW@example.org", "coordinator")
    assert response.status_code == 422
    assert "Une invitation est déjà en attente pour cette adresse : renvoyez-la depuis la liste." in page_text(response)
    assert [i.role for i in invitations()] == [Role.VOLUNTEER]
    assert len(outbox()) == 1


def test_an_invalid_address_is_a_form_error(client, login_as, tenant_a, coordinator_a, outbox):
    login_as(coordinator_a)
    response = invite(client, "pas-une-adresse")
    assert response.status_code == 422
    assert "Saisissez une adresse e-mail valide" in page_text(response)
    assert invitations() == [] and outbox() == []


# --- an address that already has an account --------------------------------------------------


def test_inviting_an_existing_account_looks_exactly_like_inviting_a_new_address(
    client, login_as, tenant_a, coordinator_a, coordinator_b, outbox
):
    login_as(coordinator_a)
    for_new = invite(client, "nouvelle@example.org")
    new_flashes = flashes_in(client.get("/structure-a/invitations"))
    for_known = invite(client, "coord-b@example.org")
    known_flashes = flashes_in(client.get("/structure-a/invitations"))

    assert (for_new.status_code, for_new.location) == (for_known.status_code, for_known.location)
    assert for_new.get_data() == for_known.get_data()
    assert [(c, m.replace("nouvelle@", "X@")) for c, m in new_flashes] == [
        (c, m.replace("coord-b@", "X@")) for c, m in known_flashes
    ]
    new_email, known_email = outbox()
    assert new_email.subject == known_email.subject
    # The link differs, and so may the expiry time (the two invitations can straddle a minute).
    def neutral(body: str) -> str:
        return re.sub(r"expire le [^.]*\.", "expire le DATE.", body.replace(link_in(body), "LINK"))

    assert "expire le DATE." in neutral(new_email.body_text)
    assert neutral(new_email.body_text) == neutral(known_email.body_text)


def test_an_existing_account_must_sign_in_to_accept(app, client, login_as, tenant_a, tenant_b, coordinator_a,
                                                    coordinator_b, outbox):
    login_as(coordinator_a)
    invite(client, "coord-b@example.org", "trainer")
    link = invitation_link(outbox)
    hash_before = coordinator_b.password_hash

    visitor = app.test_client()
    page = visitor.get(link)
    assert page.status_code == 200
    text_ = page_text(page)
    assert "Connectez-vous avec l'adresse coord-b@example.org pour accepter l'invitation." in text_
    assert 'name="password"' not in text_  # no way to set a password for someone else's account

    # Posting a name and password as a visitor must not take over the account.
    response = accept(visitor, link, full_name="Pirate", password="pirate-password-123")
    assert response.status_code == 403
    assert "Connectez-vous avec le compte de l'adresse invitée" in page_text(response)
    assert membership_of(coordinator_b.id, tenant_a) is None
    account = db.session.scalars(select(User).where(User.id == coordinator_b.id)).one()
    assert (account.full_name, account.password_hash) == ("Bérénice Bravo", hash_before)
    assert not is_signed_in(visitor)
    assert invitations()[0].accepted_at is None

    # Signing in as that account (the login link brings the person back) then accepting works.
    login_link = re.search(r'href="(/login\?next=[^"]+)"', page.get_data(as_text=True)).group(1)
    signed = visitor.post(html.unescape(login_link), data={"email": "coord-b@example.org", "password": PASSWORD})
    assert signed.status_code == 302
    assert signed.location == link
    page = visitor.get(link)
    assert "Accepter l'invitation" in page_text(page)
    response = visitor.post(link)
    assert response.status_code == 302
    assert response.location == "/structure-a/"
    assert membership_of(coordinator_b.id, tenant_a).role is Role.TRAINER
    assert membership_of(coordinator_b.id, tenant_b).role is Role.COORDINATOR
    account = db.session.scalars(select(User).where(User.id == coordinator_b.id)).one()
    assert account.password_hash == hash_before
    assert invitations()[0].accepted_by_id == coordinator_b.id


def test_signed_in_as_another_account_the_invitation_is_refused(app, client, login_as, tenant_a, coordinator_a,
                                                               coordinator_b, outbox):
    login_as(coordinator_a)
    invite(client, "coord-b@example.org", "coordinator")
    link = invitation_link(outbox)
    intruder = make_member(tenant_a, "volunteer", email="intrus@example.org")
    other = app.test_client()
    login_as(intruder, on=other)

    page = other.get(link)
    assert page.status_code == 200
    assert "Vous êtes connecté(e) avec un autre compte" in page_text(page)
    response = other.post(link)
    assert response.status_code == 403
    assert "Vous êtes connecté(e) avec un autre compte" in page_text(response)

    assert membership_of(coordinator_b.id, tenant_a) is None
    assert membership_of(intruder.id, tenant_a).role is Role.VOLUNTEER
    assert invitations()[0].accepted_at is None


def test_signed_in_as_someone_a_new_address_invitation_is_refused(app, client, login_as, tenant_a, coordinator_a,
                                                                 volunteer_a, outbox):
    login_as(coordinator_a)
    invite(client, "new@example.org", "coordinator")
    link = invitation_link(outbox)
    other = app.test_client()
    login_as(volunteer_a, on=other)

    response = accept(other, link)

    assert response.status_code == 403
    assert "Cette invitation a été envoyée à une autre adresse : déconnectez-vous d'abord." in page_text(response)
    assert membership_of(volunteer_a.id, tenant_a).role is Role.VOLUNTEER
    assert db.session.scalars(select(User).where(User.email == "new@example.org")).first() is None
    assert invitations()[0].accepted_at is None


def test_a_deactivated_member_can_be_invited_back(app, client, login_as, tenant_a, coordinator_a, outbox):
    former = make_membership(tenant_a, make_user(email="back@example.org"), "volunteer", is_active=False)
    login_as(coordinator_a)
    assert invite(client, "back@example.org", "trainer").status_code == 302
    person = app.test_client()
    sign_in(person, "back@example.org", PASSWORD)
    assert person.post(invitation_link(outbox)).status_code == 302
    membership = membership_of(former.user_id, tenant_a)
    assert (membership.id, membership.is_active, membership.role) == (former.id, True, Role.TRAINER)


# --- the account form on the invitation page ---------------------------------------------------


def test_a_short_password_is_refused_and_nothing_is_created(app, client, login_as, tenant_a, coordinator_a, outbox):
    login_as(coordinator_a)
    invite(client, "new@example.org")
    link = invitation_link(outbox)
    invitee = app.test_client()

    response = accept(invitee, link, password="a" * 11)

    assert response.status_code == 422
    assert "Le mot de passe doit contenir au moins 12 caractères." in page_text(response)
    assert db.session.scalars(select(User).where(User.email == "new@example.org")).first() is None
    assert invitations()[0].accepted_at is None
    assert invitee.get(link).status_code == 200  # the link still works


def test_name_and_matching_confirmation_are_required(app, client, login_as, tenant_a, coordinator_a, outbox):
    login_as(coordinator_a)
    invite(client, "new@example.org")
    link = invitation_link(outbox)
    invitee = app.test_client()

    response = accept(invitee, link, full_name="  ", confirm="something else entirely")

    assert response.status_code == 422
    text_ = page_text(response)
    assert "Ce champ est obligatoire." in text_
    assert "Les deux mots de passe ne sont pas identiques." in text_
    assert db.session.scalars(select(User).where(User.email == "new@example.org")).first() is None


def test_invitations_of_a_deactivated_structure_stop_working(app, client, login_as, tenant_a, coordinator_a, outbox):
    login_as(coordinator_a)
    invite(client, "new@example.org")
    link = invitation_link(outbox)
    db.session.execute(text("UPDATE tenant SET is_active = :no WHERE id = :id"), {"no": False, "id": tenant_a.id})
    db.session.commit()
    assert app.test_client().get(link).status_code == 410
