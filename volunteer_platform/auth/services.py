"""Accounts: passwords, sessions, invitations and password resets.

Rules live here, free of Flask's request machinery: functions take plain
values and the objects they act on, flush, and raise ``errors`` exceptions.
The caller (a view or a command) commits.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from zxcvbn import zxcvbn

from volunteer_platform.auth.models import Invitation, InvitationStatus, PasswordReset, User
from volunteer_platform.errors import Conflict, Forbidden, InvalidToken, ValidationFailed
from volunteer_platform.extensions import db
from volunteer_platform.notifications.services import queue_templated_email
from volunteer_platform.signals import member_joined
from volunteer_platform.tenants.models import Membership, Role, Tenant

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256  # Argon2 copes, but a megabyte "password" is an attack.

# Argon2id with the library's RFC 9106 "low memory" defaults.
_hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so that both cases cost the same.
_DUMMY_HASH = _hasher.hash("not-a-real-password-" + secrets.token_hex(8))


def normalise_email(email: str) -> str:
    return email.strip().lower()


def new_token() -> tuple[str, str]:
    """Return a URL-safe random token (256 bits) and the SHA-256 to store."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


# --- passwords -------------------------------------------------------------


#: zxcvbn's score (0–4) a password must reach: 2 means more than 10^8 guesses. Below that
#: are common passwords (its list of the 30,000 most used ones), dictionary words with a
#: year or digits, keyboard walks ("azertyuiop12") and repetitions ("aaaaaaaaaaaa").
MIN_PASSWORD_SCORE = 2


