"""Every form of the application, found automatically, fed bad data.

The test walks ``app.url_map`` for the rules that accept POST and posts to each
as the least privileged person who may use it (volunteer, trainer or
coordinator of structure A, association staff, or nobody for the public
forms), with real ids of A's objects (``build_world``). The fields come from
the forms themselves, read as a browser reads them: every page of the world is
fetched and each POST form found is filed under the endpoint it posts to; a
POST rule whose form no page shows fails the test unless ``NOT_SHOWN`` says why.

Each form is filled in plausibly, then each field in turn gets what people and
robots send — malformed dates ("2026-02-30", "demain", ""), times, huge
strings (100 000 characters), unknown choices, ids of structure B's objects,
negative, huge and non-numbers; the whole form also gets NUL bytes in every
text, two values per field, its required fields missing, the end before the
start, and B's ids (or impossible ones) in the address. The valid filled form
goes last, so that forms answered once (a survey, an invitation link) judge the
bad values first.

The answer must never be a 500 (or an exception). A refusal must be a 4xx, or
the form again (200/422) with its message, and leave every row as it was (but
the audit log, see ``NOT_COMPARED_TABLES``). An accepted input must leave the
database sane (no NUL byte, no text longer than its column, no end before its
start), and an input no reading can make valid (a date that does not exist, a
choice not offered, text over the ``maxlength`` the page announces, a number
over its ``max``) must not be accepted. A last test lets hypothesis choose the
values for a few rich forms.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from html.parser import HTMLParser
from typing import Any, Self

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import BigInteger, String, event, select

from tests.factories import (
    PASSWORD,
    make_invitation,
    make_member,
    make_membership,
    make_site,
    make_tenant,
    make_user,
)
from tests.impact.test_participation_services import attend, past_session, past_shift
from tests.scheduling.factories import enrol_in, make_event, make_kit, make_room
from tests.training.factories import complete_module, make_module, make_path, make_qualification
from volunteer_platform.auth.models import User
from volunteer_platform.auth.permissions import AccessRule
from volunteer_platform.db import utcnow
from volunteer_platform.extensions import db
from volunteer_platform.tenants.models import Membership, Role, Tenant

A = "structure-a"

# --- the world: a few objects of each kind in A (and in B, for foreign ids) ----------------------


@dataclass
class People:
    coordinator: User
    trainer: User
    volunteer: User
    member: Membership  # the subject of member pages (deactivated, anonymised… by the test)
    other: Membership  # enrolled in the event, removed by the test


@dataclass
class World:
    a: Tenant
    b: Tenant
    c: Tenant  # the structure the supervision pages act on (deactivating A would end the test)
    supervisor: User
    account: User  # the signed-in person of account pages (may erase itself)
    people: People
    ids: dict[str, int]  # URL converter name -> id of one of A's objects
    endpoint_ids: dict[str, dict[str, int]]  # per endpoint, where one id does not fit all
    b_ids: dict[str, int]  # the same kinds in B
    tokens: dict[str, str] = field(default_factory=dict)  # invitation and password-reset links
    # Pages to read forms from, besides every GET rule with the ids above: (endpoint, ids).
    more_pages: list[tuple[str, dict[str, int]]] = field(default_factory=list)


def build_world(tenant_a: Tenant, tenant_b: Tenant, coordinator_a: User, volunteer_a: User,
                supervisor: User) -> World:
    from volunteer_platform.auth import services as auth_services
    from volunteer_platform.calendars import external
    from volunteer_platform.scheduling import services as scheduling
    from volunteer_platform.training import services as training

    now = utcnow()
    tenant_c = make_tenant(slug="structure-c", name="Structure C")
    trainer = make_member(tenant_a, "trainer", full_name="Théa Formatrice", email="thea@example.org")
    site = make_site(tenant_a, name="Lieu Alpha")
    room = make_room(tenant_a, site, capacity=10, name="Salle Alpha")
    kit = make_kit(tenant_a, "Valise Alpha")
    closure = scheduling.create_closure(tenant_a, site_id=site.id, starts_on=date.today() + timedelta(days=60),
                                        ends_on=date.today() + timedelta(days=61), reason="Travaux")
    db.session.commit()
    member = make_membership(tenant_a, make_user(full_name="Anne Alpha", email="anne@example.org"),
                             Role.VOLUNTEER, site_id=site.id)
    other = make_membership(tenant_a, make_user(full_name="Oscar Alpha", email="oscar@example.org"),
                            Role.VOLUNTEER)
    account = make_member(tenant_a, "volunteer", full_name="Paul Compte", email="paul@example.org")

    # Training: a shared module (to learn from and copy), A's own draft module, a path.
    qualification = make_qualification(tenant_a, name="Qualification Alpha")
    shared = make_module(None, title="Module partagé", lessons=2, questions=1)
    shared_draft = make_module(None, title="Brouillon partagé", lessons=3, questions=2, publish=False,
                               resource=("fiche.pdf", b"%PDF-1.4\n% fiche\n"))
    own = make_module(tenant_a, title="Module Alpha", lessons=3, questions=2, publish=False,
                      resource=("fiche.pdf", b"%PDF-1.4\n% fiche\n"))
    own_published = make_module(tenant_a, title="Module Alpha publié", lessons=1, questions=1,
                                requires_attendance=True, qualification=qualification)
    own_plain = make_module(tenant_a, title="Module Alpha sans brouillon", lessons=1, questions=0)
    shared_plain = make_module(None, title="Module partagé sans brouillon", lessons=1, questions=0)
    path = make_path(tenant_a, [own_published], title="Parcours Alpha")
    training.editable_version(own_published, tenant_a, now=now)  # a draft to discard
    training.editable_version(shared, None, now=now)
    db.session.commit()
    shared_path = make_path(None, [shared], title="Parcours partagé", publish=False)
    complete_module(volunteer_a, shared, tenant_a)
    attestation = training.issue_attestation(tenant_a, member.user, now=now,
                                             module_version=shared.versions[0])
    award = training.record_external_qualification(tenant_a, member.user, qualification,
                                                   obtained_on=now - timedelta(days=30),
                                                   note="Obtenue ailleurs", recorded_by=coordinator_a, now=now)
    db.session.commit()
    from volunteer_platform.training.services import assign

    assign(tenant_a, [volunteer_a], path=path, module=None, due_on=None, assigned_by=None, now=now)
    db.session.commit()

    # Agenda: a workshop to enrol in, a session of the trainer, past ones to survey and report on.
    workshop = make_event(tenant_a, "workshop", now + timedelta(days=3), room=room, capacity=10,
                          title="Atelier Alpha")
    place = enrol_in(workshop, other.user)
    session = make_event(tenant_a, "training_session", now + timedelta(days=4), trainer=trainer,
                         module=own_published, capacity=8, title="Séance Alpha")
    enrol_in(session, member.user)
    to_cancel = make_event(tenant_a, "workshop", now + timedelta(days=5), capacity=10, title="Atelier à annuler")
    enrol_in(to_cancel, volunteer_a)  # (the "cancel my place" form)
    past = past_session(tenant_a, trainer=trainer, title="Séance passée Alpha", module=shared)
    attend(past, volunteer_a, by=trainer)
    shift = past_shift(tenant_a, hours_ago=30, title="Permanence Alpha")
    attend(shift, volunteer_a, by=coordinator_a)
    calendar = external.add_calendar(tenant_a, name="Agenda de la mairie", url="http://127.0.0.1:9/agenda.ics",
                                     room_id=room.id, now=now)
    db.session.commit()

    invitation = make_invitation(tenant_a, "invitee-a@example.org", invited_by=coordinator_a)
    _, invitation_token = auth_services.invite(
        tenant_a, "nouvelle-a@example.org", Role.VOLUNTEER, invited_by=coordinator_a, now=now,
        ttl=timedelta(days=14), base_url="")
    reset_user = make_user(email="oubli@example.org", full_name="Odile Oubli")
    make_membership(tenant_a, reset_user, Role.VOLUNTEER)
    reset_token, reset_hash = auth_services.new_token()
    from volunteer_platform.auth.models import PasswordReset

    db.session.add(PasswordReset(user_id=reset_user.id, token_hash=reset_hash, created_at=now,
                                 expires_at=now + timedelta(hours=1)))
    db.session.commit()
    from flask import current_app

    from volunteer_platform.calendars import services as calendar_services

    calendar_services.issue_token(account, secret_key=current_app.config["SECRET_KEY"], now=now)
    db.session.commit()

    own_draft_version = max(own.versions, key=lambda v: v.number)
    shared_draft_version = max(shared_draft.versions, key=lambda v: v.number)
    ids = {
        "site_id": site.id, "room_id": room.id, "kit_id": kit.id, "closure_id": closure.id,
        "event_id": workshop.id, "enrolment_id": place.id, "calendar_id": calendar.id,
        "membership_id": member.id, "invitation_id": invitation.id,
        "module_id": own.id, "version_id": own_draft_version.id, "lesson_id": own_draft_version.lessons[0].id,
        "question_id": own_draft_version.questions[0].id,
        "resource_id": own_draft_version.lessons[0].resources[0].id,
        "path_id": path.id, "attestation_id": attestation.id, "award_id": award.id,
        "tenant_id": tenant_c.id,
    }
    catalogue = {
        "module_id": shared_draft.id, "version_id": shared_draft_version.id,
        "lesson_id": shared_draft_version.lessons[0].id, "question_id": shared_draft_version.questions[0].id,
        "resource_id": shared_draft_version.lessons[0].resources[0].id, "path_id": shared_path.id,
    }
    endpoint_ids: dict[str, dict[str, int]] = {
        "scheduling.attendance": {"event_id": past.id},
        "scheduling.event_cancel": {"event_id": to_cancel.id},
        # Deleting removes the object: another one than the pages to edit.
        "training.author_lesson_delete": {"lesson_id": own_draft_version.lessons[-1].id},
        "training.author_question_delete": {"question_id": own_draft_version.questions[-1].id},
        "catalogue.author_lesson_delete": {"lesson_id": shared_draft_version.lessons[-1].id},
        "catalogue.author_question_delete": {"question_id": shared_draft_version.questions[-1].id},
        "training.author_copy": {"module_id": shared.id},
        "training.quiz": {"module_id": shared.id},
        "training.lesson_done": {"module_id": shared.id, "lesson_id": shared.versions[0].lessons[0].id},
        "training.person_record_attendance": {"module_id": own_published.id},
        "impact.survey": {"event_id": past.id},
        "impact.report": {"event_id": shift.id},
        "training.author_path": {"path_id": path.id},
        "training.author_module_edit": {"module_id": own_plain.id},
        "training.author_discard": {"module_id": own_published.id},
        "catalogue.author_module_edit": {"module_id": shared_plain.id},
        "catalogue.author_discard": {"module_id": shared.id},
    }
    for endpoint in ("author_lesson", "author_lesson_move", "author_archive", "author_publish", "author_version",
                     "author_lesson_new", "author_question_new", "author_path", "author_path_status", "author_question",
                     "author_question_move", "author_resource_delete", "author_module", "author_preview",
                     "author_resource"):
        endpoint_ids.setdefault(f"catalogue.{endpoint}", {}).update(catalogue)
    for endpoint in ("module", "module_print", "lesson"):  # what volunteers learn from
        endpoint_ids[f"training.{endpoint}"] = {"module_id": shared.id,
                                                "lesson_id": shared.versions[0].lessons[0].id}

    # B: one object of each kind, whose ids A must never reach.
    site_b = make_site(tenant_b, name="MARQUEUR-B-SITE")
    room_b = make_room(tenant_b, site_b, name="MARQUEUR-B-SALLE")
    kit_b = make_kit(tenant_b, "MARQUEUR-B-VALISE")
    member_b = make_membership(tenant_b, make_user(full_name="MARQUEUR-B-PERSONNE"), Role.VOLUNTEER)
    trainer_b = make_member(tenant_b, "trainer", full_name="MARQUEUR-B-FORMATEUR")
    qualification_b = make_qualification(tenant_b, name="MARQUEUR-B-QUALIFICATION")
    module_b = make_module(tenant_b, title="MARQUEUR-B-MODULE", lessons=1, questions=1)
    path_b = make_path(tenant_b, [module_b], title="MARQUEUR-B-PARCOURS")
    event_b = make_event(tenant_b, "workshop", now + timedelta(days=3), room=room_b, capacity=5,
                         title="MARQUEUR-B-ATELIER")
    place_b = enrol_in(event_b, member_b.user)
    closure_b = scheduling.create_closure(tenant_b, room_id=room_b.id, starts_on=date.today() + timedelta(days=60),
                                          ends_on=date.today() + timedelta(days=61), reason="MARQUEUR-B")
    calendar_b = external.add_calendar(tenant_b, name="MARQUEUR-B-CALENDRIER", url="http://127.0.0.1:9/b.ics",
                                       room_id=room_b.id, now=now)
    draft_b = make_module(tenant_b, title="MARQUEUR-B-BROUILLON", lessons=1, questions=1, publish=False,
                          resource=("fiche.pdf", b"%PDF-1.4\n% fiche\n"))
    attestation_b = training.issue_attestation(tenant_b, member_b.user, now=now,
                                               module_version=module_b.versions[0])
    award_b = training.record_external_qualification(tenant_b, member_b.user, qualification_b,
                                                     obtained_on=now - timedelta(days=30), note="MARQUEUR-B",
                                                     recorded_by=trainer_b, now=now)
    db.session.commit()
    invitation_b = make_invitation(tenant_b, "marqueur-b@example.org")
    version_b = draft_b.versions[0]
    b_ids = {
        "site_id": site_b.id, "room_id": room_b.id, "kit_id": kit_b.id, "membership_id": member_b.id,
        "user_id": member_b.user_id, "trainer_id": trainer_b.id, "qualification_id": qualification_b.id,
        "module_id": module_b.id, "path_id": path_b.id, "event_id": event_b.id, "enrolment_id": place_b.id,
        "closure_id": closure_b.id, "calendar_id": calendar_b.id, "invitation_id": invitation_b.id,
        "version_id": version_b.id, "lesson_id": version_b.lessons[0].id, "question_id": version_b.questions[0].id,
        "resource_id": version_b.lessons[0].resources[0].id, "attestation_id": attestation_b.id,
        "award_id": award_b.id,
    }
    return World(
        a=tenant_a, b=tenant_b, c=tenant_c, supervisor=supervisor, account=account,
        people=People(coordinator_a, trainer, volunteer_a, member, other),
        ids=ids, endpoint_ids=endpoint_ids, b_ids=b_ids,
        tokens={"invitation": invitation_token, "reset": reset_token},
        more_pages=[("training.author_module", {"module_id": own_published.id}),
                    ("training.author_module", {"module_id": own_plain.id}),
                    ("catalogue.author_module", {"module_id": shared.id}),
                    ("catalogue.author_module", {"module_id": shared_plain.id})],
    )


# --- reading forms as a browser does -------------------------------------------------------------


@dataclass
class FormField:
    name: str
    kind: str  # text, textarea, date, time, datetime-local, number, email, url, select, radio,
    #            checkbox, hidden, file, password, button…
    sent: list[str] = field(default_factory=list)  # what a browser sends for the form as shown
    options: list[str] = field(default_factory=list)  # the values offered (select, radio, checkbox)
    multiple: bool = False
    attrs: dict[str, str] = field(default_factory=dict)  # required, min, max, maxlength…


@dataclass
class Form:
    action: str
    fields: dict[str, FormField] = field(default_factory=dict)

    def baseline(self) -> list[tuple[str, str]]:
        """The submission a browser makes of the form as shown."""
        return [(f.name, value) for f in self.fields.values() if f.kind != "file" for value in f.sent]


class _FormParser(HTMLParser):
    """The POST forms of a page, with their fields (enough HTML for our own templates)."""

    def __init__(self, page_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: FormField | None = None
        self._option: dict[str, Any] | None = None
        self._textarea: FormField | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            if a.get("method", "get").lower() == "post":
                self._form = Form(action=(a.get("action") or self.page_url).split("#")[0])
            return
        form = self._form
        name = a.get("name")
        if form is None:
            return
        if tag == "option" and self._select is not None:
            self._option = {"value": a.get("value"), "selected": "selected" in a, "text": ""}
        elif tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind in ("submit", "image", "reset", "button"):
                if "value" in a and kind == "submit" and name not in form.fields:
                    form.fields[name] = FormField(name, "button", [a["value"]])
                return
            if kind in ("checkbox", "radio"):
                f = form.fields.setdefault(name, FormField(name, kind, multiple=kind == "checkbox", attrs=a))
                value = a.get("value", "on")
                f.options.append(value)
                if "checked" in a:
                    f.sent = [value] if kind == "radio" else [*f.sent, value]
                return
            form.fields.setdefault(name, FormField(name, kind, [a.get("value", "")], attrs=a))
        elif tag == "textarea" and name:
            self._textarea = form.fields.setdefault(name, FormField(name, "textarea", [""], attrs=a))
        elif tag == "select" and name:
            self._select = form.fields.setdefault(name, FormField(name, "select", multiple="multiple" in a,
                                                                  attrs=a))
        elif tag == "button" and name and name not in form.fields:
            form.fields[name] = FormField(name, "button", [a.get("value", "")])

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea.sent[0] += data
        elif self._option is not None:
            self._option["text"] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None
        elif tag == "textarea" and self._textarea is not None:
            # A browser drops the line break that opens a textarea.
            text = self._textarea.sent[0]
            self._textarea.sent[0] = text.removeprefix("\r\n") if text.startswith("\r\n") else text.removeprefix("\n")
            self._textarea = None
        elif tag == "option" and self._select is not None and self._option is not None:
            option = self._option
            value = option["value"] if option["value"] is not None else option["text"].strip()
            self._select.options.append(value)
            if option["selected"]:
                self._select.sent = [*self._select.sent, value] if self._select.multiple else [value]
            self._option = None
        elif tag == "select" and self._select is not None:
            if not self._select.sent and not self._select.multiple and self._select.options:
                self._select.sent = [self._select.options[0]]
            self._select = None


def forms_in(page_url: str, body: str) -> list[Form]:
    parser = _FormParser(page_url)
    parser.feed(body)
    return parser.forms


# --- who posts where -----------------------------------------------------------------------------

CONVERTER = re.compile(r"<(?:(?:int|string|path):)?(?:any\(([^)]*)\):)?([a-z_]+)>")


def access_rule(app: Flask, endpoint: str) -> AccessRule:
    rule = getattr(app.view_functions[endpoint], "access_rule", None)
    assert rule is not None, f"{endpoint} declares no access rule"
    return rule


def actor_for(app: Flask, endpoint: str, world: World) -> User | None:
    """The least privileged person who may use the page: the forms they see are the ones to test."""
    rule = access_rule(app, endpoint)
    if rule.kind == "public":
        return None
    if rule.kind == "supervisor":
        return world.supervisor
    if rule.kind == "login":
        return world.account
    people = world.people
    if endpoint == "scheduling.attendance":
        return people.trainer  # the session's own trainer
    for role, person in ((Role.VOLUNTEER, people.volunteer), (Role.TRAINER, people.trainer),
                         (Role.COORDINATOR, people.coordinator)):
        if role in rule.roles:
            return person
    raise AssertionError(f"no actor for {endpoint}")


def url_of(rule: Any, world: World, **replaced: Any) -> str | None:
    """The rule's address with A's real ids (or the ``replaced`` ones); None when
    a part cannot be filled (a download code…)."""
    overrides = {**world.endpoint_ids.get(rule.endpoint, {}), **replaced}
    missing = False

    def value(match: re.Match) -> str:
        nonlocal missing
        choices, name = match.group(1), match.group(2)
        if choices:
            return choices.split(",")[0].strip().strip("'\"")
        if name == "tenant_slug":
            return world.a.slug
        if name in overrides:
            return str(overrides[name])
        if name in world.ids:
            return str(world.ids[name])
        if name == "token":
            return world.tokens["reset" if "reset" in rule.endpoint else "invitation"]
        missing = True
        return "x"

    url = CONVERTER.sub(value, rule.rule)
    return None if missing else url


def session_token(user: User) -> str:
    db.session.rollback()
    return db.session.scalar(select(User.session_token).where(User.id == user.id))


def sign_in_as(client: Any, user: User | None, token: str | None = None) -> None:
    """Sign ``user`` in (with their current session token: signing out changes it), or sign out."""
    with client.session_transaction() as session:
        session.clear()
        if user is not None:
            session["_user_id"] = token or session_token(user)
            session["_fresh"] = True


def html_page(response: Any) -> bool:
    return response.mimetype == "text/html"


def discover_forms(app: Flask, client: Any, world: World) -> dict[str, Form]:
    """Every POST form shown on the pages of the world, keyed by the endpoint it posts to."""
    from werkzeug.exceptions import HTTPException

    adapter = app.url_map.bind("localhost")
    found: dict[str, Form] = {}
    pages = [(rule, url_of(rule, world)) for rule in app.url_map.iter_rules()
             if "GET" in rule.methods and rule.endpoint != "static"]
    pages += [(rule, url_of(rule, world, **ids)) for endpoint, ids in world.more_pages
              for rule in app.url_map.iter_rules(endpoint)]
    for rule, url in pages:
        if url is None:
            continue
        viewers = [actor_for(app, rule.endpoint, world)]
        if rule.rule.startswith("/<tenant_slug>/"):
            viewers.append(world.people.coordinator)  # who sees the most buttons
        for viewer in dict.fromkeys(viewers):
            sign_in_as(client, viewer)
            response = client.get(url)
            if response.status_code == 200 and html_page(response):
                for form in forms_in(url, response.get_data(as_text=True)):
                    try:
                        endpoint, _ = adapter.match(form.action.split("?")[0], method="POST")
                    except HTTPException:
                        continue
                    found.setdefault(endpoint, form)
    return found


# --- the database before and after ---------------------------------------------------------------

# Rows that may change on a refused request, and why.
NOT_COMPARED_TABLES = {
    # The audit log records who looked at personal data, refused requests included (a
    # coordinator who opens a member's page and posts a bad form did see the page).
    "audit_entry",
    # Rate-limit counters count attempts, refused ones first of all.
    "rate_limit_counter",
}
NOT_COMPARED_COLUMNS = {
    # Set when someone signs in, whatever the form they post next.
    ("user_account", "last_login_at"),
}


def _hashable(value: Any) -> Any:
    if isinstance(value, (dict, list)):  # JSON columns
        return json.dumps(value, sort_keys=True, default=str)
    return value


def snapshot() -> dict[str, set[tuple]]:
    """Every row of every table (but the ones above), read fresh."""
    db.session.rollback()
    state: dict[str, set[tuple]] = {}
    for table in db.metadata.sorted_tables:
        if table.name in NOT_COMPARED_TABLES:
            continue
        columns = [c for c in table.columns if (table.name, c.name) not in NOT_COMPARED_COLUMNS]
        state[table.name] = {tuple(_hashable(v) for v in row) for row in db.session.execute(select(*columns))}
    db.session.rollback()
    return state


WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


class WriteWatch:
    """Whether the database was written to since the last look: a request that
    wrote nothing changed nothing, and the rows need not be read again."""

    def __init__(self, engine: Any) -> None:
        self.engine, self.wrote = engine, False

    def _seen(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if WRITE.match(statement):
            self.wrote = True

    def __enter__(self) -> Self:
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)

    def take(self) -> bool:
        wrote, self.wrote = self.wrote, False
        return wrote


def changes(before: dict[str, set[tuple]], after: dict[str, set[tuple]]) -> dict[str, set[tuple]]:
    """The rows added or modified, per table."""
    return {name: rows - before[name] for name, rows in after.items() if rows != before[name]}


def _columns(table_name: str) -> list[Any]:
    table = db.metadata.tables[table_name]
    return [c for c in table.columns if (table_name, c.name) not in NOT_COMPARED_COLUMNS]


ORDERED_PAIRS = [("starts_at", "ends_at"), ("starts_on", "ends_on"), ("opens_at", "closes_at"),
                 ("period_start", "period_end")]


def insane(changed: dict[str, set[tuple]]) -> list[str]:
    """What no accepted input may leave in the database: NUL bytes, text longer
    than its column, an end before its start, integers no column can hold."""
    found = []
    for name, rows in changed.items():
        columns = _columns(name)
        names = [c.name for c in columns]
        for row in rows:
            values = dict(zip(names, row, strict=True))
            for column in columns:
                value = values[column.name]
                if isinstance(value, str):
                    if "\x00" in value:
                        found.append(f"{name}.{column.name} holds a NUL byte")
                    length = getattr(column.type, "length", None)
                    if isinstance(column.type, String) and length and len(value) > length:
                        found.append(f"{name}.{column.name} holds {len(value)} characters (at most {length})")
                elif (isinstance(value, int) and not isinstance(value, bool)
                      and abs(value) >= (2**63 if isinstance(column.type, BigInteger) else 2**31)):
                    found.append(f"{name}.{column.name} holds {value}")
            for start, end in ORDERED_PAIRS:
                if values.get(start) is not None and values.get(end) is not None and values[end] < values[start]:
                    found.append(f"{name}: {end} before {start}")
    return found


# --- bad data ------------------------------------------------------------------------------------

HUGE = "x" * 100_000
TOO_BIG = "99999999999999999999"
TEXT_KINDS = {"text", "textarea", "email", "url", "tel", "search", "password", "hidden"}
BOOLEAN_VALUES = {"y", "on", "1", "true"}


FILLED = "formulaire rempli"


@dataclass
class Case:
    label: str
    data: list[tuple[str, str]]
    must_refuse: bool  # no reading of this input can be valid


PAST_DATES = ("attended", "obtained")


def _fill(f: FormField, n: int, today: date) -> list[str]:
    """A plausible value for a field the page shows empty (so that the rest of
    the form is valid and each bad value is judged on its own)."""
    if f.sent and f.sent != [""]:
        return f.sent
    name = f.name.lower()
    if f.kind in ("select", "radio"):
        # Optional lists stay as shown (five "module" lists filled alike would repeat a module),
        # but the first of a numbered series.
        choices = [o for o in f.options if o]
        wanted = "required" in f.attrs or f.kind == "radio" or name.endswith("-0")
        return choices[:1] if choices and wanted else f.sent
    if f.kind in ("checkbox", "button", "hidden", "file"):
        return f.sent
    if f.kind == "email" or "email" in name:
        return [f"essai{n}@example.org"]
    if f.kind == "url" or name.endswith("url"):
        return [f"https://calendrier.example.org/{n}.ics"]
    if f.kind == "date":
        if any(word in name for word in PAST_DATES):
            return [(today - timedelta(days=10)).isoformat()]
        return [(today + timedelta(days=20 + (5 if "end" in name or "until" in name else 0))).isoformat()]
    if f.kind == "time":
        afternoon = name.endswith("2")  # a second opening slot
        closing = "end" in name or "closes" in name
        return [{(False, False): "09:00", (False, True): "12:00", (True, False): "14:00",
                 (True, True): "17:00"}[afternoon, closing]]
    if f.kind == "number":
        low = f.attrs.get("min")
        return [str(max(int(float(low)) if low else 1, 2))]
    if f.kind == "password" or "password" in name or "confirm" in name:
        return ["Cheval-Batterie-Agrafe-Correcte"]
    if "slug" in name:
        return [f"essai-{n}"]
    if "postal_code" in name:
        return ["62400"]
    if "phone" in name:
        return ["03 21 00 00 00"]
    return [f"Essai {n} {name}"[:60]]


def filled(form: Form, n: int) -> list[tuple[str, str]]:
    today = date.today()
    return [(f.name, value) for f in form.fields.values() if f.kind != "file" for value in _fill(f, n, today)]


def _with(data: list[tuple[str, str]], name: str, values: Iterable[str]) -> list[tuple[str, str]]:
    """``data`` with ``name`` replaced by ``values`` (at its place, or at the end)."""
    out: list[tuple[str, str]] = []
    placed = False
    for key, value in data:
        if key == name:
            if not placed:
                out.extend((name, v) for v in values)
                placed = True
        else:
            out.append((key, value))
    if not placed:
        out.extend((name, v) for v in values)
    return out


def _is_boolean(f: FormField) -> bool:
    return f.kind == "checkbox" and len(f.options) == 1 and f.options[0].lower() in BOOLEAN_VALUES


def bad_values(f: FormField, foreign_ids: list[int]) -> list[tuple[str, list[str], bool]]:
    """(label, values, must be refused) for one field. (NUL bytes and several
    values for one field are tried on the whole form at once, see ``cases_for``.)"""
    required = "required" in f.attrs
    cases: list[tuple[str, list[str], bool]] = []
    if f.kind in TEXT_KINDS - {"hidden"}:
        limit = f.attrs.get("maxlength")
        too_long = (limit is not None and len(HUGE) > int(limit)) or f.kind in ("email", "url")
        cases.append(("100 000 caractères", [HUGE], too_long))
        if required:
            cases.append(("vide", [""], True))
    elif f.kind == "hidden" and f.name != "csrf_token":
        cases += [("id d'une autre structure", [str(i) for i in foreign_ids[:1]], False),
                  ("adresse extérieure", ["https://pirate.example/"], False)]
    elif f.kind in ("date", "datetime-local"):
        suffix = "T10:00" if f.kind == "datetime-local" else ""
        cases += [("date « 2026-02-30 »", ["2026-02-30" + suffix], True), ("date « demain »", ["demain"], True)]
        if required:
            cases.append(("date vide", [""], True))
    elif f.kind == "time":
        cases += [("heure « 25:61 »", ["25:61"], True), ("heure « midi »", ["midi"], True)]
        if required:
            cases.append(("heure vide", [""], True))
    elif f.kind == "number":
        low, high = f.attrs.get("min"), f.attrs.get("max")
        cases += [
            ("-1", ["-1"], low is not None and float(low) > -1),
            ("énorme", [TOO_BIG], True),
            ("pas un nombre", ["beaucoup"], True),
        ]
        if high is not None:
            cases.append(("au-dessus du maximum", [str(int(float(high)) + 1)], True))
        if required:
            cases.append(("vide", [""], True))
    elif f.kind in ("select", "radio") or (f.kind == "checkbox" and not _is_boolean(f)):
        cases += [("choix inconnu", ["valeur-inconnue"], True), ("id énorme", [TOO_BIG], True)]
        cases += [(f"id {i} d'une autre structure", [i], True)
                  for i in [str(i) for i in foreign_ids if str(i) not in f.options][:1]]
    return cases


START_END = [("start", "end"), ("starts", "ends"), ("opens", "closes"), ("from", "until")]


def start_end_pairs(form: Form) -> list[tuple[FormField, FormField]]:
    pairs = []
    for f in form.fields.values():
        if f.kind not in ("date", "time", "datetime-local"):
            continue
        for start, end in START_END:
            if start in f.name:
                other = form.fields.get(f.name.replace(start, end))
                if other is not None and other.kind == f.kind:
                    pairs.append((f, other))
                break
    return pairs


def cases_for(form: Form, n: int, foreign_ids: list[int], preset: dict[str, str] | None = None) -> list[Case]:
    """One bad value at a time in the filled form (with ``preset`` values), then
    the filled form itself — last, so that a form answered once (a survey, an
    invitation) judges the bad values first. Each case has its own texts
    (``Essai <n>``…): an accepted one does not make the next one a duplicate."""
    numbers = iter(range(n * 1000, n * 1000 + 1000))

    def base() -> list[tuple[str, str]]:
        data = filled(form, next(numbers))
        for name, value in (preset or {}).items():
            data = _with(data, name, [value])
        return data

    cases = []
    shown = [f for f in form.fields.values() if f.kind not in ("file", "button") and f.name != "csrf_token"]
    # (An empty body is not form data for Flask-WTF, which then edits the object
    # with its own values: a no-op, and a refusal for want of the CSRF token anyway.)
    cases.append(Case("formulaire vide", [], False))
    # A required field missing from the post is refused when there is no stored
    # value to keep; on an edit page WTForms keeps the object's value for it.
    required = {f.name for f in shown if "required" in f.attrs and f.sent in ([], [""])}
    rest = [(k, v) for k, v in base() if k not in required and v]
    if required and rest:
        cases.append(Case("champs obligatoires absents", rest, True))
    texts = [f for f in shown if f.kind in TEXT_KINDS]
    if texts:  # a NUL byte in every text (each one is tried alone by the test of the hook that refuses it)
        data = base()
        for f in texts:
            data = _with(data, f.name, [next((v for k, v in data if k == f.name), "") + "\x00"])
        cases.append(Case("NUL dans chaque texte", data, True))
    if shown:  # several values where one is expected
        data = base()
        for f in shown:
            if not f.multiple:
                first = next((v for k, v in data if k == f.name), "")
                data = _with(data, f.name, [first, "valeur-inconnue"])
        cases.append(Case("deux valeurs par champ", data, False))
    kinds_seen = set()
    for f in shown:
        kind = (re.sub(r"\d+", "#", f.name), f.kind)
        if kind in kinds_seen:
            continue  # d1_opens2 is fuzzed as d0_opens1 was, choices-3-text as choices-0-text…
        kinds_seen.add(kind)
        for label, values, must_refuse in bad_values(f, foreign_ids):
            cases.append(Case(f"{f.name}: {label}", _with(base(), f.name, values), must_refuse))
    for start, end in start_end_pairs(form):
        if start.kind == "time":
            early, late = "09:00", "11:00"
        else:
            early = (date.today() + timedelta(days=10)).isoformat()
            late = (date.today() + timedelta(days=12)).isoformat()
            if start.kind == "datetime-local":
                early, late = early + "T10:00", late + "T10:00"
        data = _with(_with(base(), start.name, [late]), end.name, [early])
        cases.append(Case(f"{end.name} avant {start.name}", data, True))
    cases.append(Case(FILLED, base(), False))
    return cases


# --- the answer ----------------------------------------------------------------------------------

MESSAGE_MARKERS = ('class="error-message"', 'class="error-summary"', 'class="flash flash-')


def flashed(client: Any) -> list[tuple[str, str]]:
    with client.session_transaction() as session:
        return list(session.get("_flashes", []))


@dataclass
class Verdict:
    problems: list[str]
    state: dict[str, set[tuple]]


def judge(client: Any, response: Any, before: dict[str, set[tuple]], wrote: bool, case: Case,
          where: str) -> Verdict:
    """Check one answer (``wrote``: whether the request wrote to the database);
    returns the problems found and the database state to compare the next one with."""
    problems: list[str] = []
    status = response.status_code
    after = snapshot() if wrote else before
    changed = changes(before, after)
    what = f"{where} [{case.label}] → {status}"
    if status >= 500:
        problems.append(f"{what}: server error")
    elif status in (301, 302, 303):
        location = response.headers.get("Location", "")
        if location.startswith(("//", "http:", "https:")) and not location.startswith("http://localhost/"):
            problems.append(f"{what}: redirects away to {location}")
        if changed:
            if case.must_refuse:
                problems.append(f"{what}: invalid input accepted ({', '.join(sorted(changed))} changed)")
            problems += [f"{what}: {p}" for p in insane(changed)]
        elif case.must_refuse and not any(cat != "success" for cat, _ in flashed(client)):
            problems.append(f"{what}: refused without a message")
    else:
        if changed:
            problems.append(f"{what}: the database changed ({', '.join(sorted(changed))}) on a refusal")
        if status in (200, 422) and case.must_refuse:
            body = response.get_data(as_text=True)
            if not any(marker in body for marker in MESSAGE_MARKERS):
                problems.append(f"{what}: form shown again without a message")
        if status not in (200, 400, 403, 404, 405, 409, 410, 413, 422, 429):
            problems.append(f"{what}: unexpected status")
    return Verdict(problems, after)


# --- the tests -----------------------------------------------------------------------------------

# Endpoints that undo, remove or end something go last, the ones that end the
# actor's own access at the very end; within a group, in the order of the URL map.
UNDOING = ("delete", "cancel", "unenrol", "remove", "revoke", "withdraw", "copy")
CLOSING = ("discard", "archive", "publish", "_active", "_status")  # after the deletions in the draft
ENDING = {"tenants.member_set_active", "privacy_tenant.anonymise_member", "auth.logout", "privacy.erase_account"}

# Values the filled form needs to be valid, that no generic filling guesses.
PRESET: dict[str, dict[str, str]] = {
    "scheduling.event_new": {"kind": "workshop"},  # (a training session needs a module and a trainer)
    "training.assign": {"all_volunteers": "y"},
    "training.author_question_new": {"choices-0-is_correct": "y"},
    "catalogue.author_question_new": {"choices-0-is_correct": "y"},
    "auth.login": {"email": "paul@example.org", "password": PASSWORD},
    "privacy.erase_account": {"password": PASSWORD},
}

# POST rules whose form no page of the world shows, and why: they are posted
# with the fields their view reads.
NOT_SHOWN: dict[str, str] = {
    "impact.assessment": "the end-of-path self-assessment, offered once the path is done; the start one "
                         "(the same view and form) is found and fuzzed",
    "privacy_tenant.anonymise_member": "a button without fields (ActionForm), posted as such",
}


def post_rules(app: Flask) -> list[Any]:
    def rank(rule: Any) -> tuple[int, str]:
        name = rule.endpoint.split(".")[-1]
        if rule.endpoint in ENDING:
            return (3, rule.rule)
        if any(word in name for word in CLOSING):
            return (2, rule.rule)
        return (1 if any(word in name for word in UNDOING) else 0, rule.rule)

    return sorted((r for r in app.url_map.iter_rules() if "POST" in r.methods), key=rank)


@pytest.fixture
def world(tenant_a, tenant_b, coordinator_a, volunteer_a, supervisor) -> World:
    return build_world(tenant_a, tenant_b, coordinator_a, volunteer_a, supervisor)


def post(client: Any, url: str, data: list[tuple[str, str]]) -> tuple[Any | None, str | None]:
    """POST ``data``; (response, None), or (None, the exception) when the view raised
    (the test app propagates exceptions instead of answering 500)."""
    from werkzeug.datastructures import MultiDict

    try:
        return client.post(url, data=MultiDict(data)), None
    except Exception as error:  # noqa: BLE001 — any exception is the server error we look for
        db.session.rollback()
        return None, f"{type(error).__name__}: {str(error)[:200]}"


def id_variants(rule: Any, world: World) -> list[tuple[str, str]]:
    """(label, address) with each id of the rule replaced by B's id of the same kind, and a huge number."""
    variants = []
    if rule.endpoint.startswith("supervision."):
        return variants  # association staff see every structure: B's id is a real page for them
    for name in sorted(rule.arguments):
        for label, other in (("de B", world.b_ids.get(name)), ("énorme", TOO_BIG)):
            if other is not None and name.endswith("_id"):
                variants.append((f"adresse avec {name} {label}", url_of(rule, world, **{name: other})))
    return variants


