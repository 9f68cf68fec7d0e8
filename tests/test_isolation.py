"""Tenant isolation, proven on every route.

Two structures, A and B, each hold one real object of every kind a URL can
name (``tests/isolation_world.py``); every text of B carries the marker
``MARQUEUR-B``, every text of A the witness ``TEMOIN-A``.

The walk (``test_every_route_refuses_b``) reads the application's URL map and
calls every rule, with every method it takes and the others, as A's
coordinator, A's trainer, A's volunteer and anonymously:

- ``/<tenant_slug>/…`` rules under B's slug, and under A's slug with B's real
  ids (and, for rules naming two objects, A's object with B's inside it):
  404 for B's objects and B's structure; 403 where A's page exists but the
  role may not see it; a sign-in redirect for anonymous visitors;
- the rules outside structures, each classified in ``OUTSIDE`` with the answer
  expected and why;
- 405 for the methods a route does not take.

No response may show the marker (but for what ``OUTSIDE`` says is public by
design, e.g. the public agenda's workshops), B's rows — every table, found
through the foreign keys — must be unchanged, no row of A may point at one of
B's, and no e-mail may go to B's people. A URL variable that ``URL_KINDS`` does
not know, or a rule outside structures that ``OUTSIDE`` does not list, fails
the suite: new routes must be classified.

The other tests check that the ids used are real objects of the right kind
(B's own people reach them), that A's lists, searches, exports and feeds are
the same with or without B, and what each role inside a structure sees of the
other people.
"""

from __future__ import annotations

import html
import io
import itertools
import json
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Table, delete, func, select
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect, Rule
from werkzeug.routing.converters import AnyConverter

from tests.factories import make_membership, make_site, make_user
from tests.isolation_world import Structure, build_structure, rename
from tests.scheduling.factories import enrol_in, local_time
from volunteer_platform.auth.permissions import AccessRule
from volunteer_platform.extensions import db
from volunteer_platform.notifications.models import OutboxEmail
from volunteer_platform.scheduling.models import Event
from volunteer_platform.tenants.models import Membership, Role, Tenant
from volunteer_platform.training.models import Lesson

MARK = "MARQUEUR-B"
WITNESS = "TEMOIN-A"
IDENTITIES = ["coordinator", "trainer", "volunteer", "anonymous"]
ROLES = {"coordinator": Role.COORDINATOR, "trainer": Role.TRAINER, "volunteer": Role.VOLUNTEER}
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
UNKNOWN_TOKEN = "jeton-inconnu-0123456789abcdefghijklmnopqrstuvwxyz"


# --- the two structures --------------------------------------------------------------------------------


@dataclass
class Worlds:
    a: Structure
    b: Structure
    neighbour: Any  # another volunteer of A, on the same shift and session as A's volunteer


@pytest.fixture
def trainer_a(tenant_a):
    return make_membership(tenant_a, make_user(email="trainer-a@example.org", full_name="Tania Alpha"),
                           Role.TRAINER).user


@pytest.fixture
def worlds(app, tenant_a, tenant_b, coordinator_a, volunteer_a, trainer_a, coordinator_b) -> Worlds:
    a = build_structure(tenant_a, mark=WITNESS, coordinator=coordinator_a, volunteer=volunteer_a, trainer=trainer_a,
                        prefix="A")
    b = build_structure(tenant_b, mark=MARK, prefix="B", coordinator=rename(
        coordinator_b, f"Bérénice {MARK}-COORDINATRICE", "marqueur-b-coordinatrice@example.org"))
    neighbour = make_user(full_name="Xavier Xerxès", email="xavier.xerxes@example.org")
    make_membership(tenant_a, neighbour, Role.VOLUNTEER)
    for event_id in a.ids["event"]:
        event = db.session.get(Event, event_id)
        if event.kind.value in ("shift", "training_session"):
            enrol_in(event, neighbour)
    return Worlds(a, b, neighbour)


# --- reading a response as text, whatever its format --------------------------------------------------


_PDF_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.DOTALL)


def readable(response: Any) -> str:
    """The body as text a person could read: HTML entities decoded, iCalendar
    lines unfolded and unescaped, ZIP and XLSX members and PDF streams opened."""
    data: bytes = response.get_data()
    kind = response.mimetype or ""
    if data.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return html.unescape(" ".join(archive.read(n).decode("utf-8", "replace") for n in archive.namelist()))
    if data.startswith(b"%PDF"):
        parts = [data.decode("latin-1")]
        for stream in _PDF_STREAM.findall(data):
            try:
                parts.append(zlib.decompress(stream).decode("latin-1"))
            except zlib.error:
                pass
        return "\n".join(parts)
    text = data.decode("utf-8", "replace")
    if kind == "text/calendar":
        text = re.sub(r"\r?\n[ \t]", "", text)
        return text.replace("\\,", ",").replace("\\;", ";").replace("\\n", "\n").replace("\\N", "\n")
    if kind == "application/json":
        try:
            return json.dumps(json.loads(text), ensure_ascii=False)
        except ValueError:
            return text
    return html.unescape(text)


def shows_marker(text: str, public: tuple[str, ...] = ()) -> bool:
    """Does ``text`` show something of B, once the ``public`` texts are taken out?"""
    for allowed in sorted(public, key=len, reverse=True):
        text = text.replace(allowed, "")
    return MARK.lower() in text.lower()


# --- B's rows, found through the foreign keys ----------------------------------------------------------


