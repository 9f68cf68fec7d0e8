"""The benchmark of issue 9 (``make bench``; figures in ``bench/README.md``).

    python bench/run.py --database-url postgresql://postgres@127.0.0.1:55432/vp_bench

Against a database filled by ``bench/generate.py``, it:

1. starts the app under gunicorn (sync workers) on a loopback port, with the
   generator's ``SECRET_KEY`` (the feed tokens derive from it) and
   ``RATELIMIT_ENABLED=false`` (one address signs in every client and
   hammers the pages: the limits would answer 429);
2. signs each client in once through the login form (a different volunteer
   and coordinator per client, each from another structure);
3. warms every page, then measures each for ``--duration`` seconds with
   ``--clients`` concurrent clients (threads, one request at a time each):
   median, 95th percentile and throughput, and each page's median as a ratio
   to ``/healthz`` measured the same way just before it (the framework's
   floor; ``--floor-duration`` seconds) — and each feed's as a ratio to
   ``/bench/one-query`` too, the floor of an answer that reads the database
   (``bench/wsgi.py``);
4. times, in this process, serialising the same events as the personal and
   room feeds with the bare icalendar library, for the feed ratios;
5. runs the sign-up contention test: many volunteers post sign-ups for the
   same few shifts at once; then checks there is no overbooking and that every
   refusal was "full".

Results are printed as Markdown tables and written as JSON (``--output``).
Python threads share one interpreter lock, so the client competes with the
server for the CPU on a small machine: the ratios, not the absolute figures,
are what to compare between machines.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.generate import BENCH_PASSWORD, BENCH_SECRET_KEY, DOMAIN

SUPERVISOR = ("supervision@demo.example.org", "demo-benevolat-2026")
CONTENTION_TITLE = "Permanence très demandée"
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


# --- HTTP client --------------------------------------------------------------------------------


class Client:
    """One browser: its own cookies; a new connection when the server closes it (sync workers)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, *, body: dict[str, str] | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, bytes, http.client.HTTPMessage, float]:
        all_headers = dict(headers or {})
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if body is not None:
            data = urllib.parse.urlencode(body).encode()
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            try:
                self.conn.request(method, path, body=data, headers=all_headers)
                response = self.conn.getresponse()
                payload = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        elapsed = time.perf_counter() - started
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        if response.will_close:
            self.conn.close()
            self.conn = None
        return response.status, payload, response.headers, elapsed

    def get(self, path: str, **kwargs: Any) -> tuple[int, bytes, http.client.HTTPMessage, float]:
        return self.request("GET", path, **kwargs)

    def csrf(self, path: str) -> str:
        status, body, _h, _t = self.get(path)
        match = CSRF_RE.search(body.decode())
        if not match:
            raise RuntimeError(f"no CSRF token on {path} ({status})")
        return match.group(1)

    def sign_in(self, email: str, password: str) -> None:
        token = self.csrf("/login")
        status, _b, _headers, _t = self.request("POST", "/login", body={
            "csrf_token": token, "email": email, "password": password})
        if status not in (302, 303):
            raise RuntimeError(f"sign-in of {email} failed: {status}")


# --- measuring ------------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    wall: float = 0.0
    bytes: int = 0

    @property
    def median_ms(self) -> float:
        return statistics.median(self.latencies) * 1000

    @property
    def p95_ms(self) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] * 1000

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.wall if self.wall else 0.0