def test_bad_data_in_every_form_never_breaks_anything(app, client, world):
    forms = discover_forms(app, client, world)
    foreign_ids = sorted(set(world.b_ids.values()))
    problems: list[str] = []
    state = snapshot()
    with WriteWatch(db.engine) as watch:
        for n, rule in enumerate(post_rules(app)):
            url = url_of(rule, world)
            assert url is not None, f"no address for {rule.rule}: add its ids to the world"
            if rule.endpoint not in forms and rule.endpoint not in NOT_SHOWN:
                problems.append(f"{rule.endpoint}: its form is on no page of the world (show it, or say why)")
            actor = actor_for(app, rule.endpoint, world)
            token = session_token(actor) if actor is not None else None
            form = forms.get(rule.endpoint) or Form(url)
            cases = [(url, case) for case in cases_for(form, n, foreign_ids, PRESET.get(rule.endpoint))]
            # Another structure's object, or none at all (before the filled form itself): 404, nothing changed.
            filled_form = cases[-1]
            cases[-1:] = [(other, Case(label, filled_form[1].data, True)) for label, other in id_variants(rule, world)]
            cases.append(filled_form)
            for target, case in cases:
                sign_in_as(client, actor, token)
                watch.take()
                response, error = post(client, target, case.data)
                if error is not None:
                    problems.append(f"{rule.endpoint} {target} [{case.label}]: server error {error}")
                    state = snapshot()
                    continue
                verdict = judge(client, response, state, watch.take(), case, f"{rule.endpoint} {target}")
                if target != url and response.status_code != 404:
                    verdict.problems.append(f"{rule.endpoint} {target}: {response.status_code} instead of 404")
                problems += verdict.problems
                state = verdict.state
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(p[:300] for p in problems)