def _b_owned(b: Structure) -> dict[str, set[Any]]:
    """The primary keys of B's rows, table by table: rows with B's tenant_id,
    B's people, and rows without a tenant of their own that point at B's rows
    (a lesson of B's module, a quiz attempt of B's volunteer…)."""
    db.session.rollback()
    people = {b.coordinator.id, b.trainer.id, b.volunteer.id}
    owned: dict[str, set[Any]] = {}
    for table in db.metadata.sorted_tables:
        pk = list(table.primary_key.columns)
        if len(pk) != 1:
            continue
        key = pk[0]
        if table.name == "tenant":
            owned[table.name] = {b.tenant.id}
            continue
        if table.name == "user_account":
            owned[table.name] = people
            continue
        if "tenant_id" in table.columns and key.name != "tenant_id":
            owned[table.name] = set(db.session.scalars(select(key).where(table.c.tenant_id == b.tenant.id)))
            continue
        if "tenant_id" in table.columns:  # one row per structure, keyed by it (settings)
            owned[table.name] = {b.tenant.id} & set(db.session.scalars(select(key)))
            continue
        found: set[Any] = set()
        for fk in table.foreign_keys:
            parent = fk.column.table.name
            if parent in owned and owned[parent] and parent != table.name:
                found |= set(db.session.scalars(select(key).where(fk.parent.in_(owned[parent]))))
        owned[table.name] = found
    return owned


def _rows(table: Table, keys: set[Any]) -> list[str]:
    if not keys:
        return []
    key = next(iter(table.primary_key.columns))
    return sorted(repr(tuple(row)) for row in db.session.execute(select(table).where(key.in_(keys))))


def snapshot_b(b: Structure) -> dict[str, Any]:
    """Every column of every row of B, and the e-mails addressed to B's people."""
    owned = _b_owned(b)
    tables = {t.name: t for t in db.metadata.sorted_tables}
    snapshot: dict[str, Any] = {name: _rows(tables[name], keys) for name, keys in owned.items() if keys}
    people = [u.email for u in (b.coordinator, b.trainer, b.volunteer)] + [f"{MARK.lower()}-invitation@example.org"]
    snapshot["outbox_email"] = sorted(repr(tuple(row)) for row in db.session.execute(
        select(OutboxEmail.__table__).where(func.lower(OutboxEmail.to_address).in_([p.lower() for p in people]))))
    db.session.rollback()
    return snapshot


def links_into_b(b: Structure) -> list[str]:
    """Rows outside B that point at one of B's rows (an A event in B's room, an
    A assignment of B's path…): the foreign keys that are not composite with
    the structure do not stop those."""
    owned = _b_owned(b)
    found = []
    for table in db.metadata.sorted_tables:
        mine = owned.get(table.name, set())
        pk = list(table.primary_key.columns)
        for fk in table.foreign_keys:
            parent = fk.column.table.name
            targets = owned.get(parent)
            if not targets or parent == "tenant" or fk.column.name != next(iter(fk.column.table.primary_key)).name:
                continue
            stmt = select(*pk, fk.parent).where(fk.parent.in_(targets))
            for row in db.session.execute(stmt):
                if len(pk) == 1 and row[0] in mine:
                    continue
                found.append(f"{table.name} {tuple(row)[:-1]}: {fk.parent.name} → {parent} {row[-1]}")
    db.session.rollback()
    return found


def last_email_id() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.coalesce(func.max(OutboxEmail.id), 0)))


def emails_showing_b(since: int) -> list[str]:
    db.session.rollback()
    return [f"{e.to_address}: {e.subject}" for e in db.session.scalars(select(OutboxEmail).where(OutboxEmail.id > since))
            if shows_marker(f"{e.subject}\n{e.body_text}\n{json.dumps(e.attachments or [])}")]


def describe_change(before: dict[str, Any], after: dict[str, Any]) -> str:
    lines = []
    for name in sorted(set(before) | set(after)):
        old, new = set(before.get(name, [])), set(after.get(name, []))
        lines += [f"{name}: - {row}" for row in sorted(old - new)] + [f"{name}: + {row}" for row in sorted(new - old)]
    return "\n".join(lines[:40])


# --- classifying the URL map ---------------------------------------------------------------------------

#: The kind of object each URL variable names (the keys of ``Structure.ids``).
URL_KINDS = {
    "site_id": "site", "membership_id": "membership", "invitation_id": "invitation", "room_id": "room",
    "kit_id": "kit", "closure_id": "closure", "event_id": "event", "enrolment_id": "enrolment",
    "module_id": "module", "version_id": "version", "lesson_id": "lesson", "resource_id": "resource",
    "question_id": "question", "attempt_id": "attempt", "path_id": "path", "award_id": "award",
    "attestation_id": "attestation", "calendar_id": "calendar", "tenant_id": "tenant",
}
#: Where one name means another kind of object on some routes.
ENDPOINT_KINDS = {
    ("impact.volunteering_pdf", "attestation_id"): "volunteering_attestation",
}
#: URL variables that are not ids of objects, and how the walk fills them.
OTHER_VARIABLES = {
    "tenant_slug": "B's slug, and A's with B's ids",
    "token": "the caller's own calendar-feed token; for links (invitation, password) an unknown one",
    "code": "B's attestation codes",
    "filename": "a real static file",
}


@dataclass(frozen=True)
class Outside:
    kind: str
    reason: str


SIGNED_IN = "signed-in"  # the person's own account: anyone signed in, about themselves
SUPERVISOR = "supervisor"  # association staff only
PUBLIC = "public"  # anyone; names no object of a structure
PROBE = "probe"  # health checks: 200, or 503 when the deployment is not ready, for anyone
TOKEN_LINK = "token-link"  # a link from an e-mail: the token is the key
FEED = "feed"  # a private calendar feed: the caller's own token
PUBLIC_AGENDA = "public-agenda"  # public by design: a structure's public workshops
VERIFY = "verify"  # public by design: an attestation's verification page
STATIC = "static"

