"""Bad input, beyond the generated data of ``test_forms_fuzz.py``: fields a form
does not show, missing and stale CSRF tokens, forms sent twice, the request body
limit, NUL bytes and impossible ids anywhere in a request, and the person's
input kept when a form comes back with an error.

The world (structure A with one object of each kind, B for foreign ids) and the
form reading are those of ``test_forms_fuzz.py``.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from io import BytesIO
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.conftest import build_app
from tests.factories import csrf_token_in, flashes_in, make_site, page_text
from tests.impact.test_participation_services import attend, past_session
from tests.scheduling.factories import make_event, make_room
from tests.test_forms_fuzz import (
    PRESET,
    TOO_BIG,
    World,
    WriteWatch,
    actor_for,
    build_world,
    cases_for,
    changes,
    discover_forms,
    post,
    post_rules,
    sign_in_as,
    snapshot,
    url_of,
)
from tests.training.factories import make_module, make_qualification
from volunteer_platform.auth.models import Invitation, User
from volunteer_platform.extensions import db
from volunteer_platform.impact.models import SurveyResponse
from volunteer_platform.notifications.models import OutboxEmail
from volunteer_platform.scheduling.models import Closure, Enrolment, Event, Room
from volunteer_platform.tenants.models import Membership, Role
from volunteer_platform.training.models import Lesson, Question

A = "/structure-a"


@pytest.fixture
def world(tenant_a, tenant_b, coordinator_a, volunteer_a, supervisor) -> World:
    return build_world(tenant_a, tenant_b, coordinator_a, volunteer_a, supervisor)


def count(model: Any, *where: Any) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def table_rows(state: dict[str, set[tuple]], table: str, column: str) -> list[Any]:
    """The values of one column in a snapshot's rows of one table."""
    from tests.test_forms_fuzz import _columns

    index = [c.name for c in _columns(table)].index(column)
    return [row[index] for row in state[table]]


# --- a form never sets the fields it does not show -----------------------------------------------


def hidden_extras(w: World) -> dict[str, str]:
    """Fields that decide who owns what or who may do what, as an attacker would add them."""
    other_user = str(w.b_ids["user_id"])
    return {
        "role": "coordinator", "tenant_id": str(w.b.id), "tenant": w.b.slug, "tenant_slug": w.b.slug,
        "owner_id": str(w.b.id), "user_id": other_user, "is_supervisor": "1", "status": "published",
        "created_by_id": other_user, "recorded_by_id": other_user, "invited_by_id": other_user,
        "assigned_by_id": other_user, "is_correct": "1", "id": "1",
    }


def user_columns() -> list[tuple[str, str]]:
    """(table, column) of every column pointing at a person."""
    return [(table.name, column.name) for table in db.metadata.sorted_tables for column in table.columns
            if any(fk.column.table.name == "user_account" for fk in column.foreign_keys)]


