"""Attestations: the PDF, the public verification page, and the reminder
e-mails sent before a qualification expires."""

from __future__ import annotations

import base64
import contextvars
import re
import zlib
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date
from dateutil.relativedelta import relativedelta
from sqlalchemy import select

from tests.factories import make_member, make_tenant, page_text
from tests.training.factories import complete_module, make_module
from volunteer_platform.db import utcnow
from volunteer_platform.extensions import db
from volunteer_platform.training import services
from volunteer_platform.training.cli import send_qualification_reminders_command
from volunteer_platform.training.models import Attestation, AwardSource, QualificationAward
from volunteer_platform.training.pdf import attestation_pdf, grouped_code

BASE_URL = "http://testserver.example"
# 23:30 UTC on 14 March is already 15 March in Paris: the PDF must say the 15th.
LATE_EVENING = datetime(2026, 3, 14, 23, 30, tzinfo=UTC)


# --- helpers ---------------------------------------------------------------------------

_STREAM_RE = re.compile(rb"<<(.*?)>>\s*stream\r?\n(.*?)\r?\n?endstream", re.DOTALL)
_SHOW_TEXT_RE = re.compile(rb"\(((?:\\.|[^\\)])*)\)\s*Tj", re.DOTALL)
_ESCAPE_RE = re.compile(rb"\\([0-7]{1,3}|.)", re.DOTALL)
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def _unescape(literal: bytes) -> bytes:
    def one(match: re.Match[bytes]) -> bytes:
        code = match.group(1)
        if code[:1].isdigit():
            return bytes([int(code, 8)])
        return _ESCAPES.get(code, code)

    return _ESCAPE_RE.sub(one, literal)


def pdf_text(pdf: bytes) -> str:
    """The text drawn on the pages, one string per ``Tj``, joined by new lines.

    ReportLab writes content streams with ASCII85 + Flate filters and the
    standard fonts in WinAnsi (cp1252), which is all this decoder handles.
    """
    shown = []
    for header, data in _STREAM_RE.findall(pdf):
        if b"/ASCII85Decode" in header:
            data = base64.a85decode(data.strip(), adobe=True)
        if b"/FlateDecode" in header:
            data = zlib.decompress(data)
        shown += [_unescape(s).decode("cp1252") for s in _SHOW_TEXT_RE.findall(data)]
    return "\n".join(shown)


def module_attestation(tenant, user, **module_fields) -> Attestation:
    module = make_module(None, **module_fields)
    version = complete_module(user, module, tenant, now=LATE_EVENING)
    return db.session.scalars(
        select(Attestation).where(Attestation.user_id == user.id, Attestation.module_version_id == version.id)
    ).one()


@pytest.fixture
def bethune(app):
    return make_tenant(slug="ccas-bethune", name="CCAS de Béthune")


@pytest.fixture
def learner(bethune):
    return make_member(bethune, "volunteer", full_name="Benoît Lœuillet", email="benoit@example.org")


# --- the PDF ------------------------------------------------------------------------------


def test_a_module_attestation_pdf_states_who_what_when_who_issued_it_and_how_to_verify(bethune, learner):
    attestation = module_attestation(bethune, learner, title="Sécurité en ligne : déjouer les arnaques")

    pdf = attestation_pdf(attestation, base_url=BASE_URL)

    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    text = pdf_text(pdf)
    assert "Attestation de formation" in text
    assert "Benoît Lœuillet" in text  # œ and î survive (WinAnsi)
    assert "« Sécurité en ligne : déjouer les arnaques »" in text
    assert "module de formation" in text
    assert "le 15 mars 2026." in text  # the day in Paris, in French
    assert "CCAS de Béthune atteste que" in text
    assert "Délivrée par : CCAS de Béthune" in text
    assert grouped_code(attestation.code) in text
    assert re.fullmatch(r"([A-Z2-7]{4} ){5}[A-Z2-7]{4}", grouped_code(attestation.code))
    assert f"{BASE_URL}/verify/{attestation.code}" in text.replace("\n", "")
    assert "RETIRÉE" not in text