#: Every rule outside ``/<tenant_slug>/``, by endpoint or by blueprint, with the reason of its answer.
OUTSIDE: dict[str, Outside] = {
    "core.home": Outside(PUBLIC, "the landing page, or the signed-in person's own structures"),
    "core.healthz": Outside(PROBE, "liveness probe, no data"),
    "core.readyz": Outside(PROBE, "readiness probe, counts only; 503 while migrations are pending"),
    "core.set_language": Outside(PUBLIC, "the visitor's language"),
    "auth.login": Outside(PUBLIC, "the sign-in form"),
    "auth.forgot_password": Outside(PUBLIC, "same answer for any address"),
    "auth.logout": Outside(SIGNED_IN, "ends the caller's own sessions (called last)"),
    "auth.account": Outside(SIGNED_IN, "the caller's own account"),
    "auth.accept_invitation": Outside(TOKEN_LINK, "an unknown token is an invalid link (410)"),
    "auth.reset_password": Outside(TOKEN_LINK, "an unknown token is an invalid link (410)"),
    "calendars.regenerate": Outside(SIGNED_IN, "the caller's own feed token (called last)"),
    "calendars.revoke": Outside(SIGNED_IN, "the caller's own feed token (called last)"),
    "calendars.personal_feed": Outside(FEED, "the token's owner's commitments: A's person, nothing of B"),
    "calendars.all_feed": Outside(FEED, "association staff only: 404 for anyone else"),
    "calendars.structure_feed": Outside(FEED, "members only: 404 for B, A's own agenda for A"),
    "calendars.site_feed": Outside(FEED, "members only, the structure's own site"),
    "calendars.room_feed": Outside(FEED, "members only, the structure's own room"),
    "calendars.trainer_feed": Outside(FEED, "members only, the structure's own trainer"),
    "calendars.public_agenda": Outside(PUBLIC_AGENDA, "public by design: a structure's workshops, places, contact"),
    "calendars.public_site": Outside(PUBLIC_AGENDA, "public by design: the workshops at one of its sites"),
    "my_agenda.index": Outside(SIGNED_IN, "the caller's own commitments"),
    "privacy.notice": Outside(PUBLIC, "the privacy notice"),
    "privacy.my_data": Outside(SIGNED_IN, "the caller's own data"),
    "privacy.my_data_download": Outside(SIGNED_IN, "the caller's own data"),
    "privacy.erase_account": Outside(SIGNED_IN, "the caller's own account, password needed (called last)"),
    "privacy.audit_all": Outside(SUPERVISOR, "the association's audit log"),
    "verification.index": Outside(PUBLIC, "the form to type a code"),
    "verification.attestation": Outside(VERIFY, "public by design: whoever holds an attestation checks it "
                                                "(holder's name, what was achieved, issuer, signatory)"),
    "static": Outside(STATIC, "stylesheets"),
    "supervision": Outside(SUPERVISOR, "the association's pages"),
    "catalogue": Outside(SUPERVISOR, "the association's shared catalogue authoring"),
    "impact_national": Outside(SUPERVISOR, "the association's national dashboards"),
}
#: Called last for each person, in this order: they change or end the caller's session or token.
LAST = ["calendars.regenerate", "calendars.revoke", "privacy.erase_account", "auth.logout"]


def outside_of(endpoint: str) -> Outside | None:
    return OUTSIDE.get(endpoint) or OUTSIDE.get(endpoint.split(".", 1)[0])


def is_tenant_rule(rule: Rule) -> bool:
    return rule.rule.startswith("/<tenant_slug>/")


def kind_of(endpoint: str, variable: str) -> str | None:
    return ENDPOINT_KINDS.get((endpoint, variable)) or URL_KINDS.get(variable)


def access_of(app: Flask, endpoint: str) -> AccessRule | None:
    return getattr(app.view_functions.get(endpoint), "access_rule", None)


def unclassified(app: Flask) -> list[str]:
    """What the walk cannot classify: an unknown URL variable, a rule outside
    structures missing from ``OUTSIDE``, a structure's page not limited to roles."""
    problems = []
    for rule in app.url_map.iter_rules():
        for name, converter in rule._converters.items():
            if isinstance(converter, AnyConverter) or name in OTHER_VARIABLES or kind_of(rule.endpoint, name):
                continue
            problems.append(f"unclassified URL part <{name}> in {rule.rule} ({rule.endpoint})")
        if is_tenant_rule(rule):
            access = access_of(app, rule.endpoint)
            if access is None or access.kind != "role":
                problems.append(f"{rule.endpoint}: a structure's page not limited to its roles — classify it")
        elif outside_of(rule.endpoint) is None:
            problems.append(f"{rule.endpoint} ({rule.rule}): add it to OUTSIDE with the answer expected")
    return problems


# --- planning the walk ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expect:
    statuses: frozenset[int] | None  # None: any answer but a server error, a 404 or a 405
    to_login: bool = False
    public: tuple[str, ...] = ()  # B's texts shown by design

    def allows(self, status: int) -> bool:
        if self.statuses is None:
            return status < 500 and status not in (404, 405)
        return status in self.statuses


def expect(*statuses: int, **kwargs: Any) -> Expect:
    return Expect(frozenset(statuses), **kwargs)


SIGN_IN = expect(302, to_login=True)
NOT_FOUND = expect(404)


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    endpoint: str
    expected: Expect


