"""Generate a national-scale data set for the benchmark (``bench/README.md``).

    python bench/generate.py --scale national --database-url postgresql://postgres@127.0.0.1:55432/vp_bench
    python bench/generate.py --scale small --database-url sqlite:///instance/bench.sqlite3

The database is brought to the head migration, must be empty, and receives:
the demo data (``flask seed-demo``: the national training catalogue, the
association's staff account, three small structures), then — in bulk, not
through the per-object services — structures with their sites, rooms,
opening hours, coordinators, trainers and volunteers, a year of weekly series
(26 weeks of history, 26 to come) with every occurrence, enrolments with
attendance, training progress, surveys, self-assessments, shift activity
reports and calendar-feed tokens.

The rows keep the application's rules:
* each series has its RRULE and exactly the occurrences it expands to (local
  time, across daylight-saving changes, with the app's own ``recurrence``);
* every event writes its bookings ("room:<id>", "person:<trainer>") and every
  confirmed place its "person:<volunteer>" booking; within a structure each
  series owns a distinct weekly slot, so no room, trainer or volunteer is ever
  booked twice at once (PostgreSQL's exclusion constraint checks it on load);
* tenant ids agree along every composite foreign key; no event is over its
  capacity; completed modules have their lessons read and quiz passed.

On PostgreSQL rows go in with ``COPY`` (psycopg), elsewhere with batched
``executemany``. Every generated account has the password ``BENCH_PASSWORD``
and a calendar-feed token derived from the ``SECRET_KEY`` in the environment
(the benchmark server must run with the same key).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BENCH_PASSWORD = "bench-password-2026"
BENCH_SECRET_KEY = "bench-secret-key-" + "b" * 40
DOMAIN = "bench.example.org"


@dataclass(frozen=True)
class Scale:
    tenants: int
    volunteers_per_tenant: int
    trainers_per_tenant: int
    rooms: int  # in all
    series_per_tenant: int
    weeks: int
    enrolments_per_volunteer: int


SCALES = {
    # 2,000 structures, 100,000 volunteers, 5,000 rooms, 2,000 × 10 × 52 = 1,040,000 occurrences,
    # 100,000 × 5 = 500,000 enrolments.
    "national": Scale(2000, 50, 2, 5000, 10, 52, 5),
    # A tenth of the national size, still a lot for SQLite.
    "regional": Scale(200, 50, 2, 500, 10, 52, 5),
    "small": Scale(20, 10, 2, 50, 10, 52, 5),
}

REGIONS = ("Auvergne-Rhône-Alpes", "Bourgogne-Franche-Comté", "Bretagne", "Centre-Val de Loire", "Corse",
           "Grand Est", "Hauts-de-France", "Île-de-France", "Normandie", "Nouvelle-Aquitaine", "Occitanie",
           "Pays de la Loire", "Provence-Alpes-Côte d'Azur")
KINDS = ("ccas", "point_passerelle", "town_hall", "association", "other")
FIRST = ("Camille", "Dominique", "Claude", "Sacha", "Alix", "Maxime", "Noa", "Lou", "Yanis", "Inès", "Léa",
         "Hugo", "Nadia", "Karim", "Sophie", "Thomas", "Aïcha", "Julien", "Monique", "Olivier")
LAST = ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
        "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier")
THEMES = ("email", "online_procedures", "job_search", "health", "banking", "housing", "smartphone", "other")
AREAS = ("information", "communication", "content_creation", "safety", "problem_solving")
# Weekly slots (weekday, local start hour); each series of a structure takes its own.
SLOTS = [(wd, h) for wd in range(6) for h in (9, 11, 14, 16)]
# Kind, title, capacity, minutes, with a trainer — cycled over a structure's series.
SERIES_KINDS = (
    ("shift", "Permanence numérique", 3, 120, False),
    ("workshop", "Atelier : bien utiliser son smartphone", 10, 90, True),
    ("shift", "Permanence démarches en ligne", 3, 120, False),
    ("training_session", "Session de formation", 12, 120, True),
    ("shift", "Accueil numérique", 2, 120, False),
    ("workshop", "Atelier : messagerie et pièces jointes", 10, 90, True),
    ("booking", "Réunion d'équipe", None, 60, False),
    ("shift", "Permanence du samedi", 3, 120, False),
    ("training_session", "Session de formation", 12, 120, True),
    ("workshop", "Atelier : France Travail en ligne", 10, 90, True),
)


class Ids:
    """The next free id of each table (ids are given here, sequences fixed at the end)."""

    def __init__(self, conn: Any, tables: Iterable[str]) -> None:
        from sqlalchemy import text

        self.next = {t: (conn.execute(text(f"SELECT COALESCE(MAX(id), 0) FROM {t}")).scalar() or 0) + 1
                     for t in tables}

    def take(self, table: str) -> int:
        value = self.next[table]
        self.next[table] = value + 1
        return value


class Sink:
    """Writes rows (tuples of plain values) into tables: COPY on PostgreSQL, executemany elsewhere."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.is_pg = engine.dialect.name == "postgresql"
        self.counts: dict[str, int] = {}
        self.raw = engine.raw_connection()
        from volunteer_platform.extensions import db

        self.tables = db.metadata.tables

    def write(self, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        if not rows:
            return
        self.counts[table] = self.counts.get(table, 0) + len(rows)
        if self.is_pg:
            cur = self.raw.cursor()
            with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([json.dumps(v) if isinstance(v, (list, dict)) else v for v in row])
            return
        # SQLAlchemy Core does the type conversions (UTC datetimes, JSON) for SQLite.
        with self.engine.begin() as conn:
            conn.execute(self.tables[table].insert(), [dict(zip(columns, row)) for row in rows])

    def commit(self) -> None:
        if self.is_pg:
            self.raw.commit()


def log(message: str, started: float) -> None:
    print(f"[{time.monotonic() - started:7.1f}s] {message}", flush=True)


def build_app(database_url: str) -> Any:
    os.environ.setdefault("SECRET_KEY", BENCH_SECRET_KEY)
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("APP_ENV", "development")
    from volunteer_platform import create_app

    return create_app()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"), required=False)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--tenants", type=int, help="override the number of structures of the scale")
    parser.add_argument("--if-empty", action="store_true",
                        help="do nothing (and succeed) when the database already has data")
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("--database-url (or DATABASE_URL) is required")
    scale = SCALES[args.scale]
    if args.tenants:
        ratio = args.tenants / scale.tenants
        scale = Scale(args.tenants, scale.volunteers_per_tenant, scale.trainers_per_tenant,
                      max(args.tenants, round(scale.rooms * ratio)), scale.series_per_tenant, scale.weeks,
                      scale.enrolments_per_volunteer)
    started = time.monotonic()
    app = build_app(args.database_url)
    with app.app_context():
        generate(app, scale, random.Random(args.seed), started, if_empty=args.if_empty)
    log("done", started)
    return 0


