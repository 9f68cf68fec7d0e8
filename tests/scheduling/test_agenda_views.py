"""The agenda pages: week and month views, the event page, creating events and
series (with their conflicts), editing and cancelling one date, the following
ones or a whole series, and "Mon agenda" across structures — who reaches
them, what they show (in local time, across daylight-saving changes) and what
they save."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from tests.factories import make_membership, make_site, make_tenant, make_user, page_text
from tests.scheduling.factories import make_event, make_kit, make_room
from tests.training.factories import make_module, make_qualification
from volunteer_platform.db import utcnow
from volunteer_platform.extensions import db
from volunteer_platform.scheduling import enrolment, recurrence
from volunteer_platform.scheduling.models import (
    Enrolment,
    EnrolmentStatus,
    Event,
    EventKind,
    EventSeries,
    EventStatus,
)

A = "/structure-a/agenda"
PARIS = "Europe/Paris"


def paris(day: date, at: str) -> datetime:
    """A Paris wall-clock time as aware UTC."""
    return recurrence.local_to_utc(datetime.combine(day, time.fromisoformat(at)), PARIS)


def last_sunday_of_october(year: int) -> date:
    day = date(year, 10, 31)
    return day - timedelta(days=(day.weekday() + 1) % 7)


def next_year() -> int:
    return utcnow().year + 1


def a_future_tuesday() -> date:
    """A Tuesday in the spring of next year, far from daylight-saving changes."""
    day = date(next_year(), 5, 4)
    return day + timedelta(days=(1 - day.weekday()) % 7)


def events(tenant=None) -> list[Event]:
    db.session.rollback()
    stmt = select(Event).order_by(Event.starts_at)
    if tenant is not None:
        stmt = stmt.where(Event.tenant_id == tenant.id)
    return list(db.session.scalars(stmt))


def fresh(model, ident):
    db.session.rollback()
    return db.session.scalars(select(model).where(model.id == ident)).one()


def event_form(day: date, **overrides) -> dict:
    data = {
        "kind": "workshop", "title": "Atelier démarches en ligne", "description": "", "what_to_bring": "",
        "day": day.isoformat(), "starts_at": "14:00", "ends_at": "16:00", "room_id": "", "trainer_id": "",
        "module_id": "", "capacity": "", "required_qualification_id": "", "repeat": "none", "interval": "1",
        "end_mode": "count", "until": "", "count": "",
    }
    data.update({k: v for k, v in overrides.items()})
    return data


def edit_form(event: Event, **overrides) -> dict:
    start = recurrence.utc_to_local(event.starts_at, PARIS)
    end = recurrence.utc_to_local(event.ends_at, PARIS)
    data = {
        "kind": event.kind.value, "title": event.title, "description": event.description,
        "what_to_bring": event.what_to_bring, "day": start.date().isoformat(),
        "starts_at": start.strftime("%H:%M"), "ends_at": end.strftime("%H:%M"),
        "room_id": str(event.room_id or ""), "trainer_id": str(event.trainer_id or ""),
        "module_id": str(event.module_id or ""), "capacity": str(event.capacity or ""),
        "required_qualification_id": str(event.required_qualification_id or ""), "scope": "one",
    }
    data.update(overrides)
    return data


def make_trainer(tenant, name="Thomas Formateur", **fields):
    return make_membership(tenant, make_user(full_name=name, **fields), "trainer").user


def enrol_confirmed(event: Event, user) -> Enrolment:
    place = enrolment.enrol(fresh(Event, event.id), user, now=utcnow(), by_coordinator=True,
                            base_url="http://testserver.example")
    db.session.commit()
    assert place.status is EnrolmentStatus.CONFIRMED
    return place


def create_series_through_page(client, day: date, count: int, **overrides) -> list[Event]:
    response = client.post(f"{A}/events/new", data=event_form(day, repeat="weekly", count=str(count), **overrides))
    assert response.status_code == 302, page_text(response)
    return events()


# --- access ------------------------------------------------------------------------------------------


def test_anonymous_visitors_are_asked_to_sign_in(client, tenant_a):
    for path in ["/", "/week", "/month", "/events/new"]:
        response = client.get(A + path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path
    response = client.get("/me/agenda")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_volunteers_see_the_agenda_but_cannot_create_edit_or_cancel(client, login_as, tenant_a, volunteer_a):
    event = make_event(tenant_a, "workshop", paris(a_future_tuesday(), "14:00"), title="Atelier du mardi")
    login_as(volunteer_a)
    week = client.get(f"{A}/week?date={a_future_tuesday().isoformat()}")
    assert week.status_code == 200
    assert "Atelier du mardi" in page_text(week)
    assert "Nouvel événement" not in page_text(week)
    page = client.get(f"{A}/events/{event.id}")
    assert page.status_code == 200
    assert "Modifier" not in page_text(page) and "Annuler l'événement" not in page_text(page)
    assert client.get(f"{A}/month").status_code == 200

    refused = [
        ("GET", "/events/new"), ("POST", "/events/new"),
        ("GET", f"/events/{event.id}/edit"), ("POST", f"/events/{event.id}/edit"),
        ("GET", f"/events/{event.id}/cancel"), ("POST", f"/events/{event.id}/cancel"),
    ]
    for method, path in refused:
        data = event_form(a_future_tuesday(), title="Piraté") if method == "POST" else None
        assert client.open(A + path, method=method, data=data).status_code == 403, (method, path)
    after = fresh(Event, event.id)
    assert (after.title, after.status) == ("Atelier du mardi", EventStatus.SCHEDULED)
    assert len(events()) == 1


def test_a_trainer_is_a_member_who_sees_the_agenda_but_does_not_edit(client, login_as, tenant_a):
    trainer = make_trainer(tenant_a)
    event = make_event(tenant_a, "workshop", paris(a_future_tuesday(), "10:00"))
    login_as(trainer)
    assert client.get(f"{A}/").status_code == 200
    assert client.get(f"{A}/events/{event.id}").status_code == 200
    assert client.get(f"{A}/events/{event.id}/edit").status_code == 403


def test_the_agenda_shows_nothing_of_another_structure(client, login_as, tenant_a, tenant_b, coordinator_a):
    day = a_future_tuesday()
    site_b = make_site(tenant_b, name="MARQUEUR-B-LIEU")
    room_b = make_room(tenant_b, site_b, name="MARQUEUR-B-SALLE")
    trainer_b = make_trainer(tenant_b, name="MARQUEUR-B-FORMATEUR")
    make_event(tenant_b, "workshop", paris(day, "14:00"), title="MARQUEUR-B-ATELIER", room=room_b,
               trainer=trainer_b)
    make_event(tenant_a, "workshop", paris(day, "14:00"), title="Atelier de A")
    login_as(coordinator_a)
    for path in [f"/week?date={day.isoformat()}", f"/month?date={day:%Y-%m}", "/events/new"]:
        response = client.get(A + path)
        assert response.status_code == 200, path
        assert "MARQUEUR-B" not in page_text(response), path
    assert "Atelier de A" in page_text(client.get(f"{A}/week?date={day.isoformat()}"))
    # B's room as a filter is ignored: A's agenda stays A's.
    filtered = client.get(f"{A}/week?date={day.isoformat()}&room={room_b.id}&site={site_b.id}")
    assert filtered.status_code == 200 and "MARQUEUR-B" not in page_text(filtered)


def test_another_structures_events_are_not_found_here(client, login_as, tenant_a, tenant_b, coordinator_a,
                                                      coordinator_b):
    b_event = make_event(tenant_b, "workshop", paris(a_future_tuesday(), "14:00"), title="MARQUEUR-B-ATELIER")
    login_as(coordinator_a)
    for method, path in [
        ("GET", f"/events/{b_event.id}"), ("GET", f"/events/{b_event.id}/edit"),
        ("POST", f"/events/{b_event.id}/edit"), ("GET", f"/events/{b_event.id}/cancel"),
        ("POST", f"/events/{b_event.id}/cancel"),
    ]:
        data = edit_form(b_event, title="Piraté par A", scope="all") if method == "POST" else None
        response = client.open(A + path, method=method, data=data)
        assert response.status_code == 404, (method, path)
        assert "MARQUEUR-B" not in page_text(response)
    after = fresh(Event, b_event.id)
    assert (after.title, after.status) == ("MARQUEUR-B-ATELIER", EventStatus.SCHEDULED)
    # And B's own coordinator still reaches it under B's address.
    login_as(coordinator_b)
    assert client.get(f"/structure-b/agenda/events/{b_event.id}").status_code == 200


def test_a_room_of_another_structure_cannot_be_chosen(client, login_as, tenant_a, tenant_b, coordinator_a):
    room_b = make_room(tenant_b, name="Salle de B")
    login_as(coordinator_a)
    response = client.post(f"{A}/events/new", data=event_form(a_future_tuesday(), room_id=str(room_b.id)))
    assert response.status_code == 422
    assert events() == []


# --- creating ------------------------------------------------------------------------------------------


def test_a_coordinator_creates_an_event_in_local_time(client, login_as, tenant_a, coordinator_a):
    room = make_room(tenant_a, name="Salle informatique", capacity=12)
    kit = make_kit(tenant_a, "Valise de 8 tablettes")
    day = a_future_tuesday()
    login_as(coordinator_a)
    form = client.get(f"{A}/events/new?date={day.isoformat()}")
    assert form.status_code == 200
    assert f'value="{day.isoformat()}"' in form.get_data(as_text=True)  # the date comes prefilled
    response = client.post(f"{A}/events/new", data=event_form(
        day, title="Atelier France Travail", room_id=str(room.id), kit_ids=[str(kit.id)], capacity="8",
        what_to_bring="Votre téléphone chargé",
    ))
    assert response.status_code == 302
    (event,) = events()
    assert response.headers["Location"].endswith(f"{A}/events/{event.id}")
    # 14:00 in Paris in May (UTC+2) is 12:00 UTC.
    assert event.starts_at == datetime.combine(day, time(12), UTC)
    assert event.ends_at == datetime.combine(day, time(14), UTC)
    assert (event.kind, event.room_id, event.capacity, [k.id for k in event.kits]) == (
        EventKind.WORKSHOP, room.id, 8, [kit.id])
    assert event.series_id is None
    page = page_text(client.get(response.headers["Location"]))
    assert "Atelier France Travail" in page
    assert "de 14:00 à 16:00" in page
    assert "Salle informatique" in page and "Valise de 8 tablettes" in page
    assert "Votre téléphone chargé" in page


def test_a_training_session_needs_its_module_and_shows_it(client, login_as, tenant_a, coordinator_a):
    module = make_module(tenant_a, title="Créer son compte Ameli")
    trainer = make_trainer(tenant_a, name="Thomas Formateur")
    day = a_future_tuesday()
    login_as(coordinator_a)
    refused = client.post(f"{A}/events/new", data=event_form(
        day, kind="training_session", title="Session Ameli", trainer_id=str(trainer.id), capacity="6"))
    assert refused.status_code == 422
    assert "Choisissez le module de formation." in page_text(refused)
    assert events() == []
    created = client.post(f"{A}/events/new", data=event_form(
        day, kind="training_session", title="Session Ameli", trainer_id=str(trainer.id), capacity="6",
        module_id=str(module.id)))
    assert created.status_code == 302
    (event,) = events()
    assert (event.module_id, event.trainer_id) == (module.id, trainer.id)
    page = page_text(client.get(f"{A}/events/{event.id}"))
    assert "Créer son compte Ameli" in page and "Thomas Formateur" in page


def test_a_shift_keeps_its_qualification_and_a_workshop_drops_a_stray_module(client, login_as, tenant_a,
                                                                           coordinator_a):
    qualification = make_qualification(tenant_a, name="Accompagnement aux démarches")
    module = make_module(tenant_a, title="Module égaré")
    day = a_future_tuesday()
    login_as(coordinator_a)
    assert client.post(f"{A}/events/new", data=event_form(
        day, kind="shift", title="Permanence CAF", capacity="2",
        required_qualification_id=str(qualification.id))).status_code == 302
    assert client.post(f"{A}/events/new", data=event_form(
        day, title="Atelier libre", starts_at="17:00", ends_at="18:00", module_id=str(module.id),
        required_qualification_id=str(qualification.id))).status_code == 302
    shift, workshop = events()
    assert (shift.kind, shift.required_qualification_id) == (EventKind.SHIFT, qualification.id)
    assert (workshop.module_id, workshop.required_qualification_id) == (None, None)
    assert "Accompagnement aux démarches" in page_text(client.get(f"{A}/events/{shift.id}"))


def test_a_room_conflict_is_explained_in_french_and_nothing_is_saved(client, login_as, tenant_a, coordinator_a):
    room = make_room(tenant_a, name="Salle informatique")
    day = a_future_tuesday()
    make_event(tenant_a, "workshop", paris(day, "14:00"), ends_at=paris(day, "16:00"), room=room,
               title="Atelier déjà prévu")
    login_as(coordinator_a)
    response = client.post(f"{A}/events/new", data=event_form(
        day, title="Atelier en trop", starts_at="15:00", ends_at="17:00", room_id=str(room.id)))
    assert response.status_code == 422
    text = page_text(response)
    assert "Rien n'a été enregistré" in text
    assert "La salle « Salle informatique » est déjà prise : Atelier déjà prévu" in text
    assert [e.title for e in events()] == ["Atelier déjà prévu"]
    # Back to back is fine.
    assert client.post(f"{A}/events/new", data=event_form(
        day, title="Atelier suivant", starts_at="16:00", ends_at="17:00", room_id=str(room.id))).status_code == 302


def test_end_before_start_is_a_field_error(client, login_as, tenant_a, coordinator_a):
    login_as(coordinator_a)
    response = client.post(f"{A}/events/new", data=event_form(a_future_tuesday(), starts_at="16:00",
                                                                ends_at="15:00"))
    assert response.status_code == 422
    assert "La fin doit être après le début." in page_text(response)
    assert events() == []


def test_a_weekly_series_stays_at_14h_local_across_the_october_change(client, login_as, tenant_a, coordinator_a):
    change = last_sunday_of_october(next_year())
    first = change - timedelta(days=12)  # a Tuesday, two weeks before the change
    login_as(coordinator_a)
    created = create_series_through_page(client, first, 3, title="Atelier du mardi")
    assert [e.starts_at for e in created] == [
        datetime.combine(first, time(12), UTC),  # summer time, UTC+2
        datetime.combine(first + timedelta(days=7), time(12), UTC),
        datetime.combine(first + timedelta(days=14), time(13), UTC),  # winter time, UTC+1
    ]
    assert [recurrence.utc_to_local(e.starts_at, PARIS).time() for e in created] == [time(14)] * 3
    series = fresh(EventSeries, created[0].series_id)
    assert {e.series_id for e in created} == {series.id}
    assert "FREQ=WEEKLY" in series.rrule and "COUNT=3" in series.rrule
    page = page_text(client.get(f"{A}/events/{created[2].id}"))
    assert "Se répète chaque semaine, le mardi, 3 fois en tout." in page
    assert "de 14:00 à 16:00" in page


def test_a_monthly_series_on_the_first_tuesday(client, login_as, tenant_a, coordinator_a):
    year = next_year()
    first_tuesday = date(year, 3, 1) + timedelta(days=(1 - date(year, 3, 1).weekday()) % 7)
    until = date(year, 5, 31)
    login_as(coordinator_a)
    response = client.post(f"{A}/events/new", data=event_form(
        first_tuesday, title="Café numérique", repeat="monthly", end_mode="until", until=until.isoformat()))
    assert response.status_code == 302, page_text(response)
    days = [recurrence.utc_to_local(e.starts_at, PARIS).date() for e in events()]
    assert len(days) == 3
    assert all(d.weekday() == 1 and d.day <= 7 for d in days)
    assert [d.month for d in days] == [3, 4, 5]
    page = page_text(client.get(f"{A}/events/{events()[0].id}"))
    assert "Se répète chaque mois, le 1er mardi, jusqu'au 31 mai" in page


def test_a_series_without_an_end_is_refused(client, login_as, tenant_a, coordinator_a):
    login_as(coordinator_a)
    response = client.post(f"{A}/events/new", data=event_form(a_future_tuesday(), repeat="weekly", count=""))
    assert response.status_code == 422
    assert "Indiquez le nombre de fois." in page_text(response)
    assert events() == []


def test_series_conflicts_are_listed_date_by_date_then_skipped_on_request(client, login_as, tenant_a,
                                                                          coordinator_a):
    room = make_room(tenant_a, name="Salle informatique")
    first = a_future_tuesday()
    taken = first + timedelta(days=14)
    make_event(tenant_a, "booking", paris(taken, "13:00"), ends_at=paris(taken, "15:00"), room=room,
               title="Réunion du conseil")
    login_as(coordinator_a)
    data = event_form(first, title="Atelier hebdo", room_id=str(room.id), repeat="weekly", count="4")

    table = client.post(f"{A}/events/new", data=data)
    assert table.status_code == 422
    text = page_text(table)
    assert "Les dates de la série" in text
    assert "Créer quand même en sautant les dates en conflit" in text
    rows = re.findall(r"<tr>\s*<th scope=\"row\">(.*?)</th>\s*<td>(.*?)</td>", text, re.DOTALL)
    assert len(rows) == 4
    verdicts = ["Conflit" if "Conflit" in cell else "OK" for _head, cell in rows]
    assert verdicts == ["OK", "OK", "Conflit", "OK"]
    assert "Réunion du conseil" in rows[2][1]
    assert [e.title for e in events()] == ["Réunion du conseil"]  # nothing saved yet

    created = client.post(f"{A}/events/new", data={**data, "skip_conflicts": "y"})
    assert created.status_code == 302
    workshops = [e for e in events() if e.title == "Atelier hebdo"]
    assert [recurrence.utc_to_local(e.starts_at, PARIS).date() for e in workshops] == [
        first, first + timedelta(days=7), first + timedelta(days=21)]
    series = fresh(EventSeries, workshops[0].series_id)
    assert series.skipped_dates == [taken.isoformat()]
    page = page_text(client.get(f"{A}/events/{workshops[0].id}"))
    assert "Dates sautées" in page


def test_a_series_without_conflicts_is_created_at_once(client, login_as, tenant_a, coordinator_a):
    room = make_room(tenant_a)
    login_as(coordinator_a)
    created = create_series_through_page(client, a_future_tuesday(), 4, room_id=str(room.id), interval="2")
    days = [recurrence.utc_to_local(e.starts_at, PARIS).date() for e in created]
    assert [(b - a).days for a, b in itertools.pairwise(days)] == [14, 14, 14]
    assert "toutes les 2 semaines" in page_text(client.get(f"{A}/events/{created[0].id}"))


# --- editing ---------------------------------------------------------------------------------------------


def test_editing_one_occurrence_leaves_the_others(client, login_as, tenant_a, coordinator_a):
    login_as(coordinator_a)
    created = create_series_through_page(client, a_future_tuesday(), 4, title="Atelier")
    second = created[1]
    form = client.get(f"{A}/events/{second.id}/edit")
    assert form.status_code == 200
    assert "Cette date et les suivantes" in page_text(form) and "Toute la série" in page_text(form)
    response = client.post(f"{A}/events/{second.id}/edit", data=edit_form(
        second, title="Atelier spécial", starts_at="15:00", ends_at="17:00", scope="one"))
    assert response.status_code == 302
    after = events()
    assert [e.title for e in after] == ["Atelier", "Atelier spécial", "Atelier", "Atelier"]
    assert [recurrence.utc_to_local(e.starts_at, PARIS).hour for e in after] == [14, 15, 14, 14]
    assert after[1].is_exception and after[1].series_id == created[0].series_id
    assert "modifiée à part" in page_text(client.get(f"{A}/events/{second.id}"))


def test_editing_this_and_the_following_splits_the_series(client, login_as, tenant_a, coordinator_a):
    login_as(coordinator_a)
    created = create_series_through_page(client, a_future_tuesday(), 4, title="Atelier")
    old_series = fresh(EventSeries, created[0].series_id)
    old_uid = old_series.uid
    third = created[2]
    response = client.post(f"{A}/events/{third.id}/edit", data=edit_form(
        third, title="Atelier du soir", starts_at="18:00", ends_at="19:30", scope="following"))
    assert response.status_code == 302
    after = events()
    assert [e.title for e in after] == ["Atelier", "Atelier", "Atelier du soir", "Atelier du soir"]
    assert [recurrence.utc_to_local(e.starts_at, PARIS).time() for e in after] == [
        time(14), time(14), time(18), time(18)]
    assert after[0].series_id == after[1].series_id == old_series.id
    new_series = fresh(EventSeries, after[2].series_id)
    assert after[3].series_id == new_series.id != old_series.id
    assert new_series.uid != old_uid
    assert fresh(EventSeries, old_series.id).uid == old_uid
    assert "UNTIL=" in fresh(EventSeries, old_series.id).rrule


def test_editing_the_whole_series(client, login_as, tenant_a, coordinator_a):
    login_as(coordinator_a)
    created = create_series_through_page(client, a_future_tuesday(), 3, title="Atelier")
    response = client.post(f"{A}/events/{created[1].id}/edit", data=edit_form(
        created[1], title="Atelier numérique", starts_at="09:30", ends_at="11:00", scope="all"))
    assert response.status_code == 302
    after = events()
    assert [e.title for e in after] == ["Atelier numérique"] * 3
    assert [recurrence.utc_to_local(e.starts_at, PARIS).time() for e in after] == [time(9, 30)] * 3
    assert [recurrence.utc_to_local(e.starts_at, PARIS).date() for e in after] == [
        recurrence.utc_to_local(e.starts_at, PARIS).date() for e in created]
    assert {e.series_id for e in after} == {created[0].series_id}


def test_moving_several_dates_to_another_day_is_refused(client, login_as, tenant_a, coordinator_a):
    login_as(coordinator_a)
    created = create_series_through_page(client, a_future_tuesday(), 3, title="Atelier")
    other_day = (a_future_tuesday() + timedelta(days=1)).isoformat()
    response = client.post(f"{A}/events/{created[0].id}/edit", data=edit_form(
        created[0], day=other_day, scope="all"))
    assert response.status_code == 422
    assert "choisissez « Cette date »" in page_text(response)
    assert [e.starts_at for e in events()] == [e.starts_at for e in created]


def test_an_edit_that_conflicts_saves_nothing(client, login_as, tenant_a, coordinator_a):
    room = make_room(tenant_a, name="Salle informatique")
    day = a_future_tuesday()
    make_event(tenant_a, "workshop", paris(day, "16:00"), ends_at=paris(day, "18:00"), room=room,
               title="Atelier de fin de journée")
    event = make_event(tenant_a, "workshop", paris(day, "14:00"), ends_at=paris(day, "16:00"), room=room,
                       title="Atelier de l'après-midi")
    login_as(coordinator_a)
    response = client.post(f"{A}/events/{event.id}/edit", data=edit_form(
        event, title="Atelier prolongé", ends_at="17:00"))
    assert response.status_code == 422
    assert "est déjà prise : Atelier de fin de journée" in page_text(response)
    after = fresh(Event, event.id)
    assert (after.title, after.ends_at) == ("Atelier de l'après-midi", paris(day, "16:00"))


# --- cancelling -------------------------------------------------------------------------------------------


def test_cancelling_keeps_the_event_and_emails_the_people_enrolled(client, login_as, tenant_a, coordinator_a,
                                                                  volunteer_a, outbox):
    day = utcnow().date() + timedelta(days=10)
    event = make_event(tenant_a, "shift", paris(day, "09:00"), ends_at=paris(day, "12:00"), capacity=3,
                       title="Permanence CAF")
    other = make_membership(tenant_a, make_user(email="autre@example.org", full_name="Odile Autre")).user
    first, second = enrol_confirmed(event, volunteer_a), enrol_confirmed(event, other)
    before = len(outbox())
    login_as(coordinator_a)
    confirm = client.get(f"{A}/events/{event.id}/cancel")
    assert confirm.status_code == 200
    assert "Confirmer l'annulation" in page_text(confirm)
    assert "Toute la série" not in page_text(confirm)  # a single event: no scope to choose

    response = client.post(f"{A}/events/{event.id}/cancel")
    assert response.status_code == 302
    after = fresh(Event, event.id)
    assert after.status is EventStatus.CANCELLED and after.cancelled_at is not None
    assert {fresh(Enrolment, e.id).status for e in (first, second)} == {EnrolmentStatus.CANCELLED}
    sent = outbox()[before:]
    assert sorted(m.to_address for m in sent) == ["autre@example.org", "vol-a@example.org"]
    assert all(f"/structure-a/agenda/events/{event.id}" in m.body_text for m in sent)

    page = page_text(client.get(f"{A}/events/{event.id}"))
    assert "Annulé" in page and "Modifier" not in page
    week = client.get(f"{A}/week?date={day.isoformat()}").get_data(as_text=True)
    assert re.search(r"Annulé</strong>\s*<s><a [^>]*>Permanence CAF</a></s>", week)
    # Twice is refused, nothing more is sent.
    assert client.post(f"{A}/events/{event.id}/cancel").status_code == 302
    assert len(outbox()) == before + 2


def test_cancelling_this_and_the_following_dates(client, login_as, tenant_a, coordinator_a):
    login_as(coordinator_a)
    created = create_series_through_page(client, a_future_tuesday(), 4, title="Atelier")
    confirm = client.get(f"{A}/events/{created[1].id}/cancel")
    assert "Cette date et les suivantes" in page_text(confirm)
    response = client.post(f"{A}/events/{created[1].id}/cancel", data={"scope": "following"})
    assert response.status_code == 302
    assert [e.status for e in events()] == [EventStatus.SCHEDULED] + [EventStatus.CANCELLED] * 3
    assert len(events()) == 4  # kept, marked cancelled


def test_cancelling_one_date_of_a_series(client, login_as, tenant_a, coordinator_a):
    login_as(coordinator_a)
    created = create_series_through_page(client, a_future_tuesday(), 3, title="Atelier")
    assert client.post(f"{A}/events/{created[1].id}/cancel", data={"scope": "one"}).status_code == 302
    assert [e.status for e in events()] == [EventStatus.SCHEDULED, EventStatus.CANCELLED, EventStatus.SCHEDULED]
    assert client.get(f"{A}/events/{created[1].id}/edit").status_code == 302  # a cancelled date is not edited


# --- week and month views ------------------------------------------------------------------------------------


def test_the_week_view_shows_each_day_with_its_events(client, login_as, tenant_a, volunteer_a):
    site = make_site(tenant_a, name="Maison des services")
    room = make_room(tenant_a, site, name="Salle 2", capacity=10)
    trainer = make_trainer(tenant_a, name="Camille Dupont")
    day = a_future_tuesday()
    make_event(tenant_a, "workshop", paris(day, "14:00"), ends_at=paris(day, "16:30"), room=room, trainer=trainer,
               capacity=8, title="Atelier smartphone")
    login_as(volunteer_a)
    response = client.get(f"{A}/week?date={(day + timedelta(days=2)).isoformat()}")
    assert response.status_code == 200
    text = page_text(response)
    monday = day - timedelta(days=1)
    assert f'id="day-{monday.isoformat()}"' in text and f'id="day-{(monday + timedelta(days=6)).isoformat()}"' in text
    assert "14:00 – 16:30" in text
    assert "Atelier numérique" in text  # the kind in words
    assert "Salle 2, Maison des services" in text
    listed = text.split('class="agenda-week"', 1)[1]
    assert "avec Camille" in listed and "Dupont" not in listed  # the first name only
    assert "Places : 0/8" in text
    assert f"date={(monday - timedelta(days=7)).isoformat()}" in text  # previous week
    assert f"date={(monday + timedelta(days=7)).isoformat()}" in text  # next week
    # "/" is the week view too; a date it cannot show means this week.
    assert client.get(f"{A}/?date={day.isoformat()}").status_code == 200
    for odd in ["9999-12-31", "0001-01-01", "hier"]:
        assert client.get(f"{A}/week?date={odd}").status_code == 200, odd
        assert client.get(f"{A}/month?date={odd[:7]}").status_code == 200, odd


def test_the_week_view_filters_by_site_room_and_trainer(client, login_as, tenant_a, coordinator_a):
    north, south = make_site(tenant_a, name="Site Nord"), make_site(tenant_a, name="Site Sud")
    room_n1, room_n2 = make_room(tenant_a, north, name="Nord 1"), make_room(tenant_a, north, name="Nord 2")
    room_s = make_room(tenant_a, south, name="Sud 1")
    anna, bruno = make_trainer(tenant_a, name="Anna Martin"), make_trainer(tenant_a, name="Bruno Petit")
    day = a_future_tuesday()
    make_event(tenant_a, "workshop", paris(day, "09:00"), room=room_n1, trainer=anna, title="EVT-N1-ANNA")
    make_event(tenant_a, "workshop", paris(day, "14:00"), room=room_n2, trainer=bruno, title="EVT-N2-BRUNO")
    make_event(tenant_a, "workshop", paris(day, "14:00"), room=room_s, trainer=anna, title="EVT-S-ANNA")
    make_event(tenant_a, "workshop", paris(day, "18:00"), title="EVT-SANS-SALLE")
    login_as(coordinator_a)

    def shown(query: str) -> set[str]:
        text = page_text(client.get(f"{A}/week?date={day.isoformat()}&{query}"))
        return set(re.findall(r"EVT-[A-Z0-9-]+", text))

    assert shown("") == {"EVT-N1-ANNA", "EVT-N2-BRUNO", "EVT-S-ANNA", "EVT-SANS-SALLE"}
    assert shown(f"site={north.id}") == {"EVT-N1-ANNA", "EVT-N2-BRUNO"}
    assert shown(f"room={room_s.id}") == {"EVT-S-ANNA"}
    assert shown(f"trainer={anna.id}") == {"EVT-N1-ANNA", "EVT-S-ANNA"}
    assert shown(f"site={north.id}&trainer={anna.id}") == {"EVT-N1-ANNA"}
    assert shown("site=abc&room=") == {"EVT-N1-ANNA", "EVT-N2-BRUNO", "EVT-S-ANNA", "EVT-SANS-SALLE"}
    # Filters are kept in the links to the other weeks.
    next_monday = (day - timedelta(days=1) + timedelta(days=7)).isoformat()
    text = page_text(client.get(f"{A}/week?date={day.isoformat()}&site={north.id}"))
    assert f"week?date={next_monday}&site={north.id}" in text


def test_the_week_around_the_october_change_has_local_bounds(client, login_as, tenant_a, coordinator_a):
    change = last_sunday_of_october(next_year())  # Sunday: clocks go back at 03:00
    monday = change - timedelta(days=6)
    make_event(tenant_a, "workshop", paris(monday, "00:30"), ends_at=paris(monday, "01:30"),
               title="EVT-LUNDI-MINUIT")  # Sunday 22:30 UTC: in this week
    make_event(tenant_a, "workshop", paris(change, "23:00"), ends_at=paris(change, "23:45"),
               title="EVT-DIMANCHE-SOIR")  # after the change, 22:00 UTC: in this week, on Sunday
    make_event(tenant_a, "workshop", paris(change + timedelta(days=1), "00:30"),
               ends_at=paris(change + timedelta(days=1), "01:30"), title="EVT-LUNDI-SUIVANT")  # Sunday 23:30 UTC
    make_event(tenant_a, "workshop", paris(monday - timedelta(days=1), "23:30"),
               ends_at=paris(monday - timedelta(days=1), "23:55"), title="EVT-DIMANCHE-AVANT")
    login_as(coordinator_a)
    text = page_text(client.get(f"{A}/week?date={change.isoformat()}"))
    assert set(re.findall(r"EVT-[A-Z-]+", text)) == {"EVT-LUNDI-MINUIT", "EVT-DIMANCHE-SOIR"}
    sunday_section = text.split(f'id="day-{change.isoformat()}"', 1)[1]
    assert "EVT-DIMANCHE-SOIR" in sunday_section and "23:00 – 23:45" in sunday_section
    monday_section = text.split(f'id="day-{monday.isoformat()}"', 1)[1].split('id="day-', 1)[0]
    assert "EVT-LUNDI-MINUIT" in monday_section and "00:30 – 01:30" in monday_section
    following = page_text(client.get(f"{A}/week?date={(change + timedelta(days=1)).isoformat()}"))
    assert "EVT-LUNDI-SUIVANT" in following and "EVT-DIMANCHE-SOIR" not in following


def test_the_month_view(client, login_as, tenant_a, volunteer_a):
    year = next_year()
    make_event(tenant_a, "workshop", paris(date(year, 3, 1), "00:30"), ends_at=paris(date(year, 3, 1), "01:00"),
               title="EVT-PREMIER")  # 28 or 29 February in UTC
    make_event(tenant_a, "workshop", paris(date(year, 3, 31), "23:00"), ends_at=paris(date(year, 3, 31), "23:30"),
               title="EVT-DERNIER")  # after the March change: 21:00 UTC
    make_event(tenant_a, "workshop", paris(date(year, 4, 1), "00:30"), ends_at=paris(date(year, 4, 1), "01:00"),
               title="EVT-AVRIL")
    login_as(volunteer_a)
    response = client.get(f"{A}/month?date={year}-03")
    assert response.status_code == 200
    text = page_text(response)
    assert set(re.findall(r"EVT-[A-Z]+", text)) == {"EVT-PREMIER", "EVT-DERNIER"}
    assert f"Mars {year}" in text
    assert f"date={year}-02" in text and f"date={year}-04" in text
    assert "EVT-AVRIL" in page_text(client.get(f"{A}/month?date={year}-04"))
    assert client.get(f"{A}/month?date=n'importe-quoi").status_code == 200


def test_the_week_view_runs_the_same_number_of_queries_whatever_the_number_of_events(
        client, login_as, tenant_a, coordinator_a, count_queries):
    day = a_future_tuesday()
    monday = day - timedelta(days=1)
    sites = [make_site(tenant_a, name=f"Site {i}") for i in range(3)]
    rooms = [make_room(tenant_a, sites[i % 3], name=f"Salle {i}") for i in range(6)]
    trainers = [make_trainer(tenant_a, name=f"Formateur{i} Nom") for i in range(3)]
    volunteers = [make_membership(tenant_a, make_user()).user for _ in range(2)]

    def add(n: int, start: int) -> None:
        for i in range(start, start + n):
            at = paris(monday + timedelta(days=i % 7), f"{8 + (i // 7) % 12:02d}:00")
            event = make_event(tenant_a, "workshop", at, ends_at=at + timedelta(minutes=30),
                               room=rooms[i % 6] if (i // 7) % 2 == 0 else None,
                               trainer=trainers[i % 3] if i % 2 else None, capacity=5, title=f"Atelier {i}")
            if i % 4 == 0:
                db.session.add_all([
                    Enrolment(tenant_id=tenant_a.id, event_id=event.id, user_id=v.id,
                              status=EnrolmentStatus.CONFIRMED, confirmed_at=utcnow()) for v in volunteers])
                db.session.commit()

    login_as(coordinator_a)

    def measure() -> int:
        client.get(f"{A}/week?date={day.isoformat()}")  # warm up
        with count_queries() as statements:
            response = client.get(f"{A}/week?date={day.isoformat()}")
        assert response.status_code == 200
        return len(statements)

    add(3, 0)
    few = measure()
    assert page_text(client.get(f"{A}/week?date={day.isoformat()}")).count("agenda-event") >= 3
    add(27, 3)
    many = measure()
    text = page_text(client.get(f"{A}/week?date={day.isoformat()}"))
    assert text.count('class="agenda-event') == 30
    assert "Places : 2/5" in text
    assert many == few, (few, many)


# --- my agenda ----------------------------------------------------------------------------------------------------


def test_my_agenda_lists_my_commitments_in_every_structure(client, login_as, tenant_a, tenant_b):
    reunion = make_tenant(slug="structure-reunion", name="Structure Réunion", timezone="Indian/Reunion")
    left = make_tenant(slug="structure-quittee", name="Structure quittée")
    me = make_user(full_name="Marie Multi", email="marie@example.org")
    make_membership(tenant_a, me, "volunteer")
    make_membership(tenant_b, me, "trainer")
    make_membership(reunion, me, "volunteer")
    make_membership(left, me, "volunteer", is_active=False)
    soon = utcnow().date() + timedelta(days=5)

    a_event = make_event(tenant_a, "shift", paris(soon, "09:00"), ends_at=paris(soon, "12:00"), capacity=2,
                         title="Permanence de A")
    enrol_confirmed(a_event, me)
    make_event(tenant_b, "workshop", paris(soon + timedelta(days=1), "14:00"), trainer=me, title="Atelier que j'anime")
    r_start = datetime.combine(soon + timedelta(days=2), time(10), UTC)  # 14:00 in Réunion (UTC+4)
    r_event = make_event(reunion, "workshop", r_start, ends_at=r_start + timedelta(hours=1), capacity=5,
                         title="Atelier à la Réunion")
    enrol_confirmed(r_event, me)
    # Not mine, cancelled, or in a structure I left: not shown.
    make_event(tenant_a, "workshop", paris(soon, "14:00"), capacity=5, title="PAS-MOI")
    cancelled = make_event(tenant_a, "workshop", paris(soon, "16:00"), capacity=5, title="PAS-ANNULE")
    place = enrol_confirmed(cancelled, me)
    enrolment.cancel(fresh(Enrolment, place.id), now=utcnow(), by=me, as_coordinator=True)
    db.session.commit()
    gone = make_event(left, "workshop", paris(soon, "18:00"), capacity=5, title="PAS-QUITTEE")
    db.session.add(Enrolment(tenant_id=left.id, event_id=gone.id, user_id=me.id, status=EnrolmentStatus.CONFIRMED))
    db.session.commit()
    # A past commitment (last 30 days) and an old one.
    past_day = utcnow().date() - timedelta(days=10)
    past = make_event(tenant_a, "workshop", paris(past_day, "10:00"), capacity=5, title="Atelier passé")
    old = make_event(tenant_a, "workshop", paris(past_day - timedelta(days=40), "10:00"), capacity=5,
                     title="PAS-TROP-VIEUX")
    for event in (past, old):
        db.session.add(Enrolment(tenant_id=tenant_a.id, event_id=event.id, user_id=me.id,
                                 status=EnrolmentStatus.CONFIRMED))
    db.session.commit()

    login_as(me)
    response = client.get("/me/agenda")
    assert response.status_code == 200
    text = page_text(response)
    assert "PAS-" not in text
    upcoming, past_part = text.split("Les 30 derniers jours", 1)
    for title, structure in [("Permanence de A", "Structure A"), ("Atelier que j'anime", "Structure B"),
                             ("Atelier à la Réunion", "Structure Réunion")]:
        assert title in upcoming and structure in upcoming
    assert "Atelier passé" in past_part and "Atelier passé" not in upcoming
    assert "09:00 – 12:00" in upcoming  # in Paris time
    assert "14:00 – 15:00" in upcoming and "Indian/Reunion" in upcoming  # in Réunion time
    assert "Vous animez" in upcoming
    assert "/structure-b/agenda/events/" in response.get_data(as_text=True)
    assert upcoming.index("Permanence de A") < upcoming.index("Atelier que j'anime") < upcoming.index(
        "Atelier à la Réunion")


def test_my_agenda_runs_the_same_number_of_queries_whatever_the_commitments(client, login_as, tenant_a, tenant_b,
                                                                            count_queries):
    me = make_user(full_name="Marie Multi")
    make_membership(tenant_a, me, "trainer")
    make_membership(tenant_b, me, "trainer")
    room_a, room_b = make_room(tenant_a), make_room(tenant_b)
    login_as(me)
    start = datetime.combine(utcnow().date() + timedelta(days=3), time(8), UTC)

    def add(n: int, offset: int) -> None:
        for i in range(offset, offset + n):
            tenant, room = (tenant_a, room_a) if i % 2 else (tenant_b, room_b)
            make_event(tenant, "workshop", start + timedelta(hours=2 * i), ends_at=start + timedelta(hours=2 * i + 1),
                       room=room, trainer=me, title=f"Atelier {i}")

    def measure() -> int:
        with count_queries() as statements:
            assert client.get("/me/agenda").status_code == 200
        return len(statements)

    add(2, 0)
    few = measure()
    add(12, 2)
    assert measure() == few
    assert page_text(client.get("/me/agenda")).count('class="agenda-event') == 14