@dataclass
class Variant:
    """One way to fill a rule's variables."""

    values: dict[str, Any]
    slug_of: str | None = None  # "a" or "b": whose slug is in the address
    names_b: bool = False  # does the address name one of B's objects?
    notes: list[str] = field(default_factory=list)


def _id_choices(rule: Rule, w: Worlds) -> Iterator[tuple[dict[str, int], bool]]:
    """B's ids for every id variable (all combinations); for rules naming
    several objects, also A's object with B's inside it and the other way round."""
    names = [n for n in rule.arguments if kind_of(rule.endpoint, n)]
    if not names:
        yield {}, False
        return
    b_lists = [w.b.ids[kind_of(rule.endpoint, n)] for n in names]
    for combo in itertools.product(*b_lists):
        yield dict(zip(names, combo, strict=True)), True
    if len(names) > 1:
        for mask in itertools.product((True, False), repeat=len(names)):
            if all(mask) or not any(mask):
                continue  # all B's (above) or all A's (A's own objects)
            lists = [lst if from_b else [w.a.first(kind_of(rule.endpoint, n))]
                     for lst, from_b, n in zip(b_lists, mask, names, strict=True)]
            for combo in itertools.product(*lists):
                yield dict(zip(names, combo, strict=True)), True


def variants(rule: Rule, w: Worlds, who: str) -> Iterator[Variant]:
    words = [[(name, item) for item in sorted(conv.items)] for name, conv in rule._converters.items()
             if isinstance(conv, AnyConverter)]
    for chosen in itertools.product(*words):
        for ids, names_b in _id_choices(rule, w):
            base: dict[str, Any] = dict(chosen) | ids
            if "filename" in rule.arguments:
                base["filename"] = "css/app.css"
            if "token" in rule.arguments:
                feed = rule.endpoint.startswith("calendars.")
                base["token"] = w.a.tokens[who] if feed and who in w.a.tokens else UNKNOWN_TOKEN
            codes = w.b.codes if "code" in rule.arguments else [None]
            for code in codes:
                values = dict(base)
                if code is not None:
                    values["code"] = code
                if "tenant_slug" not in rule.arguments:
                    yield Variant(values, None, names_b or code is not None)
                    continue
                yield Variant(values | {"tenant_slug": w.b.slug}, "b", True)
                if names_b or not ids:  # A's slug: with B's ids, or A's own page (no id)
                    yield Variant(values | {"tenant_slug": w.a.slug}, "a", names_b)


def _b_public_texts(w: Worlds) -> tuple[str, ...]:
    t = w.b.texts
    return tuple(t[k] for k in ("tenant", "contact", "site", "address", "access", "room", "workshop",
                                "workshop_description", "workshop_bring"))


def _b_attestation_texts(w: Worlds) -> tuple[str, ...]:
    t = w.b.texts
    return tuple(t[k] for k in ("tenant", "volunteer", "module", "path", "signatory", "signatory_role"))


def expectation(app: Flask, endpoint: str, method: str, variant: Variant, who: str, w: Worlds) -> Expect:
    """What ``who`` must get from ``endpoint`` filled with ``variant``."""
    if is_tenant_rule(_rule_of(app, endpoint)):
        if who == "anonymous":
            return SIGN_IN
        if variant.slug_of == "b":
            return NOT_FOUND  # not a member of B: B's pages do not exist
        access = access_of(app, endpoint)
        if ROLES[who] not in access.roles:
            return expect(403)
        if variant.names_b:
            return NOT_FOUND
        return expect(200, 302) if method == "GET" else Expect(None)
    outside = outside_of(endpoint)
    kind = outside.kind
    if kind == SUPERVISOR:
        return SIGN_IN if who == "anonymous" else expect(403)
    if kind == SIGNED_IN:
        return SIGN_IN if who == "anonymous" else Expect(None)
    if kind == PUBLIC:
        return expect(200, 302) if method == "GET" else Expect(None)
    if kind == STATIC:
        return expect(200)
    if kind == PROBE:
        return expect(200, 503) if method == "GET" else Expect(None)
    if kind == TOKEN_LINK:
        return expect(410)
    if kind == VERIFY:
        return expect(200, public=_b_attestation_texts(w))
    if kind == PUBLIC_AGENDA:
        if variant.slug_of == "b":
            return expect(200, public=_b_public_texts(w))
        return NOT_FOUND if variant.names_b else expect(200)
    assert kind == FEED, endpoint
    if who == "anonymous" or endpoint == "calendars.all_feed" or variant.slug_of == "b" or variant.names_b:
        return NOT_FOUND
    return expect(200)


_RULES: dict[str, Rule] = {}


def _rule_of(app: Flask, endpoint: str) -> Rule:
    if not _RULES:
        for rule in app.url_map.iter_rules():
            _RULES.setdefault(rule.endpoint, rule)
    return _RULES[endpoint]