def measure(name: str, clients: list[Client], request: Callable[[int, Client], tuple], *, duration: float,
            expect: int = 200) -> Result:
    """Each client sends requests one after the other for ``duration`` seconds."""
    result = Result(name)
    lock = threading.Lock()
    start = threading.Barrier(len(clients) + 1)
    deadline = [0.0]

    def work(index: int, client: Client) -> None:
        start.wait()
        while True:
            status, body, _h, elapsed = request(index, client)
            with lock:
                result.latencies.append(elapsed)
                result.statuses[status] = result.statuses.get(status, 0) + 1
                result.bytes = len(body)
            if time.perf_counter() >= deadline[0]:
                return

    threads = [threading.Thread(target=work, args=(i, c)) for i, c in enumerate(clients)]
    for t in threads:
        t.start()
    began = time.perf_counter()
    deadline[0] = began + duration
    start.wait()
    for t in threads:
        t.join()
    result.wall = time.perf_counter() - began
    unexpected = {s: n for s, n in result.statuses.items() if s != expect}
    if unexpected:
        print(f"  ! {name}: unexpected statuses {unexpected}", flush=True)
    return result


# --- the data the clients use -------------------------------------------------------------------


@dataclass
class Persona:
    slug: str
    volunteer_email: str
    coordinator_email: str
    volunteer_token: str
    coordinator_token: str
    room_id: int


