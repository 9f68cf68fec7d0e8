"""Personal data (RGPD): the audit log, each person's copy of their data,
erasure on request, anonymisation of volunteers who left, retention.

Anonymising keeps the statistics: attendance, hours, completions and survey
answers stay (they are counted on the dashboards), but nothing in them can be
tied to the person any more — name, e-mail, password, sessions, feeds, links
and e-mails are gone, and the account can never sign in again.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import date, datetime, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta
from flask_babel import lazy_gettext as _l
from sqlalchemy import Table, delete, func, or_, select, update

from volunteer_platform.auth.models import Invitation, PasswordReset, User
from volunteer_platform.auth.services import end_all_sessions, password_matches
from volunteer_platform.db import utcnow
from volunteer_platform.errors import Conflict, Forbidden, ValidationFailed
from volunteer_platform.exports import csv_safe
from volunteer_platform.extensions import db
from volunteer_platform.notifications.models import OutboxEmail
from volunteer_platform.notifications.services import queue_templated_email
from volunteer_platform.privacy.models import AuditEntry
from volunteer_platform.tenants.models import Membership, Role, Tenant

#: Audit entries are kept this long.
AUDIT_RETENTION = timedelta(days=365)
#: The warning e-mail goes this long before an inactive account is anonymised.
RETENTION_WARNING = timedelta(days=30)
DEFAULT_RETENTION_YEARS = 3
RETENTION_YEARS_RANGE = range(1, 11)
ANONYMOUS_NAME = "Personne anonymisée"

#: Columns never given out, even to their owner: secrets that would let someone in.
SECRET_COLUMNS = {"password_hash", "session_token", "token_hash", "key"}


# --- audit log -----------------------------------------------------------------------------


def record(
    action: str, *, actor: User | None, tenant: Tenant | int | None = None, subject: User | None = None,
    details: dict[str, Any] | None = None, now: datetime | None = None,
) -> AuditEntry:
    """Add an entry to the audit log, in the caller's transaction."""
    tenant_id = tenant.id if isinstance(tenant, Tenant) else tenant
    entry = AuditEntry(
        at=now or utcnow(),
        actor_id=actor.id if actor else None,
        actor_label=actor.full_name if actor else "système",
        actor_is_supervisor=bool(actor and actor.is_supervisor),
        tenant_id=tenant_id,
        action=action,
        subject_user_id=subject.id if subject else None,
        subject_label=subject.full_name if subject else "",
        details=details or None,
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def audit_entries(*, tenant_id: int | None, action: str | None = None, page: int = 1,
                  per_page: int = 50) -> tuple[list[AuditEntry], bool]:
    """A page of the log, newest first (one structure's, or all with ``tenant_id=None``).
    Returns the entries and whether there is a next page."""
    stmt = select(AuditEntry)
    if tenant_id is not None:
        stmt = stmt.where(AuditEntry.tenant_id == tenant_id)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    rows = list(db.session.scalars(
        stmt.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).offset((page - 1) * per_page).limit(per_page + 1)
    ))
    return rows[:per_page], len(rows) > per_page


def purge_audit_log(*, now: datetime) -> int:
    result = db.session.execute(delete(AuditEntry).where(AuditEntry.at < now - AUDIT_RETENTION))
    return result.rowcount or 0


# --- a person's copy of their data ------------------------------------------------------------


def _person_tables() -> list[tuple[Table, list[Any]]]:
    """Every table with a column referring to an account, with those columns.

    Found from the schema, so a table added later is exported without anyone
    having to remember it. The audit log is special: only the entries about the
    person (not those where they acted on others) are theirs.
    """
    user_table = User.__table__
    found = []
    for table in db.metadata.sorted_tables:
        if table is user_table:
            continue
        columns = [
            fk.parent for fk in table.foreign_keys
            if fk.column.table is user_table and fk.parent.name not in SECRET_COLUMNS
        ]
        if table.name == AuditEntry.__tablename__:
            columns = [table.c.subject_user_id]
        if columns:
            found.append((table, columns))
    return found


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if hasattr(value, "value"):  # enums
        return value.value
    return value


def _rows(table: Table, where: Any) -> list[dict[str, Any]]:
    keys = [c for c in table.columns if c.name not in SECRET_COLUMNS]
    order = list(table.primary_key.columns) or keys[:1]
    return [
        {c.name: _plain(v) for c, v in zip(keys, row, strict=True)}
        for row in db.session.execute(select(*keys).where(where).order_by(*order))
    ]