def plan(app: Flask, w: Worlds, who: str) -> list[Call]:
    """Every call of the walk for ``who``, the ones that end the session last.

    Under B's slug the structure refuses before any object is looked up, so
    one filling of each rule is enough there; the methods a rule does not take
    are refused by the router whatever the ids, so they are tried on one
    filling per slug."""
    adapter = app.url_map.bind("testserver.example")
    calls: dict[tuple[str, str], Call] = {}
    for rule in app.url_map.iter_rules():
        tried: set[str | None] = set()
        for variant in variants(rule, w, who):
            first = variant.slug_of not in tried
            tried.add(variant.slug_of)
            if variant.slug_of == "b" and not first:
                continue
            path = rule.build(variant.values, append_unknown=False)[1]
            for method in ALL_METHODS:
                try:
                    endpoint, _args = adapter.match(path, method)
                except MethodNotAllowed:
                    if first:
                        calls[(method, path)] = Call(method, path, rule.endpoint, expect(405))
                    continue
                except RequestRedirect:  # "/language" read as "/<tenant_slug>/" without its slash
                    calls[(method, path)] = Call(method, path, rule.endpoint, expect(308))
                    continue
                except NotFound:  # pragma: no cover - a built address always matches
                    raise AssertionError(f"{path} built from {rule.rule} matches no rule") from None
                calls[(method, path)] = Call(method, path, endpoint,
                                             expectation(app, endpoint, method, variant, who, w))

    def order(call: Call) -> tuple[int, str, str]:
        last = LAST.index(call.endpoint) if call.endpoint in LAST and call.method == "POST" else -1
        return last, call.path, call.method

    return sorted(calls.values(), key=order)


def hostile_form(w: Worlds) -> dict[str, Any]:
    """Every field a form may take, set to B's objects: a POST that got through
    would tie A's rows to B's, or change B's."""
    b = w.b
    day = local_time(b.tenant, 1, 9).date().isoformat()
    return {
        "name": "Piraté par A", "title": "Piraté par A", "kind": "shift", "timezone": "Europe/Paris",
        "region": "Ailleurs", "address": "1 rue", "postal_code": "62400", "city": "Arras", "role": "coordinator",
        "email": "complice@example.org", "active": "0", "reason": "Piraté", "note": "Piraté", "comment": "Piraté",
        "site_id": b.first("site"), "site": b.first("site"), "room_id": b.first("room"), "room": b.first("room"),
        "trainer_id": b.trainer.id, "trainer": b.trainer.id, "module_id": b.first("module"),
        "module": b.first("module"), "modules-0": b.first("module"), "path": b.first("path"),
        "default_path": b.first("path"), "qualification": b.first("qualification"),
        "qualification_id": b.first("qualification"), "required_qualification_id": b.first("qualification"),
        "kit_ids": b.first("kit"), "kits": b.first("kit"), "members": b.volunteer.id, "user": b.volunteer.id,
        "user_id": b.volunteer.id, "enrol-member": b.volunteer.id, "target": f"room:{b.first('room')}",
        "day": day, "start": "10:00", "end": "12:00", "starts_on": day, "ends_on": day, "obtained_on": day,
        "capacity": "5", "url": "https://calendrier.example.org/pirate.ics", "waitlist": "1",
    }


def hostile_query(w: Worlds) -> dict[str, Any]:
    """Filters and searches set to B's objects."""
    b = w.b
    return {"site": b.first("site"), "room": b.first("room"), "trainer": b.trainer.id, "user": b.volunteer.id,
            "member": b.first("membership"), "kind": "shift", "q": "Bvin",
            "date": local_time(b.tenant, 1, 9).date().isoformat()}


def identity(w: Worlds, who: str) -> Any:
    return None if who == "anonymous" else {"coordinator": w.a.coordinator, "trainer": w.a.trainer,
                                            "volunteer": w.a.volunteer}[who]


# --- the walk ---------------------------------------------------------------------------------------


def test_every_rule_is_classified(app):
    """A new route whose variables or place the walk does not know fails here first."""
    problems = unclassified(app)
    assert problems == [], "\n".join(problems)
    assert not [name for name in OUTSIDE if "." in name and name not in app.view_functions]


def test_the_walk_covers_every_rule_and_its_checks_can_fail(app, worlds):
    """Every endpoint is called; rules naming two objects are also tried with
    A's object and B's inside it. The snapshot sees a change to any row of B,
    the links check an A row pointing at B's (an A event naming B's module:
    that foreign key is not composite with the structure)."""
    w = worlds
    calls = plan(app, w, "coordinator")
    assert {c.endpoint for c in calls} == {r.endpoint for r in app.url_map.iter_rules()}
    assert len(calls) > 1000
    lesson = f"/{w.a.slug}/training/modules/{w.a.first('module')}/lessons/{w.b.first('lesson')}"
    assert ("GET", lesson) in {(c.method, c.path) for c in calls}

    before = snapshot_b(w.b)
    db.session.get(Lesson, w.b.first("lesson")).body += " (modifié)"
    db.session.commit()
    assert snapshot_b(w.b) != before
    assert links_into_b(w.b) == []
    event = db.session.get(Event, w.a.first("event"))
    event.module_id = w.b.first("module")
    db.session.commit()
    assert links_into_b(w.b) == [f"event ({event.id},): module_id → module {w.b.first('module')}"]
    assert shows_marker("<p>marqueur-b</p>")
    assert not shows_marker("<p>Atelier MARQUEUR-B</p>", ("Atelier MARQUEUR-B",))


@pytest.mark.parametrize("who", IDENTITIES)
def test_every_route_refuses_b(app, client, login_as, worlds, who):
    w = worlds
    calls = plan(app, w, who)
    form, query = hostile_form(w), hostile_query(w)
    before, emails = snapshot_b(w.b), last_email_id()
    user = identity(w, who)
    if user is not None:
        login_as(user)
    failures = []
    for call in calls:
        if call.method == "GET":
            response = client.get(call.path, query_string=query)
        else:
            response = client.open(call.path, method=call.method, data=form)
        status, expected = response.status_code, call.expected
        where = f"{who} {call.method} {call.path} ({call.endpoint})"
        if not expected.allows(status):
            wanted = sorted(expected.statuses) if expected.statuses else "any but 404/405/5xx"
            failures.append(f"{where}: {status}, expected {wanted}")
        elif expected.to_login and not response.location.startswith("/login"):
            failures.append(f"{where}: redirected to {response.location}, not to the sign-in page")
        if shows_marker(readable(response), expected.public):
            failures.append(f"{where}: the response shows B's data")
    assert not failures, f"{len(failures)} problems:\n" + "\n".join(failures[:60])
    after = snapshot_b(w.b)
    assert after == before, "B's rows changed:\n" + describe_change(before, after)
    assert links_into_b(w.b) == []
    assert emails_showing_b(emails) == []