def generate(app: Any, scale: Scale, rnd: random.Random, started: float, *, if_empty: bool = False) -> None:
    import flask_migrate
    from sqlalchemy import select, text

    from volunteer_platform.auth.services import hash_password, hash_token, new_session_token
    from volunteer_platform.calendars.services import _derive
    from volunteer_platform.demo import database_is_empty, seed_demo
    from volunteer_platform.extensions import db
    from volunteer_platform.scheduling import recurrence
    from volunteer_platform.training.models import Lesson, ModuleVersion, PathStep
    from volunteer_platform.training.models import Path as LearningPath

    flask_migrate.upgrade()
    if not database_is_empty():
        if if_empty:
            log("the database already has data: nothing generated", started)
            return
        raise SystemExit("The database already has data: give an empty one (or drop and recreate it).")
    log("migrated; loading the demo data (national catalogue, staff account)", started)
    seed_demo()
    db.session.commit()
    log("demo data loaded", started)

    # The national catalogue the demo created: published versions, their lessons, the paths.
    versions = {}
    for v in db.session.scalars(select(ModuleVersion).where(ModuleVersion.published_at.is_not(None))):
        if v.module.tenant_id is None and v.module.status == "published":
            versions[v.module_id] = v  # the latest published version wins (ids grow)
    lessons: dict[int, list[int]] = {}
    for lesson in db.session.scalars(select(Lesson).order_by(Lesson.position)):
        lessons.setdefault(lesson.version_id, []).append(lesson.id)
    paths = []
    for p in db.session.scalars(select(LearningPath).where(LearningPath.tenant_id.is_(None),
                                                            LearningPath.status == "published")):
        steps = [s.module_id for s in db.session.scalars(
            select(PathStep).where(PathStep.path_id == p.id).order_by(PathStep.position))]
        steps = [m for m in steps if m in versions]
        if steps:
            paths.append((p, steps))
    session_modules = [m for m, v in versions.items() if True]
    if not paths or not session_modules:
        raise SystemExit("the demo catalogue has no published national path")
    engine = db.engine
    db.session.remove()

    tables = ("tenant", "site", "user_account", "membership", "room", "opening_hours", "event_series", "event",
              "enrolment", "booking", "survey_response", "activity_report", "activity_report_theme",
              "self_assessment", "lesson_progress", "quiz_attempt", "module_completion", "path_completion",
              "training_assignment", "qualification_award", "calendar_token")
    with engine.connect() as conn:
        ids = Ids(conn, tables)
    sink = Sink(engine)
    password_hash = hash_password(BENCH_PASSWORD)
    secret_key = app.config["SECRET_KEY"]
    now = datetime.now(UTC).replace(microsecond=0)
    zone = "Europe/Paris"
    today_local = recurrence.utc_to_local(now, zone).date()
    first_monday = today_local - timedelta(days=today_local.weekday()) - timedelta(weeks=scale.weeks // 2)
    rooms_left = scale.rooms
    chunk = 50
    for chunk_start in range(0, scale.tenants, chunk):
        rows: dict[str, list[tuple]] = {t: [] for t in tables}
        for t_index in range(chunk_start, min(scale.tenants, chunk_start + chunk)):
            tenants_left = scale.tenants - t_index
            n_rooms = max(1, round(rooms_left / tenants_left))
            rooms_left -= n_rooms
            _tenant(rows, ids, rnd, t_index, n_rooms, scale, now=now, zone=zone, first_monday=first_monday,
                    password_hash=password_hash, secret_key=secret_key, versions=versions, lessons=lessons,
                    paths=paths, session_modules=session_modules, recurrence=recurrence,
                    hash_token=hash_token, derive=_derive, new_session_token=new_session_token)
        for table in tables:
            if rows[table]:
                columns = COLUMNS[table]
                sink.write(table, columns, rows[table])
        sink.commit()
        done = min(scale.tenants, chunk_start + chunk)
        log(f"{done}/{scale.tenants} structures, {sink.counts.get('event', 0):,} events, "
            f"{sink.counts.get('enrolment', 0):,} enrolments", started)

    if sink.is_pg:
        cur = sink.raw.cursor()
        for table in tables:
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT COALESCE(MAX(id), 1) FROM {table}))")
        sink.raw.commit()
        sink.raw.autocommit = True
        log("sequences set; ANALYZE", started)
        sink.raw.cursor().execute("ANALYZE")
    sink.raw.close()
    # Rows written by COPY went around the application: no session event saw them.
    # Build the dashboards' stored figures (``flask impact-refresh --full``) and
    # renew the feeds' change stamps (``flask touch-feeds``) as an operator would.
    from volunteer_platform.calendars import stamps
    from volunteer_platform.db import utcnow
    from volunteer_platform.impact import aggregates

    log("building the dashboards' stored figures (flask impact-refresh --full)", started)
    aggregates.refresh(now=utcnow(), full=True)
    stamps.touch_all(db.session)
    db.session.commit()
    log("stored figures built; feed stamps renewed", started)
    with engine.connect() as conn:
        for table in tables:
            n = conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar()
            print(f"  {table:24} {n:>12,}")


