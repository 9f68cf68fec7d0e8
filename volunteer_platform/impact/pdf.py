"""The volunteering attestation PDF (ReportLab), A4, in French.

Like the training attestation (``training/pdf.py``, whose helpers this
reuses: fonts, frame, watermark, QR code, verification URL, dates), it is a
document for third parties — an employer, the Compte d'engagement citoyen —
so its wording is French whatever the interface language, and its dates are
the issuing structure's calendar days.

It prints the figures frozen in ``attestation.figures`` at issue, never
today's: the PDF downloaded next year and the public verification page say
the same as on the day it was issued.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from babel.dates import format_date
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy import select

from volunteer_platform.extensions import db
from volunteer_platform.impact.models import VolunteeringAttestation
from volunteer_platform.tenants.models import Site, Tenant
from volunteer_platform.training.pdf import (
    BRAND,
    MARGIN,
    MUTED,
    PAGE_WIDTH,
    TEXT_WIDTH,
    WITHDRAWN,
    _frame,
    _Page,
    _printable,
    _withdrawn_watermark,
    french_date,
    verification_box,
    verification_url,
)

#: Module titles listed at most; fewer when the page has no room left ("et N autres modules").
MODULES_LISTED = 6
#: The verification box at the bottom of the page, and the signature just above it.
BOX_BOTTOM = MARGIN + 10 * mm
BOX_HEIGHT = 44 * mm
SIGNATURE_TOP = BOX_BOTTOM + BOX_HEIGHT + 22 * mm
#: The text flowing from the top stops here, above the signature.
FLOW_BOTTOM = SIGNATURE_TOP + 4 * mm
MODULE_SIZE, MODULE_GAP = 10, 1.35
CV_SIZE, CV_INDENT = 10, 4 * mm


def hours_text(hours: float) -> str:
    """6.0 → "6 h", 2.5 → "2 h 30", 0.75 → "45 min" (how French people write durations)."""
    minutes = round(float(hours) * 60)
    whole, rest = divmod(minutes, 60)
    if not whole:
        return f"{rest} min"
    return f"{whole} h {rest:02d}" if rest else f"{whole} h"


def _plural(count: int, singular: str, plural: str) -> str:
    """French: 0 and 1 take the singular."""
    return singular if count <= 1 else plural


def long_date(day: date) -> str:
    return format_date(day, format="long", locale="fr")


def first_site(tenant: Tenant) -> Site | None:
    """The structure's first site (the oldest active one): its address heads the page."""
    return db.session.scalars(
        select(Site)
        .where(Site.tenant_id == tenant.id, Site.is_active.is_(True))
        .order_by(Site.created_at, Site.id)
    ).first()


def cv_sentence(tenant_name: str, figures: dict[str, Any], start: date, end: date) -> str:
    """One sentence a volunteer can copy into a CV or the Compte d'engagement citoyen."""
    shifts = int(figures.get("shifts", 0))
    sessions = int(figures.get("training_sessions", 0))
    modules = len(figures.get("modules_completed", []))
    parts = []
    if figures.get("volunteer_hours"):
        parts.append(
            f"{hours_text(figures['volunteer_hours'])} d'accompagnement du public au numérique"
            f" ({shifts} {_plural(shifts, 'permanence ou atelier', 'permanences ou ateliers')})"
        )
    if sessions:
        parts.append(
            f"{sessions} {_plural(sessions, 'session', 'sessions')} de formation"
            f" ({hours_text(figures.get('training_hours', 0))})"
        )
    if modules:
        parts.append(f"{modules} {_plural(modules, 'module de formation validé', 'modules de formation validés')}")
    sentence = f"Bénévole en médiation numérique auprès de {tenant_name}, du {long_date(start)} au {long_date(end)}"
    if not parts:
        return sentence + "."
    done = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " et " + parts[-1]
    return f"{sentence} : {done}."


class _Sheet(_Page):
    """``_Page`` plus the two layouts this attestation needs."""

    def pair(self, label: str, value: str, *, size: float = 12) -> None:
        """``label`` right-aligned before the middle of the page, ``value`` in bold after it."""
        self.y -= size * 1.6
        middle = PAGE_WIDTH / 2 + 12 * mm
        self.canvas.setFillColor(colors.black)
        self.canvas.setFont("Helvetica", size)
        self.canvas.drawRightString(middle - 3 * mm, self.y, _printable(label))
        self.canvas.setFont("Helvetica-Bold", size)
        self.canvas.drawString(middle + 3 * mm, self.y, _printable(value))

    def left(self, text: str, *, font: str = "Helvetica", size: float = 11,
             colour: colors.Color = colors.black, indent: float = 0) -> None:
        """Left-aligned text, wrapped to the text width."""
        x = (PAGE_WIDTH - TEXT_WIDTH) / 2 + indent
        self.canvas.setFont(font, size)
        self.canvas.setFillColor(colour)
        for line in simpleSplit(_printable(text), font, size, TEXT_WIDTH - indent) or [""]:
            self.y -= size * 1.4
            self.canvas.drawString(x, self.y, line)