def _signed_in_clients(app: Flask, s: Structure) -> dict[str, Any]:
    clients = {}
    for role, user in (("coordinator", s.coordinator), ("trainer", s.trainer), ("volunteer", s.volunteer)):
        clients[role] = app.test_client()
        with clients[role].session_transaction() as session:
            session["_user_id"], session["_fresh"] = user.session_token, True
    return clients


def _own_combinations(rule: Rule, s: Structure) -> Iterator[dict[str, Any]]:
    """``rule`` filled with ``s``'s own slug and ids (every combination)."""
    names = [n for n in rule.arguments if kind_of(rule.endpoint, n)]
    words = [[(n, item) for item in sorted(c.items)] for n, c in rule._converters.items()
             if isinstance(c, AnyConverter)]
    for chosen in itertools.product(*words):
        for combo in itertools.product(*(s.ids[kind_of(rule.endpoint, n)] for n in names)):
            yield dict(chosen) | dict(zip(names, combo, strict=True)) | {"tenant_slug": s.slug}


def _unreachable(app: Flask, s: Structure, rules: list[Rule], *, posts: bool, first_ids_only: bool) -> list[str]:
    """What ``s``'s own people do not reach with ``s``'s own ids under its slug:
    GET rules that answer for no combination, ids no rule reaches.

    With ``posts``, the ids only POST rules take (invitations, closures…) are
    tried there too, each until one POST gets past the lookup (it may act:
    that is the point), in endpoint order — "active" before "delete" before
    "refresh" (which would fetch the calendar)."""
    clients = _signed_in_clients(app, s)
    problems, reached = [], set()

    def names_of(rule: Rule) -> list[str]:
        return [n for n in rule.arguments if kind_of(rule.endpoint, n)]

    def answers(method: str, path: str) -> bool:
        codes = (c.open(path, method=method).status_code for c in clients.values())
        return any(code < 500 and code not in (403, 404, 405) for code in codes)  # stops at the first

    for rule in rules:
        if "GET" not in rule.methods:
            continue
        ok = False
        for values in _own_combinations(rule, s):
            if answers("GET", rule.build(values, append_unknown=False)[1]):
                ok = True
                reached |= {(kind_of(rule.endpoint, n), values[n]) for n in names_of(rule)}
        if not ok:
            problems.append(f"GET {rule.rule} ({rule.endpoint}): no combination of {s.slug}'s ids answers")
    got = {kind for kind, _ident in reached}
    if posts:
        for rule in sorted((r for r in rules if "POST" in r.methods), key=lambda r: r.endpoint):
            post_only = [n for n in names_of(rule) if kind_of(rule.endpoint, n) not in got]
            if not post_only:
                continue
            for values in _own_combinations(rule, s):
                wanted = {(kind_of(rule.endpoint, n), values[n]) for n in post_only}
                if wanted <= reached:
                    continue
                if answers("POST", rule.build(values, append_unknown=False)[1]):
                    reached |= wanted
    kinds = {kind_of(r.endpoint, n) for r in rules for n in names_of(r) if posts or "GET" in r.methods}
    problems += [f"{kind} {ident} of {s.slug} is reached by no rule" for kind in sorted(kinds)
                 for ident in (s.ids[kind][:1] if first_ids_only else s.ids[kind]) if (kind, ident) not in reached]
    db.session.rollback()
    return problems


def test_the_ids_of_the_walk_are_real_objects_of_the_right_kind(app, worlds):
    """The 404s of the walk mean something. B's own people, with B's ids under
    B's slug, get past the lookups: every rule naming objects answers for some
    combination, and every id of B is reached by some rule. Likewise A's people
    with A's ids, which the walk puts next to B's in rules naming two objects."""
    rules = [r for r in app.url_map.iter_rules() if is_tenant_rule(r)
             and any(kind_of(r.endpoint, n) for n in r.arguments)]
    pairs = [r for r in rules if len([n for n in r.arguments if kind_of(r.endpoint, n)]) > 1]
    problems = _unreachable(app, worlds.a, pairs, posts=False, first_ids_only=True)
    problems += _unreachable(app, worlds.b, rules, posts=True, first_ids_only=False)
    assert problems == [], "\n".join(problems)


ENDING = re.compile(r"delete|discard|archive|cancel|remove|revoke|anonymise|active|publish|withdraw|status")
#: POSTs the pass below does not make, and why.
NOT_POSTED = {"scheduling.external_calendar_refresh": "would fetch the calendar's address over the network"}


