"""Scheduling: rooms, kits, opening hours and closures; events (training
sessions, public workshops, help-desk shifts, room bookings), their series;
enrolments with waitlists and attendance.

Every event occurrence is a row (``Event``), a series (``EventSeries``) holds
the RFC 5545 rule it was expanded from. What an event occupies — its room,
its kits, its trainer, and each confirmed participant — is written as
``Booking`` rows keyed by resource ("room:3", "kit:5", "person:12"). On
PostgreSQL an exclusion constraint on that table forbids two active bookings
of one resource whose time ranges overlap, so no race can double-book; on
SQLite the write lock taken at BEGIN serialises the check-then-insert done by
the services. Persons are keyed globally, so a trainer or volunteer working
for several structures is checked across all of them.
"""

from __future__ import annotations

import enum
from datetime import date, datetime, time

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from volunteer_platform.auth.models import User
from volunteer_platform.db import TenantScoped, enum_column, tenant_table_args, utcnow
from volunteer_platform.extensions import db
from volunteer_platform.tenants.models import Site


class Equipment(enum.StrEnum):
    COMPUTERS = "computers"
    PROJECTOR = "projector"
    WIFI = "wifi"
    PRINTER = "printer"
    WHEELCHAIR_ACCESS = "wheelchair_access"
    HEARING_LOOP = "hearing_loop"

    @property
    def label(self) -> str:
        return str(EQUIPMENT_LABELS[self])


EQUIPMENT_LABELS = {
    Equipment.COMPUTERS: _l("Ordinateurs"),
    Equipment.PROJECTOR: _l("Vidéoprojecteur"),
    Equipment.WIFI: _l("Wi-Fi"),
    Equipment.PRINTER: _l("Imprimante"),
    Equipment.WHEELCHAIR_ACCESS: _l("Accès en fauteuil roulant"),
    Equipment.HEARING_LOOP: _l("Boucle magnétique"),
}


class EventKind(enum.StrEnum):
    TRAINING_SESSION = "training_session"  # a module delivered by a trainer; volunteers enrol
    WORKSHOP = "workshop"  # "atelier numérique" for the public, in the public agenda
    SHIFT = "shift"  # a help desk ("permanence") needing N volunteers
    BOOKING = "booking"  # a plain room booking

    @property
    def label(self) -> str:
        return str(EVENT_KIND_LABELS[self])


EVENT_KIND_LABELS = {
    EventKind.TRAINING_SESSION: _l("Session de formation"),
    EventKind.WORKSHOP: _l("Atelier numérique"),
    EventKind.SHIFT: _l("Permanence"),
    EventKind.BOOKING: _l("Réservation de salle"),
}


class EventStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"  # kept, so calendars and people are told


