"""Account rules, called directly (no HTTP): passwords, sessions, invitations, resets."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from tests.factories import PASSWORD, link_in, make_member, make_membership, make_tenant, make_user
from volunteer_platform.auth import services
from volunteer_platform.auth.login import load_user
from volunteer_platform.auth.models import Invitation, InvitationStatus, PasswordReset, User
from volunteer_platform.db import utcnow
from volunteer_platform.errors import Conflict, Forbidden, InvalidToken, ValidationFailed
from volunteer_platform.extensions import db
from volunteer_platform.notifications.models import OutboxEmail
from volunteer_platform.tenants.models import Membership, Role

BASE_URL = "http://testserver.example"
TTL = timedelta(days=14)
RESET_TTL = timedelta(minutes=60)
NEW_PASSWORD = "une phrase de passe neuve"


def invite(tenant, email, role=Role.VOLUNTEER, *, now=None, invited_by=None):
    return services.invite(
        tenant, email, Role(role), invited_by=invited_by, now=now or utcnow(), ttl=TTL,
        base_url=BASE_URL,
    )


def emails():
    return list(db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))


def token_of(email: OutboxEmail) -> str:
    return link_in(email.body_text).rsplit("/", 1)[1]


# --- passwords ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "password", ["douze lettres", "vélo-ciel-" + "k" * 246, "marguerite-ordinateur-lune", "éléphant à vélo"]
)
def test_passwords_of_12_to_256_characters_are_accepted(app, password):
    services.check_password_rules(password)  # does not raise


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("", "au moins 12 caractères"),
        ("a" * 11, "au moins 12 caractères"),
        ("x" * 257, "trop long"),
        (" commence par un espace", "espace"),
        ("finit par un espace ", "espace"),
        (" " * 20, "espace"),
        ("a" * 12, "trop courant"),
        ("é" * 12, "trop courant"),
        ("azertyuiop12", "trop courant"),
        ("motdepasse123", "trop courant"),
        ("password1234", "trop courant"),
        ("123456789012", "trop courant"),
        ("soleil123456", "trop courant"),
        ("iloveyou1234", "trop courant"),
    ],
)
def test_unacceptable_passwords_are_refused_with_a_french_message(app, password, message):
    with pytest.raises(ValidationFailed) as caught:
        services.check_password_rules(password)
    assert caught.value.field == "password"
    assert message in str(caught.value.message)


def test_hash_is_argon2id_and_never_contains_the_password(app):
    hashed = services.hash_password(NEW_PASSWORD)
    assert hashed.startswith("$argon2id$")
    assert NEW_PASSWORD not in hashed
    assert hashed != services.hash_password(NEW_PASSWORD)  # salted
    assert PasswordHasher().verify(hashed, NEW_PASSWORD)


def test_set_password_refuses_a_short_password_and_changes_nothing(app):
    user = make_user()
    before = (user.password_hash, user.session_token, user.password_changed_at)
    with pytest.raises(ValidationFailed) as caught:
        services.set_password(user, "a" * 11, now=utcnow())
    assert caught.value.field == "password"
    assert "Le mot de passe doit contenir au moins 12 caractères." == str(caught.value.message)
    assert (user.password_hash, user.session_token, user.password_changed_at) == before


def test_set_password_stores_argon2id_and_ends_every_session(app):
    user = make_user()
    old_token = user.session_token
    now = utcnow()
    services.set_password(user, NEW_PASSWORD, now=now)
    db.session.commit()

    stored = db.session.scalars(select(User).where(User.id == user.id)).one()
    assert stored.password_hash.startswith("$argon2id$")
    assert NEW_PASSWORD not in stored.password_hash
    assert stored.password_changed_at == now
    assert stored.session_token != old_token
    assert load_user(old_token) is None
    assert services.authenticate(user.email, NEW_PASSWORD, now=utcnow()) == stored
    assert services.authenticate(user.email, PASSWORD, now=utcnow()) is None


def test_change_password_needs_the_current_password(app):
    user = make_user()
    before = (user.password_hash, user.session_token)
    with pytest.raises(ValidationFailed) as caught:
        services.change_password(user, "not-the-password", NEW_PASSWORD, now=utcnow())
    assert caught.value.field == "current_password"
    assert str(caught.value.message) == "Le mot de passe actuel est incorrect."
    assert (user.password_hash, user.session_token) == before

    services.change_password(user, PASSWORD, NEW_PASSWORD, now=utcnow())
    assert user.session_token != before[1]
    assert services.authenticate(user.email, NEW_PASSWORD, now=utcnow()) is not None


# --- signing in ---------------------------------------------------------------------


def test_authenticate_returns_the_account_and_records_the_login(app):
    user = make_user(email="marie@example.org")
    now = utcnow()
    assert services.authenticate("  MARIE@example.org ", PASSWORD, now=now) == user
    db.session.commit()
    assert db.session.scalars(select(User.last_login_at).where(User.id == user.id)).one() == now


def test_authenticate_refuses_wrong_password_unknown_address_and_deactivated_account(app):
    make_user(email="marie@example.org")
    make_user(email="parti@example.org", is_active=False)
    now = utcnow()
    assert services.authenticate("marie@example.org", "not-the-password", now=now) is None
    assert services.authenticate("nobody@example.org", PASSWORD, now=now) is None
    assert services.authenticate("parti@example.org", PASSWORD, now=now) is None
    db.session.commit()
    assert list(db.session.scalars(select(User.last_login_at))) == [None, None]


def test_an_account_without_password_cannot_sign_in(app):
    user = services.create_user("sans-mdp@example.org", "Sans Mot", None, now=utcnow())
    db.session.commit()
    assert user.password_hash is None
    assert services.authenticate("sans-mdp@example.org", "", now=utcnow()) is None
    assert services.authenticate("sans-mdp@example.org", PASSWORD, now=utcnow()) is None


def test_a_weaker_hash_is_upgraded_at_login(app):
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
    user = make_user(password_hash=weak)
    services.authenticate(user.email, PASSWORD, now=utcnow())
    db.session.commit()
    stored = db.session.scalars(select(User.password_hash).where(User.id == user.id)).one()
    assert stored != weak
    assert stored.startswith("$argon2id$")
    assert not PasswordHasher().check_needs_rehash(stored)


def test_end_all_sessions_makes_the_old_session_token_find_nobody(app):
    user = make_user()
    old_token = user.session_token
    assert load_user(old_token) == user
    services.end_all_sessions(user)
    db.session.commit()
    assert load_user(old_token) is None
    assert load_user(user.session_token) == user


def test_deactivation_ends_sessions_and_reactivation_does_not_revive_them(app):
    user = make_user()
    old_token = user.session_token
    services.set_user_active(user, False)
    db.session.commit()
    assert load_user(old_token) is None
    assert load_user(user.session_token) is None  # an inactive account is nobody

    services.set_user_active(user, True)
    db.session.commit()
    assert load_user(old_token) is None
    assert load_user(user.session_token) == user


# --- accounts -------------------------------------------------------------------------


def test_create_user_normalises_the_address_and_refuses_a_duplicate(app):
    user = services.create_user("  Nina@Example.ORG ", "  Nina Nord ", PASSWORD, now=utcnow())
    db.session.commit()
    assert (user.email, user.full_name) == ("nina@example.org", "Nina Nord")
    assert user.password_hash.startswith("$argon2id$")
    with pytest.raises(Conflict) as caught:
        services.create_user("NINA@example.org", "Autre Nina", PASSWORD, now=utcnow())
    assert caught.value.field == "email"
    db.session.rollback()
    assert db.session.scalars(select(User.full_name)).all() == ["Nina Nord"]


def test_create_user_refuses_a_short_password(app):
    with pytest.raises(ValidationFailed):
        services.create_user("court@example.org", "Court", "a" * 11, now=utcnow())
    db.session.rollback()
    assert db.session.scalars(select(User)).all() == []


# --- invitations ------------------------------------------------------------------------


def test_invite_stores_only_the_sha256_of_the_token_and_queues_the_link(tenant_a, coordinator_a):
    now = utcnow()
    invitation, token = invite(tenant_a, " New@Example.org ", Role.TRAINER, now=now,
                               invited_by=coordinator_a)
    db.session.commit()

    assert invitation.email == "new@example.org"
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert len(token) >= 43  # 256 random bits, URL-safe
    row = db.session.execute(select(Invitation.__table__)).one()
    assert all(token not in str(value) for value in row)
    assert invitation.expires_at == now + TTL
    assert invitation.status_at(now) is InvitationStatus.PENDING

    [email] = emails()
    assert email.to_address == "new@example.org"
    assert email.subject == "Invitation à rejoindre Structure A"
    assert link_in(email.body_text) == f"/invitations/{token}"
    assert "Coralie Alpha vous invite à rejoindre Structure A" in email.body_text
    assert "Formateur ou formatrice" in email.body_text


def test_two_invitations_never_share_a_token(tenant_a):
    _, first = invite(tenant_a, "one@example.org")
    _, second = invite(tenant_a, "two@example.org")
    assert first != second


def test_inviting_an_active_member_is_refused_and_queues_nothing(tenant_a, volunteer_a):
    with pytest.raises(Conflict) as caught:
        invite(tenant_a, "VOL-A@example.org")
    assert caught.value.field == "email"
    assert str(caught.value.message) == "Cette personne est déjà membre de la structure."
    db.session.rollback()
    assert db.session.scalars(select(Invitation)).all() == []
    assert emails() == []


def test_a_second_pending_invitation_for_the_same_address_is_refused(tenant_a):
    invite(tenant_a, "dup@example.org")
    db.session.commit()
    with pytest.raises(Conflict) as caught:
        invite(tenant_a, "Dup@Example.org", Role.COORDINATOR)
    assert caught.value.field == "email"
    assert "déjà en attente" in str(caught.value.message)
    db.session.rollback()
    assert len(db.session.scalars(select(Invitation)).all()) == 1
    assert len(emails()) == 1


def test_the_same_address_may_be_invited_by_another_structure(tenant_a, tenant_b):
    invite(tenant_a, "both@example.org")
    invite(tenant_b, "both@example.org")
    db.session.commit()
    assert len(db.session.scalars(select(Invitation)).all()) == 2


def test_an_expired_or_revoked_invitation_does_not_block_a_new_one(tenant_a):
    now = utcnow()
    expired, _ = invite(tenant_a, "late@example.org", now=now - TTL - timedelta(seconds=1))
    revoked, _ = invite(tenant_a, "gone@example.org", now=now)
    services.revoke_invitation(revoked, now=now)
    invite(tenant_a, "late@example.org", now=now)
    invite(tenant_a, "gone@example.org", now=now)
    db.session.commit()
    assert services.pending_invitation_count(tenant_a, now=now) == 2


def test_an_address_with_an_account_elsewhere_gets_the_same_invitation(tenant_a, coordinator_b):
    _, token_new = invite(tenant_a, "nouvelle@example.org")
    _, token_known = invite(tenant_a, coordinator_b.email)
    new_email, known_email = emails()
    assert new_email.subject == known_email.subject
    assert new_email.body_text.replace(token_new, "T") == known_email.body_text.replace(token_known, "T")


def test_invitation_from_token_refuses_unknown_expired_revoked_and_used_links(tenant_a):
    now = utcnow()
    _, token = invite(tenant_a, "x@example.org", now=now)
    assert services.invitation_from_token(token, now=now).email == "x@example.org"

    message = "Ce lien d'invitation n'est plus valable. Demandez une nouvelle invitation."
    refused = []
    for attempt in (
        lambda: services.invitation_from_token("unknown-token", now=now),
        lambda: services.invitation_from_token(token, now=now + TTL),  # expiry instant: expired
        lambda: services.invitation_from_token(token[:-1], now=now),
    ):
        with pytest.raises(InvalidToken) as caught:
            attempt()
        refused.append(str(caught.value.message))
    assert refused == [message] * 3
    assert services.invitation_from_token(token, now=now + TTL - timedelta(seconds=1))


def test_a_revoked_invitation_no_longer_works(tenant_a):
    now = utcnow()
    invitation, token = invite(tenant_a, "x@example.org", now=now)
    services.revoke_invitation(invitation, now=now)
    assert invitation.status_at(now) is InvitationStatus.REVOKED
    with pytest.raises(InvalidToken):
        services.accept_invitation(token, now=now, full_name="X", password=NEW_PASSWORD)
    db.session.rollback()
    assert db.session.scalars(select(User)).all() == []


def test_an_invitation_of_a_deactivated_structure_does_not_work(tenant_a):
    from volunteer_platform.tenants.services import set_tenant_active

    _, token = invite(tenant_a, "x@example.org")
    set_tenant_active(tenant_a, False)
    with pytest.raises(InvalidToken):
        services.invitation_from_token(token, now=utcnow())


def test_accepting_creates_the_account_and_joins_with_the_invited_role(tenant_a):
    now = utcnow()
    invitation, token = invite(tenant_a, "new@example.org", Role.TRAINER, now=now)
    user, membership = services.accept_invitation(
        token, now=now, full_name=" Nora Neuve ", password=NEW_PASSWORD
    )
    db.session.commit()

    assert (user.email, user.full_name) == ("new@example.org", "Nora Neuve")
    assert user.password_hash.startswith("$argon2id$")
    assert (membership.tenant_id, membership.role, membership.is_active) == (tenant_a.id, Role.TRAINER, True)
    assert invitation.accepted_at == now and invitation.accepted_by_id == user.id
    assert services.authenticate("new@example.org", NEW_PASSWORD, now=now) == user


def test_an_invitation_link_works_once(tenant_a):
    now = utcnow()
    _, token = invite(tenant_a, "new@example.org", now=now)
    services.accept_invitation(token, now=now, full_name="Nora", password=NEW_PASSWORD)
    db.session.commit()
    with pytest.raises(InvalidToken):
        services.accept_invitation(token, now=now, full_name="Autre", password="un autre mot de passe")
    db.session.rollback()
    [user] = db.session.scalars(select(User)).all()
    assert user.full_name == "Nora"
    assert services.authenticate("new@example.org", NEW_PASSWORD, now=now) == user


def test_an_expired_invitation_cannot_be_accepted(tenant_a):
    now = utcnow()
    _, token = invite(tenant_a, "new@example.org", now=now)
    with pytest.raises(InvalidToken):
        services.accept_invitation(
            token, now=now + TTL + timedelta(minutes=1), full_name="Nora", password=NEW_PASSWORD
        )


@pytest.mark.parametrize(
    ("full_name", "password", "field"),
    [("", NEW_PASSWORD, "full_name"), ("   ", NEW_PASSWORD, "full_name"),
     ("Nora", None, "password"), ("Nora", "trop court", "password")],
)
def test_a_new_account_needs_a_name_and_a_good_password(tenant_a, full_name, password, field):
    now = utcnow()
    invitation, token = invite(tenant_a, "new@example.org", now=now)
    db.session.commit()
    with pytest.raises(ValidationFailed) as caught:
        services.accept_invitation(token, now=now, full_name=full_name, password=password)
    assert caught.value.field == field
    db.session.rollback()
    assert db.session.scalars(select(User)).all() == []
    assert services.invitation_from_token(token, now=now).accepted_at is None


def test_an_existing_account_must_be_signed_in_as_itself_to_accept(tenant_a, tenant_b, coordinator_b):
    now = utcnow()
    stranger = make_user(email="stranger@example.org")
    _, token = invite(tenant_a, coordinator_b.email, Role.TRAINER, now=now)
    db.session.commit()
    hash_before = coordinator_b.password_hash

    with pytest.raises(Forbidden):  # not signed in: setting a password would hijack the account
        services.accept_invitation(token, now=now, full_name="Pirate", password="pirate-password-123")
    with pytest.raises(Forbidden):
        services.accept_invitation(token, now=now, signed_in_user=stranger)
    db.session.rollback()
    assert db.session.scalars(select(Membership).where(Membership.tenant_id == tenant_a.id)).all() == []

    user, membership = services.accept_invitation(token, now=now, signed_in_user=coordinator_b)
    db.session.commit()
    assert user.id == coordinator_b.id
    assert user.password_hash == hash_before and user.full_name == "Bérénice Bravo"
    assert membership.role is Role.TRAINER and membership.tenant_id == tenant_a.id
    roles = {m.tenant_id: m.role for m in db.session.scalars(select(Membership).where(Membership.user_id == user.id))}
    assert roles == {tenant_a.id: Role.TRAINER, tenant_b.id: Role.COORDINATOR}


def test_someone_signed_in_cannot_take_an_invitation_meant_for_a_new_address(tenant_a, volunteer_a):
    now = utcnow()
    _, token = invite(tenant_a, "new@example.org", Role.COORDINATOR, now=now)
    with pytest.raises(Forbidden):
        services.accept_invitation(token, now=now, signed_in_user=volunteer_a)


def test_a_deactivated_member_can_be_invited_back_with_a_new_role(tenant_a):
    membership = make_membership(tenant_a, make_user(email="back@example.org"), Role.VOLUNTEER,
                                 is_active=False)
    now = utcnow()
    _, token = invite(tenant_a, "back@example.org", Role.TRAINER, now=now)
    user = membership.user
    _, joined = services.accept_invitation(token, now=now, signed_in_user=user)
    db.session.commit()
    assert joined.id == membership.id
    assert (joined.is_active, joined.role) == (True, Role.TRAINER)


def test_resend_gives_a_new_link_and_the_old_one_stops_working(tenant_a):
    now = utcnow()
    invitation, old_token = invite(tenant_a, "new@example.org", now=now)
    later = now + timedelta(days=3)
    new_token = services.resend_invitation(invitation, now=later, ttl=TTL, base_url=BASE_URL)
    db.session.commit()

    assert new_token != old_token
    assert (invitation.send_count, invitation.last_sent_at, invitation.expires_at) == (2, later, later + TTL)
    with pytest.raises(InvalidToken):
        services.invitation_from_token(old_token, now=later)
    assert services.invitation_from_token(new_token, now=later).id == invitation.id
    assert [token_of(e) for e in emails()] == [old_token, new_token]


def test_resend_revives_an_expired_invitation(tenant_a):
    now = utcnow()
    invitation, _ = invite(tenant_a, "new@example.org", now=now - TTL - timedelta(days=1))
    assert invitation.status_at(now) is InvitationStatus.EXPIRED
    token = services.resend_invitation(invitation, now=now, ttl=TTL, base_url=BASE_URL)
    assert services.invitation_from_token(token, now=now).id == invitation.id


def test_resend_is_refused_for_accepted_and_revoked_invitations(tenant_a):
    now = utcnow()
    accepted, token = invite(tenant_a, "new@example.org", now=now)
    services.accept_invitation(token, now=now, full_name="Nora", password=NEW_PASSWORD)
    revoked, _ = invite(tenant_a, "gone@example.org", now=now)
    services.revoke_invitation(revoked, now=now)
    db.session.commit()
    queued = len(emails())
    for invitation in (accepted, revoked):
        with pytest.raises(Conflict):
            services.resend_invitation(invitation, now=now, ttl=TTL, base_url=BASE_URL)
    assert len(emails()) == queued


def test_resending_an_expired_invitation_is_refused_once_a_newer_one_is_pending(tenant_a):
    # Otherwise two links would be pending for one address (possibly with different roles).
    now = utcnow()
    old, _ = invite(tenant_a, "new@example.org", Role.COORDINATOR, now=now - TTL - timedelta(days=1))
    invite(tenant_a, "new@example.org", Role.VOLUNTEER, now=now)
    db.session.commit()
    with pytest.raises(Conflict):
        services.resend_invitation(old, now=now, ttl=TTL, base_url=BASE_URL)
    db.session.rollback()
    assert services.pending_invitation_count(tenant_a, now=now) == 1


def test_resending_an_expired_invitation_is_refused_once_the_person_is_a_member(tenant_a):
    now = utcnow()
    old, _ = invite(tenant_a, "new@example.org", Role.COORDINATOR, now=now - TTL - timedelta(days=1))
    make_member(tenant_a, Role.VOLUNTEER, email="new@example.org")
    with pytest.raises(Conflict):
        services.resend_invitation(old, now=now, ttl=TTL, base_url=BASE_URL)


def test_an_accepted_invitation_cannot_be_revoked(tenant_a):
    now = utcnow()
    invitation, token = invite(tenant_a, "new@example.org", now=now)
    services.accept_invitation(token, now=now, full_name="Nora", password=NEW_PASSWORD)
    with pytest.raises(Conflict):
        services.revoke_invitation(invitation, now=now)
    assert invitation.revoked_at is None


def test_pending_invitation_count_counts_only_this_structures_pending_ones(tenant_a, tenant_b):
    now = utcnow()
    invite(tenant_a, "one@example.org", now=now)
    invite(tenant_a, "old@example.org", now=now - TTL)
    revoked, _ = invite(tenant_a, "gone@example.org", now=now)
    services.revoke_invitation(revoked, now=now)
    invite(tenant_b, "other@example.org", now=now)
    assert services.pending_invitation_count(tenant_a, now=now) == 1
    assert services.pending_invitation_count(make_tenant(), now=now) == 0


# --- password reset ------------------------------------------------------------------------


def request_reset(email, now):
    services.request_password_reset(email, now=now, ttl=RESET_TTL, base_url=BASE_URL)


def test_reset_is_queued_only_for_an_active_account(app):
    user = make_user(email="marie@example.org", full_name="Marie Curie")
    make_user(email="parti@example.org", is_active=False)
    now = utcnow()
    request_reset("nobody@example.org", now)
    request_reset("parti@example.org", now)
    assert emails() == []

    request_reset(" Marie@Example.org", now)
    db.session.commit()
    [email] = emails()
    assert email.to_address == "marie@example.org"
    assert email.subject == "Choisir un nouveau mot de passe"
    assert "Bonjour Marie," in email.body_text
    assert "pendant 60 minutes" in email.body_text
    token = token_of(email)
    [reset] = db.session.scalars(select(PasswordReset)).all()
    assert reset.user_id == user.id
    assert reset.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert reset.expires_at == now + RESET_TTL
    assert all(token not in str(value) for value in db.session.execute(select(PasswordReset.__table__)).one())


def test_reset_sets_the_password_ends_sessions_and_works_once(app):
    user = make_user(email="marie@example.org")
    old_session = user.session_token
    now = utcnow()
    request_reset("marie@example.org", now)
    token = token_of(emails()[0])

    assert services.reset_password(token, NEW_PASSWORD, now=now) == user
    db.session.commit()
    assert services.authenticate("marie@example.org", NEW_PASSWORD, now=now) == user
    assert load_user(old_session) is None
    with pytest.raises(InvalidToken) as caught:
        services.reset_password(token, "encore un autre mot de passe", now=now)
    assert "Ce lien de réinitialisation n'est plus valable" in str(caught.value.message)


def test_reset_link_expires(app):
    make_user(email="marie@example.org")
    now = utcnow()
    request_reset("marie@example.org", now)
    token = token_of(emails()[0])
    assert services.password_reset_from_token(token, now=now + RESET_TTL - timedelta(seconds=1))
    with pytest.raises(InvalidToken):
        services.reset_password(token, NEW_PASSWORD, now=now + RESET_TTL)
    db.session.rollback()
    assert services.authenticate("marie@example.org", PASSWORD, now=now) is not None


def test_using_one_reset_link_voids_the_others(app):
    make_user(email="marie@example.org")
    now = utcnow()
    request_reset("marie@example.org", now)
    request_reset("marie@example.org", now)
    first, second = (token_of(e) for e in emails())
    services.reset_password(second, NEW_PASSWORD, now=now)
    db.session.commit()
    with pytest.raises(InvalidToken):
        services.password_reset_from_token(first, now=now)
    assert all(r.used_at == now for r in db.session.scalars(select(PasswordReset)))


def test_a_password_change_voids_pending_reset_links(app):
    user = make_user(email="marie@example.org")
    now = utcnow()
    request_reset("marie@example.org", now)
    token = token_of(emails()[0])
    services.change_password(user, PASSWORD, NEW_PASSWORD, now=now)
    db.session.commit()
    with pytest.raises(InvalidToken):
        services.password_reset_from_token(token, now=now)


def test_a_short_password_does_not_use_up_the_reset_link(app):
    user = make_user(email="marie@example.org")
    hash_before = user.password_hash
    now = utcnow()
    request_reset("marie@example.org", now)
    token = token_of(emails()[0])
    db.session.commit()
    with pytest.raises(ValidationFailed):
        services.reset_password(token, "a" * 11, now=now)
    db.session.rollback()
    assert services.password_reset_from_token(token, now=now).used_at is None
    assert db.session.scalars(select(User.password_hash).where(User.id == user.id)).one() == hash_before


def test_a_reset_link_stops_working_when_the_account_is_deactivated(app):
    user = make_user(email="marie@example.org")
    now = utcnow()
    request_reset("marie@example.org", now)
    token = token_of(emails()[0])
    services.set_user_active(user, False)
    with pytest.raises(InvalidToken):
        services.password_reset_from_token(token, now=now)


# --- the outbox is part of the transaction ---------------------------------------------------


def test_a_rolled_back_invitation_leaves_no_email_behind(tenant_a):
    invite(tenant_a, "new@example.org")
    assert len(emails()) == 1  # flushed, not committed
    db.session.rollback()
    assert emails() == []
    assert db.session.scalars(select(Invitation)).all() == []
