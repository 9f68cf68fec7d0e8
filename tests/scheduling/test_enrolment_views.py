"""Enrolment pages: open sessions and shifts, one-step sign-up, waitlist,
cancellation and its deadline, qualification gating, overlapping commitments,
the sign-up horizon, coordinators enrolling and removing people, attendance,
my enrolments and hours, under-staffed shifts, the event panel, isolation."""

from __future__ import annotations

import contextvars
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from dateutil.relativedelta import relativedelta
from flask import g
from flask_login import login_user
from sqlalchemy import func, select

from tests.factories import flashes_in, make_member, make_membership, page_text
from tests.scheduling.factories import (
    enrol_in,
    local_time,
    make_event,
    make_room,
    set_enrolment_rules,
)
from tests.training.factories import complete_module, make_module, make_qualification
from volunteer_platform.auth.models import User
from volunteer_platform.db import utcnow
from volunteer_platform.extensions import db
from volunteer_platform.scheduling import enrolment as enrolments
from volunteer_platform.scheduling.models import Attendance, Enrolment, EnrolmentStatus, Event
from volunteer_platform.tenants.models import Tenant
from volunteer_platform.tenants.scoping import active_membership
from volunteer_platform.training import queries as training_queries
from volunteer_platform.training import services as training_services
from volunteer_platform.training.models import AwardSource, ModuleCompletion

A = "/structure-a/agenda"


def shift(tenant, *, days=3, hour=9, hours=3, capacity=2, title="Permanence du marché", **kwargs):
    starts_at = local_time(tenant, days, hour)
    return make_event(tenant, "shift", starts_at, ends_at=starts_at + timedelta(hours=hours), title=title,
                      capacity=capacity, **kwargs)


def place_of(event, user) -> Enrolment | None:
    db.session.rollback()
    return db.session.scalars(
        select(Enrolment).where(Enrolment.event_id == event.id, Enrolment.user_id == user.id)
    ).one_or_none()


def status_of(event, user) -> EnrolmentStatus | None:
    place = place_of(event, user)
    return place.status if place else None


def enrolment_count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count(Enrolment.id)))


def qualify(tenant, user, qualification):
    training_services.award(tenant, user, qualification, source=AwardSource.EXTERNAL, now=utcnow(),
                            awarded_at=utcnow() - timedelta(days=1))
    db.session.commit()
    return user


def emails_to(outbox, address):
    return [e for e in outbox() if e.to_address == address]


# --- access ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/open", "/mine", "/understaffed"])
def test_anonymous_visitors_are_sent_to_the_login_page(client, tenant_a, path):
    response = client.get(f"{A}{path}")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_anonymous_posts_change_nothing(client, tenant_a, volunteer_a):
    event = shift(tenant_a)
    response = client.post(f"{A}/events/{event.id}/enrol")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert enrolment_count() == 0


def test_only_coordinators_see_understaffed_shifts_and_enrol_others(client, login_as, tenant_a, volunteer_a):
    event = shift(tenant_a)
    other = make_member(tenant_a, "volunteer")
    login_as(volunteer_a)
    assert client.get(f"{A}/understaffed").status_code == 403
    response = client.post(f"{A}/events/{event.id}/enrol-member", data={"enrol-member": str(other.id)})
    assert response.status_code == 403
    assert enrolment_count() == 0


# --- open events and one-step sign-up ----------------------------------------------------------------