def personas(app: Any, n: int) -> list[Persona]:
    """``n`` generated structures spread over the data set, with their busiest room."""
    from sqlalchemy import select

    from volunteer_platform.extensions import db
    from volunteer_platform.tenants.models import Tenant

    with app.app_context():
        slugs = list(db.session.scalars(select(Tenant.slug).where(Tenant.slug.like("s____")).order_by(Tenant.id)))
    return [persona(app, slugs[(i * len(slugs)) // n]) for i in range(n)]


def persona(app: Any, slug: str) -> Persona:
    """Generated structure ``slug``'s first volunteer and coordinator, their feed tokens, its busiest room."""
    from sqlalchemy import func, select

    from volunteer_platform.auth.models import User
    from volunteer_platform.calendars.models import CalendarToken
    from volunteer_platform.calendars.services import _derive
    from volunteer_platform.extensions import db
    from volunteer_platform.scheduling.models import Event
    from volunteer_platform.tenants.models import Tenant

    with app.app_context():
        tenant = db.session.scalars(select(Tenant).where(Tenant.slug == slug)).one()
        room_id = db.session.execute(
            select(Event.room_id).where(Event.tenant_id == tenant.id, Event.room_id.is_not(None))
            .group_by(Event.room_id).order_by(func.count().desc()).limit(1)).scalar_one()

        def token(email: str) -> str:
            key = db.session.execute(select(CalendarToken.key).join(User, User.id == CalendarToken.user_id)
                                     .where(User.email == email)).scalar_one()
            return _derive(key, app.config["SECRET_KEY"])

        volunteer, coordinator = f"benevole1@{slug}.{DOMAIN}", f"coordination@{slug}.{DOMAIN}"
        return Persona(slug, volunteer, coordinator, token(volunteer), token(coordinator), room_id)


# --- the bare icalendar baseline ---------------------------------------------------------------------


def bare_serialisation(app: Any, persona: Persona, repeat: int = 20) -> dict[str, dict[str, float]]:
    """Median time to serialise the events of the personal and room feeds with the bare
    icalendar library (and with the app's own feed builder, uncached), in this process."""
    import icalendar
    from sqlalchemy import select

    from volunteer_platform.auth.models import User
    from volunteer_platform.calendars import queries, services
    from volunteer_platform.calendars.services import FeedSpec
    from volunteer_platform.db import utcnow
    from volunteer_platform.extensions import db
    from volunteer_platform.tenants.models import Tenant

    def bare(rows: list) -> bytes:
        cal = icalendar.Calendar()
        cal.add("prodid", "-//bench//bare icalendar//FR")
        cal.add("version", "2.0")
        for row in rows:
            e = row.event
            item = icalendar.Event()
            item.add("uid", e.uid)
            item.add("dtstamp", e.updated_at)
            item.add("dtstart", e.starts_at)
            item.add("dtend", e.ends_at)
            item.add("summary", e.title)
            if row.room is not None:
                item.add("location", f"{row.room.name}, {row.site.full_address if row.site else ''}")
            item.add("description", e.description or "")
            item.add("status", "CANCELLED" if e.is_cancelled else "CONFIRMED")
            cal.add_component(item)
        return cal.to_ical()

    def timed(fn: Callable[[], Any]) -> float:
        samples = []
        for _ in range(repeat):
            began = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - began)
        return statistics.median(samples) * 1000

    out = {}
    with app.app_context(), app.test_request_context():
        user = db.session.scalars(select(User).where(User.email == persona.volunteer_email)).one()
        tenant = db.session.scalars(select(Tenant).where(Tenant.slug == persona.slug)).one()
        now = utcnow()
        feeds = {
            "personal feed": (queries.commitments(user), user.id,
                              FeedSpec(name="Mon agenda", timezone=tenant.timezone, reader_id=user.id,
                                       show_structure=True)),
            "room feed": (queries.structure_events(tenant, room_id=persona.room_id), None,
                          FeedSpec(name="Salle", timezone=tenant.timezone)),
        }
        for name, (match, reader, spec) in feeds.items():
            rows = queries.feed_rows(match, now=now, enrolments_of=reader)
            out[name] = {
                "events": len(rows),
                "bare_icalendar_ms": timed(lambda rows=rows: bare(rows)),
                "app_builder_uncached_ms": timed(lambda rows=rows, spec=spec: services.feed_bytes(rows, spec)),
                "query_ms": timed(lambda m=match, r=reader: queries.feed_rows(m, now=now, enrolments_of=r)),
            }
        db.session.remove()
    return out


# --- sign-up under contention ----------------------------------------------------------------------


def contention(app: Any, port: int, *, people: int, shifts: int, capacity: int) -> dict[str, Any]:
    """``people`` volunteers of one structure each try every one of ``shifts`` new shifts at once."""
    from sqlalchemy import func, select

    from volunteer_platform.db import utcnow
    from volunteer_platform.extensions import db
    from volunteer_platform.scheduling import recurrence, services
    from volunteer_platform.scheduling.models import Booking, Enrolment, EnrolmentStatus, EventKind
    from volunteer_platform.tenants.models import Tenant

    with app.app_context():
        tenant = db.session.scalars(select(Tenant).where(Tenant.slug.like("s____")).order_by(Tenant.id.desc())
                                    .limit(1)).one()
        slug, tenant_id = tenant.slug, tenant.id
        _remove_contention_shifts(tenant_id)  # an earlier run's shifts would be "another commitment"
        # Sunday: generated series use Monday to Saturday, so nobody has another commitment then.
        today = recurrence.utc_to_local(utcnow(), tenant.timezone).date()
        sunday = today + timedelta(days=(6 - today.weekday()) or 7)
        stamp = int(time.time()) % 100000
        event_ids = []
        for k in range(shifts):
            starts = recurrence.local_to_utc(datetime.combine(sunday, dt_time(8 + 3 * k, 0)),
                                             tenant.timezone)
            fields = services.EventFields(kind=EventKind.SHIFT, title=f"{CONTENTION_TITLE} {stamp}-{k}",
                                          starts_at=starts, ends_at=starts + timedelta(hours=2), capacity=capacity)
            event_ids.append(services.create_event(tenant, fields, created_by=None, now=utcnow()).id)
        db.session.commit()
        db.session.remove()

    clients = []
    for k in range(people):
        client = Client(port)
        client.sign_in(f"benevole{k + 1}@{slug}.{DOMAIN}", BENCH_PASSWORD)
        client.token = client.csrf(f"/{slug}/agenda/open")  # type: ignore[attr-defined]
        clients.append(client)

    outcomes: list[tuple[int, int, str, float]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(people)

    def work(client: Client) -> None:
        order = random.sample(event_ids, len(event_ids))
        barrier.wait()
        for event_id in order:
            status, body, _h, elapsed = client.request(
                "POST", f"/{slug}/agenda/events/{event_id}/enrol", body={"csrf_token": client.token})
            text = body.decode(errors="replace")
            kind = ("confirmed" if status in (302, 303) else
                    "full" if status == 409 and "complet" in text else f"error {status}")
            with lock:
                outcomes.append((event_id, status, kind, elapsed))

    threads = [threading.Thread(target=work, args=(c,)) for c in clients]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - began

    with app.app_context():
        confirmed = dict(db.session.execute(
            select(Enrolment.event_id, func.count()).where(Enrolment.event_id.in_(event_ids),
                                                           Enrolment.status == EnrolmentStatus.CONFIRMED)
            .group_by(Enrolment.event_id)).all())
        bookings = dict(db.session.execute(
            select(Booking.event_id, func.count()).where(Booking.event_id.in_(event_ids),
                                                         Booking.enrolment_id.is_not(None),
                                                         Booking.is_active.is_(True))
            .group_by(Booking.event_id)).all())
        _remove_contention_shifts(tenant_id)
        db.session.remove()
    kinds: dict[str, int] = {}
    for _e, _s, kind, _t in outcomes:
        kinds[kind] = kinds.get(kind, 0) + 1
    latencies = sorted(t for *_x, t in outcomes)
    return {
        "structure": slug, "people": people, "shifts": shifts, "capacity": capacity,
        "requests": len(outcomes), "outcomes": kinds,
        "confirmed_per_shift": [confirmed.get(e, 0) for e in event_ids],
        "bookings_per_shift": [bookings.get(e, 0) for e in event_ids],
        "overbooked": any(confirmed.get(e, 0) > capacity for e in event_ids),
        "median_ms": statistics.median(latencies) * 1000,
        "p95_ms": latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))] * 1000,
        "throughput": len(outcomes) / wall,
    }


