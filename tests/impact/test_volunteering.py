"""Volunteering attestations: "Mon bénévolat", issuing an attestation for a
period, its PDF, who may download it, and the public verification page.

The data (``march`` fixture), structure A, period 1–31 March 2026 in Europe/Paris,
for Victor (``volunteer_a``):

- shift 3 March 14:00–17:00, marked present → 3 h;
- shift 10 March 09:00–12:00, attendance not marked but he filed an activity report → 3 h;
- shift 17 March 09:00–12:00, marked absent → 0 h;
- training session 20 March 10:00–12:00, marked present → 1 session, 2 h of training;
- module "Créer une adresse e-mail" completed on 25 March;
- outside the period: a shift on 2 April (present), a session on 27 February (present),
  a module completed on 5 April; and another volunteer's shift on 3 March.

→ 6.0 volunteer hours, 2 shifts, 1 session, 2.0 training hours, ["Créer une adresse e-mail"].
"""

from __future__ import annotations

import itertools
import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from tests.factories import flashes_in, make_member, make_site, page_text
from tests.scheduling.factories import make_event
from tests.training.factories import complete_module, make_module
from tests.training.test_attestations import pdf_text
from volunteer_platform.db import utcnow
from volunteer_platform.extensions import db
from volunteer_platform.impact.models import ActivityReport, VolunteeringAttestation
from volunteer_platform.impact.pdf import cv_sentence, hours_text
from volunteer_platform.impact.views.volunteering import default_period
from volunteer_platform.scheduling.models import Attendance, Enrolment, EnrolmentStatus
from volunteer_platform.tenants.models import Membership, Role
from volunteer_platform.training.pdf import grouped_code

PARIS = ZoneInfo("Europe/Paris")
BASE_URL = "http://testserver.example"
A = "/structure-a/impact/volunteering"
MARCH = {"start": "2026-03-01", "end": "2026-03-31"}
EXPECTED = {
    "volunteer_hours": 6.0,
    "shifts": 2,
    "training_sessions": 1,
    "training_hours": 2.0,
    "modules_completed": ["Créer une adresse e-mail"],
}


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS).astimezone(UTC)


def took_part(event, user, attendance=None):
    db.session.add(Enrolment(tenant_id=event.tenant_id, event_id=event.id, user_id=user.id,
                             status=EnrolmentStatus.CONFIRMED, attendance=attendance))
    db.session.commit()


def shift(tenant, day, start_hour, end_hour):
    return make_event(tenant, "shift", paris(2026, *day, start_hour, 0), ends_at=paris(2026, *day, end_hour, 0),
                      capacity=3)


def attestations() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count(VolunteeringAttestation.id)))


def issued() -> VolunteeringAttestation:
    db.session.rollback()
    return db.session.scalars(select(VolunteeringAttestation)).one()


