"""External busy times: a room's or a trainer's own calendar, imported from an .ics address.

A coordinator attaches the address of a calendar kept elsewhere (the town
hall's booking calendar of a room, a trainer's work calendar) to a room or a
trainer. ``flask import-external-calendars`` (cron) and the coordinator's
"Actualiser maintenant" button fetch it (``fetch``):

- over http(s) only (``webcal://`` is read as ``https://``), without proxy,
  with a timeout (10 s) and at most 2 MB read; addresses on the local network
  (loopback, private, link-local…) are refused unless the setting
  ``EXTERNAL_CALENDARS_ALLOW_PRIVATE_HOSTS`` allows them: the server fetches
  what a coordinator typed, and must not become a way into the internal
  network. The check is made on the address actually connected to (after DNS,
  on every redirect), so a name resolving elsewhere the second time is caught;
- conditionally (If-None-Match / If-Modified-Since with the ETag and
  Last-Modified last received): a 304 keeps the busy times. A full download
  is made at least once a week anyway, so that recurring events keep being
  expanded 12 months ahead;
- parsed with icalendar and expanded with recurring-ical-events (RRULE, RDATE,
  EXDATE, RECURRENCE-ID overrides) from a week ago to 12 months ahead.

Only times are kept — never titles, places or attendees: pages say "Occupé
(calendrier externe)". Free (TRANSP:TRANSPARENT) and cancelled events block
nothing; all-day events and floating times are read in the structure's zone.

A successful import replaces the calendar's busy times in one transaction;
any failure (unreachable, HTTP error, too large, too slow, not iCalendar)
keeps the last good copy and records the status and a French message for the
coordinator (``record``). Nothing here raises on a bad feed.

The network part runs outside any database transaction, so a slow server
never holds a lock: callers read what it needs (``feed_request``), end the
transaction, ``fetch``, then lock the calendar again (``get_in_tenant(...,
for_update=True)``) and ``record`` the result.

The busy times block bookings (``scheduling.services.problems_for_each``,
with ``room_busy`` and ``person_busy``) and are shown greyed in the week view
(``busy_between``). A trainer's busy times count in every structure where
they lead sessions, as their bookings do.
"""

from __future__ import annotations

import enum
import http.client
import ipaddress
import logging
import socket
import ssl
import time as clock
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit, urlunsplit

import recurring_ical_events
from flask_babel import lazy_gettext as _l
from icalendar import Calendar
from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    Text,
    and_,
    delete,
    func,
    insert,
    or_,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from volunteer_platform.auth.models import User
from volunteer_platform.db import TenantScoped, enum_column, tenant_table_args, utcnow
from volunteer_platform.errors import ValidationFailed
from volunteer_platform.extensions import db
from volunteer_platform.scheduling import recurrence
from volunteer_platform.scheduling.models import Room
from volunteer_platform.tenants.models import Membership, Role, Site, Tenant
from volunteer_platform.tenants.scoping import get_in_tenant, tenant_select

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10.0
MAX_BYTES = 2 * 1024 * 1024
PAST = timedelta(days=7)  # the current week of the agenda stays greyed
HORIZON = timedelta(days=365)
FULL_DOWNLOAD_EVERY = timedelta(days=7)
MAX_BUSY = 5000  # busy times per calendar over the 13 months kept
MAX_REDIRECTS = 5
MAX_URL_LENGTH = 2000
USER_AGENT = "aidants-numeriques/1.0 (import de calendrier externe)"
TOO_FREQUENT = {"SECONDLY", "MINUTELY"}  # a year of them would take minutes to expand


# --- tables -------------------------------------------------------------------------------------


class ExternalCalendarStatus(enum.StrEnum):
    PENDING = "pending"  # added, not fetched yet
    OK = "ok"
    ERROR = "error"

    @property
    def label(self) -> str:
        return str(STATUS_LABELS[self])


STATUS_LABELS = {
    ExternalCalendarStatus.PENDING: _l("Pas encore importé"),
    ExternalCalendarStatus.OK: _l("À jour"),
    ExternalCalendarStatus.ERROR: _l("En erreur"),
}