def _remove_contention_shifts(tenant_id: int) -> None:
    """Delete the shifts made for the contention test (their places and bookings go with them)."""
    from sqlalchemy import delete

    from volunteer_platform.extensions import db
    from volunteer_platform.scheduling.models import Event

    db.session.execute(delete(Event).where(Event.tenant_id == tenant_id,
                                           Event.title.like(f"{CONTENTION_TITLE}%")))
    db.session.commit()


# --- the server ----------------------------------------------------------------------------------------


def start_server(database_url: str, port: int, workers: int) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": os.environ.get("SECRET_KEY", BENCH_SECRET_KEY),
           "RATELIMIT_ENABLED": "false", "APP_ENV": "development", "BASE_URL": f"http://127.0.0.1:{port}"}
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen(
        [str(gunicorn), "--workers", str(workers), "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
         "--timeout", "120", "bench.wsgi:app"], cwd=ROOT, env=env)
    for _ in range(200):
        try:
            if Client(port).get("/healthz")[0] == 200:
                return server
        except OSError:
            time.sleep(0.1)
    server.terminate()
    raise RuntimeError("gunicorn did not start")


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {"cpus": os.cpu_count(), "python": sys.version.split()[0]}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        mem = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
        info["memory_gb"] = round(int(mem) / 1024 / 1024, 1)
    except OSError:
        pass
    return info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark of the main pages, feeds and sign-up (issue 9).")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per page")
    parser.add_argument("--floor-duration", type=float, default=4.0,
                        help="seconds of each floor measured just before each page")
    parser.add_argument("--only", help="comma-separated page names (default: all)")
    parser.add_argument("--contention-people", type=int, default=40)
    parser.add_argument("--output", default=str(ROOT / "bench" / "results.json"))
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("--database-url (or DATABASE_URL) is required")

    os.environ.setdefault("SECRET_KEY", BENCH_SECRET_KEY)
    os.environ["DATABASE_URL"] = args.database_url
    os.environ["RATELIMIT_ENABLED"] = "false"
    from volunteer_platform import create_app

    app = create_app()
    people = personas(app, args.clients)
    print(f"structures used: {', '.join(p.slug for p in people)}", flush=True)
    server = start_server(args.database_url, args.port, args.workers)
    results: dict[str, Any] = {"machine": machine(), "workers": args.workers, "clients": args.clients,
                               "duration_s": args.duration, "pages": {}}
    try:
        volunteers, coordinators, supervisors, anonymous = [], [], [], []
        for p in people:
            v, c, s = Client(args.port), Client(args.port), Client(args.port)
            v.sign_in(p.volunteer_email, BENCH_PASSWORD)
            c.sign_in(p.coordinator_email, BENCH_PASSWORD)
            s.sign_in(*SUPERVISOR)
            volunteers.append(v)
            coordinators.append(c)
            supervisors.append(s)
            anonymous.append(Client(args.port))
        etags: dict[tuple[str, int], str] = {}

        def feed(kind: str, conditional: bool) -> Callable[[int, Client], tuple]:
            def url(i: int) -> str:
                p = people[i]
                if kind == "personal":
                    return f"/feeds/{p.volunteer_token}/me.ics"
                return f"/feeds/{p.coordinator_token}/{p.slug}/rooms/{p.room_id}.ics"

            def request(i: int, client: Client) -> tuple:
                if conditional and (kind, i) not in etags:  # measured alone (--only): fetch it once
                    etags[(kind, i)] = client.get(url(i))[2]["ETag"]
                headers = {"If-None-Match": etags[(kind, i)]} if conditional else None
                response = client.get(url(i), headers=headers)
                if not conditional:
                    etags[(kind, i)] = response[2]["ETag"]
                return response
            return request

        pages: dict[str, tuple[list[Client], Callable[[int, Client], tuple], int]] = {
            "floor: /healthz": (anonymous, lambda i, c: c.get("/healthz"), 200),
            "floor: one query": (anonymous, lambda i, c: c.get("/bench/one-query"), 200),
            "volunteer home": (volunteers, lambda i, c: c.get(f"/{people[i].slug}/"), 200),
            "open shifts": (volunteers, lambda i, c: c.get(f"/{people[i].slug}/agenda/open"), 200),
            "week agenda": (volunteers, lambda i, c: c.get(f"/{people[i].slug}/agenda/week"), 200),
            "my agenda": (volunteers, lambda i, c: c.get("/me/agenda"), 200),
            "coordinator dashboard": (coordinators, lambda i, c: c.get(f"/{people[i].slug}/impact/"), 200),
            "association dashboard": (supervisors, lambda i, c: c.get("/supervision/impact/"), 200),
            "personal feed (full)": (anonymous, feed("personal", False), 200),
            "personal feed (304)": (anonymous, feed("personal", True), 304),
            "room feed (full)": (anonymous, feed("room", False), 200),
            "room feed (304)": (anonymous, feed("room", True), 304),
        }
        only = set(args.only.split(",")) if args.only else None
        floors = {name: pages[name] for name in ("floor: /healthz", "floor: one query")}
        for name, (clients, request, expect) in pages.items():
            if only and name not in only and not name.startswith("floor"):
                continue
            rounds = args.workers if "feed" in name else 1  # feeds: warm each worker's bytes cache
            for _ in range(rounds):
                for i, c in enumerate(clients):
                    request(i, c)
            adjacent = {}
            if not name.startswith("floor"):
                # The machine's speed drifts during a run (other virtual machines, caches): each
                # page is compared with the floors measured just before it, not at the start.
                for floor_name, (f_clients, f_request, f_expect) in floors.items():
                    if floor_name == "floor: /healthz" or "feed" in name:
                        adjacent[floor_name] = measure(floor_name, f_clients, f_request,
                                                       duration=args.floor_duration, expect=f_expect).median_ms
            r = measure(name, clients, request, duration=args.duration, expect=expect)
            results["pages"][name] = {"median_ms": r.median_ms, "p95_ms": r.p95_ms, "rps": r.throughput,
                                      "requests": len(r.latencies), "statuses": r.statuses, "bytes": r.bytes,
                                      "adjacent_floors_ms": adjacent}
            print(f"  {name:28} median {r.median_ms:8.1f} ms  p95 {r.p95_ms:8.1f} ms  {r.throughput:7.1f} req/s "
                  f"({len(r.latencies)} requests)"
                  + "".join(f"  [{k}: {v:.1f} ms]" for k, v in adjacent.items()), flush=True)
        for name, page in results["pages"].items():
            floor = page["adjacent_floors_ms"].get("floor: /healthz") or results["pages"]["floor: /healthz"]["median_ms"]
            page["floor_ms"] = floor
            page["x_floor"] = page["median_ms"] / floor
            if "floor: one query" in page["adjacent_floors_ms"]:  # a poll reads the database once at least
                page["x_one_query"] = page["median_ms"] / page["adjacent_floors_ms"]["floor: one query"]
        results["bare_icalendar"] = bare_serialisation(app, people[0])
        for kind in ("personal", "room"):
            full = results["pages"].get(f"{kind} feed (full)")
            if full:
                base = results["bare_icalendar"][f"{kind} feed"]
                full["x_bare_icalendar"] = full["median_ms"] / base["bare_icalendar_ms"]
                # A 4-event feed serialises in half a millisecond: the HTTP round trip alone is
                # several times that. Also compare with the floor plus the bare serialisation.
                full["x_floor_plus_bare"] = full["median_ms"] / (full["floor_ms"] + base["bare_icalendar_ms"])
        if not only or "contention" in only:
            results["contention"] = contention(app, args.port, people=args.contention_people, shifts=3, capacity=3)
    finally:
        server.terminate()
        server.wait(timeout=30)

    Path(args.output).write_text(json.dumps(results, indent=2, default=str))
    print(report(results))
    return 0