@pytest.fixture
def march(tenant_a, coordinator_a, volunteer_a):
    tenant_a.contact_email = "contact@structure-a.example"
    tenant_a.contact_phone = "03 21 00 00 00"
    db.session.commit()
    make_site(tenant_a, name="Espace numérique", address="12 rue d'Arras", postal_code="62400", city="Béthune")
    other = make_member(tenant_a, full_name="Olga Autre")
    trainer = make_member(tenant_a, Role.TRAINER, full_name="Tom Formateur")

    present = shift(tenant_a, (3, 3), 14, 17)
    took_part(present, volunteer_a, Attendance.PRESENT)
    took_part(present, other, Attendance.PRESENT)
    reported = shift(tenant_a, (3, 10), 9, 12)
    took_part(reported, volunteer_a)
    db.session.add(ActivityReport(tenant_id=tenant_a.id, event_id=reported.id, user_id=volunteer_a.id,
                                  minutes=170, submitted_at=reported.ends_at, updated_at=reported.ends_at))
    db.session.commit()
    absent = shift(tenant_a, (3, 17), 9, 12)
    took_part(absent, volunteer_a, Attendance.ABSENT)
    module = make_module(tenant_a, title="Créer une adresse e-mail", now=paris(2026, 1, 5, 9, 0))
    session = make_event(tenant_a, "training_session", paris(2026, 3, 20, 10, 0), ends_at=paris(2026, 3, 20, 12, 0),
                         capacity=8, module=module, trainer=trainer)
    took_part(session, volunteer_a, Attendance.PRESENT)
    complete_module(volunteer_a, module, tenant_a, now=paris(2026, 3, 25, 15, 0))

    # Outside the period.
    took_part(shift(tenant_a, (4, 2), 9, 12), volunteer_a, Attendance.PRESENT)
    earlier = make_event(tenant_a, "training_session", paris(2026, 2, 27, 10, 0), ends_at=paris(2026, 2, 27, 12, 0),
                         capacity=8, module=module, trainer=trainer)
    took_part(earlier, volunteer_a, Attendance.PRESENT)
    later = make_module(tenant_a, title="Les démarches en ligne", now=paris(2026, 1, 5, 9, 0))
    complete_module(volunteer_a, later, tenant_a, now=paris(2026, 4, 5, 15, 0))
    return volunteer_a


# --- the page and issuing -------------------------------------------------------------------


def test_the_page_shows_my_figures_for_the_chosen_period(client, login_as, march):
    login_as(march)

    response = client.get(A, query_string=MARCH)

    assert response.status_code == 200
    text = page_text(response)
    assert "Mes chiffres du 1 mars 2026 au 31 mars 2026" in text
    assert "<dd>6 h</dd>" in text and "<dd>2 h</dd>" in text
    assert "<li>Créer une adresse e-mail</li>" in text
    assert "Les démarches en ligne" not in text  # completed in April
    assert "Obtenir l'attestation de cette période" in text
    assert "Vous n'avez pas encore demandé d'attestation de bénévolat." in text


def test_the_page_opens_on_a_period_that_needs_no_typing(client, login_as, march):
    login_as(march)

    response = client.get(A)

    assert response.status_code == 200
    text = page_text(response)
    today = utcnow().astimezone(PARIS).date()
    assert f'value="{today.isoformat()}"' in text  # up to today
    assert 'type="date"' in text and '<label for="start">' in text


def test_the_default_period_starts_at_the_membership_or_a_year_ago_and_never_exceeds_three_years():
    today = date(2026, 11, 23)

    def joined(day: date) -> Membership:
        return Membership(created_at=datetime.combine(day, datetime.min.time(), PARIS))

    assert default_period(today, joined(date(2025, 2, 10)), "Europe/Paris") == (date(2025, 2, 10), today)
    assert default_period(today, joined(date(2026, 10, 1)), "Europe/Paris") == (date(2025, 11, 23), today)
    assert default_period(today, None, "Europe/Paris") == (date(2025, 11, 23), today)
    start, _ = default_period(today, joined(date(2019, 1, 1)), "Europe/Paris")
    assert (today - start).days == 3 * 366


def test_issuing_freezes_the_hand_computed_figures_and_goes_back_to_the_list(client, login_as, march, coordinator_a):
    login_as(march)

    response = client.post(f"{A}/attestations", data=MARCH)

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{A}#attestations")
    attestation = issued()
    assert attestation.figures == EXPECTED
    assert attestation.user_id == march.id and attestation.holder_name == "Victor Alpha"
    assert (attestation.period_start, attestation.period_end) == (date(2026, 3, 1), date(2026, 3, 31))
    assert attestation.signatory_name == coordinator_a.full_name == "Coralie Alpha"
    assert attestation.signatory_role == "Coordinateur ou coordinatrice"

    page = client.get(A)
    message = "Votre attestation du 1 mars 2026 au 31 mars 2026 est prête : téléchargez-la dans la liste ci-dessous."
    assert ("success", message) in flashes_in(page)
    text = page_text(page)
    assert f"/structure-a/impact/volunteering/attestations/{attestation.id}.pdf" in text
    assert "Du 1 mars 2026 au 31 mars 2026" in text