def test_a_path_attestation_pdf_names_the_path(bethune, learner):
    first = make_module(None, title="Créer une adresse e-mail")
    second = make_module(None, title="Les démarches en ligne")
    path = services.create_path(None, title="Aidant numérique — niveau 1", module_ids=[first.id, second.id],
                                now=LATE_EVENING, publish_now=True)
    db.session.commit()
    complete_module(learner, first, bethune, now=LATE_EVENING)
    complete_module(learner, second, bethune, now=LATE_EVENING)
    attestation = db.session.scalars(
        select(Attestation).where(Attestation.user_id == learner.id, Attestation.path_id == path.id)
    ).one()

    text = pdf_text(attestation_pdf(attestation, base_url=BASE_URL))

    assert "parcours de formation" in text
    assert "« Aidant numérique — niveau 1 »" in text
    assert "Parcours de 2 modules" in text
    assert "Benoît Lœuillet" in text


def test_a_withdrawn_attestation_still_prints_but_says_it_was_withdrawn(bethune, learner):
    attestation = module_attestation(bethune, learner)
    services.withdraw_attestation(attestation, reason="Erreur de saisie",
                                  now=datetime(2026, 4, 2, 9, 0, tzinfo=UTC))
    db.session.commit()

    text = pdf_text(attestation_pdf(attestation, base_url=BASE_URL))

    assert "ATTESTATION RETIRÉE" in text
    assert "Cette attestation a été retirée le 2 avril 2026" in text
    assert "Erreur de saisie" not in text
    assert "Benoît Lœuillet" in text


def test_letters_the_pdf_fonts_lack_are_printed_without_their_accent(bethune):
    user = make_member(bethune, "volunteer", full_name="Thị Nguyễn")
    text = pdf_text(attestation_pdf(module_attestation(bethune, user), base_url=BASE_URL))
    assert "Thị Nguyen" in text or "Thi Nguyen" in text


# --- the verification page ---------------------------------------------------------------


def assert_private(response) -> None:
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"


def test_anyone_can_check_a_valid_attestation(client, bethune, learner):
    attestation = module_attestation(bethune, learner, title="Les bases du smartphone")

    response = client.get(f"/verify/{attestation.code}")

    assert response.status_code == 200
    assert_private(response)
    text = page_text(response)
    assert "Cette attestation est authentique et valable." in text
    assert "Benoît Lœuillet" in text
    assert "Les bases du smartphone" in text
    assert "15 mars 2026" in text
    assert "CCAS de Béthune" in text
    assert grouped_code(attestation.code) in text


@pytest.mark.parametrize("spelling", ["lower", "grouped", "dashed"])
def test_codes_are_read_whatever_the_case_spaces_and_dashes(client, bethune, learner, spelling):
    code = module_attestation(bethune, learner).code
    typed = {
        "lower": code.lower(),
        "grouped": grouped_code(code),
        "dashed": "-".join(grouped_code(code).lower().split()),
    }[spelling]

    response = client.get(f"/verify/{typed}")

    assert response.status_code == 200
    assert "Cette attestation est authentique et valable." in page_text(response)


def test_a_withdrawn_attestation_says_when_but_not_why(client, bethune, learner):
    qualification = services.create_qualification(None, name="Accompagnement aux démarches en ligne",
                                                   validity_months=24, now=LATE_EVENING)
    attestation = module_attestation(bethune, learner, qualification=qualification)
    award = db.session.scalars(select(QualificationAward).where(QualificationAward.user_id == learner.id)).one()
    services.withdraw_award(award, reason="Comportement signalé par une usagère",
                            now=datetime(2026, 5, 20, 8, 0, tzinfo=UTC))
    db.session.commit()

    response = client.get(f"/verify/{attestation.code}")

    assert response.status_code == 200
    assert_private(response)
    text = page_text(response)
    assert "Cette attestation a été retirée le 20 mai 2026." in text
    assert "authentique et valable" not in text
    assert "Comportement signalé" not in text
    assert "Benoît Lœuillet" in text


def test_an_unknown_code_is_a_404_that_says_so(client, bethune, learner):
    module_attestation(bethune, learner)

    response = client.get("/verify/AAAABBBBCCCCDDDDEEEEFFFF")

    assert response.status_code == 404
    assert_private(response)
    assert "Aucune attestation ne correspond à ce code." in page_text(response)
    assert "Benoît" not in page_text(response)
    assert client.get("/verify/" + "A" * 500).status_code == 404


