"""The attestation PDF (ReportLab), A4, in French.

An attestation is a document shown to third parties (an employer, a partner
structure), so its wording is French whatever the interface language of the
person downloading it; dates are formatted with Babel's French locale in the
issuing structure's time zone. The verification code and URL (with a QR code
of that URL) let anyone check it on ``/verify/<code>``, which also tells
whether it was withdrawn since.

ReportLab's standard fonts use WinAnsi (cp1252): French accents, « », — and
œ are fine. A character outside cp1252 (a name in another script, say "ễ")
is folded to its base letter when Unicode allows, rather than drawn as a box.
"""

from __future__ import annotations

import io
import unicodedata
from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date
from flask_babel import force_locale
from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from volunteer_platform.extensions import db
from volunteer_platform.tenants.models import Tenant
from volunteer_platform.training.models import Attestation

BRAND = colors.HexColor("#1d4f91")
MUTED = colors.HexColor("#4a4a4a")
WITHDRAWN = colors.HexColor("#b00020")
PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 20 * mm
TEXT_WIDTH = PAGE_WIDTH - 2 * MARGIN - 20 * mm


def grouped_code(code: str, size: int = 4) -> str:
    """``ABCDEFGH…`` → ``ABCD EFGH …``: easier to read out and to type."""
    return " ".join(code[i : i + size] for i in range(0, len(code), size))


def verification_url(code: str, base_url: str) -> str:
    return f"{base_url.rstrip('/')}/verify/{code}"


def local_date(moment: datetime, timezone: str) -> date:
    """The calendar day of ``moment`` where the structure is (23:30 UTC is tomorrow in Paris)."""
    return moment.astimezone(ZoneInfo(timezone)).date()


def french_date(moment: datetime, timezone: str) -> str:
    return format_date(local_date(moment, timezone), format="long", locale="fr")


def _printable(text: str) -> str:
    """Text the standard fonts can draw: characters outside cp1252 lose their accents."""
    out = []
    for char in text:
        try:
            char.encode("cp1252")
        except UnicodeEncodeError:
            folded = "".join(
                c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
            )
            out.append(folded or char)
        else:
            out.append(char)
    return "".join(out)