def report(results: dict[str, Any]) -> str:
    lines = ["", "| page | median (ms) | p95 (ms) | req/s | adjacent floor (ms) | × floor (median) | other ratio |",
             "|---|---:|---:|---:|---:|---:|---|"]
    for name, page in results["pages"].items():
        others = []
        if "x_bare_icalendar" in page:
            others += [f"{page['x_bare_icalendar']:.2f} × bare icalendar",
                       f"{page['x_floor_plus_bare']:.2f} × (floor + bare)"]
        if "x_one_query" in page:
            others.append(f"{page['x_one_query']:.2f} × one query")
        other = ", ".join(others)
        lines.append(f"| {name} | {page['median_ms']:.1f} | {page['p95_ms']:.1f} | {page['rps']:.1f} | "
                     f"{page['floor_ms']:.1f} | {page['x_floor']:.2f} | {other} |")
    bare = results.get("bare_icalendar", {})
    if bare:
        lines += ["", "| feed | events | query (ms) | bare icalendar (ms) | app builder, uncached (ms) |",
                  "|---|---:|---:|---:|---:|"]
        for name, b in bare.items():
            lines.append(f"| {name} | {b['events']} | {b['query_ms']:.1f} | {b['bare_icalendar_ms']:.1f} | "
                         f"{b['app_builder_uncached_ms']:.1f} |")
    c = results.get("contention")
    if c:
        lines += ["", (f"Sign-up contention: {c['people']} volunteers × {c['shifts']} shifts of {c['capacity']} "
                      f"places ({c['structure']}): outcomes {c['outcomes']}, confirmed per shift "
                      f"{c['confirmed_per_shift']}, bookings per shift {c['bookings_per_shift']}, overbooked: "
                      f"{c['overbooked']}; median {c['median_ms']:.0f} ms, p95 {c['p95_ms']:.0f} ms, "
                      f"{c['throughput']:.1f} req/s.")]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