def test_issuing_the_same_period_twice_gives_the_same_attestation(client, login_as, march, coordinator_a):
    from sqlalchemy import func, select

    from volunteer_platform.impact.models import VolunteeringAttestation

    login_as(march)
    assert client.post(f"{A}/attestations", data=MARCH).status_code == 302
    assert client.post(f"{A}/attestations", data=MARCH).status_code == 302  # a double click
    db.session.expire_all()
    assert db.session.scalar(select(func.count(VolunteeringAttestation.id))) == 1


def test_the_attestation_is_in_french_whatever_the_language_of_the_page(client, login_as, march):
    march.locale = "en"
    db.session.commit()
    login_as(march)

    assert client.post(f"{A}/attestations", data=MARCH).status_code == 302

    assert issued().signatory_role == "Coordinateur ou coordinatrice"  # not "Coordinator"


@pytest.mark.parametrize(("period", "field", "message"), [
    ({"start": "2026-03-31", "end": "2026-03-01"}, "start", "La date de début doit précéder la date de fin."),
    ({"start": "2026-03-01", "end": "2099-01-01"}, "end", "La période ne peut pas finir après aujourd'hui."),
    ({"start": "2022-01-01", "end": "2026-03-31"}, "start", "Une attestation couvre au plus trois ans."),
    ({"start": "2025-01-01", "end": "2025-01-31"}, "start",
     "Aucune activité enregistrée sur cette période : choisissez une autre période."),
    ({"start": "32/13/2026", "end": "2026-03-31"}, "start", "Saisissez une date valide, par exemple 15/09/2026."),
    ({"start": "", "end": "2026-03-31"}, "start", "Ce champ est obligatoire."),
])
def test_a_bad_period_is_refused_in_the_form_and_nothing_is_stored(client, login_as, march, period, field, message):
    login_as(march)

    response = client.post(f"{A}/attestations", data=period)

    assert response.status_code == 422
    text = page_text(response)
    assert f'<p class="error-message" id="{field}-error">' in text
    assert message in text
    assert f'value="{period["start"]}"' in text  # what was typed stays in the form
    assert attestations() == 0


def test_the_preview_refuses_a_bad_period_too(client, login_as, march):
    login_as(march)

    response = client.get(A, query_string={"start": "2026-03-31", "end": "2026-03-01"})

    assert response.status_code == 422
    text = page_text(response)
    assert "La date de début doit précéder la date de fin." in text
    assert "Obtenir l'attestation de cette période" not in text


def test_a_period_without_activity_offers_no_attestation(client, login_as, march):
    login_as(march)

    text = page_text(client.get(A, query_string={"start": "2025-01-01", "end": "2025-01-31"}))

    assert "Aucune activité enregistrée sur cette période" in text
    assert "Obtenir l'attestation de cette période" not in text


def test_without_a_coordinator_to_sign_nothing_is_issued(client, login_as, tenant_b):
    volunteer = make_member(tenant_b, full_name="Paul Seul")
    event = make_event(tenant_b, "shift", paris(2026, 3, 3, 14, 0), ends_at=paris(2026, 3, 3, 17, 0), capacity=2)
    took_part(event, volunteer, Attendance.PRESENT)
    login_as(volunteer)

    response = client.post("/structure-b/impact/volunteering/attestations", data=MARCH)

    assert response.status_code == 409
    assert "pas encore de coordinateur ou coordinatrice pour signer" in page_text(response)
    assert attestations() == 0


def test_only_members_of_the_structure_see_the_page(client, login_as, march, coordinator_b):
    login_as(coordinator_b)
    assert client.get(A).status_code == 404
    assert client.post(f"{A}/attestations", data=MARCH).status_code == 404
    assert attestations() == 0


