"""Declarative base, shared column types and the tenant-scoping mixin.

The naming convention gives every constraint a stable name, so Alembic can
drop and alter them on SQLite (batch mode) and PostgreSQL alike.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Enum, ForeignKey, Integer, MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column, registry
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime stored in UTC.

    PostgreSQL keeps ``timestamptz``; SQLite has no zone, so values are
    normalised to UTC on the way in and marked UTC on the way out. Naive
    datetimes are refused: they are always a bug (whose local time?).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("UTCDateTime refuses naive datetimes; attach a time zone")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def enum_column(enum_cls: type[enum.Enum], name: str) -> Enum:
    """A portable enum column: VARCHAR plus a CHECK constraint, storing the values."""
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    # One registry carrying both the naming convention and the type map:
    # Flask-SQLAlchemy subclasses this base, which SQLAlchemy 2.1 only allows
    # when the type map lives on the registry rather than on the class.
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class TenantScoped:
    """Mixin for rows owned by one tenant.

    Such rows are reached only through ``tenants.scoping``. Tables using the
    mixin must also declare ``UniqueConstraint("tenant_id", "id")`` (see
    ``tenant_table_args``) so that other tenant rows can point at them with a
    composite foreign key ``(tenant_id, x_id) -> x(tenant_id, id)``: the
    database then refuses a link across tenants.
    """

    @declared_attr
    def tenant_id(cls) -> Mapped[int]:
        return mapped_column(Integer, ForeignKey("tenant.id", ondelete="CASCADE"), index=True)


def tenant_table_args(*args: Any) -> tuple[Any, ...]:
    """``__table_args__`` for a TenantScoped table: the (tenant_id, id) key plus ``args``."""
    from sqlalchemy import UniqueConstraint

    return (UniqueConstraint("tenant_id", "id"), *args)


def configure_sqlite(engine: Engine) -> None:
    """WAL, a busy timeout, foreign keys, and write transactions that lock at BEGIN.

    pysqlite's own transaction handling starts transactions lazily and only
    before writes, so a read-check-write sequence (capacity!) can interleave
    with another writer. We take over: the driver stays in autocommit mode and
    we emit BEGIN ourselves — ``BEGIN IMMEDIATE`` (the write lock, now) for
    every transaction except those of read-only HTTP requests (GET/HEAD/
    OPTIONS), which use a plain deferred ``BEGIN`` so readers never queue
    behind writers. See the SQLAlchemy docs, "Serializable isolation /
    Savepoints / Transactional DDL" for pysqlite.
    """
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=15000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN" if _read_only_request() else "BEGIN IMMEDIATE")


def _read_only_request() -> bool:
    try:
        from flask import has_request_context, request
    except ImportError:  # pragma: no cover - flask is a dependency
        return False
    return has_request_context() and request.method in {"GET", "HEAD", "OPTIONS"}