class EnrolmentStatus(enum.StrEnum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"


class Attendance(enum.StrEnum):
    PRESENT = "present"
    ABSENT = "absent"
    EXCUSED = "excused"

    @property
    def label(self) -> str:
        return str(ATTENDANCE_LABELS[self])


ATTENDANCE_LABELS = {
    Attendance.PRESENT: _l("Présent"),
    Attendance.ABSENT: _l("Absent"),
    Attendance.EXCUSED: _l("Excusé"),
}


class Room(TenantScoped, db.Model):
    __tablename__ = "room"
    __table_args__ = tenant_table_args(
        ForeignKeyConstraint(["tenant_id", "site_id"], ["site.tenant_id", "site.id"]),
        UniqueConstraint("tenant_id", "site_id", "name"),
        CheckConstraint("capacity > 0", name="capacity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(index=True)
    name: Mapped[str] = mapped_column(String(200))
    capacity: Mapped[int] = mapped_column()
    equipment: Mapped[list[str]] = mapped_column(JSON, default=list)
    is_active: Mapped[bool] = mapped_column(default=True)

    site: Mapped[Site] = relationship(
        primaryjoin="and_(Room.site_id == Site.id, Room.tenant_id == Site.tenant_id)",
        foreign_keys="[Room.site_id]", viewonly=True,
    )
    opening_hours: Mapped[list[OpeningHours]] = relationship(
        back_populates="room", order_by="(OpeningHours.weekday, OpeningHours.opens_at)",
        cascade="all, delete-orphan", passive_deletes=True,
    )

    @property
    def equipment_labels(self) -> list[str]:
        return [Equipment(e).label for e in self.equipment or [] if e in Equipment._value2member_map_]


class OpeningHours(db.Model):
    """The room is open on ``weekday`` (0 = Monday) from ``opens_at`` to ``closes_at``,
    local time. A weekday without a row is closed; a room without any row is
    always open (a meeting room without set hours)."""

    __tablename__ = "opening_hours"
    __table_args__ = (CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
                      CheckConstraint("opens_at < closes_at", name="opens_before_closing"))

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("room.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column()
    opens_at: Mapped[time] = mapped_column()
    closes_at: Mapped[time] = mapped_column()

    room: Mapped[Room] = relationship(back_populates="opening_hours")


class Closure(TenantScoped, db.Model):
    """A site (all its rooms) or one room is closed from ``starts_on`` to ``ends_on`` inclusive."""

    __tablename__ = "closure"
    __table_args__ = tenant_table_args(
        ForeignKeyConstraint(["tenant_id", "site_id"], ["site.tenant_id", "site.id"]),
        ForeignKeyConstraint(["tenant_id", "room_id"], ["room.tenant_id", "room.id"], ondelete="CASCADE"),
        CheckConstraint("starts_on <= ends_on", name="ordered_dates"),
        CheckConstraint("(site_id IS NULL) <> (room_id IS NULL)", name="site_xor_room"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int | None] = mapped_column()
    room_id: Mapped[int | None] = mapped_column()
    starts_on: Mapped[date] = mapped_column()
    ends_on: Mapped[date] = mapped_column()
    reason: Mapped[str] = mapped_column(String(200))


class Kit(TenantScoped, db.Model):
    """Equipment that travels (a case of 8 tablets, a mobile hotspot)."""

    __tablename__ = "kit"
    __table_args__ = tenant_table_args(UniqueConstraint("tenant_id", "name"))

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(default=True)


class SchedulingSettings(db.Model):
    """A structure's enrolment rules."""

    __tablename__ = "scheduling_settings"

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), primary_key=True)
    signup_horizon_days: Mapped[int] = mapped_column(default=60)
    cancellation_deadline_hours: Mapped[int] = mapped_column(default=24)


class EventSeries(TenantScoped, db.Model):
    """The rule a recurring event was expanded from (RFC 5545 RRULE, local time)."""

    __tablename__ = "event_series"
    __table_args__ = tenant_table_args()

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(100), unique=True)  # stable iCal UID
    rrule: Mapped[str] = mapped_column(String(300))  # e.g. "FREQ=WEEKLY;INTERVAL=1;COUNT=10"
    dtstart_local: Mapped[datetime] = mapped_column(db.DateTime(timezone=False))  # naive, in timezone
    duration_minutes: Mapped[int] = mapped_column()
    timezone: Mapped[str] = mapped_column(String(64))
    skipped_dates: Mapped[list[str]] = mapped_column(JSON, default=list)  # ISO local dates left out
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    sequence: Mapped[int] = mapped_column(default=0)


class Event(TenantScoped, db.Model):
    """One occurrence in the agenda."""

    __tablename__ = "event"
    __table_args__ = tenant_table_args(
        ForeignKeyConstraint(["tenant_id", "room_id"], ["room.tenant_id", "room.id"]),
        ForeignKeyConstraint(["tenant_id", "series_id"], ["event_series.tenant_id", "event_series.id"]),
        CheckConstraint("starts_at < ends_at", name="starts_before_ending"),
        CheckConstraint("capacity IS NULL OR capacity > 0", name="capacity_positive"),
        Index("ix_event_tenant_starts", "tenant_id", "starts_at"),
        Index("ix_event_series", "series_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[EventKind] = mapped_column(enum_column(EventKind, "event_kind"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    what_to_bring: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime] = mapped_column()
    ends_at: Mapped[datetime] = mapped_column()
    room_id: Mapped[int | None] = mapped_column()
    trainer_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    module_id: Mapped[int | None] = mapped_column(ForeignKey("module.id", ondelete="SET NULL"))
    capacity: Mapped[int | None] = mapped_column()  # seats (sessions, workshops) or volunteers needed (shifts)
    required_qualification_id: Mapped[int | None] = mapped_column(
        ForeignKey("qualification.id", ondelete="SET NULL")
    )
    status: Mapped[EventStatus] = mapped_column(
        enum_column(EventStatus, "event_status"), default=EventStatus.SCHEDULED
    )
    cancelled_at: Mapped[datetime | None] = mapped_column()
    series_id: Mapped[int | None] = mapped_column()
    recurrence_local: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=False))  # RECURRENCE-ID
    is_exception: Mapped[bool] = mapped_column(default=False)  # edited apart from its series
    sequence: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    reminders_sent_at: Mapped[datetime | None] = mapped_column()

    room: Mapped[Room | None] = relationship(
        primaryjoin="and_(Event.room_id == Room.id, Event.tenant_id == Room.tenant_id)",
        foreign_keys="[Event.room_id]", viewonly=True,
    )
    series: Mapped[EventSeries | None] = relationship(
        primaryjoin="and_(Event.series_id == EventSeries.id, Event.tenant_id == EventSeries.tenant_id)",
        foreign_keys="[Event.series_id]", viewonly=True,
    )
    trainer: Mapped[User | None] = relationship(foreign_keys=[trainer_id])
    kits: Mapped[list[Kit]] = relationship(
        secondary="event_kit",
        primaryjoin="Event.id == EventKit.event_id",
        secondaryjoin="Kit.id == EventKit.kit_id",
        viewonly=True,
        order_by="Kit.name",
    )

    @property
    def is_cancelled(self) -> bool:
        return self.status is EventStatus.CANCELLED

    @property
    def hours(self) -> float:
        return (self.ends_at - self.starts_at).total_seconds() / 3600


class EventKit(TenantScoped, db.Model):
    __tablename__ = "event_kit"
    __table_args__ = tenant_table_args(
        ForeignKeyConstraint(["tenant_id", "event_id"], ["event.tenant_id", "event.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "kit_id"], ["kit.tenant_id", "kit.id"]),
        UniqueConstraint("event_id", "kit_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column()
    kit_id: Mapped[int] = mapped_column()


class Booking(db.Model):
    """What an event occupies, for conflict detection (see the module docstring).

    ``resource`` is "room:<id>", "kit:<id>" or "person:<user id>". Inactive
    bookings (cancelled events, cancelled enrolments) block nothing.
    """

    __tablename__ = "booking"
    __table_args__ = (
        CheckConstraint("starts_at < ends_at", name="starts_before_ending"),
        Index("ix_booking_resource_time", "resource", "starts_at", "ends_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    # Set for a participant's place; None for what the event itself occupies.
    enrolment_id: Mapped[int | None] = mapped_column(ForeignKey("enrolment.id", ondelete="CASCADE"), index=True)
    resource: Mapped[str] = mapped_column(String(40))
    starts_at: Mapped[datetime] = mapped_column()
    ends_at: Mapped[datetime] = mapped_column()
    is_active: Mapped[bool] = mapped_column(default=True)


class Enrolment(TenantScoped, db.Model):
    """A person's place on an event: confirmed, waitlisted or cancelled; and whether they came."""

    __tablename__ = "enrolment"
    __table_args__ = tenant_table_args(
        ForeignKeyConstraint(["tenant_id", "event_id"], ["event.tenant_id", "event.id"], ondelete="CASCADE"),
        UniqueConstraint("event_id", "user_id"),
        Index("ix_enrolment_user", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column()
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    status: Mapped[EnrolmentStatus] = mapped_column(enum_column(EnrolmentStatus, "enrolment_status"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)  # waitlist order
    confirmed_at: Mapped[datetime | None] = mapped_column()
    cancelled_at: Mapped[datetime | None] = mapped_column()
    cancelled_late: Mapped[bool] = mapped_column(default=False)
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    attendance: Mapped[Attendance | None] = mapped_column(enum_column(Attendance, "attendance"))
    attendance_marked_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    reminder_sent_at: Mapped[datetime | None] = mapped_column()
    survey_invited_at: Mapped[datetime | None] = mapped_column()  # the satisfaction survey e-mail

    event: Mapped[Event] = relationship(
        primaryjoin="and_(Enrolment.event_id == Event.id, Enrolment.tenant_id == Event.tenant_id)",
        foreign_keys="[Enrolment.event_id]", viewonly=True,
    )
    user: Mapped[User] = relationship(foreign_keys=[user_id])