def test_a_volunteer_sees_open_shifts_and_signs_up_in_one_step(client, login_as, outbox, tenant_a, volunteer_a):
    room = make_room(tenant_a, name="Salle des associations")
    event = shift(tenant_a, room=room, hour=14, what_to_bring="Votre badge")
    make_event(tenant_a, "booking", local_time(tenant_a, 3, 8), room=room, title="Réunion interne")
    login_as(volunteer_a)

    page = client.get(f"{A}/open")
    assert page.status_code == 200
    text = page_text(page)
    assert "Permanence du marché" in text and "Salle des associations" in text
    assert "2 places libres" in text and "Je m'inscris" in text
    assert "de 14:00 à 17:00" in text  # the structure's time, not UTC
    assert "Réunion interne" not in text  # room bookings take no sign-ups

    response = client.post(f"{A}/events/{event.id}/enrol", data={"next": f"{A}/open"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{A}/open")
    assert status_of(event, volunteer_a) is EnrolmentStatus.CONFIRMED

    [email] = emails_to(outbox, "vol-a@example.org")
    assert email.subject.startswith("Inscription confirmée : Permanence du marché")
    assert "Bonjour Victor," in email.body_text
    assert "de 14:00 à 17:00" in email.body_text and "Votre badge" in email.body_text
    assert f"http://testserver.example{A}/events/{event.id}" in email.body_text

    after = page_text(client.get(f"{A}/open"))
    assert "Vous êtes inscrit(e)." in after and "1 place libre" in after


def test_filters_by_kind_site_and_dates(client, login_as, tenant_a, volunteer_a):
    north, south = make_room(tenant_a, name="Salle Nord"), make_room(tenant_a, name="Salle Sud")
    shift(tenant_a, title="Permanence Nord", room=north)
    shift(tenant_a, title="Permanence lointaine", days=40)
    make_event(tenant_a, "workshop", local_time(tenant_a, 4, 10), title="Atelier smartphone", room=south,
               capacity=8)
    login_as(volunteer_a)

    default = page_text(client.get(f"{A}/open"))
    assert "Permanence Nord" in default and "Atelier smartphone" in default
    assert "Permanence lointaine" not in default  # beyond the default 30 days

    workshops = page_text(client.get(f"{A}/open", query_string={"kind": "workshop"}))
    assert "Atelier smartphone" in workshops and "Permanence Nord" not in workshops

    at_north = page_text(client.get(f"{A}/open", query_string={"site": str(north.site_id)}))
    assert "Permanence Nord" in at_north and "Atelier smartphone" not in at_north

    later = (utcnow() + timedelta(days=39)).date().isoformat()
    further = (utcnow() + timedelta(days=45)).date().isoformat()
    far = page_text(client.get(f"{A}/open", query_string={"start": later, "end": further}))
    assert "Permanence lointaine" in far and "Permanence Nord" not in far

    nonsense = client.get(f"{A}/open", query_string={"kind": "piscine", "site": "abc", "start": "hier"})
    assert nonsense.status_code == 200 and "Permanence Nord" in page_text(nonsense)


def test_the_open_list_takes_a_fixed_number_of_queries(client, login_as, count_queries, tenant_a, volunteer_a):
    qualification = make_qualification(None, name="Accueil")
    qualify(tenant_a, volunteer_a, qualification)
    login_as(volunteer_a)

    def full_shift_with_me_waiting(days):
        event = shift(tenant_a, days=days, room=make_room(tenant_a), qualification=qualification, capacity=1)
        enrol_in(event, qualify(tenant_a, make_member(tenant_a, "volunteer"), qualification))
        enrol_in(event, volunteer_a)

    def measure():
        with count_queries() as queries:
            assert client.get(f"{A}/open").status_code == 200
        return len(queries)

    full_shift_with_me_waiting(3)
    few = measure()
    for days in range(4, 10):
        full_shift_with_me_waiting(days)
    assert measure() == few


# --- capacity and waitlist ----------------------------------------------------------------------------------


def test_a_full_event_offers_the_waitlist(client, login_as, outbox, tenant_a, volunteer_a):
    event = shift(tenant_a, capacity=1)
    enrol_in(event, make_member(tenant_a, "volunteer"))
    login_as(volunteer_a)

    text = page_text(client.get(f"{A}/open"))
    assert "Complet — liste d'attente" in text and "M'inscrire sur la liste d'attente" in text
    assert "Je m'inscris" not in text

    # The plain button (page opened before it filled up) does not silently waitlist.
    refused = client.post(f"{A}/events/{event.id}/enrol", data={"next": f"{A}/open"})
    assert refused.status_code == 409
    assert "C'est complet." in page_text(refused) and "liste d'attente" in page_text(refused)
    assert place_of(event, volunteer_a) is None

    response = client.post(f"{A}/events/{event.id}/enrol", data={"waitlist": "1", "next": f"{A}/open"})
    assert response.status_code == 302
    assert status_of(event, volunteer_a) is EnrolmentStatus.WAITLISTED
    [email] = emails_to(outbox, "vol-a@example.org")
    assert email.subject.startswith("Liste d'attente")
    assert "liste d'attente (position 1)" in page_text(client.get(f"{A}/open"))


def test_a_cancellation_gives_the_seat_to_the_first_waitlisted_with_an_email(client, login_as, outbox, tenant_a,
                                                                             volunteer_a):
    event = shift(tenant_a, capacity=1, days=5)
    enrol_in(event, volunteer_a)
    first = make_member(tenant_a, "volunteer", full_name="Fatou Diallo", email="fatou@example.org")
    second = make_member(tenant_a, "volunteer", full_name="Samir Haddad", email="samir@example.org")
    enrol_in(event, first)
    enrol_in(event, second)
    login_as(volunteer_a)

    mine = page_text(client.get(f"{A}/mine"))
    assert "Annuler mon inscription" in mine and "Annulation en ligne possible jusqu'au" in mine

    response = client.post(f"{A}/events/{event.id}/unenrol", data={"next": f"{A}/mine"})
    assert response.status_code == 302
    assert status_of(event, volunteer_a) is EnrolmentStatus.CANCELLED
    assert status_of(event, first) is EnrolmentStatus.CONFIRMED
    assert status_of(event, second) is EnrolmentStatus.WAITLISTED
    [offer] = [e for e in emails_to(outbox, "fatou@example.org") if "place s'est libérée" in e.subject]
    assert "vous êtes maintenant inscrit(e)" in offer.body_text
    assert not [e for e in emails_to(outbox, "samir@example.org") if "libérée" in e.subject]

    login_as(second)
    assert "Sur la liste d'attente, position 1" in page_text(client.get(f"{A}/mine"))


# --- cancellation deadline ------------------------------------------------------------------------------------


def test_a_late_cancellation_is_refused_to_the_volunteer_and_recorded_for_the_coordinator(
        client, login_as, tenant_a, coordinator_a, volunteer_a):
    set_enrolment_rules(tenant_a, cancellation_deadline_hours=24)
    starts_at = utcnow() + timedelta(hours=10)
    event = make_event(tenant_a, "shift", starts_at, title="Permanence de ce soir", capacity=3)
    enrol_in(event, volunteer_a, now=utcnow() - timedelta(days=2))
    login_as(volunteer_a)

    mine = page_text(client.get(f"{A}/mine"))
    assert "Trop tard pour annuler en ligne : contactez la coordination" in mine
    assert "Annuler mon inscription" not in mine

    refused = client.post(f"{A}/events/{event.id}/unenrol", data={"next": f"{A}/mine"})
    assert refused.status_code == 403
    too_late = "Il est trop tard pour annuler en ligne : prévenez la personne qui coordonne votre structure."
    assert ("error", too_late) in flashes_in(refused)
    place = place_of(event, volunteer_a)
    assert place.status is EnrolmentStatus.CONFIRMED and place.cancelled_at is None

    login_as(coordinator_a)
    response = client.post(f"{A}/events/{event.id}/enrolments/{place.id}/remove", data={"next": f"{A}/open"})
    assert response.status_code == 302
    place = place_of(event, volunteer_a)
    assert place.status is EnrolmentStatus.CANCELLED
    assert place.cancelled_late is True and place.cancelled_by_id == coordinator_a.id
    assert "tardive" in page_text(client.get(f"{A}/open"))


def test_leaving_a_waitlist_is_possible_after_the_deadline(client, login_as, tenant_a, volunteer_a):
    event = make_event(tenant_a, "shift", utcnow() + timedelta(hours=10), capacity=1)
    enrol_in(event, make_member(tenant_a, "volunteer"), now=utcnow() - timedelta(days=1))
    enrol_in(event, volunteer_a, now=utcnow() - timedelta(days=1))
    login_as(volunteer_a)
    assert "Quitter la liste d'attente" in page_text(client.get(f"{A}/mine"))
    assert client.post(f"{A}/events/{event.id}/unenrol").status_code == 302
    assert status_of(event, volunteer_a) is EnrolmentStatus.CANCELLED


# --- qualifications ------------------------------------------------------------------------------------------------


def test_a_shift_requiring_a_qualification_refuses_and_names_the_module(client, login_as, tenant_a, volunteer_a):
    qualification = make_qualification(None, name="Accueil des démarches CAF")
    make_module(None, title="Accompagner une demande CAF", qualification=qualification)
    event = shift(tenant_a, qualification=qualification, title="Permanence CAF")
    login_as(volunteer_a)

    listed = page_text(client.get(f"{A}/open"))
    assert "Qualification demandée : Accueil des démarches CAF" in listed
    assert "Vous ne l'avez pas, ou plus à cette date." in listed
    assert "Permanence CAF" not in page_text(client.get(f"{A}/open", query_string={"qualified_only": "y"}))

    refused = client.post(f"{A}/events/{event.id}/enrol", data={"next": f"{A}/open"})
    assert refused.status_code == 403
    message = dict(flashes_in(refused))["error"]
    assert "Accueil des démarches CAF" in message and "Accompagner une demande CAF" in message
    assert "Permanence CAF" in page_text(refused)  # the list again, to pick another
    assert place_of(event, volunteer_a) is None


def test_a_qualification_expiring_before_the_shift_is_not_enough(client, login_as, tenant_a, volunteer_a):
    qualification = make_qualification(None, name="Accueil des démarches CAF", validity_months=24)
    expires_at = utcnow() + timedelta(days=4)
    training_services.award(tenant_a, volunteer_a, qualification, source=AwardSource.EXTERNAL, now=utcnow(),
                            awarded_at=expires_at - relativedelta(months=24))
    db.session.commit()
    before = shift(tenant_a, days=2, qualification=qualification, title="Permanence de mardi")
    after = shift(tenant_a, days=6, qualification=qualification, title="Permanence de la semaine suivante")
    login_as(volunteer_a)

    qualified = page_text(client.get(f"{A}/open", query_string={"qualified_only": "y"}))
    assert "Permanence de mardi" in qualified and "Permanence de la semaine suivante" not in qualified

    refused = client.post(f"{A}/events/{after.id}/enrol")
    assert refused.status_code == 403
    assert "valable à la date de la permanence" in page_text(refused)
    assert place_of(after, volunteer_a) is None
    assert client.post(f"{A}/events/{before.id}/enrol").status_code == 302
    assert status_of(before, volunteer_a) is EnrolmentStatus.CONFIRMED


# --- other rules ---------------------------------------------------------------------------------------------------------


def test_overlapping_commitments_are_refused_across_structures(client, login_as, tenant_a, tenant_b, volunteer_a):
    make_membership(tenant_b, volunteer_a, "volunteer")
    elsewhere = shift(tenant_b, hour=9, hours=3, title="Permanence à B")
    enrol_in(elsewhere, volunteer_a)
    here = shift(tenant_a, hour=11, hours=2, title="Permanence à A")
    login_as(volunteer_a)

    refused = client.post(f"{A}/events/{here.id}/enrol", data={"next": f"{A}/open"})
    assert refused.status_code == 409
    assert "Vous avez déjà un engagement à ce moment-là." in page_text(refused)
    assert "Permanence à B" not in page_text(refused)
    assert place_of(here, volunteer_a) is None

    back_to_back = shift(tenant_a, hour=12, hours=2, title="Permanence de midi")
    assert client.post(f"{A}/events/{back_to_back.id}/enrol").status_code == 302


def test_sign_ups_open_at_the_structure_horizon_except_for_coordinators(client, login_as, tenant_a, coordinator_a,
                                                                        volunteer_a):
    set_enrolment_rules(tenant_a, signup_horizon_days=7)
    event = shift(tenant_a, days=12, title="Permanence lointaine")
    login_as(volunteer_a)

    listed = page_text(client.get(f"{A}/open"))
    assert "Permanence lointaine" in listed and "Inscriptions à partir du" in listed
    assert "Je m'inscris" not in listed

    refused = client.post(f"{A}/events/{event.id}/enrol")
    assert refused.status_code == 409
    assert "Les inscriptions ouvrent 7 jours avant la date." in page_text(refused)
    assert place_of(event, volunteer_a) is None

    login_as(coordinator_a)
    response = client.post(f"{A}/events/{event.id}/enrol-member", data={"enrol-member": str(volunteer_a.id)})
    assert response.status_code == 302
    assert status_of(event, volunteer_a) is EnrolmentStatus.CONFIRMED


def test_a_coordinator_enrols_and_removes_a_member(client, login_as, outbox, tenant_a, tenant_b, coordinator_a,
                                                   volunteer_a):
    event = shift(tenant_a, days=6, capacity=1)
    waiting = make_member(tenant_a, "volunteer", full_name="Inès Moreau", email="ines@example.org")
    stranger = make_member(tenant_b, "volunteer")
    login_as(coordinator_a)

    assert client.post(f"{A}/events/{event.id}/enrol-member",
                       data={"enrol-member": str(volunteer_a.id), "next": f"{A}/open"}).status_code == 302
    assert status_of(event, volunteer_a) is EnrolmentStatus.CONFIRMED
    assert emails_to(outbox, "vol-a@example.org")
    assert client.post(f"{A}/events/{event.id}/enrol-member",
                       data={"enrol-member": str(waiting.id)}).status_code == 302
    assert status_of(event, waiting) is EnrolmentStatus.WAITLISTED

    again = client.post(f"{A}/events/{event.id}/enrol-member",
                        data={"enrol-member": str(volunteer_a.id), "next": f"{A}/open"})
    assert again.status_code == 409 and "Cette personne est déjà inscrite." in page_text(again)
    outsider = client.post(f"{A}/events/{event.id}/enrol-member", data={"enrol-member": str(stranger.id)})
    assert outsider.status_code == 422
    assert place_of(event, stranger) is None

    place = place_of(event, volunteer_a)
    response = client.post(f"{A}/events/{event.id}/enrolments/{place.id}/remove", data={"next": f"{A}/open"})
    assert response.status_code == 302
    place = place_of(event, volunteer_a)
    assert place.status is EnrolmentStatus.CANCELLED and place.cancelled_late is False
    assert status_of(event, waiting) is EnrolmentStatus.CONFIRMED
    text = page_text(client.get(f"{A}/open"))
    assert "Inès Moreau, premier(e) sur la liste d'attente, prend la place" in text


# --- attendance -----------------------------------------------------------------------------------------------------------


@pytest.fixture
def training_session(tenant_a):
    """A past training session of a module that requires attendance, with its trainer."""
    trainer = make_member(tenant_a, "trainer", full_name="Théo Formateur", email="theo@example.org")
    module = make_module(None, title="Prendre rendez-vous en ligne", lessons=1, questions=1,
                         requires_attendance=True)
    starts_at = utcnow() - timedelta(hours=3)
    event = make_event(tenant_a, "training_session", starts_at, title="Séance : rendez-vous en ligne",
                       trainer=trainer, module=module, capacity=6)
    return event, trainer, module


def test_attendance_completes_the_module_that_requires_it(client, login_as, tenant_a, volunteer_a,
                                                          training_session):
    event, trainer, module = training_session
    enrol_in(event, volunteer_a, now=event.starts_at - timedelta(days=2))
    absent = make_member(tenant_a, "volunteer", full_name="Paul Absent")
    enrol_in(event, absent, now=event.starts_at - timedelta(days=2))
    version = complete_module(volunteer_a, module, tenant_a)
    progress = training_queries.module_progress(volunteer_a, version)
    assert progress.passed_quiz and progress.completed_at is None  # only the session is missing
    place, absent_place = place_of(event, volunteer_a), place_of(event, absent)
    login_as(trainer)

    sheet = client.get(f"{A}/events/{event.id}/attendance")
    assert sheet.status_code == 200
    assert "Victor Alpha" in page_text(sheet) and "Paul Absent" in page_text(sheet)

    response = client.post(f"{A}/events/{event.id}/attendance",
                           data={f"person_{place.id}": "present", f"person_{absent_place.id}": "absent"})
    assert response.status_code == 302
    assert place_of(event, volunteer_a).attendance is Attendance.PRESENT
    assert place_of(event, absent).attendance is Attendance.ABSENT
    db.session.rollback()
    assert training_queries.module_progress(volunteer_a, version).completed_at is not None
    assert db.session.scalar(select(func.count(ModuleCompletion.id)).where(
        ModuleCompletion.user_id == absent.id)) == 0

    bad = client.post(f"{A}/events/{event.id}/attendance", data={f"person_{place.id}": "dormait"})
    assert bad.status_code == 422
    assert place_of(event, volunteer_a).attendance is Attendance.PRESENT


def test_attendance_is_for_the_trainer_of_the_event_or_a_coordinator(client, login_as, tenant_a, coordinator_a,
                                                                     volunteer_a, training_session):
    event, _trainer, _module = training_session
    enrol_in(event, volunteer_a, now=event.starts_at - timedelta(days=2))
    place = place_of(event, volunteer_a)
    login_as(make_member(tenant_a, "trainer"))
    assert client.get(f"{A}/events/{event.id}/attendance").status_code == 403
    assert client.post(f"{A}/events/{event.id}/attendance",
                       data={f"person_{place.id}": "present"}).status_code == 403
    login_as(volunteer_a)
    assert client.get(f"{A}/events/{event.id}/attendance").status_code == 403
    assert place_of(event, volunteer_a).attendance is None
    login_as(coordinator_a)
    assert client.post(f"{A}/events/{event.id}/attendance",
                       data={f"person_{place.id}": "excused"}).status_code == 302
    assert place_of(event, volunteer_a).attendance is Attendance.EXCUSED


def test_attendance_waits_for_the_event_to_start(client, login_as, tenant_a, coordinator_a, volunteer_a):
    event = shift(tenant_a, days=2)
    enrol_in(event, volunteer_a)
    place = place_of(event, volunteer_a)
    login_as(coordinator_a)
    page = client.get(f"{A}/events/{event.id}/attendance")
    assert page.status_code == 200
    assert "La feuille de présence s'ouvre au début de l'événement" in page_text(page)
    refused = client.post(f"{A}/events/{event.id}/attendance", data={f"person_{place.id}": "present"})
    assert refused.status_code == 409
    assert place_of(event, volunteer_a).attendance is None


# --- my enrolments and hours ----------------------------------------------------------------------------------------------


def test_my_enrolments_show_upcoming_waitlists_past_attendance_and_hours(client, login_as, tenant_a, coordinator_a,
                                                                          volunteer_a):
    ended_at = utcnow() - timedelta(hours=1)
    past = make_event(tenant_a, "shift", ended_at - timedelta(hours=3), ends_at=ended_at, title="Permanence passée",
                      capacity=2)
    enrol_in(past, volunteer_a, now=utcnow() - timedelta(days=10))
    enrolments.mark_attendance(place_of(past, volunteer_a), Attendance.PRESENT, by=coordinator_a, now=utcnow())
    db.session.commit()
    coming = shift(tenant_a, days=4, title="Permanence à venir")
    enrol_in(coming, volunteer_a)
    full = shift(tenant_a, days=5, capacity=1, title="Permanence complète")
    enrol_in(full, make_member(tenant_a, "volunteer"))
    enrol_in(full, volunteer_a)
    login_as(volunteer_a)

    text = page_text(client.get(f"{A}/mine"))
    assert "Permanence à venir" in text and "Inscription confirmée" in text
    assert "Permanence complète" in text and "Sur la liste d'attente, position 1" in text
    assert "Permanence passée" in text and "Présent" in text
    zone = ZoneInfo(tenant_a.timezone)
    this_year = past.starts_at.astimezone(zone).year == utcnow().astimezone(zone).year
    # (On New Year's night the shift belongs to last year's hours.)
    assert ("3 h données à Structure A" if this_year else "0 h données à Structure A") in text


# --- under-staffed shifts -----------------------------------------------------------------------------------------------


def test_coordinators_see_understaffed_shifts_of_the_next_two_weeks(client, login_as, tenant_a, coordinator_a):
    missing = shift(tenant_a, days=3, capacity=3, title="Permanence à compléter")
    enrol_in(missing, make_member(tenant_a, "volunteer"))
    staffed = shift(tenant_a, days=4, capacity=1, title="Permanence complète")
    enrol_in(staffed, make_member(tenant_a, "volunteer"))
    shift(tenant_a, days=20, capacity=2, title="Permanence lointaine")
    login_as(coordinator_a)

    page = client.get(f"{A}/understaffed")
    assert page.status_code == 200
    text = page_text(page)
    assert "Permanence à compléter" in text and "1 sur 3" in text and "2 bénévoles" in text
    assert f"{A}/events/{missing.id}" in page.get_data(as_text=True)
    assert "Permanence complète" not in text and "Permanence lointaine" not in text


# --- the panel of an event page --------------------------------------------------------------------------------------------


def render_panel(app, event_id: int, user_id: int) -> str:
    """The panel as the agenda's event page includes it, in its own request."""

    def render() -> str:
        from flask import render_template_string

        with app.test_request_context(f"{A}/events/{event_id}"):
            user = db.session.get(User, user_id)
            event = db.session.get(Event, event_id)
            login_user(user)
            g.tenant = db.session.get(Tenant, event.tenant_id)
            g.membership = active_membership(user.id, g.tenant)
            html = render_template_string('{% include "scheduling/enrolment/_event_panel.html" %}', event=event)
            db.session.remove()
            return html

    import html as html_lib

    return html_lib.unescape(contextvars.Context().run(render))


def test_volunteers_see_only_first_names_of_the_others_on_a_shared_shift(app, tenant_a, coordinator_a, volunteer_a):
    event = shift(tenant_a, capacity=4)
    for name in ("Bruno Martin", "Chloé Durand"):
        enrol_in(event, make_member(tenant_a, "volunteer", full_name=name))
    enrol_in(event, volunteer_a)
    outsider = make_member(tenant_a, "volunteer", full_name="Olga Dehors")

    seen = render_panel(app, event.id, volunteer_a.id)
    assert "Vous êtes inscrit(e)." in seen and "Annuler mon inscription" in seen
    assert "Avec vous : Bruno, Chloé." in seen
    assert "Martin" not in seen and "Durand" not in seen and "Retirer" not in seen

    not_on_it = render_panel(app, event.id, outsider.id)
    assert "Je m'inscris" in not_on_it and "Bruno" not in not_on_it

    coordinated = render_panel(app, event.id, coordinator_a.id)
    assert "Bruno Martin" in coordinated and "Chloé Durand" in coordinated and "Victor Alpha" in coordinated
    assert "Retirer" in coordinated and "Ajouter une personne" in coordinated
    assert "Olga Dehors" in coordinated  # among the people one may add


def test_the_panel_shows_the_waitlist_in_order_and_keeps_its_queries_bounded(app, count_queries, tenant_a,
                                                                            coordinator_a):
    event = shift(tenant_a, capacity=1)
    enrol_in(event, make_member(tenant_a, "volunteer", full_name="Zoé Première"))
    enrol_in(event, make_member(tenant_a, "volunteer", full_name="Yann Deuxième"))
    enrol_in(event, make_member(tenant_a, "volunteer", full_name="Anna Troisième"))
    event_id, coordinator_id = event.id, coordinator_a.id
    html = render_panel(app, event_id, coordinator_id)
    assert html.index("Yann Deuxième") < html.index("Anna Troisième")

    with count_queries() as few:
        render_panel(app, event_id, coordinator_id)
    for _ in range(5):
        enrol_in(event, make_member(tenant_a, "volunteer"))
    with count_queries() as many:
        render_panel(app, event_id, coordinator_id)
    assert len(many) == len(few)


# --- isolation ------------------------------------------------------------------------------------------------------------------


def test_another_structures_ids_are_not_found(client, login_as, tenant_a, tenant_b, coordinator_a, volunteer_a):
    theirs = shift(tenant_b, title="MARQUEUR-B")
    b_member = make_member(tenant_b, "volunteer")
    enrol_in(theirs, b_member)
    b_place = place_of(theirs, b_member)
    ours = shift(tenant_a)
    before = enrolment_count()
    login_as(coordinator_a)
    for method, path, data in [
        ("POST", f"{A}/events/{theirs.id}/enrol", {}),
        ("POST", f"{A}/events/{theirs.id}/unenrol", {}),
        ("POST", f"{A}/events/{theirs.id}/enrol-member", {"enrol-member": str(volunteer_a.id)}),
        ("POST", f"{A}/events/{theirs.id}/enrolments/{b_place.id}/remove", {}),
        ("POST", f"{A}/events/{ours.id}/enrolments/{b_place.id}/remove", {}),
        ("GET", f"{A}/events/{theirs.id}/attendance", None),
        ("POST", f"{A}/events/{theirs.id}/attendance", {f"person_{b_place.id}": "absent"}),
    ]:
        response = client.open(path, method=method, data=data)
        assert response.status_code == 404, (method, path)
        assert "MARQUEUR-B" not in page_text(response)
    assert enrolment_count() == before
    assert place_of(theirs, b_member).status is EnrolmentStatus.CONFIRMED
    assert place_of(theirs, b_member).attendance is None
    assert "MARQUEUR-B" not in page_text(client.get(f"{A}/open"))
    assert "MARQUEUR-B" not in page_text(client.get(f"{A}/understaffed"))


def test_the_event_page_carries_the_panel_and_its_buttons_come_back_to_it(client, login_as, tenant_a, volunteer_a):
    event = shift(tenant_a, capacity=2, title="Permanence du jeudi")
    page_url = f"{A}/events/{event.id}"
    login_as(volunteer_a)
    page = page_text(client.get(page_url))
    assert "Inscriptions" in page and "Je m'inscris" in page

    response = client.post(f"{A}/events/{event.id}/enrol", data={"next": page_url})
    assert response.status_code == 302 and response.headers["Location"].endswith(page_url)
    after = client.get(page_url)
    assert "Vous êtes inscrit(e)." in page_text(after)
    assert flashes_in(after)[0][0] == "success"

    set_enrolment_rules(tenant_a, signup_horizon_days=1)
    later = shift(tenant_a, days=9, title="Permanence trop lointaine")
    refused = client.post(f"{A}/events/{later.id}/enrol", data={"next": f"{A}/events/{later.id}"})
    assert refused.status_code == 409
    assert "Les inscriptions ouvrent 1 jours avant la date." in page_text(refused)
    assert f'href="{A}/events/{later.id}"' in refused.get_data(as_text=True)  # a way back to the event
