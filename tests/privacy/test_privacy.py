"""Personal data: download, erasure, anonymisation, retention, the audit log."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import pytest
from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select

from tests.factories import PASSWORD, make_membership, make_user, page_text, sign_in
from tests.scheduling.factories import make_event
from volunteer_platform.auth.models import User
from volunteer_platform.calendars.models import CalendarToken
from volunteer_platform.calendars.services import issue_token
from volunteer_platform.db import utcnow
from volunteer_platform.extensions import db
from volunteer_platform.impact.models import SurveyResponse
from volunteer_platform.notifications.models import OutboxEmail
from volunteer_platform.notifications.services import queue_email
from volunteer_platform.privacy import services
from volunteer_platform.privacy.audit import AUDITED
from volunteer_platform.privacy.models import AuditEntry
from volunteer_platform.scheduling.models import Attendance, Enrolment, EnrolmentStatus


def fresh(user: User) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


def entries(**where) -> list[AuditEntry]:
    db.session.expire_all()
    stmt = select(AuditEntry).order_by(AuditEntry.id)
    for key, value in where.items():
        stmt = stmt.where(getattr(AuditEntry, key) == value)
    return list(db.session.scalars(stmt))


@pytest.fixture
def history(tenant_a, tenant_b, volunteer_a, app):
    """Victor (volunteer_a) also volunteers in B; he attended a session in A and answered its survey."""
    make_membership(tenant_b, volunteer_a)
    past = utcnow() - timedelta(days=3)
    session = make_event(tenant_a, "workshop", past, capacity=5, title="Atelier passé")
    db.session.add(Enrolment(tenant_id=tenant_a.id, event_id=session.id, user_id=volunteer_a.id,
                             status=EnrolmentStatus.CONFIRMED, attendance=Attendance.PRESENT))
    db.session.add(SurveyResponse(tenant_id=tenant_a.id, event_id=session.id, user_id=volunteer_a.id,
                                  satisfaction=5, more_able_to_help=True, at_ease_with_computer=True,
                                  comment="Très clair"))
    other = make_user(full_name="Odile Autre", email="odile@example.org")
    make_membership(tenant_a, other)
    db.session.add(Enrolment(tenant_id=tenant_a.id, event_id=session.id, user_id=other.id,
                             status=EnrolmentStatus.CONFIRMED, attendance=Attendance.PRESENT))
    issue_token(volunteer_a, secret_key=app.config["SECRET_KEY"], now=utcnow())
    queue_email(volunteer_a.email, "Rappel de votre session", "Bonjour Victor", now=utcnow())
    db.session.commit()
    return {"session": session, "other": other}


# --- download ---------------------------------------------------------------------------------


def test_a_person_downloads_all_their_data_across_structures(client, login_as, volunteer_a, history):
    login_as(volunteer_a)
    page = client.get("/account/data")
    assert page.status_code == 200 and "Télécharger" in page_text(page)

    response = client.get("/account/data.json")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "attachment" in response.headers["Content-Disposition"]
    data = json.loads(response.get_data(as_text=True))
    assert data["account"]["email"] == "vol-a@example.org"
    assert {s["structure"] for s in data["structures"]} == {"Structure A", "Structure B"}
    tables = data["tables"]
    assert [e["user_id"] for e in tables["enrolment"]] == [volunteer_a.id]  # not Odile's
    assert tables["survey_response"][0]["comment"] == "Très clair"
    assert tables["emails_sent"][0]["subject"] == "Rappel de votre session"
    text = response.get_data(as_text=True)
    for secret in ("password_hash", "session_token", "token_hash", fresh(volunteer_a).session_token):
        assert secret not in text
    assert "Odile" not in text

    archive = zipfile.ZipFile(io.BytesIO(client.get("/account/data.zip").data))
    assert {"compte.csv", "structures.csv", "enrolment.csv", "survey_response.csv"} <= set(archive.namelist())
    assert "vol-a@example.org" in archive.read("compte.csv").decode("utf-8-sig")
    exported = entries(action="data.exported")
    assert len(exported) == 2 and exported[0].subject_user_id == volunteer_a.id


def test_data_pages_need_a_sign_in(client):
    assert client.get("/account/data.json").status_code == 302
    assert client.post("/account/erase", data={"password": PASSWORD, "confirm": "y"}).status_code == 302


# --- erasure ------------------------------------------------------------------------------------


def test_a_person_erases_their_account_and_the_statistics_stay(client, login_as, volunteer_a, history):
    login_as(volunteer_a)
    wrong = client.post("/account/erase", data={"password": "pas le bon mot", "confirm": "y"})
    assert wrong.status_code == 422 and "Mot de passe incorrect" in page_text(wrong)
    unconfirmed = client.post("/account/erase", data={"password": PASSWORD})
    assert unconfirmed.status_code == 422
    assert fresh(volunteer_a).anonymised_at is None

    response = client.post("/account/erase", data={"password": PASSWORD, "confirm": "y"})
    assert response.status_code == 302
    user = fresh(volunteer_a)
    assert user.full_name == services.ANONYMOUS_NAME and "vol-a" not in user.email
    assert user.password_hash is None and not user.is_active and user.anonymised_at is not None
    assert all(not m.is_active for m in user.memberships)
    # Statistics kept: the attendance and the anonymous survey answer are still there.
    assert db.session.scalar(select(func.count(Enrolment.id)).where(Enrolment.user_id == user.id)) == 1
    assert db.session.scalar(select(func.count(SurveyResponse.id))) == 1
    # Identifying traces gone.
    assert db.session.scalar(select(func.count(CalendarToken.id)).where(CalendarToken.user_id == user.id)) == 0
    assert db.session.scalar(select(func.count(OutboxEmail.id)).where(OutboxEmail.to_address == "vol-a@example.org")) == 0
    # Signed out, and can never sign in again.
    assert client.get("/account").status_code == 302
    assert sign_in(client, "vol-a@example.org").status_code != 302
    assert [e.action for e in entries(subject_user_id=user.id)] == ["account.erased", "account.erased"]


def test_the_only_coordinator_cannot_erase_their_account(client, login_as, coordinator_a):
    login_as(coordinator_a)
    assert "seule personne qui coordonne" in page_text(client.get("/account/data"))
    response = client.post("/account/erase", data={"password": PASSWORD, "confirm": "y"})
    assert response.status_code == 422
    assert "Structure A" in page_text(response)
    assert fresh(coordinator_a).anonymised_at is None


# --- anonymisation by a coordinator ----------------------------------------------------------


def test_coordinator_anonymises_a_volunteer_who_left(client, login_as, tenant_a, coordinator_a):
    leaver = make_user(full_name="Léa Partie")
    membership = make_membership(tenant_a, leaver)
    login_as(coordinator_a)
    url = f"/structure-a/privacy/members/{membership.id}/anonymise"
    client.post(url)
    assert fresh(leaver).anonymised_at is None  # still active: refused
    membership.is_active = False
    db.session.commit()
    assert client.post(url).status_code == 302
    assert fresh(leaver).full_name == services.ANONYMOUS_NAME
    [entry] = entries(action="member.anonymised")
    assert (entry.actor_id, entry.tenant_id, entry.subject_label) == (coordinator_a.id, tenant_a.id,
                                                                       services.ANONYMOUS_NAME)


def test_a_volunteer_still_active_elsewhere_is_not_anonymised(client, login_as, tenant_a, tenant_b, coordinator_a):
    person = make_user(full_name="Paul Ailleurs")
    here = make_membership(tenant_a, person, is_active=False)
    make_membership(tenant_b, person)
    login_as(coordinator_a)
    client.post(f"/structure-a/privacy/members/{here.id}/anonymise")
    assert fresh(person).full_name == "Paul Ailleurs"


def test_a_coordinator_cannot_anonymise_another_structures_member(client, login_as, tenant_b, coordinator_a):
    person = make_user(full_name="Berthe Bravo")
    there = make_membership(tenant_b, person, is_active=False)
    login_as(coordinator_a)
    assert client.post(f"/structure-a/privacy/members/{there.id}/anonymise").status_code == 404
    assert client.post(f"/structure-b/privacy/members/{there.id}/anonymise").status_code == 404
    assert fresh(person).full_name == "Berthe Bravo"


# --- retention -------------------------------------------------------------------------------------


def test_retention_warns_a_month_before_then_anonymises(app, tenant_a, outbox):
    now = utcnow()
    due_soon = make_user(full_name="Inès Active-Avant")
    due_soon.last_login_at = now - relativedelta(years=3) + timedelta(days=20)
    overdue = make_user(full_name="Omar Oublié")
    overdue.last_login_at = now - relativedelta(years=3) - timedelta(days=1)
    recent = make_user(full_name="Rita Récente")
    recent.last_login_at = now - timedelta(days=100)
    staff = make_user(full_name="Sam Staff", is_supervisor=True)
    staff.last_login_at = now - relativedelta(years=5)
    for user in (due_soon, overdue, recent, staff):
        user.created_at = now - relativedelta(years=6)
    for user in (due_soon, overdue, recent):
        make_membership(tenant_a, user, created_at=now - relativedelta(years=4))
    db.session.commit()

    counts = services.apply_retention(now=now, base_url="http://testserver.example")
    db.session.commit()
    assert (counts["warned"], counts["anonymised"]) == (1, 1)
    assert fresh(overdue).anonymised_at is not None
    assert fresh(due_soon).anonymised_at is None and fresh(due_soon).retention_warned_at is not None
    assert fresh(recent).anonymised_at is None and fresh(staff).anonymised_at is None
    [warning] = [e for e in outbox() if "anonymisé" in e.subject]
    assert warning.to_address == due_soon.email and "http://testserver.example/login" in warning.body_text

    again = services.apply_retention(now=now + timedelta(days=1))
    assert (again["warned"], again["anonymised"]) == (0, 0)  # warned once only

    # Signing in after the warning starts the period afresh.
    person = fresh(due_soon)
    person.last_login_at = now + timedelta(days=2)
    db.session.commit()
    assert services.apply_retention(now=now + timedelta(days=40))["anonymised"] == 0


def test_a_structure_can_keep_accounts_for_a_shorter_period(app, client, login_as, tenant_a, coordinator_a):
    login_as(coordinator_a)
    form = {"name": "Structure A", "kind": "ccas", "timezone": "Europe/Paris", "region": "",
            "contact_email": "", "contact_phone": ""}
    assert client.post("/structure-a/structure", data={**form, "retention_years": "0"}).status_code == 422
    assert client.post("/structure-a/structure", data={**form, "retention_years": "un"}).status_code == 422
    assert client.post("/structure-a/structure", data={**form, "retention_years": "1"}).status_code == 302
    quiet = make_user(full_name="Quentin Discret")
    quiet.last_login_at = utcnow() - relativedelta(years=1) - timedelta(days=2)
    quiet.created_at = utcnow() - relativedelta(years=2)
    make_membership(tenant_a, quiet, created_at=utcnow() - relativedelta(years=2))
    assert services.apply_retention(now=utcnow())["anonymised"] == 1


def test_audit_entries_older_than_a_year_are_purged(app, tenant_a, coordinator_a):
    now = utcnow()
    services.record("person.viewed", actor=coordinator_a, tenant=tenant_a, now=now - timedelta(days=366))
    services.record("person.viewed", actor=coordinator_a, tenant=tenant_a, now=now - timedelta(days=300))
    db.session.commit()
    assert services.apply_retention(now=now)["audit_purged"] == 1
    assert len(entries(action="person.viewed")) == 1


def test_retention_command_runs(app):
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["apply-retention"])
    assert result.exit_code == 0 and "anonymised" in result.output


# --- audit log ----------------------------------------------------------------------------------------


def test_every_audited_endpoint_exists(app):
    endpoints = {(rule.endpoint, method) for rule in app.url_map.iter_rules() for method in rule.methods}
    assert set(AUDITED) <= endpoints


def test_viewing_and_changing_members_is_logged_and_shown_per_structure(
    client, login_as, tenant_a, tenant_b, coordinator_a, coordinator_b, volunteer_a, supervisor
):
    membership = volunteer_a.memberships[0]
    login_as(coordinator_a)
    assert client.get(f"/structure-a/members/{membership.id}").status_code == 200
    client.post(f"/structure-a/members/{membership.id}/active", data={"active": "0"})
    login_as(coordinator_b)
    client.get("/structure-b/members")

    viewed = entries(action="person.viewed")
    assert [(e.actor_id, e.tenant_id, e.subject_user_id) for e in viewed] == [
        (coordinator_a.id, tenant_a.id, volunteer_a.id)]
    assert [e.subject_user_id for e in entries(action="member.deactivated")] == [volunteer_a.id]

    login_as(coordinator_a)
    page = page_text(client.get("/structure-a/privacy/audit"))
    assert "Victor Alpha" in page and "Consultation des données d'une personne" in page
    assert "Bérénice Bravo" not in page  # B's log is not A's
    assert client.get("/structure-b/privacy/audit").status_code == 404

    login_as(volunteer_a)
    assert client.get("/structure-a/privacy/audit").status_code in (403, 404)

    login_as(supervisor)
    everything = page_text(client.get("/supervision/audit"))
    assert "Bérénice Bravo" in everything and "Coralie Alpha" in everything


def test_association_staff_looking_at_participants_is_logged_but_not_a_coordinator(
    client, login_as, tenant_a, coordinator_a, supervisor
):
    event = make_event(tenant_a, "workshop", capacity=5)
    login_as(coordinator_a)
    assert client.get(f"/structure-a/agenda/events/{event.id}").status_code == 200
    assert entries(action="members.listed") == []
    login_as(supervisor)
    assert client.get(f"/structure-a/agenda/events/{event.id}").status_code == 200
    [entry] = entries(action="members.listed")
    assert entry.actor_is_supervisor and entry.tenant_id == tenant_a.id


def test_privacy_notice_is_public(client):
    response = client.get("/privacy")
    assert response.status_code == 200
    text = page_text(response)
    assert "Combien de temps" in text and "CNIL" in text


def test_the_member_page_offers_anonymisation_once_the_person_has_left(client, login_as, tenant_a, coordinator_a):
    leaver = make_user(full_name="Léa Partie")
    membership = make_membership(tenant_a, leaver)
    login_as(coordinator_a)
    action = f"/structure-a/privacy/members/{membership.id}/anonymise"
    assert action not in client.get(f"/structure-a/members/{membership.id}").get_data(as_text=True)
    membership.is_active = False
    db.session.commit()
    assert action in client.get(f"/structure-a/members/{membership.id}").get_data(as_text=True)