COLUMNS = {
    "tenant": ("id", "slug", "name", "kind", "timezone", "region", "contact_email", "is_active", "created_at",
               "retention_years"),
    "site": ("id", "tenant_id", "name", "address", "postal_code", "city", "is_active", "created_at"),
    "user_account": ("id", "email", "full_name", "password_hash", "session_token", "is_supervisor", "is_active",
                     "created_at", "last_login_at"),
    "membership": ("id", "tenant_id", "user_id", "role", "site_id", "is_active", "created_at"),
    "room": ("id", "tenant_id", "site_id", "name", "capacity", "equipment", "is_active"),
    "opening_hours": ("id", "room_id", "weekday", "opens_at", "closes_at"),
    "event_series": ("id", "tenant_id", "uid", "rrule", "dtstart_local", "duration_minutes", "timezone",
                     "skipped_dates", "created_at", "updated_at", "sequence"),
    "event": ("id", "tenant_id", "uid", "kind", "title", "description", "what_to_bring", "starts_at", "ends_at",
              "room_id", "trainer_id", "module_id", "capacity", "status", "cancelled_at", "series_id",
              "recurrence_local", "is_exception", "sequence", "created_by_id", "created_at", "updated_at"),
    "booking": ("id", "event_id", "enrolment_id", "resource", "starts_at", "ends_at", "is_active"),
    "enrolment": ("id", "tenant_id", "event_id", "user_id", "status", "created_at", "confirmed_at",
                  "cancelled_at", "cancelled_late", "attendance", "attendance_marked_by_id"),
    "survey_response": ("id", "tenant_id", "event_id", "user_id", "satisfaction", "more_able_to_help",
                        "at_ease_with_computer", "comment", "submitted_at"),
    "activity_report": ("id", "tenant_id", "event_id", "user_id", "minutes", "submitted_at", "updated_at"),
    "activity_report_theme": ("id", "report_id", "theme", "people"),
    "self_assessment": ("id", "tenant_id", "user_id", "path_id", "stage", "area", "confidence", "submitted_at"),
    "lesson_progress": ("id", "user_id", "lesson_id", "completed_at"),
    "quiz_attempt": ("id", "user_id", "version_id", "score", "passed", "answers", "submitted_at"),
    "module_completion": ("id", "user_id", "version_id", "module_id", "tenant_id", "completed_at"),
    "path_completion": ("id", "user_id", "path_id", "tenant_id", "completed_at"),
    "training_assignment": ("id", "tenant_id", "user_id", "module_id", "path_id", "due_on", "assigned_by_id",
                            "created_at"),
    "qualification_award": ("id", "tenant_id", "user_id", "qualification_id", "source", "module_version_id",
                            "path_id", "awarded_at", "expires_at"),
    "calendar_token": ("id", "user_id", "key", "token_hash", "created_at"),
}