def test_forms_on_a_own_objects_take_nothing_of_b(app, client, login_as, worlds):
    """A's coordinator posts every form of A (A's own objects in the address)
    with every field set to B's objects — a room, a site, a trainer, a member,
    a module, a path, a qualification: no server error, nothing of B shown,
    B unchanged, and no row of A pointing at B's."""
    w = worlds
    before, emails = snapshot_b(w.b), last_email_id()
    login_as(w.a.coordinator)
    form = hostile_form(w)
    problems = []
    # Forms that edit first, then the buttons that end or remove A's objects (a cancelled event takes no edit).
    rules = sorted((r for r in app.url_map.iter_rules() if is_tenant_rule(r) and "POST" in r.methods
                    and r.endpoint not in NOT_POSTED),
                   key=lambda r: (bool(ENDING.search(r.endpoint)), r.endpoint))
    for rule in rules:
        values = next(_own_combinations(rule, w.a))
        path = rule.build(values, append_unknown=False)[1]
        response = client.post(path, data=form)
        if response.status_code >= 500 or shows_marker(readable(response)):
            problems.append(f"POST {path} ({rule.endpoint}): {response.status_code}")
    assert problems == [], "\n".join(problems)
    after = snapshot_b(w.b)
    assert after == before, "B's rows changed:\n" + describe_change(before, after)
    assert links_into_b(w.b) == []
    assert emails_showing_b(emails) == []


# --- public by design ------------------------------------------------------------------------------------


def test_what_b_shows_by_design_and_to_its_own_token(client, worlds):
    """The walk lets through, on public pages, B's texts that are public by
    design; they do show there (so the allowance is not a blind spot) and
    nothing else does. B's own feed token shows B's private agenda (so the
    feeds' marker checks can fail) and opens none of A's feeds."""
    w = worlds
    text = readable(client.get(f"/calendars/{w.b.slug}/agenda.ics"))
    assert w.b.texts["workshop"] in text
    assert not shows_marker(text, _b_public_texts(w))
    for private in ("shift", "session", "volunteer"):
        assert w.b.texts[private] not in text
    site = readable(client.get(f"/calendars/{w.b.slug}/sites/{w.b.first('site')}.ics"))
    assert w.b.texts["workshop"] in site and not shows_marker(site, _b_public_texts(w))

    for code in w.b.codes:  # the verification page: what the attestation states, and no more
        response = client.get(f"/verify/{code}")
        assert response.status_code == 200
        text = readable(response)
        assert w.b.texts["volunteer"] in text
        assert not shows_marker(text, _b_attestation_texts(w)), code
        assert w.b.volunteer.email not in text

    token = w.b.tokens["volunteer"]
    assert shows_marker(readable(client.get(f"/feeds/{token}/{w.b.slug}/agenda.ics")))
    assert shows_marker(readable(client.get(f"/feeds/{token}/me.ics")))
    assert client.get(f"/feeds/{token}/{w.a.slug}/agenda.ics").status_code == 404
    for kind, route in (("site", "sites"), ("room", "rooms"), ("membership", "trainers")):
        for slug in (w.a.slug, w.b.slug):
            response = client.get(f"/feeds/{token}/{slug}/{route}/{w.a.ids[kind][-1]}.ics")
            assert response.status_code == 404
            assert WITNESS not in readable(response)


# --- A's lists, searches, exports and feeds ------------------------------------------------------------

LISTS_COORDINATOR = [
    "/", "/members", "/sites", "/invitations", "/structure",
    "/agenda/week?date={day}", "/agenda/month?date={month}", "/agenda/open", "/agenda/mine", "/agenda/rooms",
    "/agenda/kits", "/agenda/closures", "/agenda/understaffed", "/agenda/external-calendars", "/training/",
    "/training/catalogue", "/training/progress", "/training/progress?q=Bvin", "/training/progress?q=Victor",
    "/training/progress.csv", "/training/progress.csv?q=Victor", "/training/assign", "/training/settings",
    "/training/authoring/", "/training/authoring/paths", "/impact/", "/impact/volunteering", "/privacy/audit",
] + [f"/impact/export/{table}.{fmt}" for table in ("summary", "months", "themes", "confidence")
     for fmt in ("csv", "xlsx")]
LISTS_MEMBER = ["/", "/agenda/week?date={day}", "/agenda/month?date={month}", "/agenda/open", "/agenda/mine",
                "/training/", "/training/catalogue", "/impact/volunteering"]
OWN = ["/me/agenda", "/account", "/account/data", "/account/data.json", "/account/data.zip"]

#: What changes from one fetch to the next whatever the data: CSP nonces and CSRF tokens, a spreadsheet's
#: creation time.
# Tokens, file timestamps, and the minute the dashboard's figures were computed (the two
# fetches may straddle a minute on a slow machine).
_VOLATILE = re.compile(r'(nonce|value)="[^"]*"|<dcterms:(created|modified)[^<]*<'
                       r'|(calculés le|chiffres du) \d{2}/\d{2}/\d{4},? \d{2}:\d{2}')
#: Pages that record their own fetches (the audit log; one's own data, which lists its audit entries
#: and its generation time): checked for B's marker, not compared.
_SELF_RECORDING = ("/privacy/audit", "/account/data")


def _lists(w: Worlds, who: str) -> list[str]:
    day = local_time(w.a.tenant, 1, 9).date()
    pages = LISTS_COORDINATOR if who == "coordinator" else LISTS_MEMBER
    paths = [f"/{w.a.slug}{p.format(day=day.isoformat(), month=day.strftime('%Y-%m'))}" for p in pages] + OWN
    token = w.a.tokens[who]
    paths += [f"/calendars/{w.a.slug}/agenda.ics", f"/calendars/{w.a.slug}/sites/{w.a.first('site')}.ics",
              f"/feeds/{token}/me.ics", f"/feeds/{token}/{w.a.slug}/agenda.ics",
              f"/feeds/{token}/{w.a.slug}/sites/{w.a.first('site')}.ics",
              f"/feeds/{token}/{w.a.slug}/rooms/{w.a.first('room')}.ics",
              f"/feeds/{token}/{w.a.slug}/trainers/{w.a.ids['membership'][1]}.ics"]
    return paths