def check_password_rules(password: str, *, personal: Sequence[str] = ()) -> None:
    """Raise ValidationFailed (field ``password``) unless the password is acceptable.

    ``personal``: the person's own words (name, e-mail) that must not make the
    password guessable ("sophie.martin2026").
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            _l(
                "Le mot de passe doit contenir au moins %(n)s caractères.",
                n=MIN_PASSWORD_LENGTH,
            ),
            field="password",
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationFailed(
            _l("Le mot de passe est trop long (%(n)s caractères au plus).", n=MAX_PASSWORD_LENGTH),
            field="password",
        )
    if password.strip() != password or not password.strip():
        raise ValidationFailed(
            _l("Le mot de passe ne doit pas commencer ni finir par un espace."), field="password"
        )
    words = [w for value in personal if value for w in re.split(r"[\s@._-]+", value.lower()) if len(w) > 2]
    # zxcvbn refuses more than 72 characters; judging the first 72 is plenty.
    if zxcvbn(password[:72], user_inputs=words)["score"] < MIN_PASSWORD_SCORE:
        raise ValidationFailed(
            _l(
                "Ce mot de passe est trop courant ou trop facile à deviner (mot courant, prénom, suite de "
                "chiffres ou de touches…). Essayez plutôt trois ou quatre mots sans rapport entre eux, "
                "par exemple « cheval-banane-vélo-nuage »."
            ),
            field="password",
        )


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def set_password(user: User, password: str, *, now: datetime) -> None:
    """Set a new password and end every session of the person (all devices)."""
    check_password_rules(password, personal=(user.full_name, user.email))
    user.password_hash = hash_password(password)
    user.password_changed_at = now
    end_all_sessions(user)
    # Any reset link sent before this change is now void.
    for reset in db.session.scalars(
        select(PasswordReset).where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
    ):
        reset.used_at = now
    db.session.flush()


def password_matches(user: User | None, password: str) -> bool:
    stored = user.password_hash if user is not None and user.password_hash else _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False
    return user is not None and user.password_hash is not None


def authenticate(email: str, password: str, *, now: datetime) -> User | None:
    """Return the active account matching the credentials, or None.

    Unknown address, wrong password and deactivated account all return None
    after the same amount of work, so the answer reveals nothing.
    """
    user = db.session.scalars(select(User).where(User.email == normalise_email(email))).one_or_none()
    if not password_matches(user, password) or user is None or not user.is_active:
        return None
    if _hasher.check_needs_rehash(user.password_hash or ""):
        user.password_hash = hash_password(password)
    user.last_login_at = now
    db.session.flush()
    return user


def change_password(user: User, current: str, new: str, *, now: datetime) -> None:
    if not password_matches(user, current):
        raise ValidationFailed(_l("Le mot de passe actuel est incorrect."), field="current_password")
    set_password(user, new, now=now)


def end_all_sessions(user: User) -> None:
    """Invalidate every session and "remember me" cookie of ``user``.

    Flask-Login stores ``session_token`` (see ``User.get_id``); a new value
    makes every existing cookie point at nobody.
    """
    user.session_token = new_session_token()
    db.session.flush()


def set_user_active(user: User, active: bool) -> None:
    user.is_active = active
    if not active:
        end_all_sessions(user)
    db.session.flush()


def create_user(
    email: str,
    full_name: str,
    password: str | None,
    *,
    now: datetime,
    is_supervisor: bool = False,
    locale: str | None = None,
) -> User:
    email = normalise_email(email)
    if db.session.scalars(select(User.id).where(User.email == email)).first() is not None:
        raise Conflict(_l("Un compte existe déjà pour cette adresse."), field="email")
    user = User(
        email=email,
        full_name=full_name.strip(),
        session_token=new_session_token(),
        is_supervisor=is_supervisor,
        locale=locale,
        created_at=now,
    )
    if password is not None:
        check_password_rules(password, personal=(full_name, email))
        user.password_hash = hash_password(password)
        user.password_changed_at = now
    db.session.add(user)
    db.session.flush()
    return user


def user_by_email(email: str) -> User | None:
    return db.session.scalars(select(User).where(User.email == normalise_email(email))).one_or_none()


# --- memberships ------------------------------------------------------------


def join_tenant(user: User, tenant: Tenant, role: Role) -> Membership:
    """Make ``user`` an active member of ``tenant`` with ``role`` (reactivating if needed)."""
    membership = db.session.scalars(
        select(Membership).where(Membership.tenant_id == tenant.id, Membership.user_id == user.id)
    ).one_or_none()
    if membership is None:
        membership = Membership(tenant_id=tenant.id, user_id=user.id, role=role)
        db.session.add(membership)
    else:
        membership.role = role
        membership.is_active = True
    db.session.flush()
    return membership


# --- invitations --------------------------------------------------------------


def _send_invitation(invitation: Invitation, token: str, *, base_url: str, now: datetime) -> None:
    queue_templated_email(
        invitation.email,
        "invitation",
        locale="fr",
        now=now,
        tenant=invitation.tenant,
        role=invitation.role,
        inviter=invitation.invited_by,
        link=f"{base_url}/invitations/{token}",
        expires_at=invitation.expires_at,
    )


def _check_invitable(tenant: Tenant, email: str, *, now: datetime, exclude_id: int | None = None) -> None:
    """Raise Conflict unless ``email`` may get a (fresh) invitation link to ``tenant``:
    not an active member, and no other pending invitation."""
    already_member = db.session.scalars(
        select(Membership.id)
        .join(User, User.id == Membership.user_id)
        .where(Membership.tenant_id == tenant.id, Membership.is_active.is_(True), User.email == email)
    ).first()
    if already_member is not None:
        raise Conflict(_l("Cette personne est déjà membre de la structure."), field="email")
    pending_stmt = select(Invitation.id).where(
        Invitation.tenant_id == tenant.id,
        Invitation.email == email,
        Invitation.accepted_at.is_(None),
        Invitation.revoked_at.is_(None),
        Invitation.expires_at > now,
    )
    if exclude_id is not None:
        pending_stmt = pending_stmt.where(Invitation.id != exclude_id)
    if db.session.scalars(pending_stmt).first() is not None:
        raise Conflict(
            _l("Une invitation est déjà en attente pour cette adresse : renvoyez-la depuis la liste."),
            field="email",
        )


def invite(
    tenant: Tenant,
    email: str,
    role: Role,
    *,
    invited_by: User | None,
    now: datetime,
    ttl: timedelta,
    base_url: str,
) -> tuple[Invitation, str]:
    """Invite ``email`` to join ``tenant`` as ``role`` and queue the e-mail.

    Raises Conflict (field ``email``) if the person is already an active
    member, or already has a pending invitation (resend that one instead).
    Whether the address has an account elsewhere is neither checked nor told.
    Returns the invitation and the clear token (only ever in the e-mail).
    """
    email = normalise_email(email)
    _check_invitable(tenant, email, now=now)
    token, token_hash = new_token()
    invitation = Invitation(
        tenant_id=tenant.id,
        tenant=tenant,
        email=email,
        role=role,
        token_hash=token_hash,
        invited_by=invited_by,
        created_at=now,
        last_sent_at=now,
        expires_at=now + ttl,
    )
    db.session.add(invitation)
    db.session.flush()
    _send_invitation(invitation, token, base_url=base_url, now=now)
    return invitation, token


def resend_invitation(
    invitation: Invitation, *, now: datetime, ttl: timedelta, base_url: str
) -> str:
    """Send a fresh link (the previous one stops working) and extend the expiry.

    Raises Conflict if the invitation was accepted or revoked, and, like
    ``invite``, if the person has become an active member or another
    invitation is pending for the address (an expired one revived here would
    otherwise make two working links).
    """
    status = invitation.status_at(now)
    if status in (InvitationStatus.ACCEPTED, InvitationStatus.REVOKED):
        raise Conflict(_l("Cette invitation n'est plus active : elle ne peut pas être renvoyée."))
    _check_invitable(invitation.tenant, invitation.email, now=now, exclude_id=invitation.id)
    token, invitation.token_hash = new_token()
    invitation.expires_at = now + ttl
    invitation.last_sent_at = now
    invitation.send_count += 1
    db.session.flush()
    _send_invitation(invitation, token, base_url=base_url, now=now)
    return token


def revoke_invitation(invitation: Invitation, *, now: datetime) -> None:
    if invitation.status_at(now) is InvitationStatus.ACCEPTED:
        raise Conflict(_l("Cette invitation a déjà été acceptée."))
    if invitation.revoked_at is None:
        invitation.revoked_at = now
    db.session.flush()


def invitation_from_token(token: str, *, now: datetime, for_update: bool = False) -> Invitation:
    """Return the pending invitation behind ``token``; raise InvalidToken otherwise.

    Unknown, expired, revoked and used links are all refused with the same
    message, and an inactive structure's invitations do not work.
    """
    stmt = select(Invitation).where(Invitation.token_hash == hash_token(token))
    if for_update:
        stmt = stmt.with_for_update()
    invitation = db.session.scalars(stmt).one_or_none()
    if (
        invitation is None
        or invitation.status_at(now) is not InvitationStatus.PENDING
        or not invitation.tenant.is_active
    ):
        raise InvalidToken(
            _l("Ce lien d'invitation n'est plus valable. Demandez une nouvelle invitation.")
        )
    return invitation


def accept_invitation(
    token: str,
    *,
    now: datetime,
    signed_in_user: User | None = None,
    full_name: str | None = None,
    password: str | None = None,
) -> tuple[User, Membership]:
    """Accept an invitation: create the account if needed and join the structure.

    If an account exists for the invited address, the person must be signed in
    as that account (``signed_in_user``); otherwise ``full_name`` and
    ``password`` create it. The link works once: the invitation row is locked
    and marked accepted in the same transaction.
    """
    invitation = invitation_from_token(token, now=now, for_update=True)
    existing = user_by_email(invitation.email)
    if existing is not None:
        if signed_in_user is None or signed_in_user.id != existing.id:
            raise Forbidden(
                _l("Connectez-vous avec le compte de l'adresse invitée pour accepter l'invitation.")
            )
        user = existing
    else:
        if signed_in_user is not None:
            raise Forbidden(
                _l("Cette invitation a été envoyée à une autre adresse : déconnectez-vous d'abord.")
            )
        if not full_name or not full_name.strip():
            raise ValidationFailed(_l("Indiquez votre nom."), field="full_name")
        if password is None:
            raise ValidationFailed(_l("Choisissez un mot de passe."), field="password")
        user = create_user(invitation.email, full_name, password, now=now)
    membership = join_tenant(user, invitation.tenant, invitation.role)
    invitation.accepted_at = now
    invitation.accepted_by_id = user.id
    db.session.flush()
    member_joined.send(invitation.tenant, user=user, membership=membership, now=now)
    return user, membership


def pending_invitation_count(tenant: Tenant, *, now: datetime) -> int:
    return db.session.scalar(
        select(func.count(Invitation.id)).where(
            Invitation.tenant_id == tenant.id,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > now,
        )
    ) or 0


# --- password reset -----------------------------------------------------------


def request_password_reset(email: str, *, now: datetime, ttl: timedelta, base_url: str) -> None:
    """Queue a reset link if an active account has this address; otherwise do nothing.

    The caller shows the same message either way.
    """
    user = user_by_email(email)
    if user is None or not user.is_active:
        return
    token, token_hash = new_token()
    db.session.add(
        PasswordReset(user_id=user.id, token_hash=token_hash, created_at=now, expires_at=now + ttl)
    )
    db.session.flush()
    queue_templated_email(
        user.email,
        "password_reset",
        locale=user.locale or "fr",
        now=now,
        user=user,
        link=f"{base_url}/password/reset/{token}",
        ttl_minutes=int(ttl.total_seconds() // 60),
    )


def password_reset_from_token(token: str, *, now: datetime, for_update: bool = False) -> PasswordReset:
    stmt = select(PasswordReset).where(PasswordReset.token_hash == hash_token(token))
    if for_update:
        stmt = stmt.with_for_update()
    reset = db.session.scalars(stmt).one_or_none()
    if reset is None or reset.used_at is not None or reset.expires_at <= now or not reset.user.is_active:
        raise InvalidToken(
            _l("Ce lien de réinitialisation n'est plus valable. Faites une nouvelle demande.")
        )
    return reset


def reset_password(token: str, new_password: str, *, now: datetime) -> User:
    """Set the password from a reset link; the link then stops working."""
    reset = password_reset_from_token(token, now=now, for_update=True)
    set_password(reset.user, new_password, now=now)  # also voids every pending reset link
    reset.used_at = now
    db.session.flush()
    return reset.user
