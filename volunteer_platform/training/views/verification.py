"""Public verification of an attestation: ``/verify/<code>``.

A code is looked up among training attestations, then among volunteering
attestations (``impact``), which carry codes of the same kind.

Anyone holding an attestation (an employer, a partner structure) can check
it here. The page shows what the attestation states and whether it was
withdrawn, never why (the reason is the person's business). The page names
a person, so it is neither cached nor announced to other sites (Referrer-
Policy) nor meant for search engines (X-Robots-Tag).
"""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from volunteer_platform.auth.permissions import public
from volunteer_platform.errors import NotFound
from volunteer_platform.extensions import db
from volunteer_platform.impact import services as impact_services
from volunteer_platform.tenants.models import Tenant
from volunteer_platform.training import services
from volunteer_platform.training.pdf import grouped_code, local_date
from volunteer_platform.training.views import verification_bp as bp

MAX_CODE_LENGTH = 64  # real codes have 24 characters; anything much longer is not one


@bp.after_request
def private_headers(response: Response) -> Response:
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _clean(code: str) -> str:
    """What people type: spaces and dashes between groups, any case."""
    return "".join(code.split()).replace("-", "").upper()


@bp.get("/")
@public
def index() -> Any:
    """A small form to type a code; submitting it opens the code's page."""
    typed = request.args.get("code", "")
    code = _clean(typed)
    if code and len(code) <= MAX_CODE_LENGTH and code.isalnum():
        return redirect(url_for("verification.attestation", code=code))
    error = bool(typed.strip())  # something was typed, but not a code
    return render_template("training/verification/index.html", typed=typed, error=error), (
        422 if error else 200
    )


@bp.get("/<code>")
@public
def attestation(code: str) -> Any:
    try:
        if len(code) > MAX_CODE_LENGTH:
            raise NotFound("not found")
        found = services.attestation_by_code(code)
    except NotFound:
        return _volunteering(code)
    tenant = db.session.get(Tenant, found.tenant_id)
    assert tenant is not None  # a non-null foreign key
    if found.module_version is not None:
        kind, title = "module", found.module_version.title
    else:
        kind, title = "path", found.path.title
    return render_template(
        "training/verification/attestation.html",
        attestation=found,
        tenant=tenant,
        kind=kind,
        title=title,
        code=grouped_code(found.code),
        issued_on=local_date(found.issued_at, tenant.timezone),
        withdrawn_on=local_date(found.withdrawn_at, tenant.timezone) if found.withdrawn_at else None,
    )


def _volunteering(code: str) -> Any:
    """A volunteering attestation (``impact``) has a code of the same kind: its page, or "not found"."""
    try:
        if len(code) > MAX_CODE_LENGTH:
            raise NotFound("not found")
        found = impact_services.volunteering_attestation_by_code(code)
    except NotFound:
        return render_template("training/verification/unknown.html", code=code), 404
    tenant = db.session.get(Tenant, found.tenant_id)
    assert tenant is not None  # a non-null foreign key
    return render_template(
        "training/verification/volunteering.html",
        attestation=found,
        tenant=tenant,
        code=grouped_code(found.code),
        issued_on=local_date(found.issued_at, tenant.timezone),
        withdrawn_on=local_date(found.withdrawn_at, tenant.timezone) if found.withdrawn_at else None,
    )