# --- the PDF ----------------------------------------------------------------------------------


def test_the_pdf_states_the_frozen_figures_and_how_to_check_them(client, login_as, march):
    login_as(march)
    client.post(f"{A}/attestations", data=MARCH)
    attestation = issued()
    # Recorded after issue: the attestation keeps the figures of the day it was issued.
    took_part(shift(march.memberships[0].tenant, (3, 24), 9, 12), march, Attendance.PRESENT)

    response = client.get(f"{A}/attestations/{attestation.id}.pdf")

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "private, no-store"
    pdf = response.get_data()
    assert pdf.startswith(b"%PDF")
    assert b"/Title (Attestation de b" in pdf  # the document's title in its metadata
    text = pdf_text(pdf)
    lines = text.split("\n")
    assert "Attestation de bénévolat" in lines
    assert "Structure A" in lines
    assert "12 rue d'Arras, 62400 Béthune" in lines
    assert "Contact : contact@structure-a.example — 03 21 00 00 00" in lines
    assert "Victor Alpha" in lines
    assert "a été bénévole du 1 mars 2026 au 31 mars 2026 :" in lines
    figures = dict(itertools.pairwise(lines))
    assert figures["Heures de bénévolat :"] == "6 h"
    assert figures["Permanences et ateliers tenus :"] == "2"
    assert figures["Sessions de formation suivies :"] == "1"
    assert figures["Heures de formation :"] == "2 h"
    assert figures["Modules de formation validés :"] == "1"
    assert "« Créer une adresse e-mail »" in lines
    assert "Compte d'engagement citoyen" in text
    assert "6 h d'accompagnement du public au numérique (2 permanences ou ateliers)" in text
    issued_on = attestation.issued_at.astimezone(PARIS).date()
    assert any(line.startswith("Fait à Béthune, le ") and str(issued_on.year) in line for line in lines)
    assert "Pour la structure Structure A," in lines
    assert "Coralie Alpha, coordinateur ou coordinatrice" in lines
    assert grouped_code(attestation.code) in lines
    assert f"{BASE_URL}/verify/{attestation.code}" in text.replace("\n", "")
    assert "RETIRÉE" not in text


def test_a_withdrawn_attestation_says_so_on_the_pdf(client, login_as, march):
    login_as(march)
    client.post(f"{A}/attestations", data=MARCH)
    attestation = issued()
    attestation.withdrawn_at = paris(2026, 11, 2, 10, 0)
    db.session.commit()

    text = pdf_text(client.get(f"{A}/attestations/{attestation.id}.pdf").get_data())

    assert "ATTESTATION RETIRÉE" in text
    assert "Cette attestation a été retirée le 2 novembre 2026 : elle n'est plus valable." in text


def test_many_modules_keep_the_attestation_on_one_page(client, login_as, march):
    login_as(march)
    client.post(f"{A}/attestations", data=MARCH)
    attestation = issued()
    titles = [f"Module numéro {i} : un titre assez long pour tenir sur une ligne entière" for i in range(12)]
    attestation.figures = {**attestation.figures, "modules_completed": titles}
    db.session.commit()

    pdf = client.get(f"{A}/attestations/{attestation.id}.pdf").get_data()

    assert re.search(rb"/Count 1\b", pdf)  # one page
    lines = pdf_text(pdf).split("\n")
    listed = [line for line in lines if line.startswith("« Module numéro")]
    assert 1 <= len(listed) <= 6
    assert f"et {12 - len(listed)} autres modules" in lines
    assert "Coralie Alpha, coordinateur ou coordinatrice" in lines  # the signature is still there