# --- generated values (hypothesis) in the richest forms ------------------------------------------

ANY_VALUE = st.one_of(
    st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=300),  # any text a browser can send
    st.sampled_from(["", " ", "0", "-1", TOO_BIG, "1e309", "2026-02-30", "demain", "25:61", "\x00",
                     "valeur-inconnue", "<script>alert(1)</script>", "'; DROP TABLE event; --"]),
    st.integers().map(str),
)

GENERATED = [  # (endpoint, who): forms with dates, times, numbers, lists and free text
    ("scheduling.event_new", "coordinator"),
    ("scheduling.room_new", "coordinator"),
    ("scheduling.closures", "coordinator"),
    ("tenants.invitations", "coordinator"),
    ("impact.report", "volunteer"),
]


def test_generated_values_in_the_richest_forms_never_break_anything(app, client, world):
    """Hypothesis picks, for each field of these forms, a value among any text,
    numbers and the known troublemakers: never a 500, a refusal changes nothing,
    an acceptance leaves the database sane."""
    problems: list[str] = []
    pages = {}
    for endpoint, who in GENERATED:
        actor = getattr(world.people, who)
        url = url_of(next(app.url_map.iter_rules(endpoint)), world)
        sign_in_as(client, actor)
        (form,) = [f for f in forms_in(url, client.get(url).get_data(as_text=True)) if f.action == url]
        pages[endpoint] = (url, actor, session_token(actor), form)

    @settings(max_examples=60, deadline=None, database=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(data=st.data())
    def post_generated(data: Any) -> None:
        endpoint = data.draw(st.sampled_from(sorted(pages)), label="form")
        url, actor, token, form = pages[endpoint]
        base = filled(form, data.draw(st.integers(1, 10**6)))
        for name, value in PRESET.get(endpoint, {}).items():
            base = _with(base, name, [value])
        names = sorted({name for name, _ in base} | {f.name for f in form.fields.values()} - {"csrf_token"})
        changed_names = data.draw(st.lists(st.sampled_from(names), min_size=1, max_size=4, unique=True))
        for name in changed_names:
            base = _with(base, name, data.draw(st.lists(ANY_VALUE, min_size=0, max_size=2), label=name))
        before = snapshot()
        sign_in_as(client, actor, token)
        response, error = post(client, url, base)
        if error is not None:
            problems.append(f"{endpoint} {base}: server error {error}")
            return
        verdict = judge(client, response, before, True, Case("généré", base, False), endpoint)
        problems.extend(f"{p} with {[(k, v[:40]) for k, v in base if k in changed_names]}"
                        for p in verdict.problems)

    post_generated()
    assert not problems, "\n".join(p[:400] for p in problems[:20])