def test_a_form_never_sets_fields_it_does_not_show(app, client, world):
    """Each form is posted filled in as a person would, plus fields it does not
    show (role, structure, owner, person, status…): the extra fields change nothing."""
    forms = discover_forms(app, client, world)
    extras = hidden_extras(world)
    foreign_user = world.b_ids["user_id"]
    problems, accepted = [], set()
    state = snapshot()
    supervisors = set(db.session.scalars(select(User.id).where(User.is_supervisor)))
    watch = WriteWatch(db.engine)
    for n, rule in enumerate(post_rules(app)):
        form = forms.get(rule.endpoint)
        if form is None:
            continue
        url, actor = url_of(rule, world), actor_for(app, rule.endpoint, world)
        data = cases_for(form, 900 + n, [], PRESET.get(rule.endpoint))[-1].data
        data += [(name, value) for name, value in extras.items() if name not in form.fields]
        sign_in_as(client, actor)
        with watch:
            response, error = post(client, url, data)
        after = snapshot() if watch.take() else state
        changed = changes(state, after)
        where = f"{rule.endpoint} {url}"
        if error is not None or response.status_code >= 500:
            problems.append(f"{where}: server error {error or response.status_code}")
        if changed:
            accepted.add(rule.endpoint)
        for name, rows in changed.items():
            if "tenant_id" in db.metadata.tables[name].columns:
                tenants = table_rows({name: rows}, name, "tenant_id")
                if world.b.id in tenants:
                    problems.append(f"{where}: a row of {name} now belongs to structure B")
        if "tenant" in changed and world.b.id in table_rows({"tenant": changed["tenant"]}, "tenant", "id"):
            problems.append(f"{where}: structure B was changed")
        now_supervisors = {uid for uid, flag in zip(table_rows(after, "user_account", "id"),
                                                    table_rows(after, "user_account", "is_supervisor"),
                                                    strict=True) if flag}
        if now_supervisors - supervisors:
            problems.append(f"{where}: someone became association staff")
        if "membership" in changed and "role" not in form.fields:
            before_roles = dict(zip(table_rows(state, "membership", "id"), table_rows(state, "membership", "role"),
                                    strict=True))
            for mid, role in zip(table_rows(changed, "membership", "id"), table_rows(changed, "membership", "role"),
                                 strict=True):
                if str(getattr(role, "value", role)) == "coordinator" and before_roles.get(mid) != role:
                    problems.append(f"{where}: membership {mid} became coordinator")
        for table, column in user_columns():
            if table in changed and foreign_user in table_rows(changed, table, column):
                problems.append(f"{where}: {table}.{column} points at a person of structure B")
        if not any(word in rule.endpoint for word in ("publish", "status")):
            for table in ("module", "learning_path"):
                if table in changed:
                    old = dict(zip(table_rows(state, table, "id"), table_rows(state, table, "status"), strict=True))
                    for tid, status in zip(table_rows(changed, table, "id"), table_rows(changed, table, "status"),
                                           strict=True):
                        if str(getattr(status, "value", status)) == "published" and old.get(tid) != status:
                            problems.append(f"{where}: {table} {tid} published by a hidden field")
        state = after
    assert not problems, "\n".join(problems)
    # The check means something only if the forms were accepted with the extra fields.
    expected = {"tenants.invitations", "tenants.site_new", "tenants.details",
                "scheduling.room_new", "scheduling.event_new", "scheduling.kits", "scheduling.closures",
                "scheduling.enrol", "impact.survey", "impact.report", "auth.accept_invitation", "auth.account",
                "training.author_module_new", "training.author_qualification_new", "training.author_path_new",
                "supervision.structure_new", "catalogue.author_module_new"}
    assert expected <= accepted, f"refused: {sorted(expected - accepted)}"


def test_an_invitation_decides_the_role_whatever_the_form_says(client, world):
    """The invitation page shows no role: a forged one does not make a coordinator."""
    response = client.post(f"/invitations/{world.tokens['invitation']}",
                           data={"full_name": "Nina Nouvelle", "password": "Cheval-Batterie-Agrafe-Correcte",
                                 "confirm": "Cheval-Batterie-Agrafe-Correcte", "role": "coordinator",
                                 "tenant_id": str(world.b.id), "is_supervisor": "1"})
    assert response.status_code == 302
    db.session.rollback()
    user = db.session.scalars(select(User).where(User.email == "nouvelle-a@example.org")).one()
    assert not user.is_supervisor
    memberships = db.session.scalars(select(Membership).where(Membership.user_id == user.id)).all()
    assert [(m.tenant_id, m.role) for m in memberships] == [(world.a.id, Role.VOLUNTEER)]


# --- CSRF ------------------------------------------------------------------------------------------


@pytest.fixture
def csrf_app(app, database_url):
    """The application as in production: every POST needs the token of the person's session."""
    protected = build_app(database_url, WTF_CSRF_ENABLED=True)
    yield protected
    with protected.app_context():
        db.engine.dispose()


def test_a_post_without_its_token_gets_a_french_400_and_changes_nothing(csrf_app, world):
    client = csrf_app.test_client()
    before = snapshot()
    for rule in post_rules(csrf_app):
        url = url_of(rule, world)
        sign_in_as(client, actor_for(csrf_app, rule.endpoint, world))
        response = client.post(url, data={"name": "Sans jeton", "email": "sans-jeton@example.org"})
        assert response.status_code == 400, (rule.endpoint, response.status_code)
        text = page_text(response)
        assert "Formulaire expiré" in text and "rechargez la page" in text, rule.endpoint
    assert changes(before, snapshot()) == {}