def _person(rows: dict, ids: Ids, rnd: random.Random, email: str, *, now: datetime, password_hash: str,
            secret_key: str, hash_token: Any, derive: Any, new_session_token: Any) -> int:
    user_id = ids.take("user_account")
    name = f"{rnd.choice(FIRST)} {rnd.choice(LAST)}"
    created = now - timedelta(days=rnd.randint(200, 900))
    rows["user_account"].append((user_id, email, name, password_hash, new_session_token(), False, True, created,
                                 now - timedelta(days=rnd.randint(0, 60))))
    key = f"{user_id:016x}" + os.urandom(24).hex()
    rows["calendar_token"].append((ids.take("calendar_token"), user_id, key, hash_token(derive(key, secret_key)),
                                   created))
    return user_id


def feed_token(user_id_key: str, secret_key: str) -> str:
    """The feed token of a generated account, from its stored key (the benchmark reads keys back)."""
    from volunteer_platform.calendars.services import _derive

    return _derive(user_id_key, secret_key)


def _tenant(rows: dict, ids: Ids, rnd: random.Random, t_index: int, n_rooms: int, scale: Scale, *, now: datetime,
            zone: str, first_monday: date, password_hash: str, secret_key: str, versions: dict,
            lessons: dict, paths: list, session_modules: list, recurrence: Any, hash_token: Any, derive: Any,
            new_session_token: Any) -> None:
    person = {"now": now, "password_hash": password_hash, "secret_key": secret_key, "hash_token": hash_token,
                  "derive": derive, "new_session_token": new_session_token}
    tenant_id = ids.take("tenant")
    slug = f"s{t_index:04d}"
    created = now - timedelta(days=800)
    rows["tenant"].append((tenant_id, slug, f"Structure {t_index:04d}", KINDS[t_index % len(KINDS)], zone,
                           REGIONS[t_index % len(REGIONS)], f"contact@{slug}.{DOMAIN}", True, created, 3))
    sites = []
    for s in range(1 + (n_rooms > 2)):
        site_id = ids.take("site")
        sites.append(site_id)
        rows["site"].append((site_id, tenant_id, f"Site {s + 1}", f"{t_index % 200 + 1} rue de la Gare",
                             f"{(t_index * 7) % 95 + 1:02d}000", f"Ville {t_index:04d}", True, created))
    coordinator = _person(rows, ids, rnd, f"coordination@{slug}.{DOMAIN}", **person)
    rows["membership"].append((ids.take("membership"), tenant_id, coordinator, "coordinator", sites[0], True,
                               created))
    trainers = []
    for k in range(scale.trainers_per_tenant):
        trainer = _person(rows, ids, rnd, f"formation{k + 1}@{slug}.{DOMAIN}", **person)
        trainers.append(trainer)
        rows["membership"].append((ids.take("membership"), tenant_id, trainer, "trainer", sites[k % len(sites)],
                                   True, created))
    volunteers = []
    for k in range(scale.volunteers_per_tenant):
        volunteer = _person(rows, ids, rnd, f"benevole{k + 1}@{slug}.{DOMAIN}", **person)
        volunteers.append(volunteer)
        rows["membership"].append((ids.take("membership"), tenant_id, volunteer, "volunteer",
                                   sites[k % len(sites)], True, created + timedelta(days=rnd.randint(0, 400))))
    rooms = []
    for r in range(n_rooms):
        room_id = ids.take("room")
        rooms.append(room_id)
        rows["room"].append((room_id, tenant_id, sites[r % len(sites)], f"Salle {r + 1}", 12 + 4 * (r % 3),
                             ["computers", "wifi"] if r % 2 == 0 else ["wifi", "projector"], True))
        for wd in range(6):
            rows["opening_hours"].append((ids.take("opening_hours"), room_id, wd, _t(8, 30), _t(19, 0)))

    # Series: each takes its own weekly slot, so nothing in the structure overlaps.
    slots = rnd.sample(SLOTS, scale.series_per_tenant)
    open_events: list[list] = []  # [event_id, kind, starts_at, ends_at, capacity, taken]
    for k, (weekday, hour) in enumerate(slots):
        kind, title, capacity, minutes, with_trainer = SERIES_KINDS[k % len(SERIES_KINDS)]
        room_id = rooms[k % len(rooms)]
        trainer_id = trainers[k % len(trainers)] if with_trainer else None
        module_id = rnd.choice(session_modules) if kind == "training_session" else None
        dtstart_local = datetime.combine(first_monday + timedelta(days=weekday), _t(hour, 0))
        rule = recurrence.to_rrule(recurrence.Rule(recurrence.Frequency.WEEKLY, count=scale.weeks), dtstart_local)
        series_id = ids.take("event_series")
        series_created = recurrence.local_to_utc(dtstart_local, zone) - timedelta(days=14)
        rows["event_series"].append((series_id, tenant_id, f"bench-series-{series_id}@aidants-numeriques", rule,
                                     dtstart_local, minutes, zone, [], series_created, series_created, 0))
        for local_start in recurrence.expand(rule, dtstart_local):
            starts_at = recurrence.local_to_utc(local_start, zone)
            ends_at = starts_at + timedelta(minutes=minutes)
            event_id = ids.take("event")
            cancelled = rnd.random() < 0.01
            rows["event"].append((event_id, tenant_id, f"bench-{event_id}@aidants-numeriques", kind, title, "", "",
                                  starts_at, ends_at, room_id, trainer_id, module_id, capacity,
                                  "cancelled" if cancelled else "scheduled",
                                  starts_at - timedelta(days=3) if cancelled else None, series_id, local_start,
                                  False, 1 if cancelled else 0, coordinator, series_created, series_created))
            resources = [f"room:{room_id}"] + ([f"person:{trainer_id}"] if trainer_id else [])
            for resource in resources:
                rows["booking"].append((ids.take("booking"), event_id, None, resource, starts_at, ends_at,
                                        not cancelled))
            if capacity and not cancelled:
                open_events.append([event_id, kind, starts_at, ends_at, capacity, 0])

    # Enrolments: each volunteer takes places on distinct events (never two at once, see above).
    for volunteer in volunteers:
        taken = 0
        for ev in rnd.sample(open_events, min(len(open_events), scale.enrolments_per_volunteer * 3)):
            if taken == scale.enrolments_per_volunteer:
                break
            event_id, kind, starts_at, ends_at, capacity, places = ev
            if places >= capacity:
                continue
            ev[5] += 1
            taken += 1
            enrolment_id = ids.take("enrolment")
            signed_up = min(starts_at - timedelta(days=rnd.randint(1, 30)), now)
            past = ends_at < now
            cancelled = rnd.random() < 0.05
            attendance = None
            if past and not cancelled:
                attendance = "present" if rnd.random() < 0.85 else "absent"
            rows["enrolment"].append((enrolment_id, tenant_id, event_id, volunteer,
                                      "cancelled" if cancelled else "confirmed", signed_up, signed_up,
                                      signed_up + timedelta(hours=2) if cancelled else None, False, attendance,
                                      coordinator if attendance else None))
            if cancelled:
                ev[5] -= 1
                continue
            rows["booking"].append((ids.take("booking"), event_id, enrolment_id, f"person:{volunteer}", starts_at,
                                    ends_at, True))
            if attendance != "present":
                continue
            if kind in ("training_session", "workshop") and rnd.random() < 0.4:
                rows["survey_response"].append((ids.take("survey_response"), tenant_id, event_id, volunteer,
                                                rnd.choice((3, 4, 4, 5, 5)), rnd.random() < 0.8,
                                                rnd.random() < 0.7, "", ends_at + timedelta(hours=20)))
            elif kind == "shift" and rnd.random() < 0.6:
                report_id = ids.take("activity_report")
                rows["activity_report"].append((report_id, tenant_id, event_id, volunteer, 120,
                                                ends_at + timedelta(hours=1), ends_at + timedelta(hours=1)))
                for theme in rnd.sample(THEMES, rnd.randint(1, 3)):
                    rows["activity_report_theme"].append((ids.take("activity_report_theme"), report_id, theme,
                                                          rnd.randint(1, 5)))

    # Training: everyone follows a path; progress along it, self-assessment at start (and end).
    for volunteer in volunteers:
        path, steps = paths[rnd.randrange(len(paths))]
        assigned = now - timedelta(days=rnd.randint(30, 300))
        rows["training_assignment"].append((ids.take("training_assignment"), tenant_id, volunteer, None, path.id,
                                            None, coordinator, assigned))
        for area in AREAS:
            rows["self_assessment"].append((ids.take("self_assessment"), tenant_id, volunteer, path.id, "start",
                                            area, rnd.randint(1, 3), assigned + timedelta(days=1)))
        done = rnd.randint(0, len(steps))
        at = assigned + timedelta(days=2)
        completed_all = True
        for position, module_id in enumerate(steps):
            version = versions[module_id]
            if version.requires_attendance:
                completed_all = False
                break  # needs an in-person session: left out of the generated progress
            lesson_ids = lessons.get(version.id, [])
            read = lesson_ids if position < done else lesson_ids[: rnd.randint(0, len(lesson_ids))]
            for lesson_id in read:
                at = min(at + timedelta(hours=rnd.randint(1, 72)), now)
                rows["lesson_progress"].append((ids.take("lesson_progress"), volunteer, lesson_id, at))
            if position >= done:
                completed_all = False
                break
            rows["quiz_attempt"].append((ids.take("quiz_attempt"), volunteer, version.id, 100, True, {}, at))
            rows["module_completion"].append((ids.take("module_completion"), volunteer, version.id, module_id,
                                              tenant_id, at))
            if version.qualification_id:
                rows["qualification_award"].append((ids.take("qualification_award"), tenant_id, volunteer,
                                                    version.qualification_id, "module", version.id, None, at,
                                                    None))
        if completed_all:
            rows["path_completion"].append((ids.take("path_completion"), volunteer, path.id, tenant_id, at))
            for area in AREAS:
                rows["self_assessment"].append((ids.take("self_assessment"), tenant_id, volunteer, path.id, "end",
                                                area, rnd.randint(2, 4), at))


def _t(hour: int, minute: int) -> Any:
    from datetime import time as time_of_day

    return time_of_day(hour, minute)


if __name__ == "__main__":
    raise SystemExit(main())
