"""Change stamps: knowing that a feed is unchanged without reading its events.

Calendar apps poll every feed all day long; nearly every poll finds nothing
new. Reading a room's hundreds of events to find that out costs far more than
the poll itself, so each structure has a stamp (``CalendarStamp``) renewed in
the same transaction as any change to what its feeds show, and a feed's
*version* is a hash of the stamps it depends on, of its own description
(name, time zone, reader…) and of the day (the feed's window moves daily:
``queries.feed_rows``). While the version is the one its ETag was computed
for, the ETag still holds: a conditional poll is answered 304 after reading a
couple of small rows, and a full poll is served from the process's cache.

A stamp is a fresh random 48-bit number, not a counter: a counter would
come back to values already seen after a database is restored from a backup
(or emptied, as the tests do between tests), and a process could then serve
bytes it cached for other data under the same version.

What renews a structure's stamp, found by the session events of ``changes``
(shared with the dashboards' stored figures) rather than by each service
remembering to:

- any row of ``TRACKED`` added, changed or deleted through the ORM, whatever
  the code path (views, services, ``flask`` commands, demo data): the
  structure of the row (the structure itself for ``Tenant``);
- a bulk ``update()``/``delete()`` on one of those tables: its rows are not
  known, so every structure's stamp is renewed (rare: erasing an account).

Stamps are renewed just before the commit, after the last flush and in
increasing structure order, so the transaction takes these row locks at its
end and always in the same order (no deadlock with the capacity locks of sign-ups);
a rolled-back transaction renews nothing. Renewing too often only costs a
rebuild; missing a change would leave a feed stale until the next day — so
``tests/calendars/test_stamps.py`` changes each kind of row and checks the feed.

Writing rows around the ORM (raw SQL, the benchmark generator's COPY) does not
renew stamps: do it before the app serves feeds, or renew them all with
``touch_all``.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

import click
from flask.cli import with_appcontext
from sqlalchemy import BigInteger, insert, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import ORMExecuteState, Session

from volunteer_platform.calendars.models import CalendarStamp
from volunteer_platform.changes import Watcher, loaded, watch
from volunteer_platform.extensions import db
from volunteer_platform.scheduling.models import Enrolment, Event, EventSeries, Room
from volunteer_platform.tenants.models import Membership, Site, Tenant

#: What feeds are built from (``queries.feed_rows`` and the feeds' access rules).
TRACKED: tuple[type, ...] = (Event, EventSeries, Enrolment, Room, Site, Membership, Tenant)

_EVERY = "*"  # noted instead of a structure id: "every structure"


def _note(touched: set[Any], _session: Session, obj: Any) -> None:
    tenant_id = loaded(obj, "id") if isinstance(obj, Tenant) else loaded(obj, "tenant_id")
    if tenant_id is not None:
        touched.add(tenant_id)


def _note_bulk(touched: set[Any], _state: ORMExecuteState) -> None:
    touched.add(_EVERY)  # its rows are not known


def _renew(session: Session, touched: set[Any]) -> None:
    if _EVERY in touched:
        touch_all(session)
    elif touched:
        touch(session, touched)


watch(Watcher("calendar stamps", TRACKED, start=set, note=_note, note_bulk=_note_bulk, write=_renew,
              needed=("id", "tenant_id")))


def _fresh() -> int:
    # 48 bits: two renewals give the same number once in 2.8e14, and the sum
    # the all-structures feed reads stays within SQLite's 64-bit integers
    # (whose sum() raises on overflow) up to 32,768 structures.
    return secrets.randbits(48)


def touch(session: Session, tenant_ids: Iterable[int]) -> None:
    """Renew the stamps of these structures, in id order."""
    table = CalendarStamp.__table__
    ids = sorted(set(tenant_ids))
    value = _fresh()
    rows = select(Tenant.id, literal(value, BigInteger)).where(Tenant.id.in_(ids)).order_by(Tenant.id)
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        stmt: Any = postgresql.insert(table).from_select(["tenant_id", "version"], rows)
    elif dialect == "sqlite":
        stmt = sqlite.insert(table).from_select(["tenant_id", "version"], rows)
    else:  # pragma: no cover - the app runs on SQLite and PostgreSQL only
        raise NotImplementedError(dialect)
    stmt = stmt.on_conflict_do_update(index_elements=["tenant_id"], set_={"version": value})
    session.execute(stmt)


def touch_all(session: Session) -> None:
    """Renew every structure's stamp (rows locked in id order first, as ``touch`` does)."""
    table = CalendarStamp.__table__
    value = _fresh()
    session.execute(select(table.c.tenant_id).order_by(table.c.tenant_id).with_for_update()).all()
    session.execute(update(table).values(version=value))
    session.execute(insert(table).from_select(
        ["tenant_id", "version"],
        select(Tenant.id, literal(value, BigInteger)).where(
            Tenant.id.not_in(select(table.c.tenant_id))),
    ))


@click.command("touch-feeds")
@with_appcontext
def touch_feeds_command() -> None:
    """Renew every structure's feed stamp: after rows were written around the
    application (SQL by hand, a bulk load), every feed is rebuilt at its next poll."""
    touch_all(db.session)
    db.session.commit()
    click.echo("Every calendar feed will be rebuilt at its next poll.")
