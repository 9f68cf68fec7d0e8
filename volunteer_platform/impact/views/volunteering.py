"""A person's volunteering, under ``/<tenant_slug>/impact/volunteering``.

"Mon bénévolat": every member of the structure sees their own figures for a
period they choose (hours, shifts, trainings), asks for an attestation of
that period — the figures are frozen at issue (``services.
issue_volunteering_attestation``) — and downloads the PDF of the
attestations already issued. A PDF is for its holder and the structure's
coordinators (and association staff); anybody else gets a 404, as if it did
not exist.
"""

from __future__ import annotations

import io
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from flask import abort, current_app, g, render_template, request, send_file, url_for
from flask_babel import force_locale, format_date
from flask_babel import gettext as _
from flask_login import current_user

from volunteer_platform.auth.models import User
from volunteer_platform.auth.permissions import has_role, require_role
from volunteer_platform.db import utcnow
from volunteer_platform.errors import ValidationFailed
from volunteer_platform.extensions import db
from volunteer_platform.forms import apply_domain_error, commit_or_show, form_status
from volunteer_platform.impact import metrics, services
from volunteer_platform.impact.forms_volunteering import (
    IssueVolunteeringAttestationForm,
    VolunteeringPeriodForm,
)
from volunteer_platform.impact.models import VolunteeringAttestation
from volunteer_platform.impact.pdf import volunteering_attestation_pdf
from volunteer_platform.impact.views import bp
from volunteer_platform.tenants.models import Membership, Role
from volunteer_platform.tenants.scoping import get_in_tenant_or_404, tenant_select

EVERYONE = (Role.VOLUNTEER, Role.TRAINER, Role.COORDINATOR)
#: Without a longer membership, the page opens on the last twelve months.
DEFAULT_MONTHS = 12


def _me() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]


def _today() -> date:
    """Today in the structure's time zone (periods are its calendar days)."""
    return utcnow().astimezone(ZoneInfo(g.tenant.timezone)).date()


def default_period(today: date, membership: Membership | None, zone: str) -> tuple[date, date]:
    """From the start of the membership or twelve months ago, whichever is earlier, to today;
    never longer than an attestation may cover."""
    start = today - relativedelta(months=DEFAULT_MONTHS)
    if membership is not None:
        start = min(start, membership.created_at.astimezone(ZoneInfo(zone)).date())
    return max(start, today - timedelta(days=services.ATTESTATION_MAX_DAYS)), today


@bp.app_template_filter("hours_minutes")
def duration(hours: float) -> str:
    """A number of hours as people write it: 6.0 → "6 h", 2.5 → "2 h 30", 0.75 → "45 min".
    (A filter of the whole app: the public verification page shows hours too.)"""
    minutes = round(float(hours) * 60)
    whole, rest = divmod(minutes, 60)
    if not whole:
        return _("%(minutes)d min", minutes=rest)
    if not rest:
        return _("%(hours)d h", hours=whole)
    return _("%(hours)d h %(minutes)02d", hours=whole, minutes=rest)


def _attestations_of(user: User) -> list[VolunteeringAttestation]:
    return list(db.session.scalars(
        tenant_select(VolunteeringAttestation, g.tenant)
        .where(VolunteeringAttestation.user_id == user.id)
        .order_by(VolunteeringAttestation.issued_at.desc(), VolunteeringAttestation.id.desc())
    ))


def _checked_period(form: VolunteeringPeriodForm) -> tuple[date, date] | None:
    """The form's period if it is one an attestation may cover; else None, the reason on the form."""
    if form.errors or form.start.data is None or form.end.data is None:
        return None
    try:
        services.check_volunteering_period(form.start.data, form.end.data, today=_today())
    except ValidationFailed as error:
        apply_domain_error(form, error)
        return None
    return form.start.data, form.end.data


def _page(form: VolunteeringPeriodForm, *, status: int = 200) -> Any:
    """The page: the period form, the figures of a valid period, and the attestations issued."""
    period = _checked_period(form)
    record = None
    if period is not None:
        record = metrics.volunteering_of(
            _me().id, g.tenant.id, metrics.Period(period[0], period[1], g.tenant.timezone), now=utcnow()
        )
    has_activity = record is not None and bool(
        record.volunteer_hours or record.training_sessions or record.modules_completed
    )
    return render_template(
        "impact/volunteering.html",
        form=form,
        issue_form=IssueVolunteeringAttestationForm(formdata=None),
        period=period,
        record=record,
        has_activity=has_activity,
        attestations=_attestations_of(_me()),
        today=_today(),
    ), form_status(form) if status == 200 else status


@bp.get("/volunteering")
@require_role(*EVERYONE)
def volunteering() -> Any:
    """"Mon bénévolat": my figures for a period (my membership or the last 12 months by default)."""
    if "start" in request.args or "end" in request.args:
        form = VolunteeringPeriodForm(formdata=request.args)
        form.validate()
    else:
        start, end = default_period(_today(), g.membership, g.tenant.timezone)
        form = VolunteeringPeriodForm(formdata=None, start=start, end=end)
    return _page(form)


@bp.post("/volunteering/attestations")
@require_role(*EVERYONE)
def volunteering_issue() -> Any:
    """Issue the attestation of the period shown, then back to the list; a bad period or a
    period without activity comes back on the form (422), nothing stored."""
    form = IssueVolunteeringAttestationForm()

    def save() -> tuple[str, str]:
        # The signatory's role is stored as printed, and the attestation is in French
        # whatever the language of the person asking for it.
        with force_locale("fr"):
            attestation = services.issue_volunteering_attestation(
                g.tenant, _me(), start=form.start.data, end=form.end.data, now=utcnow(), zone=g.tenant.timezone,
            )
        return (
            _("Votre attestation du %(start)s au %(end)s est prête : téléchargez-la dans la liste ci-dessous.",
              start=format_date(attestation.period_start, "long"),
              end=format_date(attestation.period_end, "long")),
            url_for("impact.volunteering", _anchor="attestations"),
        )

    done, status = commit_or_show(form, save)
    if done is not None:
        return done
    # Shown again in the visible period form, with the dates as typed and the reason beside them.
    shown = VolunteeringPeriodForm(formdata=request.form)
    shown.validate()
    for name in ("start", "end"):
        shown[name].errors = list(form[name].errors)
    return _page(shown, status=status)


@bp.get("/volunteering/attestations/<int:attestation_id>.pdf")
@require_role(*EVERYONE)
def volunteering_pdf(attestation_id: int) -> Any:
    """The PDF, for its holder or a coordinator of the structure (and association staff);
    404 for anybody else."""
    attestation = get_in_tenant_or_404(VolunteeringAttestation, attestation_id, g.tenant)
    if attestation.user_id != current_user.id and not has_role(Role.COORDINATOR):
        abort(404)
    data = volunteering_attestation_pdf(attestation, base_url=current_app.config["BASE_URL"])
    response = send_file(io.BytesIO(data), mimetype="application/pdf", as_attachment=True,
                         download_name=f"attestation-benevolat-{attestation.code}.pdf", etag=False, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
