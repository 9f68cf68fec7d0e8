"""The query plan of the conflict check on the generated data (``bench/README.md``).

    python bench/explain_conflict.py --database-url postgresql://postgres@127.0.0.1:55432/vp_bench

Finds the busiest room, prints ``EXPLAIN (ANALYZE, BUFFERS)`` of the overlap
query ``scheduling.services._overlapping`` sends for one occurrence of a
weekly series there (the SQL exactly as SQLAlchemy sends it), then checks a
whole weekly series over a year on that room with a trainer
(``services.check_series``, nothing saved) and prints, for every distinct
statement it ran, the scans of its plan: each must be an index scan on a
table that grows with the network (booking, event, membership, room…), never
a sequential scan of one.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.generate import BENCH_SECRET_KEY


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("--database-url (or DATABASE_URL) is required")
    os.environ.setdefault("SECRET_KEY", BENCH_SECRET_KEY)
    os.environ["DATABASE_URL"] = args.database_url

    from sqlalchemy import event, func, select

    from volunteer_platform import create_app
    from volunteer_platform.extensions import db
    from volunteer_platform.scheduling import recurrence, services
    from volunteer_platform.scheduling.models import Booking, EventKind, Room
    from volunteer_platform.tenants.models import Membership, Role, Tenant

    app = create_app()
    captured: list[tuple[str, object]] = []

    def grab(conn, cursor, statement, params, context, many) -> None:
        captured.append((statement, params))

    with app.app_context(), app.test_request_context():
        resource, count = db.session.execute(
            select(Booking.resource, func.count()).where(Booking.resource.like("room:%"))
            .group_by(Booking.resource).order_by(func.count().desc()).limit(1)).one()
        first, last = db.session.execute(select(func.min(Booking.starts_at), func.max(Booking.ends_at))
                                         .where(Booking.resource == resource)).one()
        conn = db.session.connection()

        # 1. One occurrence, three weeks before the room's last booking.
        starts = last - timedelta(days=21, hours=1)
        ends = starts + timedelta(hours=2)
        event.listen(db.engine, "before_cursor_execute", grab)
        clashes = services._overlapping(resource, starts, ends, set())
        event.remove(db.engine, "before_cursor_execute", grab)
        statement, params = captured[-1]
        print(f"-- {resource}: {count} bookings in {db.session.scalar(select(func.count(Booking.id))):,} "
              f"rows; occurrence {starts:%Y-%m-%d %H:%M}Z-{ends:%H:%M}Z; {len(clashes)} clash(es)")
        print(statement)
        print(params)
        for row in conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, params):
            print(row[0])

        # 2. A weekly series over a year on that room, with one of the structure's trainers.
        room = db.session.get(Room, int(resource.split(":")[1]))
        tenant = db.session.get(Tenant, room.tenant_id)
        trainer_id = db.session.scalar(select(Membership.user_id).where(
            Membership.tenant_id == tenant.id, Membership.role == Role.TRAINER).limit(1))
        template = services.EventFields(kind=EventKind.WORKSHOP, title="Nouvel atelier", starts_at=first,
                                        ends_at=first + timedelta(hours=2), room_id=room.id,
                                        trainer_id=trainer_id, capacity=5)
        captured.clear()
        event.listen(db.engine, "before_cursor_execute", grab)
        began = time.perf_counter()
        _rrule, checks = services.check_series(tenant, template, recurrence.Rule(recurrence.Frequency.WEEKLY,
                                                                                 count=52))
        took = time.perf_counter() - began
        event.remove(db.engine, "before_cursor_execute", grab)
        print(f"\n-- check_series: {len(checks)} occurrences, {sum(bool(c.problems) for c in checks)} with "
              f"problems, {len(captured)} queries, {took * 1000:.0f} ms")
        distinct: dict[str, object] = {}
        for statement, params in captured:
            distinct.setdefault(statement, params)
        for statement, params in distinct.items():
            plan = [r[0] for r in conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)]
            scans = [line.strip().lstrip("-> ") for line in plan if "Scan" in line]
            what = " ".join(statement.split("FROM", 1)[1].split())[:150]
            print(f"\nFROM {what}…\n   " + "\n   ".join(scans + [plan[-1].strip()]))
        db.session.rollback()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