def _fetch_all(clients: dict[str, Any], w: Worlds) -> dict[tuple[str, str], str]:
    pages = {}
    for who, client in clients.items():
        for path in _lists(w, who):
            response = client.get(path)
            assert response.status_code == 200, (who, path, response.status_code)
            pages[(who, path)] = readable(response)
    return pages


def _erase_structure(tenant_id: int) -> None:
    """Delete a structure; its rows go with it (ON DELETE CASCADE)."""
    db.session.rollback()
    db.session.execute(delete(Tenant.__table__).where(Tenant.__table__.c.id == tenant_id))
    db.session.commit()
    assert db.session.scalar(select(func.count(Event.id)).where(Event.tenant_id == tenant_id)) == 0
    db.session.rollback()


def test_a_lists_searches_exports_and_feeds_are_the_same_with_or_without_b(app, worlds):
    """Every list, search, export and feed of A, fetched by each role of A:
    nothing of B shows, A's own records do (so the check can fail), and the
    bytes are the same once B is gone — B counts in none of A's figures."""
    w = worlds
    clients = {who: app.test_client() for who in ROLES}
    for who, client in clients.items():
        with client.session_transaction() as session:
            session["_user_id"], session["_fresh"] = identity(w, who).session_token, True
    with_b = _fetch_all(clients, w)
    assert [page for page, text in with_b.items() if shows_marker(text)] == []
    empty = [page for page, text in with_b.items() if WITNESS not in text]
    assert len(empty) < len(with_b) // 3, empty  # lists of A's records, not empty pages
    # The progress matrix's search (name or e-mail) finds A's people, and B's by no name.
    search = f"/{w.a.slug}/training/progress"
    assert "Victor Alpha" not in with_b[("coordinator", f"{search}?q=Bvin")]
    assert "Victor Alpha" in with_b[("coordinator", f"{search}?q=Victor")]
    assert "Victor Alpha" in with_b[("coordinator", f"{search}.csv?q=Victor")]

    _erase_structure(w.b.tenant.id)
    without_b = _fetch_all(clients, w)
    changed = [page for page in with_b if not any(part in page[1] for part in _SELF_RECORDING)
               and _VOLATILE.sub("", with_b[page]) != _VOLATILE.sub("", without_b[page])]
    assert changed == []


# --- roles inside a structure -------------------------------------------------------------------------


def _a_get_paths(app: Flask, w: Worlds) -> list[tuple[str, str, dict[str, Any]]]:
    """Every GET page of A with A's own ids (all combinations)."""
    return [(rule.build(values, append_unknown=False)[1], rule.endpoint, values)
            for rule in app.url_map.iter_rules() if is_tenant_rule(rule) and "GET" in rule.methods
            for values in _own_combinations(rule, w.a)]


def test_roles_inside_a_structure(app, client, login_as, worlds):
    """On every page of A (A's ids), a volunteer sees the other volunteer of
    their shift and session by first name only; a trainer sees that person
    in full on their own session's pages only; a coordinator sees everyone."""
    w = worlds
    shift, _workshop, session = w.a.ids["event"][:3]
    pages = _a_get_paths(app, w)

    login_as(w.a.volunteer)
    assert "Xavier" in readable(client.get(f"/{w.a.slug}/agenda/events/{shift}"))  # "Avec vous : Xavier."
    seen = [(path, endpoint) for path, endpoint, _values in pages
            if "Xerxès" in (text := readable(client.get(path))) or "xavier.xerxes@" in text]
    assert seen == []

    login_as(w.a.trainer)
    assert "Xavier Xerxès" in readable(client.get(f"/{w.a.slug}/agenda/events/{session}"))
    assert "Xavier" not in readable(client.get(f"/{w.a.slug}/agenda/events/{shift}"))
    seen = [(path, endpoint) for path, endpoint, values in pages if values.get("event_id") != session
            and ("Xerxès" in (text := readable(client.get(path))) or "xavier.xerxes@" in text)]
    assert seen == []

    login_as(w.a.coordinator)
    for event_id in (shift, session):
        text = readable(client.get(f"/{w.a.slug}/agenda/events/{event_id}"))
        assert "Xavier Xerxès" in text and "Victor Alpha" in text


# --- the answer to a stranger ---------------------------------------------------------------------------


def test_b_pages_answer_like_a_structure_that_does_not_exist(client, login_as, tenant_b, coordinator_a):
    login_as(coordinator_a)
    real = client.get("/structure-b/members")
    missing = client.get("/structure-inexistante/members")
    assert real.status_code == missing.status_code == 404
    # Byte for byte, but for the address itself (echoed in the language switch) and the CSP nonce.
    assert _VOLATILE.sub("", real.get_data(as_text=True)).replace("structure-b", "X") == _VOLATILE.sub(
        "", missing.get_data(as_text=True)).replace("structure-inexistante", "X")


def test_a_member_cannot_be_given_b_site_through_the_form(client, login_as, tenant_a, tenant_b, coordinator_a,
                                                          volunteer_a):
    site_a, site_b = make_site(tenant_a, name="Lieu Alpha"), make_site(tenant_b, name=f"{MARK} Lieu")
    member = db.session.scalars(select(Membership).where(Membership.user_id == volunteer_a.id)).one()
    login_as(coordinator_a)
    response = client.post(f"/structure-a/members/{member.id}", data={"role": "volunteer", "site_id": str(site_b.id)})
    assert response.status_code == 422
    assert not shows_marker(readable(response))
    assert db.session.scalar(select(Membership.site_id).where(Membership.id == member.id)) is None
    assert client.post(f"/structure-a/members/{member.id}",
                       data={"role": "volunteer", "site_id": str(site_a.id)}).status_code == 302