class ExternalCalendar(TenantScoped, db.Model):
    """An .ics address whose events make a room or a trainer busy (exactly one of the two)."""

    __tablename__ = "external_calendar"
    __table_args__ = tenant_table_args(
        ForeignKeyConstraint(["tenant_id", "room_id"], ["room.tenant_id", "room.id"], ondelete="CASCADE"),
        CheckConstraint("(room_id IS NULL) <> (trainer_id IS NULL)", name="room_xor_trainer"),
        Index("ix_external_calendar_room", "room_id"),
        Index("ix_external_calendar_trainer", "trainer_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(MAX_URL_LENGTH))
    room_id: Mapped[int | None] = mapped_column()
    trainer_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    etag: Mapped[str | None] = mapped_column(String(300))
    last_modified: Mapped[str | None] = mapped_column(String(100))  # the header, as received
    last_fetched_at: Mapped[datetime | None] = mapped_column()  # last attempt, whatever its outcome
    last_success_at: Mapped[datetime | None] = mapped_column()  # last 200 or 304
    last_download_at: Mapped[datetime | None] = mapped_column()  # last full download (200)
    status: Mapped[ExternalCalendarStatus] = mapped_column(
        enum_column(ExternalCalendarStatus, "external_calendar_status"), default=ExternalCalendarStatus.PENDING
    )
    last_error: Mapped[str | None] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    room: Mapped[Room | None] = relationship(
        primaryjoin="and_(ExternalCalendar.room_id == Room.id, ExternalCalendar.tenant_id == Room.tenant_id)",
        foreign_keys="[ExternalCalendar.room_id]", viewonly=True,
    )
    trainer: Mapped[User | None] = relationship(foreign_keys=[trainer_id])

    @property
    def host(self) -> str:
        """Where the calendar comes from, without the rest of the address (which
        often holds a private key, as Google's and Outlook's do)."""
        return urlsplit(self.url).hostname or ""


class ExternalBusy(TenantScoped, db.Model):
    """A time when the calendar's room or trainer is busy (one occurrence, times only)."""

    __tablename__ = "external_busy"
    __table_args__ = tenant_table_args(
        ForeignKeyConstraint(
            ["tenant_id", "external_calendar_id"], ["external_calendar.tenant_id", "external_calendar.id"],
            ondelete="CASCADE", name="fk_external_busy_calendar",  # the generated name passes 63 characters
        ),
        CheckConstraint("starts_at < ends_at", name="starts_before_ending"),
        Index("ix_external_busy_calendar_time", "external_calendar_id", "starts_at", "ends_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    external_calendar_id: Mapped[int] = mapped_column()
    starts_at: Mapped[datetime] = mapped_column()
    ends_at: Mapped[datetime] = mapped_column()


# --- adding, removing ---------------------------------------------------------------------------


def normalise_url(url: str | None) -> str:
    """The address to fetch: http(s) only, ``webcal://`` read as ``https://``.

    Raises ValidationFailed (field "url") for anything else.
    """
    url = (url or "").strip()
    if not url:
        raise ValidationFailed(_l("Indiquez l'adresse du calendrier."), field="url")
    if len(url) > MAX_URL_LENGTH or any(c.isspace() for c in url):
        raise ValidationFailed(_l("Cette adresse n'est pas valide."), field="url")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise ValidationFailed(_l("Cette adresse n'est pas valide."), field="url") from None
    scheme = parts.scheme.lower()
    if scheme == "webcal":
        scheme = "https"
    if scheme not in ("http", "https"):
        raise ValidationFailed(_l("L'adresse doit commencer par https:// (ou http://, ou webcal://)."),
                               field="url")
    if not parts.hostname:
        raise ValidationFailed(_l("Cette adresse n'est pas valide."), field="url")
    if parts.username is not None or parts.password is not None:
        raise ValidationFailed(_l("N'incluez pas d'identifiant ni de mot de passe dans l'adresse."), field="url")
    return urlunsplit((scheme, parts.netloc, parts.path or "/", parts.query, ""))


def _trainer_of(tenant: Tenant, user_id: int) -> User:
    user = db.session.scalars(
        select(User).join(Membership, Membership.user_id == User.id).where(
            User.id == user_id, Membership.tenant_id == tenant.id, Membership.is_active.is_(True),
            Membership.role.in_([Role.TRAINER, Role.COORDINATOR]),
        )
    ).first()
    if user is None:
        raise ValidationFailed(_l("Cette personne n'est pas formatrice dans la structure."), field="target")
    return user


def add_calendar(
    tenant: Tenant, *, name: str, url: str, room_id: int | None = None, trainer_id: int | None = None,
    now: datetime,
) -> ExternalCalendar:
    """Attach an external calendar to one of the structure's rooms or trainers.

    Rules: a name (200 characters at most); an http(s) or webcal address; exactly
    one of a room of the structure (NotFound otherwise) and an active trainer
    (or coordinator) of the structure; not the same address twice for the same
    room or person. Raises ValidationFailed on the field at fault. The calendar
    is fetched later (command or "Actualiser maintenant").
    """
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_l("Donnez un nom à ce calendrier."), field="name")
    if len(name) > 200:
        raise ValidationFailed(_l("Le nom compte au plus 200 caractères."), field="name")
    url = normalise_url(url)
    if (room_id is None) == (trainer_id is None):
        raise ValidationFailed(_l("Choisissez une salle ou un formateur ou une formatrice."), field="target")
    stmt = tenant_select(ExternalCalendar, tenant).where(ExternalCalendar.url == url)
    if room_id is not None:
        room_id = get_in_tenant(Room, room_id, tenant).id
        stmt = stmt.where(ExternalCalendar.room_id == room_id)
    else:
        trainer_id = _trainer_of(tenant, trainer_id).id  # type: ignore[arg-type]
        stmt = stmt.where(ExternalCalendar.trainer_id == trainer_id)
    if db.session.scalars(stmt).first() is not None:
        raise ValidationFailed(_l("Ce calendrier est déjà ajouté."), field="url")
    calendar = ExternalCalendar(tenant_id=tenant.id, name=name, url=url, room_id=room_id, trainer_id=trainer_id,
                                created_at=now)
    db.session.add(calendar)
    db.session.flush()
    return calendar


def remove_calendar(calendar: ExternalCalendar) -> None:
    """Remove the calendar and its busy times (they block nothing any more)."""
    db.session.execute(delete(ExternalBusy).where(ExternalBusy.external_calendar_id == calendar.id))
    db.session.delete(calendar)
    db.session.flush()


def set_active(calendar: ExternalCalendar, is_active: bool) -> None:
    """Suspend a calendar (its busy times stop blocking, the command skips it) or resume it."""
    calendar.is_active = is_active
    db.session.flush()


# --- fetching (no database) ---------------------------------------------------------------------


class FeedError(Exception):
    """Why a feed could not be imported, as a message for the coordinator."""

    def __init__(self, message: Any) -> None:
        super().__init__(message)
        self.message = message


class _PrivateAddress(Exception):
    """The server connected to is on the local network."""


class Outcome(enum.StrEnum):
    IMPORTED = "imported"  # 200: new busy times
    NOT_MODIFIED = "not_modified"  # 304: the busy times stay
    FAILED = "failed"  # the busy times stay too


@dataclass(frozen=True)
class FeedRequest:
    """What fetching a calendar needs, read before the transaction ends."""

    calendar_id: int
    url: str
    zone: str
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class FetchResult:
    outcome: Outcome
    slots: tuple[tuple[datetime, datetime], ...] = ()
    etag: str | None = None
    last_modified: str | None = None
    error: Any = None  # a (lazy) French message when FAILED


def feed_request(calendar: ExternalCalendar, tenant: Tenant, *, now: datetime) -> FeedRequest:
    """The request for ``calendar``: conditional unless the last full download is a week old."""
    conditional = calendar.last_download_at is not None and now - calendar.last_download_at < FULL_DOWNLOAD_EVERY
    return FeedRequest(
        calendar_id=calendar.id, url=calendar.url, zone=tenant.timezone,
        etag=calendar.etag if conditional else None,
        last_modified=calendar.last_modified if conditional else None,
    )


def fetch(
    request: FeedRequest, *, now: datetime, timeout: float = TIMEOUT_SECONDS, max_bytes: int = MAX_BYTES,
    allow_private_hosts: bool = False,
) -> FetchResult:
    """Download and read the feed. Never raises: a failure is a FAILED result with its message."""
    try:
        response = _download(request, timeout=timeout, max_bytes=max_bytes, allow_private_hosts=allow_private_hosts)
        if response is None:
            return FetchResult(Outcome.NOT_MODIFIED)
        body, etag, last_modified = response
        slots = busy_slots(body, zone=request.zone, now=now)
    except FeedError as error:
        return FetchResult(Outcome.FAILED, error=error.message)
    except Exception:  # a bug or a library's surprise: never a crash of the command or the page
        logger.exception("external calendar %s: unexpected error during import", request.calendar_id)
        return FetchResult(Outcome.FAILED, error=_l("Erreur inattendue pendant l'import ; réessayez plus tard."))
    return FetchResult(Outcome.IMPORTED, tuple(slots), etag, last_modified)


def _guarded_create_connection(allow_private_hosts: bool) -> Any:
    def create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        sock = socket.create_connection(address, *args, **kwargs)
        if not allow_private_hosts:
            try:
                peer = ipaddress.ip_address(sock.getpeername()[0])
                if isinstance(peer, ipaddress.IPv6Address) and peer.ipv4_mapped is not None:
                    peer = peer.ipv4_mapped
                if not peer.is_global:
                    raise _PrivateAddress(str(peer))
            except BaseException:
                sock.close()
                raise
        return sock

    return create_connection


def _connection_class(base: type[http.client.HTTPConnection], allow_private_hosts: bool) -> Any:
    def build(host: str, **kwargs: Any) -> http.client.HTTPConnection:
        connection = base(host, **kwargs)
        # http.client opens its socket with this attribute (Python 3.11–3.13):
        # the peer is checked once connected, before TLS or any byte is sent.
        connection._create_connection = _guarded_create_connection(allow_private_hosts)  # type: ignore[attr-defined]
        return connection

    return build


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, allow_private_hosts: bool) -> None:
        super().__init__()
        self.allow_private_hosts = allow_private_hosts

    def http_open(self, req: urllib.request.Request) -> Any:
        return self.do_open(_connection_class(http.client.HTTPConnection, self.allow_private_hosts), req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, allow_private_hosts: bool) -> None:
        super().__init__(context=ssl.create_default_context())
        self.allow_private_hosts = allow_private_hosts

    def https_open(self, req: urllib.request.Request) -> Any:
        return self.do_open(_connection_class(http.client.HTTPSConnection, self.allow_private_hosts), req,
                            context=self._context)


class _RedirectHandler(urllib.request.HTTPRedirectHandler):
    max_redirections = MAX_REDIRECTS

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> Any:
        if urlsplit(newurl).scheme.lower() not in ("http", "https"):
            raise FeedError(_l("Le serveur du calendrier redirige vers une adresse qui n'est pas http(s)."))
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _opener(allow_private_hosts: bool) -> urllib.request.OpenerDirector:
    # No proxy from the environment: the address checked must be the one connected to.
    return urllib.request.build_opener(
        urllib.request.ProxyHandler({}), _HTTPHandler(allow_private_hosts), _HTTPSHandler(allow_private_hosts),
        _RedirectHandler(),
    )


UNREACHABLE = _l("Le serveur du calendrier est injoignable (adresse inconnue, serveur arrêté ou réseau coupé).")
NOT_ICALENDAR = _l("Le fichier reçu n'est pas un calendrier au format iCalendar (.ics) valide.")
PRIVATE_NETWORK = _l("Cette adresse mène au réseau interne du serveur : elle est refusée.")


def _download(
    request: FeedRequest, *, timeout: float, max_bytes: int, allow_private_hosts: bool,
) -> tuple[bytes, str | None, str | None] | None:
    """The body, ETag and Last-Modified of a 200; None for a 304. Raises FeedError."""
    try:
        url = normalise_url(request.url)
    except ValidationFailed as error:
        raise FeedError(error.message) from None
    headers = {"User-Agent": USER_AGENT, "Accept": "text/calendar, */*;q=0.5", "Accept-Encoding": "identity"}
    if request.etag:
        headers["If-None-Match"] = request.etag
    if request.last_modified:
        headers["If-Modified-Since"] = request.last_modified
    too_slow = _l("Le serveur du calendrier n'a pas répondu à temps (plus de %(seconds)s s).",
                  seconds=f"{timeout:g}")
    deadline = clock.monotonic() + timeout
    try:
        response = _opener(allow_private_hosts).open(urllib.request.Request(url, headers=headers), timeout=timeout)
        with response:
            length = response.headers.get("Content-Length", "")
            if length.isdigit() and int(length) > max_bytes:
                raise FeedError(_too_large(max_bytes))
            chunks, size = [], 0
            while True:
                chunk = response.read(64 * 1024)
                if not chunk:
                    break
                size += len(chunk)
                if size > max_bytes:
                    raise FeedError(_too_large(max_bytes))
                if clock.monotonic() > deadline:
                    raise FeedError(too_slow)
                chunks.append(chunk)
            return b"".join(chunks), response.headers.get("ETag"), response.headers.get("Last-Modified")
    except FeedError:
        raise
    except HTTPError as error:
        error.close()
        if error.code == 304:
            return None
        raise FeedError(_l("Le serveur du calendrier a répondu par une erreur (HTTP %(code)s).",
                           code=error.code)) from None
    except _PrivateAddress:
        raise FeedError(PRIVATE_NETWORK) from None
    except TimeoutError:
        raise FeedError(too_slow) from None
    except URLError as error:
        reason = error.reason
        if isinstance(reason, TimeoutError):
            raise FeedError(too_slow) from None
        if isinstance(reason, ssl.SSLCertVerificationError):
            raise FeedError(_l("Le certificat de sécurité du serveur du calendrier n'est pas valide.")) from None
        raise FeedError(UNREACHABLE) from None
    except (http.client.HTTPException, ssl.SSLError):
        raise FeedError(_l("Le serveur du calendrier a envoyé une réponse incompréhensible.")) from None
    except (ConnectionError, OSError):
        raise FeedError(UNREACHABLE) from None
    except ValueError:
        raise FeedError(_l("Cette adresse n'est pas valide.")) from None


def _too_large(max_bytes: int) -> Any:
    return _l("Le calendrier est trop volumineux (plus de %(size)s Mo) : il n'est pas importé.",
              size=f"{max_bytes / (1024 * 1024):g}")


def _utc(value: date | datetime, zone: str) -> datetime:
    """An iCalendar time as aware UTC: floating times and dates are the structure's local time."""
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            return recurrence.local_to_utc(value, zone)
        return value.astimezone(UTC)
    return recurrence.local_to_utc(datetime.combine(value, time()), zone)


def _rule_frequencies(component: Any) -> Iterable[str]:
    rules = component.get("RRULE")
    for rule in rules if isinstance(rules, list) else [rules] if rules is not None else []:
        for freq in rule.get("FREQ", []):
            yield str(freq).upper()


def busy_slots(data: bytes, *, zone: str, now: datetime) -> list[tuple[datetime, datetime]]:
    """The busy times (aware UTC, sorted, without duplicates) of an iCalendar
    document, from a week before ``now`` to 12 months after. Raises FeedError."""
    try:
        text = data.decode("utf-8-sig")
        calendar = Calendar.from_ical(text)
    except (ValueError, UnicodeDecodeError):
        raise FeedError(NOT_ICALENDAR) from None
    if calendar.name != "VCALENDAR":
        raise FeedError(NOT_ICALENDAR)
    for component in calendar.walk("VEVENT"):
        if TOO_FREQUENT & set(_rule_frequencies(component)):
            raise FeedError(_l("Le calendrier contient un événement qui se répète toutes les minutes ou "
                               "secondes : il n'est pas importé."))
    slots: set[tuple[datetime, datetime]] = set()
    try:
        occurrences = recurring_ical_events.of(calendar).between(now - PAST, now + HORIZON)
        for occurrence in occurrences:
            if str(occurrence.get("TRANSP", "")).upper() == "TRANSPARENT":
                continue
            if str(occurrence.get("STATUS", "")).upper() == "CANCELLED":
                continue
            start_value = occurrence["DTSTART"].dt
            if "DTEND" in occurrence:
                end_value = occurrence["DTEND"].dt
            elif "DURATION" in occurrence:
                end_value = start_value + occurrence["DURATION"].dt
            elif isinstance(start_value, datetime):
                continue  # no duration: blocks nothing
            else:
                end_value = start_value + timedelta(days=1)
            starts_at, ends_at = _utc(start_value, zone), _utc(end_value, zone)
            if starts_at < ends_at:
                slots.add((starts_at, ends_at))
            if len(slots) > MAX_BUSY:
                raise FeedError(_l("Le calendrier contient trop d'événements (plus de %(n)s sur 12 mois) : "
                                   "il n'est pas importé.", n=MAX_BUSY))
    except FeedError:
        raise
    except Exception:  # noqa: BLE001 - a broken property or rule anywhere in the file: not a valid feed
        raise FeedError(NOT_ICALENDAR) from None
    return sorted(slots)


# --- recording (database) -----------------------------------------------------------------------


def record(calendar: ExternalCalendar, result: FetchResult, *, now: datetime) -> None:
    """Store a fetch's outcome. IMPORTED replaces the busy times (in the caller's
    transaction); NOT_MODIFIED and FAILED keep them. FAILED sets the status to
    error with its French message; the others clear it."""
    from flask_babel import force_locale

    calendar.last_fetched_at = now
    if result.outcome is Outcome.FAILED:
        calendar.status = ExternalCalendarStatus.ERROR
        with force_locale("fr"):
            calendar.last_error = str(result.error)[:1000]
        db.session.flush()
        return
    if result.outcome is Outcome.IMPORTED:
        db.session.execute(delete(ExternalBusy).where(ExternalBusy.external_calendar_id == calendar.id))
        if result.slots:
            db.session.execute(insert(ExternalBusy), [
                {"tenant_id": calendar.tenant_id, "external_calendar_id": calendar.id, "starts_at": starts_at,
                 "ends_at": ends_at}
                for starts_at, ends_at in result.slots
            ])
        calendar.etag = result.etag[:300] if result.etag else None
        calendar.last_modified = result.last_modified[:100] if result.last_modified else None
        calendar.last_download_at = now
    calendar.status = ExternalCalendarStatus.OK
    calendar.last_error = None
    calendar.last_success_at = now
    db.session.flush()


# --- reading ------------------------------------------------------------------------------------


def _overlap(starts_at: datetime, ends_at: datetime) -> Any:
    return and_(ExternalBusy.starts_at < ends_at, ExternalBusy.ends_at > starts_at)


def room_busy(tenant: Tenant, room_id: int, starts_at: datetime, ends_at: datetime) -> list[ExternalBusy]:
    """The room's imported busy times overlapping [starts_at, ends_at) (active calendars)."""
    return list(db.session.scalars(
        select(ExternalBusy)
        .join(ExternalCalendar, and_(ExternalCalendar.id == ExternalBusy.external_calendar_id,
                                     ExternalCalendar.tenant_id == ExternalBusy.tenant_id))
        .where(ExternalCalendar.tenant_id == tenant.id, ExternalCalendar.room_id == room_id,
               ExternalCalendar.is_active.is_(True), _overlap(starts_at, ends_at))
        .order_by(ExternalBusy.starts_at)
    ))


def person_busy(user_id: int, starts_at: datetime, ends_at: datetime) -> list[ExternalBusy]:
    """The person's imported busy times overlapping [starts_at, ends_at), from
    every structure where they are still an active trainer or coordinator."""
    return list(db.session.scalars(
        select(ExternalBusy)
        .join(ExternalCalendar, and_(ExternalCalendar.id == ExternalBusy.external_calendar_id,
                                     ExternalCalendar.tenant_id == ExternalBusy.tenant_id))
        .join(Membership, and_(Membership.tenant_id == ExternalCalendar.tenant_id,
                               Membership.user_id == ExternalCalendar.trainer_id))
        .where(ExternalCalendar.trainer_id == user_id, ExternalCalendar.is_active.is_(True),
               Membership.is_active.is_(True), Membership.role.in_([Role.TRAINER, Role.COORDINATOR]),
               _overlap(starts_at, ends_at))
        .order_by(ExternalBusy.starts_at)
    ))


@dataclass(frozen=True)
class BusySlot:
    """An imported busy time in the agenda: when, and whose (a room or a person)."""

    starts_at: datetime
    ends_at: datetime
    place: str


def busy_between(
    tenant: Tenant, *, start: datetime, end: datetime, site_id: int | None = None, room_id: int | None = None,
    trainer_id: int | None = None, include_trainers: bool = True,
) -> list[BusySlot]:
    """The structure's imported busy times overlapping [start, end), by start time.

    Without filter: every room's and (``include_trainers``) every trainer's.
    With a site or room filter, those rooms'; with a trainer filter, that
    trainer's. One query whatever their number.
    """
    room_site = and_(Room.id == ExternalCalendar.room_id, Room.tenant_id == ExternalCalendar.tenant_id)
    stmt = (
        select(ExternalBusy.starts_at, ExternalBusy.ends_at, Room.name, Site.name, User.full_name)
        .join(ExternalCalendar, and_(ExternalCalendar.id == ExternalBusy.external_calendar_id,
                                     ExternalCalendar.tenant_id == ExternalBusy.tenant_id))
        .outerjoin(Room, room_site)
        .outerjoin(Site, and_(Site.id == Room.site_id, Site.tenant_id == Room.tenant_id))
        .outerjoin(User, User.id == ExternalCalendar.trainer_id)
        .where(ExternalBusy.tenant_id == tenant.id, ExternalCalendar.is_active.is_(True),
               _overlap(start, end))
        .order_by(ExternalBusy.starts_at, ExternalBusy.ends_at, ExternalBusy.id)
    )
    wanted = []
    if room_id is not None or site_id is not None:
        rooms = ExternalCalendar.room_id.is_not(None)
        if room_id is not None:
            rooms = and_(rooms, ExternalCalendar.room_id == room_id)
        if site_id is not None:
            rooms = and_(rooms, Room.site_id == site_id)
        wanted.append(rooms)
    if trainer_id is not None and include_trainers:
        wanted.append(ExternalCalendar.trainer_id == trainer_id)
    if room_id is None and site_id is None and trainer_id is None:
        wanted.append(ExternalCalendar.room_id.is_not(None))
        if include_trainers:
            wanted.append(ExternalCalendar.trainer_id.is_not(None))
    if not wanted:
        return []
    stmt = stmt.where(or_(*wanted))
    slots = []
    for starts_at, ends_at, room_name, site_name, trainer_name in db.session.execute(stmt):
        place = f"{room_name} — {site_name}" if room_name is not None else (trainer_name or "")
        slots.append(BusySlot(starts_at, ends_at, place))
    return slots


@dataclass(frozen=True)
class CalendarRow:
    calendar: ExternalCalendar
    target: str  # the room or the person, in words
    busy_count: int


def calendars_of(tenant: Tenant) -> list[CalendarRow]:
    """The structure's external calendars with what they are for and their
    number of busy times: rooms first (by site and name), then people. One
    query whatever their number."""
    counts = (
        select(ExternalBusy.external_calendar_id, func.count(ExternalBusy.id).label("n"))
        .where(ExternalBusy.tenant_id == tenant.id)
        .group_by(ExternalBusy.external_calendar_id)
        .subquery()
    )
    rows = db.session.execute(
        select(ExternalCalendar, func.coalesce(counts.c.n, 0), Room.name, Site.name, User.full_name)
        .outerjoin(counts, counts.c.external_calendar_id == ExternalCalendar.id)
        .outerjoin(Room, and_(Room.id == ExternalCalendar.room_id, Room.tenant_id == ExternalCalendar.tenant_id))
        .outerjoin(Site, and_(Site.id == Room.site_id, Site.tenant_id == Room.tenant_id))
        .outerjoin(User, User.id == ExternalCalendar.trainer_id)
        .where(ExternalCalendar.tenant_id == tenant.id)
        .order_by(ExternalCalendar.room_id.is_(None), Site.name, Room.name, User.full_name, ExternalCalendar.name,
                  ExternalCalendar.id)
    ).all()
    result = []
    for calendar, n, room_name, site_name, trainer_name in rows:
        if room_name is not None:
            target = str(_l("Salle « %(room)s » (%(site)s)", room=room_name, site=site_name))
        else:
            target = trainer_name or ""
        result.append(CalendarRow(calendar, target, int(n)))
    return result