def test_a_stale_token_is_refused_and_the_fresh_one_works(csrf_app, world):
    client = csrf_app.test_client()
    coordinator = world.people.coordinator
    sign_in_as(client, coordinator)
    stale = csrf_token_in(client.get(f"{A}/sites/new"))
    sign_in_as(client, coordinator)  # a new session (signed out and in again): a new secret
    before = snapshot()
    response = client.post(f"{A}/sites/new", data={"csrf_token": stale, "name": "Lieu périmé", "address": "1 rue",
                                                   "postal_code": "62400", "city": "Lens"})
    assert response.status_code == 400
    assert "Formulaire expiré" in page_text(response)
    garbage = client.post(f"{A}/sites/new", data={"csrf_token": "pas-un-jeton", "name": "Lieu périmé"})
    assert garbage.status_code == 400
    assert changes(before, snapshot()) == {}

    fresh = csrf_token_in(client.get(f"{A}/sites/new"))
    response = client.post(f"{A}/sites/new", data={"csrf_token": fresh, "name": "Lieu frais", "address": "1 rue",
                                                   "postal_code": "62400", "city": "Lens"})
    assert response.status_code == 302
    assert "Lieu frais" in page_text(client.get(f"{A}/sites"))


def test_get_requests_never_need_a_token(csrf_app, world):
    client = csrf_app.test_client()
    checked = 0
    for rule in csrf_app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        url = url_of(rule, world)
        if url is None:
            continue
        sign_in_as(client, actor_for(csrf_app, rule.endpoint, world))
        response = client.get(url)
        checked += 1
        assert response.status_code != 400, (url, response.status_code)
        assert "Formulaire expiré" not in response.get_data(as_text=True), url
    assert checked > 60


# --- forms sent twice --------------------------------------------------------------------------------


def post_twice(client: Any, url: str, data: dict[str, str]) -> tuple[Any, Any]:
    return client.post(url, data=data), client.post(url, data=data)


def test_enrolling_twice_keeps_one_place_and_says_so(client, login_as, tenant_a, volunteer_a):
    event = make_event(tenant_a, "workshop", capacity=10, title="Atelier Alpha")
    login_as(volunteer_a)
    first, second = post_twice(client, f"{A}/agenda/events/{event.id}/enrol", {})
    assert first.status_code == 302
    assert second.status_code == 409
    assert "Vous êtes déjà inscrit(e)." in page_text(second)
    assert count(Enrolment, Enrolment.event_id == event.id, Enrolment.user_id == volunteer_a.id) == 1
    assert count(OutboxEmail, OutboxEmail.to_address == volunteer_a.email) == 1  # one confirmation


def test_inviting_twice_sends_one_invitation(client, login_as, coordinator_a):
    login_as(coordinator_a)
    first, second = post_twice(client, f"{A}/invitations", {"email": "deux-fois@example.org", "role": "volunteer"})
    assert first.status_code == 302
    assert second.status_code == 422
    assert "Une invitation est déjà en attente pour cette adresse" in page_text(second)
    assert count(Invitation, Invitation.email == "deux-fois@example.org") == 1
    assert count(OutboxEmail, OutboxEmail.to_address == "deux-fois@example.org") == 1


def test_creating_a_room_twice_makes_one_room(client, login_as, tenant_a, coordinator_a):
    site = make_site(tenant_a)
    login_as(coordinator_a)
    data = {"site_id": str(site.id), "name": "Salle bis", "capacity": "8", "is_active": "y"}
    first, second = post_twice(client, f"{A}/agenda/rooms/new", data)
    assert first.status_code == 302
    assert second.status_code == 422
    assert "Ce lieu a déjà une salle nommée « Salle bis »." in page_text(second)
    assert count(Room, Room.name == "Salle bis") == 1


def event_form(day: date, **fields: str) -> dict[str, str]:
    return {"kind": "workshop", "title": "Atelier envoyé deux fois", "description": "", "what_to_bring": "",
            "day": day.isoformat(), "starts_at": "14:00", "ends_at": "16:00", "room_id": "", "trainer_id": "",
            "module_id": "", "capacity": "", "required_qualification_id": "", "repeat": "none", **fields}


