"""Which requests go into the audit log, declared in one place.

Rather than a call sprinkled in each view (and forgotten in the next one),
this table names the endpoints that show, export or change personal data,
roles or memberships. After a successful request (a page shown: 200; a form
accepted: a redirect) one entry is recorded, with the person concerned when
the URL names one. Entries shown only when the association's staff look
(``supervisor_only``) are the pages structures use every day — an event's
participants — where a coordinator's or trainer's routine look is not
an access to be audited but the association's is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, g, request
from flask_login import current_user

from volunteer_platform.extensions import db
from volunteer_platform.privacy.services import record
from volunteer_platform.tenants.models import Membership


@dataclass(frozen=True)
class Audited:
    action: str
    supervisor_only: bool = False


AUDITED: dict[tuple[str, str], Audited] = {
    ("tenants.members", "GET"): Audited("members.listed"),
    ("tenants.member_edit", "GET"): Audited("person.viewed"),
    ("tenants.member_edit", "POST"): Audited("member.changed"),
    ("tenants.member_set_active", "POST"): Audited("member.deactivated"),  # or reactivated: see below
    ("tenants.invitations", "POST"): Audited("member.invited"),
    ("training.person", "GET"): Audited("person.viewed"),
    ("training.person_record_qualification", "POST"): Audited("member.changed"),
    ("training.person_withdraw_award", "POST"): Audited("member.changed"),
    ("training.person_withdraw_attestation", "POST"): Audited("member.changed"),
    ("training.progress_matrix", "GET"): Audited("members.listed"),
    ("training.progress_csv", "GET"): Audited("export.downloaded"),
    ("scheduling.attendance", "GET"): Audited("members.listed", supervisor_only=True),
    ("scheduling.event", "GET"): Audited("members.listed", supervisor_only=True),
    ("supervision.structure", "GET"): Audited("members.listed"),
    ("supervision.structure_invite_coordinator", "POST"): Audited("coordinator.invited"),
}


def _succeeded(method: str, status: int) -> bool:
    return status == 200 if method == "GET" else status in (302, 303)


def _subject(view_args: dict[str, Any], tenant_id: int | None):
    membership_id = view_args.get("membership_id")
    if membership_id is None or tenant_id is None:
        return None
    membership = db.session.get(Membership, membership_id)
    return membership.user if membership is not None and membership.tenant_id == tenant_id else None


def register_audit(app: Flask) -> None:
    @app.after_request
    def audit_personal_data_access(response: Any) -> Any:
        rule = AUDITED.get((request.endpoint or "", request.method))
        if rule is None or not current_user.is_authenticated or not _succeeded(request.method, response.status_code):
            return response
        if rule.supervisor_only and not current_user.is_supervisor:
            return response
        tenant = getattr(g, "tenant", None)
        view_args = request.view_args or {}
        tenant_id = tenant.id if tenant is not None else view_args.get("tenant_id")
        action = rule.action
        if request.endpoint == "tenants.member_set_active" and request.form.get("active") == "1":
            action = "member.reactivated"
        details = {"page": request.path}
        if request.endpoint == "tenants.invitations":
            details["email"] = request.form.get("email", "")[:254]
        try:
            record(action, actor=current_user._get_current_object(), tenant=tenant_id,
                   subject=_subject(view_args, tenant_id), details=details)
            db.session.commit()
        except Exception:  # the page was served; a failed log entry must be seen, not hidden
            db.session.rollback()
            app.logger.exception("audit entry for %s could not be written", request.endpoint)
        return response