def _module_titles(page: _Sheet, titles: list[str], *, room: float) -> None:
    """The titles of the modules completed, as many as fit in ``room`` points (at most
    MODULES_LISTED), then "et N autres modules" for the rest."""
    line = MODULE_SIZE * MODULE_GAP

    def height(title: str) -> float:
        return line * len(simpleSplit(_printable(f"« {title} »"), "Helvetica", MODULE_SIZE, TEXT_WIDTH))

    shown: list[str] = []
    used = 0.0
    for index, title in enumerate(titles[:MODULES_LISTED]):
        more_after = index + 1 < len(titles)
        if used + height(title) + (line if more_after else 0) > room:
            break
        shown.append(title)
        used += height(title)
    for title in shown:
        page.centred(f"« {title} »", size=MODULE_SIZE, colour=MUTED, gap=MODULE_GAP)
    hidden = len(titles) - len(shown)
    if shown and hidden:  # with none shown, the count above says it all
        page.centred(f"et {hidden} {_plural(hidden, 'autre module', 'autres modules')}",
                     size=MODULE_SIZE, colour=MUTED, gap=MODULE_GAP)


def _verification_box(canvas: Canvas, code: str, url: str) -> None:
    verification_box(canvas, code, url, bottom=BOX_BOTTOM, height=BOX_HEIGHT, compact=True)


def volunteering_attestation_pdf(attestation: VolunteeringAttestation, *, base_url: str) -> bytes:
    """The attestation as a one-page A4 PDF; a withdrawn one says so in large letters."""
    tenant = db.session.get(Tenant, attestation.tenant_id)
    assert tenant is not None  # tenant_id is a non-null foreign key
    site = first_site(tenant)
    figures = attestation.figures or {}
    holder = attestation.holder_name or "—"
    url = verification_url(attestation.code, base_url)

    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    canvas.setTitle(_printable(f"Attestation de bénévolat — {holder}"))
    canvas.setAuthor(_printable(tenant.name))
    canvas.setSubject(_printable(
        f"Bénévolat du {long_date(attestation.period_start)} au {long_date(attestation.period_end)}"
    ))
    _frame(canvas)
    if attestation.withdrawn_at is not None:
        _withdrawn_watermark(canvas)

    page = _Sheet(canvas)
    page.y += 6 * mm  # the header sits a little higher than on a training attestation: more to say
    page.centred(tenant.name, font="Helvetica-Bold", size=13, colour=BRAND)
    if site is not None:
        page.centred(site.full_address, size=10, colour=MUTED, gap=1.3)
    contact = " — ".join(c for c in (tenant.contact_email, tenant.contact_phone) if c)
    if contact:
        page.centred(f"Contact : {contact}", size=10, colour=MUTED, gap=1.3)
    page.space(9 * mm)
    page.centred("Attestation de bénévolat", font="Helvetica-Bold", size=26, colour=BRAND)

    if attestation.withdrawn_at is not None:
        page.space(3 * mm)
        page.centred("ATTESTATION RETIRÉE", font="Helvetica-Bold", size=18, colour=WITHDRAWN)
        page.centred(
            f"Cette attestation a été retirée le {french_date(attestation.withdrawn_at, tenant.timezone)}"
            " : elle n'est plus valable.",
            size=11, colour=WITHDRAWN,
        )

    page.space(8 * mm)
    page.centred(f"{tenant.name} atteste que", size=13)
    page.space(2 * mm)
    page.centred(holder, font="Helvetica-Bold", size=20)
    page.space(1 * mm)
    page.centred(
        f"a été bénévole du {long_date(attestation.period_start)} au {long_date(attestation.period_end)} :",
        size=12,
    )
    page.space(3 * mm)
    modules = [str(title) for title in figures.get("modules_completed", [])]
    page.pair("Heures de bénévolat :", hours_text(figures.get("volunteer_hours", 0)))
    page.pair("Permanences et ateliers tenus :", str(int(figures.get("shifts", 0))))
    page.pair("Sessions de formation suivies :", str(int(figures.get("training_sessions", 0))))
    page.pair("Heures de formation :", hours_text(figures.get("training_hours", 0)))
    page.pair("Modules de formation validés :", str(len(modules)))
    sentence = cv_sentence(tenant.name, figures, attestation.period_start, attestation.period_end)
    cv_lines = simpleSplit(_printable(sentence), "Helvetica-Oblique", CV_SIZE, TEXT_WIDTH - CV_INDENT)
    cv_height = 6 * mm + CV_SIZE * 1.4 * (1 + len(cv_lines))
    if modules:
        page.space(1 * mm)
        _module_titles(page, modules, room=page.y - cv_height - FLOW_BOTTOM)

    page.space(6 * mm)
    page.left("Pour un CV ou le Compte d'engagement citoyen :", font="Helvetica-Bold", size=CV_SIZE, colour=BRAND)
    page.left(sentence, font="Helvetica-Oblique", size=CV_SIZE, indent=CV_INDENT)

    # The signature sits just above the verification box, whatever the length of the text above.
    page.y = SIGNATURE_TOP
    issued_on = french_date(attestation.issued_at, tenant.timezone)
    page.left(f"Fait à {site.city}, le {issued_on}." if site is not None else f"Fait le {issued_on}.", size=11)
    page.space(2 * mm)
    page.left(f"Pour la structure {tenant.name},", size=11)
    page.left(f"{attestation.signatory_name}, {attestation.signatory_role.lower()}",
              font="Helvetica-Bold", size=11)

    _verification_box(canvas, attestation.code, url)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