def test_the_pdf_is_for_its_holder_and_the_structures_coordinators(client, login_as, march, tenant_a, tenant_b,
                                                                  coordinator_a, coordinator_b, supervisor):
    login_as(march)
    client.post(f"{A}/attestations", data=MARCH)
    url = f"{A}/attestations/{issued().id}.pdf"

    login_as(make_member(tenant_a, full_name="Vanessa Voisine"))
    assert client.get(url).status_code == 404  # another volunteer of the same structure
    login_as(make_member(tenant_a, Role.TRAINER, full_name="Théo Formateur"))
    assert client.get(url).status_code == 404  # a trainer is not a coordinator
    login_as(coordinator_b)
    assert client.get(url).status_code == 404  # not a member of structure A
    assert client.get(url.replace("structure-a", "structure-b")).status_code == 404  # B's URL, A's id
    login_as(coordinator_a)
    assert client.get(url).status_code == 200
    login_as(supervisor)
    assert client.get(url).status_code == 200
    login_as(march)
    assert client.get(url.replace(".pdf", "0.pdf")).status_code == 404  # no such id


def test_anonymous_visitors_are_sent_to_sign_in(client, march):
    assert client.get(A).status_code == 302
    assert client.get(f"{A}/attestations/1.pdf").status_code == 302


# --- public verification ----------------------------------------------------------------------


def test_the_verification_page_finds_a_volunteering_attestation(client, login_as, march):
    login_as(march)
    client.post(f"{A}/attestations", data=MARCH)
    attestation = issued()
    anonymous = client.application.test_client()

    typed = grouped_code(attestation.code).lower().replace(" ", "-")  # as someone might type it
    response = anonymous.get("/verify/", query_string={"code": typed})
    assert response.status_code == 302
    response = anonymous.get(response.headers["Location"])

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    text = page_text(response)
    assert "Cette attestation est authentique et valable." in text
    assert "Attestation de bénévolat" in text
    assert "Victor Alpha" in text
    assert "Structure A" in text
    assert "Du 1 mars 2026 au 31 mars 2026" in text
    assert "<dd>6 h</dd>" in text
    assert grouped_code(attestation.code) in text
    assert "retirée" not in text


def test_the_verification_page_says_when_it_was_withdrawn(client, login_as, march):
    login_as(march)
    client.post(f"{A}/attestations", data=MARCH)
    attestation = issued()
    attestation.withdrawn_at = paris(2026, 11, 2, 10, 0)
    db.session.commit()

    text = page_text(client.application.test_client().get(f"/verify/{attestation.code}"))

    assert "Cette attestation a été retirée le 2 novembre 2026." in text
    assert "Elle n'est plus valable." in text
    assert "Victor Alpha" in text


def test_an_unknown_code_is_not_found(client, app):
    response = client.get("/verify/ABCDEFGHJKLMNPQRSTUVWXYZ")

    assert response.status_code == 404
    assert "Aucune attestation ne correspond à ce code." in page_text(response)


# --- wording ----------------------------------------------------------------------------------


def test_hours_are_written_the_french_way():
    assert [hours_text(h) for h in (6.0, 2.5, 0.75, 1.25, 0)] == ["6 h", "2 h 30", "45 min", "1 h 15", "0 min"]


def test_the_cv_sentence_names_only_what_was_done():
    only_training = {"volunteer_hours": 0.0, "shifts": 0, "training_sessions": 2, "training_hours": 5.5,
                     "modules_completed": []}

    sentence = cv_sentence("CCAS de Béthune", only_training, date(2026, 1, 1), date(2026, 6, 30))

    assert sentence == ("Bénévole en médiation numérique auprès de CCAS de Béthune, du 1 janvier 2026 au "
                        "30 juin 2026 : 2 sessions de formation (5 h 30).")
    assert cv_sentence("X", EXPECTED, date(2026, 3, 1), date(2026, 3, 31)) == (
        "Bénévole en médiation numérique auprès de X, du 1 mars 2026 au 31 mars 2026 : "
        "6 h d'accompagnement du public au numérique (2 permanences ou ateliers), "
        "1 session de formation (2 h) et 1 module de formation validé."
    )