def test_the_form_sends_the_typed_code_to_its_page(client, bethune, learner):
    code = module_attestation(bethune, learner).code

    form = client.get("/verify/")
    assert form.status_code == 200
    assert_private(form)
    assert 'name="code"' in page_text(form) and "Code de vérification" in page_text(form)

    response = client.get("/verify/", query_string={"code": " " + "-".join(grouped_code(code).lower().split())})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/verify/{code}"
    assert "authentique et valable" in page_text(client.get(response.headers["Location"]))

    bad = client.get("/verify/", query_string={"code": "pas/un code!"})
    assert bad.status_code == 422
    assert "Ce code n'est pas valide" in page_text(bad)


def test_a_signed_in_person_can_verify_too(client, login_as, bethune, learner):
    attestation = module_attestation(bethune, learner)
    login_as(make_member(make_tenant(), "coordinator"))
    response = client.get(f"/verify/{attestation.code}")
    assert response.status_code == 200
    assert_private(response)


# --- reminders before expiry -----------------------------------------------------------------


def award_expiring_in(tenant, user, qualification, days: float) -> QualificationAward:
    """An award of a 24-month qualification, given so that it expires ``days`` from now."""
    expires_at = utcnow() + timedelta(days=days)
    award = services.award(tenant, user, qualification, source=AwardSource.EXTERNAL, now=utcnow(),
                           awarded_at=expires_at - relativedelta(months=24))
    db.session.commit()
    return award


def run_reminders(app):
    """Run the command as cron does: outside any request (and outside the
    request context that pytest-flask keeps pushed during a test)."""
    db.session.commit()
    result = contextvars.Context().run(app.test_cli_runner().invoke, send_qualification_reminders_command)
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def test_holders_are_reminded_once_a_month_before_expiry(app, outbox, bethune):
    bethune.contact_phone = "03 21 00 00 01"
    qualification = services.create_qualification(None, name="Aidant numérique — niveau 1", validity_months=24,
                                                  now=utcnow())
    soon = make_member(bethune, "volunteer", full_name="Sophie Martin", email="sophie@example.org")
    later = make_member(bethune, "volunteer", email="later@example.org")
    withdrawn = make_member(bethune, "volunteer", email="withdrawn@example.org")
    expired = make_member(bethune, "volunteer", email="expired@example.org")
    reminded = award_expiring_in(bethune, soon, qualification, days=20)
    award_expiring_in(bethune, later, qualification, days=40)
    services.withdraw_award(award_expiring_in(bethune, withdrawn, qualification, days=20), reason="Départ",
                            now=utcnow())
    award_expiring_in(bethune, expired, qualification, days=-3)
    db.session.commit()

    result = run_reminders(app)

    emails = outbox()
    assert [e.to_address for e in emails] == ["sophie@example.org"]
    assert "queued: 1" in result.output
    email = emails[0]
    assert "Aidant numérique — niveau 1" in email.subject
    body = email.body_text
    assert body.startswith("Bonjour Sophie,")
    assert "expire le" in body and str(reminded.expires_at.year) in body
    assert "contactez votre coordinateur pour la renouveler" in body
    assert "CCAS de Béthune" in body and "03 21 00 00 01" in body
    db.session.rollback()
    assert db.session.get(QualificationAward, reminded.id).reminder_sent_at is not None

    run_reminders(app)
    assert len(outbox()) == 1


def test_the_reminder_gives_the_expiry_day_in_french(app, outbox, bethune):
    qualification = services.create_qualification(None, name="Accompagnement aux démarches en ligne",
                                                  validity_months=24, now=utcnow())
    user = make_member(bethune, "volunteer", email="nadia@example.org", locale="fr")
    award = award_expiring_in(bethune, user, qualification, days=10)

    run_reminders(app)

    expected = format_date(award.expires_at.astimezone(ZoneInfo("Europe/Paris")).date(), "long", locale="fr")
    assert f"expire le {expected}" in outbox()[0].body_text