def personal_data(user: User) -> dict[str, Any]:
    """All the data held about ``user``, across every structure, as plain JSON-able values."""
    account = _rows(User.__table__, User.__table__.c.id == user.id)[0]
    tables: dict[str, list[dict[str, Any]]] = {}
    for table, columns in _person_tables():
        rows = _rows(table, or_(*(c == user.id for c in columns)))
        if rows:
            tables[table.name] = rows
    invitations = _rows(Invitation.__table__, func.lower(Invitation.email) == user.email.lower())
    if invitations:
        tables[Invitation.__tablename__] = invitations
    emails = [
        {"created_at": _plain(created), "subject": subject, "status": _plain(status)}
        for created, subject, status in db.session.execute(
            select(OutboxEmail.created_at, OutboxEmail.subject, OutboxEmail.status)
            .where(func.lower(OutboxEmail.to_address) == user.email.lower())
            .order_by(OutboxEmail.id)
        )
    ]
    if emails:
        tables["emails_sent"] = emails
    return {
        "generated_at": utcnow().isoformat(),
        "account": account,
        "structures": [
            {"structure": m.tenant.name, "role": m.role.value, "active": m.is_active,
             "since": _plain(m.created_at)}
            for m in user.memberships
        ],
        "tables": tables,
    }


def personal_data_zip(data: dict[str, Any]) -> bytes:
    """The same data as CSV files (one per table) in a ZIP, for a spreadsheet."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        sections = {"compte": [data["account"]], "structures": data["structures"], **data["tables"]}
        for name, rows in sections.items():
            text = io.StringIO()
            header: list[str] = []
            for row in rows:
                header += [k for k in row if k not in header]
            writer = csv.DictWriter(text, fieldnames=header, delimiter=";", lineterminator="\r\n")
            writer.writeheader()
            for row in rows:
                writer.writerow({k: _csv_cell(row.get(k)) for k in header})
            archive.writestr(f"{name}.csv", "\ufeff" + text.getvalue())
    return buffer.getvalue()


def _csv_cell(value: Any) -> str:
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False)
    return csv_safe(value)


# --- anonymisation and erasure ---------------------------------------------------------------


def anonymise(user: User, *, now: datetime) -> None:
    """Remove everything that identifies ``user``; keep the anonymous statistics."""
    old_email = user.email
    user.full_name = ANONYMOUS_NAME
    user.email = f"anonyme-{user.id}@anonymise.invalid"
    user.password_hash = None
    user.is_active = False
    user.is_supervisor = False
    user.locale = None
    user.last_login_at = None
    user.anonymised_at = now
    end_all_sessions(user)
    db.session.execute(update(Membership).where(Membership.user_id == user.id).values(is_active=False))
    db.session.execute(delete(PasswordReset).where(PasswordReset.user_id == user.id))
    db.session.execute(
        update(Invitation)
        .where(func.lower(Invitation.email) == old_email.lower())
        .values(email=user.email, revoked_at=func.coalesce(Invitation.revoked_at, now))
        .execution_options(synchronize_session=False)
    )
    db.session.execute(delete(OutboxEmail).where(func.lower(OutboxEmail.to_address) == old_email.lower()))
    db.session.execute(update(AuditEntry).where(AuditEntry.subject_user_id == user.id)
                       .values(subject_label=ANONYMOUS_NAME))
    db.session.execute(update(AuditEntry).where(AuditEntry.actor_id == user.id).values(actor_label=ANONYMOUS_NAME))
    from volunteer_platform.calendars.external import ExternalCalendar
    from volunteer_platform.calendars.models import CalendarToken
    from volunteer_platform.impact.models import VolunteeringAttestation

    db.session.execute(delete(CalendarToken).where(CalendarToken.user_id == user.id))
    db.session.execute(delete(ExternalCalendar).where(ExternalCalendar.trainer_id == user.id))
    db.session.execute(update(VolunteeringAttestation).where(VolunteeringAttestation.user_id == user.id)
                       .values(holder_name=ANONYMOUS_NAME))
    db.session.flush()


def sole_coordinator_of(user: User) -> list[Tenant]:
    """Active structures where ``user`` is the only active coordinator."""
    mine = select(Membership.tenant_id).where(
        Membership.user_id == user.id, Membership.role == Role.COORDINATOR, Membership.is_active.is_(True)
    )
    others = (
        select(Membership.tenant_id)
        .where(Membership.role == Role.COORDINATOR, Membership.is_active.is_(True), Membership.user_id != user.id)
    )
    return list(db.session.scalars(
        select(Tenant).where(Tenant.id.in_(mine), Tenant.id.not_in(others), Tenant.is_active.is_(True))
        .order_by(Tenant.name)
    ))


def erase_own_account(user: User, *, password: str, now: datetime) -> None:
    """The person asked for their account to be erased (confirmed with their password)."""
    if not password_matches(user, password):
        raise ValidationFailed(_l("Mot de passe incorrect."), field="password")
    alone = sole_coordinator_of(user)
    if alone:
        raise Conflict(_l(
            "Vous êtes la seule personne qui coordonne %(names)s : demandez à l'association de nommer "
            "quelqu'un d'autre avant de supprimer votre compte.",
            names=", ".join(t.name for t in alone),
        ))
    tenants = [m.tenant_id for m in user.memberships]
    for tenant_id in tenants or [None]:
        record("account.erased", actor=None, tenant=tenant_id, subject=user, now=now)
    anonymise(user, now=now)


def anonymise_member(membership: Membership, *, by: User, now: datetime) -> None:
    """A coordinator anonymises a volunteer who has left their structure."""
    user = membership.user
    if membership.is_active:
        raise Conflict(_l("Désactivez d'abord cette personne : on n'anonymise que quelqu'un qui est parti."))
    if user.anonymised_at is not None:
        raise Conflict(_l("Cette personne est déjà anonymisée."))
    if user.id == by.id:
        raise Forbidden(_l("Pour supprimer votre propre compte, passez par « Mes données »."))
    elsewhere = db.session.scalar(select(func.count(Membership.id)).where(
        Membership.user_id == user.id, Membership.is_active.is_(True), Membership.id != membership.id,
    ))
    if elsewhere or user.is_supervisor:
        raise Conflict(_l(
            "Cette personne est encore active dans une autre structure de l'association : son compte ne peut "
            "pas être anonymisé d'ici."
        ))
    record("member.anonymised", actor=by, tenant=membership.tenant_id, subject=user, now=now)
    anonymise(user, now=now)


# --- retention -------------------------------------------------------------------------------


def retention_deadline(last_activity: datetime, years: int) -> datetime:
    return last_activity + relativedelta(years=years)


def apply_retention(*, now: datetime, base_url: str = "") -> dict[str, int]:
    """Anonymise accounts inactive for longer than their structures keep data; warn a month before.

    A person's last activity is their last sign-in (or when the account was
    created, or when they last joined a structure). The period is the longest of
    their structures' (``Tenant.retention_years``, 3 years by default).
    """
    joined = (
        select(Membership.user_id.label("user_id"), func.max(Membership.created_at).label("joined_at"),
               func.max(Tenant.retention_years).label("years"))
        .join(Tenant, Tenant.id == Membership.tenant_id)
        .group_by(Membership.user_id)
        .subquery()
    )
    earliest = now - relativedelta(years=min(RETENTION_YEARS_RANGE)) + RETENTION_WARNING
    candidates = db.session.execute(
        select(User, joined.c.joined_at, joined.c.years)
        .outerjoin(joined, joined.c.user_id == User.id)
        .where(
            User.anonymised_at.is_(None), User.is_supervisor.is_(False),
            func.coalesce(User.last_login_at, User.created_at) < earliest,
            or_(joined.c.joined_at.is_(None), joined.c.joined_at < earliest),
        )
    ).all()
    counts = {"anonymised": 0, "warned": 0}
    for user, joined_at, years in candidates:
        activity = max(d for d in (user.last_login_at, user.created_at, joined_at) if d is not None)
        deadline = retention_deadline(activity, years or DEFAULT_RETENTION_YEARS)
        if now >= deadline:
            record("retention.anonymised", actor=None, subject=user, now=now,
                   details={"inactive_since": activity.date().isoformat()})
            anonymise(user, now=now)
            counts["anonymised"] += 1
        elif now >= deadline - RETENTION_WARNING and (
            user.retention_warned_at is None or user.retention_warned_at < activity
        ):
            queue_templated_email(
                user.email, "retention_warning", locale=user.locale or "fr", now=now, user=user,
                deadline=deadline, link=f"{base_url}/login",
            )
            user.retention_warned_at = now
            record("retention.warned", actor=None, subject=user, now=now,
                   details={"deadline": deadline.date().isoformat()})
            counts["warned"] += 1
    counts["audit_purged"] = purge_audit_log(now=now)
    db.session.flush()
    return counts


def set_retention_years(tenant: Tenant, years: int) -> None:
    if years not in RETENTION_YEARS_RANGE:
        raise ValidationFailed(_l("Choisissez une durée entre 1 et 10 ans."), field="retention_years")
    tenant.retention_years = years
    db.session.flush()