@pytest.mark.parametrize("repeat", ["none", "weekly"])
@pytest.mark.parametrize("with_room", [False, True])
def test_creating_an_event_twice_makes_one_event(client, login_as, tenant_a, coordinator_a, with_room, repeat):
    room = make_room(tenant_a, capacity=20) if with_room else None
    login_as(coordinator_a)
    data = event_form(date.today() + timedelta(days=9), room_id=str(room.id) if room else "", repeat=repeat,
                      interval="1", end_mode="count", count="3")
    first, second = post_twice(client, f"{A}/agenda/events/new", data)
    assert first.status_code == 302
    assert count(Event, Event.title == "Atelier envoyé deux fois") == (3 if repeat == "weekly" else 1)
    assert second.status_code == 302
    told = ("Cet événement est déjà dans l'agenda : le formulaire a sans doute été envoyé deux fois. "
            "Rien n'a été ajouté.")
    assert ("info", told) in flashes_in(client.get(second.headers["Location"]))


def test_an_identical_event_is_told_apart_from_a_cancelled_one(client, login_as, tenant_a, coordinator_a):
    """Recreating a cancelled event is not a double submission."""
    login_as(coordinator_a)
    data = event_form(date.today() + timedelta(days=9))
    assert client.post(f"{A}/agenda/events/new", data=data).status_code == 302
    event_id = db.session.scalars(select(Event.id).where(Event.title == "Atelier envoyé deux fois")).one()
    assert client.post(f"{A}/agenda/events/{event_id}/cancel", data={"scope": "one"}).status_code == 302
    assert client.post(f"{A}/agenda/events/new", data=data).status_code == 302
    assert count(Event, Event.title == "Atelier envoyé deux fois") == 2


def test_answering_a_survey_twice_keeps_the_first_answer(client, login_as, tenant_a, volunteer_a):
    session = past_session(tenant_a)
    attend(session, volunteer_a, by=session.trainer)
    login_as(volunteer_a)
    data = {"satisfaction": "4", "more_able_to_help": "yes", "at_ease_with_computer": "no", "comment": ""}
    first, second = post_twice(client, f"{A}/impact/sessions/{session.id}/survey", data)
    assert first.status_code == 302 and second.status_code == 302
    assert ("info", "Vous avez déjà répondu à ce questionnaire. Merci !") in flashes_in(
        client.get(second.headers["Location"]))
    assert count(SurveyResponse, SurveyResponse.event_id == session.id) == 1


# --- the request body limit -----------------------------------------------------------------------

SITE = {"name": "Lieu", "address": "1 rue de la Gare", "postal_code": "62400", "city": "Lens", "access_notes": ""}


