"""Where one request of the main volunteer pages spends its time, in this process.

    python bench/profile_pages.py --database-url postgresql://postgres@127.0.0.1:55432/vp_bench
    python bench/profile_pages.py --database-url … --profile "open shifts" --top 40

Signs a volunteer of each chosen structure in through the login form (Flask's
test client, no network), warms each page, then requests it ``--repeat``
times and prints, per page: the median wall time of one request, the number of
SQL statements and the time spent in them (cursor execute + fetch, from the
engine's events), and the rest (Python: building statements, loading rows,
rendering). The feeds are read by token, in full (from the worker's cache once
built) and with the ETag back (304). ``--profile`` runs cProfile over the repeats of one page and
prints the functions with the most cumulative and own time.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.generate import BENCH_PASSWORD, BENCH_SECRET_KEY, DOMAIN
from bench.run import persona
from volunteer_platform.calendars.services import forget_feeds

PAGES = {
    "volunteer home": "/{slug}/",
    "open shifts": "/{slug}/agenda/open",
    "week agenda": "/{slug}/agenda/week",
    "my agenda": "/me/agenda",
    "floor: /healthz": "/healthz",
}
#: Read by token, without a session; "(304)" sends back the ETag of a first full answer;
#: "(cold worker)" empties the process's feed cache before each request, as a worker that
#: has not built this version yet (or has dropped it: 32 MB hold a few thousand feeds).
FEEDS = {
    "personal feed (full)": "/feeds/{p.volunteer_token}/me.ics",
    "personal feed (304)": "/feeds/{p.volunteer_token}/me.ics",
    "personal feed (cold worker)": "/feeds/{p.volunteer_token}/me.ics",
    "room feed (full)": "/feeds/{p.coordinator_token}/{p.slug}/rooms/{p.room_id}.ics",
    "room feed (304)": "/feeds/{p.coordinator_token}/{p.slug}/rooms/{p.room_id}.ics",
    "room feed (cold worker)": "/feeds/{p.coordinator_token}/{p.slug}/rooms/{p.room_id}.ics",
}


class SqlClock:
    """Counts statements and the time between ``before_cursor_execute`` and the
    end of the fetch (approximated by ``after_cursor_execute``; rows are fetched
    by the ORM afterwards, which shows up as Python time)."""

    def __init__(self, engine) -> None:
        from sqlalchemy import event

        self.count = 0
        self.seconds = 0.0
        self._started: list[float] = []
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, *args) -> None:
        self._started.append(time.perf_counter())

    def _after(self, *args) -> None:
        self.seconds += time.perf_counter() - self._started.pop()
        self.count += 1

    def reset(self) -> None:
        self.count, self.seconds = 0, 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--slugs", default="s0000,s1666")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--only", help="comma-separated page names (default: all)")
    parser.add_argument("--profile", help="a page name: cProfile it")
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--sort", default="cumulative")
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("--database-url (or DATABASE_URL) is required")
    os.environ.setdefault("SECRET_KEY", BENCH_SECRET_KEY)
    os.environ["DATABASE_URL"] = args.database_url
    os.environ["RATELIMIT_ENABLED"] = "false"
    os.environ.setdefault("APP_ENV", "development")

    from volunteer_platform import create_app
    from volunteer_platform.extensions import db

    app = create_app({"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False})
    with app.app_context():
        clock = SqlClock(db.engine)
    only = set(args.only.split(",")) if args.only else None
    for slug in args.slugs.split(","):
        client = app.test_client()
        response = client.post("/login", data={"email": f"benevole1@{slug}.{DOMAIN}", "password": BENCH_PASSWORD})
        if response.status_code not in (302, 303):
            raise SystemExit(f"sign-in failed for {slug}: {response.status_code}")
        print(f"\n{slug}: page, median ms of one request, SQL statements, SQL ms (median), rest ms, bytes")
        anonymous = app.test_client()
        who = persona(app, slug)
        targets = [(name, client, pattern.format(slug=slug), None) for name, pattern in PAGES.items()]
        for name, pattern in FEEDS.items():
            path = pattern.format(p=who)
            etag = anonymous.get(path).headers.get("ETag") if name.endswith("(304)") else None
            targets.append((name, anonymous, path, {"If-None-Match": etag} if etag else None))
        for name, user_agent, path, headers in targets:
            if only and name not in only and name != args.profile:
                continue
            response = user_agent.get(path, headers=headers)  # warm-up (templates compiled, caches filled)
            if response.status_code not in (200, 304):
                raise SystemExit(f"{path}: {response.status_code}")
            walls, sqls, counts = [], [], []
            profiler = cProfile.Profile() if name == args.profile else None
            for _ in range(args.repeat):
                if name.endswith("(cold worker)"):
                    forget_feeds()
                clock.reset()
                started = time.perf_counter()
                if profiler:
                    profiler.enable()
                response = user_agent.get(path, headers=headers)
                if profiler:
                    profiler.disable()
                walls.append(time.perf_counter() - started)
                sqls.append(clock.seconds)
                counts.append(clock.count)
            wall, sql = statistics.median(walls) * 1000, statistics.median(sqls) * 1000
            print(f"  {name:20} {wall:7.2f} ms  {max(counts):3d} statements  SQL {sql:6.2f} ms  "
                  f"rest {wall - sql:6.2f} ms  {len(response.data):7d} bytes  ({response.status_code})")
            if profiler:
                stats = pstats.Stats(profiler)
                stats.sort_stats(args.sort).print_stats(args.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
