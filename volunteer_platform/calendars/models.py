"""Calendar feeds: each person's secret feed key, and what each feed last sent.

A person's private feeds (their own agenda, their structures' rooms, sites and
trainers, the association's all-structures feed) are reached with one secret
token in the URL, which calendar apps keep and poll without signing in.

Stored: a random 256-bit ``key`` and the SHA-256 of the token. The token is
derived from the key with the application's ``SECRET_KEY`` (HMAC), so the
person's pages can show the address again at any time (to subscribe from a
second device) while a copy of the database alone gives no working address.
Feeds find the person by the token's hash, as invitations do. Regenerating
replaces both (every old address stops working); revoking deletes the row.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from volunteer_platform.auth.models import User
from volunteer_platform.db import utcnow
from volunteer_platform.extensions import db


class CalendarToken(db.Model):
    __tablename__ = "calendar_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), unique=True)
    key: Mapped[str] = mapped_column(String(64))  # random; the token is HMAC(SECRET_KEY, key)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()


class CalendarFeedState(db.Model):
    """A feed's Last-Modified: the hash of the bytes it last sent and since when.

    The ETag of a feed is its version (``stamps``, ``services.feed_version``),
    which changes with the stamps of its structures and with the day even when
    the bytes do not. Clients that only send If-Modified-Since need the moment
    the *bytes* last changed: the feed view compares the hash of the bytes it
    built (column ``etag``, named so before versions existed) with the one
    stored here and records the moment it first saw new bytes; such a request
    gets a 304 only while the stored ``version`` is the feed's current one.
    """

    __tablename__ = "calendar_feed_state"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)  # e.g. "room:12", "person:3"
    etag: Mapped[str] = mapped_column(String(64))
    changed_at: Mapped[datetime] = mapped_column()
    # The stamps the bytes were built from (``stamps.feed_version``): while the
    # feed's version is this one, the ETag above is still right and a
    # conditional request is answered without reading a single event.
    version: Mapped[str | None] = mapped_column(String(64))


class CalendarStamp(db.Model):
    """A random mark per structure, renewed in the same transaction as any
    change to what its feeds show (events, series, places, rooms, sites,
    members, the structure itself): see ``stamps``. No row reads as 0."""

    __tablename__ = "calendar_stamp"

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