def _hard_wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Cut a text without spaces (a URL) into lines that fit ``width``."""
    lines, current = [], ""
    for char in text:
        if current and stringWidth(current + char, font, size) > width:
            lines.append(current)
            current = ""
        current += char
    return [*lines, current]


class _Page:
    """A few drawing helpers on one canvas, writing from the top down."""

    def __init__(self, canvas: Canvas) -> None:
        self.canvas = canvas
        self.y = PAGE_HEIGHT - MARGIN - 18 * mm

    def centred(self, text: str, *, font: str = "Helvetica", size: float = 12,
                colour: colors.Color = colors.black, gap: float = 1.5) -> None:
        """Centred text, wrapped to the text width; ``gap`` is the line spacing factor."""
        self.canvas.setFont(font, size)
        self.canvas.setFillColor(colour)
        for line in simpleSplit(_printable(text), font, size, TEXT_WIDTH) or [""]:
            self.y -= size * gap
            self.canvas.drawCentredString(PAGE_WIDTH / 2, self.y, line)

    def space(self, points: float) -> None:
        self.y -= points


def _frame(canvas: Canvas) -> None:
    canvas.setStrokeColor(BRAND)
    canvas.setLineWidth(2)
    canvas.rect(MARGIN, MARGIN, PAGE_WIDTH - 2 * MARGIN, PAGE_HEIGHT - 2 * MARGIN)
    canvas.setLineWidth(0.5)
    inset = 3 * mm
    canvas.rect(MARGIN + inset, MARGIN + inset, PAGE_WIDTH - 2 * (MARGIN + inset),
                PAGE_HEIGHT - 2 * (MARGIN + inset))


def _withdrawn_watermark(canvas: Canvas) -> None:
    canvas.saveState()
    canvas.setFillColor(WITHDRAWN)
    canvas.setFillAlpha(0.12)
    canvas.translate(PAGE_WIDTH / 2, PAGE_HEIGHT / 2)
    canvas.rotate(40)
    canvas.setFont("Helvetica-Bold", 90)
    canvas.drawCentredString(0, -30, "RETIRÉE")
    canvas.restoreState()


def _qr_code(canvas: Canvas, url: str, *, x: float, y: float, size: float) -> None:
    widget = QrCodeWidget(url, barLevel="M")
    left, bottom, right, top = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (right - left), 0, 0, size / (top - bottom), 0, 0])
    drawing.add(widget)
    renderPDF.draw(drawing, canvas, x, y)


def _subject(attestation: Attestation) -> tuple[str, str, str | None]:
    """(what was completed, its title, a line of details or None)."""
    version = attestation.module_version
    if version is not None:
        minutes = version.duration_minutes
        duration = f"{minutes // 60} h {minutes % 60:02d}" if minutes >= 60 else f"{minutes} min"
        with force_locale("fr"):  # the enum labels are translatable strings
            details = (
                f"Domaine : {version.competence_area.label} — niveau {version.level.label.lower()}"
                f" — durée indicative : {duration}"
            )
        if version.requires_attendance:
            details += " — avec une séance en présentiel"
        return "a suivi et validé le module de formation", version.title, details
    assert attestation.path is not None  # the table requires a module version or a path
    steps = len(attestation.path.steps)
    details = f"Parcours de {steps} module{'s' if steps > 1 else ''}" if steps else None
    return "a suivi et validé le parcours de formation", attestation.path.title, details


def verification_box(canvas: Canvas, code: str, url: str, *, bottom: float, height: float,
                     compact: bool = False) -> None:
    """The box at the bottom of an attestation: the code, the address to check it and its
    QR code (training and volunteering attestations). ``compact`` tightens it a little for
    a page with more text above."""
    gap = 7 * mm if compact else 8 * mm
    qr_size = 36 * mm if compact else 38 * mm
    box_x = MARGIN + 10 * mm
    box_w = PAGE_WIDTH - 2 * box_x
    canvas.setStrokeColor(BRAND)
    canvas.setLineWidth(1)
    canvas.roundRect(box_x, bottom, box_w, height, 3 * mm)
    qr_margin = 4 * mm if compact else 5 * mm
    _qr_code(canvas, url, x=box_x + box_w - qr_size - qr_margin, y=bottom + (height - qr_size) / 2, size=qr_size)
    text_x = box_x + 6 * mm
    text_width = box_w - qr_size - 16 * mm
    line_y = bottom + height - (9 * mm if compact else 10 * mm)
    canvas.setFillColor(colors.black)
    canvas.setFont("Helvetica-Bold", 12)
    canvas.drawString(text_x, line_y, "Vérifier cette attestation")
    line_y -= gap
    canvas.setFont("Helvetica", 10)
    canvas.drawString(text_x, line_y, "Code de vérification :")
    line_y -= 6 * mm
    canvas.setFont("Courier-Bold", 12)
    canvas.drawString(text_x, line_y, grouped_code(code))
    line_y -= gap
    canvas.setFont("Helvetica", 10)
    canvas.drawString(text_x, line_y, "Sur Internet, ouvrez l'adresse ci-dessous ou scannez le code :")
    canvas.setFont("Helvetica", 9)
    for line in _hard_wrap(url, "Helvetica", 9, text_width):
        line_y -= 5 * mm
        canvas.drawString(text_x, line_y, line)
    canvas.linkURL(url, (box_x, bottom, box_x + box_w, bottom + height), relative=0)


def attestation_pdf(attestation: Attestation, *, base_url: str) -> bytes:
    """The attestation as an A4 PDF; a withdrawn one says so in large letters."""
    tenant = db.session.get(Tenant, attestation.tenant_id)
    assert tenant is not None  # tenant_id is a non-null foreign key
    url = verification_url(attestation.code, base_url)
    what, title, details = _subject(attestation)

    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    canvas.setTitle(_printable(f"Attestation de formation — {attestation.user.full_name}"))
    canvas.setAuthor(_printable(tenant.name))
    canvas.setSubject(_printable(title))
    _frame(canvas)
    if attestation.withdrawn_at is not None:
        _withdrawn_watermark(canvas)

    page = _Page(canvas)
    page.centred(tenant.name, font="Helvetica-Bold", size=13, colour=BRAND)
    if tenant.region:
        page.centred(tenant.region, size=10, colour=MUTED)
    page.space(14 * mm)
    page.centred("Attestation de formation", font="Helvetica-Bold", size=28, colour=BRAND)

    if attestation.withdrawn_at is not None:
        page.space(6 * mm)
        page.centred("ATTESTATION RETIRÉE", font="Helvetica-Bold", size=22, colour=WITHDRAWN)
        page.centred(
            f"Cette attestation a été retirée le {french_date(attestation.withdrawn_at, tenant.timezone)}"
            " : elle n'est plus valable.",
            size=12, colour=WITHDRAWN,
        )

    page.space(14 * mm)
    page.centred(f"{tenant.name} atteste que", size=13)
    page.space(3 * mm)
    page.centred(attestation.user.full_name, font="Helvetica-Bold", size=22)
    page.space(3 * mm)
    page.centred(what, size=13)
    page.space(2 * mm)
    page.centred(f"« {title} »", font="Helvetica-Bold", size=16, colour=BRAND)
    if details:
        page.centred(details, size=10, colour=MUTED)
    page.space(6 * mm)
    page.centred(f"le {french_date(attestation.issued_at, tenant.timezone)}.", size=13)
    page.space(10 * mm)
    page.centred("Fait pour servir et valoir ce que de droit.", size=11, colour=MUTED)
    page.centred(f"Délivrée par : {tenant.name}", size=11, colour=MUTED)

    verification_box(canvas, attestation.code, url, bottom=MARGIN + 12 * mm, height=48 * mm)

    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
