"""A rate-limit storage in the application's own database, shared by every worker.

Flask-Limiter keeps its counters in a ``limits`` storage. The in-memory one
counts per process: with four gunicorn workers an attacker gets four times the
allowance. Redis or memcached would be shared, but would be one more service
for a small association to run. This storage keeps fixed-window counters in a
``rate_limit_counter`` table of the database the app already has, so the limit
holds across workers and servers with nothing else installed.

It is selected with ``RATELIMIT_STORAGE_URI="sql+<database URL>"`` — the
default is the app's own ``DATABASE_URL``. Each hit is one upsert (``INSERT …
ON CONFLICT DO UPDATE … RETURNING``, atomic on SQLite and PostgreSQL) on its
own short connection, outside the request's transaction, so a refused login
still counts even though the request rolls back.
"""

from __future__ import annotations

import time
from typing import Any

from limits.storage import Storage
from sqlalchemy import (
    Column,
    Float,
    Integer,
    String,
    Table,
    case,
    create_engine,
    delete,
    func,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from volunteer_platform.extensions import db

rate_limit_counter = Table(
    "rate_limit_counter",
    db.metadata,
    Column("key", String(255), primary_key=True),
    Column("count", Integer, nullable=False),
    Column("expires_at", Float, nullable=False),  # epoch seconds: compared in SQL on both databases
)

#: Expired counters are deleted every this many increments.
PURGE_EVERY = 500


class SQLStorage(Storage):
    STORAGE_SCHEME = ["sql+sqlite", "sql+postgresql", "sql+postgresql+psycopg"]

    def __init__(self, uri: str, wrap_exceptions: bool = False, **options: Any) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        url = uri.removeprefix("sql+")
        connect_args = {"timeout": 15} if url.startswith("sqlite") else {}
        self.engine = create_engine(url, pool_pre_ping=True, connect_args=connect_args)
        self._insert = sqlite.insert if url.startswith("sqlite") else postgresql.insert
        self._hits = 0

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        table = rate_limit_counter
        stmt = self._insert(table).values(key=key, count=amount, expires_at=now + expiry)
        expired = table.c.expires_at <= now
        stmt = stmt.on_conflict_do_update(
            index_elements=[table.c.key],
            set_={
                "count": case((expired, amount), else_=table.c.count + amount),
                "expires_at": case((expired, now + expiry), else_=table.c.expires_at),
            },
        ).returning(table.c.count)
        with self.engine.begin() as conn:
            count = conn.execute(stmt).scalar_one()
            self._hits += 1
            if self._hits % PURGE_EVERY == 0:
                conn.execute(delete(table).where(table.c.expires_at <= now))
        return int(count)

    def get(self, key: str) -> int:
        with self.engine.connect() as conn:
            count = conn.execute(
                select(rate_limit_counter.c.count).where(
                    rate_limit_counter.c.key == key, rate_limit_counter.c.expires_at > time.time()
                )
            ).scalar_one_or_none()
        return int(count or 0)

    def get_expiry(self, key: str) -> float:
        with self.engine.connect() as conn:
            expires = conn.execute(
                select(rate_limit_counter.c.expires_at).where(rate_limit_counter.c.key == key)
            ).scalar_one_or_none()
        return float(expires) if expires is not None else time.time()

    def check(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except SQLAlchemyError:
            return False

    def reset(self) -> int | None:
        with self.engine.begin() as conn:
            count = conn.execute(select(func.count()).select_from(rate_limit_counter)).scalar_one()
            conn.execute(delete(rate_limit_counter))
        return int(count)

    def clear(self, key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(rate_limit_counter).where(rate_limit_counter.c.key == key))