def test_a_body_over_the_limit_gets_the_french_413_page_and_changes_nothing(app, client, login_as, coordinator_a):
    limit = app.config["MAX_CONTENT_LENGTH"]
    assert limit == 1024 * 1024
    login_as(coordinator_a)
    before = snapshot()
    for content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        response = client.post(f"{A}/sites/new", data={**SITE, "access_notes": "x" * limit},
                               content_type=content_type)
        assert response.status_code == 413, content_type
        text = page_text(response)
        assert "Envoi trop volumineux" in text and "Rien n'a été enregistré" in text
    assert changes(before, snapshot()) == {}
    # Just under the limit is an ordinary form (refused here for its overlong notes, not for its size).
    response = client.post(f"{A}/sites/new", data={**SITE, "access_notes": "x" * (limit // 2)})
    assert response.status_code == 422


def test_a_lesson_file_may_still_be_bigger_than_the_general_limit(client, login_as, tenant_a, coordinator_a):
    """The lesson pages raise the cap for their file (5 MB), above the 1 MiB of other forms."""
    module = make_module(tenant_a, publish=False)
    login_as(coordinator_a)
    data = {"title": "Leçon avec un gros fichier", "body": "", "resource_title": "Gros document",
            "file": (BytesIO(b"%PDF-1.4\n" + b"0" * (2 * 1024 * 1024)), "gros.pdf")}
    response = client.post(f"{A}/training/authoring/modules/{module.id}/versions/{module.versions[0].id}"
                           "/lessons/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 302


# --- NUL bytes and impossible ids, anywhere ----------------------------------------------------------


def test_a_nul_byte_in_any_field_is_refused_with_a_french_page(client, login_as, coordinator_a):
    login_as(coordinator_a)
    before = snapshot()
    for field, value in SITE.items():
        response = client.post(f"{A}/sites/new", data={**SITE, field: value + "\x00"})
        assert response.status_code == 400, field
        text = page_text(response)
        assert "Caractère non autorisé" in text and "Rien n'a été enregistré" in text
    assert changes(before, snapshot()) == {}
    assert client.post(f"{A}/sites/new", data=SITE).status_code == 302  # the same form without it


def test_a_nul_byte_in_the_address_or_a_file_name_is_a_400_not_a_crash(client, login_as, tenant_a, coordinator_a):
    login_as(coordinator_a)
    for url in ("/structure-a\x00/", "/structure-a%00/members", "/structure-a/members?role=%00",
                "/structure-a/members?%00=1", "/login?next=%00", "/verify/ABC%00DEF"):
        response = client.get(url)
        assert response.status_code == 400, url
        assert "Caractère non autorisé" in page_text(response), url
    module = make_module(tenant_a, publish=False)
    before = snapshot()
    response = client.post(
        f"{A}/training/authoring/modules/{module.id}/versions/{module.versions[0].id}/lessons/new",
        data={"title": "Leçon", "file": (BytesIO(b"%PDF-1.4\n"), "fiche\x00.pdf")},
        content_type="multipart/form-data")
    assert response.status_code == 400
    assert changes(before, snapshot()) == {}


def test_an_id_no_table_can_hold_is_a_404(client, login_as, coordinator_a):
    login_as(coordinator_a)
    for path in (f"/agenda/rooms/{TOO_BIG}", f"/agenda/events/{TOO_BIG}", f"/members/{TOO_BIG}",
                 "/agenda/events/2147483648", f"/agenda/events/{TOO_BIG}/cancel", "/sites/0"):
        assert client.get(A + path).status_code == 404, path
        assert client.post(A + path, data={"name": "x"}).status_code in (404, 405), path


# --- the person's input is kept --------------------------------------------------------------------


def selected(text: str, value: str) -> bool:
    return bool(re.search(rf'<option[^>]*\bselected\b[^>]*value="{value}"|<option[^>]*value="{value}"[^>]*\bselected\b',
                          text))


def test_an_event_form_with_an_error_keeps_what_was_typed(client, login_as, coordinator_a):
    login_as(coordinator_a)
    data = event_form(date.today() + timedelta(days=12), kind="shift", title="Permanence tablettes du jeudi",
                      description="Apporter sa tablette chargée", what_to_bring="Chargeur", capacity="3",
                      ends_at="13:00")  # before the start
    response = client.post(f"{A}/agenda/events/new", data=data)
    assert response.status_code == 422
    text = page_text(response)
    assert "La fin doit être après le début." in text
    assert 'value="Permanence tablettes du jeudi"' in text
    assert "Apporter sa tablette chargée</textarea>" in text and "Chargeur</textarea>" in text
    assert 'value="3"' in text and 'value="14:00"' in text and 'value="13:00"' in text
    assert f'value="{data["day"]}"' in text
    assert selected(text, "shift")


def test_an_invitation_with_an_error_keeps_what_was_typed(client, login_as, coordinator_a):
    login_as(coordinator_a)
    response = client.post(f"{A}/invitations", data={"email": "pas-une-adresse", "role": "trainer"})
    assert response.status_code == 422
    text = page_text(response)
    assert 'value="pas-une-adresse"' in text
    assert selected(text, "trainer")


def test_a_room_form_with_an_error_keeps_what_was_typed(client, login_as, tenant_a, coordinator_a):
    site = make_site(tenant_a, name="Médiathèque")
    login_as(coordinator_a)
    response = client.post(f"{A}/agenda/rooms/new", data={"site_id": str(site.id), "name": "Salle des tablettes",
                                                          "capacity": "beaucoup", "equipment": ["projector"],
                                                          "is_active": "y"})
    assert response.status_code == 422
    text = page_text(response)
    assert "Saisissez un nombre entier, par exemple 12." in text
    assert 'value="Salle des tablettes"' in text and 'value="beaucoup"' in text
    assert re.search(r'<input[^>]*checked[^>]*value="projector"|<input[^>]*value="projector"[^>]*checked', text)
    assert selected(text, str(site.id))
    response = client.post(f"{A}/agenda/rooms/new", data={"site_id": str(site.id), "name": "Salle des tablettes",
                                                          "capacity": "5000"})
    assert response.status_code == 422
    assert "Une salle compte au plus 1000 places." in page_text(response)
    assert count(Room) == 0


@pytest.mark.parametrize("reason", ["Erreur de saisie", ""])
def test_withdrawing_a_qualification_twice_says_it_is_already_done(client, login_as, tenant_a, coordinator_a,
                                                                   volunteer_a, reason):
    """The second post finds no form to show its errors in: the page says why, nothing changes."""
    from volunteer_platform.db import utcnow
    from volunteer_platform.training import services as training
    from volunteer_platform.training.models import QualificationAward

    qualification = make_qualification(tenant_a, name="Accueil numérique")
    award = training.record_external_qualification(tenant_a, volunteer_a, qualification,
                                                   obtained_on=utcnow() - timedelta(days=3), note="Ailleurs",
                                                   recorded_by=coordinator_a, now=utcnow())
    db.session.commit()
    membership_id = db.session.scalars(select(Membership.id).where(Membership.user_id == volunteer_a.id)).one()
    login_as(coordinator_a)
    url = f"{A}/training/people/{membership_id}/awards/{award.id}/withdraw"
    first = client.post(url, data={f"award-{award.id}-reason": "Obtenue par erreur"})
    assert first.status_code == 302
    client.get(first.headers["Location"])  # (its success message shown)
    before = snapshot()
    response = client.post(url, data={f"award-{award.id}-reason": reason})
    assert response.status_code in (409, 422)
    messages = [text for _, text in flashes_in(response)]
    assert len(messages) == 1 and "déjà" in messages[0] and "retirée" in messages[0]
    assert changes(before, snapshot()) == {}
    db.session.rollback()
    assert db.session.get(QualificationAward, award.id).withdrawal_reason == "Obtenue par erreur"


def test_closing_a_place_twice_makes_one_closure(client, login_as, tenant_a, coordinator_a):
    site = make_site(tenant_a)
    login_as(coordinator_a)
    day = (date.today() + timedelta(days=12)).isoformat()
    data = {"place": f"site:{site.id}", "starts_on": day, "ends_on": day, "reason": "Inventaire annuel"}
    first, second = post_twice(client, f"{A}/agenda/closures", data)
    assert first.status_code == second.status_code == 302
    assert count(Closure, Closure.reason == "Inventaire annuel") == 1
    # Another reason the same day is another closure.
    assert client.post(f"{A}/agenda/closures", data={**data, "reason": "Travaux"}).status_code == 302
    assert count(Closure, Closure.site_id == site.id) == 2


def test_adding_a_lesson_or_a_question_twice_adds_it_once(client, login_as, tenant_a, coordinator_a):
    from tests.training.test_authoring_views import question_form

    module = make_module(tenant_a, publish=False, lessons=0, questions=0, title="Module envoyé deux fois")
    version_url = f"{A}/training/authoring/modules/{module.id}/versions/{module.versions[0].id}"
    login_as(coordinator_a)
    lesson = {"title": "Une leçon", "body": "Le même texte."}
    assert [r.status_code for r in post_twice(client, f"{version_url}/lessons/new", lesson)] == [302, 302]
    assert [r.status_code for r in post_twice(client, f"{version_url}/questions/new", question_form())] == [302, 302]
    assert count(Lesson, Lesson.title == "Une leçon") == 1
    assert count(Question, Question.prompt == "Quel bouton utiliser ?") == 1
    # The same title with another text is another lesson.
    assert client.post(f"{version_url}/lessons/new", data={**lesson, "body": "Autre texte."}).status_code == 302
    assert count(Lesson, Lesson.title == "Une leçon") == 2
